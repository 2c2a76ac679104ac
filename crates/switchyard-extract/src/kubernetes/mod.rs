//! Kubernetes manifests: workloads become services with their ports, env and command addresses;
//! Services, Ingresses and ConfigMaps are matched to workloads across the repository's files.
//!
//! YAML that is not a manifest is left to later extractors. Templates of a Helm chart are
//! rendered with the chart's `values.yaml` ([`crate::helm`]) and read like manifests, their facts
//! located in the template; templated manifests outside a chart are reported
//! (`TemplateNotRendered`) and never guessed at.

mod facts;
mod index;
mod load;
mod model;
mod template;

use crate::compose::is_compose_file_name;
use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name};
use index::FileStatus;
use switchyard_model::RepoFacts;

pub struct KubernetesExtractor;

/// `*.yaml`/`*.yml` at any depth, except compose files.
pub(crate) fn accepts_path(path: &str) -> bool {
    let name = file_name(path);
    (name.ends_with(".yaml") || name.ends_with(".yml") || name == "Kustomization")
        && !is_compose_file_name(name)
}

impl Extractor for KubernetesExtractor {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn accepts(&self, path: &str) -> bool {
        // Chart helpers (`templates/_helpers.tpl`) are read for their `define`s only.
        accepts_path(path) || crate::helm::is_helper(path)
    }

    fn extract(&self, file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) -> Handled {
        if !accepts_path(&file.path) {
            return Handled::NotMine;
        }
        let chart_template = template::first_marker(&file.text).is_some()
            && template::in_chart_templates(&file.path, repo);
        if !file.text.contains("kind") && !chart_template {
            return Handled::NotMine;
        }
        let index = index::index_for(file, repo);
        match index.status.get(&file.path) {
            None | Some(FileStatus::NotMine) => Handled::NotMine,
            Some(FileStatus::Skipped(diagnostic)) => {
                out.diagnostics.push(diagnostic.clone());
                Handled::Yes
            }
            Some(FileStatus::Manifest(diagnostics)) => {
                out.diagnostics.extend(diagnostics.iter().cloned());
                facts::emit_file(&file.path, &index, out);
                Handled::Yes
            }
        }
    }
}

#[cfg(test)]
mod tests;
