//! The one error type of the core. It names what went wrong in domain terms and carries no HTTP:
//! the server maps it to statuses in one `IntoResponse`, the CLIs map it to exit codes in one
//! place. Messages never contain secrets or personal values.

/// Everything a core operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is not acceptable; `field` names what to fix.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The object does not exist, or belongs to someone else (never distinguished).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No valid session or token.
    #[error("sign in first: {0}")]
    Unauthenticated(&'static str),
    /// A token from outside (a Google ID token, a sign-in's answer) did not verify; the
    /// reason names the check, never the token.
    #[error("the sign-in token was refused: {0}")]
    InvalidToken(&'static str),
    /// The actor may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The body or file is larger than allowed.
    #[error("too large: {0}")]
    TooLarge(String),
    /// The file is not of a type Facetra accepts.
    #[error("unsupported file type: {0}")]
    UnsupportedMedia(String),
    /// The image is damaged or too big in pixels.
    #[error("unusable image: {0}")]
    InvalidImage(String),
    /// The account's balance does not cover the charge.
    #[error("not enough credits: this needs {needed}, the balance is {balance}")]
    InsufficientCredits { needed: i64, balance: i64 },
    /// An edit was based on a version that is no longer the latest.
    #[error("the BOM changed since version {0}; reload it and apply your edit again")]
    StaleVersion(i64),
    /// A signed link whose time is up.
    #[error("the link has expired; ask for a new one")]
    ExpiredLink,
    /// Payments are not configured on this deployment.
    #[error("payments are not configured: {0}")]
    PaymentsDisabled(String),
    /// A signature (webhook, checkout, signed URL) did not verify.
    #[error("the signature does not verify")]
    InvalidSignature,
    /// An outside provider (Razorpay, Resend, Gemini) failed or is unreachable.
    #[error("{provider} is unavailable: {message}")]
    Provider {
        provider: &'static str,
        message: String,
    },
    /// The request clashes with what is stored (a duplicate, a second owner, …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A client's idempotency key was used before for a different request.
    #[error("conflict: {0}")]
    IdempotencyConflict(String),
    /// Too many requests from one client: slow down (429, `Retry-After`).
    #[error("too many requests: {0}")]
    RateLimited(String),
    /// The server is at capacity for this kind of work: try again shortly (503, `Retry-After`).
    #[error("busy: {0}")]
    Busy(String),
    /// The configuration is unusable; the message says what to set.
    #[error("configuration: {0}")]
    Config(String),
    /// The store cannot be reached or answered with an error.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The stored data is not what Facetra wrote (a corrupt file, a broken audit chain).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A bug or an unexpected failure below the domain.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The exit codes of both command lines, as their `--help` shows them.
pub const EXIT_CODES_HELP: &str = "Exit codes: 0 success; 1 failure; 2 bad usage; \
3 not set up or misconfigured; 4 not found; 5 not signed in or not allowed; \
6 storage or service unavailable; 7 conflict; 8 not enough credits; 130 stopped by Ctrl-C.";

impl Error {
    /// The API's error code for this error (`{"error": {"code"}}`): the server answers it, and
    /// the CLI's remote client turns it back into an exit code with [`exit_code_for`].
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { .. } => "invalid_request",
            Error::NotFound(_) => "not_found",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::InvalidToken(_) => "invalid_token",
            Error::Forbidden(_) => "forbidden",
            Error::TooLarge(_) => "too_large",
            Error::UnsupportedMedia(_) => "unsupported_media_type",
            Error::InvalidImage(_) => "invalid_image",
            Error::InsufficientCredits { .. } => "insufficient_credits",
            Error::StaleVersion(_) => "stale_version",
            Error::ExpiredLink => "expired_link",
            Error::PaymentsDisabled(_) => "payments_disabled",
            Error::InvalidSignature => "invalid_signature",
            Error::Provider { .. } => "provider_unavailable",
            Error::Conflict(_) => "conflict",
            Error::IdempotencyConflict(_) => "idempotency_conflict",
            Error::RateLimited(_) => "rate_limited",
            Error::Busy(_) => "busy",
            Error::Unavailable(_) => "unavailable",
            Error::Config(_) | Error::Corrupt(_) | Error::Internal(_) => "internal",
        }
    }

    /// The exit code a command line ends with for this error (`EXIT_CODES_HELP`): the one
    /// table both CLIs use (through [`Error::code`], so an error answered by a server ends a
    /// remote command as the same error ends it on the embedded default).
    pub fn exit_code(&self) -> u8 {
        match self {
            // A server answers its own misconfiguration as `internal`; here it is the user's.
            Error::Config(_) => 3,
            other => exit_code_for(other.code()),
        }
    }

    /// An `Invalid` error for `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// The exit code for an API error code ([`Error::code`]); 1 for a code this build does not
/// know.
pub fn exit_code_for(code: &str) -> u8 {
    match code {
        "invalid_request" | "too_large" | "unsupported_media_type" | "invalid_image" => 2,
        "payments_disabled" => 3,
        "not_found" => 4,
        "unauthenticated" | "invalid_token" | "forbidden" | "invalid_signature"
        | "expired_link" => 5,
        "unavailable" | "provider_unavailable" | "busy" | "rate_limited" => 6,
        "conflict" | "idempotency_conflict" | "stale_version" => 7,
        "insufficient_credits" => 8,
        _ => 1,
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Internal(format!("i/o: {e}"))
    }
}
