//! The analysis report: the one JSON document `analyze --format json` prints, and the data the
//! table renderer reads. Locations are `{repository, path, line, column}`; nothing secret is in
//! here because `extract` stores only redacted values.

use crate::inputs::Analysis;
use serde::Serialize;
use std::collections::HashMap;
use switchyard_graph::Phase;
use switchyard_model::{EndpointKind, Location};

#[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    pub repository: String,
    pub path: String,
    pub line: u32,
    pub column: u32,
}

impl From<&Location> for Loc {
    fn from(l: &Location) -> Self {
        Loc {
            repository: l.repository.clone(),
            path: l.path.clone(),
            line: l.line,
            column: l.column,
        }
    }
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // One location is one line: a file name holding a line break or an escape sequence is
        // shown escaped.
        write!(
            f,
            "{}/{}:{}:{}",
            crate::terminal::escape(&self.repository),
            crate::terminal::escape(&self.path),
            self.line,
            self.column
        )
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub repositories: Vec<RepositoryOut>,
    pub services: Vec<ServiceOut>,
    pub edges: Vec<EdgeOut>,
    pub repository_edges: Vec<RepoEdge>,
    pub unresolved: Vec<UnresolvedOut>,
    pub cycles: Vec<Vec<String>>,
    /// A smallest set of repository edges whose removal breaks every cycle.
    pub cycle_cut: Vec<RepoEdge>,
    pub phases: Vec<Phase>,
    pub diagnostics: Vec<DiagnosticOut>,
    pub summary: Summary,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryOut {
    pub name: String,
    pub path: String,
    pub host: String,
    pub environment: String,
    pub services: Vec<String>,
    pub diagnostics: usize,
    /// The alternative deployments the repository holds; absent when it holds one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<VariantOut>,
}

/// One alternative deployment of a repository (`--variant NAME` shows only it).
#[derive(Clone, Serialize)]
pub struct VariantOut {
    pub name: String,
    /// Files and directories (ending in `/`) it is made of.
    pub files: Vec<String>,
    /// Services it declares (in the analysed view).
    pub services: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceOut {
    pub id: String,
    pub repository: String,
    pub name: String,
    pub kind: String,
    pub source: Loc,
    pub aliases: Vec<AliasOut>,
    pub endpoints: Vec<EndpointOut>,
    /// The repository's variants that declare the service; absent when it holds one deployment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
}

#[derive(Serialize)]
pub struct AliasOut {
    pub name: String,
    pub kind: switchyard_model::AliasKind,
    pub location: Loc,
}

#[derive(Serialize)]
pub struct EndpointOut {
    #[serde(flatten)]
    pub kind: EndpointKind,
    /// Short human form: `0.0.0.0:8080->80/tcp`, `app.example.com/api`.
    pub display: String,
    pub location: Loc,
}

#[derive(Serialize)]
pub struct EdgeOut {
    pub from: String,
    pub to: String,
    /// `call`, `startup`, `build`, `browser` or `peer`.
    pub kind: switchyard_model::EdgeKind,
    /// The call carries metrics, traces or logs.
    pub telemetry: bool,
    pub confidence: switchyard_model::Confidence,
    pub mechanism: String,
    pub evidence: Vec<Loc>,
    /// The variants the edge was seen in; absent when its repository holds one deployment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
    /// Package dependencies: the package.json sections declaring the edge; absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<String>,
}

#[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RepoEdge {
    pub from: String,
    pub to: String,
}

#[derive(Serialize)]
pub struct UnresolvedOut {
    pub repository: String,
    pub service: Option<String>,
    pub reference: String,
    pub mechanism: String,
    pub reason: switchyard_model::UnresolvedReason,
    pub location: Loc,
}

#[derive(Serialize)]
pub struct DiagnosticOut {
    pub repository: String,
    pub code: switchyard_model::DiagnosticCode,
    pub message: String,
    pub location: Loc,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub repositories: usize,
    pub services: usize,
    pub edges: usize,
    pub cross_repository_edges: usize,
    pub unresolved: usize,
    pub cycles: usize,
    pub phases: usize,
    pub diagnostics: usize,
    pub files_scanned: usize,
}

/// Builds the report of an analysis.
pub fn build(analysis: &Analysis) -> Report {
    let model = &analysis.model;
    let mut services_of: HashMap<&str, Vec<String>> = HashMap::new();
    for s in &model.services {
        services_of
            .entry(&s.repository)
            .or_default()
            .push(s.id.clone());
    }
    let mut diagnostics_of: HashMap<&str, usize> = HashMap::new();
    for d in &model.diagnostics {
        *diagnostics_of.entry(&d.repository).or_default() += 1;
    }
    let variants_of = variants_by_repository(analysis);
    let repositories = model
        .repositories
        .iter()
        .map(|r| RepositoryOut {
            name: r.name.clone(),
            path: r.path.clone(),
            host: r.host.clone(),
            environment: r.environment.clone(),
            services: services_of.remove(r.name.as_str()).unwrap_or_default(),
            diagnostics: diagnostics_of.get(r.name.as_str()).copied().unwrap_or(0),
            variants: variants_of
                .get(r.name.as_str())
                .cloned()
                .unwrap_or_default(),
        })
        .collect();
    let services = model
        .services
        .iter()
        .map(|s| ServiceOut {
            id: s.id.clone(),
            repository: s.repository.clone(),
            name: s.name.clone(),
            kind: s.kind.as_str().to_string(),
            source: (&s.source).into(),
            aliases: s
                .aliases
                .iter()
                .map(|a| AliasOut {
                    name: a.name.clone(),
                    kind: a.kind,
                    location: (&a.location).into(),
                })
                .collect(),
            endpoints: s
                .endpoints
                .iter()
                .map(|e| EndpointOut {
                    kind: e.kind.clone(),
                    display: e.kind.to_string(),
                    location: (&e.location).into(),
                })
                .collect(),
            variants: s.variants.clone(),
        })
        .collect();
    let edges: Vec<EdgeOut> = model
        .edges
        .iter()
        .map(|e| EdgeOut {
            from: e.from.clone(),
            to: e.to.clone(),
            kind: e.kind,
            telemetry: e.telemetry,
            confidence: e.confidence,
            mechanism: e.mechanism_label(),
            evidence: e.evidence.iter().map(Loc::from).collect(),
            sections: e.sections.clone(),
            variants: e.variants.clone(),
        })
        .collect();
    let graph = &analysis.repo_graph;
    let repository_edges: Vec<RepoEdge> = graph
        .edges()
        .into_iter()
        .map(|(a, b)| RepoEdge {
            from: a.to_string(),
            to: b.to_string(),
        })
        .collect();
    let cycles = graph.cycles();
    let cycle_cut = graph
        .cut_set()
        .into_iter()
        .map(|(from, to)| RepoEdge { from, to })
        .collect();
    let phases = graph.phases();
    let unresolved: Vec<UnresolvedOut> = model
        .unresolved
        .iter()
        .map(|u| UnresolvedOut {
            repository: u.repository.clone(),
            service: u.service.clone(),
            reference: u.reference.clone(),
            mechanism: u.mechanism.as_str().to_string(),
            reason: u.reason,
            location: (&u.location).into(),
        })
        .collect();
    let diagnostics: Vec<DiagnosticOut> = model
        .diagnostics
        .iter()
        .map(|d| DiagnosticOut {
            repository: d.repository.clone(),
            code: d.diagnostic.code,
            message: d.diagnostic.message.clone(),
            location: (&d.diagnostic.location).into(),
        })
        .collect();
    let cross = model
        .edges
        .iter()
        .filter(|e| repo_of_id(&e.from) != repo_of_id(&e.to))
        .count();
    Report {
        summary: Summary {
            repositories: model.repositories.len(),
            services: model.services.len(),
            edges: edges.len(),
            cross_repository_edges: cross,
            unresolved: unresolved.len(),
            cycles: cycles.len(),
            phases: phases.len(),
            diagnostics: diagnostics.len(),
            files_scanned: analysis.stats.files_scanned,
        },
        repositories,
        services,
        edges,
        repository_edges,
        unresolved,
        cycles,
        cycle_cut,
        phases,
        diagnostics,
    }
}

/// Each repository's variants with the number of services each declares in the model; one pass
/// over the facts and one over the services.
fn variants_by_repository(analysis: &Analysis) -> HashMap<&str, Vec<VariantOut>> {
    let mut out: HashMap<&str, Vec<VariantOut>> = HashMap::new();
    for facts in analysis.facts.iter().filter(|f| !f.variants.is_empty()) {
        out.entry(facts.repository.as_str()).or_insert_with(|| {
            facts
                .variants
                .iter()
                .map(|v| VariantOut {
                    name: v.name.clone(),
                    files: v.files.clone(),
                    services: 0,
                })
                .collect()
        });
    }
    for s in analysis
        .model
        .services
        .iter()
        .filter(|s| !s.variants.is_empty())
    {
        let Some(variants) = out.get_mut(s.repository.as_str()) else {
            continue;
        };
        for v in variants.iter_mut().filter(|v| s.variants.contains(&v.name)) {
            v.services += 1;
        }
    }
    out
}

/// The repository part of a service id (`repo/name`).
pub fn repo_of_id(id: &str) -> &str {
    id.split_once('/').map_or(id, |(r, _)| r)
}
