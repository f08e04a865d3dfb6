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
    assert_eq!(h.facetra.studio().jobs(&me, 100).await.unwrap().len(), 5);
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
    let staff = Actor::Admin {
        operator: "t".into(),
        role: facetra_core::accounts::Role::Admin,
    };
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
    assert!(studio.jobs(&other, 10).await.unwrap().is_empty());
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
