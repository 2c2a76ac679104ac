//! `websocket_mismatch`: a `ws://`/`wss://` URL (or a value under a socket key) that reaches a
//! service on a port it does not listen on, or that nothing in the fleet serves.

use super::Detector;
use super::index::{FleetIndex, finish};
use super::reach::{address_key, address_text, is_websocket, port_list, reference_mismatch};
use super::unreachable_url::served_occurrences;
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::BTreeMap;
use switchyard_model::UnresolvedReason;

pub struct WebsocketDetector;

impl Detector for WebsocketDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::WebsocketMismatch
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        // (host, env, resource) → (message, occurrences)
        let mut groups: BTreeMap<(&str, &str, String), (String, Vec<Occurrence>)> = BTreeMap::new();

        for call in fleet.calls() {
            let (from, target, r, text) = (call.from, call.to, call.reference, call.text);
            if !is_websocket(r.key.as_deref(), text) {
                continue;
            }
            let Some(m) = reference_mismatch(target, text) else {
                continue;
            };
            let (host, env) = fleet.place(&from.repository);
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
            entry.1.push(Occurrence {
                repository: from.repository.clone(),
                service: Some(from.name.clone()),
                location: r.location.clone(),
                detail: text.to_string(),
            });
        }

        for u in &fleet.input.model.unresolved {
            if !matches!(
                u.reason,
                UnresolvedReason::NoProvider | UnresolvedReason::Ambiguous
            ) {
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
}
