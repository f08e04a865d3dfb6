//! A local Resend that speaks its wire format (EXTERNAL-APIS.md §2): bearer key and
//! `User-Agent` required, `Idempotency-Key` replays answered with the first response and no
//! second send, `{statusCode, name, message}` errors, and a script of failures to play first
//! (500, 429 with `retry-after`, 422 …).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// A failure to answer with before any success.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub name: &'static str,
    pub retry_after: Option<u64>,
}

#[derive(Default)]
struct Inbox {
    script: VecDeque<Scripted>,
    /// Idempotency key → the id answered the first time.
    answered: HashMap<String, String>,
    /// Every message actually sent: (idempotency key, to, subject).
    sent: Vec<(String, String, String)>,
    requests: usize,
}

/// The running stub.
#[derive(Clone)]
pub struct ResendStub {
    pub base: String,
    pub api_key: String,
    inbox: Arc<Mutex<Inbox>>,
}

fn error(status: u16, name: &str, retry_after: Option<u64>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body =
        json!({ "statusCode": status, "name": name, "message": format!("stub says {name}") });
    let mut res = (code, Json(body)).into_response();
    let h = res.headers_mut();
    h.insert("ratelimit-limit", "2".parse().unwrap());
    h.insert("ratelimit-remaining", "0".parse().unwrap());
    if let Some(after) = retry_after {
        h.insert("retry-after", after.to_string().parse().unwrap());
        h.insert("ratelimit-reset", after.to_string().parse().unwrap());
    }
    res
}

async fn send(
    State(stub): State<ResendStub>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if header("authorization") != Some(format!("Bearer {}", stub.api_key)) {
        return error(401, "missing_api_key", None);
    }
    if header("user-agent").is_none_or(|ua| ua.is_empty()) {
        return error(403, "validation_error", None);
    }
    let Some(key) = header("idempotency-key") else {
        return error(400, "invalid_idempotency_key", None);
    };
    for field in ["from", "to", "subject"] {
        if body.get(field).is_none() {
            return error(422, "missing_required_field", None);
        }
    }
    let mut inbox = stub.inbox.lock().unwrap();
    inbox.requests += 1;
    if let Some(id) = inbox.answered.get(&key) {
        return Json(json!({ "id": id })).into_response();
    }
    if let Some(s) = inbox.script.pop_front() {
        return error(s.status, s.name, s.retry_after);
    }
    let id = format!("4ef9a417-02e9-4d39-ad75-{:012}", inbox.sent.len() + 1);
    let to = body["to"][0].as_str().unwrap_or_default().to_owned();
    let subject = body["subject"].as_str().unwrap_or_default().to_owned();
    inbox.sent.push((key.clone(), to, subject));
    inbox.answered.insert(key, id.clone());
    Json(json!({ "id": id })).into_response()
}

impl ResendStub {
    /// Starts the stub on a free loopback port.
    pub async fn start() -> ResendStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let stub = ResendStub {
            base: format!("http://{}", listener.local_addr().expect("addr")),
            api_key: "re_stub_0123456789".into(),
            inbox: Arc::default(),
        };
        let app = Router::new()
            .route("/emails", post(send))
            .with_state(stub.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        stub
    }

    /// The settings that point Facetra at this stub.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FACETRA_RESEND_API_KEY", self.api_key.clone()),
            ("FACETRA_RESEND_BASE_URL", self.base.clone()),
        ]
    }

    /// Answers the next requests with these failures, in order.
    pub fn fail_next(&self, failures: &[Scripted]) {
        self.inbox
            .lock()
            .unwrap()
            .script
            .extend(failures.iter().cloned());
    }

    /// Every message actually sent: (idempotency key, to, subject).
    pub fn sent(&self) -> Vec<(String, String, String)> {
        self.inbox.lock().unwrap().sent.clone()
    }

    /// How many requests arrived.
    pub fn requests(&self) -> usize {
        self.inbox.lock().unwrap().requests
    }
}
