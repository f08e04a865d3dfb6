//! Uploads (sketch, reference): recognised by content, probed under `image::Limits` on the
//! blocking pool, stripped of metadata, then stored under a fresh random blob id.

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use super::strip::{self, Format};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{BlobId, UploadId, UserId};
use crate::privacy::usage::{Feature, UsageType};
use crate::{Actor, Facetra};

/// What an upload is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadKind {
    Sketch,
    Reference,
}

impl UploadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadKind::Sketch => "sketch",
            UploadKind::Reference => "reference",
        }
    }

    pub fn parse(s: &str) -> Result<UploadKind> {
        match s {
            "sketch" => Ok(UploadKind::Sketch),
            "reference" => Ok(UploadKind::Reference),
            _ => Err(Error::invalid("kind", "must be sketch or reference")),
        }
    }
}

/// A stored upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: UploadId,
    pub user_id: UserId,
    pub kind: UploadKind,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    /// Bytes after stripping.
    pub size: u64,
    /// SHA-256 of the stripped bytes.
    pub sha256: String,
    pub blob_id: BlobId,
    pub created_at: Timestamp,
}

/// The studio domain, borrowed from the facade.
pub struct Studio<'a> {
    pub(crate) f: &'a Facetra,
}

/// An upload checked as far as its header: recognised, stripped, within the limits.
#[derive(Debug)]
pub struct Inspected {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// The stripped bytes: what is stored.
    pub stripped: Vec<u8>,
    /// How many bytes decoding it takes (from its header).
    pub decode_bytes: u64,
}

/// Checks an image's size, format and pixels from its header (nothing is decoded yet) and
/// strips its metadata.
pub fn inspect(bytes: &[u8], max_bytes: u64, max_pixels: u64) -> Result<Inspected> {
    if bytes.len() as u64 > max_bytes {
        return Err(Error::TooLarge(format!(
            "the file is larger than {} MB",
            max_bytes / 1_000_000
        )));
    }
    let format = Format::sniff(bytes).ok_or_else(|| {
        Error::UnsupportedMedia(
            "the file is not a PNG, JPEG or WebP image (its name does not matter)".into(),
        )
    })?;
    let stripped = strip::strip(format, bytes)?;
    let unreadable =
        |e: image::ImageError| Error::InvalidImage(format!("the image cannot be read ({e})"));
    let (width, height, decode_bytes) = {
        let decoder = image::ImageReader::with_format(Cursor::new(&stripped), format.decoder())
            .into_decoder()
            .map_err(unreadable)?;
        let (w, h) = image::ImageDecoder::dimensions(&decoder);
        (w, h, image::ImageDecoder::total_bytes(&decoder))
    };
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(Error::InvalidImage(format!(
            "the image is {width}×{height}; at most {} megapixels are accepted",
            max_pixels / 1_000_000
        )));
    }
    Ok(Inspected {
        format,
        width,
        height,
        stripped,
        decode_bytes,
    })
}

/// What checking an image costs in memory: its decoded pixels and the decoder's own buffers.
pub fn decode_cost(decode_bytes: u64) -> u64 {
    decode_bytes
        .saturating_add(decode_bytes / 4)
        .saturating_add(8 << 20)
}

/// Decodes the whole image, allocating at most `budget` bytes: damaged data is refused.
pub fn check_decodes(image: &Inspected, budget: u64) -> Result<()> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(image.width);
    limits.max_image_height = Some(image.height);
    limits.max_alloc = Some(budget);
    let mut reader =
        image::ImageReader::with_format(Cursor::new(&image.stripped), image.format.decoder());
    reader.limits(limits);
    reader
        .decode()
        .map(drop)
        .map_err(|e| Error::InvalidImage(format!("the image data is damaged ({e})")))
}

impl Studio<'_> {
    /// Stores an upload for the actor. The decode that checks it first takes its memory from
    /// the process's budget (503 `busy` when there is no room soon) and the actor may have only
    /// a few uploads in flight (429).
    pub async fn upload(&self, actor: &Actor, kind: UploadKind, bytes: Vec<u8>) -> Result<Upload> {
        let me = self.f.accounts().me(actor).await?;
        let gate = self.f.upload_gate();
        let _in_flight = gate.enter(&me.id)?;
        let cfg = self.f.config();
        let (max_bytes, max_pixels) = (cfg.upload_max_bytes, cfg.upload_max_pixels);
        let blocking = |e: tokio::task::JoinError| {
            Error::Internal(format!("checking the image panicked: {e}"))
        };
        let inspected = tokio::task::spawn_blocking(move || inspect(&bytes, max_bytes, max_pixels))
            .await
            .map_err(blocking)??;
        let cost = decode_cost(inspected.decode_bytes);
        let room = gate.reserve(cost).await?;
        let inspected = tokio::task::spawn_blocking(move || {
            let checked = check_decodes(&inspected, cost);
            drop(room);
            checked.map(|()| inspected)
        })
        .await
        .map_err(blocking)??;
        let Inspected {
            format,
            width,
            height,
            stripped,
            ..
        } = inspected;
        let now = self.f.now();
        let blob = self
            .f
            .store()
            .blobs
            .put_blob_bytes(&me.id, format.mime(), stripped, now)
            .await?;
        let upload = Upload {
            id: UploadId::new(now),
            user_id: me.id.clone(),
            kind,
            mime: format.mime().to_owned(),
            width,
            height,
            size: blob.size,
            sha256: blob.sha256,
            blob_id: blob.id,
            created_at: now,
        };
        if let Err(e) = self.f.store().studio.insert_upload(&upload).await {
            let _ = self.f.store().blobs.delete_blob(&upload.blob_id).await;
            return Err(e);
        }
        self.f
            .usage()
            .record(&me, UsageType::FeatureUsed, Feature::Upload, 1)
            .await;
        Ok(upload)
    }

    /// One of the actor's uploads; anyone else's is "not found".
    pub async fn get_upload(&self, actor: &Actor, id: &str) -> Result<Upload> {
        let me = self.f.accounts().me(actor).await?;
        let id = UploadId::parse(id).ok_or(Error::NotFound("upload"))?;
        self.f
            .store()
            .studio
            .upload(&me.id, &id)
            .await?
            .ok_or(Error::NotFound("upload"))
    }
}
