use super::*;
use crate::{Registry, extract_files};
use switchyard_model::{DiagnosticCode, EnvEntry};

/// Runs the workspace extractor over every accepted file of a repository.
fn run(files: &[(&str, &str)]) -> RepoFacts {
    let mut repo = RepoFiles::new("r");
    for (path, text) in files {
        repo.add_text(*path, *text);
    }
    let mut out = RepoFacts::default();
    for file in repo.files() {
        // `.npmrc` is read by the package.json files; other extractors may read it too.
        if WorkspaceExtractor.accepts(&file.path) && file.file_name() != ".npmrc" {
            assert_eq!(
                WorkspaceExtractor.extract(file, &repo, &mut out),
                Handled::Yes
            );
        }
    }
    out
}

fn package_refs(out: &RepoFacts) -> Vec<(String, String, String)> {
    refs_by(out, Mechanism::Workspace)
}

fn refs_by(out: &RepoFacts, mechanism: Mechanism) -> Vec<(String, String, String)> {
    out.references
        .iter()
        .filter(|r| r.mechanism == mechanism)
        .filter_map(|r| match &r.target {
            Target::Package { name, spec } => Some((
                r.from.clone().unwrap_or_default(),
                name.clone(),
                spec.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn service_names(out: &RepoFacts) -> Vec<&str> {
    out.services.iter().map(|s| s.name.as_str()).collect()
}

fn ports(out: &RepoFacts) -> Vec<(Option<&str>, &str, String)> {
    out.env
        .iter()
        .filter(|e: &&EnvEntry| e.key == "PORT")
        .map(|e| {
            (
                e.service.as_deref(),
                e.display.as_str(),
                e.location.to_string(),
            )
        })
        .collect()
}

const TURBO_ROOT: &str = r#"{
  "name": "threadly",
  "private": true,
  "workspaces": ["apps/*", "packages/*"],
  "scripts": { "dev": "turbo run dev" },
  "devDependencies": { "turbo": "^2.0.0", "@repo/typescript-config": "workspace:*" }
}
"#;

const WEB_APP: &str = r#"{
  "name": "app",
  "version": "0.1.0",
  "scripts": {
    "dev": "next dev -p 3001",
    "build": "next build"
  },
  "dependencies": {
    "@repo/auth": "workspace:*",
    "@repo/database": "workspace:*",
    "@repo/observability": "*",
    "next": "15.0.0",
    "react": "^19.0.0"
  },
  "devDependencies": {
    "@types/react": "^19.0.0",
    "@repo/typescript-config": "workspace:*"
  }
}
"#;

fn turbo_repo() -> RepoFacts {
    run(&[
        ("package.json", TURBO_ROOT),
        ("apps/app/package.json", WEB_APP),
        (
            "packages/auth/package.json",
            r#"{"name": "@repo/auth", "version": "0.0.0", "dependencies": {"@repo/database": "workspace:^", "@clerk/nextjs": "^6"}}"#,
        ),
        (
            "packages/database/package.json",
            r#"{"name": "@repo/database", "dependencies": {"@prisma/client": "^5"}}"#,
        ),
        (
            "packages/typescript-config/package.json",
            r#"{"name": "@repo/typescript-config"}"#,
        ),
        ("docs/package.json", r#"{"name": "docs-site"}"#),
    ])
}

#[test]
fn npm_workspace_members_are_packages() {
    let out = turbo_repo();
    assert_eq!(
        service_names(&out),
        [
            "app",
            "@repo/auth",
            "@repo/database",
            "@repo/typescript-config"
        ]
    );
    let app = &out.services[0];
    assert_eq!(app.kind, ServiceKind::Package);
    assert_eq!(app.scope, Scope::Host);
    assert_eq!(app.owned_paths, ["apps/app"]);
    assert_eq!(app.source.to_string(), "r/apps/app/package.json:2:12");
    assert_eq!(
        app.endpoints[0].kind,
        EndpointKind::Package {
            name: "app".into(),
            version: Some("0.1.0".into())
        }
    );
}

#[test]
fn internal_dependencies_only() {
    let out = turbo_repo();
    let refs = package_refs(&out);
    let expect = |from: &str, to: &str, spec: &str| (from.into(), to.into(), spec.into());
    assert_eq!(
        refs,
        [
            expect("app", "@repo/auth", "workspace:*"),
            expect("app", "@repo/database", "workspace:*"),
            // Dangling: no such package in the repo, but `@repo` is the workspace's scope.
            expect("app", "@repo/observability", "*"),
            expect("app", "@repo/typescript-config", "workspace:*"),
            expect("@repo/auth", "@repo/database", "workspace:^"),
        ]
    );
    let first = out
        .references
        .iter()
        .find(|r| r.mechanism == Mechanism::Workspace)
        .expect("a workspace reference");
    assert_eq!(first.key.as_deref(), Some("dependencies.@repo/auth"));
    assert_eq!(first.location.to_string(), "r/apps/app/package.json:9:6");
}

#[test]
fn member_ports_belong_to_the_package() {
    let out = turbo_repo();
    assert_eq!(
        ports(&out),
        [(
            Some("app"),
            "3001",
            "r/apps/app/package.json:5:25".to_string()
        )]
    );
}

#[test]
fn a_file_link_under_an_alias_depends_on_the_package_in_that_folder() {
    let out = run(&[
        ("pnpm-workspace.yaml", "packages:\n  - 'plugins/**'\n"),
        ("package.json", r#"{ "name": "root", "private": true }"#),
        (
            "plugins/loader/package.json",
            r#"{ "name": "@acme/plugin-loader", "version": "1.0.0" }"#,
        ),
        (
            "plugins/loader/examples/demo/package.json",
            r#"{ "name": "demo", "dependencies": {
                 "loader-api": "file:../../",
                 "vendored": "file:../../vendor.tgz",
                 "outside": "link:../../../../../elsewhere"
               } }"#,
        ),
    ]);
    let refs = package_refs(&out);
    assert!(refs.contains(&(
        "demo".into(),
        "@acme/plugin-loader".into(),
        "file:../../".into()
    )));
    // A tarball or a folder outside the repository keeps the alias name.
    assert!(refs.contains(&(
        "demo".into(),
        "outside".into(),
        "link:../../../../../elsewhere".into()
    )));
    assert!(!refs.iter().any(|(_, n, _)| n == "loader-api"));
}

#[test]
fn pnpm_globs_with_negation() {
    let out = run(&[
        ("package.json", r#"{"name": "root", "private": true}"#),
        (
            "pnpm-workspace.yaml",
            "packages:\n  - 'apps/**'\n  - packages/*\n  - '!packages/internal'\n",
        ),
        (
            "apps/shop/web/package.json",
            r#"{"name": "shop-web", "dependencies": {"ui": "workspace:*"}}"#,
        ),
        ("packages/ui/package.json", r#"{"name": "ui"}"#),
        ("packages/internal/package.json", r#"{"name": "internal"}"#),
        ("tools/package.json", r#"{"name": "tools"}"#),
    ]);
    assert_eq!(service_names(&out), ["shop-web", "ui"]);
    assert_eq!(
        package_refs(&out),
        [("shop-web".into(), "ui".into(), "workspace:*".into())]
    );
}

#[test]
fn yarn_object_workspaces_and_unscoped_names() {
    let out = run(&[
        (
            "package.json",
            r#"{"private": true, "workspaces": {"packages": ["packages/*"], "nohoist": ["**/x"]}}"#,
        ),
        (
            "packages/web/package.json",
            r#"{"name": "web", "dependencies": {"ui": "1.0.0", "utils": "*", "lodash": "^4"}}"#,
        ),
        (
            "packages/ui/package.json",
            r#"{"name": "ui", "version": "1.0.0"}"#,
        ),
    ]);
    assert_eq!(service_names(&out), ["web", "ui"]);
    // `utils` is not a member and has no internal scope: an npm package like lodash.
    assert_eq!(
        package_refs(&out),
        [("web".into(), "ui".into(), "1.0.0".into())]
    );
}

#[test]
fn lerna_packages_and_its_default() {
    let member = r#"{"name": "@acme/api", "dependencies": {"@acme/core": "^1.0.0"}}"#;
    let out = run(&[
        ("lerna.json", r#"{"version": "1.0.0"}"#),
        ("packages/api/package.json", member),
    ]);
    assert_eq!(service_names(&out), ["@acme/api"]);
    assert_eq!(
        package_refs(&out),
        [("@acme/api".into(), "@acme/core".into(), "^1.0.0".into())]
    );
    let out = run(&[
        ("lerna.json", r#"{"packages": ["modules/*"]}"#),
        ("packages/api/package.json", member),
    ]);
    assert!(out.services.is_empty());
}

#[test]
fn root_is_a_service_only_when_listed() {
    let out = run(&[(
        "package.json",
        r#"{"name": "mono", "workspaces": ["packages/*"]}"#,
    )]);
    assert!(out.services.is_empty());
    let out = run(&[(
        "package.json",
        r#"{"name": "mono", "workspaces": [".", "packages/*"]}"#,
    )]);
    assert_eq!(service_names(&out), ["mono"]);
}

#[test]
fn registry_dependencies_of_an_application_are_loose() {
    let text = r#"{
  "name": "web",
  "private": true,
  "dependencies": {
    "@acme/ui": "^1.2.0",
    "ui-next": "npm:@acme/ui@^2.0.0-beta.1",
    "local": "file:../local",
    "tools": "github:acme/tools#v3"
  }
}"#;
    let out = run(&[("package.json", text)]);
    assert!(out.services.is_empty());
    let expect = |to: &str, spec: &str| (String::new(), to.to_string(), spec.to_string());
    assert_eq!(
        refs_by(&out, Mechanism::Registry),
        [
            expect("@acme/ui", "^1.2.0"),
            expect("@acme/ui", "npm:@acme/ui@^2.0.0-beta.1"),
            expect("tools", "github:acme/tools#v3"),
        ]
    );
    assert_eq!(out.references[0].location.to_string(), "r/package.json:5:6");
}

#[test]
fn a_published_library_outside_a_workspace_is_a_package() {
    let lib = r#"{"name": "@acme/ui", "version": "1.4.0", "files": ["dist"],
  "peerDependencies": {"react": "^18"}}"#;
    let out = run(&[("package.json", lib)]);
    assert_eq!(service_names(&out), ["@acme/ui"]);
    // It owns no folder: loose files stay with the repository's services.
    assert!(out.services[0].owned_paths.is_empty());
    assert_eq!(
        refs_by(&out, Mechanism::Registry),
        [("@acme/ui".into(), "react".into(), "^18".into())]
    );
    // Applications are not: private, no version, or a `main` it starts.
    for app in [
        r#"{"name": "a", "version": "1.0.0", "private": true, "files": ["dist"]}"#,
        r#"{"name": "a", "main": "index.js"}"#,
        r#"{"name": "a", "version": "1.0.0", "main": "index.js", "scripts": {"start": "node ."}}"#,
    ] {
        assert!(run(&[("package.json", app)]).services.is_empty(), "{app}");
    }
    assert_eq!(
        service_names(&run(&[(
            "package.json",
            r#"{"name": "cli", "version": "2.0.0", "main": "index.js"}"#
        )])),
        ["cli"]
    );
}

#[test]
fn members_registry_dependencies_are_theirs() {
    let out = turbo_repo();
    let expect = |from: &str, to: &str, spec: &str| (from.into(), to.into(), spec.into());
    assert_eq!(
        refs_by(&out, Mechanism::Registry),
        [
            // The workspace root is no member: its tooling is whoever builds from the root's.
            expect("", "turbo", "^2.0.0"),
            expect("app", "next", "15.0.0"),
            expect("app", "react", "^19.0.0"),
            expect("app", "@types/react", "^19.0.0"),
            expect("@repo/auth", "@clerk/nextjs", "^6"),
            expect("@repo/database", "@prisma/client", "^5"),
        ]
    );
}

#[test]
fn plain_package_json_gives_loose_facts() {
    let text = "{\n  \"name\": \"shop\",\n  \"proxy\": \"http://api:8080\",\n  \"scripts\": {\n    \"start\": \"react-scripts start\",\n    \"dev\": \"vite --port 5174\"\n  },\n  \"dependencies\": {\"@shop/ui\": \"workspace:*\"}\n}\n";
    let out = run(&[("frontend/package.json", text)]);
    assert!(out.services.is_empty());
    assert!(package_refs(&out).is_empty());
    let proxy = &out.references[0];
    assert_eq!(
        proxy.target,
        Target::Address {
            text: "http://api:8080".into()
        }
    );
    assert_eq!(proxy.from, None);
    assert_eq!(proxy.key.as_deref(), Some("proxy"));
    assert_eq!(proxy.location.to_string(), "r/frontend/package.json:3:13");
    // An explicit port anywhere is kept; the react-scripts default is a second script's.
    assert_eq!(
        ports(&out),
        [
            (None, "3000", "r/frontend/package.json:5:15".to_string()),
            (None, "5174", "r/frontend/package.json:6:25".to_string()),
        ]
    );
}

#[test]
fn vite_default_port_and_its_overrides() {
    let pkg = r#"{"name": "ui", "scripts": {"dev": "vite"}}"#;
    let out = run(&[("web/package.json", pkg)]);
    assert_eq!(
        ports(&out),
        [(None, "5173", "r/web/package.json:1:36".to_string())]
    );
    // vite.config sets the port: the federation extractor records that one instead.
    let mut repo = RepoFiles::new("r");
    repo.add_text("web/package.json", pkg);
    repo.add_text(
        "web/vite.config.ts",
        "export default defineConfig({ server: { port: 4000 } })",
    );
    let mut out = RepoFacts::default();
    if let Some(file) = repo.get("web/package.json") {
        WorkspaceExtractor.extract(file, &repo, &mut out);
    }
    assert!(ports(&out).is_empty());
    // `.env` PORT replaces react-scripts' default (CRA reads `.env` before it starts).
    let out = run(&[(
        "package.json",
        r#"{"scripts": {"start": "react-scripts start"}}"#,
    )]);
    assert_eq!(ports(&out).len(), 1);
    let mut repo = RepoFiles::new("r");
    repo.add_text(
        "package.json",
        r#"{"scripts": {"start": "react-scripts start"}}"#,
    );
    repo.add_text(".env", "BROWSER=none\nPORT=3006\n");
    let mut out = RepoFacts::default();
    if let Some(file) = repo.get("package.json") {
        WorkspaceExtractor.extract(file, &repo, &mut out);
    }
    assert!(ports(&out).is_empty());
}

#[test]
fn escaped_script_falls_back_to_the_value_location() {
    let text = r#"{"scripts": {"dev": "concurrently \"vite --port 5180\" \"node api\""}}"#;
    let out = run(&[("package.json", text)]);
    let entry = &out.env[0];
    assert_eq!(entry.display, "5180");
    assert_eq!(
        &text[entry.location.span.start..entry.location.span.end],
        r#"concurrently \"vite --port 5180\" \"node api\""#
    );
}

#[test]
fn malformed_package_json_is_a_parse_error() {
    let out = run(&[(
        "package.json",
        "{\n  \"name\": \"x\",\n  \"scripts\": {\n}\n",
    )]);
    assert_eq!(out.diagnostics.len(), 1);
    assert_eq!(out.diagnostics[0].code, DiagnosticCode::ParseError);
    assert!(out.services.is_empty() && out.env.is_empty());
    let out = run(&[("pnpm-workspace.yaml", "packages: [a\n")]);
    assert_eq!(out.diagnostics[0].code, DiagnosticCode::ParseError);
}

#[test]
fn top_level_name_scan() {
    assert_eq!(
        top_level_name(r#"{"deps": {"name": "no"}, "name" : "@a/b\u00e9"}"#).as_deref(),
        Some("@a/bé")
    );
    assert_eq!(top_level_name(r#"{"description": "name", "x": 1}"#), None);
    assert_eq!(top_level_name(r#"{"name": null}"#), None);
    assert_eq!(top_level_name(r#"{"name": "#), None);
}

#[test]
fn through_the_registry_ports_become_endpoints() {
    let mut files = RepoFiles::new("threadly");
    files.add_text("package.json", TURBO_ROOT);
    files.add_text("apps/app/package.json", WEB_APP);
    let facts = extract_files(files, &Registry::default());
    let app = facts.services.iter().find(|s| s.name == "app").unwrap();
    assert!(
        app.endpoints
            .iter()
            .any(|e| e.kind == EndpointKind::HostProcessPort { port: 3001 })
    );
}

/// The corpus frontend (awesome-compose react-express-mongodb), when checked out.
#[test]
fn corpus_cra_frontend() {
    let rel = "awesome-compose-react-express-mongodb/react-express-mongodb/frontend/package.json";
    let candidates = [
        format!(
            "{}/../../../shared/corpus/{rel}",
            env!("CARGO_MANIFEST_DIR")
        ),
        format!("/work/shared/corpus/{rel}"),
    ];
    let Some(text) = candidates
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
    else {
        eprintln!("skipping: corpus file {rel} not found");
        return;
    };
    let out = run(&[("frontend/package.json", &text)]);
    assert!(out.services.is_empty());
    let targets: Vec<&Target> = out
        .references
        .iter()
        .filter(|r| r.mechanism != Mechanism::Registry)
        .map(|r| &r.target)
        .collect();
    assert_eq!(
        targets,
        [&Target::Address {
            text: "http://backend:3000".into()
        }]
    );
    let proxy = out
        .references
        .iter()
        .find(|r| r.mechanism != Mechanism::Registry)
        .expect("the proxy");
    assert_eq!(proxy.location.to_string(), "r/frontend/package.json:30:13");
    assert_eq!(
        ports(&out),
        [(None, "3000", "r/frontend/package.json:22:15".to_string())]
    );
}

mod properties {
    use super::super::{glob::Globs, scripts::script_ports, top_level_name};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn scripts_never_panic_and_spans_hold_digits(name in "[a-z:]{0,8}", script in any::<String>()) {
            for port in script_ports(&name, &script) {
                if let super::super::scripts::PortOrigin::Explicit { start, end } = port.origin {
                    prop_assert_eq!(script[start..end].parse::<u16>().ok(), Some(port.port));
                }
            }
        }

        #[test]
        fn script_hosts_never_panic_and_spans_hold_the_host(
            name in "(dev|start)",
            script in "(HOST=[a-z0-9.:]{0,6} )?(vite|next dev|ng serve|node) ?(--host|-H|--hostname)?[= ]?[a-z0-9.:-]{0,8}",
            noise in any::<String>(),
        ) {
            for text in [script.clone(), noise] {
                if let Some((host, start, end)) = super::super::scripts::script_host(&name, &text) {
                    let span = text.get(start..end);
                    prop_assert!(span.is_some());
                    prop_assert!(host == "0.0.0.0" || span == Some(host.as_str()));
                }
            }
        }

        #[test]
        fn globs_and_names_never_panic(pattern in "[a-z*/!.?]{0,20}", dir in "[a-z/.]{0,20}", text in any::<String>()) {
            let _ = Globs::new([pattern.as_str()]).matches(&dir);
            let _ = top_level_name(&text);
        }
    }
}

/// `key=display @ location` of the entries under `keys`.
fn entries(out: &RepoFacts, keys: &[&str]) -> Vec<String> {
    out.env
        .iter()
        .filter(|e| keys.contains(&e.key.as_str()) || e.key.starts_with("scripts."))
        .map(|e| format!("{}={} @ {}", e.key, e.display, e.location))
        .collect()
}

#[test]
fn frontend_origins_for_cors() {
    let package = r#"{
  "name": "web",
  "homepage": "https://shop.example.com/",
  "scripts": {
    "dev": "vite",
    "preview": "vite preview"
  }
}"#;
    let vite = "export default defineConfig({\n  server: { port: 5180 },\n  preview: { port: 4300 },\n});\n";
    let out = run(&[("package.json", package), ("vite.config.ts", vite)]);
    assert_eq!(
        entries(&out, &["PORT", "PREVIEW_PORT", "PUBLIC_URL"]),
        [
            "scripts.dev=vite @ r/package.json:5:13",
            "PREVIEW_PORT=4300 @ r/vite.config.ts:3:20",
            "PUBLIC_URL=https://shop.example.com/ @ r/package.json:3:16",
        ]
    );
    // Without `preview.port`, `vite preview` serves on 4173; a relative homepage is no origin.
    let package = package.replace("https://shop.example.com/", ".");
    let out = run(&[("package.json", &package)]);
    assert_eq!(
        entries(&out, &["PORT", "PREVIEW_PORT", "PUBLIC_URL"]),
        [
            "PORT=5173 @ r/package.json:5:13",
            "scripts.dev=vite @ r/package.json:5:13",
            "PREVIEW_PORT=4173 @ r/package.json:6:17",
        ]
    );
    // A Node server is no frontend: its port is recorded, no `scripts.*` marker.
    let out = run(&[(
        "package.json",
        r#"{"scripts": {"start": "PORT=4000 node server.js"}}"#,
    )]);
    assert_eq!(
        entries(&out, &["PORT"]),
        ["PORT=4000 @ r/package.json:1:29"]
    );
}

#[test]
fn angular_serve_port_replaces_the_default() {
    let angular = r#"{
  "projects": {
    "admin": {
      "architect": {
        "serve": { "builder": "@angular-devkit/build-angular:dev-server", "options": { "port": 4201 } }
      }
    }
  }
}"#;
    let package = r#"{"name": "admin", "scripts": {"start": "ng serve"}}"#;
    let out = run(&[("angular.json", angular), ("package.json", package)]);
    assert_eq!(
        entries(&out, &["PORT"]),
        [
            "PORT=4201 @ r/angular.json:5:96",
            "scripts.start=ng @ r/package.json:1:41",
        ]
    );
    let out = run(&[("package.json", package)]);
    assert_eq!(
        entries(&out, &["PORT"]),
        [
            "PORT=4200 @ r/package.json:1:41",
            "scripts.start=ng @ r/package.json:1:41",
        ]
    );
    // Nx `project.json`; a broken file is a diagnostic, never a panic.
    let nx = r#"{"targets": {"serve": {"options": {"port": "4300"}}}}"#;
    let out = run(&[("apps/web/project.json", nx)]);
    assert_eq!(
        entries(&out, &["PORT"]),
        ["PORT=4300 @ r/apps/web/project.json:1:45"]
    );
    let out = run(&[("angular.json", "{\"projects\": ")]);
    assert_eq!(out.diagnostics.len(), 1);
    assert!(out.env.is_empty());
}

#[test]
fn dev_server_hosts_for_cors() {
    let package = r#"{
  "scripts": {
    "dev": "vite --host 127.0.0.1",
    "e2e": "vite --host 0.0.0.0"
  }
}"#;
    let out = run(&[("package.json", package)]);
    assert_eq!(
        entries(&out, &["HOST"]),
        [
            "HOST=127.0.0.1 @ r/package.json:3:25",
            "scripts.dev=vite @ r/package.json:3:13",
        ]
    );
    // A host is a setting, not an address this app calls.
    assert!(out.references.is_empty(), "{:?}", out.references);
    let angular = r#"{"projects": {"admin": {"architect": {"serve": {"options": {"host": "127.0.0.1", "port": 4201}}}}}}"#;
    let out = run(&[("angular.json", angular)]);
    assert_eq!(
        entries(&out, &["HOST"]),
        ["HOST=127.0.0.1 @ r/angular.json:1:70"]
    );
}

/// A workspace whose `app` depends on members `a` (1.2.0), `b` (2.0.0), `c` (no version) and on
/// `peer`, in every section and spec form.
fn manager_repo(root: &[(&'static str, &'static str)]) -> RepoFacts {
    let mut files: Vec<(&str, &str)> = root.to_vec();
    files.extend([
        (
            "packages/a/package.json",
            r#"{"name": "a", "version": "1.2.0"}"#,
        ),
        (
            "packages/b/package.json",
            r#"{"name": "b", "version": "2.0.0"}"#,
        ),
        ("packages/c/package.json", r#"{"name": "c"}"#),
        (
            "packages/p/package.json",
            r#"{"name": "@x/peer", "version": "1.0.0"}"#,
        ),
        (
            "packages/app/package.json",
            r#"{
  "name": "app",
  "dependencies": { "a": "^1.0.0", "b": "^1.0.0" },
  "devDependencies": { "c": "*", "left-pad": "^1.3.0" },
  "peerDependencies": { "@x/peer": "workspace:^" },
  "optionalDependencies": { "a": "workspace:*" }
}"#,
        ),
    ]);
    run(&files)
}

fn registry_installs(out: &RepoFacts) -> Vec<String> {
    out.diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::RegistryInstall)
        .map(|d| format!("{} {}", d.location, d.message))
        .collect()
}

fn keys(out: &RepoFacts) -> Vec<String> {
    out.references
        .iter()
        .filter(|r| r.mechanism == Mechanism::Workspace)
        .filter_map(|r| r.key.clone())
        .collect()
}

#[test]
fn npm_links_a_member_when_the_range_admits_its_version() {
    let out = manager_repo(&[("package.json", r#"{"workspaces": ["packages/*"]}"#)]);
    assert_eq!(
        keys(&out),
        [
            "dependencies.a",
            "devDependencies.c",
            "peerDependencies.@x/peer",
            "optionalDependencies.a"
        ]
    );
    assert_eq!(
        registry_installs(&out),
        [
            "r/packages/app/package.json:3:37 dependencies.b \"^1.0.0\" would install from the registry, not the workspace package b: the range does not admit the workspace package's version 2.0.0"
        ]
    );
    // External packages stay registry references.
    assert_eq!(refs_by(&out, Mechanism::Registry).len(), 1);
}

#[test]
fn pnpm_links_only_workspace_specs_unless_told() {
    let pnpm = ("pnpm-workspace.yaml", "packages:\n  - packages/*\n");
    let out = manager_repo(&[("package.json", r#"{"name": "root"}"#), pnpm]);
    assert_eq!(
        keys(&out),
        ["peerDependencies.@x/peer", "optionalDependencies.a"]
    );
    let found = registry_installs(&out);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].starts_with(
        "r/packages/app/package.json:3:22 dependencies.a \"^1.0.0\" would install from the registry"
    ));
    assert!(found[0].ends_with(
        "pnpm links workspace packages only for `workspace:` specs (link-workspace-packages is off)"
    ));
    // `link-workspace-packages=true` in .npmrc: ranges link like npm.
    let npmrc = (
        ".npmrc",
        "auto-install-peers=true\nlink-workspace-packages = true\n",
    );
    let out = manager_repo(&[("package.json", r#"{"name": "root"}"#), pnpm, npmrc]);
    assert_eq!(
        keys(&out),
        [
            "dependencies.a",
            "devDependencies.c",
            "peerDependencies.@x/peer",
            "optionalDependencies.a"
        ]
    );
    assert_eq!(registry_installs(&out).len(), 1);
    // pnpm 10 settings in pnpm-workspace.yaml.
    let yaml = (
        "pnpm-workspace.yaml",
        "packages:\n  - packages/*\nlinkWorkspacePackages: true\n",
    );
    let out = manager_repo(&[("package.json", r#"{"name": "root"}"#), yaml]);
    assert_eq!(registry_installs(&out).len(), 1);
}

#[test]
fn member_versions_scan() {
    let [name, version] = top_level_strings(
        r#"{"deps": {"version": "9"}, "name": "a", "version" : "1.0.0-rc.1", "x": {"name": "b"}}"#,
        ["name", "version"],
    );
    assert_eq!(name.as_deref(), Some("a"));
    assert_eq!(version.as_deref(), Some("1.0.0-rc.1"));
    let [name, version] = top_level_strings(r#"{"version": 3, "name": "z"}"#, ["name", "version"]);
    assert_eq!((name.as_deref(), version), (Some("z"), None));
}

#[test]
fn task_runner_definitions() {
    let out = run(&[
        ("pnpm-workspace.yaml", "packages:\n  - apps/*\n"),
        ("package.json", r#"{"name": "root"}"#),
        (
            "turbo.json",
            r#"{"tasks": {"build": {"dependsOn": ["^build", "codegen"]}, "web#lint": {}, "//#format": {"dependsOn": ["$NODE_ENV"]}}}"#,
        ),
        ("apps/web/package.json", r#"{"name": "web"}"#),
        (
            "apps/web/turbo.json",
            r#"{"extends": ["//"], "pipeline": {"build": {"dependsOn": ["api#build"]}}}"#,
        ),
        (
            "nx.json",
            r#"{"targetDefaults": {"test": {"dependsOn": [{"target": "build", "projects": "dependencies"}, "lint"]}}}"#,
        ),
        (
            "apps/web/project.json",
            r#"{"name": "web-app", "implicitDependencies": ["api", "!old"], "targets": {"e2e": {"dependsOn": ["serve"]}}}"#,
        ),
    ]);
    type TaskView = (String, Option<String>, String, Vec<String>, String);
    let view: Vec<TaskView> = out
        .tasks
        .iter()
        .map(|t| {
            (
                t.runner.clone(),
                t.package.clone(),
                t.task.clone(),
                t.depends_on.iter().map(|d| d.target.clone()).collect(),
                t.location.to_string(),
            )
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // In file order; each at its key (the first character inside the quotes).
    assert_eq!(
        view,
        [
            (
                "turbo".into(),
                None,
                "build".into(),
                s(&["^build", "codegen"]),
                "r/turbo.json:1:13".into()
            ),
            (
                "turbo".into(),
                Some("web".into()),
                "lint".into(),
                vec![],
                "r/turbo.json:1:60".into()
            ),
            (
                "turbo".into(),
                Some("//".into()),
                "format".into(),
                vec![],
                "r/turbo.json:1:76".into()
            ),
            (
                "turbo".into(),
                Some("web".into()),
                "build".into(),
                s(&["api#build"]),
                "r/apps/web/turbo.json:1:35".into()
            ),
            (
                "nx".into(),
                None,
                "test".into(),
                s(&["^build", "lint"]),
                "r/nx.json:1:22".into()
            ),
            (
                "nx".into(),
                Some("web-app".into()),
                "e2e".into(),
                s(&["serve"]),
                "r/apps/web/project.json:1:75".into()
            ),
        ]
    );
    assert_eq!(out.tasks[5].implicit_dependencies, ["api", "!old"]);
}

#[test]
fn a_5000_package_workspace_extracts_in_parallel_as_in_order() {
    let mut repo = RepoFiles::new("r");
    repo.add_text("pnpm-workspace.yaml", "packages:\n  - \"packages/*\"\n");
    repo.add_text("package.json", r#"{"name": "root", "private": true}"#);
    for i in 0..5000 {
        let deps = if i == 0 {
            String::new()
        } else {
            format!(
                r#", "dependencies": {{"@gen/p{}": "workspace:*", "react": "^18.2.0"}}"#,
                i / 2
            )
        };
        repo.add_text(
            format!("packages/p{i}/package.json"),
            format!(r#"{{"name": "@gen/p{i}", "version": "1.0.0"{deps}}}"#),
        );
    }
    let registry = Registry::default();
    let mut in_order = RepoFacts {
        repository: "r".into(),
        files_scanned: repo.len(),
        ..RepoFacts::default()
    };
    for file in repo.files() {
        registry.extract_file(file, &repo, &mut in_order);
    }
    crate::attribute::attribute(&mut in_order, &repo);
    crate::variant::assign(&mut in_order, &repo);
    let parallel = extract_files(repo, &registry);
    assert_eq!(parallel, in_order);
    let packages = parallel
        .services
        .iter()
        .filter(|s| s.kind == ServiceKind::Package)
        .count();
    assert_eq!(packages, 5000);
    assert_eq!(package_refs(&parallel).len(), 4999);
    assert_eq!(
        package_refs(&parallel)[0],
        ("@gen/p1".into(), "@gen/p0".into(), "workspace:*".into())
    );
}
