//! No secret from any example fleet appears in any output: values of secret-looking keys in
//! `.env` files and compose `environment`, and passwords inside URLs.

mod common;

use std::path::Path;

/// Secret values planted in the fleets' files, found by reading them independently of
/// Switchyard's own parsers.
fn secrets_in(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            secrets_in(&path, out);
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for line in text.lines() {
            let line = line
                .trim()
                .trim_start_matches("- ")
                .trim_start_matches("export ");
            let Some((key, value)) = line.split_once(['=', ':']) else {
                continue;
            };
            let key = key.trim().to_ascii_uppercase();
            let value = value.trim().trim_matches(['"', '\'']);
            let secret_key = ["PASSWORD", "SECRET", "TOKEN", "API_KEY", "_KEY"]
                .iter()
                .any(|w| key.contains(w));
            if secret_key && value.len() >= 6 && !value.starts_with("${") && !value.contains("://")
            {
                out.push(value.to_string());
            }
            // Passwords inside URLs: scheme://user:PASSWORD@host
            let mut rest = value;
            while let Some(i) = rest.find("://") {
                let after = &rest[i + 3..];
                let authority = after.split(['/', ' ']).next().unwrap_or("");
                if let Some((userinfo, _)) = authority.rsplit_once('@')
                    && let Some((_, password)) = userinfo.split_once(':')
                    && password.len() >= 4
                    && !password.starts_with("${")
                    && !password.starts_with("$(")
                {
                    out.push(password.to_string());
                }
                rest = after;
            }
        }
    }
}

#[test]
fn no_secret_reaches_any_output() {
    let root = common::workspace_root().join("examples/fleets");
    let mut checked = 0;
    for fleet in [
        "codejoin",
        "homelab",
        "homelab-cycle",
        "podplay",
        "threadly",
        "mfe",
        "seed-000-codejoin",
        "seed-001-homelab",
        "seed-002-podplay",
        "seed-003-mfe",
        "seed-004-cache",
    ] {
        let dir = root.join(fleet);
        let mut secrets = Vec::new();
        secrets_in(&dir, &mut secrets);
        let dir_arg = dir.to_string_lossy().to_string();
        let mut outputs = Vec::new();
        for args in [
            vec![
                "analyze",
                "--no-cache",
                "--format",
                "json",
                "--fleet",
                &dir_arg,
            ],
            vec!["analyze", "--no-cache", "--fleet", &dir_arg],
            vec![
                "graph",
                "--no-cache",
                "--format",
                "json",
                "--level",
                "service",
                "--fleet",
                &dir_arg,
            ],
        ] {
            let run = common::switchyard(&args, None);
            outputs.push(run.stdout);
            outputs.push(run.stderr);
        }
        // A password equal to a repository or service name (`postgres://codejoin:codejoin@…`)
        // or to the fleet's folder is printed as that name; it cannot be told apart, so it is not
        // checked.
        let report: serde_json::Value = serde_json::from_str(&outputs[0]).expect("analyze JSON");
        let mut names: Vec<String> = report["services"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["id"].as_str().map(str::to_string))
            .collect();
        names.push(dir_arg.clone());
        for secret in secrets
            .iter()
            .filter(|s| !names.iter().any(|n| n.contains(s.as_str())))
        {
            for out in &outputs {
                assert!(
                    !out.contains(secret.as_str()),
                    "{fleet}: secret {secret:?} printed"
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 10,
        "the fleets should plant secrets to check ({checked} found)"
    );
}

/// A fleet with a secret of every shape a repository holds, next to a host-port clash so that
/// `resolve` prints diffs whose context lines are those secrets. Every planted value contains
/// `sy-planted`.
fn planted_fleet() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = [
        (
            "api/docker-compose.yml",
            "services:\n  api:\n    image: api\n    environment:\n      JWT_SECRET: sy-planted-yaml\n      DATABASE_URL: postgres://app:sy-planted-url@db:5432/app\n    ports:\n      - \"8080:80\"\n    env_file: .env\n  db:\n    image: postgres\n    environment:\n      - POSTGRES_PASSWORD=sy-planted-list\n      - PG_DSN=host=db port=5432 user=app password=sy-planted-libpq\n      - \"ADO=Server=db;User Id=sa;Password=sy-planted-ado;\"\n      - HOOK=https://hooks.example/x?access_token=sy-planted-query&v=1\n",
        ),
        (
            "api/.env",
            "API_TOKEN=sy-planted-env\nREDIS_URL=redis://:sy-planted-redis@cache:6379\nexport SESSION_KEY='sy-planted-quoted'\n",
        ),
        (
            "web/docker-compose.yml",
            "services:\n  web:\n    image: nginx\n    environment:\n      SESSION_SECRET: sy-planted-web\n      UPSTREAM: http://u:sy-planted-web-url@api:80\n    ports:\n      - \"8080:80\"\n    volumes:\n      - ./nginx.conf:/etc/nginx/conf.d/default.conf\n      - ./config.json:/usr/share/nginx/html/config.json\n",
        ),
        (
            "web/nginx.conf",
            "server {\n  listen 80;\n  location /api/ {\n    proxy_pass http://api:80;\n    proxy_set_header Authorization \"Bearer sy-planted-bearer-0123\";\n    proxy_set_header X-Api-Key sy-planted-header;\n  }\n}\n",
        ),
        (
            "web/config.json",
            "{\n  \"apiUrl\": \"http://api:80\",\n  \"apiKey\": \"sy-planted-json\",\n  \"db\": \"mongodb://root:sy-planted-mongo@mongo:27017\"\n}\n",
        ),
    ];
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

#[test]
fn planted_secrets_of_every_shape_reach_no_output() {
    let dir = planted_fleet();
    let fleet = dir.path().to_string_lossy().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["analyze"],
        vec!["analyze", "--format", "json"],
        vec!["plan"],
        vec!["plan", "--format", "json"],
        vec!["graph", "--format", "dot", "--level", "service"],
        vec!["graph", "--format", "mermaid", "--level", "service"],
        vec!["graph", "--format", "json", "--level", "service"],
        vec!["deps", "web"],
        vec!["deps", "web", "--format", "json"],
        vec!["affected", "--changed", "api", "--format", "json"],
        vec!["conflicts"],
        vec!["conflicts", "--format", "json"],
        vec!["conflicts", "--format", "sarif"],
        vec!["check"],
        vec!["resolve"],
        vec!["resolve", "--format", "json"],
    ];
    let mut resolve_diffs = 0;
    for mut args in commands {
        let json = args.contains(&"json") || args.contains(&"sarif");
        let is_resolve = args[0] == "resolve";
        args.extend(["--no-cache", "--fleet", &fleet]);
        let run = common::switchyard(&args, None);
        assert!(run.code != 2 && run.code != 101, "{args:?}: {}", run.stderr);
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if let Some(at) = text.find("sy-planted") {
                let line = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
                panic!(
                    "{args:?} printed a secret on {stream}: {}",
                    &text[line..end]
                );
            }
        }
        if json {
            serde_json::from_str::<serde_json::Value>(&run.stdout)
                .unwrap_or_else(|e| panic!("{args:?}: redaction broke the JSON: {e}"));
        }
        if is_resolve {
            resolve_diffs += run.stdout.matches("@@").count();
        }
    }
    // The test is only worth something if resolve printed diffs around the secrets.
    assert!(resolve_diffs > 0, "resolve printed no diff");
}
