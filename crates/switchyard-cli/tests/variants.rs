//! End to end: a repository with two alternative deployments (compose for local runs, a
//! Kubernetes tree for the cluster) lists its variants, `--variant` shows one of them, and
//! `switchyard.toml` can name variants itself.

mod common;

use common::{analyze_json, edge_pairs, switchyard};
use std::path::Path;

const COMPOSE: &str = "services:\n  api:\n    image: shop/api:1\n    environment:\n      DATABASE_URL: postgres://db:5432/shop\n  db:\n    image: postgres:16\n";

fn deployment(name: &str, env: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n        - name: {name}\n          image: shop/{name}:1\n{env}"
    )
}

fn service(name: &str, port: u16) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app: {name}\n  ports:\n    - port: {port}\n"
    )
}

/// `shop`: compose runs api + db; `k8s/` runs api + db + cache, and only there api uses cache.
fn shop(dir: &Path) {
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("docker-compose.yml", COMPOSE);
    let env = "          env:\n            - name: DATABASE_URL\n              value: postgres://db:5432/shop\n            - name: REDIS_URL\n              value: redis://cache:6379\n";
    write(
        "k8s/api.yaml",
        &format!("{}---\n{}", deployment("api", env), service("api", 80)),
    );
    write(
        "k8s/db.yaml",
        &format!("{}---\n{}", deployment("db", ""), service("db", 5432)),
    );
    write(
        "k8s/cache.yaml",
        &format!("{}---\n{}", deployment("cache", ""), service("cache", 6379)),
    );
}

#[test]
fn variants_are_listed_and_one_can_be_chosen() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    let path = dir.path().to_string_lossy().to_string();
    let report = analyze_json(&[&path]);
    let repo = &report["repositories"][0];
    let names: Vec<&str> = repo["variants"]
        .as_array()
        .expect("variants listed")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(names, ["docker-compose.yml", "k8s"]);
    let name = repo["name"].as_str().unwrap().to_string();
    let id = |s: &str| format!("{name}/{s}");

    let compose = analyze_json(&[&path, "--variant", "docker-compose.yml"]);
    let pairs = edge_pairs(&compose);
    assert!(pairs.contains(&(id("api"), id("db"))), "{pairs:?}");
    assert!(!pairs.iter().any(|(_, to)| *to == id("cache")), "{pairs:?}");
    assert!(
        !compose["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "cache")
    );
    let k8s = analyze_json(&[&path, "--variant", &format!("{name}:k8s")]);
    assert!(edge_pairs(&k8s).contains(&(id("api"), id("cache"))));

    let unknown = switchyard(&["analyze", "--no-cache", &path, "--variant", "helm"], None);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(unknown.stderr.contains(":k8s"), "{}", unknown.stderr);

    let table = switchyard(&["analyze", "--no-cache", &path], None);
    assert!(table.stdout.contains("Variants"), "{}", table.stdout);
}

#[test]
fn switchyard_toml_names_the_variants() {
    let dir = tempfile::tempdir().unwrap();
    shop(&dir.path().join("shop"));
    std::fs::write(
        dir.path().join("switchyard.toml"),
        "[[repository]]\npath = \"shop\"\n\n[[repository.variants]]\nname = \"laptop\"\npaths = [\"docker-compose.yml\"]\n\n[[repository.variants]]\nname = \"cluster\"\npaths = [\"k8s\"]\n",
    )
    .unwrap();
    let config = dir.path().join("switchyard.toml");
    let config = config.to_string_lossy().to_string();
    let report = analyze_json(&["--config", &config]);
    let names: Vec<&str> = report["repositories"][0]["variants"]
        .as_array()
        .expect("variants listed")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(names, ["laptop", "cluster"]);
    let cluster = analyze_json(&["--config", &config, "--variant", "cluster"]);
    assert!(edge_pairs(&cluster).contains(&("shop/api".into(), "shop/cache".into())));
    let laptop = analyze_json(&["--config", &config, "--variant", "laptop"]);
    assert!(!edge_pairs(&laptop).iter().any(|(_, to)| to == "shop/cache"));
}
