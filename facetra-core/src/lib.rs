//! Facetra's core: the whole domain, behind one facade. Front ends (the server, the CLIs)
//! parse input, call one operation of `Facetra`, and render the result; every rule —
//! authorization, credits, retention, what erasure removes — is decided here. No HTTP and no
//! terminal UI live in this crate, and nothing here panics on bad input.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod accounts;
pub mod blobs;
pub mod clock;
pub mod config;
pub mod credits;
pub mod error;
pub(crate) mod faults;
pub mod ids;
pub mod lease;
pub mod mail;
pub mod messages;
mod names;
pub mod onboarding;
pub mod paging;
pub mod payments;
pub mod privacy;
pub mod private_fs;
pub mod security;
pub mod store;
pub mod studio;

use std::sync::Arc;

pub use accounts::Actor;
pub use clock::{Clock, ManualClock, SharedClock, SystemClock, Timestamp};
pub use config::{Config, Secret};
pub use error::{Error, Result};
pub use store::{OpenMode, Store};

use privacy::audit::{self, AuditEntry, Verification};
use security::Keys;

/// The domain, opened on one configuration. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Facetra {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    config: Config,
    gateway: Option<Arc<dyn payments::razorpay::Gateway>>,
    google: Option<Arc<accounts::google::Google>>,
    mailer: Arc<dyn mail::Mailer>,
    renderer: Arc<dyn studio::providers::ImageGenerator>,
    bom_drafter: Arc<dyn studio::providers::BomGenerator>,
    store: Store,
    clock: SharedClock,
    keys: Keys,
    uploads: studio::gate::UploadGate,
}

impl Facetra {
    /// Opens the store the configuration names. `MustExist` refuses to create a database.
    pub async fn open(config: Config, clock: SharedClock, mode: OpenMode) -> Result<Facetra> {
        // A shared deployment without a configured key is refused before anything connects.
        if matches!(config.database, config::Database::Mongo { .. }) {
            security::load_keys(&config, false)?;
        }
        let store = Store::open(&config.database, &config.data_dir, mode).await?;
        let keys = match security::load_keys(&config, mode == OpenMode::CreateIfMissing) {
            Ok(keys) => keys,
            Err(e) => {
                store.backend.close().await;
                return Err(e);
            }
        };
        let gateway = match &config.razorpay {
            Some(r) => match payments::razorpay::Client::new(r.clone()) {
                Ok(client) => Some(Arc::new(client) as Arc<dyn payments::razorpay::Gateway>),
                Err(e) => {
                    store.backend.close().await;
                    return Err(e);
                }
            },
            None => None,
        };
        let mailer: Arc<dyn mail::Mailer> = match &config.resend {
            Some(r) => match mail::resend::Resend::new(r.clone()) {
                Ok(resend) => Arc::new(resend),
                Err(e) => {
                    store.backend.close().await;
                    return Err(e);
                }
            },
            None => Arc::new(mail::file::FileMailer {
                dir: config.data_dir.join("outbox"),
            }),
        };
        let renderer: Arc<dyn studio::providers::ImageGenerator> = match renderer_for(&config) {
            Ok(r) => r,
            Err(e) => {
                store.backend.close().await;
                return Err(e);
            }
        };
        let google = match config.google.clone().map(accounts::google::Google::new) {
            Some(Ok(google)) => Some(Arc::new(google)),
            Some(Err(e)) => {
                store.backend.close().await;
                return Err(e);
            }
            None => None,
        };
        let bom_drafter = bom_drafter_for(&config);
        let uploads =
            studio::gate::UploadGate::new(config.decode_budget_bytes, config.uploads_per_user);
        Ok(Facetra {
            inner: Arc::new(Inner {
                uploads,
                config,
                gateway,
                google,
                mailer,
                bom_drafter,
                renderer,
                store,
                clock,
                keys,
            }),
        })
    }

    /// The same facade over `store` (tests wrap a port of the real store to make it fail at a
    /// chosen moment). Everything else is shared with `self`.
    #[doc(hidden)]
    pub fn with_store(&self, store: Store) -> Facetra {
        let mut inner = (*self.inner).clone();
        inner.store = store;
        Facetra {
            inner: Arc::new(inner),
        }
    }

    /// The configuration this facade runs on.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The store (ports per domain). Front ends use the domain operations instead.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The root secret and its subkeys.
    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// The current time, from the clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Users, sessions, API tokens.
    pub fn accounts(&self) -> accounts::Accounts<'_> {
        accounts::Accounts { f: self }
    }

    /// Packs, balances and the ledger.
    pub fn credits(&self) -> credits::Credits<'_> {
        credits::Credits { f: self }
    }

    /// Orders, checkout verification, payment links, webhooks.
    pub fn payments(&self) -> payments::Payments<'_> {
        payments::Payments { f: self }
    }

    /// Templates, the outbox and its sender.
    pub fn mail(&self) -> mail::Mail<'_> {
        mail::Mail { f: self }
    }

    /// The upload gate: the decode budget and uploads in flight per user.
    pub(crate) fn upload_gate(&self) -> &studio::gate::UploadGate {
        &self.inner.uploads
    }

    /// The image provider.
    pub(crate) fn image_generator(&self) -> &dyn studio::providers::ImageGenerator {
        self.inner.renderer.as_ref()
    }

    /// The BOM drafter.
    pub(crate) fn bom_drafter(&self) -> &dyn studio::providers::BomGenerator {
        self.inner.bom_drafter.as_ref()
    }

    /// Resend, or the file mailer.
    pub(crate) fn mailer(&self) -> &Arc<dyn mail::Mailer> {
        &self.inner.mailer
    }

    /// What every new account gets: its waitlist and demo entries tied to it, its trial
    /// credits and a welcome email, once each.
    pub(crate) async fn on_account_created(&self, user: &accounts::User) -> Result<()> {
        self.onboarding().joined(user).await?;
        self.credits().grant_trial(&user.id).await?;
        let welcome = mail::templates::welcome(&user.name, self.config().trial_credits.max(0));
        self.mail()
            .queue(
                Some(&user.id),
                user.email.as_str(),
                &format!("welcome:{}", user.id),
                welcome,
            )
            .await
    }

    /// Records a security event (kind, user, ids and counts; never personal values).
    pub(crate) async fn record_security_event(
        &self,
        kind: &str,
        user: Option<&ids::UserId>,
        details: serde_json::Value,
    ) -> Result<()> {
        let now = self.now();
        let event = security::events::SecurityEvent {
            id: ids::SecurityEventId::new(now),
            at: now,
            kind: kind.into(),
            user_id: user.cloned(),
            ip: security::events::client_ip().map(|ip| ip.to_string()),
            details,
            count: 1,
        };
        tracing::warn!(kind, "security event");
        self.store().security.record_security_event(&event).await
    }

    /// Counts a security event anyone can cause without an account (a badly signed webhook):
    /// one record per kind and window (`security::events::COUNT_WINDOW_SECS`), its count
    /// growing, so a storm cannot grow the store without bound.
    pub(crate) async fn count_security_event(&self, kind: &str) -> Result<()> {
        self.store()
            .security
            .count_security_event(&self.counted_event(kind, None))
            .await
            .map(|_| ())
    }

    /// The counted event of `kind` in the current window: one for everyone, or, with
    /// `client`, one per client IP (its id tagged with the IP's keyed hash, never the IP).
    pub(crate) fn counted_event(
        &self,
        kind: &str,
        client: Option<std::net::IpAddr>,
    ) -> security::events::SecurityEvent {
        let now = self.now();
        let window = security::events::COUNT_WINDOW_SECS;
        let start = now.timestamp().div_euclid(window) * window;
        let start = chrono::DateTime::from_timestamp(start, 0).unwrap_or(now);
        let tag = match client {
            Some(ip) => format!("{kind}:{}", security::guard::client_tag(self.keys(), ip)),
            None => kind.to_owned(),
        };
        security::events::SecurityEvent {
            id: ids::SecurityEventId::for_window(&tag, start),
            at: start,
            kind: kind.into(),
            user_id: None,
            ip: client.map(|ip| ip.to_string()),
            details: serde_json::json!({ "window_secs": window }),
            count: 1,
        }
    }

    /// Usage analytics (only with the person's consent).
    pub fn usage(&self) -> privacy::usage::Usage<'_> {
        privacy::usage::Usage { f: self }
    }

    /// The waitlist, demo bookings and invitations.
    pub fn onboarding(&self) -> onboarding::Onboarding<'_> {
        onboarding::Onboarding { f: self }
    }

    /// Rate-limit hits and the admin routes' lock-out.
    pub fn guard(&self) -> security::guard::Guard<'_> {
        security::guard::Guard { f: self }
    }

    /// Uploads (and, later, renders, BOMs and portfolios).
    pub fn studio(&self) -> studio::Studio<'_> {
        studio::Studio { f: self }
    }

    /// Razorpay, when configured.
    /// Google sign-in, when configured.
    pub(crate) fn google(&self) -> Result<&accounts::google::Google> {
        self.inner.google.as_deref().ok_or_else(|| {
            Error::Config(format!(
                "Google sign-in is not configured: set {} (and {} for the browser flow)",
                config::keys::GOOGLE_CLIENT_ID,
                config::keys::GOOGLE_CLIENT_SECRET
            ))
        })
    }

    pub(crate) fn gateway(&self) -> Option<&Arc<dyn payments::razorpay::Gateway>> {
        self.inner.gateway.as_ref()
    }

    /// The registry of personal data and what the DPO does with it.
    pub fn messages(&self) -> messages::Messages<'_> {
        messages::Messages { f: self }
    }

    /// Privacy requests, exports, erasure, retention, breaches and the data map.
    pub fn privacy(&self) -> privacy::Privacy<'_> {
        privacy::Privacy { f: self }
    }

    /// The audit log, for staff.
    pub fn audit(&self) -> Audit<'_> {
        Audit { f: self }
    }

    /// Whether the store answers.
    pub async fn ready(&self) -> Result<()> {
        self.inner.store.backend.ping().await
    }

    /// Releases the store's connections; call once on the way out.
    pub async fn close(&self) {
        self.inner.store.backend.close().await;
    }
}

/// The BOM drafter: the text model of the provider that renders (Gemini or Emergent), else the
/// local heuristic.
fn bom_drafter_for(config: &Config) -> Arc<dyn studio::providers::BomGenerator> {
    use studio::providers::{emergent::Emergent, gemini::Gemini, LocalBom};
    let drafter: Result<Arc<dyn studio::providers::BomGenerator>> =
        match (config.renderer.as_str(), &config.gemini, &config.emergent) {
            ("gemini", Some(g), _) => Gemini::new(g.clone()).map(|c| Arc::new(c) as _),
            ("emergent", _, Some(e)) => Emergent::new(e.clone()).map(|c| Arc::new(c) as _),
            _ => Ok(Arc::new(LocalBom)),
        };
    drafter.unwrap_or_else(|_| Arc::new(LocalBom))
}

/// The image provider the configuration names.
fn renderer_for(config: &Config) -> Result<Arc<dyn studio::providers::ImageGenerator>> {
    use studio::providers::{emergent::Emergent, gemini::Gemini, local::LocalRenderer};
    Ok(
        match (config.renderer.as_str(), &config.gemini, &config.emergent) {
            ("gemini", Some(g), _) => Arc::new(Gemini::new(g.clone())?),
            ("emergent", _, Some(e)) => Arc::new(Emergent::new(e.clone())?),
            _ => Arc::new(LocalRenderer),
        },
    )
}

/// The audit log's staff operations.
pub struct Audit<'a> {
    f: &'a Facetra,
}

impl Audit<'_> {
    /// Entries after `after_seq`, oldest first.
    pub async fn list(
        &self,
        actor: &Actor,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        self.f
            .authorize(actor, accounts::StaffOp::ReadAudit)
            .await?;
        self.f
            .store()
            .audit
            .audit_entries(after_seq, limit.clamp(1, 1000))
            .await
    }

    /// Checks the whole chain and names the first bad entry.
    pub async fn verify(&self, actor: &Actor) -> Result<Verification> {
        self.f
            .authorize(actor, accounts::StaffOp::ReadAudit)
            .await?;
        audit::verify(self.f.store().audit.as_ref()).await
    }
}
