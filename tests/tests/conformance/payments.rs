//! Payments on both backends, against the Razorpay stub: checkout verification, webhooks,
//! payment links and refunds credit (or take back) exactly once, signatures are enforced, and
//! the payer's details never reach the store.

use facetra_core::config::keys;
use facetra_core::credits::LedgerKind;
use facetra_core::paging::PageRequest;
use facetra_core::payments::CheckoutResult;
use facetra_core::{Actor, Error};
use facetra_tests::harness::contains;
use facetra_tests::razorpay_stub::{RazorpayStub, PAYER_EMAIL, PAYER_METHOD, PAYER_PHONE};
use facetra_tests::{Backend, Harness};

use super::conformance;

conformance!(
    checkout_verification_credits_a_pack_once,
    a_pending_checkout_is_finished_by_the_webhook,
    five_webhook_deliveries_and_three_verify_calls_at_once_credit_one_pack,
    bad_signatures_credit_nothing,
    a_webhook_that_does_not_match_its_order_credits_nothing_and_is_recorded,
    a_refund_takes_back_credits_but_never_below_zero,
    payment_links_are_credited_by_polling_or_by_webhook_once,
    another_users_order_or_link_is_not_found,
    the_payers_details_are_never_stored,
    a_refund_for_a_payment_never_credited_takes_nothing,
    two_captured_payments_on_one_order_credit_one_pack_and_flag_the_second,
    a_storm_of_badly_signed_webhooks_makes_one_record_per_window,
    failed_admin_sign_ins_are_counted_per_client_and_lock_it_out_for_the_window,
);

struct Shop {
    h: Harness,
    stub: RazorpayStub,
}

async fn shop(backend: Backend) -> Shop {
    let stub = RazorpayStub::start().await;
    let h = Harness::with_stub(backend, stub.settings(), &[(keys::DEV_LOGIN, "true")]).await;
    Shop { h, stub }
}

async fn balance(h: &Harness, a: &Actor) -> i64 {
    h.facetra.credits().balance(a).await.unwrap()
}

async fn purchases(h: &Harness, a: &Actor) -> usize {
    let page = h
        .facetra
        .credits()
        .transactions(a, &PageRequest::first())
        .await
        .unwrap();
    page.items
        .iter()
        .filter(|e| e.kind == LedgerKind::Purchase)
        .count()
}

async fn checkout_verification_credits_a_pack_once(backend: Backend) {
    let Shop { h, stub } = shop(backend).await;
    let buyer = h.person("buyer@example.com").await;
    let order = h
        .facetra
        .payments()
        .create_order(&buyer, "starter")
        .await
        .unwrap();
    assert_eq!(
        (order.amount, order.currency.as_str(), order.key_id.as_str()),
        (49_900, "INR", stub.key_id.as_str())
    );
    let paid = stub.pay_order(&order.order_id, "captured");
    let sig = stub.checkout_signature(&order.order_id, &paid);
    let first = h
        .facetra
        .payments()
        .verify_checkout(&buyer, &order.order_id, &paid, &sig)
        .await
        .unwrap();
    assert_eq!(first, CheckoutResult::Credited { balance: 60 });
    let again = h
        .facetra
        .payments()
        .verify_checkout(&buyer, &order.order_id, &paid, &sig)
        .await
        .unwrap();
    assert_eq!(
        again,
        CheckoutResult::Credited { balance: 60 },
        "repeating credits nothing more"
    );
    let (body, sig) = stub.webhook("payment.captured", &paid);
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_1"))
        .await
        .unwrap();
    assert_eq!(balance(&h, &buyer).await, 60);
    assert_eq!(purchases(&h, &buyer).await, 1);
    let staff = h.admin().await;
    let outbox = h
        .facetra
        .mail()
        .outbox(&staff, false, &PageRequest::first())
        .await
        .unwrap();
    let receipts: Vec<_> = outbox
        .items
        .iter()
        .filter(|m| m.template == "payment_receipt")
        .collect();
    assert_eq!(receipts.len(), 1, "one receipt per captured payment");
    assert!(receipts[0].text.contains("Starter") && receipts[0].text.contains("60 credits"));
    assert!(matches!(
        h.facetra.payments().create_order(&buyer, "platinum").await,
        Err(Error::Invalid {
            field: "pack_id",
            ..
        })
    ));
    h.finish().await;
}

async fn a_pending_checkout_is_finished_by_the_webhook(backend: Backend) {
    let Shop { h, stub } = shop(backend).await;
    let buyer = h.person("buyer@example.com").await;
    let order = h
        .facetra
        .payments()
        .create_order(&buyer, "studio")
        .await
        .unwrap();
    let paid = stub.pay_order(&order.order_id, "authorized");
    let sig = stub.checkout_signature(&order.order_id, &paid);
    let result = h
        .facetra
        .payments()
        .verify_checkout(&buyer, &order.order_id, &paid, &sig)
        .await
        .unwrap();
    assert_eq!(result, CheckoutResult::Pending);
    assert_eq!(balance(&h, &buyer).await, 10);
    stub.capture(&paid);
    let (body, sig) = stub.webhook("order.paid", &paid);
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_2"))
        .await
        .unwrap();
    assert_eq!(balance(&h, &buyer).await, 210);
    h.finish().await;
}

async fn five_webhook_deliveries_and_three_verify_calls_at_once_credit_one_pack(backend: Backend) {
    let Shop { h, stub } = shop(backend).await;
    let buyer = h.person("buyer@example.com").await;
    let order = h
        .facetra
        .payments()
        .create_order(&buyer, "starter")
        .await
        .unwrap();
    let paid = stub.pay_order(&order.order_id, "captured");
    let sig = stub.checkout_signature(&order.order_id, &paid);
    let (body, hook_sig) = stub.webhook("payment.captured", &paid);
    let (order_body, order_sig) = stub.webhook("order.paid", &paid);
    let mut tasks = Vec::new();
    for i in 0..5 {
        let f = h.facetra.clone();
        // The same event delivered three times, and another event twice.
        let (b, s, id) = if i < 3 {
            (body.clone(), hook_sig.clone(), "evt_same")
        } else {
            (order_body.clone(), order_sig.clone(), "evt_order")
        };
        tasks.push(tokio::spawn(async move {
            f.payments()
                .handle_webhook(&b, &s, Some(id))
                .await
                .map(|_| ())
        }));
    }
    for _ in 0..3 {
        let (f, buyer, o, p, s) = (
            h.facetra.clone(),
            buyer.clone(),
            order.order_id.clone(),
            paid.clone(),
            sig.clone(),
        );
        tasks.push(tokio::spawn(async move {
            f.payments()
                .verify_checkout(&buyer, &o, &p, &s)
                .await
                .map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(balance(&h, &buyer).await, 60, "exactly one pack");
    assert_eq!(purchases(&h, &buyer).await, 1);
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

async fn bad_signatures_credit_nothing(backend: Backend) {
    let Shop { h, stub } = shop(backend).await;
    let buyer = h.person("buyer@example.com").await;
    let order = h
        .facetra
        .payments()
        .create_order(&buyer, "starter")
        .await
        .unwrap();
    let paid = stub.pay_order(&order.order_id, "captured");
    let (body, sig) = stub.webhook("payment.captured", &paid);
    let payments = h.facetra.payments();
    // Tampered signature, wrong secret, and a body re-serialised after signing.
    let flipped = format!(
        "{}{}",
        if sig.starts_with('0') { '1' } else { '0' },
        &sig[1..]
    );
    assert!(matches!(
        payments.handle_webhook(&body, &flipped, Some("e1")).await,
        Err(Error::InvalidSignature)
    ));
    let wrong = facetra_tests::razorpay_stub::sign("not-the-webhook-secret", &body);
    assert!(matches!(
        payments.handle_webhook(&body, &wrong, Some("e2")).await,
        Err(Error::InvalidSignature)
    ));
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&body).unwrap())
            .unwrap();
    assert!(matches!(
        payments.handle_webhook(&pretty, &sig, Some("e3")).await,
        Err(Error::InvalidSignature)
    ));
    assert!(matches!(
        payments.handle_webhook(&body, "", None).await,
        Err(Error::InvalidSignature)
    ));
    // Checkout: signed with the webhook secret, or over another order id.
    let wrong_key = facetra_tests::razorpay_stub::sign(
        &stub.webhook_secret,
        format!("{}|{paid}", order.order_id).as_bytes(),
    );
    assert!(matches!(
        payments
            .verify_checkout(&buyer, &order.order_id, &paid, &wrong_key)
            .await,
        Err(Error::InvalidSignature)
    ));
    let other_order = stub.checkout_signature("order_Someone", &paid);
    assert!(matches!(
        payments
            .verify_checkout(&buyer, &order.order_id, &paid, &other_order)
            .await,
        Err(Error::InvalidSignature)
    ));
    assert_eq!(balance(&h, &buyer).await, 10, "nothing credited");
    h.finish().await;
}

async fn a_webhook_that_does_not_match_its_order_credits_nothing_and_is_recorded(backend: Backend) {
    let Shop { h, stub } = shop(backend).await;
    let buyer = h.person("buyer@example.com").await;
    let order = h
        .facetra
        .payments()
        .create_order(&buyer, "pro")
        .await
        .unwrap();
    let paid = stub.pay_order(&order.order_id, "captured");
    let (body, _) = stub.webhook("payment.captured", &paid);
    let mut event: serde_json::Value = serde_json::from_slice(&body).unwrap();
    event["payload"]["payment"]["entity"]["amount"] = serde_json::json!(100);
    let cheap = serde_json::to_vec(&event).unwrap();
    let sig = facetra_tests::razorpay_stub::sign(&stub.webhook_secret, &cheap);
    h.facetra
        .payments()
        .handle_webhook(&cheap, &sig, Some("evt_cheap"))
        .await
        .expect("a signed webhook is accepted");
    event["payload"]["payment"]["entity"]["amount"] = serde_json::json!(599_900);
    event["payload"]["payment"]["entity"]["currency"] = serde_json::json!("USD");
    let dollars = serde_json::to_vec(&event).unwrap();
    let sig = facetra_tests::razorpay_stub::sign(&stub.webhook_secret, &dollars);
    h.facetra
        .payments()
        .handle_webhook(&dollars, &sig, Some("evt_usd"))
        .await
        .unwrap();
    event["payload"]["payment"]["entity"]["currency"] = serde_json::json!("INR");
    event["payload"]["payment"]["entity"]["order_id"] = serde_json::json!("order_NotOurs");
    let unknown = serde_json::to_vec(&event).unwrap();
    let sig = facetra_tests::razorpay_stub::sign(&stub.webhook_secret, &unknown);
    h.facetra
        .payments()
        .handle_webhook(&unknown, &sig, Some("evt_unknown"))
        .await
        .unwrap();
    assert_eq!(balance(&h, &buyer).await, 10, "nothing credited");
    let events = h
        .facetra
        .store()
        .security
        .security_events(None, &PageRequest::first())
        .await
        .unwrap();
    let kinds: Vec<&str> = events.items.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "payment.webhook_mismatch")
            .count(),
        2,
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"payment.webhook_unknown_order"),
        "{kinds:?}"
    );
    h.finish().await;
}

async fn a_refund_takes_back_credits_but_never_below_zero(backend: Backend) {
    let Shop { h, stub } = shop(backend).await;
    let buyer = h.person("buyer@example.com").await;
    let user = match &buyer {
        Actor::User(u) => u.clone(),
        _ => unreachable!(),
    };
    let order = h
        .facetra
        .payments()
        .create_order(&buyer, "starter")
        .await
        .unwrap();
    let paid = stub.pay_order(&order.order_id, "captured");
    let (body, sig) = stub.webhook("payment.captured", &paid);
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_pay"))
        .await
        .unwrap();
    assert_eq!(balance(&h, &buyer).await, 60);
    // Half refunded: 25 credits back.
    let (body, sig) = stub.refund_webhook(&paid, "rfnd_Half", 24_950);
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_r1"))
        .await
        .unwrap();
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_r1"))
        .await
        .unwrap();
    assert_eq!(balance(&h, &buyer).await, 35);
    // Spend most of the rest, then the other half is refunded: only 5 are left to take.
    let spend = facetra_core::credits::NewLedgerEntry {
        user_id: user.clone(),
        kind: LedgerKind::Render,
        amount: -30,
        reason: "renders".into(),
        reference: None,
        idempotency_key: "render:spent".into(),
    };
    h.facetra
        .store()
        .ledger
        .append_ledger(&spend, h.facetra.now())
        .await
        .unwrap();
    let (body, sig) = stub.refund_webhook(&paid, "rfnd_Rest", 24_950);
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_r2"))
        .await
        .unwrap();
    assert_eq!(balance(&h, &buyer).await, 0, "never below zero");
    let flagged = h.security_events("payment.refund_after_spend").await;
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].user_id.as_ref(), Some(&user));
    h.finish().await;
}

async fn payment_links_are_credited_by_polling_or_by_webhook_once(backend: Backend) {
    let Shop { h, stub } = shop(backend).await;
    let buyer = h.person("buyer@example.com").await;
    let link = h
        .facetra
        .payments()
        .create_link(&buyer, "starter")
        .await
        .unwrap();
    assert_eq!(link.status, "created");
    assert!(link.short_url.starts_with("https://rzp.io/"));
    assert_eq!(
        h.facetra
            .payments()
            .link_status(&buyer, &link.id)
            .await
            .unwrap()
            .status,
        "created"
    );
    let plink = stub.links().pop().unwrap();
    let paid = stub.pay_link(&plink);
    assert_eq!(
        h.facetra
            .payments()
            .link_status(&buyer, &link.id)
            .await
            .unwrap()
            .status,
        "credited"
    );
    assert_eq!(
        h.facetra
            .payments()
            .link_status(&buyer, &link.id)
            .await
            .unwrap()
            .status,
        "credited"
    );
    let (body, sig) = stub.link_webhook(&plink, &paid);
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_link"))
        .await
        .unwrap();
    assert_eq!(balance(&h, &buyer).await, 60);
    // A second link credited by the webhook alone.
    let second = h
        .facetra
        .payments()
        .create_link(&buyer, "starter")
        .await
        .unwrap();
    let plink2 = stub.links().into_iter().find(|l| *l != plink).unwrap();
    let paid2 = stub.pay_link(&plink2);
    let (body, sig) = stub.link_webhook(&plink2, &paid2);
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_link2"))
        .await
        .unwrap();
    assert_eq!(balance(&h, &buyer).await, 110);
    assert_eq!(
        h.facetra
            .payments()
            .link_status(&buyer, &second.id)
            .await
            .unwrap()
            .status,
        "credited"
    );
    assert_eq!(purchases(&h, &buyer).await, 2);
    h.finish().await;
}

async fn another_users_order_or_link_is_not_found(backend: Backend) {
    let Shop { h, stub } = shop(backend).await;
    let buyer = h.person("buyer@example.com").await;
    let other = h.person("other@example.com").await;
    let order = h
        .facetra
        .payments()
        .create_order(&buyer, "starter")
        .await
        .unwrap();
    let paid = stub.pay_order(&order.order_id, "captured");
    let sig = stub.checkout_signature(&order.order_id, &paid);
    assert!(matches!(
        h.facetra
            .payments()
            .verify_checkout(&other, &order.order_id, &paid, &sig)
            .await,
        Err(Error::NotFound(_))
    ));
    let link = h
        .facetra
        .payments()
        .create_link(&buyer, "starter")
        .await
        .unwrap();
    assert!(matches!(
        h.facetra.payments().link_status(&other, &link.id).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(balance(&h, &other).await, 10);
    assert_eq!(balance(&h, &buyer).await, 10);
    h.finish().await;
}

async fn the_payers_details_are_never_stored(backend: Backend) {
    let Shop { h, stub } = shop(backend).await;
    let buyer = h.person("buyer@example.com").await;
    let order = h
        .facetra
        .payments()
        .create_order(&buyer, "starter")
        .await
        .unwrap();
    let paid = stub.pay_order(&order.order_id, "captured");
    let sig = stub.checkout_signature(&order.order_id, &paid);
    h.facetra
        .payments()
        .verify_checkout(&buyer, &order.order_id, &paid, &sig)
        .await
        .unwrap();
    for event in ["payment.captured", "order.paid"] {
        let (body, sig) = stub.webhook(event, &paid);
        h.facetra
            .payments()
            .handle_webhook(&body, &sig, Some(event))
            .await
            .unwrap();
    }
    let link = h
        .facetra
        .payments()
        .create_link(&buyer, "studio")
        .await
        .unwrap();
    let plink = stub.links().pop().unwrap();
    let lpaid = stub.pay_link(&plink);
    let (body, sig) = stub.link_webhook(&plink, &lpaid);
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_l"))
        .await
        .unwrap();
    h.facetra
        .payments()
        .link_status(&buyer, &link.id)
        .await
        .unwrap();
    let (body, sig) = stub.refund_webhook(&paid, "rfnd_1", 49_900);
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_rf"))
        .await
        .unwrap();
    assert_eq!(balance(&h, &buyer).await, 210);

    let stored = h.stored_bytes().await;
    assert!(
        contains(&stored, &paid),
        "the scan sees payments (the payment id is stored)"
    );
    for secret in [PAYER_EMAIL, PAYER_PHONE, PAYER_METHOD, "5733649"] {
        assert!(
            !contains(&stored, secret),
            "{secret:?} from Razorpay reached the store"
        );
    }
    h.finish().await;
}

async fn a_refund_for_a_payment_never_credited_takes_nothing(backend: Backend) {
    let Shop { h, stub } = shop(backend).await;
    let buyer = h.person("buyer@example.com").await;
    let order = h
        .facetra
        .payments()
        .create_order(&buyer, "starter")
        .await
        .unwrap();
    let paid = stub.pay_order(&order.order_id, "authorized");
    let (body, sig) = stub.webhook("payment.authorized", &paid);
    let _ = h
        .facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_auth"))
        .await;
    assert_eq!(balance(&h, &buyer).await, 10, "the trial credits only");
    // Refunded before it was ever captured and credited: the trial credits stay.
    let (body, sig) = stub.refund_webhook(&paid, "rfnd_Early", 49_900);
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_rfnd"))
        .await
        .unwrap();
    assert_eq!(
        balance(&h, &buyer).await,
        10,
        "nothing taken from other credits"
    );
    // And a capture reported afterwards credits nothing: the money went back.
    stub.capture(&paid);
    let (body, sig) = stub.webhook("payment.captured", &paid);
    h.facetra
        .payments()
        .handle_webhook(&body, &sig, Some("evt_late"))
        .await
        .unwrap();
    assert_eq!(balance(&h, &buyer).await, 10);
    assert_eq!(purchases(&h, &buyer).await, 0);
    h.finish().await;
}

async fn two_captured_payments_on_one_order_credit_one_pack_and_flag_the_second(backend: Backend) {
    let Shop { h, stub } = shop(backend).await;
    let buyer = h.person("buyer@example.com").await;
    let order = h
        .facetra
        .payments()
        .create_order(&buyer, "starter")
        .await
        .unwrap();
    let first = stub.pay_order(&order.order_id, "captured");
    let second = stub.pay_order(&order.order_id, "captured");
    for (n, paid) in [&first, &second, &first].into_iter().enumerate() {
        let (body, sig) = stub.webhook("payment.captured", paid);
        h.facetra
            .payments()
            .handle_webhook(&body, &sig, Some(&format!("evt_{n}")))
            .await
            .unwrap();
    }
    let sig = stub.checkout_signature(&order.order_id, &second);
    h.facetra
        .payments()
        .verify_checkout(&buyer, &order.order_id, &second, &sig)
        .await
        .unwrap();
    assert_eq!(balance(&h, &buyer).await, 60, "one pack for one order");
    assert_eq!(purchases(&h, &buyer).await, 1);
    let flagged = h.security_events("payment.second_capture").await;
    assert!(!flagged.is_empty(), "the operator is told");
    let event = &flagged[0];
    assert_eq!(event.details["razorpay_payment"], second.as_str());
    assert_eq!(event.details["amount_paise"], 49_900);
    h.finish().await;
}

async fn a_storm_of_badly_signed_webhooks_makes_one_record_per_window(backend: Backend) {
    let Shop { h, stub: _stub } = shop(backend).await;
    let body = br#"{"event":"payment.captured","payload":{}}"#.to_vec();
    let payments = h.facetra.payments();
    for i in 0..200 {
        assert!(matches!(
            payments
                .handle_webhook(&body, "0badc0de", Some(&format!("evt_{i}")))
                .await,
            Err(Error::InvalidSignature)
        ));
    }
    let events = || async { h.security_events("payment.webhook_bad_signature").await };
    let counted = events().await;
    assert_eq!(counted.len(), 1, "one record, not 200");
    assert_eq!(counted[0].count, 200);
    h.clock.advance(chrono::Duration::seconds(
        facetra_core::security::events::COUNT_WINDOW_SECS,
    ));
    payments
        .handle_webhook(&body, "0badc0de", None)
        .await
        .unwrap_err();
    let counted = events().await;
    assert_eq!(counted.len(), 2, "a new window, a new record");
    assert_eq!(counted[0].count, 1);
    h.finish().await;
}

async fn failed_admin_sign_ins_are_counted_per_client_and_lock_it_out_for_the_window(
    backend: Backend,
) {
    let h = Harness::with(backend, &[(keys::ADMIN_LOCKOUT_FAILURES, "3")]).await;
    let guard = h.facetra.guard();
    let (a, b): (std::net::IpAddr, std::net::IpAddr) = (
        "203.0.113.7".parse().unwrap(),
        "2001:db8::9".parse().unwrap(),
    );
    for _ in 0..2 {
        guard.admin_auth_failed(a).await.unwrap();
    }
    guard.admin_auth_failed(b).await.unwrap();
    assert_eq!(
        guard.admin_locked_out(a).await.unwrap(),
        None,
        "two is not three"
    );
    guard.admin_auth_failed(a).await.unwrap();
    let wait = guard.admin_locked_out(a).await.unwrap().expect("locked");
    assert!((1..=600).contains(&wait), "{wait}");
    assert_eq!(guard.admin_locked_out(b).await.unwrap(), None, "per client");
    let events = h.security_events("auth.admin_failed").await;
    assert_eq!(events.len(), 2, "one record per client and window");
    let of_a = events
        .iter()
        .find(|e| e.ip.as_deref() == Some("203.0.113.7"))
        .unwrap();
    assert_eq!(of_a.count, 3);
    assert!(
        !of_a.id.as_str().contains("203.0.113.7"),
        "ids never carry the IP"
    );
    h.clock.advance(chrono::Duration::seconds(
        facetra_core::security::events::COUNT_WINDOW_SECS,
    ));
    assert_eq!(
        guard.admin_locked_out(a).await.unwrap(),
        None,
        "the window ended"
    );
    h.finish().await;
}
