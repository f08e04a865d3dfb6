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
    /// The image as the provider sent it. What it is (format, size) is read from these bytes,
    /// never taken from the provider's word (`identify`).
    pub bytes: Vec<u8>,
    pub model: String,
    pub finish_reason: String,
    pub usage: serde_json::Value,
}

/// What an image's bytes are, from its header alone (nothing is decoded): its format and size;
/// `None` unless they are a PNG, JPEG or WebP image.
pub fn identify(bytes: &[u8]) -> Option<(super::strip::Format, u32, u32)> {
    let format = super::strip::Format::sniff(bytes)?;
    let reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format.decoder());
    let (width, height) = reader.into_dimensions().ok()?;
    Some((format, width, height))
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

/// The most one provider request may carry (Gemini refuses inline data over 20 MB).
pub const REQUEST_BUDGET: usize = 15 * 1024 * 1024;

/// Whether the images' base64 encoding fits `budget` as they are.
pub fn fits_budget(images: &[Vec<u8>], budget: usize) -> bool {
    images
        .iter()
        .map(|i| i.len().div_ceil(3) * 4)
        .sum::<usize>()
        <= budget
}

/// Shrinks the images (largest first, to 2048 px then halving, re-encoded as JPEG) until their
/// base64 encoding fits `budget`; images already small enough are sent as they are.
pub fn fit_budget(images: &mut [Vec<u8>], budget: usize) {
    let mut long_side = 2048u32;
    while !fits_budget(images, budget) && long_side >= 256 {
        let Some(largest) = (0..images.len()).max_by_key(|&i| images[i].len()) else {
            return;
        };
        let Ok(img) = image::load_from_memory(&images[largest]) else {
            return;
        };
        let smaller = img
            .resize(long_side, long_side, image::imageops::FilterType::Triangle)
            .to_rgb8();
        let mut out = std::io::Cursor::new(Vec::new());
        let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        if encoder.encode_image(&smaller).is_err() {
            return;
        }
        let out = out.into_inner();
        if out.len() < images[largest].len() {
            images[largest] = out;
        } else {
            long_side /= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn oversized_inputs_are_shrunk_under_the_budget_and_small_ones_left_alone() {
        let mut state = 7u32;
        let noise = image::RgbImage::from_fn(900, 900, |_, _| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            image::Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8])
        });
        let mut big = std::io::Cursor::new(Vec::new());
        noise.write_to(&mut big, image::ImageFormat::Png).unwrap();
        let big = big.into_inner();
        let small = vec![1u8, 2, 3];
        let mut images = vec![big.clone(), small.clone()];
        super::fit_budget(&mut images, 400 * 1024);
        let encoded: usize = images.iter().map(|i| i.len().div_ceil(3) * 4).sum();
        assert!(encoded <= 400 * 1024, "{encoded}");
        assert_eq!(images[1], small);
        assert!(image::load_from_memory(&images[0]).is_ok());
        let mut untouched = vec![small.clone()];
        super::fit_budget(&mut untouched, 400 * 1024);
        assert_eq!(untouched, vec![small]);
    }
}
