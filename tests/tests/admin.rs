//! Staff over HTTP (`/admin/v1`), through a real socket: roles decided in core, per-IP rate
//! limits, the stored lock-out, client IPs behind a trusted proxy, and CORS.

use facetra_core::accounts::Role;
use facetra_core::config::keys;
use facetra_core::Actor;
use facetra_tests::google_stub::GoogleStub;
use facetra_tests::server::{session_token, Req, TestApp};
use facetra_tests::{Backend, Harness};
use reqwest::Method;
use serde_json::{json, Value};

/// A staff account holding `roles`, and an API token acting for it.
async fn staff_token(h: &Harness, email: &str, roles: &[Role]) -> String {
    let Actor::Staff(staff) = h.staff(email, roles).await else {
        panic!("a staff actor")
    };
    let (_, raw) = h
        .facetra
        .accounts()
        .create_token(&Actor::User(staff.id().clone()), "admin laptop", None, &[])
        .await
        .unwrap();
    raw.expose().to_owned()
}

async fn code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or_default();
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn staff_act_over_http_with_the_roles_the_store_gives_them_and_every_action_is_audited() {
    let stub = GoogleStub::start().await;
    let h = Harness::with_stub(
        Backend::Sqlite,
        stub.settings(),
        &[(keys::DEV_LOGIN, "true")],
    )
    .await;
    let app = TestApp::spawn(&h).await;
    let (_, customer) = app.dev_login("customer@example.com").await;
    let customer_id = customer["id"].as_str().unwrap().to_owned();
    let support = staff_token(&h, "sam@facetra.test", &[Role::Support]).await;

    // The admin signs in with Google: their account (made by an admin before) is linked.
    h.staff("ada@facetra.test", &[Role::Admin]).await;
    let token = stub.id_token(
        h.facetra.now().timestamp(),
        "1170000000001",
        "ada@facetra.test",
    );
    let signed = app
        .send(
            Method::POST,
            "/auth/google/id-token",
            Req::json(&json!({ "id_token": token })).origin(app.origin()),
        )
        .await;
    assert_eq!(signed.status(), 200);
    let admin = session_token(&signed).unwrap();

    let found: Value = app
        .send(
            Method::GET,
            "/admin/v1/users?email=customer@example.com",
            Req::default().bearer(&support),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        found["items"][0]["id"],
        customer_id.as_str(),
        "support reads accounts"
    );

    let grant = json!({ "amount": 25, "reason": "goodwill after an outage", "idempotency_key": "ticket-7" });
    let path = format!("/admin/v1/users/{customer_id}/credits");
    let refused = app
        .send(Method::POST, &path, Req::json(&grant).bearer(&support))
        .await;
    assert_eq!(
        code(refused).await,
        (403, "forbidden".into()),
        "granting needs admin"
    );
    let granted = app
        .send(
            Method::POST,
            &path,
            Req::json(&grant).cookie(&admin).origin(app.origin()),
        )
        .await;
    assert_eq!(granted.status(), 201);
    let again = app
        .send(
            Method::POST,
            &path,
            Req::json(&grant).cookie(&admin).origin(app.origin()),
        )
        .await;
    assert_eq!(again.status(), 200, "the same key grants once");
    let balance = h
        .facetra
        .credits()
        .balance(&Actor::User(
            facetra_core::ids::UserId::parse(&customer_id).unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(balance, h.facetra.config().trial_credits + 25);

    let roles = app
        .send(
            Method::PUT,
            &format!("/admin/v1/users/{customer_id}/roles"),
            Req::json(&json!({ "roles": ["support"] })).bearer(&support),
        )
        .await;
    assert_eq!(code(roles).await.0, 403, "changing roles needs admin");

    // A plain user is not staff at all.
    let (plain, _) = app.dev_login("plain@example.com").await;
    let res = app
        .send(
            Method::GET,
            "/admin/v1/users",
            Req::default().cookie(&plain),
        )
        .await;
    assert_eq!(code(res).await, (403, "forbidden".into()));
    let refusals = h.security_events("authz.not_staff").await;
    assert_eq!(
        refusals[0].ip.as_deref(),
        Some("127.0.0.1"),
        "security events carry the client IP"
    );

    let audit = h
        .facetra
        .audit()
        .list(&h.admin().await, 0, 100)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "accounts.read"
                && e.target.as_deref() == Some(customer_id.as_str())),
        "a staff read of an account is audited"
    );
    assert!(
        audit.iter().any(|e| e.action == "credits.grant"),
        "the grant is audited: {:?}",
        audit.iter().map(|e| &e.action).collect::<Vec<_>>()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_burst_of_unauthenticated_admin_requests_from_one_ip_gets_429_while_another_ip_is_served()
{
    let h = Harness::with(
        Backend::Sqlite,
        &[
            (keys::TRUSTED_PROXIES, "127.0.0.1"),
            (keys::RATE_LIMIT_ADMIN_PER_MIN, "5"),
            (keys::ADMIN_LOCKOUT_FAILURES, "1000"),
        ],
    )
    .await;
    let app = TestApp::spawn(&h).await;
    let from = |ip| Req::default().from_ip(ip);
    for _ in 0..5 {
        let res = app
            .send(Method::GET, "/admin/v1/users", from("198.51.100.1"))
            .await;
        assert_eq!(res.status(), 401);
    }
    let limited = app
        .send(Method::GET, "/admin/v1/users", from("198.51.100.1"))
        .await;
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(code(limited).await.1, "rate_limited");
    let other = app
        .send(Method::GET, "/admin/v1/users", from("198.51.100.2"))
        .await;
    assert_eq!(other.status(), 401, "another address has its own budget");

    let events = h.security_events("ratelimit.admin").await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].ip.as_deref(),
        Some("198.51.100.1"),
        "with the client IP"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_admin_lock_out_is_kept_in_the_store_and_survives_a_restart() {
    let h = Harness::with(
        Backend::Sqlite,
        &[
            (keys::TRUSTED_PROXIES, "127.0.0.1"),
            (keys::ADMIN_LOCKOUT_FAILURES, "3"),
        ],
    )
    .await;
    let admin = staff_token(&h, "ada@facetra.test", &[Role::Admin]).await;
    let app = TestApp::spawn(&h).await;
    let attacker = "203.0.113.66";
    for _ in 0..3 {
        let res = app
            .send(
                Method::GET,
                "/admin/v1/users",
                Req::default().bearer("fct_guessed").from_ip(attacker),
            )
            .await;
        assert_eq!(res.status(), 401);
    }
    let locked = app
        .send(
            Method::GET,
            "/admin/v1/users",
            Req::default().bearer(&admin).from_ip(attacker),
        )
        .await;
    assert_eq!(locked.status(), 429, "locked out, even with a good token");
    app.stop().await;

    // A new server on the same store: still locked for that address, not for others.
    let app = TestApp::spawn(&h).await;
    let still = app
        .send(
            Method::GET,
            "/admin/v1/users",
            Req::default().bearer(&admin).from_ip(attacker),
        )
        .await;
    assert_eq!(still.status(), 429, "the lock-out survives a restart");
    assert!(still.headers().contains_key("retry-after"));
    let elsewhere = app
        .send(
            Method::GET,
            "/admin/v1/users",
            Req::default().bearer(&admin).from_ip("198.51.100.9"),
        )
        .await;
    assert_eq!(elsewhere.status(), 200);
    // It ends with its window.
    h.clock.advance(chrono::Duration::seconds(601));
    let later = app
        .send(
            Method::GET,
            "/admin/v1/users",
            Req::default().bearer(&admin).from_ip(attacker),
        )
        .await;
    assert_eq!(later.status(), 200);
    let events = h.security_events("auth.admin_failed").await;
    assert_eq!(events[0].ip.as_deref(), Some(attacker));
    assert_eq!(events[0].count, 3);
    app.stop().await;
}

#[tokio::test]
async fn cors_answers_exactly_the_web_origin_with_credentials() {
    let h = Harness::with(
        Backend::Sqlite,
        &[(keys::WEB_ORIGIN, "https://app.facetra.test")],
    )
    .await;
    let app = TestApp::spawn(&h).await;
    let preflight = |origin: &'static str| {
        app.http
            .request(Method::OPTIONS, format!("{}/v1/me", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "PATCH")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ours = preflight("https://app.facetra.test").await.unwrap();
    assert_eq!(
        ours.headers()["access-control-allow-origin"],
        "https://app.facetra.test"
    );
    assert_eq!(ours.headers()["access-control-allow-credentials"], "true");
    let theirs = preflight("https://evil.example").await.unwrap();
    assert!(
        theirs
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "another origin is not allowed"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_waitlist_entry_approved_over_http_lets_its_email_make_an_account_when_sign_up_is_by_invitation(
) {
    let stub = GoogleStub::start().await;
    let h = Harness::with_stub(
        Backend::Sqlite,
        stub.settings(),
        &[
            (keys::SIGNUP, "invite"),
            (keys::TRUSTED_PROXIES, "127.0.0.1"),
        ],
    )
    .await;
    let app = TestApp::spawn(&h).await;
    let admin = staff_token(&h, "ada@facetra.test", &[Role::Admin]).await;
    let now = h.facetra.now().timestamp();
    let sign_in = |email: &'static str, sub: &'static str| {
        let token = stub.id_token(now, sub, email);
        let app = &app;
        async move {
            app.send(
                Method::POST,
                "/auth/google/id-token",
                Req::json(&json!({ "id_token": token, "age_confirmed": true }))
                    .origin(app.origin()),
            )
            .await
        }
    };
    // Not invited: no account.
    let refused = sign_in("mira@example.com", "1170000000100").await;
    assert_eq!(code(refused).await, (403, "forbidden".into()));

    let form = json!({ "name": "Mira Shah", "email": "mira@example.com", "company": "Shah Interiors",
        "role": "Principal", "message": "Kitchens, mostly." });
    let sent = app
        .send(Method::POST, "/v1/waitlist", Req::json(&form))
        .await;
    assert_eq!(sent.status(), 201);
    let id = sent.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed: Value = app
        .send(
            Method::GET,
            "/admin/v1/waitlist?status=pending",
            Req::default().bearer(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert_eq!(listed["items"][0]["company"], "Shah Interiors");
    let approved = app
        .send(
            Method::POST,
            &format!("/admin/v1/waitlist/{id}/approve"),
            Req::default().bearer(&admin),
        )
        .await;
    assert_eq!(approved.status(), 200);
    assert_eq!(
        approved.json::<Value>().await.unwrap()["status"],
        "approved"
    );

    let joined = sign_in("mira@example.com", "1170000000100").await;
    assert_eq!(joined.status(), 200);
    let joined: Value = joined.json().await.unwrap();
    assert_eq!(joined["new_account"], true);
    let entry: Value = app
        .send(
            Method::GET,
            "/admin/v1/waitlist",
            Req::default().bearer(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(entry["items"][0]["status"], "joined");
    assert_eq!(entry["items"][0]["user_id"], joined["user"]["id"]);

    // The public forms are throttled per address (5 a minute by default).
    let mut statuses = Vec::new();
    for i in 0..6 {
        let body = json!({ "name": "Spam", "email": format!("s{i}@example.com") });
        let res = app
            .send(
                Method::POST,
                "/v1/waitlist",
                Req::json(&body).from_ip("192.0.2.50"),
            )
            .await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, vec![201, 201, 201, 201, 201, 429]);
    app.stop().await;
}
