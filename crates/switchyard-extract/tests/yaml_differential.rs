//! Differential test: every YAML file of `../shared/corpus` read by our reader and by PyYAML
//! (`scripts/yaml_tree.py`), compared document by document in acceptance and in value tree.
//!
//! Both sides write the canonical JSON described in `scripts/yaml_tree.py`: scalars resolved as
//! YAML 1.1 (PyYAML's SafeLoader), merges applied, the last of duplicate keys kept, non-string
//! keys written as `"<tag> <value>"`. PyYAML stops at its first error; documents before it must
//! be equal, and the document it fails on must be an error for us too. After that PyYAML says
//! nothing, so the rest of the file is not compared.
//!
//! `SWITCHYARD_YAML_CORPUS=<dir>` compares the YAML files of another folder instead.
//! Skips with a message when the corpus is absent, or when python3 with PyYAML (built with
//! libyaml, as pip's wheels are) is missing; then it fails instead if `CI` or
//! `SWITCHYARD_REQUIRE_PYYAML` is set: CI installs PyYAML.

use serde_json::{Map, Value as Json, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use switchyard_extract::yaml::{self, Node, Scalar, Value};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        ) {
            out.push(path);
        }
    }
}

/// python3 with PyYAML built with libyaml (the reference: what Compose v1 and most tools load).
fn pyyaml_available() -> bool {
    Command::new("python3")
        .args([
            "-c",
            "import yaml, sys; sys.exit(0 if yaml.__with_libyaml__ else 1)",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// PyYAML's reading of each file: one JSON object per file, in the order given.
fn pyyaml_trees(files: &[PathBuf]) -> Vec<Json> {
    let script = workspace_root().join("scripts/yaml_tree.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(list.as_bytes())
        .expect("file list written");
    let output = child.wait_with_output().expect("yaml_tree.py runs");
    assert!(output.status.success(), "yaml_tree.py failed");
    let text = String::from_utf8(output.stdout).expect("yaml_tree.py writes UTF-8");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("yaml_tree.py writes JSON lines"))
        .collect()
}

/// Our tree in the canonical form of `scripts/yaml_tree.py`.
fn canonical(node: &Node) -> Json {
    match &node.value {
        Value::Scalar { .. } => match node.scalar() {
            Some(s) => scalar_json(s),
            None => Json::Null,
        },
        Value::Seq(items) => Json::Array(items.iter().map(canonical).collect()),
        Value::Map(entries) => {
            let mut map = Map::new();
            for (k, v) in entries {
                map.insert(canonical_key(k), canonical(v));
            }
            Json::Object(map)
        }
    }
}

fn scalar_json(s: Scalar<'_>) -> Json {
    const EXACT: i128 = 1 << 53;
    match s {
        Scalar::Null => Json::Null,
        Scalar::Bool(b) => json!(b),
        Scalar::Int(i) if i.abs() < EXACT => json!(i64::try_from(i).unwrap_or_default()),
        Scalar::Int(i) => json!(format!("!!int {i}")),
        Scalar::Float(f) if f.is_nan() => json!("!!float .nan"),
        Scalar::Float(f) if f.is_infinite() => {
            json!(if f > 0.0 {
                "!!float .inf"
            } else {
                "!!float -.inf"
            })
        }
        Scalar::Float(f) => json!(f),
        Scalar::Timestamp(t) => json!(format!("!!timestamp {t}")),
        Scalar::Str(s) => json!(s),
    }
}

fn canonical_key(key: &Node) -> String {
    let Some(scalar) = key.scalar() else {
        return format!("!!unhashable {}", canonical(key));
    };
    let tag = match scalar {
        Scalar::Str(s) => return s.to_string(),
        Scalar::Null => return "!!null".into(),
        Scalar::Bool(_) => "!!bool",
        Scalar::Int(_) => "!!int",
        Scalar::Float(_) => "!!float",
        Scalar::Timestamp(_) => "",
    };
    match scalar_json(scalar) {
        Json::String(s) => s,
        other => format!("{tag} {other}"),
    }
}

/// The first path where two trees differ, with both values there.
fn first_difference(ours: &Json, theirs: &Json, path: &str) -> Option<String> {
    match (ours, theirs) {
        (Json::Object(a), Json::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let p = format!("{path}.{k}");
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => first_difference(x, y, &p),
                    (x, y) => Some(format!("{p}: ours {x:?}, PyYAML {y:?}")),
                }
            })
        }
        (Json::Array(a), Json::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]"))),
        (Json::Number(a), Json::Number(b)) if a.as_f64() == b.as_f64() => None,
        (a, b) if a == b => None,
        (Json::String(a), Json::String(b)) => {
            // Show where long strings (block scalars) part.
            let at = a
                .char_indices()
                .zip(b.chars())
                .find(|((_, x), y)| x != y)
                .map_or(a.len().min(b.len()), |((i, _), _)| i);
            let from = a.floor_char_boundary(at.saturating_sub(30));
            Some(format!(
                "{path}: strings part at byte {at}: ours {:?}, PyYAML {:?}",
                a.get(from..)
                    .map(|s| s.chars().take(60).collect::<String>()),
                b.get(from..)
                    .map(|s| s.chars().take(60).collect::<String>()),
            ))
        }
        (a, b) => Some(format!("{path}: ours {}, PyYAML {}", short(a), short(b))),
    }
}

fn short(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

/// Compares one file; `None` when we agree with PyYAML.
fn compare(text: &str, theirs: &Json) -> Option<String> {
    let stream = yaml::parse_stream(text);
    let their_docs = theirs["documents"].as_array().cloned().unwrap_or_default();
    let their_error = &theirs["error"];
    for (i, their_doc) in their_docs.iter().enumerate() {
        match stream.documents.get(i) {
            None => {
                return Some(format!(
                    "document {i}: missing in ours (we read {} documents)",
                    stream.documents.len()
                ));
            }
            Some(Err(e)) => {
                return Some(format!(
                    "document {i}: we reject it ({e:?}), PyYAML reads it"
                ));
            }
            Some(Ok(node)) => {
                if let Some(d) = first_difference(&canonical(node), their_doc, &format!("doc{i}")) {
                    return Some(d);
                }
            }
        }
    }
    let n = their_docs.len();
    if their_error.is_null() {
        if stream.documents.len() != n {
            return Some(format!(
                "we read {} documents, PyYAML {n}",
                stream.documents.len()
            ));
        }
        return None;
    }
    match stream.documents.get(n) {
        Some(Err(_)) => None,
        other => Some(format!(
            "document {n}: PyYAML rejects it ({}), we {}",
            their_error["message"],
            match other {
                Some(Ok(_)) => "read it".to_string(),
                _ => "have no such document".to_string(),
            }
        )),
    }
}

#[test]
fn corpus_yaml_reads_like_pyyaml() {
    // SWITCHYARD_YAML_CORPUS points the test at another folder of YAML files.
    let corpus = std::env::var_os("SWITCHYARD_YAML_CORPUS")
        .map_or_else(|| workspace_root().join("../shared/corpus"), PathBuf::from);
    if !corpus.is_dir() {
        eprintln!("SKIP: no corpus at {} (see README)", corpus.display());
        return;
    }
    if !pyyaml_available() {
        let required = ["CI", "SWITCHYARD_REQUIRE_PYYAML"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        assert!(
            !required,
            "python3 with PyYAML and libyaml is required when CI or SWITCHYARD_REQUIRE_PYYAML is set \
             (python3 -m pip install PyYAML==6.0.3)"
        );
        eprintln!(
            "SKIP: python3 with PyYAML (built with libyaml) not found; \
             python3 -m pip install PyYAML==6.0.3 to compare the corpus YAML with it"
        );
        return;
    }
    let mut files = Vec::new();
    yaml_files(&corpus, &mut files);
    assert!(!files.is_empty(), "no YAML file under {}", corpus.display());
    let theirs = pyyaml_trees(&files);
    assert_eq!(theirs.len(), files.len(), "one PyYAML answer per file");
    let mut failures = Vec::new();
    for (file, their) in files.iter().zip(&theirs) {
        let bytes = std::fs::read(file).expect("corpus file readable");
        let Ok(text) = String::from_utf8(bytes) else {
            failures.push(format!("{}: not UTF-8", file.display()));
            continue;
        };
        if let Some(diff) = compare(&text, their) {
            let rel = file.strip_prefix(&corpus).unwrap_or(file);
            failures.push(format!("{}: {diff}", rel.display()));
        }
    }
    eprintln!(
        "compared {} YAML files with PyYAML: {} disagreements",
        files.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} files read differently from PyYAML:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// Without PyYAML: the acceptance recorded in `_parse/MANIFEST.tsv` (pure-Python
/// `yaml.safe_load_all`, PyYAML 6.0.3). Files it reads must be read whole; files it refuses for
/// their syntax must be refused. Its refusals that are not about syntax are left out: unknown
/// tags and `=` (which we read, see `scripts/yaml_tree.py`), and a tab after a plain scalar
/// (which libyaml, and so Compose and the C loader, accept).
#[test]
fn parse_set_acceptance_matches_the_manifest() {
    let parse_set = workspace_root().join("../shared/corpus/_parse");
    let Ok(manifest) = std::fs::read_to_string(parse_set.join("MANIFEST.tsv")) else {
        eprintln!("SKIP: no {}/MANIFEST.tsv", parse_set.display());
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in manifest.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (Some(path), Some(verdict)) = (cols.first(), cols.get(4)) else {
            continue;
        };
        let error = cols.get(8).copied().unwrap_or_default();
        let features = cols.get(7).copied().unwrap_or_default();
        // The column holds the first line of PyYAML's message only.
        let not_syntax = error.contains("could not determine a constructor")
            || (features.split(',').any(|f| f == "tab")
                && error.starts_with("while scanning for the next token"));
        let must_read = match *verdict {
            "yes" => true,
            "no" if !not_syntax => false,
            _ => continue,
        };
        let Ok(text) = std::fs::read_to_string(parse_set.join(path)) else {
            failures.push(format!("{path}: unreadable"));
            continue;
        };
        checked += 1;
        let stream = yaml::parse_stream(&text);
        let first_error = stream.errors().next();
        match (must_read, first_error) {
            (true, Some(e)) => failures.push(format!("{path}: PyYAML reads it, we refuse: {e:?}")),
            (false, None) => {
                failures.push(format!("{path}: PyYAML refuses it ({error}), we read it"))
            }
            _ => {}
        }
    }
    eprintln!("checked {checked} files of _parse/MANIFEST.tsv");
    assert!(checked > 0, "MANIFEST.tsv lists no YAML file");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
