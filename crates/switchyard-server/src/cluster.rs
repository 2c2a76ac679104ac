//! Events across replicas on a shared store: the relay appends what this replica publishes to
//! the store's event log; the feed reads the log back (woken by the log's announcements, and
//! polling every second in case one was missed) and delivers every event once, in the log's
//! order, to this replica's subscribers. Messages between replicas (`cluster.*`) are acted on
//! instead of delivered.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use switchyard_store::{EventLog, NewEvent, Wakeup, Wakeups};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::events::{CLUSTER_PREFIX, Event};
use crate::state::AppState;

/// How often the feed reads the log even without an announcement.
pub const POLL_EVERY: Duration = Duration::from_secs(1);
/// Events appended in one transaction at most.
const APPEND_BATCH: usize = 512;
/// Events read from the log per query.
pub const READ_PAGE: u32 = 1000;

/// A webhook push (or another re-read) on one replica: the others re-read the same
/// repositories from their own checkouts.
pub const REPOSITORIES_CHANGED: &str = "cluster.repositories_changed";

/// What the relay tells the feed: the last `seq` it appended, and a wake-up.
#[derive(Default)]
struct Appended {
    up_to: AtomicI64,
    notify: Notify,
}

/// Starts the relay and the feed; `queued` is the clustered bus's outbox.
pub fn spawn(state: AppState, queued: mpsc::UnboundedReceiver<NewEvent>) -> Vec<JoinHandle<()>> {
    let appended = std::sync::Arc::new(Appended::default());
    vec![
        tokio::spawn(relay(state.clone(), queued, appended.clone())),
        tokio::spawn(feed(state, appended)),
    ]
}

fn log(state: &AppState) -> Option<&dyn EventLog> {
    state.store.event_log()
}

/// Appends queued events in order, in batches; a failed append is retried (the events stay
/// queued, in order) until the store answers again.
async fn relay(
    state: AppState,
    mut queued: mpsc::UnboundedReceiver<NewEvent>,
    appended: std::sync::Arc<Appended>,
) {
    let mut batch: Vec<NewEvent> = Vec::new();
    let mut backoff = Duration::from_millis(100);
    loop {
        if batch.is_empty() {
            let closed = state.events.closed();
            tokio::select! {
                () = closed => return,
                next = queued.recv() => match next {
                    Some(event) => batch.push(event),
                    None => return,
                },
            }
        }
        while batch.len() < APPEND_BATCH {
            match queued.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        let Some(log) = log(&state) else { return };
        match log.append(&batch).await {
            Ok(last) => {
                batch.clear();
                backoff = Duration::from_millis(100);
                appended.up_to.fetch_max(last, Ordering::SeqCst);
                appended.notify.notify_one();
            }
            Err(_) => {
                tokio::select! {
                    () = state.events.closed() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Reads the log from where this replica joined and delivers each event once.
async fn feed(state: AppState, appended: std::sync::Arc<Appended>) {
    let Some(store_log) = log(&state) else { return };
    // A new replica's subscribers start with what happens from now on (a client that wants
    // older events resumes with `?after=`).
    let mut cursor = loop {
        match store_log.last_seq().await {
            Ok(seq) => break seq,
            Err(_) => {
                tokio::select! {
                    () = state.events.closed() => return,
                    () = tokio::time::sleep(POLL_EVERY) => {}
                }
            }
        }
    };
    let mut wakeups: Option<Box<dyn Wakeups>> = None;
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let closed = state.events.closed();
    tokio::pin!(closed);
    loop {
        if wakeups.is_none() {
            wakeups = store_log.wakeups().await.ok();
        }
        // An announcement of what this replica already read (its own append, announced
        // both by the relay and by NOTIFY) costs no query.
        let announced = tokio::select! {
            () = &mut closed => return,
            () = appended.notify.notified() => appended.up_to.load(Ordering::SeqCst),
            _ = poll.tick() => i64::MAX,
            woken = next_wakeup(&mut wakeups) => match woken {
                Ok(Wakeup::Appended(seq)) => seq,
                Ok(Wakeup::Reconnected) => i64::MAX,
                Err(_) => {
                    // Re-listened on the next turn; the poll covers the gap.
                    wakeups = None;
                    i64::MAX
                }
            },
        };
        if announced > cursor {
            cursor = drain(&state, store_log, cursor).await;
        }
    }
}

async fn next_wakeup(
    wakeups: &mut Option<Box<dyn Wakeups>>,
) -> Result<Wakeup, switchyard_store::StoreError> {
    match wakeups {
        Some(wakeups) => wakeups.next().await,
        // Not listening (the database was unreachable): wait for the poll.
        None => std::future::pending().await,
    }
}

/// Delivers everything after `cursor`; returns the new cursor.
async fn drain(state: &AppState, store_log: &dyn EventLog, mut cursor: i64) -> i64 {
    loop {
        let Ok(page) = store_log.after(cursor, READ_PAGE).await else {
            return cursor;
        };
        let full = page.len() >= READ_PAGE as usize;
        for logged in page {
            cursor = cursor.max(logged.seq);
            let event = logged.event;
            if event.name.starts_with(CLUSTER_PREFIX) {
                if event.origin != state.events.origin() {
                    act_on(state, &event.name, &event.data);
                }
                continue;
            }
            state.events.deliver(Event {
                id: event.id,
                event: event.name,
                timestamp: event.timestamp,
                data: event.data,
                seq: Some(logged.seq),
            });
        }
        if !full {
            return cursor;
        }
    }
}

/// A message from another replica.
fn act_on(state: &AppState, name: &str, data: &Value) {
    if name == REPOSITORIES_CHANGED {
        let names: Vec<String> = data
            .get("repositories")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let pull = data.get("pull").and_then(Value::as_bool).unwrap_or(false);
        let known = state.snapshot();
        let names: Vec<String> = names
            .into_iter()
            .filter(|n| known.require_known(std::slice::from_ref(n)).is_ok())
            .collect();
        if names.is_empty() {
            return;
        }
        let state = state.clone();
        // Off the feed's path: a re-read takes as long as the repository's files do.
        tokio::spawn(async move {
            let _ = state.reanalyze_for_peer(names, pull).await;
        });
    }
}

/// What a replica announces after re-reading repositories itself.
pub fn repositories_changed(names: &[String], pull: bool) -> Value {
    json!({ "repositories": names, "pull": pull })
}
