//! The blob port: large binary objects (uploads, renders, exports) stored and read as streams,
//! so memory stays flat whatever their size. Blob ids are random and never shared between
//! users (no content deduplication: it would break erasure). Deleting a blob removes its bytes.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncRead;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{BlobId, UserId};

/// A readable blob body.
pub type BlobReader = Box<dyn AsyncRead + Send + Unpin>;

/// A blob's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobMeta {
    pub id: BlobId,
    pub owner: UserId,
    pub content_type: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub created_at: Timestamp,
}

/// Persistence for blobs.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Streams `body` into a new blob owned by `owner`.
    async fn put_blob(
        &self,
        owner: &UserId,
        content_type: &str,
        body: &mut (dyn AsyncRead + Send + Unpin),
        at: Timestamp,
    ) -> Result<BlobMeta>;
    /// Stores bytes already in memory (a render, a stripped upload) as a new blob: the same
    /// as `put_blob`, in fewer steps where the backend can take them at once.
    async fn put_blob_bytes(
        &self,
        owner: &UserId,
        content_type: &str,
        bytes: Vec<u8>,
        at: Timestamp,
    ) -> Result<BlobMeta> {
        let mut body: &[u8] = &bytes;
        self.put_blob(owner, content_type, &mut body, at).await
    }
    /// The blob's metadata and a stream of its bytes.
    async fn open_blob(&self, id: &BlobId) -> Result<Option<(BlobMeta, BlobReader)>>;
    /// The blob's bytes in memory (a provider's input); `None` when it is gone. The same as
    /// reading `open_blob` to the end, in fewer steps where the backend can.
    async fn read_blob_bytes(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        use tokio::io::AsyncReadExt;
        let Some((meta, mut reader)) = self.open_blob(id).await? else {
            return Ok(None);
        };
        let mut bytes = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0).min(64 << 20));
        reader.read_to_end(&mut bytes).await?;
        Ok(Some(bytes))
    }
    /// Removes the blob and its bytes; whether it existed.
    async fn delete_blob(&self, id: &BlobId) -> Result<bool>;
}

/// Copies `body` to `sink` in fixed-size pieces, hashing as it goes; returns (size, sha256).
pub(crate) async fn copy_hashing<W>(
    body: &mut (dyn AsyncRead + Send + Unpin),
    sink: &mut W,
) -> Result<(u64, String)>
where
    W: tokio::io::AsyncWrite + Unpin + ?Sized,
{
    use sha2::Digest;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = body.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        sink.write_all(&buf[..n]).await?;
        size += n as u64;
    }
    sink.flush().await?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// Overwrites a file's bytes with zeros, then unlinks it, so they do not linger in the free
/// blocks of simple file systems.
pub(crate) async fn shred(path: &std::path::Path, len: u64) -> Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::OpenOptions::new().write(true).open(path).await?;
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        file.write_all(&zeros[..n]).await?;
        left -= n as u64;
    }
    file.sync_all().await?;
    drop(file);
    tokio::fs::remove_file(path).await?;
    Ok(())
}
