//! Consents and usage analytics, on both backends.

use facetra_core::accounts::Role;
use facetra_core::config::keys;
use facetra_core::privacy::data::Kind;
use facetra_core::studio::{RenderSpec, UploadKind};
use facetra_core::Actor;
use facetra_tests::images::png;
use facetra_tests::{Backend, Harness};
use futures::TryStreamExt;

use super::conformance;

conformance!(
    consents_are_opt_in_and_each_change_records_when_under_which_notice_and_how,
    usage_events_hold_no_content_and_none_exist_without_analytics_consent,
    logs_past_ninety_days_lose_every_trace_of_who_and_a_dry_run_changes_nothing,
);

async fn consents_are_opt_in_and_each_change_records_when_under_which_notice_and_how(
    backend: Backend,
) {
    let h = Harness::with(backend, &[(keys::DEV_LOGIN, "true")]).await;
    let me = h.person("mira@example.com").await;
    let accounts = h.facetra.accounts();
    let fresh = accounts.me(&me).await.unwrap();
    assert!(!fresh.consents.analytics.granted && !fresh.consents.marketing.granted);
    let given = accounts
        .set_consents(&me, Some(true), None, "cli")
        .await
        .unwrap();
    let analytics = &given.consents.analytics;
    assert!(analytics.granted);
    assert_eq!(analytics.method.as_deref(), Some("cli"));
    assert_eq!(analytics.notice_version.as_deref(), Some("2026-06-01"));
    assert_eq!(analytics.at, Some(h.facetra.now()));
    assert!(!given.consents.marketing.granted, "left as it was");
    h.clock.advance(chrono::Duration::minutes(5));
    let same = accounts
        .set_consents(&me, Some(true), Some(false), "web")
        .await
        .unwrap();
    assert_eq!(same.consents, given.consents, "no change, no new record");
    let withdrawn = accounts
        .set_consents(&me, Some(false), None, "web")
        .await
        .unwrap();
    assert!(!withdrawn.consents.analytics.granted);
    assert_eq!(withdrawn.consents.analytics.method.as_deref(), Some("web"));
    let stored = accounts.me(&me).await.unwrap();
    assert_eq!(stored.consents, withdrawn.consents, "stored");
    h.finish().await;
}

/// Uploads, renders and drafts a BOM as `me`; the render's id.
async fn use_the_studio(h: &Harness, me: &Actor, prompt: &str) -> String {
    let studio = h.facetra.studio();
    let sketch = studio
        .upload(me, UploadKind::Sketch, png(96, 72))
        .await
        .unwrap();
    let job = studio
        .request(
            me,
            &RenderSpec {
                prompt: prompt.into(),
                sketch_id: sketch.id.to_string(),
                reference_ids: vec![],
                variants: 2,
                aspect_ratio: "4:3".into(),
                style: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    let done = studio.work_once(Some(&job.id)).await.unwrap().unwrap();
    let render = done.variants[0].render_id.clone().unwrap().to_string();
    studio.generate_bom(me, &render).await.unwrap();
    render
}

async fn usage_events_hold_no_content_and_none_exist_without_analytics_consent(backend: Backend) {
    let h = Harness::with(backend, &[(keys::DEV_LOGIN, "true")]).await;
    let dpo = h.staff("dee@facetra.test", &[Role::Dpo]).await;
    let me = h.person("mira@example.com").await;
    let id = match &me {
        Actor::User(id) => id.clone(),
        _ => unreachable!(),
    };
    let count = || async {
        h.facetra
            .privacy()
            .count(&dpo, Kind::UsageEvents, &id)
            .await
            .unwrap()
    };

    use_the_studio(&h, &me, "a walnut credenza under a brass lamp").await;
    assert_eq!(count().await, 0, "nothing without analytics consent");

    h.facetra
        .accounts()
        .set_consents(&me, Some(true), None, "web")
        .await
        .unwrap();
    let prompt = "a terrazzo kitchen island with fluted oak";
    let render = use_the_studio(&h, &me, prompt).await;
    assert_eq!(count().await, 3, "upload, render and BOM");
    let events: Vec<_> = h
        .facetra
        .privacy()
        .export(&dpo, Kind::UsageEvents, &id)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let text =
        serde_json::to_string(&events.iter().map(|r| &r.fields).collect::<Vec<_>>()).unwrap();
    assert!(
        !text.contains("terrazzo") && !text.contains(&render),
        "content in usage events: {text}"
    );
    assert!(
        text.contains("\"render\"") && text.contains("\"generation\""),
        "{text}"
    );
    assert!(text.contains("\"count\":2"), "two variants counted: {text}");

    h.facetra
        .accounts()
        .set_consents(&me, Some(false), None, "web")
        .await
        .unwrap();
    use_the_studio(&h, &me, "a rattan chair").await;
    assert_eq!(count().await, 3, "nothing more once withdrawn");
    h.finish().await;
}

async fn logs_past_ninety_days_lose_every_trace_of_who_and_a_dry_run_changes_nothing(
    backend: Backend,
) {
    use facetra_core::privacy::logs::RequestLog;
    let h = Harness::with(backend, &[(keys::DEV_LOGIN, "true")]).await;
    let me = h.person("mira@example.com").await;
    let Actor::User(id) = &me else { unreachable!() };
    h.facetra
        .accounts()
        .set_consents(&me, Some(true), None, "web")
        .await
        .unwrap();
    let line = |ip: &str| RequestLog {
        at: h.facetra.now(),
        ip: Some(ip.into()),
        user_agent: Some("Mira's browser".into()),
        referrer: None,
        route: "/v1/me".into(),
        method: "GET".into(),
        status: 200,
        latency_ms: 2,
        user_id: Some(id.clone()),
    };
    let logs = &h.facetra.store().request_logs;
    logs.insert_request_logs(&[line("203.0.113.77")])
        .await
        .unwrap();
    // A refused request from an address: a security event that carries it.
    let refused = facetra_core::security::events::with_client_ip(
        Some("203.0.113.78".parse().unwrap()),
        h.facetra
            .accounts()
            .list_users(&me, &facetra_core::paging::PageRequest::first()),
    )
    .await;
    assert!(refused.is_err());
    use_the_studio(&h, &me, "an old render").await;
    h.clock.advance(chrono::Duration::days(91));
    logs.insert_request_logs(&[line("198.51.100.5")])
        .await
        .unwrap();
    let dpo = h.staff("dee@facetra.test", &[Role::Dpo]).await;
    let privacy = h.facetra.privacy();

    let admin = h.staff("ada@facetra.test", &[Role::Admin]).await;
    assert!(
        privacy
            .anonymise_logs(&admin, 90, None, false)
            .await
            .is_err(),
        "a DPO's job"
    );

    let planned = privacy.anonymise_logs(&dpo, 90, None, true).await.unwrap();
    let bytes = h.stored_bytes().await;
    for ip in ["203.0.113.77", "203.0.113.78"] {
        assert!(
            facetra_tests::harness::contains(&bytes, ip),
            "a dry run changed {ip}"
        );
    }
    let done = privacy.anonymise_logs(&dpo, 90, None, false).await.unwrap();
    assert_eq!(planned, done, "the dry run's counts are the real run's");
    let count = |kind| {
        done.iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, n)| *n)
            .unwrap()
    };
    assert_eq!(count(Kind::RequestLogs), 1);
    assert_eq!(count(Kind::UsageEvents), 3);
    assert!(count(Kind::SecurityEvents) >= 1, "{done:?}");

    let bytes = h.stored_bytes().await;
    assert!(
        !facetra_tests::harness::contains(&bytes, "203.0.113.77"),
        "an old IP survived"
    );
    assert!(
        facetra_tests::harness::contains(&bytes, "198.51.100.5"),
        "a recent one stays"
    );
    let again = privacy.anonymise_logs(&dpo, 90, None, false).await.unwrap();
    assert!(
        again.iter().all(|(_, n)| *n == 0),
        "a second run changes nothing: {again:?}"
    );
    let past = h.facetra.now() - chrono::Duration::days(1);
    assert!(privacy
        .anonymise_logs(&dpo, 90, Some(past), true)
        .await
        .is_err());
    h.finish().await;
}
