//! Kubernetes manifests of a generated repository: the api as Deployment + Service, and an
//! Ingress for the repository's domain; one file per object or one multi-document file.

use crate::plan::RepoPlan;
use crate::rng::Rng;
use std::fmt::Write;

/// `(repo-relative path, text)` of each manifest file.
pub fn render(repo: &RepoPlan) -> Vec<(&'static str, String)> {
    // A separate stream from the compose renderer so each file's cosmetics are independent.
    let mut rng = Rng::new(repo.style ^ 0x6b38_7300);
    let ns = &repo.name;
    let replicas = rng.range(1, 4);
    let tag = format!("1.{}.{}", rng.below(20), rng.below(10));
    let mut deployment = String::new();
    let _ = write!(
        deployment,
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: {ns}
  labels:
    app.kubernetes.io/name: api
    app.kubernetes.io/part-of: {ns}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app.kubernetes.io/name: api
  template:
    metadata:
      labels:
        app.kubernetes.io/name: api
    spec:
      containers:
        - name: api
          image: registry.fleet.test/{ns}/api:{tag}
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: PORT
              value: \"8080\"
            - name: LOG_LEVEL
              value: info
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: api-secrets
                  key: database-url
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
"
    );
    let service = format!(
        "apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: {ns}
spec:
  selector:
    app.kubernetes.io/name: api
  ports:
    - name: http
      port: 80
      targetPort: http
"
    );
    let ingress = repo.ingress.then(|| {
        let domain = crate::plan::domain_of(repo.index);
        format!(
            "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: api
  namespace: {ns}
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt
spec:
  ingressClassName: nginx
  tls:
    - hosts:
        - {domain}
      secretName: api-tls
  rules:
    - host: {domain}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: api
                port:
                  number: 80
"
        )
    });
    if rng.chance(0.4) {
        let mut all = deployment;
        all.push_str("---\n");
        all.push_str(&service);
        if let Some(ingress) = ingress {
            all.push_str("---\n");
            all.push_str(&ingress);
        }
        vec![("k8s/api.yaml", all)]
    } else {
        let mut files = vec![
            ("k8s/deployment.yaml", deployment),
            ("k8s/service.yaml", service),
        ];
        if let Some(ingress) = ingress {
            files.push(("k8s/ingress.yaml", ingress));
        }
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Options, plan};

    #[test]
    fn ingress_repositories_serve_their_domain_in_their_namespace() {
        let fleet = plan(&Options {
            repos: 200,
            seed: 9,
            services_per_repo: 5,
            cycle: false,
        });
        let repo = fleet.repos.iter().find(|r| r.ingress).unwrap();
        let files = render(repo);
        let text: String = files.iter().map(|(_, t)| t.as_str()).collect();
        assert!(text.contains(&format!("    - host: repo-{:05}.fleet.test\n", repo.index)));
        assert!(text.contains(&format!("  namespace: {}\n", repo.name)));
        assert!(text.contains("kind: Deployment") && text.contains("kind: Service"));
        let plain = fleet.repos.iter().find(|r| r.k8s && !r.ingress).unwrap();
        let text: String = render(plain).iter().map(|(_, t)| t.clone()).collect();
        assert!(!text.contains("kind: Ingress"));
        // Both layouts occur across the fleet.
        let layouts: std::collections::HashSet<usize> = fleet
            .repos
            .iter()
            .filter(|r| r.k8s)
            .map(|r| render(r).len())
            .collect();
        assert!(layouts.contains(&1) && layouts.len() > 1, "{layouts:?}");
    }
}
