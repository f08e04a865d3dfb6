//! Google sign-in against the local Google stub: every forged or wrong ID token is refused,
//! one test per case, with tokens signed in the test by throwaway keys; and the ID-token route
//! makes, finds and links accounts through a real socket.

use chrono::{DateTime, Utc};
use facetra_core::accounts::google::Google;
use facetra_core::accounts::Email;
use facetra_core::config::GoogleConfig;
use facetra_core::Error;
use facetra_tests::google_stub::{b64_json, GoogleStub, TestKey};
use facetra_tests::server::{session_token, Req, TestApp};
use facetra_tests::{Backend, Harness};
use reqwest::Method;
use serde_json::{json, Value};

/// The fixed "now" of the verifier tests.
const NOW: i64 = 2_000_000_000;

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

async fn verifier() -> (GoogleStub, Google) {
    let stub = GoogleStub::start().await;
    let google = Google::new(GoogleConfig {
        client_id: stub.client_id.clone(),
        client_secret: None,
        discovery_url: format!("{}/.well-known/openid-configuration", stub.base),
    })
    .unwrap();
    (stub, google)
}

/// A token key 1 signs over `claims` changed by `change`.
fn signed_with(stub: &GoogleStub, change: impl FnOnce(&mut Value)) -> String {
    let key = TestKey::fixture(1);
    let mut claims = stub.claims(NOW, "1170000000001", "ada@gmail.com");
    change(&mut claims);
    key.sign(&key.header(), &claims)
}

async fn assert_refused(google: &Google, token: &str, nonce: Option<&str>, because: &str) {
    match google.verify(token, nonce, at(NOW)).await {
        Err(Error::InvalidToken(why)) => assert!(
            why.contains(because),
            "refused, but for {why:?} rather than {because:?}"
        ),
        other => panic!("expected a refusal ({because}), got {other:?}"),
    }
}

macro_rules! refused {
    ($($name:ident: |$stub:ident| $token:expr, nonce $nonce:expr, because $because:expr;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let ($stub, google) = verifier().await;
                let token: String = $token;
                assert_refused(&google, &token, $nonce, $because).await;
            }
        )*
    };
}

refused! {
    a_token_for_another_audience_is_refused: |stub| signed_with(&stub, |c| c["aud"] = json!("999-other.apps.googleusercontent.com")),
        nonce None, because "another application";
    a_token_from_another_issuer_is_refused: |stub| signed_with(&stub, |c| c["iss"] = json!("https://accounts.evil.example")),
        nonce None, because "not issued by Google";
    an_expired_token_is_refused: |stub| signed_with(&stub, |c| { c["iat"] = json!(NOW - 7200); c["exp"] = json!(NOW - 301); }),
        nonce None, because "expired";
    a_token_issued_in_the_future_is_refused: |stub| signed_with(&stub, |c| { c["iat"] = json!(NOW + 301); c["exp"] = json!(NOW + 3900); }),
        nonce None, because "in the future";
    a_token_without_a_verified_email_is_refused: |stub| signed_with(&stub, |c| c["email_verified"] = json!(false)),
        nonce None, because "not verified";
    a_tampered_token_is_refused: |stub| {
        let good = signed_with(&stub, |_| {});
        let parts: Vec<&str> = good.split('.').collect();
        let forged = b64_json(&stub.claims(NOW, "1170000000666", "mallory@gmail.com"));
        format!("{}.{}.{}", parts[0], forged, parts[2])
    }, nonce None, because "signature does not verify";
    a_token_naming_an_unknown_key_is_refused: |stub| {
        let key = TestKey::fixture(1);
        key.sign(&json!({ "alg": "RS256", "kid": "no-such-key" }), &stub.claims(NOW, "1", "ada@gmail.com"))
    }, nonce None, because "key Google does not publish";
    a_token_signed_by_another_key_is_refused: |stub| {
        // Key 2 is not published, but the header names key 1.
        let (one, two) = (TestKey::fixture(1), TestKey::fixture(2));
        two.sign(&one.header(), &stub.claims(NOW, "1", "ada@gmail.com"))
    }, nonce None, because "signature does not verify";
    an_unsigned_token_is_refused: |stub| {
        let header = b64_json(&json!({ "alg": "none", "kid": "stub-key-1" }));
        format!("{header}.{}.", b64_json(&stub.claims(NOW, "1", "ada@gmail.com")))
    }, nonce None, because "not signed with RS256";
    a_token_signed_hs256_with_the_public_key_is_refused: |stub| {
        let jwk = TestKey::fixture(1).jwk();
        let header = b64_json(&json!({ "alg": "HS256", "kid": "stub-key-1" }));
        let signed = format!("{header}.{}", b64_json(&stub.claims(NOW, "1", "ada@gmail.com")));
        let secret = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, jwk["n"].as_str().unwrap().as_bytes());
        let mac = ring::hmac::sign(&secret, signed.as_bytes());
        format!("{signed}.{}", base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, mac.as_ref()))
    }, nonce None, because "not signed with RS256";
    a_token_without_the_nonce_that_was_sent_is_refused: |stub| signed_with(&stub, |_| {}),
        nonce Some("n-0S6_WzA2Mj"), because "nonce";
    a_token_with_another_nonce_is_refused: |stub| signed_with(&stub, |c| c["nonce"] = json!("n-someone-else")),
        nonce Some("n-0S6_WzA2Mj"), because "nonce";
    a_token_that_is_not_a_jwt_is_refused: |_stub| "not.a-jwt".to_owned(),
        nonce None, because "not a signed JWT";
}

#[tokio::test]
async fn a_good_token_verifies_in_either_issuer_spelling_and_within_the_skew() {
    let (stub, google) = verifier().await;
    let who = google
        .verify(&signed_with(&stub, |_| {}), None, at(NOW))
        .await
        .unwrap();
    assert_eq!(who.subject, "1170000000001");
    assert_eq!(who.email, "ada@gmail.com");
    assert_eq!(who.name.as_deref(), Some("Ada Lovelace"));
    let legacy = signed_with(&stub, |c| {
        c["iss"] = json!("accounts.google.com");
        c["email_verified"] = json!("true");
        c["nonce"] = json!("n-1");
    });
    google.verify(&legacy, Some("n-1"), at(NOW)).await.unwrap();
    let just_expired = signed_with(&stub, |c| c["exp"] = json!(NOW - 299));
    google
        .verify(&just_expired, None, at(NOW))
        .await
        .expect("within 300 s of skew");
    assert_eq!(
        stub.jwks_fetches(),
        1,
        "the keys are cached for their max-age"
    );
}

#[tokio::test]
async fn keys_are_fetched_again_when_their_max_age_ends_or_an_unknown_key_appears() {
    let (stub, google) = verifier().await;
    stub.publish(&[&TestKey::fixture(1)], 600);
    google
        .verify(&signed_with(&stub, |_| {}), None, at(NOW))
        .await
        .unwrap();
    assert_eq!(stub.jwks_fetches(), 1);
    // Google rotates: key 2 appears. A token naming it fetches the keys once more (the cached
    // ones are over 30 s old), and verifies.
    let two = TestKey::fixture(2);
    stub.publish(&[&TestKey::fixture(1), &two], 600);
    let later = NOW + 60;
    let rotated = two.sign(&two.header(), &stub.claims(later, "1", "ada@gmail.com"));
    google.verify(&rotated, None, at(later)).await.unwrap();
    assert_eq!(stub.jwks_fetches(), 2, "one fetch for the unknown key");
    // Made-up key ids right after do not fetch again.
    let bogus = two.sign(
        &json!({ "alg": "RS256", "kid": "made-up" }),
        &stub.claims(later, "1", "ada@gmail.com"),
    );
    assert!(google.verify(&bogus, None, at(later + 1)).await.is_err());
    assert_eq!(stub.jwks_fetches(), 2, "no fetch per made-up key id");
    // After the max-age the keys are fetched again.
    google
        .verify(&rotated, None, at(later + 601))
        .await
        .expect("still a published key");
    assert_eq!(stub.jwks_fetches(), 3);
}

async fn sign_in_app() -> (Harness, TestApp, GoogleStub) {
    let stub = GoogleStub::start().await;
    let h = Harness::with_stub(Backend::Sqlite, stub.settings(), &[]).await;
    let app = TestApp::spawn(&h).await;
    (h, app, stub)
}

fn now_of(h: &Harness) -> i64 {
    h.facetra.now().timestamp()
}

async fn post_id_token(app: &TestApp, body: &Value) -> reqwest::Response {
    app.send(
        Method::POST,
        "/auth/google/id-token",
        Req::json(body).origin(app.origin()),
    )
    .await
}

#[tokio::test]
async fn an_id_token_sign_in_makes_the_account_once_and_signs_into_it_after() {
    let (h, app, stub) = sign_in_app().await;
    let token = stub.id_token(now_of(&h), "1170000000001", "ada@gmail.com");

    let refused = post_id_token(&app, &json!({ "id_token": token })).await;
    assert_eq!(
        refused.status(),
        400,
        "a new account needs the 18+ confirmation"
    );
    assert!(refused.headers().get("set-cookie").is_none());
    let email = Email::parse("ada@gmail.com").unwrap();
    assert!(h
        .facetra
        .store()
        .accounts
        .user_by_email(&email)
        .await
        .unwrap()
        .is_none());

    let first = post_id_token(&app, &json!({ "id_token": token, "age_confirmed": true })).await;
    assert_eq!(first.status(), 200);
    let cookie = session_token(&first).expect("a session cookie");
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["new_account"], true);
    assert_eq!(body["user"]["email"], "ada@gmail.com");
    assert_eq!(body["user"]["name"], "Ada Lovelace");
    assert_eq!(
        body["user"]["avatar_url"],
        "https://lh3.googleusercontent.com/a/stub-photo"
    );
    let me: Value = app
        .send(Method::GET, "/v1/credits", Req::default().cookie(&cookie))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["balance"],
        h.facetra.config().trial_credits,
        "trial credits"
    );
    let mail = h
        .facetra
        .mail()
        .outbox(
            &h.admin().await,
            false,
            &facetra_core::paging::PageRequest::first(),
        )
        .await
        .unwrap();
    assert_eq!(mail.items.len(), 1);
    assert_eq!(mail.items[0].template, "welcome");

    let again = post_id_token(&app, &json!({ "id_token": token })).await;
    assert_eq!(
        again.status(),
        200,
        "an existing account needs no confirmation"
    );
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["new_account"], false);
    assert_eq!(again["user"]["id"], body["user"]["id"]);
    app.stop().await;
}

#[tokio::test]
async fn a_refused_id_token_is_401_invalid_token_and_sets_no_cookie() {
    let (h, app, stub) = sign_in_app().await;
    let mut claims = stub.claims(now_of(&h), "1", "ada@gmail.com");
    claims["aud"] = json!("someone-else");
    let key = TestKey::fixture(1);
    let res = post_id_token(
        &app,
        &json!({ "id_token": key.sign(&key.header(), &claims), "age_confirmed": true }),
    )
    .await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("set-cookie").is_none());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_token", "{body}");
    // From another site's page, no sign-in at all.
    let token = stub.id_token(now_of(&h), "1", "ada@gmail.com");
    let foreign = app
        .send(
            Method::POST,
            "/auth/google/id-token",
            Req::json(&json!({ "id_token": token, "age_confirmed": true }))
                .origin("https://evil.example"),
        )
        .await;
    assert_eq!(foreign.status(), 403);
    assert!(foreign.headers().get("set-cookie").is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_verified_email_links_an_unlinked_account_and_an_email_linked_elsewhere_is_409() {
    let (h, app, stub) = sign_in_app().await;
    // The local owner has the email but no Google subject yet.
    let owner = h
        .facetra
        .accounts()
        .init(facetra_core::accounts::NewOwner {
            name: "Asha Rao".into(),
            email: "asha@example.com".into(),
            age_confirmed: true,
        })
        .await
        .unwrap();
    let facetra_core::accounts::InitOutcome::Created(owner) = owner else {
        panic!("a fresh studio")
    };
    let now = now_of(&h);
    let linked = post_id_token(
        &app,
        &json!({ "id_token": stub.id_token(now, "1170000000042", "asha@example.com") }),
    )
    .await;
    assert_eq!(linked.status(), 200);
    let linked: Value = linked.json().await.unwrap();
    assert_eq!(linked["new_account"], false);
    assert_eq!(
        linked["user"]["id"],
        owner.id.to_string(),
        "linked, not a second account"
    );
    assert_eq!(
        linked["user"]["name"], "Asha Rao",
        "the name the person chose stays"
    );
    let stored = h
        .facetra
        .store()
        .accounts
        .user_by_google_subject("1170000000042")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.id, owner.id);

    // Another Google account claiming the same email: 409, no session.
    let other = post_id_token(
        &app,
        &json!({ "id_token": stub.id_token(now, "1170000000099", "asha@example.com"), "age_confirmed": true }),
    )
    .await;
    assert_eq!(other.status(), 409);
    assert!(other.headers().get("set-cookie").is_none());
    app.stop().await;
}

/// Starts a browser sign-in; (Google's URL, the pre-sign-in cookie).
async fn start(app: &TestApp, query: &str) -> (String, String) {
    let res = app
        .send(
            Method::GET,
            &format!("/auth/google/start?{query}"),
            Req::default(),
        )
        .await;
    assert_eq!(res.status(), 302);
    let cookie = facetra_tests::server::set_cookie(&res).expect("a pre-sign-in cookie");
    assert!(
        cookie.contains("Max-Age=600") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let token = session_token(&res).unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    (location, token)
}

/// Follows Google's redirect back to the server with `cookie`.
async fn callback(app: &TestApp, url: &str, cookie: Option<&str>) -> reqwest::Response {
    let path = url.strip_prefix(&app.base).expect("our callback");
    let req = match cookie {
        Some(c) => Req::default().cookie(c),
        None => Req::default(),
    };
    app.send(Method::GET, path, req).await
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_browser_sign_in_follows_the_code_flow_and_lands_signed_in_at_return_to() {
    let (h, app, stub) = sign_in_app().await;
    let (google, pre) = start(&app, "return_to=/studio%3Ftab%3Drecent&age_confirmed=true").await;
    assert!(
        google.starts_with(&format!("{}/o/oauth2/v2/auth?", stub.base)),
        "{google}"
    );
    let params: std::collections::HashMap<String, String> = reqwest::Url::parse(&google)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(
        params["redirect_uri"],
        format!("{}/auth/google/callback", app.base)
    );
    // The pre-sign-in session opens no route.
    let me = app
        .send(Method::GET, "/v1/me", Req::default().cookie(&pre))
        .await;
    assert_eq!(me.status(), 401);

    let back = stub.approve(
        &google,
        now_of(&h),
        "1170000000007",
        "grace@gmail.com",
        |_| {},
    );
    let done = callback(&app, &back, Some(&pre)).await;
    assert_eq!(done.status(), 302);
    assert_eq!(location(&done), format!("{}/studio?tab=recent", app.base));
    let session = session_token(&done).expect("a session");
    assert_ne!(session, pre, "a new token, not the pre-sign-in one");
    let me: Value = app
        .send(Method::GET, "/v1/me", Req::default().cookie(&session))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "grace@gmail.com");

    // Neither the cookie nor the state, nonce or verifier it derives were ever stored.
    let bytes = h.stored_bytes().await;
    for secret in [&pre, &params["state"], &params["nonce"]] {
        assert!(
            !facetra_tests::harness::contains(&bytes, secret),
            "a sign-in secret is stored"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_or_replayed_state_or_a_reused_pre_sign_in_session_never_yields_a_session() {
    let (h, app, stub) = sign_in_app().await;
    let now = now_of(&h);
    let refused = |res: &reqwest::Response, code: &str| {
        assert_eq!(res.status(), 302);
        assert!(
            location(res).ends_with(&format!("?error={code}")),
            "{} for {code}",
            location(res)
        );
        let cookie = facetra_tests::server::set_cookie(res).unwrap_or_default();
        assert!(
            cookie.contains("Max-Age=0"),
            "the cookie is cleared: {cookie}"
        );
    };

    // A forged state.
    let (google, pre) = start(&app, "age_confirmed=true").await;
    let back = stub.approve(&google, now, "1", "ada@gmail.com", |_| {});
    let forged = back.replace("state=", "state=x");
    refused(&callback(&app, &forged, Some(&pre)).await, "invalid_state");
    // The attempt is gone with the forged try: the genuine callback is refused too.
    refused(&callback(&app, &back, Some(&pre)).await, "sign_in_expired");

    // No cookie at all (another browser replaying the URL).
    let (google, pre) = start(&app, "age_confirmed=true").await;
    let back = stub.approve(&google, now, "1", "ada@gmail.com", |_| {});
    refused(&callback(&app, &back, None).await, "sign_in_expired");
    let _ = pre;

    // A good sign-in, then the same pre-sign-in session reused with a fresh code.
    let (google, pre) = start(&app, "age_confirmed=true").await;
    let back = stub.approve(&google, now, "1", "ada@gmail.com", |_| {});
    let ok = callback(&app, &back, Some(&pre)).await;
    assert!(session_token(&ok).is_some_and(|t| !t.is_empty()));
    let again = stub.approve(&google, now, "1", "ada@gmail.com", |_| {});
    refused(&callback(&app, &again, Some(&pre)).await, "sign_in_expired");

    // An ID token for another sign-in's nonce.
    let (google, pre) = start(&app, "age_confirmed=true").await;
    let back = stub.approve(&google, now, "1", "ada@gmail.com", |c| {
        c["nonce"] = json!("someone-elses-nonce");
    });
    refused(&callback(&app, &back, Some(&pre)).await, "invalid_token");

    // Too late: the pre-sign-in session lasts 10 minutes.
    let (google, pre) = start(&app, "age_confirmed=true").await;
    let back = stub.approve(&google, now, "1", "ada@gmail.com", |_| {});
    h.clock.advance(chrono::Duration::seconds(601));
    refused(&callback(&app, &back, Some(&pre)).await, "sign_in_expired");

    // The person declines at Google.
    let (_, pre) = start(&app, "return_to=/pricing").await;
    let declined = format!("{}/auth/google/callback?error=access_denied", app.base);
    let res = callback(&app, &declined, Some(&pre)).await;
    assert_eq!(
        location(&res),
        format!("{}/pricing?error=access_denied", app.base)
    );
    app.stop().await;
}

#[tokio::test]
async fn return_to_is_a_local_path_or_it_becomes_slash() {
    use facetra_core::accounts::safe_return_to;
    for foreign in [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "evil.example",
        "/ok\u{0}",
        "/a\\b",
    ] {
        assert_eq!(safe_return_to(Some(foreign)), "/", "{foreign:?}");
    }
    assert_eq!(safe_return_to(Some("/studio?x=1")), "/studio?x=1");
    assert_eq!(safe_return_to(None), "/");

    let (h, app, stub) = sign_in_app().await;
    for foreign in [
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "https%3A%2F%2Fevil.example",
    ] {
        let (google, pre) = start(&app, &format!("return_to={foreign}&age_confirmed=true")).await;
        let back = stub.approve(&google, now_of(&h), "1", "ada@gmail.com", |_| {});
        let res = callback(&app, &back, Some(&pre)).await;
        assert_eq!(location(&res), format!("{}/", app.base), "{foreign}");
    }
    app.stop().await;
}

#[tokio::test]
async fn after_an_erasure_sessions_tokens_and_links_fail_and_the_same_google_account_starts_afresh()
{
    use facetra_core::privacy::erasure::EraseOptions;
    use facetra_core::privacy::requests::RequestType;
    let (h, app, stub) = sign_in_app().await;
    let token = stub.id_token(now_of(&h), "1170000000009", "ada@gmail.com");
    let first = post_id_token(&app, &json!({ "id_token": token, "age_confirmed": true })).await;
    let cookie = session_token(&first).expect("a session cookie");
    let first: Value = first.json().await.unwrap();
    let origin = app.origin().to_owned();
    let api: Value = app
        .send(
            Method::POST,
            "/v1/tokens",
            Req::json(&json!({ "name": "laptop" }))
                .cookie(&cookie)
                .origin(&origin),
        )
        .await
        .json()
        .await
        .unwrap();
    let api = api["token"].as_str().expect("a token").to_owned();
    app.send(
        Method::POST,
        "/v1/privacy/requests",
        Req::json(&json!({ "type": "access" }))
            .cookie(&cookie)
            .origin(&origin),
    )
    .await;
    let export: Value = app
        .send(
            Method::GET,
            "/v1/privacy/export",
            Req::default().cookie(&cookie),
        )
        .await
        .json()
        .await
        .unwrap();
    let link = export["url"].as_str().expect("a link").to_owned();
    assert_eq!(
        app.send(Method::GET, &link, Req::default()).await.status(),
        200
    );

    let dpo = h
        .staff("dee@example.com", &[facetra_core::accounts::Role::Dpo])
        .await;
    let privacy = h.facetra.privacy();
    let r = privacy
        .open_request(&dpo, "ada@gmail.com", RequestType::Erasure, None)
        .await
        .unwrap();
    privacy
        .verify_override(&dpo, r.id.as_str(), "video call")
        .await
        .unwrap();
    let forfeit = EraseOptions {
        forfeit_credits: true,
        ..EraseOptions::default()
    };
    privacy
        .erase(&dpo, r.id.as_str(), forfeit, &|_| {})
        .await
        .unwrap();

    let me = app
        .send(Method::GET, "/v1/me", Req::default().cookie(&cookie))
        .await;
    assert_eq!(me.status(), 401, "the session ended");
    let me = app
        .send(Method::GET, "/v1/me", Req::default().bearer(&api))
        .await;
    assert_eq!(me.status(), 401, "the token stopped working");
    assert_eq!(
        app.send(Method::GET, &link, Req::default()).await.status(),
        404,
        "the signed link is dead"
    );
    let again = post_id_token(&app, &json!({ "id_token": token, "age_confirmed": true })).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["new_account"], true, "{again}");
    assert_ne!(again["user"]["id"], first["user"]["id"]);
    app.stop().await;
}
