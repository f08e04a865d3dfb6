//! The one place core errors become HTTP: status, code and message of the error envelope
//! `{"error": {"code", "message", "request_id"}}`. Internal details go to the process log by
//! request id, never into the response.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use facetra_core::Error;

use crate::http::current_request_id;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        // The code comes from core's one table; the status and wording are HTTP's.
        let code = e.code();
        match e {
            Error::Invalid { .. } => ApiError::new(S::BAD_REQUEST, code, e.to_string()),
            Error::NotFound(_) => ApiError::new(S::NOT_FOUND, code, e.to_string()),
            Error::Unauthenticated(why) => ApiError::new(S::UNAUTHORIZED, code, why),
            Error::InvalidToken(_) => ApiError::new(S::UNAUTHORIZED, code, e.to_string()),
            Error::Forbidden(why) => ApiError::new(S::FORBIDDEN, code, why),
            Error::Conflict(why) => ApiError::new(S::CONFLICT, code, why),
            Error::RateLimited(why) => ApiError::new(S::TOO_MANY_REQUESTS, code, why),
            Error::Busy(why) => ApiError::new(S::SERVICE_UNAVAILABLE, code, why),
            Error::IdempotencyConflict(why) => ApiError::new(S::CONFLICT, code, why),
            Error::TooLarge(_) => ApiError::new(S::PAYLOAD_TOO_LARGE, code, e.to_string()),
            Error::UnsupportedMedia(_) => {
                ApiError::new(S::UNSUPPORTED_MEDIA_TYPE, code, e.to_string())
            }
            Error::InvalidImage(_) => ApiError::new(S::UNPROCESSABLE_ENTITY, code, e.to_string()),
            Error::InsufficientCredits { .. } => {
                ApiError::new(S::PAYMENT_REQUIRED, code, e.to_string())
            }
            Error::PaymentsDisabled(_) => ApiError::new(
                S::SERVICE_UNAVAILABLE,
                code,
                "payments are not available on this server",
            ),
            Error::InvalidSignature => ApiError::new(S::FORBIDDEN, code, e.to_string()),
            Error::StaleVersion(_) => ApiError::new(S::CONFLICT, code, e.to_string()),
            Error::ExpiredLink => ApiError::new(S::FORBIDDEN, code, e.to_string()),
            Error::Provider { provider, .. } => {
                tracing::warn!(request_id = %current_request_id(), error = %e, "provider failure");
                ApiError::new(
                    S::SERVICE_UNAVAILABLE,
                    code,
                    format!("{provider} is unavailable; try again shortly"),
                )
            }
            Error::Unavailable(_) => {
                tracing::warn!(request_id = %current_request_id(), error = %e, "store unavailable");
                ApiError::new(
                    S::SERVICE_UNAVAILABLE,
                    code,
                    "the service is temporarily unavailable; try again shortly",
                )
            }
            Error::Config(_) | Error::Corrupt(_) | Error::Internal(_) => {
                tracing::error!(request_id = %current_request_id(), error = %e, "internal error");
                ApiError::new(
                    S::INTERNAL_SERVER_ERROR,
                    code,
                    "something went wrong on our side; quote the request id if you report it",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = facetra_api::ErrorBody {
            error: facetra_api::ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                request_id: Some(current_request_id()),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if matches!(self.code, "rate_limited" | "busy") {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("2"),
            );
        }
        if self.code == "unavailable" {
            // The store failed: the guard marks it down, and the answer says when to come back.
            response.extensions_mut().insert(crate::health::StoreFailed);
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("2"),
            );
        }
        response
    }
}
