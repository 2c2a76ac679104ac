// Included by `tests/ledger.rs` once per engine, after `common.rs`.

#[tokio::test]
async fn claims_on_unknown_resources_are_not_found() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    let error = store
        .claim("port:9999", "a", &Operation::new("read"), clock.now())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "NOT_FOUND");
    assert_eq!(error.http_status(), 404);
    assert_eq!(
        code(store.status("port:9999", clock.now()).await),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn an_exclusive_claim_locks_until_released() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Port, "8080", 5).await;
    let deploy = Operation::new("deploy").exclusive().ttl(300);
    let held = store
        .claim("port:8080", "web", &deploy, clock.now())
        .await
        .unwrap();
    assert!(held.claim_id.starts_with("claim_"));
    assert_eq!(held.resource_id, "port:8080");
    assert_eq!(held.claimed_at, T0);
    assert_eq!(held.expires_at, Some(T0.plus_seconds(300)));

    // Even a compatible-looking read is refused while an exclusive claim is held.
    let error = store
        .claim("port:8080", "api", &Operation::new("read"), clock.now())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "RESOURCE_LOCKED");
    assert_eq!(error.http_status(), 409);
    assert_eq!(error.holders().len(), 1);
    assert_eq!(error.holders()[0].repository, "web");
    assert_eq!(error.details()["holders"][0]["claimId"], held.claim_id);

    store
        .release("port:8080", &held.claim_id, clock.now())
        .await
        .unwrap();
    store
        .claim("port:8080", "api", &Operation::new("read"), clock.now())
        .await
        .unwrap();
    // Wanting exclusivity while anything is held is also RESOURCE_LOCKED.
    assert_eq!(
        code(store.claim("port:8080", "web", &deploy, clock.now()).await),
        "RESOURCE_LOCKED"
    );
}

#[tokio::test]
async fn usage_never_exceeds_capacity() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Database, "reports", 2).await;
    let read = Operation::new("read");
    store
        .claim("database:reports", "a", &read, clock.now())
        .await
        .unwrap();
    store
        .claim(
            "database:reports",
            "b",
            &Operation::new("backup"),
            clock.now(),
        )
        .await
        .unwrap();
    let error = store
        .claim("database:reports", "c", &read, clock.now())
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::AtCapacity { capacity: 2, .. }));
    assert_eq!(error.holders().len(), 2);
}

/// The compatibility matrix through the store: each pair on a fresh resource of capacity 10.
#[tokio::test]
async fn compatibility_matrix_through_the_store() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    let kinds = [
        "read",
        "backup",
        "write",
        "deploy",
        "maintenance",
        "reindex",
    ];
    let coexist =
        |a: &str, b: &str| matches!(a, "read" | "backup") && matches!(b, "read" | "backup");
    for held in kinds {
        for wanted in kinds {
            let identifier = format!("{held}-{wanted}");
            register(&store, ResourceType::Custom, &identifier, 10).await;
            let id = format!("custom:{identifier}");
            store
                .claim(&id, "first", &Operation::new(held), clock.now())
                .await
                .unwrap();
            let second = store
                .claim(&id, "second", &Operation::new(wanted), clock.now())
                .await;
            if coexist(held, wanted) {
                assert!(second.is_ok(), "held {held}, wanted {wanted}: {second:?}");
            } else {
                assert_eq!(
                    second.map(|_| ()).unwrap_err().code(),
                    "INCOMPATIBLE_OPERATION",
                    "held {held}, wanted {wanted}"
                );
            }
        }
    }
}

#[tokio::test]
async fn operation_types_are_case_insensitive() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Volume, "logs", 3).await;
    let claim = store
        .claim("volume:logs", "a", &Operation::new("READ"), clock.now())
        .await
        .unwrap();
    assert_eq!(claim.operation.kind, "read");
    store
        .claim("volume:logs", "b", &Operation::new("Backup"), clock.now())
        .await
        .unwrap();
}

#[tokio::test]
async fn ttl_expiry_needs_no_sweep_and_no_sleep() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Port, "5432", 1).await;
    let lock = Operation::new("maintenance").exclusive().ttl(30);
    store
        .claim("port:5432", "db", &lock, clock.now())
        .await
        .unwrap();

    clock.advance(Duration::from_millis(29_999));
    assert_eq!(
        code(store.claim("port:5432", "other", &lock, clock.now()).await),
        "RESOURCE_LOCKED",
        "one millisecond before expiry the claim still holds"
    );
    let status = store.status("port:5432", clock.now()).await.unwrap();
    assert_eq!(status.current_usage, 1);

    clock.advance(Duration::from_millis(1));
    // Reads see it gone without any sweep having run.
    let status = store.status("port:5432", clock.now()).await.unwrap();
    assert_eq!(status.current_usage, 0);
    assert_eq!(status.available, 1);
    assert!(status.owners.is_empty());
    let listed = store
        .list(&ListFilter::default(), clock.now())
        .await
        .unwrap();
    assert_eq!(listed[0].current_usage, 0);
    // And a new claim gets it.
    let next = store
        .claim("port:5432", "other", &lock, clock.now())
        .await
        .unwrap();
    assert_eq!(next.repository, "other");
    // The claim that found the lapsed one cleaned it up, and said so in the history.
    let page = store
        .history(&HistoryQuery::of("port:5432", 10))
        .await
        .unwrap();
    let actions: Vec<HistoryAction> = page.entries.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            HistoryAction::Claimed,
            HistoryAction::Expired,
            HistoryAction::Claimed,
            HistoryAction::Registered
        ]
    );
    assert_eq!(page.entries[1].repository.as_deref(), Some("db"));
}

#[tokio::test]
async fn renew_extends_and_expired_claims_cannot_be_renewed() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Domain, "api.example.com", 1).await;
    let id = "domain:api.example.com";
    let claim = store
        .claim(id, "edge", &Operation::new("deploy").ttl(10), clock.now())
        .await
        .unwrap();

    clock.advance(Duration::from_secs(8));
    let renewed = store
        .renew(id, &claim.claim_id, 60, clock.now())
        .await
        .unwrap();
    assert_eq!(renewed.expires_at, Some(clock.now().plus_seconds(60)));
    assert_eq!(renewed.operation.ttl_seconds, Some(60));
    assert_eq!(renewed.claim_id, claim.claim_id);

    // Past the original expiry it still holds.
    clock.advance(Duration::from_secs(30));
    assert_eq!(
        code(
            store
                .claim(id, "other", &Operation::new("deploy"), clock.now())
                .await
        ),
        "INCOMPATIBLE_OPERATION"
    );
    // Past the renewed expiry it is gone, and cannot be renewed any more.
    clock.advance(Duration::from_secs(30));
    assert_eq!(
        code(store.renew(id, &claim.claim_id, 60, clock.now()).await),
        "NOT_FOUND"
    );
    assert_eq!(
        code(store.renew(id, "claim_nope", 60, clock.now()).await),
        "NOT_FOUND"
    );
    assert_eq!(
        code(store.renew(id, &claim.claim_id, 0, clock.now()).await),
        "VALIDATION_ERROR"
    );
}

#[tokio::test]
async fn release_is_not_found_for_unknown_expired_or_foreign_claims() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Port, "1", 1).await;
    register(&store, ResourceType::Port, "2", 1).await;
    let a = store
        .claim("port:1", "r", &Operation::new("write"), clock.now())
        .await
        .unwrap();
    // The claim id must belong to the resource named in the path.
    assert_eq!(
        code(store.release("port:2", &a.claim_id, clock.now()).await),
        "NOT_FOUND"
    );
    store
        .release("port:1", &a.claim_id, clock.now())
        .await
        .unwrap();
    assert_eq!(
        code(store.release("port:1", &a.claim_id, clock.now()).await),
        "NOT_FOUND"
    );

    let b = store
        .claim("port:1", "r", &Operation::new("write").ttl(5), clock.now())
        .await
        .unwrap();
    clock.advance(Duration::from_secs(5));
    assert_eq!(
        code(store.release("port:1", &b.claim_id, clock.now()).await),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn sweep_removes_expired_claims_and_records_them() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Volume, "tmp", 3).await;
    let now = clock.now();
    store
        .claim("volume:tmp", "a", &Operation::new("read").ttl(5), now)
        .await
        .unwrap();
    store
        .claim("volume:tmp", "b", &Operation::new("read").ttl(50), now)
        .await
        .unwrap();
    store
        .claim("volume:tmp", "c", &Operation::new("read"), now)
        .await
        .unwrap();

    assert_eq!(store.sweep_expired(clock.now()).await.unwrap(), 0);
    clock.advance(Duration::from_secs(5));
    assert_eq!(store.sweep_expired(clock.now()).await.unwrap(), 1);
    assert_eq!(store.sweep_expired(clock.now()).await.unwrap(), 0);
    clock.advance(Duration::from_secs(100));
    assert_eq!(store.sweep_expired(clock.now()).await.unwrap(), 1);

    let page = store
        .history(&HistoryQuery::of("volume:tmp", 10))
        .await
        .unwrap();
    let expired: Vec<&str> = page
        .entries
        .iter()
        .filter(|e| e.action == HistoryAction::Expired)
        .filter_map(|e| e.repository.as_deref())
        .collect();
    assert_eq!(expired, ["b", "a"], "newest first");
    assert_eq!(
        store
            .status("volume:tmp", clock.now())
            .await
            .unwrap()
            .owners,
        ["c"]
    );
}

#[tokio::test]
async fn refused_claims_leave_no_history() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Port, "22", 1).await;
    store
        .claim("port:22", "a", &Operation::new("write"), clock.now())
        .await
        .unwrap();
    let _ = store
        .claim("port:22", "b", &Operation::new("write"), clock.now())
        .await;
    let page = store
        .history(&HistoryQuery::of("port:22", 10))
        .await
        .unwrap();
    assert_eq!(page.total, 2, "registered + one claim");
}

