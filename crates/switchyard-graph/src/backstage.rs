//! The fleet as a Backstage software catalog (`catalog-info.yaml`): a `System` per
//! repository, a `Component` per service with `spec.dependsOn` from the linked edges, and a
//! `Resource` for each service that is a database, cache, message broker, search index or
//! object store (by its image, else its name). Annotations point at the evidence: where the
//! service is declared and the files its dependencies were seen in.
//!
//! Entity names follow Backstage's rules (letters, digits and `-_.` between them, at most 63
//! characters); a name that had to be changed or that would collide gets a short hash of the
//! original id, so every service keeps one entity.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use switchyard_model::{FleetModel, Service, ServiceKind};

/// Annotation prefix of what Switchyard writes.
pub const ANNOTATION_PREFIX: &str = "switchyard.io";
/// Longest Backstage entity name.
const MAX_NAME: usize = 63;

/// Settings of the export that the fleet does not hold.
#[derive(Debug, Clone)]
pub struct CatalogOptions {
    /// `spec.owner` of every entity (an entity reference: `group:platform`, `user:jane`).
    pub owner: String,
    /// `spec.lifecycle` of every Component (`production`, `experimental`, `deprecated`).
    pub lifecycle: String,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        Self {
            owner: "unknown".into(),
            lifecycle: "production".into(),
        }
    }
}

/// What a service is as infrastructure, when it is: the Backstage `Resource` type.
pub fn resource_type(service: &Service) -> Option<&'static str> {
    let image = service
        .image
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    // `registry:5000/library/postgres:16@sha256:…` → `postgres`.
    let image = image.split('@').next().unwrap_or_default();
    let last = image.rsplit('/').next().unwrap_or_default();
    let base = last.split(':').next().unwrap_or_default();
    let name = service.name.to_ascii_lowercase();
    // The image's own name, exactly (`postgres-exporter` is not a database); without an image,
    // the service's name.
    let looks = |words: &[&str]| {
        words
            .iter()
            .any(|w| base == *w || (base.is_empty() && name == *w))
            || (base == "server" && image.contains("mssql") && words.contains(&"mssql"))
    };
    if looks(&[
        "postgres",
        "postgresql",
        "postgis",
        "timescaledb",
        "mysql",
        "mariadb",
        "mongo",
        "mongodb",
        "mssql",
        "cockroach",
        "clickhouse",
        "cassandra",
        "scylla",
        "influxdb",
        "couchdb",
        "neo4j",
        "questdb",
    ]) {
        Some("database")
    } else if looks(&["redis", "valkey", "keydb", "memcached", "dragonfly"]) {
        Some("cache")
    } else if looks(&[
        "rabbitmq",
        "kafka",
        "cp-kafka",
        "redpanda",
        "nats",
        "mosquitto",
        "activemq",
        "artemis",
        "pulsar",
    ]) {
        Some("message-broker")
    } else if looks(&[
        "elasticsearch",
        "opensearch",
        "meilisearch",
        "typesense",
        "solr",
    ]) {
        Some("search-index")
    } else if looks(&["minio"]) {
        Some("object-storage")
    } else {
        None
    }
}

fn component_type(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::Package => "library",
        ServiceKind::Federation => "website",
        _ => "service",
    }
}

/// A Backstage entity name from any text: invalid characters become `-`, separators do not
/// repeat or sit at the ends, at most 63 characters.
pub fn entity_name(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            c
        } else {
            '-'
        };
        let separator = !c.is_ascii_alphanumeric();
        if separator && (out.is_empty() || out.ends_with(['-', '_', '.'])) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with(['-', '_', '.']) {
        out.pop();
    }
    if out.len() > MAX_NAME {
        out.truncate(MAX_NAME);
        while out.ends_with(['-', '_', '.']) {
            out.pop();
        }
    }
    if out.is_empty() {
        out.push_str("unnamed");
    }
    out
}

/// A short, stable hash of an id (FNV-1a), to tell apart names that sanitising made equal.
fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

/// Unique entity names for `ids` (in order): the sanitised preferred name, with `-<hash>` when
/// it was already taken or had to change.
fn unique_names<'a>(ids: impl IntoIterator<Item = (&'a str, String)>) -> HashMap<String, String> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut out = HashMap::new();
    for (id, preferred) in ids {
        let mut name = entity_name(&preferred);
        if taken.contains(&name) {
            let hash = short_hash(id);
            let keep = MAX_NAME - hash.len() - 1;
            let mut stem = name.clone();
            stem.truncate(keep);
            name = format!("{}-{hash}", stem.trim_end_matches(['-', '_', '.']));
        }
        taken.insert(name.clone());
        out.insert(id.to_string(), name);
    }
    out
}

fn location(l: &switchyard_model::Location) -> String {
    if l.line >= 1 {
        format!("{}/{}:{}:{}", l.repository, l.path, l.line, l.column.max(1))
    } else {
        format!("{}/{}", l.repository, l.path)
    }
}

/// The catalog entities of a fleet, in order: systems (by repository), then each
/// repository's components and resources (by service id).
pub fn catalog(model: &FleetModel, options: &CatalogOptions) -> Vec<serde_json::Value> {
    let systems = unique_names(
        model
            .repositories
            .iter()
            .map(|r| (r.name.as_str(), r.name.clone())),
    );
    let mut services: Vec<&Service> = model.services.iter().collect();
    services.sort_by(|a, b| a.id.cmp(&b.id));
    let names = unique_names(services.iter().map(|s| {
        let preferred = if s.name == s.repository {
            s.name.clone()
        } else {
            format!("{}-{}", s.repository, s.name)
        };
        (s.id.as_str(), preferred)
    }));
    let kinds: HashMap<&str, &'static str> = services
        .iter()
        .map(|s| {
            let kind = if resource_type(s).is_some() {
                "resource"
            } else {
                "component"
            };
            (s.id.as_str(), kind)
        })
        .collect();
    // Dependencies and the files they were seen in, per service.
    let mut depends: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut evidence: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for e in &model.edges {
        let (Some(kind), Some(name)) = (kinds.get(e.to.as_str()), names.get(&e.to)) else {
            continue;
        };
        if e.from == e.to {
            continue;
        }
        depends
            .entry(e.from.as_str())
            .or_default()
            .insert(format!("{kind}:default/{name}"));
        evidence
            .entry(e.from.as_str())
            .or_default()
            .extend(e.evidence.iter().map(location));
    }

    let mut out = Vec::new();
    for r in &model.repositories {
        let Some(name) = systems.get(&r.name) else {
            continue;
        };
        out.push(serde_json::json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "System",
            "metadata": {
                "name": name,
                "title": r.name,
                "description": format!("Repository {} (host {}, environment {})", r.name, r.host, r.environment),
                "annotations": {
                    format!("{ANNOTATION_PREFIX}/repository"): r.name,
                    format!("{ANNOTATION_PREFIX}/host"): r.host,
                    format!("{ANNOTATION_PREFIX}/environment"): r.environment,
                },
            },
            "spec": { "owner": options.owner },
        }));
    }
    for s in services {
        let (Some(name), Some(system)) = (names.get(&s.id), systems.get(&s.repository)) else {
            continue;
        };
        let mut annotations = serde_json::Map::new();
        annotations.insert(
            format!("{ANNOTATION_PREFIX}/service-id"),
            s.id.clone().into(),
        );
        annotations.insert(
            format!("{ANNOTATION_PREFIX}/source"),
            location(&s.source).into(),
        );
        if let Some(files) = evidence.get(s.id.as_str()) {
            // Annotation values are strings: the locations, one per line.
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            annotations.insert(
                format!("{ANNOTATION_PREFIX}/dependency-evidence"),
                files.join("\n").into(),
            );
        }
        if let Some(image) = &s.image {
            annotations.insert(format!("{ANNOTATION_PREFIX}/image"), image.clone().into());
        }
        let depends_on: Vec<String> = depends
            .get(s.id.as_str())
            .map(|d| d.iter().cloned().collect())
            .unwrap_or_default();
        let metadata = serde_json::json!({
            "name": name,
            "title": s.id,
            "annotations": annotations,
            "tags": [entity_name(&s.kind.as_str().to_ascii_lowercase())],
        });
        let entity = match resource_type(s) {
            Some(kind) => serde_json::json!({
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Resource",
                "metadata": metadata,
                "spec": {
                    "type": kind,
                    "owner": options.owner,
                    "system": system,
                    "dependsOn": depends_on,
                },
            }),
            None => serde_json::json!({
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": metadata,
                "spec": {
                    "type": component_type(s.kind),
                    "lifecycle": options.lifecycle,
                    "owner": options.owner,
                    "system": system,
                    "dependsOn": depends_on,
                },
            }),
        };
        out.push(entity);
    }
    out
}

/// A YAML scalar key: plain when it is a simple word, else double-quoted.
fn yaml_key(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !key.starts_with(['-', '.']);
    if plain {
        key.to_string()
    } else {
        serde_json::Value::from(key).to_string()
    }
}

/// A YAML scalar: strings double-quoted (JSON's escapes are YAML's), numbers, booleans, null.
fn yaml_scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Array(a) if a.is_empty() => "[]".into(),
        serde_json::Value::Object(o) if o.is_empty() => "{}".into(),
        other => other.to_string(),
    }
}

fn is_block(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::Object(o) => !o.is_empty(),
        _ => false,
    }
}

fn yaml_value(v: &serde_json::Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        serde_json::Value::Object(o) if !o.is_empty() => {
            for (k, v) in o {
                if is_block(v) {
                    out.push_str(&format!("{pad}{}:\n", yaml_key(k)));
                    yaml_value(v, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}{}: {}\n", yaml_key(k), yaml_scalar(v)));
                }
            }
        }
        serde_json::Value::Array(a) if !a.is_empty() => {
            for item in a {
                if is_block(item) {
                    out.push_str(&format!("{pad}-\n"));
                    yaml_value(item, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}- {}\n", yaml_scalar(item)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", yaml_scalar(other))),
    }
}

/// `catalog-info.yaml`: the entities as YAML documents separated by `---`.
pub fn to_yaml(entities: &[serde_json::Value]) -> String {
    let mut out = String::new();
    for e in entities {
        out.push_str("---\n");
        yaml_value(e, 0, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_backstage_rules() {
        assert_eq!(entity_name("api"), "api");
        assert_eq!(entity_name("my api/web"), "my-api-web");
        assert_eq!(entity_name("--a..b__"), "a.b");
        assert_eq!(entity_name("日本"), "unnamed");
        assert_eq!(entity_name(&"x".repeat(80)).len(), 63);
        let names = unique_names([("a/b", "a-b".to_string()), ("a-b", "a-b".to_string())]);
        assert_eq!(names["a/b"], "a-b");
        assert!(names["a-b"].starts_with("a-b-") && names["a-b"].len() == 12);
    }

    #[test]
    fn yaml_is_block_style_with_quoted_strings() {
        let v = serde_json::json!({
            "kind": "Component",
            "metadata": { "name": "api", "annotations": { "switchyard.io/source": "a/x.yml:1:2\nb" } },
            "spec": { "dependsOn": ["resource:default/db"], "empty": [] },
        });
        let text = to_yaml(&[v]);
        assert_eq!(
            text,
            "---\nkind: \"Component\"\nmetadata:\n  annotations:\n    switchyard.io/source: \"a/x.yml:1:2\\nb\"\n  name: \"api\"\nspec:\n  dependsOn:\n    - \"resource:default/db\"\n  empty: []\n"
        );
    }
}
