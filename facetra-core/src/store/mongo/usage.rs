//! `UsageStore` on MongoDB.

use async_trait::async_trait;
use mongodb::bson::doc;

use super::{bdate, mongo_err, Mongo};
use crate::error::Result;
use crate::privacy::usage::{UsageEvent, UsageStore};

#[async_trait]
impl UsageStore for Mongo {
    async fn insert_usage_event(&self, e: &UsageEvent) -> Result<()> {
        self.usage_events()
            .insert_one(doc! {
                "_id": &e.id,
                "user_id": e.user_id.as_str(),
                "type": e.kind.as_str(),
                "feature": e.feature.as_str(),
                "count": e.count,
                "at": bdate(e.at),
            })
            .await
            .map_err(mongo_err)?;
        Ok(())
    }
}
