//! Ports that fail on purpose: a real port wrapped so that its next calls fail as if the store
//! were unreachable, to show that a temporary failure is retried and never mistaken for a
//! permanent one.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use facetra_core::blobs::{BlobMeta, BlobReader, BlobStore};
use facetra_core::ids::{BlobId, UserId};
use facetra_core::{Error, Facetra, Result, Timestamp};
use tokio::io::AsyncRead;

/// The blob port, whose next `failures` reads fail with `Unavailable`.
pub struct FlakyBlobs {
    inner: Arc<dyn BlobStore>,
    failures: AtomicU32,
}

impl FlakyBlobs {
    /// `facetra` with its blob port wrapped; the wrapper, to arm it.
    pub fn wrap(facetra: &Facetra) -> (Facetra, Arc<FlakyBlobs>) {
        let flaky = Arc::new(FlakyBlobs {
            inner: facetra.store().blobs.clone(),
            failures: AtomicU32::new(0),
        });
        let mut store = facetra.store().clone();
        store.blobs = flaky.clone();
        (facetra.with_store(store), flaky)
    }

    /// Fails the next `n` reads.
    pub fn fail_next(&self, n: u32) {
        self.failures.store(n, Ordering::SeqCst);
    }

    fn failing(&self) -> bool {
        self.failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

#[async_trait]
impl BlobStore for FlakyBlobs {
    async fn put_blob(
        &self,
        owner: &UserId,
        content_type: &str,
        body: &mut (dyn AsyncRead + Send + Unpin),
        at: Timestamp,
    ) -> Result<BlobMeta> {
        self.inner.put_blob(owner, content_type, body, at).await
    }

    async fn open_blob(&self, id: &BlobId) -> Result<Option<(BlobMeta, BlobReader)>> {
        if self.failing() {
            return Err(Error::Unavailable(
                "the blob store is down (on purpose)".into(),
            ));
        }
        self.inner.open_blob(id).await
    }

    async fn delete_blob(&self, id: &BlobId) -> Result<bool> {
        self.inner.delete_blob(id).await
    }
}
