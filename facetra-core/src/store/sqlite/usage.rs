//! `UsageStore` in SQL.

use async_trait::async_trait;
use rusqlite::params;

use super::{db_err, ms, Sqlite};
use crate::error::Result;
use crate::privacy::usage::{UsageEvent, UsageStore};

#[async_trait]
impl UsageStore for Sqlite {
    async fn insert_usage_event(&self, e: &UsageEvent) -> Result<()> {
        let e = e.clone();
        self.call(move |c| {
            c.prepare_cached(
                "INSERT INTO usage_events (id, user_id, type, feature, count, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(db_err)?
            .execute(params![
                e.id,
                e.user_id.as_str(),
                e.kind.as_str(),
                e.feature.as_str(),
                e.count,
                ms(e.at)
            ])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }
}
