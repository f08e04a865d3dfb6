//! In-app messages and page-view events on both backends: a thread is its user's alone, staff
//! answer by role (support for support, dpo for grievances), the answer's text never goes by
//! email, a grievance opens a privacy request with its due date, and a page view leaves
//! nothing without analytics consent and never a query string.

use facetra_core::accounts::Role;
use facetra_core::messages::{MessageKind, ThreadFilter, ThreadStatus};
use facetra_core::paging::PageRequest;
use facetra_core::privacy::dsr::RequestQuery;
use facetra_core::privacy::requests::RequestType;
use facetra_core::Error;
use facetra_tests::harness::contains;
use facetra_tests::Backend;

use super::conformance;
use super::personal::harness;

conformance!(
    a_thread_is_its_users_alone_and_staff_answer_it_by_role,
    a_page_view_leaves_nothing_without_consent_and_never_a_query_string,
);

async fn a_thread_is_its_users_alone_and_staff_answer_it_by_role(backend: Backend) {
    let h = harness(backend).await;
    let ada = h.person("ada@example.com").await;
    let bo = h.person("bo@example.com").await;
    let support = h.staff("sam@example.com", &[Role::Support]).await;
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let messages = h.facetra.messages();
    assert!(matches!(
        messages.send(&ada, MessageKind::Support, "", "x").await,
        Err(Error::Invalid {
            field: "subject",
            ..
        })
    ));
    let long = "x".repeat(10_001);
    assert!(matches!(
        messages.send(&ada, MessageKind::Support, "Hi", &long).await,
        Err(Error::Invalid { field: "body", .. })
    ));
    let t = messages
        .send(
            &ada,
            MessageKind::Support,
            "Export",
            "How do I export a BOM?",
        )
        .await
        .unwrap();
    // Another user's thread is "not found" on every operation.
    assert!(matches!(
        messages.get(&bo, t.id.as_str()).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        messages.reply(&bo, t.id.as_str(), "mine now").await,
        Err(Error::NotFound(_))
    ));
    assert!(messages
        .mine(&bo, &PageRequest::first())
        .await
        .unwrap()
        .items
        .is_empty());
    // Users cannot read the staff's list.
    assert!(matches!(
        messages
            .all(&ada, &ThreadFilter::default(), &PageRequest::first())
            .await,
        Err(Error::Forbidden(_))
    ));
    let answer = "Use bom export --format csv, secret-answer-text";
    let answered = messages
        .answer(&support, t.id.as_str(), answer)
        .await
        .unwrap();
    assert_eq!(answered.status, ThreadStatus::Answered);
    let mail = h
        .facetra
        .store()
        .outbox
        .list_outbox(None, &PageRequest::first())
        .await
        .unwrap();
    let waiting = mail
        .items
        .iter()
        .find(|m| m.template == "answer_waiting")
        .expect("the user is told an answer waits");
    assert!(
        !waiting.text.contains("secret-answer-text")
            && !waiting.html.contains("secret-answer-text")
    );
    let again = messages
        .reply(&ada, t.id.as_str(), "Thanks!")
        .await
        .unwrap();
    assert_eq!(again.status, ThreadStatus::Open);
    assert_eq!(again.replies.len(), 2);

    // A grievance: only the DPO answers it, and it is in the DPO's queue with a due date.
    let g = messages
        .send(
            &ada,
            MessageKind::Grievance,
            "My data",
            "I was charged twice",
        )
        .await
        .unwrap();
    let request = g.request_id.clone().expect("a grievance request");
    assert!(matches!(
        messages.answer(&support, g.id.as_str(), "we looked").await,
        Err(Error::Forbidden(_))
    ));
    let queue = h
        .facetra
        .privacy()
        .requests(
            &dpo,
            &RequestQuery {
                kind: Some(RequestType::Grievance),
                ..RequestQuery::default()
            },
            h.facetra.now(),
            &PageRequest::first(),
        )
        .await
        .unwrap();
    let r = queue
        .items
        .iter()
        .find(|r| r.id == request)
        .expect("in the queue");
    assert_eq!(r.due_at - r.received_at, chrono::Duration::days(30));
    messages
        .answer(&dpo, g.id.as_str(), "Refunded.")
        .await
        .unwrap();
    let open = messages
        .all(
            &dpo,
            &ThreadFilter {
                status: Some(ThreadStatus::Open),
                ..ThreadFilter::default()
            },
            &PageRequest::first(),
        )
        .await
        .unwrap();
    assert_eq!(open.items.len(), 1, "ada's reopened support thread");
    h.finish().await;
}

async fn a_page_view_leaves_nothing_without_consent_and_never_a_query_string(backend: Backend) {
    let h = harness(backend).await;
    let ada = h.person("ada@example.com").await;
    let usage = h.facetra.usage();
    assert!(matches!(
        usage.event(&ada, "click", "/studio").await,
        Err(Error::Invalid { field: "type", .. })
    ));
    usage
        .event(
            &ada,
            "page_view",
            "/renders/rnd_01abc/bom?q=brass-lamp-query",
        )
        .await
        .unwrap();
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let id = ada.user_id().cloned().unwrap();
    let count = || async {
        h.facetra
            .privacy()
            .count(&dpo, facetra_core::privacy::data::Kind::UsageEvents, &id)
            .await
            .unwrap()
    };
    assert_eq!(count().await, 0, "no consent, nothing stored");
    assert!(!contains(&h.stored_bytes().await, "brass-lamp-query"));
    h.facetra
        .accounts()
        .set_consents(&ada, Some(true), None, "web")
        .await
        .unwrap();
    usage
        .event(
            &ada,
            "page_view",
            "/renders/rnd_01abc/bom?q=brass-lamp-query",
        )
        .await
        .unwrap();
    assert_eq!(count().await, 1);
    let stored = h.stored_bytes().await;
    assert!(contains(&stored, "/renders/{id}/bom"));
    for never in ["brass-lamp-query", "rnd_01abc"] {
        assert!(!contains(&stored, never), "{never} was stored");
    }
    h.finish().await;
}
