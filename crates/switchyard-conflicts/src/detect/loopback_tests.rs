//! End to end (files → `extract` → `link` → detectors): `localhost` means the container only in
//! a container's own declaration. Host networking, a shared network namespace, one pod,
//! browser-side variables and host tools reach the host (or the pod) instead; and layered
//! proxies serving one name on purpose stay quiet.

use crate::detect::detect;
use crate::strategies::testkit::TestFleet;
use crate::{Conflict, ConflictKind};

fn conflicts(repos: &[(&str, &[(&str, &str)])]) -> Vec<Conflict> {
    let fleet = TestFleet::of(repos).analyze();
    detect(
        fleet.input(),
        &[ConflictKind::UnreachableUrl, ConflictKind::Domain],
    )
}

const ORDERS: &str = "services:
  orders:
    image: orders
    ports:
      - \"8081:8080\"
";

fn shop(compose: &'static str) -> Vec<Conflict> {
    conflicts(&[
        ("orders", &[("docker-compose.yml", ORDERS)]),
        ("shop", &[("docker-compose.yml", compose)]),
    ])
}

#[test]
fn localhost_in_a_container_is_that_container() {
    let c = shop(
        "services:
  web:
    image: web
    environment:
      ORDERS_URL: http://localhost:8081/api
",
    );
    assert_eq!(c.len(), 1, "{c:#?}");
    assert!(
        c[0].message.contains("Call orders:8080") && c[0].repositories == ["orders", "shop"],
        "{}",
        c[0].message
    );
}

#[test]
fn host_networking_reaches_the_host() {
    let c = shop(
        "services:
  web:
    image: web
    network_mode: host
    environment:
      ORDERS_URL: http://localhost:8081/api
",
    );
    assert!(c.is_empty(), "{c:#?}");
}

#[test]
fn a_shared_network_namespace_is_not_the_container_alone() {
    let c = shop(
        "services:
  vpn:
    image: vpn
  web:
    image: web
    network_mode: \"service:vpn\"
    environment:
      ORDERS_URL: http://localhost:8081/api
",
    );
    assert!(c.is_empty(), "{c:#?}");
}

#[test]
fn browser_side_variables_reach_the_host() {
    let c = shop(
        "services:
  web:
    image: web
    environment:
      VITE_ORDERS_URL: http://localhost:8081/api
      NEXT_PUBLIC_ORDERS_URL: http://localhost:8081/api
",
    );
    assert!(c.is_empty(), "{c:#?}");
}

#[test]
fn a_host_tool_reaches_the_host() {
    let c = conflicts(&[
        ("orders", &[("docker-compose.yml", ORDERS)]),
        ("cli", &[(".env", "ORDERS_URL=http://localhost:8081/api\n")]),
    ]);
    assert!(c.is_empty(), "{c:#?}");
}

#[test]
fn containers_of_one_pod_share_localhost() {
    let pod = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: app
          ports:
            - containerPort: 8080
        - name: probe
          image: probe
          env:
            - name: TARGET
              value: http://localhost:8080/health
";
    let c = conflicts(&[("app", &[("k8s/app.yaml", pod)])]);
    assert!(c.is_empty(), "{c:#?}");
}

#[test]
fn an_edge_proxy_in_front_of_an_apps_own_nginx_is_layered() {
    let edge = "server {
    listen 80;
    server_name shop.example.com;
    location / {
        proxy_pass http://shop-web:80;
    }
}
";
    let edge_compose = "services:
  proxy:
    image: nginx
    ports:
      - \"80:80\"
    volumes:
      - ./nginx/conf.d:/etc/nginx/conf.d:ro
    networks: [proxy]
networks:
  proxy:
    external: true
";
    let app_compose = "services:
  shop-web:
    image: nginx
    volumes:
      - ./nginx.conf:/etc/nginx/conf.d/default.conf:ro
    networks: [proxy]
networks:
  proxy:
    external: true
";
    let app_nginx = "server {
    listen 80;
    server_name shop.example.com;
    root /usr/share/nginx/html;
}
";
    let c = conflicts(&[
        (
            "edge",
            &[
                ("docker-compose.yml", edge_compose),
                ("nginx/conf.d/shop.conf", edge),
            ],
        ),
        (
            "shop",
            &[
                ("docker-compose.yml", app_compose),
                ("nginx.conf", app_nginx),
            ],
        ),
    ]);
    assert!(c.is_empty(), "{c:#?}");
}
