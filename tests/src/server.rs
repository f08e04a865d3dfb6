//! The real router served in-process on 127.0.0.1:0, over a harness's store, with a client
//! that handles cookies by hand (so tests control `Origin`).

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Method, Response};
use serde_json::Value;

use crate::harness::Harness;

/// A served harness.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// Serves `harness` on a fresh loopback port.
    pub async fn spawn(harness: &Harness) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let facetra = harness.facetra.clone();
        let task = tokio::spawn(async move {
            facetra_server::serve(listener, facetra, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            base,
            http,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Stops serving and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The origin the server accepts for cookie writes.
    pub fn origin(&self) -> &str {
        &self.base
    }

    /// A request to `path` with optional JSON body, cookie, origin and bearer token.
    pub async fn send(&self, method: Method, path: &str, req: Req<'_>) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(cookie) = req.cookie {
            headers.insert(
                COOKIE,
                HeaderValue::from_str(&format!("session_token={cookie}")).expect("cookie"),
            );
        }
        if let Some(origin) = req.origin {
            headers.insert(ORIGIN, HeaderValue::from_str(origin).expect("origin"));
        }
        if let Some(ip) = req.forwarded_for {
            headers.insert(
                "x-forwarded-for",
                HeaderValue::from_str(ip).expect("an address"),
            );
        }
        if let Some(token) = req.bearer {
            headers.insert(
                reqwest::header::AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {token}")).expect("bearer"),
            );
        }
        let mut builder = self
            .http
            .request(method, format!("{}{path}", self.base))
            .headers(headers);
        if let Some(body) = req.json {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        if let Some((content_type, body)) = req.raw {
            builder = builder.header(CONTENT_TYPE, content_type).body(body);
        }
        builder.send().await.expect("request")
    }

    /// Signs in through dev login; returns the session token and the user JSON.
    pub async fn dev_login(&self, email: &str) -> (String, Value) {
        let body =
            serde_json::json!({ "email": email, "name": "Test Person", "age_confirmed": true });
        let res = self
            .send(
                Method::POST,
                "/auth/dev-login",
                Req::json(&body).origin(&self.base),
            )
            .await;
        assert_eq!(res.status(), 200, "dev login failed");
        let token = session_token(&res).expect("a session cookie");
        let json: Value = res.json().await.expect("json");
        (token, json["user"].clone())
    }
}

/// Options of one request.
#[derive(Default, Clone)]
pub struct Req<'a> {
    pub json: Option<&'a Value>,
    pub raw: Option<(&'a str, Vec<u8>)>,
    pub cookie: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub bearer: Option<&'a str>,
    /// Sent as `X-Forwarded-For` (believed when the harness trusts 127.0.0.1 as a proxy).
    pub forwarded_for: Option<&'a str>,
}

impl<'a> Req<'a> {
    /// A JSON body.
    pub fn json(body: &'a Value) -> Req<'a> {
        Req {
            json: Some(body),
            ..Req::default()
        }
    }

    /// With the session cookie.
    pub fn cookie(mut self, token: &'a str) -> Req<'a> {
        self.cookie = Some(token);
        self
    }

    /// With an `Origin` header.
    pub fn origin(mut self, origin: &'a str) -> Req<'a> {
        self.origin = Some(origin);
        self
    }

    /// With a bearer token.
    pub fn from_ip(mut self, ip: &'a str) -> Req<'a> {
        self.forwarded_for = Some(ip);
        self
    }

    pub fn bearer(mut self, token: &'a str) -> Req<'a> {
        self.bearer = Some(token);
        self
    }
}

/// The `session_token` value a response sets, if any.
pub fn session_token(res: &Response) -> Option<String> {
    set_cookie(res).and_then(|c| {
        c.split(';')
            .next()?
            .trim()
            .strip_prefix("session_token=")
            .map(str::to_owned)
    })
}

/// The raw `Set-Cookie` header of a response.
pub fn set_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
