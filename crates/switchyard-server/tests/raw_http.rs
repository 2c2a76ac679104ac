//! Slow and malformed HTTP over a raw `TcpStream`: unfinished headers are answered `408` and
//! closed after `header_timeout_seconds`, a body that stops coming is `408` after
//! `body_timeout_seconds`, an over-long URI is `414`, too many or too large headers `431`, a
//! garbage request line `400`, connections over the per-address cap `429`; every one of them
//! with a body in the API's JSON error model.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::TestServer;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn address(server: &TestServer) -> SocketAddr {
    server.server.as_ref().expect("running").address
}

/// Reads everything until the server closes (at most `limit`); the text and when it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(started + limit),
            stream.read(&mut chunk),
        )
        .await
        {
            Err(_) => return (String::from_utf8_lossy(&out).into(), None),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    String::from_utf8_lossy(&out).into(),
                    Some(started.elapsed()),
                );
            }
            Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Sends `bytes` on a new connection and returns the answer once the server closes.
async fn exchange(server: &TestServer, bytes: &[u8]) -> (String, Option<Duration>) {
    let mut stream = TcpStream::connect(address(server)).await.expect("connect");
    // The server may answer and close before everything is written (a 414 or 431 is decided
    // early); that is fine.
    let _ = stream.write_all(bytes).await;
    read_until_closed(&mut stream, Duration::from_secs(10)).await
}

/// The status and the JSON body of a raw answer; asserts the API's error model.
fn json_error(answer: &str, status: u16, code: &str) -> Value {
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete answer: {answer:?}"));
    let status_line = head.lines().next().unwrap_or("");
    assert!(
        status_line.starts_with(&format!("HTTP/1.1 {status} ")),
        "{status_line} (wanted {status}): {answer:.300}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let body: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    common::assert_error(status, &body, status, code);
    body
}

fn quick_timeouts(config: &mut switchyard_server::ServerConfig) {
    config.header_timeout_seconds = 1;
    config.body_timeout_seconds = 1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_headers_are_closed_after_the_header_timeout() {
    let server = TestServer::start_with("homelab", quick_timeouts).await;
    // 40 clients that never finish their headers, one of them dripping a byte every 200 ms.
    let mut clients = Vec::new();
    for n in 0..40 {
        let addr = address(&server);
        clients.push(tokio::spawn(async move {
            let connected = Instant::now();
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            stream
                .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .await
                .expect("write");
            if n == 0 {
                for _ in 0..8 {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if stream.write_all(b"X").await.is_err() {
                        break;
                    }
                }
            }
            let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(15)).await;
            (answer, closed.map(|_| connected.elapsed()))
        }));
    }
    let mut longest = Duration::ZERO;
    for client in clients {
        let (answer, closed) = client.await.expect("client task");
        let closed = closed.unwrap_or_else(|| panic!("still open after 15 s: {answer:?}"));
        assert!(
            closed >= Duration::from_millis(900),
            "closed early: {closed:?}"
        );
        longest = longest.max(closed);
        json_error(&answer, 408, "REQUEST_TIMEOUT");
    }
    assert!(longest < Duration::from_secs(5), "held open {longest:?}");
    println!("40 unfinished heads: the last was closed after {longest:?}");
    // The server still serves.
    let (status, _) = server.get("/health").await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_json_errors() {
    let server = TestServer::start("homelab").await;
    let long_uri = format!(
        "GET /api/coordination/resources?x={} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let (answer, _) = exchange(&server, long_uri.as_bytes()).await;
    json_error(&answer, 414, "URI_TOO_LONG");

    let many: String = (0..150).map(|i| format!("X-Header-{i}: v\r\n")).collect();
    let many = format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n{many}\r\n");
    let (answer, _) = exchange(&server, many.as_bytes()).await;
    json_error(&answer, 431, "HEADERS_TOO_LARGE");

    let big = format!(
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n",
        "b".repeat(100 * 1024)
    );
    let (answer, _) = exchange(&server, big.as_bytes()).await;
    json_error(&answer, 431, "HEADERS_TOO_LARGE");

    for garbage in [
        &b"HELLO WORLD\r\n\r\n"[..],
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"GET /health HTTP/9.9\r\n\r\n",
        b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n",
    ] {
        let (answer, _) = exchange(&server, garbage).await;
        let body = json_error(&answer, 400, "MALFORMED_REQUEST");
        assert!(
            body["requestId"]
                .as_str()
                .is_some_and(|id| id.starts_with("req_"))
        );
    }

    // The same kinds as the second request of a kept-alive connection (parsed by hyper).
    let second: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"HELLO WORLD\r\n\r\n".to_vec(), 400, "MALFORMED_REQUEST"),
        (long_uri.clone().into_bytes(), 414, "URI_TOO_LONG"),
        (many.clone().into_bytes(), 431, "HEADERS_TOO_LARGE"),
    ];
    for (bytes, status, code) in second {
        let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .expect("write");
        let mut first = vec![0u8; 4096];
        let n = stream.read(&mut first).await.expect("first answer");
        assert!(first[..n].starts_with(b"HTTP/1.1 200 OK"));
        let _ = stream.write_all(&bytes).await;
        let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
        json_error(&answer, status, code);
    }

    // A well-formed request and a pipelined second one are still served normally.
    let (answer, _) = exchange(
        &server,
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 2, "{answer}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_coming_is_408() {
    let server = TestServer::start_with("homelab", quick_timeouts).await;
    let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
    stream
        .write_all(
            b"POST /api/coordination/resources/register HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\":",
        )
        .await
        .expect("write");
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    let closed = closed.unwrap_or_else(|| panic!("still open: {answer:?}"));
    assert!(closed < Duration::from_secs(5), "{closed:?}");
    json_error(&answer, 408, "REQUEST_TIMEOUT");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_client_address_are_capped() {
    let server = TestServer::start_with("homelab", |c| c.max_connections_per_client = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(address(&server)).await.expect("connect"));
    }
    // Let the server register them before the fourth arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (answer, closed) =
        exchange(&server, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;
    assert!(closed.is_some(), "{answer}");
    json_error(&answer, 429, "TOO_MANY_CONNECTIONS");
    // A closed connection frees its slot.
    held.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (answer, _) = exchange(
        &server,
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:.300}");
    drop(held);
    server.stop().await;
}
