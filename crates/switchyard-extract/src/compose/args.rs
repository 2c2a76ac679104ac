//! Command-line arguments of `command:`/`entrypoint:`: shell-like tokens with offsets, and the
//! address-looking values inside them (`http://x`, `host:port`, `--flag=host:port`, lists).

/// Hosts that mean "listen on every interface", not an address of another service.
const WILDCARD_HOSTS: [&str; 5] = ["0.0.0.0", "::", "[::]", "*", ""];

/// Splits a command line like a shell would (whitespace, `'…'`, `"…"`), returning each token
/// with the byte offset where it starts. Quotes are removed from the token text.
pub(crate) fn tokens(line: &str) -> Vec<(usize, String)> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut start = None;
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c.is_whitespace() => {
                if let Some(s) = start.take() {
                    tokens.push((s, std::mem::take(&mut current)));
                }
            }
            None => {
                start.get_or_insert(i);
                if c == '\'' || c == '"' {
                    quote = Some(c);
                } else {
                    current.push(c);
                }
            }
        }
    }
    if let Some(s) = start {
        tokens.push((s, current));
    }
    tokens
}

/// The host of an address-looking text (`scheme://user@host:port/x`, `host:port`).
pub(crate) fn host_of(text: &str) -> &str {
    let rest = text.split_once("://").map(|(_, r)| r).unwrap_or(text);
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(i) => &authority[..=i],
            None => authority,
        };
    }
    authority.split(':').next().unwrap_or(authority)
}

/// Address-looking parts of one argument with their byte offsets in it: the value after
/// `--flag=`, split on commas; listen-on-all-interfaces addresses are dropped.
pub(crate) fn addresses(token: &str) -> Vec<(usize, String)> {
    let (offset, value) = match token.split_once('=') {
        Some((flag, value)) if flag.starts_with('-') => (flag.len() + 1, value),
        _ => (0, token),
    };
    let mut result = Vec::new();
    let mut at = offset;
    for part in value.split(',') {
        let trimmed = part.trim();
        let looks = trimmed.contains("://") || trimmed.contains(':');
        if looks && !WILDCARD_HOSTS.contains(&host_of(trimmed)) {
            let lead = part.len() - part.trim_start().len();
            result.push((at + lead, trimmed.to_string()));
        }
        at += part.len() + 1;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_offsets() {
        let line = "node  --inspect=0.0.0.0 'quoted arg' x";
        let t = tokens(line);
        assert_eq!(
            t,
            vec![
                (0, "node".to_string()),
                (6, "--inspect=0.0.0.0".to_string()),
                (24, "quoted arg".to_string()),
                (37, "x".to_string()),
            ]
        );
    }

    #[test]
    fn addresses_in_arguments() {
        assert_eq!(
            addresses("--broker=kafka:9092"),
            vec![(9, "kafka:9092".to_string())]
        );
        assert_eq!(
            addresses("PLAINTEXT://redpanda:29092,OUTSIDE://redpanda:9092"),
            vec![
                (0, "PLAINTEXT://redpanda:29092".to_string()),
                (27, "OUTSIDE://redpanda:9092".to_string())
            ]
        );
        assert!(addresses("PLAINTEXT://0.0.0.0:29092,OUTSIDE://0.0.0.0:9092").is_empty());
        assert!(addresses("--entrypoints.web.address=:80").is_empty());
        assert!(addresses("0.0.0.0:8082").is_empty());
        assert!(addresses("[::]:80").is_empty());
        assert_eq!(
            addresses("http://api/x"),
            vec![(0, "http://api/x".to_string())]
        );
        assert!(addresses("--providers.docker").is_empty());
        assert!(addresses("server.js").is_empty());
    }
}
