//! Module Federation and dev-server settings from bundler configs (webpack, rspack, vite, Next.js,
//! rsbuild, `module-federation.config`): federation apps, their remotes, dev ports and proxies.
//!
//! JS/TS is not parsed: [`scan`] tokenizes (so comments and strings never match) and [`parse`]
//! matches `ModuleFederationPlugin({…})`-style patterns. [`parse_federation`] is pure, for
//! detectors that compare shared singleton versions.

mod js;
pub mod parse;
pub mod scan;

pub use parse::{Exposed, FederationConfig, Located, Remote, SharedDep, parse_federation};

use crate::emit;
use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name};
use switchyard_model::redact::redact_passwords;
use switchyard_model::{
    Alias, AliasKind, Endpoint, EndpointKind, Mechanism, Reference, RepoFacts, Scope, ServiceDecl,
    ServiceKind, SharedDependency, Target,
};

pub struct FederationExtractor;

/// Whether a file name is a bundler config this extractor reads.
pub fn is_bundler_config(path: &str) -> bool {
    if path.split('/').any(|d| d == "node_modules") {
        return false;
    }
    let name = file_name(path);
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    if !matches!(ext, "js" | "ts" | "cjs" | "mjs" | "cts" | "mts") {
        return false;
    }
    matches!(
        stem,
        "webpack.config"
            | "module-federation.config"
            | "federation.config"
            | "rspack.config"
            | "vite.config"
            | "next.config"
            | "rsbuild.config"
    ) || stem.starts_with("webpack.")
        || stem.starts_with("rspack.")
}

/// Whether `name` is a config whose dev-server port replaces the tool's default port
/// (`vite.config.*` for vite, `webpack*.js` for webpack-dev-server).
pub fn is_port_config_for(tool: &str, name: &str) -> bool {
    is_bundler_config(name)
        && match tool {
            "vite" => name.starts_with("vite.config."),
            "webpack" => name.starts_with("webpack.") || name.starts_with("rspack."),
            _ => false,
        }
}

impl Extractor for FederationExtractor {
    fn name(&self) -> &'static str {
        "federation"
    }

    fn accepts(&self, path: &str) -> bool {
        is_bundler_config(path)
    }

    fn extract(&self, file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) -> Handled {
        let config = parse_federation(&file.text);
        let dir = file.dir();
        let mut owner = None;
        if let Some(name) = &config.name {
            let package = crate::workspace::package_name_in(repo, dir);
            let service_name = package.clone().unwrap_or_else(|| name.value.clone());
            owner = Some(service_name.clone());
            let location = file.location(name.span.start, name.span.end);
            let mut decl = ServiceDecl::new(
                service_name.clone(),
                ServiceKind::Federation,
                Scope::Host,
                location.clone(),
            );
            decl.endpoints.push(Endpoint {
                kind: EndpointKind::FederationContainer {
                    name: name.value.clone(),
                },
                location: location.clone(),
            });
            if name.value != service_name {
                decl.aliases.push(Alias {
                    name: name.value.clone(),
                    kind: AliasKind::PackageName,
                    location,
                });
            }
            decl.owned_paths.push(dir.to_string());
            out.services.push(decl);
        }
        for remote in &config.remotes {
            // `from: None`: the app owning this directory (this config's federation service,
            // or the workspace package) is found by attribution.
            out.references.push(Reference {
                from: None,
                target: Target::FederationRemote {
                    name: remote.name.clone(),
                    url: remote.url.as_deref().map(redact_passwords),
                },
                mechanism: Mechanism::Federation,
                key: Some(format!("remotes.{}", remote.key)),
                location: file.location(remote.span.start, remote.span.end),
                scope: Scope::Host,
            });
        }
        for dep in &config.shared {
            out.shared.push(SharedDependency {
                service: owner.clone(),
                name: dep.name.clone(),
                singleton: dep.singleton,
                required_version: dep.required_version.clone(),
                location: file.location(dep.span.start, dep.span.end),
            });
        }
        for target in &config.proxy_targets {
            emit::record_address(
                out,
                None,
                &Scope::Host,
                "proxy",
                &target.value,
                file.location(target.span.start, target.span.end),
                Mechanism::Url,
            );
        }
        if let Some(port) = &config.dev_port {
            emit::record_env(
                out,
                None,
                &Scope::Host,
                "PORT",
                &port.value.to_string(),
                file.location(port.span.start, port.span.end),
                Mechanism::Env,
            );
        }
        Handled::Yes
    }
}

#[cfg(test)]
mod tests;
