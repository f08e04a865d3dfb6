//! `POST /v1/uploads`: a sketch or reference image as multipart (`file`, `kind`).

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use facetra_api::Upload;
use facetra_core::studio::UploadKind;

use crate::http::Authenticated;
use crate::{ApiError, AppState};

fn bad(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}

/// Stores an image (PNG, JPEG or WebP, recognised by content) with its metadata stripped.
#[utoipa::path(post, path = "/v1/uploads", tag = "studio",
    request_body(content_type = "multipart/form-data", description = "`file` (the image) and `kind` (`sketch` or `reference`)"),
    responses((status = 201, body = Upload), (status = 400), (status = 401), (status = 413, description = "too_large"),
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
    let limit = usize::try_from(state.facetra.config().upload_max_bytes).unwrap_or(usize::MAX);
    let (mut file, mut kind) = (None, None);
    while let Some(mut field) = form.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            bad("the multipart body could not be read")
        }
    })? {
        match field.name() {
            Some("file") => {
                // Read into one buffer as it arrives (no second copy), stopping at the limit.
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        too_large()
                    } else {
                        bad("the file part could not be read")
                    }
                })? {
                    if bytes.len() + chunk.len() > limit {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some(bytes);
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
    Ok((StatusCode::CREATED, Json(Upload::from(upload))).into_response())
}
