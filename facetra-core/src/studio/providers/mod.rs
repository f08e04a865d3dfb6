//! Image and BOM providers behind traits: `local` (offline, the embedded default) now;
//! `gemini` and `emergent` join with the render pipeline. A provider turns one variant's
//! request into one image or a classified failure; it never touches the ledger or the store.

pub mod emergent;
pub mod gemini;
pub mod local;
pub(crate) mod retry;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Why a variant produced no image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    SafetyBlocked,
    NoImage,
    Timeout,
    ProviderError,
    InvalidInput,
}

/// A variant that produced no image, with a reason a person can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationFailure {
    pub class: FailureClass,
    pub reason: String,
}

/// The supported aspect ratios (Gemini's `imageConfig.aspectRatio`).
pub const ASPECT_RATIOS: [&str; 10] = [
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
];

/// Parses `W:H` from the supported list.
pub fn parse_aspect(s: &str) -> Option<(u32, u32)> {
    if !ASPECT_RATIOS.contains(&s) {
        return None;
    }
    let (w, h) = s.split_once(':')?;
    Some((w.parse().ok()?, h.parse().ok()?))
}

/// One variant to generate.
#[derive(Debug, Clone)]
pub struct ImageRequest {
    /// The stripped sketch bytes.
    pub sketch: Vec<u8>,
    /// The stripped reference images' bytes.
    pub references: Vec<Vec<u8>>,
    pub prompt: String,
    pub style: Option<String>,
    /// One of `ASPECT_RATIOS`.
    pub aspect_ratio: String,
    /// 0-based variant index (variants differ).
    pub variant: u32,
}

/// A generated image and its provenance.
#[derive(Debug, Clone)]
pub struct GeneratedImage {
    pub bytes: Vec<u8>,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    pub model: String,
    pub finish_reason: String,
    pub usage: serde_json::Value,
}

/// Something that drafts a bill of materials for a render.
#[async_trait]
pub trait BomGenerator: Send + Sync + std::fmt::Debug {
    /// `local` (the free heuristic) or the AI provider's name (charged).
    fn provider(&self) -> &'static str;
    /// Drafts items from the render's prompt and image.
    async fn draft_bom(
        &self,
        prompt: &str,
        image: &[u8],
    ) -> Result<Vec<crate::studio::bom::BomItem>, GenerationFailure>;
}

/// The heuristic BOM, from the prompt alone.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalBom;

#[async_trait]
impl BomGenerator for LocalBom {
    fn provider(&self) -> &'static str {
        "local"
    }

    async fn draft_bom(
        &self,
        prompt: &str,
        _image: &[u8],
    ) -> Result<Vec<crate::studio::bom::BomItem>, GenerationFailure> {
        Ok(crate::studio::bom::heuristic_items(prompt))
    }
}

/// Something that renders a sketch.
#[async_trait]
pub trait ImageGenerator: Send + Sync + std::fmt::Debug {
    /// The provider's name for provenance (`local`, `gemini`, `emergent`).
    fn provider(&self) -> &'static str;
    /// Renders one variant.
    async fn generate(&self, request: &ImageRequest) -> Result<GeneratedImage, GenerationFailure>;
}
