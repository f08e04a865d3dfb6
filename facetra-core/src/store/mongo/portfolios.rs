//! `PortfolioStore` in BSON (the ordered render ids as an array).

use async_trait::async_trait;
use mongodb::bson::{doc, Document};

use super::{bdate, from_bdate, mongo_err, need, newest_first, Mongo, TimeKey};
use crate::error::Result;
use crate::ids::{PortfolioId, RenderId, UserId};
use crate::paging::{Cursor, Page, PageRequest};
use crate::studio::portfolios::{Portfolio, PortfolioStore};

fn from_doc(d: &Document) -> Result<Portfolio> {
    Ok(Portfolio {
        id: PortfolioId::from_stored(need("_id", d.get_str("_id"))?.to_owned()),
        user_id: UserId::from_stored(need("user_id", d.get_str("user_id"))?.to_owned()),
        name: need("name", d.get_str("name"))?.to_owned(),
        render_ids: need("render_ids", d.get_array("render_ids"))?
            .iter()
            .filter_map(|r| r.as_str().map(|s| RenderId::from_stored(s.to_owned())))
            .collect(),
        created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
        updated_at: from_bdate(*need("updated_at", d.get_datetime("updated_at"))?),
    })
}

fn ids(p: &Portfolio) -> Vec<String> {
    p.render_ids.iter().map(|r| r.to_string()).collect()
}

#[async_trait]
impl PortfolioStore for Mongo {
    async fn insert_portfolio(&self, p: &Portfolio) -> Result<()> {
        self.portfolios()
            .insert_one(doc! {
                "_id": p.id.as_str(), "user_id": p.user_id.as_str(), "name": &p.name, "render_ids": ids(p),
                "created_at": bdate(p.created_at), "updated_at": bdate(p.updated_at),
            })
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn portfolio(&self, owner: &UserId, id: &PortfolioId) -> Result<Option<Portfolio>> {
        self.portfolios()
            .find_one(doc! { "_id": id.as_str(), "user_id": owner.as_str() })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(from_doc)
            .transpose()
    }

    async fn portfolios(&self, owner: &UserId, page: &PageRequest) -> Result<Page<Portfolio>> {
        newest_first(
            &self.portfolios(),
            doc! { "user_id": owner.as_str() },
            TimeKey::Date("created_at"),
            page,
            from_doc,
            |p| Cursor {
                created_at: p.created_at,
                id: p.id.to_string(),
            },
        )
        .await
    }

    async fn update_portfolio(&self, p: &Portfolio) -> Result<bool> {
        let r = self
            .portfolios()
            .update_one(
                doc! { "_id": p.id.as_str(), "user_id": p.user_id.as_str() },
                doc! { "$set": { "name": &p.name, "render_ids": ids(p), "updated_at": bdate(p.updated_at) } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.matched_count > 0)
    }

    async fn delete_portfolio(&self, owner: &UserId, id: &PortfolioId) -> Result<bool> {
        let r = self
            .portfolios()
            .delete_one(doc! { "_id": id.as_str(), "user_id": owner.as_str() })
            .await
            .map_err(mongo_err)?;
        Ok(r.deleted_count > 0)
    }
}
