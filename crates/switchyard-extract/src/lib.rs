//! Reads a repository's deployment files into [`RepoFacts`], every fact with a location.
//!
//! One module per format (compose, kubernetes, dotenv, nginx, traefik, workspace, federation,
//! spring, config_urls, scripts, sockets), each behind the [`Extractor`] trait and listed in
//! [`Registry`]. Extraction is pure: [`extract_files`] takes file texts and returns facts;
//! [`extract_repository`] adds the walk over the disk (gitignore-aware, with [`Limits`]), and
//! [`cache`] keeps results by content hash. Broken files become diagnostics; the rest of the
//! repository is still read.
//!
//! ```
//! use switchyard_extract::{extract_files, source::RepoFiles, Registry};
//! let mut files = RepoFiles::new("api");
//! files.add_text("docker-compose.yml", "services:\n  web:\n    image: nginx\n    ports: [\"8080:80\"]\n");
//! let facts = extract_files(files, &Registry::default());
//! assert_eq!(facts.services[0].name, "web");
//! ```
//!
//! Not for: resolving references between repositories (that is `switchyard-link`).

pub mod attribute;
pub mod cache;
pub mod compose;
pub mod config_urls;
pub mod dotenv;
pub mod emit;
pub mod extractor;
pub mod federation;
pub mod fleet;
pub mod helm;
pub mod interpolate;
pub mod kubernetes;
pub mod nginx;
pub mod scripts;
pub mod sockets;
pub mod source;
pub mod spring;
pub mod traefik;
pub mod variant;
pub mod walk;
pub mod workspace;
pub mod yaml;

pub use extractor::{Extractor, Handled, Registry};
pub use walk::{Cancel, Limits};

use source::RepoFiles;
use std::path::Path;
use switchyard_model::RepoFacts;

/// Extracts facts from files already in memory (pure).
///
/// A file's facts depend on that file and on what the others hold (read through
/// [`RepoFiles`], never through facts of other files), so files are read in parallel (rayon)
/// and their facts joined in file order, as a read in order would give them.
pub fn extract_files(files: RepoFiles, registry: &Registry) -> RepoFacts {
    use rayon::prelude::*;
    let mut facts = RepoFacts {
        repository: files.repository.clone(),
        files_scanned: files.len(),
        ..RepoFacts::default()
    };
    let per_file: Vec<RepoFacts> = files
        .files()
        .par_iter()
        .map(|file| {
            let mut out = RepoFacts {
                repository: files.repository.clone(),
                ..RepoFacts::default()
            };
            registry.extract_file(file, &files, &mut out);
            out
        })
        .collect();
    for part in per_file {
        append_facts(&mut facts, part);
    }
    attribute::attribute(&mut facts, &files);
    variant::assign(&mut facts, &files);
    facts
}

/// Appends one file's facts to the repository's (every list; the counts are the caller's).
fn append_facts(facts: &mut RepoFacts, part: RepoFacts) {
    let RepoFacts {
        repository: _,
        services,
        references,
        env,
        resources,
        shared,
        federation,
        sockets,
        proxy_routes,
        tasks,
        diagnostics,
        files_scanned: _,
        variants,
    } = part;
    facts.services.extend(services);
    facts.references.extend(references);
    facts.env.extend(env);
    facts.resources.extend(resources);
    facts.shared.extend(shared);
    facts.federation.extend(federation);
    facts.sockets.extend(sockets);
    facts.proxy_routes.extend(proxy_routes);
    facts.tasks.extend(tasks);
    facts.diagnostics.extend(diagnostics);
    facts.variants.extend(variants);
}

/// Whether a repository's facts came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    Hit,
    Miss,
    Disabled,
}

/// Reads a repository from disk and extracts its facts, through `cache` when given.
pub fn extract_repository(
    name: &str,
    root: &Path,
    registry: &Registry,
    limits: Limits,
    cache: Option<&cache::Cache>,
) -> (RepoFacts, CacheUse) {
    extract_repository_until(name, root, registry, limits, cache, &Cancel::default())
}

/// [`extract_repository`] that stops reading when `cancel` fires (the facts then hold what was
/// read before, and a `cancelled` diagnostic).
pub fn extract_repository_until(
    name: &str,
    root: &Path,
    registry: &Registry,
    limits: Limits,
    cache: Option<&cache::Cache>,
    cancel: &Cancel,
) -> (RepoFacts, CacheUse) {
    let listing = walk::list_candidates(name, root, registry, limits, cancel);
    // An interrupted walk depends on timing, not only on the files: never cached.
    let cache = cache.filter(|_| !listing.interrupted);
    let Some(cache) = cache else {
        let read = walk::read_candidates(name, listing, limits, cancel);
        let mut facts = extract_files(read.files, registry);
        facts.diagnostics.splice(0..0, read.diagnostics);
        return (facts, CacheUse::Disabled);
    };
    let fingerprint = cache::Cache::fingerprint(name, root, &listing);
    if let Some(facts) = cache.by_fingerprint(&fingerprint) {
        return (facts, CacheUse::Hit);
    }
    let read = walk::read_candidates(name, listing, limits, cancel);
    let interrupted = read.interrupted;
    let key = cache::Cache::key(&read.files, &read.diagnostics);
    if !interrupted && let Some(facts) = cache.by_key((name, root), &fingerprint, &key) {
        return (facts, CacheUse::Hit);
    }
    let mut facts = extract_files(read.files, registry);
    facts.diagnostics.splice(0..0, read.diagnostics);
    if !interrupted {
        cache.store((name, root), &fingerprint, &key, &facts);
    }
    (facts, CacheUse::Miss)
}

/// Counts from one fleet extraction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FleetStats {
    pub repositories: usize,
    pub files_scanned: usize,
    pub cache_hits: usize,
}

/// Extracts every repository of a fleet in parallel (rayon), in fleet order. `on_repository` is
/// called once per finished repository (from worker threads), e.g. to drive a progress bar.
pub fn extract_fleet(
    fleet: &fleet::Fleet,
    registry: &Registry,
    limits: Limits,
    cache: Option<&cache::Cache>,
    on_repository: &(dyn Fn(&str) + Sync),
) -> (Vec<RepoFacts>, FleetStats) {
    extract_fleet_until(
        fleet,
        registry,
        limits,
        cache,
        on_repository,
        &Cancel::default(),
    )
}

/// Variants named in `switchyard.toml` win over the ones found in the files. They are not part
/// of the files' cache key, so they are applied to facts after the cache.
pub fn apply_configured_variants(facts: &mut RepoFacts, repo: &fleet::RepoSpec) {
    if !repo.variants.is_empty() {
        facts.variants = repo.variants.iter().map(|v| v.to_variant()).collect();
    }
}

/// [`extract_fleet`] that stops reading when `cancel` fires.
pub fn extract_fleet_until(
    fleet: &fleet::Fleet,
    registry: &Registry,
    limits: Limits,
    cache: Option<&cache::Cache>,
    on_repository: &(dyn Fn(&str) + Sync),
    cancel: &Cancel,
) -> (Vec<RepoFacts>, FleetStats) {
    use rayon::prelude::*;
    let results: Vec<(RepoFacts, CacheUse)> = fleet
        .repositories
        .par_iter()
        .map(|repo| {
            let (mut facts, cache_use) =
                extract_repository_until(&repo.name, &repo.path, registry, limits, cache, cancel);
            apply_configured_variants(&mut facts, repo);
            on_repository(&repo.name);
            (facts, cache_use)
        })
        .collect();
    if let Some(cache) = cache {
        // A cache that cannot be written only costs speed on the next run.
        let _ = cache.save();
    }
    let stats = FleetStats {
        repositories: results.len(),
        files_scanned: results.iter().map(|(f, _)| f.files_scanned).sum(),
        cache_hits: results.iter().filter(|(_, c)| *c == CacheUse::Hit).count(),
    };
    (results.into_iter().map(|(f, _)| f).collect(), stats)
}
