//! Privacy requests on both backends: intake, verification by code (three wrong codes void a
//! request), the DPO's queue with its due dates, and erasure — dry run, real run, a second run,
//! and what is left in the store afterwards, scanned byte by byte.

use facetra_core::accounts::{Role, UserStatus};
use facetra_core::credits::LedgerKind;
use facetra_core::mail::OutboxMessage;
use facetra_core::paging::PageRequest;
use facetra_core::privacy::data::{Kind, Pseudonym};
use facetra_core::privacy::dsr::RequestQuery;
use facetra_core::privacy::erasure::{EraseOptions, ErasureState};
use facetra_core::privacy::requests::{RequestStatus, RequestType};
use facetra_core::Error;
use facetra_tests::harness::contains;
use facetra_tests::{Backend, Harness};

use super::conformance;
use super::personal::{counts, harness, two_people};

conformance!(
    a_request_by_email_is_verified_by_the_mailed_code_and_three_wrong_codes_void_it,
    the_queue_lists_a_request_as_overdue_once_its_thirty_days_have_passed,
    erasing_a_verified_request_leaves_no_byte_of_the_person_and_spares_everyone_else,
    an_export_holds_every_kind_of_the_persons_data_and_nothing_of_anyone_else,
    retention_a_hundred_days_on_anonymises_old_logs_and_keeps_payments_until_their_real_time,
    two_servers_never_run_retention_at_once_and_it_runs_again_after_its_interval,
    a_correction_changes_the_name_and_the_audit_log_holds_its_field_never_its_value,
    a_breach_shows_its_deadlines_until_met_and_tells_each_person_once,
    a_nominee_acts_for_the_user_only_when_named_and_only_by_override,
    a_withdrawal_by_email_switches_the_consents_off_when_the_dpo_closes_it,
);

/// The newest queued message of `template` to `to`.
async fn mail_to(h: &Harness, to: &str, template: &str) -> OutboxMessage {
    h.facetra
        .store()
        .outbox
        .list_outbox(None, &PageRequest::first())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|m| m.to == to && m.template == template)
        .unwrap_or_else(|| panic!("no {template} mail to {to}"))
}

fn code_in(m: &OutboxMessage) -> String {
    m.text
        .split("code is ")
        .nth(1)
        .and_then(|rest| rest.get(..6))
        .expect("a code in the mail")
        .to_owned()
}

async fn a_request_by_email_is_verified_by_the_mailed_code_and_three_wrong_codes_void_it(
    backend: Backend,
) {
    let h = harness(backend).await;
    let ada = h.person("ada@example.com").await;
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let privacy = h.facetra.privacy();
    // Only a DPO opens one.
    let admin = h.staff("al@example.com", &[Role::Admin]).await;
    assert!(matches!(
        privacy
            .open_request(&admin, "ada@example.com", RequestType::Access, None)
            .await,
        Err(Error::Forbidden(_))
    ));
    let r = privacy
        .open_request(
            &dpo,
            "Ada@Example.com",
            RequestType::Access,
            Some("by email"),
        )
        .await
        .unwrap();
    assert_eq!(r.status, RequestStatus::Received);
    assert_eq!(r.user_id.as_ref(), ada.user_id());
    assert_eq!(r.due_at - r.received_at, chrono::Duration::days(30));
    mail_to(&h, "ada@example.com", "privacy_request_received").await;
    // A code is mailed; the right one verifies.
    privacy.send_code(&dpo, r.id.as_str()).await.unwrap();
    let code = code_in(&mail_to(&h, "ada@example.com", "privacy_request_code").await);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert!(matches!(
        privacy.verify_code(&dpo, r.id.as_str(), wrong).await,
        Err(Error::Invalid { field: "code", .. })
    ));
    let verified = privacy
        .verify_code(&dpo, r.id.as_str(), &code)
        .await
        .unwrap();
    assert_eq!(verified.status, RequestStatus::Verified);
    assert!(verified.code.is_none());

    // A second request: three wrong codes void it, and nothing is erased for it.
    let e = privacy
        .open_request(&dpo, "ada@example.com", RequestType::Erasure, None)
        .await
        .unwrap();
    let refused = privacy
        .erase(&dpo, e.id.as_str(), EraseOptions::default(), &|_| {})
        .await;
    assert!(
        matches!(refused, Err(Error::Conflict(ref m)) if m.contains("not verified")),
        "{refused:?}"
    );
    privacy.send_code(&dpo, e.id.as_str()).await.unwrap();
    let code = code_in(&mail_to(&h, "ada@example.com", "privacy_request_code").await);
    let wrong = if code == "999999" { "999998" } else { "999999" };
    for _ in 0..3 {
        assert!(privacy
            .verify_code(&dpo, e.id.as_str(), wrong)
            .await
            .is_err());
    }
    let void = privacy.request(&dpo, e.id.as_str()).await.unwrap();
    assert_eq!(void.status, RequestStatus::Rejected);
    assert!(
        privacy
            .verify_code(&dpo, e.id.as_str(), &code)
            .await
            .is_err(),
        "the right code after three wrong ones is too late"
    );
    mail_to(&h, "ada@example.com", "privacy_request_rejected").await;
    assert!(privacy
        .erase(&dpo, e.id.as_str(), EraseOptions::default(), &|_| {})
        .await
        .is_err());
    let me = h.facetra.accounts().me(&ada).await.unwrap();
    assert_eq!(me.status, UserStatus::Active, "nothing was erased");
    // A code expires after ten minutes.
    let late = privacy
        .open_request(&dpo, "ada@example.com", RequestType::Correction, None)
        .await
        .unwrap();
    privacy.send_code(&dpo, late.id.as_str()).await.unwrap();
    let code = code_in(&mail_to(&h, "ada@example.com", "privacy_request_code").await);
    h.clock.advance(chrono::Duration::minutes(11));
    assert!(matches!(
        privacy.verify_code(&dpo, late.id.as_str(), &code).await,
        Err(Error::Invalid { field: "code", .. })
    ));
    h.finish().await;
}

async fn the_queue_lists_a_request_as_overdue_once_its_thirty_days_have_passed(backend: Backend) {
    let h = harness(backend).await;
    let ada = h.person("ada@example.com").await;
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let privacy = h.facetra.privacy();
    let mine = privacy
        .ask(
            &ada,
            RequestType::Correction,
            Some("my name is spelt wrong"),
        )
        .await
        .unwrap();
    assert_eq!(mine.status, RequestStatus::Verified, "the session verifies");
    assert!(matches!(
        privacy.ask(&ada, RequestType::Correction, None).await,
        Err(Error::Conflict(_))
    ));
    let today = h.facetra.now();
    let overdue = RequestQuery {
        overdue: true,
        ..RequestQuery::default()
    };
    let ids = |page: facetra_core::paging::Page<
        facetra_core::privacy::requests::PrivacyRequest,
    >| { page.items.into_iter().map(|r| r.id).collect::<Vec<_>>() };
    let first = PageRequest::first();
    assert!(ids(privacy
        .requests(&dpo, &overdue, today, &first)
        .await
        .unwrap())
    .is_empty());
    let later = today + chrono::Duration::days(31);
    assert_eq!(
        ids(privacy
            .requests(&dpo, &overdue, later, &first)
            .await
            .unwrap()),
        vec![mine.id.clone()]
    );
    let soon = RequestQuery {
        due_within_days: Some(7),
        ..RequestQuery::default()
    };
    assert!(ids(privacy.requests(&dpo, &soon, today, &first).await.unwrap()).is_empty());
    assert_eq!(
        ids(privacy
            .requests(&dpo, &soon, today + chrono::Duration::days(24), &first)
            .await
            .unwrap()),
        vec![mine.id.clone()]
    );
    // Extended with a reason, it is on time again; closed, it is never overdue.
    privacy
        .extend(&dpo, mine.id.as_str(), 30, "waiting for the person's reply")
        .await
        .unwrap();
    assert!(ids(privacy
        .requests(&dpo, &overdue, later, &first)
        .await
        .unwrap())
    .is_empty());
    assert!(privacy
        .extend(&dpo, mine.id.as_str(), 30, "again")
        .await
        .is_err());
    privacy
        .close(&dpo, mine.id.as_str(), "The name is corrected.")
        .await
        .unwrap();
    let far = today + chrono::Duration::days(90);
    assert!(ids(privacy.requests(&dpo, &overdue, far, &first).await.unwrap()).is_empty());
    assert_eq!(
        privacy.my_requests(&ada, &first).await.unwrap().items[0].status,
        RequestStatus::Completed
    );
    h.finish().await;
}

async fn erasing_a_verified_request_leaves_no_byte_of_the_person_and_spares_everyone_else(
    backend: Backend,
) {
    let h = harness(backend).await;
    let (u, v) = two_people(&h).await;
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let privacy = h.facetra.privacy();
    let before = h.stored_bytes().await;
    for needle in [u.email, u.name, u.ip, v.email, v.name, v.ip] {
        assert!(
            contains(&before, needle),
            "the fixture never stored {needle}"
        );
    }
    let v_before = counts(&h, &dpo, &v.id).await;
    assert!(
        matches!(
            privacy
                .erase_kind(&dpo, Kind::Jobs, &u.id, &Pseudonym::new())
                .await,
            Err(Error::Conflict(_))
        ),
        "an active account is not erased kind by kind"
    );
    let r = privacy
        .open_request(&dpo, u.email, RequestType::Erasure, None)
        .await
        .unwrap();
    privacy
        .verify_override(&dpo, r.id.as_str(), "identity checked on a video call")
        .await
        .unwrap();
    // The account holds credits: they are forfeited only when the DPO says so.
    let held = privacy
        .erase(&dpo, r.id.as_str(), EraseOptions::default(), &|_| {})
        .await;
    assert!(
        matches!(held, Err(Error::Conflict(ref m)) if m.contains("--forfeit-credits")),
        "{held:?}"
    );
    let forfeit = EraseOptions {
        forfeit_credits: true,
        ..EraseOptions::default()
    };
    // The dry run changes nothing, byte for byte.
    h.facetra.mail().deliver_due(50).await.unwrap();
    let settled = h.stored_bytes().await;
    let plan = privacy
        .erase(
            &dpo,
            r.id.as_str(),
            EraseOptions {
                dry_run: true,
                ..forfeit
            },
            &|_| {},
        )
        .await
        .unwrap();
    assert_eq!(plan.state, ErasureState::Planned);
    assert!(plan.forfeited_credits > 0);
    assert!(
        h.stored_bytes().await == settled,
        "the dry run changed the store"
    );
    let line = |report: &facetra_core::privacy::erasure::ErasureReport, kind: Kind| {
        report
            .kinds
            .iter()
            .find(|l| l.kind == kind.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no line for {}", kind.as_str()))
    };
    assert!(line(&plan, Kind::Renders).removed >= 1);
    assert_eq!(
        line(&plan, Kind::Payments).kept,
        2,
        "the webhook's and the fixture's"
    );
    assert!(line(&plan, Kind::Payments).why_kept.is_some());
    let shared: u64 = plan.shared_ips.iter().map(|l| l.anonymised).sum();
    assert!(shared >= 1, "the pre-sign-in line with U's IP: {plan:?}");
    assert!(plan
        .processors
        .iter()
        .any(|p| p.processor == facetra_core::privacy::data::Processor::Razorpay));

    // The real run's counts equal the dry run's.
    let seen = std::sync::Mutex::new(Vec::new());
    let done = privacy
        .erase(&dpo, r.id.as_str(), forfeit, &|l| {
            seen.lock().unwrap().push(l.kind.clone())
        })
        .await
        .unwrap();
    assert_eq!(done.state, ErasureState::Completed, "{done:?}");
    assert_eq!(done.kinds, plan.kinds);
    assert_eq!(done.shared_ips, plan.shared_ips);
    assert_eq!(
        seen.lock().unwrap().len(),
        plan.kinds.len(),
        "progress per kind"
    );

    let after = h.stored_bytes().await;
    for needle in [u.email, u.name, u.ip] {
        assert!(
            !contains(&after, needle),
            "{needle} is still stored after the erasure ({})",
            h.backend.name()
        );
    }
    for needle in [v.email, v.name, v.ip] {
        assert!(
            contains(&after, needle),
            "the other person's {needle} went too"
        );
    }
    assert_eq!(counts(&h, &dpo, &v.id).await, v_before, "V is untouched");
    for (kind, n) in counts(&h, &dpo, &u.id).await {
        match kind {
            Kind::Account | Kind::PrivacyRequests => {
                assert!(n >= 1, "{} stays as a record", kind.as_str())
            }
            _ => assert_eq!(n, 0, "{} left for the person", kind.as_str()),
        }
    }
    let tombstone = h
        .facetra
        .store()
        .accounts
        .user_by_id(&u.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tombstone.status, UserStatus::Erased);
    assert!(tombstone.google_subject.is_none());
    let request = privacy.request(&dpo, r.id.as_str()).await.unwrap();
    assert_eq!(request.status, RequestStatus::Completed);
    assert!(request.email.is_none() && !request.email_hash.is_empty());
    // The purchase stays under the pseudonym, and the ledgers still add up.
    let psn = request.erasure.as_ref().unwrap().pseudonym.clone();
    // Pseudonyms are not user ids; the store takes them as it wrote them.
    let psn: facetra_core::ids::UserId = serde_json::from_value(serde_json::json!(psn)).unwrap();
    let kept = h
        .facetra
        .store()
        .ledger
        .ledger_page(&psn, &PageRequest::first())
        .await
        .unwrap();
    assert!(kept.items.iter().any(|e| e.kind == LedgerKind::Purchase));
    let admin = h.staff("al@example.com", &[Role::Admin]).await;
    let verified = h.facetra.credits().verify(&admin).await.unwrap();
    assert!(verified.problems.is_empty(), "{:?}", verified.problems);
    // A second run changes nothing.
    let after = h.stored_bytes().await;
    let again = privacy
        .erase(&dpo, r.id.as_str(), forfeit, &|_| {})
        .await
        .unwrap();
    assert_eq!(again.kinds, done.kinds);
    assert!(
        h.stored_bytes().await == after,
        "a second erasure changed the store"
    );
    h.finish().await;
}

async fn an_export_holds_every_kind_of_the_persons_data_and_nothing_of_anyone_else(
    backend: Backend,
) {
    use facetra_core::privacy::export::ExportStatus;
    use sha2::Digest;
    use tokio::io::AsyncReadExt;
    let h = harness(backend).await;
    let (u, v) = two_people(&h).await;
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let privacy = h.facetra.privacy();
    // The DPO exports nothing for an unverified request.
    let unverified = privacy
        .open_request(&dpo, v.email, RequestType::Access, None)
        .await
        .unwrap();
    let refused = privacy
        .export_request(&dpo, unverified.id.as_str(), Vec::new())
        .await;
    assert!(
        matches!(refused, Err(Error::Conflict(ref m)) if m.contains("not verified")),
        "{:?}",
        refused.map(|(bytes, _)| bytes.len())
    );
    // The person's own request builds it at once.
    assert_eq!(
        privacy.my_export(&u.actor).await.unwrap(),
        ExportStatus::None
    );
    let r = privacy
        .ask(&u.actor, RequestType::Access, None)
        .await
        .unwrap();
    assert_eq!(r.status, RequestStatus::Completed);
    let ExportStatus::Ready { url, .. } = privacy.my_export(&u.actor).await.unwrap() else {
        panic!("no export after an access request");
    };
    assert!(
        url.starts_with("/files/blb_") && url.contains("sig="),
        "{url}"
    );
    let (_, mut reader) = privacy.open_my_export(&u.actor).await.unwrap().unwrap();
    let mut zip = Vec::new();
    reader.read_to_end(&mut zip).await.unwrap();
    let entries = facetra_tests::unzip::entries(&zip);
    let manifest: serde_json::Value =
        serde_json::from_slice(&entries["manifest.json"]).expect("a manifest");
    assert_eq!(manifest["format_version"], 1);
    assert_eq!(manifest["account"], u.id.as_str());
    for f in manifest["files"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        let bytes = entries
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not in the ZIP"));
        assert_eq!(
            hex::encode(sha2::Sha256::digest(bytes)),
            f["sha256"].as_str().unwrap(),
            "{name}"
        );
    }
    assert_eq!(
        manifest["files"].as_array().unwrap().len() + 1,
        entries.len()
    );
    for info in facetra_core::privacy::data::REGISTRY {
        if info.sqlite.iter().all(|l| l.person.is_none()) {
            continue;
        }
        let section = manifest["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == info.name)
            .unwrap_or_else(|| panic!("no section for {}", info.name));
        assert!(
            section["records"].as_u64().unwrap() >= 1,
            "{} is empty",
            info.name
        );
        let file = section["file"].as_str().unwrap();
        let records: Vec<serde_json::Value> = serde_json::from_slice(&entries[file]).unwrap();
        assert_eq!(records.len() as u64, section["records"].as_u64().unwrap());
    }
    let images = entries.keys().filter(|n| n.starts_with("files/")).count();
    assert!(
        images >= 2,
        "the sketch and the render: {:?}",
        entries.keys()
    );
    assert!(entries.contains_key("index.html"));
    assert!(contains(&zip, u.email) && contains(&zip, u.name));
    for needle in [v.email, v.name, v.ip, v.id.as_str()] {
        assert!(
            !contains(&zip, needle),
            "the export holds {needle} of someone else"
        );
    }
    h.finish().await;
}

async fn retention_a_hundred_days_on_anonymises_old_logs_and_keeps_payments_until_their_real_time(
    backend: Backend,
) {
    use chrono::TimeZone;
    use facetra_core::ids::PaymentId;
    use facetra_core::payments::{Payment, PaymentKind, PaymentStatus};
    let h = harness(backend).await;
    let (u, v) = two_people(&h).await;
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let privacy = h.facetra.privacy();
    let payment = |n: u32, at: facetra_core::Timestamp| Payment {
        id: PaymentId::new(at),
        user_id: u.id.clone(),
        pack_id: "starter".into(),
        credits: 50,
        amount_paise: 49_900,
        currency: "INR".into(),
        kind: PaymentKind::Order,
        order_id: Some(format!("order_old{n}")),
        link_id: None,
        link_url: None,
        razorpay_payment_id: Some(format!("pay_old{n}")),
        status: PaymentStatus::Credited,
        credits_refunded: 0,
        created_at: at,
        updated_at: at,
    };
    let day = |y, m, d| {
        chrono::Utc
            .with_ymd_and_hms(y, m, d, 10, 0, 0)
            .single()
            .unwrap()
    };
    // The clock stands in January 2036: a payment of March 2028 is past its 7 years; one of
    // March 2029 is past them only from 1 April 2036.
    assert_eq!(h.facetra.now().format("%Y-%m").to_string(), "2036-01");
    let payments = &h.facetra.store().payments;
    payments
        .insert_payment(&payment(1, day(2028, 3, 1)))
        .await
        .unwrap();
    payments
        .insert_payment(&payment(2, day(2029, 3, 1)))
        .await
        .unwrap();
    let count = |kind| {
        let privacy = h.facetra.privacy();
        let (dpo, id) = (dpo.clone(), u.id.clone());
        async move { privacy.count(&dpo, kind, &id).await.unwrap() }
    };
    assert_eq!(count(Kind::Payments).await, 4);

    let earlier = h.facetra.now() - chrono::Duration::days(1);
    assert!(matches!(
        privacy.retention(&dpo, Some(earlier), false).await,
        Err(Error::Invalid { .. })
    ));
    let later = h.facetra.now() + chrono::Duration::days(100);
    let plan = privacy.retention(&dpo, Some(later), false).await.unwrap();
    let line = |report: &facetra_core::privacy::retention::RetentionReport, kind: &str| {
        report
            .lines
            .iter()
            .find(|l| l.kind == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no line for {kind}"))
    };
    let p = line(&plan, "payments");
    assert_eq!((p.due, p.kept, p.changed), (2, 1, 1), "{p:?}");
    assert!(line(&plan, "request_logs").due >= 4);
    assert!(line(&plan, "security_events").due >= 2);
    let before = h.stored_bytes().await;
    let applied = privacy.retention(&dpo, Some(later), true).await.unwrap();
    for (planned, done) in plan.lines.iter().zip(&applied.lines) {
        assert_eq!(
            planned.changed, done.changed,
            "{}: plan and apply disagree",
            planned.kind
        );
    }
    assert!(before != h.stored_bytes().await);
    assert_eq!(
        count(Kind::Payments).await,
        3,
        "the 2029 payment is kept until April"
    );
    let after = h.stored_bytes().await;
    for ip in [u.ip, v.ip] {
        assert!(
            !contains(&after, ip),
            "{ip} is still in the logs past 90 days"
        );
    }
    let again = privacy.retention(&dpo, Some(later), false).await.unwrap();
    assert!(
        again.lines.iter().all(|l| l.changed == 0),
        "a second run has nothing left: {:?}",
        again.lines
    );
    h.finish().await;
}

async fn two_servers_never_run_retention_at_once_and_it_runs_again_after_its_interval(
    backend: Backend,
) {
    let h = harness(backend).await;
    let other = h.reopened(&[]).await;
    let hour = std::time::Duration::from_secs(3600);
    let (one, two) = (h.facetra.privacy(), other.privacy());
    let (a, b) = tokio::join!(
        one.run_scheduled_retention(hour),
        two.run_scheduled_retention(hour),
    );
    let ran = [a.unwrap(), b.unwrap()];
    assert_eq!(
        ran.iter().filter(|r| **r).count(),
        1,
        "exactly one ran: {ran:?}"
    );
    assert!(!other.privacy().run_scheduled_retention(hour).await.unwrap());
    assert!(!h
        .facetra
        .privacy()
        .run_scheduled_retention(hour)
        .await
        .unwrap());
    h.clock.advance(chrono::Duration::minutes(61));
    // While one server holds the task, the other waits.
    let lease =
        facetra_core::lease::Lease::fresh("test", h.facetra.now() + chrono::Duration::minutes(5));
    let held = h
        .facetra
        .store()
        .leases
        .claim(
            facetra_core::lease::Queue::Schedules,
            h.facetra.now(),
            &lease,
            Some("retention"),
        )
        .await
        .unwrap();
    assert!(held.is_some());
    assert!(!other.privacy().run_scheduled_retention(hour).await.unwrap());
    h.clock.advance(chrono::Duration::minutes(6));
    assert!(
        other.privacy().run_scheduled_retention(hour).await.unwrap(),
        "an expired lease is taken over"
    );
    other.close().await;
    h.finish().await;
}

async fn a_correction_changes_the_name_and_the_audit_log_holds_its_field_never_its_value(
    backend: Backend,
) {
    let h = harness(backend).await;
    let ada = h.person("ada@example.com").await;
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let privacy = h.facetra.privacy();
    let r = privacy
        .ask(
            &ada,
            RequestType::Correction,
            Some("my name is Ada Lovelace"),
        )
        .await
        .unwrap();
    assert!(matches!(
        privacy.correct(&dpo, r.id.as_str(), "").await,
        Err(Error::Invalid { .. })
    ));
    let done = privacy
        .correct(&dpo, r.id.as_str(), "Ada Zanzibarovna")
        .await
        .unwrap();
    assert_eq!(done.status, RequestStatus::Completed);
    assert_eq!(
        h.facetra.accounts().me(&ada).await.unwrap().name,
        "Ada Zanzibarovna"
    );
    // The person's own correction is audited the same way.
    h.facetra
        .accounts()
        .update_name(&ada, "Ada Quixotica")
        .await
        .unwrap();
    let entries = h
        .facetra
        .store()
        .audit
        .audit_entries(0, 1000)
        .await
        .unwrap();
    let corrections: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "account.correct")
        .collect();
    assert_eq!(corrections.len(), 2, "{entries:?}");
    for e in &corrections {
        assert_eq!(e.details["fields"], serde_json::json!(["name"]));
        assert!(e.details["hashes"]["name"]
            .as_str()
            .is_some_and(|h| h.len() == 64));
    }
    let all = serde_json::to_string(&entries).unwrap();
    for value in ["Zanzibarovna", "Quixotica", "Lovelace", "ada@example.com"] {
        assert!(!all.contains(value), "the audit log holds {value}");
    }
    h.finish().await;
}

async fn a_breach_shows_its_deadlines_until_met_and_tells_each_person_once(backend: Backend) {
    use facetra_core::privacy::breach::{Authority, Deadline, Recipients};
    let h = harness(backend).await;
    let _ada = h.person("ada@example.com").await;
    let _bo = h.person("bo@example.com").await;
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let privacy = h.facetra.privacy();
    let detected = h.facetra.now() - chrono::Duration::hours(1);
    assert!(privacy
        .open_breach(&dpo, h.facetra.now() + chrono::Duration::hours(1), "x")
        .await
        .is_err());
    let b = privacy
        .open_breach(
            &dpo,
            detected,
            "A backup bucket was readable for two hours.",
        )
        .await
        .unwrap();
    assert_eq!(b.cert_in_due - detected, chrono::Duration::hours(6));
    assert_eq!(b.board_due - detected, chrono::Duration::hours(72));
    assert_eq!(
        b.deadlines(h.facetra.now()),
        (Deadline::Open, Deadline::Open)
    );
    h.clock.advance(chrono::Duration::hours(6));
    assert_eq!(
        b.deadlines(h.facetra.now()),
        (Deadline::Open, Deadline::Missed)
    );
    let b = privacy
        .report_breach(&dpo, b.id.as_str(), Authority::Board)
        .await
        .unwrap();
    assert_eq!(b.deadlines(h.facetra.now()).0, Deadline::Met);
    let listed = Recipients::Listed(vec!["ada@example.com".into(), "nobody@example.com".into()]);
    let plan = privacy
        .notify_breach(&dpo, b.id.as_str(), &listed, None, true)
        .await
        .unwrap();
    assert_eq!((plan.notified, plan.already), (1, 0));
    assert_eq!(plan.skipped, vec!["nobody@example.com".to_owned()]);
    let outbox = |h: &Harness| {
        let store = h.facetra.store().outbox.clone();
        async move {
            store
                .list_outbox(None, &PageRequest::first())
                .await
                .unwrap()
                .items
                .into_iter()
                .filter(|m| m.template == "breach_notice")
                .count()
        }
    };
    assert_eq!(outbox(&h).await, 0, "a dry run sends nothing");
    let sent = privacy
        .notify_breach(&dpo, b.id.as_str(), &listed, None, false)
        .await
        .unwrap();
    assert_eq!(sent.notified, 1);
    let all = privacy
        .notify_breach(&dpo, b.id.as_str(), &Recipients::All, None, false)
        .await
        .unwrap();
    assert_eq!(all.already, 1, "Ada is not told twice");
    assert!(all.notified >= 2, "Bo and the DPO: {all:?}");
    assert_eq!(outbox(&h).await as u64, 1 + all.notified);
    let stored = privacy.breaches(&dpo, &PageRequest::first()).await.unwrap();
    assert_eq!(stored.items[0].notified, 1 + all.notified);
    let admin = h.staff("al@example.com", &[Role::Admin]).await;
    assert!(matches!(
        privacy.breaches(&admin, &PageRequest::first()).await,
        Err(Error::Forbidden(_))
    ));
    h.finish().await;
}

async fn a_nominee_acts_for_the_user_only_when_named_and_only_by_override(backend: Backend) {
    let h = harness(backend).await;
    let ada = h.person("ada@example.com").await;
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let privacy = h.facetra.privacy();
    assert!(matches!(
        privacy.set_nominee(&ada, "Ada", "ada@example.com").await,
        Err(Error::Invalid { field: "email", .. })
    ));
    let named = privacy
        .set_nominee(&ada, "Byron Quill", "byron@example.com")
        .await
        .unwrap();
    assert_eq!(privacy.my_nominee(&ada).await.unwrap(), Some(named));
    let stranger = privacy
        .open_for_nominee(
            &dpo,
            "mallory@example.com",
            "ada@example.com",
            RequestType::Erasure,
            None,
        )
        .await;
    assert!(matches!(stranger, Err(Error::Forbidden(_))), "{stranger:?}");
    let r = privacy
        .open_for_nominee(
            &dpo,
            "byron@example.com",
            "ada@example.com",
            RequestType::Access,
            None,
        )
        .await
        .unwrap();
    assert!(r.nominee);
    assert_eq!(r.user_id.as_ref(), ada.user_id());
    mail_to(&h, "byron@example.com", "privacy_request_received").await;
    assert!(matches!(
        privacy.send_code(&dpo, r.id.as_str()).await,
        Err(Error::Conflict(_))
    ));
    let verified = privacy
        .verify_override(&dpo, r.id.as_str(), "death certificate seen")
        .await
        .unwrap();
    assert_eq!(verified.status, RequestStatus::Verified);
    let (zip, _) = privacy
        .export_request(&dpo, r.id.as_str(), Vec::new())
        .await
        .unwrap();
    assert!(contains(&zip, "ada@example.com"), "the export is Ada's");
    assert!(privacy.clear_nominee(&ada).await.unwrap());
    assert!(privacy
        .open_for_nominee(
            &dpo,
            "byron@example.com",
            "ada@example.com",
            RequestType::Access,
            None
        )
        .await
        .is_err());
    h.finish().await;
}

async fn a_withdrawal_by_email_switches_the_consents_off_when_the_dpo_closes_it(backend: Backend) {
    let h = harness(backend).await;
    let ada = h.person("ada@example.com").await;
    h.facetra
        .accounts()
        .set_consents(&ada, Some(true), Some(true), "web")
        .await
        .unwrap();
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let privacy = h.facetra.privacy();
    let r = privacy
        .open_request(&dpo, "ada@example.com", RequestType::WithdrawConsent, None)
        .await
        .unwrap();
    assert!(
        privacy
            .close(&dpo, r.id.as_str(), "Withdrawn.")
            .await
            .is_err(),
        "verified first"
    );
    privacy
        .verify_override(
            &dpo,
            r.id.as_str(),
            "from the account's address, confirmed by phone",
        )
        .await
        .unwrap();
    let closed = privacy
        .close(&dpo, r.id.as_str(), "Your consents are withdrawn.")
        .await
        .unwrap();
    assert_eq!(closed.status, RequestStatus::Completed);
    let me = h.facetra.accounts().me(&ada).await.unwrap();
    assert!(!me.consents.analytics.granted && !me.consents.marketing.granted);
    mail_to(&h, "ada@example.com", "privacy_request_completed").await;
    h.finish().await;
}
