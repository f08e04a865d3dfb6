//! Google's Gemini API (EXTERNAL-APIS.md §4): `POST {base}/v1beta/models/{model}:generateContent`
//! with the key in `x-goog-api-key` (never in the URL, so never in a log), the sketch and
//! references as `inlineData`, `responseModalities` and `imageConfig.aspectRatio`. A client that
//! never follows redirects, a 120 s timeout, and retries with jittered exponential backoff on
//! 429/500/502/503/504 and network errors, honouring `RetryInfo.retryDelay`; none on 400, 403 or
//! 404. A blocked prompt or an answer without an image is its own failure, never retried.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use serde_json::{json, Value};

use super::retry::{failure, send_with_retries, Hint};
use super::{FailureClass, GeneratedImage, GenerationFailure, ImageGenerator, ImageRequest};
use crate::config::GeminiConfig;
use crate::error::Result;

/// The Gemini client.
pub struct Gemini {
    http: reqwest::Client,
    config: GeminiConfig,
}

impl std::fmt::Debug for Gemini {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gemini")
            .field("base_url", &self.config.base_url)
            .field("model", &self.config.image_model)
            .finish_non_exhaustive()
    }
}

impl Gemini {
    pub fn new(config: GeminiConfig) -> Result<Gemini> {
        let http = crate::security::outbound_client(120, "Gemini")?;
        Ok(Gemini { http, config })
    }

    fn body(&self, req: &ImageRequest) -> Value {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let mut parts = vec![json!({ "text": instruction(req) })];
        parts.push(json!({ "inlineData": { "mimeType": sniff_mime(&req.sketch), "data": b64(&req.sketch) } }));
        for r in &req.references {
            parts.push(json!({ "inlineData": { "mimeType": sniff_mime(r), "data": b64(r) } }));
        }
        json!({
            "contents": [{ "role": "user", "parts": parts }],
            "generationConfig": {
                "responseModalities": ["TEXT", "IMAGE"],
                "imageConfig": { "aspectRatio": req.aspect_ratio },
                "candidateCount": 1,
            },
        })
    }
}

fn sniff_mime(bytes: &[u8]) -> &'static str {
    match crate::studio::strip::Format::sniff(bytes) {
        Some(f) => f.mime(),
        None => "image/png",
    }
}

/// The text part every provider sends with the images.
pub(crate) fn instruction(req: &ImageRequest) -> String {
    let mut s = format!(
        "Render the first image, an architectural or interior sketch, as a photorealistic image. {}",
        req.prompt.trim()
    );
    if let Some(style) = &req.style {
        s.push_str(&format!(" Style: {style}."));
    }
    if !req.references.is_empty() {
        s.push_str(&format!(
            " Use images 2 to {} as references for materials and palette.",
            req.references.len() + 1
        ));
    }
    s.push_str(&format!(" Variation {}.", req.variant + 1));
    s
}

/// `RetryInfo.retryDelay` ("37s", "1.5s") from an error body.
fn retry_delay(body: &Value) -> Option<Duration> {
    body["error"]["details"].as_array()?.iter().find_map(|d| {
        let t = d["@type"].as_str()?;
        if !t.ends_with("google.rpc.RetryInfo") {
            return None;
        }
        let secs: f64 = d["retryDelay"]
            .as_str()?
            .trim_end_matches('s')
            .parse()
            .ok()?;
        Some(Duration::from_secs_f64(secs.max(0.0)))
    })
}

const SAFETY_FINISH: [&str; 9] = [
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
    "SAFETY",
    "RECITATION",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "IMAGE_OTHER",
];

/// Reads a 200 answer: the image, or why there is none.
pub fn read_answer(
    body: &Value,
    fallback_model: &str,
) -> std::result::Result<GeneratedImage, GenerationFailure> {
    if let Some(reason) = body["promptFeedback"]["blockReason"].as_str() {
        return Err(failure(
            FailureClass::SafetyBlocked,
            format!("the provider blocked the prompt ({reason}); rephrase it"),
        ));
    }
    let candidate = &body["candidates"][0];
    let finish = candidate["finishReason"]
        .as_str()
        .unwrap_or("STOP")
        .to_owned();
    let image = candidate["content"]["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|p| {
            if p["thought"].as_bool() == Some(true) {
                return None;
            }
            let data = p.get("inlineData").or_else(|| p.get("inline_data"))?;
            // Its `mimeType` is the provider's word; what the bytes are is read from them.
            base64::engine::general_purpose::STANDARD
                .decode(data["data"].as_str()?)
                .ok()
        });
    let Some(bytes) = image else {
        if SAFETY_FINISH.contains(&finish.as_str()) {
            return Err(failure(
                FailureClass::SafetyBlocked,
                format!("the provider withheld the image ({finish})"),
            ));
        }
        return Err(failure(
            FailureClass::NoImage,
            format!("the provider answered without an image ({finish})"),
        ));
    };
    Ok(GeneratedImage {
        bytes,
        model: body["modelVersion"]
            .as_str()
            .unwrap_or(fallback_model)
            .to_owned(),
        finish_reason: finish,
        usage: body["usageMetadata"].clone(),
    })
}

#[async_trait]
impl ImageGenerator for Gemini {
    fn provider(&self) -> &'static str {
        "gemini"
    }

    async fn generate(
        &self,
        req: &ImageRequest,
    ) -> std::result::Result<GeneratedImage, GenerationFailure> {
        let url = format!(
            "{}/v1beta/models/{}:generateContent",
            self.config.base_url, self.config.image_model
        );
        let body = self.body(req);
        let send = || {
            self.http
                .post(&url)
                .header("x-goog-api-key", self.config.api_key.expose())
                .json(&body)
        };
        let answer = send_with_retries(send, self.config.retry_base_ms, |body| {
            if body.to_string().contains("PerDay") {
                Hint::GiveUp("the provider's daily quota is used up; try again tomorrow".into())
            } else {
                Hint::Retry(retry_delay(body))
            }
        })
        .await?;
        read_answer(&answer, &self.config.image_model)
    }
}

/// The response schema for a drafted BOM (Gemini's OpenAPI subset, upper-case types).
fn bom_schema() -> Value {
    let string = json!({ "type": "STRING" });
    json!({
        "type": "ARRAY",
        "maxItems": 60,
        "items": {
            "type": "OBJECT",
            "properties": {
                "name": string, "category": string, "material": string,
                "quantity": { "type": "NUMBER" }, "unit": string,
                "unit_price_paise": { "type": "INTEGER" }, "note": string,
            },
            "required": ["name", "category", "material", "quantity", "unit", "unit_price_paise"],
            "propertyOrdering": ["name", "category", "material", "quantity", "unit", "unit_price_paise", "note"],
        },
    })
}

#[async_trait]
impl super::BomGenerator for Gemini {
    fn provider(&self) -> &'static str {
        "gemini"
    }

    async fn draft_bom(
        &self,
        prompt: &str,
        image: &[u8],
    ) -> std::result::Result<Vec<crate::studio::bom::BomItem>, GenerationFailure> {
        let url = format!(
            "{}/v1beta/models/{}:generateContent",
            self.config.base_url, self.config.text_model
        );
        let text = format!(
            "List the bill of materials for the design in this render: furniture, fixtures and finishes, \
             each with its category, material, quantity, unit, and a typical unit price in Indian paise. \
             The designer described it as: {}",
            prompt.trim()
        );
        let body = json!({
            "contents": [{ "role": "user", "parts": [
                { "text": text },
                { "inlineData": { "mimeType": sniff_mime(image), "data": base64::engine::general_purpose::STANDARD.encode(image) } },
            ] }],
            "generationConfig": { "responseMimeType": "application/json", "responseSchema": bom_schema(), "candidateCount": 1 },
        });
        let send = || {
            self.http
                .post(&url)
                .header("x-goog-api-key", self.config.api_key.expose())
                .json(&body)
        };
        let answer = send_with_retries(send, self.config.retry_base_ms, |b| {
            Hint::Retry(retry_delay(b))
        })
        .await?;
        if let Some(reason) = answer["promptFeedback"]["blockReason"].as_str() {
            return Err(failure(
                FailureClass::SafetyBlocked,
                format!("the provider blocked the request ({reason})"),
            ));
        }
        let json_text = answer["candidates"][0]["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|p| p["text"].as_str())
            .ok_or_else(|| failure(FailureClass::NoImage, "the provider answered without a BOM"))?;
        serde_json::from_str(json_text).map_err(|e| {
            tracing::warn!(error = %e, "the provider's BOM is not valid JSON");
            failure(
                FailureClass::ProviderError,
                "the provider's bill of materials could not be read",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_info_is_read() {
        let body = json!({ "error": { "code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
            { "@type": "type.googleapis.com/google.rpc.QuotaFailure" },
            { "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s" } ] } });
        assert_eq!(retry_delay(&body), Some(Duration::from_millis(1500)));
        assert_eq!(retry_delay(&json!({})), None);
    }

    #[test]
    fn blocked_and_imageless_answers_are_classified() {
        let blocked = json!({ "promptFeedback": { "blockReason": "SAFETY" } });
        assert_eq!(
            read_answer(&blocked, "m").unwrap_err().class,
            FailureClass::SafetyBlocked
        );
        let withheld = json!({ "candidates": [{ "content": { "parts": [] }, "finishReason": "IMAGE_SAFETY" }] });
        assert_eq!(
            read_answer(&withheld, "m").unwrap_err().class,
            FailureClass::SafetyBlocked
        );
        let refusal = json!({ "candidates": [{ "content": { "parts": [{ "text": "I can't" }] }, "finishReason": "STOP" }] });
        assert_eq!(
            read_answer(&refusal, "m").unwrap_err().class,
            FailureClass::NoImage
        );
    }
}
