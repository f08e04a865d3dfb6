//! Jobs per second through the whole pipeline (request → reserve → lease → provider → blob →
//! render record → succeeded) on the embedded default, with the real Gemini client against a
//! local stub that answers at once with a ~256 KB image; one variant per job. Also the
//! process's resident memory as the job count grows, to show it stays flat.

use std::time::Instant;

use facetra_core::accounts::DevLogin;
use facetra_core::config::keys;
use facetra_core::studio::{JobStatus, RenderSpec, UploadKind};
use facetra_tests::gemini_stub::{GeminiStub, Reply};
use facetra_tests::{Backend, Harness};

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let total: usize = std::env::var("FACETRA_BENCH_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let stub = GeminiStub::start().await;
        stub.always(Reply::Sized(256 * 1024));
        stub.quiet();
        let credits = (total * 2).to_string();
        let extra = [
            (keys::DEV_LOGIN, "true"),
            (keys::TRIAL_CREDITS, credits.as_str()),
        ];
        let h = Harness::with_stub(Backend::Sqlite, stub.settings(), &extra).await;
        let req = DevLogin {
            email: "bench@example.com".into(),
            name: "Bench".into(),
            age_confirmed: true,
        };
        // The actor the server's handlers pass: the signed-in principal.
        let (_, token, _) = h
            .facetra
            .accounts()
            .dev_login(req, None)
            .await
            .expect("login");
        let me = h
            .facetra
            .accounts()
            .authenticate(&token)
            .await
            .expect("session")
            .actor();
        let sketch = h
            .facetra
            .studio()
            .upload(&me, UploadKind::Sketch, facetra_tests::images::png(64, 48))
            .await
            .expect("upload");
        let spec = RenderSpec {
            prompt: "bench".into(),
            sketch_id: sketch.id.to_string(),
            reference_ids: vec![],
            variants: 1,
            aspect_ratio: "1:1".into(),
            style: None,
            idempotency_key: None,
        };
        println!("| workers | jobs | jobs/s | RSS after (MB) |");
        println!("|---|---|---|---|");
        for workers in [1usize, 4] {
            let started = Instant::now();
            let mut checkpoints = Vec::new();
            let per_worker = total / workers;
            let mut tasks = Vec::new();
            for w in 0..workers {
                let (f, me, spec) = (h.facetra.clone(), me.clone(), spec.clone());
                tasks.push(tokio::spawn(async move {
                    let mut rss = Vec::new();
                    for i in 0..per_worker {
                        let job = f.studio().request(&me, &spec).await.expect("request");
                        let done = f
                            .studio()
                            .work_once(Some(&job.id))
                            .await
                            .expect("work")
                            .expect("a job");
                        assert_eq!(done.status, JobStatus::Succeeded);
                        if w == 0 && (i + 1) % (per_worker / 4).max(1) == 0 {
                            rss.push(((i + 1) * workers, rss_mb()));
                        }
                    }
                    rss
                }));
            }
            for t in tasks {
                checkpoints.extend(t.await.expect("worker"));
            }
            let rate = total as f64 / started.elapsed().as_secs_f64();
            println!("| {workers} | {total} | {rate:.0} | {:.0} |", rss_mb());
            for (n, mb) in checkpoints {
                eprintln!("  after ~{n} jobs: {mb:.0} MB");
            }
        }
        h.finish().await;
    });
}
