//! The studio port (uploads so far).

use async_trait::async_trait;

use super::Upload;
use crate::error::Result;
use crate::ids::{UploadId, UserId};

/// Persistence for the studio.
#[async_trait]
pub trait StudioStore: Send + Sync {
    async fn insert_upload(&self, upload: &Upload) -> Result<()>;
    /// The upload, only if it belongs to `owner`.
    async fn upload(&self, owner: &UserId, id: &UploadId) -> Result<Option<Upload>>;
}
