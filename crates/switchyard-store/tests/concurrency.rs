//! Linearizability and durability under load: many tasks in one process, several OS processes on
//! one database file, and a writer killed with SIGKILL mid-stream. Each test checks the ledger
//! with an independent record of who held what, not with the ledger's own answers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchyard_store::{
    Durability, Engine, HistoryAction, HistoryQuery, Operation, Registration, ResourceType,
    SqliteOptions, SqliteStore, Store, StoreError, Timestamp,
};

const T0: Timestamp = Timestamp::from_unix_millis(1_714_564_800_000);
const CHILD_ENV: &str = "SWITCHYARD_STORE_TEST_CHILD";
const DB_ENV: &str = "SWITCHYARD_STORE_TEST_DB";
const LOG_ENV: &str = "SWITCHYARD_STORE_TEST_LOG";

/// A resource under test and the operation claimants use on it.
#[derive(Clone)]
struct Target {
    id: &'static str,
    capacity: u32,
    operations: Vec<Operation>,
}

fn targets() -> Vec<Target> {
    vec![
        Target {
            id: "port:9000",
            capacity: 1,
            operations: vec![Operation::new("deploy").exclusive()],
        },
        Target {
            id: "volume:pool",
            capacity: 3,
            operations: vec![Operation::new("read"), Operation::new("backup")],
        },
        // Reads share up to the capacity; a write needs it alone.
        Target {
            id: "database:main",
            capacity: 2,
            operations: vec![
                Operation::new("read"),
                Operation::new("write"),
                Operation::new("read"),
            ],
        },
    ]
}

async fn register_targets(store: &SqliteStore) {
    for target in targets() {
        let (kind, identifier) = target.id.split_once(':').unwrap();
        let registration =
            Registration::new(kind.parse().unwrap(), identifier).with_capacity(target.capacity);
        store.register(&registration, T0).await.unwrap();
    }
}

/// The invariant, restated independently of the store: never more holders than capacity, and a
/// holder that is exclusive or not `read`/`backup` is alone.
fn check_holders(resource: &str, capacity: u32, holders: &[(String, bool)]) {
    assert!(
        holders.len() <= capacity as usize,
        "{resource}: {} holders over capacity {capacity}: {holders:?}",
        holders.len()
    );
    let alone_needed = holders
        .iter()
        .any(|(kind, exclusive)| *exclusive || !matches!(kind.as_str(), "read" | "backup"));
    assert!(
        !alone_needed || holders.len() == 1,
        "{resource}: incompatible holders at once: {holders:?}"
    );
}

/// Replays the history in commit order (`seq`) and checks the invariant after every grant.
async fn check_history(store: &SqliteStore) {
    let capacities: HashMap<&str, u32> = targets().iter().map(|t| (t.id, t.capacity)).collect();
    let mut entries = Vec::new();
    let mut offset = 0;
    loop {
        let page = store
            .history(&HistoryQuery {
                resource_id: None,
                limit: 1000,
                offset,
            })
            .await
            .unwrap();
        offset += page.entries.len() as u64;
        let done = !page.has_more();
        entries.extend(page.entries);
        if done {
            break;
        }
    }
    entries.sort_by_key(|e| e.seq);
    let mut live: BTreeMap<String, BTreeMap<String, (String, bool)>> = BTreeMap::new();
    let mut grants = 0;
    for entry in &entries {
        let holders = live.entry(entry.resource_id.clone()).or_default();
        let claim_id = entry.claim_id.clone().unwrap_or_default();
        match entry.action {
            HistoryAction::Claimed => {
                let op = &entry.details["operation"];
                let kind = op["type"].as_str().unwrap().to_string();
                let exclusive = op["exclusive"].as_bool().unwrap();
                holders.insert(claim_id, (kind, exclusive));
                let capacity = capacities[entry.resource_id.as_str()];
                let list: Vec<_> = holders.values().cloned().collect();
                check_holders(&entry.resource_id, capacity, &list);
                grants += 1;
            }
            HistoryAction::Released | HistoryAction::Expired => {
                assert!(
                    holders.remove(&claim_id).is_some(),
                    "released a claim never granted"
                );
            }
            _ => {}
        }
    }
    assert!(grants > 0);
    assert!(live.values().all(BTreeMap::is_empty), "everything released");
}

type Checker = Arc<Mutex<HashMap<&'static str, Vec<(String, bool)>>>>;

async fn hammer_in_process(options: SqliteOptions, tasks: usize, iterations: usize) {
    let store = Arc::new(SqliteStore::open(options).await.unwrap());
    register_targets(&store).await;
    let checker: Checker = Arc::default();
    let grants: Arc<HashMap<&'static str, AtomicUsize>> = Arc::new(
        targets()
            .iter()
            .map(|t| (t.id, AtomicUsize::new(0)))
            .collect(),
    );
    let mut handles = Vec::new();
    for task in 0..tasks {
        let (store, checker, grants) = (store.clone(), checker.clone(), grants.clone());
        handles.push(tokio::spawn(async move {
            let targets = targets();
            let repository = format!("task-{task}");
            for i in 0..iterations {
                let target = &targets[(task + i) % targets.len()];
                let op = &target.operations[(task / 3 + i) % target.operations.len()];
                match store.claim(target.id, &repository, op, T0).await {
                    Ok(claim) => {
                        {
                            let mut held = checker.lock().unwrap();
                            let holders = held.entry(target.id).or_default();
                            holders.push((claim.operation.kind.clone(), claim.operation.exclusive));
                            check_holders(target.id, target.capacity, holders);
                        }
                        grants[target.id].fetch_add(1, Ordering::Relaxed);
                        tokio::task::yield_now().await;
                        {
                            let mut held = checker.lock().unwrap();
                            let holders = held.get_mut(target.id).unwrap();
                            let at = holders
                                .iter()
                                .position(|h| h.0 == claim.operation.kind)
                                .unwrap();
                            holders.swap_remove(at);
                        }
                        store.release(target.id, &claim.claim_id, T0).await.unwrap();
                    }
                    Err(
                        StoreError::Locked { .. }
                        | StoreError::AtCapacity { .. }
                        | StoreError::IncompatibleOperation { .. },
                    ) => tokio::task::yield_now().await,
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    for target in targets() {
        assert!(
            grants[target.id].load(Ordering::Relaxed) > 0,
            "{} was never granted",
            target.id
        );
        let status = store.status(target.id, T0).await.unwrap();
        assert_eq!(status.current_usage, 0, "{}", target.id);
    }
    check_history(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_never_double_grant_with_group_commit() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions::new(dir.path().join("state.db"));
    hammer_in_process(options, 48, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_never_double_grant_per_call_engine_with_group_commit() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions::new(dir.path().join("state.db")).engine(Engine::PerCall);
    hammer_in_process(options, 48, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_never_double_grant_one_commit_per_call() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions::new(dir.path().join("state.db"))
        .durability(Durability::Relaxed)
        .engine(Engine::PerCall)
        .max_batch(1);
    hammer_in_process(options, 32, 20).await;
}

/// Several std threads, each with its own runtime and its own store on the same file: within
/// one process, but through separate writers, so only SQLite's lock serializes them.
#[test]
fn separate_writers_in_threads_never_double_grant() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(SqliteOptions::new(&path)).await.unwrap();
        register_targets(&store).await;
        store.close().await;
    });
    let log = dir.path().join("holds.log");
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let (path, log) = (path.clone(), log.clone());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(hammer_child(&path, &log, &format!("thread-{n}"), 40))
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    check_hold_log(&log, 2);
    runtime.block_on(async {
        let store = SqliteStore::open(SqliteOptions::new(&path)).await.unwrap();
        check_history(&store).await;
    });
}

/// One claimant: claims, writes `+ resource who` to the shared log once acknowledged, holds
/// briefly, writes `- resource who` and only then releases.
async fn hammer_child(db: &Path, log: &Path, who: &str, iterations: usize) {
    let options = SqliteOptions::new(db).durability(Durability::Relaxed);
    let store = SqliteStore::open(options).await.unwrap();
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let targets = targets();
    for i in 0..iterations {
        let target = &targets[i % targets.len()];
        let op = &target.operations[(i / targets.len()) % target.operations.len()];
        match store.claim(target.id, who, op, T0).await {
            Ok(claim) => {
                // One write(2) per line on an O_APPEND file: lines from all processes
                // interleave whole, in the order the writes happened.
                let kind = format!("{}{}", op.kind, if op.exclusive { "!" } else { "" });
                log.write_all(format!("+ {} {who} {kind}\n", target.id).as_bytes())
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
                log.write_all(format!("- {} {who} {kind}\n", target.id).as_bytes())
                    .unwrap();
                store.release(target.id, &claim.claim_id, T0).await.unwrap();
            }
            Err(error) if error.http_status() == 409 => {
                tokio::time::sleep(Duration::from_micros(300)).await;
            }
            Err(other) => panic!("{who}: unexpected error: {other}"),
        }
    }
    store.close().await;
}

/// Replays the hold log; every `+` must leave the holders valid. Returns grants per resource.
fn check_hold_log(log: &Path, min_distinct_holders: usize) -> HashMap<String, usize> {
    let capacities: HashMap<&str, u32> = targets().iter().map(|t| (t.id, t.capacity)).collect();
    let text = std::fs::read_to_string(log).unwrap();
    let mut holders: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut grants: HashMap<String, usize> = HashMap::new();
    let mut who_held: HashMap<String, HashSet<String>> = HashMap::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        let [sign, resource, who, kind] = parts[..] else {
            panic!("bad log line {line:?}");
        };
        let list = holders.entry(resource.to_string()).or_default();
        if sign == "+" {
            list.push((who.to_string(), kind.to_string()));
            let view: Vec<(String, bool)> = list
                .iter()
                .map(|(_, k)| (k.trim_end_matches('!').to_string(), k.ends_with('!')))
                .collect();
            check_holders(resource, capacities[resource], &view);
            *grants.entry(resource.to_string()).or_default() += 1;
            who_held
                .entry(resource.to_string())
                .or_default()
                .insert(who.to_string());
        } else {
            let at = list
                .iter()
                .position(|(w, k)| w == who && k == kind)
                .expect("exit without entry");
            list.swap_remove(at);
        }
    }
    for target in targets() {
        let distinct = who_held.get(target.id).map_or(0, HashSet::len);
        assert!(
            distinct >= min_distinct_holders,
            "{}: only {distinct} distinct holders; the test did not contend",
            target.id
        );
    }
    grants
}

fn spawn_child(mode: &str, db: &Path, log: Option<&Path>, stdout: Stdio) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, mode)
        .env(DB_ENV, db)
        .stdout(stdout)
        .stderr(Stdio::inherit());
    if let Some(log) = log {
        command.env(LOG_ENV, log);
    }
    command.spawn().unwrap()
}

/// Not a test on its own: the body of the child processes the tests below start. Without the
/// environment variable it does nothing.
#[test]
fn child_process_entry() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    let db = PathBuf::from(std::env::var(DB_ENV).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match mode.as_str() {
        "hammer" => {
            let log = PathBuf::from(std::env::var(LOG_ENV).unwrap());
            let who = format!("pid-{}", std::process::id());
            runtime.block_on(hammer_child(&db, &log, &who, 60));
        }
        "crash" => runtime.block_on(crash_child(&db)),
        other => panic!("unknown child mode {other}"),
    }
}

#[test]
fn several_processes_on_one_file_never_double_grant() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let log = dir.path().join("holds.log");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(SqliteOptions::new(&db)).await.unwrap();
        register_targets(&store).await;
        store.close().await;
    });
    let children: Vec<_> = (0..3)
        .map(|_| spawn_child("hammer", &db, Some(&log), Stdio::null()))
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a child failed");
    }
    let grants = check_hold_log(&log, 2);
    assert!(grants.values().sum::<usize>() >= 30, "{grants:?}");
    runtime.block_on(async {
        let store = SqliteStore::open(SqliteOptions::new(&db)).await.unwrap();
        check_history(&store).await;
    });
}

/// Claims as fast as 8 tasks can (so acknowledgements come from group commits), printing each
/// acknowledged claim id, until killed (or a safety limit).
async fn crash_child(db: &Path) {
    let store = Arc::new(SqliteStore::open(SqliteOptions::new(db)).await.unwrap());
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut handles = Vec::new();
    for task in 0..8 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let repository = format!("crash-{task}");
            while Instant::now() < deadline {
                let claim = store
                    .claim("volume:crash", &repository, &Operation::new("read"), T0)
                    .await
                    .unwrap();
                let mut out = std::io::stdout().lock();
                writeln!(out, "ACK {}", claim.claim_id).unwrap();
                out.flush().unwrap();
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
}

#[test]
fn acknowledged_claims_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(SqliteOptions::new(&db)).await.unwrap();
        let registration =
            Registration::new(ResourceType::Volume, "crash").with_capacity(1_000_000);
        store.register(&registration, T0).await.unwrap();
        store.close().await;
    });

    let mut child = spawn_child("crash", &db, None, Stdio::piped());
    let stdout = child.stdout.take().unwrap();
    let mut acknowledged = Vec::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("ACK ") {
            acknowledged.push(id.to_string());
            if acknowledged.len() == 60 {
                child.kill().unwrap(); // SIGKILL: no destructor, no flush, no clean close
                break;
            }
        }
    }
    // Lines already written before the kill were acknowledged too.
    for line in lines {
        let Ok(line) = line else { break };
        if let Some(id) = line.strip_prefix("ACK ") {
            acknowledged.push(id.to_string());
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child was killed, not finished");

    runtime.block_on(async {
        let store = SqliteStore::open(SqliteOptions::new(&db)).await.unwrap();
        let held: HashSet<String> = store
            .status("volume:crash", T0)
            .await
            .unwrap()
            .claims
            .into_iter()
            .map(|c| c.claim_id)
            .collect();
        let missing: Vec<&String> = acknowledged
            .iter()
            .filter(|id| !held.contains(*id))
            .collect();
        assert!(
            missing.is_empty(),
            "{} of {} acknowledged claims lost: {missing:?}",
            missing.len(),
            acknowledged.len()
        );
        assert!(acknowledged.len() >= 60);
        store.close().await;

        // The file is intact, not just readable.
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(check, "ok");
    });
}
