//! Real files → extract → link → the websocket detector: protocol and path mismatches, and the
//! look-alikes that work.

use super::WebsocketDetector;
use crate::Conflict;
use crate::detect::Detector;
use crate::strategies::testkit::TestFleet;

fn run(repos: &[(&str, &[(&str, &str)])]) -> Vec<Conflict> {
    WebsocketDetector.detect(TestFleet::of(repos).analyze().input())
}

/// The conflict as a person reads it: resource, message, then every occurrence.
fn render(c: &Conflict) -> String {
    let mut out = format!("{}\n{}\n", c.resource, c.message);
    for o in &c.occurrences {
        out.push_str(&format!("  {} {}\n", o.location, o.detail));
    }
    out
}

fn show(c: &[Conflict]) -> String {
    c.iter().map(render).collect()
}

const SOCKET_IO_SERVER: &str = r#"{
  "name": "chat",
  "dependencies": {
    "express": "^4.19.0",
    "socket.io": "^4.7.5"
  }
}
"#;

const WS_SERVER: &str = r#"{
  "name": "chat",
  "dependencies": {
    "ws": "^8.17.0"
  }
}
"#;

const BOTH_SERVER: &str = r#"{
  "name": "chat",
  "dependencies": {
    "socket.io": "^4.7.5",
    "ws": "^8.17.0"
  }
}
"#;

const IO_CLIENT: &str = r#"{
  "name": "web",
  "dependencies": {
    "react": "^18.2.0",
    "socket.io-client": "^4.7.5"
  }
}
"#;

const PLAIN_CLIENT: &str = r#"{
  "name": "web",
  "dependencies": {
    "react": "^18.2.0"
  }
}
"#;

const NATIVE_SOCKET: &str = "export function connect(url: string) {
  const socket = new WebSocket(url);
  return socket;
}
";

/// `web` (a Vite app) and `chat` (a host process on PORT=4000).
fn fleet<'a>(
    web: &'a [(&'a str, &'a str)],
    chat: &'a [(&'a str, &'a str)],
) -> [(&'a str, &'a [(&'a str, &'a str)]); 2] {
    [("web", web), ("chat", chat)]
}

#[test]
fn plain_websocket_client_to_a_socket_io_server() {
    let web: &[(&str, &str)] = &[
        ("package.json", PLAIN_CLIENT),
        ("src/live.ts", NATIVE_SOCKET),
        (".env", "VITE_WS_URL=ws://localhost:4000/ws\n"),
    ];
    let chat: &[(&str, &str)] = &[("package.json", SOCKET_IO_SERVER), (".env", "PORT=4000\n")];
    let c = run(&fleet(web, chat));
    assert_eq!(c.len(), 1, "{}", show(&c));
    assert_eq!(c[0].resource, "socket-protocol:web/web->chat/chat");
    assert_eq!(c[0].repositories, vec!["chat", "web"]);
    insta::assert_snapshot!("plain_client_to_socket_io_server", render(&c[0]));

    // The same client on a `ws` server: fine (its server takes any path).
    let chat: &[(&str, &str)] = &[("package.json", WS_SERVER), (".env", "PORT=4000\n")];
    assert!(run(&fleet(web, chat)).is_empty());
    // A server that speaks both: fine.
    let chat: &[(&str, &str)] = &[("package.json", BOTH_SERVER), (".env", "PORT=4000\n")];
    assert!(run(&fleet(web, chat)).is_empty());
    // A raw WebSocket that speaks Socket.IO's own transport: fine.
    let web_eio: &[(&str, &str)] = &[
        ("package.json", PLAIN_CLIENT),
        ("src/live.ts", NATIVE_SOCKET),
        (
            ".env",
            "VITE_WS_URL=ws://localhost:4000/socket.io/?EIO=4&transport=websocket\n",
        ),
    ];
    let chat: &[(&str, &str)] = &[("package.json", SOCKET_IO_SERVER), (".env", "PORT=4000\n")];
    assert!(run(&fleet(web_eio, chat)).is_empty());
}

#[test]
fn socket_io_client_to_a_plain_websocket_server() {
    let web: &[(&str, &str)] = &[
        ("package.json", IO_CLIENT),
        (".env", "VITE_SOCKET_URL=http://localhost:4000\n"),
    ];
    let chat: &[(&str, &str)] = &[("package.json", WS_SERVER), (".env", "PORT=4000\n")];
    let c = run(&fleet(web, chat));
    assert_eq!(c.len(), 1, "{}", show(&c));
    assert_eq!(c[0].resource, "socket-protocol:web/web->chat/chat");
    assert!(
        c[0].message.starts_with("Socket.IO client web/web (socket.io-client at web/package.json:5:6) connects to chat/chat, which serves only plain WebSocket (ws at chat/package.json:4:6)"),
        "{}",
        c[0].message
    );
    // Socket.IO on both sides, default paths: the ordinary setup.
    let chat: &[(&str, &str)] = &[("package.json", SOCKET_IO_SERVER), (".env", "PORT=4000\n")];
    assert!(run(&fleet(web, chat)).is_empty());
}

#[test]
fn socket_io_path_nobody_serves() {
    let client_code = "import { io } from 'socket.io-client';
export const socket = io(import.meta.env.VITE_SOCKET_URL, {
  path: '/rt/',
  transports: ['websocket'],
});
";
    let web: &[(&str, &str)] = &[
        ("package.json", IO_CLIENT),
        ("src/socket.ts", client_code),
        (".env", "VITE_SOCKET_URL=http://localhost:4000\n"),
    ];
    let chat: &[(&str, &str)] = &[("package.json", SOCKET_IO_SERVER), (".env", "PORT=4000\n")];
    let c = run(&fleet(web, chat));
    assert_eq!(c.len(), 1, "{}", show(&c));
    assert_eq!(c[0].resource, "socket-path:web/web->chat/chat");
    insta::assert_snapshot!("socket_io_path_nobody_serves", render(&c[0]));

    // The server configured with that path (in code, or through SOCKET_PATH): fine.
    let server_code = "import { createServer } from 'node:http';
import { Server } from 'socket.io';
const httpServer = createServer();
const io = new Server<ClientEvents>(httpServer, { path: '/rt', cors: { origin: '*' } });
";
    let chat: &[(&str, &str)] = &[
        ("package.json", SOCKET_IO_SERVER),
        ("src/index.ts", server_code),
        (".env", "PORT=4000\n"),
    ];
    assert!(run(&fleet(web, chat)).is_empty());
    let chat: &[(&str, &str)] = &[
        ("package.json", SOCKET_IO_SERVER),
        (".env", "PORT=4000\nSOCKET_PATH=/rt\n"),
    ];
    assert!(run(&fleet(web, chat)).is_empty());
}

#[test]
fn flask_socketio_path() {
    let web: &[(&str, &str)] = &[
        ("package.json", IO_CLIENT),
        (".env", "VITE_SOCKET_URL=http://localhost:5000\n"),
    ];
    let app = "from flask import Flask\nfrom flask_socketio import SocketIO\n\napp = Flask(__name__)\nsocketio = SocketIO(app, path='live', cors_allowed_origins='*')\n";
    let chat: &[(&str, &str)] = &[
        (
            "requirements.txt",
            "Flask==3.0.3\nFlask-SocketIO==5.3.6  # realtime\n",
        ),
        ("app.py", app),
        (".env", "PORT=5000\n"),
    ];
    let c = run(&fleet(web, chat));
    assert_eq!(c.len(), 1, "{}", show(&c));
    assert!(
        c[0].message
            .contains("serves Socket.IO only on /live (chat/app.py:5:32)"),
        "{}",
        c[0].message
    );
    // Flask-SocketIO on its default path, as the podplay fleet has it: fine.
    let chat: &[(&str, &str)] = &[
        ("requirements.txt", "Flask==3.0.3\nFlask-SocketIO==5.3.6\n"),
        (".env", "PORT=5000\n"),
    ];
    assert!(run(&fleet(web, chat)).is_empty());
}

#[test]
fn plain_websocket_path() {
    let server = "import { WebSocketServer } from 'ws';\nconst wss = new WebSocketServer({ port: 4000, path: '/live' });\n";
    let web: &[(&str, &str)] = &[
        ("package.json", PLAIN_CLIENT),
        ("src/live.ts", NATIVE_SOCKET),
        (".env", "VITE_WS_URL=ws://localhost:4000/ws\n"),
    ];
    let chat: &[(&str, &str)] = &[
        ("package.json", WS_SERVER),
        ("src/server.js", server),
        (".env", "PORT=4000\n"),
    ];
    let c = run(&fleet(web, chat));
    assert_eq!(c.len(), 1, "{}", show(&c));
    assert!(
        c[0].message
            .starts_with("plain WebSocket client web/web opens /ws, but chat/chat serves plain WebSocket only on /live (chat/src/server.js:2:54)"),
        "{}",
        c[0].message
    );
    let web: &[(&str, &str)] = &[
        ("package.json", PLAIN_CLIENT),
        ("src/live.ts", NATIVE_SOCKET),
        (".env", "VITE_WS_URL=ws://localhost:4000/live\n"),
    ];
    assert!(run(&fleet(web, chat)).is_empty());
}

const STACK_COMPOSE: &str = "services:
  gateway:
    image: nginx:1.27
    ports: [\"8080:80\"]
    volumes:
      - ./nginx.conf:/etc/nginx/nginx.conf:ro
  chat:
    build: ./chat
    expose: [\"4000\"]
  web:
    build: ./web
    environment:
      SOCKET_URL: http://chat:4000
";

const WEB_CODE: &str = "import { io } from 'socket.io-client';
export const socket = io(process.env.SOCKET_URL, { path: '/chat/socket.io' });
";

#[test]
fn a_path_an_upgrading_nginx_location_proxies_is_served() {
    let nginx = "events {}
http {
  server {
    listen 80;
    location /chat/ {
      proxy_pass http://chat:4000/;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection \"upgrade\";
    }
  }
}
";
    let files: &[(&str, &str)] = &[
        ("docker-compose.yml", STACK_COMPOSE),
        ("nginx.conf", nginx),
        ("chat/package.json", SOCKET_IO_SERVER),
        ("web/package.json", IO_CLIENT),
        ("web/src/socket.js", WEB_CODE),
    ];
    let c = run(&[("stack", files)]);
    assert!(c.is_empty(), "{}", show(&c));

    // The same location without the Upgrade header does not carry the socket.
    let plain = nginx.replace("proxy_set_header Upgrade $http_upgrade;", "");
    let plain = plain.replace("proxy_set_header Connection \"upgrade\";", "");
    let files: &[(&str, &str)] = &[
        ("docker-compose.yml", STACK_COMPOSE),
        ("nginx.conf", &plain),
        ("chat/package.json", SOCKET_IO_SERVER),
        ("web/package.json", IO_CLIENT),
        ("web/src/socket.js", WEB_CODE),
    ];
    let c = run(&[("stack", files)]);
    assert_eq!(c.len(), 1, "{}", show(&c));
    assert_eq!(c[0].resource, "socket-path:stack/web->stack/chat");
    assert_eq!(
        c[0].occurrences
            .iter()
            .map(|o| o.location.to_string())
            .collect::<Vec<_>>(),
        [
            "stack/chat/package.json:5:6",
            "stack/docker-compose.yml:13:19",
            "stack/web/src/socket.js:2:59"
        ]
    );
}

#[test]
fn a_plain_socket_through_nginx_on_a_path_it_does_not_upgrade() {
    let compose = "services:
  gateway:
    image: nginx:1.27
    expose: [\"80\"]
    volumes:
      - ./nginx.conf:/etc/nginx/nginx.conf:ro
  web:
    build: ./web
    environment:
      LIVE_WS_URL: ws://gateway:80/live
";
    let nginx = "events {}
http {
  server {
    listen 80;
    location / {
      proxy_pass http://app:3000;
    }
    location /socket.io/ {
      proxy_pass http://app:3000;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection upgrade;
    }
  }
}
";
    let files: &[(&str, &str)] = &[
        ("docker-compose.yml", compose),
        ("nginx.conf", nginx),
        ("web/package.json", PLAIN_CLIENT),
        ("web/src/live.ts", NATIVE_SOCKET),
    ];
    let c = run(&[("stack", files)]);
    assert_eq!(c.len(), 1, "{}", show(&c));
    assert!(
        c[0].message.contains("opens path /live, but no location of stack/gateway that upgrades connections takes it (only /socket.io/)"),
        "{}",
        c[0].message
    );
    // A URL on the upgrading location: fine.
    let compose = compose.replace("ws://gateway:80/live", "ws://gateway:80/socket.io/x");
    let files: &[(&str, &str)] = &[
        ("docker-compose.yml", &compose),
        ("nginx.conf", nginx),
        ("web/package.json", PLAIN_CLIENT),
        ("web/src/live.ts", NATIVE_SOCKET),
    ];
    assert!(run(&[("stack", files)]).is_empty());
}

#[test]
fn unknown_sides_are_not_judged() {
    // No socket library on either side: only ports are checked.
    let web: &[(&str, &str)] = &[(".env", "VITE_WS_URL=ws://localhost:4000/ws\n")];
    let chat: &[(&str, &str)] = &[(".env", "PORT=4000\n")];
    assert!(run(&fleet(web, chat)).is_empty());
    // A client with both kinds of library: which one this URL feeds is not known.
    let both = r#"{"name": "web", "dependencies": {"socket.io-client": "^4", "ws": "^8"}}"#;
    let web: &[(&str, &str)] = &[
        ("package.json", both),
        (".env", "VITE_WS_URL=ws://localhost:4000/ws\n"),
    ];
    let chat: &[(&str, &str)] = &[("package.json", WS_SERVER), (".env", "PORT=4000\n")];
    assert!(run(&fleet(web, chat)).is_empty());
}

/// A Vite app speaking both Socket.IO (`io(VITE_SOCKET_URL, { path: VITE_SOCKET_PATH })`) and
/// plain WebSocket (`new WebSocket(VITE_LIVE_WS_URL)`), with the given Socket.IO path.
fn two_kinds_of_client(socket_path: &str) -> Vec<(&'static str, String)> {
    vec![
        ("package.json", IO_CLIENT.to_string()),
        (
            "src/socket.ts",
            "import { io } from 'socket.io-client';
export const socket = io(import.meta.env.VITE_SOCKET_URL, { path: import.meta.env.VITE_SOCKET_PATH });
"
            .to_string(),
        ),
        ("src/live.ts", NATIVE_SOCKET.to_string()),
        (
            ".env",
            format!(
                "VITE_SOCKET_URL=http://localhost:4000\nVITE_SOCKET_PATH={socket_path}\nVITE_LIVE_WS_URL=ws://localhost:4001/live\n"
            ),
        ),
    ]
}

fn borrowed<'a>(files: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    files.iter().map(|(p, t)| (*p, t.as_str())).collect()
}

#[test]
fn a_socket_path_key_goes_with_the_socket_url_of_its_stem() {
    let web = two_kinds_of_client("/ws/socket.io");
    let web = borrowed(&web);
    let chat: &[(&str, &str)] = &[("package.json", SOCKET_IO_SERVER), (".env", "PORT=4000\n")];
    let live: &[(&str, &str)] = &[("package.json", WS_SERVER), (".env", "PORT=4001\n")];
    let c = run(&[("web", &web), ("chat", chat), ("live", live)]);
    assert_eq!(c.len(), 1, "{}", show(&c));
    assert_eq!(c[0].resource, "socket-path:web/web->chat/chat");
    let text = render(&c[0]);
    assert!(
        text.contains("Socket.IO client web/web asks for path /ws/socket.io (web/.env:2:18), but chat/chat serves Socket.IO only on /socket.io (the default)"),
        "{text}"
    );
    assert!(
        text.contains("web/.env:2:18 VITE_SOCKET_PATH=/ws/socket.io"),
        "{text}"
    );
    assert!(
        text.contains("set VITE_SOCKET_PATH=/socket.io in web/.env:2:18, or serve that path"),
        "{text}"
    );
    assert!(text.contains("chat/package.json:5:6 chat/chat serves Socket.IO on the default path /socket.io: socket.io"), "{text}");
    // The path the server serves (written with its trailing slash): fine, and the plain
    // WebSocket URL beside it is not taken for a Socket.IO one.
    let web = two_kinds_of_client("/socket.io/");
    let web = borrowed(&web);
    assert!(run(&[("web", &web), ("chat", chat), ("live", live)]).is_empty());
}

#[test]
fn a_socket_url_two_services_answer_to_is_judged_against_the_socket_server() {
    let web = two_kinds_of_client("/ws/socket.io");
    let web = borrowed(&web);
    let chat: &[(&str, &str)] = &[("package.json", SOCKET_IO_SERVER), (".env", "PORT=4000\n")];
    // Another service on the same port that serves no socket.
    let api: &[(&str, &str)] = &[
        (
            "package.json",
            "{\"name\": \"api\", \"dependencies\": {\"express\": \"^4.19.0\"}}\n",
        ),
        (".env", "PORT=4000\n"),
    ];
    let c = run(&[("web", &web), ("chat", chat), ("api", api)]);
    let paths: Vec<&Conflict> = c
        .iter()
        .filter(|c| c.resource.starts_with("socket-path:"))
        .collect();
    assert_eq!(paths.len(), 1, "{}", show(&c));
    assert_eq!(paths[0].resource, "socket-path:web/web->chat/chat");
    // Two socket servers on that port: which one is meant is not known.
    let c = run(&[("web", &web), ("chat", chat), ("api", chat)]);
    assert!(
        c.iter().all(|c| !c.resource.starts_with("socket-path:")),
        "{}",
        show(&c)
    );
}
