use crate::source::RepoFiles;
use crate::{Registry, extract_files};
use switchyard_model::RepoFacts;

fn deployment(name: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n        - name: {name}\n          image: example/{name}:1.0\n"
    )
}

fn extract(files: &[(&str, String)]) -> RepoFacts {
    let mut repo = RepoFiles::new("shop");
    for (path, text) in files {
        repo.add_text(*path, text.clone());
    }
    extract_files(repo, &Registry::default())
}

fn names(facts: &RepoFacts) -> Vec<&str> {
    facts.variants.iter().map(|v| v.name.as_str()).collect()
}

/// The variants that hold the declaration of `service`.
fn variants_of<'f>(facts: &'f RepoFacts, service: &str) -> Vec<&'f str> {
    let mut out: Vec<&str> = facts
        .services
        .iter()
        .filter(|d| d.name == service)
        .flat_map(|d| {
            facts
                .variants
                .iter()
                .filter(|v| v.holds(&d.source.path))
                .map(|v| v.name.as_str())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn one_deployment_has_no_variants() {
    let facts = extract(&[
        ("k8s/api/deployment.yaml", deployment("api")),
        ("k8s/db/statefulset.yaml", deployment("db")),
    ]);
    assert!(facts.variants.is_empty(), "{:?}", facts.variants);
    let facts = extract(&[(
        "docker-compose.yml",
        "services:\n  api:\n    image: shop/api\n  db:\n    image: postgres:16\n".into(),
    )]);
    assert!(facts.variants.is_empty());
}

#[test]
fn compose_beside_kubernetes_are_two_variants() {
    let facts = extract(&[
        (
            "docker-compose.yml",
            "services:\n  api:\n    image: shop/api\n  db:\n    image: postgres:16\n".into(),
        ),
        ("k8s/api.yaml", deployment("api")),
        ("k8s/db.yaml", deployment("db")),
    ]);
    assert_eq!(names(&facts), ["docker-compose.yml", "k8s"]);
    assert_eq!(variants_of(&facts, "api"), ["docker-compose.yml", "k8s"]);
}

#[test]
fn a_prod_compose_file_is_its_own_variant_but_an_override_is_not() {
    let facts = extract(&[
        (
            "docker-compose.yml",
            "services:\n  api:\n    image: shop/api\n".into(),
        ),
        (
            "docker-compose.override.yml",
            "services:\n  api:\n    ports: [\"8080:80\"]\n".into(),
        ),
        (
            "docker-compose.prod.yml",
            "services:\n  api:\n    image: shop/api:1.4\n".into(),
        ),
    ]);
    assert_eq!(
        names(&facts),
        ["docker-compose.prod.yml", "docker-compose.yml"]
    );
}

#[test]
fn a_tree_split_by_component_is_one_layout_and_alternative_trees_are_apart() {
    let facts = extract(&[
        ("deploy/plain/api/deployment.yaml", deployment("api")),
        ("deploy/plain/web/deployment.yaml", deployment("web")),
        ("deploy/tls/api/deployment.yaml", deployment("api")),
        ("deploy/tls/web/deployment.yaml", deployment("web")),
        ("deploy/tls/certs/issuer.yaml", deployment("issuer")),
    ]);
    assert_eq!(names(&facts), ["deploy/plain", "deploy/tls"]);
    assert_eq!(variants_of(&facts, "issuer"), ["deploy/tls"]);
}

#[test]
fn files_redeclaring_the_same_workloads_are_alternatives() {
    let all = format!("{}---\n{}", deployment("api"), deployment("worker"));
    let facts = extract(&[
        ("app/api.yaml", deployment("api")),
        ("app/worker.yaml", deployment("worker")),
        ("app/all-in-one/app.yaml", all.clone()),
        ("quickstart.yaml", deployment("api")),
        ("full.yaml", all),
    ]);
    assert_eq!(
        names(&facts),
        ["full.yaml", "quickstart.yaml", "app", "app/all-in-one"]
    );
    assert_eq!(
        variants_of(&facts, "worker"),
        ["app", "app/all-in-one", "full.yaml"]
    );
}

#[test]
fn each_kustomize_overlay_is_a_variant_built_from_its_bases() {
    let overlay = |ns: &str| {
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\nresources:\n  - ../../base/api\n  - ../../base/cache\n"
        )
    };
    let base = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n";
    let facts = extract(&[
        ("kustomize/base/api/deployment.yaml", deployment("api")),
        ("kustomize/base/api/kustomization.yaml", base.into()),
        ("kustomize/base/cache/deployment.yaml", deployment("cache")),
        ("kustomize/base/cache/kustomization.yaml", base.into()),
        ("kustomize/overlays/dev/kustomization.yaml", overlay("dev")),
        (
            "kustomize/overlays/prod/kustomization.yaml",
            overlay("prod"),
        ),
        ("manifests/api.yaml", deployment("api")),
    ]);
    assert_eq!(
        names(&facts),
        [
            "kustomize/overlays/dev",
            "kustomize/overlays/prod",
            "manifests"
        ]
    );
    let dev = &facts.variants[0];
    assert!(dev.holds("kustomize/base/cache/deployment.yaml"));
    assert!(dev.holds("kustomize/overlays/dev/kustomization.yaml"));
    assert!(!dev.holds("kustomize/overlays/prod/kustomization.yaml"));
    assert_eq!(
        variants_of(&facts, "cache"),
        ["kustomize/overlays/dev", "kustomize/overlays/prod"]
    );
}

#[test]
fn compose_projects_of_different_apps_are_one_deployment() {
    // A monorepo whose two apps run side by side: nothing is declared twice.
    let facts = extract(&[
        (
            "shop/docker-compose.yml",
            "services:\n  web:\n    image: shop/web\n".into(),
        ),
        (
            "billing/docker-compose.yml",
            "services:\n  invoices:\n    image: billing/invoices\n".into(),
        ),
    ]);
    assert!(facts.variants.is_empty(), "{:?}", facts.variants);
    // A test harness that redeclares the app is an alternative to it.
    let facts = extract(&[
        (
            "docker-compose.yml",
            "services:\n  web:\n    image: shop/web\n".into(),
        ),
        (
            "tests/docker-compose.test.yml",
            "services:\n  web:\n    build: ..\n  sut:\n    image: curlimages/curl\n".into(),
        ),
    ]);
    assert_eq!(
        names(&facts),
        ["docker-compose.yml", "tests/docker-compose.test.yml"]
    );
}
