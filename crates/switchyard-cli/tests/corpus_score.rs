//! Scores the analysis against the hand-written truths of `../shared/corpus`: service-level
//! precision and recall over edges whose evidence is not `doc`, aliases accepted, `non_edges`
//! (and any other extra edge) counted as false positives.

mod common;

use std::collections::{BTreeMap, BTreeSet};

#[test]
fn corpus_precision_and_recall() {
    let Some(corpus) = common::corpus_dir() else {
        eprintln!("SKIP: ../shared/corpus is not present beside the checkout");
        return;
    };
    let mut systems: Vec<_> = std::fs::read_dir(&corpus)
        .expect("corpus readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("TRUTH.json").is_file())
        .collect();
    systems.sort();
    assert!(!systems.is_empty(), "no corpus systems found");

    let (mut tp_all, mut fp_all, mut fn_all) = (0usize, 0usize, 0usize);
    let mut rows = Vec::new();
    let mut misses = Vec::new();
    for system in &systems {
        let truth: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(system.join("TRUTH.json")).expect("truth"),
        )
        .expect("truth JSON");
        let services: BTreeSet<String> = truth["services"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect();
        // "es": "elasticsearch (container_name)" → es means elasticsearch.
        let mut canonical: BTreeMap<String, String> =
            services.iter().map(|s| (s.clone(), s.clone())).collect();
        if let Some(aliases) = truth["aliases"].as_object() {
            for (alias, meaning) in aliases {
                let first = meaning
                    .as_str()
                    .unwrap_or("")
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                if services.contains(first) {
                    canonical.insert(alias.clone(), first.to_string());
                }
            }
        }
        let expected: BTreeSet<(String, String)> = truth["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e[2].as_str() != Some("doc"))
            .map(|e| {
                (
                    e[0].as_str().unwrap_or("").to_string(),
                    e[1].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();

        let path = system.to_string_lossy().to_string();
        let report = common::analyze_json(&[&path]);
        let name_of = |id: &str| -> String {
            let name = id.split_once('/').map_or(id, |(_, n)| n);
            canonical
                .get(name)
                .cloned()
                .unwrap_or_else(|| name.to_string())
        };
        let found: BTreeSet<(String, String)> = common::edge_pairs(&report)
            .into_iter()
            .map(|(a, b)| (name_of(&a), name_of(&b)))
            .filter(|(a, b)| a != b)
            .collect();
        let tp = found.intersection(&expected).count();
        let fp = found.difference(&expected).count();
        let fn_ = expected.difference(&found).count();
        for e in found.difference(&expected) {
            misses.push(format!(
                "{}: extra {} -> {}",
                system.file_name().unwrap_or_default().to_string_lossy(),
                e.0,
                e.1
            ));
        }
        for e in expected.difference(&found) {
            misses.push(format!(
                "{}: missed {} -> {}",
                system.file_name().unwrap_or_default().to_string_lossy(),
                e.0,
                e.1
            ));
        }
        tp_all += tp;
        fp_all += fp;
        fn_all += fn_;
        rows.push((
            system
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string(),
            tp,
            fp,
            fn_,
        ));
    }

    println!(
        "{:<48} {:>4} {:>4} {:>4} {:>9} {:>7}",
        "system", "tp", "fp", "fn", "precision", "recall"
    );
    for (name, tp, fp, fn_) in &rows {
        let p = if tp + fp == 0 {
            1.0
        } else {
            *tp as f64 / (tp + fp) as f64
        };
        let r = if tp + fn_ == 0 {
            1.0
        } else {
            *tp as f64 / (tp + fn_) as f64
        };
        println!("{name:<48} {tp:>4} {fp:>4} {fn_:>4} {p:>9.3} {r:>7.3}");
    }
    let precision = tp_all as f64 / (tp_all + fp_all).max(1) as f64;
    let recall = tp_all as f64 / (tp_all + fn_all).max(1) as f64;
    println!(
        "{:<48} {tp_all:>4} {fp_all:>4} {fn_all:>4} {precision:>9.3} {recall:>7.3}",
        "OVERALL"
    );
    for m in &misses {
        println!("  {m}");
    }
    assert!(precision >= 0.9, "corpus precision {precision:.3} < 0.9");
    assert!(recall >= 0.9, "corpus recall {recall:.3} < 0.9");
}
