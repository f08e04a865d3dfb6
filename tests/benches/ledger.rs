//! Ledger appends per second on each backend, with one writer and with 16 concurrent writers
//! (each writer on its own account, as real traffic is spread over accounts). MongoDB runs when
//! FACETRA_TEST_MONGODB_URI is set. Results go into docs/BENCHMARKS.md.

use std::time::Instant;

use facetra_core::credits::{LedgerKind, NewLedgerEntry};
use facetra_core::ids::UserId;
use facetra_tests::{Backend, Harness};

async fn run(h: &Harness, writers: usize, per_writer: usize) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let f = h.facetra.clone();
        tasks.push(tokio::spawn(async move {
            let user = UserId::new(f.now());
            for i in 0..per_writer {
                let entry = NewLedgerEntry {
                    user_id: user.clone(),
                    kind: LedgerKind::Grant,
                    amount: 1,
                    reason: "bench".into(),
                    reference: None,
                    idempotency_key: format!("bench:{w}:{i}:{}", user),
                };
                f.store()
                    .ledger
                    .append_ledger(&entry, f.now())
                    .await
                    .expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    (writers * per_writer) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut backends = vec![(Backend::Sqlite, 20_000usize)];
        if std::env::var(facetra_tests::harness::MONGO_ENV).is_ok() {
            backends.push((Backend::Mongo, 1_600));
        }
        println!("| backend | writers | appends | appends/s |");
        println!("|---|---|---|---|");
        for (backend, total) in backends {
            for writers in [1usize, 16] {
                let h = Harness::new(backend).await;
                let rate = run(&h, writers, total / writers).await;
                println!("| {} | {writers} | {total} | {rate:.0} |", backend.name());
                h.finish().await;
            }
        }
    });
}
