//! Traefik router rules → the `(host, path)` pairs they route: v2/v3 expressions
//! (``Host(`a`) && PathPrefix(`/x`) || …``) and v1 `Host:a,b;PathPrefix:/x`.

/// Most `(host, path)` pairs one rule may expand to; `||`/`&&` combinations multiply.
const MAX_PAIRS: usize = 256;

/// The `(host, optional path)` pairs a Traefik v2/v3 router rule routes, e.g.
/// ``Host(`a.example.com`) && PathPrefix(`/api`)`` → `[("a.example.com", Some("/api"))]`.
/// `HostRegexp` and other matchers constrain nothing we can name; alternatives without a host
/// (``Path(`/`)`` alone) yield nothing.
///
/// ```
/// use switchyard_extract::traefik::parse_rule;
/// let pairs = parse_rule("Host(`a.io`, `b.io`) && PathPrefix(`/api`)");
/// assert_eq!(pairs, vec![("a.io".to_string(), Some("/api".to_string())),
///                        ("b.io".to_string(), Some("/api".to_string()))]);
/// ```
pub fn parse_rule(rule: &str) -> Vec<(String, Option<String>)> {
    let tokens = tokenize(rule);
    let mut parser = RuleParser { tokens, pos: 0 };
    let clauses = parser.or_expr(0);
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for clause in clauses {
        if let Some(host) = clause.host {
            let pair = (host, clause.path);
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    out
}

/// The `(host, path)` pairs of a Traefik v1 rule: `Host:a.io,b.io;PathPrefix:/api`.
pub fn parse_v1_rule(rule: &str) -> Vec<(String, Option<String>)> {
    let mut hosts = Vec::new();
    let mut paths = Vec::new();
    for part in rule.split(';') {
        let Some((matcher, args)) = part.split_once(':') else {
            continue;
        };
        let args = args.split(',').map(str::trim).filter(|a| !a.is_empty());
        match matcher.trim().to_ascii_lowercase().as_str() {
            "host" => hosts.extend(args.map(str::to_string)),
            "path" | "pathprefix" | "pathstrip" | "pathprefixstrip" => {
                paths.extend(args.map(str::to_string))
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for host in hosts {
        if paths.is_empty() {
            out.push((host, None));
        } else {
            for path in &paths {
                out.push((host.clone(), Some(path.clone())));
            }
        }
    }
    out.truncate(MAX_PAIRS);
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Open,
    Close,
    Comma,
    And,
    Or,
    Not,
}

fn tokenize(rule: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = rule.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            ',' => tokens.push(Token::Comma),
            '!' => tokens.push(Token::Not),
            '&' | '|' => {
                if chars.peek().map(|(_, n)| *n) == Some(c) {
                    chars.next();
                }
                tokens.push(if c == '&' { Token::And } else { Token::Or });
            }
            '`' | '"' | '\'' => {
                let start = i + c.len_utf8();
                let mut end = rule.len();
                for (j, n) in chars.by_ref() {
                    if n == c {
                        end = j;
                        break;
                    }
                }
                tokens.push(Token::Str(rule.get(start..end).unwrap_or("").to_string()));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut end = i + c.len_utf8();
                while let Some((j, n)) = chars.peek().copied() {
                    if n.is_alphanumeric() || n == '_' {
                        end = j + n.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Ident(rule[i..end].to_string()));
            }
            _ => {}
        }
    }
    tokens
}

#[derive(Debug, Clone, Default)]
struct Clause {
    host: Option<String>,
    path: Option<String>,
}

struct RuleParser {
    tokens: Vec<Token>,
    pos: usize,
}

/// Nesting deeper than this ends parsing (defends against `((((…` input).
const MAX_RULE_DEPTH: usize = 32;

impl RuleParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or_expr(&mut self, depth: usize) -> Vec<Clause> {
        let mut clauses = self.and_expr(depth);
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            clauses.extend(self.and_expr(depth));
            clauses.truncate(MAX_PAIRS);
        }
        clauses
    }

    fn and_expr(&mut self, depth: usize) -> Vec<Clause> {
        let mut clauses = self.unary(depth);
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            let right = self.unary(depth);
            let mut combined = Vec::new();
            for l in &clauses {
                for r in &right {
                    if combined.len() >= MAX_PAIRS {
                        break;
                    }
                    combined.push(Clause {
                        host: l.host.clone().or_else(|| r.host.clone()),
                        path: l.path.clone().or_else(|| r.path.clone()),
                    });
                }
            }
            clauses = combined;
        }
        clauses
    }

    fn unary(&mut self, depth: usize) -> Vec<Clause> {
        if depth > MAX_RULE_DEPTH {
            self.pos = self.tokens.len();
            return vec![Clause::default()];
        }
        match self.peek().cloned() {
            Some(Token::Not) => {
                self.pos += 1;
                // A negated matcher narrows nothing we record.
                self.unary(depth + 1);
                vec![Clause::default()]
            }
            Some(Token::Open) => {
                self.pos += 1;
                let inner = self.or_expr(depth + 1);
                if self.peek() == Some(&Token::Close) {
                    self.pos += 1;
                }
                inner
            }
            Some(Token::Ident(name)) => {
                self.pos += 1;
                let args = self.args();
                matcher(&name, args)
            }
            Some(_) => {
                self.pos += 1;
                vec![Clause::default()]
            }
            None => vec![Clause::default()],
        }
    }

    /// `( "a" , "b" )` after a matcher name.
    fn args(&mut self) -> Vec<String> {
        let mut args = Vec::new();
        if self.peek() != Some(&Token::Open) {
            return args;
        }
        self.pos += 1;
        while let Some(token) = self.peek().cloned() {
            self.pos += 1;
            match token {
                Token::Str(s) => args.push(s),
                Token::Close => break,
                _ => {}
            }
        }
        args
    }
}

fn matcher(name: &str, args: Vec<String>) -> Vec<Clause> {
    let lower = name.to_ascii_lowercase();
    let clauses: Vec<Clause> = match lower.as_str() {
        "host" | "hostheader" | "hostsni" => args
            .into_iter()
            .map(|a| a.trim().to_ascii_lowercase())
            .filter(|a| !a.is_empty() && a != "*")
            .map(|host| Clause {
                host: Some(host),
                path: None,
            })
            .collect(),
        "path" | "pathprefix" => args
            .into_iter()
            .map(|path| Clause {
                host: None,
                path: Some(path),
            })
            .collect(),
        _ => Vec::new(),
    };
    if clauses.is_empty() {
        vec![Clause::default()]
    } else {
        clauses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        list.iter()
            .map(|(h, p)| (h.to_string(), p.map(str::to_string)))
            .collect()
    }

    #[test]
    fn rule_forms() {
        type Case<'a> = (&'a str, &'a [(&'a str, Option<&'a str>)]);
        let cases: &[Case] = &[
            ("Host(`a.example.com`)", &[("a.example.com", None)]),
            (
                "Host(`a.example.com`) && PathPrefix(`/api`)",
                &[("a.example.com", Some("/api"))],
            ),
            (
                "PathPrefix(`/api`) && Host(`A.example.com`)",
                &[("a.example.com", Some("/api"))],
            ),
            (
                "Host(`a.io`) || Host(`b.io`)",
                &[("a.io", None), ("b.io", None)],
            ),
            ("Host(`a.io`,`b.io`)", &[("a.io", None), ("b.io", None)]),
            (
                "(Host(`a.io`) || Host(`b.io`)) && Path(`/x`)",
                &[("a.io", Some("/x")), ("b.io", Some("/x"))],
            ),
            ("HostRegexp(`{sub:[a-z]+}.io`)", &[]),
            ("Path(`/`)", &[]),
            ("Host(\"dq.io\") && !Path(`/admin`)", &[("dq.io", None)]),
            ("Host(`a.io`) && Headers(`X`, `y`)", &[("a.io", None)]),
            ("HostSNI(`*`)", &[]),
            ("HostSNI(`db.io`)", &[("db.io", None)]),
            ("Host(`a.io`", &[("a.io", None)]),
            ("&& || ((", &[]),
            ("", &[]),
        ];
        for (rule, expected) in cases {
            assert_eq!(parse_rule(rule), pairs(expected), "rule {rule:?}");
        }
    }

    #[test]
    fn hostile_rules_are_bounded() {
        let deep = "(".repeat(10_000) + "Host(`a`)";
        assert!(parse_rule(&deep).len() <= 1);
        let wide = (0..50)
            .map(|i| format!("(Host(`h{i}`) || Host(`g{i}`))"))
            .collect::<Vec<_>>()
            .join(" && ");
        assert!(parse_rule(&wide).len() <= MAX_PAIRS);
    }

    #[test]
    fn v1_rules() {
        assert_eq!(
            parse_v1_rule("Host:a.io,b.io;PathPrefix:/api"),
            pairs(&[("a.io", Some("/api")), ("b.io", Some("/api"))])
        );
        assert_eq!(parse_v1_rule("Host:x.io"), pairs(&[("x.io", None)]));
    }
}
