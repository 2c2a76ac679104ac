use super::*;

fn at(text: &str, span: ByteSpan) -> &str {
    &text[span.start..span.end]
}

/// The remote module of seed 004 (product-monorepo/packages/product/webpack.config.js), with
/// the dev server and shared settings such configs carry.
const PRODUCT_WEBPACK: &str = r#"const HtmlWebpackPlugin = require('html-webpack-plugin');
const { ModuleFederationPlugin } = require('webpack').container;
const deps = require('./package.json').dependencies;

module.exports = {
  mode: 'development',
  entry: './src/index.ts',
  devServer: {
    port: 3001,
    historyApiFallback: true,
  },
  module: {
    rules: [{ test: /\.tsx?$/, loader: 'ts-loader', exclude: /node_modules/ }],
  },
  plugins: [
    new ModuleFederationPlugin({
      name: 'product_management',
      filename: 'remoteEntry.js',
      exposes: {
        './ProductService': './src/services/ProductService',
        './ProductForm': './src/components/ProductForm',
        './types': './src/types/index'
      },
      shared: {
        ...deps,
        react: { singleton: true, requiredVersion: '^18.2.0' },
        'react-dom': { singleton: true, requiredVersion: deps['react-dom'] },
        zustand: '^4.4.0',
      },
    }),
    new HtmlWebpackPlugin({ template: './public/index.html' }),
  ],
};
"#;

/// The host of seed 004 (order-mfe), loading the product module.
const ORDER_WEBPACK: &str = r#"// new ModuleFederationPlugin({ name: 'commented_out', remotes: { x: 'x@http://old:1/remoteEntry.js' } })
const { ModuleFederationPlugin } = require('webpack').container;
/* remotes: { ghost: 'ghost@http://ghost:9/remoteEntry.js' } */
module.exports = {
  devServer: { port: process.env.PORT || 3000 },
  plugins: [
    new ModuleFederationPlugin({
      name: "order_mfe",
      remotes: {
        productModule: 'product_management@http://localhost:3001/remoteEntry.js',
        cart: `cart@${process.env.CART_URL}/remoteEntry.js`,
        legacy: "promise new Promise(resolve => resolve(window.legacy))",
      },
      shared: ['react', 'react-dom'],
    }),
  ],
};
"#;

#[test]
fn webpack_remote_module_from_seed() {
    let c = parse_federation(PRODUCT_WEBPACK);
    let name = c.name.as_ref().unwrap();
    assert_eq!(name.value, "product_management");
    assert_eq!(at(PRODUCT_WEBPACK, name.span), "product_management");
    let exposed: Vec<(&str, Option<&str>)> = c
        .exposes
        .iter()
        .map(|e| (e.name.as_str(), e.module.as_deref()))
        .collect();
    assert_eq!(
        exposed,
        [
            ("./ProductService", Some("./src/services/ProductService")),
            ("./ProductForm", Some("./src/components/ProductForm")),
            ("./types", Some("./src/types/index")),
        ]
    );
    assert!(c.remotes.is_empty());
    let shared: Vec<(&str, bool, Option<&str>, Option<&str>)> = c
        .shared
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.singleton,
                s.required_version.as_deref(),
                s.required_version_expr.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        shared,
        [
            ("react", true, Some("^18.2.0"), None),
            ("react-dom", true, None, Some("deps['react-dom']")),
            ("zustand", false, Some("^4.4.0"), None),
        ]
    );
    assert_eq!(at(PRODUCT_WEBPACK, c.shared[1].span), "react-dom");
    let port = c.dev_port.unwrap();
    assert_eq!(port.value, 3001);
    assert_eq!(at(PRODUCT_WEBPACK, port.span), "3001");
}

#[test]
fn webpack_host_remotes_and_comments() {
    let c = parse_federation(ORDER_WEBPACK);
    assert_eq!(c.name.unwrap().value, "order_mfe");
    let remotes: Vec<(&str, &str, Option<&str>, bool)> = c
        .remotes
        .iter()
        .map(|r| {
            (
                r.key.as_str(),
                r.name.as_str(),
                r.url.as_deref(),
                r.unresolved,
            )
        })
        .collect();
    assert_eq!(
        remotes,
        [
            (
                "productModule",
                "product_management",
                Some("http://localhost:3001/remoteEntry.js"),
                false
            ),
            (
                "cart",
                "cart",
                Some("${process.env.CART_URL}/remoteEntry.js"),
                true
            ),
            ("legacy", "legacy", None, false),
        ]
    );
    assert_eq!(
        at(ORDER_WEBPACK, c.remotes[0].span),
        "product_management@http://localhost:3001/remoteEntry.js"
    );
    assert_eq!(
        c.shared.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["react", "react-dom"]
    );
    assert_eq!(c.dev_port.unwrap().value, 3000);
}

#[test]
fn vite_federation_plugin() {
    let text = r#"import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import federation from '@originjs/vite-plugin-federation'

export default defineConfig({
  plugins: [
    react(),
    federation({
      name: 'host-app',
      remotes: {
        remoteApp: "http://localhost:5001/assets/remoteEntry.js",
        'design-system': { external: 'http://localhost:5002/assets/remoteEntry.js', format: 'esm' },
      },
      shared: ['react', 'react-dom'],
    }),
  ],
  server: { port: 5000, strictPort: true },
  build: { target: 'esnext' },
})
"#;
    let c = parse_federation(text);
    assert_eq!(c.name.unwrap().value, "host-app");
    assert_eq!(c.remotes.len(), 2);
    assert_eq!(c.remotes[0].name, "remoteApp");
    assert_eq!(
        c.remotes[0].url.as_deref(),
        Some("http://localhost:5001/assets/remoteEntry.js")
    );
    assert_eq!(c.remotes[1].key, "design-system");
    assert_eq!(
        c.remotes[1].url.as_deref(),
        Some("http://localhost:5002/assets/remoteEntry.js")
    );
    let port = c.dev_port.unwrap();
    assert_eq!((port.value, at(text, port.span)), (5000, "5000"));
}

#[test]
fn next_federation_with_function_remotes() {
    let text = r#"const { NextFederationPlugin } = require('@module-federation/nextjs-mf');
module.exports = {
  webpack(config, options) {
    const { isServer } = options;
    config.plugins.push(
      new NextFederationPlugin({
        name: 'home',
        filename: 'static/chunks/remoteEntry.js',
        remotes: (isServer) => ({
          shop: `shop@http://localhost:3001/_next/static/${isServer ? 'ssr' : 'chunks'}/remoteEntry.js`,
        }),
        exposes: { './nav': './components/nav.js' },
        shared: {},
      }),
    );
    return config;
  },
};
"#;
    let c = parse_federation(text);
    assert_eq!(c.name.unwrap().value, "home");
    assert_eq!(c.remotes.len(), 1);
    assert_eq!(c.remotes[0].name, "shop");
    assert_eq!(
        c.remotes[0].url.as_deref(),
        Some("http://localhost:3001/_next/static/${isServer ? 'ssr' : 'chunks'}/remoteEntry.js")
    );
    assert!(c.remotes[0].unresolved);
    assert_eq!(c.exposes[0].name, "./nav");
    assert!(c.dev_port.is_none());
}

#[test]
fn module_federation_config_file_and_constants() {
    let text = r#"// Nx module-federation.config.ts
import { ModuleFederationConfig } from '@nx/webpack';
const remotes = [['shop', 'http://localhost:4201/'], 'cart'];
const config: ModuleFederationConfig = {
  name: 'shell',
  remotes,
  shared: share({ '@angular/core': { singleton: true, strictVersion: true } }),
};
export default config;
"#;
    let c = parse_federation(text);
    assert_eq!(c.name.unwrap().value, "shell");
    let remotes: Vec<(&str, Option<&str>)> = c
        .remotes
        .iter()
        .map(|r| (r.name.as_str(), r.url.as_deref()))
        .collect();
    assert_eq!(
        remotes,
        [("shop", Some("http://localhost:4201/")), ("cart", None)]
    );
    assert_eq!(c.shared[0].name, "@angular/core");
    assert!(c.shared[0].singleton);
}

#[test]
fn native_federation_config() {
    let text = r#"const { withNativeFederation, shareAll } = require('@angular-architects/native-federation/config');
module.exports = withNativeFederation({
  name: 'mfe1',
  exposes: { './Component': './projects/mfe1/src/app/app.component.ts' },
  shared: { ...shareAll({ singleton: true, strictVersion: true, requiredVersion: 'auto' }) },
});
"#;
    let c = parse_federation(text);
    assert_eq!(c.name.unwrap().value, "mfe1");
    assert_eq!(c.exposes[0].name, "./Component");
    assert!(c.shared.is_empty());
}

#[test]
fn plugin_with_identifier_argument_and_port_constant() {
    let text = r#"const PORT = 3002;
const mfConfig = { name: 'checkout', exposes: { './Cart': './src/Cart' } };
module.exports = {
  devServer: { port: PORT },
  plugins: [new ModuleFederationPlugin(mfConfig)],
};
"#;
    let c = parse_federation(text);
    assert_eq!(c.name.unwrap().value, "checkout");
    assert_eq!(c.exposes.len(), 1);
    let port = c.dev_port.unwrap();
    assert_eq!((port.value, at(text, port.span)), (3002, "3002"));
}

#[test]
fn runtime_remotes_array() {
    let text = r#"export default defineConfig({
  plugins: [pluginModuleFederation({
    name: 'host',
    remotes: [{ name: 'remote1', entry: 'http://localhost:3005/mf-manifest.json' }],
  })],
  server: { port: parseInt(process.env.PORT || '3004', 10) },
});"#;
    let c = parse_federation(text);
    assert_eq!(c.remotes[0].name, "remote1");
    assert_eq!(
        c.remotes[0].url.as_deref(),
        Some("http://localhost:3005/mf-manifest.json")
    );
    assert_eq!(c.dev_port.unwrap().value, 3004);
}

#[test]
fn no_federation_in_plain_configs() {
    let text = "module.exports = { name: 'client', entry: './src', devServer: { hot: true } };";
    let c = parse_federation(text);
    assert!(!c.is_federated());
    assert!(c.dev_port.is_none());
    let only_comments = "/* new ModuleFederationPlugin({ name: 'x', remotes: { a: 'a@http://a/r.js' } }) */\n// federation({ name: 'y' })\nconst s = \"ModuleFederationPlugin({ name: 'z' })\";";
    assert_eq!(parse_federation(only_comments), FederationConfig::default());
}

#[test]
fn broken_text_does_not_panic() {
    for text in [
        "new ModuleFederationPlugin({ name: 'a', remotes: { x: ",
        "federation({ remotes: [ [ , ] ], shared: { ...",
        "devServer: { port: }",
        "const a = a; devServer: { port: a }",
        "}}}) ModuleFederationPlugin(",
    ] {
        let _ = parse_federation(text);
    }
}

#[test]
fn split_remote_values() {
    assert_eq!(
        split_remote("k", "app@http://h:1/remoteEntry.js"),
        ("app".into(), Some("http://h:1/remoteEntry.js".into()))
    );
    assert_eq!(
        split_remote("k", "//cdn/remoteEntry.js"),
        ("k".into(), Some("//cdn/remoteEntry.js".into()))
    );
    assert_eq!(split_remote("k", "app"), ("k".into(), None));
    assert_eq!(
        split_remote("k", "http://u@h/r.js"),
        ("k".into(), Some("http://u@h/r.js".into()))
    );
}

#[test]
fn proxy_targets_of_dev_servers_and_rewrites() {
    let text = r#"module.exports = {
  devServer: {
    proxy: [{ context: ['/api'], target: 'http://localhost:3000', changeOrigin: true }],
  },
  server: {
    proxy: {
      '/auth': process.env.AUTH_URL || 'http://auth:9000',
      '/ws': { target: 'ws://localhost:8080', ws: true },
      '/x': { target: `${process.env.X}` },
    },
  },
  async rewrites() {
    return [
      { source: '/api/:path*', destination: 'https://backend.example.com/api/:path*' },
      { source: '/old', destination: '/new' },
    ];
  },
};"#;
    let c = parse_federation(text);
    let targets: Vec<&str> = c.proxy_targets.iter().map(|t| t.value.as_str()).collect();
    assert_eq!(
        targets,
        [
            "http://localhost:3000",
            "http://auth:9000",
            "ws://localhost:8080",
            "https://backend.example.com/api/:path*"
        ]
    );
    assert_eq!(at(text, c.proxy_targets[1].span), "http://auth:9000");
}

mod properties {
    use super::super::parse_federation;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = parse_federation(&text);
        }

        /// JS-looking soup: the tokens the matcher cares about, in any order.
        #[test]
        fn js_soup_never_panics(parts in prop::collection::vec(prop_oneof![
            Just("ModuleFederationPlugin("), Just("federation("), Just("{"), Just("}"),
            Just("("), Just(")"), Just("["), Just("]"), Just(","), Just(":"), Just("=>"),
            Just("name"), Just("remotes"), Just("shared"), Just("exposes"), Just("port"),
            Just("devServer"), Just("server"), Just("proxy"), Just("target"), Just("const x ="),
            Just("x"), Just("'a@http://h:1/r.js'"), Just("`${"), Just("`"), Just("3000"),
            Just("/"), Just("//"), Just("/*"), Just("*/"), Just("'"), Just("\""), Just("..."),
            Just("return"), Just("||"), Just("\n"),
        ], 0..60)) {
            let text = parts.join(" ");
            let config = parse_federation(&text);
            for remote in &config.remotes {
                prop_assert!(remote.span.start <= remote.span.end && remote.span.end <= text.len());
            }
        }
    }
}

#[test]
fn filename_named_remotes_and_versions_from_package_json() {
    let c = parse_federation(PRODUCT_WEBPACK);
    let filename = c.filename.as_ref().unwrap();
    assert_eq!(filename.value, "remoteEntry.js");
    assert_eq!(at(PRODUCT_WEBPACK, filename.span), "remoteEntry.js");
    let dom = c.shared.iter().find(|d| d.name == "react-dom").unwrap();
    assert_eq!(
        dom.from_manifest,
        Some(ManifestRef {
            path: Some("./package.json".into()),
            section: Some("dependencies".into()),
            package: "react-dom".into(),
        })
    );
    // A literal range is not looked up.
    let react = c.shared.iter().find(|d| d.name == "react").unwrap();
    assert_eq!(react.from_manifest, None);

    let c = parse_federation(ORDER_WEBPACK);
    let explicit: Vec<(&str, bool)> = c
        .remotes
        .iter()
        .map(|r| (r.key.as_str(), r.name_explicit))
        .collect();
    assert_eq!(
        explicit,
        [("productModule", true), ("cart", true), ("legacy", false)]
    );
    // Names only: webpack reads the app's package.json.
    assert_eq!(
        c.shared[0].from_manifest,
        Some(ManifestRef {
            path: None,
            section: None,
            package: "react".into(),
        })
    );

    let text = "import pkg from './package.json';\n\
        const { peerDependencies: peers } = require('../package.json');\n\
        federation({ name: 'app', remotes: { shop: 'http://localhost:5001/assets/remoteEntry.js' },\n\
        shared: { a: { requiredVersion: pkg.devDependencies['a'] }, b: { requiredVersion: peers.b },\n\
        c: { requiredVersion: false }, d: { requiredVersion: versions.d }, e: { singleton: true } } })";
    let c = parse_federation(text);
    assert!(!c.remotes[0].name_explicit, "a bare URL loads any name");
    type Read<'a> = Option<(Option<&'a str>, Option<&'a str>, &'a str)>;
    let refs: Vec<Read<'_>> = c
        .shared
        .iter()
        .map(|d| {
            d.from_manifest
                .as_ref()
                .map(|m| (m.path.as_deref(), m.section.as_deref(), m.package.as_str()))
        })
        .collect();
    assert_eq!(
        refs,
        [
            Some((Some("./package.json"), Some("devDependencies"), "a")),
            Some((Some("../package.json"), Some("peerDependencies"), "b")),
            None,
            None,
            Some((None, None, "e")),
        ]
    );
}

#[test]
fn dev_server_hosts() {
    let host = |text: &str| parse_federation(text).dev_host.map(|h| h.value);
    let vite = "export default defineConfig({\n  server: { host: \"127.0.0.1\", port: 5173 },\n});";
    let c = parse_federation(vite);
    let h = c.dev_host.unwrap();
    assert_eq!(h.value, "127.0.0.1");
    assert_eq!(&vite[h.span.start..h.span.end], "127.0.0.1");
    assert_eq!(c.dev_port.unwrap().value, 5173);
    // `true`: every interface.
    assert_eq!(
        host("export default { server: { host: true } }").as_deref(),
        Some("0.0.0.0")
    );
    assert_eq!(
        host("module.exports = { devServer: { host: process.env.HOST || 'localhost' } };")
            .as_deref(),
        Some("localhost")
    );
    // Not said, or not a literal.
    assert_eq!(host("export default { server: { port: 3000 } }"), None);
    assert_eq!(host("export default { server: { host: false } }"), None);
    assert_eq!(host("export default { server: { host: cfg.host } }"), None);
}
