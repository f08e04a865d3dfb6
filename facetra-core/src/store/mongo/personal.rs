//! `PersonalDataStore` in BSON. Count and export are loops over the registry's collections for
//! the kind (`privacy::data::REGISTRY`), the person found by the field the registry names;
//! export reads through the driver's cursor, one batch at a time. Erasure follows the kind's
//! rule; a GridFS file goes with every one of its chunks.

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use mongodb::bson::{doc, Bson, Document};
use mongodb::Collection;
use serde_json::{Map, Value};

use super::{bdate, mongo_err, Mongo};
use crate::blobs::BlobStore;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{BlobId, UserId};
use crate::privacy::data::{
    Erased, Kind, Location, PersonalDataStore, Place, Pseudonym, Record, Records,
};

/// Documents fetched per round trip while exporting.
const BATCH: u32 = 100;

/// A BSON value as an export shows it: dates as RFC 3339, the rest as relaxed JSON.
fn value(v: Bson) -> Value {
    match v {
        Bson::DateTime(d) => Value::String(super::from_bdate(d).to_rfc3339()),
        Bson::Document(d) => Value::Object(fields(d)),
        Bson::Array(a) => Value::Array(a.into_iter().map(value).collect()),
        other => other.into_relaxed_extjson(),
    }
}

fn fields(d: Document) -> Map<String, Value> {
    d.into_iter().map(|(k, v)| (k, value(v))).collect()
}

impl Mongo {
    /// A place's collection, and the filter that finds the person's documents in it.
    /// `None` also for a place that names no person (nothing there is anyone's).
    fn scope(&self, location: &Location, person: &str) -> Option<(Collection<Document>, Document)> {
        let field = location.person?;
        match location.place {
            Place::Collection(c) => Some((self.db.collection(c), doc! { field: person })),
            Place::Document(c, id) => {
                Some((self.db.collection(c), doc! { "_id": id, field: person }))
            }
            Place::Bucket(b) => Some((
                self.db.collection(&format!("{b}.files")),
                doc! { field: person },
            )),
            Place::Table(_) | Place::Directory(_) => None,
        }
    }

    fn scopes(&self, kind: Kind, person: &str) -> Vec<(Collection<Document>, Document)> {
        kind.info()
            .mongo
            .iter()
            .filter_map(|l| self.scope(l, person))
            .collect()
    }
}

#[async_trait]
impl PersonalDataStore for Mongo {
    async fn containers(&self) -> Result<Vec<String>> {
        let mut names = self.db.list_collection_names().await.map_err(mongo_err)?;
        names.sort();
        Ok(names)
    }

    async fn count(&self, kind: Kind, person: &UserId) -> Result<u64> {
        let mut total = 0;
        for (collection, filter) in self.scopes(kind, person.as_str()) {
            total += collection
                .count_documents(filter)
                .await
                .map_err(mongo_err)?;
        }
        Ok(total)
    }

    fn export(&self, kind: Kind, person: &UserId) -> Records {
        let scopes = self.scopes(kind, person.as_str());
        futures::stream::iter(scopes)
            .then(|(collection, filter)| async move {
                let from = collection_name(&collection);
                let cursor = collection
                    .find(filter)
                    .batch_size(BATCH)
                    .await
                    .map_err(mongo_err)?;
                Ok::<_, Error>(cursor.map_err(mongo_err).map_ok(move |d| Record {
                    from,
                    fields: fields(d),
                }))
            })
            .try_flatten()
            .boxed()
    }

    async fn erase(
        &self,
        kind: Kind,
        person: &UserId,
        pseudonym: &Pseudonym,
        at: Timestamp,
    ) -> Result<Erased> {
        let p = person.as_str();
        let psn = pseudonym.as_str();
        Ok(match kind {
            Kind::Account => {
                let removed = self
                    .meta()
                    .delete_many(doc! { "_id": "instance", "owner_id": p })
                    .await
                    .map_err(mongo_err)?
                    .deleted_count;
                let consents = mongodb::bson::to_document(&crate::accounts::Consents::default())
                    .map_err(|e| Error::Internal(e.to_string()))?;
                let anonymised = self
                    .users()
                    .update_one(
                        doc! { "_id": p },
                        doc! {
                            "$set": {
                                "email": format!("{p}@erased.invalid"),
                                "name": "Erased account",
                                "roles": ["user"],
                                "consents": consents,
                                "status": "erased",
                                "updated_at": bdate(at),
                            },
                            "$unset": { "avatar_url": "", "google_subject": "" },
                        },
                    )
                    .await
                    .map_err(mongo_err)?
                    .modified_count;
                Erased {
                    removed,
                    anonymised,
                    kept: 0,
                }
            }
            Kind::Files => {
                let ids: Vec<String> = self
                    .db
                    .collection::<Document>("blobs.files")
                    .find(doc! { "metadata.owner": p })
                    .projection(doc! { "_id": 1 })
                    .await
                    .map_err(mongo_err)?
                    .map_ok(|d| d.get_str("_id").unwrap_or_default().to_owned())
                    .try_collect()
                    .await
                    .map_err(mongo_err)?;
                let mut removed = 0;
                for id in ids {
                    if self.delete_blob(&BlobId::from_stored(id)).await? {
                        removed += 1;
                    }
                }
                Erased {
                    removed,
                    ..Erased::default()
                }
            }
            Kind::Ledger => {
                let kept = self
                    .ledger()
                    .update_many(
                        doc! { "user_id": p, "$or": [
                            { "kind": "purchase" },
                            { "kind": "refund", "reference": { "$regex": "^pay_" } },
                        ] },
                        doc! { "$set": { "user_id": psn } },
                    )
                    .await
                    .map_err(mongo_err)?
                    .modified_count;
                let removed = self
                    .ledger()
                    .delete_many(doc! { "user_id": p })
                    .await
                    .map_err(mongo_err)?
                    .deleted_count;
                Erased {
                    removed,
                    anonymised: 0,
                    kept,
                }
            }
            Kind::Payments => Erased {
                kept: self
                    .payments()
                    .update_many(doc! { "user_id": p }, doc! { "$set": { "user_id": psn } })
                    .await
                    .map_err(mongo_err)?
                    .modified_count,
                ..Erased::default()
            },
            Kind::RequestLogs => Erased {
                anonymised: self
                    .request_logs()
                    .update_many(
                        doc! { "user_id": p },
                        doc! { "$unset": { "user_id": "", "ip": "", "user_agent": "" } },
                    )
                    .await
                    .map_err(mongo_err)?
                    .modified_count,
                ..Erased::default()
            },
            Kind::SecurityEvents => Erased {
                anonymised: self
                    .security_events()
                    .update_many(
                        doc! { "user_id": p },
                        doc! { "$unset": { "user_id": "", "ip": "" } },
                    )
                    .await
                    .map_err(mongo_err)?
                    .modified_count,
                ..Erased::default()
            },
            Kind::PrivacyRequests => {
                let docs: Vec<Document> = self
                    .privacy_requests()
                    .find(doc! { "user_id": p })
                    .projection(doc! { "_id": 1, "body": 1 })
                    .await
                    .map_err(mongo_err)?
                    .try_collect()
                    .await
                    .map_err(mongo_err)?;
                let mut anonymised = 0;
                for d in docs {
                    let id = d.get_str("_id").unwrap_or_default();
                    let mut body: serde_json::Value =
                        serde_json::from_str(d.get_str("body").unwrap_or("{}"))
                            .map_err(|e| Error::Corrupt(format!("privacy request {id}: {e}")))?;
                    if let Some(fields) = body.as_object_mut() {
                        fields.remove("message");
                    }
                    anonymised += self
                        .privacy_requests()
                        .update_one(
                            doc! { "_id": id },
                            doc! {
                                "$set": { "body": body.to_string() },
                                "$unset": { "email": "" },
                            },
                        )
                        .await
                        .map_err(mongo_err)?
                        .matched_count;
                }
                Erased {
                    anonymised,
                    ..Erased::default()
                }
            }
            Kind::Sessions
            | Kind::ApiTokens
            | Kind::Uploads
            | Kind::Jobs
            | Kind::Renders
            | Kind::Boms
            | Kind::Portfolios
            | Kind::Outbox
            | Kind::SignInAttempts
            | Kind::Signups
            | Kind::UsageEvents
            | Kind::BreachNotices
            | Kind::Nominees
            | Kind::Messages => {
                let mut removed = 0;
                for (collection, filter) in self.scopes(kind, p) {
                    removed += collection
                        .delete_many(filter)
                        .await
                        .map_err(mongo_err)?
                        .deleted_count;
                }
                Erased {
                    removed,
                    ..Erased::default()
                }
            }
        })
    }

    async fn plan_erase(&self, kind: Kind, person: &UserId) -> Result<Erased> {
        let p = person.as_str();
        let count = |c: Collection<Document>, filter: Document| async move {
            c.count_documents(filter).await.map_err(mongo_err)
        };
        Ok(match kind {
            Kind::Account => Erased {
                removed: count(self.meta(), doc! { "_id": "instance", "owner_id": p }).await?,
                anonymised: count(self.users(), doc! { "_id": p }).await?,
                kept: 0,
            },
            Kind::Ledger => {
                let kept = count(
                    self.ledger(),
                    doc! { "user_id": p, "$or": [
                        { "kind": "purchase" },
                        { "kind": "refund", "reference": { "$regex": "^pay_" } },
                    ] },
                )
                .await?;
                let all = count(self.ledger(), doc! { "user_id": p }).await?;
                Erased {
                    removed: all - kept,
                    anonymised: 0,
                    kept,
                }
            }
            _ => Erased::by_rule(kind, self.count(kind, person).await?),
        })
    }

    async fn anonymise_shared_ips(
        &self,
        person: &UserId,
        dry_run: bool,
    ) -> Result<Vec<(Kind, u64)>> {
        let p = person.as_str();
        let mut ips: Vec<Bson> = Vec::new();
        for collection in [self.request_logs(), self.security_events()] {
            let found = collection
                .distinct("ip", doc! { "user_id": p, "ip": { "$type": "string" } })
                .await
                .map_err(mongo_err)?;
            for ip in found {
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
        }
        let mut touched = Vec::new();
        for (kind, collection) in [
            (Kind::RequestLogs, self.request_logs()),
            (Kind::SecurityEvents, self.security_events()),
        ] {
            if ips.is_empty() {
                touched.push((kind, 0));
                continue;
            }
            let others = doc! { "user_id": { "$ne": p }, "ip": { "$in": ips.clone() } };
            let n = if dry_run {
                collection
                    .count_documents(others)
                    .await
                    .map_err(mongo_err)?
            } else {
                if kind == Kind::RequestLogs {
                    // Lines that name nobody lose their user agent too (first, while the IP
                    // still marks them).
                    let mut anonymous = others.clone();
                    anonymous.insert("user_id", doc! { "$exists": false });
                    collection
                        .update_many(anonymous, doc! { "$unset": { "user_agent": "" } })
                        .await
                        .map_err(mongo_err)?;
                }
                collection
                    .update_many(others, doc! { "$unset": { "ip": "" } })
                    .await
                    .map_err(mongo_err)?
                    .modified_count
            };
            touched.push((kind, n));
        }
        Ok(touched)
    }

    async fn settle(&self) -> Result<()> {
        // A deleted or updated document's old bytes are not reachable through the server;
        // there is no log of ours to truncate.
        Ok(())
    }

    async fn expire(&self, kind: Kind, cutoff: Timestamp, dry_run: bool) -> Result<u64> {
        let before = doc! { "$lt": bdate(cutoff) };
        let anonymise = |fields: &[&str]| -> (Document, Document) {
            let identified: Vec<Document> = fields
                .iter()
                .map(|f| doc! { *f: { "$exists": true } })
                .collect();
            let mut unset = Document::new();
            for f in fields {
                unset.insert(*f, "");
            }
            (
                doc! { "at": before.clone(), "$or": identified },
                doc! { "$unset": unset },
            )
        };
        // (collection, which documents are due, the update; `None`: they are deleted)
        let (collection, due, update): (Collection<Document>, Document, Option<Document>) =
            match kind {
                Kind::RequestLogs => {
                    let (due, update) = anonymise(&["user_id", "ip", "user_agent"]);
                    (self.request_logs(), due, Some(update))
                }
                Kind::SecurityEvents => {
                    let (due, update) = anonymise(&["user_id", "ip"]);
                    (self.security_events(), due, Some(update))
                }
                Kind::UsageEvents => {
                    let (due, update) = anonymise(&["user_id"]);
                    (self.usage_events(), due, Some(update))
                }
                Kind::Sessions => (self.sessions(), doc! { "expires_at": before }, None),
                Kind::ApiTokens => (self.api_tokens(), doc! { "expires_at": before }, None),
                Kind::SignInAttempts => {
                    (self.sign_in_attempts(), doc! { "expires_at": before }, None)
                }
                Kind::Payments => (self.payments(), doc! { "created_at": before }, None),
                Kind::Ledger => (
                    self.ledger(),
                    doc! { "created_at": before, "user_id": { "$regex": "^psn_" } },
                    None,
                ),
                Kind::Signups => (
                    self.signups(),
                    doc! { "created_at": before, "user_id": { "$exists": false } },
                    None,
                ),
                Kind::Outbox => (
                    self.outbox(),
                    doc! { "status": "sent", "sent_at": before, "$or": [
                        { "text": { "$ne": "" } }, { "html": { "$ne": "" } },
                    ] },
                    Some(doc! { "$set": { "text": "", "html": "" } }),
                ),
                Kind::Account
                | Kind::Uploads
                | Kind::Files
                | Kind::Jobs
                | Kind::Renders
                | Kind::Boms
                | Kind::Portfolios
                | Kind::PrivacyRequests
                | Kind::BreachNotices
                | Kind::Nominees
                | Kind::Messages => return Ok(0),
            };
        if dry_run {
            return collection.count_documents(due).await.map_err(mongo_err);
        }
        Ok(match update {
            Some(update) => {
                collection
                    .update_many(due, update)
                    .await
                    .map_err(mongo_err)?
                    .modified_count
            }
            None => {
                collection
                    .delete_many(due)
                    .await
                    .map_err(mongo_err)?
                    .deleted_count
            }
        })
    }
}

/// The registry's name for a collection (a `'static` str, as records carry).
fn collection_name(collection: &Collection<Document>) -> &'static str {
    let name = collection.name();
    crate::privacy::data::REGISTRY
        .iter()
        .flat_map(|k| k.mongo.iter())
        .flat_map(|l| match l.place {
            Place::Collection(c) | Place::Document(c, _) => vec![c],
            Place::Bucket(b) => vec![b],
            _ => vec![],
        })
        .find(|c| name == *c || name.strip_suffix(".files") == Some(c))
        .unwrap_or("unknown")
}
