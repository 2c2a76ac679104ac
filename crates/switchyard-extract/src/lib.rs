//! Reads a repository's deployment files into [`RepoFacts`], every fact with a location.
//!
//! One module per format (compose, kubernetes, dotenv, nginx, traefik, workspace, federation,
//! config_urls), each behind the [`Extractor`] trait and listed in [`Registry`]. Extraction is
//! pure: [`extract_files`] takes file texts and returns facts; [`extract_repository`] adds the
//! walk over the disk (gitignore-aware, with [`Limits`]), and [`cache`] keeps results by content
//! hash. Broken files become diagnostics; the rest of the repository is still read.
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
pub mod interpolate;
pub mod kubernetes;
pub mod nginx;
pub mod source;
pub mod traefik;
pub mod walk;
pub mod workspace;
pub mod yaml;

pub use extractor::{Extractor, Handled, Registry};
pub use walk::Limits;

use source::RepoFiles;
use std::path::Path;
use switchyard_model::RepoFacts;

/// Extracts facts from files already in memory (pure).
pub fn extract_files(files: RepoFiles, registry: &Registry) -> RepoFacts {
    let mut facts = RepoFacts {
        repository: files.repository.clone(),
        files_scanned: files.len(),
        ..RepoFacts::default()
    };
    for file in files.files() {
        registry.extract_file(file, &files, &mut facts);
    }
    attribute::attribute(&mut facts, &files);
    facts
}

/// Reads a repository from disk and extracts its facts.
pub fn extract_repository(name: &str, root: &Path, registry: &Registry, limits: Limits) -> RepoFacts {
    let read = walk::read_repository(name, root, registry, limits);
    let mut facts = extract_files(read.files, registry);
    facts.diagnostics.splice(0..0, read.diagnostics);
    facts
}
