//! Server settings: the `[server]` table of `switchyard.toml`, environment overrides for
//! secrets (`SWITCHYARD_TOKENS`, `SWITCHYARD_WEBHOOK_SECRET`) and the command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use switchyard_monitor::AlertThresholds;

/// A bearer token and what it may do.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub token: String,
    pub scopes: Vec<Scope>,
    /// Shown in logs instead of the token.
    #[serde(default)]
    pub name: Option<String>,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("token", &"[REDACTED]")
            .field("scopes", &self.scopes)
            .field("name", &self.name)
            .finish()
    }
}

/// `read` < `write` < `admin`: a wider scope includes the narrower ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub fn parse(text: &str) -> Option<Scope> {
        match text.trim() {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// Exact origins, e.g. `https://app.example.com`.
    #[serde(default)]
    pub origins: Vec<String>,
    /// Patterns with `*` for one or more DNS labels or a port, e.g. `https://*.example.com`,
    /// `http://localhost:*`.
    #[serde(default)]
    pub origin_patterns: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Sustained requests per second per client address; 0 turns the limit off.
    pub per_second: f64,
    /// Requests a client may make at once above the sustained rate.
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            per_second: 200.0,
            burst: 400,
        }
    }
}

#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// The GitHub webhook secret (`SWITCHYARD_WEBHOOK_SECRET` overrides). Without it the
    /// webhook route answers 401 to everything.
    pub secret: Option<String>,
    /// Run `git pull --ff-only` in the repository before re-reading it.
    pub git_pull: bool,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .field("git_pull", &self.git_pull)
            .finish()
    }
}

/// Everything `switchyard serve` needs besides the fleet.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// Allow binding a non-loopback address without tokens.
    pub insecure: bool,
    pub tokens: Vec<TokenConfig>,
    pub cors: CorsConfig,
    pub rate_limit: RateLimitConfig,
    pub body_limit_bytes: usize,
    pub webhooks: WebhookConfig,
    /// Seconds a repository is expected to take when it has no recorded durations.
    pub default_deploy_seconds: u64,
    pub alerts: AlertThresholds,
    /// Seconds between alert evaluations and expired-claim sweeps.
    pub evaluate_every_seconds: u64,
    /// Seconds between leadership checks on a shared store: a replica that finds the leader
    /// gone takes over (and runs the background work at once) within this time, plus the
    /// time PostgreSQL takes to notice the dead leader's session. Followers also re-read the
    /// alerts from the store at this pace.
    pub leader_check_seconds: u64,
    /// Hours the shared event log keeps events (clients resume with `?after=` within them).
    pub event_retention_hours: u64,
    /// Days of history, cleared alerts and finished deployments kept.
    pub retention_days: u64,
    /// JSON-lines operation log; relative paths are under the fleet root.
    pub operation_log: Option<PathBuf>,
    pub operation_log_max_bytes: u64,
    /// `sqlite://…` or `postgres://…` store URL; default `sqlite://<fleet root>/.switchyard/state.db`.
    pub store: Option<String>,
    /// Which commits wait for the disk: `grants` (claims, renewals and registrations are
    /// fsynced; the default), `always`, or `relaxed` (none; survives a process crash, not a
    /// power cut).
    pub durability: switchyard_store::Durability,
    /// Re-analyse local repositories when their files change.
    pub watch: bool,
    /// Host names (besides the bound address and `localhost`) that requests may name in
    /// `Host`; `"*"` allows any. Anything else is `421`, which stops DNS rebinding.
    pub allowed_hosts: Vec<String>,
    /// Seconds a client has to send a request's headers; then the connection is closed.
    pub header_timeout_seconds: u64,
    /// Seconds a client has to send a request's body once its headers are in (`408`).
    pub body_timeout_seconds: u64,
    /// Open connections one client address may hold; more are answered `429` and closed.
    pub max_connections_per_client: usize,
    /// Config-sync writes stamped more than this many seconds ahead of the server's clock are
    /// refused (`422`), so a wrong client clock cannot pin a key forever.
    pub config_sync_max_skew_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 7700)),
            insecure: false,
            tokens: Vec::new(),
            cors: CorsConfig::default(),
            rate_limit: RateLimitConfig::default(),
            body_limit_bytes: 1024 * 1024,
            webhooks: WebhookConfig::default(),
            default_deploy_seconds: 45,
            alerts: AlertThresholds::default(),
            evaluate_every_seconds: 30,
            leader_check_seconds: 5,
            event_retention_hours: 24,
            retention_days: 30,
            operation_log: None,
            operation_log_max_bytes: 10 * 1024 * 1024,
            store: None,
            durability: switchyard_store::Durability::default(),
            watch: false,
            allowed_hosts: Vec::new(),
            header_timeout_seconds: 10,
            body_timeout_seconds: 30,
            max_connections_per_client: 64,
            config_sync_max_skew_seconds: 300,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: [server] {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Deserialize)]
struct FileWithServer {
    #[serde(default)]
    server: Option<toml::Value>,
}

impl ServerConfig {
    /// The `[server]` table of `path` (defaults when the file has none).
    pub fn load(path: &Path) -> Result<ServerConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ServerConfig::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<ServerConfig, String> {
        let file: FileWithServer = toml::from_str(text).map_err(|e| e.to_string())?;
        match file.server {
            Some(table) => table.try_into().map_err(|e: toml::de::Error| e.to_string()),
            None => Ok(ServerConfig::default()),
        }
    }

    /// Applies `SWITCHYARD_TOKENS` (`token=read,write;token2=admin`) and
    /// `SWITCHYARD_WEBHOOK_SECRET`, read by the caller so this stays testable.
    pub fn with_env(
        mut self,
        tokens: Option<&str>,
        webhook_secret: Option<&str>,
    ) -> Result<Self, ConfigError> {
        if let Some(spec) = tokens.filter(|s| !s.trim().is_empty()) {
            self.tokens = parse_tokens(spec)?;
        }
        if let Some(secret) = webhook_secret.filter(|s| !s.is_empty()) {
            self.webhooks.secret = Some(secret.to_string());
        }
        Ok(self)
    }

    /// Refuses settings that would be unsafe or meaningless.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tokens.is_empty() && !self.bind.ip().is_loopback() && !self.insecure {
            return Err(ConfigError::Invalid(format!(
                "refusing to listen on {} without tokens: configure [[server.tokens]] or \
                 SWITCHYARD_TOKENS, bind a loopback address, or pass --insecure",
                self.bind
            )));
        }
        for token in &self.tokens {
            if token.token.len() < 16 {
                return Err(ConfigError::Invalid(format!(
                    "token {} is shorter than 16 characters",
                    token.name.as_deref().unwrap_or("(unnamed)")
                )));
            }
            if token.scopes.is_empty() {
                return Err(ConfigError::Invalid("a token has no scopes".into()));
            }
        }
        if self.body_limit_bytes < 1024 {
            return Err(ConfigError::Invalid(
                "body_limit_bytes must be at least 1024".into(),
            ));
        }
        if self.rate_limit.per_second < 0.0 || !self.rate_limit.per_second.is_finite() {
            return Err(ConfigError::Invalid(
                "rate_limit.per_second must be 0 (off) or positive".into(),
            ));
        }
        crate::middleware::cors::validate_patterns(&self.cors)?;
        if self.header_timeout_seconds == 0 || self.body_timeout_seconds == 0 {
            return Err(ConfigError::Invalid(
                "header_timeout_seconds and body_timeout_seconds must be at least 1".into(),
            ));
        }
        if self.leader_check_seconds == 0 || self.leader_check_seconds > 3600 {
            return Err(ConfigError::Invalid(
                "leader_check_seconds must be 1 to 3600".into(),
            ));
        }
        if self.max_connections_per_client == 0 {
            return Err(ConfigError::Invalid(
                "max_connections_per_client must be at least 1".into(),
            ));
        }
        Ok(())
    }

    pub fn evaluate_every(&self) -> Duration {
        Duration::from_secs(self.evaluate_every_seconds.max(1))
    }

    pub fn leader_check_every(&self) -> Duration {
        Duration::from_secs(self.leader_check_seconds.clamp(1, 3600))
    }
}

fn parse_tokens(spec: &str) -> Result<Vec<TokenConfig>, ConfigError> {
    spec.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(index, item)| {
            let (token, scopes) = item.split_once('=').ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "SWITCHYARD_TOKENS item {} must be token=scope[,scope]",
                    index + 1
                ))
            })?;
            let scopes = scopes
                .split(',')
                .map(|s| {
                    Scope::parse(s).ok_or_else(|| {
                        ConfigError::Invalid(format!(
                            "SWITCHYARD_TOKENS item {}: unknown scope `{}` (read, write, admin)",
                            index + 1,
                            s.trim()
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(TokenConfig {
                token: token.trim().to_string(),
                scopes,
                name: Some(format!("env-token-{}", index + 1)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_server_table() {
        let config = ServerConfig::parse("[[repository]]\npath = \"a\"\n");
        assert_eq!(config.ok(), Some(ServerConfig::default()));
    }

    #[test]
    fn reads_the_server_table() {
        let text = r#"
[server]
bind = "0.0.0.0:8080"
default_deploy_seconds = 30
durability = "relaxed"
[[server.tokens]]
token = "abcdefghijklmnopqrstuvwxyz"
scopes = ["read", "write"]
[server.cors]
origins = ["https://app.example.com"]
origin_patterns = ["https://*.example.com"]
[server.alerts]
failure_rate = 0.2
"#;
        let config = ServerConfig::parse(text);
        let Ok(config) = config else {
            panic!("{config:?}")
        };
        assert_eq!(config.bind.port(), 8080);
        assert_eq!(config.tokens[0].scopes, vec![Scope::Read, Scope::Write]);
        assert_eq!(config.cors.origin_patterns.len(), 1);
        assert_eq!(config.default_deploy_seconds, 30);
        assert_eq!(config.durability, switchyard_store::Durability::Relaxed);
        assert!((config.alerts.failure_rate - 0.2).abs() < 1e-9);
        assert!(config.validate().is_ok());
        assert!(!format!("{config:?}").contains("abcdefghijklmnop"));
    }

    #[test]
    fn leader_check_is_bounded() {
        let mut config = ServerConfig::default();
        assert_eq!(config.leader_check_every(), Duration::from_secs(5));
        config.leader_check_seconds = 0;
        assert!(config.validate().is_err());
        let parsed = ServerConfig::parse("[server]\nleader_check_seconds = 2\n");
        assert_eq!(parsed.map(|c| c.leader_check_seconds), Ok(2));
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(ServerConfig::parse("[server]\nbnd = \"x\"\n").is_err());
    }

    #[test]
    fn refuses_public_bind_without_tokens_unless_insecure() {
        let mut config = ServerConfig {
            bind: SocketAddr::from(([0, 0, 0, 0], 7700)),
            ..ServerConfig::default()
        };
        assert!(config.validate().is_err());
        config.insecure = true;
        assert!(config.validate().is_ok());
    }

    #[test]
    fn tokens_from_the_environment() {
        let config = ServerConfig::default()
            .with_env(
                Some("aaaaaaaaaaaaaaaaaaaa=read;bbbbbbbbbbbbbbbbbbbb=write,admin"),
                Some("s3cret"),
            )
            .ok();
        let Some(config) = config else {
            panic!("tokens not parsed")
        };
        assert_eq!(config.tokens.len(), 2);
        assert_eq!(config.tokens[1].scopes, vec![Scope::Write, Scope::Admin]);
        assert_eq!(config.webhooks.secret.as_deref(), Some("s3cret"));
        assert!(
            ServerConfig::default()
                .with_env(Some("tok=root"), None)
                .is_err()
        );
    }
}
