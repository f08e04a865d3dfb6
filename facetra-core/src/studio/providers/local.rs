//! The offline renderer: the embedded default, needing no network and no key. From the sketch
//! it makes a real picture: the drawn lines are extracted (Otsu threshold, closed by a
//! dilation), the enclosed regions are found and filled with the materials and colours the
//! prompt names (oak, marble, brass, teal …) and the reference images' palette, each with its
//! texture (grain, veins, weave), then lit from one side, shaded near the lines, given a drop
//! shadow, and inked. The long side is 1024 px; the same inputs give the same image; the
//! variant index changes the light and the colour assignment. Its provenance says it is local.

use std::collections::VecDeque;
use std::io::Cursor;

use async_trait::async_trait;
use image::{GrayImage, ImageFormat, RgbImage};
use serde_json::json;

use super::{
    parse_aspect, FailureClass, GeneratedImage, GenerationFailure, ImageGenerator, ImageRequest,
};

/// The model name recorded in provenance.
pub const MODEL: &str = "facetra-local-1";
/// The long side of every render.
pub const LONG_SIDE: u32 = 1024;

/// The offline renderer.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalRenderer;

#[async_trait]
impl ImageGenerator for LocalRenderer {
    fn provider(&self) -> &'static str {
        "local"
    }

    async fn generate(&self, request: &ImageRequest) -> Result<GeneratedImage, GenerationFailure> {
        let request = request.clone();
        tokio::task::spawn_blocking(move || render(&request))
            .await
            .map_err(|e| GenerationFailure {
                class: FailureClass::ProviderError,
                reason: format!("the local renderer stopped unexpectedly: {e}"),
            })?
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Texture {
    Plain,
    Wood,
    Veined,
    Grainy,
    Weave,
    Metal,
    Glass,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Material {
    rgb: [f32; 3],
    texture: Texture,
}

/// The words the renderer understands, with their colour and texture.
const VOCABULARY: &[(&str, [u8; 3], Texture)] = &[
    ("oak", [193, 154, 107], Texture::Wood),
    ("walnut", [101, 67, 45], Texture::Wood),
    ("teak", [160, 110, 60], Texture::Wood),
    ("wood", [170, 125, 80], Texture::Wood),
    ("wooden", [170, 125, 80], Texture::Wood),
    ("bamboo", [214, 190, 130], Texture::Wood),
    ("rattan", [196, 160, 105], Texture::Weave),
    ("cane", [205, 172, 120], Texture::Weave),
    ("marble", [232, 230, 226], Texture::Veined),
    ("granite", [120, 118, 115], Texture::Grainy),
    ("terrazzo", [215, 208, 198], Texture::Grainy),
    ("concrete", [156, 154, 150], Texture::Grainy),
    ("stone", [170, 162, 150], Texture::Grainy),
    ("brick", [165, 82, 58], Texture::Grainy),
    ("terracotta", [204, 110, 76], Texture::Grainy),
    ("plaster", [228, 220, 205], Texture::Grainy),
    ("brass", [181, 150, 66], Texture::Metal),
    ("gold", [200, 165, 70], Texture::Metal),
    ("copper", [184, 115, 70], Texture::Metal),
    ("steel", [160, 165, 170], Texture::Metal),
    ("chrome", [200, 205, 210], Texture::Metal),
    ("metal", [150, 152, 155], Texture::Metal),
    ("glass", [190, 215, 225], Texture::Glass),
    ("velvet", [110, 40, 60], Texture::Weave),
    ("linen", [225, 215, 195], Texture::Weave),
    ("wool", [200, 190, 175], Texture::Weave),
    ("leather", [120, 70, 40], Texture::Grainy),
    ("boucle", [236, 230, 218], Texture::Weave),
    ("fabric", [180, 170, 160], Texture::Weave),
    ("white", [240, 238, 232], Texture::Plain),
    ("black", [40, 38, 36], Texture::Plain),
    ("grey", [140, 140, 140], Texture::Plain),
    ("gray", [140, 140, 140], Texture::Plain),
    ("beige", [220, 200, 170], Texture::Plain),
    ("cream", [238, 228, 205], Texture::Plain),
    ("navy", [35, 50, 90], Texture::Plain),
    ("blue", [60, 100, 170], Texture::Plain),
    ("teal", [30, 120, 120], Texture::Plain),
    ("green", [70, 130, 80], Texture::Plain),
    ("sage", [150, 170, 140], Texture::Plain),
    ("olive", [120, 120, 60], Texture::Plain),
    ("mustard", [210, 170, 50], Texture::Plain),
    ("yellow", [230, 200, 70], Texture::Plain),
    ("orange", [220, 130, 60], Texture::Plain),
    ("red", [180, 50, 45], Texture::Plain),
    ("pink", [225, 160, 170], Texture::Plain),
    ("blush", [230, 185, 180], Texture::Plain),
    ("purple", [110, 70, 130], Texture::Plain),
];

/// The materials named in the prompt, in the order they appear.
fn prompt_materials(prompt: &str) -> Vec<Material> {
    let lower = prompt.to_lowercase();
    let mut found: Vec<(usize, Material)> = Vec::new();
    for (word, rgb, texture) in VOCABULARY {
        let mut start = 0;
        while let Some(pos) = lower[start..].find(word) {
            let at = start + pos;
            let before = lower[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            let after = lower[at + word.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            if before && after {
                found.push((
                    at,
                    Material {
                        rgb: rgb.map(f32::from),
                        texture: *texture,
                    },
                ));
                break;
            }
            start = at + word.len();
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, m)| m).collect()
}

/// The dominant colours of the reference images (near-white and near-black skipped).
fn reference_palette(references: &[Vec<u8>]) -> Vec<Material> {
    let mut out = Vec::new();
    for bytes in references {
        let Ok(img) = image::load_from_memory(bytes) else {
            continue;
        };
        let small = img.thumbnail(64, 64).to_rgb8();
        let mut buckets = vec![(0u32, [0u64; 3]); 512];
        for p in small.pixels() {
            let [r, g, b] = p.0;
            let key = ((r >> 5) as usize) << 6 | ((g >> 5) as usize) << 3 | (b >> 5) as usize;
            let slot = &mut buckets[key];
            slot.0 += 1;
            slot.1[0] += u64::from(r);
            slot.1[1] += u64::from(g);
            slot.1[2] += u64::from(b);
        }
        let mut ranked: Vec<(u32, [f32; 3])> = buckets
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, sum)| (*n, sum.map(|s| s as f32 / *n as f32)))
            .filter(|(_, c)| {
                let l = (c[0] + c[1] + c[2]) / 3.0;
                (25.0..235.0).contains(&l)
            })
            .collect();
        ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
        out.extend(ranked.into_iter().take(3).map(|(_, rgb)| Material {
            rgb,
            texture: Texture::Plain,
        }));
    }
    out
}

/// A well-mixed 32-bit hash of integers: deterministic noise.
fn hash(x: u32, y: u32, seed: u32) -> u32 {
    let mut h =
        x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77) ^ seed.wrapping_mul(0xC2B2_AE3D);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    h = h.wrapping_mul(0x297A_2D39);
    h ^ (h >> 15)
}

fn noise(x: u32, y: u32, seed: u32) -> f32 {
    (hash(x, y, seed) & 0xFFFF) as f32 / 65535.0
}

/// Smooth value noise at scale `s` (pixels per cell).
fn smooth_noise(x: u32, y: u32, s: u32, seed: u32) -> f32 {
    let (cx, cy) = (x / s, y / s);
    let (fx, fy) = ((x % s) as f32 / s as f32, (y % s) as f32 / s as f32);
    let (fx, fy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
    let a = noise(cx, cy, seed);
    let b = noise(cx + 1, cy, seed);
    let c = noise(cx, cy + 1, seed);
    let d = noise(cx + 1, cy + 1, seed);
    a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy
}

/// The texture's brightness factor at a pixel (around 1.0).
fn texture_at(t: Texture, x: u32, y: u32, seed: u32) -> f32 {
    match t {
        Texture::Plain => 1.0 + (noise(x, y, seed) - 0.5) * 0.03,
        Texture::Wood => {
            let warp = smooth_noise(x, y, 48, seed) * 9.0;
            let ring = ((y as f32 + warp) * 0.35).sin();
            0.92 + ring * 0.06 + (noise(x / 2, y, seed) - 0.5) * 0.05
        }
        Texture::Veined => {
            let v = ((x as f32 * 0.02 + y as f32 * 0.013 + smooth_noise(x, y, 64, seed) * 6.0)
                .sin())
            .abs();
            1.0 - (1.0 - v).powi(12) * 0.35
        }
        Texture::Grainy => {
            0.95 + smooth_noise(x, y, 6, seed) * 0.06 + (noise(x, y, seed) - 0.5) * 0.06
        }
        Texture::Weave => {
            let w = if (x / 3 + y / 3).is_multiple_of(2) {
                1.02
            } else {
                0.96
            };
            w + (noise(x, y, seed) - 0.5) * 0.04
        }
        Texture::Metal => 0.9 + ((x as f32 + y as f32) * 0.01).sin() * 0.08,
        Texture::Glass => 1.05 + smooth_noise(x, y, 90, seed) * 0.05,
    }
}

/// Otsu's threshold of a grayscale histogram.
fn otsu(img: &GrayImage) -> u8 {
    let mut hist = [0u64; 256];
    for p in img.pixels() {
        hist[p.0[0] as usize] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, n)| i as f64 * *n as f64)
        .sum();
    let (mut sum_b, mut w_b, mut best, mut threshold) = (0.0f64, 0u64, 0.0f64, 128u8);
    for (t, n) in hist.iter().enumerate() {
        w_b += n;
        if w_b == 0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0 {
            break;
        }
        sum_b += t as f64 * *n as f64;
        let (m_b, m_f) = (sum_b / w_b as f64, (sum - sum_b) / w_f as f64);
        let between = w_b as f64 * w_f as f64 * (m_b - m_f).powi(2);
        if between > best {
            best = between;
            threshold = t as u8;
        }
    }
    threshold
}

/// A separable box blur of a float field, radius `r`, in place.
fn box_blur(field: &mut [f32], w: usize, h: usize, r: usize) {
    let mut tmp = vec![0f32; field.len()];
    let norm = 1.0 / (2 * r + 1) as f32;
    for y in 0..h {
        let row = &field[y * w..(y + 1) * w];
        let mut acc: f32 = (0..=r).map(|i| row[i.min(w - 1)]).sum::<f32>() + row[0] * r as f32;
        for x in 0..w {
            tmp[y * w + x] = acc * norm;
            let add = row[(x + r + 1).min(w - 1)];
            let sub = row[x.saturating_sub(r)];
            acc += add - sub;
        }
    }
    for x in 0..w {
        let mut acc: f32 =
            (0..=r).map(|i| tmp[i.min(h - 1) * w + x]).sum::<f32>() + tmp[x] * r as f32;
        for y in 0..h {
            field[y * w + x] = acc * norm;
            let add = tmp[(y + r + 1).min(h - 1) * w + x];
            let sub = tmp[y.saturating_sub(r) * w + x];
            acc += add - sub;
        }
    }
}

fn invalid(reason: String) -> GenerationFailure {
    GenerationFailure {
        class: FailureClass::InvalidInput,
        reason,
    }
}

/// Renders one variant (blocking; the trait runs it on the blocking pool).
pub fn render(req: &ImageRequest) -> Result<GeneratedImage, GenerationFailure> {
    let (aw, ah) = parse_aspect(&req.aspect_ratio).ok_or_else(|| {
        invalid(format!(
            "aspect ratio {:?} is not supported",
            req.aspect_ratio
        ))
    })?;
    let (w, h) = if aw >= ah {
        (LONG_SIDE, (LONG_SIDE * ah + aw / 2) / aw)
    } else {
        ((LONG_SIDE * aw + ah / 2) / ah, LONG_SIDE)
    };
    let sketch = image::load_from_memory(&req.sketch)
        .map_err(|e| invalid(format!("the sketch cannot be read: {e}")))?
        .to_luma8();
    // Fit the sketch into the canvas, centred on white.
    let scale = (w as f32 / sketch.width() as f32).min(h as f32 / sketch.height() as f32);
    let (sw, sh) = (
        ((sketch.width() as f32 * scale) as u32).clamp(1, w),
        ((sketch.height() as f32 * scale) as u32).clamp(1, h),
    );
    let resized = image::imageops::resize(&sketch, sw, sh, image::imageops::FilterType::Triangle);
    let mut canvas = GrayImage::from_pixel(w, h, image::Luma([255]));
    image::imageops::overlay(
        &mut canvas,
        &resized,
        i64::from((w - sw) / 2),
        i64::from((h - sh) / 2),
    );

    let (wu, hu) = (w as usize, h as usize);
    let n = wu * hu;
    let threshold = otsu(&canvas).min(200);
    let raw: Vec<bool> = canvas.pixels().map(|p| p.0[0] < threshold).collect();
    // Close small gaps in the lines: a 3×3 dilation.
    let mut line = vec![false; n];
    for y in 0..hu {
        for x in 0..wu {
            if raw[y * wu + x] {
                for dy in y.saturating_sub(1)..=(y + 1).min(hu - 1) {
                    for dx in x.saturating_sub(1)..=(x + 1).min(wu - 1) {
                        line[dy * wu + dx] = true;
                    }
                }
            }
        }
    }

    // Regions: 4-connected components of what is not line.
    let mut label = vec![u32::MAX; n];
    let mut areas: Vec<u32> = Vec::new();
    let mut border_touch: Vec<u32> = Vec::new();
    let mut queue = VecDeque::new();
    for start in 0..n {
        if line[start] || label[start] != u32::MAX {
            continue;
        }
        let id = areas.len() as u32;
        areas.push(0);
        border_touch.push(0);
        label[start] = id;
        queue.push_back(start);
        while let Some(i) = queue.pop_front() {
            areas[id as usize] += 1;
            let (x, y) = (i % wu, i / wu);
            if x == 0 || y == 0 || x == wu - 1 || y == hu - 1 {
                border_touch[id as usize] += 1;
            }
            let mut visit = |j: usize| {
                if !line[j] && label[j] == u32::MAX {
                    label[j] = id;
                    queue.push_back(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < wu {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - wu);
            }
            if y + 1 < hu {
                visit(i + wu);
            }
        }
    }
    let background = (0..areas.len())
        .max_by_key(|&i| (border_touch[i], areas[i]))
        .map(|i| i as u32);

    // Colours: the prompt's materials first, then the references' palette, then neutrals.
    let mut palette = prompt_materials(&format!(
        "{} {}",
        req.prompt,
        req.style.clone().unwrap_or_default()
    ));
    palette.extend(reference_palette(&req.references));
    if palette.is_empty() {
        palette = ["oak", "linen", "sage", "brass"]
            .iter()
            .filter_map(|w| VOCABULARY.iter().find(|(v, _, _)| v == w))
            .map(|(_, rgb, t)| Material {
                rgb: rgb.map(f32::from),
                texture: *t,
            })
            .collect();
    }
    let min_area = (n / 2000) as u32;
    let mut order: Vec<usize> = (0..areas.len())
        .filter(|&i| Some(i as u32) != background && areas[i] >= min_area)
        .collect();
    order.sort_by(|a, b| areas[*b].cmp(&areas[*a]).then(a.cmp(b)));
    let detail = Material {
        rgb: [225.0, 220.0, 212.0],
        texture: Texture::Plain,
    };
    let wall = if req.prompt.to_lowercase().contains("night") {
        Material {
            rgb: [38.0, 44.0, 70.0],
            texture: Texture::Grainy,
        }
    } else {
        Material {
            rgb: [242.0, 238.0, 230.0],
            texture: Texture::Grainy,
        }
    };
    let mut material_of = vec![detail; areas.len()];
    for (rank, &region) in order.iter().enumerate() {
        material_of[region] = palette[(rank + req.variant as usize) % palette.len()];
    }
    if let Some(bg) = background {
        material_of[bg as usize] = wall;
    }

    // Light: ambient occlusion near lines, a drop shadow, and a directional gradient.
    let mut near_line: Vec<f32> = line.iter().map(|&l| if l { 1.0 } else { 0.0 }).collect();
    box_blur(&mut near_line, wu, hu, 6);
    let mut shadow = vec![0f32; n];
    let (ox, oy) = (10usize, 14usize);
    for y in oy..hu {
        for x in ox..wu {
            if line[(y - oy) * wu + (x - ox)] {
                shadow[y * wu + x] = 1.0;
            }
        }
    }
    box_blur(&mut shadow, wu, hu, 12);
    let angle = 0.6 + req.variant as f32 * 0.9;
    let (lx, ly) = (angle.cos(), angle.sin());
    let diag = (w as f32).hypot(h as f32);
    let seed = req.variant.wrapping_mul(7919) ^ 0xFACE;

    let mut out = RgbImage::new(w, h);
    for (i, px) in out.pixels_mut().enumerate() {
        let (x, y) = ((i % wu) as u32, (i / wu) as u32);
        let ink_strength = if line[i] {
            (1.0 - canvas.as_raw()[i] as f32 / 255.0).max(0.55)
        } else {
            0.0
        };
        let m = if line[i] {
            detail
        } else {
            material_of[label[i] as usize]
        };
        let light = 0.82 + 0.3 * (1.0 - ((x as f32 * lx + y as f32 * ly) / diag).abs());
        let ao = 1.0 - 0.28 * near_line[i];
        let cast = if line[i] { 1.0 } else { 1.0 - 0.22 * shadow[i] };
        let tex = texture_at(m.texture, x, y, seed);
        let f = light * ao * cast * tex;
        let ink = [34.0, 31.0, 30.0];
        let rgb = [0, 1, 2].map(|c| {
            let lit = (m.rgb[c] * f).clamp(0.0, 255.0);
            (lit * (1.0 - ink_strength) + ink[c] * ink_strength) as u8
        });
        px.0 = rgb;
    }
    let mut png = Cursor::new(Vec::new());
    out.write_to(&mut png, ImageFormat::Png)
        .map_err(|e| GenerationFailure {
            class: FailureClass::ProviderError,
            reason: format!("encoding the render: {e}"),
        })?;
    Ok(GeneratedImage {
        bytes: png.into_inner(),
        model: MODEL.into(),
        finish_reason: "STOP".into(),
        usage: json!({ "regions": order.len(), "palette": palette.len() }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sketch() -> Vec<u8> {
        // A sofa-like outline: a rectangle with a line across it, on white.
        let mut img = GrayImage::from_pixel(400, 300, image::Luma([255]));
        for x in 50..350 {
            for t in 0..4 {
                img.put_pixel(x, 80 + t, image::Luma([20]));
                img.put_pixel(x, 220 + t, image::Luma([20]));
                img.put_pixel(x, 150 + t, image::Luma([30]));
            }
        }
        for y in 80..224 {
            for t in 0..4 {
                img.put_pixel(50 + t, y, image::Luma([20]));
                img.put_pixel(346 + t, y, image::Luma([20]));
            }
        }
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn request(prompt: &str, variant: u32) -> ImageRequest {
        ImageRequest {
            sketch: sketch(),
            references: vec![],
            prompt: prompt.into(),
            style: None,
            aspect_ratio: "4:3".into(),
            variant,
        }
    }

    #[test]
    fn renders_are_large_deterministic_and_coloured_by_the_prompt() {
        let a = render(&request("a teal velvet sofa on oak legs", 0)).unwrap();
        let (_, w, h) = super::super::identify(&a.bytes).unwrap();
        assert_eq!((w, h), (1024, 768));
        let b = render(&request("a teal velvet sofa on oak legs", 0)).unwrap();
        assert_eq!(a.bytes, b.bytes, "same inputs, same image");
        let other = render(&request("a teal velvet sofa on oak legs", 1)).unwrap();
        assert_ne!(a.bytes, other.bytes, "variants differ");
        let img = image::load_from_memory(&a.bytes).unwrap().to_rgb8();
        // The upper seat region takes the first material named: teal.
        let p = img.get_pixel(512, 300).0;
        assert!(
            p[1] > p[0] + 30 && p[2] > p[0] + 30,
            "expected a teal region, got {p:?}"
        );
        let brass = render(&request("a brass and marble console", 0)).unwrap();
        let q = image::load_from_memory(&brass.bytes).unwrap().to_rgb8();
        let p = q.get_pixel(512, 300).0;
        assert!(p[0] > p[2] + 30, "expected a brass region, got {p:?}");
    }

    #[test]
    fn bad_inputs_are_classified() {
        let mut r = request("oak", 0);
        r.aspect_ratio = "7:5".into();
        assert_eq!(render(&r).unwrap_err().class, FailureClass::InvalidInput);
        r.aspect_ratio = "1:1".into();
        r.sketch = b"not an image".to_vec();
        assert_eq!(render(&r).unwrap_err().class, FailureClass::InvalidInput);
    }
}
