use super::*;
use crate::{Registry, extract_files};

const HOST_CONFIG: &str = r#"const { ModuleFederationPlugin } = require('webpack').container;
module.exports = {
  devServer: { port: 3000 },
  plugins: [
    new ModuleFederationPlugin({
      name: 'order_mfe',
      remotes: {
        productModule: 'product_management@http://localhost:3001/remoteEntry.js',
      },
      shared: { react: { singleton: true } },
    }),
  ],
};
"#;

#[test]
fn accepted_names() {
    for path in [
        "webpack.config.js",
        "apps/shell/webpack.config.ts",
        "webpack.prod.js",
        "module-federation.config.ts",
        "rspack.config.mjs",
        "vite.config.mts",
        "next.config.mjs",
        "rsbuild.config.ts",
    ] {
        assert!(FederationExtractor.accepts(path), "{path}");
    }
    for path in [
        "webpack.json",
        "src/app.js",
        "node_modules/x/webpack.config.js",
        "vite.config.json",
    ] {
        assert!(!FederationExtractor.accepts(path), "{path}");
    }
}

fn extract(files: &[(&str, &str)], path: &str) -> RepoFacts {
    let mut repo = RepoFiles::new("r");
    for (p, text) in files {
        repo.add_text(*p, *text);
    }
    let mut out = RepoFacts::default();
    let file = repo
        .get(path)
        .cloned()
        .unwrap_or_else(|| SourceFile::new("r", path, ""));
    assert_eq!(
        FederationExtractor.extract(&file, &repo, &mut out),
        Handled::Yes
    );
    out
}

#[test]
fn host_app_is_named_after_its_package() {
    let out = extract(
        &[
            ("order-mfe/package.json", r#"{"name": "order-mfe"}"#),
            ("order-mfe/webpack.config.js", HOST_CONFIG),
        ],
        "order-mfe/webpack.config.js",
    );
    assert_eq!(out.services.len(), 1);
    let app = &out.services[0];
    assert_eq!(app.name, "order-mfe");
    assert_eq!(app.kind, ServiceKind::Federation);
    assert_eq!(app.scope, Scope::Host);
    assert_eq!(app.owned_paths, ["order-mfe"]);
    assert_eq!(
        app.endpoints[0].kind,
        EndpointKind::FederationContainer {
            name: "order_mfe".into()
        }
    );
    assert_eq!(app.aliases[0].name, "order_mfe");
    assert_eq!(app.source.to_string(), "r/order-mfe/webpack.config.js:6:14");

    let remote = &out.references[0];
    assert_eq!(remote.from, None);
    assert_eq!(remote.mechanism, Mechanism::Federation);
    assert_eq!(
        remote.target,
        Target::FederationRemote {
            name: "product_management".into(),
            url: Some("http://localhost:3001/remoteEntry.js".into())
        }
    );
    assert_eq!(remote.key.as_deref(), Some("remotes.productModule"));
    assert_eq!(
        remote.location.to_string(),
        "r/order-mfe/webpack.config.js:8:25"
    );

    assert_eq!(out.env.len(), 1);
    assert_eq!(out.env[0].key, "PORT");
    assert_eq!(out.env[0].display, "3000");
    assert_eq!(
        out.env[0].location.to_string(),
        "r/order-mfe/webpack.config.js:3:22"
    );
}

#[test]
fn without_package_json_the_federation_name_is_used() {
    let out = extract(&[("webpack.config.js", HOST_CONFIG)], "webpack.config.js");
    assert_eq!(out.services[0].name, "order_mfe");
    assert!(out.services[0].aliases.is_empty());
    assert_eq!(out.services[0].owned_paths, [""]);
}

#[test]
fn vite_config_without_federation_gives_port_and_proxy() {
    let text = "import { defineConfig } from 'vite'\n// server: { port: 1 }\nexport default defineConfig({\n  server: {\n    port: 5174,\n    proxy: { '/api': 'http://localhost:8080' },\n  },\n})\n";
    let out = extract(&[("web/vite.config.ts", text)], "web/vite.config.ts");
    assert!(out.services.is_empty());
    assert_eq!(out.references.len(), 1);
    let proxy = &out.references[0];
    assert_eq!(
        proxy.target,
        Target::Address {
            text: "http://localhost:8080".into()
        }
    );
    assert_eq!(proxy.mechanism, Mechanism::Url);
    assert_eq!(proxy.key.as_deref(), Some("proxy"));
    assert_eq!(proxy.location.to_string(), "r/web/vite.config.ts:6:23");
    assert_eq!(out.env[0].display, "5174");
    assert_eq!(out.env[0].location.to_string(), "r/web/vite.config.ts:5:11");
}

#[test]
fn a_dev_port_read_from_the_env_takes_the_value_of_the_dev_env_files() {
    // Vite's `loadEnv` in development: `.env.development` (here in the workspace root, the
    // config's `envDir`) overrides the literal fallback.
    let config = "import { defineConfig, loadEnv } from 'vite'\nexport default defineConfig(({ mode }) => {\n  const envVars = loadEnv(mode, '../')\n  return {\n    server: { port: Number(envVars.VITE_APP_PORT || 3000) },\n  }\n})\n";
    let files = [
        ("app/vite.config.mts", config),
        (".env.development", "VITE_APP_NAME=x\nVITE_APP_PORT=3001\n"),
        (".env.production", "VITE_APP_PORT=80\n"),
    ];
    let out = extract(&files, "app/vite.config.mts");
    assert_eq!(out.env.len(), 1, "{:?}", out.env);
    assert_eq!(out.env[0].key, "PORT");
    assert_eq!(out.env[0].display, "3001");
    // The place is the config's variable: the port is the app's, and the line says where from.
    assert_eq!(
        out.env[0].location.to_string(),
        "r/app/vite.config.mts:5:36"
    );

    // Unset in every dev env file: the literal fallback stands.
    let out = extract(
        &[("app/vite.config.mts", config), (".env", "OTHER=1\n")],
        "app/vite.config.mts",
    );
    assert_eq!(out.env[0].display, "3000");
    assert_eq!(
        out.env[0].location.to_string(),
        "r/app/vite.config.mts:5:53"
    );

    // `process.env.PORT` of a webpack dev server, from the app's own `.env.local`.
    let webpack = "module.exports = {\n  devServer: { port: process.env.PORT || 8080 },\n}\n";
    let out = extract(
        &[
            ("web/webpack.config.js", webpack),
            ("web/.env.local", "PORT=9000\n"),
        ],
        "web/webpack.config.js",
    );
    assert_eq!(out.env[0].display, "9000");
}

#[test]
fn remote_references_are_attributed_to_the_app() {
    let mut files = RepoFiles::new("order-mfe");
    files.add_text(
        "package.json",
        r#"{"name": "order-mfe", "scripts": {"start": "webpack serve"}}"#,
    );
    files.add_text("webpack.config.js", HOST_CONFIG);
    let facts = extract_files(files, &Registry::default());
    let app = facts
        .services
        .iter()
        .find(|s| s.name == "order-mfe")
        .unwrap();
    // The config's port, not webpack-dev-server's default 8080.
    let ports: Vec<&EndpointKind> = app
        .endpoints
        .iter()
        .map(|e| &e.kind)
        .filter(|k| matches!(k, EndpointKind::HostProcessPort { .. }))
        .collect();
    assert_eq!(ports, [&EndpointKind::HostProcessPort { port: 3000 }]);
    let remote = facts
        .references
        .iter()
        .find(|r| r.mechanism == Mechanism::Federation)
        .unwrap();
    assert_eq!(remote.from.as_deref(), Some("order-mfe"));
}

#[test]
fn shared_dependencies_are_facts_of_the_app() {
    let mut files = RepoFiles::new("order");
    files.add_text(
        "webpack.config.js",
        HOST_CONFIG.replace(
            "{ singleton: true }",
            "{ singleton: true, requiredVersion: '^18.2.0' }",
        ),
    );
    let facts = extract_files(files, &Registry::default());
    assert_eq!(facts.shared.len(), 1);
    let react = &facts.shared[0];
    assert_eq!(react.name, "react");
    assert!(react.singleton);
    assert_eq!(react.required_version.as_deref(), Some("^18.2.0"));
    assert_eq!(react.service.as_deref(), Some("order_mfe"));
    assert_eq!(
        (react.location.line, react.location.path.as_str()),
        (10, "webpack.config.js")
    );
}

#[test]
fn shared_versions_are_read_from_package_json() {
    let config = "const deps = require('./package.json').dependencies;\n\
        new ModuleFederationPlugin({ name: 'shop', filename: 'js/remoteEntry.js',\n\
        exposes: { './A': './src/A' },\n\
        shared: { react: { singleton: true, requiredVersion: deps.react },\n\
        'react-dom': { singleton: true }, vue: { requiredVersion: deps.vue } } })";
    let out = extract(
        &[
            (
                "package.json",
                "{\n  \"name\": \"shop\",\n  \"dependencies\": {\"react\": \"^17.0.2\"},\n  \"peerDependencies\": {\"react-dom\": \"^17.0.0\"}\n}",
            ),
            ("webpack.config.js", config),
        ],
        "webpack.config.js",
    );
    let versions: Vec<(&str, Option<&str>, Option<String>)> = out
        .shared
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.required_version.as_deref(),
                d.version_location.as_ref().map(ToString::to_string),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            ("react", Some("^17.0.2"), Some("r/package.json:3:30".into())),
            (
                "react-dom",
                Some("^17.0.0"),
                Some("r/package.json:4:38".into())
            ),
            ("vue", None, None),
        ]
    );
    assert_eq!(out.federation.len(), 1);
    let settings = &out.federation[0];
    assert_eq!(settings.container.as_deref(), Some("shop"));
    assert_eq!(settings.filename.as_deref(), Some("js/remoteEntry.js"));
    assert_eq!(
        settings.filename_location.as_ref().unwrap().to_string(),
        "r/webpack.config.js:2:55"
    );
}

#[test]
fn named_remotes_are_recorded_by_location() {
    let out = extract(&[("webpack.config.js", HOST_CONFIG)], "webpack.config.js");
    assert_eq!(
        out.federation[0]
            .named_remotes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["r/webpack.config.js:8:25"]
    );
}
