//! Strategies on a copy of a seed fleet (`examples/fleets/homelab`) with planted conflicts:
//! propose, apply to disk through `patch`, analyze again.

use super::testkit::{analyze_disk, changed_lines, copy_tree, port_conflict, resource_conflict};
use super::{PortReassignment, ResourceNamePrefixing, Strategy};
use std::fs;
use std::path::{Path, PathBuf};
use switchyard_model::{EndpointKind, ResourceKind};

fn homelab() -> (tempfile::TempDir, PathBuf) {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleets/homelab");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("homelab");
    copy_tree(&seed, &root);
    (dir, root)
}

fn plant(path: &Path, from: &str, to: &str) -> String {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from}", path.display());
    let planted = text.replacen(from, to, 1);
    fs::write(path, &planted).unwrap();
    planted
}

#[test]
fn port_reassignment_on_the_homelab_seed() {
    let (_dir, root) = homelab();
    // Grafana now publishes auth's port 9000.
    let compose = root.join("monitoring/docker-compose.yml");
    let planted = plant(&compose, "\"3001:3000\"", "\"9000:3000\"");
    let prometheus = fs::read_to_string(root.join("monitoring/prometheus/prometheus.yml")).unwrap();
    let (an, files) = analyze_disk(&root.join("switchyard.toml"));
    let conflict = port_conflict(&an, 9000);
    assert_eq!(conflict.repositories, ["auth", "monitoring"]);
    assert_eq!(conflict.host, "nas01");

    let res = PortReassignment::default()
        .propose(&conflict, an.input(), &files)
        .unwrap();
    // Prometheus scrapes auth through the Docker host: that reference must keep port 9000.
    assert!(
        res.description
            .contains("monitoring/prometheus/prometheus.yml"),
        "{}",
        res.description
    );
    let written = files.apply(&res.edits).unwrap();
    assert_eq!(written.len(), 1);
    assert_eq!(
        changed_lines(&planted, &fs::read_to_string(&compose).unwrap()),
        [(
            "      - \"9000:3000\"".into(),
            "      - \"20000:3000\"".into()
        )]
    );
    assert_eq!(
        fs::read_to_string(root.join("monitoring/prometheus/prometheus.yml")).unwrap(),
        prometheus
    );

    let (re, _) = analyze_disk(&root.join("switchyard.toml"));
    assert_eq!(port_conflict(&re, 9000).repositories, ["auth"]);
    let grafana = re
        .model
        .services
        .iter()
        .find(|s| s.id == "monitoring/grafana")
        .unwrap();
    assert!(grafana.endpoints.iter().any(|e| matches!(
        e.kind,
        EndpointKind::HostPort {
            start: 20000,
            container_port: Some(3000),
            ..
        }
    )));
    assert!(
        re.model
            .edges
            .iter()
            .any(|e| e.from == "monitoring/prometheus" && e.to == "auth/auth")
    );
    // Applying the same edits again is refused: the files changed since analysis.
    assert!(files.apply(&res.edits).is_err());
}

#[test]
fn resource_name_prefixing_on_the_homelab_seed() {
    let (_dir, root) = homelab();
    let compose = root.join("dashboard/docker-compose.yml");
    let planted = plant(
        &compose,
        "container_name: homelab-dashboard",
        "container_name: homelab-auth",
    );
    let (an, files) = analyze_disk(&root.join("switchyard.toml"));
    let conflict = resource_conflict(&an, ResourceKind::ContainerName, "homelab-auth");
    assert_eq!(conflict.repositories, ["auth", "dashboard"]);
    let res = ResourceNamePrefixing
        .propose(&conflict, an.input(), &files)
        .unwrap();
    files.apply(&res.edits).unwrap();
    assert_eq!(
        changed_lines(&planted, &fs::read_to_string(&compose).unwrap()),
        [(
            "    container_name: homelab-auth".into(),
            "    container_name: dashboard-homelab-auth".into()
        )]
    );
    let (re, _) = analyze_disk(&root.join("switchyard.toml"));
    assert_eq!(
        resource_conflict(&re, ResourceKind::ContainerName, "homelab-auth").repositories,
        ["auth"]
    );
}
