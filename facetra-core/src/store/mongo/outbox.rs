//! `OutboxStore` in BSON. Messages are claimed through `leases.rs`; the state changes here
//! are guarded by the sender's lease.

use async_trait::async_trait;
use mongodb::bson::{doc, Document};

use super::{bdate, from_bdate, is_duplicate, mongo_err, need, newest_first, Mongo, TimeKey};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{MessageId, UserId};
use crate::mail::store::OutboxStore;
use crate::mail::{MessageStatus, OutboxMessage};
use crate::paging::{Cursor, Page, PageRequest};

fn message_from(d: &Document) -> Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: MessageId::from_stored(need("_id", d.get_str("_id"))?.to_owned()),
        user_id: d
            .get_str("user_id")
            .ok()
            .map(|u| UserId::from_stored(u.to_owned())),
        to: need("to", d.get_str("to"))?.to_owned(),
        template: need("template", d.get_str("template"))?.to_owned(),
        subject: need("subject", d.get_str("subject"))?.to_owned(),
        text: need("text", d.get_str("text"))?.to_owned(),
        html: need("html", d.get_str("html"))?.to_owned(),
        idempotency_key: need("idempotency_key", d.get_str("idempotency_key"))?.to_owned(),
        status: MessageStatus::parse(need("status", d.get_str("status"))?)?,
        attempts: need("attempts", d.get_i64("attempts"))? as u32,
        next_attempt_at: from_bdate(*need("next_attempt_at", d.get_datetime("next_attempt_at"))?),
        last_error: d.get_str("last_error").ok().map(str::to_owned),
        provider_message_id: d.get_str("provider_message_id").ok().map(str::to_owned),
        created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
        sent_at: d.get_datetime("sent_at").ok().map(|t| from_bdate(*t)),
    })
}

#[async_trait]
impl OutboxStore for Mongo {
    async fn enqueue(&self, m: &OutboxMessage) -> Result<bool> {
        let mut d = doc! {
            "_id": m.id.as_str(),
            "to": &m.to,
            "template": &m.template,
            "subject": &m.subject,
            "text": &m.text,
            "html": &m.html,
            "idempotency_key": &m.idempotency_key,
            "status": m.status.as_str(),
            "attempts": m.attempts as i64,
            "next_attempt_at": bdate(m.next_attempt_at),
            "created_at": bdate(m.created_at),
        };
        if let Some(u) = &m.user_id {
            d.insert("user_id", u.as_str());
        }
        match self.outbox().insert_one(d).await {
            Ok(_) => Ok(true),
            Err(e) if is_duplicate(&e) => Ok(false),
            Err(e) => Err(mongo_err(e)),
        }
    }

    async fn mark_sent(
        &self,
        id: &MessageId,
        holder: &str,
        provider_id: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let r = self
            .outbox()
            .update_one(
                doc! { "_id": id.as_str(), "lease_holder": holder },
                doc! {
                    "$set": { "status": "sent", "provider_message_id": provider_id, "sent_at": bdate(at), "text": "", "html": "" },
                    "$inc": { "attempts": 1_i64 },
                    "$unset": { "lease_holder": "", "lease_until": "", "last_error": "" },
                },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.modified_count > 0)
    }

    async fn purge_recipient(&self, id: &MessageId) -> Result<bool> {
        let r = self
            .outbox()
            .update_one(
                doc! { "_id": id.as_str(), "status": { "$in": ["sent", "failed"] } },
                doc! {
                    "$set": { "to": "", "text": "", "html": "" },
                    "$unset": { "last_error": "" },
                },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.matched_count > 0)
    }

    async fn mark_retry(
        &self,
        id: &MessageId,
        holder: &str,
        attempts: u32,
        next: Timestamp,
        error: &str,
    ) -> Result<bool> {
        let r = self
            .outbox()
            .update_one(
                doc! { "_id": id.as_str(), "lease_holder": holder },
                doc! {
                    "$set": { "attempts": attempts as i64, "next_attempt_at": bdate(next), "last_error": error },
                    "$unset": { "lease_holder": "", "lease_until": "" },
                },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.modified_count > 0)
    }

    async fn mark_failed(
        &self,
        id: &MessageId,
        holder: &str,
        attempts: u32,
        error: &str,
    ) -> Result<bool> {
        let r = self
            .outbox()
            .update_one(
                doc! { "_id": id.as_str(), "lease_holder": holder },
                doc! {
                    "$set": { "status": "failed", "attempts": attempts as i64, "last_error": error },
                    "$unset": { "lease_holder": "", "lease_until": "" },
                },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.modified_count > 0)
    }

    async fn list_outbox(
        &self,
        status: Option<MessageStatus>,
        page: &PageRequest,
    ) -> Result<Page<OutboxMessage>> {
        let mut filter = doc! {};
        if let Some(s) = status {
            filter.insert("status", s.as_str());
        }
        newest_first(
            &self.outbox(),
            filter,
            TimeKey::Date("created_at"),
            page,
            message_from,
            |m| Cursor {
                created_at: m.created_at,
                id: m.id.to_string(),
            },
        )
        .await
    }

    async fn outbox_message(&self, id: &MessageId) -> Result<Option<OutboxMessage>> {
        self.outbox()
            .find_one(doc! { "_id": id.as_str() })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(message_from)
            .transpose()
    }

    async fn requeue(&self, id: &MessageId, at: Timestamp) -> Result<bool> {
        let r = self
            .outbox()
            .update_one(
                doc! { "_id": id.as_str(), "status": "failed" },
                doc! { "$set": { "status": "pending", "attempts": 0_i64, "next_attempt_at": bdate(at) } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.modified_count > 0)
    }
}
