//! `POST /v1/uploads`: a sketch or reference image as multipart (`file`, `kind`).

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use facetra_core::studio::{Upload, UploadKind};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::Authenticated;
use crate::{ApiError, AppState};

/// An upload as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadView {
    pub id: String,
    pub kind: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    pub size: u64,
    pub sha256: String,
}

impl From<Upload> for UploadView {
    fn from(u: Upload) -> Self {
        UploadView {
            id: u.id.to_string(),
            kind: u.kind.as_str().to_owned(),
            mime: u.mime,
            width: u.width,
            height: u.height,
            size: u.size,
            sha256: u.sha256,
        }
    }
}

fn bad(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}

/// Stores an image (PNG, JPEG or WebP, recognised by content) with its metadata stripped.
#[utoipa::path(post, path = "/v1/uploads", tag = "studio",
    request_body(content_type = "multipart/form-data", description = "`file` (the image) and `kind` (`sketch` or `reference`)"),
    responses((status = 201, body = UploadView), (status = 400), (status = 401), (status = 413, description = "too_large"),
        (status = 415, description = "unsupported_media_type"), (status = 422, description = "invalid_image")))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the upload is too large",
        )
    };
    let (mut file, mut kind) = (None, None);
    while let Some(field) = form.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            bad("the multipart body could not be read")
        }
    })? {
        match field.name() {
            Some("file") => {
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        too_large()
                    } else {
                        bad("the file part could not be read")
                    }
                })?;
                file = Some(bytes.to_vec());
            }
            Some("kind") => {
                kind = Some(
                    field
                        .text()
                        .await
                        .map_err(|_| bad("kind: could not be read"))?,
                )
            }
            _ => {}
        }
    }
    let file = file.ok_or_else(|| bad("file: attach the image as the `file` part"))?;
    let kind = UploadKind::parse(kind.as_deref().unwrap_or("sketch").trim())?;
    let upload = state
        .facetra
        .studio()
        .upload(&p.actor(), kind, file)
        .await?;
    Ok((StatusCode::CREATED, Json(UploadView::from(upload))).into_response())
}
