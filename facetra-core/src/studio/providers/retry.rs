//! The HTTP call every remote provider makes: POST JSON, and on 429, 500, 502, 503, 504 or a
//! network error try again with jittered exponential backoff (at most four calls, never waiting
//! less than the provider asked nor more than a minute); never on 400, 401, 403 or 404. The
//! answer's reading and the provider's own hints (a retry delay, a quota that will not clear)
//! stay with each provider.

use std::time::Duration;

use rand::Rng;
use serde_json::Value;

use super::{FailureClass, GenerationFailure};

/// How many calls one variant may make (the first and three retries).
pub const MAX_CALLS: u32 = 4;
/// The longest wait between calls, whatever the provider asks.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// What a provider makes of a retryable error body.
pub enum Hint {
    /// Try again, not sooner than this when given.
    Retry(Option<Duration>),
    /// Waiting will not help (a daily quota, a spent budget).
    GiveUp(String),
}

/// A failure of `class` with a reason a person can read.
pub fn failure(class: FailureClass, reason: impl Into<String>) -> GenerationFailure {
    GenerationFailure {
        class,
        reason: reason.into(),
    }
}

/// Notes a refusal for the operator: the status and the provider's machine-readable code,
/// never its free text (it can echo inputs), which never reaches users either.
fn log_refusal(status: u16, body: &Value) {
    let code = body["error"]["status"].as_str().unwrap_or("");
    tracing::warn!(status, code, "the image or text provider refused a request");
}

/// Sends the request `build` makes until it succeeds (the 200 body) or fails for good.
pub async fn send_with_retries(
    build: impl Fn() -> reqwest::RequestBuilder,
    base_ms: u64,
    hint: impl Fn(&Value) -> Hint,
) -> Result<Value, GenerationFailure> {
    let mut last = failure(FailureClass::ProviderError, "no attempt was made");
    for call in 0..MAX_CALLS {
        let mut asked = None;
        match build().send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let body = res.json::<Value>().await.unwrap_or(Value::Null);
                match status {
                    200 => return Ok(body),
                    400 => {
                        log_refusal(status, &body);
                        return Err(failure(
                            FailureClass::InvalidInput,
                            "the provider could not use these inputs; change the prompt or the \
                             images and try again",
                        ));
                    }
                    401 | 403 | 404 => {
                        log_refusal(status, &body);
                        return Err(failure(
                            FailureClass::ProviderError,
                            format!(
                                "the provider refused the studio's request ({status}); its \
                                 operator needs to check the provider settings"
                            ),
                        ));
                    }
                    429 | 500 | 502 | 503 | 504 => {
                        match hint(&body) {
                            Hint::GiveUp(why) => {
                                return Err(failure(FailureClass::ProviderError, why))
                            }
                            Hint::Retry(delay) => asked = delay,
                        }
                        let status_name = body["error"]["status"].as_str().unwrap_or("");
                        last = failure(
                            FailureClass::ProviderError,
                            format!("the provider is unavailable ({status} {status_name})")
                                .trim_end()
                                .to_owned(),
                        );
                    }
                    other => {
                        return Err(failure(
                            FailureClass::ProviderError,
                            format!("the provider answered {other}"),
                        ))
                    }
                }
            }
            Err(e) if e.is_timeout() => {
                last = failure(FailureClass::Timeout, "the provider did not answer in time")
            }
            Err(e) => {
                tracing::warn!(error = %e.without_url(), "the image or text provider is unreachable");
                last = failure(
                    FailureClass::ProviderError,
                    "the provider could not be reached",
                )
            }
        }
        if call + 1 < MAX_CALLS {
            let base = base_ms.saturating_mul(1 << call);
            let jittered =
                Duration::from_millis(rand::thread_rng().gen_range(base / 2..=base.max(1)));
            tokio::time::sleep(
                asked
                    .map_or(jittered, |a: Duration| a.max(jittered))
                    .min(MAX_WAIT),
            )
            .await;
        }
    }
    Err(last)
}
