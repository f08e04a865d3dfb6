//! `BlobStore` on the file system: one file per blob under `blobs/<2 chars>/<id>`, written to a
//! temporary name and renamed, with its metadata in the `blobs` table. Deleting overwrites the
//! file with zeros before unlinking it, then drops the row.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};
use tokio::io::AsyncRead;

use super::{db_err, from_ms, ms, Sqlite};
use crate::blobs::{copy_hashing, BlobMeta, BlobReader, BlobStore};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{BlobId, UserId};

/// Writes a blob file from bytes in memory: a private temporary file, synced, then renamed
/// into place. Runs on the blocking pool.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(u64, String)> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        crate::private_fs::private_dir(dir)?;
    }
    let partial = path.with_extension("partial");
    let written = crate::private_fs::create_private_sync(&partial).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&partial, path)) {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    Ok((bytes.len() as u64, crate::security::sha256_hex(bytes)))
}

/// Streams a blob file from `body` the same way, a chunk at a time.
async fn stream(path: &Path, body: &mut (dyn AsyncRead + Send + Unpin)) -> Result<(u64, String)> {
    if let Some(dir) = path.parent() {
        crate::private_fs::private_dir(dir)?;
    }
    let partial = path.with_extension("partial");
    let mut file = crate::private_fs::create_private(&partial).await?;
    let copied = copy_hashing(body, &mut file).await;
    let done = match copied {
        Ok(done) => done,
        Err(e) => {
            drop(file);
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
    };
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&partial, path).await?;
    Ok(done)
}

impl Sqlite {
    fn blob_path(&self, id: &BlobId) -> PathBuf {
        let tail = id.as_str().trim_start_matches("blb_");
        self.blob_dir
            .join(&tail[..2.min(tail.len())])
            .join(id.as_str())
    }

    /// The blob's row.
    async fn blob_meta(&self, id: &BlobId) -> Result<Option<BlobMeta>> {
        let key = id.as_str().to_owned();
        self.read(move |c| {
                c.query_row(
                    "SELECT id, owner_id, content_type, size, sha256, created_at FROM blobs WHERE id = ?1",
                    [key],
                    |r| {
                        Ok(BlobMeta {
                            id: BlobId::from_stored(r.get(0)?),
                            owner: UserId::from_stored(r.get(1)?),
                            content_type: r.get(2)?,
                            size: r.get::<_, i64>(3)? as u64,
                            sha256: r.get(4)?,
                            created_at: from_ms(r.get(5)?),
                        })
                    },
                )
                .optional()
                .map_err(db_err)
            })
            .await
    }

    /// Records a blob whose file is in place, `(size, sha256)` as written; removes the file if
    /// the row cannot be written.
    async fn record_blob(
        &self,
        id: BlobId,
        owner: &UserId,
        content_type: &str,
        (size, sha256): (u64, String),
        at: Timestamp,
    ) -> Result<BlobMeta> {
        let path = self.blob_path(&id);
        let meta = BlobMeta {
            id,
            owner: owner.clone(),
            content_type: content_type.to_owned(),
            size,
            sha256,
            created_at: at,
        };
        let row = meta.clone();
        let inserted = self
            .call(move |c| {
                c.execute(
                    "INSERT INTO blobs (id, owner_id, content_type, size, sha256, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        row.id.as_str(),
                        row.owner.as_str(),
                        row.content_type,
                        row.size as i64,
                        row.sha256,
                        ms(row.created_at)
                    ],
                )
                .map_err(db_err)
            })
            .await;
        if let Err(e) = inserted {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e);
        }
        Ok(meta)
    }
}

#[async_trait]
impl BlobStore for Sqlite {
    async fn put_blob(
        &self,
        owner: &UserId,
        content_type: &str,
        body: &mut (dyn AsyncRead + Send + Unpin),
        at: Timestamp,
    ) -> Result<BlobMeta> {
        let id = BlobId::new();
        let written = stream(&self.blob_path(&id), body).await?;
        self.record_blob(id, owner, content_type, written, at).await
    }

    async fn put_blob_bytes(
        &self,
        owner: &UserId,
        content_type: &str,
        bytes: Vec<u8>,
        at: Timestamp,
    ) -> Result<BlobMeta> {
        let id = BlobId::new();
        let path = self.blob_path(&id);
        let written = tokio::task::spawn_blocking(move || write_whole(&path, &bytes))
            .await
            .map_err(|e| Error::Internal(format!("writing a blob panicked: {e}")))??;
        self.record_blob(id, owner, content_type, written, at).await
    }

    async fn open_blob(&self, id: &BlobId) -> Result<Option<(BlobMeta, BlobReader)>> {
        let Some(meta) = self.blob_meta(id).await? else {
            return Ok(None);
        };
        match tokio::fs::File::open(self.blob_path(id)).await {
            Ok(file) => Ok(Some((meta, Box::new(file)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn read_blob_bytes(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        if self.blob_meta(id).await?.is_none() {
            return Ok(None);
        }
        match tokio::fs::read(self.blob_path(id)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete_blob(&self, id: &BlobId) -> Result<bool> {
        let path = self.blob_path(id);
        let file_existed = match tokio::fs::metadata(&path).await {
            Ok(meta) => {
                crate::blobs::shred(&path, meta.len()).await?;
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(e.into()),
        };
        let key = id.as_str().to_owned();
        let row_existed = self
            .call(move |c| {
                Ok(c.execute("DELETE FROM blobs WHERE id = ?1", [key])
                    .map_err(db_err)?
                    > 0)
            })
            .await?;
        Ok(file_existed || row_existed)
    }
}
