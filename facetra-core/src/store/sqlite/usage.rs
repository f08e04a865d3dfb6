//! `UsageStore` and `RequestLogStore` in SQL.

use async_trait::async_trait;
use rusqlite::params;

use super::{db_err, ms, Sqlite};
use crate::error::Result;
use crate::privacy::logs::{RequestLog, RequestLogStore};
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

#[async_trait]
impl RequestLogStore for Sqlite {
    async fn insert_request_logs(&self, logs: &[RequestLog]) -> Result<()> {
        let logs = logs.to_vec();
        self.call(move |c| {
            let tx = c.transaction().map_err(db_err)?;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO request_logs
                         (at, ip, user_agent, referrer, route, method, status, latency_ms, user_id)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )
                    .map_err(db_err)?;
                for l in &logs {
                    stmt.execute(params![
                        ms(l.at),
                        l.ip,
                        l.user_agent,
                        l.referrer,
                        l.route,
                        l.method,
                        l.status,
                        l.latency_ms as i64,
                        l.user_id.as_ref().map(|u| u.as_str().to_owned())
                    ])
                    .map_err(db_err)?;
                }
            }
            tx.commit().map_err(db_err)
        })
        .await
    }
}
