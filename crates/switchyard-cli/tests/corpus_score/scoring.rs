//! Reading a corpus `TRUTH.json` and scoring one `analyze --format json` report against it.
//! The rules are written down in the doc comment of `corpus_score.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A `(from, to)` pair of truth service ids (or raw names where nothing matched).
pub type Pair = (String, String);

/// One system's `TRUTH.json`, reduced to what scoring needs.
pub struct Truth {
    /// Present for multi-repository systems: analyse them with `--fleet`.
    pub repositories: Option<Vec<String>>,
    services: BTreeSet<String>,
    /// Other name → truth service id (`aliases`, both sides split on " / ").
    aliases: BTreeMap<String, String>,
    /// Non-`doc` edges → whether they are build-time only (evidence `workspace` or tags
    /// `workspace-package` / `build-time`), and their truth evidence.
    expected: BTreeMap<Pair, (bool, String)>,
    /// Neither rewarded nor penalised: `doc` edges, `tolerated` (which holds the
    /// `browser_calls`) and both other faces of every `via_proxy` entry.
    neutral: BTreeSet<Pair>,
    /// Informational: an extra edge is a false positive whether listed here or not.
    non_edges: BTreeSet<Pair>,
}

/// One of a truth's `variants`: an alternative deployment with its own edges.
pub struct TruthVariant {
    pub name: String,
    /// System-relative files (`<repository>/<path>` in a multi-repository system).
    pub files: Vec<String>,
    /// The system's truth with this variant's `edges` as the expected ones.
    pub truth: Truth,
}

impl Truth {
    pub fn read(dir: &Path) -> Truth {
        let text = std::fs::read_to_string(dir.join("TRUTH.json")).expect("TRUTH.json readable");
        let json: serde_json::Value = serde_json::from_str(&text).expect("TRUTH.json is JSON");
        Truth::from_json(&json, &json["edges"])
    }

    /// The truth's variants, each scored on its own `edges` with the system's services,
    /// aliases and neutral lists.
    pub fn read_variants(dir: &Path) -> Vec<TruthVariant> {
        let text = std::fs::read_to_string(dir.join("TRUTH.json")).expect("TRUTH.json readable");
        let json: serde_json::Value = serde_json::from_str(&text).expect("TRUTH.json is JSON");
        json["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| TruthVariant {
                name: v["name"].as_str().unwrap_or("").to_string(),
                files: v["files"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect(),
                truth: Truth::from_json(&json, &v["edges"]),
            })
            .collect()
    }

    fn from_json(json: &serde_json::Value, edges: &serde_json::Value) -> Truth {
        let strings = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        let mut truth = Truth {
            repositories: json.get("repositories").map(strings),
            services: strings(&json["services"]).into_iter().collect(),
            aliases: BTreeMap::new(),
            expected: BTreeMap::new(),
            neutral: BTreeSet::new(),
            non_edges: BTreeSet::new(),
        };
        // "es": "elasticsearch (container_name)": the meaning's first word, when it is a
        // service, is the canonical id; prose meanings ("not a service: …") alias nothing.
        for (names, meaning) in json["aliases"].as_object().into_iter().flatten() {
            let first = meaning.as_str().unwrap_or("").split_whitespace().next();
            if let Some(canonical) = first.filter(|f| truth.services.contains(*f)) {
                for name in split_group(names) {
                    if !truth.services.contains(&name) {
                        truth.aliases.insert(name, canonical.to_string());
                    }
                }
            }
        }
        let tags = &json["edge_tags"];
        for edge in edges.as_array().into_iter().flatten() {
            let evidence = edge[2].as_str().unwrap_or("");
            for pair in truth.pairs(&edge[0], &edge[1]) {
                if evidence == "doc" {
                    truth.neutral.insert(pair);
                    continue;
                }
                let edge_tags = strings(&tags[format!("{} -> {}", pair.0, pair.1)]);
                let build_time = evidence.split('+').all(|e| e == "workspace")
                    || edge_tags
                        .iter()
                        .any(|t| t == "build-time" || t == "workspace-package");
                // A pair that is also a runtime edge stays scored in runtime-only figures.
                truth
                    .expected
                    .entry(pair)
                    .and_modify(|(b, _)| *b &= build_time)
                    .or_insert((build_time, evidence.to_string()));
            }
        }
        for tolerated in json["tolerated"].as_array().into_iter().flatten() {
            let pairs = truth.pairs(&tolerated[0], &tolerated[1]);
            truth.neutral.extend(pairs);
        }
        for call in json["browser_calls"].as_array().into_iter().flatten() {
            let pairs = truth.pairs(&call[0], &call[1]);
            truth.neutral.extend(pairs);
        }
        for via in json["via_proxy"].as_array().into_iter().flatten() {
            let faces = [truth.pairs(&via[0], &via[2]), truth.pairs(&via[2], &via[1])];
            truth.neutral.extend(faces.into_iter().flatten());
        }
        for non_edge in json["non_edges"].as_array().into_iter().flatten() {
            let pairs = truth.pairs(&non_edge[0], &non_edge[1]);
            truth.non_edges.extend(pairs);
        }
        truth
    }

    /// The truth id of a truth-side name: itself, an alias, or the raw name.
    fn canonical(&self, name: &str) -> String {
        if self.services.contains(name) {
            return name.to_string();
        }
        self.aliases
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// The pairs of a truth entry whose sides may be " / " groups; `self` is the caller.
    fn pairs(&self, from: &serde_json::Value, to: &serde_json::Value) -> Vec<Pair> {
        let mut pairs = Vec::new();
        for a in split_group(from.as_str().unwrap_or("")) {
            let a = self.canonical(&a);
            for b in split_group(to.as_str().unwrap_or("")) {
                let b = if b == "self" {
                    a.clone()
                } else {
                    self.canonical(&b)
                };
                pairs.push((a.clone(), b));
            }
        }
        pairs
    }

    /// The truth id of a reported service: `<repository>/<name>`, then `<name>`, then the
    /// truth's aliases, then the same for each of the tool's own aliases of the service.
    fn match_service(
        &self,
        repository: &str,
        name: &str,
        own_aliases: &[String],
    ) -> Option<String> {
        std::iter::once(name)
            .chain(own_aliases.iter().map(String::as_str))
            .find_map(|n| {
                let qualified = format!("{repository}/{n}");
                if self.services.contains(&qualified) {
                    Some(qualified)
                } else if self.services.contains(n) {
                    Some(n.to_string())
                } else {
                    self.aliases.get(n).cloned()
                }
            })
    }

    /// The report's edges as truth pairs, self-pairs dropped, each with the mechanism and
    /// first evidence location of one reported edge behind it. Services no truth name
    /// matches keep their reported id, marked with `?`.
    pub fn reported(&self, report: &serde_json::Value) -> BTreeMap<Pair, Reported> {
        let mut ids: BTreeMap<&str, String> = BTreeMap::new();
        for service in report["services"].as_array().expect("services array") {
            let id = service["id"].as_str().unwrap_or("");
            let own_aliases: Vec<String> = service["aliases"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a["name"].as_str().map(str::to_string))
                .collect();
            let matched = self.match_service(
                service["repository"].as_str().unwrap_or(""),
                service["name"].as_str().unwrap_or(""),
                &own_aliases,
            );
            ids.insert(id, matched.unwrap_or_else(|| format!("?{id}")));
        }
        let mut reported = BTreeMap::new();
        for edge in report["edges"].as_array().expect("edges array") {
            let side = |key: &str| {
                let id = edge[key].as_str().unwrap_or("");
                ids.get(id).cloned().unwrap_or_else(|| format!("?{id}"))
            };
            let pair = (side("from"), side("to"));
            if pair.0 == pair.1 {
                continue;
            }
            let mechanism = edge["mechanism"].as_str().unwrap_or("").to_string();
            let at = edge["evidence"][0].clone();
            let evidence = format!(
                "{}/{}:{}",
                at["repository"].as_str().unwrap_or(""),
                at["path"].as_str().unwrap_or(""),
                at["line"]
            );
            let entry = reported.entry(pair).or_insert(Reported {
                mechanism: mechanism.clone(),
                evidence,
                build_only: true,
            });
            // Build-only when every reported edge behind the pair is a package dependency.
            entry.build_only &= mechanism.split('+').all(|m| m == "workspace");
        }
        reported
    }

    /// Scores `reported`; with `runtime_only`, build-time truth edges become neutral and
    /// build-only reported pairs are dropped.
    pub fn score(&self, reported: &BTreeMap<Pair, Reported>, runtime_only: bool) -> Score {
        let mut score = Score::default();
        let scored = |build_time: bool| !(runtime_only && build_time);
        for (pair, found) in reported {
            if runtime_only && found.build_only {
                continue;
            }
            match self.expected.get(pair) {
                Some(&(build_time, _)) if scored(build_time) => score.tp += 1,
                Some(_) => {}
                None if self.neutral.contains(pair) => {}
                None => {
                    let listed = if self.non_edges.contains(pair) {
                        " (non_edge)"
                    } else {
                        ""
                    };
                    score.extra.push(format!(
                        "extra  {} -> {}{listed} [{}] {}",
                        pair.0, pair.1, found.mechanism, found.evidence
                    ));
                }
            }
        }
        for (pair, (build_time, evidence)) in &self.expected {
            if scored(*build_time) && !reported.contains_key(pair) {
                score
                    .missed
                    .push(format!("missed {} -> {} [{evidence}]", pair.0, pair.1));
            }
        }
        score
    }
}

/// The part of a report one truth variant deploys. In each repository that reports variants,
/// the reported variants holding one of the truth variant's files are chosen (none when no file
/// of it is there): their services, the services no variant declares, and the edges seen in a
/// chosen variant between two kept services, or seen in no variant but in a file of the truth
/// variant (a shared nginx config it lists; not a package manifest of a build-graph variant).
/// Repositories without variants are kept whole. `fleet`: truth files start with the
/// repository name, and a repository none of whose files the truth variant lists is left out.
pub fn variant_view(
    report: &serde_json::Value,
    truth_files: &[String],
    fleet: bool,
) -> serde_json::Value {
    let mut chosen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for repo in report["repositories"].as_array().into_iter().flatten() {
        let Some(variants) = repo["variants"].as_array().filter(|v| !v.is_empty()) else {
            continue;
        };
        let name = repo["name"].as_str().unwrap_or("");
        let files: Vec<&str> = truth_files
            .iter()
            .filter_map(|f| {
                if fleet {
                    f.strip_prefix(name).and_then(|rest| rest.strip_prefix('/'))
                } else {
                    Some(f.as_str())
                }
            })
            .collect();
        let holds = |held: &str, path: &str| match held.strip_suffix('/') {
            Some("") => true,
            Some(dir) => path.starts_with(&format!("{dir}/")),
            None => held == path,
        };
        let picked: BTreeSet<String> = variants
            .iter()
            .filter(|v| {
                v["files"].as_array().into_iter().flatten().any(|held| {
                    let held = held.as_str().unwrap_or("");
                    files.iter().any(|path| holds(held, path))
                })
            })
            .filter_map(|v| v["name"].as_str().map(str::to_string))
            .collect();
        chosen.insert(name.to_string(), picked);
    }
    let truth_file = |at: &serde_json::Value| {
        let repository = at["repository"].as_str().unwrap_or("");
        let path = at["path"].as_str().unwrap_or("");
        let qualified = format!("{repository}/{path}");
        truth_files
            .iter()
            .any(|f| f == path || (fleet && *f == qualified))
    };
    // In a multi-repository system a truth variant lists files of the repositories it deploys.
    let deployed = |repository: &str| {
        !fleet
            || truth_files.iter().any(|f| {
                f.strip_prefix(repository)
                    .is_some_and(|r| r.starts_with('/'))
            })
    };
    let in_view = |repository: &str, variants: &serde_json::Value| {
        if !deployed(repository) {
            return false;
        }
        let of: Vec<&str> = variants
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        match chosen.get(repository) {
            None => true,
            Some(picked) => of.is_empty() || of.iter().any(|v| picked.contains(*v)),
        }
    };
    let mut view = report.clone();
    let services: Vec<serde_json::Value> = report["services"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| in_view(s["repository"].as_str().unwrap_or(""), &s["variants"]))
        .cloned()
        .collect();
    let kept: BTreeSet<&str> = services.iter().filter_map(|s| s["id"].as_str()).collect();
    let edges: Vec<serde_json::Value> = report["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            let (from, to) = (
                e["from"].as_str().unwrap_or(""),
                e["to"].as_str().unwrap_or(""),
            );
            let repository = from.split_once('/').map_or(from, |(r, _)| r);
            let shared = e["variants"].as_array().is_none_or(Vec::is_empty);
            kept.contains(from)
                && kept.contains(to)
                && in_view(repository, &e["variants"])
                && (!shared
                    || !chosen.contains_key(repository)
                    || e["evidence"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(truth_file))
        })
        .cloned()
        .collect();
    view["services"] = serde_json::Value::Array(services.clone());
    view["edges"] = serde_json::Value::Array(edges);
    view
}

/// Whether any repository of the report holds variants.
pub fn reports_variants(report: &serde_json::Value) -> bool {
    report["repositories"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["variants"].as_array().is_some_and(|v| !v.is_empty()))
}

/// One reported pair: a mechanism and an evidence location of it.
pub struct Reported {
    pub mechanism: String,
    pub evidence: String,
    /// Every reported edge behind the pair is a workspace package dependency.
    pub build_only: bool,
}

#[derive(Default)]
pub struct Score {
    pub tp: usize,
    /// One line per false positive.
    pub extra: Vec<String>,
    /// One line per false negative.
    pub missed: Vec<String>,
}

impl Score {
    pub fn fp(&self) -> usize {
        self.extra.len()
    }

    pub fn fn_(&self) -> usize {
        self.missed.len()
    }
}

/// Summed counts of several scores.
#[derive(Default, Clone, Copy)]
pub struct Totals {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Totals {
    pub fn add(&mut self, score: &Score) {
        self.tp += score.tp;
        self.fp += score.fp();
        self.fn_ += score.fn_();
    }

    pub fn of(score: &Score) -> Totals {
        let mut totals = Totals::default();
        totals.add(score);
        totals
    }

    /// tp / (tp + fp); 1 when nothing was reported.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// tp / (tp + fn); 1 when nothing was expected.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// "a / b / c" → ["a", "b", "c"].
fn split_group(names: &str) -> Vec<String> {
    names
        .split(" / ")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

pub fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}
