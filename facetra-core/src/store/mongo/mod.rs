//! The MongoDB adapter (official driver): documents in BSON with update operators, blobs in
//! GridFS (bucket `blobs`), unique and TTL indexes created idempotently at start-up, and a
//! transaction only where two writes must land together (the local owner and its instance).

mod accounts;
mod audit;
mod blobs;
mod boms;
mod breaches;
mod jobs;
mod leases;
mod ledger;
mod nominees;
mod onboarding;
mod outbox;
mod payments;
mod personal;
mod portfolios;
mod requests;
mod studio;
mod threads;
mod usage;

use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::{doc, Bson, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};

use futures::TryStreamExt;

use super::{Backend, OpenMode};
use crate::clock::Timestamp;
use crate::config::{keys, redact_url};
use crate::error::{Error, Result};
use crate::paging::{Cursor, Page, PageRequest};

/// The MongoDB adapter; cheap to clone.
#[derive(Clone)]
pub struct Mongo {
    client: Client,
    db: Database,
}

const META: &str = "meta";
const SCHEMA_ID: &str = "schema";
const SCHEMA_VERSION: i32 = 1;

impl Mongo {
    /// Connects, checks the server answers, and (in `CreateIfMissing` mode) creates the
    /// schema record and the indexes.
    pub async fn open(url: &str, database: &str, mode: OpenMode) -> Result<Mongo> {
        let where_ = redact_url(url);
        let mut options = ClientOptions::parse(url).await.map_err(|e| {
            Error::Config(format!(
                "{} is not a usable MongoDB URL ({where_}): {}",
                keys::DATABASE_URL,
                e.kind
            ))
        })?;
        if options.server_selection_timeout.is_none() {
            options.server_selection_timeout = Some(Duration::from_secs(5));
        }
        if options.connect_timeout.is_none() {
            options.connect_timeout = Some(Duration::from_secs(5));
        }
        options.app_name.get_or_insert_with(|| "facetra".into());
        let client = Client::with_options(options).map_err(|e| {
            Error::Config(format!("cannot use the MongoDB URL {where_}: {}", e.kind))
        })?;
        let db = client.database(database);
        let mongo = Mongo { client, db };
        if let Err(e) = mongo.db.run_command(doc! { "ping": 1 }).await {
            mongo.client.clone().shutdown().await;
            return Err(Error::Unavailable(format!(
                "cannot reach MongoDB at {where_}: {}; check that it is running and that {} is right",
                e.kind,
                keys::DATABASE_URL
            )));
        }
        let schema = mongo
            .meta()
            .find_one(doc! { "_id": SCHEMA_ID })
            .await
            .map_err(mongo_err)?;
        match (schema, mode) {
            (None, OpenMode::MustExist) => {
                mongo.client.clone().shutdown().await;
                return Err(Error::Config(format!(
                    "no Facetra database {database} at {where_}: start facetra-server once to \
                     create it, or check {} and {}",
                    keys::DATABASE_URL,
                    keys::MONGODB_DATABASE
                )));
            }
            (Some(s), _) if s.get_i32("version").unwrap_or(0) > SCHEMA_VERSION => {
                mongo.client.clone().shutdown().await;
                return Err(Error::Config(format!(
                    "database {database} was written by a newer Facetra; upgrade"
                )));
            }
            _ => {}
        }
        if let Err(e) = mongo.ensure_indexes().await {
            mongo.client.clone().shutdown().await;
            return Err(e);
        }
        Ok(mongo)
    }

    async fn ensure_indexes(&self) -> Result<()> {
        let unique = || IndexOptions::builder().unique(true).build();
        let index = |keys: Document, options: Option<IndexOptions>| {
            IndexModel::builder().keys(keys).options(options).build()
        };
        self.users()
            .create_indexes([
                index(doc! { "email": 1 }, Some(unique())),
                index(
                    doc! { "google_subject": 1 },
                    Some(
                        IndexOptions::builder()
                            .unique(true)
                            .partial_filter_expression(
                                doc! { "google_subject": { "$type": "string" } },
                            )
                            .build(),
                    ),
                ),
                index(doc! { "created_at": -1, "_id": -1 }, None),
            ])
            .await
            .map_err(mongo_err)?;
        let ttl = IndexOptions::builder()
            .expire_after(Duration::from_secs(0))
            .build();
        self.sessions()
            .create_indexes([
                index(doc! { "token_hash": 1 }, Some(unique())),
                index(doc! { "user_id": 1 }, None),
                index(doc! { "expires_at": 1 }, Some(ttl.clone())),
            ])
            .await
            .map_err(mongo_err)?;
        self.api_tokens()
            .create_indexes([
                index(doc! { "token_hash": 1 }, Some(unique())),
                index(doc! { "user_id": 1, "created_at": -1 }, None),
                index(doc! { "expires_at": 1 }, Some(ttl.clone())),
            ])
            .await
            .map_err(mongo_err)?;
        self.request_logs()
            .create_indexes([
                index(doc! { "user_id": 1 }, None),
                index(doc! { "at": 1 }, None),
            ])
            .await
            .map_err(mongo_err)?;
        self.usage_events()
            .create_indexes([
                index(doc! { "user_id": 1 }, None),
                index(doc! { "at": 1 }, None),
            ])
            .await
            .map_err(mongo_err)?;
        self.messages()
            .create_indexes([
                index(doc! { "created_at": -1, "_id": -1 }, None),
                index(doc! { "user_id": 1 }, None),
            ])
            .await
            .map_err(mongo_err)?;
        self.breach_notices()
            .create_indexes([index(doc! { "user_id": 1 }, None)])
            .await
            .map_err(mongo_err)?;
        self.privacy_requests()
            .create_indexes([
                index(doc! { "received_at": -1, "_id": -1 }, None),
                index(doc! { "user_id": 1 }, None),
            ])
            .await
            .map_err(mongo_err)?;
        self.signups()
            .create_indexes([
                index(doc! { "kind": 1, "created_at": -1, "_id": -1 }, None),
                index(doc! { "email": 1 }, None),
                index(doc! { "user_id": 1 }, None),
            ])
            .await
            .map_err(mongo_err)?;
        self.sign_in_attempts()
            .create_indexes([
                index(doc! { "token_hash": 1 }, Some(unique())),
                index(doc! { "expires_at": 1 }, Some(ttl)),
            ])
            .await
            .map_err(mongo_err)?;
        self.ledger()
            .create_indexes([
                index(doc! { "idempotency_key": 1 }, Some(unique())),
                index(doc! { "user_id": 1, "seq": 1 }, Some(unique())),
                index(doc! { "user_id": 1, "created_at": -1, "_id": -1 }, None),
            ])
            .await
            .map_err(mongo_err)?;
        let sparse_unique = |field: &str| {
            IndexOptions::builder()
                .unique(true)
                .partial_filter_expression(doc! { field: { "$type": "string" } })
                .build()
        };
        self.payments()
            .create_indexes([
                index(doc! { "order_id": 1 }, Some(sparse_unique("order_id"))),
                index(doc! { "link_id": 1 }, Some(sparse_unique("link_id"))),
                index(doc! { "razorpay_payment_id": 1 }, None),
                index(doc! { "user_id": 1, "created_at": -1 }, None),
            ])
            .await
            .map_err(mongo_err)?;
        self.outbox()
            .create_indexes([
                index(doc! { "idempotency_key": 1 }, Some(unique())),
                index(doc! { "status": 1, "next_attempt_at": 1 }, None),
                index(doc! { "created_at": -1, "_id": -1 }, None),
            ])
            .await
            .map_err(mongo_err)?;
        self.uploads()
            .create_indexes([
                index(doc! { "user_id": 1, "created_at": -1, "_id": -1 }, None),
                index(doc! { "blob_id": 1 }, Some(unique())),
            ])
            .await
            .map_err(mongo_err)?;
        let job_key = IndexOptions::builder()
            .unique(true)
            .partial_filter_expression(doc! { "idempotency_key": { "$type": "string" } })
            .build();
        self.jobs()
            .create_indexes([
                index(doc! { "user_id": 1, "idempotency_key": 1 }, Some(job_key)),
                index(doc! { "status": 1, "created_ms": 1 }, None),
                index(doc! { "user_id": 1, "created_ms": -1 }, None),
            ])
            .await
            .map_err(mongo_err)?;
        self.renders()
            .create_indexes([
                index(doc! { "job_id": 1, "variant": 1 }, Some(unique())),
                index(doc! { "blob_id": 1 }, None),
                index(doc! { "user_id": 1, "created_ms": -1 }, None),
            ])
            .await
            .map_err(mongo_err)?;
        self.portfolios()
            .create_index(index(
                doc! { "user_id": 1, "created_at": -1, "_id": -1 },
                None,
            ))
            .await
            .map_err(mongo_err)?;
        self.security_events()
            .create_index(index(doc! { "at": -1, "_id": -1 }, None))
            .await
            .map_err(mongo_err)?;
        self.db
            .collection::<Document>("blobs.files")
            .create_index(index(doc! { "metadata.owner": 1 }, None))
            .await
            .map_err(mongo_err)?;
        self.db
            .collection::<Document>("blobs.chunks")
            .create_index(index(doc! { "files_id": 1, "n": 1 }, Some(unique())))
            .await
            .map_err(mongo_err)?;
        self.meta()
            .update_one(
                doc! { "_id": SCHEMA_ID },
                doc! { "$max": { "version": SCHEMA_VERSION } },
            )
            .upsert(true)
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    fn users(&self) -> Collection<Document> {
        self.db.collection("users")
    }

    fn sessions(&self) -> Collection<Document> {
        self.db.collection("sessions")
    }

    fn api_tokens(&self) -> Collection<Document> {
        self.db.collection("api_tokens")
    }

    fn ledger(&self) -> Collection<Document> {
        self.db.collection("ledger")
    }

    fn payments(&self) -> Collection<Document> {
        self.db.collection("payments")
    }

    fn webhook_events(&self) -> Collection<Document> {
        self.db.collection("webhook_events")
    }

    fn outbox(&self) -> Collection<Document> {
        self.db.collection("outbox")
    }

    fn uploads(&self) -> Collection<Document> {
        self.db.collection("uploads")
    }

    fn jobs(&self) -> Collection<Document> {
        self.db.collection("jobs")
    }

    fn renders(&self) -> Collection<Document> {
        self.db.collection("renders")
    }

    fn portfolios(&self) -> Collection<Document> {
        self.db.collection("portfolios")
    }

    fn boms(&self) -> Collection<Document> {
        self.db.collection("boms")
    }

    fn request_logs(&self) -> Collection<Document> {
        self.db.collection("request_logs")
    }

    fn usage_events(&self) -> Collection<Document> {
        self.db.collection("usage_events")
    }

    fn breaches(&self) -> Collection<Document> {
        self.db.collection("breaches")
    }

    fn breach_notices(&self) -> Collection<Document> {
        self.db.collection("breach_notices")
    }

    fn messages(&self) -> Collection<Document> {
        self.db.collection("messages")
    }

    fn nominees(&self) -> Collection<Document> {
        self.db.collection("nominees")
    }

    fn schedules(&self) -> Collection<Document> {
        self.db.collection("schedules")
    }

    fn privacy_requests(&self) -> Collection<Document> {
        self.db.collection("privacy_requests")
    }

    fn signups(&self) -> Collection<Document> {
        self.db.collection("signups")
    }

    fn sign_in_attempts(&self) -> Collection<Document> {
        self.db.collection("sign_in_attempts")
    }

    fn security_events(&self) -> Collection<Document> {
        self.db.collection("security_events")
    }

    fn meta(&self) -> Collection<Document> {
        self.db.collection(META)
    }
}

#[async_trait]
impl Backend for Mongo {
    async fn ping(&self) -> Result<()> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map(|_| ())
            .map_err(mongo_err)
    }

    async fn close(&self) {
        self.client.clone().shutdown().await;
    }
}

/// The time a list is ordered by: a BSON date field, or milliseconds in an integer field.
#[derive(Debug, Clone, Copy)]
enum TimeKey {
    Date(&'static str),
    Millis(&'static str),
}

impl TimeKey {
    fn field(self) -> &'static str {
        match self {
            TimeKey::Date(f) | TimeKey::Millis(f) => f,
        }
    }

    fn value(self, t: Timestamp) -> Bson {
        match self {
            TimeKey::Date(_) => Bson::DateTime(bdate(t)),
            TimeKey::Millis(_) => Bson::Int64(t.timestamp_millis()),
        }
    }
}

/// One newest-first page of `collection` matching `filter`, keyset-paged on
/// (`time`, `_id`).
async fn newest_first<T>(
    collection: &Collection<Document>,
    mut filter: Document,
    time: TimeKey,
    page: &PageRequest,
    from: impl Fn(&Document) -> Result<T>,
    key: impl Fn(&T) -> Cursor,
) -> Result<Page<T>> {
    let time_field = time.field();
    if let Some(c) = &page.after {
        filter.insert(
            "$or",
            vec![
                doc! { time_field: { "$lt": time.value(c.created_at) } },
                doc! { time_field: time.value(c.created_at), "_id": { "$lt": &c.id } },
            ],
        );
    }
    let docs: Vec<Document> = collection
        .find(filter)
        .sort(doc! { time_field: -1, "_id": -1 })
        .limit(page.limit as i64 + 1)
        .await
        .map_err(mongo_err)?
        .try_collect()
        .await
        .map_err(mongo_err)?;
    let items = docs.iter().map(from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit, key))
}

/// Whether a driver error is a duplicate-key violation (code 11000).
fn is_duplicate(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == 11000,
        ErrorKind::Command(c) => c.code == 11000,
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .is_some_and(|errs| errs.iter().any(|w| w.code == 11000)),
        _ => false,
    }
}

/// Maps a driver error to the core error.
fn mongo_err(e: mongodb::error::Error) -> Error {
    if is_duplicate(&e) {
        return Error::Conflict("a unique value is already taken".into());
    }
    match e.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. } => {
            Error::Unavailable(format!("MongoDB: {}", e.kind))
        }
        _ => Error::Internal(format!("MongoDB: {}", e.kind)),
    }
}

fn bdate(t: Timestamp) -> mongodb::bson::DateTime {
    mongodb::bson::DateTime::from_millis(t.timestamp_millis())
}

fn from_bdate(d: mongodb::bson::DateTime) -> Timestamp {
    chrono::DateTime::from_timestamp_millis(d.timestamp_millis()).unwrap_or_default()
}

/// A field the adapter itself wrote; a missing or mistyped one means corruption.
fn need<T>(key: &str, got: mongodb::bson::document::ValueAccessResult<T>) -> Result<T> {
    got.map_err(|e| Error::Corrupt(format!("stored document field {key}: {e}")))
}
