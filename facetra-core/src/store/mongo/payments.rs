//! `PaymentStore` and `SecurityEventStore` in BSON. Status moves forward with a conditional
//! update on its rank.

use async_trait::async_trait;
use mongodb::bson::{doc, Bson, Document};

use super::{bdate, from_bdate, is_duplicate, mongo_err, need, newest_first, Mongo, TimeKey};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{PaymentId, SecurityEventId, UserId};
use crate::paging::{Cursor, Page, PageRequest};
use crate::payments::store::{PaymentRef, PaymentStore};
use crate::payments::{Payment, PaymentKind, PaymentStatus};
use crate::security::events::{SecurityEvent, SecurityEventStore};

fn opt(d: &Document, key: &str) -> Option<String> {
    d.get_str(key).ok().map(str::to_owned)
}

fn payment_from(d: &Document) -> Result<Payment> {
    Ok(Payment {
        id: PaymentId::from_stored(need("_id", d.get_str("_id"))?.to_owned()),
        user_id: UserId::from_stored(need("user_id", d.get_str("user_id"))?.to_owned()),
        pack_id: need("pack_id", d.get_str("pack_id"))?.to_owned(),
        credits: need("credits", d.get_i64("credits"))?,
        amount_paise: need("amount_paise", d.get_i64("amount_paise"))?,
        currency: need("currency", d.get_str("currency"))?.to_owned(),
        kind: PaymentKind::parse(need("kind", d.get_str("kind"))?)?,
        order_id: opt(d, "order_id"),
        link_id: opt(d, "link_id"),
        link_url: opt(d, "link_url"),
        razorpay_payment_id: opt(d, "razorpay_payment_id"),
        status: PaymentStatus::parse(need("status", d.get_str("status"))?)?,
        credits_refunded: need("credits_refunded", d.get_i64("credits_refunded"))?,
        created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
        updated_at: from_bdate(*need("updated_at", d.get_datetime("updated_at"))?),
    })
}

fn payment_doc(p: &Payment) -> Document {
    let mut d = doc! {
        "_id": p.id.as_str(),
        "user_id": p.user_id.as_str(),
        "pack_id": &p.pack_id,
        "credits": p.credits,
        "amount_paise": p.amount_paise,
        "currency": &p.currency,
        "kind": p.kind.as_str(),
        "status": p.status.as_str(),
        "status_rank": p.status.rank(),
        "credits_refunded": p.credits_refunded,
        "created_at": bdate(p.created_at),
        "updated_at": bdate(p.updated_at),
    };
    for (key, value) in [
        ("order_id", &p.order_id),
        ("link_id", &p.link_id),
        ("link_url", &p.link_url),
        ("razorpay_payment_id", &p.razorpay_payment_id),
    ] {
        if let Some(v) = value {
            d.insert(key, v);
        }
    }
    d
}

#[async_trait]
impl PaymentStore for Mongo {
    async fn insert_payment(&self, p: &Payment) -> Result<()> {
        self.payments()
            .insert_one(payment_doc(p))
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn find_payment(&self, by: PaymentRef<'_>) -> Result<Option<Payment>> {
        let filter = match by {
            PaymentRef::Ours(id) => doc! { "_id": id.as_str() },
            PaymentRef::Order(o) => doc! { "order_id": o },
            PaymentRef::Link(l) => doc! { "link_id": l },
            PaymentRef::RazorpayPayment(p) => doc! { "razorpay_payment_id": p },
        };
        self.payments()
            .find_one(filter)
            .sort(doc! { "created_at": 1 })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(payment_from)
            .transpose()
    }

    async fn advance_payment(
        &self,
        id: &PaymentId,
        to: PaymentStatus,
        rzp: Option<&str>,
        at: Timestamp,
    ) -> Result<Payment> {
        let mut set =
            doc! { "status": to.as_str(), "status_rank": to.rank(), "updated_at": bdate(at) };
        if let (PaymentStatus::Credited, Some(credited)) = (to, rzp) {
            set.insert("razorpay_payment_id", credited);
        }
        self.payments()
            .update_one(
                doc! { "_id": id.as_str(), "status_rank": { "$lt": to.rank() } },
                doc! { "$set": set },
            )
            .await
            .map_err(mongo_err)?;
        if let Some(rzp) = rzp {
            self.payments()
                .update_one(
                    doc! { "_id": id.as_str(), "razorpay_payment_id": { "$exists": false } },
                    doc! { "$set": { "razorpay_payment_id": rzp } },
                )
                .await
                .map_err(mongo_err)?;
        }
        self.find_payment(PaymentRef::Ours(id))
            .await?
            .ok_or(Error::NotFound("payment"))
    }

    async fn add_refunded_credits(
        &self,
        id: &PaymentId,
        credits: i64,
        at: Timestamp,
    ) -> Result<()> {
        self.payments()
            .update_one(
                doc! { "_id": id.as_str() },
                doc! { "$inc": { "credits_refunded": credits }, "$set": { "updated_at": bdate(at) } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn webhook_seen(&self, event_id: &str) -> Result<bool> {
        Ok(self
            .webhook_events()
            .find_one(doc! { "_id": event_id })
            .await
            .map_err(mongo_err)?
            .is_some())
    }

    async fn remember_webhook(&self, event_id: &str, at: Timestamp) -> Result<()> {
        match self
            .webhook_events()
            .insert_one(doc! { "_id": event_id, "received_at": bdate(at) })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate(&e) => Ok(()),
            Err(e) => Err(mongo_err(e)),
        }
    }
}

fn security_event_from(d: &Document) -> Result<SecurityEvent> {
    Ok(SecurityEvent {
        id: SecurityEventId::from_stored(need("_id", d.get_str("_id"))?.to_owned()),
        at: from_bdate(*need("at", d.get_datetime("at"))?),
        kind: need("kind", d.get_str("kind"))?.to_owned(),
        user_id: d
            .get_str("user_id")
            .ok()
            .map(|u| UserId::from_stored(u.to_owned())),
        ip: opt(d, "ip"),
        details: serde_json::from_str(d.get_str("details").unwrap_or("null")).unwrap_or_default(),
        count: match d.get("count") {
            Some(Bson::Int64(n)) => (*n).try_into().unwrap_or(0),
            Some(Bson::Int32(n)) => (*n).try_into().unwrap_or(0),
            _ => 1,
        },
    })
}

#[async_trait]
impl SecurityEventStore for Mongo {
    async fn record_security_event(&self, e: &SecurityEvent) -> Result<()> {
        let mut d = doc! {
            "_id": e.id.as_str(),
            "at": bdate(e.at),
            "kind": &e.kind,
            "details": e.details.to_string(),
            "count": e.count as i64,
        };
        if let Some(u) = &e.user_id {
            d.insert("user_id", u.as_str());
        }
        if let Some(ip) = &e.ip {
            d.insert("ip", Bson::String(ip.clone()));
        }
        self.security_events()
            .insert_one(d)
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn count_security_event(&self, e: &SecurityEvent) -> Result<u64> {
        let mut first =
            doc! { "at": bdate(e.at), "kind": &e.kind, "details": e.details.to_string() };
        if let Some(ip) = &e.ip {
            first.insert("ip", ip.as_str());
        }
        let after = self
            .security_events()
            .find_one_and_update(
                doc! { "_id": e.id.as_str() },
                doc! { "$setOnInsert": first, "$inc": { "count": 1_i64 } },
            )
            .upsert(true)
            .return_document(mongodb::options::ReturnDocument::After)
            .await
            .map_err(mongo_err)?;
        Ok(after
            .as_ref()
            .map(security_event_from)
            .transpose()?
            .map_or(1, |e| e.count))
    }

    async fn security_event(&self, id: &SecurityEventId) -> Result<Option<SecurityEvent>> {
        self.security_events()
            .find_one(doc! { "_id": id.as_str() })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(security_event_from)
            .transpose()
    }

    async fn security_events(
        &self,
        kind: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<SecurityEvent>> {
        let mut filter = doc! {};
        if let Some(k) = kind {
            filter.insert("kind", k);
        }
        newest_first(
            &self.security_events(),
            filter,
            TimeKey::Date("at"),
            page,
            security_event_from,
            |e| Cursor {
                created_at: e.at,
                id: e.id.to_string(),
            },
        )
        .await
    }
}
