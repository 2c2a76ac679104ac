//! Conflicts as SARIF 2.1.0, so code-scanning tools show them inline: one rule per conflict
//! kind (rule id = the kind's JSON name), one result per conflict, one location per occurrence.

use crate::{Conflict, ConflictKind, Severity};
use serde_json::{Value, json};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const INFORMATION_URI: &str = "https://example.invalid/switchyard";

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

/// `CamelCase` rule name from the kind's JSON name.
fn rule_name(kind: ConflictKind) -> String {
    kind.as_str()
        .split('_')
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

/// The SARIF log of `conflicts`. Deterministic: no timestamps, rules in kind order.
pub fn to_sarif(conflicts: &[Conflict], tool_version: &str) -> Value {
    let mut kinds: Vec<ConflictKind> = conflicts.iter().map(|c| c.kind).collect();
    kinds.sort();
    kinds.dedup();
    let rules: Vec<Value> = kinds
        .iter()
        .map(|&k| {
            let (short, full) = describe(k);
            let default_level = match k {
                ConflictKind::Port
                | ConflictKind::Domain
                | ConflictKind::Volume
                | ConflictKind::ContainerName
                | ConflictKind::UnreachableUrl
                | ConflictKind::DanglingPackage => "error",
                _ => "warning",
            };
            json!({
                "id": k.as_str(),
                "name": rule_name(k),
                "shortDescription": { "text": short },
                "fullDescription": { "text": full },
                "defaultConfiguration": { "level": default_level },
                "helpUri": format!("{INFORMATION_URI}#{}", k.as_str()),
            })
        })
        .collect();
    let results: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            let locations: Vec<Value> = c
                .occurrences
                .iter()
                .map(|o| {
                    let mut physical = json!({
                        "artifactLocation": { "uri": uri(&o.repository, &o.location.path) },
                    });
                    if o.location.line >= 1 {
                        let mut region = json!({
                            "startLine": o.location.line,
                            "startColumn": o.location.column.max(1),
                        });
                        let span = o.location.span;
                        if span.end > span.start {
                            region["byteOffset"] = json!(span.start);
                            region["byteLength"] = json!(span.end - span.start);
                        }
                        physical["region"] = region;
                    }
                    json!({
                        "physicalLocation": physical,
                        "message": { "text": o.detail },
                    })
                })
                .collect();
            json!({
                "ruleId": c.kind.as_str(),
                "ruleIndex": kinds.iter().position(|k| *k == c.kind).unwrap_or(0),
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
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "switchyard",
                    "informationUri": INFORMATION_URI,
                    "version": tool_version,
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
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
        // One rule per kind used, in kind order.
        assert_eq!(rule_ids, vec!["port", "domain", "env_drift"]);
        for rule in driver["rules"].as_array().unwrap() {
            assert!(
                !rule["shortDescription"]["text"]
                    .as_str()
                    .unwrap()
                    .is_empty()
            );
        }
        assert_eq!(driver["rules"][2]["name"], "EnvDrift");
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
        assert_eq!(results[1]["ruleIndex"], 2);
        assert_eq!(port["message"]["text"], cs[0].message);
        assert_eq!(
            port["partialFingerprints"]["switchyardConflictId/v1"],
            cs[0].id
        );
        let locs = port["locations"].as_array().unwrap();
        assert_eq!(locs.len(), 2);
        let first = &locs[0]["physicalLocation"];
        assert_eq!(first["artifactLocation"]["uri"], "a/docker-compose.yml");
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
            0
        );
        assert_eq!(to_sarif(&conflicts(), "x"), to_sarif(&conflicts(), "x"));
    }
}
