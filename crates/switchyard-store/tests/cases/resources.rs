// Included by `tests/ledger.rs` once per engine, after `common.rs`.

#[tokio::test]
async fn register_is_idempotent_and_capacity_changes_keep_claims() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    let reg =
        Registration::new(ResourceType::Volume, "pgdata").with_metadata(json!({"owner": "db"}));

    let first = store.register(&reg, clock.now()).await.unwrap();
    assert_eq!(first.outcome, RegisterOutcome::Created);
    assert_eq!(first.outcome.http_status(), 201);
    assert_eq!(first.resource.id, "volume:pgdata");
    assert_eq!(first.resource.capacity, 1);
    assert_eq!(first.resource.registered_at, T0);

    clock.advance(Duration::from_secs(1));
    let again = store.register(&reg, clock.now()).await.unwrap();
    assert_eq!(again.outcome, RegisterOutcome::Exists);
    assert_eq!(again.outcome.http_status(), 200);
    assert_eq!(again.resource, first.resource, "identical: nothing changes");
    // Omitted metadata means "keep": still identical.
    let without_meta = Registration::new(ResourceType::Volume, "pgdata");
    let same = store.register(&without_meta, clock.now()).await.unwrap();
    assert_eq!(same.outcome, RegisterOutcome::Exists);
    assert_eq!(same.resource.metadata, json!({"owner": "db"}));

    let claim = store
        .claim("volume:pgdata", "api", &Operation::new("read"), clock.now())
        .await
        .unwrap();
    let bigger = store
        .register(&reg.clone().with_capacity(3), clock.now())
        .await
        .unwrap();
    assert_eq!(bigger.outcome, RegisterOutcome::Updated);
    assert_eq!(bigger.resource.capacity, 3);
    assert_eq!(
        bigger.resource.registered_at, T0,
        "registration time is kept"
    );

    let status = store.status("volume:pgdata", clock.now()).await.unwrap();
    assert_eq!(status.resource.capacity, 3);
    assert_eq!(status.current_usage, 1);
    assert_eq!(status.available, 2);
    assert_eq!(status.claims[0].claim_id, claim.claim_id, "claims survive");
}

#[tokio::test]
async fn lowering_capacity_below_live_usage_is_refused() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Volume, "media", 3).await;
    for repo in ["a", "b"] {
        store
            .claim("volume:media", repo, &Operation::new("read"), clock.now())
            .await
            .unwrap();
    }
    let shrink = Registration::new(ResourceType::Volume, "media").with_capacity(1);
    let error = store.register(&shrink, clock.now()).await.unwrap_err();
    assert!(matches!(
        error,
        StoreError::CapacityBelowUsage {
            requested: 1,
            usage: 2,
            ..
        }
    ));
    assert_eq!(error.http_status(), 409);
    assert_eq!(error.code(), "RESOURCE_CONFLICTS");
    // Down to exactly the usage is fine.
    let to_two = shrink.clone().with_capacity(2);
    assert_eq!(
        store.register(&to_two, clock.now()).await.unwrap().outcome,
        RegisterOutcome::Updated
    );
    assert_eq!(
        store
            .status("volume:media", clock.now())
            .await
            .unwrap()
            .resource
            .capacity,
        2
    );
}

#[tokio::test]
async fn expired_claims_do_not_hold_capacity_for_a_shrink() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Volume, "cache", 2).await;
    for _ in 0..2 {
        store
            .claim(
                "volume:cache",
                "w",
                &Operation::new("read").ttl(10),
                clock.now(),
            )
            .await
            .unwrap();
    }
    clock.advance(Duration::from_secs(10));
    let shrink = Registration::new(ResourceType::Volume, "cache").with_capacity(1);
    store.register(&shrink, clock.now()).await.unwrap();
}

#[tokio::test]
async fn bad_input_is_a_validation_error() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    let now = clock.now();
    assert!(matches!(
        store
            .claim("printer:lp0", "a", &Operation::new("read"), now)
            .await,
        Err(StoreError::UnknownResourceType { .. })
    ));
    assert_eq!(
        code(
            store
                .register(
                    &Registration::new(ResourceType::Port, "").with_capacity(1),
                    now
                )
                .await
        ),
        "VALIDATION_ERROR"
    );
    assert_eq!(
        code(
            store
                .register(
                    &Registration::new(ResourceType::Port, "80").with_capacity(0),
                    now
                )
                .await
        ),
        "VALIDATION_ERROR"
    );
    register(&store, ResourceType::Port, "80", 1).await;
    assert_eq!(
        code(
            store
                .claim("port:80", "", &Operation::new("read"), now)
                .await
        ),
        "VALIDATION_ERROR"
    );
    assert_eq!(
        code(
            store
                .claim("port:80", "a", &Operation::new("read").ttl(0), now)
                .await
        ),
        "VALIDATION_ERROR"
    );
    assert_eq!(
        code(store.history(&HistoryQuery::all(0)).await),
        "VALIDATION_ERROR"
    );
}

#[tokio::test]
async fn delete_is_refused_while_claimed() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Certificate, "wildcard", 1).await;
    let id = "certificate:wildcard";
    let claim = store
        .claim(id, "edge", &Operation::new("read"), clock.now())
        .await
        .unwrap();
    let error = store.delete_resource(id, clock.now()).await.unwrap_err();
    assert!(matches!(error, StoreError::StillClaimed { .. }));
    assert_eq!(error.http_status(), 409);
    assert_eq!(error.holders()[0].claim_id, claim.claim_id);

    store
        .release(id, &claim.claim_id, clock.now())
        .await
        .unwrap();
    store.delete_resource(id, clock.now()).await.unwrap();
    assert_eq!(code(store.status(id, clock.now()).await), "NOT_FOUND");
    assert_eq!(
        code(store.delete_resource(id, clock.now()).await),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn delete_succeeds_when_only_expired_claims_remain() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Network, "edge", 1).await;
    store
        .claim(
            "network:edge",
            "a",
            &Operation::new("write").ttl(1),
            clock.now(),
        )
        .await
        .unwrap();
    clock.advance(Duration::from_secs(1));
    store
        .delete_resource("network:edge", clock.now())
        .await
        .unwrap();
}

#[tokio::test]
async fn list_filters_by_type_and_repository_and_counts_live_claims() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    register(&store, ResourceType::Port, "80", 1).await;
    register(&store, ResourceType::Port, "443", 1).await;
    register(&store, ResourceType::Volume, "data", 4).await;
    let now = clock.now();
    store
        .claim("port:80", "web", &Operation::new("deploy"), now)
        .await
        .unwrap();
    store
        .claim("volume:data", "web", &Operation::new("read"), now)
        .await
        .unwrap();
    store
        .claim("volume:data", "web", &Operation::new("read"), now)
        .await
        .unwrap();
    store
        .claim(
            "volume:data",
            "backup",
            &Operation::new("backup").ttl(1),
            now,
        )
        .await
        .unwrap();

    let all = store.list(&ListFilter::default(), now).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|s| s.resource.id.as_str()).collect();
    assert_eq!(ids, ["port:443", "port:80", "volume:data"]);
    let data = &all[2];
    assert_eq!(data.current_usage, 3);
    assert_eq!(data.available, 1);
    assert_eq!(
        data.owners,
        ["backup", "web"],
        "owners are distinct and sorted"
    );

    let ports = ListFilter {
        resource_type: Some(ResourceType::Port),
        repository: None,
    };
    assert_eq!(store.list(&ports, now).await.unwrap().len(), 2);

    let of_web = ListFilter {
        resource_type: None,
        repository: Some("web".into()),
    };
    let web: Vec<String> = store
        .list(&of_web, now)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.resource.id)
        .collect();
    assert_eq!(web, ["port:80", "volume:data"]);

    // The backup claim expires: "backup" no longer holds anything.
    clock.advance(Duration::from_secs(1));
    let of_backup = ListFilter {
        resource_type: None,
        repository: Some("backup".into()),
    };
    assert!(
        store
            .list(&of_backup, clock.now())
            .await
            .unwrap()
            .is_empty()
    );
    let data = store.status("volume:data", clock.now()).await.unwrap();
    assert_eq!(data.current_usage, 2);
    assert_eq!(data.owners, ["web"]);
}

#[tokio::test]
async fn history_records_every_change_with_rfc3339_times() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    let id = "port:3000";
    let reg = Registration::new(ResourceType::Port, "3000");
    store.register(&reg, clock.now()).await.unwrap();
    store.register(&reg, clock.now()).await.unwrap(); // identical: not a change
    clock.advance(Duration::from_secs(1));
    store
        .register(&reg.clone().with_capacity(2), clock.now())
        .await
        .unwrap();
    store
        .register(
            &reg.clone()
                .with_capacity(2)
                .with_metadata(json!({"team": "web"})),
            clock.now(),
        )
        .await
        .unwrap();
    clock.advance(Duration::from_secs(1));
    let a = store
        .claim(id, "web", &Operation::new("read").ttl(10), clock.now())
        .await
        .unwrap();
    let b = store
        .claim(id, "api", &Operation::new("read").ttl(5), clock.now())
        .await
        .unwrap();
    clock.advance(Duration::from_secs(1));
    store.renew(id, &a.claim_id, 20, clock.now()).await.unwrap();
    store.release(id, &a.claim_id, clock.now()).await.unwrap();
    clock.advance(Duration::from_secs(10));
    store.sweep_expired(clock.now()).await.unwrap();
    store.delete_resource(id, clock.now()).await.unwrap();

    let page = store.history(&HistoryQuery::of(id, 100)).await.unwrap();
    let mut actions: Vec<HistoryAction> = page.entries.iter().map(|e| e.action).collect();
    actions.reverse();
    assert_eq!(
        actions,
        [
            HistoryAction::Registered,
            HistoryAction::CapacityChanged,
            HistoryAction::MetadataChanged,
            HistoryAction::Claimed,
            HistoryAction::Claimed,
            HistoryAction::Renewed,
            HistoryAction::Released,
            HistoryAction::Expired,
            HistoryAction::Deleted,
        ]
    );
    assert_eq!(page.total, 9);
    assert!(!page.has_more());
    let oldest = page.entries.last().unwrap();
    assert_eq!(oldest.at, T0);
    assert_eq!(
        serde_json::to_value(oldest).unwrap()["at"],
        "2024-05-01T12:00:00.000Z"
    );
    let capacity = page
        .entries
        .iter()
        .find(|e| e.action == HistoryAction::CapacityChanged)
        .unwrap();
    assert_eq!(capacity.details, json!({"from": 1, "to": 2}));
    let expired = page
        .entries
        .iter()
        .find(|e| e.action == HistoryAction::Expired)
        .unwrap();
    assert_eq!(expired.claim_id.as_deref(), Some(b.claim_id.as_str()));
    let seqs: Vec<i64> = page.entries.iter().map(|e| e.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );

    // Pagination.
    let second = store
        .history(&HistoryQuery {
            resource_id: Some(id.into()),
            limit: 4,
            offset: 4,
        })
        .await
        .unwrap();
    assert_eq!(second.entries.len(), 4);
    assert_eq!(second.entries[0].seq, page.entries[4].seq);
    assert!(second.has_more());
    // Other resources are filtered out; the unfiltered history sees everything.
    register(&store, ResourceType::Port, "9", 1).await;
    assert_eq!(
        store
            .history(&HistoryQuery::of(id, 100))
            .await
            .unwrap()
            .total,
        9
    );
    assert_eq!(
        store.history(&HistoryQuery::all(100)).await.unwrap().total,
        10
    );
}

#[tokio::test]
async fn the_store_works_behind_a_trait_object() {
    let Some((_dir, store, clock)) = fresh().await else {
        return;
    };
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::from(store);
    let reg = Registration::new(ResourceType::Custom, "nightly-lock");
    store.register(&reg, clock.now()).await.unwrap();
    let claim = store
        .claim(
            "custom:nightly-lock",
            "ops",
            &Operation::new("maintenance"),
            clock.now(),
        )
        .await
        .unwrap();
    store
        .release("custom:nightly-lock", &claim.claim_id, clock.now())
        .await
        .unwrap();
}
