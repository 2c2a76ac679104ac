//! Scores the analysis against the hand-written truths of `../shared/corpus`: the 11 top-level
//! generation-1 systems and the 12 systems of `gen2/`, service-level precision and recall over
//! `(from, to)` pairs, per system and overall. The rules (from the corpus README):
//!
//! - How a system is analysed: one with `repositories` in its truth is a fleet
//!   (`analyze --fleet <system dir>`, every sub-folder a repository); any other system folder is
//!   analysed as one repository (a positional path).
//! - Service ids: a reported service (`repo/service`) is matched by `<repository>/<name>`, then
//!   `<name>`, then the truth's `aliases` (`" / "` separates several names; the first word of the
//!   meaning is the canonical id, and prose meanings such as "not a service" alias nothing), then
//!   the same for each of the tool's own aliases of the service (container_name, hostname, …).
//!   A reported service nothing matches keeps its id, shown with a leading `?`.
//! - Truth = `edges` whose evidence is not `doc`. Neutral (neither true nor false positive):
//!   `doc` edges, `tolerated` pairs (which include every `browser_calls` pair; those are added
//!   too), and both other faces of a `via_proxy` entry `[from, to, proxy]` (`from -> proxy` and
//!   `proxy -> to`). A pair that is also a non-`doc` edge is scored: `edges` win over every
//!   neutral list. Self-pairs are ignored.
//! - Every other reported pair is a false positive; `non_edges` only label such lines
//!   `(non_edge)` (their `" / "` groups are expanded, `self` is the caller; hosts outside the
//!   system never match a reported service anyway). A pair listed both in `non_edges` and a
//!   neutral list is neutral.
//! - Build-time edges (evidence `workspace`, tags `workspace-package` / `build-time`) are scored
//!   like the rest, since package dependency edges are reported; the `runtime` columns show the
//!   same scoring with those truth edges neutral and reported pairs whose every edge has
//!   mechanism `workspace` left out.
//! - The system figures score the top-level `edges` (the whole system's truth) against the
//!   whole report, as before variants were reported. Where the truth has `variants` and the
//!   analysis reports variants, each truth variant is also scored on its own `edges` against
//!   the part of the report that deploys it ([`scoring::variant_view`]: the reported variants
//!   holding one of its files, the services no variant declares, and the edges seen there);
//!   the `per variant` figures count those variant scores in place of such systems' scores
//!   (systems without variants count as they are). Variants that only switch an environment
//!   (compose profiles) list the same files and are scored alike, as the corpus README says.
//! - `sentry-self-hosted` (154 edges) dominates: overall figures are printed with and without it.
//!
//! Generation 1 must stay at 0.9 precision and recall or better. The target for
//! generation 2 and overall is the same 0.9; until it is met the test asserts floors at the
//! figures measured when the floors were set (rounded down), so a regression fails it: raise
//! them as the analysis improves.

mod common;
#[path = "corpus_score/scoring.rs"]
mod scoring;

use scoring::{Score, Totals, Truth, reports_variants, variant_view};
use std::path::{Path, PathBuf};

/// The target for every overall figure.
const TARGET: f64 = 0.9;

/// Regression floors `(precision, recall)`, all non-doc edges: the figures measured on
/// 2026-12-07 rounded down by about 0.02. First measured gen2 0.821 / 0.317, gen2 without sentry
/// 0.821 / 0.608, all 0.844 / 0.363, all without sentry 0.844 / 0.656; after the YAML reader
/// learned libyaml's flow-sequence indentation (sentry's compose file parses): gen2 0.920 /
/// 0.793, all 0.923 / 0.807, the without-sentry figures unchanged; after `localhost` inside a
/// container stopped meaning the host's publisher: all 0.936 / 0.807, all without sentry 0.867 /
/// 0.656; after compose layering, one-shot jobs, variants, mounted configs, Spring config and
/// more address shapes: gen2 0.958 / 0.934, gen2 without sentry 0.918 / 0.873, all 0.958 /
/// 0.939, all without sentry 0.923 / 0.889 — the target is met for gen2 and all, and their
/// floors are above it. The target is `TARGET` (0.9) for both; raise the floors as the analysis
/// improves.
const FLOOR_GEN2: (f64, f64) = (0.93, 0.91);
const FLOOR_GEN2_WITHOUT_SENTRY: (f64, f64) = (0.89, 0.85);
const FLOOR_ALL: (f64, f64) = (0.93, 0.91);
const FLOOR_ALL_WITHOUT_SENTRY: (f64, f64) = (0.90, 0.86);

const SENTRY: &str = "sentry-self-hosted";

/// Every folder of `dir` holding a `TRUTH.json`, sorted.
fn systems_in(dir: &Path) -> Vec<PathBuf> {
    let mut systems: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("TRUTH.json").is_file())
        .collect();
    systems.sort();
    systems
}

/// One scored system.
struct Scored {
    generation: u8,
    name: String,
    all: Score,
    runtime: Score,
    /// `(truth variant name, all edges, runtime only)`, when the truth has variants and the
    /// analysis reports some.
    variants: Vec<(String, Score, Score)>,
}

fn score_system(dir: &Path, generation: u8) -> Scored {
    let truth = Truth::read(dir);
    let path = dir.to_string_lossy().to_string();
    let report = if truth.repositories.is_some() {
        common::analyze_json(&["--fleet", &path])
    } else {
        common::analyze_json(&[&path])
    };
    let reported = truth.reported(&report);
    let mut variants = Vec::new();
    if reports_variants(&report) {
        for variant in Truth::read_variants(dir) {
            let view = variant_view(&report, &variant.files, truth.repositories.is_some());
            let reported = variant.truth.reported(&view);
            variants.push((
                variant.name,
                variant.truth.score(&reported, false),
                variant.truth.score(&reported, true),
            ));
        }
    }
    Scored {
        generation,
        name: scoring::dir_name(dir),
        all: truth.score(&reported, false),
        runtime: truth.score(&reported, true),
        variants,
    }
}

/// One table row: counts and ratios, all edges then runtime only.
fn row(label: &str, all: Totals, runtime: Totals) -> String {
    format!(
        "{label:<46} {:>4} {:>4} {:>4} {:>9.3} {:>7.3} | {:>4} {:>4} {:>4} {:>9.3} {:>7.3}",
        all.tp,
        all.fp,
        all.fn_,
        all.precision(),
        all.recall(),
        runtime.tp,
        runtime.fp,
        runtime.fn_,
        runtime.precision(),
        runtime.recall(),
    )
}

/// `(all edges, runtime only)` totals of the systems `keep` selects, a system with scored
/// variants counted as the sum of its variants.
fn variant_totals(scored: &[Scored], keep: impl Fn(&Scored) -> bool) -> (Totals, Totals) {
    let (mut all, mut runtime) = (Totals::default(), Totals::default());
    for s in scored.iter().filter(|s| keep(s)) {
        if s.variants.is_empty() {
            all.add(&s.all);
            runtime.add(&s.runtime);
        }
        for (_, a, r) in &s.variants {
            all.add(a);
            runtime.add(r);
        }
    }
    (all, runtime)
}

/// `(all edges, runtime only)` totals of the systems `keep` selects.
fn totals(scored: &[Scored], keep: impl Fn(&Scored) -> bool) -> (Totals, Totals) {
    let (mut all, mut runtime) = (Totals::default(), Totals::default());
    for s in scored.iter().filter(|s| keep(s)) {
        all.add(&s.all);
        runtime.add(&s.runtime);
    }
    (all, runtime)
}

#[test]
fn corpus_precision_and_recall() {
    let Some(corpus) = common::corpus_dir() else {
        eprintln!("SKIP: ../shared/corpus is not present beside the checkout");
        return;
    };
    let gen1 = systems_in(&corpus);
    let gen2 = systems_in(&corpus.join("gen2"));
    assert!(!gen1.is_empty(), "no generation-1 corpus systems found");
    assert!(
        !gen2.is_empty(),
        "no generation-2 corpus systems found in gen2/"
    );

    let scored: Vec<Scored> = gen1
        .iter()
        .map(|d| score_system(d, 1))
        .chain(gen2.iter().map(|d| score_system(d, 2)))
        .collect();

    let header = format!(
        "{:<46} {:>4} {:>4} {:>4} {:>9} {:>7} | {:>4} {:>4} {:>4} {:>9} {:>7}",
        "system", "tp", "fp", "fn", "precision", "recall", "tp", "fp", "fn", "precision", "recall"
    );
    println!(
        "{:<46} {:<32} | runtime only (no build-time edges)",
        "", "all non-doc edges"
    );
    println!("{header}");
    for s in &scored {
        let label = format!("{}{}", if s.generation == 2 { "gen2/" } else { "" }, s.name);
        println!(
            "{}",
            row(&label, Totals::of(&s.all), Totals::of(&s.runtime))
        );
    }
    let overall = [
        ("OVERALL gen1", totals(&scored, |s| s.generation == 1), None),
        (
            "OVERALL gen2",
            totals(&scored, |s| s.generation == 2),
            Some(FLOOR_GEN2),
        ),
        (
            "OVERALL gen2 without sentry",
            totals(&scored, |s| s.generation == 2 && s.name != SENTRY),
            Some(FLOOR_GEN2_WITHOUT_SENTRY),
        ),
        ("OVERALL all", totals(&scored, |_| true), Some(FLOOR_ALL)),
        (
            "OVERALL all without sentry",
            totals(&scored, |s| s.name != SENTRY),
            Some(FLOOR_ALL_WITHOUT_SENTRY),
        ),
    ];
    for (label, (all, runtime), _) in &overall {
        println!("{}", row(label, *all, *runtime));
    }
    println!();
    println!("per variant (where the truth has variants and the analysis reports them)");
    println!("{header}");
    for s in scored.iter().filter(|s| !s.variants.is_empty()) {
        for (name, all, runtime) in &s.variants {
            let short: String = name.chars().take(30).collect();
            let label = format!(
                "{}{} :: {short}",
                if s.generation == 2 { "gen2/" } else { "" },
                s.name
            );
            let label: String = label.chars().take(46).collect();
            println!("{}", row(&label, Totals::of(all), Totals::of(runtime)));
        }
    }
    for (label, keep) in [
        (
            "OVERALL gen2 per variant",
            (|s: &Scored| s.generation == 2) as fn(&Scored) -> bool,
        ),
        ("OVERALL all per variant", |_| true),
    ] {
        let (all, runtime) = variant_totals(&scored, keep);
        println!("{}", row(label, all, runtime));
    }
    println!();
    for s in &scored {
        for (name, all, _) in &s.variants {
            let short: String = name.chars().take(40).collect();
            for line in all.extra.iter().chain(&all.missed) {
                println!("  {} :: {short}: {line}", s.name);
            }
        }
    }
    println!();
    for (label, (all, _), _) in &overall {
        if all.precision() < TARGET || all.recall() < TARGET {
            println!(
                "TARGET NOT MET: {label}: precision {:.3}, recall {:.3} (target {TARGET} both)",
                all.precision(),
                all.recall()
            );
        }
    }
    println!();
    for s in &scored {
        for line in s.all.extra.iter().chain(&s.all.missed) {
            println!("  {}: {line}", s.name);
        }
    }

    let (gen1, _) = overall[0].1;
    assert!(
        gen1.precision() >= TARGET,
        "generation-1 precision {:.3} < {TARGET}",
        gen1.precision()
    );
    assert!(
        gen1.recall() >= TARGET,
        "generation-1 recall {:.3} < {TARGET}",
        gen1.recall()
    );
    for (label, (all, _), floor) in &overall {
        let Some((precision, recall)) = floor else {
            continue;
        };
        assert!(
            all.precision() >= *precision,
            "{label}: precision {:.3} fell below its floor {precision} (target {TARGET})",
            all.precision()
        );
        assert!(
            all.recall() >= *recall,
            "{label}: recall {:.3} fell below its floor {recall} (target {TARGET})",
            all.recall()
        );
    }
}
