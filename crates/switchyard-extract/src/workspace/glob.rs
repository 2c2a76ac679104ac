//! Workspace member globs (`apps/*`, `packages/**`, `!**/test/**`) matched against package
//! directories: `*` and `?` within one segment, `**` across any number of segments.

/// A list of workspace patterns; `!`-prefixed ones exclude.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Globs {
    include: Vec<Vec<String>>,
    exclude: Vec<Vec<String>>,
}

impl Globs {
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Self {
        let mut globs = Self::default();
        for pattern in patterns {
            let pattern = pattern.trim();
            let (negated, pattern) = match pattern.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, pattern),
            };
            let segments = segments(pattern);
            if negated {
                globs.exclude.push(segments);
            } else {
                globs.include.push(segments);
            }
        }
        globs
    }

    pub fn is_empty(&self) -> bool {
        self.include.is_empty()
    }

    /// Whether a directory (relative to the workspace root, `""` for the root) is a member.
    pub fn matches(&self, dir: &str) -> bool {
        let path: Vec<&str> = dir
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        let hit = |pattern: &Vec<String>| {
            let pattern: Vec<&str> = pattern.iter().map(String::as_str).collect();
            match_segments(&pattern, &path)
        };
        self.include.iter().any(hit) && !self.exclude.iter().any(hit)
    }
}

/// Splits a pattern into segments: `./apps/*/` → `[apps, *]`; repeated `**` collapse.
fn segments(pattern: &str) -> Vec<String> {
    let pattern = pattern.strip_suffix("/package.json").unwrap_or(pattern);
    let mut out: Vec<String> = Vec::new();
    for segment in pattern.split('/') {
        if segment.is_empty() || segment == "." {
            continue;
        }
        if segment == "**" && out.last().is_some_and(|s| s == "**") {
            continue;
        }
        out.push(segment.to_string());
    }
    out
}

fn match_segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| {
            // `**` does not descend into hidden directories.
            path[..skip].iter().all(|s| !s.starts_with('.')) && match_segments(rest, &path[skip..])
        }),
        Some((segment, rest)) => match path.split_first() {
            Some((name, path_rest)) => {
                match_segment(segment, name) && match_segments(rest, path_rest)
            }
            None => false,
        },
    }
}

/// `*` and `?` wildcard match of one segment (linear two-pointer with backtracking).
fn match_segment(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_star_is_one_segment() {
        let g = Globs::new(["apps/*", "packages/ui"]);
        assert!(g.matches("apps/web"));
        assert!(g.matches("packages/ui"));
        assert!(!g.matches("apps/web/nested"));
        assert!(!g.matches("apps"));
        assert!(!g.matches("packages/db"));
        assert!(!g.matches(""));
    }

    #[test]
    fn double_star_spans_segments() {
        let g = Globs::new(["packages/**"]);
        assert!(g.matches("packages/a"));
        assert!(g.matches("packages/a/b/c"));
        assert!(!g.matches("apps/a"));
        assert!(!g.matches("packages/.cache/x"));
        let g = Globs::new(["**/service-*"]);
        assert!(g.matches("service-a"));
        assert!(g.matches("x/y/service-b"));
        assert!(!g.matches("x/y/lib-b"));
    }

    #[test]
    fn negation_and_normalization() {
        let g = Globs::new(["./packages/*/", "!packages/internal-*", "!**/test/**"]);
        assert!(g.matches("packages/ui"));
        assert!(!g.matches("packages/internal-tools"));
        let g = Globs::new(["packages/**", "!**/test/**"]);
        assert!(!g.matches("packages/ui/test/fixture"));
        assert!(g.matches("packages/ui"));
        assert!(Globs::new(["."]).matches(""));
    }

    #[test]
    fn wildcards_within_a_segment() {
        assert!(match_segment("app-*", "app-web"));
        assert!(match_segment("*-svc", "orders-svc"));
        assert!(match_segment("a*b*c", "aXXbYYc"));
        assert!(!match_segment("a*b*c", "aXXbYY"));
        assert!(match_segment("v?", "v2"));
        assert!(!match_segment("v?", "v22"));
        assert!(match_segment("*", "anything"));
    }
}
