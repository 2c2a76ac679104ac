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
