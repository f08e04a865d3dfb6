//! Configuration: one `Config` value, built from (highest first) command-line flags, `FACETRA_*`
//! environment variables, a TOML file, and defaults (docs/CONFIG.md lists every setting). It is passed in, never global.
//! Secrets are `Secret`s: their `Debug` and `Display` print `[redacted]`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A secret value (key, password, URL with credentials). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where it is used, never to print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Which backend holds the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// The embedded default: SQLite at this path, blobs beside it.
    Sqlite { path: PathBuf },
    /// MongoDB (or anything speaking its wire protocol).
    Mongo { url: Secret, database: String },
}

impl Database {
    /// A description safe to print: the path, or the URL without credentials or query.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite { path } => format!("SQLite at {}", path.display()),
            Database::Mongo { url, database } => {
                format!("MongoDB {} (database {database})", redact_url(url.expose()))
            }
        }
    }
}

/// The URL with user-info and query removed.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split(['?', '/']).next().unwrap_or("");
    let hosts = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    format!("{scheme}://{hosts}")
}

/// The whole configuration. Every setting is in `SETTINGS` (and docs/CONFIG.md).
#[derive(Debug, Clone)]
pub struct Config {
    /// What the configuration file holds that is not a setting (a misspelled key), each with
    /// the closest valid key; the binaries print them.
    pub warnings: Vec<String>,
    pub data_dir: PathBuf,
    pub database: Database,
    /// Root secret (≥ 32 bytes); `None` means "generate and keep one in the data dir", which
    /// only the embedded default allows.
    pub secret_key: Option<Secret>,
    pub previous_secret_keys: Vec<Secret>,
    pub public_url: Option<String>,
    pub web_origin: Option<String>,
    pub bind: SocketAddr,
    pub dev_login: bool,
    pub session_ttl_secs: i64,
    pub session_idle_secs: i64,
    /// The longest an API token may live, and how long one lives unless asked otherwise.
    pub api_token_max_days: i64,
    /// Failed authentications on admin routes from one client, within one 10-minute window,
    /// that lock it out until the window ends.
    pub admin_lockout_failures: u64,
    /// Requests per minute per client IP: admin routes, sign-in routes, public forms.
    pub rate_limits: RateLimits,
    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDR blocks).
    pub trusted_proxies: Vec<IpBlock>,
    /// Whether the server stores a log line per request (`FACETRA_REQUEST_LOGS`, on).
    pub request_logs: bool,
    /// Who may make an account: anyone (`open`) or invited emails only (`invite`).
    pub signup_mode: crate::onboarding::SignupMode,
    pub max_body_bytes: usize,
    /// How long a client has to send a request's headers, from the connection opening or the
    /// end of the previous response (so it also ends idle keep-alive connections).
    pub header_timeout_secs: u64,
    /// How long a connection may move no bytes either way before it is closed.
    pub idle_timeout_secs: u64,
    /// How many connections the server holds open at once.
    pub max_connections: usize,
    pub link_ttl_secs: i64,
    /// What is kept how long (privacy policy §5).
    pub retention: RetentionPolicy,
    pub trial_credits: i64,
    pub operator: Option<String>,
    /// The credit packs on sale.
    pub packs: Vec<crate::credits::Pack>,
    /// Razorpay, when configured.
    pub razorpay: Option<RazorpayConfig>,
    /// Resend, when configured; otherwise mail is written under `<data dir>/outbox/`.
    pub resend: Option<ResendConfig>,
    /// The sender of every email.
    pub email_from: String,
    /// How often the server's sender looks for due mail.
    pub mail_poll_ms: u64,
    /// The largest upload, in bytes (20 MB).
    pub upload_max_bytes: u64,
    /// The most pixels an upload may have (40 MP).
    pub upload_max_pixels: u64,
    /// How much memory the process may spend decoding uploads at once (1 GB).
    pub decode_budget_bytes: u64,
    /// How many uploads one user may have in flight.
    pub uploads_per_user: usize,
    /// Credits per render variant.
    pub render_cost: i64,
    /// Credits per AI-drafted BOM (the local heuristic is free).
    pub bom_cost: i64,
    /// Which image provider renders (`local`).
    pub renderer: String,
    /// Render workers the server runs.
    pub workers: usize,
    /// How long a worker holds a job between renewals.
    pub job_lease_secs: i64,
    /// Google sign-in, when a client id is configured.
    pub google: Option<GoogleConfig>,
    /// Google's Gemini API, when configured.
    pub gemini: Option<GeminiConfig>,
    /// Gemini through Emergent's proxy, when configured.
    pub emergent: Option<EmergentConfig>,
}

/// Per-IP request budgets, per minute (a burst of that many, refilled evenly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub admin_per_min: u32,
    pub sign_in_per_min: u32,
    pub forms_per_min: u32,
    pub events_per_min: u32,
}

/// An address or a CIDR block (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    pub addr: std::net::IpAddr,
    pub prefix: u8,
}

impl IpBlock {
    /// Parses `addr` or `addr/prefix`.
    pub fn parse(s: &str) -> Option<IpBlock> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (
                a.parse::<std::net::IpAddr>().ok()?,
                Some(p.parse::<u8>().ok()?),
            ),
            None => (s.trim().parse().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpBlock { addr, prefix })
    }

    /// Whether `ip` is in the block.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        let (a, b, bits) = match (self.addr, ip) {
            (V4(a), V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
            (V6(a), V6(b)) => (u128::from(a), u128::from(b), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix);
        if shift >= bits {
            return true;
        }
        a >> shift == b >> shift
    }
}

/// Google sign-in: the OAuth client and where Google's discovery document is.
#[derive(Debug, Clone)]
pub struct GoogleConfig {
    pub client_id: String,
    /// Needed by the authorization-code flow only; an ID-token sign-in needs none.
    pub client_secret: Option<Secret>,
    /// `https://accounts.google.com/.well-known/openid-configuration` unless pointed at a stub.
    pub discovery_url: String,
}

/// Gemini's key, base URL, models and retry pacing.
#[derive(Debug, Clone)]
pub struct GeminiConfig {
    pub api_key: Secret,
    pub base_url: String,
    pub image_model: String,
    pub text_model: String,
    /// The first retry's wait; doubles per attempt (tests shorten it).
    pub retry_base_ms: u64,
}

/// Emergent's key, proxy base URL, model and retry pacing.
#[derive(Debug, Clone)]
pub struct EmergentConfig {
    pub api_key: Secret,
    pub base_url: String,
    pub image_model: String,
    pub text_model: String,
    pub retry_base_ms: u64,
}

/// Resend's key and base URL.
#[derive(Debug, Clone)]
pub struct ResendConfig {
    pub api_key: Secret,
    /// `https://api.resend.com` unless pointed at a stub.
    pub base_url: String,
}

/// How long each kind of data is kept: the defaults are the privacy policy's (§5). Payment
/// records are kept at least the 7 years Indian tax law asks for, whatever is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Logs (request logs, security events, usage events) are anonymised after this many days.
    pub log_days: i64,
    /// Payment records are deleted this many years after the end of the financial year
    /// (31 March) they were made in.
    pub payment_years: i32,
    /// A built export is deleted after this many days.
    pub export_days: i64,
    /// A waitlist entry or demo booking that never became an account is deleted after this
    /// many days.
    pub signup_days: i64,
    /// How often the server runs retention (0: never; `facetra-admin retention apply` still
    /// does).
    pub interval_secs: u64,
}

/// Razorpay's credentials and base URL.
#[derive(Debug, Clone)]
pub struct RazorpayConfig {
    pub key_id: String,
    pub key_secret: Secret,
    /// Needed to accept webhooks; without it only checkout verification and link polling work.
    pub webhook_secret: Option<Secret>,
    /// `https://api.razorpay.com` unless pointed at a stub.
    pub base_url: String,
}

/// One setting: its environment variable (the TOML key is the same name without the
/// `FACETRA_` prefix, lower-cased: `FACETRA_BIND` → `bind`), what it means and its default.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub key: &'static str,
    pub meaning: &'static str,
    pub default: &'static str,
}

impl Setting {
    /// The key in a TOML file.
    pub fn toml_key(&self) -> String {
        self.key.trim_start_matches("FACETRA_").to_ascii_lowercase()
    }
}

/// Defines every setting once: the constant in [`keys`] and its entry in [`SETTINGS`], from
/// which `docs/CONFIG.md` is written and a misspelled TOML key is recognised.
macro_rules! settings {
    ($($name:ident = $key:literal, $meaning:literal, $default:literal;)*) => {
        /// Names of the settings, as environment variables.
        pub mod keys {
            $(pub const $name: &str = $key;)*
        }

        /// Every setting, in the order the reference lists them.
        pub const SETTINGS: &[Setting] = &[
            $(Setting { key: $key, meaning: $meaning, default: $default },)*
        ];
    };
}

settings! {
    DATA_DIR = "FACETRA_DATA_DIR", "embedded database, blobs, generated secret key (flag `--data-dir`)", "`~/.local/share/facetra`";
    DATABASE_URL = "FACETRA_DATABASE_URL", "`sqlite://PATH`, `mongodb://…` or `mongodb+srv://…`", "embedded SQLite at `<data dir>/facetra.db`";
    MONGODB_DATABASE = "FACETRA_MONGODB_DATABASE", "MongoDB database name", "`facetra`";
    SECRET_KEY = "FACETRA_SECRET_KEY", "root secret, ≥ 32 bytes; required with MongoDB", "generated once into `<data dir>/secret.key` (mode 0600)";
    PREVIOUS_SECRET_KEYS = "FACETRA_PREVIOUS_SECRET_KEYS", "retired root secrets, comma-separated", "none";
    PUBLIC_URL = "FACETRA_PUBLIC_URL", "base of links; its origin may make cookie-authenticated writes", "`http://<bound address>`";
    WEB_ORIGIN = "FACETRA_WEB_ORIGIN", "the web app's origin, also allowed for cookie-authenticated writes", "none";
    BIND = "FACETRA_BIND", "listen address (port 0 picks one) (flag `--bind`)", "`127.0.0.1:8080`";
    DEV_LOGIN = "FACETRA_DEV_LOGIN", "enables `POST /auth/dev-login`; only on loopback with a loopback `http` public URL", "off";
    SESSION_TTL_SECS = "FACETRA_SESSION_TTL_SECS", "session absolute and idle lifetime", "43200 (12 h)";
    SESSION_IDLE_SECS = "FACETRA_SESSION_IDLE_SECS", "session absolute and idle lifetime", "7200 (2 h)";
    API_TOKEN_MAX_DAYS = "FACETRA_API_TOKEN_MAX_DAYS", "the longest an API token may live (and its default lifetime)", "90";
    ADMIN_LOCKOUT_FAILURES = "FACETRA_ADMIN_LOCKOUT_FAILURES", "failed authentications on admin routes, within one 10-minute window, that lock a client out until it ends", "5";
    RATE_LIMIT_ADMIN_PER_MIN = "FACETRA_RATE_LIMIT_ADMIN_PER_MIN", "requests per minute per client IP on `/admin/v1`, sign-in routes, public forms and `/v1/events`", "60";
    RATE_LIMIT_SIGN_IN_PER_MIN = "FACETRA_RATE_LIMIT_SIGN_IN_PER_MIN", "requests per minute per client IP on `/admin/v1`, sign-in routes, public forms and `/v1/events`", "20";
    RATE_LIMIT_FORMS_PER_MIN = "FACETRA_RATE_LIMIT_FORMS_PER_MIN", "requests per minute per client IP on `/admin/v1`, sign-in routes, public forms and `/v1/events`", "5";
    RATE_LIMIT_EVENTS_PER_MIN = "FACETRA_RATE_LIMIT_EVENTS_PER_MIN", "requests per minute per client IP on `/admin/v1`, sign-in routes, public forms and `/v1/events`", "120";
    TRUSTED_PROXIES = "FACETRA_TRUSTED_PROXIES", "proxies (addresses or CIDR blocks, comma-separated) whose `X-Forwarded-For` is believed", "none";
    SIGNUP = "FACETRA_SIGNUP", "who may make an account: `open` (anyone signing in with Google) or `invite` (emails with an approved waitlist entry)", "`open`";
    REQUEST_LOGS = "FACETRA_REQUEST_LOGS", "store a log line per request (IP, user agent, referring origin, route template, status, latency, user id), written in batches off the request path", "`true`";
    GOOGLE_CLIENT_ID = "FACETRA_GOOGLE_CLIENT_ID", "Google sign-in: the OAuth client (sign-in is off without the id) and the discovery document (a stub in tests)", "none";
    GOOGLE_CLIENT_SECRET = "FACETRA_GOOGLE_CLIENT_SECRET", "Google sign-in: the OAuth client (sign-in is off without the id) and the discovery document (a stub in tests)", "none";
    GOOGLE_DISCOVERY_URL = "FACETRA_GOOGLE_DISCOVERY_URL", "Google sign-in: the OAuth client (sign-in is off without the id) and the discovery document (a stub in tests)", "`https://accounts.google.com/.well-known/openid-configuration`";
    MAX_BODY_BYTES = "FACETRA_MAX_BODY_BYTES", "largest JSON body", "1048576";
    DECODE_BUDGET_BYTES = "FACETRA_DECODE_BUDGET_BYTES", "memory all upload checks may use at once (then 503 `busy`); uploads one user may have in flight (then 429)", "1,000,000,000";
    UPLOADS_PER_USER = "FACETRA_UPLOADS_PER_USER", "memory all upload checks may use at once (then 503 `busy`); uploads one user may have in flight (then 429)", "2";
    HEADER_TIMEOUT_SECS = "FACETRA_HEADER_TIMEOUT_SECS", "time to send a request's headers (also ends idle keep-alive connections); time a connection may move no bytes; open connections at most", "10";
    IDLE_TIMEOUT_SECS = "FACETRA_IDLE_TIMEOUT_SECS", "time to send a request's headers (also ends idle keep-alive connections); time a connection may move no bytes; open connections at most", "60";
    MAX_CONNECTIONS = "FACETRA_MAX_CONNECTIONS", "time to send a request's headers (also ends idle keep-alive connections); time a connection may move no bytes; open connections at most", "1024";
    LINK_TTL_SECS = "FACETRA_LINK_TTL_SECS", "lifetime of signed download links", "900";
    LOG_RETENTION_DAYS = "FACETRA_LOG_RETENTION_DAYS", "request logs, security and usage events are anonymised after this many days", "90";
    PAYMENT_RETENTION_YEARS = "FACETRA_PAYMENT_RETENTION_YEARS", "payment records are deleted this many years after the end of their financial year (never fewer than 7)", "7";
    EXPORT_KEEP_DAYS = "FACETRA_EXPORT_KEEP_DAYS", "a built export is deleted after this many days", "7";
    SIGNUP_RETENTION_DAYS = "FACETRA_SIGNUP_RETENTION_DAYS", "a waitlist entry or demo booking that never became an account is deleted after this many days", "365";
    RETENTION_INTERVAL_SECS = "FACETRA_RETENTION_INTERVAL_SECS", "how often the server applies retention (0: never; `facetra-admin retention apply` still does)", "3600";
    TRIAL_CREDITS = "FACETRA_TRIAL_CREDITS", "credits for a new account", "10";
    OPERATOR = "FACETRA_OPERATOR", "the staff account acting (email or id); required by admin commands; the first admin is made with `facetra-admin bootstrap EMAIL` (flag `--operator`)", "none";
    CONFIG = "FACETRA_CONFIG", "the TOML configuration file (flag `--config`)", "`<config dir>/facetra.toml` when present";
    PACKS = "FACETRA_PACKS", "packs on sale, `id:Name:credits:price_paise,…`", "`starter:Starter:50:49900,studio:Studio:200:149900,pro:Pro:1000:599900`";
    RAZORPAY_KEY_ID = "FACETRA_RAZORPAY_KEY_ID", "Razorpay API keys; without them payment routes answer 503 `payments_disabled`", "none";
    RAZORPAY_KEY_SECRET = "FACETRA_RAZORPAY_KEY_SECRET", "Razorpay API keys; without them payment routes answer 503 `payments_disabled`", "none";
    RAZORPAY_WEBHOOK_SECRET = "FACETRA_RAZORPAY_WEBHOOK_SECRET", "the Dashboard's webhook secret (not the key secret)", "none (webhooks refused)";
    RAZORPAY_BASE_URL = "FACETRA_RAZORPAY_BASE_URL", "Razorpay's API base (tests point it at a stub; plain `http` only on loopback)", "`https://api.razorpay.com`";
    RESEND_API_KEY = "FACETRA_RESEND_API_KEY", "Resend; without a key mail is written to `<data dir>/outbox/*.eml`", "none";
    RESEND_BASE_URL = "FACETRA_RESEND_BASE_URL", "Resend; without a key mail is written to `<data dir>/outbox/*.eml`", "`https://api.resend.com`";
    EMAIL_FROM = "FACETRA_EMAIL_FROM", "sender of every email", "`Facetra <hello@facetra.studio>`";
    MAIL_POLL_MS = "FACETRA_MAIL_POLL_MS", "how often the server's sender looks for due mail", "2000";
    UPLOAD_MAX_BYTES = "FACETRA_UPLOAD_MAX_BYTES", "upload limits", "20,000,000 bytes";
    UPLOAD_MAX_PIXELS = "FACETRA_UPLOAD_MAX_PIXELS", "upload limits", "40,000,000 pixels";
    RENDER_COST = "FACETRA_RENDER_COST", "credits per render variant; per AI-drafted BOM (the local heuristic is free)", "1";
    RENDERER = "FACETRA_RENDERER", "image provider: `local`, `gemini` or `emergent`", "`emergent` if its key is set, else `gemini` if its key is set, else `local`";
    WORKERS = "FACETRA_WORKERS", "render workers in the server; a job's lease", "2";
    JOB_LEASE_SECS = "FACETRA_JOB_LEASE_SECS", "render workers in the server; a job's lease", "60";
    BOM_COST = "FACETRA_BOM_COST", "credits per render variant; per AI-drafted BOM (the local heuristic is free)", "1";
    GEMINI_API_KEY = "FACETRA_GEMINI_API_KEY", "Gemini's key, base URL (a stub in tests) and image model", "none";
    GEMINI_BASE_URL = "FACETRA_GEMINI_BASE_URL", "Gemini's key, base URL (a stub in tests) and image model", "`https://generativelanguage.googleapis.com`";
    GEMINI_IMAGE_MODEL = "FACETRA_GEMINI_IMAGE_MODEL", "Gemini's key, base URL (a stub in tests) and image model", "`gemini-2.5-flash-image`";
    GEMINI_TEXT_MODEL = "FACETRA_GEMINI_TEXT_MODEL", "Gemini's text model (BOM drafts)", "`gemini-2.5-flash`";
    PROVIDER_RETRY_BASE_MS = "FACETRA_PROVIDER_RETRY_BASE_MS", "first wait before a provider call is tried again (doubling each time)", "1000";
    EMERGENT_API_KEY = "FACETRA_EMERGENT_API_KEY", "Gemini through Emergent's OpenAI-compatible proxy", "none";
    EMERGENT_BASE_URL = "FACETRA_EMERGENT_BASE_URL", "Gemini through Emergent's OpenAI-compatible proxy", "`https://integrations.emergentagent.com/llm`";
    EMERGENT_IMAGE_MODEL = "FACETRA_EMERGENT_IMAGE_MODEL", "Gemini through Emergent's OpenAI-compatible proxy", "`gemini-2.5-flash-image-preview`";
    EMERGENT_TEXT_MODEL = "FACETRA_EMERGENT_TEXT_MODEL", "the text model through Emergent's proxy (BOM drafts)", "`gemini/gemini-2.5-flash`";
    SERVER = "FACETRA_SERVER", "`facetra` only: the server of remote mode (flag `--server`; `facetra login` saves it)", "none (the local studio)";
    TOKEN = "FACETRA_TOKEN", "`facetra` only: the API token of remote mode (`facetra login` saves it)", "none";
    LOG = "FACETRA_LOG", "log filter (`info`, `debug`, …); the CLIs log nothing without it", "`info` for the server";
}

/// The layers a `Config` is read from.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// Values from command-line flags, keyed by environment-variable name.
    pub flags: BTreeMap<String, String>,
    /// The environment (only `FACETRA_*` entries matter).
    pub env: BTreeMap<String, String>,
    /// An explicit config file (`--config`); else `<config dir>/facetra.toml` when it exists.
    pub config_file: Option<PathBuf>,
}

impl Sources {
    /// Flags as given, plus this process's environment.
    pub fn from_process(flags: BTreeMap<String, String>, config_file: Option<PathBuf>) -> Self {
        let env = std::env::vars()
            .filter(|(k, _)| k.starts_with("FACETRA_"))
            .collect();
        Sources {
            flags,
            env,
            config_file,
        }
    }
}

struct Layers {
    flags: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
    file: toml::Table,
}

impl Layers {
    fn get(&self, key: &str) -> Option<String> {
        if let Some(v) = self.flags.get(key) {
            return Some(v.clone());
        }
        if let Some(v) = self.env.get(key).filter(|v| !v.is_empty()) {
            return Some(v.clone());
        }
        let file_key = key.trim_start_matches("FACETRA_").to_ascii_lowercase();
        self.file.get(&file_key).map(|v| match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => format!("{other:?}"),
        })
    }

    fn parse<T: std::str::FromStr>(&self, key: &'static str, default: T) -> Result<T> {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|_| {
                Error::Config(format!(
                    "{key} has an unusable value; docs/CONFIG.md gives its form"
                ))
            }),
        }
    }

    /// A non-empty secret value, trimmed.
    fn secret(&self, key: &str) -> Option<Secret> {
        self.get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(Secret::new)
    }

    /// The value, or `default`.
    fn get_or(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or_else(|| default.to_owned())
    }

    /// An outbound base URL without its trailing `/`, checked by `check_outbound_url`.
    fn outbound_base(&self, key: &str, default: &str) -> Result<String> {
        let url = self.get_or(key, default).trim_end_matches('/').to_owned();
        check_outbound_url(&url, key)?;
        Ok(url)
    }

    fn flag(&self, key: &'static str) -> Result<bool> {
        match self.get(key).as_deref().map(str::trim) {
            None | Some("") => Ok(false),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(_) => Err(Error::Config(format!("{key} must be true or false"))),
        }
    }
}

/// The platform's directories for Facetra (XDG on Linux).
fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("studio", "Facetra", "facetra")
}

/// The platform's configuration directory for Facetra (`$XDG_CONFIG_HOME/facetra` on Linux).
pub fn config_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().to_path_buf())
}

/// The default TOML file, `<config dir>/facetra.toml`.
pub fn default_config_file() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("facetra.toml"))
}

/// One setting as the layers give it (`facetra config list`).
#[derive(Debug, Clone)]
pub struct Effective {
    pub setting: Setting,
    /// The value given, `[secret]` for a secret one; `None` when the default applies.
    pub value: Option<String>,
    /// `flag`, `environment`, `file` or `default`.
    pub from: &'static str,
}

/// Whether a setting holds a secret (never printed).
pub fn is_secret(key: &str) -> bool {
    key.ends_with("_SECRET")
        || key.ends_with("SECRET_KEY")
        || key.ends_with("SECRET_KEYS")
        || key.ends_with("_API_KEY")
        || key == keys::TOKEN
}

/// The configuration file `sources` name (or the default one, when it exists).
pub fn config_file(sources: &Sources) -> Option<PathBuf> {
    sources
        .config_file
        .clone()
        .or_else(|| sources.flags.get(keys::CONFIG).map(PathBuf::from))
        .or_else(|| sources.env.get(keys::CONFIG).map(PathBuf::from))
        .or_else(|| default_config_file().filter(|p| p.exists()))
}

/// Every setting as the layers give it: where each value comes from, secrets hidden.
pub fn effective(sources: Sources) -> Result<Vec<Effective>> {
    let file = match config_file(&sources) {
        Some(path) if path.exists() => read_toml(&path)?,
        _ => toml::Table::new(),
    };
    let layers = Layers {
        flags: sources.flags,
        env: sources.env,
        file,
    };
    Ok(SETTINGS
        .iter()
        .map(|s| {
            let from = if layers.flags.contains_key(s.key) {
                "flag"
            } else if layers.env.get(s.key).is_some_and(|v| !v.is_empty()) {
                "environment"
            } else if layers.file.contains_key(&s.toml_key()) {
                "file"
            } else {
                "default"
            };
            let value = layers.get(s.key).map(|v| {
                if is_secret(s.key) {
                    "[secret]".to_owned()
                } else if s.key == keys::DATABASE_URL && v.starts_with("mongodb") {
                    redact_url(&v)
                } else {
                    v
                }
            });
            Effective {
                setting: *s,
                value,
                from,
            }
        })
        .collect())
}

/// A setting by its variable (`FACETRA_BIND`) or TOML key (`bind`); an unknown one names the
/// closest.
pub fn setting(name: &str) -> Result<Setting> {
    let wanted = name.trim();
    if let Some(s) = SETTINGS
        .iter()
        .find(|s| s.key.eq_ignore_ascii_case(wanted) || s.toml_key() == wanted.to_ascii_lowercase())
    {
        return Ok(*s);
    }
    let closest = SETTINGS
        .iter()
        .map(Setting::toml_key)
        .min_by_key(|k| edit_distance(&wanted.to_ascii_lowercase(), k))
        .unwrap_or_default();
    Err(Error::invalid(
        "KEY",
        format!("{wanted:?} is not a setting; did you mean `{closest}`? (`facetra config list` lists them)"),
    ))
}

impl Config {
    /// Builds the configuration from its layers.
    pub fn load(sources: Sources) -> Result<Config> {
        let path = config_file(&sources);
        let file = match &path {
            Some(path) => read_toml(path)?,
            None => toml::Table::new(),
        };
        let warnings = match &path {
            Some(path) => unknown_keys(&file, path),
            None => Vec::new(),
        };
        let layers = Layers {
            flags: sources.flags,
            env: sources.env,
            file,
        };

        let data_dir = match layers.get(keys::DATA_DIR) {
            Some(d) => PathBuf::from(d),
            None => project_dirs()
                .map(|d| d.data_dir().to_path_buf())
                .ok_or_else(|| {
                    Error::Config(format!("no home directory found: set {}", keys::DATA_DIR))
                })?,
        };
        let database = match layers.get(keys::DATABASE_URL) {
            None => Database::Sqlite {
                path: data_dir.join("facetra.db"),
            },
            Some(url) => parse_database_url(&url, &layers)?,
        };
        let secret_key = layers.get(keys::SECRET_KEY).map(Secret::new);
        if let Some(key) = &secret_key {
            check_secret_length(key, keys::SECRET_KEY)?;
        }
        let previous_secret_keys = layers
            .get(keys::PREVIOUS_SECRET_KEYS)
            .map(|all| {
                all.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
                    .collect()
            })
            .unwrap_or_default();
        let bind: SocketAddr =
            layers.parse(keys::BIND, SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        let public_url = layers
            .get(keys::PUBLIC_URL)
            .map(|u| u.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Error::Config(format!(
                    "{} must start with http:// or https://",
                    keys::PUBLIC_URL
                )));
            }
        }
        let positive = |key: &'static str, default: i64| -> Result<i64> {
            let v = layers.parse(key, default)?;
            if v <= 0 {
                return Err(Error::Config(format!("{key} must be a positive number")));
            }
            Ok(v)
        };
        let per_min = |key: &'static str, default: i64| -> Result<u32> {
            u32::try_from(positive(key, default)?)
                .map_err(|_| Error::Config(format!("{key} is too large")))
        };
        Ok(Config {
            warnings,
            database,
            secret_key,
            previous_secret_keys,
            public_url,
            web_origin: layers
                .get(keys::WEB_ORIGIN)
                .map(|u| u.trim_end_matches('/').to_owned()),
            bind,
            dev_login: layers.flag(keys::DEV_LOGIN)?,
            session_ttl_secs: positive(keys::SESSION_TTL_SECS, 12 * 3600)?,
            session_idle_secs: positive(keys::SESSION_IDLE_SECS, 2 * 3600)?,
            api_token_max_days: positive(keys::API_TOKEN_MAX_DAYS, 90)?,
            admin_lockout_failures: positive(keys::ADMIN_LOCKOUT_FAILURES, 5)?.unsigned_abs(),
            rate_limits: RateLimits {
                admin_per_min: per_min(keys::RATE_LIMIT_ADMIN_PER_MIN, 60)?,
                sign_in_per_min: per_min(keys::RATE_LIMIT_SIGN_IN_PER_MIN, 20)?,
                forms_per_min: per_min(keys::RATE_LIMIT_FORMS_PER_MIN, 5)?,
                events_per_min: per_min(keys::RATE_LIMIT_EVENTS_PER_MIN, 120)?,
            },
            request_logs: match layers.get(keys::REQUEST_LOGS) {
                None => true,
                Some(_) => layers.flag(keys::REQUEST_LOGS)?,
            },
            signup_mode: match layers.get(keys::SIGNUP).as_deref().map(str::trim) {
                None | Some("" | "open") => crate::onboarding::SignupMode::Open,
                Some("invite") => crate::onboarding::SignupMode::Invite,
                Some(other) => {
                    return Err(Error::Config(format!(
                        "{}={other}: use open or invite",
                        keys::SIGNUP
                    )))
                }
            },
            trusted_proxies: match layers.get(keys::TRUSTED_PROXIES) {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| {
                        IpBlock::parse(s).ok_or_else(|| {
                            Error::Config(format!(
                                "{}: {s:?} is not an IP address or CIDR block (say 10.0.0.0/8)",
                                keys::TRUSTED_PROXIES
                            ))
                        })
                    })
                    .collect::<Result<_>>()?,
            },
            max_body_bytes: layers.parse(keys::MAX_BODY_BYTES, 1024 * 1024)?,
            header_timeout_secs: positive(keys::HEADER_TIMEOUT_SECS, 10)?
                .try_into()
                .unwrap_or(10),
            idle_timeout_secs: positive(keys::IDLE_TIMEOUT_SECS, 60)?
                .try_into()
                .unwrap_or(60),
            max_connections: positive(keys::MAX_CONNECTIONS, 1024)?
                .try_into()
                .unwrap_or(1024),
            link_ttl_secs: positive(keys::LINK_TTL_SECS, 900)?,
            retention: RetentionPolicy {
                log_days: positive(keys::LOG_RETENTION_DAYS, 90)?,
                payment_years: positive(keys::PAYMENT_RETENTION_YEARS, 7)?
                    .max(7)
                    .try_into()
                    .unwrap_or(7),
                export_days: positive(keys::EXPORT_KEEP_DAYS, 7)?,
                signup_days: positive(keys::SIGNUP_RETENTION_DAYS, 365)?,
                interval_secs: layers
                    .parse(keys::RETENTION_INTERVAL_SECS, 3600)?
                    .try_into()
                    .unwrap_or(3600),
            },
            trial_credits: layers.parse(keys::TRIAL_CREDITS, 10)?,
            operator: layers.get(keys::OPERATOR).filter(|o| !o.trim().is_empty()),
            razorpay: razorpay(&layers)?,
            resend: match layers.secret(keys::RESEND_API_KEY) {
                Some(api_key) => Some(ResendConfig {
                    api_key,
                    base_url: layers
                        .outbound_base(keys::RESEND_BASE_URL, "https://api.resend.com")?,
                }),
                None => None,
            },
            mail_poll_ms: layers.parse(keys::MAIL_POLL_MS, 2000)?.max(10),
            upload_max_bytes: layers.parse(keys::UPLOAD_MAX_BYTES, 20_000_000)?,
            upload_max_pixels: layers.parse(keys::UPLOAD_MAX_PIXELS, 40_000_000)?,
            decode_budget_bytes: positive(keys::DECODE_BUDGET_BYTES, 1_000_000_000)?
                .try_into()
                .unwrap_or(1_000_000_000),
            uploads_per_user: positive(keys::UPLOADS_PER_USER, 2)?.try_into().unwrap_or(2),
            render_cost: positive(keys::RENDER_COST, 1)?,
            bom_cost: positive(keys::BOM_COST, 1)?,
            workers: layers.parse(keys::WORKERS, 2)?,
            job_lease_secs: positive(keys::JOB_LEASE_SECS, 60)?,
            emergent: match layers.secret(keys::EMERGENT_API_KEY) {
                Some(api_key) => Some(EmergentConfig {
                    api_key,
                    base_url: layers.outbound_base(
                        keys::EMERGENT_BASE_URL,
                        "https://integrations.emergentagent.com/llm",
                    )?,
                    image_model: layers
                        .get_or(keys::EMERGENT_IMAGE_MODEL, "gemini-2.5-flash-image-preview"),
                    text_model: layers.get_or(keys::EMERGENT_TEXT_MODEL, "gemini/gemini-2.5-flash"),
                    retry_base_ms: layers.parse(keys::PROVIDER_RETRY_BASE_MS, 1000)?,
                }),
                None => None,
            },
            google: match layers
                .get(keys::GOOGLE_CLIENT_ID)
                .map(|v| v.trim().to_owned())
            {
                Some(client_id) if !client_id.is_empty() => Some(GoogleConfig {
                    client_id,
                    client_secret: layers.secret(keys::GOOGLE_CLIENT_SECRET),
                    discovery_url: layers.outbound_base(
                        keys::GOOGLE_DISCOVERY_URL,
                        "https://accounts.google.com/.well-known/openid-configuration",
                    )?,
                }),
                _ => None,
            },
            gemini: match layers.secret(keys::GEMINI_API_KEY) {
                Some(api_key) => Some(GeminiConfig {
                    api_key,
                    base_url: layers.outbound_base(
                        keys::GEMINI_BASE_URL,
                        "https://generativelanguage.googleapis.com",
                    )?,
                    image_model: layers.get_or(keys::GEMINI_IMAGE_MODEL, "gemini-2.5-flash-image"),
                    text_model: layers.get_or(keys::GEMINI_TEXT_MODEL, "gemini-2.5-flash"),
                    retry_base_ms: layers.parse(keys::PROVIDER_RETRY_BASE_MS, 1000)?,
                }),
                None => None,
            },
            renderer: match layers.get(keys::RENDERER).as_deref().map(str::trim) {
                None | Some("") => {
                    if layers.secret(keys::EMERGENT_API_KEY).is_some() {
                        "emergent".into()
                    } else if layers.secret(keys::GEMINI_API_KEY).is_some() {
                        "gemini".into()
                    } else {
                        "local".into()
                    }
                }
                Some("local") => "local".into(),
                Some("gemini") => {
                    if layers.secret(keys::GEMINI_API_KEY).is_none() {
                        return Err(Error::Config(format!(
                            "{}=gemini needs {}",
                            keys::RENDERER,
                            keys::GEMINI_API_KEY
                        )));
                    }
                    "gemini".into()
                }
                Some("emergent") => {
                    if layers.secret(keys::EMERGENT_API_KEY).is_none() {
                        return Err(Error::Config(format!(
                            "{}=emergent needs {}",
                            keys::RENDERER,
                            keys::EMERGENT_API_KEY
                        )));
                    }
                    "emergent".into()
                }
                Some(other) => {
                    return Err(Error::Config(format!(
                        "{}={other}: use local, gemini or emergent",
                        keys::RENDERER
                    )))
                }
            },
            email_from: layers
                .get(keys::EMAIL_FROM)
                .unwrap_or_else(|| "Facetra <hello@facetra.studio>".into()),
            packs: match layers.get(keys::PACKS) {
                Some(spec) => crate::credits::parse_packs(&spec)?,
                None => crate::credits::default_packs(),
            },
            data_dir,
        })
    }

    /// A configuration for tests and tools: embedded SQLite in `data_dir`, defaults elsewhere.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Result<Config> {
        let mut sources = Sources {
            config_file: Some(PathBuf::new()),
            ..Sources::default()
        };
        sources
            .flags
            .insert(keys::DATA_DIR.into(), data_dir.into().display().to_string());
        Config::load(sources)
    }

    /// The public URL: configured, else `http://<bound address>`.
    pub fn public_url_or(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }
}

fn razorpay(layers: &Layers) -> Result<Option<RazorpayConfig>> {
    let (id, secret) = (
        layers.get(keys::RAZORPAY_KEY_ID),
        layers.get(keys::RAZORPAY_KEY_SECRET),
    );
    let (key_id, key_secret) = match (id, secret) {
        (None, None) => return Ok(None),
        (Some(id), Some(secret)) if !id.trim().is_empty() && !secret.trim().is_empty() => {
            (id, secret)
        }
        _ => {
            return Err(Error::Config(format!(
                "set both {} and {} (or neither, to run without payments)",
                keys::RAZORPAY_KEY_ID,
                keys::RAZORPAY_KEY_SECRET
            )))
        }
    };
    let base_url = layers.outbound_base(keys::RAZORPAY_BASE_URL, "https://api.razorpay.com")?;
    Ok(Some(RazorpayConfig {
        key_id: key_id.trim().to_owned(),
        key_secret: Secret::new(key_secret.trim()),
        webhook_secret: layers
            .get(keys::RAZORPAY_WEBHOOK_SECRET)
            .filter(|s| !s.is_empty())
            .map(Secret::new),
        base_url,
    }))
}

/// Outbound base URLs must be `https`, unless their host is loopback (a local stub); they
/// carry no credentials. Parsed as URLs, so `http://127.0.0.1:1@evil.com` is evil.com.
pub fn check_outbound_url(url: &str, name: &str) -> Result<()> {
    let refuse = |why: &str| Err(Error::Config(format!("{name} {why}")));
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return refuse("is not a URL; write it as https://host[:port][/path]");
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return refuse("must not carry a user name or password");
    }
    let Some(host) = parsed.host_str().map(|h| h.trim_matches(['[', ']'])) else {
        return refuse("has no host");
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => refuse("must be an https:// URL (plain http is allowed only on loopback)"),
    }
}

/// A warning for each key of `file` that is no setting, naming the closest one.
fn unknown_keys(file: &toml::Table, path: &Path) -> Vec<String> {
    let known: Vec<String> = SETTINGS.iter().map(Setting::toml_key).collect();
    file.keys()
        .filter(|k| !known.contains(k))
        .map(|k| {
            let closest = known
                .iter()
                .min_by_key(|valid| edit_distance(k, valid))
                .filter(|valid| edit_distance(k, valid) <= valid.len().max(k.len()) / 2);
            match closest {
                Some(valid) => format!(
                    "{}: `{k}` is not a setting and is ignored; did you mean `{valid}`?",
                    path.display()
                ),
                None => format!(
                    "{}: `{k}` is not a setting and is ignored (docs/CONFIG.md lists them)",
                    path.display()
                ),
            }
        })
        .collect()
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substituted.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// The configuration reference (`docs/CONFIG.md`), written from [`SETTINGS`].
pub fn reference() -> String {
    let mut out = String::from(
        "# Configuration reference\n\n\
         Generated from the settings' one definition (`facetra-core/src/config.rs`, \
         `settings!`); a test fails when this file drifts. Regenerate with \
         `FACETRA_UPDATE_DOCS=1 cargo test -p facetra-tests --test e2e docs::`.\n\n\
         Each setting is read from (highest first) a command-line flag where there is one, \
         the environment variable, the TOML file (`--config FILE`, else \
         `<config dir>/facetra.toml` when present: on Linux `~/.config/facetra/facetra.toml`), \
         then the default. In the TOML file a key is the variable without `FACETRA_`, \
         lower-cased (`bind = \"127.0.0.1:9000\"`); a key that is not a setting is reported \
         with the closest one. Secrets never reach logs, error messages or `Debug` output.\n\n\
         | variable | TOML key | meaning | default |\n|---|---|---|---|\n",
    );
    for s in SETTINGS {
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            s.key,
            s.toml_key(),
            s.meaning,
            s.default
        ));
    }
    out
}

fn read_toml(path: &Path) -> Result<toml::Table> {
    if path.as_os_str().is_empty() {
        return Ok(toml::Table::new());
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Config(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    text.parse::<toml::Table>().map_err(|e| {
        Error::Config(format!(
            "the config file {} is not valid TOML: {e}",
            path.display()
        ))
    })
}

fn parse_database_url(url: &str, layers: &Layers) -> Result<Database> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(Error::Config(format!(
                "{} sqlite:// needs a path",
                keys::DATABASE_URL
            )));
        }
        return Ok(Database::Sqlite {
            path: PathBuf::from(path),
        });
    }
    if url.starts_with("mongodb://") || url.starts_with("mongodb+srv://") {
        let database = layers
            .get(keys::MONGODB_DATABASE)
            .unwrap_or_else(|| "facetra".into());
        if database.is_empty() || database.contains(['/', '.', ' ', '$']) {
            return Err(Error::Config(format!(
                "{} is not a valid name",
                keys::MONGODB_DATABASE
            )));
        }
        return Ok(Database::Mongo {
            url: Secret::new(url),
            database,
        });
    }
    Err(Error::Config(format!(
        "{} must start with sqlite://, mongodb:// or mongodb+srv://",
        keys::DATABASE_URL
    )))
}

/// Rejects a root secret shorter than 32 bytes.
pub fn check_secret_length(key: &Secret, name: &str) -> Result<()> {
    if key.expose().len() < 32 {
        return Err(Error::Config(format!(
            "{name} must be at least 32 bytes; generate one with `openssl rand -hex 32`"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ip_blocks_match_their_addresses_only() {
        let block = super::IpBlock::parse("10.1.0.0/16").unwrap();
        assert!(block.contains("10.1.200.3".parse().unwrap()));
        assert!(!block.contains("10.2.0.1".parse().unwrap()));
        assert!(!block.contains("::1".parse().unwrap()));
        let one = super::IpBlock::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(super::IpBlock::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(super::IpBlock::parse("fd00::/8")
            .unwrap()
            .contains("fd12::1".parse().unwrap()));
        assert!(super::IpBlock::parse("10.0.0.0/33").is_none());
        assert!(super::IpBlock::parse("not-an-ip").is_none());
    }

    use super::*;

    fn sources(flags: &[(&str, &str)], env: &[(&str, &str)], file: Option<&str>) -> Sources {
        let dir = tempfile::tempdir().unwrap().keep();
        let config_file = file.map(|text| {
            let p = dir.join("facetra.toml");
            std::fs::write(&p, text).unwrap();
            p
        });
        Sources {
            flags: flags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            config_file: config_file.or(Some(PathBuf::new())),
        }
    }

    #[test]
    fn outbound_urls_are_parsed_not_pattern_matched() {
        for ok in [
            "https://api.razorpay.com",
            "http://127.0.0.1:9000",
            "http://localhost/v1",
            "http://[::1]:8080",
        ] {
            assert!(check_outbound_url(ok, "X").is_ok(), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:1@evil.com",
            "http://localhost@evil.com/",
            "http://evil.com/127.0.0.1",
            "http://127.0.0.1.evil.com",
            "https://user:secret@api.razorpay.com",
            "ftp://127.0.0.1",
            "not a url",
        ] {
            assert!(check_outbound_url(bad, "X").is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        let file = "bind = \"127.0.0.1:3000\"\ntrial_credits = 7\nlink_ttl_secs = 60\n";
        let c = Config::load(sources(
            &[("FACETRA_BIND", "127.0.0.1:1000")],
            &[
                ("FACETRA_BIND", "127.0.0.1:2000"),
                ("FACETRA_TRIAL_CREDITS", "5"),
                ("FACETRA_DATA_DIR", "/x"),
            ],
            Some(file),
        ))
        .unwrap();
        assert_eq!(c.bind.port(), 1000);
        assert_eq!(c.trial_credits, 5);
        assert_eq!(c.link_ttl_secs, 60);
        assert_eq!(c.session_ttl_secs, 12 * 3600);
        assert_eq!(
            c.database,
            Database::Sqlite {
                path: PathBuf::from("/x/facetra.db")
            }
        );
    }

    #[test]
    fn secrets_never_print() {
        let c = Config::load(sources(
            &[("FACETRA_DATA_DIR", "/x")],
            &[
                (
                    "FACETRA_SECRET_KEY",
                    "0123456789abcdef0123456789abcdef-very-secret",
                ),
                (
                    "FACETRA_DATABASE_URL",
                    "mongodb://alice:hunter2@db.example:27017/?tls=true",
                ),
            ],
            None,
        ))
        .unwrap();
        let shown = format!("{c:?} {}", c.database.describe());
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db.example:27017"), "{shown}");
    }

    #[test]
    fn bad_values_say_which_variable() {
        let err = Config::load(sources(
            &[("FACETRA_DATA_DIR", "/x"), ("FACETRA_BIND", "nope")],
            &[],
            None,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("FACETRA_BIND"));
        let err = Config::load(sources(
            &[("FACETRA_DATA_DIR", "/x"), ("FACETRA_SECRET_KEY", "short")],
            &[],
            None,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("at least 32 bytes"));
        assert!(!err.to_string().contains("short"));
        let err = Config::load(sources(
            &[
                ("FACETRA_DATA_DIR", "/x"),
                ("FACETRA_DATABASE_URL", "postgres://x"),
            ],
            &[],
            None,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("sqlite://"));
    }

    #[test]
    fn embedded_defaults_load() {
        let c = Config::embedded("/tmp/x").unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert!(!c.dev_login);
    }
}
