//! A strict reader of the Prometheus text exposition format (0.0.4), to check what
//! [`crate::Monitor::render_prometheus`] serves: every sample belongs to a family with `# HELP`
//! and `# TYPE`, names and labels are well formed, values are numbers, families are contiguous,
//! no series repeats, and histogram buckets are cumulative with `+Inf` equal to `_count`.
//!
//! ```
//! let text = "# HELP up Is it up.\n# TYPE up gauge\nup 1\n";
//! let exposition = switchyard_monitor::exposition::parse(text).map_err(|e| e.join("\n"))?;
//! assert_eq!(exposition.value("up", &[]), Some(1.0));
//! # Ok::<(), String>(())
//! ```
//!
//! Not a scraper: no timestamps semantics, no OpenMetrics (`# EOF`, exemplars, `_created`).

use std::collections::{BTreeMap, HashSet};

/// Label pairs in the order written.
pub type Labels = Vec<(String, String)>;

/// One sample line: `name{label="value",…} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A metric family: its `# HELP` text, `# TYPE` and samples.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Family {
    pub help: Option<String>,
    /// counter, gauge, histogram, summary or untyped.
    pub kind: Option<String>,
    pub samples: Vec<Sample>,
}

/// A parsed and checked exposition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exposition {
    pub families: BTreeMap<String, Family>,
}

impl Exposition {
    /// The value of the sample named `name` with exactly these labels (any order).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.families
            .values()
            .flat_map(|f| f.samples.iter())
            .find(|s| {
                s.name == name
                    && s.labels.len() == labels.len()
                    && labels.iter().all(|(k, v)| s.label(k) == Some(*v))
            })
            .map(|s| s.value)
    }

    /// Every sample named `name`.
    pub fn samples<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.families
            .values()
            .flat_map(|f| f.samples.iter())
            .filter(move |s| s.name == name)
    }
}

const KINDS: [&str; 5] = ["counter", "gauge", "histogram", "summary", "untyped"];

fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// `Inf`, `+Inf`, `-Inf` and `NaN` as Prometheus writes them, or a Go-style float.
fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ if text
            .chars()
            .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') =>
        {
            None
        }
        _ => text.parse().ok(),
    }
}

/// Splits a sample line into name, labels and value.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("a sample needs a value")?;
    let name = &line[..name_end];
    if !valid_metric_name(name) {
        return Err(format!("invalid metric name `{name}`"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (parsed, tail) = parse_labels(after)?;
        labels = parsed;
        rest = tail;
    }
    let mut words = rest.split_ascii_whitespace();
    let value_text = words.next().ok_or("a sample needs a value")?;
    let value =
        parse_value(value_text).ok_or_else(|| format!("value `{value_text}` is not a number"))?;
    if let Some(timestamp) = words.next()
        && timestamp.parse::<i64>().is_err()
    {
        return Err(format!("timestamp `{timestamp}` is not an integer"));
    }
    if words.next().is_some() {
        return Err("unexpected text after the value".into());
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Reads `k="v",…}`; returns the labels and what follows the `}`.
fn parse_labels(text: &str) -> Result<(Labels, &str), String> {
    let mut labels = Labels::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(tail) = rest.strip_prefix('}') {
            return Ok((labels, tail));
        }
        let eq = rest.find('=').ok_or("label without `=`")?;
        let key = rest[..eq].trim();
        if !valid_label_name(key) {
            return Err(format!("invalid label name `{key}`"));
        }
        if labels.iter().any(|(k, _)| k == key) {
            return Err(format!("label `{key}` repeated"));
        }
        rest = rest[eq + 1..]
            .trim_start()
            .strip_prefix('"')
            .ok_or_else(|| format!("label `{key}` value must be quoted"))?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    _ => return Err(format!("bad escape in label `{key}`")),
                },
                Some((i, '"')) => break i,
                Some((_, '\n')) => return Err(format!("raw newline in label `{key}`")),
                Some((_, c)) => value.push(c),
                None => return Err(format!("unterminated value of label `{key}`")),
            }
        };
        labels.push((key.to_string(), value));
        rest = rest[end + 1..].trim_start();
        if let Some(tail) = rest.strip_prefix(',') {
            rest = tail;
        } else if !rest.starts_with('}') {
            return Err("labels must be separated by `,`".into());
        }
    }
}

/// The family a sample named `name` belongs to, given the declared types.
fn family_of<'a>(name: &'a str, types: &BTreeMap<String, String>) -> &'a str {
    if types.contains_key(name) {
        return name;
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && let Some(kind) = types.get(base)
        {
            let fits = match suffix {
                "_bucket" => kind == "histogram",
                _ => kind == "histogram" || kind == "summary",
            };
            if fits {
                return base;
            }
        }
    }
    name
}

/// Parses `text` and checks it; every problem found is reported with its line number.
pub fn parse(text: &str) -> Result<Exposition, Vec<String>> {
    let mut errors = Vec::new();
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    let mut series: HashSet<String> = HashSet::new();

    for (index, line) in text.lines().enumerate() {
        let n = index + 1;
        let mut enter = |family: &str, errors: &mut Vec<String>| {
            if current.as_deref() != Some(family) {
                if finished.contains(family) {
                    errors.push(format!("line {n}: family `{family}` is not contiguous"));
                }
                if let Some(previous) = current.replace(family.to_string()) {
                    finished.insert(previous);
                }
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, ' ');
            let keyword = words.next().unwrap_or("");
            if keyword != "HELP" && keyword != "TYPE" {
                continue; // a plain comment
            }
            let Some(name) = words.next().filter(|n| valid_metric_name(n)) else {
                errors.push(format!("line {n}: `# {keyword}` needs a valid metric name"));
                continue;
            };
            let rest = words.next().unwrap_or("").trim();
            enter(name, &mut errors);
            let family = families.entry(name.to_string()).or_default();
            if !family.samples.is_empty() {
                errors.push(format!("line {n}: `# {keyword} {name}` after its samples"));
            }
            if keyword == "HELP" {
                if family.help.replace(rest.to_string()).is_some() {
                    errors.push(format!("line {n}: second `# HELP` for `{name}`"));
                }
            } else if !KINDS.contains(&rest) {
                errors.push(format!("line {n}: unknown type `{rest}` for `{name}`"));
            } else if family.kind.replace(rest.to_string()).is_some() {
                errors.push(format!("line {n}: second `# TYPE` for `{name}`"));
            } else {
                types.insert(name.to_string(), rest.to_string());
            }
            continue;
        }
        let sample = match parse_sample(line) {
            Ok(sample) => sample,
            Err(e) => {
                errors.push(format!("line {n}: {e}: `{line}`"));
                continue;
            }
        };
        let family = family_of(&sample.name, &types).to_string();
        enter(&family, &mut errors);
        let mut key_labels = sample.labels.clone();
        key_labels.sort();
        if !series.insert(format!("{}{key_labels:?}", sample.name)) {
            errors.push(format!("line {n}: series repeated: `{line}`"));
        }
        families.entry(family).or_default().samples.push(sample);
    }

    for (name, family) in &families {
        if family.help.is_none() {
            errors.push(format!("family `{name}` has no `# HELP`"));
        }
        match family.kind.as_deref() {
            None => errors.push(format!("family `{name}` has no `# TYPE`")),
            Some("counter") => {
                for s in family
                    .samples
                    .iter()
                    .filter(|s| s.value < 0.0 || s.value.is_nan())
                {
                    errors.push(format!("counter `{}` has value {}", s.name, s.value));
                }
            }
            Some("histogram") => check_histogram(name, family, &mut errors),
            Some(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(Exposition { families })
    } else {
        Err(errors)
    }
}

/// Per label set (without `le`): ascending `le`, cumulative counts, a final `+Inf` equal to
/// `_count`, and a `_sum`.
fn check_histogram(name: &str, family: &Family, errors: &mut Vec<String>) {
    type Key = Labels;
    let without_le = |s: &Sample| -> Key {
        let mut labels: Key = s
            .labels
            .iter()
            .filter(|(k, _)| k != "le")
            .cloned()
            .collect();
        labels.sort();
        labels
    };
    let mut buckets: BTreeMap<Key, Vec<(f64, f64)>> = BTreeMap::new();
    let mut counts: BTreeMap<Key, f64> = BTreeMap::new();
    let mut sums: HashSet<Key> = HashSet::new();
    for s in &family.samples {
        let key = without_le(s);
        if s.name == format!("{name}_bucket") {
            match s.label("le").and_then(parse_value) {
                Some(le) => buckets.entry(key).or_default().push((le, s.value)),
                None => errors.push(format!("`{name}_bucket` without a numeric `le`")),
            }
        } else if s.name == format!("{name}_count") {
            counts.insert(key, s.value);
        } else if s.name == format!("{name}_sum") {
            sums.insert(key);
        } else {
            errors.push(format!(
                "`{}` does not belong to histogram `{name}`",
                s.name
            ));
        }
    }
    for (key, list) in &buckets {
        for pair in list.windows(2) {
            if pair[1].0 <= pair[0].0 {
                errors.push(format!("`{name}` {key:?}: `le` not ascending"));
            }
            if pair[1].1 < pair[0].1 {
                errors.push(format!("`{name}` {key:?}: buckets not cumulative"));
            }
        }
        match (list.last(), counts.get(key)) {
            (Some((le, inf)), Some(count)) if le.is_infinite() => {
                if inf != count {
                    errors.push(format!("`{name}` {key:?}: +Inf {inf} != _count {count}"));
                }
            }
            (_, None) => errors.push(format!("`{name}` {key:?}: no `_count`")),
            _ => errors.push(format!("`{name}` {key:?}: last bucket is not `+Inf`")),
        }
        if !sums.contains(key) {
            errors.push(format!("`{name}` {key:?}: no `_sum`"));
        }
    }
    for key in counts.keys().filter(|k| !buckets.contains_key(*k)) {
        errors.push(format!("`{name}` {key:?}: `_count` without buckets"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        parse(text).err().unwrap_or_default()
    }

    #[test]
    fn reads_a_valid_exposition() {
        let text = "# HELP req Requests.\n# TYPE req counter\nreq{path=\"/a\\\"b\",code=\"200\"} 3\n\n\
            # HELP d Duration.\n# TYPE d histogram\nd_bucket{le=\"0.1\"} 1\nd_bucket{le=\"+Inf\"} 2\n\
            d_sum 0.3\nd_count 2\n";
        let exposition = parse(text).expect("valid");
        assert_eq!(
            exposition.value("req", &[("code", "200"), ("path", "/a\"b")]),
            Some(3.0)
        );
        assert_eq!(exposition.families["d"].samples.len(), 4);
        assert_eq!(exposition.samples("d_bucket").count(), 2);
    }

    #[test]
    fn finds_what_is_wrong() {
        assert!(errors("x 1\n")[0].contains("no `# HELP`"));
        assert!(!errors("# HELP x X.\n# TYPE x gauge\nx one\n").is_empty());
        assert!(!errors("# HELP 1x X.\n# TYPE 1x gauge\n1x 1\n").is_empty());
        assert!(!errors("# HELP x X.\n# TYPE x gauge\nx{a=b} 1\n").is_empty());
        assert!(!errors("# HELP x X.\n# TYPE x gauge\nx 1\nx 2\n").is_empty());
        assert!(!errors("# HELP x X.\n# TYPE x counter\nx -1\n").is_empty());
        assert!(!errors("# HELP x X.\n# TYPE x meter\nx 1\n").is_empty());
        let split = "# HELP x X.\n# TYPE x gauge\nx{a=\"1\"} 1\n# HELP y Y.\n# TYPE y gauge\ny 1\nx{a=\"2\"} 1\n";
        assert!(errors(split)[0].contains("not contiguous"));
        let not_cumulative = "# HELP d D.\n# TYPE d histogram\nd_bucket{le=\"1\"} 2\n\
            d_bucket{le=\"+Inf\"} 1\nd_sum 1\nd_count 1\n";
        assert!(
            errors(not_cumulative)
                .iter()
                .any(|e| e.contains("cumulative"))
        );
        let wrong_count =
            "# HELP d D.\n# TYPE d histogram\nd_bucket{le=\"+Inf\"} 2\nd_sum 1\nd_count 3\n";
        assert!(errors(wrong_count)[0].contains("!= _count"));
        let no_inf = "# HELP d D.\n# TYPE d histogram\nd_bucket{le=\"1\"} 2\nd_sum 1\nd_count 2\n";
        assert!(errors(no_inf)[0].contains("+Inf"));
    }
}
