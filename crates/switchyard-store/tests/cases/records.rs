// Included by `tests/ledger.rs` once per engine, after `common.rs`: stored documents and their
// compare-and-swap, the base of updates that several replicas make to one document.

#[tokio::test]
async fn swap_record_writes_only_over_the_version_it_read() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    let now = clock.now();
    // Absent: only a swap expecting "absent" creates it.
    assert!(
        store
            .swap_record("doc", "a", None, &json!({ "n": 1 }), now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .swap_record("doc", "a", None, &json!({ "n": 9 }), now)
            .await
            .unwrap()
    );
    let (body, first) = store.get_record_versioned("doc", "a").await.unwrap().unwrap();
    assert_eq!(body, json!({ "n": 1 }));
    assert!(
        store
            .swap_record("doc", "a", Some(&first), &json!({ "n": 2, "x": 0.1 }), now)
            .await
            .unwrap()
    );
    // The version read before that write is stale now.
    assert!(
        !store
            .swap_record("doc", "a", Some(&first), &json!({ "n": 3 }), now)
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_record("doc", "a").await.unwrap(),
        Some(json!({ "n": 2, "x": 0.1 }))
    );
    // A version read from one document does not fit another.
    store.put_record("doc", "b", &json!({ "n": 2, "x": 0.1 }), now).await.unwrap();
    let (_, b) = store.get_record_versioned("doc", "b").await.unwrap().unwrap();
    assert!(store.swap_record("doc", "a", Some(&b), &json!({}), now).await.unwrap(), "same text, same version");
    assert_eq!(store.get_record_versioned("doc", "missing").await.unwrap(), None);
}

/// Many tasks increment one counter document by read + compare-and-swap (retrying when they
/// lose): every increment survives.
#[tokio::test]
async fn concurrent_read_modify_writes_lose_nothing() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::from(store);
    let now = clock.now();
    store.put_record("counter", "c", &json!({ "n": 0 }), now).await.unwrap();
    let (tasks, rounds) = (8, 10);
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut lost = 0u32;
            for _ in 0..rounds {
                loop {
                    let (body, version) =
                        store.get_record_versioned("counter", "c").await.unwrap().unwrap();
                    let next = json!({ "n": body["n"].as_u64().unwrap() + 1 });
                    if store
                        .swap_record("counter", "c", Some(&version), &next, now)
                        .await
                        .unwrap()
                    {
                        break;
                    }
                    lost += 1;
                }
            }
            lost
        }));
    }
    let mut retries = 0;
    for handle in handles {
        retries += handle.await.unwrap();
    }
    let body = store.get_record("counter", "c").await.unwrap().unwrap();
    assert_eq!(body["n"], tasks * rounds, "after {retries} lost races");
}
