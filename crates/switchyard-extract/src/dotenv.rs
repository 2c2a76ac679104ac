//! `.env` files: a span-keeping parser (quotes, `export`, inline comments, multi-line values)
//! and the extractor that records each entry as a loose env value of the file's owner.

use crate::emit;
use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name};
use switchyard_model::{Diagnostic, DiagnosticCode, Mechanism, RepoFacts, Scope};

/// One `KEY=value` of a `.env` file. Offsets are bytes into the text; `value_start..value_end`
/// is the value's content without its quotes (for a multi-line value, all its lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvEntry {
    pub key: String,
    /// The value with quotes removed and `\n`-style escapes of double quotes applied.
    pub value: String,
    pub key_start: usize,
    pub value_start: usize,
    pub value_end: usize,
}

/// Parses a `.env` text. Returns the entries and the malformed lines as
/// `(byte offset of the line, message)`; a bad line never stops the rest.
///
/// ```
/// use switchyard_extract::dotenv::parse_dotenv;
/// let (entries, problems) = parse_dotenv("export A=1\nB=\"x=y\" # note\n");
/// assert_eq!(entries[1].value, "x=y");
/// assert!(problems.is_empty());
/// ```
pub fn parse_dotenv(text: &str) -> (Vec<DotenvEntry>, Vec<(usize, String)>) {
    let bytes = text.as_bytes();
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
    while pos < bytes.len() {
        let line_start = pos;
        let line_end = line_end(bytes, pos);
        pos = skip_blanks(bytes, pos, line_end);
        if pos >= line_end || bytes[pos] == b'#' {
            pos = next_line(bytes, line_end);
            continue;
        }
        if text[pos..line_end].starts_with("export ") || text[pos..line_end].starts_with("export\t")
        {
            pos = skip_blanks(bytes, pos + 6, line_end);
        }
        let key_start = pos;
        while pos < line_end && is_key_char(bytes[pos]) {
            pos += 1;
        }
        let key = &text[key_start..pos];
        pos = skip_blanks(bytes, pos, line_end);
        if key.is_empty() || !key.as_bytes()[0].is_ascii_alphabetic() && key.as_bytes()[0] != b'_' {
            problems.push((
                line_start,
                format!(
                    "invalid line in env file: {}",
                    snippet(&text[line_start..line_end])
                ),
            ));
            pos = next_line(bytes, line_end);
            continue;
        }
        if pos >= line_end {
            // `KEY` alone: compose takes the value from the shell; nothing to record.
            pos = next_line(bytes, line_end);
            continue;
        }
        if bytes[pos] != b'=' {
            problems.push((line_start, format!("expected `=` after {key} in env file")));
            pos = next_line(bytes, line_end);
            continue;
        }
        pos = skip_blanks(bytes, pos + 1, line_end);
        match bytes.get(pos).copied() {
            Some(q @ (b'"' | b'\'')) if pos < line_end => {
                match quoted(text, pos, q) {
                    Some((value, end)) => {
                        entries.push(DotenvEntry {
                            key: key.to_string(),
                            value,
                            key_start,
                            value_start: pos + 1,
                            value_end: end,
                        });
                        // Whatever follows the closing quote on its line is a comment.
                        pos = next_line(bytes, line_end_from(bytes, end + 1));
                    }
                    None => {
                        problems.push((line_start, format!("unterminated quoted value for {key}")));
                        pos = next_line(bytes, line_end);
                    }
                }
            }
            _ => {
                let value_start = pos.min(line_end);
                let mut end = value_start;
                while end < line_end {
                    if bytes[end] == b'#'
                        && end > value_start
                        && matches!(bytes[end - 1], b' ' | b'\t')
                    {
                        break;
                    }
                    end += 1;
                }
                while end > value_start && matches!(bytes[end - 1], b' ' | b'\t') {
                    end -= 1;
                }
                entries.push(DotenvEntry {
                    key: key.to_string(),
                    value: text[value_start..end].to_string(),
                    key_start,
                    value_start,
                    value_end: end,
                });
                pos = next_line(bytes, line_end);
            }
        }
    }
    (entries, problems)
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// End of the line at `pos` (before `\r\n` or `\n`).
fn line_end(bytes: &[u8], pos: usize) -> usize {
    let mut end = line_end_from(bytes, pos);
    if end > pos && bytes.get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    end
}

fn line_end_from(bytes: &[u8], pos: usize) -> usize {
    bytes
        .get(pos..)
        .and_then(|rest| rest.iter().position(|b| *b == b'\n'))
        .map(|i| pos + i)
        .unwrap_or(bytes.len())
}

/// The start of the line after the one ending at `end`.
fn next_line(bytes: &[u8], end: usize) -> usize {
    line_end_from(bytes, end) + 1
}

fn skip_blanks(bytes: &[u8], mut pos: usize, end: usize) -> usize {
    while pos < end && matches!(bytes[pos], b' ' | b'\t') {
        pos += 1;
    }
    pos
}

/// Reads a quoted value starting at the quote at `open`; returns the value and the offset of
/// the closing quote. Values may span lines.
fn quoted(text: &str, open: usize, quote: u8) -> Option<(String, usize)> {
    let bytes = text.as_bytes();
    let mut value = String::new();
    let mut i = open + 1;
    let mut run_start = i;
    while i < bytes.len() {
        let b = bytes[i];
        if b == quote {
            value.push_str(&text[run_start..i]);
            return Some((value, i));
        }
        if quote == b'"' && b == b'\\' && i + 1 < bytes.len() {
            value.push_str(&text[run_start..i]);
            let escaped = bytes[i + 1];
            match escaped {
                b'n' => value.push('\n'),
                b'r' => value.push('\r'),
                b't' => value.push('\t'),
                b'"' | b'\\' | b'$' | b'\'' => value.push(escaped as char),
                _ => {
                    // Unknown escape: keep both characters (the next one may be multi-byte).
                    value.push('\\');
                    run_start = i + 1;
                    i += 1;
                    continue;
                }
            }
            i += 2;
            run_start = i;
            continue;
        }
        i += 1;
    }
    None
}

fn snippet(line: &str) -> String {
    let trimmed = line.trim();
    match trimmed.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &trimmed[..i]),
        None => trimmed.to_string(),
    }
}

/// Whether a file name is a dotenv file: `.env`, `.env.<anything>`, `<name>.env`, and the
/// dotless templates some projects ship (`env.example`, `env.sample`, `env.dist`).
pub fn is_dotenv_file_name(name: &str) -> bool {
    name == ".env"
        || name.starts_with(".env.")
        || (name.ends_with(".env") && name.len() > 4)
        || matches!(
            name,
            "env.example" | "env.sample" | "env.template" | "env.dist"
        )
}

/// Records every entry of a `.env`-style file as a loose env value (`from: None`): the
/// attribution step gives it to the service that owns the file.
pub struct DotenvExtractor;

impl Extractor for DotenvExtractor {
    fn name(&self) -> &'static str {
        "dotenv"
    }

    fn accepts(&self, path: &str) -> bool {
        is_dotenv_file_name(file_name(path))
    }

    fn extract(&self, file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) -> Handled {
        // A compose service's `env_file` is recorded by the compose extractor under that
        // service; recording it here too would duplicate every value.
        if crate::compose::is_env_file_of_compose(repo, &file.path) {
            return Handled::Yes;
        }
        let (entries, problems) = parse_dotenv(&file.text);
        for (offset, message) in problems {
            let end = line_end(file.text.as_bytes(), offset);
            out.diagnostics.push(Diagnostic::new(
                DiagnosticCode::InvalidValue,
                message,
                file.location(offset, end),
            ));
        }
        for entry in entries {
            emit::record_env(
                out,
                None,
                &Scope::Host,
                &entry.key,
                &entry.value,
                file.location(entry.value_start, entry.value_end),
                Mechanism::Env,
            );
        }
        Handled::Yes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(text: &str) -> Vec<(String, String)> {
        parse_dotenv(text)
            .0
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn forms() {
        let text = "# comment\n\nA=1\nexport B=two\nC = spaced \nD='single # not comment'\nE=\"dq\\nline\"\nF=x=y=z\nG=val # comment\nH=a#b\nI=\nJ=\"\"\n";
        assert_eq!(
            kv(text),
            vec![
                pair("A", "1"),
                pair("B", "two"),
                pair("C", "spaced"),
                pair("D", "single # not comment"),
                pair("E", "dq\nline"),
                pair("F", "x=y=z"),
                pair("G", "val"),
                pair("H", "a#b"),
                pair("I", ""),
                pair("J", ""),
            ]
        );
    }

    #[test]
    fn spans_exclude_quotes() {
        let text = "URL=\"http://api:3000\" # c\nexport  PORT=8080\r\nX='y'\n";
        let (entries, problems) = parse_dotenv(text);
        assert!(problems.is_empty());
        assert_eq!(entries.len(), 3);
        let url = &entries[0];
        assert_eq!(&text[url.value_start..url.value_end], "http://api:3000");
        assert_eq!(&text[url.key_start..url.key_start + 3], "URL");
        let port = &entries[1];
        assert_eq!(port.key, "PORT");
        assert_eq!(&text[port.value_start..port.value_end], "8080");
        assert_eq!(&text[port.key_start..port.key_start + 4], "PORT");
        assert_eq!(&text[entries[2].value_start..entries[2].value_end], "y");
    }

    #[test]
    fn multi_line_double_quotes() {
        let text = "KEY=\"line1\nline2\"\nNEXT=ok\n";
        let (entries, problems) = parse_dotenv(text);
        assert!(problems.is_empty());
        assert_eq!(entries[0].value, "line1\nline2");
        assert_eq!(
            &text[entries[0].value_start..entries[0].value_end],
            "line1\nline2"
        );
        assert_eq!(entries[1].key, "NEXT");
        assert_eq!(entries[1].value, "ok");
    }

    #[test]
    fn malformed_lines_are_reported_and_skipped() {
        let text = "GOOD=1\nnot a valid line\n1BAD=x\nOPEN=\"never closed\n";
        let (entries, problems) = parse_dotenv(text);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].key, "GOOD");
        let offsets: Vec<usize> = problems.iter().map(|(o, _)| *o).collect();
        assert_eq!(offsets, vec![7, 24, 31]);
    }

    #[test]
    fn key_alone_is_skipped_quietly() {
        let (entries, problems) = parse_dotenv("ALONE\nB=1\n");
        assert_eq!(entries.len(), 1);
        assert!(problems.is_empty());
    }

    #[test]
    fn non_ascii_and_unknown_escapes() {
        let (entries, _) = parse_dotenv("A=\"é\\é\"\nB=ü\n");
        assert_eq!(entries[0].value, "é\\é");
        assert_eq!(entries[1].value, "ü");
    }

    #[test]
    fn names() {
        for ok in [
            ".env",
            ".env.production",
            ".env.example",
            "web.env",
            "config/.env.local",
        ] {
            assert!(DotenvExtractor.accepts(ok), "{ok}");
        }
        for no in [
            ".envrc",
            "env",
            ".environment",
            "a.env.bak",
            "environment.yml",
        ] {
            assert!(!DotenvExtractor.accepts(no), "{no}");
        }
    }

    #[test]
    fn extractor_records_loose_values_with_locations() {
        let mut repo = RepoFiles::new("r");
        repo.add_text(
            "app/.env",
            "# x\nAPI_URL=http://api:3000\nSECRET_KEY=hunter2\nbad line\n",
        );
        let file = repo.get("app/.env").unwrap().clone();
        let mut out = RepoFacts::default();
        assert_eq!(
            DotenvExtractor.extract(&file, &repo, &mut out),
            Handled::Yes
        );
        assert_eq!(out.env.len(), 2);
        assert_eq!(out.env[0].key, "API_URL");
        assert_eq!(out.env[0].service, None);
        assert_eq!(out.env[0].location.to_string(), "r/app/.env:2:9");
        assert_eq!(out.references.len(), 1);
        assert_eq!(out.references[0].from, None);
        assert!(!format!("{out:?}").contains("hunter2"));
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].location.line, 4);
    }
}
