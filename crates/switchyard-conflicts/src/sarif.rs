//! Conflicts and dependency cycles as SARIF 2.1.0, so code-scanning tools show them inline.
//!
//! Every rule is listed in every log, in one fixed order ([`RULE_IDS`]), so a rule's id and
//! index never change between runs: the id of a conflict kind is its JSON name (`port`,
//! `env_drift`…), a repository cycle is `dependency_cycle`. One result per conflict (one location
//! per occurrence) and per cycle (one location per edge of the cycle, at its first evidence).
//! Locations are `repo/path` relative to the fleet root (`uriBaseId` [`FLEET_ROOT`], resolved by
//! the run's `originalUriBaseIds`); `partialFingerprints` carry the conflict id or the cycle's
//! members so uploads of the same finding deduplicate; each rule's `helpUri` is its section of
//! docs/RULES.md.

use crate::{Conflict, ConflictKind, Severity};
use serde_json::{Value, json};
use switchyard_model::Location;

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const INFORMATION_URI: &str = "https://example.invalid/switchyard";
/// Where each rule is explained: one `## <rule id>` section per rule.
pub const RULES_DOC: &str = "https://example.invalid/switchyard/blob/main/docs/RULES.md";
/// The `uriBaseId` of every location: the folder the fleet's repositories are checked out in.
pub const FLEET_ROOT: &str = "FLEETROOT";
/// The rule id of a dependency cycle between repositories.
pub const CYCLE_RULE: &str = "dependency_cycle";

/// Every rule id, in the order rules are listed (conflict kinds, then cycles).
pub fn rule_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = ConflictKind::ALL.iter().map(|k| k.as_str()).collect();
    ids.push(CYCLE_RULE);
    ids
}

/// The help URI of a rule.
pub fn help_uri(rule_id: &str) -> String {
    format!("{RULES_DOC}#{rule_id}")
}

/// A dependency cycle between repositories, as a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleFinding {
    /// What the members are: `repositories`, or `packages of threadly`.
    pub between: String,
    /// The cycle as a path that starts and ends at one member: `["a", "b", "a"]`.
    pub members: Vec<String>,
    /// For each edge of the cycle that has evidence: where it was seen, and what it is
    /// (`a/web -> b/api (env)`).
    pub evidence: Vec<(Location, String)>,
    /// Edges whose removal breaks the cycle (`from -> to`).
    pub cut: Vec<String>,
}

impl CycleFinding {
    /// One line: `dependency cycle between repositories a -> b -> a`, and the cut.
    pub fn message(&self) -> String {
        let mut text = format!(
            "dependency cycle between {} {}: they cannot be {} in order",
            self.between,
            self.members.join(" -> "),
            if self.between == "repositories" {
                "deployed"
            } else {
                "built"
            }
        );
        if !self.cut.is_empty() {
            text.push_str(&format!("; removing {} breaks it", self.cut.join(", ")));
        }
        text
    }

    /// A stable identity: the members from the smallest one around, whatever node the cycle
    /// search started at.
    pub fn fingerprint(&self) -> String {
        let mut ring: Vec<&str> = self.members.iter().map(String::as_str).collect();
        if ring.len() > 1 && ring.first() == ring.last() {
            ring.pop();
        }
        let start = ring
            .iter()
            .enumerate()
            .min_by_key(|(_, m)| **m)
            .map_or(0, |(i, _)| i);
        ring.rotate_left(start);
        if self.between == "repositories" {
            ring.join(" -> ")
        } else {
            format!("{}: {}", self.between, ring.join(" -> "))
        }
    }
}

/// What a SARIF log says about its run besides the findings.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    pub tool_version: String,
    /// `file://` URI of the fleet root folder (ending in `/`), when known.
    pub fleet_root_uri: Option<String>,
}

/// What a kind of conflict means, for the rule's descriptions.
pub fn describe(kind: ConflictKind) -> (&'static str, &'static str) {
    match kind {
        ConflictKind::Port => (
            "Host port published twice",
            "Two services of different repositories (or compose projects) publish the same host port and protocol on one host; only one can bind it.",
        ),
        ConflictKind::Domain => (
            "Domain routed to two repositories",
            "The same host name and path prefix is routed to services of two repositories (nginx server_name, Ingress, Traefik Host()).",
        ),
        ConflictKind::Volume => (
            "Volume or host path shared between repositories",
            "A named/external volume or an absolute host path is mounted by services of two repositories, at least one of them read-write.",
        ),
        ConflictKind::Network => (
            "Incompatible network declarations",
            "A shared network is declared with different settings, or fixed subnets of different networks overlap on one host.",
        ),
        ConflictKind::ContainerName => (
            "Container name used twice",
            "The same container_name is set in two compose projects on one host; Docker starts only one of them.",
        ),
        ConflictKind::EnvDrift => (
            "Configuration value drift",
            "A key that must agree across repositories (URLs, DSNs, shared config) has different values.",
        ),
        ConflictKind::UnreachableUrl => (
            "URL that nothing in the fleet serves",
            "A URL or host:port aimed at the fleet (localhost, a fleet domain or service name) has no provider, several, or names a port its target does not listen on.",
        ),
        ConflictKind::CorsMissingOrigin => (
            "Frontend origin missing from a CORS allow-list",
            "A frontend calls a backend whose CORS allow-list does not include the frontend's origin; browsers block the responses.",
        ),
        ConflictKind::WebsocketMismatch => (
            "WebSocket URL that does not match its server",
            "A ws:// or socket URL names a host or port its target does not serve, or resolves nowhere.",
        ),
        ConflictKind::SharedDependencyVersion => (
            "Incompatible shared singleton versions",
            "A Module Federation shared singleton has requiredVersion ranges in a host and a remote that no single version satisfies.",
        ),
        ConflictKind::DanglingPackage => (
            "Dependency on a package nobody provides",
            "A workspace or internal-scope dependency names a package no workspace of the fleet provides.",
        ),
    }
}

/// SARIF level of a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// `CamelCase` rule name from a rule id.
fn rule_name(id: &str) -> String {
    id.split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Percent-encodes what may not appear in a relative URI reference (spaces, `#`, `?`, `%`…).
fn uri(repository: &str, path: &str) -> String {
    let raw = if path.is_empty() {
        repository.to_string()
    } else {
        format!("{repository}/{path}")
    };
    encode(&raw)
}

/// The SARIF log of `conflicts` alone. Deterministic: no timestamps, rules in fixed order.
pub fn to_sarif(conflicts: &[Conflict], tool_version: &str) -> Value {
    log(
        conflicts,
        &[],
        &RunInfo {
            tool_version: tool_version.to_string(),
            fleet_root_uri: None,
        },
    )
}

/// A `file://` URI for an absolute folder path, ending in `/` (percent-encoded like locations).
pub fn folder_uri(absolute: &str) -> String {
    let mut path = encode(absolute.trim_end_matches('/'));
    path.push('/');
    if path.starts_with('/') {
        format!("file://{path}")
    } else {
        format!("file:///{path}")
    }
}

fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/@+=,;:!$&'()*".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule(id: &str, short: &str, full: &str, default_level: &str) -> Value {
    json!({
        "id": id,
        "name": rule_name(id),
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "defaultConfiguration": { "level": default_level },
        "helpUri": help_uri(id),
        "help": {
            "text": format!("{full} See {}.", help_uri(id)),
            "markdown": format!("{full}\n\n[What it means and how to fix it]({})", help_uri(id)),
        },
    })
}

fn location(l: &Location, text: &str) -> Value {
    let mut physical = json!({
        "artifactLocation": { "uri": uri(&l.repository, &l.path), "uriBaseId": FLEET_ROOT },
    });
    if l.line >= 1 {
        let mut region = json!({
            "startLine": l.line,
            "startColumn": l.column.max(1),
        });
        let span = l.span;
        if span.end > span.start {
            region["byteOffset"] = json!(span.start);
            region["byteLength"] = json!(span.end - span.start);
        }
        physical["region"] = region;
    }
    json!({
        "physicalLocation": physical,
        "message": { "text": text },
    })
}

/// The SARIF log of `conflicts` and `cycles`. Deterministic: no timestamps; every rule is
/// listed, in [`rule_ids`] order, so ids and indexes are the same in every log.
pub fn log(conflicts: &[Conflict], cycles: &[CycleFinding], run: &RunInfo) -> Value {
    let mut rules: Vec<Value> = ConflictKind::ALL
        .iter()
        .map(|&k| {
            let (short, full) = describe(k);
            rule(k.as_str(), short, full, default_level(k))
        })
        .collect();
    rules.push(rule(
        CYCLE_RULE,
        "Dependency cycle between repositories",
        "Repositories depend on each other in a circle (each edge with file:line evidence), so no deployment order puts every dependency first; the members share a phase until one edge of the smallest cut is removed.",
        "error",
    ));
    let index = |id: &str| rule_ids().iter().position(|r| *r == id).unwrap_or(0);
    let mut results: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            let locations: Vec<Value> = c
                .occurrences
                .iter()
                .map(|o| location(&o.location, &o.detail))
                .collect();
            json!({
                "ruleId": c.kind.as_str(),
                "ruleIndex": index(c.kind.as_str()),
                "level": level(c.severity),
                "message": { "text": c.message },
                "locations": locations,
                "partialFingerprints": { "switchyardConflictId/v1": c.id },
                "properties": {
                    "id": c.id,
                    "resource": c.resource,
                    "severity": c.severity,
                    "host": c.host,
                    "environment": c.environment,
                    "repositories": c.repositories,
                },
            })
        })
        .collect();
    results.extend(cycles.iter().map(|cycle| {
        let locations: Vec<Value> = cycle
            .evidence
            .iter()
            .map(|(l, text)| location(l, text))
            .collect();
        json!({
            "ruleId": CYCLE_RULE,
            "ruleIndex": index(CYCLE_RULE),
            "level": "error",
            "message": { "text": cycle.message() },
            "locations": locations,
            "partialFingerprints": { "switchyardCycle/v1": cycle.fingerprint() },
            "properties": {
                "members": cycle.members,
                "cut": cycle.cut,
            },
        })
    }));
    let mut base = json!({
        "description": { "text": "The folder holding the fleet's repositories: each location is <repository>/<path> below it." },
    });
    if let Some(root) = &run.fleet_root_uri {
        base["uri"] = json!(root);
    }
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "switchyard",
                    "informationUri": INFORMATION_URI,
                    "version": run.tool_version,
                    "rules": rules,
                }
            },
            "originalUriBaseIds": { FLEET_ROOT: base },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// The level a rule has when a result does not say otherwise.
fn default_level(k: ConflictKind) -> &'static str {
    match k {
        ConflictKind::Port
        | ConflictKind::Domain
        | ConflictKind::Volume
        | ConflictKind::ContainerName
        | ConflictKind::UnreachableUrl
        | ConflictKind::DanglingPackage => "error",
        _ => "warning",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Occurrence;
    use switchyard_model::{ByteSpan, Location};

    fn occurrence(repo: &str, path: &str, line: u32, col: u32) -> Occurrence {
        Occurrence {
            repository: repo.into(),
            service: Some("web".into()),
            location: Location::new(repo, path, line, col, ByteSpan::new(40, 44)),
            detail: "0.0.0.0:8080->80/tcp".into(),
        }
    }

    fn conflicts() -> Vec<Conflict> {
        vec![
            Conflict::new(
                ConflictKind::Port,
                Severity::High,
                "local",
                "default",
                "port:8080/tcp".into(),
                vec![
                    occurrence("a", "docker-compose.yml", 5, 9),
                    occurrence("b", "deploy/my compose.yml", 7, 11),
                ],
                "host port 8080/tcp on host local is used by a/web and b/web".into(),
            ),
            Conflict::new(
                ConflictKind::EnvDrift,
                Severity::Medium,
                "local",
                "default",
                "env:API_URL".into(),
                vec![occurrence("a", ".env", 1, 9)],
                "API_URL differs".into(),
            ),
            Conflict::new(
                ConflictKind::Domain,
                Severity::Low,
                "local",
                "default",
                "domain:x.com".into(),
                vec![occurrence("c", "k8s/ingress.yaml", 0, 0)],
                "nested".into(),
            ),
        ]
    }

    #[test]
    fn log_structure() {
        let log = to_sarif(&conflicts(), "0.1.0");
        assert_eq!(log["version"], "2.1.0");
        assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
        let run = &log["runs"][0];
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "switchyard");
        assert_eq!(driver["version"], "0.1.0");
        assert!(
            driver["informationUri"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        );
        let rule_ids: Vec<&str> = driver["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        // Every rule, in one fixed order, whatever the log holds.
        assert_eq!(rule_ids, super::rule_ids());
        assert_eq!(rule_ids.last(), Some(&CYCLE_RULE));
        for rule in driver["rules"].as_array().unwrap() {
            assert!(
                !rule["shortDescription"]["text"]
                    .as_str()
                    .unwrap()
                    .is_empty()
            );
        }
        let env_drift = rule_ids.iter().position(|r| *r == "env_drift").unwrap();
        assert_eq!(driver["rules"][env_drift]["name"], "EnvDrift");
        assert_eq!(
            driver["rules"][env_drift]["helpUri"],
            format!("{RULES_DOC}#env_drift")
        );
    }

    #[test]
    fn results_levels_locations_and_fingerprints() {
        let cs = conflicts();
        let log = to_sarif(&cs, "0.1.0");
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        let levels: Vec<&str> = results
            .iter()
            .map(|r| r["level"].as_str().unwrap())
            .collect();
        assert_eq!(levels, vec!["error", "warning", "note"]);
        let port = &results[0];
        assert_eq!(port["ruleId"], "port");
        assert_eq!(port["ruleIndex"], 0);
        let ids = super::rule_ids();
        assert_eq!(
            results[1]["ruleIndex"],
            ids.iter().position(|r| *r == "env_drift").unwrap()
        );
        assert_eq!(port["message"]["text"], cs[0].message);
        assert_eq!(
            port["partialFingerprints"]["switchyardConflictId/v1"],
            cs[0].id
        );
        let locs = port["locations"].as_array().unwrap();
        assert_eq!(locs.len(), 2);
        let first = &locs[0]["physicalLocation"];
        assert_eq!(first["artifactLocation"]["uri"], "a/docker-compose.yml");
        assert_eq!(first["artifactLocation"]["uriBaseId"], FLEET_ROOT);
        assert_eq!(first["region"]["startLine"], 5);
        assert_eq!(first["region"]["startColumn"], 9);
        assert_eq!(first["region"]["byteOffset"], 40);
        assert_eq!(first["region"]["byteLength"], 4);
        assert_eq!(locs[0]["message"]["text"], "0.0.0.0:8080->80/tcp");
        assert_eq!(
            locs[1]["physicalLocation"]["artifactLocation"]["uri"],
            "b/deploy/my%20compose.yml"
        );
        // A file-level location has no region (SARIF lines start at 1).
        let file_level = &results[2]["locations"][0]["physicalLocation"];
        assert!(file_level.get("region").is_none());
    }

    #[test]
    fn empty_log_is_valid_and_stable() {
        let log = to_sarif(&[], "1.2.3");
        assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
        assert_eq!(
            log["runs"][0]["tool"]["driver"]["rules"]
                .as_array()
                .unwrap()
                .len(),
            super::rule_ids().len()
        );
        assert_eq!(to_sarif(&conflicts(), "x"), to_sarif(&conflicts(), "x"));
    }

    fn cycle() -> CycleFinding {
        CycleFinding {
            between: "repositories".into(),
            members: vec!["sso".into(), "mailer".into(), "audit".into(), "sso".into()],
            evidence: vec![(
                Location::new("sso", ".env", 3, 12, ByteSpan::default()),
                "sso/app -> mailer/smtp (env)".into(),
            )],
            cut: vec!["sso -> mailer".into()],
        }
    }

    #[test]
    fn cycles_are_results_with_evidence_and_a_stable_fingerprint() {
        let run = RunInfo {
            tool_version: "1".into(),
            fleet_root_uri: Some(folder_uri("/srv/fleet a")),
        };
        let log = log(&[], &[cycle()], &run);
        let r = &log["runs"][0];
        assert_eq!(
            r["originalUriBaseIds"][FLEET_ROOT]["uri"],
            "file:///srv/fleet%20a/"
        );
        let result = &r["results"][0];
        assert_eq!(result["ruleId"], CYCLE_RULE);
        assert_eq!(
            r["tool"]["driver"]["rules"][result["ruleIndex"].as_u64().unwrap() as usize]["id"],
            CYCLE_RULE
        );
        assert_eq!(result["level"], "error");
        assert!(
            result["message"]["text"]
                .as_str()
                .unwrap()
                .contains("sso -> mailer -> audit -> sso")
        );
        let loc = &result["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "sso/.env");
        assert_eq!(loc["region"]["startLine"], 3);
        // The same ring from another start has the same fingerprint.
        let mut rotated = cycle();
        rotated.members = vec![
            "mailer".into(),
            "audit".into(),
            "sso".into(),
            "mailer".into(),
        ];
        assert_eq!(rotated.fingerprint(), cycle().fingerprint());
        assert_eq!(
            result["partialFingerprints"]["switchyardCycle/v1"],
            "audit -> sso -> mailer"
        );
    }
}
