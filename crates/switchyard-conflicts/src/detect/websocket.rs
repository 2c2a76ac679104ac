//! `websocket_mismatch`: a `ws://`/`wss://` URL (or a value under a socket key) that cannot
//! work where it lands:
//!
//! - it reaches a service on a port it does not listen on, or nothing in the fleet serves it;
//! - the two sides speak different protocols: a plain WebSocket client (`ws`, the browser's
//!   `new WebSocket`, `websocket-client`) aimed at a service that serves only Socket.IO
//!   (`socket.io`, `flask-socketio`), or a Socket.IO client aimed at a plain WebSocket server.
//!   Socket.IO has its own handshake (`/socket.io/?EIO=4…`), so neither side understands the
//!   other;
//! - the path is one nobody serves: a Socket.IO client's `path` option (default `/socket.io`)
//!   that the server does not use, a plain client's URL path that the server's
//!   `WebSocketServer({ path })` does not accept, or a path no `location` of the nginx it
//!   reaches upgrades.
//!
//! What each side speaks comes from its dependencies and code (see `switchyard-extract`'s
//! `sockets`); a side whose dependencies say nothing, or say both, is not judged. A path that an
//! nginx `location` with `Upgrade` headers proxies to the server is served.

use super::Detector;
use super::env_drift::is_template;
use super::index::{FleetIndex, finish};
use super::reach::{
    Call, address_key, address_text, ambiguous_by_port_clash, ambiguous_calls, is_websocket,
    key_words, port_list, reference_mismatch,
};
use super::unreachable_url::served_occurrences;
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};
use switchyard_model::{
    EnvEntry, Mechanism, SocketFact, SocketFactKind, SocketProtocol, UnresolvedReason,
};

pub struct WebsocketDetector;

/// Socket.IO's path when none is configured, on both sides.
const SOCKET_IO_DEFAULT_PATH: &str = "/socket.io";

/// (host, env, resource) → (message, occurrences)
type Groups<'a> = BTreeMap<(&'a str, &'a str, String), (String, Vec<Occurrence>)>;

impl Detector for WebsocketDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::WebsocketMismatch
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let mut groups: Groups<'_> = BTreeMap::new();
        let sockets = Sockets::new(fleet);

        for call in fleet.calls() {
            let (from, target, r, text) = (call.from, call.to, call.reference, call.text);
            if !is_websocket(r.key.as_deref(), text) || is_template(&r.location.path) {
                continue;
            }
            let (host, env) = fleet.place(&from.repository);
            let Some(m) = reference_mismatch(target, text) else {
                if from.id != target.id
                    && let Some(found) = sockets.judge(call)
                {
                    let entry = groups
                        .entry((host, env, found.resource))
                        .or_insert_with(|| (found.message, Vec::new()));
                    entry.1.push(reference_occurrence(call));
                    for o in found.evidence {
                        if !entry.1.contains(&o) {
                            entry.1.push(o);
                        }
                    }
                }
                continue;
            };
            let address = format!("{}:{}", m.host, m.port);
            let entry = groups
                .entry((host, env, format!("socket:{address}@{}", target.id)))
                .or_insert_with(|| {
                    let message = format!(
                        "socket URL {address} reaches {} on a port it does not listen on (it listens on {})",
                        target.id,
                        port_list(&m.served)
                    );
                    (message, served_occurrences(target))
                });
            entry.1.push(reference_occurrence(call));
        }

        // A socket URL two services answer to (one host port published twice): judged against
        // the only one of them that serves sockets, the one it was meant for.
        for amb in ambiguous_calls(fleet) {
            let r = amb.reference;
            if !is_websocket(r.key.as_deref(), amb.text) || is_template(&r.location.path) {
                continue;
            }
            let mut servers = amb
                .candidates
                .iter()
                .copied()
                .filter(|c| sockets.serves_sockets(c.id.as_str()));
            let (Some(to), None) = (servers.next(), servers.next()) else {
                continue;
            };
            let call = Call {
                from: amb.from,
                to,
                reference: r,
                text: amb.text,
            };
            if let Some(found) = sockets.judge(&call) {
                let (host, env) = fleet.place(&call.from.repository);
                let entry = groups
                    .entry((host, env, found.resource))
                    .or_insert_with(|| (found.message, Vec::new()));
                entry.1.push(reference_occurrence(&call));
                for o in found.evidence {
                    if !entry.1.contains(&o) {
                        entry.1.push(o);
                    }
                }
            }
        }

        unresolved(fleet, &mut groups);

        let out = groups
            .into_iter()
            .map(|((host, env, resource), (message, occurrences))| {
                Conflict::new(
                    ConflictKind::WebsocketMismatch,
                    Severity::Medium,
                    host,
                    env,
                    resource,
                    occurrences,
                    message,
                )
            })
            .collect();
        finish(out)
    }
}

fn reference_occurrence(call: &Call<'_>) -> Occurrence {
    Occurrence {
        repository: call.from.repository.clone(),
        service: Some(call.from.name.clone()),
        location: call.reference.location.clone(),
        detail: call.text.to_string(),
    }
}

/// Socket URLs that resolve to no service, or to several.
fn unresolved<'a>(fleet: &FleetIndex<'a>, groups: &mut Groups<'a>) {
    for u in &fleet.input.model.unresolved {
        if !matches!(
            u.reason,
            UnresolvedReason::NoProvider | UnresolvedReason::Ambiguous
        ) || is_template(&u.location.path)
            || ambiguous_by_port_clash(u)
        {
            continue;
        }
        let socket = is_websocket(None, &u.reference)
            || fleet
                .references_at(&u.repository, u.service.as_deref(), &u.location)
                .any(|r| is_websocket(r.key.as_deref(), address_text(r).unwrap_or("")));
        if !socket {
            continue;
        }
        let (host, env) = fleet.place(&u.repository);
        let address = address_key(&u.reference);
        let why = if u.reason == UnresolvedReason::Ambiguous {
            "more than one service answers to it"
        } else {
            "nothing in the fleet serves it"
        };
        let entry = groups
            .entry((host, env, format!("socket:{address}")))
            .or_insert_with(|| {
                (
                    format!("socket URL {address} resolves nowhere: {why}"),
                    Vec::new(),
                )
            });
        entry.1.push(Occurrence {
            repository: u.repository.clone(),
            service: u.service.clone(),
            location: u.location.clone(),
            detail: u.reference.clone(),
        });
    }
}

/// What one service's dependencies, code and env say about sockets.
#[derive(Default)]
struct Profile<'a> {
    libraries: Vec<&'a SocketFact>,
    paths: Vec<&'a SocketFact>,
    env_paths: Vec<&'a EnvEntry>,
    upgrades: Vec<&'a SocketFact>,
}

/// A socket path one side uses, with where it is written (`None`: the library's default).
struct SidePath {
    path: String,
    evidence: Option<Occurrence>,
    /// The env key the path is written under (`VITE_SOCKET_PATH`), when it is one.
    env_key: Option<String>,
}

impl<'a> Profile<'a> {
    /// Protocols one side (`client`) of a connection speaks: its libraries, and the clients or
    /// servers its code creates with a path option.
    fn speaks(&self, client: bool) -> BTreeSet<SocketProtocol> {
        self.libraries
            .iter()
            .chain(&self.paths)
            .filter_map(|f| match &f.kind {
                SocketFactKind::Library { protocol, role, .. }
                | SocketFactKind::Path { protocol, role, .. }
                    if (client && role.client()) || (!client && role.server()) =>
                {
                    Some(*protocol)
                }
                _ => None,
            })
            .collect()
    }

    /// The first library fact that makes this side speak `protocol`.
    fn library(&self, protocol: SocketProtocol, client: bool) -> Option<&'a SocketFact> {
        self.libraries.iter().copied().find(|f| match &f.kind {
            SocketFactKind::Library {
                protocol: p, role, ..
            } => *p == protocol && if client { role.client() } else { role.server() },
            _ => false,
        })
    }

    /// Configured paths of one side for `protocol`: path options in code, then socket-path env
    /// keys (`SOCKET_PATH`, `SOCKETIO_PATH`).
    fn configured_paths(&self, protocol: SocketProtocol, client: bool) -> Vec<SidePath> {
        let mut out: Vec<SidePath> = Vec::new();
        for f in &self.paths {
            if let SocketFactKind::Path {
                path,
                protocol: p,
                role,
            } = &f.kind
                && *p == protocol
                && (if client { role.client() } else { role.server() })
                && !out.iter().any(|s| &s.path == path)
            {
                out.push(SidePath {
                    path: path.clone(),
                    evidence: Some(fact_occurrence(f, format!("path {path}"))),
                    env_key: None,
                });
            }
        }
        for e in &self.env_paths {
            if let Some(side) = env_side_path(e)
                && !out.iter().any(|s| s.path == side.path)
            {
                out.push(side);
            }
        }
        out
    }

    /// The socket-path env entry written for a socket URL's key: the same stem with `PATH`
    /// for its last word (`VITE_SOCKET_URL` → `VITE_SOCKET_PATH`, `SOCKETIO_PATH`), whose
    /// value is a path. A separate path for a socket URL is Socket.IO's `path` option (a plain
    /// WebSocket client takes its path in the URL), given beside the URL it goes with.
    fn paired_path(&self, url_key: Option<&str>) -> Option<SidePath> {
        paired_path(&self.env_paths, url_key)
    }

    /// Socket.IO paths of a side: the configured ones, or the default.
    fn socket_io_paths(&self, client: bool) -> Vec<SidePath> {
        let configured = self.configured_paths(SocketProtocol::SocketIo, client);
        if !configured.is_empty() {
            return configured;
        }
        vec![SidePath {
            path: SOCKET_IO_DEFAULT_PATH.to_string(),
            evidence: None,
            env_key: None,
        }]
    }
}

/// The entry of `entries` whose key has the stem of `url_key` with `PATH` for its last word
/// (`SOCKETIO` and `SOCKET` are one stem), as a side path.
fn paired_path(entries: &[&EnvEntry], url_key: Option<&str>) -> Option<SidePath> {
    let stem = |key: &str| {
        let mut words = key_words(key);
        words.pop();
        words.concat().replace("SOCKETIO", "SOCKET")
    };
    let url_stem = stem(url_key?);
    if url_stem.is_empty() {
        return None;
    }
    entries.iter().find_map(|e| {
        if stem(&e.key) != url_stem {
            return None;
        }
        env_side_path(e)
    })
}

/// A path given in an env entry (`VITE_SOCKET_PATH=/ws`), with the entry as its evidence.
fn env_side_path(e: &EnvEntry) -> Option<SidePath> {
    let path = normalize(&e.display)?;
    Some(SidePath {
        evidence: Some(Occurrence {
            repository: e.location.repository.clone(),
            service: e.service.clone(),
            location: e.location.clone(),
            detail: format!("{}={path}", e.key),
        }),
        path,
        env_key: Some(e.key.clone()),
    })
}

fn fact_occurrence(f: &SocketFact, detail: String) -> Occurrence {
    Occurrence {
        repository: f.location.repository.clone(),
        service: f.service.clone(),
        location: f.location.clone(),
        detail,
    }
}

/// A path as compared: leading `/`, no trailing `/`, no query.
fn normalize(path: &str) -> Option<String> {
    let p = path.trim().trim_matches(['"', '\'']);
    if p.is_empty() || p.contains(['$', '{', ' ', '*']) {
        return None;
    }
    let p = p.split(['?', '#']).next().unwrap_or(p);
    Some(format!("/{}", p.trim_matches('/')))
}

/// Whether `key` names a socket path (`SOCKET_PATH`, `VITE_SOCKETIO_PATH`, `WS_PATH`).
fn is_socket_path_key(key: &str) -> bool {
    let words = key_words(key);
    words.last().is_some_and(|w| w == "PATH")
        && words
            .iter()
            .any(|w| w.contains("SOCKET") || w == "WS" || w == "WSS")
}

/// Whether a location prefix (or regex) takes requests for `path`.
fn covers(prefix: &str, regex: bool, path: &str) -> bool {
    if regex {
        // Not evaluated: a regular expression may match, so the path counts as served.
        return true;
    }
    let prefix = prefix.trim_start_matches('=').trim();
    let base = prefix.trim_end_matches('/');
    path == base || path.starts_with(&format!("{base}/")) || (base.is_empty() && prefix == "/")
}

/// What was found wrong with one call.
struct Finding {
    resource: String,
    message: String,
    /// Both sides' evidence: the libraries, path options, nginx locations.
    evidence: Vec<Occurrence>,
}

/// Every service's socket profile, and which nginx upgrading locations proxy to which service.
struct Sockets<'a> {
    profiles: HashMap<&'a str, Profile<'a>>,
    /// Target service id → (location prefix, regex, the location fact).
    upgrades_to: HashMap<&'a str, Vec<&'a SocketFact>>,
    /// Socket-path env entries by repository, whichever service (if any) they belong to: a
    /// path key goes with the socket URL key of its stem anywhere in the repository.
    repo_env_paths: HashMap<&'a str, Vec<&'a EnvEntry>>,
}

impl<'a> Sockets<'a> {
    fn new(fleet: &FleetIndex<'a>) -> Self {
        let mut profiles: HashMap<&'a str, Profile<'a>> = HashMap::new();
        let mut repo_env_paths: HashMap<&'a str, Vec<&'a EnvEntry>> = HashMap::new();
        // (repository, file) → upgrading locations written there.
        let mut upgrades_in: HashMap<(&'a str, &'a str), Vec<&'a SocketFact>> = HashMap::new();
        for facts in fleet.input.facts {
            for f in &facts.sockets {
                if matches!(f.kind, SocketFactKind::UpgradeLocation { .. }) {
                    upgrades_in
                        .entry((facts.repository.as_str(), f.location.path.as_str()))
                        .or_default()
                        .push(f);
                }
                let Some(service) = f
                    .service
                    .as_deref()
                    .and_then(|s| fleet.service(&facts.repository, s))
                else {
                    continue;
                };
                let profile = profiles.entry(service.id.as_str()).or_default();
                match f.kind {
                    SocketFactKind::Library { .. } => profile.libraries.push(f),
                    SocketFactKind::Path { .. } => profile.paths.push(f),
                    SocketFactKind::UpgradeLocation { .. } => profile.upgrades.push(f),
                }
            }
            for e in &facts.env {
                if !is_socket_path_key(&e.key) {
                    continue;
                }
                repo_env_paths
                    .entry(facts.repository.as_str())
                    .or_default()
                    .push(e);
                if let Some(service) = e
                    .service
                    .as_deref()
                    .and_then(|s| fleet.service(&facts.repository, s))
                {
                    profiles
                        .entry(service.id.as_str())
                        .or_default()
                        .env_paths
                        .push(e);
                }
            }
        }
        let mut upgrades_to: HashMap<&'a str, Vec<&'a SocketFact>> = HashMap::new();
        if !upgrades_in.is_empty() {
            for call in fleet.calls() {
                let at = &call.reference.location;
                if call.reference.mechanism != Mechanism::ProxyPass {
                    continue;
                }
                let Some(locations) = upgrades_in.get(&(at.repository.as_str(), at.path.as_str()))
                else {
                    continue;
                };
                for f in locations {
                    if let SocketFactKind::UpgradeLocation { block, .. } = &f.kind
                        && block.start <= at.span.start
                        && at.span.end <= block.end
                    {
                        let list = upgrades_to.entry(call.to.id.as_str()).or_default();
                        if !list.contains(f) {
                            list.push(f);
                        }
                    }
                }
            }
        }
        Self {
            profiles,
            upgrades_to,
            repo_env_paths,
        }
    }

    /// Whether a service serves sockets at all: a server library or path option, or an nginx
    /// location that upgrades connections.
    fn serves_sockets(&self, service: &str) -> bool {
        self.profiles
            .get(service)
            .is_some_and(|p| !p.speaks(false).is_empty() || !p.upgrades.is_empty())
    }

    /// An nginx upgrading location that proxies `path` to the service `target`.
    fn proxied(&self, target: &str, path: &str) -> Option<&'a SocketFact> {
        self.upgrades_to.get(target)?.iter().copied().find(|f| {
            matches!(&f.kind, SocketFactKind::UpgradeLocation { prefix, regex, .. } if covers(prefix, *regex, path))
        })
    }

    /// What is wrong with a socket call that reaches a port its target listens on, if anything.
    fn judge(&self, call: &Call<'a>) -> Option<Finding> {
        let empty = Profile::default();
        let client = self.profiles.get(call.from.id.as_str()).unwrap_or(&empty);
        let server = self.profiles.get(call.to.id.as_str()).unwrap_or(&empty);
        let mut speaks = client.speaks(true);
        let key = call.reference.key.as_deref();
        let paired = client.paired_path(key).or_else(|| {
            self.repo_env_paths
                .get(call.from.repository.as_str())
                .and_then(|entries| paired_path(entries, key))
        });
        // A URL that opens Socket.IO's own transport (`?EIO=4&transport=websocket`) speaks it,
        // and so does one given with its own path key, in a client that speaks Socket.IO.
        if call.text.contains("EIO=")
            || (paired.is_some() && speaks.contains(&SocketProtocol::SocketIo))
        {
            speaks = BTreeSet::from([SocketProtocol::SocketIo]);
        }
        let [said] = speaks.iter().copied().collect::<Vec<_>>()[..] else {
            // Unknown, or a client of both kinds: which one uses this URL is not known.
            return None;
        };
        let serves = server.speaks(false);
        if !serves.is_empty() && !serves.contains(&said) {
            return Some(self.protocol_finding(call, client, server, said, &serves));
        }
        let url_path = url_path(call.text);
        let client_paths: Vec<SidePath> = match said {
            SocketProtocol::SocketIo => match paired {
                Some(path) => vec![path],
                None => client.socket_io_paths(true),
            },
            SocketProtocol::WebSocket => vec![SidePath {
                path: url_path.clone(),
                evidence: None,
                env_key: None,
            }],
        };
        if serves.contains(&said) {
            let server_paths = match said {
                SocketProtocol::SocketIo => server.socket_io_paths(false),
                // A plain WebSocket server without a path option accepts any path.
                SocketProtocol::WebSocket => server.configured_paths(said, false),
            };
            if server_paths.is_empty()
                || client_paths
                    .iter()
                    .any(|c| server_paths.iter().any(|s| s.path == c.path))
                || client_paths
                    .iter()
                    .any(|c| self.proxied(&call.to.id, &c.path).is_some())
            {
                return None;
            }
            return Some(path_finding(
                call,
                server,
                said,
                &client_paths,
                &server_paths,
            ));
        }
        // The target serves no socket library itself: an nginx in front, whose upgrading
        // locations are the paths it can carry a socket on. (A Socket.IO client falls back to
        // long-polling through a location that does not upgrade, so only plain ones are judged.)
        if said == SocketProtocol::WebSocket && serves.is_empty() && !server.upgrades.is_empty() {
            let carried = client_paths.iter().any(|c| {
                server.upgrades.iter().any(|f| {
                    matches!(&f.kind, SocketFactKind::UpgradeLocation { prefix, regex, .. } if covers(prefix, *regex, &c.path))
                })
            });
            if !carried {
                return Some(proxy_finding(call, server, said, &client_paths));
            }
        }
        None
    }

    fn protocol_finding(
        &self,
        call: &Call<'a>,
        client: &Profile<'a>,
        server: &Profile<'a>,
        said: SocketProtocol,
        serves: &BTreeSet<SocketProtocol>,
    ) -> Finding {
        let (from, to) = (&call.from.id, &call.to.id);
        let mut evidence = Vec::new();
        let mut uses = String::new();
        if let Some(f) = client.library(said, true) {
            let name = library_name(f);
            uses = format!(" ({name} at {})", f.location);
            evidence.push(fact_occurrence(
                f,
                format!("{from} speaks {}: {name}", said.as_str()),
            ));
        }
        let served: Vec<&str> = serves.iter().map(|p| p.as_str()).collect();
        let served = served.join(" and ");
        let mut serving = String::new();
        for p in serves {
            if let Some(f) = server.library(*p, false) {
                let name = library_name(f);
                if serving.is_empty() {
                    serving = format!(" ({name} at {})", f.location);
                }
                evidence.push(fact_occurrence(
                    f,
                    format!("{to} serves {}: {name}", p.as_str()),
                ));
            }
        }
        let fix = match said {
            SocketProtocol::WebSocket => format!(
                "connect with a Socket.IO client (socket.io-client `io(url)`, python-socketio) in {from}, or serve plain WebSocket in {to} (ws `WebSocketServer`, websockets)"
            ),
            SocketProtocol::SocketIo => format!(
                "connect with a plain WebSocket client (`new WebSocket(url)`, ws) in {from}, or serve Socket.IO in {to} (socket.io `new Server`, Flask-SocketIO)"
            ),
        };
        Finding {
            resource: format!("socket-protocol:{from}->{to}"),
            message: format!(
                "{} client {from}{uses} connects to {to}, which serves only {served}{serving}: the handshakes differ, so the connection never opens; {fix}",
                said.as_str(),
            ),
            evidence,
        }
    }
}

fn library_name(f: &SocketFact) -> String {
    match &f.kind {
        SocketFactKind::Library { name, .. } if name == "WebSocket" => "new WebSocket()".into(),
        SocketFactKind::Library { name, .. } => name.clone(),
        _ => String::new(),
    }
}

/// Paths as text: `/socket.io, /rt`.
fn path_list(paths: &[SidePath]) -> String {
    paths
        .iter()
        .map(|p| p.path.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn where_written(paths: &[SidePath], default: &str) -> String {
    match paths.iter().find_map(|p| p.evidence.as_ref()) {
        Some(o) => format!(" ({})", o.location),
        None => format!(" ({default})"),
    }
}

fn path_finding(
    call: &Call<'_>,
    server: &Profile<'_>,
    said: SocketProtocol,
    client_paths: &[SidePath],
    server_paths: &[SidePath],
) -> Finding {
    let (from, to) = (&call.from.id, &call.to.id);
    let mut evidence: Vec<Occurrence> = client_paths
        .iter()
        .chain(server_paths)
        .filter_map(|p| p.evidence.clone())
        .collect();
    if server_paths.iter().all(|p| p.evidence.is_none())
        && let Some(f) = server.library(said, false)
    {
        evidence.push(fact_occurrence(
            f,
            format!(
                "{to} serves {} on the default path {SOCKET_IO_DEFAULT_PATH}: {}",
                said.as_str(),
                library_name(f)
            ),
        ));
    }
    let (asked, fix) = match said {
        SocketProtocol::SocketIo => (
            format!(
                "Socket.IO client {from} asks for path {}{}",
                path_list(client_paths),
                where_written(client_paths, "the default")
            ),
            {
                let served = server_paths
                    .first()
                    .map_or(SOCKET_IO_DEFAULT_PATH, |p| p.path.as_str());
                // A path from an env key is changed there, not in the code that reads it.
                let client_side = match client_paths {
                    [
                        SidePath {
                            env_key: Some(key),
                            evidence: Some(o),
                            ..
                        },
                    ] => format!("set {key}={served} in {}", o.location),
                    _ => format!("set `path: '{served}'` in {from}'s io() options"),
                };
                format!(
                    "{client_side}, or serve that path in {to} (the server's `path` option), or route it through a proxy location with Upgrade headers"
                )
            },
        ),
        SocketProtocol::WebSocket => (
            format!(
                "plain WebSocket client {from} opens {}",
                path_list(client_paths)
            ),
            format!(
                "point the URL at {} (the path {to}'s WebSocket server accepts), or add that path to the server",
                path_list(server_paths)
            ),
        ),
    };
    Finding {
        resource: format!("socket-path:{from}->{to}"),
        message: format!(
            "{asked}, but {to} serves {} only on {}{}: the server refuses the handshake; {fix}",
            said.as_str(),
            path_list(server_paths),
            where_written(server_paths, "the default")
        ),
        evidence,
    }
}

fn proxy_finding(
    call: &Call<'_>,
    proxy: &Profile<'_>,
    said: SocketProtocol,
    client_paths: &[SidePath],
) -> Finding {
    let (from, to) = (&call.from.id, &call.to.id);
    let mut prefixes: Vec<String> = Vec::new();
    let mut evidence: Vec<Occurrence> = client_paths
        .iter()
        .filter_map(|p| p.evidence.clone())
        .collect();
    for f in &proxy.upgrades {
        if let SocketFactKind::UpgradeLocation { prefix, .. } = &f.kind {
            if !prefixes.contains(prefix) {
                prefixes.push(prefix.clone());
            }
            evidence.push(fact_occurrence(
                f,
                format!("location {prefix} upgrades connections"),
            ));
        }
    }
    Finding {
        resource: format!("socket-path:{from}->{to}"),
        message: format!(
            "{} client {from} opens path {}, but no location of {to} that upgrades connections takes it (only {}): the request is proxied without its Upgrade header; add `proxy_set_header Upgrade $http_upgrade` and `Connection \"upgrade\"` to the location serving {}, or use one of those paths",
            said.as_str(),
            path_list(client_paths),
            prefixes.join(", "),
            path_list(client_paths),
        ),
        evidence,
    }
}

/// The path of a URL (`/` when it has none), without query or fragment.
fn url_path(text: &str) -> String {
    let rest = text.split_once("://").map_or(text, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    normalize(path).unwrap_or_else(|| "/".to_string())
}

#[cfg(test)]
#[path = "websocket_tests.rs"]
mod fleet_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::index::testing::*;
    use switchyard_model::{
        Edge, EndpointKind, Location, Mechanism, Protocol, Reference, Scope, Target, Unresolved,
    };

    fn fixture(key: &str, text: &str, resolved: bool) -> Fixture {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("a", "local", "default"), repo("b", "local", "default")];
        let scope = compose_scope("docker-compose.yml");
        fx.model.services = vec![
            service("a", "web", vec![scope.clone()], vec![]),
            service(
                "b",
                "chat",
                vec![scope],
                vec![EndpointKind::ContainerPort {
                    port: 4000,
                    protocol: Protocol::Tcp,
                }],
            ),
        ];
        let l = Location::new("a", ".env", 2, 16, Default::default());
        fx.facts_mut("a").references.push(Reference {
            from: Some("web".into()),
            target: Target::Address { text: text.into() },
            mechanism: Mechanism::Env,
            key: Some(key.into()),
            location: l.clone(),
            scope: Scope::Host,
        });
        if resolved {
            fx.model.edges.push(Edge {
                from: "a/web".into(),
                to: "b/chat".into(),
                mechanisms: vec![Mechanism::Env],
                evidence: vec![l],
                ..Edge::new("", "")
            });
        } else {
            fx.model.unresolved.push(Unresolved {
                repository: "a".into(),
                service: Some("web".into()),
                reference: text.into(),
                mechanism: Mechanism::Env,
                reason: UnresolvedReason::NoProvider,
                location: l,
            });
        }
        fx
    }

    fn run(fx: &Fixture) -> Vec<Conflict> {
        WebsocketDetector.detect(fx.input())
    }

    #[test]
    fn wrong_port() {
        let c = run(&fixture("CHAT_URL", "ws://chat:4001/socket", true));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].resource, "socket:chat:4001@b/chat");
        assert_eq!(c[0].severity, Severity::Medium);
        assert_eq!(c[0].repositories, vec!["a", "b"]);
        assert_eq!(c[0].occurrences[0].location.to_string(), "a/.env:2:16");
        assert!(c[0].message.contains("listens on 4000"), "{}", c[0].message);
        // A socket key with an http URL counts too.
        assert_eq!(
            run(&fixture("SOCKET_URL", "http://chat:4001", true)).len(),
            1
        );
    }

    #[test]
    fn resolves_nowhere() {
        let c = run(&fixture("REACT_APP_WS_URL", "ws://localhost:4001", false));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].resource, "socket:localhost:4001");
        assert!(c[0].message.contains("resolves nowhere"));
    }

    #[test]
    fn matching_or_plain_urls_are_fine() {
        assert!(run(&fixture("CHAT_URL", "ws://chat:4000/socket", true)).is_empty());
        assert!(run(&fixture("API_URL", "http://chat:4001", true)).is_empty());
        assert!(run(&fixture("API_URL", "http://localhost:4001", false)).is_empty());
    }

    /// `a/web` speaks both protocols and `b/chat` serves Socket.IO; `a` has a socket-path key
    /// at `.env:3` that belongs to no service.
    fn both_kinds(path_key: &str, path: &str) -> Fixture {
        let mut fx = fixture("VITE_SOCKET_URL", "http://chat:4000", true);
        let library = |repo: &str, service: &str, name: &str, protocol, role| SocketFact {
            service: Some(service.into()),
            kind: SocketFactKind::Library {
                name: name.into(),
                protocol,
                role,
            },
            location: Location::new(repo, "package.json", 5, 6, Default::default()),
        };
        let a = fx.facts_mut("a");
        a.sockets.push(library(
            "a",
            "web",
            "socket.io-client",
            SocketProtocol::SocketIo,
            switchyard_model::SocketRole::Client,
        ));
        a.sockets.push(library(
            "a",
            "web",
            "WebSocket",
            SocketProtocol::WebSocket,
            switchyard_model::SocketRole::Client,
        ));
        a.env.push(EnvEntry {
            service: None,
            key: path_key.into(),
            display: path.into(),
            value_hash: String::new(),
            location: Location::new("a", ".env", 3, 1, Default::default()),
        });
        fx.facts_mut("b").sockets.push(library(
            "b",
            "chat",
            "flask-socketio",
            SocketProtocol::SocketIo,
            switchyard_model::SocketRole::Server,
        ));
        fx
    }

    #[test]
    fn a_path_key_of_the_repository_goes_with_the_url_key_of_its_stem() {
        let c = run(&both_kinds("VITE_SOCKETIO_PATH", "/ws/socket.io"));
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].resource, "socket-path:a/web->b/chat");
        let places: Vec<String> = c[0]
            .occurrences
            .iter()
            .map(|o| o.location.to_string())
            .collect();
        assert_eq!(places, ["a/.env:2:16", "a/.env:3:1", "b/package.json:5:6"]);
        // The path the server serves.
        assert!(run(&both_kinds("VITE_SOCKETIO_PATH", "/socket.io/")).is_empty());
        // A path key of another stem says nothing about this URL: a client of both kinds
        // is not judged.
        assert!(run(&both_kinds("VITE_TERMINAL_WS_PATH", "/ws/socket.io")).is_empty());
    }
}
