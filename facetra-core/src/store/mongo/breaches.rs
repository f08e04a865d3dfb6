//! `BreachStore` on MongoDB: `breaches` (no one's personal data) and `breach_notices` (one
//! document per person told, its `_id` the breach and the person, so a person is told once).

use async_trait::async_trait;
use mongodb::bson::{doc, Bson, Document};

use super::{bdate, from_bdate, mongo_err, need, newest_first, Mongo, TimeKey};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{BreachId, UserId};
use crate::paging::{Cursor, Page, PageRequest};
use crate::privacy::breach::{Authority, Breach, BreachNotice, BreachStore};

fn from_doc(d: &Document) -> Result<Breach> {
    let date = |k: &str| d.get_datetime(k).ok().map(|t| from_bdate(*t));
    Ok(Breach {
        id: BreachId::from_stored(need("_id", d.get_str("_id"))?.to_owned()),
        detected_at: from_bdate(*need("detected_at", d.get_datetime("detected_at"))?),
        opened_at: from_bdate(*need("opened_at", d.get_datetime("opened_at"))?),
        summary: need("summary", d.get_str("summary"))?.to_owned(),
        board_due: from_bdate(*need("board_due", d.get_datetime("board_due"))?),
        cert_in_due: from_bdate(*need("cert_in_due", d.get_datetime("cert_in_due"))?),
        board_told_at: date("board_told_at"),
        cert_in_told_at: date("cert_in_told_at"),
        notified: d.get_i64("notified").unwrap_or(0).max(0) as u64,
    })
}

#[async_trait]
impl BreachStore for Mongo {
    async fn insert_breach(&self, b: &Breach) -> Result<()> {
        let mut d = doc! {
            "_id": b.id.as_str(),
            "detected_at": bdate(b.detected_at),
            "opened_at": bdate(b.opened_at),
            "summary": &b.summary,
            "board_due": bdate(b.board_due),
            "cert_in_due": bdate(b.cert_in_due),
            "notified": b.notified as i64,
        };
        for (k, v) in [
            ("board_told_at", b.board_told_at),
            ("cert_in_told_at", b.cert_in_told_at),
        ] {
            if let Some(t) = v {
                d.insert(k, Bson::DateTime(bdate(t)));
            }
        }
        self.breaches().insert_one(d).await.map_err(mongo_err)?;
        Ok(())
    }

    async fn breach(&self, id: &BreachId) -> Result<Option<Breach>> {
        self.breaches()
            .find_one(doc! { "_id": id.as_str() })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(from_doc)
            .transpose()
    }

    async fn breaches(&self, page: &PageRequest) -> Result<Page<Breach>> {
        newest_first(
            &self.breaches(),
            doc! {},
            TimeKey::Date("opened_at"),
            page,
            from_doc,
            |b| Cursor {
                created_at: b.opened_at,
                id: b.id.to_string(),
            },
        )
        .await
    }

    async fn mark_told(&self, id: &BreachId, authority: Authority, at: Timestamp) -> Result<bool> {
        let field = match authority {
            Authority::Board => "board_told_at",
            Authority::CertIn => "cert_in_told_at",
        };
        let r = self
            .breaches()
            .update_one(
                doc! { "_id": id.as_str(), field: { "$exists": false } },
                doc! { "$set": { field: bdate(at) } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.modified_count == 1)
    }

    async fn insert_notice(&self, n: &BreachNotice) -> Result<bool> {
        let key = format!("{}:{}", n.breach_id, n.user_id);
        let r = self
            .breach_notices()
            .update_one(
                doc! { "_id": &key },
                doc! { "$setOnInsert": {
                    "breach_id": n.breach_id.as_str(),
                    "user_id": n.user_id.as_str(),
                    "message_id": n.message_id.as_str(),
                    "notified_at": bdate(n.notified_at),
                } },
            )
            .upsert(true)
            .await
            .map_err(mongo_err)?;
        let added = r.upserted_id.is_some();
        if added {
            self.breaches()
                .update_one(
                    doc! { "_id": n.breach_id.as_str() },
                    doc! { "$inc": { "notified": 1_i64 } },
                )
                .await
                .map_err(mongo_err)?;
        }
        Ok(added)
    }

    async fn notified(&self, id: &BreachId, user: &UserId) -> Result<bool> {
        Ok(self
            .breach_notices()
            .find_one(doc! { "_id": format!("{id}:{user}") })
            .await
            .map_err(mongo_err)?
            .is_some())
    }
}
