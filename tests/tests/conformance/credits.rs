//! The credit ledger on both backends: concurrent appends never overdraw an account nor apply
//! a key twice; replays return the first result; `verify` replays every ledger.

use std::collections::HashMap;

use facetra_core::credits::{Appended, LedgerKind, NewLedgerEntry};
use facetra_core::ids::UserId;
use facetra_core::paging::PageRequest;
use facetra_core::Error;
use facetra_tests::{Backend, Harness};
use mongodb::bson::doc;

use super::conformance;

conformance!(
    sixty_four_concurrent_appends_never_overdraw_nor_apply_a_key_twice,
    a_repeated_key_returns_the_first_result_and_a_changed_one_conflicts,
    the_ledger_pages_newest_first_and_verify_catches_a_wrong_balance,
);

fn change(user: &UserId, amount: i64, key: &str) -> NewLedgerEntry {
    NewLedgerEntry {
        user_id: user.clone(),
        kind: if amount < 0 {
            LedgerKind::Render
        } else {
            LedgerKind::Grant
        },
        amount,
        reason: "test".into(),
        reference: None,
        idempotency_key: key.into(),
    }
}

async fn sixty_four_concurrent_appends_never_overdraw_nor_apply_a_key_twice(backend: Backend) {
    let h = Harness::new(backend).await;
    let user = UserId::new(h.facetra.now());
    let ledger = h.facetra.store().ledger.clone();
    ledger
        .append_ledger(&change(&user, 10, "seed"), h.facetra.now())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (ledger, user, at) = (ledger.clone(), user.clone(), h.facetra.now());
        // 48 charges over 36 keys (12 repeated), 16 top-ups.
        let (amount, key) = if i < 48 {
            (-1, format!("charge:{}", i % 36))
        } else {
            (1, format!("top:{i}"))
        };
        tasks.push(tokio::spawn(async move {
            (
                key.clone(),
                ledger.append_ledger(&change(&user, amount, &key), at).await,
            )
        }));
    }
    let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
    for t in tasks {
        let (key, result) = t.await.unwrap();
        match result {
            Ok(appended) => by_key
                .entry(key)
                .or_default()
                .push(appended.entry().id.to_string()),
            Err(Error::InsufficientCredits { .. }) => {}
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    for (key, ids) in &by_key {
        assert!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "key {key} gave different entries: {ids:?}"
        );
    }
    let entries = ledger.ledger_entries(&user, 0, 1000).await.unwrap();
    let mut keys: Vec<&str> = entries.iter().map(|e| e.idempotency_key.as_str()).collect();
    let total = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), total, "an idempotency key was applied twice");
    let sum: i64 = entries.iter().map(|e| e.amount).sum();
    let balance = ledger.balance(&user).await.unwrap();
    assert_eq!(balance, sum, "the balance equals the sum of the entries");
    assert!(
        entries.iter().all(|e| e.balance_after >= 0),
        "the balance went below zero"
    );
    assert_eq!(
        entries.iter().filter(|e| e.amount > 0).count(),
        17,
        "every top-up applied once"
    );
    let report = h.facetra.credits().verify(&h.admin().await).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.entries as usize, total);
    h.finish().await;
}

async fn a_repeated_key_returns_the_first_result_and_a_changed_one_conflicts(backend: Backend) {
    let h = Harness::new(backend).await;
    let user = UserId::new(h.facetra.now());
    let ledger = &h.facetra.store().ledger;
    let first = ledger
        .append_ledger(&change(&user, 5, "purchase:pay_1"), h.facetra.now())
        .await
        .unwrap();
    assert!(matches!(first, Appended::Applied(_)));
    let again = ledger
        .append_ledger(&change(&user, 5, "purchase:pay_1"), h.facetra.now())
        .await
        .unwrap();
    assert_eq!(again, Appended::Replayed(first.entry().clone()));
    assert!(matches!(
        ledger
            .append_ledger(&change(&user, 7, "purchase:pay_1"), h.facetra.now())
            .await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        ledger
            .append_ledger(&change(&user, -6, "render:1"), h.facetra.now())
            .await,
        Err(Error::InsufficientCredits {
            needed: 6,
            balance: 5
        })
    ));
    assert_eq!(ledger.balance(&user).await.unwrap(), 5);
    assert_eq!(
        ledger
            .ledger_entry_by_key("purchase:pay_1")
            .await
            .unwrap()
            .unwrap()
            .id,
        first.entry().id
    );
    h.finish().await;
}

async fn the_ledger_pages_newest_first_and_verify_catches_a_wrong_balance(backend: Backend) {
    let h = Harness::new(backend).await;
    let user = UserId::new(h.facetra.now());
    let ledger = &h.facetra.store().ledger;
    for i in 0..5 {
        h.clock.advance(chrono::Duration::seconds(1));
        ledger
            .append_ledger(&change(&user, i + 1, &format!("k{i}")), h.facetra.now())
            .await
            .unwrap();
    }
    let first = ledger
        .ledger_page(
            &user,
            &PageRequest {
                after: None,
                limit: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        first.items.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![5, 4, 3]
    );
    let rest = ledger
        .ledger_page(
            &user,
            &PageRequest {
                after: first.next,
                limit: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert!(rest.next.is_none());
    assert!(h
        .facetra
        .credits()
        .verify(&h.admin().await)
        .await
        .unwrap()
        .problems
        .is_empty());

    match backend {
        Backend::Sqlite => {
            h.raw_sqlite()
                .execute("UPDATE ledger SET balance_after = 99 WHERE seq = 3", [])
                .unwrap();
        }
        Backend::Mongo => {
            let (client, db) = h.raw_mongo().await;
            db.collection::<mongodb::bson::Document>("ledger")
                .update_one(
                    doc! { "seq": 3_i64 },
                    doc! { "$set": { "balance_after": 99_i64 } },
                )
                .await
                .unwrap();
            client.shutdown().await;
        }
    }
    let report = h.facetra.credits().verify(&h.admin().await).await.unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].seq, 3);
    assert_eq!(report.problems[0].user_id, user);
    h.finish().await;
}
