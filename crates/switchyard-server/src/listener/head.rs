//! The first request head of a connection, read and checked before hyper sees it, so that
//! malformed requests are answered in the API's JSON error model.

use std::time::Duration;

use axum::http::StatusCode;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::{MAX_HEAD_BYTES, MAX_HEADERS, MAX_URI_BYTES};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) enum HeadError {
    /// The client went away (or sent nothing in time): nothing to answer.
    Closed,
    /// Answer this and close.
    Refused(ApiError),
}

/// Reads until the first request head is complete and checks it; returns every byte read (the
/// head and whatever followed) for hyper to parse again.
pub(super) async fn first_head(
    stream: &mut TcpStream,
    timeout: Duration,
) -> Result<Vec<u8>, HeadError> {
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

/// A complete `connection: close` answer carrying `error` in the JSON error model.
pub(super) fn error_answer(state: &AppState, error: &ApiError) -> Vec<u8> {
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
}
