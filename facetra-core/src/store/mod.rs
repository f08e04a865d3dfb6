//! Storage: the handle to whichever backend `FACETRA_DATABASE_URL` names. The ports live
//! beside their domains (`accounts::store`, `privacy::audit`, `blobs`), the types every port
//! shares below them (`paging`, `lease`); this module only opens an adapter and hands the
//! ports out. Adapters are written in their backend's idiom: SQL in `sqlite`, BSON and update
//! operators in `mongo`.

pub mod mongo;
pub mod sqlite;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use crate::accounts::store::AccountStore;
use crate::blobs::BlobStore;
use crate::config::Database;
use crate::credits::store::LedgerStore;
use crate::error::Result;
use crate::lease::{LeaseStore, ScheduleStore};
use crate::mail::store::OutboxStore;
use crate::messages::store::ThreadStore;
use crate::onboarding::store::OnboardingStore;
use crate::payments::store::PaymentStore;
use crate::privacy::audit::AuditStore;
use crate::privacy::breach::BreachStore;
use crate::privacy::data::PersonalDataStore;
use crate::privacy::logs::RequestLogStore;
use crate::privacy::nominee::NomineeStore;
use crate::privacy::requests::RequestStore;
use crate::privacy::usage::UsageStore;
use crate::security::events::SecurityEventStore;
use crate::studio::bom::BomStore;
use crate::studio::portfolios::PortfolioStore;
use crate::studio::store::{JobStore, RenderStore, StudioStore};

/// Whether opening may create a new, empty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the database (and its schema) when it is missing: the server and `facetra`.
    CreateIfMissing,
    /// Refuse a database that does not exist yet: `facetra-admin`.
    MustExist,
}

/// Health and lifecycle of a backend.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Answers when the store can serve requests.
    async fn ping(&self) -> Result<()>;
    /// Releases connections; call once on the way out.
    async fn close(&self);
}

/// The opened store: one handle per port.
#[derive(Clone)]
pub struct Store {
    pub accounts: Arc<dyn AccountStore>,
    pub audit: Arc<dyn AuditStore>,
    pub ledger: Arc<dyn LedgerStore>,
    pub payments: Arc<dyn PaymentStore>,
    pub outbox: Arc<dyn OutboxStore>,
    pub onboarding: Arc<dyn OnboardingStore>,
    pub usage: Arc<dyn UsageStore>,
    pub request_logs: Arc<dyn RequestLogStore>,
    pub requests: Arc<dyn RequestStore>,
    pub breaches: Arc<dyn BreachStore>,
    pub nominees: Arc<dyn NomineeStore>,
    pub threads: Arc<dyn ThreadStore>,
    pub security: Arc<dyn SecurityEventStore>,
    pub studio: Arc<dyn StudioStore>,
    pub jobs: Arc<dyn JobStore>,
    pub renders: Arc<dyn RenderStore>,
    pub portfolios: Arc<dyn PortfolioStore>,
    pub boms: Arc<dyn BomStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub leases: Arc<dyn LeaseStore>,
    pub schedules: Arc<dyn ScheduleStore>,
    pub personal_data: Arc<dyn PersonalDataStore>,
    pub backend: Arc<dyn Backend>,
    description: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the backend `database` names; blobs of the embedded default go under `data_dir`.
    pub async fn open(database: &Database, data_dir: &Path, mode: OpenMode) -> Result<Store> {
        let description = database.describe();
        match database {
            Database::Sqlite { path } => {
                let db = sqlite::Sqlite::open(path, &data_dir.join("blobs"), mode).await?;
                let db = Arc::new(db);
                Ok(Store {
                    accounts: db.clone(),
                    audit: db.clone(),
                    ledger: db.clone(),
                    payments: db.clone(),
                    outbox: db.clone(),
                    onboarding: db.clone(),
                    usage: db.clone(),
                    request_logs: db.clone(),
                    requests: db.clone(),
                    breaches: db.clone(),
                    nominees: db.clone(),
                    threads: db.clone(),
                    security: db.clone(),
                    studio: db.clone(),
                    jobs: db.clone(),
                    renders: db.clone(),
                    portfolios: db.clone(),
                    boms: db.clone(),
                    blobs: db.clone(),
                    leases: db.clone(),
                    schedules: db.clone(),
                    personal_data: db.clone(),
                    backend: db,
                    description,
                })
            }
            Database::Mongo { url, database } => {
                let db = Arc::new(mongo::Mongo::open(url.expose(), database, mode).await?);
                Ok(Store {
                    accounts: db.clone(),
                    audit: db.clone(),
                    ledger: db.clone(),
                    payments: db.clone(),
                    outbox: db.clone(),
                    onboarding: db.clone(),
                    usage: db.clone(),
                    request_logs: db.clone(),
                    requests: db.clone(),
                    breaches: db.clone(),
                    nominees: db.clone(),
                    threads: db.clone(),
                    security: db.clone(),
                    studio: db.clone(),
                    jobs: db.clone(),
                    renders: db.clone(),
                    portfolios: db.clone(),
                    boms: db.clone(),
                    blobs: db.clone(),
                    leases: db.clone(),
                    schedules: db.clone(),
                    personal_data: db.clone(),
                    backend: db,
                    description,
                })
            }
        }
    }

    /// Which database this is, safe to print.
    pub fn description(&self) -> &str {
        &self.description
    }
}
