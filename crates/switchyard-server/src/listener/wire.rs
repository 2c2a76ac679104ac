//! The connection's socket as hyper sees it: the bytes of the first head, already read, in
//! front; the client's connection slot held for as long as the socket lives; hyper's own
//! empty-bodied error answers replaced by JSON ones.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::head::error_answer;
use super::{MAX_HEAD_BYTES, MAX_HEADERS, Slot};
use crate::error::ApiError;
use crate::state::AppState;

/// The connection's socket with the bytes already read in front; it also holds the client's
/// connection slot, so an upgraded (WebSocket) connection keeps counting until it closes.
///
/// hyper answers a malformed later request of a kept-alive connection itself, with an empty
/// body (`HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n…`) and no
/// hook to change it. Such an answer is recognised as it is written (the application never
/// answers 400, 414 or 431 without a JSON body) and replaced by the JSON error.
pub(super) struct Prefixed {
    prefix: Vec<u8>,
    offset: usize,
    stream: TcpStream,
    _slot: Slot,
    state: AppState,
    /// A replacement answer still being written, and how much of it is out.
    replacement: Option<(Vec<u8>, usize)>,
}

impl Prefixed {
    pub(super) fn new(prefix: Vec<u8>, stream: TcpStream, slot: Slot, state: AppState) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
