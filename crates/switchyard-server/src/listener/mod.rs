//! The accept loop: HTTP/1.1 served by hyper with the limits a public port needs, instead of
//! `axum::serve` (which has no header or body timeout and no per-client cap).
//!
//! - At most `max_connections_per_client` open connections per client address (WebSocket
//!   streams included: the count is held by the socket itself); more are answered `429
//!   TOO_MANY_CONNECTIONS` and closed.
//! - A request's headers must arrive within `header_timeout_seconds` (then `408` and close), its
//!   body within `body_timeout_seconds` of the headers (then `408 REQUEST_TIMEOUT` from the
//!   handler that reads it).
//! - The first request head of a connection is read and checked here, so a garbage request
//!   line, an over-long URI, too many or too large headers are answered in the API's JSON error
//!   model (400, 414, 431) rather than hyper's empty bodies. Later requests on a kept-alive
//!   connection are parsed by hyper with the same limits; its empty-bodied answers to those are
//!   replaced by the JSON ones as they are written (`wire.rs`).

mod body;
mod head;
mod wire;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use body::DeadlineBody;
pub use body::{BodyTimeout, is_body_timeout};
use head::{HeadError, error_answer, first_head};
use wire::Prefixed;

use crate::error::ApiError;
use crate::state::AppState;

/// Longest request head (request line and headers) accepted.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Longest request target (path and query) accepted.
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// Most header fields in one request.
pub const MAX_HEADERS: usize = 100;

/// The limits of [`serve`], from the server's configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub per_client: usize,
}

impl Limits {
    pub fn of(config: &crate::ServerConfig) -> Limits {
        Limits {
            header_timeout: Duration::from_secs(config.header_timeout_seconds.max(1)),
            body_timeout: Duration::from_secs(config.body_timeout_seconds.max(1)),
            per_client: config.max_connections_per_client.max(1),
        }
    }
}

/// Open connections by client address.
#[derive(Clone, Default)]
struct ConnectionCount(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One counted connection; dropping it gives the slot back.
struct Slot {
    count: ConnectionCount,
    client: IpAddr,
}

impl ConnectionCount {
    fn acquire(&self, client: IpAddr, limit: usize) -> Option<Slot> {
        let mut map = match self.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let open = map.entry(client).or_insert(0);
        if *open >= limit {
            return None;
        }
        *open += 1;
        Some(Slot {
            count: self.clone(),
            client,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = match self.count.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(open) = map.get_mut(&self.client) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                map.remove(&self.client);
            }
        }
    }
}

/// Serves `app` on `listener` until `stop` fires, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    state: AppState,
    limits: Limits,
    stop: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let counts = ConnectionCount::default();
    let (signal_tx, signal_rx) = watch::channel(false);
    let (close_tx, close_rx) = watch::channel(());
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let Some(slot) = counts.acquire(peer.ip(), limits.per_client) else {
            let state = state.clone();
            tokio::spawn(async move {
                let error = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TOO_MANY_CONNECTIONS",
                    format!(
                        "this address already holds {} open connections",
                        limits.per_client
                    ),
                )
                .with_details(serde_json::json!({ "maxConnections": limits.per_client }));
                answer_and_close(stream, &state, &error).await;
            });
            continue;
        };
        let connection = Connection {
            app: app.clone(),
            state: state.clone(),
            limits,
            peer,
        };
        let signal = signal_rx.clone();
        let close = close_rx.clone();
        tokio::spawn(async move {
            connection.run(stream, slot, signal).await;
            drop(close);
        });
    }
    drop(listener);
    let _ = signal_tx.send(true);
    drop(close_rx);
    close_tx.closed().await;
    Ok(())
}

struct Connection {
    app: Router,
    state: AppState,
    limits: Limits,
    peer: SocketAddr,
}

impl Connection {
    async fn run(self, mut stream: TcpStream, slot: Slot, mut signal: watch::Receiver<bool>) {
        let head = tokio::select! {
            head = first_head(&mut stream, self.limits.header_timeout) => head,
            _ = signal.changed() => return,
        };
        let prefix = match head {
            Ok(prefix) => prefix,
            Err(HeadError::Closed) => return,
            Err(HeadError::Refused(error)) => {
                answer_and_close(stream, &self.state, &error).await;
                return;
            }
        };
        let io = TokioIo::new(Prefixed::new(prefix, stream, slot, self.state.clone()));
        let Connection {
            app,
            limits,
            peer,
            state: _,
        } = self;
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request =
                request.map(|body| Body::new(DeadlineBody::new(body, limits.body_timeout)));
            request.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            async move { Ok::<_, Infallible>(app.oneshot(request).await.into_response_infallible()) }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(MAX_HEAD_BYTES)
            .max_headers(MAX_HEADERS);
        let connection = builder.serve_connection(io, service).with_upgrades();
        tokio::pin!(connection);
        tokio::select! {
            _ = connection.as_mut() => {}
            _ = signal.changed() => {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        }
    }
}

/// `Router`'s error type is `Infallible`; this keeps the closure's types plain.
trait IntoResponseInfallible {
    fn into_response_infallible(self) -> axum::response::Response;
}

impl IntoResponseInfallible for Result<axum::response::Response, Infallible> {
    fn into_response_infallible(self) -> axum::response::Response {
        match self {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// Writes `error` as a complete JSON answer, then closes gracefully: the rest of what the client
/// sent is read and dropped for a moment, so the close does not reset the answer away.
async fn answer_and_close(mut stream: TcpStream, state: &AppState, error: &ApiError) {
    let started = Instant::now();
    let answer = error_answer(state, error);
    let write = async {
        stream.write_all(&answer).await?;
        stream.flush().await?;
        stream.shutdown().await
    };
    if let Ok(Ok(())) = tokio::time::timeout(Duration::from_secs(5), write).await {
        let drain = async {
            let mut sink = [0u8; 8192];
            let mut left: usize = 1024 * 1024;
            while left > 0 {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => left = left.saturating_sub(n),
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    }
    state.monitor.record_http(
        "-",
        "unparsed",
        error.status.as_u16(),
        started.elapsed().as_secs_f64(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_slots_are_counted_per_address() {
        let counts = ConnectionCount::default();
        let a = IpAddr::from([127, 0, 0, 1]);
        let b = IpAddr::from([127, 0, 0, 2]);
        let first = counts.acquire(a, 2);
        let second = counts.acquire(a, 2);
        assert!(first.is_some() && second.is_some());
        assert!(counts.acquire(a, 2).is_none());
        assert!(counts.acquire(b, 2).is_some(), "other addresses unaffected");
        drop(first);
        assert!(
            counts.acquire(a, 2).is_some(),
            "a closed connection frees its slot"
        );
    }
}
