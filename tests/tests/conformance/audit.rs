//! The audit chain on both backends: concurrent appends form one chain; a changed, inserted
//! or removed entry (the last one included) is caught and named.

use facetra_core::privacy::audit::{verify, AuditEntry, ChainBreak, NewAuditEntry};
use facetra_tests::{Backend, Harness};
use mongodb::bson::doc;
use serde_json::json;

use super::conformance;

conformance!(
    concurrent_audit_appends_form_one_contiguous_chain,
    the_audit_chain_catches_a_changed_entry,
    the_audit_chain_catches_a_removed_entry,
    the_audit_chain_catches_a_removed_last_entry,
    the_audit_chain_catches_an_inserted_entry,
);

fn entry(i: usize) -> NewAuditEntry {
    NewAuditEntry {
        actor: "admin:alice".into(),
        action: "user.set_roles".into(),
        target: Some(format!("usr_{i}")),
        details: json!({ "n": i }),
    }
}

async fn chain_of(backend: Backend, n: usize) -> Harness {
    let h = Harness::new(backend).await;
    for i in 0..n {
        h.facetra
            .store()
            .audit
            .append_audit(&entry(i), h.facetra.now())
            .await
            .unwrap();
    }
    h
}

/// Changes what the backend stores, bypassing the adapter (and SQLite's append-only triggers).
enum Tamper {
    SetDetails(u64, &'static str),
    Delete(u64),
    Insert(AuditEntry),
}

async fn tamper(h: &Harness, how: Tamper) {
    match h.backend {
        Backend::Sqlite => {
            let c = h.raw_sqlite();
            c.execute_batch("DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;").unwrap();
            match how {
                Tamper::SetDetails(seq, d) => {
                    c.execute(
                        "UPDATE audit_log SET details = ?2 WHERE seq = ?1",
                        rusqlite::params![seq as i64, d],
                    )
                    .unwrap();
                }
                Tamper::Delete(seq) => {
                    c.execute("DELETE FROM audit_log WHERE seq = ?1", [seq as i64])
                        .unwrap();
                }
                Tamper::Insert(e) => {
                    c.execute(
                        "INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        rusqlite::params![
                            e.seq as i64,
                            e.at.timestamp_millis(),
                            e.actor,
                            e.action,
                            e.target,
                            e.details.to_string(),
                            e.prev_hash,
                            e.hash
                        ],
                    )
                    .unwrap();
                }
            }
        }
        Backend::Mongo => {
            let (client, db) = h.raw_mongo().await;
            let log = db.collection::<mongodb::bson::Document>("audit_log");
            match how {
                Tamper::SetDetails(seq, d) => {
                    log.update_one(
                        doc! { "_id": seq as i64 },
                        doc! { "$set": { "details": d } },
                    )
                    .await
                    .unwrap();
                }
                Tamper::Delete(seq) => {
                    log.delete_one(doc! { "_id": seq as i64 }).await.unwrap();
                }
                Tamper::Insert(e) => {
                    log.insert_one(doc! {
                        "_id": e.seq as i64,
                        "at": mongodb::bson::DateTime::from_millis(e.at.timestamp_millis()),
                        "actor": e.actor, "action": e.action, "target": e.target,
                        "details": e.details.to_string(), "prev_hash": e.prev_hash, "hash": e.hash,
                    })
                    .await
                    .unwrap();
                }
            }
            client.shutdown().await;
        }
    }
}

async fn concurrent_audit_appends_form_one_contiguous_chain(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let f = h.facetra.clone();
        tasks.push(tokio::spawn(async move {
            f.store().audit.append_audit(&entry(i), f.now()).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let v = verify(h.facetra.store().audit.as_ref()).await.unwrap();
    assert_eq!(v.first_break, None);
    assert_eq!(v.entries, 24);
    let head = h.facetra.store().audit.audit_head().await.unwrap().unwrap();
    assert_eq!(head.seq, 24);
    h.finish().await;
}

async fn the_audit_chain_catches_a_changed_entry(backend: Backend) {
    let h = chain_of(backend, 5).await;
    tamper(&h, Tamper::SetDetails(3, r#"{"n":999}"#)).await;
    let v = verify(h.facetra.store().audit.as_ref()).await.unwrap();
    assert_eq!(v.first_break, Some(ChainBreak::Altered { seq: 3 }));
    h.finish().await;
}

async fn the_audit_chain_catches_a_removed_entry(backend: Backend) {
    let h = chain_of(backend, 5).await;
    tamper(&h, Tamper::Delete(2)).await;
    let v = verify(h.facetra.store().audit.as_ref()).await.unwrap();
    assert_eq!(v.first_break.as_ref().map(ChainBreak::seq), Some(2));
    h.finish().await;
}

async fn the_audit_chain_catches_a_removed_last_entry(backend: Backend) {
    let h = chain_of(backend, 5).await;
    tamper(&h, Tamper::Delete(5)).await;
    let v = verify(h.facetra.store().audit.as_ref()).await.unwrap();
    assert_eq!(
        v.first_break,
        Some(ChainBreak::Truncated {
            head_seq: 5,
            last_seq: 4
        })
    );
    assert_eq!(v.first_break.unwrap().seq(), 5);
    h.finish().await;
}

async fn the_audit_chain_catches_an_inserted_entry(backend: Backend) {
    let h = chain_of(backend, 3).await;
    let entries = h.facetra.store().audit.audit_entries(0, 10).await.unwrap();
    // A forged entry appended after the end, correctly sealed onto the last one: only the head
    // record knows it is not ours.
    let forged = AuditEntry::seal(
        Some((3, entries[2].hash.as_str())),
        &entry(77),
        h.facetra.now(),
    );
    tamper(&h, Tamper::Insert(forged)).await;
    let v = verify(h.facetra.store().audit.as_ref()).await.unwrap();
    assert_eq!(
        v.first_break,
        Some(ChainBreak::Unrecorded { seq: 4 }),
        "a sealed entry past the head"
    );
    // A forged entry in the middle breaks the link of the one after it.
    let h2 = chain_of(backend, 3).await;
    tamper(&h2, Tamper::Delete(2)).await;
    let e = h2.facetra.store().audit.audit_entries(0, 10).await.unwrap();
    let fake = AuditEntry::seal(Some((1, e[0].hash.as_str())), &entry(55), h2.facetra.now());
    tamper(&h2, Tamper::Insert(fake)).await;
    let v = verify(h2.facetra.store().audit.as_ref()).await.unwrap();
    assert_eq!(v.first_break, Some(ChainBreak::Unlinked { seq: 3 }));
    h.finish().await;
    h2.finish().await;
}
