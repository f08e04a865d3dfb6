//! The HTTP API through a real socket: envelope, request ids, cookies, the origin check,
//! content types, body limits, dev login and logout, readiness.

use facetra_core::accounts::{Consents, Email, Role, User, UserStatus};
use facetra_core::config::keys;
use facetra_core::ids::UserId;
use facetra_tests::server::{session_token, set_cookie, Req, TestApp};
use facetra_tests::{Backend, Harness};
use reqwest::Method;
use serde_json::{json, Value};

async fn app() -> (Harness, TestApp) {
    let h = Harness::with(Backend::Sqlite, &[(keys::DEV_LOGIN, "true")]).await;
    let app = TestApp::spawn(&h).await;
    (h, app)
}

async fn error_code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("a JSON error body");
    assert!(
        body["error"]["request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("req_")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_unknown_routes_are_json_404() {
    let (_h, app) = app().await;
    let ok = app.send(Method::GET, "/healthz", Req::default()).await;
    assert_eq!(ok.status(), 200);
    let id1 = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(ok.json::<Value>().await.unwrap(), json!({ "status": "ok" }));
    let missing = app
        .send(Method::GET, "/v1/nothing-here", Req::default())
        .await;
    let id2 = missing.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(id1, id2);
    assert_eq!(error_code(missing).await, (404, "not_found".into()));
    let ready = app.send(Method::GET, "/readyz", Req::default()).await;
    assert_eq!(ready.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn dev_login_sets_the_one_session_cookie_with_the_documented_attributes() {
    let (_h, app) = app().await;
    let body = json!({ "email": "Ada@Example.com", "name": "Ada", "age_confirmed": true });
    let res = app
        .send(
            Method::POST,
            "/auth/dev-login",
            Req::json(&body).origin(app.origin()),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get_all("set-cookie").iter().count(),
        1,
        "a single cookie"
    );
    let cookie = set_cookie(&res).unwrap();
    assert!(cookie.starts_with("session_token="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback may drop Secure: {cookie}"
    );
    let token = session_token(&res).unwrap();
    assert_eq!(token.len(), 64, "256 bits, hex");
    let signed_in: Value = res.json().await.unwrap();
    assert_eq!(signed_in["user"]["email"], "ada@example.com");
    assert_eq!(signed_in["new_account"], true);
    assert_eq!(
        signed_in["user"]["consents"],
        json!({ "analytics": false, "marketing": false })
    );

    let me = app
        .send(Method::GET, "/v1/me", Req::default().cookie(&token))
        .await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    for field in [
        "id",
        "email",
        "name",
        "avatar_url",
        "roles",
        "status",
        "created_at",
        "consents",
    ] {
        assert!(me.get(field).is_some(), "User lacks {field}: {me}");
    }
    assert_eq!(me["roles"], json!(["user"]));
    app.stop().await;
}

#[tokio::test]
async fn a_cookie_write_without_a_matching_origin_is_refused() {
    let (h, app) = app().await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let rename = json!({ "name": "Ada L." });

    let none = app
        .send(Method::PATCH, "/v1/me", Req::json(&rename).cookie(&token))
        .await;
    assert_eq!(error_code(none).await, (403, "forbidden".into()));
    let evil = app
        .send(
            Method::PATCH,
            "/v1/me",
            Req::json(&rename)
                .cookie(&token)
                .origin("https://evil.example"),
        )
        .await;
    assert_eq!(error_code(evil).await, (403, "forbidden".into()));
    let lookalike = format!("{}.evil.example", app.origin());
    let evil2 = app
        .send(
            Method::PATCH,
            "/v1/me",
            Req::json(&rename).cookie(&token).origin(&lookalike),
        )
        .await;
    assert_eq!(evil2.status(), 403);
    let me = h
        .facetra
        .store()
        .accounts
        .user_by_email(&Email::parse("ada@example.com").unwrap())
        .await
        .unwrap();
    assert_eq!(
        me.unwrap().name,
        "Test Person",
        "a refused write changed nothing"
    );

    let ok = app
        .send(
            Method::PATCH,
            "/v1/me",
            Req::json(&rename).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap()["name"], "Ada L.");

    // Bearer requests are exempt from the origin check.
    let actor = h
        .facetra
        .accounts()
        .authenticate(&facetra_core::security::RawToken::from_client(&token))
        .await
        .unwrap()
        .actor();
    let (_, api) = h
        .facetra
        .accounts()
        .create_token(&actor, "cli", Some(30), &[])
        .await
        .unwrap();
    let bearer = app
        .send(
            Method::PATCH,
            "/v1/me",
            Req::json(&json!({ "name": "Ada B." })).bearer(api.expose()),
        )
        .await;
    assert_eq!(bearer.status(), 200);
    // A read needs no origin.
    assert_eq!(
        app.send(Method::GET, "/v1/me", Req::default().cookie(&token))
            .await
            .status(),
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn json_routes_need_json_and_bodies_have_a_limit() {
    let (_h, app) = app().await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let form = Req {
        raw: Some(("application/x-www-form-urlencoded", b"name=x".to_vec())),
        ..Req::default()
    }
    .cookie(&token)
    .origin(app.origin());
    assert_eq!(
        error_code(app.send(Method::PATCH, "/v1/me", form).await).await,
        (415, "unsupported_media_type".into())
    );
    let big = json!({ "name": "x".repeat(2 * 1024 * 1024) });
    let res = app
        .send(
            Method::PATCH,
            "/v1/me",
            Req::json(&big).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(error_code(res).await, (413, "too_large".into()));
    let bad = Req {
        raw: Some(("application/json", b"{not json".to_vec())),
        ..Req::default()
    }
    .cookie(&token)
    .origin(app.origin());
    assert_eq!(
        error_code(app.send(Method::PATCH, "/v1/me", bad).await).await,
        (400, "invalid_request".into())
    );
    let empty_name = app
        .send(
            Method::PATCH,
            "/v1/me",
            Req::json(&json!({ "name": "  " }))
                .cookie(&token)
                .origin(app.origin()),
        )
        .await;
    assert_eq!(
        error_code(empty_name).await,
        (400, "invalid_request".into())
    );
    assert_eq!(
        app.send(Method::GET, "/healthz", Req::default())
            .await
            .status(),
        200,
        "still up"
    );
    app.stop().await;
}

#[tokio::test]
async fn dev_login_never_signs_into_google_or_staff_accounts_over_http() {
    let (h, app) = app().await;
    let now = h.facetra.now();
    let base = User {
        id: UserId::new(now),
        email: Email::parse("google@example.com").unwrap(),
        name: "G".into(),
        avatar_url: None,
        google_subject: Some("1234567890".into()),
        roles: vec![Role::User],
        status: UserStatus::Active,
        consents: Consents::default(),
        age_confirmed_at: now,
        created_at: now,
        updated_at: now,
    };
    h.facetra.store().accounts.insert_user(&base).await.unwrap();
    let admin = User {
        id: UserId::new(now),
        email: Email::parse("admin@example.com").unwrap(),
        google_subject: None,
        roles: vec![Role::User, Role::Admin],
        ..base
    };
    h.facetra
        .store()
        .accounts
        .insert_user(&admin)
        .await
        .unwrap();
    for email in ["google@example.com", "admin@example.com"] {
        let body = json!({ "email": email, "name": "X", "age_confirmed": true });
        let res = app
            .send(
                Method::POST,
                "/auth/dev-login",
                Req::json(&body).origin(app.origin()),
            )
            .await;
        assert!(set_cookie(&res).is_none(), "no session for {email}");
        assert_eq!(error_code(res).await, (403, "forbidden".into()));
    }
    let minor = json!({ "email": "kid@example.com", "name": "Kid", "age_confirmed": false });
    let res = app
        .send(
            Method::POST,
            "/auth/dev-login",
            Req::json(&minor).origin(app.origin()),
        )
        .await;
    assert_eq!(error_code(res).await, (400, "invalid_request".into()));
    app.stop().await;
}

#[tokio::test]
async fn signing_in_again_rotates_the_token_and_logout_revokes_it() {
    let (_h, app) = app().await;
    let (first, _) = app.dev_login("ada@example.com").await;
    let body = json!({ "email": "ada@example.com", "name": "Ada", "age_confirmed": true });
    let res = app
        .send(
            Method::POST,
            "/auth/dev-login",
            Req::json(&body).cookie(&first).origin(app.origin()),
        )
        .await;
    let second = session_token(&res).unwrap();
    assert_ne!(first, second);
    let old = app
        .send(Method::GET, "/v1/me", Req::default().cookie(&first))
        .await;
    assert_eq!(error_code(old).await, (401, "unauthenticated".into()));

    let out = app
        .send(
            Method::POST,
            "/auth/logout",
            Req::default().cookie(&second).origin(app.origin()),
        )
        .await;
    assert_eq!(out.status(), 204);
    let cleared = set_cookie(&out).unwrap();
    assert!(
        cleared.starts_with("session_token=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(
        app.send(Method::GET, "/v1/me", Req::default().cookie(&second))
            .await
            .status(),
        401
    );
    assert_eq!(
        app.send(Method::GET, "/v1/me", Req::default())
            .await
            .status(),
        401
    );
    app.stop().await;
}

#[tokio::test]
async fn dev_login_does_not_exist_unless_enabled() {
    let h = Harness::new(Backend::Sqlite).await;
    let app = TestApp::spawn(&h).await;
    let body = json!({ "email": "ada@example.com", "name": "Ada", "age_confirmed": true });
    let res = app
        .send(Method::POST, "/auth/dev-login", Req::json(&body))
        .await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    app.stop().await;
}

/// Every route of API.md (and the three this project added: the nominee and the staff's role
/// and demo routes), as method and path.
const CONTRACT: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/openapi.json"),
    ("post", "/auth/google/id-token"),
    ("get", "/auth/google/start"),
    ("get", "/auth/google/callback"),
    ("post", "/auth/dev-login"),
    ("post", "/auth/logout"),
    ("get", "/v1/me"),
    ("patch", "/v1/me"),
    ("get", "/v1/me/consents"),
    ("put", "/v1/me/consents"),
    ("post", "/v1/tokens"),
    ("get", "/v1/tokens"),
    ("delete", "/v1/tokens/{id}"),
    ("get", "/v1/packs"),
    ("get", "/v1/credits"),
    ("get", "/v1/credits/transactions"),
    ("post", "/v1/orders"),
    ("post", "/v1/payments/verify"),
    ("post", "/v1/payment-links"),
    ("get", "/v1/payment-links/{id}"),
    ("post", "/webhooks/razorpay"),
    ("post", "/v1/uploads"),
    ("post", "/v1/renders"),
    ("post", "/v1/renders/quote"),
    ("get", "/v1/jobs"),
    ("get", "/v1/jobs/{id}"),
    ("post", "/v1/jobs/{id}/cancel"),
    ("get", "/v1/renders"),
    ("get", "/v1/renders/{id}"),
    ("delete", "/v1/renders/{id}"),
    ("post", "/v1/renders/{id}/selection"),
    ("delete", "/v1/renders/{id}/selection"),
    ("get", "/v1/renders/{id}/download"),
    ("get", "/files/{blob}"),
    ("get", "/v1/renders/{id}/bom"),
    ("put", "/v1/renders/{id}/bom"),
    ("post", "/v1/renders/{id}/bom/generate"),
    ("get", "/v1/renders/{id}/bom/history"),
    ("get", "/v1/portfolios"),
    ("post", "/v1/portfolios"),
    ("get", "/v1/portfolios/{id}"),
    ("patch", "/v1/portfolios/{id}"),
    ("delete", "/v1/portfolios/{id}"),
    ("put", "/v1/portfolios/{id}/renders"),
    ("post", "/v1/privacy/requests"),
    ("get", "/v1/privacy/requests"),
    ("get", "/v1/privacy/export"),
    ("get", "/v1/privacy/nominee"),
    ("put", "/v1/privacy/nominee"),
    ("delete", "/v1/privacy/nominee"),
    ("post", "/v1/messages"),
    ("get", "/v1/messages"),
    ("get", "/v1/messages/{id}"),
    ("post", "/v1/messages/{id}/replies"),
    ("post", "/v1/events"),
    ("post", "/v1/waitlist"),
    ("post", "/v1/demo-bookings"),
    ("get", "/admin/v1/users"),
    ("post", "/admin/v1/users/{id}/credits"),
    ("put", "/admin/v1/users/{id}/roles"),
    ("get", "/admin/v1/waitlist"),
    ("post", "/admin/v1/waitlist/{id}/approve"),
    ("get", "/admin/v1/demos"),
    ("get", "/admin/v1/privacy/requests"),
];

#[tokio::test]
async fn the_openapi_document_describes_every_route_its_errors_and_who_may_call_it() {
    let h = Harness::with(
        Backend::Sqlite,
        &[
            (keys::DEV_LOGIN, "true"),
            (keys::RATE_LIMIT_ADMIN_PER_MIN, "10000"),
            (keys::ADMIN_LOCKOUT_FAILURES, "1000"),
        ],
    )
    .await;
    let app = TestApp::spawn(&h).await;
    let doc: Value = app
        .send(Method::GET, "/openapi.json", Req::default())
        .await
        .json()
        .await
        .unwrap();
    let public = facetra_server::openapi::PUBLIC;
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    for (method, path) in CONTRACT {
        let op = &doc["paths"][path][method];
        assert!(
            op.is_object(),
            "{method} {path} is missing from /openapi.json"
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses
                .keys()
                .any(|s| s.starts_with('2') || s.starts_with('3')),
            "{method} {path} documents no success"
        );
        for (status, answer) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    answer["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status} is not the error envelope"
                );
            }
        }
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(secured, !public.contains(path), "{method} {path}");
        if path.starts_with("/auth/google") {
            continue; // only served with Google configured (tests/tests/signin.rs)
        }
        // The document says who may call it; the server agrees.
        let concrete = path.replace("{id}", "x").replace("{blob}", "x");
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = app.send(m, &concrete, Req::default()).await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap_or_default();
        assert!(
            !body.contains("no such route"),
            "{method} {path} is not served"
        );
        assert_eq!(
            status == 401,
            secured,
            "{method} {path} answered {status} without a sign-in"
        );
    }
    for (method, path) in &documented {
        assert!(
            CONTRACT.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is documented but not in the contract list"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // A client generator names one method per operation: the ids must differ.
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "operation ids repeat");
    assert_eq!(all, CONTRACT.len());
    app.stop().await;
}

/// A TCP relay in front of the MongoDB server, so a test can cut the store off.
/// A TCP relay to the MongoDB server that can be cut (every connection dropped, new ones
/// refused) and mended.
struct Relay {
    addr: std::net::SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    cuts: tokio::sync::watch::Sender<u64>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (cuts, watch) = tokio::sync::watch::channel(0u64);
        let flag = up.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let target = target.clone();
                let mut cut = watch.clone();
                // Only cuts from now on close this connection.
                cut.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Relay { addr, up, cuts }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    fn mend(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// A MongoDB URL through this relay.
    fn url(&self, extra: &str) -> String {
        let uri = facetra_tests::harness::mongo_uri();
        let host = uri
            .trim_start_matches("mongodb://")
            .split(['/', '?'])
            .next()
            .unwrap()
            .to_owned();
        let relayed = uri.replacen(&host, &self.addr.to_string(), 1);
        let sep = if relayed.contains('?') { '&' } else { '?' };
        format!("{relayed}{sep}directConnection=true{extra}")
    }
}

fn mongo_host() -> String {
    facetra_tests::harness::mongo_uri()
        .trim_start_matches("mongodb://")
        .split(['/', '?'])
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs FACETRA_TEST_MONGODB_URI"]
async fn while_mongodb_is_unreachable_requests_answer_503_at_once_and_recover_without_a_restart() {
    let relay = Relay::start(mongo_host()).await;
    // The driver's own server-selection timeout stays at its 5 s default.
    let url = relay.url("");
    let h = Harness::with(
        Backend::Mongo,
        &[
            (keys::DATABASE_URL, url.as_str()),
            (keys::DEV_LOGIN, "true"),
        ],
    )
    .await;
    let app = TestApp::spawn(&h).await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let me = || app.send(Method::GET, "/v1/me", Req::default().cookie(&token));
    assert_eq!(me().await.status(), 200);
    relay.cut();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let res = me().await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
        assert!(res.headers().contains_key("retry-after"));
        assert_eq!(error_code(res).await, (503, "unavailable".into()));
    }
    let health = app.send(Method::GET, "/healthz", Req::default()).await;
    assert_eq!(health.status(), 200, "alive while the store is down");
    relay.mend();
    let mut back = false;
    for _ in 0..100 {
        if me().await.status() == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        back,
        "the server serves again once MongoDB is back, with no restart"
    );
    app.stop().await;
    h.finish().await;
}

#[tokio::test]
#[ignore = "needs FACETRA_TEST_MONGODB_URI"]
async fn readyz_answers_503_while_the_mongo_store_is_down() {
    let relay = Relay::start(mongo_host()).await;
    let relayed = relay.url("&serverSelectionTimeoutMS=1000");
    let h = Harness::with(Backend::Mongo, &[(keys::DATABASE_URL, relayed.as_str())]).await;
    let app = TestApp::spawn(&h).await;
    assert_eq!(
        app.send(Method::GET, "/readyz", Req::default())
            .await
            .status(),
        200
    );
    relay.cut();
    let down = app.send(Method::GET, "/readyz", Req::default()).await;
    assert_eq!(error_code(down).await, (503, "unavailable".into()));
    assert_eq!(
        app.send(Method::GET, "/healthz", Req::default())
            .await
            .status(),
        200,
        "alive while not ready"
    );
    app.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn packs_are_public_and_a_new_account_starts_with_trial_credits() {
    let (_h, app) = app().await;
    let packs: Value = app
        .send(Method::GET, "/v1/packs", Req::default())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        packs["packs"][0],
        json!({ "id": "starter", "name": "Starter", "credits": 50, "price_paise": 49900, "currency": "INR" })
    );
    assert_eq!(packs["packs"].as_array().unwrap().len(), 3);
    let (token, _) = app.dev_login("ada@example.com").await;
    let balance: Value = app
        .send(Method::GET, "/v1/credits", Req::default().cookie(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(balance, json!({ "balance": 10 }));
    // Signing in again gives no second trial.
    let (token, _) = app.dev_login("ada@example.com").await;
    let list: Value = app
        .send(
            Method::GET,
            "/v1/credits/transactions?limit=10",
            Req::default().cookie(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let t = &list["items"][0];
    assert_eq!(
        (
            t["kind"].as_str(),
            t["amount"].as_i64(),
            t["balance_after"].as_i64()
        ),
        (Some("trial"), Some(10), Some(10))
    );
    for field in ["id", "reason", "reference", "created_at"] {
        assert!(t.get(field).is_some(), "transaction lacks {field}");
    }
    assert!(list["next_cursor"].is_null());
    let bad = app
        .send(
            Method::GET,
            "/v1/credits/transactions?limit=500",
            Req::default().cookie(&token),
        )
        .await;
    assert_eq!(error_code(bad).await, (400, "invalid_request".into()));
    assert_eq!(
        app.send(Method::GET, "/v1/credits", Req::default())
            .await
            .status(),
        401
    );
    app.stop().await;
}

#[tokio::test]
async fn payment_routes_answer_503_payments_disabled_without_razorpay() {
    let (_h, app) = app().await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let body = json!({ "pack_id": "starter" });
    let res = app
        .send(
            Method::POST,
            "/v1/orders",
            Req::json(&body).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(error_code(res).await, (503, "payments_disabled".into()));
    let res = app
        .send(
            Method::POST,
            "/v1/payment-links",
            Req::json(&body).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(error_code(res).await, (503, "payments_disabled".into()));
    let hook = Req {
        raw: Some(("application/json", b"{}".to_vec())),
        ..Req::default()
    };
    assert_eq!(
        error_code(app.send(Method::POST, "/webhooks/razorpay", hook).await).await,
        (503, "payments_disabled".into())
    );
    app.stop().await;
}

#[tokio::test]
async fn checkout_over_http_orders_verifies_and_takes_signed_webhooks_only() {
    use facetra_tests::razorpay_stub::RazorpayStub;
    let stub = RazorpayStub::start().await;
    let h = Harness::with_stub(
        Backend::Sqlite,
        stub.settings(),
        &[(keys::DEV_LOGIN, "true")],
    )
    .await;
    let app = TestApp::spawn(&h).await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let res = app
        .send(
            Method::POST,
            "/v1/orders",
            Req::json(&json!({ "pack_id": "studio" }))
                .cookie(&token)
                .origin(app.origin()),
        )
        .await;
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    assert_eq!(order["amount"], 149_900);
    assert_eq!(order["currency"], "INR");
    assert_eq!(order["key_id"], stub.key_id.as_str());
    assert_eq!(order["pack_id"], "studio");
    let order_id = order["order_id"].as_str().unwrap().to_owned();

    let paid = stub.pay_order(&order_id, "authorized");
    let verify = json!({
        "razorpay_order_id": order_id, "razorpay_payment_id": paid,
        "razorpay_signature": stub.checkout_signature(&order_id, &paid),
    });
    let res = app
        .send(
            Method::POST,
            "/v1/payments/verify",
            Req::json(&verify).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(res.status(), 202);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "status": "pending" })
    );
    let mut forged = verify.clone();
    forged["razorpay_signature"] = json!("00".repeat(32));
    let res = app
        .send(
            Method::POST,
            "/v1/payments/verify",
            Req::json(&forged).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(error_code(res).await, (403, "invalid_signature".into()));

    stub.capture(&paid);
    let (body, sig) = stub.webhook("payment.captured", &paid);
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
    let resent = app
        .http
        .post(format!("{}/webhooks/razorpay", app.base))
        .header("content-type", "application/json")
        .header("x-razorpay-signature", &sig)
        .header("x-razorpay-event-id", "evt_http")
        .body(pretty)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resent).await, (403, "invalid_signature".into()));
    let balance: Value = app
        .send(Method::GET, "/v1/credits", Req::default().cookie(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        balance["balance"], 10,
        "a re-serialised body credits nothing"
    );
    for _ in 0..2 {
        let ok = app
            .http
            .post(format!("{}/webhooks/razorpay", app.base))
            .header("content-type", "application/json")
            .header("x-razorpay-signature", &sig)
            .header("x-razorpay-event-id", "evt_http")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
    }
    let res = app
        .send(
            Method::POST,
            "/v1/payments/verify",
            Req::json(&verify).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "status": "credited", "balance": 210 })
    );

    let res = app
        .send(
            Method::POST,
            "/v1/payment-links",
            Req::json(&json!({ "pack_id": "starter" }))
                .cookie(&token)
                .origin(app.origin()),
        )
        .await;
    assert_eq!(res.status(), 201);
    let link: Value = res.json().await.unwrap();
    for field in ["id", "status", "short_url", "pack_id"] {
        assert!(link.get(field).is_some(), "PaymentLink lacks {field}");
    }
    let plink = stub.links().pop().unwrap();
    stub.pay_link(&plink);
    let path = format!("/v1/payment-links/{}", link["id"].as_str().unwrap());
    let now: Value = app
        .send(Method::GET, &path, Req::default().cookie(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "credited");
    let (other, _) = app.dev_login("eve@example.com").await;
    assert_eq!(
        app.send(Method::GET, &path, Req::default().cookie(&other))
            .await
            .status(),
        404
    );
    app.stop().await;
}

async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new()
        .text("kind", "sketch")
        .part("file", part);
    app.http
        .post(format!("{}/v1/uploads", app.base))
        .header("cookie", format!("session_token={token}"))
        .header("origin", app.origin())
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn uploads_refuse_text_oversized_and_absurd_images_with_a_clear_4xx_and_the_server_stays_up()
{
    use facetra_tests::images::{png, png_claiming};
    let h = Harness::with(
        Backend::Sqlite,
        &[
            (keys::DEV_LOGIN, "true"),
            (keys::UPLOAD_MAX_BYTES, "2000000"),
        ],
    )
    .await;
    let app = TestApp::spawn(&h).await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let ok = upload(&app, &token, "sketch.png", png(120, 80)).await;
    assert_eq!(ok.status(), 201);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(
        (
            body["mime"].as_str(),
            body["width"].as_u64(),
            body["kind"].as_str()
        ),
        (Some("image/png"), Some(120), Some("sketch"))
    );
    for field in ["id", "height", "size", "sha256"] {
        assert!(body.get(field).is_some(), "upload lacks {field}");
    }
    let text = upload(&app, &token, "sketch.png", b"not an image at all".to_vec()).await;
    assert_eq!(
        error_code(text).await,
        (415, "unsupported_media_type".into())
    );
    let huge = upload(&app, &token, "huge.png", vec![0x89; 3_000_000]).await;
    assert_eq!(error_code(huge).await, (413, "too_large".into()));
    let absurd = upload(&app, &token, "absurd.png", png_claiming(100_000, 100_000)).await;
    assert_eq!(error_code(absurd).await, (422, "invalid_image".into()));
    assert_eq!(
        app.send(Method::GET, "/healthz", Req::default())
            .await
            .status(),
        200,
        "still up"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_render_through_the_server_is_downloaded_by_a_signed_link_that_expires_and_dies_with_the_render(
) {
    use facetra_tests::images::png;
    let (h, app) = app().await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let (eve, _) = app.dev_login("eve@example.com").await;
    let up: Value = upload(&app, &token, "sketch.png", png(200, 150))
        .await
        .json()
        .await
        .unwrap();
    let body = json!({ "prompt": "an oak desk with a brass lamp", "sketch_id": up["id"], "variants": 2, "aspect_ratio": "4:3" });
    let quote: Value = app
        .send(
            Method::POST,
            "/v1/renders/quote",
            Req::json(&body).cookie(&token).origin(app.origin()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(quote, json!({ "credits": 2 }));
    let res = app
        .send(
            Method::POST,
            "/v1/renders",
            Req::json(&body).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(res.status(), 202);
    let job = res.json::<Value>().await.unwrap()["job"].clone();
    for field in [
        "id",
        "status",
        "status_seq",
        "variants",
        "credits_reserved",
        "credits_charged",
        "credits_refunded",
        "created_at",
        "finished_at",
    ] {
        assert!(job.get(field).is_some(), "Job lacks {field}: {job}");
    }
    // The same idempotency key for a different request is refused; for the same one it
    // answers the first job.
    let keyed =
        json!({ "prompt": "a cane chair", "sketch_id": up["id"], "idempotency_key": "k-1" });
    let first = app
        .send(
            Method::POST,
            "/v1/renders",
            Req::json(&keyed).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(first.status(), 202);
    let first = first.json::<Value>().await.unwrap()["job"]["id"].clone();
    let again = app
        .send(
            Method::POST,
            "/v1/renders",
            Req::json(&keyed).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(again.json::<Value>().await.unwrap()["job"]["id"], first);
    let changed =
        json!({ "prompt": "a rattan chair", "sketch_id": up["id"], "idempotency_key": "k-1" });
    let refused = app
        .send(
            Method::POST,
            "/v1/renders",
            Req::json(&changed).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(
        error_code(refused).await,
        (409, "idempotency_conflict".to_owned())
    );
    let path = format!("/v1/jobs/{}", job["id"].as_str().unwrap());
    let mut done = Value::Null;
    for _ in 0..200 {
        done = app
            .send(Method::GET, &path, Req::default().cookie(&token))
            .await
            .json()
            .await
            .unwrap();
        if done["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(done["status_seq"].as_u64() > job["status_seq"].as_u64());
    assert_eq!(
        app.send(Method::GET, &path, Req::default().cookie(&eve))
            .await
            .status(),
        404,
        "another user's job"
    );
    let render_id = done["variants"][0]["render_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let render: Value = app
        .send(
            Method::GET,
            &format!("/v1/renders/{render_id}"),
            Req::default().cookie(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(render["provenance"]["provider"], "local");
    assert_eq!(render["provenance"]["inputs_sha256"], json!([up["sha256"]]));
    let selected: Value = app
        .send(
            Method::POST,
            &format!("/v1/renders/{render_id}/selection"),
            Req::default().cookie(&token).origin(app.origin()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(selected["selected"], true);
    let picked: Value = app
        .send(
            Method::GET,
            "/v1/renders?selected=true",
            Req::default().cookie(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(picked["items"].as_array().unwrap().len(), 1);
    let others: Value = app
        .send(Method::GET, "/v1/renders", Req::default().cookie(&eve))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        others["items"].as_array().unwrap().is_empty(),
        "never in another user's list"
    );
    assert_eq!(
        app.send(
            Method::GET,
            &format!("/v1/renders/{render_id}/download"),
            Req::default().cookie(&eve)
        )
        .await
        .status(),
        404
    );

    let link: Value = app
        .send(
            Method::GET,
            &format!("/v1/renders/{render_id}/download"),
            Req::default().cookie(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    let url = link["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{}/files/blb_", app.base))
            && url.contains("exp=")
            && url.contains("kid=")
            && url.contains("sig="),
        "{url}"
    );
    let file = app.http.get(&url).send().await.unwrap();
    assert_eq!(file.status(), 200, "no session needed");
    assert_eq!(file.headers()["content-type"], "image/png");
    image::load_from_memory(&file.bytes().await.unwrap()).expect("the render itself");
    let tampered = url.replacen("sig=", "sig=0", 1);
    let flipped = format!(
        "{}{}",
        &url[..url.len() - 1],
        if url.ends_with('0') { '1' } else { '0' }
    );
    for bad in [
        tampered,
        flipped,
        url.split("&sig=").next().unwrap().to_owned(),
    ] {
        assert_eq!(
            error_code(app.http.get(&bad).send().await.unwrap()).await,
            (403, "invalid_signature".into()),
            "{bad}"
        );
    }
    h.clock.advance(chrono::Duration::seconds(901));
    assert_eq!(
        error_code(app.http.get(&url).send().await.unwrap()).await,
        (403, "expired_link".into())
    );
    let fresh: Value = app
        .send(
            Method::GET,
            &format!("/v1/renders/{render_id}/download"),
            Req::default().cookie(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    let fresh = fresh["url"].as_str().unwrap().to_owned();
    assert_eq!(app.http.get(&fresh).send().await.unwrap().status(), 200);
    let gone = app
        .send(
            Method::DELETE,
            &format!("/v1/renders/{render_id}"),
            Req::default().cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(gone.status(), 204);
    assert_eq!(
        error_code(app.http.get(&fresh).send().await.unwrap()).await,
        (404, "not_found".into()),
        "a deleted render's link is dead"
    );
    assert_eq!(
        app.send(
            Method::GET,
            &format!("/v1/renders/{render_id}"),
            Req::default().cookie(&token)
        )
        .await
        .status(),
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bom_saved_with_a_stale_version_is_409_stale_version() {
    use facetra_tests::images::png;
    let (_h, app) = app().await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let up: Value = upload(&app, &token, "sketch.png", png(100, 80))
        .await
        .json()
        .await
        .unwrap();
    let body = json!({ "prompt": "an oak table and four linen chairs", "sketch_id": up["id"] });
    let job = app
        .send(
            Method::POST,
            "/v1/renders",
            Req::json(&body).cookie(&token).origin(app.origin()),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["job"]
        .clone();
    let path = format!("/v1/jobs/{}", job["id"].as_str().unwrap());
    let mut render = String::new();
    for _ in 0..200 {
        let now: Value = app
            .send(Method::GET, &path, Req::default().cookie(&token))
            .await
            .json()
            .await
            .unwrap();
        if let Some(r) = now["variants"][0]["render_id"].as_str() {
            render = r.to_owned();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let bom_path = format!("/v1/renders/{render}/bom");
    let generated: Value = app
        .send(
            Method::POST,
            &format!("{bom_path}/generate"),
            Req::default().cookie(&token).origin(app.origin()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (generated["version"].as_i64(), generated["source"].as_str()),
        (Some(1), Some("local"))
    );
    for field in ["render_id", "items", "updated_at"] {
        assert!(generated.get(field).is_some(), "BOM lacks {field}");
    }
    let edit = json!({ "version": 1, "items": [{ "name": "Table", "category": "furniture", "material": "oak", "quantity": 1, "unit": "pc", "unit_price_paise": 2400000, "note": "" }] });
    let saved = app
        .send(
            Method::PUT,
            &bom_path,
            Req::json(&edit).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(saved.status(), 200);
    assert_eq!(saved.json::<Value>().await.unwrap()["version"], 2);
    let stale = app
        .send(
            Method::PUT,
            &bom_path,
            Req::json(&edit).cookie(&token).origin(app.origin()),
        )
        .await;
    assert_eq!(error_code(stale).await, (409, "stale_version".into()));
    let history: Value = app
        .send(
            Method::GET,
            &format!("{bom_path}/history"),
            Req::default().cookie(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["items"].as_array().unwrap().len(), 2);
    let (eve, _) = app.dev_login("eve@example.com").await;
    assert_eq!(
        app.send(Method::GET, &bom_path, Req::default().cookie(&eve))
            .await
            .status(),
        404
    );
    app.stop().await;
}

/// Renders through the server with a provider stub, start to finish; the render's provider.
async fn render_through_the_server(settings: Vec<(&'static str, String)>) -> Value {
    use facetra_tests::images::png;
    let h = Harness::with_stub(Backend::Sqlite, settings, &[(keys::DEV_LOGIN, "true")]).await;
    let app = TestApp::spawn(&h).await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let up: Value = upload(&app, &token, "sketch.png", png(120, 90))
        .await
        .json()
        .await
        .unwrap();
    let body = json!({ "prompt": "a rattan chair", "sketch_id": up["id"], "variants": 1 });
    let job = app
        .send(
            Method::POST,
            "/v1/renders",
            Req::json(&body).cookie(&token).origin(app.origin()),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["job"]
        .clone();
    let path = format!("/v1/jobs/{}", job["id"].as_str().unwrap());
    for _ in 0..200 {
        let now: Value = app
            .send(Method::GET, &path, Req::default().cookie(&token))
            .await
            .json()
            .await
            .unwrap();
        if now["status"] == "succeeded" {
            let id = now["variants"][0]["render_id"].as_str().unwrap().to_owned();
            let render: Value = app
                .send(
                    Method::GET,
                    &format!("/v1/renders/{id}"),
                    Req::default().cookie(&token),
                )
                .await
                .json()
                .await
                .unwrap();
            app.stop().await;
            return render;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job did not finish");
}

#[tokio::test]
async fn the_same_flow_works_through_the_server_with_the_gemini_and_the_emergent_stubs() {
    let gemini = facetra_tests::gemini_stub::GeminiStub::start().await;
    let render = render_through_the_server(gemini.settings()).await;
    assert_eq!(render["provenance"]["provider"], "gemini");
    assert_eq!(gemini.requests().len(), 1);
    let emergent = facetra_tests::emergent_stub::EmergentStub::start().await;
    let render = render_through_the_server(emergent.settings()).await;
    assert_eq!(render["provenance"]["provider"], "emergent");
    assert_eq!(emergent.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_is_the_image_its_bytes_are_whatever_the_provider_claims_and_files_are_sandboxed()
{
    use facetra_tests::gemini_stub::{GeminiStub, Reply};
    use facetra_tests::images::png;
    let stub = GeminiStub::start().await;
    stub.then(&[
        Reply::Labelled("text/html", None),
        Reply::Labelled(
            "image/png",
            Some(b"<html><script>alert(document.cookie)</script></html>"),
        ),
    ]);
    let h = Harness::with_stub(
        Backend::Sqlite,
        stub.settings(),
        &[(keys::DEV_LOGIN, "true")],
    )
    .await;
    let app = TestApp::spawn(&h).await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let up: Value = upload(&app, &token, "sketch.png", png(120, 90))
        .await
        .json()
        .await
        .unwrap();
    let body = json!({ "prompt": "a rattan chair", "sketch_id": up["id"], "variants": 2 });
    let job = app
        .send(
            Method::POST,
            "/v1/renders",
            Req::json(&body).cookie(&token).origin(app.origin()),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["job"]
        .clone();
    let path = format!("/v1/jobs/{}", job["id"].as_str().unwrap());
    let mut done = Value::Null;
    for _ in 0..200 {
        done = app
            .send(Method::GET, &path, Req::default().cookie(&token))
            .await
            .json()
            .await
            .unwrap();
        if done["finished_at"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // A PNG labelled text/html is stored as the PNG it is; HTML labelled as a PNG fails.
    assert_eq!(done["variants"][0]["status"], "succeeded", "{done}");
    assert_eq!(done["variants"][1]["status"], "failed", "{done}");
    assert_eq!(done["variants"][1]["failure_class"], "provider_error");
    assert_eq!(done["credits_refunded"], 1);
    let id = done["variants"][0]["render_id"].as_str().unwrap();
    let render: Value = app
        .send(
            Method::GET,
            &format!("/v1/renders/{id}"),
            Req::default().cookie(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(render["mime"], "image/png");
    let link: Value = app
        .send(
            Method::GET,
            &format!("/v1/renders/{id}/download"),
            Req::default().cookie(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    let file = app
        .http
        .get(link["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    let header = |name: &str| {
        file.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "image/png");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(
        header("content-security-policy"),
        "default-src 'none'; sandbox"
    );
    let disposition = header("content-disposition");
    assert!(
        disposition.starts_with("inline; filename=\"blb_") && disposition.ends_with(".png\""),
        "{disposition}"
    );
    // Every answer carries the baseline headers, errors and health included.
    for path in ["/healthz", "/v1/me", "/no/such/route"] {
        let res = app.send(Method::GET, path, Req::default()).await;
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("x-frame-options", "DENY"),
        ] {
            assert_eq!(
                res.headers().get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "{path} {name}"
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn dev_login_with_a_foreign_host_or_origin_sets_no_cookie() {
    let (_h, app) = app().await;
    let body = json!({ "email": "ada@example.com", "name": "Ada", "age_confirmed": true });
    let url = format!("{}/auth/dev-login", app.base);
    let attempt = |host: Option<&str>, origin: Option<&str>| {
        let mut req = app
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(h) = host {
            req = req.header("host", h);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    // DNS rebinding: the attacker's name resolves to 127.0.0.1, so its page's requests carry
    // its own Host (and Origin).
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let rebound = format!("evil.example:{port}");
    for (host, origin) in [
        (Some(rebound.as_str()), Some(format!("http://{rebound}"))),
        (None, Some("https://evil.example".to_owned())),
        (None, None),
    ] {
        let res = attempt(host, origin.as_deref()).await.unwrap();
        assert!(
            set_cookie(&res).is_none(),
            "a cookie for host {host:?}, origin {origin:?}"
        );
        assert_eq!(error_code(res).await, (403, "forbidden".into()));
    }
    // Any route, not only sign-in, refuses a foreign Host while dev login is on.
    let res = app
        .http
        .get(format!("{}/healthz", app.base))
        .header("host", &rebound)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let ok = attempt(None, Some(app.origin())).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(set_cookie(&ok).is_some());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_always_gets_the_envelope_with_the_field_named() {
    use facetra_tests::images::png;
    let (_h, app) = app().await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let (eve, _) = app.dev_login("eve@example.com").await;
    let get = |path: String, who: &str| {
        let who = who.to_owned();
        let app = &app;
        async move {
            app.send(Method::GET, &path, Req::default().cookie(&who))
                .await
        }
    };
    for (path, field) in [
        ("/v1/renders?limit=-1", "limit"),
        ("/v1/renders?limit=1000", "limit"),
        ("/v1/renders?selected=maybe", "selected"),
        ("/v1/renders?cursor=garbage", "cursor"),
        ("/v1/jobs?cursor=e30", "cursor"),
        ("/v1/portfolios?limit=abc", "limit"),
        ("/v1/credits/transactions?limit=0", "limit"),
    ] {
        let res = get(path.to_owned(), &token).await;
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "{path}"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_request", "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{path}: {message}");
    }
    // A render and a portfolio holding it.
    let up: Value = upload(&app, &token, "sketch.png", png(120, 90))
        .await
        .json()
        .await
        .unwrap();
    let post = |path: &'static str, body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.send(
                Method::POST,
                path,
                Req::json(&body).cookie(&token).origin(app.origin()),
            )
            .await
        }
    };
    for (body, field) in [
        (
            json!({ "prompt": "a lamp\u{0}", "sketch_id": up["id"] }),
            "prompt",
        ),
        (
            json!({ "prompt": "a lamp", "sketch_id": up["id"], "style": "x\u{1b}[31m" }),
            "style",
        ),
        (
            json!({ "prompt": "a lamp", "sketch_id": up["id"], "idempotency_key": "k\u{0}" }),
            "idempotency_key",
        ),
    ] {
        let res = post("/v1/renders", body).await;
        let (status, code) = error_code(res).await;
        assert_eq!((status, code.as_str()), (400, "invalid_request"), "{field}");
    }
    let job = post(
        "/v1/renders",
        json!({ "prompt": "an oak table", "sketch_id": up["id"], "variants": 2 }),
    )
    .await
    .json::<Value>()
    .await
    .unwrap()["job"]
        .clone();
    let path = format!("/v1/jobs/{}", job["id"].as_str().unwrap());
    let mut done = Value::Null;
    for _ in 0..200 {
        done = get(path.clone(), &token).await.json().await.unwrap();
        if done["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let first = done["variants"][0]["render_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let portfolio: Value = post("/v1/portfolios", json!({ "name": "Best" }))
        .await
        .json()
        .await
        .unwrap();
    let pid = portfolio["id"].as_str().unwrap();
    app.send(
        Method::PUT,
        &format!("/v1/portfolios/{pid}/renders"),
        Req::json(&json!({ "render_ids": [first] }))
            .cookie(&token)
            .origin(app.origin()),
    )
    .await;
    let listed: Value = get(format!("/v1/renders?portfolio_id={pid}"), &token)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.as_str()], "portfolio_id filters");
    let theirs = get(format!("/v1/renders?portfolio_id={pid}"), &eve).await;
    assert_eq!(error_code(theirs).await, (404, "not_found".into()));
    // BOM numbers have bounds a person would recognise.
    for item in [
        json!({ "name": "Rug", "category": "textiles", "material": "wool", "quantity": 1e308, "unit": "m²", "unit_price_paise": 100 }),
        json!({ "name": "Rug", "category": "textiles", "material": "wool", "quantity": 1, "unit": "m²", "unit_price_paise": i64::MAX }),
        json!({ "name": "Rug\u{0}", "category": "textiles", "material": "wool", "quantity": 1, "unit": "m²", "unit_price_paise": 100 }),
    ] {
        let res = app
            .send(
                Method::PUT,
                &format!("/v1/renders/{first}/bom"),
                Req::json(&json!({ "version": 0, "items": [item] }))
                    .cookie(&token)
                    .origin(app.origin()),
            )
            .await;
        assert_eq!(
            error_code(res).await,
            (400, "invalid_request".into()),
            "{item}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn api_tokens_are_shown_once_scoped_and_revoked_at_once() {
    use facetra_tests::images::png;
    let (h, app) = app().await;
    let (session, _) = app.dev_login("ada@example.com").await;
    let create = |body: Value| {
        let app = &app;
        let session = session.clone();
        async move {
            app.send(
                Method::POST,
                "/v1/tokens",
                Req::json(&body).cookie(&session).origin(app.origin()),
            )
            .await
        }
    };
    let made = create(json!({ "name": "dashboard", "scopes": ["read"] })).await;
    assert_eq!(made.status(), 201);
    let made: Value = made.json().await.unwrap();
    let read = made["token"].as_str().unwrap().to_owned();
    assert!(read.starts_with("fct_"), "{made}");
    assert_eq!(made["scopes"], json!(["read"]));
    let write: Value = create(json!({ "name": "cli", "expires_in_days": 7 }))
        .await
        .json()
        .await
        .unwrap();
    let write_token = write["token"].as_str().unwrap().to_owned();
    assert_eq!(write["scopes"], json!(["read", "write"]));
    let too_long = create(json!({ "name": "forever", "expires_in_days": 91 })).await;
    assert_eq!(error_code(too_long).await, (400, "invalid_request".into()));

    // Listed without secrets.
    let listed = app
        .send(Method::GET, "/v1/tokens", Req::default().bearer(&read))
        .await;
    assert_eq!(listed.status(), 200, "a read token reads");
    let listed = listed.text().await.unwrap();
    assert!(
        !listed.contains(&read) && !listed.contains(&write_token),
        "{listed}"
    );
    assert!(listed.contains("dashboard"), "{listed}");

    // A read token cannot start a render; a write token can.
    let up: Value = upload(&app, &session, "sketch.png", png(64, 48))
        .await
        .json()
        .await
        .unwrap();
    let render = json!({ "prompt": "an oak desk", "sketch_id": up["id"] });
    let refused = app
        .send(
            Method::POST,
            "/v1/renders",
            Req::json(&render).bearer(&read),
        )
        .await;
    assert_eq!(error_code(refused).await, (403, "forbidden".into()));
    let user = h
        .facetra
        .store()
        .accounts
        .user_by_email(&Email::parse("ada@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        h.facetra
            .credits()
            .balance(&facetra_core::Actor::User(user.id.clone()))
            .await
            .unwrap(),
        h.facetra.config().trial_credits,
        "a refused render reserved nothing"
    );
    let accepted = app
        .send(
            Method::POST,
            "/v1/renders",
            Req::json(&render).bearer(&write_token),
        )
        .await;
    assert_eq!(accepted.status(), 202);

    // Revoked: refused at once, and only its owner can revoke it.
    let (eve, _) = app.dev_login("eve@example.com").await;
    let id = made["id"].as_str().unwrap();
    let path = format!("/v1/tokens/{id}");
    let foreign = app
        .send(
            Method::DELETE,
            &path,
            Req::default().cookie(&eve).origin(app.origin()),
        )
        .await;
    assert_eq!(error_code(foreign).await, (404, "not_found".into()));
    let revoked = app
        .send(Method::DELETE, &path, Req::default().bearer(&write_token))
        .await;
    assert_eq!(revoked.status(), 204);
    let after = app
        .send(Method::GET, "/v1/me", Req::default().bearer(&read))
        .await;
    assert_eq!(after.status(), 401);

    // Neither raw token reached the store.
    let bytes = h.stored_bytes().await;
    for raw in [&read, &write_token] {
        assert!(
            !facetra_tests::harness::contains(&bytes, raw),
            "a raw API token is stored"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn consents_are_read_and_changed_over_http_and_start_off() {
    let (_h, app) = app().await;
    let (token, user) = app.dev_login("ada@example.com").await;
    assert_eq!(
        user["consents"],
        json!({ "analytics": false, "marketing": false })
    );
    let got: Value = app
        .send(
            Method::GET,
            "/v1/me/consents",
            Req::default().cookie(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, json!({ "analytics": false, "marketing": false }));
    let put = app
        .send(
            Method::PUT,
            "/v1/me/consents",
            Req::json(&json!({ "analytics": true }))
                .cookie(&token)
                .origin(app.origin()),
        )
        .await;
    assert_eq!(put.status(), 200);
    assert_eq!(
        put.json::<Value>().await.unwrap(),
        json!({ "analytics": true, "marketing": false })
    );
    let me: Value = app
        .send(Method::GET, "/v1/me", Req::default().cookie(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["consents"]["analytics"], true);
    let foreign = app
        .send(
            Method::PUT,
            "/v1/me/consents",
            Req::json(&json!({ "marketing": true }))
                .cookie(&token)
                .origin("https://evil.example"),
        )
        .await;
    assert_eq!(foreign.status(), 403, "a cookie write from another origin");
    app.stop().await;
}

#[tokio::test]
async fn each_request_is_logged_in_the_store_with_its_route_template_and_never_its_query_string() {
    use facetra_core::privacy::data::Kind;
    use futures::TryStreamExt;
    let (h, app) = app().await;
    let (token, user) = app.dev_login("ada@example.com").await;
    let res = app
        .send(
            Method::GET,
            "/v1/renders/rnd_01jzqueryid0000000000000?marker=QUERYMARK42",
            Req::default().cookie(&token),
        )
        .await;
    assert_eq!(res.status(), 404);
    let dpo = h.staff("dee@facetra.test", &[Role::Dpo]).await;
    let id = UserId::parse(user["id"].as_str().unwrap()).unwrap();
    let mut lines = Vec::new();
    for _ in 0..100 {
        lines = h
            .facetra
            .privacy()
            .export(&dpo, Kind::RequestLogs, &id)
            .await
            .unwrap()
            .try_collect::<Vec<_>>()
            .await
            .unwrap();
        if !lines.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let line = &lines.first().expect("the request was logged").fields;
    assert_eq!(line["route"], "/v1/renders/{id}");
    assert_eq!(line["status"], 404);
    assert_eq!(line["method"], "GET");
    assert_eq!(line["ip"], "127.0.0.1");
    assert!(line["user_agent"].is_string() || line["user_agent"].is_null());
    let bytes = h.stored_bytes().await;
    assert!(
        !facetra_tests::harness::contains(&bytes, "QUERYMARK42"),
        "a query string reached the store"
    );
    assert!(
        !facetra_tests::harness::contains(&bytes, "rnd_01jzqueryid0000000000000"),
        "an id from the path reached the store"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_signed_in_user_asks_for_their_data_and_downloads_it_through_a_fresh_signed_link() {
    let (h, app) = app().await;
    let (token, _) = app.dev_login("ada@example.com").await;
    let origin = app.origin().to_owned();
    let none = app
        .send(
            Method::GET,
            "/v1/privacy/export",
            Req::default().cookie(&token),
        )
        .await;
    assert_eq!(none.status(), 200);
    assert_eq!(none.json::<Value>().await.unwrap()["status"], "none");
    let bad = app
        .send(
            Method::POST,
            "/v1/privacy/requests",
            Req::json(&json!({ "type": "everything" }))
                .cookie(&token)
                .origin(&origin),
        )
        .await;
    assert_eq!(error_code(bad).await, (400, "invalid_request".to_owned()));
    let made = app
        .send(
            Method::POST,
            "/v1/privacy/requests",
            Req::json(&json!({ "type": "access", "message": "all of it" }))
                .cookie(&token)
                .origin(&origin),
        )
        .await;
    assert_eq!(made.status(), 201);
    let made: Value = made.json().await.unwrap();
    for field in ["id", "type", "status", "received_at", "due_at"] {
        assert!(!made[field].is_null(), "{field} missing: {made}");
    }
    assert_eq!(made["status"], "completed");
    let listed: Value = app
        .send(
            Method::GET,
            "/v1/privacy/requests",
            Req::default().cookie(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], made["id"]);
    let link = |res: reqwest::Response| async move {
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["status"], "ready", "{v}");
        v["url"].as_str().unwrap().to_owned()
    };
    let first = link(
        app.send(
            Method::GET,
            "/v1/privacy/export",
            Req::default().cookie(&token),
        )
        .await,
    )
    .await;
    h.clock.advance(chrono::Duration::seconds(1));
    let second = link(
        app.send(
            Method::GET,
            "/v1/privacy/export",
            Req::default().cookie(&token),
        )
        .await,
    )
    .await;
    assert_ne!(first, second, "each call signs a fresh link");
    let zip = app.send(Method::GET, &second, Req::default()).await;
    assert_eq!(zip.status(), 200);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let bytes = zip.bytes().await.unwrap();
    let entries = facetra_tests::unzip::entries(&bytes);
    assert!(entries.contains_key("manifest.json"));
    // Only a DPO sees the queue.
    let queue = app
        .send(
            Method::GET,
            "/admin/v1/privacy/requests",
            Req::default().cookie(&token),
        )
        .await;
    assert_eq!(error_code(queue).await.0, 403);
    app.stop().await;
    h.finish().await;
}

#[tokio::test]
async fn another_users_messages_are_404_on_every_route_and_events_are_accepted() {
    let (h, app) = app().await;
    let origin = app.origin().to_owned();
    let (ada, _) = app.dev_login("ada@example.com").await;
    let (bo, _) = app.dev_login("bo@example.com").await;
    let sent = app
        .send(
            Method::POST,
            "/v1/messages",
            Req::json(&json!({ "kind": "support", "subject": "Help", "body": "How do I?" }))
                .cookie(&ada)
                .origin(&origin),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let sent: Value = sent.json().await.unwrap();
    for field in [
        "id",
        "kind",
        "subject",
        "status",
        "created_at",
        "replies",
        "body",
    ] {
        assert!(!sent[field].is_null(), "{field} missing: {sent}");
    }
    let id = sent["id"].as_str().unwrap();
    let path = format!("/v1/messages/{id}");
    let replies = format!("{path}/replies");
    let mine = app
        .send(Method::GET, &path, Req::default().cookie(&ada))
        .await;
    assert_eq!(mine.status(), 200);
    let theirs = app
        .send(Method::GET, &path, Req::default().cookie(&bo))
        .await;
    assert_eq!(error_code(theirs).await, (404, "not_found".to_owned()));
    let body = json!({ "body": "let me in" });
    let theirs = app
        .send(
            Method::POST,
            &replies,
            Req::json(&body).cookie(&bo).origin(&origin),
        )
        .await;
    assert_eq!(error_code(theirs).await, (404, "not_found".to_owned()));
    let listed: Value = app
        .send(Method::GET, "/v1/messages", Req::default().cookie(&bo))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    let replied = app
        .send(
            Method::POST,
            &replies,
            Req::json(&body).cookie(&ada).origin(&origin),
        )
        .await;
    assert_eq!(replied.status(), 200);
    let event = app
        .send(
            Method::POST,
            "/v1/events",
            Req::json(&json!({ "type": "page_view", "path": "/studio?x=1" }))
                .cookie(&ada)
                .origin(&origin),
        )
        .await;
    assert_eq!(event.status(), 202);
    let bad = app
        .send(
            Method::POST,
            "/v1/events",
            Req::json(&json!({ "type": "keystroke", "path": "/studio" }))
                .cookie(&ada)
                .origin(&origin),
        )
        .await;
    assert_eq!(error_code(bad).await.0, 400);
    app.stop().await;
    h.finish().await;
}
