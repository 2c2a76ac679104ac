// Included by `tests/ledger.rs` in the PostgreSQL module only: what only a shared database
// has: the database's clock, replicas migrating at once, claims through several pools, a
// database that goes away and comes back.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use switchyard_store::PgStore;

/// With the database's clock, the caller's `now` does not decide expiry: a claim made "in 2024"
/// by a replica with a wrong clock is stamped with the database's time and is live for its TTL.
#[tokio::test]
async fn the_database_clock_decides_expiry() {
    let Some((_schema, store)) = crate::support::fresh_pg("database clock", PgClock::Database).await
    else {
        return;
    };
    register(&store, ResourceType::Port, "6000", 1).await;
    let skewed = T0; // years behind the database
    let claim = store
        .claim("port:6000", "web", &Operation::new("deploy").ttl(600), skewed)
        .await
        .unwrap();
    let real = Timestamp::now_utc();
    assert!(
        claim.claimed_at.unix_millis() > real.unix_millis() - 60_000,
        "stamped with the database's now, not the caller's: {claim:?}"
    );
    // Another replica whose clock is a day ahead still sees the claim live.
    let ahead = real.plus_seconds(86_400);
    let status = store.status("port:6000", ahead).await.unwrap();
    assert_eq!(status.current_usage, 1);
    assert_eq!(
        code(store.claim("port:6000", "api", &Operation::new("deploy"), ahead).await),
        "INCOMPATIBLE_OPERATION"
    );
    assert_eq!(store.sweep_expired(ahead).await.unwrap(), 0);
}

/// Four replicas opening a fresh database at once: each migration is applied once, all work.
#[tokio::test]
async fn replicas_starting_together_migrate_once() {
    let Some(url) = crate::support::pg_url("concurrent migrations") else {
        return;
    };
    let schema = crate::support::PgSchema::new(url);
    let opens = (0..4).map(|_| PgStore::open(schema.options(PgClock::Caller)));
    let stores: Vec<PgStore> = futures_join_all(opens).await;
    register(&stores[0], ResourceType::Port, "6001", 1).await;
    let status = stores[3].status("port:6001", T0).await.unwrap();
    assert_eq!(status.resource.capacity, 1);
}

async fn futures_join_all<F: std::future::Future<Output = Result<PgStore, StoreError>> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<PgStore> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut stores = Vec::new();
    for handle in handles {
        stores.push(handle.await.unwrap().unwrap());
    }
    stores
}

/// A grant as the caller saw it: resource, acknowledged at, release started at (µs).
type Held = (&'static str, u128, u128);

/// Claims through two pools (two replicas) on one database, many tasks each: from the callers'
/// own record (a claim is surely held from its grant's acknowledgement to the start of its
/// release call), no instant has more holders than capacity.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_through_two_replicas_never_exceed_capacity() {
    let Some((schema, first)) = crate::support::fresh_pg("two replicas", PgClock::Database).await
    else {
        return;
    };
    let second = PgStore::open(schema.options(PgClock::Database)).await.unwrap();
    let replicas: Vec<Arc<dyn Store>> = vec![Arc::new(first), Arc::new(second)];
    register(&replicas[0], ResourceType::Port, "7100", 1).await;
    register(&replicas[0], ResourceType::Volume, "pool", 3).await;
    let origin = Instant::now();
    let intervals: Arc<Mutex<Vec<Held>>> = Arc::default();
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let store = replicas[worker % 2].clone();
        let intervals = intervals.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..15 {
                let (resource, operation) = if (worker + round).is_multiple_of(2) {
                    ("port:7100", Operation::new("deploy").exclusive())
                } else {
                    ("volume:pool", Operation::new("read"))
                };
                let now = Timestamp::now_utc();
                let Ok(claim) = store.claim(resource, "w", &operation, now).await else {
                    continue;
                };
                let granted = origin.elapsed().as_micros();
                tokio::task::yield_now().await;
                let released = origin.elapsed().as_micros();
                store
                    .release(resource, &claim.claim_id, Timestamp::now_utc())
                    .await
                    .unwrap();
                intervals.lock().unwrap().push((resource, granted, released));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let intervals = intervals.lock().unwrap().clone();
    assert!(intervals.len() > 20, "enough grants to mean something: {}", intervals.len());
    for (resource, capacity) in [("port:7100", 1usize), ("volume:pool", 3)] {
        let mut events: Vec<(u128, i32)> = Vec::new();
        for (r, start, end) in &intervals {
            if *r == resource && start < end {
                events.push((*start, 1));
                events.push((*end, -1));
            }
        }
        // Ends before starts at the same instant: touching intervals do not overlap.
        events.sort();
        let mut held = 0i32;
        for (at, delta) in events {
            held += delta;
            assert!(held as usize <= capacity, "{resource}: {held} holders at {at}µs");
        }
    }
    let page = replicas[1].history(&HistoryQuery::all(1)).await.unwrap();
    assert_eq!(page.total as usize, 2 + 2 * intervals.len(), "every grant and release recorded");
}

/// A TCP relay in front of PostgreSQL that the test can cut and restore, as a network
/// partition or a database restart would look to one replica.
struct Relay {
    address: std::net::SocketAddr,
    upstream: std::net::SocketAddr,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(upstream: std::net::SocketAddr, address: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        let address = listener.local_addr().unwrap();
        let tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let connections = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let handle = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().unwrap().push(handle);
            }
        });
        tasks.lock().unwrap().push(accept);
        Relay {
            address,
            upstream,
            tasks,
        }
    }

    /// Closes the listener and every relayed connection.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// The database goes away under a running store: calls fail fast with STORE_UNAVAILABLE
/// (503), the health ping fails, and once the database is back the pool reconnects by itself.
#[tokio::test]
async fn a_lost_database_fails_fast_and_the_pool_reconnects() {
    let Some(url) = crate::support::pg_url("lost database") else {
        return;
    };
    // The relay forwards to the server of the test URL.
    let options = switchyard_store::PgOptions::from_url(&url).unwrap();
    let host_port = url
        .split('@')
        .next_back()
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_string();
    let upstream = tokio::net::lookup_host(host_port.as_str())
        .await
        .unwrap()
        .next()
        .unwrap();
    drop(options);
    let relay = Relay::start(upstream, "127.0.0.1:0".parse().unwrap()).await;
    let relayed_url = url.replacen(&host_port, &relay.address.to_string(), 1);
    let schema = crate::support::PgSchema::new(url.clone());
    let options = switchyard_store::PgOptions::from_url(&relayed_url)
        .unwrap()
        .schema(schema.name.clone())
        .clock(PgClock::Caller)
        .acquire_timeout(Duration::from_millis(500));
    let store = PgStore::open(options).await.unwrap();
    register(&store, ResourceType::Port, "6100", 1).await;
    let held = store
        .claim("port:6100", "web", &Operation::new("deploy"), T0)
        .await
        .unwrap();

    relay.cut();
    let started = Instant::now();
    let error = store
        .claim("port:6101", "web", &Operation::new("deploy"), T0)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "STORE_UNAVAILABLE", "{error}");
    assert_eq!(error.http_status(), 503);
    assert!(store.ping().await.is_err(), "health sees the loss");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "failed fast, not hung: {:?}",
        started.elapsed()
    );

    let relay = Relay::start(relay.upstream, relay.address).await;
    let mut recovered = false;
    for _ in 0..50 {
        if store.ping().await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the pool reconnected");
    let status = store.status("port:6100", T0).await.unwrap();
    assert_eq!(status.claims, [held], "the acknowledged claim is still there");
    relay.cut();
}

/// One replica leads the background work at a time; when it goes away (its session ends) the
/// next one to ask takes over.
#[tokio::test]
async fn one_replica_leads_and_another_takes_over() {
    let Some((schema, first)) = crate::support::fresh_pg("leader", PgClock::Caller).await else {
        return;
    };
    let second = PgStore::open(schema.options(PgClock::Caller)).await.unwrap();
    assert!(first.lead().await.unwrap(), "the first to ask leads");
    assert!(first.lead().await.unwrap(), "and keeps leading");
    assert!(!second.lead().await.unwrap(), "only one leader");
    first.close().await;
    let mut took_over = false;
    for _ in 0..50 {
        if second.lead().await.unwrap() {
            took_over = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(took_over, "the second replica took over");
}

/// The event log: appends from two replicas (two stores) get one order (`seq`), are read back
/// in it from either, announce themselves to the other's listener, and age out by retention.
#[tokio::test]
async fn the_event_log_orders_and_announces_appends_across_replicas() {
    let Some(url) = crate::support::pg_url("event log") else {
        return;
    };
    let schema = crate::support::PgSchema::new(url);
    let a = PgStore::open(schema.options(PgClock::Caller)).await.unwrap();
    let b = PgStore::open(schema.options(PgClock::Caller)).await.unwrap();
    let (log_a, log_b) = (a.event_log().unwrap(), b.event_log().unwrap());
    assert_eq!(log_b.last_seq().await.unwrap(), 0);
    let mut wakeups = log_b.wakeups().await.unwrap();
    let event = |n: u32, origin: &str| switchyard_store::NewEvent {
        id: format!("evt_{n}"),
        name: "resource.claimed".into(),
        origin: origin.into(),
        data: json!({ "n": n, "text": "ünïcode \"quoted\"" }),
        timestamp: "2024-05-01T12:00:00.000Z".into(),
    };
    let last = log_a.append(&[event(1, "a"), event(2, "a")]).await.unwrap();
    let woke = tokio::time::timeout(Duration::from_secs(10), wakeups.next()).await;
    assert!(
        matches!(woke, Ok(Ok(switchyard_store::Wakeup::Appended(seq))) if seq == last),
        "{woke:?}"
    );
    let from_b = log_b.append(&[event(3, "b")]).await.unwrap();
    assert!(from_b > last);
    let read = log_b.after(0, 100).await.unwrap();
    let names: Vec<(i64, &str)> = read.iter().map(|e| (e.seq, e.event.id.as_str())).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(
        names.iter().map(|n| n.1).collect::<Vec<_>>(),
        ["evt_1", "evt_2", "evt_3"]
    );
    assert_eq!(read[0].event, event(1, "a"));
    assert_eq!(log_a.after(last, 100).await.unwrap().len(), 1);
    assert_eq!(log_a.after(0, 1).await.unwrap().len(), 1, "limit");
    assert_eq!(log_a.last_seq().await.unwrap(), from_b);
    // Retention: everything stored before a future instant goes.
    let later = Timestamp::now_utc().plus_seconds(60);
    assert_eq!(log_a.purge(later).await.unwrap(), 3);
    assert!(log_b.after(0, 100).await.unwrap().is_empty());
    // Concurrent appends from both stores still read back in one gap-free order of commits.
    let mut handles = Vec::new();
    let a = Arc::new(a);
    let b = Arc::new(b);
    for task in 0..8u32 {
        let store = if task % 2 == 0 { a.clone() } else { b.clone() };
        handles.push(tokio::spawn(async move {
            for n in 0..10 {
                let log = store.event_log().unwrap();
                log.append(&[event(task * 100 + n, "x")]).await.unwrap();
            }
        }));
    }
    // A reader following the log while they append sees every event once, in `seq` order.
    let reader = {
        let b = b.clone();
        tokio::spawn(async move {
            let mut cursor = from_b;
            let mut seen = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(30);
            while seen.len() < 80 && Instant::now() < deadline {
                for logged in b.event_log().unwrap().after(cursor, 7).await.unwrap() {
                    assert!(logged.seq > cursor);
                    cursor = logged.seq;
                    seen.push(logged.event.id);
                }
            }
            seen
        })
    };
    for handle in handles {
        handle.await.unwrap();
    }
    let seen = reader.await.unwrap();
    let distinct: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), distinct.len()), (80, 80));
}
