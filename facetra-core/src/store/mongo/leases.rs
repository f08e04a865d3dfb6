//! `LeaseStore` in BSON, once for every queue: each queue names its collection, which
//! documents are due and in which order; a claim is one `findOneAndUpdate` that takes a free
//! (or expired) lease, so two holders never take the same document and none of them fights
//! over the head of the queue.

use async_trait::async_trait;
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::ReturnDocument;
use mongodb::Collection;

use super::{bdate, mongo_err, Mongo};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::lease::{Claimed, Lease, LeaseStore, Queue, ScheduleStore};

impl Mongo {
    /// Where a queue's documents live, which of them are due at `now`, and the order they are
    /// taken in.
    fn queue(&self, q: Queue, now: Timestamp) -> (Collection<Document>, Document, Document) {
        let mut due = live(q);
        match q {
            Queue::Jobs => (self.jobs(), due, doc! { "created_ms": 1, "_id": 1 }),
            Queue::Outbox => {
                due.insert("next_attempt_at", doc! { "$lte": bdate(now) });
                (self.outbox(), due, doc! { "next_attempt_at": 1, "_id": 1 })
            }
            Queue::Schedules => {
                due.insert("next_run_at", doc! { "$lte": bdate(now) });
                (self.schedules(), due, doc! { "next_run_at": 1, "_id": 1 })
            }
        }
    }
}

/// Which of a queue's documents are live (not done).
fn live(q: Queue) -> Document {
    match q {
        Queue::Jobs => doc! { "status": { "$in": ["queued", "running"] } },
        Queue::Outbox => doc! { "status": "pending" },
        Queue::Schedules => doc! {},
    }
}

#[async_trait]
impl ScheduleStore for Mongo {
    async fn ensure_schedule(&self, id: &str, first: Timestamp) -> Result<()> {
        self.schedules()
            .update_one(
                doc! { "_id": id },
                doc! { "$setOnInsert": { "next_run_at": bdate(first), "lease_count": 0_i64 } },
            )
            .upsert(true)
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn finish_run(&self, id: &str, holder: &str, next: Timestamp) -> Result<bool> {
        let r = self
            .schedules()
            .update_one(
                doc! { "_id": id, "lease_holder": holder },
                doc! {
                    "$set": { "next_run_at": bdate(next), "lease_count": 0_i64 },
                    "$unset": { "lease_holder": "", "lease_until": "" },
                },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.matched_count == 1)
    }
}

#[async_trait]
impl LeaseStore for Mongo {
    async fn claim(
        &self,
        q: Queue,
        now: Timestamp,
        lease: &Lease,
        only: Option<&str>,
    ) -> Result<Option<Claimed>> {
        let (collection, mut filter, order) = self.queue(q, now);
        filter.insert(
            "$or",
            vec![
                doc! { "lease_until": { "$exists": false } },
                doc! { "lease_until": Bson::Null },
                doc! { "lease_until": { "$lt": bdate(now) } },
            ],
        );
        if let Some(id) = only {
            filter.insert("_id", id);
        }
        let taken = collection
            .find_one_and_update(
                filter,
                doc! {
                    "$set": { "lease_holder": &lease.holder, "lease_until": bdate(lease.until) },
                    "$inc": { "lease_count": 1_i64 },
                },
            )
            .sort(order)
            .projection(doc! { "_id": 1, "lease_count": 1 })
            .return_document(ReturnDocument::After)
            .await
            .map_err(mongo_err)?;
        let Some(d) = taken else { return Ok(None) };
        let id = d
            .get_str("_id")
            .map_err(|_| Error::Corrupt(format!("a {} record without a string id", q.as_str())))?
            .to_owned();
        let claims = match d.get("lease_count") {
            Some(Bson::Int64(n)) => *n,
            Some(Bson::Int32(n)) => i64::from(*n),
            _ => 1,
        };
        Ok(Some(Claimed {
            id,
            claims: claims.try_into().unwrap_or(u32::MAX),
        }))
    }

    async fn renew(&self, q: Queue, id: &str, lease: &Lease) -> Result<bool> {
        let (collection, _, _) = self.queue(q, lease.until);
        let mut filter = live(q);
        filter.insert("_id", id);
        filter.insert("lease_holder", &lease.holder);
        let r = collection
            .update_one(
                filter,
                doc! { "$set": { "lease_until": bdate(lease.until) } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.matched_count == 1)
    }

    async fn release(&self, q: Queue, id: &str, holder: Option<&str>) -> Result<bool> {
        let (collection, _, _) = self.queue(q, chrono::DateTime::UNIX_EPOCH);
        let held = match holder {
            Some(h) => Bson::String(h.to_owned()),
            None => Bson::Document(doc! { "$type": "string" }),
        };
        let r = collection
            .update_one(
                doc! { "_id": id, "lease_holder": held, "lease_count": { "$gt": 0_i64 } },
                doc! {
                    "$unset": { "lease_holder": "", "lease_until": "" },
                    "$inc": { "lease_count": -1_i64 },
                },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.modified_count > 0)
    }
}
