//! The outbox on both backends, against the Resend stub: transient failures are delivered
//! later exactly once, permanent ones are marked failed with the reason, two senders never
//! deliver one message twice, and welcome and receipt mails are queued once.

use chrono::Duration;
use facetra_core::accounts::DevLogin;
use facetra_core::config::keys;
use facetra_core::mail::MessageStatus;
use facetra_core::paging::PageRequest;
use facetra_core::Actor;
use facetra_tests::resend_stub::{ResendStub, Scripted};
use facetra_tests::{Backend, Harness};

use super::conformance;

conformance!(
    resend_500_then_429_is_delivered_later_exactly_once,
    resend_422_and_quota_errors_fail_with_the_reason_and_can_be_retried,
    two_senders_never_deliver_a_message_twice,
    a_new_account_gets_one_welcome_mail,
);

async fn post_office(backend: Backend) -> (Harness, ResendStub) {
    let stub = ResendStub::start().await;
    (
        Harness::with_stub(backend, stub.settings(), &[(keys::DEV_LOGIN, "true")]).await,
        stub,
    )
}

async fn sign_up(h: &Harness, email: &str) {
    let req = DevLogin {
        email: email.into(),
        name: "Mira".into(),
        age_confirmed: true,
    };
    h.facetra.accounts().dev_login(req, None).await.unwrap();
}

async fn resend_500_then_429_is_delivered_later_exactly_once(backend: Backend) {
    let (h, stub) = post_office(backend).await;
    sign_up(&h, "mira@example.com").await;
    stub.fail_next(&[
        Scripted {
            status: 500,
            name: "internal_server_error",
            retry_after: None,
        },
        Scripted {
            status: 429,
            name: "rate_limit_exceeded",
            retry_after: Some(300),
        },
    ]);
    let mail = h.facetra.mail();
    assert_eq!(
        mail.deliver_due(10).await.unwrap().retried,
        1,
        "500: try again later"
    );
    assert_eq!(
        mail.deliver_due(10).await.unwrap().retried,
        0,
        "not due yet"
    );
    h.clock.advance(Duration::seconds(60));
    assert_eq!(
        mail.deliver_due(10).await.unwrap().retried,
        1,
        "429: try again after retry-after"
    );
    h.clock.advance(Duration::seconds(200));
    let early = mail.deliver_due(10).await.unwrap();
    assert_eq!(
        (early.sent, early.retried),
        (0, 0),
        "retry-after (300 s) is honoured"
    );
    h.clock.advance(Duration::seconds(120));
    assert_eq!(mail.deliver_due(10).await.unwrap().sent, 1);
    h.clock.advance(Duration::hours(2));
    assert_eq!(
        mail.deliver_due(10).await.unwrap().sent,
        0,
        "sent once, never again"
    );
    let sent = stub.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].1, "mira@example.com");
    assert_eq!(sent[0].2, "Welcome to Facetra");
    assert!(sent[0].0.starts_with("facetra/msg_"));
    let page = mail
        .outbox(&h.admin().await, false, &PageRequest::first())
        .await
        .unwrap();
    assert_eq!(page.items[0].status, MessageStatus::Sent);
    assert!(
        page.items[0].text.is_empty() && page.items[0].html.is_empty(),
        "bodies are purged once delivered"
    );
    assert_eq!(page.items[0].attempts, 3);
    h.finish().await;
}

async fn resend_422_and_quota_errors_fail_with_the_reason_and_can_be_retried(backend: Backend) {
    let (h, stub) = post_office(backend).await;
    sign_up(&h, "mira@example.com").await;
    sign_up(&h, "omar@example.com").await;
    stub.fail_next(&[
        Scripted {
            status: 422,
            name: "invalid_from_address",
            retry_after: None,
        },
        Scripted {
            status: 429,
            name: "daily_quota_exceeded",
            retry_after: Some(3600),
        },
    ]);
    let mail = h.facetra.mail();
    assert_eq!(mail.deliver_due(10).await.unwrap().failed, 2);
    let failed = mail
        .outbox(&h.admin().await, true, &PageRequest::first())
        .await
        .unwrap();
    assert_eq!(failed.items.len(), 2);
    let reasons: Vec<String> = failed
        .items
        .iter()
        .filter_map(|m| m.last_error.clone())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("invalid_from_address")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("daily_quota_exceeded")),
        "{reasons:?}"
    );
    h.clock.advance(Duration::days(2));
    assert_eq!(
        mail.deliver_due(10).await.unwrap(),
        Default::default(),
        "failed messages are not retried by themselves"
    );
    assert_eq!(stub.requests(), 2);
    let id = failed.items[0].id.to_string();
    assert!(
        mail.retry(
            &Actor::User(facetra_core::ids::UserId::new(h.facetra.now())),
            &id
        )
        .await
        .is_err(),
        "users may not"
    );
    mail.retry(&h.admin().await, &id).await.unwrap();
    assert!(
        mail.retry(&h.admin().await, &id).await.is_err(),
        "only a failed message can be retried"
    );
    assert_eq!(mail.deliver_due(10).await.unwrap().sent, 1);
    assert_eq!(
        mail.outbox(&h.admin().await, true, &PageRequest::first())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    h.finish().await;
}

async fn two_senders_never_deliver_a_message_twice(backend: Backend) {
    let (h, stub) = post_office(backend).await;
    for i in 0..12 {
        sign_up(&h, &format!("person{i}@example.com")).await;
    }
    let (a, b) = (h.facetra.clone(), h.facetra.clone());
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { a.mail().deliver_due(50).await }),
        tokio::spawn(async move { b.mail().deliver_due(50).await }),
    );
    let total = ra.unwrap().unwrap().sent + rb.unwrap().unwrap().sent;
    assert_eq!(total, 12);
    let mut keys: Vec<String> = stub.sent().into_iter().map(|s| s.0).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 12);
    assert_eq!(stub.requests(), 12, "no message was sent by both senders");
    h.finish().await;
}

async fn a_new_account_gets_one_welcome_mail(backend: Backend) {
    let (h, _stub) = post_office(backend).await;
    sign_up(&h, "mira@example.com").await;
    sign_up(&h, "mira@example.com").await;
    let all = h
        .facetra
        .mail()
        .outbox(&h.admin().await, false, &PageRequest::first())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    assert_eq!(all.items[0].template, "welcome");
    assert!(all.items[0].text.contains("10 trial credits"));
    h.finish().await;
}
