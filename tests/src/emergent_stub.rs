//! A local Emergent proxy speaking OpenAI chat completions (EXTERNAL-APIS.md §4, "Emergent"):
//! bearer key, `image_url` data URLs in, `choices[0].message.images[].image_url.url` out, and
//! scripted failures (5xx, a spent budget).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

#[derive(Default)]
struct Script {
    queue: VecDeque<(u16, &'static str)>,
    /// The JSON content answered to structured-output (BOM) requests.
    bom: Option<&'static str>,
    requests: Vec<Value>,
}

/// The running stub.
#[derive(Clone)]
pub struct EmergentStub {
    pub base: String,
    pub api_key: String,
    script: Arc<Mutex<Script>>,
}

async fn complete(
    State(stub): State<EmergentStub>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(format!("Bearer {}", stub.api_key).as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": { "message": "invalid api key", "type": "auth_error" } })),
        )
            .into_response();
    }
    let next = {
        let mut s = stub.script.lock().unwrap();
        s.requests.push(body.clone());
        s.queue.pop_front()
    };
    if let Some((status, message)) = next {
        let err = json!({ "error": { "message": message, "type": "proxy_error", "code": status } });
        return (StatusCode::from_u16(status).unwrap(), Json(err)).into_response();
    }
    if body.get("response_format").is_some() {
        let content = stub.script.lock().unwrap().bom.unwrap_or(r#"{"items":[]}"#);
        return Json(json!({
            "id": "chatcmpl-stub", "object": "chat.completion", "model": body["model"],
            "choices": [{ "index": 0, "finish_reason": "stop", "message": { "role": "assistant", "content": content } }],
            "usage": { "prompt_tokens": 900, "completion_tokens": 200, "total_tokens": 1100 },
        }))
        .into_response();
    }
    let img = image::RgbImage::from_fn(48, 48, |x, y| image::Rgb([x as u8 * 5, y as u8 * 5, 90]));
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let url = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png.into_inner())
    );
    Json(json!({
        "id": "chatcmpl-stub", "object": "chat.completion", "model": body["model"],
        "choices": [{ "index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": "Here you go.",
            "images": [{ "type": "image_url", "image_url": { "url": url } }] } }],
        "usage": { "prompt_tokens": 1300, "completion_tokens": 1290, "total_tokens": 2590 },
    }))
    .into_response()
}

impl EmergentStub {
    /// Starts the stub on a free loopback port.
    pub async fn start() -> EmergentStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let stub = EmergentStub {
            base: format!("http://{}/llm", listener.local_addr().expect("addr")),
            api_key: "sk-emergent-stub0123".into(),
            script: Arc::default(),
        };
        let app = Router::new()
            .route("/llm/chat/completions", post(complete))
            .with_state(stub.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        stub
    }

    /// The settings that point Facetra at this stub (with fast retries).
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FACETRA_EMERGENT_API_KEY", self.api_key.clone()),
            ("FACETRA_EMERGENT_BASE_URL", self.base.clone()),
            ("FACETRA_PROVIDER_RETRY_BASE_MS", "5".into()),
        ]
    }

    /// Answers the next requests with these errors, in order.
    pub fn fail_next(&self, failures: &[(u16, &'static str)]) {
        self.script
            .lock()
            .unwrap()
            .queue
            .extend(failures.iter().copied());
    }

    /// Answers BOM requests with this JSON content.
    pub fn bom_answer(&self, content: &'static str) {
        self.script.lock().unwrap().bom = Some(content);
    }

    /// Every request body.
    pub fn requests(&self) -> Vec<Value> {
        self.script.lock().unwrap().requests.clone()
    }
}
