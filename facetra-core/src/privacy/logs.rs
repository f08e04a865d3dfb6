//! Request logs: who asked for what, when, and how it went — IP, user agent, the referring
//! origin, the route template (never a query string or an id), status, latency and the
//! signed-in user. The server writes them off the request path in batches; the process log
//! carries none of these personal fields, so the store is the one place they live and the
//! retention rules reach all of them (90 days, then anonymised).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::UserId;

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLog {
    pub at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// `scheme://host[:port]` of the `Referer`, never its path.
    pub referrer: Option<String>,
    /// The route template (`/v1/renders/{id}`), never the path as sent.
    pub route: String,
    pub method: String,
    pub status: u16,
    pub latency_ms: u64,
    pub user_id: Option<UserId>,
}

/// Persistence for request logs.
#[async_trait]
pub trait RequestLogStore: Send + Sync {
    /// Stores a batch in one write.
    async fn insert_request_logs(&self, logs: &[RequestLog]) -> Result<()>;
}
