//! Render jobs on both backends with the local renderer: reservations never overdraw, every
//! variant is finished once (charged with its render, or refunded), a crashed worker's job is
//! taken up again or refunded, and jobs are private.

use chrono::Duration;
use facetra_core::accounts::DevLogin;
use facetra_core::config::keys;
use facetra_core::credits::LedgerKind;
use facetra_core::ids::JobId;
use facetra_core::lease::{Lease, Queue};
use facetra_core::paging::PageRequest;
use facetra_core::studio::jobs::VariantOutcome;
use facetra_core::studio::{JobStatus, RenderSpec, UploadKind, VariantStatus};
use facetra_core::{Actor, Error};
use facetra_tests::images::png;
use facetra_tests::{Backend, Harness};

use super::conformance;

conformance!(
    fifteen_concurrent_one_credit_renders_on_five_credits_accept_exactly_five,
    a_job_renders_each_variant_once_with_its_provenance,
    a_crashed_workers_job_is_taken_up_again_and_after_three_leases_refunded,
    cancelling_refunds_the_variants_not_started_and_jobs_are_private,
    a_lease_on_a_job_cancelled_meanwhile_is_not_renewed,
    a_variant_is_finished_once_and_a_second_finish_is_refused,
    refunds_are_priced_from_the_reservation_after_the_cost_changes,
    an_idempotency_key_reused_for_another_request_is_a_conflict,
    a_store_error_while_loading_inputs_is_retried_not_failed,
    two_workers_claiming_at_once_never_take_the_same_job,
    paging_120_renders_by_50_returns_each_exactly_once,
);

async fn studio(backend: Backend, trial: &str) -> (Harness, Actor, String) {
    let h = Harness::with(
        backend,
        &[(keys::DEV_LOGIN, "true"), (keys::TRIAL_CREDITS, trial)],
    )
    .await;
    let req = DevLogin {
        email: "designer@example.com".into(),
        name: "Designer".into(),
        age_confirmed: true,
    };
    let me = Actor::User(
        h.facetra
            .accounts()
            .dev_login(req, None)
            .await
            .unwrap()
            .0
            .id,
    );
    let sketch = h
        .facetra
        .studio()
        .upload(&me, UploadKind::Sketch, png(160, 120))
        .await
        .unwrap();
    (h, me, sketch.id.to_string())
}

fn spec(sketch: &str, variants: u32) -> RenderSpec {
    RenderSpec {
        prompt: "an oak dining table with brass legs".into(),
        sketch_id: sketch.into(),
        reference_ids: vec![],
        variants,
        aspect_ratio: "4:3".into(),
        style: None,
        idempotency_key: None,
    }
}

/// A render record for one variant of `job` (no image behind it: for tests of the record).
fn render_record(
    job: &facetra_core::studio::Job,
    variant: u32,
    at: facetra_core::Timestamp,
) -> facetra_core::studio::Render {
    facetra_core::studio::Render {
        id: facetra_core::ids::RenderId::new(at),
        job_id: job.id.clone(),
        user_id: job.user_id.clone(),
        variant,
        blob_id: facetra_core::ids::BlobId::new(),
        mime: "image/png".into(),
        width: 1,
        height: 1,
        selected: false,
        provenance: facetra_core::studio::jobs::Provenance {
            provider: "local".into(),
            model: "m".into(),
            prompt: "p".into(),
            inputs_sha256: vec![],
            params: serde_json::json!({}),
            finish_reason: "STOP".into(),
            usage: serde_json::json!({}),
        },
        created_at: at,
    }
}

async fn ledger_kinds(h: &Harness, me: &Actor) -> Vec<(LedgerKind, i64)> {
    let page = h
        .facetra
        .credits()
        .transactions(me, &PageRequest::first())
        .await
        .unwrap();
    page.items.iter().map(|e| (e.kind, e.amount)).collect()
}

async fn fifteen_concurrent_one_credit_renders_on_five_credits_accept_exactly_five(
    backend: Backend,
) {
    let (h, me, sketch) = studio(backend, "5").await;
    let mut tasks = Vec::new();
    for _ in 0..15 {
        let (f, me, s) = (h.facetra.clone(), me.clone(), spec(&sketch, 1));
        tasks.push(tokio::spawn(
            async move { f.studio().request(&me, &s).await },
        ));
    }
    let (mut accepted, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(Error::InsufficientCredits { .. }) => refused += 1,
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!((accepted, refused), (5, 10));
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 0);
    assert_eq!(
        h.facetra
            .studio()
            .jobs(&me, &PageRequest::first())
            .await
            .unwrap()
            .items
            .len(),
        5
    );
    h.finish().await;
}

async fn a_job_renders_each_variant_once_with_its_provenance(backend: Backend) {
    let (h, me, sketch) = studio(backend, "10").await;
    let studio = h.facetra.studio();
    assert_eq!(studio.quote(&me, &spec(&sketch, 3)).await.unwrap(), 3);
    assert_eq!(
        h.facetra.credits().balance(&me).await.unwrap(),
        10,
        "a quote reserves nothing"
    );
    let job = studio.request(&me, &spec(&sketch, 2)).await.unwrap();
    assert_eq!((job.status, job.credits_reserved), (JobStatus::Queued, 2));
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 8);
    let done = studio.work_once(Some(&job.id)).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    assert!(done.status_seq > job.status_seq);
    assert_eq!((done.credits_charged, done.credits_refunded), (2, 0));
    assert!(done
        .variants
        .iter()
        .all(|v| v.status == VariantStatus::Succeeded && v.render_id.is_some()));
    let renders = studio.job_renders(&me, job.id.as_str()).await.unwrap();
    assert_eq!(renders.len(), 2);
    let upload = studio.get_upload(&me, &sketch).await.unwrap();
    for (r, bytes) in &renders {
        assert_eq!(r.provenance.provider, "local");
        assert_eq!(r.provenance.inputs_sha256, vec![upload.sha256.clone()]);
        assert_eq!(r.provenance.prompt, "an oak dining table with brass legs");
        assert_eq!((r.width, r.height), (1024, 768));
        image::load_from_memory(bytes).expect("a real image");
    }
    assert_ne!(renders[0].1, renders[1].1, "variants differ");
    assert!(
        studio.work_once(Some(&job.id)).await.unwrap().is_none(),
        "a finished job is not worked again"
    );
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 8);
    // A repeated client key returns the first job and reserves nothing more.
    let mut keyed = spec(&sketch, 1);
    keyed.idempotency_key = Some("click-1".into());
    let a = studio.request(&me, &keyed).await.unwrap();
    let b = studio.request(&me, &keyed).await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 7);
    h.finish().await;
}

async fn a_crashed_workers_job_is_taken_up_again_and_after_three_leases_refunded(backend: Backend) {
    let (h, me, sketch) = studio(backend, "10").await;
    let studio = h.facetra.studio();
    let leases = &h.facetra.store().leases;
    let dead = |h: &Harness| Lease {
        holder: "dead-worker".into(),
        until: h.facetra.now() + Duration::seconds(60),
    };
    // A worker leased the job and died: nobody else may take it until the lease expires.
    let job = studio.request(&me, &spec(&sketch, 2)).await.unwrap();
    leases
        .claim(
            Queue::Jobs,
            h.facetra.now(),
            &dead(&h),
            Some(job.id.as_str()),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(studio.work_once(Some(&job.id)).await.unwrap().is_none());
    h.clock.advance(Duration::seconds(61));
    let done = studio.work_once(Some(&job.id)).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 8);

    // Leased and lost three times: the fourth lease fails it and refunds every variant.
    let doomed = studio.request(&me, &spec(&sketch, 3)).await.unwrap();
    for _ in 0..3 {
        leases
            .claim(
                Queue::Jobs,
                h.facetra.now(),
                &dead(&h),
                Some(doomed.id.as_str()),
            )
            .await
            .unwrap()
            .unwrap();
        h.clock.advance(Duration::seconds(61));
    }
    let failed = studio.work_once(Some(&doomed.id)).await.unwrap().unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!((failed.credits_charged, failed.credits_refunded), (0, 3));
    assert!(failed
        .variants
        .iter()
        .all(|v| v.status == VariantStatus::Failed && v.reason.is_some()));
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 8);
    // No variant is both charged and refunded: refunds name each variant once.
    let refunds = ledger_kinds(&h, &me)
        .await
        .into_iter()
        .filter(|(k, _)| *k == LedgerKind::Refund)
        .count();
    assert_eq!(refunds, 3);
    let staff = h.admin().await;
    assert!(h
        .facetra
        .credits()
        .verify(&staff)
        .await
        .unwrap()
        .problems
        .is_empty());
    h.finish().await;
}

async fn cancelling_refunds_the_variants_not_started_and_jobs_are_private(backend: Backend) {
    let (h, me, sketch) = studio(backend, "10").await;
    let studio = h.facetra.studio();
    let job = studio.request(&me, &spec(&sketch, 4)).await.unwrap();
    let other_req = DevLogin {
        email: "other@example.com".into(),
        name: "O".into(),
        age_confirmed: true,
    };
    let other = Actor::User(
        h.facetra
            .accounts()
            .dev_login(other_req, None)
            .await
            .unwrap()
            .0
            .id,
    );
    assert!(matches!(
        studio.job(&other, job.id.as_str()).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        studio.cancel(&other, job.id.as_str()).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        studio.job_renders(&other, job.id.as_str()).await,
        Err(Error::NotFound(_))
    ));
    assert!(studio
        .jobs(&other, &PageRequest::first())
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(
        matches!(
            studio.request(&other, &spec(&sketch, 1)).await,
            Err(Error::NotFound(_))
        ),
        "another user's sketch"
    );
    let cancelled = studio.cancel(&me, job.id.as_str()).await.unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert_eq!(cancelled.credits_refunded, 4);
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 10);
    assert!(studio
        .work_once(Some(&cancelled.id))
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        studio.job(&me, JobId::new(h.facetra.now()).as_str()).await,
        Err(Error::NotFound(_))
    ));
    h.finish().await;
}

/// The worker checks its lease before each variant; a job cancelled while it works is not
/// its to go on with (the renewal is the check: the worker reads the job no more).
async fn a_lease_on_a_job_cancelled_meanwhile_is_not_renewed(backend: Backend) {
    let (h, me, sketch) = studio(backend, "10").await;
    let studio = h.facetra.studio();
    let leases = &h.facetra.store().leases;
    let lease = Lease {
        holder: "worker".into(),
        until: h.facetra.now() + Duration::seconds(60),
    };
    let job = studio.request(&me, &spec(&sketch, 2)).await.unwrap();
    leases
        .claim(Queue::Jobs, h.facetra.now(), &lease, Some(job.id.as_str()))
        .await
        .unwrap()
        .unwrap();
    assert!(leases
        .renew(Queue::Jobs, job.id.as_str(), &lease)
        .await
        .unwrap());
    let other = Lease {
        holder: "someone-else".into(),
        ..lease.clone()
    };
    assert!(!leases
        .renew(Queue::Jobs, job.id.as_str(), &other)
        .await
        .unwrap());
    studio.cancel(&me, job.id.as_str()).await.unwrap();
    assert!(
        !leases
            .renew(Queue::Jobs, job.id.as_str(), &lease)
            .await
            .unwrap(),
        "a cancelled job's lease is not renewed"
    );
    h.finish().await;
}

async fn a_variant_is_finished_once_and_a_second_finish_is_refused(backend: Backend) {
    let (h, me, sketch) = studio(backend, "10").await;
    let job = h
        .facetra
        .studio()
        .request(&me, &spec(&sketch, 2))
        .await
        .unwrap();
    let jobs = &h.facetra.store().jobs;
    let now = h.facetra.now();
    let first = render_record(&job, 0, now);
    let succeeded = VariantOutcome::Succeeded {
        render_id: first.id.clone(),
    };
    assert!(jobs
        .finish_variant(&job.id, 0, &succeeded, Some(&first), now)
        .await
        .unwrap());
    // A cancel racing the worker, or a second worker after the lease expired.
    assert!(!jobs
        .finish_variant(&job.id, 0, &VariantOutcome::Cancelled, None, now)
        .await
        .unwrap());
    let second = render_record(&job, 0, now);
    let again = VariantOutcome::Succeeded {
        render_id: second.id.clone(),
    };
    assert!(!jobs
        .finish_variant(&job.id, 0, &again, Some(&second), now)
        .await
        .unwrap());
    let stored = jobs.job(None, &job.id).await.unwrap().unwrap();
    assert_eq!(stored.variants[0].status, VariantStatus::Succeeded);
    assert_eq!(stored.variants[0].render_id, Some(first.id.clone()));
    assert_eq!(stored.credits_charged, 1, "charged once");
    let renders = jobs.job_renders(&job.id).await.unwrap();
    assert_eq!(renders.len(), 1, "one render for the variant");
    h.finish().await;
}

async fn refunds_are_priced_from_the_reservation_after_the_cost_changes(backend: Backend) {
    let h = Harness::with(
        backend,
        &[
            (keys::DEV_LOGIN, "true"),
            (keys::TRIAL_CREDITS, "10"),
            (keys::RENDER_COST, "2"),
        ],
    )
    .await;
    let me = h.person("designer@example.com").await;
    let sketch = h
        .facetra
        .studio()
        .upload(&me, UploadKind::Sketch, png(160, 120))
        .await
        .unwrap();
    let job = h
        .facetra
        .studio()
        .request(&me, &spec(sketch.id.as_str(), 2))
        .await
        .unwrap();
    assert_eq!(job.credits_reserved, 4);
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 6);
    // The price drops before the job is worked: its variants are still refunded at 2.
    let cheaper = h.reopened(&[(keys::RENDER_COST, "1")]).await;
    let cancelled = cheaper.studio().cancel(&me, job.id.as_str()).await.unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert_eq!(cancelled.credits_refunded, 4);
    assert_eq!(cheaper.credits().balance(&me).await.unwrap(), 10);
    cheaper.close().await;
    h.finish().await;
}

async fn an_idempotency_key_reused_for_another_request_is_a_conflict(backend: Backend) {
    let (h, me, sketch) = studio(backend, "10").await;
    let studio = h.facetra.studio();
    let mut first = spec(&sketch, 1);
    first.idempotency_key = Some("click-9".into());
    let job = studio.request(&me, &first).await.unwrap();
    let same = studio.request(&me, &first).await.unwrap();
    assert_eq!(same.id, job.id, "the same request answers the first job");
    // A resumed batch uploads its sketch again: the same bytes are the same request…
    let again = studio
        .upload(&me, UploadKind::Sketch, png(160, 120))
        .await
        .unwrap();
    let resumed = RenderSpec {
        sketch_id: again.id.to_string(),
        ..first.clone()
    };
    let same = studio.request(&me, &resumed).await.unwrap();
    assert_eq!(
        same.id, job.id,
        "a fresh upload of the same sketch is the same request"
    );
    // …and other bytes are not.
    let other = studio
        .upload(&me, UploadKind::Sketch, png(120, 160))
        .await
        .unwrap();
    for changed in [
        RenderSpec {
            sketch_id: other.id.to_string(),
            ..first.clone()
        },
        RenderSpec {
            prompt: "a walnut desk".into(),
            ..first.clone()
        },
        RenderSpec {
            variants: 2,
            ..first.clone()
        },
        RenderSpec {
            aspect_ratio: "1:1".into(),
            ..first.clone()
        },
    ] {
        assert!(
            matches!(
                studio.request(&me, &changed).await,
                Err(Error::IdempotencyConflict(_))
            ),
            "{changed:?}"
        );
    }
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 9);
    assert_eq!(
        studio
            .jobs(&me, &PageRequest::first())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    h.finish().await;
}

async fn a_store_error_while_loading_inputs_is_retried_not_failed(backend: Backend) {
    let (h, me, sketch) = studio(backend, "10").await;
    let job = h
        .facetra
        .studio()
        .request(&me, &spec(&sketch, 2))
        .await
        .unwrap();
    let (flaky, blobs) = facetra_tests::flaky::FlakyBlobs::wrap(&h.facetra);
    blobs.fail_next(1);
    assert!(matches!(
        flaky.studio().work_once(Some(&job.id)).await,
        Err(Error::Unavailable(_))
    ));
    let waiting = h.facetra.studio().job(&me, job.id.as_str()).await.unwrap();
    assert!(!waiting.status.is_final(), "{waiting:?}");
    assert!(waiting
        .variants
        .iter()
        .all(|v| v.status == VariantStatus::Queued));
    assert_eq!(waiting.credits_refunded, 0);
    // Released at once, and not counted as an attempt: the next pass takes it up.
    let done = flaky
        .studio()
        .work_once(Some(&job.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!((done.credits_charged, done.credits_refunded), (2, 0));
    assert_eq!(done.attempts, 1);
    h.finish().await;
}

async fn two_workers_claiming_at_once_never_take_the_same_job(backend: Backend) {
    let (h, me, sketch) = studio(backend, "20").await;
    for _ in 0..6 {
        h.facetra
            .studio()
            .request(&me, &spec(&sketch, 1))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let f = h.facetra.clone();
        tasks.push(tokio::spawn(async move {
            let lease = Lease {
                holder: format!("worker-{w}"),
                until: f.now() + Duration::seconds(60),
            };
            let mut mine = Vec::new();
            while let Some(c) = f
                .store()
                .leases
                .claim(Queue::Jobs, f.now(), &lease, None)
                .await
                .unwrap()
            {
                mine.push(c.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let claimed = all.len();
    all.dedup();
    assert_eq!(
        (claimed, all.len()),
        (6, 6),
        "each job claimed exactly once"
    );
    h.finish().await;
}

/// Every item of a list, page by page; how many pages it took.
async fn all_pages<T, F, Fut>(limit: usize, mut fetch: F) -> (Vec<T>, usize)
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = facetra_core::paging::Page<T>>,
{
    let mut page = PageRequest { after: None, limit };
    let (mut all, mut pages) = (Vec::new(), 0);
    loop {
        let got = fetch(page.clone()).await;
        pages += 1;
        all.extend(got.items);
        match got.next {
            // Through the opaque form, as a client would send it back.
            Some(next) => {
                page.after = Some(facetra_core::paging::Cursor::decode(&next.encode()).unwrap())
            }
            None => return (all, pages),
        }
    }
}

async fn paging_120_renders_by_50_returns_each_exactly_once(backend: Backend) {
    let (h, me, sketch) = studio(backend, "200").await;
    let studio = h.facetra.studio();
    let jobs = &h.facetra.store().jobs;
    let now = h.facetra.now();
    let mut made = Vec::new();
    // 30 jobs of 4 variants, all in the same millisecond: ties are broken by id.
    for _ in 0..30 {
        let job = studio.request(&me, &spec(&sketch, 4)).await.unwrap();
        for v in 0..4 {
            let mut render = render_record(&job, v, now);
            render.selected = v == 0;
            let outcome = VariantOutcome::Succeeded {
                render_id: render.id.clone(),
            };
            assert!(jobs
                .finish_variant(&job.id, v, &outcome, Some(&render), now)
                .await
                .unwrap());
            made.push(render.id);
        }
    }
    let (seen, pages) = all_pages(50, |page| {
        let studio = h.facetra.studio();
        let me = me.clone();
        async move { studio.renders(&me, false, &page).await.unwrap() }
    })
    .await;
    assert_eq!(pages, 3);
    let mut ids: Vec<_> = seen.iter().map(|r| r.id.clone()).collect();
    let newest_first = ids.windows(2).all(|w| w[0] > w[1]);
    assert!(newest_first, "newest first, ties by id");
    ids.sort();
    made.sort();
    assert_eq!(ids, made, "each render exactly once");
    let (selected, _) = all_pages(7, |page| {
        let studio = h.facetra.studio();
        let me = me.clone();
        async move { studio.renders(&me, true, &page).await.unwrap() }
    })
    .await;
    assert_eq!(selected.len(), 30);
    let (listed, pages) = all_pages(7, |page| {
        let studio = h.facetra.studio();
        let me = me.clone();
        async move { studio.jobs(&me, &page).await.unwrap() }
    })
    .await;
    assert_eq!((listed.len(), pages), (30, 5));
    let mut job_ids: Vec<_> = listed.iter().map(|j| j.id.clone()).collect();
    job_ids.dedup();
    assert_eq!(job_ids.len(), 30);
    h.finish().await;
}
