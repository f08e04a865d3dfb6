//! `RequestStore` on MongoDB: one `privacy_requests` collection; the queried fields at the top
//! level (times as BSON dates), the rest of a request one JSON body; the email a field of its
//! own, so erasure can drop it and keep the keyed hash.

use async_trait::async_trait;
use mongodb::bson::{doc, Bson, Document};

use super::{bdate, mongo_err, need, newest_first, Mongo, TimeKey};
use crate::accounts::Email;
use crate::error::{Error, Result};
use crate::ids::RequestId;
use crate::paging::{Cursor, Page, PageRequest};
use crate::privacy::requests::{PrivacyRequest, RequestFilter, RequestStatus, RequestStore};

fn from_doc(d: &Document) -> Result<PrivacyRequest> {
    let id = need("_id", d.get_str("_id"))?;
    let body = need("body", d.get_str("body"))?;
    let mut request: PrivacyRequest = serde_json::from_str(body)
        .map_err(|e| Error::Corrupt(format!("privacy request {id}: {e}")))?;
    request.email = d
        .get_str("email")
        .ok()
        .map(|e| Email::from_stored(e.to_owned()));
    Ok(request)
}

fn to_doc(r: &PrivacyRequest) -> Result<Document> {
    let body = serde_json::to_string(r).map_err(|e| Error::Internal(e.to_string()))?;
    let mut d = doc! {
        "_id": r.id.as_str(),
        "type": r.kind.as_str(),
        "status": r.status.as_str(),
        "email_hash": &r.email_hash,
        "received_at": bdate(r.received_at),
        "due_at": bdate(r.due_at),
        "version": i64::from(r.version),
        "body": body,
    };
    if let Some(u) = &r.user_id {
        d.insert("user_id", u.as_str());
    }
    if let Some(e) = &r.email {
        d.insert("email", e.as_str());
    }
    Ok(d)
}

#[async_trait]
impl RequestStore for Mongo {
    async fn insert_request(&self, r: &PrivacyRequest) -> Result<()> {
        self.privacy_requests()
            .insert_one(to_doc(r)?)
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn request(&self, id: &RequestId) -> Result<Option<PrivacyRequest>> {
        self.privacy_requests()
            .find_one(doc! { "_id": id.as_str() })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(from_doc)
            .transpose()
    }

    async fn update_request(&self, r: &PrivacyRequest) -> Result<bool> {
        let replaced = self
            .privacy_requests()
            .replace_one(
                doc! { "_id": r.id.as_str(), "version": i64::from(r.version) - 1 },
                to_doc(r)?,
            )
            .await
            .map_err(mongo_err)?;
        Ok(replaced.matched_count == 1)
    }

    async fn requests(
        &self,
        filter: &RequestFilter,
        page: &PageRequest,
    ) -> Result<Page<PrivacyRequest>> {
        let mut f = Document::new();
        if let Some(s) = filter.status {
            f.insert("status", s.as_str());
        }
        if let Some(k) = filter.kind {
            f.insert("type", k.as_str());
        }
        if let Some(u) = &filter.user {
            f.insert("user_id", u.as_str());
        }
        if let Some(before) = filter.open_due_before {
            f.insert("due_at", doc! { "$lt": bdate(before) });
            let closed: Vec<Bson> = RequestStatus::ALL
                .iter()
                .filter(|s| s.is_closed())
                .map(|s| Bson::from(s.as_str()))
                .collect();
            let mut status = doc! { "$nin": closed };
            if let Some(s) = filter.status {
                status.insert("$eq", s.as_str());
            }
            f.insert("status", status);
        }
        newest_first(
            &self.privacy_requests(),
            f,
            TimeKey::Date("received_at"),
            page,
            from_doc,
            |r| Cursor {
                created_at: r.received_at,
                id: r.id.to_string(),
            },
        )
        .await
    }
}
