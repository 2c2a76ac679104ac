//! Differential test of the two write engines: the same random batches of calls, on two fresh
//! databases; every answer, the final claims and the whole history must be identical.

use sqlx::{Row, SqliteConnection};
use tokio::sync::oneshot;

use super::ops::WriteOp;
use super::writer::{Job, execute_per_call};
use super::{SqliteOptions, batch, connect_and_migrate};
use crate::error::StoreError;
use crate::rules::new_claim_id;
use crate::time::Timestamp;
use crate::types::{Operation, Registration, ResourceType};

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const RESOURCES: [(ResourceType, &str); 4] = [
    (ResourceType::Port, "1"),
    (ResourceType::Volume, "v"),
    (ResourceType::Database, "d"),
    (ResourceType::Custom, "c"),
];
const KINDS: [&str; 5] = ["read", "backup", "write", "deploy", "read"];

fn resource_id(i: usize) -> String {
    let (kind, identifier) = RESOURCES[i % RESOURCES.len()];
    format!("{kind}:{identifier}")
}

fn random_op(rng: &mut Rng, now: Timestamp, claims: &mut Vec<(String, String)>) -> WriteOp {
    let resource = rng.below(RESOURCES.len() as u64) as usize;
    let known = |rng: &mut Rng, claims: &Vec<(String, String)>| {
        if claims.is_empty() || rng.below(10) == 0 {
            (resource_id(resource), "claim_unknown".to_string())
        } else {
            claims[rng.below(claims.len() as u64) as usize].clone()
        }
    };
    match rng.below(12) {
        0..=4 => {
            let mut operation = Operation::new(KINDS[rng.below(KINDS.len() as u64) as usize]);
            operation.exclusive = rng.below(6) == 0;
            operation.ttl_seconds = (rng.below(3) > 0).then(|| 1 + rng.below(6));
            let claim_id = new_claim_id(now);
            claims.push((resource_id(resource), claim_id.clone()));
            WriteOp::Claim {
                resource_id: resource_id(resource),
                repository: format!("repo-{}", rng.below(4)),
                operation,
                claim_id,
            }
        }
        5..=7 => {
            let (resource_id, claim_id) = known(rng, claims);
            WriteOp::Release {
                resource_id,
                claim_id,
            }
        }
        8 => {
            let (resource_id, claim_id) = known(rng, claims);
            WriteOp::Renew {
                resource_id,
                claim_id,
                ttl_seconds: 1 + rng.below(6),
            }
        }
        9 => {
            let (kind, identifier) = RESOURCES[resource];
            let mut registration =
                Registration::new(kind, identifier).with_capacity(1 + rng.below(3) as u32);
            if rng.below(4) == 0 {
                registration.metadata = Some(serde_json::json!({ "n": rng.below(2) }));
            }
            WriteOp::Register(registration)
        }
        10 => WriteOp::Delete {
            resource_id: resource_id(resource),
        },
        _ => WriteOp::Sweep,
    }
}

fn outcome(result: Result<super::ops::WriteDone, StoreError>) -> String {
    match result {
        Ok(done) => format!("ok {done:?}"),
        Err(error) => format!("err {} {error}", error.code()),
    }
}

async fn dump(conn: &mut SqliteConnection) -> (Vec<String>, Vec<String>) {
    let claims = sqlx::query(
        "SELECT claim_id, resource_id, repository, operation, exclusive, ttl_seconds,
                claimed_at_ms, expires_at_ms FROM claims ORDER BY claim_id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        format!(
            "{} {} {} {} {} {:?} {} {:?}",
            r.get::<String, _>(0),
            r.get::<String, _>(1),
            r.get::<String, _>(2),
            r.get::<String, _>(3),
            r.get::<i64, _>(4),
            r.get::<Option<i64>, _>(5),
            r.get::<i64, _>(6),
            r.get::<Option<i64>, _>(7)
        )
    })
    .collect();
    let history = sqlx::query(
        "SELECT at, resource_id, action, claim_id, repository, details FROM history ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        format!(
            "{} {} {} {:?} {:?} {}",
            r.get::<String, _>(0),
            r.get::<String, _>(1),
            r.get::<String, _>(2),
            r.get::<Option<String>, _>(3),
            r.get::<Option<String>, _>(4),
            r.get::<String, _>(5)
        )
    })
    .collect();
    (claims, history)
}

fn jobs(batch: &[(WriteOp, Timestamp)]) -> Vec<Job> {
    batch
        .iter()
        .map(|(op, now)| Job {
            op: op.clone(),
            now: *now,
            reply: oneshot::channel().0,
        })
        .collect()
}

#[tokio::test]
async fn batched_engine_matches_the_per_call_engine() {
    let dir = tempfile::tempdir().unwrap();
    for seed in 1..=6u64 {
        let path = |name: &str| dir.path().join(format!("{name}-{seed}.db"));
        let mut batched = connect_and_migrate(&SqliteOptions::new(path("b")).connect_options())
            .await
            .unwrap();
        let mut reference = connect_and_migrate(&SqliteOptions::new(path("r")).connect_options())
            .await
            .unwrap();
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut now = Timestamp::from_unix_millis(1_714_564_800_000);
        let mut claims = Vec::new();
        let mut calls = 0;
        // Every resource exists at the start; deletes and re-registers come later at random.
        let setup: Vec<(WriteOp, Timestamp)> = RESOURCES
            .iter()
            .map(|(kind, identifier)| {
                let registration = Registration::new(*kind, *identifier).with_capacity(2);
                (WriteOp::Register(registration), now)
            })
            .collect();
        batch::execute(&mut batched, &jobs(&setup)).await.unwrap();
        execute_per_call(&mut reference, &jobs(&setup))
            .await
            .unwrap();
        while calls < 400 {
            let size = 1 + rng.below(12) as usize;
            let mut ops = Vec::with_capacity(size);
            for _ in 0..size {
                // Strictly increasing time keeps "oldest first" unambiguous in both engines.
                now = Timestamp::from_unix_millis(now.unix_millis() + 1 + rng.below(1500) as i64);
                ops.push((random_op(&mut rng, now, &mut claims), now));
            }
            calls += size;
            let got = batch::execute(&mut batched, &jobs(&ops)).await.unwrap();
            let want = execute_per_call(&mut reference, &jobs(&ops)).await.unwrap();
            let got: Vec<String> = got.into_iter().map(outcome).collect();
            let want: Vec<String> = want.into_iter().map(outcome).collect();
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(
                    g,
                    w,
                    "seed {seed}, call {} ({:?})",
                    calls - size + i,
                    ops[i].0
                );
            }
        }
        let (got_claims, got_history) = dump(&mut batched).await;
        let (want_claims, want_history) = dump(&mut reference).await;
        assert_eq!(got_claims, want_claims, "seed {seed}: claims");
        for (g, w) in got_history.iter().zip(&want_history) {
            assert_eq!(g, w, "seed {seed}: history");
        }
        assert_eq!(
            got_history.len(),
            want_history.len(),
            "seed {seed}: history length"
        );
        let granted = got_history
            .iter()
            .filter(|h| h.contains(" claimed "))
            .count();
        let expired = got_history
            .iter()
            .filter(|h| h.contains(" expired "))
            .count();
        assert!(
            granted > 20 && expired > 0,
            "seed {seed}: the run exercised too little"
        );
    }
}

/// Hundreds of grants in one batch, then hundreds of claims expiring at once.
#[tokio::test]
async fn mass_claims_and_mass_expiry_in_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut batched =
        connect_and_migrate(&SqliteOptions::new(dir.path().join("b.db")).connect_options())
            .await
            .unwrap();
    let mut reference =
        connect_and_migrate(&SqliteOptions::new(dir.path().join("r.db")).connect_options())
            .await
            .unwrap();
    let t0 = Timestamp::from_unix_millis(1_714_564_800_000);
    let registration = Registration::new(ResourceType::Network, "edge").with_capacity(5000);
    let mut calls = vec![(WriteOp::Register(registration), t0)];
    for i in 0..450 {
        let now = Timestamp::from_unix_millis(t0.unix_millis() + i);
        calls.push((
            WriteOp::Claim {
                resource_id: "network:edge".into(),
                repository: format!("r{i}"),
                operation: Operation::new("read").ttl(1),
                claim_id: new_claim_id(now),
            },
            now,
        ));
    }
    let later = t0.plus_seconds(60);
    let last_claim = WriteOp::Claim {
        resource_id: "network:edge".into(),
        repository: "late".into(),
        operation: Operation::new("read"),
        claim_id: new_claim_id(later),
    };
    let first = batch::execute(&mut batched, &jobs(&calls)).await.unwrap();
    assert!(first.iter().all(Result::is_ok));
    execute_per_call(&mut reference, &jobs(&calls))
        .await
        .unwrap();
    let second = batch::execute(&mut batched, &jobs(&[(last_claim.clone(), later)]))
        .await
        .unwrap();
    assert!(second[0].is_ok());
    execute_per_call(&mut reference, &jobs(&[(last_claim, later)]))
        .await
        .unwrap();
    let (claims, history) = dump(&mut batched).await;
    assert_eq!(claims.len(), 1, "450 expired claims purged, one live");
    assert_eq!(
        history.iter().filter(|h| h.contains(" expired ")).count(),
        450
    );
    assert_eq!((claims, history), dump(&mut reference).await);
}
