//! End to end: real files → `extract` → `link` → detectors. One planted conflict per kind, and
//! the legitimate look-alikes that must stay quiet.

use crate::detect::detect;
use crate::{Conflict, ConflictKind, FleetInput, Severity};
use switchyard_extract::source::RepoFiles;
use switchyard_extract::{Registry, extract_files};
use switchyard_model::{FleetModel, RepoFacts, Repository};

struct Repo<'a> {
    name: &'a str,
    host: &'a str,
    env: &'a str,
    files: &'a [(&'a str, &'a str)],
}

fn repo<'a>(name: &'a str, files: &'a [(&'a str, &'a str)]) -> Repo<'a> {
    Repo {
        name,
        host: "local",
        env: "default",
        files,
    }
}

fn analyze(repos: &[Repo<'_>]) -> (FleetModel, Vec<std::sync::Arc<RepoFacts>>) {
    let registry = Registry::default();
    let repositories: Vec<Repository> = repos
        .iter()
        .map(|r| Repository {
            name: r.name.into(),
            path: r.name.into(),
            host: r.host.into(),
            environment: r.env.into(),
        })
        .collect();
    let facts: Vec<RepoFacts> = repos
        .iter()
        .map(|r| {
            let mut files = RepoFiles::new(r.name);
            for (path, text) in r.files {
                files.add_text(*path, *text);
            }
            extract_files(files, &registry)
        })
        .collect();
    let model = switchyard_link::link(&repositories, &facts);
    (model, facts.into_iter().map(std::sync::Arc::new).collect())
}

fn conflicts(repos: &[Repo<'_>]) -> Vec<Conflict> {
    let (model, facts) = analyze(repos);
    detect(
        FleetInput {
            model: &model,
            facts: &facts,
            lookup: &crate::Lookup::default(),
        },
        &[],
    )
}

/// `(type, resource, severity)` of every conflict, sorted.
fn summary(conflicts: &[Conflict]) -> Vec<(&'static str, String, Severity)> {
    let mut v: Vec<_> = conflicts
        .iter()
        .map(|c| (c.kind.as_str(), c.resource.clone(), c.severity))
        .collect();
    v.sort();
    v
}

fn find(conflicts: &[Conflict], kind: ConflictKind) -> &Conflict {
    conflicts
        .iter()
        .find(|c| c.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} in {}", show(conflicts)))
}

/// `repo/path:line:col detail` of every occurrence.
fn places(c: &Conflict) -> Vec<String> {
    c.occurrences
        .iter()
        .map(|o| format!("{} {}", o.location, o.detail))
        .collect()
}

fn show(conflicts: &[Conflict]) -> String {
    conflicts
        .iter()
        .map(|c| {
            let occ: Vec<String> = c
                .occurrences
                .iter()
                .map(|o| format!("    {} {}", o.location, o.detail))
                .collect();
            format!(
                "{} {} {:?} {}\n  {}\n{}",
                c.kind.as_str(),
                c.resource,
                c.severity,
                c.host,
                c.message,
                occ.join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const WEB_COMPOSE: &str = "services:
  web:
    image: nginx
    container_name: web
    ports:
      - \"8080:80\"
    volumes:
      - /srv/shared:/usr/share/nginx/html
      - /var/run/docker.sock:/var/run/docker.sock:ro
    networks: [proxy, backend]
networks:
  proxy:
    external: true
  backend:
    ipam:
      config:
        - subnet: 172.28.0.0/16
";

const WEB_PROD: &str = "services:
  web:
    image: nginx
    ports:
      - \"8080:80\"
";

const API_COMPOSE: &str = "services:
  api:
    image: node:20
    container_name: web
    ports:
      - \"8080:3000\"
    volumes:
      - /srv/shared:/data
    networks: [proxy, internal]
networks:
  proxy:
    external: true
  internal:
    ipam:
      config:
        - subnet: 172.28.5.0/24
";

#[test]
fn planted_compose_conflicts() {
    let c = conflicts(&[
        repo(
            "web",
            &[
                ("docker-compose.yml", WEB_COMPOSE),
                ("docker-compose.prod.yml", WEB_PROD),
            ],
        ),
        repo("api", &[("docker-compose.yml", API_COMPOSE)]),
    ]);
    assert_eq!(
        summary(&c),
        vec![
            (
                "container_name",
                "container_name:web".into(),
                Severity::High
            ),
            ("network", "subnet:172.28.0.0/16".into(), Severity::Medium),
            ("port", "port:8080/tcp".into(), Severity::High),
            ("volume", "volume:/srv/shared".into(), Severity::High),
        ],
        "{}",
        show(&c)
    );
    let port = find(&c, ConflictKind::Port);
    assert_eq!(port.repositories, vec!["api", "web"]);
    assert_eq!(
        places(port),
        vec![
            "api/docker-compose.yml:6:10 0.0.0.0:8080->3000/tcp",
            "web/docker-compose.prod.yml:5:10 0.0.0.0:8080->80/tcp",
            "web/docker-compose.yml:6:10 0.0.0.0:8080->80/tcp",
        ]
    );
    assert_eq!(
        places(find(&c, ConflictKind::ContainerName)),
        vec![
            "api/docker-compose.yml:4:21 container_name: web",
            "web/docker-compose.yml:4:21 container_name: web",
        ]
    );
    assert_eq!(
        places(find(&c, ConflictKind::Network)),
        vec![
            "api/docker-compose.yml:13:3 internal 172.28.5.0/24",
            "web/docker-compose.yml:14:3 backend 172.28.0.0/16",
        ]
    );
    // The docker socket both mount is not a shared volume; the external `proxy` network both
    // join is shared on purpose.
    assert!(
        c.iter()
            .all(|c| !c.resource.contains("docker.sock") && !c.resource.contains("proxy"))
    );
}

const INGRESS: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
spec:
  selector:
    matchLabels: {app: site}
  template:
    metadata:
      labels: {app: site}
    spec:
      containers:
        - name: site
          image: site:1
          ports:
            - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: site
spec:
  selector: {app: site}
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: site
spec:
  rules:
    - host: app.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: site
                port:
                  number: 80
";

const NGINX: &str = "server {
    listen 80;
    server_name app.example.com;
    location / {
        return 200;
    }
}
";

#[test]
fn planted_domain() {
    let c = conflicts(&[
        repo("site", &[("k8s/site.yaml", INGRESS)]),
        repo("legacy", &[("nginx/conf.d/app.conf", NGINX)]),
    ]);
    assert_eq!(
        summary(&c),
        vec![("domain", "domain:app.example.com".into(), Severity::High)],
        "{}",
        show(&c)
    );
    assert_eq!(
        places(&c[0]),
        vec![
            "legacy/nginx/conf.d/app.conf:3:17 app.example.com",
            "site/k8s/site.yaml:34:13 app.example.com",
        ]
    );
    // In different environments the same domain is fine.
    let mut staging = repo("legacy", &[("nginx/conf.d/app.conf", NGINX)]);
    staging.env = "staging";
    assert!(conflicts(&[repo("site", &[("k8s/site.yaml", INGRESS)]), staging]).is_empty());
}

const AUTH_COMPOSE: &str = "services:
  auth:
    image: auth:1
    ports:
      - \"4000:4000\"
    networks: [shared]
networks:
  shared:
    external: true
";

const WORKER_COMPOSE: &str = "services:
  worker:
    image: worker:1
    environment:
      AUTH_URL: http://auth:4001
    networks: [shared]
networks:
  shared:
    external: true
";

#[test]
fn planted_env_drift_and_unreachable() {
    let c = conflicts(&[
        repo("auth", &[("docker-compose.yml", AUTH_COMPOSE)]),
        repo("a", &[(".env", "AUTH_URL=http://localhost:4000\n")]),
        repo("b", &[(".env", "AUTH_URL=http://localhost:4001\n")]),
        repo("worker", &[("docker-compose.yml", WORKER_COMPOSE)]),
    ]);
    assert_eq!(
        summary(&c),
        vec![
            ("env_drift", "env:AUTH_URL".into(), Severity::High),
            (
                "unreachable_url",
                "url:auth:4001@auth/auth".into(),
                Severity::High
            ),
            (
                "unreachable_url",
                "url:localhost:4001".into(),
                Severity::High
            ),
        ],
        "{}",
        show(&c)
    );
    let drift = find(&c, ConflictKind::EnvDrift);
    assert_eq!(drift.repositories, vec!["a", "b", "worker"]);
    assert_eq!(
        places(drift),
        vec![
            "a/.env:1:10 AUTH_URL=http://localhost:4000",
            "b/.env:1:10 AUTH_URL=http://localhost:4001",
            "worker/docker-compose.yml:5:17 AUTH_URL=http://auth:4001",
        ]
    );
    let wrong_port = c
        .iter()
        .find(|c| c.resource == "url:auth:4001@auth/auth")
        .unwrap();
    assert_eq!(
        places(wrong_port),
        vec![
            "auth/docker-compose.yml:5:15 auth/auth listens on 4000",
            "worker/docker-compose.yml:5:17 http://auth:4001",
        ]
    );
}

const BACKEND_COMPOSE: &str = "services:
  api:
    image: api:1
    ports:
      - \"8080:8080\"
    environment:
      CORS_ORIGINS: http://localhost:3000,https://app.example.com
";

const FRONTEND_PACKAGE: &str = r#"{"name": "frontend", "scripts": {"dev": "vite --port 5173"}}"#;

#[test]
fn planted_cors_and_websocket() {
    let c = conflicts(&[
        repo(
            "frontend",
            &[
                ("package.json", FRONTEND_PACKAGE),
                (
                    ".env",
                    "VITE_API_URL=http://localhost:8080\nVITE_WS_URL=ws://localhost:8081/socket\n",
                ),
            ],
        ),
        repo("backend", &[("docker-compose.yml", BACKEND_COMPOSE)]),
    ]);
    assert_eq!(
        summary(&c),
        vec![
            (
                "cors_missing_origin",
                "cors:backend/api:http://localhost:5173".into(),
                Severity::Medium
            ),
            (
                "websocket_mismatch",
                "socket:localhost:8081".into(),
                Severity::Medium
            ),
        ],
        "{}",
        show(&c)
    );
    assert_eq!(
        places(find(&c, ConflictKind::CorsMissingOrigin)),
        vec![
            "backend/docker-compose.yml:7:21 CORS_ORIGINS=http://localhost:3000,https://app.example.com",
            "frontend/.env:1:14 VITE_API_URL=http://localhost:8080",
            "frontend/package.json:1:54 origin http://localhost:5173",
        ]
    );
    // With the dev server's origin in the list, CORS is fine.
    let allowed = BACKEND_COMPOSE.replace("http://localhost:3000", "http://localhost:5173");
    let c = conflicts(&[
        repo(
            "frontend",
            &[
                ("package.json", FRONTEND_PACKAGE),
                (".env", "VITE_API_URL=http://localhost:8080\n"),
            ],
        ),
        repo("backend", &[("docker-compose.yml", &allowed)]),
    ]);
    assert!(c.is_empty(), "{}", show(&c));
}

const SHELL_WEBPACK: &str = "const { ModuleFederationPlugin } = require('webpack').container;
module.exports = {
  devServer: { port: 3000 },
  plugins: [
    new ModuleFederationPlugin({
      name: 'shell',
      remotes: { cart: 'cart@http://localhost:3001/remoteEntry.js' },
      shared: { react: { singleton: true, requiredVersion: '^18.2.0' } },
    }),
  ],
};
";

const CART_WEBPACK: &str = "const { ModuleFederationPlugin } = require('webpack').container;
module.exports = {
  devServer: { port: 3001 },
  plugins: [
    new ModuleFederationPlugin({
      name: 'cart',
      filename: 'remoteEntry.js',
      exposes: { './Cart': './src/Cart' },
      shared: { react: { singleton: true, requiredVersion: '^17.0.2' } },
    }),
  ],
};
";

#[test]
fn planted_shared_version_and_dangling_package() {
    let c = conflicts(&[
        repo("shell", &[("webpack.config.js", SHELL_WEBPACK)]),
        repo("cart", &[("webpack.config.js", CART_WEBPACK)]),
        repo(
            "mono",
            &[
                (
                    "package.json",
                    r#"{"name": "mono", "private": true, "workspaces": ["apps/*", "packages/*"]}"#,
                ),
                (
                    "packages/ui/package.json",
                    r#"{"name": "@acme/ui", "version": "1.0.0"}"#,
                ),
                (
                    "apps/web/package.json",
                    r#"{"name": "@acme/web", "dependencies": {"@acme/ui": "workspace:*", "@acme/utils": "workspace:*"}}"#,
                ),
            ],
        ),
    ]);
    assert_eq!(
        summary(&c),
        vec![
            (
                "dangling_package",
                "package:@acme/utils".into(),
                Severity::High
            ),
            (
                "shared_dependency_version",
                "shared:react@shell/shell".into(),
                Severity::High
            ),
        ],
        "{}",
        show(&c)
    );
    assert_eq!(
        places(find(&c, ConflictKind::SharedDependencyVersion)),
        vec![
            "cart/webpack.config.js:9:17 react@^17.0.2",
            "shell/webpack.config.js:8:17 react@^18.2.0",
        ]
    );
    assert_eq!(
        places(find(&c, ConflictKind::DanglingPackage)),
        vec!["mono/apps/web/package.json:1:68 @acme/utils@workspace:*"]
    );
}

const K8S_WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: web:1
          ports:
            - containerPort: 80
              hostPort: 8080
";

#[test]
fn legitimate_look_alikes_stay_quiet() {
    // Variants of one app in one repository: compose, prod compose and Kubernetes.
    let c = conflicts(&[repo(
        "web",
        &[
            ("docker-compose.yml", WEB_COMPOSE),
            ("docker-compose.prod.yml", WEB_PROD),
            ("k8s/web.yaml", K8S_WEB),
        ],
    )]);
    assert!(c.is_empty(), "{}", show(&c));

    // The same port, container name, host path and subnet on two different hosts.
    let mut api = repo("api", &[("docker-compose.yml", API_COMPOSE)]);
    api.host = "nas";
    let c = conflicts(&[repo("web", &[("docker-compose.yml", WEB_COMPOSE)]), api]);
    assert!(c.is_empty(), "{}", show(&c));

    // An external network several repositories join on purpose, and a host path one writes
    // and nobody else mounts.
    let joiner = "services:
  app:
    image: app:1
    volumes:
      - /srv/app:/data
    networks: [proxy]
networks:
  proxy:
    external: true
";
    let c = conflicts(&[
        repo("one", &[("docker-compose.yml", joiner)]),
        repo(
            "two",
            &[(
                "docker-compose.yml",
                &joiner.replace("/srv/app", "/srv/two"),
            )],
        ),
        repo(
            "three",
            &[(
                "docker-compose.yml",
                &joiner.replace("/srv/app", "/srv/three"),
            )],
        ),
    ]);
    assert!(c.is_empty(), "{}", show(&c));
}

#[test]
fn detection_is_deterministic() {
    let repos = [
        repo("web", &[("docker-compose.yml", WEB_COMPOSE)]),
        repo("api", &[("docker-compose.yml", API_COMPOSE)]),
        repo("a", &[(".env", "AUTH_URL=http://localhost:4000\n")]),
        repo("b", &[(".env", "AUTH_URL=http://localhost:4001\n")]),
    ];
    let first = conflicts(&repos);
    let reversed: Vec<Repo<'_>> = repos.iter().rev().map(|r| Repo { ..*r }).collect();
    assert_eq!(first, conflicts(&reversed));
    assert_eq!(first, conflicts(&repos));
    // High first.
    assert_eq!(first[0].severity, Severity::High);
}
