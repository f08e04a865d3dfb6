//! Uploads, render jobs, renders, downloads, BOMs and portfolios.

use facetra_core::studio::bom::BomSource;
use facetra_core::studio::providers::FailureClass;
use facetra_core::studio::{JobStatus, RenderSpec, UploadKind, VariantStatus};
use facetra_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Upload {
    pub id: String,
    #[schema(value_type = String)]
    pub kind: UploadKind,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    pub size: u64,
    pub sha256: String,
}

impl From<facetra_core::studio::Upload> for Upload {
    fn from(u: facetra_core::studio::Upload) -> Self {
        Upload {
            id: u.id.to_string(),
            kind: u.kind,
            mime: u.mime,
            width: u.width,
            height: u.height,
            size: u.size,
            sha256: u.sha256,
        }
    }
}

/// `POST /v1/renders` (and `/quote`) body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RenderRequest {
    pub prompt: String,
    pub sketch_id: String,
    #[serde(default)]
    pub reference_ids: Vec<String>,
    #[serde(default = "one")]
    pub variants: u32,
    #[serde(default = "square")]
    pub aspect_ratio: String,
    #[serde(default)]
    pub style: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn one() -> u32 {
    1
}

fn square() -> String {
    "1:1".into()
}

impl From<RenderRequest> for RenderSpec {
    fn from(b: RenderRequest) -> Self {
        RenderSpec {
            prompt: b.prompt,
            sketch_id: b.sketch_id,
            reference_ids: b.reference_ids,
            variants: b.variants,
            aspect_ratio: b.aspect_ratio,
            style: b.style,
            idempotency_key: b.idempotency_key,
        }
    }
}

impl From<RenderSpec> for RenderRequest {
    fn from(s: RenderSpec) -> Self {
        RenderRequest {
            prompt: s.prompt,
            sketch_id: s.sketch_id,
            reference_ids: s.reference_ids,
            variants: s.variants,
            aspect_ratio: s.aspect_ratio,
            style: s.style,
            idempotency_key: s.idempotency_key,
        }
    }
}

/// `POST /v1/renders/quote` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Quote {
    pub credits: i64,
}

/// `POST /v1/renders` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobAccepted {
    pub job: Job,
}

/// One variant of a job, numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Variant {
    /// 1, 2, … (as every table and file name numbers them).
    pub index: u32,
    #[schema(value_type = String)]
    pub status: VariantStatus,
    pub render_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub failure_class: Option<FailureClass>,
    pub reason: Option<String>,
}

/// `Job` of API.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: String,
    #[schema(value_type = String)]
    pub status: JobStatus,
    pub status_seq: u64,
    pub prompt: String,
    pub style: Option<String>,
    pub aspect_ratio: String,
    pub variants: Vec<Variant>,
    pub credits_reserved: i64,
    pub credits_charged: i64,
    pub credits_refunded: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
}

impl From<facetra_core::studio::Job> for Job {
    fn from(j: facetra_core::studio::Job) -> Self {
        Job {
            id: j.id.to_string(),
            status: j.status,
            status_seq: j.status_seq,
            prompt: j.prompt,
            style: j.style,
            aspect_ratio: j.aspect_ratio,
            variants: j
                .variants
                .into_iter()
                .map(|v| Variant {
                    index: v.index + 1,
                    status: v.status,
                    render_id: v.render_id.map(|r| r.to_string()),
                    failure_class: v.failure_class,
                    reason: v.reason,
                })
                .collect(),
            credits_reserved: j.credits_reserved,
            credits_charged: j.credits_charged,
            credits_refunded: j.credits_refunded,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

/// Where a render came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Provenance {
    pub provider: String,
    pub model: String,
    pub prompt: String,
    pub inputs_sha256: Vec<String>,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub finish_reason: String,
    #[schema(value_type = Object)]
    pub usage: serde_json::Value,
}

/// `Render` of API.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Render {
    pub id: String,
    pub job_id: String,
    /// Which variant of its job, from 1.
    pub variant: u32,
    pub selected: bool,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub provenance: Provenance,
}

impl From<facetra_core::studio::Render> for Render {
    fn from(r: facetra_core::studio::Render) -> Self {
        let p = r.provenance;
        Render {
            id: r.id.to_string(),
            job_id: r.job_id.to_string(),
            variant: r.variant + 1,
            selected: r.selected,
            mime: r.mime,
            width: r.width,
            height: r.height,
            created_at: r.created_at,
            provenance: Provenance {
                provider: p.provider,
                model: p.model,
                prompt: p.prompt,
                inputs_sha256: p.inputs_sha256,
                params: p.params,
                finish_reason: p.finish_reason,
                usage: p.usage,
            },
        }
    }
}

/// `?selected=true&cursor=&limit=` of `GET /v1/renders`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
pub struct RenderQuery {
    /// Only the selected renders.
    pub selected: Option<bool>,
    /// Only the renders of this portfolio (pfl_…).
    pub portfolio_id: Option<String>,
    /// Where the previous page ended.
    pub cursor: Option<String>,
    /// At most this many (1–100, default 50).
    pub limit: Option<usize>,
}

/// `GET /v1/renders/{id}/download` answer: a signed, expiring link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Download {
    pub url: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// One line of a BOM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BomItem {
    pub name: String,
    pub category: String,
    pub material: String,
    pub quantity: f64,
    pub unit: String,
    pub unit_price_paise: i64,
    #[serde(default)]
    pub note: String,
}

impl From<facetra_core::studio::bom::BomItem> for BomItem {
    fn from(i: facetra_core::studio::bom::BomItem) -> Self {
        BomItem {
            name: i.name,
            category: i.category,
            material: i.material,
            quantity: i.quantity,
            unit: i.unit,
            unit_price_paise: i.unit_price_paise,
            note: i.note,
        }
    }
}

impl From<BomItem> for facetra_core::studio::bom::BomItem {
    fn from(i: BomItem) -> Self {
        facetra_core::studio::bom::BomItem {
            name: i.name,
            category: i.category,
            material: i.material,
            quantity: i.quantity,
            unit: i.unit,
            unit_price_paise: i.unit_price_paise,
            note: i.note,
        }
    }
}

/// `BOM` of API.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Bom {
    pub render_id: String,
    pub version: i64,
    #[schema(value_type = String)]
    pub source: BomSource,
    pub items: Vec<BomItem>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<facetra_core::studio::bom::Bom> for Bom {
    fn from(b: facetra_core::studio::bom::Bom) -> Self {
        Bom {
            render_id: b.render_id.to_string(),
            version: b.version,
            source: b.source,
            items: b.items.into_iter().map(BomItem::from).collect(),
            updated_at: b.updated_at,
        }
    }
}

/// `PUT /v1/renders/{id}/bom` body: the version the edit is based on, and the items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BomEdit {
    pub version: i64,
    pub items: Vec<BomItem>,
}

/// `Portfolio` of API.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Portfolio {
    pub id: String,
    pub name: String,
    pub render_ids: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<facetra_core::studio::portfolios::Portfolio> for Portfolio {
    fn from(p: facetra_core::studio::portfolios::Portfolio) -> Self {
        Portfolio {
            id: p.id.to_string(),
            name: p.name,
            render_ids: p.render_ids.iter().map(|r| r.to_string()).collect(),
            created_at: p.created_at,
        }
    }
}

/// `PUT /v1/portfolios/{id}/renders` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PortfolioRenders {
    pub render_ids: Vec<String>,
}
