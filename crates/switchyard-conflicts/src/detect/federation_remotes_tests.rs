//! End to end (files → extract → link → detectors): the remotes a host cannot load, and the
//! legitimate look-alikes that stay quiet.

use crate::detect::detect;
use crate::strategies::testkit::TestFleet;
use crate::{Conflict, ConflictKind, Severity};

type Files<'a> = Vec<(&'a str, String)>;

fn run(repos: &[(&str, Files<'_>)]) -> Vec<Conflict> {
    let repos: Vec<(&str, &[(&str, String)])> = repos
        .iter()
        .map(|(name, files)| (*name, files.as_slice()))
        .collect();
    let fleet = TestFleet::of(&repos).analyze();
    detect(
        fleet.input(),
        &[
            ConflictKind::UnreachableUrl,
            ConflictKind::SharedDependencyVersion,
        ],
    )
}

/// The remote of seed 004: `product_management`, served by webpack-dev-server on `port`.
fn product(dev_server: &str, name: &str, filename: &str) -> Files<'static> {
    vec![
        (
            "package.json",
            r#"{"name": "product_management", "scripts": {"dev": "webpack serve"},
  "dependencies": {"react": "^18.2.0"}}"#
                .to_string(),
        ),
        (
            "webpack.config.js",
            format!(
                "const {{ ModuleFederationPlugin }} = require('webpack').container;\n\
                 module.exports = {{\n\
                 \x20 {dev_server}\n\
                 \x20 plugins: [\n\
                 \x20   new ModuleFederationPlugin({{\n\
                 \x20     name: '{name}',\n\
                 \x20     filename: '{filename}',\n\
                 \x20     exposes: {{ './ProductSelector': './src/ProductSelector' }},\n\
                 \x20     shared: {{ react: {{ singleton: true }} }},\n\
                 \x20   }}),\n\
                 \x20 ],\n\
                 }};\n"
            ),
        ),
    ]
}

/// The host of seed 004: `order_mfe` on :3000 loading `productModule` = `remote`.
fn order(remote: &str) -> Files<'static> {
    vec![
        (
            "package.json",
            r#"{"name": "order_mfe", "scripts": {"start": "webpack serve"}}"#.to_string(),
        ),
        (
            ".env",
            "PRODUCT_MODULE_URL=http://localhost:3001\n".to_string(),
        ),
        (
            "webpack.config.js",
            format!(
                "const {{ ModuleFederationPlugin }} = require('webpack').container;\n\
                 module.exports = {{\n\
                 \x20 devServer: {{ port: 3000 }},\n\
                 \x20 plugins: [\n\
                 \x20   new ModuleFederationPlugin({{\n\
                 \x20     name: 'order_mfe',\n\
                 \x20     remotes: {{\n\
                 \x20       productModule: {remote},\n\
                 \x20     }},\n\
                 \x20     shared: {{ react: {{ singleton: true, requiredVersion: '^18.2.0' }} }},\n\
                 \x20   }}),\n\
                 \x20 ],\n\
                 }};\n"
            ),
        ),
    ]
}

const PORT_3001: &str = "devServer: { port: 3001 },";
const SEED_REMOTE: &str = "'product_management@http://localhost:3001/remoteEntry.js'";

fn fleet(order_remote: &str, product_files: Files<'static>) -> Vec<Conflict> {
    run(&[("order", order(order_remote)), ("product", product_files)])
}

#[test]
fn the_seed_fleet_loads_its_remote() {
    let c = fleet(
        SEED_REMOTE,
        product(PORT_3001, "product_management", "remoteEntry.js"),
    );
    assert!(c.is_empty(), "{c:#?}");
}

#[test]
fn dead_remote_names_the_port_the_remote_listens_on() {
    let c = fleet(
        "'product_management@http://localhost:3002/remoteEntry.js'",
        product(PORT_3001, "product_management", "remoteEntry.js"),
    );
    assert_eq!(c.len(), 1, "{c:#?}");
    let dead = &c[0];
    assert_eq!(dead.kind, ConflictKind::UnreachableUrl);
    assert_eq!(dead.severity, Severity::High);
    assert_eq!(dead.resource, "remote:productModule@order/order_mfe");
    assert_eq!(dead.repositories, ["order", "product"]);
    let at: Vec<String> = dead
        .occurrences
        .iter()
        .map(|o| format!("{} {}", o.location, o.detail))
        .collect();
    assert!(
        at.contains(&"order/webpack.config.js:8:25 remotes.productModule = product_management@http://localhost:3002/remoteEntry.js".to_string()),
        "{at:#?}"
    );
    assert!(
        at.contains(&"product/webpack.config.js:6:14 name: 'product_management'".to_string()),
        "{at:#?}"
    );
    assert!(
        at.iter()
            .any(|o| o.starts_with("product/webpack.config.js:3:22 ")),
        "{at:#?}"
    );
    assert!(
        dead.message
            .contains("nothing on host local serves port 3002")
            && dead
                .message
                .contains("point the entry at http://localhost:3001/remoteEntry.js"),
        "{}",
        dead.message
    );
}

#[test]
fn a_port_given_by_the_dev_server_command_serves_the_remote() {
    let mut files = product("", "product_management", "remoteEntry.js");
    files[0].1 =
        r#"{"name": "product_management", "scripts": {"dev": "webpack serve --port 3002"}}"#
            .to_string();
    let mut host = order("'product_management@http://localhost:3002/remoteEntry.js'");
    host[1].1 = "PRODUCT_MODULE_URL=http://localhost:3002\n".to_string();
    let c = run(&[("order", host), ("product", files)]);
    assert!(c.is_empty(), "{c:#?}");
}

#[test]
fn the_remote_must_be_built_under_the_name_the_host_loads() {
    let c = fleet(
        SEED_REMOTE,
        product(PORT_3001, "product_mgmt", "remoteEntry.js"),
    );
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].resource, "remote:productModule@order/order_mfe");
    assert_eq!(
        c[0].occurrences[1].location.to_string(),
        "product/webpack.config.js:6:14"
    );
    assert!(
        c[0].message.contains("is built as product_mgmt")
            && c[0]
                .message
                .contains("Write product_mgmt@http://localhost:3001/remoteEntry.js")
            && c[0].message.contains("or set name: 'product_management'"),
        "{}",
        c[0].message
    );
}

#[test]
fn the_url_must_name_the_file_the_remote_emits() {
    let c = fleet(
        SEED_REMOTE,
        product(PORT_3001, "product_management", "js/remote.js"),
    );
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].occurrences[1].detail, "filename: 'js/remote.js'");
    assert_eq!(
        c[0].occurrences[1].location.to_string(),
        "product/webpack.config.js:7:18"
    );
    assert!(
        c[0].message
            .contains("Load http://localhost:3001/remote.js in the host"),
        "{}",
        c[0].message
    );
}

#[test]
fn the_url_reaching_another_app_names_the_right_port() {
    let cart = vec![
        (
            "package.json",
            r#"{"name": "cart", "scripts": {"dev": "webpack serve --port 3005"}}"#.to_string(),
        ),
        (
            "webpack.config.js",
            "new ModuleFederationPlugin({ name: 'cart', filename: 'remoteEntry.js', exposes: { './Cart': './src/Cart' } })\n"
                .to_string(),
        ),
    ];
    let c = run(&[
        (
            "order",
            order("'cart@http://localhost:3001/remoteEntry.js'"),
        ),
        (
            "product",
            product(PORT_3001, "product_management", "remoteEntry.js"),
        ),
        ("cart", cart),
    ]);
    let wrong: Vec<&Conflict> = c
        .iter()
        .filter(|c| c.kind == ConflictKind::UnreachableUrl)
        .collect();
    assert_eq!(wrong.len(), 1, "{c:#?}");
    assert!(
        wrong[0]
            .message
            .contains("port 3001 is served by product/product_management")
            && wrong[0]
                .message
                .contains("Point the entry at http://localhost:3005/remoteEntry.js"),
        "{}",
        wrong[0].message
    );
}

/// Another remote of the fleet whose `npm run mock` (json-server) also binds 3001, while its
/// own dev server listens on 3002 (seed 003).
fn checkout_with_mock() -> Files<'static> {
    vec![
        (
            "package.json",
            r#"{"name": "checkout", "scripts": {"start": "webpack serve",
  "mock": "json-server --watch mock/db.json --port 3001"}}"#
                .to_string(),
        ),
        (
            "webpack.config.js",
            "module.exports = {\n  devServer: { port: 3002 },\n  plugins: [new ModuleFederationPlugin({ name: 'checkout', filename: 'remoteEntry.js', exposes: { './Pay': './src/Pay' } })],\n};\n"
                .to_string(),
        ),
    ]
}

#[test]
fn a_mock_server_on_the_port_does_not_hide_the_remote_serving_it() {
    let c = run(&[
        (
            "order",
            order("'productModule@http://localhost:3001/remoteEntry.js'"),
        ),
        (
            "product",
            product(PORT_3001, "product_management", "remoteEntry.js"),
        ),
        ("checkout", checkout_with_mock()),
    ]);
    // One finding naming both sides, not also a plain dead URL (the host's .env value of
    // localhost:3001 is another reference: two apps answer to it).
    let urls: Vec<&Conflict> = c
        .iter()
        .filter(|c| {
            c.kind == ConflictKind::UnreachableUrl
                && c.occurrences
                    .iter()
                    .any(|o| o.location.to_string() == "order/webpack.config.js:8:25")
        })
        .collect();
    assert_eq!(urls.len(), 1, "{c:#?}");
    assert_eq!(urls[0].resource, "remote:productModule@order/order_mfe");
    let at: Vec<String> = urls[0]
        .occurrences
        .iter()
        .map(|o| o.location.to_string())
        .collect();
    assert_eq!(
        at,
        [
            "order/webpack.config.js:8:25",
            "product/webpack.config.js:6:14"
        ]
    );
    assert!(
        urls[0]
            .message
            .contains("Write product_management@http://localhost:3001/remoteEntry.js"),
        "{}",
        urls[0].message
    );
    // The right name: the app whose bundler serves 3001 is the remote; the mock is not judged.
    let c = run(&[
        ("order", order(SEED_REMOTE)),
        (
            "product",
            product(PORT_3001, "product_management", "remoteEntry.js"),
        ),
        ("checkout", checkout_with_mock()),
    ]);
    assert!(
        c.iter().all(|c| c.kind != ConflictKind::UnreachableUrl
            || c.occurrences
                .iter()
                .all(|o| o.location.to_string() != "order/webpack.config.js:8:25")),
        "{c:#?}"
    );
}

#[test]
fn a_dead_remote_is_pointed_at_its_bundler_port_not_its_mock() {
    let c = run(&[
        (
            "order",
            order("'checkout@http://localhost:3003/remoteEntry.js'"),
        ),
        ("checkout", checkout_with_mock()),
    ]);
    let dead: Vec<&Conflict> = c
        .iter()
        .filter(|c| c.kind == ConflictKind::UnreachableUrl)
        .collect();
    assert_eq!(dead.len(), 1, "{c:#?}");
    assert!(
        dead[0]
            .message
            .contains("point the entry at http://localhost:3002/remoteEntry.js"),
        "{}",
        dead[0].message
    );
}

#[test]
fn look_alikes_stay_quiet() {
    // A remote URL from an env var whose value is served.
    let c = fleet(
        "`product_management@${process.env.PRODUCT_MODULE_URL}/remoteEntry.js`",
        product(PORT_3001, "product_management", "remoteEntry.js"),
    );
    assert!(c.is_empty(), "{c:#?}");
    // Vite: a bare URL loads the remote under any name.
    let c = fleet(
        "'http://localhost:3001/remoteEntry.js'",
        product(PORT_3001, "product-app", "remoteEntry.js"),
    );
    assert!(c.is_empty(), "{c:#?}");
    // A deployed domain (served by a CDN or an ingress, not this dev fleet).
    let c = fleet(
        "'product_management@https://mfe.example.com/product/remoteEntry.js'",
        product(PORT_3001, "product_management", "remoteEntry.js"),
    );
    assert!(c.is_empty(), "{c:#?}");
    // A manifest URL (Module Federation 2) is not the `filename`.
    let c = fleet(
        "'product_management@http://localhost:3001/mf-manifest.json'",
        product(PORT_3001, "product_management", "remoteEntry.js"),
    );
    assert!(c.is_empty(), "{c:#?}");
}

/// `shared_dependency_version` end to end: the versions webpack reads from package.json.
mod shared_versions {
    use super::*;

    fn with_remote_react(shared: &str, package_react: &str) -> Vec<Conflict> {
        let mut files = product(PORT_3001, "product_management", "remoteEntry.js");
        files[0].1 = format!(
            r#"{{"name": "product_management", "scripts": {{"dev": "webpack serve"}},
  "dependencies": {{"react": "{package_react}"}}}}"#
        );
        files[1].1 = files[1]
            .1
            .replace("shared: { react: { singleton: true } },", shared);
        fleet(SEED_REMOTE, files)
    }

    #[test]
    fn a_singleton_without_required_version_takes_package_json() {
        let c = with_remote_react("shared: { react: { singleton: true } },", "^17.0.2");
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].kind, ConflictKind::SharedDependencyVersion);
        assert_eq!(c[0].severity, Severity::High);
        let places: Vec<String> = c[0]
            .occurrences
            .iter()
            .map(|o| format!("{} {}", o.location, o.detail))
            .collect();
        assert_eq!(
            places,
            [
                "order/webpack.config.js:10:17 react@^18.2.0",
                "product/package.json:2:30 react@^17.0.2 (package.json, shared at product/webpack.config.js:9:17)",
            ],
        );
        assert!(
            c[0].message
                .contains("loaded by order/webpack.config.js:8:25")
                && c[0].message.contains(
                    "Change react in product/product_management to a range within ^18.2.0"
                ),
            "{}",
            c[0].message
        );
    }

    #[test]
    fn deps_references_and_names_only_read_package_json() {
        let mut files = product(PORT_3001, "product_management", "remoteEntry.js");
        files[0].1 =
            r#"{"name": "product_management", "dependencies": {"react": "^17.0.2"}}"#.into();
        files[1].1 = format!(
            "const deps = require('./package.json').dependencies;\n{}",
            files[1].1.replace(
                "shared: { react: { singleton: true } },",
                "shared: { react: { singleton: true, requiredVersion: deps.react } },"
            )
        );
        let c = fleet(SEED_REMOTE, files);
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(
            c[0].occurrences[1].location.to_string(),
            "product/package.json:1:59"
        );
        // Names only: not singletons; a disjoint range is a low finding.
        let c = with_remote_react("shared: ['react'],", "^17.0.2");
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(
            c[0].severity,
            Severity::High,
            "the host's side is a singleton"
        );
    }

    #[test]
    fn overlapping_ranges_or_no_version_check_stay_quiet() {
        assert!(with_remote_react("shared: { react: { singleton: true } },", "^18.3.1").is_empty());
        let off = "shared: { react: { singleton: true, requiredVersion: false } },";
        assert!(with_remote_react(off, "^17.0.2").is_empty());
        // A non-singleton with an overlapping range.
        assert!(with_remote_react("shared: ['react'],", "^18.0.0").is_empty());
    }
}
