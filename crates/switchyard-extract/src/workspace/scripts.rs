//! Ports that package.json scripts listen on: `PORT=3000 react-scripts start`, `vite --port 5173`,
//! `next dev -p 3001`, and the defaults of well-known dev servers when no port is given
//! (`vite` 5173, `vite preview` 4173, CRA/Next 3000, Angular 4200, Expo 8081…).

/// Where a script's port comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortOrigin {
    /// Written in the script: byte range of the digits within the script text.
    Explicit { start: usize, end: usize },
    /// The tool's default port (no port in the script).
    Default(&'static DevServer),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptPort {
    pub port: u16,
    pub origin: PortOrigin,
    /// The port of a preview server (`vite preview`): it serves the production build for a
    /// look before deploying, beside the dev server.
    pub preview: bool,
}

/// A dev server with a default port.
#[derive(Debug, PartialEq, Eq)]
pub struct DevServer {
    /// Command names (basename of the executable).
    pub commands: &'static [&'static str],
    /// Subcommands that start the server; `None` stands for "no subcommand" (`vite`).
    pub subcommands: &'static [Option<&'static str>],
    pub port: u16,
    /// The server reads `PORT` from a `.env` file beside it.
    pub honors_port_env: bool,
    /// Config files whose dev-server port replaces the default (`vite`, `webpack`, `angular`).
    pub config: Option<&'static str>,
    /// A preview server of the production build (`vite preview`), not the dev server.
    pub preview: bool,
}

/// Dev servers whose default port is assumed when a `dev`/`start` script runs them bare.
pub static DEV_SERVERS: [DevServer; 12] = [
    DevServer {
        commands: &["react-scripts", "craco", "react-app-rewired"],
        subcommands: &[Some("start")],
        port: 3000,
        honors_port_env: true,
        config: None,
        preview: false,
    },
    DevServer {
        commands: &["next"],
        subcommands: &[Some("dev"), Some("start"), None],
        port: 3000,
        // Next.js starts its server before it reads `.env` files.
        honors_port_env: false,
        config: None,
        preview: false,
    },
    DevServer {
        commands: &["vite"],
        subcommands: &[None, Some("dev"), Some("serve")],
        port: 5173,
        honors_port_env: false,
        config: Some("vite"),
        preview: false,
    },
    DevServer {
        commands: &["webpack", "webpack-cli"],
        subcommands: &[Some("serve")],
        port: 8080,
        honors_port_env: false,
        config: Some("webpack"),
        preview: false,
    },
    DevServer {
        commands: &["webpack-dev-server"],
        subcommands: &[None],
        port: 8080,
        honors_port_env: false,
        config: Some("webpack"),
        preview: false,
    },
    DevServer {
        commands: &["ng"],
        subcommands: &[Some("serve")],
        port: 4200,
        honors_port_env: false,
        config: Some("angular"),
        preview: false,
    },
    DevServer {
        commands: &["vue-cli-service"],
        subcommands: &[Some("serve")],
        port: 8080,
        honors_port_env: false,
        config: None,
        preview: false,
    },
    DevServer {
        commands: &["nuxt", "nuxi"],
        subcommands: &[Some("dev")],
        port: 3000,
        honors_port_env: true,
        config: None,
        preview: false,
    },
    DevServer {
        commands: &["astro"],
        subcommands: &[Some("dev")],
        port: 4321,
        honors_port_env: false,
        config: None,
        preview: false,
    },
    DevServer {
        commands: &["vite"],
        subcommands: &[Some("preview")],
        port: 4173,
        honors_port_env: false,
        config: Some("vite"),
        preview: true,
    },
    // Expo's Metro bundler serves the app (and, since SDK 49, its web build) on 8081.
    DevServer {
        commands: &["expo"],
        subcommands: &[Some("start")],
        port: 8081,
        honors_port_env: false,
        config: None,
        preview: false,
    },
    // `expo web` (before SDK 49): the webpack dev server of the web build.
    DevServer {
        commands: &["expo"],
        subcommands: &[Some("web")],
        port: 19006,
        honors_port_env: false,
        config: None,
        preview: false,
    },
];

/// Commands that serve a browser application (dev servers, static servers of a build): a
/// package whose scripts run one is a frontend, its page calls backends from its origin.
const FRONTEND_COMMANDS: [&str; 9] = [
    "serve",
    "http-server",
    "live-server",
    "parcel",
    "gatsby",
    "sirv",
    "vue-cli-service",
    "astro",
    "ng",
];

/// Commands where `-p <n>` means the listening port (elsewhere `-p` means other things).
const SHORT_P_COMMANDS: [&str; 9] = [
    "next",
    "serve",
    "http-server",
    "nuxt",
    "nuxi",
    "gatsby",
    "parcel",
    "json-server",
    "live-server",
];

/// Clients whose `--port` is the port they connect to, not one they listen on.
const CLIENT_COMMANDS: [&str; 10] = [
    "psql",
    "mysql",
    "redis-cli",
    "mongosh",
    "mongo",
    "pg_isready",
    "wait-on",
    "curl",
    "ssh",
    "kubectl",
];

/// Script names whose ports are not the app's own server (tests, builds, tooling).
const SKIPPED_SCRIPT_WORDS: [&str; 9] = [
    "test",
    "lint",
    "build",
    "e2e",
    "cypress",
    "playwright",
    "storybook",
    "format",
    "typecheck",
];

/// Whether a script name is the app's own `dev`/`start` entry (defaults apply only there).
pub fn is_server_script(name: &str) -> bool {
    let base = name.split(':').next().unwrap_or(name);
    matches!(base, "dev" | "start" | "serve" | "develop")
}

/// Whether a script name runs the preview of a build (`preview`: `vite preview`).
fn is_preview_script(name: &str) -> bool {
    name.split(':').next().unwrap_or(name) == "preview"
}

/// The browser-app server a script runs (`vite`, `react-scripts`, `ng`, `serve`…), if any: the
/// sign that the package is a frontend whose page makes the calls of its env.
pub fn frontend_server(script: &str) -> Option<&'static str> {
    segments(script).iter().find_map(|words| {
        words.iter().enumerate().find_map(|(i, (_, w))| {
            // `npm run serve` names a script of the package, not the `serve` command.
            if i > 0 && words.get(i - 1).is_some_and(|(_, p)| *p == "run") {
                return None;
            }
            let command = command_name(w);
            DEV_SERVERS
                .iter()
                .flat_map(|s| s.commands.iter())
                .chain(FRONTEND_COMMANDS.iter())
                .find(|c| **c == command)
                .copied()
        })
    })
}

/// The ports a script listens on. Explicit ports win: a default is only returned for a
/// `dev`/`start` script that states no port at all.
pub fn script_ports(name: &str, script: &str) -> Vec<ScriptPort> {
    let lower = name.to_ascii_lowercase();
    if SKIPPED_SCRIPT_WORDS.iter().any(|w| lower.contains(w)) {
        return Vec::new();
    }
    let segments = segments(script);
    let mut ports: Vec<ScriptPort> = Vec::new();
    for words in &segments {
        explicit_ports(words, &mut ports);
    }
    if ports.is_empty() && (is_server_script(name) || is_preview_script(name)) {
        for words in &segments {
            if let Some(server) = default_server(words) {
                ports.push(ScriptPort {
                    port: server.port,
                    origin: PortOrigin::Default(server),
                    preview: server.preview,
                });
                break;
            }
        }
    }
    ports
}

/// The host a dev/start script's frontend server binds, with the byte range of its text:
/// `vite --host 127.0.0.1`, `--host=…`, `ng serve --host …`, `next dev -H …`/`--hostname …`,
/// `HOST=… react-scripts start`. A bare `--host` (vite: every interface) reads as `0.0.0.0`.
pub fn script_host(name: &str, script: &str) -> Option<(String, usize, usize)> {
    if !is_server_script(name) {
        return None;
    }
    for words in segments(script) {
        let Some(at) = words.iter().position(|(_, w)| {
            DEV_SERVERS
                .iter()
                .any(|s| s.commands.contains(&command_name(w)))
        }) else {
            continue;
        };
        let next = command_name(words[at].1) == "next";
        for (i, &(offset, word)) in words.iter().enumerate() {
            if i < at {
                if let Some(value) = word.strip_prefix("HOST=")
                    && !value.is_empty()
                {
                    return Some((value.to_string(), offset + 5, offset + word.len()));
                }
                continue;
            }
            let long = if next { "--hostname" } else { "--host" };
            if let Some(value) = word
                .strip_prefix(long)
                .and_then(|rest| rest.strip_prefix('='))
            {
                if value.is_empty() {
                    continue;
                }
                return Some((
                    value.to_string(),
                    offset + long.len() + 1,
                    offset + word.len(),
                ));
            }
            if word == long || (next && word == "-H") {
                return Some(match words.get(i + 1) {
                    Some(&(o, value)) if !value.starts_with('-') => {
                        (value.to_string(), o, o + value.len())
                    }
                    _ => ("0.0.0.0".to_string(), offset, offset + word.len()),
                });
            }
        }
    }
    None
}

/// A word of a script with its byte offset.
type Word<'a> = (usize, &'a str);

/// Splits a script into commands (at `&&`, `||`, `;`, `|`, `&` and quotes, so the quoted
/// commands of `concurrently "vite" "node server"` stand alone), each as words with offsets.
fn segments(script: &str) -> Vec<Vec<Word<'_>>> {
    let mut out = Vec::new();
    let mut current: Vec<Word<'_>> = Vec::new();
    let mut word_start: Option<usize> = None;
    for (i, c) in script.char_indices() {
        let separator = matches!(c, '&' | '|' | ';' | '"' | '\'' | '\n');
        if c.is_whitespace() || separator {
            if let Some(start) = word_start.take() {
                current.push((start, &script[start..i]));
            }
            if separator && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(start) = word_start {
        current.push((start, &script[start..]));
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The command a word names: `./node_modules/.bin/vite` → `vite`.
fn command_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn port_number(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|p| *p > 0)
}

fn explicit_ports(words: &[Word<'_>], out: &mut Vec<ScriptPort>) {
    let preview = default_server(words).is_some_and(|s| s.preview);
    let mut push = |port: u16, start: usize, len: usize| {
        if !out.iter().any(|p| p.port == port) {
            out.push(ScriptPort {
                port,
                origin: PortOrigin::Explicit {
                    start,
                    end: start + len,
                },
                preview,
            });
        }
    };
    let client = words
        .iter()
        .any(|(_, w)| CLIENT_COMMANDS.contains(&command_name(w)));
    let short_p = words
        .iter()
        .any(|(_, w)| SHORT_P_COMMANDS.contains(&command_name(w)));
    for (i, &(offset, word)) in words.iter().enumerate() {
        let next = words.get(i + 1);
        // `PORT=3000 react-scripts start`, `cross-env PORT=3000 …`.
        if let Some(value) = word.strip_prefix("PORT=")
            && let Some(port) = port_number(value)
        {
            push(port, offset + 5, value.len());
            continue;
        }
        if client {
            continue;
        }
        if let Some(value) = word.strip_prefix("--port=")
            && let Some(port) = port_number(value)
        {
            push(port, offset + 7, value.len());
            continue;
        }
        let takes_value = word == "--port" || (word == "-p" && short_p);
        if takes_value
            && let Some(&(next_offset, next_word)) = next
            && let Some(port) = port_number(next_word)
        {
            push(port, next_offset, next_word.len());
        }
    }
}

/// The known dev server a command runs without stating a port.
fn default_server(words: &[Word<'_>]) -> Option<&'static DevServer> {
    for (i, (_, word)) in words.iter().enumerate() {
        let command = command_name(word);
        if !DEV_SERVERS.iter().any(|s| s.commands.contains(&command)) {
            continue;
        }
        // The subcommand is the next non-flag word (`vite --host` has none).
        let sub = words
            .get(i + 1)
            .map(|(_, w)| *w)
            .filter(|w| !w.starts_with('-'));
        return DEV_SERVERS
            .iter()
            .find(|s| s.commands.contains(&command) && s.subcommands.contains(&sub));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(name: &str, script: &str) -> Vec<(u16, Option<&'static str>)> {
        script_ports(name, script)
            .into_iter()
            .map(|p| match p.origin {
                PortOrigin::Explicit { start, end } => {
                    assert_eq!(script[start..end].parse::<u16>().ok(), Some(p.port));
                    (p.port, None)
                }
                PortOrigin::Default(server) => (p.port, Some(server.commands[0])),
            })
            .collect()
    }

    #[test]
    fn script_hosts() {
        let host = |name, script| script_host(name, script);
        assert_eq!(
            host("dev", "vite --host 127.0.0.1 --port 5173"),
            Some(("127.0.0.1".to_string(), 12, 21))
        );
        assert_eq!(
            host("dev", "vite --host=localhost"),
            Some(("localhost".to_string(), 12, 21))
        );
        assert_eq!(
            host("dev", "vite --host"),
            Some(("0.0.0.0".to_string(), 5, 11))
        );
        assert_eq!(
            host("start", "HOST=127.0.0.1 react-scripts start"),
            Some(("127.0.0.1".to_string(), 5, 14))
        );
        assert_eq!(
            host("dev", "next dev -H 127.0.0.1"),
            Some(("127.0.0.1".to_string(), 12, 21))
        );
        assert_eq!(
            host("start", "ng serve --host 0.0.0.0").map(|h| h.0),
            Some("0.0.0.0".into())
        );
        // Not a dev server's host: another command's flag, or a script that is not `dev`/`start`.
        assert_eq!(host("dev", "node server.js --host 127.0.0.1"), None);
        assert_eq!(host("e2e", "vite --host 127.0.0.1"), None);
    }

    #[test]
    fn explicit_ports() {
        assert_eq!(
            ports("start", "PORT=3000 react-scripts start"),
            [(3000, None)]
        );
        assert_eq!(
            ports("dev", "cross-env PORT=3006 craco start"),
            [(3006, None)]
        );
        assert_eq!(ports("dev", "vite --port 5174 --host"), [(5174, None)]);
        assert_eq!(ports("dev", "next dev -p 3001"), [(3001, None)]);
        assert_eq!(ports("serve", "webpack serve --port 3002"), [(3002, None)]);
        assert_eq!(
            ports("api", "json-server db.json --port=4000"),
            [(4000, None)]
        );
        assert_eq!(
            ports("dev", "set PORT=3006 && react-scripts start"),
            [(3006, None)]
        );
    }

    #[test]
    fn defaults_for_bare_dev_servers() {
        assert_eq!(ports("dev", "vite"), [(5173, Some("vite"))]);
        assert_eq!(ports("start", "vite --host"), [(5173, Some("vite"))]);
        assert_eq!(
            ports("start", "react-scripts start"),
            [(3000, Some("react-scripts"))]
        );
        assert_eq!(ports("dev", "next dev"), [(3000, Some("next"))]);
        assert_eq!(
            ports("dev", "webpack serve --mode development"),
            [(8080, Some("webpack"))]
        );
        assert_eq!(ports("start", "ng serve"), [(4200, Some("ng"))]);
        assert_eq!(
            ports("dev", "concurrently \"vite\" \"node server.js\""),
            [(5173, Some("vite"))]
        );
    }

    #[test]
    fn no_port_where_none_is_listened() {
        assert!(ports("build", "vite build").is_empty());
        assert!(ports("dev", "vite build --watch").is_empty());
        assert!(ports("start", "node server.js").is_empty());
        assert!(ports("dev", "tsc -p tsconfig.json --watch").is_empty());
        assert!(ports("db", "psql --port 5432 -h localhost").is_empty());
        assert!(ports("test", "PORT=9999 jest").is_empty());
        assert!(ports("storybook", "storybook dev -p 6006").is_empty());
        assert!(ports("lint", "eslint --port 1").is_empty());
        // `-p` is only a port for servers that read it so.
        assert!(ports("dev", "docker run -p 3000:80 app").is_empty());
        // Defaults are for dev/start scripts only.
        assert!(ports("watch", "vite").is_empty());
    }

    #[test]
    fn preview_and_expo_servers() {
        assert_eq!(ports("preview", "vite preview"), [(4173, Some("vite"))]);
        assert!(script_ports("preview", "vite preview")[0].preview);
        let explicit = script_ports("preview", "vite preview --port 4000");
        assert_eq!(explicit.len(), 1);
        assert_eq!((explicit[0].port, explicit[0].preview), (4000, true));
        assert!(!script_ports("dev", "vite --port 5174")[0].preview);
        assert_eq!(ports("start", "expo start"), [(8081, Some("expo"))]);
        assert_eq!(ports("start", "expo start --web"), [(8081, Some("expo"))]);
        assert!(ports("web", "expo web").is_empty());
        assert_eq!(ports("start:web", "expo web"), [(19006, Some("expo"))]);
        assert_eq!(ports("dev", "npx expo start --port 8082"), [(8082, None)]);
        // Not a server: `vite build`, `expo export`.
        assert!(ports("preview", "vite build").is_empty());
        assert!(ports("start", "expo export").is_empty());
    }

    #[test]
    fn frontend_servers() {
        assert_eq!(frontend_server("vite --port 5174"), Some("vite"));
        assert_eq!(
            frontend_server("cross-env PORT=3006 react-scripts start"),
            Some("react-scripts")
        );
        assert_eq!(frontend_server("serve -s build -l 3000"), Some("serve"));
        assert_eq!(frontend_server("ng serve --port 4201"), Some("ng"));
        assert_eq!(frontend_server("PORT=4000 node server.js"), None);
        assert_eq!(frontend_server("npm run serve"), None);
        assert_eq!(frontend_server("json-server db.json --port 4000"), None);
    }

    #[test]
    fn explicit_port_suppresses_default() {
        assert_eq!(ports("dev", "next dev --port 4000"), [(4000, None)]);
    }
}
