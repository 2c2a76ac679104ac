//! compose extractor (not written yet).

use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile};
use switchyard_model::RepoFacts;

pub struct ComposeExtractor;

impl Extractor for ComposeExtractor {
    fn name(&self) -> &'static str {
        "compose"
    }

    fn accepts(&self, _path: &str) -> bool {
        false
    }

    fn extract(&self, _file: &SourceFile, _repo: &RepoFiles, _out: &mut RepoFacts) -> Handled {
        Handled::NotMine
    }
}

/// Whether a file name is a compose file: `docker-compose*.yml|yaml`, `compose*.yml|yaml`.
pub fn is_compose_file_name(name: &str) -> bool {
    (name.starts_with("docker-compose") || name.starts_with("compose"))
        && (name.ends_with(".yml") || name.ends_with(".yaml"))
}
