//! A small npm semver range reader, enough to tell whether two `requiredVersion`s can be met by
//! one version: `^x.y.z`, `~x.y.z`, comparators (`>=`, `<`…), `x.y.z`, partials (`18`, `18.x`),
//! hyphen ranges, AND (space) and OR (`||`). Pre-release tags are ignored.

type Version = (u64, u64, u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bound {
    v: Version,
    inclusive: bool,
}

/// One contiguous interval of versions; `hi: None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interval {
    lo: Bound,
    hi: Option<Bound>,
}

const ANY: Interval = Interval {
    lo: Bound {
        v: (0, 0, 0),
        inclusive: true,
    },
    hi: None,
};

impl Interval {
    fn intersect(&self, other: &Interval) -> Option<Interval> {
        let lo = if self.lo.v > other.lo.v || (self.lo.v == other.lo.v && !self.lo.inclusive) {
            self.lo
        } else {
            other.lo
        };
        let hi = match (self.hi, other.hi) {
            (None, h) | (h, None) => h,
            (Some(a), Some(b)) => Some(if a.v < b.v || (a.v == b.v && !a.inclusive) {
                a
            } else {
                b
            }),
        };
        let nonempty = match hi {
            None => true,
            Some(h) => lo.v < h.v || (lo.v == h.v && lo.inclusive && h.inclusive),
        };
        nonempty.then_some(Interval { lo, hi })
    }
}

/// A parsed range: a union of intervals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range(Vec<Interval>);

impl Range {
    /// `None` for what is not a version range (`workspace:*`, tags, URLs).
    pub fn parse(text: &str) -> Option<Range> {
        let mut out = Vec::new();
        for alternative in text.split("||") {
            out.push(parse_set(alternative.trim())?);
        }
        let out: Vec<Interval> = out.into_iter().flatten().collect();
        Some(Range(out))
    }

    /// Whether some version satisfies both ranges.
    pub fn intersects(&self, other: &Range) -> bool {
        self.0
            .iter()
            .any(|a| other.0.iter().any(|b| a.intersect(b).is_some()))
    }
}

/// A partial version: missing or wildcard parts are `None`.
fn parse_partial(text: &str) -> Option<[Option<u64>; 3]> {
    let text = text.trim().trim_start_matches(['v', '=']).trim();
    // Pre-release and build tags do not change which major/minor is meant.
    let text = text.split(['-', '+']).next().unwrap_or("");
    if text.is_empty() {
        return None;
    }
    let mut parts = [None, None, None];
    let mut wild = false;
    for (i, p) in text.split('.').enumerate() {
        if i >= 3 {
            return None;
        }
        if matches!(p, "x" | "X" | "*") {
            wild = true;
            continue;
        }
        if wild {
            return None;
        }
        parts[i] = Some(p.parse().ok()?);
    }
    Some(parts)
}

fn full(p: [Option<u64>; 3]) -> Version {
    (p[0].unwrap_or(0), p[1].unwrap_or(0), p[2].unwrap_or(0))
}

fn incl(v: Version) -> Bound {
    Bound { v, inclusive: true }
}

fn excl(v: Version) -> Bound {
    Bound {
        v,
        inclusive: false,
    }
}

/// The interval a partial version stands for: `18` → `[18.0.0, 19.0.0)`.
fn partial_interval(p: [Option<u64>; 3]) -> Interval {
    match p {
        [None, _, _] => ANY,
        [Some(a), None, _] => Interval {
            lo: incl((a, 0, 0)),
            hi: Some(excl((a + 1, 0, 0))),
        },
        [Some(a), Some(b), None] => Interval {
            lo: incl((a, b, 0)),
            hi: Some(excl((a, b + 1, 0))),
        },
        [Some(a), Some(b), Some(c)] => Interval {
            lo: incl((a, b, c)),
            hi: Some(incl((a, b, c))),
        },
    }
}

/// A space-separated set of comparators (all must hold); `None` when unreadable. An empty
/// intersection is `Some(None)`.
fn parse_set(text: &str) -> Option<Option<Interval>> {
    if text.is_empty() || matches!(text, "*" | "x" | "X" | "latest") {
        return Some(Some(ANY));
    }
    if let Some((a, b)) = text.split_once(" - ") {
        let (a, b) = (parse_partial(a)?, parse_partial(b)?);
        let hi = partial_interval(b).hi;
        return Some(Some(Interval {
            lo: incl(full(a)),
            hi,
        }));
    }
    // `>= 1.2` is written with a space sometimes: glue operators to their versions.
    let mut tokens: Vec<String> = Vec::new();
    let mut pending = String::new();
    for t in text.split_whitespace() {
        if t.chars().all(|c| "<>=~^".contains(c)) {
            pending.push_str(t);
        } else {
            tokens.push(format!("{pending}{t}"));
            pending.clear();
        }
    }
    let mut acc = ANY;
    for t in tokens {
        let interval = comparator(&t)?;
        match acc.intersect(&interval) {
            Some(i) => acc = i,
            None => return Some(None),
        }
    }
    Some(Some(acc))
}

fn comparator(t: &str) -> Option<Interval> {
    let (op, rest) = match t.find(|c: char| !"<>=~^".contains(c)) {
        Some(i) => t.split_at(i),
        None => return None,
    };
    let p = parse_partial(rest)?;
    let v = full(p);
    let partial = partial_interval(p);
    Some(match op {
        "" | "=" => partial,
        "^" => {
            let hi = match p {
                [Some(0), Some(0), Some(c)] => (0, 0, c + 1),
                [Some(0), Some(b), _] => (0, b + 1, 0),
                [Some(a), _, _] => (a + 1, 0, 0),
                [None, _, _] => return Some(ANY),
            };
            Interval {
                lo: incl(v),
                hi: Some(excl(hi)),
            }
        }
        "~" | "~>" => {
            let hi = match p {
                [Some(a), Some(b), _] => (a, b + 1, 0),
                [Some(a), None, _] => (a + 1, 0, 0),
                [None, _, _] => return Some(ANY),
            };
            Interval {
                lo: incl(v),
                hi: Some(excl(hi)),
            }
        }
        ">=" => Interval {
            lo: incl(v),
            hi: None,
        },
        ">" => Interval {
            // `>18` means above every 18.x.
            lo: match partial.hi {
                Some(h) if p[2].is_none() => incl(h.v),
                _ => excl(v),
            },
            hi: None,
        },
        "<" => Interval {
            lo: ANY.lo,
            hi: Some(excl(v)),
        },
        "<=" => Interval {
            lo: ANY.lo,
            hi: partial.hi.or(Some(incl(v))),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meet(a: &str, b: &str) -> bool {
        let (ra, rb) = (Range::parse(a).unwrap(), Range::parse(b).unwrap());
        ra.intersects(&rb)
    }

    #[test]
    fn carets_and_tildes() {
        assert!(!meet("^17.0.2", "^18.2.0"));
        assert!(meet("^18.2.0", "^18.0.0"));
        assert!(!meet("^0.1.0", "^0.2.0"));
        assert!(meet("^0.1.0", "^0.1.5"));
        assert!(!meet("~1.2.0", "~1.3.0"));
        assert!(meet("~1.2.0", "^1.2.5"));
        assert!(!meet("~1.2.0", "1.3.0"));
    }

    #[test]
    fn comparators_partials_and_unions() {
        assert!(meet(">=16.8.0", "^18.2.0"));
        assert!(!meet("<17", "^18.0.0"));
        assert!(meet("17.x", "^17.0.2"));
        assert!(!meet("17", "18"));
        assert!(meet("*", "^18"));
        assert!(meet("^17 || ^18", "18.2.0"));
        assert!(!meet(">=16.8.0 <18", "^18.2.0"));
        assert!(meet(">= 16.8.0 < 19", "18.2.0"));
        assert!(meet("16.0.0 - 18", "18.9.0"));
        assert!(!meet(">18", "18.2.0"));
        assert!(meet(">18.2.0", "18.2.1"));
        assert!(meet("<=18", "18.9.9"));
        assert!(meet("18.2.0-rc.1", "^18.2.0"));
    }

    #[test]
    fn not_ranges() {
        for t in [
            "workspace:*",
            "npm:react@18",
            "latest-beta",
            "github:x/y",
            "1.2.3.4",
            "^a.b",
        ] {
            assert!(Range::parse(t).is_none(), "{t}");
        }
    }
}
