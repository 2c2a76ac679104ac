//! Socket facts in source code, by a bounded lexical scan (no parser): string-literal `path`
//! options of the calls that create Socket.IO and WebSocket clients and servers, and native
//! `new WebSocket(...)` clients. A non-literal path (`path: config.socketPath`) says nothing.

use super::normalize_path;
use crate::source::SourceFile;
use switchyard_model::{RepoFacts, SocketFact, SocketFactKind, SocketProtocol, SocketRole};

/// How far back from a `path` option the enclosing call's `(` is looked for.
const MAX_CALL_LOOKBACK: usize = 4096;

pub fn scan(file: &SourceFile, out: &mut RepoFacts) {
    let text = &file.text;
    // Cheap filter: a file that never says "socket" creates none.
    if !text.contains("ocket") {
        return;
    }
    let python = file.path.ends_with(".py");
    if !python {
        native_clients(file, out);
    }
    let keys: &[&str] = if python {
        &["path", "socketio_path"]
    } else {
        &["path"]
    };
    let assign = if python { '=' } else { ':' };
    for key in keys {
        for (at, _) in text.match_indices(key) {
            let Some((value, start, end)) = literal_after(text, at, key, assign) else {
                continue;
            };
            let Some(callee) = enclosing_callee(text, at) else {
                continue;
            };
            let found = if python {
                python_call(&callee, key)
            } else {
                js_call(&callee, text)
            };
            let (Some((protocol, role)), Some(path)) = (found, normalize_path(value)) else {
                continue;
            };
            if in_comment(text, at) {
                continue;
            }
            out.sockets.push(SocketFact {
                service: None,
                kind: SocketFactKind::Path {
                    path,
                    protocol,
                    role,
                },
                location: file.location(start, end),
            });
        }
    }
}

/// `new WebSocket(` (the browser's, or `ws`'s client class): a plain WebSocket client. One
/// fact per file is enough to say what the package speaks.
fn native_clients(file: &SourceFile, out: &mut RepoFacts) {
    let text = &file.text;
    for (at, m) in text.match_indices("new WebSocket(") {
        if in_comment(text, at) {
            continue;
        }
        let start = at + "new ".len();
        out.sockets.push(SocketFact {
            service: None,
            kind: SocketFactKind::Library {
                name: "WebSocket".into(),
                protocol: SocketProtocol::WebSocket,
                role: SocketRole::Client,
            },
            location: file.location(start, at + m.len() - 1),
        });
        return;
    }
}

/// Whether the line holding `at` is a comment (`//`, `#`, `*` of a block comment) before it.
fn in_comment(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..at].trim_start();
    before.starts_with("//")
        || before.starts_with('#')
        || before.starts_with('*')
        || before.starts_with("/*")
        || before.contains(" //")
}

/// The string literal assigned to `key` at `at` (`path: '/x'`, `path="/x"`): its text and the
/// byte range of the text. The key must be a whole word.
fn literal_after<'t>(
    text: &'t str,
    at: usize,
    key: &str,
    assign: char,
) -> Option<(&'t str, usize, usize)> {
    let before = text[..at].chars().next_back();
    if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.') {
        return None;
    }
    let mut rest = &text[at + key.len()..];
    // `"path": "/x"` in an object written with quoted keys.
    rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
    let trimmed = rest.trim_start();
    let trimmed = trimmed.strip_prefix(assign)?;
    let value = trimmed.trim_start();
    let quote = value
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let body = &value[1..];
    let close = body.find(quote)?;
    let literal = &body[..close];
    if literal.contains('\n') || (quote == '`' && literal.contains("${")) {
        return None;
    }
    let start = text.len() - body.len();
    Some((literal, start, start + close))
}

/// The callee of the call whose argument list holds byte `at`: `io`, `new Server`,
/// `socketio.ASGIApp`, or `require("socket.io")` for `require("socket.io")(server, {...})`.
fn enclosing_callee(text: &str, at: usize) -> Option<String> {
    let bytes = text.as_bytes();
    let floor = at.saturating_sub(MAX_CALL_LOOKBACK);
    let mut depth = 0usize;
    let mut i = at;
    while i > floor {
        i -= 1;
        match bytes[i] {
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' if depth > 0 => depth -= 1,
            b'(' => return callee_before(text, i),
            b'[' | b'{' => {}
            _ => {}
        }
    }
    None
}

/// The identifier chain right before the `(` at `open`.
fn callee_before(text: &str, open: usize) -> Option<String> {
    let mut head = text[..open].trim_end();
    // `new Server<ClientEvents, ServerEvents>(…)`: the type arguments are not the callee.
    if head.ends_with('>')
        && let Some(lt) = head.rfind('<')
    {
        head = head[..lt].trim_end();
    }
    if let Some(inner) = head.strip_suffix(')') {
        // `require("socket.io")(…)`: the module required is the callee.
        let start = inner.rfind("require(")?;
        return Some(format!("require({})", &inner[start + "require(".len()..]));
    }
    let start = head
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '$' || *c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let callee = &head[start..];
    (!callee.is_empty()).then(|| callee.to_string())
}

/// Whether the file imports `module` (`from 'm'`, `require("m")`, `import 'm'`).
fn imports(text: &str, module: &str) -> bool {
    text.contains(&format!("'{module}'")) || text.contains(&format!("\"{module}\""))
}

/// What a JavaScript/TypeScript call with a `path` option creates.
fn js_call(callee: &str, text: &str) -> Option<(SocketProtocol, SocketRole)> {
    use SocketProtocol::{SocketIo, WebSocket};
    use SocketRole::{Client, Server};
    let last = callee.rsplit('.').next().unwrap_or(callee);
    if callee.starts_with("require(") {
        return callee
            .contains("socket.io")
            .then_some((SocketIo, Server))
            .filter(|_| !callee.contains("socket.io-client"));
    }
    if callee.ends_with("WebSocket.Server")
        || matches!(last, "WebSocketServer" | "WSServer" | "WsServer")
    {
        return Some((WebSocket, Server));
    }
    let socket_io_client = imports(text, "socket.io-client");
    if last == "io" || callee.ends_with("io.connect") || (last == "Manager" && socket_io_client) {
        return Some((SocketIo, Client));
    }
    let server_name = matches!(
        last,
        "Server"
            | "SocketIOServer"
            | "SocketIoServer"
            | "IOServer"
            | "socketIO"
            | "socketio"
            | "socketIo"
            | "SocketIO"
    );
    if server_name && imports(text, "socket.io") {
        return Some((SocketIo, Server));
    }
    if last == "Server" && imports(text, "ws") {
        return Some((WebSocket, Server));
    }
    None
}

/// What a Python call with a `path` / `socketio_path` keyword creates: Flask-SocketIO's
/// `SocketIO(app, path=...)`, python-socketio's `ASGIApp`/`WSGIApp(..., socketio_path=...)`
/// and client `connect(url, socketio_path=...)`.
fn python_call(callee: &str, key: &str) -> Option<(SocketProtocol, SocketRole)> {
    use SocketProtocol::SocketIo;
    let last = callee.rsplit('.').next().unwrap_or(callee);
    match (key, last) {
        ("path", "SocketIO") => Some((SocketIo, SocketRole::Server)),
        ("socketio_path", "ASGIApp" | "WSGIApp" | "get_asgi_app") => {
            Some((SocketIo, SocketRole::Server))
        }
        ("socketio_path", "connect") => Some((SocketIo, SocketRole::Client)),
        _ => None,
    }
}
