//! A local Google sign-in (EXTERNAL-APIS.md §3): the discovery document, the JWKS with a
//! `Cache-Control: max-age`, and a form-encoded token endpoint that
//! exchanges the codes a test approves once each, checking the PKCE verifier. Tests sign ID tokens with the
//! throwaway keys in `tests/fixtures/google` (key 1 is published at start, key 2 only when a
//! test publishes it), so every forged case is made per test.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{RsaKeyPair, RsaPublicKeyComponents, RSA_PKCS1_SHA256};
use serde_json::{json, Value};

/// One of the throwaway signing keys.
pub struct TestKey {
    pub kid: String,
    pair: RsaKeyPair,
}

impl TestKey {
    /// Key `n` (1 or 2) of `tests/fixtures/google`.
    pub fn fixture(n: u8) -> TestKey {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("fixtures/google/test-key-{n}.pk8"));
        let der = std::fs::read(&path).expect("the fixture key");
        TestKey {
            kid: format!("stub-key-{n}"),
            pair: RsaKeyPair::from_pkcs8(&der).expect("a PKCS#8 RSA key"),
        }
    }

    /// The public half as a JWK.
    pub fn jwk(&self) -> Value {
        let public: RsaPublicKeyComponents<Vec<u8>> = self.pair.public().into();
        json!({
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&public.n), "e": URL_SAFE_NO_PAD.encode(&public.e),
        })
    }

    /// A compact JWT of `header` and `claims`, signed RS256 with this key (whatever the
    /// header claims).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let signed = format!("{}.{}", b64_json(header), b64_json(claims));
        let rng = ring::rand::SystemRandom::new();
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &rng, signed.as_bytes(), &mut signature)
            .expect("sign");
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The standard header naming this key.
    pub fn header(&self) -> Value {
        json!({ "alg": "RS256", "kid": self.kid, "typ": "JWT" })
    }
}

/// Base64url of a JSON value (the parts of a JWT).
pub fn b64_json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"))
}

struct Served {
    jwks: Vec<Value>,
    max_age: u64,
}

/// The running stub.
#[derive(Clone)]
pub struct GoogleStub {
    pub base: String,
    pub client_id: String,
    served: Arc<Mutex<Served>>,
    jwks_fetches: Arc<AtomicUsize>,
    /// Codes the token endpoint exchanges once each.
    codes: Arc<Mutex<HashMap<String, Grant>>>,
}

/// What an authorization code stands for.
#[derive(Clone)]
struct Grant {
    id_token: String,
    challenge: String,
    redirect_uri: String,
}

/// The token endpoint's form (EXTERNAL-APIS.md §3, code flow).
#[derive(serde::Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": "Bad Request" })),
    )
        .into_response()
}

async fn token(State(stub): State<GoogleStub>, Form(form): Form<TokenForm>) -> Response {
    if form.client_id.as_deref() != Some(stub.client_id.as_str())
        || form.client_secret.as_deref() != Some(CLIENT_SECRET)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.grant_type.as_deref() != Some("authorization_code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let grant = form
        .code
        .as_deref()
        .and_then(|c| stub.codes.lock().unwrap().remove(c));
    let Some(grant) = grant else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let verifier_ok = form.code_verifier.as_deref().is_some_and(|v| {
        URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, v.as_bytes()))
            == grant.challenge
    });
    if !verifier_ok || form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    Json(json!({
        "access_token": "ya29.stub-access-token",
        "expires_in": 3599,
        "id_token": grant.id_token,
        "scope": "openid email profile",
        "token_type": "Bearer",
    }))
    .into_response()
}

const CLIENT_SECRET: &str = "GOCSPX-stub-secret";

async fn discovery(State(stub): State<GoogleStub>) -> Json<Value> {
    Json(json!({
        "issuer": "https://accounts.google.com",
        "authorization_endpoint": format!("{}/o/oauth2/v2/auth", stub.base),
        "token_endpoint": format!("{}/token", stub.base),
        "userinfo_endpoint": format!("{}/v1/userinfo", stub.base),
        "revocation_endpoint": format!("{}/revoke", stub.base),
        "jwks_uri": format!("{}/oauth2/v3/certs", stub.base),
        "response_types_supported": ["code", "token", "id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["plain", "S256"],
    }))
}

async fn certs(State(stub): State<GoogleStub>) -> impl IntoResponse {
    stub.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let served = stub.served.lock().unwrap();
    (
        [(
            CACHE_CONTROL,
            format!(
                "public, max-age={}, must-revalidate, no-transform",
                served.max_age
            ),
        )],
        Json(json!({ "keys": served.jwks })),
    )
}

impl GoogleStub {
    pub async fn start() -> GoogleStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let stub = GoogleStub {
            base: format!("http://{}", listener.local_addr().expect("addr")),
            client_id: "1234567890-stub.apps.googleusercontent.com".into(),
            served: Arc::new(Mutex::new(Served {
                jwks: vec![TestKey::fixture(1).jwk()],
                max_age: 3600,
            })),
            jwks_fetches: Arc::default(),
            codes: Arc::default(),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/oauth2/v3/certs", get(certs))
            .route("/token", post(token))
            .with_state(stub.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        stub
    }

    /// The settings that point Facetra at this stub.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        use facetra_core::config::keys;
        vec![
            (keys::GOOGLE_CLIENT_ID, self.client_id.clone()),
            (keys::GOOGLE_CLIENT_SECRET, CLIENT_SECRET.into()),
            (
                keys::GOOGLE_DISCOVERY_URL,
                format!("{}/.well-known/openid-configuration", self.base),
            ),
        ]
    }

    /// Serves exactly these keys from now on, cached for `max_age` seconds.
    pub fn publish(&self, keys: &[&TestKey], max_age: u64) {
        let mut served = self.served.lock().unwrap();
        served.jwks = keys.iter().map(|k| k.jwk()).collect();
        served.max_age = max_age;
    }

    /// How often the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    /// The claims of a good ID token for `sub` and `email`, issued at `now` (seconds) for an
    /// hour, to this stub's client.
    pub fn claims(&self, now: i64, sub: &str, email: &str) -> Value {
        json!({
            "iss": "https://accounts.google.com",
            "azp": self.client_id,
            "aud": self.client_id,
            "sub": sub,
            "email": email,
            "email_verified": true,
            "name": "Ada Lovelace",
            "picture": "https://lh3.googleusercontent.com/a/stub-photo",
            "given_name": "Ada",
            "family_name": "Lovelace",
            "iat": now,
            "exp": now + 3600,
        })
    }

    /// The person approves the sign-in Facetra sent them to (`authorization_url`): checks the
    /// request as Google would, and returns the callback URL the browser is sent to, with a
    /// one-time code whose ID token carries the request's nonce. `change` edits its claims.
    pub fn approve(
        &self,
        authorization_url: &str,
        now: i64,
        sub: &str,
        email: &str,
        change: impl FnOnce(&mut Value),
    ) -> String {
        let url = reqwest::Url::parse(authorization_url).expect("a URL");
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q.get("client_id"), Some(&self.client_id));
        assert_eq!(q.get("response_type").map(String::as_str), Some("code"));
        assert_eq!(
            q.get("scope").map(String::as_str),
            Some("openid email profile")
        );
        assert_eq!(
            q.get("code_challenge_method").map(String::as_str),
            Some("S256")
        );
        let mut claims = self.claims(now, sub, email);
        claims["nonce"] = json!(q["nonce"]);
        change(&mut claims);
        let key = TestKey::fixture(1);
        let code = format!("4/0stub-{}", self.codes.lock().unwrap().len() + 1);
        self.codes.lock().unwrap().insert(
            code.clone(),
            Grant {
                id_token: key.sign(&key.header(), &claims),
                challenge: q["code_challenge"].clone(),
                redirect_uri: q["redirect_uri"].clone(),
            },
        );
        let mut back = reqwest::Url::parse(&q["redirect_uri"]).expect("redirect_uri");
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &q["state"]);
        back.into()
    }

    /// A good ID token for `sub` and `email` at `now`, signed with key 1.
    pub fn id_token(&self, now: i64, sub: &str, email: &str) -> String {
        let key = TestKey::fixture(1);
        key.sign(&key.header(), &self.claims(now, sub, email))
    }
}
