//! `switchyard serve` end to end: the real binary serves the example fleet, answers over HTTP,
//! refuses an unsafe bind, and stops cleanly on SIGTERM.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// A minimal HTTP/1.1 GET (the CLI's tests have no HTTP client dependency).
fn http_get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
}

#[test]
fn serves_the_homelab_fleet_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = format!("sqlite://{}", dir.path().join("state.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--fleet", "examples/fleets/homelab", "--no-cache"])
        .args(["--bind", "127.0.0.1:0", "--store", &store])
        .current_dir(common::workspace_root())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("switchyard serve starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("first line");
    // Which rule read the fleet folder comes first.
    assert!(line.starts_with("fleet: repositories listed in"), "{line}");
    line.clear();
    stderr.read_line(&mut line).expect("start line");
    let address = line
        .trim()
        .rsplit("http://")
        .next()
        .expect("address in the start line")
        .to_string();
    assert!(line.contains("serving 6 repositories"), "{line}");

    let health = http_get(&address, "/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"status\""), "{health}");
    let deps = http_get(&address, "/api/coordination/dependencies");
    assert!(deps.contains("\"deploymentOrder\""), "{deps}");
    let metrics = http_get(&address, "/metrics");
    assert!(
        metrics.contains("# TYPE switchyard_http_requests_total counter"),
        "{metrics}"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("server exits");
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    assert!(status.success(), "exit {status:?}: {rest}");
    assert!(rest.contains("shutting down"), "{rest}");
}

#[test]
fn refuses_a_public_bind_without_tokens() {
    let run = common::switchyard(
        &[
            "serve",
            "--fleet",
            "examples/fleets/homelab",
            "--bind",
            "0.0.0.0:0",
        ],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("without tokens"), "{}", run.stderr);
}
