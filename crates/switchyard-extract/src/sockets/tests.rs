use super::*;
use crate::{Registry, extract_files};
use switchyard_model::{SocketFact, SocketFactKind};

/// Facts of one repository's files, as `(kind summary, service, location)`.
fn sockets(files: &[(&str, &str)]) -> Vec<(String, Option<String>, String)> {
    let mut repo = RepoFiles::new("r");
    for (path, text) in files {
        repo.add_text(*path, *text);
    }
    let facts = extract_files(repo, &Registry::default());
    facts.sockets.iter().map(summary).collect()
}

fn summary(f: &SocketFact) -> (String, Option<String>, String) {
    let kind = match &f.kind {
        SocketFactKind::Library {
            name,
            protocol,
            role,
        } => format!("lib {name} {protocol:?} {role:?}"),
        SocketFactKind::Path {
            path,
            protocol,
            role,
        } => format!("path {path} {protocol:?} {role:?}"),
        SocketFactKind::UpgradeLocation { prefix, regex, .. } => {
            format!("upgrade {prefix} regex={regex}")
        }
    };
    (kind, f.service.clone(), f.location.to_string())
}

fn kinds(files: &[(&str, &str)]) -> Vec<String> {
    sockets(files).into_iter().map(|(k, _, _)| k).collect()
}

#[test]
fn package_json_dependencies() {
    let manifest = r#"{
  "name": "web",
  "dependencies": { "socket.io-client": "^4.7.5", "react": "^18" },
  "devDependencies": { "socket.io": "^4.7.5", "ws": "^8" }
}"#;
    let got = sockets(&[("package.json", manifest)]);
    // A repository with no service: the facts stay loose (a library alone is no service).
    // A server library among devDependencies is a test harness; `ws` there is a client.
    assert_eq!(
        got,
        vec![
            (
                "lib socket.io-client SocketIo Client".to_string(),
                None,
                "r/package.json:3:22".to_string()
            ),
            (
                "lib ws WebSocket Client".to_string(),
                None,
                "r/package.json:4:48".to_string()
            ),
        ]
    );
    // A broken manifest is the workspace extractor's diagnostic, not a panic here.
    assert!(kinds(&[("package.json", "{\"socket.io\": [")]).is_empty());
}

#[test]
fn workspace_members_own_their_libraries() {
    let root = r#"{"name": "mono", "private": true, "workspaces": ["apps/*"]}"#;
    let server = r#"{"name": "@mono/chat", "dependencies": {"socket.io": "^4"}}"#;
    let got = sockets(&[("package.json", root), ("apps/chat/package.json", server)]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.as_deref(), Some("@mono/chat"));
}

#[test]
fn python_manifests() {
    let requirements = "# realtime\nFlask==3.0.3\nFlask_SocketIO>=5.3 ; python_version > '3.8'\n-r base.txt\ngit+https://example.com/websockets.git\n";
    assert_eq!(
        sockets(&[("requirements.txt", requirements)]),
        vec![(
            "lib Flask_SocketIO SocketIo Server".to_string(),
            None,
            "r/requirements.txt:3:1".to_string()
        )]
    );
    let pyproject = "[project]\nname = \"chat\"\ndependencies = [\n  \"fastapi>=0.110\",\n  \"python-socketio[asyncio]>=5\",\n]\n\n[project.optional-dependencies]\nclient = [\"websocket-client\"]\n\n[tool.ruff]\nline-length = 100\n";
    assert_eq!(
        kinds(&[("pyproject.toml", pyproject)]),
        vec![
            "lib fastapi WebSocket Server",
            "lib python-socketio SocketIo Both",
            "lib websocket-client WebSocket Client",
        ]
    );
    let poetry = "[tool.poetry.dependencies]\npython = \"^3.11\"\nwebsockets = \"^12.0\"\n\n[tool.poetry.group.dev.dependencies]\nflask-socketio = \"*\"\n";
    assert_eq!(
        kinds(&[("pyproject.toml", poetry)]),
        vec![
            "lib websockets WebSocket Both",
            "lib flask-socketio SocketIo Server"
        ]
    );
    let pipfile = "[[source]]\nurl = \"https://pypi.org/simple\"\n\n[packages]\nflask-socketio = \"*\"\n\n[requires]\npython_version = \"3.11\"\n";
    assert_eq!(
        sockets(&[("Pipfile", pipfile)])[0].2,
        "r/Pipfile:5:1".to_string()
    );
}

#[test]
fn go_modules() {
    let go_mod = "module example.com/chat\n\ngo 1.22\n\nrequire (\n\tgithub.com/gorilla/websocket v1.5.1\n\tgolang.org/x/net v0.24.0 // indirect\n)\n\nrequire github.com/googollee/go-socket.io v1.7.0\n";
    assert_eq!(
        kinds(&[("go.mod", go_mod)]),
        vec![
            "lib github.com/gorilla/websocket WebSocket Both",
            "lib github.com/googollee/go-socket.io SocketIo Server"
        ]
    );
}

#[test]
fn javascript_path_options() {
    let client = "import { io } from 'socket.io-client';\nexport const socket = io(URL, {\n  path: '/rt/',\n  transports: ['websocket'],\n});\n";
    assert_eq!(
        sockets(&[("src/socket.ts", client)]),
        vec![(
            "path /rt SocketIo Client".to_string(),
            None,
            "r/src/socket.ts:3:10".to_string()
        )]
    );
    let server = "const http = require('http');\nconst { Server } = require(\"socket.io\");\nconst io = new Server(http.createServer(app), { path: \"/chat\", cors: { origin: '*' } });\n";
    assert_eq!(
        kinds(&[("server.js", server)]),
        vec!["path /chat SocketIo Server"]
    );
    let legacy = "const io = require('socket.io')(server, { path: '/io' });\n";
    assert_eq!(
        kinds(&[("index.js", legacy)]),
        vec!["path /io SocketIo Server"]
    );
    let ws = "import { WebSocketServer } from 'ws';\nconst wss = new WebSocketServer({ server, path: '/live' });\nconst ws2 = new WebSocket.Server({ noServer: true, path: \"/feed\" });\n";
    assert_eq!(
        kinds(&[("ws.mjs", ws)]),
        vec!["path /live WebSocket Server", "path /feed WebSocket Server"]
    );
    let native = "// new WebSocket(url) in a comment\nconst s = new WebSocket(`${base}/ws`);\n";
    assert_eq!(
        sockets(&[("src/live.js", native)]),
        vec![(
            "lib WebSocket WebSocket Client".to_string(),
            None,
            "r/src/live.js:2:15".to_string()
        )]
    );
}

#[test]
fn paths_that_say_nothing() {
    // Not a literal, a route path, a comment, an unrelated call with a path option.
    let text = "import { io } from 'socket.io-client';\nconst a = io(URL, { path: config.socketPath });\napp.get('/x', (req, res) => res.sendFile({ path: '/index.html' }));\n// io(URL, { path: '/old' })\nconst b = io(URL, { path: `${prefix}/socket.io` });\nconst socketFile = path.join(dir, 'socket');\n";
    assert!(kinds(&[("src/a.ts", text)]).is_empty());
    // Unicode before a call does not split a character.
    let text = "const é = 1; const socket = Ωio(URL, { path: '/x' });\n";
    assert!(kinds(&[("src/b.ts", text)]).is_empty());
}

#[test]
fn python_path_keywords() {
    let flask = "from flask_socketio import SocketIO\nsocketio = SocketIO(app, path='live', cors_allowed_origins='*')\n";
    assert_eq!(
        kinds(&[("app.py", flask)]),
        vec!["path /live SocketIo Server"]
    );
    let asgi = "import socketio\nsio = socketio.AsyncServer(async_mode='asgi')\napp = socketio.ASGIApp(sio, socketio_path=\"ws/socket.io\")\n";
    assert_eq!(
        kinds(&[("main.py", asgi)]),
        vec!["path /ws/socket.io SocketIo Server"]
    );
    let client =
        "import socketio\nsio = socketio.Client()\nsio.connect(URL, socketio_path='/rt')\n";
    assert_eq!(
        kinds(&[("client.py", client)]),
        vec!["path /rt SocketIo Client"]
    );
}

#[test]
fn bounded_source_scan() {
    assert!(is_scanned_source("src/socket.ts"));
    assert!(is_scanned_source("server/app.py"));
    assert!(!is_scanned_source("node_modules/socket.io/lib/index.js"));
    assert!(!is_scanned_source("dist/bundle.js"));
    assert!(!is_scanned_source("src/app.min.js"));
    assert!(!is_scanned_source("src/socket.test.ts"));
    assert!(!is_scanned_source("tests/test_socket.py"));
    assert!(!is_scanned_source("src/types.d.ts"));
    assert!(!is_scanned_source(".github/scripts/x.js"));
    assert!(!is_scanned_source("src/socket.go"));
    assert!(!SocketExtractor.accepts("node_modules/ws/package.json"));
    assert!(SocketExtractor.accepts("requirements/prod.txt"));
    assert!(SocketExtractor.accepts("requirements-dev.txt"));
    assert!(!SocketExtractor.accepts("notes.txt"));
    // A file over the size limit is not scanned.
    let big = format!(
        "const s = new WebSocket(url);\n{}",
        "// padding\n".repeat(MAX_SOURCE_BYTES / 10)
    );
    assert!(kinds(&[("src/big.js", &big)]).is_empty());
}

#[test]
fn other_extractors_still_read_the_files() {
    let manifest = r#"{"name": "web", "proxy": "http://api:8080", "dependencies": {"socket.io-client": "^4"}}"#;
    let mut repo = RepoFiles::new("r");
    repo.add_text("package.json", manifest);
    let facts = extract_files(repo, &Registry::default());
    assert_eq!(facts.sockets.len(), 1);
    assert_eq!(facts.references.len(), 1, "{:?}", facts.references);
}

#[test]
fn nginx_upgrading_locations() {
    let conf = "events {}
http {
  server {
    listen 80;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection upgrade;
    location /socket.io/ { proxy_pass http://chat:4000; }
    location /api/ {
      proxy_set_header Host $host;
      proxy_pass http://api:8080;
    }
    location ~* ^/ws/(.*)$ {
      proxy_set_header Upgrade $http_upgrade;
      proxy_pass http://live:9000;
    }
    location @fallback { proxy_pass http://web:80; }
  }
}
";
    // `/api/` sets headers of its own, so it does not inherit the server's Upgrade.
    assert_eq!(
        kinds(&[("nginx/nginx.conf", conf)]),
        vec![
            "upgrade /socket.io/ regex=false",
            "upgrade ^/ws/(.*)$ regex=true"
        ]
    );
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Arbitrary text (multi-byte characters, unbalanced brackets, stray quotes) in any of
        /// the formats read here gives facts or nothing, never a panic.
        #[test]
        fn arbitrary_text(
            text in "(socket|io\\(|path|: |= |'|\"|`|\\(|\\)|\\{|\\}|\\[|\\]|é|Ω|\n|new WebSocket\\(|socketio_path|require\\(|<|>|=|\\.|/| )*"
        ) {
            for path in ["src/a.ts", "app.py", "requirements.txt", "pyproject.toml", "Pipfile", "go.mod", "package.json"] {
                let _ = sockets(&[(path, text.as_str())]);
            }
        }
    }
}
