//! Whether an npm version range admits a version, the way npm, yarn and bun decide to link a
//! workspace member instead of fetching the name from the registry.
//!
//! Covers what package.json files write: `*`, `x`, empty, exact versions, partials (`1`, `1.2`,
//! `1.x`), `^`, `~`, comparators (`>=`, `<`, `=`…), hyphen ranges, AND (space) and OR (`||`).
//! A pre-release version satisfies a range only through a comparator on the same
//! `major.minor.patch` with a pre-release itself, as in node-semver. Anything else (a dist-tag,
//! a URL, `npm:` aliases) is not a range and admits nothing.

use std::cmp::Ordering;

/// `major.minor.patch` and the pre-release tag (empty for a release).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    core: (u64, u64, u64),
    pre: Vec<String>,
}

impl Version {
    fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches('v').trim_start_matches('=');
        let text = text.split('+').next().unwrap_or_default();
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, pre.split('.').map(str::to_string).collect()),
            None => (text, Vec::new()),
        };
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        let v = (parts.next()??, parts.next()??, parts.next()??);
        if parts.next().is_some() {
            return None;
        }
        Some(Version { core: v, pre })
    }

    fn cmp(&self, other: &Version) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => cmp_pre(&self.pre, &other.pre),
            })
    }
}

fn cmp_pre(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

/// One comparator `op version`.
#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    version: Version,
}

impl Comparator {
    fn admits(&self, v: &Version) -> bool {
        let o = v.cmp(&self.version);
        match self.op {
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
            Op::Eq => o == Ordering::Equal,
        }
    }
}

/// A partial version: `1`, `1.2`, `1.2.3`, `1.x`, `*`; `None` parts are wildcards.
struct Partial {
    parts: [Option<u64>; 3],
    pre: Vec<String>,
}

fn partial(text: &str) -> Option<Partial> {
    let text = text.trim().trim_start_matches('v');
    let text = text.split('+').next().unwrap_or_default();
    let (core, pre) = match text.split_once('-') {
        Some((core, pre)) => (core, pre.split('.').map(str::to_string).collect()),
        None => (text, Vec::new()),
    };
    let mut parts = [None; 3];
    let mut wild = false;
    for (i, p) in core.split('.').enumerate() {
        if i >= 3 {
            return None;
        }
        if wild || matches!(p, "x" | "X" | "*" | "") {
            wild = true;
            continue;
        }
        parts[i] = Some(p.parse::<u64>().ok()?);
    }
    Some(Partial { parts, pre })
}

fn version(core: (u64, u64, u64), pre: Vec<String>) -> Version {
    Version { core, pre }
}

/// The comparators one token of a range stands for (`^1.2` → `>=1.2.0 <2.0.0-0`).
fn expand(op: &str, p: &Partial, out: &mut Vec<Comparator>) {
    let [ma, mi, pa] = p.parts;
    let c = |op, core, pre: Vec<String>| Comparator {
        op,
        version: version(core, pre),
    };
    let floor = || (ma.unwrap_or(0), mi.unwrap_or(0), pa.unwrap_or(0));
    let zero = || vec!["0".to_string()];
    let Some(ma) = ma else {
        // `*`: any release; `<*` and `>*` admit nothing.
        if matches!(op, "<" | ">") {
            out.push(c(Op::Lt, (0, 0, 0), zero()));
        }
        return;
    };
    match op {
        "^" => {
            out.push(c(Op::Ge, floor(), p.pre.clone()));
            let upper = match (mi, pa) {
                _ if ma > 0 => (ma + 1, 0, 0),
                (None, _) => (1, 0, 0),
                (Some(mi), _) if mi > 0 => (0, mi + 1, 0),
                (Some(_), Some(pa)) => (0, 0, pa + 1),
                (Some(_), None) => (0, 1, 0),
            };
            out.push(c(Op::Lt, upper, zero()));
        }
        "~" => {
            out.push(c(Op::Ge, floor(), p.pre.clone()));
            let upper = match mi {
                Some(mi) => (ma, mi + 1, 0),
                None => (ma + 1, 0, 0),
            };
            out.push(c(Op::Lt, upper, zero()));
        }
        "" | "=" => match (mi, pa) {
            (Some(mi), Some(pa)) => out.push(c(Op::Eq, (ma, mi, pa), p.pre.clone())),
            (Some(mi), None) => {
                out.push(c(Op::Ge, (ma, mi, 0), Vec::new()));
                out.push(c(Op::Lt, (ma, mi + 1, 0), zero()));
            }
            (None, _) => {
                out.push(c(Op::Ge, (ma, 0, 0), Vec::new()));
                out.push(c(Op::Lt, (ma + 1, 0, 0), zero()));
            }
        },
        ">" => match (mi, pa) {
            (Some(mi), Some(pa)) => out.push(c(Op::Gt, (ma, mi, pa), p.pre.clone())),
            (Some(mi), None) => out.push(c(Op::Ge, (ma, mi + 1, 0), Vec::new())),
            (None, _) => out.push(c(Op::Ge, (ma + 1, 0, 0), Vec::new())),
        },
        ">=" => out.push(c(Op::Ge, floor(), p.pre.clone())),
        "<" => out.push(c(Op::Lt, floor(), p.pre.clone())),
        "<=" => match (mi, pa) {
            (Some(mi), Some(pa)) => out.push(c(Op::Le, (ma, mi, pa), p.pre.clone())),
            (Some(mi), None) => out.push(c(Op::Lt, (ma, mi + 1, 0), zero())),
            (None, _) => out.push(c(Op::Lt, (ma + 1, 0, 0), zero())),
        },
        _ => out.push(c(Op::Lt, (0, 0, 0), zero())),
    }
}

/// The comparator sets of a range (OR of ANDs); `None` when it is no range.
fn parse_range(range: &str) -> Option<Vec<Vec<Comparator>>> {
    let mut sets = Vec::new();
    for alternative in range.split("||") {
        let alternative = alternative.trim();
        let mut set = Vec::new();
        if let Some((lo, hi)) = alternative.split_once(" - ") {
            let lo = partial(lo)?;
            let hi = partial(hi)?;
            expand(">=", &lo, &mut set);
            expand("<=", &hi, &mut set);
            sets.push(set);
            continue;
        }
        // `>= 1.2` is written with a space now and then: glue operators to their version.
        let mut tokens: Vec<String> = Vec::new();
        let mut pending = String::new();
        for word in alternative.split_whitespace() {
            if word.chars().all(|ch| "<>=^~".contains(ch)) {
                pending.push_str(word);
            } else {
                tokens.push(format!("{pending}{word}"));
                pending.clear();
            }
        }
        if !pending.is_empty() {
            return None;
        }
        for token in tokens {
            let split = token
                .find(|ch: char| !"<>=^~".contains(ch))
                .unwrap_or(token.len());
            let (op, rest) = token.split_at(split);
            let op = match op {
                "~>" => "~",
                "==" => "=",
                other => other,
            };
            if !["", "=", "^", "~", ">", ">=", "<", "<="].contains(&op) {
                return None;
            }
            expand(op, &partial(rest)?, &mut set);
        }
        sets.push(set);
    }
    Some(sets)
}

/// Whether `version` satisfies the npm `range`. An unparsable version satisfies only `*`-like
/// ranges (npm links a member without a version for `*`).
pub fn satisfies(range: &str, version: Option<&str>) -> bool {
    let Some(sets) = parse_range(range.trim()) else {
        return false;
    };
    let Some(v) = version.and_then(Version::parse) else {
        return sets.iter().any(Vec::is_empty);
    };
    sets.iter().any(|set| {
        set.iter().all(|c| c.admits(&v))
            && (v.pre.is_empty()
                || set
                    .iter()
                    .any(|c| !c.version.pre.is_empty() && c.version.core == v.core))
    })
}

#[cfg(test)]
mod tests {
    use super::satisfies;

    #[test]
    fn ranges_npm_writes() {
        let yes = [
            ("*", "1.2.3"),
            ("", "0.0.0"),
            ("x", "3.0.0"),
            ("1.2.3", "1.2.3"),
            ("=1.2.3", "1.2.3"),
            ("^1.2.0", "1.9.9"),
            ("^0.2.3", "0.2.9"),
            ("^0.0.3", "0.0.3"),
            ("~1.2.0", "1.2.7"),
            ("1.x", "1.5.0"),
            ("1", "1.0.0"),
            ("1.2", "1.2.9"),
            (">=1.0.0 <2.0.0", "1.4.0"),
            (">= 1.0.0", "1.4.0"),
            ("1.0.0 - 2.0.0", "2.0.0"),
            ("1 - 2", "2.9.0"),
            ("^2.0.0 || ^1.0.0", "1.1.0"),
            ("^1.0.0-beta.1", "1.0.0-beta.2"),
            ("<=1.2", "1.2.9"),
            (">1.2", "1.3.0"),
        ];
        for (range, version) in yes {
            assert!(satisfies(range, Some(version)), "{range} admits {version}");
        }
        let no = [
            ("^1.2.0", "2.0.0"),
            ("^0.2.3", "0.3.0"),
            ("^0.0.3", "0.0.4"),
            ("~1.2.0", "1.3.0"),
            ("1.2.3", "1.2.4"),
            (">1.2", "1.2.9"),
            ("<1.0.0", "1.0.0"),
            ("^1.0.0", "1.1.0-rc.1"),
            ("latest", "1.0.0"),
            ("github:acme/ui", "1.0.0"),
            ("npm:other@^1", "1.0.0"),
            ("^1.0.0", "not-a-version"),
        ];
        for (range, version) in no {
            assert!(
                !satisfies(range, Some(version)),
                "{range} refuses {version}"
            );
        }
        assert!(satisfies("*", None));
        assert!(!satisfies("^1.0.0", None));
    }
}
