//! A local Gemini API that speaks `generateContent` (EXTERNAL-APIS.md §4): the key in
//! `x-goog-api-key`, real PNGs as `inlineData`, and scripted answers — errors with
//! `RetryInfo`, blocked prompts, `IMAGE_SAFETY`, refusals — played in order, then a default.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

/// One answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A 64×48 PNG.
    Image,
    /// An HTTP error with Google's status name and, optionally, a `RetryInfo` delay.
    Error(u16, &'static str, Option<&'static str>),
    /// 200 with `finishReason: IMAGE_SAFETY` and no image.
    ImageSafety,
    /// 200 with `promptFeedback.blockReason`.
    Blocked,
    /// An image, after this many milliseconds.
    Slow(u64),
    /// A noisy PNG of about this many bytes (for load tests).
    Sized(usize),
    /// A text answer (structured output for BOMs).
    Text(&'static str),
    /// An inline part labelled with this MIME type, carrying these bytes (`None`: the PNG).
    Labelled(&'static str, Option<&'static [u8]>),
}

#[derive(Default)]
struct Script {
    /// Load tests turn recording off so the stub's own memory stays flat.
    quiet: bool,
    queue: VecDeque<Reply>,
    default: Option<Reply>,
    requests: Vec<(String, HeaderMap, Value)>,
}

/// The running stub.
#[derive(Clone)]
pub struct GeminiStub {
    pub base: String,
    pub api_key: String,
    script: Arc<Mutex<Script>>,
    /// The whole answer of `Reply::Sized`, made once: the stub answers at once.
    sized: Arc<Mutex<Option<axum::body::Bytes>>>,
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 200])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// Gemini's answer carrying one PNG.
fn image_answer(image: &[u8], usage: &Value) -> Value {
    let data = base64::engine::general_purpose::STANDARD.encode(image);
    json!({
        "candidates": [{ "content": { "role": "model", "parts": [
            { "text": "Here is the render." },
            { "inlineData": { "mimeType": "image/png", "data": data } } ] },
            "finishReason": "STOP", "index": 0 }],
        "usageMetadata": usage, "modelVersion": "gemini-2.5-flash-image", "responseId": "stub",
    })
}

async fn generate(
    State(stub): State<GeminiStub>,
    Path(call): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let reply = {
        let mut s = stub.script.lock().unwrap();
        if !s.quiet {
            s.requests.push((call.clone(), headers.clone(), body));
        }
        s.queue
            .pop_front()
            .or_else(|| s.default.clone())
            .unwrap_or(Reply::Image)
    };
    if headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()) != Some(stub.api_key.as_str()) {
        let err = json!({ "error": { "code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT",
            "details": [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID" }] } });
        return (StatusCode::BAD_REQUEST, Json(err)).into_response();
    }
    if !call.ends_with(":generateContent") {
        return (StatusCode::NOT_FOUND, Json(json!({ "error": { "code": 404, "status": "NOT_FOUND", "message": "no such method" } }))).into_response();
    }
    let usage =
        json!({ "promptTokenCount": 1290, "candidatesTokenCount": 1290, "totalTokenCount": 2580 });
    if let Reply::Slow(ms) = reply {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    if let Reply::Sized(bytes) = reply {
        let answer = stub.sized_answer(bytes, &usage);
        return ([("content-type", "application/json")], answer).into_response();
    }
    let image = match reply {
        Reply::Labelled(_, Some(bytes)) => bytes.to_vec(),
        _ => png(),
    };
    match reply {
        Reply::Labelled(mime, _) => {
            let data = base64::engine::general_purpose::STANDARD.encode(&image);
            Json(json!({
                "candidates": [{ "content": { "role": "model", "parts": [
                    { "inlineData": { "mimeType": mime, "data": data } } ] },
                    "finishReason": "STOP", "index": 0 }],
                "usageMetadata": usage, "modelVersion": "gemini-2.5-flash-image",
            }))
            .into_response()
        }
        Reply::Image | Reply::Slow(_) | Reply::Sized(_) => Json(image_answer(&image, &usage)).into_response(),
        Reply::ImageSafety => Json(json!({
            "candidates": [{ "content": { "role": "model", "parts": [] }, "finishReason": "IMAGE_SAFETY", "index": 0 }],
            "usageMetadata": usage, "modelVersion": "gemini-2.5-flash-image",
        }))
        .into_response(),
        Reply::Text(text) => Json(json!({
            "candidates": [{ "content": { "role": "model", "parts": [{ "text": text }] }, "finishReason": "STOP", "index": 0 }],
            "usageMetadata": usage, "modelVersion": "gemini-2.5-flash",
        }))
        .into_response(),
        Reply::Blocked => Json(json!({ "promptFeedback": { "blockReason": "SAFETY" }, "usageMetadata": usage })).into_response(),
        Reply::Error(code, status, delay) => {
            let mut details = vec![json!({ "@type": "type.googleapis.com/google.rpc.QuotaFailure" })];
            if let Some(d) = delay {
                details.push(json!({ "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": d }));
            }
            let body = json!({ "error": { "code": code, "message": format!("stub {status}"), "status": status, "details": details } });
            (StatusCode::from_u16(code).unwrap(), Json(body)).into_response()
        }
    }
}

impl GeminiStub {
    /// Starts the stub on a free loopback port.
    pub async fn start() -> GeminiStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let stub = GeminiStub {
            base: format!("http://{}", listener.local_addr().expect("addr")),
            api_key: "AIzaStubKey-0123456789".into(),
            script: Arc::default(),
            sized: Arc::default(),
        };
        let app = Router::new()
            .route("/v1beta/models/{call}", post(generate))
            .with_state(stub.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        stub
    }

    /// The answer carrying a PNG of about `bytes` (noise does not compress), made once.
    fn sized_answer(&self, bytes: usize, usage: &Value) -> axum::body::Bytes {
        let mut cached = self.sized.lock().unwrap();
        cached
            .get_or_insert_with(|| {
                let side = ((bytes / 3) as f64).sqrt() as u32;
                let mut state = 0x2545_F491_u32;
                let img = image::RgbImage::from_fn(side, side, |_, _| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    image::Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8])
                });
                let mut out = std::io::Cursor::new(Vec::new());
                img.write_to(&mut out, image::ImageFormat::Png)
                    .expect("png");
                serde_json::to_vec(&image_answer(&out.into_inner(), usage))
                    .expect("json")
                    .into()
            })
            .clone()
    }

    /// Stops recording requests (long runs).
    pub fn quiet(&self) {
        self.script.lock().unwrap().quiet = true;
    }

    /// The settings that point Facetra at this stub (with fast retries).
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FACETRA_GEMINI_API_KEY", self.api_key.clone()),
            ("FACETRA_GEMINI_BASE_URL", self.base.clone()),
            ("FACETRA_PROVIDER_RETRY_BASE_MS", "5".into()),
        ]
    }

    /// Plays these answers first, in order.
    pub fn then(&self, replies: &[Reply]) {
        self.script
            .lock()
            .unwrap()
            .queue
            .extend(replies.iter().cloned());
    }

    /// The answer once the script is played.
    pub fn always(&self, reply: Reply) {
        self.script.lock().unwrap().default = Some(reply);
    }

    /// Every request: (the `{model}:method` segment, headers, JSON body).
    pub fn requests(&self) -> Vec<(String, HeaderMap, Value)> {
        self.script.lock().unwrap().requests.clone()
    }
}
