//! Real-time sockets: which WebSocket / Socket.IO libraries a package depends on
//! (`package.json`, `requirements*.txt`, `pyproject.toml`, `Pipfile`, `go.mod`) and which socket
//! paths its code configures (`io(url, { path })`, `new Server(http, { path })`,
//! `SocketIO(app, path=...)`, `new WebSocketServer({ path })`, native `new WebSocket(url)`).
//! nginx `location`s that upgrade connections are read by the nginx extractor
//! (`nginx/upgrade.rs`), which already holds the parsed tree.
//!
//! These files belong to other formats too (a package.json is also a workspace member), so this
//! extractor records what it sees and answers [`Handled::NotMine`]: it runs first and the
//! format's own extractor still reads the file.
//!
//! Source code is read within bounds: a few extensions, no vendored, built or test trees, files
//! up to [`MAX_SOURCE_BYTES`], and only files that mention a socket at all.

mod code;
mod manifests;
#[cfg(test)]
mod tests;

use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name};
use switchyard_model::{RepoFacts, SocketProtocol, SocketRole};

pub struct SocketExtractor;

/// Largest source file scanned for socket paths; bigger ones are bundles or generated code.
pub const MAX_SOURCE_BYTES: usize = 256 * 1024;

/// Source extensions scanned for socket paths and native `WebSocket` clients.
const SOURCE_EXTENSIONS: [&str; 9] = [
    ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".py",
];

/// Folders whose sources are not the service's own running code.
const SKIPPED_SOURCE_DIRS: [&str; 20] = [
    "node_modules",
    "vendor",
    "bower_components",
    "dist",
    "build",
    "out",
    "coverage",
    "public",
    "static",
    "test",
    "tests",
    "__tests__",
    "__mocks__",
    "e2e",
    "cypress",
    "fixtures",
    "examples",
    "site-packages",
    ".venv",
    "venv",
];

/// Which manifest format a path is, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Manifest {
    PackageJson,
    Requirements,
    Pyproject,
    Pipfile,
    GoMod,
}

fn manifest_kind(path: &str) -> Option<Manifest> {
    let name = file_name(path);
    let under_vendor = path
        .split('/')
        .rev()
        .skip(1)
        .any(|d| matches!(d, "node_modules" | "vendor" | "site-packages"));
    if under_vendor {
        return None;
    }
    match name {
        "package.json" => Some(Manifest::PackageJson),
        "pyproject.toml" => Some(Manifest::Pyproject),
        "Pipfile" => Some(Manifest::Pipfile),
        "go.mod" => Some(Manifest::GoMod),
        _ if name.starts_with("requirements") && name.ends_with(".txt") => {
            Some(Manifest::Requirements)
        }
        // `requirements/base.txt`, `requirements/prod.txt`.
        _ if name.ends_with(".txt")
            && crate::source::parent_dir(path)
                .rsplit('/')
                .next()
                .is_some_and(|d| d == "requirements") =>
        {
            Some(Manifest::Requirements)
        }
        _ => None,
    }
}

/// Whether `path` is source code this extractor scans.
pub fn is_scanned_source(path: &str) -> bool {
    let name = file_name(path);
    SOURCE_EXTENSIONS.iter().any(|e| name.ends_with(e))
        && !name.ends_with(".min.js")
        && !name.ends_with(".d.ts")
        && ![".test.", ".spec.", ".stories.", ".config."]
            .iter()
            .any(|m| name.contains(m))
        && !path
            .split('/')
            .rev()
            .skip(1)
            .any(|d| SKIPPED_SOURCE_DIRS.contains(&d) || d.starts_with('.'))
}

impl Extractor for SocketExtractor {
    fn name(&self) -> &'static str {
        "sockets"
    }

    fn accepts(&self, path: &str) -> bool {
        manifest_kind(path).is_some() || is_scanned_source(path)
    }

    fn extract(&self, file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) -> Handled {
        match manifest_kind(&file.path) {
            Some(Manifest::PackageJson) => manifests::package_json(file, repo, out),
            Some(Manifest::Requirements) => manifests::requirements(file, out),
            Some(Manifest::Pyproject | Manifest::Pipfile) => {
                manifests::toml_dependencies(file, out)
            }
            Some(Manifest::GoMod) => manifests::go_mod(file, out),
            None if file.text.len() <= MAX_SOURCE_BYTES => code::scan(file, out),
            None => {}
        }
        Handled::NotMine
    }
}

/// What a dependency on `name` says, by the ecosystem's own package names (npm names are
/// case-sensitive; Python names are compared normalized: lower case, `_`/`.` as `-`).
pub fn npm_library(name: &str) -> Option<(SocketProtocol, SocketRole)> {
    use SocketProtocol::{SocketIo, WebSocket};
    use SocketRole::{Both, Client, Server};
    Some(match name {
        "socket.io" | "@nestjs/platform-socket.io" => (SocketIo, Server),
        "socket.io-client"
        | "ngx-socket-io"
        | "vue-socket.io"
        | "vue-socket.io-extended"
        | "vue-3-socket.io"
        | "socket.io-react-hook" => (SocketIo, Client),
        "ws"
        | "websocket"
        | "faye-websocket"
        | "graphql-ws"
        | "subscriptions-transport-ws"
        | "y-websocket" => (WebSocket, Both),
        "isomorphic-ws"
        | "reconnecting-websocket"
        | "partysocket"
        | "react-use-websocket"
        | "websocket-ts"
        | "@stomp/stompjs" => (WebSocket, Client),
        "express-ws"
        | "@fastify/websocket"
        | "fastify-websocket"
        | "@nestjs/platform-ws"
        | "uWebSockets.js"
        | "uws"
        | "koa-websocket"
        | "@hocuspocus/server"
        | "@hono/node-ws" => (WebSocket, Server),
        _ => return None,
    })
}

/// Python distributions. Web frameworks that serve WebSocket routes themselves count as plain
/// WebSocket servers: a client of theirs may well speak it.
pub fn python_library(name: &str) -> Option<(SocketProtocol, SocketRole)> {
    use SocketProtocol::{SocketIo, WebSocket};
    use SocketRole::{Both, Client, Server};
    let normalized = name.to_ascii_lowercase().replace(['_', '.'], "-");
    Some(match normalized.as_str() {
        "flask-socketio" | "django-socketio" | "fastapi-socketio" => (SocketIo, Server),
        "python-socketio" => (SocketIo, Both),
        "websockets" | "simple-websocket" => (WebSocket, Both),
        "websocket-client" => (WebSocket, Client),
        "flask-sock" | "flask-sockets" | "gevent-websocket" | "channels" | "fastapi"
        | "starlette" | "aiohttp" | "tornado" | "sanic" | "quart" | "litestar" | "autobahn" => {
            (WebSocket, Server)
        }
        _ => return None,
    })
}

/// Go modules.
pub fn go_library(module: &str) -> Option<(SocketProtocol, SocketRole)> {
    use SocketProtocol::{SocketIo, WebSocket};
    use SocketRole::Both;
    Some(match module {
        "github.com/googollee/go-socket.io" | "github.com/zishang520/socket.io" => {
            (SocketIo, SocketRole::Server)
        }
        "github.com/gorilla/websocket"
        | "nhooyr.io/websocket"
        | "github.com/coder/websocket"
        | "github.com/gobwas/ws"
        | "github.com/lxzan/gws"
        | "github.com/olahol/melody"
        | "github.com/gofiber/websocket/v2"
        | "github.com/gofiber/contrib/websocket" => (WebSocket, Both),
        _ => return None,
    })
}

/// A path as compared: leading `/`, no trailing `/` (`socket.io/` → `/socket.io`); `None` for
/// an empty or templated value.
pub fn normalize_path(path: &str) -> Option<String> {
    let p = path.trim();
    if p.is_empty() || p.contains(['$', '{', '}', '<', ' ', '`']) {
        return None;
    }
    let p = p.split(['?', '#']).next().unwrap_or(p);
    let trimmed = p.trim_matches('/');
    Some(format!("/{trimmed}"))
}
