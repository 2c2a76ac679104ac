//! `switchyard serve`: the coordination server on a fleet. Settings come from the `[server]`
//! table of the fleet's `switchyard.toml`, then the environment (tokens, webhook secret), then flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use switchyard_server::{ServeOptions, ServerConfig};

use crate::Failure;
use crate::inputs::FleetArgs;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Address to listen on [default: 127.0.0.1:7700, or [server] bind].
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
    /// Where state lives: sqlite://PATH, or postgres://USER:PASSWORD@HOST:PORT/DB shared by
    /// several replicas [default: sqlite://<fleet root>/.switchyard/state.db].
    #[arg(long, value_name = "URL", env = "SWITCHYARD_STORE")]
    pub store: Option<String>,
    /// Allow a non-loopback address without bearer tokens.
    #[arg(long)]
    pub insecure: bool,
    /// Re-analyze a repository when its files change.
    #[arg(long)]
    pub watch: bool,
    /// Sustained requests per second allowed per client address; 0 turns the limit off
    /// [default: 200, or [server.rate_limit] per_second].
    #[arg(long, value_name = "PER_SECOND")]
    pub rate_limit: Option<f64>,
}

/// Where the `[server]` table is read from: `--config`, else the fleet root's switchyard.toml.
fn settings_file(args: &ServeArgs, root: &Path) -> Option<PathBuf> {
    if let Some(config) = &args.fleet.config {
        return Some(config.clone());
    }
    let candidate = root.join(switchyard_extract::fleet::CONFIG_FILE);
    candidate.is_file().then_some(candidate)
}

pub fn run(args: ServeArgs) -> Result<u8, Failure> {
    let bad = |message: String| Failure { code: 2, message };
    let fleet = args.fleet.load_fleet()?;
    let mut config = match settings_file(&args, &fleet.root) {
        Some(path) => ServerConfig::load(&path).map_err(|e| bad(e.to_string()))?,
        None => ServerConfig::default(),
    };
    config = config
        .with_env(
            std::env::var("SWITCHYARD_TOKENS").ok().as_deref(),
            std::env::var("SWITCHYARD_WEBHOOK_SECRET").ok().as_deref(),
        )
        .map_err(|e| bad(e.to_string()))?;
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    if let Some(store) = args.store {
        config.store = Some(store);
    }
    if let Some(per_second) = args.rate_limit {
        config.rate_limit.per_second = per_second;
    }
    config.insecure |= args.insecure;
    config.watch |= args.watch;
    config.validate().map_err(|e| bad(e.to_string()))?;
    let cache = args.fleet.cache(&fleet.root);
    let mut options = ServeOptions::new(config, fleet);
    options.cache = cache;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot start the async runtime: {e}"),
        })?;
    runtime
        .block_on(switchyard_server::serve(options))
        .map_err(|e| Failure {
            code: match &e {
                switchyard_server::ServeError::Config(_) => 2,
                // A store URL that is not one (bad scheme, unparsable PostgreSQL URL).
                switchyard_server::ServeError::Store(store)
                    if store.code() == "VALIDATION_ERROR" =>
                {
                    2
                }
                _ => 1,
            },
            message: e.to_string(),
        })?;
    Ok(0)
}
