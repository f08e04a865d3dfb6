//! The messages port: threads, each stored whole.

use async_trait::async_trait;

use super::{Thread, ThreadFilter};
use crate::error::Result;
use crate::ids::ThreadId;
use crate::paging::{Page, PageRequest};

/// Persistence for message threads.
#[async_trait]
pub trait ThreadStore: Send + Sync {
    async fn insert_thread(&self, thread: &Thread) -> Result<()>;
    async fn thread(&self, id: &ThreadId) -> Result<Option<Thread>>;
    /// Replaces a thread (its replies and status).
    async fn update_thread(&self, thread: &Thread) -> Result<()>;
    /// Threads, newest first.
    async fn threads(&self, filter: &ThreadFilter, page: &PageRequest) -> Result<Page<Thread>>;
}
