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
//!   replaced by the JSON ones as they are written (see [`Prefixed`]).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

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

enum HeadError {
    /// The client went away (or sent nothing in time): nothing to answer.
    Closed,
    /// Answer this and close.
    Refused(ApiError),
}

/// Reads until the first request head is complete and checks it; returns every byte read (the
/// head and whatever followed) for hyper to parse again.
async fn first_head(stream: &mut TcpStream, timeout: Duration) -> Result<Vec<u8>, HeadError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buffer: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let mut chunk = [0u8; 8192];
        let read = match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) if buffer.iter().all(u8::is_ascii_whitespace) => return Err(HeadError::Closed),
            Err(_) => {
                return Err(HeadError::Refused(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "REQUEST_TIMEOUT",
                    format!(
                        "the request's headers did not arrive within {} s",
                        timeout.as_secs()
                    ),
                )));
            }
            Ok(Err(_)) | Ok(Ok(0)) => return Err(HeadError::Closed),
            Ok(Ok(n)) => n,
        };
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(verdict) = check_head(&buffer) {
            return verdict.map(|()| buffer);
        }
    }
}

/// `Some(Ok)` when `bytes` start with an acceptable complete head, `Some(Err)` when they can
/// never become one, `None` when more bytes are needed.
fn check_head(bytes: &[u8]) -> Option<Result<(), HeadError>> {
    let refuse = |status: StatusCode, code: &'static str, message: String| {
        Some(Err(HeadError::Refused(ApiError::new(
            status, code, message,
        ))))
    };
    let line_end = bytes.iter().position(|b| *b == b'\n');
    let line = line_end.map_or(bytes, |end| &bytes[..end]);
    // Method, spaces and version take at most a few dozen bytes beyond the target.
    if line.len() > MAX_URI_BYTES + 64 {
        return refuse(
            StatusCode::URI_TOO_LONG,
            "URI_TOO_LONG",
            format!("the request target is longer than {MAX_URI_BYTES} bytes"),
        );
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => {
            if request.path.is_some_and(|p| p.len() > MAX_URI_BYTES) {
                return refuse(
                    StatusCode::URI_TOO_LONG,
                    "URI_TOO_LONG",
                    format!("the request target is longer than {MAX_URI_BYTES} bytes"),
                );
            }
            Some(Ok(()))
        }
        Ok(httparse::Status::Partial) if bytes.len() > MAX_HEAD_BYTES => refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "HEADERS_TOO_LARGE",
            format!("the request's headers are larger than {MAX_HEAD_BYTES} bytes"),
        ),
        Ok(httparse::Status::Partial) => None,
        Err(httparse::Error::TooManyHeaders) => refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "HEADERS_TOO_LARGE",
            format!("the request has more than {MAX_HEADERS} header fields"),
        ),
        Err(error) => refuse(
            StatusCode::BAD_REQUEST,
            "MALFORMED_REQUEST",
            format!("malformed HTTP request: {error}"),
        ),
    }
}

/// Writes `error` as a complete JSON answer, then closes gracefully: the rest of what the client
/// sent is read and dropped for a moment, so the close does not reset the answer away.
/// A complete `connection: close` answer carrying `error` in the JSON error model.
fn error_answer(state: &AppState, error: &ApiError) -> Vec<u8> {
    let id = format!(
        "req_{}",
        ulid::Ulid::from_datetime(state.now().to_system_time())
    );
    let body = error.body_at(&id, state.now()).to_string();
    let reason = error.status.canonical_reason().unwrap_or("Error");
    let mut answer = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\nx-correlation-id: {id}\r\n",
        error.status.as_u16(),
        body.len()
    );
    if error.status == StatusCode::TOO_MANY_REQUESTS {
        answer.push_str("retry-after: 1\r\n");
    }
    answer.push_str("\r\n");
    answer.push_str(&body);
    answer.into_bytes()
}

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

/// The connection's socket with the bytes already read in front; it also holds the client's
/// connection slot, so an upgraded (WebSocket) connection keeps counting until it closes.
///
/// hyper answers a malformed later request of a kept-alive connection itself, with an empty
/// body (`HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n…`) and no
/// hook to change it. Such an answer is recognised as it is written (the application never
/// answers 400, 414 or 431 without a JSON body) and replaced by the JSON error.
struct Prefixed {
    prefix: Vec<u8>,
    offset: usize,
    stream: TcpStream,
    _slot: Slot,
    state: AppState,
    /// A replacement answer still being written, and how much of it is out.
    replacement: Option<(Vec<u8>, usize)>,
}

impl Prefixed {
    fn new(prefix: Vec<u8>, stream: TcpStream, slot: Slot, state: AppState) -> Self {
        Prefixed {
            prefix,
            offset: 0,
            stream,
            _slot: slot,
            state,
            replacement: None,
        }
    }

    /// Writes what is left of a replacement answer.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.replacement {
            if *written >= bytes.len() {
                self.replacement = None;
                break;
            }
            match Pin::new(&mut self.stream).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Whether `bytes` are exactly one of hyper's own body-less error answers; the JSON
    /// answer to send instead.
    fn replace(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let error = hyper_error(bytes)?;
        self.state
            .monitor
            .record_http("-", "unparsed", error.status.as_u16(), 0.0);
        Some(error_answer(&self.state, &error))
    }
}

/// The API error for one of hyper's automatic answers to a request it could not parse.
fn hyper_error(bytes: &[u8]) -> Option<ApiError> {
    let rest = bytes
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| bytes.strip_prefix(b"HTTP/1.0 "))?;
    let status = rest.get(..3)?;
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
    if head_end != bytes.len() || !head.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    Some(match status {
        b"400" => ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_REQUEST",
            "malformed HTTP request",
        ),
        b"414" => ApiError::new(
            StatusCode::URI_TOO_LONG,
            "URI_TOO_LONG",
            "the request target is too long",
        ),
        b"431" => ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "HEADERS_TOO_LARGE",
            format!(
                "the request has more than {MAX_HEADERS} header fields or {MAX_HEAD_BYTES} bytes of them"
            ),
        ),
        _ => return None,
    })
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.offset < self.prefix.len() {
            let rest = &self.prefix[self.offset..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            self.offset += n;
            if self.offset == self.prefix.len() {
                self.prefix = Vec::new();
                self.offset = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Nothing after a replaced answer (hyper closes), but keep the order if it did.
        std::task::ready!(self.poll_replacement(cx))?;
        if buf.starts_with(b"HTTP/1.")
            && let Some(answer) = self.replace(buf)
        {
            self.replacement = Some((answer, 0));
            // The answer counts as written; flush and shutdown send the rest.
            let _ = self.poll_replacement(cx);
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let starts_answer = bufs
            .iter()
            .find(|b| !b.is_empty())
            .is_some_and(|b| b.starts_with(b"HTTP/1."));
        if starts_answer || self.replacement.is_some() {
            // Rare (a head being written): take the plain path, which checks it.
            let joined: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            return self.poll_write(cx, &joined);
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_replacement(cx))?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_replacement(cx))?;
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The body did not arrive within `body_timeout_seconds` of the request's headers.
#[derive(Debug, thiserror::Error)]
#[error("request body read timed out")]
pub struct BodyTimeout;

/// A request body that fails with [`BodyTimeout`] when it is not complete by its deadline.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl DeadlineBody {
    fn new(inner: Incoming, timeout: Duration) -> Self {
        DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether a body error (as an extractor reports it) is a [`BodyTimeout`].
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<BodyTimeout>() || error.to_string().contains("request body read timed out") {
            return true;
        }
        current = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(bytes: &[u8]) -> Option<Result<(), u16>> {
        check_head(bytes).map(|v| {
            v.map_err(|e| match e {
                HeadError::Closed => 0,
                HeadError::Refused(error) => error.status.as_u16(),
            })
        })
    }

    #[test]
    fn request_heads_are_checked() {
        assert_eq!(
            verdict(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(Ok(()))
        );
        assert_eq!(verdict(b"GET /health HTTP/1.1\r\nHost: x\r\n"), None);
        assert_eq!(verdict(b"GET /hea"), None);
        assert_eq!(verdict(b"\x16\x03\x01garbage\r\n\r\n"), Some(Err(400)));
        assert_eq!(verdict(b"HELLO THERE\r\n\r\n"), Some(Err(400)));
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_URI_BYTES + 1));
        assert_eq!(verdict(long.as_bytes()), Some(Err(414)));
        let unfinished = format!("GET /{}", "a".repeat(MAX_URI_BYTES + 100));
        assert_eq!(verdict(unfinished.as_bytes()), Some(Err(414)));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(verdict(many.as_bytes()), Some(Err(431)));
        let big = format!(
            "GET / HTTP/1.1\r\nX-Big: {}\r\n",
            "b".repeat(MAX_HEAD_BYTES)
        );
        assert_eq!(verdict(big.as_bytes()), Some(Err(431)));
    }

    #[test]
    fn hypers_own_error_answers_are_recognised() {
        let status = |bytes: &[u8]| hyper_error(bytes).map(|e| e.status.as_u16());
        let answer = |status: &str| {
            format!(
                "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: 0\r\n\
                 date: Mon, 07 Dec 2026 04:19:49 GMT\r\n\r\n"
            )
        };
        assert_eq!(status(answer("400 Bad Request").as_bytes()), Some(400));
        assert_eq!(status(answer("414 URI Too Long").as_bytes()), Some(414));
        assert_eq!(
            status(answer("431 Request Header Fields Too Large").as_bytes()),
            Some(431)
        );
        assert_eq!(status(answer("404 Not Found").as_bytes()), None);
        let with_body = format!("{}{{}}", answer("400 Bad Request"));
        assert_eq!(
            status(with_body.as_bytes()),
            None,
            "the application's own answers"
        );
        let json = "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
                    content-length: 120\r\n\r\n";
        assert_eq!(status(json.as_bytes()), None);
        assert_eq!(status(b"{\"HTTP/1.1 400\"}"), None);
    }

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
