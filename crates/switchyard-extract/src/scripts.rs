//! Shell scripts (`*.sh`): the URLs and `host:port` addresses on their command lines become loose
//! references (`podcli check http database-replica:3306/readyz`, `curl http://api:8080/health`).
//!
//! A script says nothing about who runs it: these references count only for a service that
//! mounts the script (a compose bind mount, a ConfigMap volume); `attribute` drops the others.

use crate::emit::record_address;
use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name};
use switchyard_model::{Mechanism, RepoFacts, Scope};

pub struct ShellScriptExtractor;

/// Directories whose scripts are CI or editor tooling, never mounted into a service.
const DENIED_DIRS: [&str; 4] = [".github", ".gitlab", ".devcontainer", "node_modules"];

/// Whether `path` is a shell script this extractor reads.
pub fn is_shell_script(path: &str) -> bool {
    file_name(path).ends_with(".sh")
        && !path
            .split('/')
            .rev()
            .skip(1)
            .any(|d| DENIED_DIRS.contains(&d))
}

impl Extractor for ShellScriptExtractor {
    fn name(&self) -> &'static str {
        "scripts"
    }

    fn accepts(&self, path: &str) -> bool {
        is_shell_script(path)
    }

    fn extract(&self, file: &SourceFile, _repo: &RepoFiles, out: &mut RepoFacts) -> Handled {
        let mut line_start = 0;
        for line in file.text.split_inclusive('\n') {
            let start = line_start;
            line_start += line.len();
            if line.trim_start().starts_with('#') {
                continue;
            }
            for (at, token) in tokens(line) {
                let Some(address) = address_in(token) else {
                    continue;
                };
                let begin = start + at;
                record_address(
                    out,
                    None,
                    &Scope::Host,
                    "script",
                    address,
                    file.location(begin, begin + address.len()),
                    Mechanism::Command,
                );
            }
        }
        Handled::Yes
    }
}

/// Words of a command line with their byte offsets, quotes and shell punctuation trimmed; stops
/// at a comment.
fn tokens(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for raw in line.split(|c: char| c.is_whitespace()) {
        let at = offset;
        offset += raw.len() + 1;
        if raw.starts_with('#') {
            break;
        }
        let trimmed = raw.trim_start_matches(['"', '\'', '(', '`']);
        let lead = raw.len() - trimmed.len();
        let token = trimmed.trim_end_matches(['"', '\'', ';', ',', ')', '&', '|', '`']);
        if !token.is_empty() {
            out.push((at + lead, token));
        }
    }
    out
}

/// The address a token names: a URL (`http://api:8080/x`) whole, or the `host:port` part of
/// `host:port[/path]`. Tokens with an unexpanded `$VAR` name nothing yet.
fn address_in(token: &str) -> Option<&str> {
    if token.contains('$') {
        return None;
    }
    // `--url=http://…`, `-h=db:5432`: the value after the flag.
    let value = match token.split_once('=') {
        Some((flag, value)) if flag.starts_with('-') => value,
        _ => token,
    };
    if let Some(i) = value.find("://") {
        let scheme = value.get(..i)?;
        let ok = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
        return ok.then_some(value);
    }
    let host_port = value.split('/').next()?;
    let (host, port) = host_port.rsplit_once(':')?;
    let host_ok = !host.is_empty()
        && host.chars().any(|c| c.is_ascii_alphabetic())
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_');
    // Two digits at least: `redis:7` is an image tag, not a port.
    let port_ok = (2..=5).contains(&port.len()) && port.chars().all(|c| c.is_ascii_digit());
    (host_ok && port_ok).then_some(host_port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_model::Target;

    fn addresses(script: &str) -> Vec<(String, u32)> {
        let mut repo = RepoFiles::new("r");
        repo.add_text("jobs/check.sh", script);
        let mut out = RepoFacts::default();
        let file = repo.get("jobs/check.sh").expect("added");
        assert_eq!(
            ShellScriptExtractor.extract(file, &repo, &mut out),
            Handled::Yes
        );
        out.references
            .iter()
            .map(|r| match &r.target {
                Target::Address { text } => (text.clone(), r.location.line),
                _ => (String::new(), 0),
            })
            .collect()
    }

    #[test]
    fn command_line_addresses() {
        let script = "#!/bin/sh\nset -e\n# wait for http://docs-only:80\n\
            healthcheck http orders-replica:5432/ready\n\
            curl -fsS \"http://inventory:8080/api/stock\" > /dev/null\n\
            pg_dump --host=db.internal:5432 shop\n";
        assert_eq!(
            addresses(script),
            vec![
                ("orders-replica:5432".to_string(), 4),
                ("http://inventory:8080/api/stock".to_string(), 5),
                ("db.internal:5432".to_string(), 6),
            ]
        );
    }

    #[test]
    fn not_addresses() {
        let script = "docker pull redis:7\necho \"started at 12:30\"\n\
            curl http://$API_HOST:8080/x\nsleep 10 # http://commented:99\nexport A=b:c\n";
        assert!(addresses(script).is_empty(), "{:?}", addresses(script));
    }

    #[test]
    fn ci_scripts_are_not_read() {
        assert!(is_shell_script("deploy/scripts/backup.sh"));
        assert!(!is_shell_script(".github/scripts/release.sh"));
        assert!(!is_shell_script("scripts/backup.bash.txt"));
    }
}
