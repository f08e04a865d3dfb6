//! `ThreadStore` on MongoDB: one `messages` document per thread, the queried fields at the
//! top level (times as BSON dates), the thread itself one JSON body.

use async_trait::async_trait;
use mongodb::bson::{doc, Document};

use super::{bdate, mongo_err, need, newest_first, Mongo, TimeKey};
use crate::error::{Error, Result};
use crate::ids::ThreadId;
use crate::messages::store::ThreadStore;
use crate::messages::{Thread, ThreadFilter};
use crate::paging::{Cursor, Page, PageRequest};

fn from_doc(d: &Document) -> Result<Thread> {
    let id = need("_id", d.get_str("_id"))?;
    serde_json::from_str(need("body", d.get_str("body"))?)
        .map_err(|e| Error::Corrupt(format!("message {id}: {e}")))
}

fn to_doc(t: &Thread) -> Result<Document> {
    Ok(doc! {
        "_id": t.id.as_str(),
        "user_id": t.user_id.as_str(),
        "kind": t.kind.as_str(),
        "status": t.status.as_str(),
        "created_at": bdate(t.created_at),
        "updated_at": bdate(t.updated_at),
        "body": serde_json::to_string(t).map_err(|e| Error::Internal(e.to_string()))?,
    })
}

#[async_trait]
impl ThreadStore for Mongo {
    async fn insert_thread(&self, t: &Thread) -> Result<()> {
        self.messages()
            .insert_one(to_doc(t)?)
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn thread(&self, id: &ThreadId) -> Result<Option<Thread>> {
        self.messages()
            .find_one(doc! { "_id": id.as_str() })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(from_doc)
            .transpose()
    }

    async fn update_thread(&self, t: &Thread) -> Result<()> {
        self.messages()
            .replace_one(doc! { "_id": t.id.as_str() }, to_doc(t)?)
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn threads(&self, filter: &ThreadFilter, page: &PageRequest) -> Result<Page<Thread>> {
        let mut f = Document::new();
        if let Some(u) = &filter.user {
            f.insert("user_id", u.as_str());
        }
        if let Some(k) = filter.kind {
            f.insert("kind", k.as_str());
        }
        if let Some(s) = filter.status {
            f.insert("status", s.as_str());
        }
        newest_first(
            &self.messages(),
            f,
            TimeKey::Date("created_at"),
            page,
            from_doc,
            |t| Cursor {
                created_at: t.created_at,
                id: t.id.to_string(),
            },
        )
        .await
    }
}
