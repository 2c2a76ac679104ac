//! Module Federation settings read from JS/TS config text by matching token patterns:
//! `ModuleFederationPlugin({…})`, `federation({…})`, `module.exports = {name, remotes…}`, dev ports.

use super::js::{Js, Range};
use super::scan::{self, Kind, Token};
use switchyard_model::ByteSpan;

/// Calls whose first argument object is a federation config.
const PLUGIN_CALLS: [&str; 8] = [
    "ModuleFederationPlugin",
    "NextFederationPlugin",
    "federation",
    "withModuleFederation",
    "withModuleFederationForSSR",
    "pluginModuleFederation",
    "createModuleFederationConfig",
    "withNativeFederation",
];

/// A value with the byte span it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub span: ByteSpan,
}

/// A remote container this application loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// The key under `remotes` (the import prefix: `import('shop/Button')`).
    pub key: String,
    /// The remote container's name: the part before `@`, else the key.
    pub name: String,
    /// Where its entry is served; template parts (`${…}`) are kept as written.
    pub url: Option<String>,
    /// True when the URL holds `${…}` parts only known at build time.
    pub unresolved: bool,
    /// True when the entry states the container it loads (`name@url`, `{ name, entry }`):
    /// then the remote's `name` must be exactly that. A bare URL (vite) loads any name.
    pub name_explicit: bool,
    /// Span of the remote's value (content of the string).
    pub span: ByteSpan,
}

/// A module this application exposes (`'./Button': './src/Button'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposed {
    pub name: String,
    pub module: Option<String>,
    pub span: ByteSpan,
}

/// A shared dependency, for comparing singleton versions across applications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedDep {
    pub name: String,
    pub singleton: bool,
    /// A literal `requiredVersion` (or the string value of `react: '^18.2.0'`).
    pub required_version: Option<String>,
    /// A `requiredVersion` given as an expression (`deps.react`), as written.
    pub required_version_expr: Option<String>,
    /// Where the version is read from package.json instead: `requiredVersion: deps.react`,
    /// or no `requiredVersion` at all (webpack then reads the app's package.json).
    pub from_manifest: Option<ManifestRef>,
    /// Span of the dependency's key (or array item).
    pub span: ByteSpan,
}

/// A dependency version read from a package.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRef {
    /// The package.json the config `require`s or imports (as written), else the nearest one.
    pub path: Option<String>,
    /// The dependency section named (`deps = pkg.dependencies`), else webpack's search order.
    pub section: Option<String>,
    /// The dependency's name in that section.
    pub package: String,
}

/// Dependency sections in the order webpack searches them for a shared module's version.
pub const MANIFEST_SECTIONS: [&str; 4] = [
    "optionalDependencies",
    "dependencies",
    "peerDependencies",
    "devDependencies",
];

/// What one config file says about Module Federation and its dev server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FederationConfig {
    pub name: Option<Located<String>>,
    /// `filename`: the remote entry file this container emits.
    pub filename: Option<Located<String>>,
    pub remotes: Vec<Remote>,
    pub exposes: Vec<Exposed>,
    pub shared: Vec<SharedDep>,
    /// `devServer.port` (webpack/rspack) or `server.port` (vite).
    pub dev_port: Option<Located<u16>>,
    /// The environment variable the dev port is read from (`env.VITE_APP_PORT || 3000`): its
    /// value in the app's dev `.env` files replaces the literal fallback.
    pub dev_port_variable: Option<Located<String>>,
    /// `devServer.host` (webpack/rspack) or `server.host` (vite), as written (`true` reads as
    /// `0.0.0.0`, every interface).
    pub dev_host: Option<Located<String>>,
    /// `preview.port` (vite): where `vite preview` serves the production build.
    pub preview_port: Option<Located<u16>>,
    /// Where the dev server (`devServer.proxy`, vite `server.proxy`) or Next.js `rewrites`
    /// forward requests: addresses this application calls server-side.
    pub proxy_targets: Vec<Located<String>>,
}

impl FederationConfig {
    /// Whether the text configures federation at all.
    pub fn is_federated(&self) -> bool {
        self.name.is_some() || !self.remotes.is_empty() || !self.exposes.is_empty()
    }
}

/// Reads federation settings and the dev server port from a JS/TS config text. Patterns in
/// comments and strings are ignored; nothing here fails (unknown shapes are skipped).
pub fn parse_federation(text: &str) -> FederationConfig {
    let js = Js::new(text);
    let mut config = FederationConfig::default();
    let mut objects = js.plugin_objects();
    if objects.is_empty() {
        objects = js.federation_shaped_objects();
    }
    for open in objects {
        js.read_federation_object(open, &mut config);
    }
    config.dev_port = js.dev_port();
    config.dev_port_variable = js.dev_port_variable();
    config.dev_host = js.dev_host();
    config.preview_port = js.object_port("preview");
    config.proxy_targets = js.proxy_targets();
    config
}

impl Js<'_> {
    /// Objects passed as first argument to a known federation plugin call.
    fn plugin_objects(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, t) in self.toks.iter().enumerate() {
            if t.kind == Kind::Ident
                && PLUGIN_CALLS.contains(&t.text(self.src))
                && self.is(i + 1, "(")
            {
                if self.is(i + 2, "{") {
                    out.push(i + 2);
                } else if let Some(open) = self.resolve_ident_object(i + 2, i + 3) {
                    out.push(open);
                }
            }
        }
        out
    }

    /// Object literals (assigned, exported or passed) that have `remotes` or `exposes`:
    /// `module.exports = {…}` in `module-federation.config.js`, `const mf = {…}`.
    fn federation_shaped_objects(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, t) in self.toks.iter().enumerate() {
            if !t.is(self.src, "{") || i == 0 {
                continue;
            }
            if !matches!(self.text(i - 1), "=" | "default" | "(" | "return") {
                continue;
            }
            let props = self.object_props(i);
            if props
                .iter()
                .any(|p| matches!(p.key.as_str(), "remotes" | "exposes"))
            {
                out.push(i);
            }
        }
        out
    }

    fn read_federation_object(&self, open: usize, config: &mut FederationConfig) {
        for prop in self.object_props(open) {
            match prop.key.as_str() {
                "name" if config.name.is_none() => {
                    if let Some((value, span, false)) = self.string_in(prop.value) {
                        config.name = Some(Located { value, span });
                    }
                }
                "filename" if config.filename.is_none() => {
                    if let Some((value, span, false)) = self.string_in(prop.value) {
                        config.filename = Some(Located { value, span });
                    }
                }
                "remotes" => self.read_remotes(prop.value, &mut config.remotes),
                "exposes" => self.read_exposes(prop.value, &mut config.exposes),
                "shared" => self.read_shared(prop.value, &mut config.shared),
                _ => {}
            }
        }
    }

    fn read_remotes(&self, value: Range, out: &mut Vec<Remote>) {
        let value = self.deref(value);
        if let Some(open) = self.object_in(value) {
            for prop in self.object_props(open) {
                if let Some(remote) = self.remote_value(&prop.key, prop.value, &prop.key_token) {
                    out.push(remote);
                }
            }
        } else if let Some(items) = self.array_in(value) {
            for item in items {
                if let Some((name, span, _)) = self.string_in(item) {
                    // Nx: `remotes: ['shop']`, URLs come from the project graph.
                    out.push(Remote {
                        key: name.clone(),
                        name,
                        url: None,
                        unresolved: false,
                        name_explicit: false,
                        span,
                    });
                } else if let Some(pair) = self.array_in(item) {
                    // Nx: `remotes: [['shop', 'http://localhost:4201/']]`.
                    let name = pair.first().and_then(|r| self.string_in(*r));
                    let url = pair.get(1).and_then(|r| self.string_in(*r));
                    if let (Some((name, name_span, _)), url) = (name, url) {
                        out.push(Remote {
                            key: name.clone(),
                            name,
                            unresolved: url.as_ref().is_some_and(|u| u.2),
                            name_explicit: false,
                            span: url.as_ref().map_or(name_span, |u| u.1),
                            url: url.map(|u| u.0),
                        });
                    }
                } else if let Some(open) = self.object_in(item) {
                    // Runtime style: `{ name: 'shop', entry: 'http://…/remoteEntry.js' }`.
                    let props = self.object_props(open);
                    let field = |k: &str| {
                        props
                            .iter()
                            .find(|p| p.key == k)
                            .and_then(|p| self.string_in(p.value))
                    };
                    if let Some((name, name_span, _)) = field("name") {
                        let url = field("entry").or_else(|| field("url"));
                        out.push(Remote {
                            key: name.clone(),
                            name,
                            unresolved: url.as_ref().is_some_and(|u| u.2),
                            name_explicit: true,
                            span: url.as_ref().map_or(name_span, |u| u.1),
                            url: url.map(|u| u.0),
                        });
                    }
                }
            }
        }
    }

    /// One `key: value` of a `remotes` object.
    fn remote_value(&self, key: &str, value: Range, key_token: &Token) -> Option<Remote> {
        if let Some((text, span, unresolved)) = self.string_in(value) {
            let (name, url) = split_remote(key, &text);
            return Some(Remote {
                key: key.to_string(),
                name_explicit: url.is_some() && text.trim() != url.as_deref().unwrap_or(""),
                name,
                url,
                unresolved,
                span,
            });
        }
        if let Some(open) = self.object_in(value) {
            let props = self.object_props(open);
            let field = |k: &str| {
                props
                    .iter()
                    .find(|p| p.key == k)
                    .and_then(|p| self.string_in(p.value))
            };
            if let Some((text, span, unresolved)) = field("external")
                .or_else(|| field("entry"))
                .or_else(|| field("url"))
            {
                let (mut name, url) = split_remote(key, &text);
                let mut name_explicit =
                    url.is_some() && text.trim() != url.as_deref().unwrap_or("");
                if let Some((explicit, _, false)) = field("name") {
                    name = explicit;
                    name_explicit = true;
                }
                return Some(Remote {
                    key: key.to_string(),
                    name,
                    url,
                    unresolved,
                    name_explicit,
                    span,
                });
            }
        }
        // A computed value (`promise new Promise(…)`, a function call): the dependency on the
        // remote is still known, its URL is not.
        let first = self.tok(value.0)?;
        let last = self.tok(value.1.checked_sub(1)?)?;
        Some(Remote {
            key: key.to_string(),
            name: key.to_string(),
            url: None,
            unresolved: true,
            name_explicit: false,
            span: if value.1 > value.0 {
                ByteSpan::new(first.start, last.end)
            } else {
                self.span(key_token)
            },
        })
    }

    fn read_exposes(&self, value: Range, out: &mut Vec<Exposed>) {
        let value = self.deref(value);
        if let Some(open) = self.object_in(value) {
            for prop in self.object_props(open) {
                let module = self.string_in(prop.value).map(|s| s.0).or_else(|| {
                    let inner = self.object_in(prop.value)?;
                    let props = self.object_props(inner);
                    let import = props.iter().find(|p| p.key == "import")?;
                    self.string_in(import.value).map(|s| s.0)
                });
                out.push(Exposed {
                    name: prop.key,
                    module,
                    span: self.span(&prop.key_token),
                });
            }
        } else if let Some(items) = self.array_in(value) {
            for (name, span, _) in items.into_iter().filter_map(|r| self.string_in(r)) {
                out.push(Exposed {
                    module: Some(name.clone()),
                    name,
                    span,
                });
            }
        }
    }

    fn read_shared(&self, value: Range, out: &mut Vec<SharedDep>) {
        let value = self.deref(value);
        if let Some(open) = self.object_in(value) {
            self.read_shared_object(open, out);
        } else if let Some(items) = self.array_in(value) {
            for item in items {
                if let Some((name, span, _)) = self.string_in(item) {
                    // Names only: webpack reads the version from the app's package.json.
                    out.push(SharedDep {
                        from_manifest: Some(ManifestRef {
                            path: None,
                            section: None,
                            package: name.clone(),
                        }),
                        name,
                        singleton: false,
                        required_version: None,
                        required_version_expr: None,
                        span,
                    });
                } else if let Some(open) = self.object_in(item) {
                    // `shared: [{ react: { singleton: true } }]`.
                    self.read_shared_object(open, out);
                }
            }
        }
    }

    /// `{ react: { singleton: true, requiredVersion }, lodash: '^4.17.0', ...deps }`: spreads
    /// share every dependency without singleton rules and are skipped.
    fn read_shared_object(&self, open: usize, out: &mut Vec<SharedDep>) {
        for prop in self.object_props(open) {
            let mut dep = SharedDep {
                name: prop.key.clone(),
                singleton: false,
                required_version: None,
                required_version_expr: None,
                from_manifest: None,
                span: self.span(&prop.key_token),
            };
            // No `requiredVersion`: webpack takes the one in package.json.
            let mut version_set = false;
            if let Some((version, _, _)) = self.string_in(prop.value) {
                dep.required_version = Some(version);
                version_set = true;
            } else if let Some(inner) = self.object_in(prop.value) {
                for field in self.object_props(inner) {
                    match field.key.as_str() {
                        "singleton" => dep.singleton = self.bool_in(field.value) == Some(true),
                        "requiredVersion" => {
                            version_set = true;
                            match self.string_in(field.value) {
                                Some((v, _, false)) => dep.required_version = Some(v),
                                // `false`: no version check at all.
                                _ if self.bool_in(field.value).is_some() => {}
                                _ => {
                                    dep.required_version_expr = Some(self.source(field.value));
                                    dep.from_manifest = self.manifest_ref(field.value);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            } else if prop.value.1 > prop.value.0
                && self.tok(prop.value.0).map(|t| t.start) != Some(prop.key_token.start)
            {
                // `react: deps.react`.
                version_set = true;
                dep.required_version_expr = Some(self.source(prop.value));
                dep.from_manifest = self.manifest_ref(prop.value);
            }
            if !version_set {
                dep.from_manifest = Some(ManifestRef {
                    path: None,
                    section: None,
                    package: dep.name.clone(),
                });
            }
            out.push(dep);
        }
    }

    /// A package.json dependency an expression reads: `deps.react`, `deps['react-dom']`,
    /// `pkg.dependencies.react`, `require('./package.json').peerDependencies.react`, with `deps`
    /// declared from a package.json (`require`, `import`, destructuring).
    fn manifest_ref(&self, value: Range) -> Option<ManifestRef> {
        let (start, end) = value;
        // The chain of property names after the base: `.name` or `['name']`.
        let mut names: Vec<String> = Vec::new();
        let mut i = start;
        let base = self.tok(i)?;
        if base.kind != Kind::Ident {
            return None;
        }
        let base_name = base.text(self.src).to_string();
        let mut path = None;
        i += 1;
        if base_name == "require" && self.is(i, "(") {
            let arg = self.tok(i + 1).filter(|t| t.kind == Kind::Str)?;
            path = Some(scan::string_value(self.src, arg));
            i = self.close.get(i).copied().flatten()? + 1;
        }
        while i < end {
            if self.is(i, ".")
                && let Some(t) = self.tok(i + 1).filter(|t| t.kind == Kind::Ident)
            {
                names.push(t.text(self.src).to_string());
                i += 2;
            } else if self.is(i, "[")
                && let Some(t) = self.tok(i + 1).filter(|t| t.kind == Kind::Str)
                && self.is(i + 2, "]")
            {
                names.push(scan::string_value(self.src, t));
                i += 3;
            } else {
                return None;
            }
        }
        let package = names.pop()?;
        if MANIFEST_SECTIONS.contains(&package.as_str()) {
            return None;
        }
        let mut section = names
            .iter()
            .find(|n| MANIFEST_SECTIONS.contains(&n.as_str()))
            .cloned();
        if path.is_none() {
            // How the base was declared: `const deps = require('./package.json').dependencies`,
            // `const { dependencies: deps } = require(…)`, `import pkg from './package.json'`.
            let (decl_section, decl_path) = self.manifest_declaration(&base_name, start);
            section = section.or(decl_section);
            path = decl_path;
            if MANIFEST_SECTIONS.contains(&base_name.as_str()) {
                section = section.or(Some(base_name.clone()));
            }
            // A base that is not read from a package.json is some other table of versions.
            path.as_ref()?;
        }
        Some(ManifestRef {
            path,
            section,
            package,
        })
    }

    /// The dependency section and package.json path of the declaration of `name` (before
    /// token `before`): the statement holding the name that `require`s or imports a
    /// `…package.json`.
    fn manifest_declaration(&self, name: &str, before: usize) -> (Option<String>, Option<String>) {
        for i in (0..before.min(self.toks.len())).rev() {
            let Some(t) = self.tok(i) else { continue };
            if t.kind != Kind::Str || !scan::string_value(self.src, t).ends_with("package.json") {
                continue;
            }
            // The statement around the string: back to `const|let|var|import`, on to `;`.
            let first = (0..i)
                .rev()
                .take(64)
                .find(|&j| matches!(self.text(j), "const" | "let" | "var" | "import"))
                .unwrap_or(i);
            let last = (i + 1..self.toks.len().min(i + 64))
                .find(|&j| matches!(self.text(j), ";" | "const" | "let" | "var" | "import"))
                .unwrap_or_else(|| self.toks.len().min(i + 8));
            if !(first..last).any(|j| self.is(j, name)) {
                continue;
            }
            let section = (first..last)
                .map(|j| self.text(j))
                .find(|w| MANIFEST_SECTIONS.contains(w))
                .map(str::to_string);
            return (section, Some(scan::string_value(self.src, t)));
        }
        (None, None)
    }

    /// Targets of `proxy: { '/api': 'http://…' }`, `proxy: { '/api': { target } }`,
    /// `proxy: [{ context, target }]` and of Next.js rewrites to absolute `destination`s.
    fn proxy_targets(&self) -> Vec<Located<String>> {
        let mut out = Vec::new();
        let mut push = |found: Option<(String, ByteSpan)>| {
            if let Some((value, span)) = found {
                out.push(Located { value, span });
            }
        };
        for (i, t) in self.toks.iter().enumerate() {
            if !self.is(i + 1, ":") || !matches!(t.kind, Kind::Ident | Kind::Str) {
                continue;
            }
            let key = match t.kind {
                Kind::Str => scan::string_value(self.src, t),
                _ => t.text(self.src).to_string(),
            };
            let value = (i + 2, self.value_end(i + 2, self.toks.len()));
            match key.as_str() {
                "proxy" => {
                    if let Some(open) = self.object_in(value) {
                        for route in self.object_props(open) {
                            push(self.target_in(route.value));
                        }
                    } else if let Some(items) = self.array_in(value) {
                        for item in items {
                            push(self.target_in(item));
                        }
                    }
                }
                "destination" => {
                    push(self.literal_in(value).filter(|(v, _)| v.contains("://")));
                }
                _ => {}
            }
        }
        out
    }

    /// A proxy route's target: a string, or an object's `target`.
    fn target_in(&self, value: Range) -> Option<(String, ByteSpan)> {
        if let Some(found) = self.literal_in(value) {
            return Some(found);
        }
        let open = self.object_in(value)?;
        let target = self
            .object_props(open)
            .into_iter()
            .find(|p| p.key == "target")?;
        self.literal_in(target.value)
    }

    /// A string without unresolved parts, or the literal fallback of
    /// `process.env.API_URL || 'http://localhost:8080'`.
    fn literal_in(&self, value: Range) -> Option<(String, ByteSpan)> {
        if let Some((text, span, false)) = self.string_in(value) {
            return Some((text, span));
        }
        let last = value.1.checked_sub(1)?;
        let fallback = last > value.0 && matches!(self.text(last - 1), "||" | "??");
        let token = self.tok(last).filter(|t| t.kind == Kind::Str && fallback)?;
        Some((scan::string_value(self.src, token), self.span(token)))
    }

    /// The values of `prop` in `devServer` (webpack, rspack) and `server` (vite) objects, in
    /// that order.
    fn dev_server_props(&self, prop: &str) -> Vec<Range> {
        let mut out = Vec::new();
        for key in ["devServer", "server"] {
            for (i, t) in self.toks.iter().enumerate() {
                let is_key = match t.kind {
                    Kind::Ident => t.is(self.src, key),
                    Kind::Str => scan::string_value(self.src, t) == key,
                    _ => false,
                } && self.is(i + 1, ":");
                if !is_key {
                    continue;
                }
                let end = self.value_end(i + 2, self.toks.len());
                let Some(open) = self.object_in((i + 2, end)) else {
                    continue;
                };
                out.extend(
                    self.object_props(open)
                        .into_iter()
                        .filter(|p| p.key == prop)
                        .map(|p| p.value),
                );
            }
        }
        out
    }

    /// `devServer.port` (webpack, rspack) or `server.port` (vite), first found.
    fn dev_port(&self) -> Option<Located<u16>> {
        self.dev_server_props("port")
            .into_iter()
            .find_map(|value| self.port_in(value, 0))
    }

    /// The environment variable the dev port is read from, first found:
    /// `Number(env.VITE_APP_PORT || 3000)`, `process.env.PORT`, `import.meta.env.VITE_PORT`.
    fn dev_port_variable(&self) -> Option<Located<String>> {
        self.dev_server_props("port")
            .into_iter()
            .find_map(|value| self.env_variable_in(value))
    }

    /// The first `<env object>.<NAME>` in a value: an object whose name ends in `env` or
    /// `Env` (`process.env`, `env`, `envVars`, `loadedEnv`) and an upper-case name.
    fn env_variable_in(&self, value: Range) -> Option<Located<String>> {
        (value.0 + 2..value.1).find_map(|i| {
            let object = self.tok(i - 2)?;
            let name = self.tok(i)?;
            let object_text = object.text(self.src);
            let lower = object_text.to_ascii_lowercase();
            let env_like = object.kind == Kind::Ident
                && (lower.ends_with("env") || lower.ends_with("envvars") || lower == "vars");
            let name_text = name.text(self.src);
            let upper = name.kind == Kind::Ident
                && name_text.chars().any(|c| c.is_ascii_uppercase())
                && name_text
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            (env_like && upper && self.is(i - 1, ".")).then(|| Located {
                value: name_text.to_string(),
                span: self.span(name),
            })
        })
    }

    /// `devServer.host` (webpack, rspack) or `server.host` (vite), first found: a string (or
    /// the literal fallback of `process.env.HOST || '127.0.0.1'`), or `true` for every
    /// interface.
    fn dev_host(&self) -> Option<Located<String>> {
        self.dev_server_props("host").into_iter().find_map(|value| {
            if let Some((text, span)) = self.literal_in(value) {
                return Some(Located { value: text, span });
            }
            let t = self.tok(value.0)?;
            (self.bool_in(value) == Some(true)).then(|| Located {
                value: "0.0.0.0".to_string(),
                span: self.span(t),
            })
        })
    }

    /// The `port` of the object under `key` (`preview: { port: 4173 }`), first found.
    fn object_port(&self, key: &str) -> Option<Located<u16>> {
        for (i, t) in self.toks.iter().enumerate() {
            let is_key = match t.kind {
                Kind::Ident => t.is(self.src, key),
                Kind::Str => scan::string_value(self.src, t) == key,
                _ => false,
            } && self.is(i + 1, ":");
            if !is_key {
                continue;
            }
            let end = self.value_end(i + 2, self.toks.len());
            let Some(open) = self.object_in((i + 2, end)) else {
                continue;
            };
            if let Some(port) = self
                .object_props(open)
                .into_iter()
                .find(|p| p.key == "port")
                .and_then(|p| self.port_in(p.value, 0))
            {
                return Some(port);
            }
        }
        None
    }

    /// A port number in a value: `3001`, `'3001'`, `process.env.PORT || 3001`, or a constant.
    fn port_in(&self, value: Range, depth: usize) -> Option<Located<u16>> {
        if depth < 4
            && value.1 == value.0 + 1
            && let Some(t) = self.tok(value.0)
            && t.kind == Kind::Ident
        {
            let (s, e) = self.resolve_ident(t.text(self.src), value.0)?;
            return self.port_in((s, e), depth + 1);
        }
        let mut candidates = Vec::new();
        for i in value.0..value.1 {
            let Some(t) = self.tok(i) else { break };
            let text = match t.kind {
                Kind::Num => t.text(self.src).to_string(),
                Kind::Str => scan::string_value(self.src, t),
                _ => continue,
            };
            if let Ok(port) = text.trim().parse::<u16>()
                && port > 0
            {
                candidates.push(Located {
                    value: port,
                    span: self.span(t),
                });
            }
        }
        if candidates.len() > 1 {
            // `parseInt(process.env.PORT || '3001', 10)`: the radix is not a port.
            candidates.retain(|c| c.value >= 1024);
        }
        match candidates.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        }
    }
}

/// Splits a remote's value: `'shop@http://…/remoteEntry.js'` → (`shop`, url); a bare URL
/// (vite) → (key, url); `promise …`/`internal …` or a global name → no URL.
fn split_remote(key: &str, value: &str) -> (String, Option<String>) {
    let value = value.trim();
    if value.starts_with("promise ") || value.starts_with("internal ") {
        return (key.to_string(), None);
    }
    let url_start = |rest: &str| {
        [
            "http://",
            "https://",
            "//",
            "${",
            "/",
            "./",
            "../",
            "localhost",
        ]
        .iter()
        .any(|p| rest.starts_with(p))
    };
    if let Some(at) = value
        .char_indices()
        .filter(|&(_, c)| c == '@')
        .map(|(i, _)| i)
        .find(|&i| i > 0 && url_start(value.get(i + 1..).unwrap_or("")))
    {
        let name = value.get(..at).unwrap_or(key);
        return (name.to_string(), value.get(at + 1..).map(str::to_string));
    }
    if value.contains("://") || url_start(value) {
        return (key.to_string(), Some(value.to_string()));
    }
    (key.to_string(), None)
}

#[cfg(test)]
mod tests;
