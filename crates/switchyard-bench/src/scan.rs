//! Reads a generated fleet back from disk (published ports, served domains, cross-repository
//! URLs) and checks its repository graph: what `check` prints and what the tests assert on.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::Path;

/// What a generated fleet declares, parsed from its files.
#[derive(Debug, Default)]
pub struct FleetScan {
    pub repos: Vec<String>,
    /// Host port → indices of repositories publishing it.
    pub published: BTreeMap<u16, Vec<usize>>,
    /// Domain → indices of repositories serving it (Ingress host or nginx server_name).
    pub domains: BTreeMap<String, Vec<usize>>,
    /// Per repository, the `localhost:PORT` and `https://DOMAIN` references found in its files.
    pub raw_refs: Vec<Vec<RawRef>>,
    pub files: u64,
    /// FNV-1a over sorted (path, content) pairs: equal for equal trees.
    pub tree_hash: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RawRef {
    Port(u16),
    Domain(String),
}

impl FleetScan {
    /// Repository edges `from → to` (deduplicated, self-references dropped).
    pub fn edges(&self) -> BTreeSet<(usize, usize)> {
        let mut edges = BTreeSet::new();
        for (from, refs) in self.raw_refs.iter().enumerate() {
            for r in refs {
                let owners = match r {
                    RawRef::Port(port) => self.published.get(port),
                    RawRef::Domain(domain) => self.domains.get(domain),
                };
                for &to in owners.into_iter().flatten() {
                    if to != from {
                        edges.insert((from, to));
                    }
                }
            }
        }
        edges
    }

    /// Host ports published by more than one repository.
    pub fn duplicate_ports(&self) -> Vec<u16> {
        self.published
            .iter()
            .filter(|(_, owners)| owners.len() > 1)
            .map(|(port, _)| *port)
            .collect()
    }

    /// One cycle of the repository graph as repository indices (first = last), if any.
    pub fn find_cycle(&self) -> Option<Vec<usize>> {
        let n = self.repos.len();
        let edges = self.edges();
        let mut indegree = vec![0usize; n];
        let mut succ = vec![Vec::new(); n];
        let mut pred = vec![Vec::new(); n];
        for &(from, to) in &edges {
            succ[from].push(to);
            pred[to].push(from);
            indegree[to] += 1;
        }
        let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut removed = vec![false; n];
        while let Some(node) = ready.pop() {
            removed[node] = true;
            for &to in &succ[node] {
                indegree[to] -= 1;
                if indegree[to] == 0 {
                    ready.push(to);
                }
            }
        }
        // Every node left has a predecessor that is also left; walking predecessors must repeat.
        let start = (0..n).find(|&i| !removed[i])?;
        let mut seen = vec![usize::MAX; n];
        let mut walk = vec![start];
        let mut node = start;
        loop {
            seen[node] = walk.len() - 1;
            node = *pred[node].iter().find(|&&p| !removed[p])?;
            if seen[node] != usize::MAX {
                let mut cycle = walk.split_off(seen[node]);
                cycle.reverse();
                cycle.insert(0, node);
                return Some(cycle);
            }
            walk.push(node);
        }
    }
}

/// Reads the fleet under `dir` (its `switchyard.toml` and every repository listed).
pub fn scan(dir: &Path) -> io::Result<FleetScan> {
    let toml = fs::read_to_string(dir.join("switchyard.toml"))?;
    let mut scan = FleetScan {
        tree_hash: FNV_OFFSET,
        ..FleetScan::default()
    };
    let mut paths = Vec::new();
    for line in toml.lines() {
        if let Some(value) = line.strip_prefix("name = ") {
            scan.repos.push(value.trim_matches('"').to_string());
        } else if let Some(value) = line.strip_prefix("path = ") {
            paths.push(value.trim_matches('"').to_string());
        }
    }
    let mut all = Vec::new();
    list_files(dir, "", &mut all)?;
    all.sort();
    for rel in &all {
        let bytes = fs::read(dir.join(rel))?;
        scan.tree_hash = fnv(fnv(scan.tree_hash, rel.as_bytes()), &[0]);
        scan.tree_hash = fnv(fnv(scan.tree_hash, &bytes), &[0]);
        scan.files += 1;
    }
    // Group once by top-level directory: a per-repository filter over all files is quadratic.
    let mut by_dir: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for file in &all {
        if let Some((top, rel)) = file.split_once('/') {
            by_dir.entry(top).or_default().push(rel);
        }
    }
    for (index, path) in paths.iter().enumerate() {
        let mut refs = Vec::new();
        let rels = by_dir
            .get(path.trim_end_matches('/'))
            .cloned()
            .unwrap_or_default();
        for rel in rels {
            let text = fs::read_to_string(dir.join(path).join(rel))?;
            if rel == "docker-compose.yml" {
                for port in published_ports(&text) {
                    scan.published.entry(port).or_default().push(index);
                }
            }
            if rel.starts_with("k8s/") {
                for domain in ingress_hosts(&text) {
                    scan.domains.entry(domain).or_default().push(index);
                }
            }
            if rel.ends_with("nginx.conf") {
                for domain in server_names(&text) {
                    scan.domains.entry(domain).or_default().push(index);
                }
            }
            refs.extend(references(&text));
        }
        refs.sort();
        scan.raw_refs.push(refs);
    }
    for owners in scan.published.values_mut().chain(scan.domains.values_mut()) {
        owners.dedup();
    }
    Ok(scan)
}

fn list_files(root: &Path, rel: &str, out: &mut Vec<String>) -> io::Result<()> {
    for entry in fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if entry.file_type()?.is_dir() {
            list_files(root, &path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Host ports of compose `ports:` entries in the syntaxes the generator writes: `"H:C"`,
/// `"IP:H:C"`, `"${VAR:-H}:C"`, flow lists and the long form's `published: H`.
pub fn published_ports(compose: &str) -> Vec<u16> {
    let mut ports = Vec::new();
    let mut block_indent: Option<usize> = None;
    for line in compose.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if block_indent.is_some_and(|b| indent <= b && !trimmed.is_empty()) {
            block_indent = None;
        }
        if let Some(rest) = trimmed.strip_prefix("ports:") {
            let rest = rest.trim();
            if let Some(flow) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                ports.extend(flow.split(',').filter_map(short_host_port));
            } else if rest.is_empty() {
                block_indent = Some(indent);
            }
            continue;
        }
        if block_indent.is_none() {
            continue;
        }
        let item = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        if let Some(value) = item.strip_prefix("published:") {
            ports.extend(value.trim().trim_matches('"').parse::<u16>().ok());
        } else if trimmed.starts_with("- ") && !item.contains(": ") {
            ports.extend(short_host_port(item));
        }
    }
    ports
}

fn short_host_port(entry: &str) -> Option<u16> {
    let entry = entry.trim().trim_matches('"');
    let (host, _container) = entry.rsplit_once(':')?;
    if let Some(var) = host.strip_prefix("${").and_then(|h| h.strip_suffix('}')) {
        // `${API_PORT:-20000}`: the default is what an unset variable publishes.
        return var.split_once(":-")?.1.parse().ok();
    }
    host.rsplit_once(':').map_or(host, |(_, h)| h).parse().ok()
}

fn ingress_hosts(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("- host:"))
        .map(|h| h.trim().to_string())
        .collect()
}

fn server_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("server_name "))
        .flat_map(|names| names.trim_end_matches(';').split_whitespace())
        .map(str::to_string)
        .collect()
}

/// `localhost:PORT` and `://HOST.fleet.test` occurrences anywhere in a file.
fn references(text: &str) -> Vec<RawRef> {
    let mut refs = Vec::new();
    for (at, _) in text.match_indices("localhost:") {
        let digits: String = text[at + "localhost:".len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        refs.extend(digits.parse().ok().map(RawRef::Port));
    }
    for (at, _) in text.match_indices("://") {
        let host: String = text[at + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
            .collect();
        if host.ends_with(".fleet.test") {
            refs.push(RawRef::Domain(host));
        }
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_port_syntax_the_generator_writes() {
        let compose = "services:
  api:
    ports:
      - \"${API_PORT:-20000}:8080\"
    environment:
      PORT: \"8080\"
  db:
    ports: [\"20001:5432\"]
  cache:
    ports:
      - \"127.0.0.1:20002:6379\"
  web:
    ports:
      - target: 80
        published: 20003
        protocol: tcp
    depends_on: [api]
  admin:
    ports:
      - \"20004:3000\"
    networks: [backend]
";
        assert_eq!(
            published_ports(compose),
            vec![20000, 20001, 20002, 20003, 20004]
        );
    }

    #[test]
    fn finds_references_and_served_domains() {
        let env =
            "UPSTREAM_URL=http://localhost:20004\nAUTH_URL=\"https://repo-00007.fleet.test/\"\n";
        assert_eq!(
            references(env),
            vec![
                RawRef::Port(20004),
                RawRef::Domain("repo-00007.fleet.test".into())
            ]
        );
        assert_eq!(
            server_names("  server_name a.fleet.test www.a.fleet.test;\n"),
            ["a.fleet.test", "www.a.fleet.test"]
        );
        assert_eq!(
            ingress_hosts("    - host: b.fleet.test\n"),
            ["b.fleet.test"]
        );
    }

    #[test]
    fn finds_a_cycle_only_when_there_is_one() {
        let mut scan = FleetScan {
            repos: vec!["a".into(), "b".into(), "c".into()],
            ..FleetScan::default()
        };
        scan.published.insert(1, vec![0]);
        scan.published.insert(2, vec![1]);
        scan.published.insert(3, vec![2]);
        scan.raw_refs = vec![vec![], vec![RawRef::Port(1)], vec![RawRef::Port(2)]];
        assert_eq!(scan.find_cycle(), None);
        scan.raw_refs[0].push(RawRef::Port(3));
        let cycle = scan.find_cycle().unwrap();
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 4);
        for pair in cycle.windows(2) {
            assert!(scan.edges().contains(&(pair[0], pair[1])), "{cycle:?}");
        }
    }
}
