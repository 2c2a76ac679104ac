//! Tests of the Kubernetes extractor over whole files and small repositories.

use super::KubernetesExtractor;
use crate::extractor::{Extractor, Handled};
use crate::source::RepoFiles;
use switchyard_model::{
    AliasKind, DiagnosticCode, EndpointKind, Location, Mechanism, Protocol, RepoFacts, Scope,
    ServiceDecl, ServiceKind, Target,
};

/// Runs the extractor over every file of a repository made of `files`.
pub(super) fn run(files: &[(&str, &str)]) -> (RepoFacts, Vec<Handled>) {
    let mut repo = RepoFiles::new("r");
    for (path, text) in files {
        repo.add_text(*path, *text);
    }
    let mut out = RepoFacts::default();
    let handled = repo
        .files()
        .iter()
        .map(|f| {
            if KubernetesExtractor.accepts(&f.path) {
                KubernetesExtractor.extract(f, &repo, &mut out)
            } else {
                Handled::NotMine
            }
        })
        .collect();
    (out, handled)
}

pub(super) fn at(loc: &Location) -> (u32, u32) {
    (loc.line, loc.column)
}

pub(super) fn service<'a>(facts: &'a RepoFacts, name: &str) -> &'a ServiceDecl {
    facts
        .services
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name} in {:#?}", facts.services))
}

pub(super) fn endpoint(decl: &ServiceDecl, kind: &EndpointKind) -> (u32, u32) {
    decl.endpoints
        .iter()
        .find(|e| &e.kind == kind)
        .map(|e| at(&e.location))
        .unwrap_or_else(|| panic!("no {kind:?} on {}: {:#?}", decl.name, decl.endpoints))
}

pub(super) fn tcp(port: u16) -> EndpointKind {
    EndpointKind::ContainerPort {
        port,
        protocol: Protocol::Tcp,
    }
}

const SHOP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels:
        app: web
        tier: front
    spec:
      containers:
        - name: web
          image: shop/web:1.2
          ports:
            - containerPort: 8080
          env:
            - name: API_URL
              value: \"http://api:9000\"
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: db
                  key: password
          args: [\"--db=postgres:5432\", \"--listen=0.0.0.0:8080\"]
---
apiVersion: v1
kind: Service
metadata:
  name: web-svc
spec:
  type: NodePort
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
      nodePort: 30080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
spec:
  tls:
    - hosts: [shop.example.com, www.shop.example.com]
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /api
            pathType: Prefix
            backend:
              service:
                name: web-svc
                port:
                  number: 80
";

#[test]
fn deployment_service_ingress_in_one_file() {
    let (facts, handled) = run(&[("deploy/shop.yaml", SHOP)]);
    assert_eq!(handled, vec![Handled::Yes]);
    assert_eq!(facts.services.len(), 1, "{:#?}", facts.services);
    let web = service(&facts, "web");
    assert_eq!(web.kind, ServiceKind::Kubernetes);
    assert_eq!(
        web.scope,
        Scope::Kubernetes {
            namespace: "default".into()
        }
    );
    assert_eq!(at(&web.source), (4, 9));
    assert_eq!(web.image.as_deref(), Some("shop/web:1.2"));
    assert_eq!(web.owned_paths, vec!["deploy/shop.yaml".to_string()]);
    assert_eq!(web.aliases.len(), 1);
    assert_eq!(web.aliases[0].name, "web-svc");
    assert_eq!(web.aliases[0].kind, AliasKind::KubernetesService);
    assert_eq!(at(&web.aliases[0].location), (30, 9));
    assert_eq!(endpoint(web, &tcp(8080)), (16, 30));
    assert_eq!(endpoint(web, &tcp(80)), (36, 13));
    let node_port = EndpointKind::NodePort {
        port: 30080,
        protocol: Protocol::Tcp,
    };
    assert_eq!(endpoint(web, &node_port), (38, 17));
    let domain = EndpointKind::Domain {
        host: "shop.example.com".into(),
        path: Some("/api".into()),
    };
    assert_eq!(endpoint(web, &domain), (48, 13));
    // The TLS host without a rule goes to the only backend; the one with a rule adds nothing.
    let www = EndpointKind::Domain {
        host: "www.shop.example.com".into(),
        path: None,
    };
    assert_eq!(endpoint(web, &www), (46, 33));
    assert_eq!(web.endpoints.len(), 5);
}

#[test]
fn env_values_and_command_addresses() {
    let (facts, _) = run(&[("shop.yaml", SHOP)]);
    let keys: Vec<&str> = facts.env.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, vec!["API_URL"], "secretKeyRef must record nothing");
    assert!(!format!("{facts:?}").contains("DB_PASSWORD"));
    assert_eq!(at(&facts.env[0].location), (19, 22));
    let refs: Vec<(&str, Mechanism, (u32, u32))> = facts
        .references
        .iter()
        .map(|r| match &r.target {
            Target::Address { text } => (text.as_str(), r.mechanism, at(&r.location)),
            other => panic!("unexpected target {other:?}"),
        })
        .collect();
    assert_eq!(
        refs,
        vec![
            ("http://api:9000", Mechanism::Env, (19, 22)),
            // `--db=` is cut off; `--listen=` is a bind address, not a reference.
            ("postgres:5432", Mechanism::Command, (25, 24)),
        ]
    );
    assert!(
        facts
            .references
            .iter()
            .all(|r| r.from.as_deref() == Some("web"))
    );
}

#[test]
fn statefulset_in_namespace_and_service_in_another_file() {
    let sts = "\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
  namespace: data
spec:
  serviceName: db
  template:
    metadata:
      labels: {app: pg}
    spec:
      containers:
        - name: pg
          image: postgres:16
          ports:
            - {containerPort: 5432, hostPort: 15432}
";
    let svc = "\
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: data
spec:
  clusterIP: None
  selector: {app: pg}
  ports: [{port: 5432}]
---
apiVersion: v1
kind: Service
metadata:
  name: other-ns
spec:
  selector: {app: pg}
  ports: [{port: 1}]
";
    let (facts, _) = run(&[("k8s/pg.yaml", sts), ("k8s/pg-svc.yaml", svc)]);
    let pg = service(&facts, "postgres");
    assert_eq!(
        pg.scope,
        Scope::Kubernetes {
            namespace: "data".into()
        }
    );
    assert_eq!(pg.aliases.len(), 1);
    assert_eq!(pg.aliases[0].name, "db");
    assert_eq!(pg.aliases[0].location.path, "k8s/pg-svc.yaml");
    let host = EndpointKind::HostPort {
        host_ip: None,
        start: 15432,
        end: 15432,
        container_port: Some(5432),
        protocol: Protocol::Tcp,
    };
    assert_eq!(endpoint(pg, &host), (16, 47));
    // Same port from the Service is already there (from containerPort).
    assert_eq!(endpoint(pg, &tcp(5432)), (16, 31));
    // A Service in `default` does not select a workload of `data`.
    let other = service(&facts, "other-ns");
    assert_eq!(other.kind, ServiceKind::KubernetesService);
    assert_eq!(endpoint(other, &tcp(1)), (17, 18));
}

#[test]
fn cronjob_and_list() {
    let text = "\
apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: nightly
    spec:
      schedule: \"0 3 * * *\"
      jobTemplate:
        spec:
          template:
            spec:
              containers:
                - name: backup
                  image: backup:2
                  command: [\"sh\", \"-c\", \"pg_dump -h db postgres://db:5432/app\"]
";
    let (facts, handled) = run(&[("jobs.yml", text)]);
    assert_eq!(handled, vec![Handled::Yes]);
    let job = service(&facts, "nightly");
    assert_eq!(job.image.as_deref(), Some("backup:2"));
    assert_eq!(at(&job.source), (7, 13));
    assert_eq!(facts.references.len(), 1);
    assert_eq!(
        facts.references[0].target,
        Target::Address {
            text: "postgres://db:5432/app".into()
        }
    );
    assert_eq!(at(&facts.references[0].location), (17, 56));
}

#[test]
fn env_from_config_map_in_another_file() {
    let deploy = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  template:
    spec:
      containers:
        - image: worker
          envFrom:
            - configMapRef:
                name: worker-env
            - secretRef:
                name: worker-secrets
          env:
            - name: CACHE_HOST
              valueFrom:
                configMapKeyRef: {name: shared, key: redis}
";
    let cms = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: worker-env
data:
  QUEUE_URL: amqp://rabbit:5672
  LOG_LEVEL: debug
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shared
data:
  redis: cache
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: unused
data:
  upstream: http://billing:8080
";
    let (facts, _) = run(&[("app/deploy.yaml", deploy), ("app/config.yaml", cms)]);
    let env: Vec<(&str, &str, (u32, u32))> = facts
        .env
        .iter()
        .map(|e| (e.key.as_str(), e.location.path.as_str(), at(&e.location)))
        .collect();
    assert_eq!(
        env,
        vec![
            ("CACHE_HOST", "app/config.yaml", (14, 10)),
            ("QUEUE_URL", "app/config.yaml", (6, 14)),
            ("LOG_LEVEL", "app/config.yaml", (7, 14)),
        ]
    );
    assert!(
        facts
            .env
            .iter()
            .all(|e| e.service.as_deref() == Some("worker"))
    );
    let refs: Vec<(Option<&str>, &str)> = facts
        .references
        .iter()
        .map(|r| match &r.target {
            Target::Address { text } => (r.from.as_deref(), text.as_str()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        refs,
        vec![
            (Some("worker"), "cache"),
            (Some("worker"), "amqp://rabbit:5672"),
            // Not read by any workload: loose, attributed later.
            (None, "http://billing:8080"),
        ]
    );
}

#[test]
fn mounted_config_map_urls_are_located_in_the_file_text() {
    let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: proxy-conf
data:
  default.conf: |
    server {
      location / { proxy_pass http://api:3000; }
    }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: proxy
spec:
  template:
    spec:
      containers: [{name: nginx, image: nginx}]
      volumes:
        - name: conf
          configMap: {name: proxy-conf}
";
    let (facts, _) = run(&[("proxy.yaml", text)]);
    assert_eq!(facts.references.len(), 1);
    let r = &facts.references[0];
    assert_eq!(r.from.as_deref(), Some("proxy"));
    assert_eq!(
        r.target,
        Target::Address {
            text: "http://api:3000".into()
        }
    );
    assert_eq!(at(&r.location), (8, 31));
}

#[test]
fn invalid_port_is_a_diagnostic_and_the_rest_is_read() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - image: x
      ports: [{containerPort: http}, {containerPort: 99999}, {containerPort: 81}]
";
    let (facts, _) = run(&[("pod.yaml", text)]);
    let codes: Vec<(DiagnosticCode, (u32, u32))> = facts
        .diagnostics
        .iter()
        .map(|d| (d.code, at(&d.location)))
        .collect();
    assert_eq!(
        codes,
        vec![
            (DiagnosticCode::InvalidValue, (8, 31)),
            (DiagnosticCode::InvalidValue, (8, 54)),
        ]
    );
    assert_eq!(service(&facts, "p").endpoints.len(), 1);
}

#[test]
fn services_without_workloads_externalname_and_missing_backends() {
    let text = "\
apiVersion: v1
kind: Service
metadata:
  name: payments
  namespace: shop
spec:
  type: ExternalName
  externalName: payments.example.net
---
apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata:
  name: legacy
  namespace: shop
spec:
  rules:
    - host: pay.example.com
      http:
        paths:
          - backend: {serviceName: payments, servicePort: 443}
          - path: /admin
            backend: {serviceName: admin, servicePort: 80}
";
    let (facts, _) = run(&[("svc.yaml", text)]);
    let payments = service(&facts, "payments");
    assert_eq!(payments.kind, ServiceKind::KubernetesService);
    let pay = EndpointKind::Domain {
        host: "pay.example.com".into(),
        path: None,
    };
    assert_eq!(endpoint(payments, &pay), (17, 13));
    assert_eq!(facts.references.len(), 1);
    assert_eq!(facts.references[0].key.as_deref(), Some("externalName"));
    assert_eq!(
        facts.references[0].target,
        Target::Address {
            text: "payments.example.net".into()
        }
    );
    assert_eq!(at(&facts.references[0].location), (8, 17));
    let admin = service(&facts, "admin");
    assert_eq!(admin.kind, ServiceKind::KubernetesService);
    assert_eq!(at(&admin.source), (22, 36));
    let admin_domain = EndpointKind::Domain {
        host: "pay.example.com".into(),
        path: Some("/admin".into()),
    };
    assert_eq!(endpoint(admin, &admin_domain), (17, 13));
}

#[test]
fn traefik_ingress_route_and_kustomize_namespace() {
    let route = "\
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: api
spec:
  routes:
    - match: Host(`api.example.com`) && PathPrefix(`/v1`)
      kind: Rule
      services:
        - name: api
          port: 80
";
    let deploy = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers: [{image: api}]
";
    let kustomization = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: prod
resources: [deploy.yaml, route.yaml]
patchesStrategicMerge: [patch.yaml]
";
    let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers: [{name: api, image: api:2}]\n";
    let (facts, handled) = run(&[
        ("k/route.yaml", route),
        ("k/deploy.yaml", deploy),
        ("k/kustomization.yaml", kustomization),
        ("k/patch.yaml", patch),
    ]);
    assert_eq!(handled, vec![Handled::Yes; 4]);
    assert_eq!(facts.services.len(), 1, "{:#?}", facts.services);
    let api = service(&facts, "api");
    assert_eq!(
        api.scope,
        Scope::Kubernetes {
            namespace: "prod".into()
        }
    );
    // No Service object: the backend name falls back to the workload of that name.
    let domain = EndpointKind::Domain {
        host: "api.example.com".into(),
        path: Some("/v1".into()),
    };
    assert_eq!(endpoint(api, &domain), (7, 20));
}

#[test]
fn index_follows_the_repository_it_is_given() {
    // A template inside a chart is rendered; the same file without the chart is reported.
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api{{ .Values.a }}\n";
    let chart = ("c/Chart.yaml", "apiVersion: v2\nname: c\n");
    let values = ("c/values.yaml", "a: x\n");
    let (with_chart, _) = run(&[chart, values, ("c/templates/s.yaml", svc)]);
    assert!(with_chart.diagnostics.is_empty());
    assert_eq!(with_chart.services[0].name, "apix");
    // Same manifest on the same thread (same cache), without the chart.
    let (plain, _) = run(&[("c/templates/s.yaml", svc)]);
    assert_eq!(plain.diagnostics.len(), 1);
    assert!(plain.services.is_empty());
    let (again, _) = run(&[chart, values, ("c/templates/s.yaml", svc)]);
    assert_eq!(again, with_chart);
}

#[test]
fn a_broken_document_loses_only_itself() {
    let text = "\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: broken
spec:
  ports: [{port: 80}
  selector: {app: x
---
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  ports: [{port: 5432}]
";
    let (facts, _) = run(&[("all.yaml", text)]);
    let names: Vec<&str> = facts.services.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"api") && names.contains(&"db"), "{names:?}");
    assert!(!names.contains(&"broken"), "{names:?}");
    let parse_errors: Vec<(u32, u32)> = facts
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::ParseError)
        .map(|d| at(&d.location))
        .collect();
    assert_eq!(parse_errors.len(), 1, "{:?}", facts.diagnostics);
    assert!(
        parse_errors[0].0 >= 8 && parse_errors[0].0 < 16,
        "{parse_errors:?}"
    );
}

/// A nightly job whose script comes from a kustomize `configMapGenerator`: the addresses in the
/// script are the job's, not the repository's.
const REPORT_KUSTOMIZATION: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - cronjob-report.yaml
  - cronjob-export.yaml
configMapGenerator:
  - name: report-script
    files:
      - scripts/report.sh
  - name: export-config
    files:
      - export.sh=scripts/export-v2.sh
    literals:
      - WAREHOUSE_URL=http://warehouse:8123
";

const REPORT_CRONJOB: &str = "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-report
spec:
  schedule: \"0 2 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: report
              image: alpine:3.20
              command: [\"/bin/sh\", \"/opt/report/report.sh\"]
              volumeMounts:
                - name: script
                  mountPath: /opt/report
          volumes:
            - name: script
              configMap:
                name: report-script
";

const EXPORT_CRONJOB: &str = "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: export
spec:
  schedule: \"0 3 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: export
              image: alpine:3.20
              envFrom:
                - configMapRef:
                    name: export-config
";

#[test]
fn generated_config_map_files_belong_to_their_consumers() {
    let (facts, _) = run(&[
        ("deploy/kustomization.yaml", REPORT_KUSTOMIZATION),
        ("deploy/cronjob-report.yaml", REPORT_CRONJOB),
        ("deploy/cronjob-export.yaml", EXPORT_CRONJOB),
    ]);
    let report = service(&facts, "nightly-report");
    assert!(
        report
            .owned_paths
            .contains(&"deploy/scripts/report.sh".to_string()),
        "{:?}",
        report.owned_paths
    );
    let export = service(&facts, "export");
    assert!(
        export
            .owned_paths
            .contains(&"deploy/scripts/export-v2.sh".to_string())
    );
    assert!(!export.owned_paths.iter().any(|p| p.ends_with("report.sh")));
    // A literal imported with envFrom is the consumer's env, located at the literal.
    let literal = facts
        .env
        .iter()
        .find(|e| e.key == "WAREHOUSE_URL")
        .expect("literal imported");
    assert_eq!(literal.service.as_deref(), Some("export"));
    assert_eq!(literal.location.path, "deploy/kustomization.yaml");
    assert_eq!(at(&literal.location), (14, 9));
}

#[test]
fn a_script_mounted_from_a_generator_is_read_as_the_jobs() {
    let script = "#!/bin/sh\nset -e\nhealthcheck http ledger-replica:5432/ready\n";
    let mut repo = RepoFiles::new("r");
    repo.add_text("deploy/kustomization.yaml", REPORT_KUSTOMIZATION);
    repo.add_text("deploy/cronjob-report.yaml", REPORT_CRONJOB);
    repo.add_text("deploy/scripts/report.sh", script);
    // Not mounted by anything: tooling, nobody's.
    repo.add_text(
        "deploy/scripts/lint.sh",
        "curl http://ledger-replica:5432/x\n",
    );
    let facts = crate::extract_files(repo, &crate::Registry::default());
    let from: Vec<(Option<&str>, &str)> = facts
        .references
        .iter()
        .filter(|r| r.location.path.ends_with(".sh"))
        .map(|r| (r.from.as_deref(), r.location.path.as_str()))
        .collect();
    assert_eq!(
        from,
        vec![(Some("nightly-report"), "deploy/scripts/report.sh")]
    );
}

/// A ConfigMap listing every service's URL, imported whole by two Deployments: `checkout` says
/// which entry it reads (`$(PAYMENTS_URL)` in its args), `emails` does not.
const ADDRESS_BOOK: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: service-urls
data:
  PAYMENTS_URL: http://payments:8080
  CATALOG_URL: http://catalog:8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  template:
    spec:
      containers:
        - name: checkout
          image: shop/checkout:1.4
          args: [\"--payments=$(PAYMENTS_URL)\"]
          envFrom:
            - configMapRef:
                name: service-urls
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: emails
spec:
  template:
    spec:
      containers:
        - name: emails
          image: shop/emails:2.0
          envFrom:
            - configMapRef:
                name: service-urls
";

#[test]
fn an_address_book_imported_whole_is_not_a_call_list() {
    let (facts, _) = run(&[("k8s/shop.yaml", ADDRESS_BOOK)]);
    let mut got: Vec<(&str, String, Mechanism)> = facts
        .references
        .iter()
        .filter(|r| r.key.as_deref().is_some_and(|k| k.ends_with("_URL")))
        .map(|r| {
            let target = match &r.target {
                Target::Address { text } => text.clone(),
                _ => String::new(),
            };
            (r.from.as_deref().unwrap_or(""), target, r.mechanism)
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("checkout", "http://catalog:8080".into(), Mechanism::EnvFrom),
            ("checkout", "http://payments:8080".into(), Mechanism::Env),
            ("emails", "http://catalog:8080".into(), Mechanism::EnvFrom),
            ("emails", "http://payments:8080".into(), Mechanism::EnvFrom),
        ]
    );
    // The env itself is still each consumer's (for drift and conflicts).
    assert_eq!(
        facts.env.iter().filter(|e| e.key == "CATALOG_URL").count(),
        2
    );

    // Imported by one Deployment only, a ConfigMap is that Deployment's own settings.
    let single = ADDRESS_BOOK
        .split("---\n")
        .take(2)
        .collect::<Vec<_>>()
        .join("---\n");
    let (facts, _) = run(&[("k8s/shop.yaml", &single)]);
    assert!(
        facts
            .references
            .iter()
            .all(|r| r.mechanism != Mechanism::EnvFrom)
    );
}

/// Prometheus configured by a mounted ConfigMap: its scrape targets are bare `host:port`
/// settings, found by reading the file as YAML, and located in the manifest.
const PROMETHEUS_CONFIG_MAP: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: prometheus-config
data:
  prometheus.yml: |
    global:
      scrape_interval: 30s
    scrape_configs:
      - job_name: orders
        static_configs:
          - targets: ['orders:9100']
    alerting:
      alertmanagers:
        - static_configs:
            - targets:
                - alertmanager:9093
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: prometheus
spec:
  template:
    spec:
      containers:
        - name: prometheus
          image: prom/prometheus:v2.53.0
          volumeMounts:
            - name: config
              mountPath: /etc/prometheus
      volumes:
        - name: config
          configMap:
            name: prometheus-config
";

#[test]
fn a_mounted_config_file_is_read_as_yaml() {
    let (facts, _) = run(&[("monitoring/prometheus.yaml", PROMETHEUS_CONFIG_MAP)]);
    let got: Vec<(&str, String, (u32, u32), &str)> = facts
        .references
        .iter()
        .map(|r| {
            let target = match &r.target {
                Target::Address { text } => text.clone(),
                _ => String::new(),
            };
            (
                r.from.as_deref().unwrap_or(""),
                target,
                at(&r.location),
                r.key.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "prometheus",
                "orders:9100".to_string(),
                (12, 24),
                "scrape_configs[0].static_configs[0].targets[0]"
            ),
            (
                "prometheus",
                "alertmanager:9093".to_string(),
                (17, 19),
                "alerting.alertmanagers[0].static_configs[0].targets[0]"
            ),
        ]
    );
    let loc = &facts.references[0].location;
    assert_eq!(
        &PROMETHEUS_CONFIG_MAP[loc.span.start..loc.span.end],
        "orders:9100"
    );
}

#[test]
fn a_workload_takes_the_config_map_of_its_own_file_when_alternatives_share_its_name() {
    // An all-in-one manifest and a quickstart manifest of one repository each declare the
    // ConfigMap `api-configs`: each Deployment reads its own file's.
    let manifest = |queue: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-configs\ndata:\n  QUEUE_HOST: \"{queue}\"\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    metadata:\n      labels:\n        app: api\n    spec:\n      containers:\n        - name: api\n          image: example/api:1\n          envFrom:\n            - configMapRef:\n                name: api-configs\n"
        )
    };
    let (all, quick) = (manifest("rabbitmq"), manifest("queue"));
    let (facts, _) = run(&[("all-in-one.yaml", &all), ("quickstart.yaml", &quick)]);
    let mut seen: Vec<(String, String)> = facts
        .env
        .iter()
        .filter(|e| e.key == "QUEUE_HOST")
        .map(|e| (e.location.path.clone(), e.display.clone()))
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen,
        [
            ("all-in-one.yaml".to_string(), "rabbitmq".to_string()),
            ("quickstart.yaml".to_string(), "queue".to_string())
        ],
        "{:?}",
        facts.env
    );
}
