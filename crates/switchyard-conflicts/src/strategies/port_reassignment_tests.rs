use super::*;
use crate::strategies::testkit::{TestFleet, changed_lines, port_conflict};

const ALPHA: &str = "# alpha: the public web app\nservices:\n  web:\n    image: nginx\n    ports:\n      - \"8080:80\"   # public\n      - \"20000:443\"\n";

/// The frontend's variables are inlined into code that runs in the browser, which reaches the
/// host's published ports (inside the frontend's container `localhost` would be the frontend).
const BETA: &str = "services:\n  api:\n    build: .\n    ports:\n      - 8080:3000 # dev only\n  frontend:\n    image: node\n    environment:\n      VITE_API_URL: http://localhost:8080/v1\n      VITE_PUBLIC_API: ${PUBLIC_API}\n";

fn fleet() -> TestFleet {
    TestFleet::new()
        .repo("alpha", &[("docker-compose.yml", ALPHA)])
        .repo(
            "beta",
            &[
                ("docker-compose.yml", BETA),
                (
                    ".env",
                    "# interpolation\nPUBLIC_API=http://127.0.0.1:8080\n",
                ),
            ],
        )
        .repo(
            "gamma",
            &[("config/.env", "BACKEND_URL=http://localhost:8080\n")],
        )
}

fn host_ports(an: &crate::strategies::testkit::Analyzed, id: &str) -> Vec<u16> {
    an.model
        .services
        .iter()
        .filter(|s| s.id == id)
        .flat_map(|s| &s.endpoints)
        .filter_map(|e| match e.kind {
            EndpointKind::HostPort { start, .. }
            | EndpointKind::HostProcessPort { port: start } => Some(start),
            _ => None,
        })
        .collect()
}

#[test]
fn moves_the_second_publisher_and_its_references() {
    let fleet = fleet();
    let an = fleet.analyze();
    let conflict = port_conflict(&an, 8080);
    assert_eq!(conflict.repositories, ["alpha", "beta"]);
    let res = PortReassignment::default()
        .propose(&conflict, an.input(), &fleet)
        .expect("a resolution");
    assert!(res.automatic);
    assert!((res.confidence - 0.9).abs() < 1e-6);
    assert_eq!(res.strategy, "port-reassignment");
    // 20000 is published by alpha: the lowest free port is 20001.
    assert!(
        res.description.contains("beta/api from 8080 to 20001"),
        "{}",
        res.description
    );

    let after = fleet.apply(&res);
    assert_eq!(
        changed_lines(
            &fleet.text("beta", "docker-compose.yml"),
            &after.text("beta", "docker-compose.yml")
        ),
        [
            (
                "      - 8080:3000 # dev only".into(),
                "      - 20001:3000 # dev only".into()
            ),
            (
                "      VITE_API_URL: http://localhost:8080/v1".into(),
                "      VITE_API_URL: http://localhost:20001/v1".into()
            ),
        ]
    );
    assert_eq!(
        after.text("beta", ".env"),
        "# interpolation\nPUBLIC_API=http://127.0.0.1:20001\n"
    );
    // The kept publisher and the third repository (ambiguous before) are untouched.
    assert_eq!(after.text("alpha", "docker-compose.yml"), ALPHA);
    assert_eq!(
        after.text("gamma", "config/.env"),
        "BACKEND_URL=http://localhost:8080\n"
    );

    let re = after.analyze();
    assert_eq!(port_conflict(&re, 8080).repositories, ["alpha"]);
    assert_eq!(host_ports(&re, "beta/api"), [20001]);
    // The frontend's reference now resolves to the moved api; gamma's to the kept web.
    let edge = |from: &str, to: &str| re.model.edges.iter().any(|e| e.from == from && e.to == to);
    assert!(edge("beta/frontend", "beta/api"));
    assert!(edge("gamma/gamma", "alpha/web"));
    assert!(
        re.model
            .unresolved
            .iter()
            .all(|u| u.reason != switchyard_model::UnresolvedReason::Ambiguous)
    );
}

#[test]
fn interpolated_ports_change_where_their_value_is_written() {
    let compose =
        "services:\n  api:\n    image: x\n    ports:\n      - \"${API_PORT:-8080}:3000\"\n";
    let fleet = TestFleet::new()
        .repo("alpha", &[("docker-compose.yml", ALPHA)])
        .repo(
            "beta",
            &[
                ("docker-compose.yml", compose),
                (".env", "API_PORT=8080 # host\n"),
            ],
        );
    let an = fleet.analyze();
    let conflict = port_conflict(&an, 8080);
    assert_eq!(conflict.repositories.len(), 2);
    let res = PortReassignment::default()
        .propose(&conflict, an.input(), &fleet)
        .unwrap();
    let after = fleet.apply(&res);
    assert_eq!(after.text("beta", ".env"), "API_PORT=20001 # host\n");
    assert_eq!(
        after.text("beta", "docker-compose.yml"),
        compose.replace(":-8080}", ":-20001}")
    );
    let re = after.analyze();
    assert_eq!(host_ports(&re, "beta/api"), [20001]);
    assert_eq!(port_conflict(&re, 8080).repositories, ["alpha"]);
}

#[test]
fn host_processes_and_ranges_move_too() {
    // A dev server listening on PORT=8001 (host process) and a published range 8000-8002.
    let fleet = TestFleet::new()
        .repo("alpha", &[(".env", "PORT=8001\n")])
        .repo(
            "beta",
            &[(
                "compose.yaml",
                "services:\n  dns:\n    image: x\n    ports: [\"8000-8002:8000-8002/udp\"]\n",
            )],
        )
        .repo("gamma", &[(".env", "# dev\nPORT=8001\n")]);
    let an = fleet.analyze();
    let conflict = port_conflict(&an, 8001);
    assert_eq!(conflict.repositories, ["alpha", "beta", "gamma"]);
    let strategy = PortReassignment {
        range: PortRange {
            start: 9000,
            end: 9100,
        },
    };
    let res = strategy.propose(&conflict, an.input(), &fleet).unwrap();
    let after = fleet.apply(&res);
    assert_eq!(after.text("alpha", ".env"), "PORT=8001\n");
    assert_eq!(
        after.text("beta", "compose.yaml"),
        "services:\n  dns:\n    image: x\n    ports: [\"9000-9002:8000-8002/udp\"]\n"
    );
    // The range took 9000-9002; the next free port is 9003.
    assert_eq!(after.text("gamma", ".env"), "# dev\nPORT=9003\n");
    let re = after.analyze();
    assert_eq!(port_conflict(&re, 8001).repositories, ["alpha"]);
}

#[test]
fn refuses_what_it_cannot_fix() {
    let fleet = fleet();
    let an = fleet.analyze();
    let mut conflict = port_conflict(&an, 8080);
    // Not a port conflict.
    conflict.kind = ConflictKind::Domain;
    assert!(
        PortReassignment::default()
            .propose(&conflict, an.input(), &fleet)
            .is_none()
    );
    // No free port in the range.
    let conflict = port_conflict(&an, 8080);
    let full = PortReassignment {
        range: PortRange {
            start: 20000,
            end: 20000,
        },
    };
    assert!(full.propose(&conflict, an.input(), &fleet).is_none());
    // The file changed so the span no longer holds the port.
    let stale = TestFleet::new()
        .repo("alpha", &[("docker-compose.yml", ALPHA)])
        .repo("beta", &[("docker-compose.yml", "x")]);
    assert!(
        PortReassignment::default()
            .propose(&conflict, an.input(), &stale)
            .is_none()
    );
}

#[test]
fn finds_loopback_mentions_only() {
    let text = "a=http://localhost:8080,b=db:8080,c=[::1]:8081/x,d=host.docker.internal:80800,e=172.17.0.1:8081";
    let found: Vec<u16> = loopback_mentions(text, ByteSpan::new(0, text.len()), 8080, 8081)
        .into_iter()
        .map(|m| m.port)
        .collect();
    assert_eq!(found, [8080, 8081, 8081]);
    let docker = loopback_mentions(text, ByteSpan::new(0, text.len()), 8080, 65535);
    assert_eq!(
        docker
            .iter()
            .map(|m| (m.port, m.docker_host))
            .collect::<Vec<_>>(),
        [(8080, false), (8081, false), (8081, true)]
    );
}

#[test]
fn node_ports_stay_in_the_node_port_range_and_long_syntax_moves() {
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n  ports:\n    - port: 80\n      nodePort: 30080 # fixed\n";
    let long = "services:\n  web:\n    image: w\n    ports:\n      - target: 80\n        published: \"30080\"\n        protocol: tcp\n";
    let fleet = TestFleet::new()
        .repo("a", &[("k8s/svc.yaml", service)])
        .repo("b", &[("k8s/svc.yaml", service)])
        .repo("c", &[("compose.yaml", long)]);
    let an = fleet.analyze();
    let conflict = port_conflict(&an, 30080);
    assert_eq!(conflict.repositories, ["a", "b", "c"]);
    let res = PortReassignment::default()
        .propose(&conflict, an.input(), &fleet)
        .unwrap();
    let after = fleet.apply(&res);
    assert_eq!(after.text("a", "k8s/svc.yaml"), service);
    assert_eq!(
        after.text("b", "k8s/svc.yaml"),
        service.replace("30080 #", "30000 #")
    );
    assert_eq!(
        after.text("c", "compose.yaml"),
        long.replace("\"30080\"", "\"20000\"")
    );
    let re = after.analyze();
    assert_eq!(port_conflict(&re, 30080).repositories, ["a"]);
    assert_eq!(port_conflict(&re, 30000).repositories, ["b"]);
    assert_eq!(port_conflict(&re, 20000).repositories, ["c"]);
}
