//! Module Federation and dev-server settings from bundler configs (webpack, rspack, vite, Next.js,
//! rsbuild, `module-federation.config`): federation apps, their remotes, dev ports and proxies.
//!
//! JS/TS is not parsed: [`scan`] tokenizes (so comments and strings never match) and [`parse`]
//! matches `ModuleFederationPlugin({…})`-style patterns. [`parse_federation`] is pure, for
//! detectors that compare shared singleton versions.

mod js;
pub mod parse;
pub mod scan;

pub use parse::{
    Exposed, FederationConfig, Located, ManifestRef, Remote, SharedDep, parse_federation,
};

use crate::config_urls::json::{self, parse_json};
use crate::emit;
use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name, join_repo_path, parent_dir};
use switchyard_model::redact::redact_passwords;
use switchyard_model::{
    Alias, AliasKind, Endpoint, EndpointKind, FederationSettings, Location, Mechanism, Reference,
    RepoFacts, Scope, ServiceDecl, ServiceKind, SharedDependency, Target,
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
        let mut settings = FederationSettings {
            container: config.name.as_ref().map(|n| n.value.clone()),
            filename: config.filename.as_ref().map(|f| f.value.clone()),
            filename_location: config
                .filename
                .as_ref()
                .map(|f| file.location(f.span.start, f.span.end)),
            named_remotes: Vec::new(),
        };
        for remote in &config.remotes {
            if remote.name_explicit {
                settings
                    .named_remotes
                    .push(file.location(remote.span.start, remote.span.end));
            }
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
        if config.is_federated() {
            out.federation.push(settings);
        }
        // Parsed package.json files, by path (`None`: unreadable).
        let mut manifests: ManifestCache<'_> = Vec::new();
        for dep in &config.shared {
            let mut required_version = dep.required_version.clone();
            let mut version_location = None;
            if required_version.is_none()
                && let Some(from) = &dep.from_manifest
                && let Some((version, location)) =
                    manifest_version(file, repo, from, &mut manifests)
            {
                required_version = Some(version);
                version_location = Some(location);
            }
            out.shared.push(SharedDependency {
                service: owner.clone(),
                name: dep.name.clone(),
                singleton: dep.singleton,
                required_version,
                location: file.location(dep.span.start, dep.span.end),
                version_location,
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
        if let Some(host) = &config.dev_host {
            emit::record_setting(
                out,
                None,
                "HOST",
                &host.value,
                file.location(host.span.start, host.span.end),
            );
        }
        // The value comes from the app's dev `.env`; the place stays the config's variable, so
        // the port belongs to the app whose config reads it.
        let from_env = config.dev_port_variable.as_ref().and_then(|name| {
            let (port, _) = dev_env_port(repo, file.dir(), &name.value)?;
            Some((port, file.location(name.span.start, name.span.end)))
        });
        if let Some((port, location)) = from_env {
            emit::record_env(
                out,
                None,
                &Scope::Host,
                "PORT",
                &port.to_string(),
                location,
                Mechanism::Env,
            );
        } else if let Some(port) = &config.dev_port {
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

/// The port a dev server's config reads from `name` (`server.port: Number(env.VITE_APP_PORT ||
/// 3000)`), as the bundler loads it in development: the first of `.env.development.local`,
/// `.env.development`, `.env.local` and `.env` that sets it, in the config's folder or the
/// nearest folder above it (Vite's `envDir` is often the workspace root), with the value's
/// location.
pub(crate) fn dev_env_port(repo: &RepoFiles, dir: &str, name: &str) -> Option<(u16, Location)> {
    const FILES: [&str; 4] = [
        ".env.development.local",
        ".env.development",
        ".env.local",
        ".env",
    ];
    let mut dir = dir;
    loop {
        for file in FILES {
            let path = if dir.is_empty() {
                file.to_string()
            } else {
                format!("{dir}/{file}")
            };
            let Some(env) = repo.get(&path) else {
                continue;
            };
            let (entries, _) = crate::dotenv::parse_dotenv(&env.text);
            if let Some(e) = entries.iter().rfind(|e| e.key == name) {
                let port = e.value.trim().parse::<u16>().ok().filter(|p| *p > 0)?;
                return Some((port, env.location(e.value_start, e.value_end)));
            }
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent_dir(dir);
    }
}

/// The version a package.json gives a dependency, with the location of its value: the
/// package.json the config names (relative to it), else the nearest one above the config, as
/// webpack reads it for a shared module without `requiredVersion`.
fn manifest_version<'r>(
    file: &SourceFile,
    repo: &'r RepoFiles,
    from: &ManifestRef,
    cache: &mut ManifestCache<'r>,
) -> Option<(String, Location)> {
    let dir = file.dir();
    let manifest = match &from.path {
        Some(path) if path.starts_with('.') => repo.get(&join_repo_path(dir, path)?)?,
        Some(_) => return None, // a package's own package.json (`react/package.json`)
        None => nearest_manifest(repo, dir)?,
    };
    let at = match cache.iter().position(|(f, _)| f.path == manifest.path) {
        Some(at) => at,
        None => {
            cache.push((manifest, parse_json(manifest).ok().flatten()));
            cache.len() - 1
        }
    };
    let doc = cache.get(at)?.1.as_ref()?;
    let sections: Vec<&str> = match &from.section {
        Some(section) => vec![section.as_str()],
        None => parse::MANIFEST_SECTIONS.to_vec(),
    };
    sections.iter().find_map(|section| {
        let (_, spec) = doc.get(section)?.get_entry(&from.package)?;
        let version = spec.as_str()?.trim();
        (!version.is_empty()).then(|| (version.to_string(), json::value_location(spec, manifest)))
    })
}

/// Parsed package.json files of one config's shared dependencies.
type ManifestCache<'r> = Vec<(&'r SourceFile, Option<crate::yaml::Node>)>;

/// The package.json in `dir` or the closest directory above it.
fn nearest_manifest<'r>(repo: &'r RepoFiles, dir: &str) -> Option<&'r SourceFile> {
    let mut current = dir;
    loop {
        let path = if current.is_empty() {
            "package.json".to_string()
        } else {
            format!("{current}/package.json")
        };
        if let Some(found) = repo.get(&path) {
            return Some(found);
        }
        if current.is_empty() {
            return None;
        }
        current = parent_dir(current);
    }
}

#[cfg(test)]
mod tests;
