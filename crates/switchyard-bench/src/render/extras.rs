//! The smaller files of a generated repository: `.env` (secrets and cross-repository URLs),
//! `nginx/nginx.conf`, `config/settings.json` and `package.json`.

use crate::plan::{CrossRef, Kind, RepoPlan, Target, domain_of};
use crate::rng::Rng;
use std::fmt::Write;

/// The URL a cross-repository reference is written as.
pub fn url(target: Target, label: &str) -> String {
    match target {
        Target::Port { port, .. } if label == "upstream" => format!("http://localhost:{port}"),
        Target::Port { port, .. } => format!("http://localhost:{port}/{label}"),
        Target::Domain { repo } => format!("https://{}/", domain_of(repo)),
    }
}

pub fn dotenv(repo: &RepoPlan) -> String {
    let mut rng = Rng::new(repo.style ^ 0x2e65_6e76);
    let mut out = String::with_capacity(512);
    let _ = writeln!(out, "# Local development settings for {}", repo.name);
    let _ = writeln!(out, "COMPOSE_PROJECT_NAME={}", repo.name);
    let _ = writeln!(out, "LOG_LEVEL={}", rng.pick(&["info", "debug", "warn"]));
    let export = if rng.chance(0.2) { "export " } else { "" };
    out.push_str("\n# Secrets (development only)\n");
    let _ = writeln!(out, "{export}DB_PASSWORD={}", rng.hex(24));
    let _ = writeln!(out, "{export}API_KEY=sk_test_{}", rng.hex(32));
    if rng.chance(0.5) {
        let _ = writeln!(out, "JWT_SECRET=\"{}\"", rng.hex(48));
    }
    let env_refs: Vec<&CrossRef> = repo.refs.iter().filter(|r| !r.in_settings).collect();
    if !env_refs.is_empty() {
        out.push_str("\n# Other services of the fleet\n");
        for r in env_refs {
            let key = format!("{}_URL", r.label.to_ascii_uppercase());
            if rng.chance(0.25) {
                let _ = writeln!(out, "{export}{key}=\"{}\"", url(r.target, &r.label));
            } else {
                let _ = writeln!(out, "{export}{key}={}", url(r.target, &r.label));
            }
        }
    }
    out
}

pub fn nginx(repo: &RepoPlan) -> String {
    let domain = domain_of(repo.index);
    let has_api = repo.service(Kind::Api).is_some();
    let mut out = String::with_capacity(768);
    out.push_str("worker_processes auto;\n\nevents {\n    worker_connections 1024;\n}\n\nhttp {\n");
    if has_api {
        out.push_str("    upstream api_backend {\n        server api:8080;\n    }\n\n");
    }
    let _ = write!(
        out,
        "    server {{
        listen 80;
        server_name {domain} www.{domain};

"
    );
    if has_api {
        out.push_str(
            "        location /api/ {
            proxy_pass http://api_backend/;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }

",
        );
    }
    out.push_str(
        "        location / {
            root /usr/share/nginx/html;
            try_files $uri /index.html;
        }
    }
}
",
    );
    out
}

pub fn settings(repo: &RepoPlan) -> String {
    let mut out = String::with_capacity(512);
    let _ = write!(
        out,
        "{{\n  \"service\": \"{}\",\n  \"environment\": \"development\",\n",
        repo.name
    );
    if let Some(port) = repo.api_port() {
        let _ = write!(
            out,
            "  \"api\": {{\n    \"baseUrl\": \"http://localhost:{port}\",\n    \"timeoutMs\": 5000\n  }},\n"
        );
    }
    out.push_str("  \"upstreams\": {");
    let refs: Vec<&CrossRef> = repo.refs.iter().filter(|r| r.in_settings).collect();
    for (i, r) in refs.iter().enumerate() {
        let comma = if i + 1 < refs.len() { "," } else { "" };
        let _ = write!(
            out,
            "\n    \"{}\": \"{}\"{comma}",
            r.label,
            url(r.target, &r.label)
        );
    }
    if !refs.is_empty() {
        out.push_str("\n  ");
    }
    out.push_str(
        "},\n  \"features\": {\n    \"newCheckout\": true,\n    \"betaSearch\": false\n  }\n}\n",
    );
    out
}

pub fn package_json(repo: &RepoPlan) -> String {
    let mut rng = Rng::new(repo.style ^ 0x6e70_6d00);
    let mut out = String::with_capacity(512);
    let _ = write!(
        out,
        "{{\n  \"name\": \"@fleet/{}\",\n  \"version\": \"1.{}.{}\",\n  \"private\": true,\n",
        repo.name,
        rng.below(30),
        rng.below(10)
    );
    out.push_str(concat!(
        "  \"scripts\": {\n",
        "    \"dev\": \"docker compose up --build\",\n",
        "    \"start\": \"node dist/server.js\",\n",
        "    \"test\": \"vitest run\"\n",
        "  },\n",
    ));
    // Create React App style dev proxy to the repository's own api.
    if let Some(port) = repo.api_port() {
        let _ = writeln!(out, "  \"proxy\": \"http://localhost:{port}\",");
    }
    out.push_str(concat!(
        "  \"dependencies\": {\n",
        "    \"express\": \"^4.19.2\",\n",
        "    \"ioredis\": \"^5.4.1\",\n",
        "    \"pg\": \"^8.12.0\"\n",
        "  }\n",
        "}\n",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Options, plan};

    fn fleet() -> crate::plan::FleetPlan {
        plan(&Options {
            repos: 300,
            seed: 11,
            services_per_repo: 5,
            cycle: false,
        })
    }

    #[test]
    fn dotenv_has_secrets_and_each_env_reference() {
        let fleet = fleet();
        let repo = &fleet.repos[120];
        let text = dotenv(repo);
        assert!(text.contains("COMPOSE_PROJECT_NAME=repo-00120\n"));
        assert!(text.contains("DB_PASSWORD="));
        assert!(text.contains("API_KEY=sk_test_"));
        for r in repo.refs.iter().filter(|r| !r.in_settings) {
            let key = format!("{}_URL=", r.label.to_ascii_uppercase());
            assert!(text.contains(&key), "{key} missing in\n{text}");
            assert!(text.contains(&url(r.target, &r.label)));
        }
        assert!(!dotenv(&fleet.repos[0]).contains("_URL="));
    }

    #[test]
    fn urls_follow_the_target_kind() {
        assert_eq!(
            url(
                Target::Port {
                    repo: 1,
                    port: 20004
                },
                "upstream"
            ),
            "http://localhost:20004"
        );
        assert_eq!(
            url(
                Target::Port {
                    repo: 1,
                    port: 20004
                },
                "billing"
            ),
            "http://localhost:20004/billing"
        );
        assert_eq!(
            url(Target::Domain { repo: 42 }, "auth"),
            "https://repo-00042.fleet.test/"
        );
    }

    #[test]
    fn settings_json_is_balanced_and_lists_its_reference() {
        let fleet = fleet();
        let repo = fleet
            .repos
            .iter()
            .find(|r| r.settings && r.index > 0)
            .unwrap();
        let text = settings(repo);
        let moved = repo.refs.iter().find(|r| r.in_settings).unwrap();
        assert!(text.contains(&format!(
            "\"{}\": \"{}\"",
            moved.label,
            url(moved.target, &moved.label)
        )));
        assert!(!dotenv(repo).contains(&format!("{}_URL", moved.label.to_ascii_uppercase())));
        assert_eq!(text.matches('{').count(), text.matches('}').count());
        assert!(
            !text.contains(",\n  }") && !text.contains(",\n}"),
            "trailing comma:\n{text}"
        );
    }

    #[test]
    fn nginx_serves_the_domain_and_proxies_to_the_api() {
        let fleet = fleet();
        let repo = fleet.repos.iter().find(|r| r.nginx).unwrap();
        let text = nginx(repo);
        assert!(text.contains(&format!("server_name {0} www.{0};", domain_of(repo.index))));
        assert!(text.contains("proxy_pass http://api_backend/;"));
        assert!(package_json(repo).starts_with("{\n  \"name\": \"@fleet/"));
    }
}
