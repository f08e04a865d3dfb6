//! The Resend client (EXTERNAL-APIS.md §2): `POST /emails` with a bearer key, a `User-Agent`
//! (Resend refuses requests without one) and an `Idempotency-Key` per message, so a retry after
//! a timeout cannot send twice. Rate limits (429 `rate_limit_exceeded`) and server errors are
//! retried, honouring `retry-after`; quota and validation errors are not.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{Mailer, OutboxMessage, SendFailure};
use crate::config::ResendConfig;
use crate::error::Result;

/// Resend's error body.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct Sent {
    id: String,
}

/// The HTTP client for Resend.
pub struct Resend {
    http: reqwest::Client,
    config: ResendConfig,
}

impl std::fmt::Debug for Resend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resend")
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

impl Resend {
    pub fn new(config: ResendConfig) -> Result<Resend> {
        let http = crate::security::outbound_client(20, "Resend")?;
        Ok(Resend { http, config })
    }
}

/// Whether a Resend error is worth retrying.
fn retryable(status: u16, name: &str) -> bool {
    match status {
        429 => name == "rate_limit_exceeded" || name.is_empty(),
        409 => name == "concurrent_idempotent_requests",
        408 | 500..=599 => true,
        _ => false,
    }
}

#[async_trait]
impl Mailer for Resend {
    async fn send(
        &self,
        from: &str,
        m: &OutboxMessage,
    ) -> std::result::Result<String, SendFailure> {
        let body = json!({
            "from": from,
            "to": [m.to],
            "subject": m.subject,
            "text": m.text,
            "html": m.html,
            "tags": [{ "name": "template", "value": m.template }],
        });
        let res = self
            .http
            .post(format!("{}/emails", self.config.base_url))
            .bearer_auth(self.config.api_key.expose())
            .header("Idempotency-Key", format!("facetra/{}", m.id))
            .json(&body)
            .send()
            .await;
        let res = match res {
            Ok(r) => r,
            Err(e) => {
                return Err(SendFailure {
                    permanent: false,
                    retry_after: None,
                    reason: format!("Resend unreachable: {}", e.without_url()),
                })
            }
        };
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = res.bytes().await.unwrap_or_default();
        if (200..300).contains(&status) {
            return serde_json::from_slice::<Sent>(&bytes)
                .map(|s| s.id)
                .map_err(|e| SendFailure {
                    permanent: false,
                    retry_after: None,
                    reason: format!("Resend answered {status} without an id: {e}"),
                });
        }
        let err = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or(ErrorBody {
            name: "application_error".into(),
            message: String::new(),
        });
        Err(SendFailure {
            permanent: !retryable(status, &err.name),
            retry_after,
            reason: format!("Resend {status} {}: {}", err.name, err.message),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quota_and_validation_errors_are_not_retried() {
        assert!(super::retryable(429, "rate_limit_exceeded"));
        assert!(!super::retryable(429, "daily_quota_exceeded"));
        assert!(!super::retryable(429, "monthly_quota_exceeded"));
        assert!(!super::retryable(422, "invalid_from_address"));
        assert!(!super::retryable(403, "invalid_api_key"));
        assert!(super::retryable(500, "internal_server_error"));
        assert!(super::retryable(503, "service_unavailable"));
        assert!(super::retryable(409, "concurrent_idempotent_requests"));
        assert!(!super::retryable(409, "invalid_idempotent_request"));
    }
}
