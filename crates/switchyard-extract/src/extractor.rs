//! The `Extractor` trait every format implements, and the registry that lists them.
//! Adding a format = one file implementing [`Extractor`] + one line in [`Registry::default`].

use crate::source::{RepoFiles, SourceFile};
use switchyard_model::RepoFacts;

/// Whether an extractor took a file; `NotMine` lets later extractors of the registry try it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Yes,
    NotMine,
}

/// Reads one format. Implementations are pure: bytes in, facts out.
pub trait Extractor: Send + Sync {
    /// Short name, used in diagnostics and docs (`compose`, `kubernetes`…).
    fn name(&self) -> &'static str;

    /// Whether this extractor may read the file at a repo-relative path. Called for every
    /// file of a repository during the walk, so it must be cheap (look at the name only).
    fn accepts(&self, path: &str) -> bool;

    /// Extracts facts from one accepted file into `out`. `repo` holds every accepted file of
    /// the repository, for formats that read neighbours (compose overrides, `.env`, includes).
    /// Problems become `out.diagnostics`; this never panics on bad input.
    fn extract(&self, file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) -> Handled;
}

/// The ordered list of extractors. For each file, extractors run in order until one answers
/// [`Handled::Yes`].
pub struct Registry {
    extractors: Vec<Box<dyn Extractor>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new(vec![
            // Records socket facts and lets the formats' own extractors read the file too.
            Box::new(crate::sockets::SocketExtractor),
            Box::new(crate::compose::ComposeExtractor),
            Box::new(crate::kubernetes::KubernetesExtractor),
            Box::new(crate::dotenv::DotenvExtractor),
            Box::new(crate::nginx::NginxExtractor),
            Box::new(crate::traefik::TraefikFileExtractor),
            Box::new(crate::workspace::WorkspaceExtractor),
            Box::new(crate::federation::FederationExtractor),
            Box::new(crate::spring::SpringExtractor),
            Box::new(crate::config_urls::ConfigUrlsExtractor),
            Box::new(crate::scripts::ShellScriptExtractor),
        ])
    }
}

impl Registry {
    pub fn new(extractors: Vec<Box<dyn Extractor>>) -> Self {
        Self { extractors }
    }

    /// Whether any extractor wants this path.
    pub fn accepts(&self, path: &str) -> bool {
        self.extractors.iter().any(|e| e.accepts(path))
    }

    /// Runs the extractors over one file.
    pub fn extract_file(&self, file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) {
        for extractor in &self.extractors {
            if extractor.accepts(&file.path) && extractor.extract(file, repo, out) == Handled::Yes {
                return;
            }
        }
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.extractors.iter().map(|e| e.name()).collect()
    }
}
