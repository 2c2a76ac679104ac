//! Seed 004's shared config cache over HTTP: set/sync/remove/clear, last writer wins, the
//! tie-break, TTL expiry on the server clock, tombstones, persistence across a restart,
//! redacted `config.changed` events and bad input.

mod common;

use common::{TestServer, assert_error};
use serde_json::{Value, json};

const SYNC: &str = "/api/config-sync/sync";
const SET: &str = "/api/config-sync/set";
const REMOVE: &str = "/api/config-sync/remove";
const CLEAR: &str = "/api/config-sync/clear";

/// Every live update a fresh client (lastSync 0) receives, as key → value.
async fn everything(server: &TestServer) -> serde_json::Map<String, Value> {
    let (status, body) = server
        .post(SYNC, json!({ "lastSync": 0, "changes": [] }))
        .await;
    assert_eq!(status, 200, "{body}");
    body["updates"]
        .as_array()
        .expect("updates")
        .iter()
        .filter(|u| u["deleted"] == false)
        .map(|u| {
            (
                u["key"].as_str().unwrap_or_default().to_string(),
                u["value"].clone(),
            )
        })
        .collect()
}

async fn set(server: &TestServer, key: &str, value: Value, timestamp: i64) -> Value {
    let (status, body) = server
        .post(
            SET,
            json!({ "key": key, "value": value, "ttl": 3600, "timestamp": timestamp }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_sync_remove_clear_and_last_writer_wins() {
    let server = TestServer::start("homelab").await;

    let body = set(&server, "user_data", json!({ "name": "John" }), 1_000).await;
    assert_eq!(body["applied"], true, "{body}");
    assert_eq!(
        everything(&server).await["user_data"],
        json!({ "name": "John" })
    );

    // An older write loses and the answer says who won.
    let body = set(&server, "user_data", json!({ "name": "Old" }), 900).await;
    assert_eq!(body["applied"], false, "{body}");
    assert_eq!(body["current"]["value"], json!({ "name": "John" }));
    // A newer one wins.
    set(&server, "user_data", json!({ "name": "Jane" }), 2_000).await;
    assert_eq!(
        everything(&server).await["user_data"],
        json!({ "name": "Jane" })
    );

    // Tie: same timestamp, the greater canonical JSON wins whatever the arrival order.
    set(&server, "theme", json!("light"), 5_000).await;
    set(&server, "theme", json!("dark"), 5_000).await;
    assert_eq!(everything(&server).await["theme"], json!("light"));
    set(&server, "layout", json!("dark"), 5_000).await;
    set(&server, "layout", json!("light"), 5_000).await;
    assert_eq!(everything(&server).await["layout"], json!("light"));

    // Incremental sync: nothing new since the last answer, then exactly the new write, but not
    // what the client itself sent.
    let (_, first) = server.post(SYNC, json!({ "lastSync": 0 })).await;
    let last = first["timestamp"].as_i64().expect("timestamp");
    let (_, again) = server.post(SYNC, json!({ "lastSync": last })).await;
    assert_eq!(again["updates"], json!([]), "{again}");
    set(&server, "cart", json!([1, 2]), 6_000).await;
    let (status, next) = server
        .post(
            SYNC,
            json!({ "lastSync": last, "changes": [
                { "key": "mine", "value": 7, "ttl": 0, "timestamp": 6_500, "deleted": false },
                { "key": "user_data", "value": "stale", "ttl": 0, "timestamp": 10, "deleted": false }
            ] }),
        )
        .await;
    assert_eq!(status, 200, "{next}");
    let keys: Vec<&str> = next["updates"]
        .as_array()
        .expect("updates")
        .iter()
        .filter_map(|u| u["key"].as_str())
        .collect();
    assert_eq!(keys, ["cart", "user_data"], "{next}");
    assert_eq!(
        next["updates"][1]["value"],
        json!({ "name": "Jane" }),
        "the winner of a lost change"
    );
    assert_eq!(everything(&server).await["mine"], json!(7));

    // Remove leaves a tombstone: an older write cannot bring the key back.
    let (status, body) = server
        .post(REMOVE, json!({ "key": "cart", "timestamp": 7_000 }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["applied"], true);
    let (_, tomb) = server
        .post(SYNC, json!({ "lastSync": next["timestamp"] }))
        .await;
    assert_eq!(tomb["updates"][0]["key"], "cart", "{tomb}");
    assert_eq!(tomb["updates"][0]["deleted"], true, "{tomb}");
    let body = set(&server, "cart", json!([9]), 6_999).await;
    assert_eq!(body["applied"], false, "{body}");
    assert!(!everything(&server).await.contains_key("cart"));

    // Clear: everything older goes, older late writes stay out, newer ones are kept.
    set(&server, "future", json!(1), 50_000).await;
    let (status, body) = server.post(CLEAR, json!({ "timestamp": 10_000 })).await;
    assert_eq!(status, 200, "{body}");
    let live = everything(&server).await;
    assert_eq!(live.keys().collect::<Vec<_>>(), ["future"], "{live:?}");
    let body = set(&server, "brand_new", json!(1), 9_999).await;
    assert_eq!(
        body["applied"], false,
        "a write older than the clear loses: {body}"
    );
    let body = set(&server, "brand_new", json!(1), 10_001).await;
    assert_eq!(body["applied"], true, "{body}");

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_expiry_follows_the_server_clock() {
    let server = TestServer::start("homelab").await;
    let (status, body) = server
        .post(
            SET,
            json!({ "key": "session", "value": "s1", "ttl": 60, "timestamp": 1 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    server
        .post(
            SET,
            json!({ "key": "forever", "value": "f", "timestamp": 1 }),
        )
        .await;
    server.advance(59);
    assert!(everything(&server).await.contains_key("session"));
    server.advance(2);
    let live = everything(&server).await;
    assert!(
        !live.contains_key("session"),
        "expired keys are not returned: {live:?}"
    );
    assert!(live.contains_key("forever"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_tombstones_survive_a_restart() {
    let mut server = TestServer::start("homelab").await;
    set(&server, "kept", json!({ "a": 1 }), 100).await;
    set(&server, "gone", json!(1), 100).await;
    server
        .post(REMOVE, json!({ "key": "gone", "timestamp": 200 }))
        .await;
    let (_, before) = server.post(SYNC, json!({ "lastSync": 0 })).await;

    server.restart(common::test_config()).await;

    assert_eq!(everything(&server).await["kept"], json!({ "a": 1 }));
    let body = set(&server, "gone", json!(2), 150).await;
    assert_eq!(
        body["applied"], false,
        "the tombstone was persisted: {body}"
    );
    // The change clock continues: a sync from the old timestamp sees only new writes.
    set(&server, "after", json!(1), 300).await;
    let (_, after) = server
        .post(SYNC, json!({ "lastSync": before["timestamp"] }))
        .await;
    let keys: Vec<&str> = after["updates"]
        .as_array()
        .expect("updates")
        .iter()
        .filter_map(|u| u["key"].as_str())
        .collect();
    assert_eq!(keys, ["after"], "{after}");
    server.stop().await;
}

async fn next_config_event(
    events: &mut tokio::sync::broadcast::Receiver<switchyard_server::events::Event>,
) -> switchyard_server::events::Event {
    loop {
        let event = events.recv().await.expect("event");
        if event.event == "config.changed" {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_redacted_and_bad_input_is_400() {
    let server = TestServer::start("homelab").await;
    let mut events = server.state().events.subscribe();
    set(&server, "API_TOKEN", json!("tok-123-secret"), 1).await;
    set(&server, "theme", json!("dark"), 1).await;
    let first = next_config_event(&mut events).await;
    assert_eq!(first.data["key"], "API_TOKEN");
    assert_eq!(first.data["value"], "***");
    assert!(!first.data.to_string().contains("tok-123"));
    let second = next_config_event(&mut events).await;
    assert_eq!(second.data["value"], "dark");
    // The owner of the cache gets its value back.
    assert_eq!(everything(&server).await["API_TOKEN"], "tok-123-secret");

    for (path, body) in [
        (SET, json!({ "key": "", "value": 1, "timestamp": 1 })),
        (SET, json!({ "key": "k", "value": 1, "timestamp": -5 })),
        (SET, json!({ "key": "k", "value": 1, "timestamp": "soon" })),
        (
            SET,
            json!({ "key": "k", "value": 1, "ttl": -1, "timestamp": 1 }),
        ),
        (SET, json!({ "value": 1, "timestamp": 1 })),
        (REMOVE, json!({ "key": "k" })),
        (CLEAR, json!({})),
        (SYNC, json!({ "lastSync": -1 })),
        (SYNC, json!({ "changes": [{ "key": "k" }] })),
        (SYNC, json!({ "changes": "nope" })),
    ] {
        let (status, answer) = server.post(path, body.clone()).await;
        assert_error(status, &answer, 400, "VALIDATION_ERROR");
    }
    let (status, answer) = server.post_raw(SET, "{not json").await;
    assert_error(status, &answer, 400, "VALIDATION_ERROR");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_forgets_old_tombstones_and_stale_clients_resync_in_full() {
    let server = TestServer::start("homelab").await;
    let t0 = common::t0().unix_millis();
    for key in ["keep", "drop"] {
        let (status, body) = server
            .post(SET, json!({ "key": key, "value": "v", "timestamp": t0 }))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    // A client syncs, then the key is removed.
    let (_, early) = server.post(SYNC, json!({})).await;
    let early_sync = early["timestamp"].clone();
    server.advance(1);
    let (status, body) = server
        .post(REMOVE, json!({ "key": "drop", "timestamp": t0 + 1 }))
        .await;
    assert_eq!(status, 200, "{body}");

    // 31 days later the retention (30 days) forgets the tombstone.
    server.advance(31 * 86_400);
    let (status, body) = server.post("/api/coordination/cleanup", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["removed"]["configSync"], 1, "{body}");

    // A client that synced before the deletion cannot learn it from a tombstone any more: it
    // gets the whole live cache, marked full.
    let (status, body) = server.post(SYNC, json!({ "lastSync": early_sync })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["full"], true, "{body}");
    let keys: Vec<&str> = body["updates"]
        .as_array()
        .map(|u| u.iter().filter_map(|e| e["key"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(keys, ["keep"], "{body}");
    let (_, fresh) = server
        .post(SYNC, json!({ "lastSync": body["timestamp"] }))
        .await;
    assert_eq!(fresh["full"], false, "{fresh}");

    // A write older than the forgotten tombstone does not bring the key back; a newer one does.
    let (_, body) = server
        .post(
            SET,
            json!({ "key": "drop", "value": "late", "timestamp": t0 }),
        )
        .await;
    assert_eq!(body["applied"], false, "{body}");
    let (_, body) = server
        .post(
            SET,
            json!({ "key": "drop", "value": "new", "timestamp": t0 + 2 }),
        )
        .await;
    assert_eq!(body["applied"], true, "{body}");

    // The watermarks survive a restart.
    let config = common::test_config();
    let mut server = server;
    server.restart(config).await;
    let (_, body) = server.post(SYNC, json!({ "lastSync": early_sync })).await;
    assert_eq!(body["full"], true, "{body}");
    server.stop().await;
}

/// A client clock in year 5138 used to pin a key forever: no set, remove or clear could ever
/// beat its timestamp. Such writes are refused with the server's time, and an admin can
/// force-delete a key that got pinned anyway (e.g. by a server that ran without the check).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn future_timestamps_are_refused_and_admins_can_force_delete() {
    const ADMIN: &str = "admin-token-0123456789";
    const WRITE: &str = "write-token-0123456789";
    let mut server = TestServer::start_with("homelab", |c| {
        c.tokens = vec![
            switchyard_server::config::TokenConfig {
                token: ADMIN.into(),
                scopes: vec![switchyard_server::config::Scope::Admin],
                name: None,
            },
            switchyard_server::config::TokenConfig {
                token: WRITE.into(),
                scopes: vec![switchyard_server::config::Scope::Write],
                name: None,
            },
        ];
    })
    .await;
    server.authorize(WRITE);
    let now = common::t0().unix_millis();
    let year_5138: i64 = 99_999_999_999_000;
    let server_time = |body: &Value| body["details"]["serverTime"].as_i64();

    for (path, body) in [
        (
            SET,
            json!({ "key": "k", "value": 1, "timestamp": year_5138 }),
        ),
        (REMOVE, json!({ "key": "k", "timestamp": year_5138 })),
        (CLEAR, json!({ "timestamp": year_5138 })),
        (
            SYNC,
            json!({ "changes": [
                { "key": "ok", "value": 1, "timestamp": now },
                { "key": "k", "value": 1, "timestamp": year_5138 }
            ] }),
        ),
    ] {
        let (status, answer) = server.post(path, body).await;
        assert_error(status, &answer, 422, "CLOCK_SKEW");
        assert_eq!(server_time(&answer), Some(now), "{path}: {answer}");
        assert_eq!(answer["details"]["maxSkewSeconds"], 300, "{answer}");
    }
    assert!(
        everything(&server).await.is_empty(),
        "a refused sync applies nothing"
    );

    // Up to the allowed skew is fine (clients' clocks are a little off).
    let body = set(&server, "k", json!("near"), now + 299_000).await;
    assert_eq!(body["applied"], true, "{body}");
    let (status, answer) = server
        .post(
            SET,
            json!({ "key": "k", "value": 1, "timestamp": now + 301_000 }),
        )
        .await;
    assert_error(status, &answer, 422, "CLOCK_SKEW");

    // A key pinned in the future anyway (written before the server's clock caught up... or by
    // an older server): only the admin route can unpin it.
    server.advance(24 * 3600);
    let later = now + 24 * 3600 * 1000;
    let body = set(&server, "k", json!("pinned"), later + 200_000).await;
    assert_eq!(body["applied"], true, "{body}");
    server.clock.set(common::t0());
    let body = set(&server, "k", json!("fixed"), now + 1_000).await;
    assert_eq!(body["applied"], false, "the pinned version wins: {body}");

    let (status, answer) = server
        .post("/api/config-sync/force-delete", json!({ "key": "k" }))
        .await;
    assert_error(status, &answer, 403, "FORBIDDEN");
    server.authorize(ADMIN);
    let (status, answer) = server
        .post("/api/config-sync/force-delete", json!({ "key": "k" }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["existed"], true, "{answer}");
    assert_eq!(answer["current"]["deleted"], true, "{answer}");
    assert_eq!(answer["current"]["timestamp"], now, "{answer}");
    assert!(!everything(&server).await.contains_key("k"));
    let body = set(&server, "k", json!("fixed"), now + 1_000).await;
    assert_eq!(body["applied"], true, "a sane write wins again: {body}");
    assert_eq!(everything(&server).await["k"], json!("fixed"));

    let (status, answer) = server
        .post(
            "/api/config-sync/force-delete",
            json!({ "key": "never-set" }),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["existed"], false, "{answer}");
    let (status, answer) = server
        .post("/api/config-sync/force-delete", json!({ "key": "" }))
        .await;
    assert_error(status, &answer, 400, "VALIDATION_ERROR");
    server.stop().await;
}
