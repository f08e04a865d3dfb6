//! Storage: the handle to whichever backend `FACETRA_DATABASE_URL` names, and the shared
//! paging types. The ports themselves live beside their domains (`accounts::store`,
//! `privacy::audit`, `blobs`); this module only opens an adapter and hands them out. Adapters
//! are written in their backend's idiom: SQL in `sqlite`, BSON and update operators in `mongo`.

pub mod mongo;
pub mod sqlite;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::accounts::store::AccountStore;
use crate::blobs::BlobStore;
use crate::clock::Timestamp;
use crate::config::Database;
use crate::credits::store::LedgerStore;
use crate::error::{Error, Result};
use crate::mail::store::OutboxStore;
use crate::payments::store::PaymentStore;
use crate::privacy::audit::AuditStore;
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
    pub security: Arc<dyn SecurityEventStore>,
    pub studio: Arc<dyn StudioStore>,
    pub jobs: Arc<dyn JobStore>,
    pub renders: Arc<dyn RenderStore>,
    pub portfolios: Arc<dyn PortfolioStore>,
    pub boms: Arc<dyn BomStore>,
    pub blobs: Arc<dyn BlobStore>,
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
                    security: db.clone(),
                    studio: db.clone(),
                    jobs: db.clone(),
                    renders: db.clone(),
                    portfolios: db.clone(),
                    boms: db.clone(),
                    blobs: db.clone(),
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
                    security: db.clone(),
                    studio: db.clone(),
                    jobs: db.clone(),
                    renders: db.clone(),
                    portfolios: db.clone(),
                    boms: db.clone(),
                    blobs: db.clone(),
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

/// An expiring claim on a record: the one lease primitive, shared by the mail outbox and render
/// jobs (and, later, retention runs). A holder takes a record only when it is free or its lease
/// expired, renews it while working, and loses it if it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Who holds it (a random id per sender or worker).
    pub holder: String,
    pub until: Timestamp,
}

/// A request for one page of a newest-first list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Resume after this position.
    pub after: Option<Cursor>,
    /// At most this many items (1–100, default 50).
    pub limit: usize,
}

impl PageRequest {
    /// The default and maximum page sizes.
    pub const DEFAULT_LIMIT: usize = 50;
    pub const MAX_LIMIT: usize = 100;

    /// A request from an opaque cursor string and an optional limit.
    pub fn parse(cursor: Option<&str>, limit: Option<usize>) -> Result<PageRequest> {
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if limit == 0 || limit > Self::MAX_LIMIT {
            return Err(Error::invalid("limit", "must be between 1 and 100"));
        }
        let after = cursor
            .filter(|c| !c.is_empty())
            .map(Cursor::decode)
            .transpose()?;
        Ok(PageRequest { after, limit })
    }

    /// The first page with the default limit.
    pub fn first() -> PageRequest {
        PageRequest {
            after: None,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// A position in a list: the (created_at, id) of the last item seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub created_at: Timestamp,
    pub id: String,
}

impl Cursor {
    /// The opaque form handed to clients (base64url of the position).
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// Parses the opaque form.
    pub fn decode(s: &str) -> Result<Cursor> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| Error::invalid("cursor", "is not a cursor this server handed out"))
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched items.
    pub fn from_overfetch(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> Cursor) -> Page<T> {
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(key)
        } else {
            None
        };
        Page { items, next }
    }
}
