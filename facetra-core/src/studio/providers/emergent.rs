//! Gemini through Emergent's integration proxy (EXTERNAL-APIS.md §4, "Emergent"): the OpenAI
//! chat-completions format at `{base}/chat/completions` with a bearer key; the sketch and
//! references go in as `image_url` data URLs with `modalities: ["image", "text"]`, and the image
//! comes back as a data URL in `choices[0].message.images[]`. Same retries and failure classes
//! as the direct Gemini client; a spent budget is not retried.

use async_trait::async_trait;
use base64::Engine;
use serde_json::{json, Value};

use super::retry::{failure, send_with_retries, Hint};
use super::{FailureClass, GeneratedImage, GenerationFailure, ImageGenerator, ImageRequest};
use crate::config::EmergentConfig;
use crate::error::Result;

/// The Emergent client.
pub struct Emergent {
    http: reqwest::Client,
    config: EmergentConfig,
}

impl std::fmt::Debug for Emergent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emergent")
            .field("base_url", &self.config.base_url)
            .field("model", &self.config.image_model)
            .finish_non_exhaustive()
    }
}

fn data_url(bytes: &[u8]) -> String {
    let mime = crate::studio::strip::Format::sniff(bytes).map_or("image/png", |f| f.mime());
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Reads a chat-completions answer: the first image, or why there is none.
pub fn read_answer(
    body: &Value,
    fallback_model: &str,
) -> std::result::Result<GeneratedImage, GenerationFailure> {
    let choice = &body["choices"][0];
    let finish = choice["finish_reason"]
        .as_str()
        .unwrap_or("stop")
        .to_owned();
    let url = choice["message"]["images"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|i| i["image_url"]["url"].as_str());
    let Some(url) = url else {
        let class = if finish == "content_filter" {
            FailureClass::SafetyBlocked
        } else {
            FailureClass::NoImage
        };
        return Err(failure(
            class,
            format!("the provider answered without an image ({finish})"),
        ));
    };
    // The data URL's media type is the provider's word; what the bytes are is read from them.
    let (_, data) = url.split_once(',').ok_or_else(|| {
        failure(
            FailureClass::NoImage,
            "the provider's image is not a data URL",
        )
    })?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| {
            failure(
                FailureClass::NoImage,
                "the provider's image is not valid base64",
            )
        })?;
    Ok(GeneratedImage {
        bytes,
        model: body["model"].as_str().unwrap_or(fallback_model).to_owned(),
        finish_reason: finish,
        usage: body["usage"].clone(),
    })
}

impl Emergent {
    pub fn new(config: EmergentConfig) -> Result<Emergent> {
        let http = crate::security::outbound_client(120, "Emergent")?;
        Ok(Emergent { http, config })
    }
}

#[async_trait]
impl ImageGenerator for Emergent {
    fn provider(&self) -> &'static str {
        "emergent"
    }

    async fn generate(
        &self,
        req: &ImageRequest,
    ) -> std::result::Result<GeneratedImage, GenerationFailure> {
        let mut content = vec![json!({ "type": "text", "text": super::gemini::instruction(req) })];
        content.push(json!({ "type": "image_url", "image_url": { "url": data_url(&req.sketch) } }));
        for r in &req.references {
            content.push(json!({ "type": "image_url", "image_url": { "url": data_url(r) } }));
        }
        let body = json!({
            "model": self.config.image_model,
            "messages": [{ "role": "user", "content": content }],
            "modalities": ["image", "text"],
        });
        let url = format!("{}/chat/completions", self.config.base_url);
        let send = || {
            self.http
                .post(&url)
                .bearer_auth(self.config.api_key.expose())
                .json(&body)
        };
        let answer = send_with_retries(send, self.config.retry_base_ms, |body| {
            if body.to_string().to_lowercase().contains("budget") {
                Hint::GiveUp("the Emergent budget is spent; top it up".into())
            } else {
                Hint::Retry(None)
            }
        })
        .await?;
        read_answer(&answer, &self.config.image_model)
    }
}

#[async_trait]
impl super::BomGenerator for Emergent {
    fn provider(&self) -> &'static str {
        "emergent"
    }

    async fn draft_bom(
        &self,
        prompt: &str,
        image: &[u8],
    ) -> std::result::Result<Vec<crate::studio::bom::BomItem>, GenerationFailure> {
        let text = format!(
            "List the bill of materials for the design in this render as a JSON object {{\"items\": [...]}}: \
             furniture, fixtures and finishes, each with name, category, material, quantity, unit, \
             unit_price_paise (a typical price in Indian paise) and note. The designer described it as: {}",
            prompt.trim()
        );
        let item = json!({
            "type": "object",
            "properties": {
                "name": { "type": "string" }, "category": { "type": "string" }, "material": { "type": "string" },
                "quantity": { "type": "number" }, "unit": { "type": "string" },
                "unit_price_paise": { "type": "integer" }, "note": { "type": "string" },
            },
            "required": ["name", "category", "material", "quantity", "unit", "unit_price_paise", "note"],
            "additionalProperties": false,
        });
        let body = json!({
            "model": self.config.text_model,
            "messages": [{ "role": "user", "content": [
                { "type": "text", "text": text },
                { "type": "image_url", "image_url": { "url": data_url(image) } },
            ] }],
            "response_format": { "type": "json_schema", "json_schema": {
                "name": "bill_of_materials", "strict": true,
                "schema": { "type": "object", "properties": { "items": { "type": "array", "items": item } },
                            "required": ["items"], "additionalProperties": false },
            } },
        });
        let url = format!("{}/chat/completions", self.config.base_url);
        let send = || {
            self.http
                .post(&url)
                .bearer_auth(self.config.api_key.expose())
                .json(&body)
        };
        let answer = send_with_retries(send, self.config.retry_base_ms, |b| {
            if b.to_string().to_lowercase().contains("budget") {
                Hint::GiveUp("the Emergent budget is spent; top it up".into())
            } else {
                Hint::Retry(None)
            }
        })
        .await?;
        let content = answer["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| failure(FailureClass::NoImage, "the provider answered without a BOM"))?;
        #[derive(serde::Deserialize)]
        struct Drafted {
            items: Vec<crate::studio::bom::BomItem>,
        }
        serde_json::from_str::<Drafted>(content)
            .map(|d| d.items)
            .map_err(|e| {
                tracing::warn!(error = %e, "the provider's BOM is not valid JSON");
                failure(
                    FailureClass::ProviderError,
                    "the provider's bill of materials could not be read",
                )
            })
    }
}
