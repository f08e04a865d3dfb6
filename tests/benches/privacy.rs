//! The DPO's heavy operations on the embedded default: the export of a person with many
//! renders (throughput against a plain copy of the same image files, and the heap's peak while
//! it runs) and the erasure of a person with many renders (seconds, against a plain copy of
//! their files). The renders are made by the real pipeline (the Gemini client against a local
//! stub that answers at once with an image of the size asked for).

use std::time::Instant;

use facetra_core::accounts::{DevLogin, Role};
use facetra_core::config::keys;
use facetra_core::privacy::erasure::EraseOptions;
use facetra_core::privacy::requests::RequestType;
use facetra_core::studio::{JobStatus, RenderSpec, UploadKind};
use facetra_tests::gemini_stub::{GeminiStub, Reply};
use facetra_tests::{Backend, Harness};

#[global_allocator]
static ALLOC: facetra_tests::alloc::Counting = facetra_tests::alloc::Counting;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// A harness with `renders` renders of `size` bytes each, made through the pipeline.
async fn studio(renders: usize, size: usize) -> (Harness, facetra_core::Actor, GeminiStub) {
    let stub = GeminiStub::start().await;
    stub.always(Reply::Sized(size));
    stub.quiet();
    let credits = (renders * 2).to_string();
    let extra = [
        (keys::DEV_LOGIN, "true"),
        (keys::TRIAL_CREDITS, credits.as_str()),
    ];
    let h = Harness::with_stub(Backend::Sqlite, stub.settings(), &extra).await;
    let login = DevLogin {
        email: "bench@example.com".into(),
        name: "Bench Person".into(),
        age_confirmed: true,
    };
    let (user, _, _) = h
        .facetra
        .accounts()
        .dev_login(login, None)
        .await
        .expect("login");
    let me = facetra_core::Actor::User(user.id);
    let studio = h.facetra.studio();
    let sketch = studio
        .upload(&me, UploadKind::Sketch, facetra_tests::images::png(64, 48))
        .await
        .expect("upload");
    let spec = RenderSpec {
        prompt: "bench".into(),
        sketch_id: sketch.id.to_string(),
        reference_ids: vec![],
        variants: 4,
        aspect_ratio: "1:1".into(),
        style: None,
        idempotency_key: None,
    };
    for _ in 0..renders.div_ceil(4) {
        let job = studio.request(&me, &spec).await.expect("request");
        let done = studio
            .work_once(Some(&job.id))
            .await
            .expect("work")
            .expect("a job");
        assert_eq!(done.status, JobStatus::Succeeded);
    }
    (h, me, stub)
}

/// Copies every blob file of the studio to `to`, one after the other; (bytes, seconds).
fn copy_blobs(h: &Harness, to: &std::path::Path) -> (u64, f64) {
    let started = Instant::now();
    let mut bytes = 0;
    std::fs::create_dir_all(to).expect("copy dir");
    for (i, f) in facetra_tests::harness::walk(&h.dir.path().join("blobs"))
        .iter()
        .enumerate()
    {
        bytes += std::fs::copy(f, to.join(i.to_string())).expect("copy");
    }
    let mut sync = std::fs::File::open(to).expect("dir");
    let _ = std::io::Write::flush(&mut sync);
    (bytes, started.elapsed().as_secs_f64())
}

fn main() {
    let export_renders = env("FACETRA_BENCH_EXPORT_RENDERS", 2000);
    let erase_renders = env("FACETRA_BENCH_ERASE_RENDERS", 10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Export: about 1 GB of renders.
        let made = Instant::now();
        let (h, me, _stub) = studio(export_renders, 512 * 1024).await;
        eprintln!("made {export_renders} renders in {:.0} s", made.elapsed().as_secs_f64());
        let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
        let privacy = h.facetra.privacy();
        let user = h.facetra.accounts().me(&me).await.expect("me");
        let r = privacy
            .open_request(&dpo, user.email.as_str(), RequestType::Access, None)
            .await
            .expect("open");
        privacy
            .verify_override(&dpo, r.id.as_str(), "bench")
            .await
            .expect("verify");
        let scratch = tempfile::tempdir().expect("scratch");
        println!("| round | copy MB/s | export MB/s | export ÷ copy | export heap peak (MB) | ZIP (MB) |");
        println!("|---|---|---|---|---|---|");
        for round in 1..=2 {
            let (bytes, secs) = copy_blobs(&h, &scratch.path().join(format!("copy{round}")));
            let copy_rate = bytes as f64 / secs / 1e6;
            let out = scratch.path().join(format!("export{round}.zip"));
            let file = tokio::fs::File::create(&out).await.expect("zip file");
            facetra_tests::alloc::reset_peak();
            let base = facetra_tests::alloc::live();
            let started = Instant::now();
            let (file, summary) = privacy
                .export_request(&dpo, r.id.as_str(), file)
                .await
                .expect("export");
            // Both sides end in the page cache (neither the copy nor this waits for the disk).
            let secs = started.elapsed().as_secs_f64();
            drop(file);
            let peak = facetra_tests::alloc::peak().saturating_sub(base) as f64 / 1e6;
            let rate = summary.bytes as f64 / secs / 1e6;
            println!(
                "| {round} | {copy_rate:.0} | {rate:.0} | {:.2} | {peak:.1} | {:.0} |",
                rate / copy_rate,
                summary.bytes as f64 / 1e6
            );
            let _ = std::fs::remove_file(&out);
            let _ = std::fs::remove_dir_all(scratch.path().join(format!("copy{round}")));
        }
        h.finish().await;

        // Erasure: many small renders.
        let made = Instant::now();
        let (h, me, _stub) = studio(erase_renders, 16 * 1024).await;
        eprintln!("made {erase_renders} renders in {:.0} s", made.elapsed().as_secs_f64());
        let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
        let privacy = h.facetra.privacy();
        let user = h.facetra.accounts().me(&me).await.expect("me");
        let (bytes, copy_secs) = copy_blobs(&h, &scratch.path().join("erase-copy"));
        let r = privacy
            .open_request(&dpo, user.email.as_str(), RequestType::Erasure, None)
            .await
            .expect("open");
        privacy
            .verify_override(&dpo, r.id.as_str(), "bench")
            .await
            .expect("verify");
        let started = Instant::now();
        let report = privacy
            .erase(
                &dpo,
                r.id.as_str(),
                EraseOptions {
                    dry_run: false,
                    forfeit_credits: true,
                },
                &|_| {},
            )
            .await
            .expect("erase");
        let secs = started.elapsed().as_secs_f64();
        let (removed, _, _) = report.totals();
        println!();
        println!("| renders | records removed | erase (s) | copy of the same files (s) | erase ÷ copy |");
        println!("|---|---|---|---|---|");
        println!(
            "| {erase_renders} | {removed} | {secs:.1} | {copy_secs:.1} ({:.0} MB) | {:.1} |",
            bytes as f64 / 1e6,
            secs / copy_secs
        );
        h.finish().await;
    });
}
