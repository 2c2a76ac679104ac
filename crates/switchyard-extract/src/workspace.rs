//! workspace extractor (not written yet).

use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile};
use switchyard_model::RepoFacts;

pub struct WorkspaceExtractor;

impl Extractor for WorkspaceExtractor {
    fn name(&self) -> &'static str {
        "workspace"
    }

    fn accepts(&self, _path: &str) -> bool {
        false
    }

    fn extract(&self, _file: &SourceFile, _repo: &RepoFiles, _out: &mut RepoFacts) -> Handled {
        Handled::NotMine
    }
}
