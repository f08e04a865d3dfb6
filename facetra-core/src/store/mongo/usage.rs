//! `UsageStore` and `RequestLogStore` on MongoDB.

use async_trait::async_trait;
use mongodb::bson::doc;

use super::{bdate, mongo_err, Mongo};
use crate::error::Result;
use crate::privacy::logs::{RequestLog, RequestLogStore};
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

#[async_trait]
impl RequestLogStore for Mongo {
    async fn insert_request_logs(&self, logs: &[RequestLog]) -> Result<()> {
        if logs.is_empty() {
            return Ok(());
        }
        let docs = logs.iter().map(|l| {
            let mut d = doc! {
                "at": bdate(l.at),
                "route": &l.route,
                "method": &l.method,
                "status": i32::from(l.status),
                "latency_ms": l.latency_ms as i64,
            };
            for (key, value) in [
                ("ip", &l.ip),
                ("user_agent", &l.user_agent),
                ("referrer", &l.referrer),
            ] {
                if let Some(v) = value {
                    d.insert(key, v.as_str());
                }
            }
            if let Some(u) = &l.user_id {
                d.insert("user_id", u.as_str());
            }
            d
        });
        self.request_logs()
            .insert_many(docs)
            .await
            .map_err(mongo_err)?;
        Ok(())
    }
}
