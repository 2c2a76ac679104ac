//! The Switchyard coordination server: the fleet model kept hot in memory and served over the
//! REST API of `API.md` (dependencies, deployments, resources, conflicts, monitoring), events
//! over WebSocket and Socket.IO, GitHub webhooks with incremental re-analysis, and shared
//! configuration sync.
//!
//! ```no_run
//! # async fn demo() -> Result<(), switchyard_server::ServeError> {
//! use switchyard_server::{ServerConfig, ServeOptions};
//! let fleet = switchyard_extract::fleet::discover(std::path::Path::new("examples/fleets/homelab"))
//!     .map_err(|e| switchyard_server::ServeError::Fleet(e.to_string()))?;
//! let running = switchyard_server::start(ServeOptions::new(ServerConfig::default(), fleet)).await?;
//! println!("listening on {}", running.address);
//! running.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Not here: extraction, linking, graph and conflict logic (the pipeline crates), the ledger's
//! rules (`switchyard-store`), metrics and alert rules (`switchyard-monitor`).

pub mod analysis;
pub mod cluster;
pub mod config;
pub mod config_sync;
pub mod configuration;
pub mod conflict_history;
pub mod deploy;
pub mod error;
pub mod events;
pub mod input;
pub mod listener;
pub mod middleware;
pub mod openapi;
pub mod resolutions;
pub mod routes;
pub mod schemas;
pub mod state;
mod tasks;
pub mod watch;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use switchyard_extract::cache::Cache;
use switchyard_extract::fleet::Fleet;
use switchyard_monitor::{Monitor, MonitorConfig, OperationLogConfig};
use switchyard_store::{Clock, Store, SystemClock};
use tokio::sync::{Mutex, oneshot};
use tokio::task::JoinHandle;

pub use config::ServerConfig;

use crate::analysis::{FleetHandle, FleetSource, Snapshot};
use crate::events::EventBus;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    #[error("fleet: {0}")]
    Fleet(String),
    #[error("store: {0}")]
    Store(#[from] switchyard_store::StoreError),
    #[error("monitor: {0}")]
    Monitor(String),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// What `start` needs.
pub struct ServeOptions {
    pub config: ServerConfig,
    pub fleet: Fleet,
    pub cache: Option<Cache>,
    /// Replaces the system clock (tests).
    pub clock: Option<Arc<dyn Clock>>,
}

impl ServeOptions {
    pub fn new(config: ServerConfig, fleet: Fleet) -> Self {
        ServeOptions {
            config,
            fleet,
            cache: None,
            clock: None,
        }
    }
}

/// A server listening in the background.
pub struct RunningServer {
    pub address: SocketAddr,
    pub state: AppState,
    stop: oneshot::Sender<()>,
    served: JoinHandle<Result<(), std::io::Error>>,
    tasks: Vec<JoinHandle<()>>,
    capacity: Arc<Mutex<tasks::CapacityWatch>>,
}

impl RunningServer {
    /// Graceful stop: no new connections, in-flight requests finish, sockets close, background
    /// tasks end; every acknowledged store write is already committed.
    pub async fn shutdown(self) {
        // New connections are refused first, then the event streams (WebSocket, Socket.IO)
        // end: upgraded connections are not tracked by the HTTP server's graceful shutdown,
        // and Socket.IO long-polls would otherwise hold it open.
        let _ = self.stop.send(());
        // A re-analysis in progress (a webhook's) stops at its next file: otherwise a huge or
        // hostile checkout would hold its request, and so the shutdown, open.
        self.state.source.cancel.cancel();
        self.state.events.close();
        let _ = self.served.await;
        for task in self.tasks {
            task.abort();
            let _ = task.await;
        }
    }

    /// Runs one housekeeping round now (sweep expired claims, evaluate the alert rules, persist
    /// and publish alert changes), as the background loop does every `evaluate_every_seconds`;
    /// returns the alerts it raised and cleared.
    pub async fn evaluate_now(&self) -> Vec<switchyard_monitor::AlertChange> {
        let mut watch = self.capacity.lock().await;
        tasks::housekeeping_round(&self.state, &mut watch).await
    }

    /// Waits until the server stops by itself (it only does on SIGTERM/Ctrl-C via `serve`).
    pub async fn wait(self) {
        let _ = self.served.await;
    }
}

/// Builds the state: opens the store, analyses the fleet, restores alerts.
pub async fn build_state(options: ServeOptions) -> Result<AppState, ServeError> {
    let ServeOptions {
        config,
        fleet,
        cache,
        clock,
    } = options;
    config.validate()?;
    let clock: Arc<dyn Clock> = clock.unwrap_or_else(|| Arc::new(SystemClock));
    let now = clock.now();
    let store_url = config.store.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            fleet.root.join(switchyard_store::DEFAULT_PATH).display()
        )
    });
    let store: Arc<dyn Store> = switchyard_store::open_url(&store_url, config.durability).await?;
    let monitor = Monitor::new(
        MonitorConfig {
            thresholds: config.alerts.clone(),
            log: config
                .operation_log
                .as_ref()
                .map(|path| OperationLogConfig {
                    path: fleet.root.join(path),
                    max_bytes: config.operation_log_max_bytes,
                    keep: 5,
                }),
            ..MonitorConfig::default()
        },
        now,
    )
    .map_err(|e| ServeError::Monitor(e.to_string()))?;
    let source = FleetSource::new(fleet, cache);
    let snapshot = {
        let started = monitor.start(
            switchyard_monitor::OperationKind::Analysis,
            serde_json::json!({ "repositories": source.fleet.repositories.len() }),
            now,
        );
        let snapshot = Snapshot::analyze(&source, now);
        monitor.finish(
            &started,
            switchyard_monitor::Outcome::Succeeded {
                result: serde_json::json!({ "services": snapshot.model.services.len() }),
                conflicts: snapshot.conflicts.len(),
            },
            clock.now(),
        );
        snapshot
    };
    // On a shared store events travel through its event log (see `cluster`).
    let events = if store.event_log().is_some() {
        EventBus::clustered(1024)
    } else {
        EventBus::new(1024)
    };
    let state = AppState {
        config: Arc::new(config),
        store,
        monitor,
        events,
        fleet: FleetHandle::new(snapshot),
        source: Arc::new(source),
        clock,
        reanalysis: Arc::new(Mutex::new(())),
        coordination: Arc::new(Mutex::new(())),
    };
    tasks::restore(&state).await?;
    // The conflict history starts from this analysis (entries of conflicts gone since the last
    // run are closed); re-analyses then record only what appears and what ends.
    {
        let snapshot = state.snapshot();
        let seen: Vec<&switchyard_conflicts::Conflict> = snapshot.conflicts.iter().collect();
        let ids = snapshot.conflicts.iter().map(|c| c.id.as_str()).collect();
        let _ = conflict_history::observe(&state, &seen, &ids, now).await;
    }
    state.save_cache();
    Ok(state)
}

/// The whole HTTP application for `state`.
pub fn router(state: AppState) -> Result<Router, ServeError> {
    let (api, spec) = openapi::assemble();
    let spec = Arc::new(spec);
    let limiter = middleware::rate_limit::RateLimiter::new(state.config.rate_limit.clone());
    let origins = middleware::cors::OriginList::new(&state.config.cors)?;
    let guard = middleware::browser::BrowserGuard::new(
        state.config.bind.ip(),
        &state.config.allowed_hosts,
        origins.clone(),
    );
    let mut app = api
        .merge(routes::dashboard::routes(spec))
        .fallback(middleware::correlation::not_found)
        .with_state(state.clone());
    app = routes::events::attach_socket_io(app, &state);
    app = app
        .layer(axum::middleware::from_fn(middleware::redact::layer))
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::auth::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            limiter,
            middleware::rate_limit::layer,
        ));
    if let Some(cors) = middleware::cors::layer(origins) {
        app = app.layer(cors);
    }
    // Outside CORS (a refused origin gets no preflight answer either), inside the correlation
    // layer (so its refusals carry the request id like every error).
    app = app.layer(axum::middleware::from_fn_with_state(
        guard,
        middleware::browser::layer,
    ));
    Ok(app.layer(axum::middleware::from_fn_with_state(
        state,
        middleware::correlation::layer,
    )))
}

/// Binds, starts the background tasks and serves until [`RunningServer::shutdown`].
pub async fn start(options: ServeOptions) -> Result<RunningServer, ServeError> {
    let bind = options.config.bind;
    let state = build_state(options).await?;
    let app = router(state.clone())?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|source| ServeError::Bind {
            address: bind,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| ServeError::Bind {
        address: bind,
        source,
    })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let limits = listener::Limits::of(&state.config);
    let serving = state.clone();
    let served = tokio::spawn(async move {
        listener::serve(listener, app, serving, limits, async move {
            let _ = stopped.await;
        })
        .await
    });
    let mut tasks = Vec::new();
    if let Some(queued) = state.events.take_queue() {
        tasks.extend(cluster::spawn(state.clone(), queued));
    }
    let capacity = Arc::new(Mutex::new(tasks::CapacityWatch::resume(&state)));
    // One round before serving: restored alerts are re-evaluated and expired claims swept by
    // the time `start` returns, instead of racing the first requests.
    // On a shared store only the leading replica does it.
    let leading = state.store.lead().await.unwrap_or(false);
    if leading {
        tasks::housekeeping_round(&state, &mut *capacity.lock().await).await;
    }
    tasks.push(tasks::spawn_housekeeping(
        state.clone(),
        capacity.clone(),
        leading,
    ));
    if let Some(watcher) = watch::spawn(state.clone()).map_err(ServeError::Fleet)? {
        tasks.push(watcher);
    }
    Ok(RunningServer {
        address,
        state,
        stop,
        served,
        tasks,
        capacity,
    })
}

/// `switchyard serve`: runs until SIGTERM or Ctrl-C, then shuts down gracefully.
pub async fn serve(options: ServeOptions) -> Result<(), ServeError> {
    let running = start(options).await?;
    eprintln!(
        "switchyard: serving {} repositories on http://{}",
        running.state.snapshot().repositories.len(),
        running.address
    );
    shutdown_signal().await;
    eprintln!("switchyard: shutting down (finishing in-flight requests)");
    running.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
