//! A small WebSocket client for the event stream (`/api/coordination/events`).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct WsClient {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the stream did next.
#[derive(Debug)]
pub enum Next {
    Event(Value),
    Closed(Option<u16>),
    Timeout,
}

/// `ws://…/api/coordination/events?<query>` for a server at `base` (`http://…`).
pub fn events_url(base: &str, query: &str) -> String {
    let base = base.replacen("http://", "ws://", 1);
    if query.is_empty() {
        format!("{base}/api/coordination/events")
    } else {
        format!("{base}/api/coordination/events?{query}")
    }
}

/// Connects, or returns the HTTP status and body of the refused handshake.
pub async fn try_connect(base: &str, query: &str) -> Result<WsClient, (u16, Value)> {
    match tokio_tungstenite::connect_async(events_url(base, query)).await {
        Ok((stream, _)) => Ok(WsClient { stream }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_ref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            Err((status, body))
        }
        Err(other) => panic!("websocket connect failed: {other}"),
    }
}

pub async fn connect(base: &str, query: &str) -> WsClient {
    match try_connect(base, query).await {
        Ok(client) => client,
        Err((status, body)) => panic!("websocket refused: {status} {body}"),
    }
}

impl WsClient {
    /// The next event (JSON text message), skipping pings and pongs.
    pub async fn next(&mut self, within: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let message = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Next::Timeout,
                Ok(None) | Ok(Some(Err(_))) => return Next::Closed(None),
                Ok(Some(Ok(message))) => message,
            };
            match message {
                Message::Text(text) => {
                    let value = serde_json::from_str(text.as_str())
                        .unwrap_or_else(|e| panic!("event is not JSON ({e}): {text}"));
                    return Next::Event(value);
                }
                Message::Close(frame) => return Next::Closed(frame.map(|f| u16::from(f.code))),
                _ => {}
            }
        }
    }

    /// Events until one named `name` arrives (included, last); panics after `within`.
    pub async fn until(&mut self, name: &str, within: Duration) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            match self.next(within).await {
                Next::Event(event) => {
                    let done = event["event"] == name;
                    seen.push(event);
                    if done {
                        return seen;
                    }
                }
                other => panic!("waiting for {name}: {other:?}; seen {seen:?}"),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.send(Message::Close(None)).await;
    }
}
