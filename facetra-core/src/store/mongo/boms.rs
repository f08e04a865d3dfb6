//! `BomStore` in BSON: a version's `_id` is `{render}:{version}`, so two edits based on the
//! same version collide and the second is stale.

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{self, doc, Document};

use super::{bdate, from_bdate, is_duplicate, mongo_err, need, Mongo};
use crate::error::{Error, Result};
use crate::ids::{RenderId, UserId};
use crate::paging::{Page, PageRequest};
use crate::studio::bom::{version_after, version_cursor, Bom, BomStore};

fn from_doc(d: &Document) -> Result<Bom> {
    Ok(Bom {
        render_id: RenderId::from_stored(need("render_id", d.get_str("render_id"))?.to_owned()),
        user_id: UserId::from_stored(need("user_id", d.get_str("user_id"))?.to_owned()),
        version: need("version", d.get_i64("version"))?,
        source: bson::from_bson(need(
            "source",
            d.get("source")
                .cloned()
                .ok_or(mongodb::bson::document::ValueAccessError::NotPresent),
        )?)
        .map_err(|e| Error::Corrupt(e.to_string()))?,
        items: bson::from_bson(need(
            "items",
            d.get("items")
                .cloned()
                .ok_or(mongodb::bson::document::ValueAccessError::NotPresent),
        )?)
        .map_err(|e| Error::Corrupt(format!("BOM items: {e}")))?,
        updated_at: from_bdate(*need("updated_at", d.get_datetime("updated_at"))?),
    })
}

#[async_trait]
impl BomStore for Mongo {
    async fn save_bom(&self, bom: &Bom, based_on: i64) -> Result<()> {
        let latest = self.bom(&bom.render_id).await?.map_or(0, |b| b.version);
        if latest != based_on {
            return Err(Error::StaleVersion(based_on));
        }
        let version = based_on + 1;
        let d = doc! {
            "_id": format!("{}:{version}", bom.render_id),
            "render_id": bom.render_id.as_str(),
            "user_id": bom.user_id.as_str(),
            "version": version,
            "source": bson::to_bson(&bom.source).map_err(|e| Error::Internal(e.to_string()))?,
            "items": bson::to_bson(&bom.items).map_err(|e| Error::Internal(e.to_string()))?,
            "updated_at": bdate(bom.updated_at),
        };
        match self.boms().insert_one(d).await {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate(&e) => Err(Error::StaleVersion(based_on)),
            Err(e) => Err(mongo_err(e)),
        }
    }

    async fn bom(&self, render: &RenderId) -> Result<Option<Bom>> {
        self.boms()
            .find_one(doc! { "render_id": render.as_str() })
            .sort(doc! { "version": -1 })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(from_doc)
            .transpose()
    }

    async fn bom_history(&self, render: &RenderId, page: &PageRequest) -> Result<Page<Bom>> {
        let below = version_after(page)?;
        let docs: Vec<Document> = self
            .boms()
            .find(doc! { "render_id": render.as_str(), "version": { "$lt": below } })
            .sort(doc! { "version": -1 })
            .limit(page.limit as i64 + 1)
            .await
            .map_err(mongo_err)?
            .try_collect()
            .await
            .map_err(mongo_err)?;
        let items = docs.iter().map(from_doc).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page.limit, version_cursor))
    }
}
