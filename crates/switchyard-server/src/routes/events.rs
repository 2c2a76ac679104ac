//! The event stream: a WebSocket at `GET /api/coordination/events?topics=…` and Socket.IO at
//! `/socket.io/`, both fed by the [`EventBus`](crate::events::EventBus).
//!
//! WebSocket: every text message is `{ id, event, timestamp, data }`. `topics` is a comma list
//! of event names, prefixes (`resource.*`, `resource.`) or `*`; no `topics` means everything.
//! A topic that selects no known event is a 400. A subscriber too slow to keep up is sent
//! `{ id, event: "stream.lagged", timestamp, data: { missed } }` and the stream goes on. The
//! server pings every 30 s; on shutdown it sends a `1001 going away` close frame.
//!
//! On a shared (PostgreSQL) store every event also carries `seq`, its place in the cluster's
//! order, the same on every replica. `?after=SEQ` first sends the logged events after `SEQ`
//! (a client that reconnects, to any replica, resumes where it stopped), then the live ones,
//! each once. A subscriber that falls behind is caught up from the log instead of being told
//! it lagged.
//!
//! Socket.IO: each bus event is emitted under its own name with its `data`. A client that
//! emits `subscribe` with topics (an array, a comma string or `{ topics: [...] }`, optionally
//! with an ack) from then on receives only the matching events; others receive everything.
//! Auth is the bearer-token middleware (`read` scope; `?token=` is accepted for clients that
//! cannot set headers, e.g. socket.io-client's `query: { token }`; the Socket.IO `auth`
//! handshake payload is not looked at).

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, SocketRef, TryData};
use tokio::sync::broadcast::error::RecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult};
use crate::events::{Event, EventBus, known_topic};
use crate::input::Params;
use crate::state::AppState;

/// Seconds between the server's keep-alive pings.
const PING_EVERY: Duration = Duration::from_secs(30);
/// How long a send (or the closing frame) may take before the client is given up.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The Socket.IO room of clients that did not `subscribe` (they get every event).
const ALL_ROOM: &str = "all";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

/// The topics of a request or a `subscribe` message, each checked against the event names.
pub fn parse_topics(list: Vec<String>) -> Result<Vec<String>, ApiError> {
    let unknown: Vec<&String> = list.iter().filter(|t| !known_topic(t)).collect();
    if unknown.is_empty() {
        Ok(list)
    } else {
        let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        Err(ApiError::validation(format!(
            "topics select no known event: {} (use event names, `prefix.*` or `*`)",
            names.join(", ")
        ))
        .with_details(json!({ "unknownTopics": names, "events": crate::events::EVENT_NAMES })))
    }
}

/// WebSocket stream of events: `{ id, event, timestamp, data }` text messages.
#[utoipa::path(
    get,
    path = "/events",
    tag = "events",
    params(
        ("topics" = Option<String>, Query, description = "Comma list of event names, prefixes (`resource.*`) or `*`; default everything"),
        ("token" = Option<String>, Query, description = "Bearer token for clients that cannot set the Authorization header"),
        ("after" = Option<i64>, Query, description = "Shared store only: first send the logged events whose `seq` is above this one (resume)")
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; then one JSON text message per event"),
        (status = 400, description = "Not a WebSocket request, or a topic that selects no event"),
        (status = 401, description = "Missing or unknown token")
    ),
    security(("bearer" = []))
)]
async fn events(
    State(state): State<AppState>,
    params: Params,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let topics = parse_topics(params.list("topics").unwrap_or_default())?;
    let after = params.int("after", 0, i64::MAX as u64)?;
    if after.is_some() && state.store.event_log().is_none() {
        return Err(ApiError::validation(
            "`after` resumes from the shared event log, which only a PostgreSQL store keeps; \
             this server's events live in its memory only",
        ));
    }
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::validation(format!(
            "this endpoint is a WebSocket (send `Connection: upgrade`, `Upgrade: websocket`): {rejection}"
        ))
    })?;
    // Subscribed before the 101 goes out, so nothing published after the handshake is missed.
    let receiver = state.events.subscribe();
    let subscriber = Subscriber {
        bus: state.events.clone(),
        store: state.store.clone(),
        topics,
        last: after.and_then(|a| i64::try_from(a).ok()),
    };
    Ok(upgrade.on_upgrade(move |socket| stream(socket, subscriber, receiver)))
}

/// One WebSocket subscriber.
struct Subscriber {
    bus: EventBus,
    store: std::sync::Arc<dyn switchyard_store::Store>,
    topics: Vec<String>,
    /// The last `seq` this client was sent (or asked to resume after): nothing at or below it
    /// is sent again.
    last: Option<i64>,
}

impl Subscriber {
    /// Whether `event` is new to this client (and records it as sent).
    fn fresh(&mut self, event: &Event) -> bool {
        match (event.seq, self.last) {
            (Some(seq), Some(last)) if seq <= last => false,
            (Some(seq), _) => {
                self.last = Some(seq);
                true
            }
            (None, _) => true,
        }
    }

    /// Sends the logged events after `last`, page by page, until caught up. `false` when the
    /// client is gone. A store that does not answer ends the catch-up (live events go on).
    async fn catch_up(&mut self, socket: &mut WebSocket) -> bool {
        let Some(after) = self.last else {
            return true;
        };
        let store = self.store.clone();
        let Some(log) = store.event_log() else {
            return true;
        };
        let mut after = after;
        loop {
            let Ok(page) = log.after(after, crate::cluster::READ_PAGE).await else {
                return true;
            };
            let full = page.len() >= crate::cluster::READ_PAGE as usize;
            for logged in page {
                after = logged.seq;
                if logged.event.name.starts_with(crate::events::CLUSTER_PREFIX) {
                    continue;
                }
                let event = Event {
                    id: logged.event.id,
                    event: logged.event.name,
                    timestamp: logged.event.timestamp,
                    data: logged.event.data,
                    seq: Some(logged.seq),
                };
                if self.fresh(&event)
                    && event.matches(&self.topics)
                    && let Ok(text) = serde_json::to_string(&event)
                    && !send(socket, Message::Text(text.into())).await
                {
                    return false;
                }
            }
            self.last = Some(after.max(self.last.unwrap_or(0)));
            if !full {
                return true;
            }
        }
    }
}

async fn send(socket: &mut WebSocket, message: Message) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await,
        Ok(Ok(()))
    )
}

/// Forwards matching events until the client leaves, a send fails or the server shuts down.
async fn stream(
    mut socket: WebSocket,
    mut subscriber: Subscriber,
    mut receiver: tokio::sync::broadcast::Receiver<Event>,
) {
    let closed = subscriber.bus.closed();
    tokio::pin!(closed);
    if !subscriber.catch_up(&mut socket).await {
        return;
    }
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            () = &mut closed => {
                let frame = CloseFrame { code: close_code::AWAY, reason: "server shutting down".into() };
                let _ = send(&mut socket, Message::Close(Some(frame))).await;
                return;
            }
            received = receiver.recv() => {
                let text = match received {
                    Ok(event) if subscriber.fresh(&event) && event.matches(&subscriber.topics) => {
                        serde_json::to_string(&event).ok()
                    }
                    Ok(_) => None,
                    // With a log to read, what was missed is read from it.
                    Err(RecvError::Lagged(_))
                        if subscriber.last.is_some() && subscriber.store.event_log().is_some() =>
                    {
                        if !subscriber.catch_up(&mut socket).await {
                            return;
                        }
                        None
                    }
                    Err(RecvError::Lagged(missed)) => Some(lag_notice(missed)),
                    Err(RecvError::Closed) => return,
                };
                if let Some(text) = text
                    && !send(&mut socket, Message::Text(text.into())).await
                {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                // Pongs to the client's pings are queued by the protocol layer itself.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if !send(&mut socket, Message::Ping(Default::default())).await {
                    return;
                }
            }
        }
    }
}

fn lag_notice(missed: u64) -> String {
    let now = switchyard_store::Timestamp::now_utc();
    json!({
        "id": format!("evt_{}", ulid::Ulid::from_datetime(now.to_system_time())),
        "event": "stream.lagged",
        "timestamp": now.to_rfc3339(),
        "data": { "missed": missed, "message": "this subscriber fell behind; some events were dropped" },
    })
    .to_string()
}

/// The Socket.IO room of a topic.
fn topic_room(topic: &str) -> String {
    format!("topic:{topic}")
}

/// The rooms whose members want `event`: `all` plus every topic form that matches it (the
/// same rule as [`Event::matches`]: `*`, the name, `prefix*`, `prefix.`).
pub fn rooms_for(event: &str) -> Vec<String> {
    let mut rooms = vec![ALL_ROOM.to_string(), topic_room("*"), topic_room(event)];
    for (i, c) in event.char_indices() {
        let prefix = &event[..i];
        rooms.push(topic_room(&format!("{prefix}*")));
        if c == '.' {
            rooms.push(topic_room(&event[..=i]));
        }
    }
    rooms.push(topic_room(&format!("{event}*")));
    rooms.sort();
    rooms.dedup();
    rooms
}

/// Topics of a `subscribe` message: `["a","b"]`, `"a,b"` or `{ "topics": [...] }`.
fn topics_of(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(text) => Some(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect(),
        Value::Object(map) => map.get("topics").and_then(topics_of),
        _ => None,
    }
}

async fn on_connect(socket: SocketRef) {
    socket.join(ALL_ROOM);
    socket.on(
        "subscribe",
        async |socket: SocketRef, TryData::<Value>(data), ack: AckSender| {
            let topics = data.ok().as_ref().and_then(topics_of);
            let reply = match topics.map(parse_topics) {
                Some(Ok(topics)) => {
                    socket.leave_all();
                    if topics.is_empty() {
                        socket.join(ALL_ROOM);
                    } else {
                        socket.join(topics.iter().map(|t| topic_room(t)).collect::<Vec<_>>());
                    }
                    json!({ "success": true, "topics": topics })
                }
                Some(Err(error)) => json!({
                    "success": false, "error": error.code, "message": error.message, "details": error.details,
                }),
                None => json!({
                    "success": false, "error": "VALIDATION_ERROR",
                    "message": "subscribe takes an array of topics, a comma list, or { topics: [...] }",
                }),
            };
            // The client may not have asked for an ack.
            let _ = ack.send(&reply);
        },
    );
}

/// Adds the Socket.IO layer at `/socket.io/` and forwards the event bus to it.
pub fn attach_socket_io(router: axum::Router, state: &AppState) -> axum::Router {
    let (layer, io) = SocketIo::builder().build_layer();
    io.ns("/", on_connect);
    let bus = state.events.clone();
    // Without a runtime (a router built outside tokio) there is nothing to forward with.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(forward(io, bus));
    }
    router.layer(layer)
}

async fn forward(io: SocketIo, bus: EventBus) {
    let mut receiver = bus.subscribe();
    let closed = bus.closed();
    tokio::pin!(closed);
    loop {
        tokio::select! {
            () = &mut closed => break,
            received = receiver.recv() => match received {
                Ok(event) => {
                    // No connected client is not an error.
                    let _ = io.to(rooms_for(&event.event)).emit(&event.event, &event.data).await;
                }
                Err(RecvError::Lagged(missed)) => {
                    let _ = io.emit("stream.lagged", &json!({ "missed": missed })).await;
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
    io.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str) -> Event {
        Event {
            id: String::new(),
            event: name.into(),
            timestamp: String::new(),
            data: Value::Null,
            seq: None,
        }
    }

    #[test]
    fn rooms_follow_the_topic_rule() {
        let rooms = rooms_for("resource.claimed");
        for topic in ["*", "resource.*", "resource.", "res*", "resource.claimed"] {
            assert!(rooms.contains(&topic_room(topic)), "{topic}: {rooms:?}");
            assert!(event("resource.claimed").matches(&[topic.to_string()]));
        }
        for topic in ["resource.released", "deployment.*", "resource"] {
            assert!(!rooms.contains(&topic_room(topic)), "{topic}: {rooms:?}");
        }
        assert!(rooms.contains(&ALL_ROOM.to_string()));
    }

    #[test]
    fn subscribe_payloads() {
        let t = |v: Value| topics_of(&v);
        assert_eq!(
            t(json!(["a", "b"])),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(
            t(json!("a, b,")),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(t(json!({ "topics": ["a"] })), Some(vec!["a".to_string()]));
        assert_eq!(t(json!([1])), None);
        assert_eq!(t(json!(3)), None);
        assert!(parse_topics(vec!["resource.*".into()]).is_ok());
        let error = parse_topics(vec!["resource.*".into(), "nope".into()]).err();
        assert_eq!(error.map(|e| e.status.as_u16()), Some(400));
    }
}
