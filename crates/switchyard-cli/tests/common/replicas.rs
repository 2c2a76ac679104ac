//! Real `switchyard serve` replicas on one PostgreSQL, for the multi-replica tests: the
//! database URL (skipping loudly without one), a schema per test, plain HTTP/1.1 and a minimal
//! WebSocket reader (text frames only) over `std::net`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `SWITCHYARD_TEST_PG_URL`, or `None` after saying the test is skipped (a failure instead
/// when `SWITCHYARD_REQUIRE_POSTGRES=1`).
pub fn pg_url(test: &str) -> Option<String> {
    match std::env::var("SWITCHYARD_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("SWITCHYARD_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "SWITCHYARD_REQUIRE_POSTGRES=1 but SWITCHYARD_TEST_PG_URL is not set"
            );
            eprintln!(
                "SKIPPED {test}: no PostgreSQL (SWITCHYARD_TEST_PG_URL unset; run `eval $(scripts/pg-test-cluster.sh start)`)"
            );
            None
        }
    }
}

/// Creates and migrates schema `schema` and returns the store URL whose connections use it.
pub fn schema_store(url: &str, schema: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let options = switchyard_store::PgOptions::from_url(url)
            .unwrap()
            .schema(schema.to_string());
        switchyard_store::PgStore::open(options)
            .await
            .unwrap()
            .close()
            .await;
    });
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}

/// One HTTP/1.1 exchange (`Connection: close`): the status and the JSON body, or `None` when
/// the replica cannot be reached or dropped the connection.
pub fn http(address: &str, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
    http_with(address, method, path, body, &[])
}

pub fn http_with(
    address: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Option<(u16, Value)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{extra}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status: u16 = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

pub struct Replica {
    pub child: Child,
    pub address: String,
}

/// A replica never outlives its test, even one that fails halfway.
impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Replica {
    /// SIGKILL (`Child::kill` on Unix): no shutdown, the database sessions just drop.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the replica");
        let _ = self.child.wait();
    }
}

/// Starts `switchyard serve` on `fleet` (relative to the workspace root, or absolute) with
/// `store`, extra environment variables, once it prints its address.
pub fn start_replica(store: &str, fleet: &Path, env: &[(&str, &str)]) -> Replica {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    command
        .arg("serve")
        .arg("--fleet")
        .arg(fleet)
        .args(["--no-cache", "--bind", "127.0.0.1:0", "--rate-limit", "0"])
        .args(["--store", store])
        .current_dir(super::workspace_root())
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("switchyard serve starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    // The fleet-discovery line (`fleet: …`) comes first, then the listening address.
    let mut line = String::new();
    while line.is_empty() || line.starts_with("fleet:") {
        line.clear();
        if stderr.read_line(&mut line).expect("a line") == 0 {
            break;
        }
    }
    assert!(line.contains("http://"), "replica did not start: {line}");
    let address = line.trim().rsplit("http://").next().unwrap().to_string();
    // Keep draining stderr so the replica never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = stderr.read_to_string(&mut sink);
    });
    Replica { child, address }
}

/// A WebSocket client reading the event stream's text messages.
pub struct EventStream {
    stream: TcpStream,
    buffered: Vec<u8>,
}

impl EventStream {
    /// Opens `GET /api/coordination/events?QUERY` as a WebSocket.
    pub fn open(address: &str, query: &str) -> EventStream {
        let mut stream = TcpStream::connect(address).expect("connect");
        write!(
            stream,
            "GET /api/coordination/events?{query} HTTP/1.1\r\nHost: {address}\r\n\
             Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        .expect("handshake sent");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("handshake answer");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        EventStream {
            stream,
            buffered: Vec::new(),
        }
    }

    /// The next text message as JSON, or `None` when none arrives within `wait`.
    pub fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some((opcode, payload, used)) = frame(&self.buffered) {
                self.buffered.drain(..used);
                match opcode {
                    0x1 => return serde_json::from_slice(&payload).ok(),
                    0x8 => return None,
                    _ => continue, // pings and others
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .ok()?;
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buffered.extend_from_slice(&chunk[..n]),
                Err(_) => return None,
            }
        }
    }

    /// Reads messages until one satisfies `wanted` (returned) or `wait` has passed.
    pub fn until(&mut self, wait: Duration, wanted: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let message = self.next(left)?;
            if wanted(&message) {
                return Some(message);
            }
        }
    }
}

/// One unmasked server frame at the start of `bytes`: opcode, payload, bytes used.
fn frame(bytes: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    if bytes.len() < 2 {
        return None;
    }
    let opcode = bytes[0] & 0x0f;
    let (length, start) = match bytes[1] & 0x7f {
        126 => (
            u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]) as usize,
            4,
        ),
        127 => {
            let raw: [u8; 8] = bytes.get(2..10)?.try_into().ok()?;
            (u64::from_be_bytes(raw) as usize, 10)
        }
        n => (n as usize, 2),
    };
    let payload = bytes.get(start..start + length)?.to_vec();
    Some((opcode, payload, start + length))
}
