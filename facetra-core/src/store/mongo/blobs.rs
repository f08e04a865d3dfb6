//! `BlobStore` in GridFS (bucket `blobs`, the standard `blobs.files` / `blobs.chunks` layout).
//! Uploads go through the driver's upload stream (one chunk buffered at a time). Downloads read
//! one chunk per query rather than through the driver's download stream, whose cursor batches
//! would hold up to 16 MB of chunks in memory. Deleting removes the file document and every
//! chunk.

use async_trait::async_trait;
use bytes::Bytes;
use futures::io::AsyncWriteExt as _;
use mongodb::bson::{doc, Bson, Document};
use mongodb::gridfs::GridFsBucket;
use mongodb::options::GridFsBucketOptions;
use tokio::io::AsyncRead;
use tokio_util::compat::FuturesAsyncWriteCompatExt;

use super::{bdate, from_bdate, mongo_err, need, Mongo};
use crate::blobs::{copy_hashing, BlobMeta, BlobReader, BlobStore};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{BlobId, UserId};

const BUCKET: &str = "blobs";

impl Mongo {
    fn bucket(&self) -> GridFsBucket {
        self.db.gridfs_bucket(
            GridFsBucketOptions::builder()
                .bucket_name(BUCKET.to_owned())
                .build(),
        )
    }

    fn files(&self) -> mongodb::Collection<Document> {
        self.db.collection("blobs.files")
    }

    fn chunks(&self) -> mongodb::Collection<Document> {
        self.db.collection("blobs.chunks")
    }
}

fn meta_from(d: &Document) -> Result<BlobMeta> {
    let m = need("metadata", d.get_document("metadata"))?;
    Ok(BlobMeta {
        id: BlobId::from_stored(need("_id", d.get_str("_id"))?.to_owned()),
        owner: UserId::from_stored(need("owner", m.get_str("owner"))?.to_owned()),
        content_type: need("content_type", m.get_str("content_type"))?.to_owned(),
        size: match d.get("length") {
            Some(Bson::Int64(n)) => *n as u64,
            Some(Bson::Int32(n)) => *n as u64,
            _ => return Err(Error::Corrupt("a GridFS file has no length".into())),
        },
        sha256: m.get_str("sha256").unwrap_or_default().to_owned(),
        created_at: from_bdate(*need("created_at", m.get_datetime("created_at"))?),
    })
}

#[async_trait]
impl BlobStore for Mongo {
    async fn put_blob(
        &self,
        owner: &UserId,
        content_type: &str,
        body: &mut (dyn AsyncRead + Send + Unpin),
        at: Timestamp,
    ) -> Result<BlobMeta> {
        let id = BlobId::new();
        let upload = self
            .bucket()
            .open_upload_stream(id.as_str())
            .id(Bson::String(id.to_string()))
            .metadata(doc! { "owner": owner.as_str(), "content_type": content_type, "created_at": bdate(at) })
            .await
            .map_err(mongo_err)?;
        let mut sink = upload.compat_write();
        let (size, sha256) = match copy_hashing(body, &mut sink).await {
            Ok(done) => done,
            Err(e) => {
                let _ = sink.into_inner().abort().await;
                return Err(e);
            }
        };
        let mut upload = sink.into_inner();
        upload
            .close()
            .await
            .map_err(|e| Error::Unavailable(format!("GridFS upload: {e}")))?;
        self.files()
            .update_one(
                doc! { "_id": id.as_str() },
                doc! { "$set": { "metadata.sha256": &sha256 } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(BlobMeta {
            id,
            owner: owner.clone(),
            content_type: content_type.to_owned(),
            size,
            sha256,
            created_at: at,
        })
    }

    async fn open_blob(&self, id: &BlobId) -> Result<Option<(BlobMeta, BlobReader)>> {
        let Some(file) = self
            .files()
            .find_one(doc! { "_id": id.as_str() })
            .await
            .map_err(mongo_err)?
        else {
            return Ok(None);
        };
        let meta = meta_from(&file)?;
        let chunk_size = match file.get("chunkSize") {
            Some(Bson::Int32(n)) => *n as u64,
            Some(Bson::Int64(n)) => *n as u64,
            _ => return Err(Error::Corrupt("a GridFS file has no chunkSize".into())),
        };
        let chunk_count = meta.size.div_ceil(chunk_size.max(1)) as i32;
        let chunks = self.chunks();
        let file_id = id.to_string();
        let stream = futures::stream::unfold(0i32, move |n| {
            let chunks = chunks.clone();
            let file_id = file_id.clone();
            async move {
                if n >= chunk_count {
                    return None;
                }
                let item = match chunks.find_one(doc! { "files_id": &file_id, "n": n }).await {
                    Ok(Some(chunk)) => match chunk.get_binary_generic("data") {
                        Ok(data) => Ok(Bytes::copy_from_slice(data)),
                        Err(_) => Err(std::io::Error::other(format!(
                            "GridFS chunk {n} has no data"
                        ))),
                    },
                    Ok(None) => Err(std::io::Error::other(format!(
                        "GridFS chunk {n} is missing"
                    ))),
                    Err(e) => Err(std::io::Error::other(format!(
                        "GridFS chunk {n}: {}",
                        e.kind
                    ))),
                };
                Some((item, n + 1))
            }
        });
        let reader = tokio_util::io::StreamReader::new(Box::pin(stream));
        Ok(Some((meta, Box::new(reader))))
    }

    async fn delete_blob(&self, id: &BlobId) -> Result<bool> {
        let existed = self
            .files()
            .find_one(doc! { "_id": id.as_str() })
            .await
            .map_err(mongo_err)?
            .is_some();
        if existed {
            if let Err(e) = self.bucket().delete(Bson::String(id.to_string())).await {
                if !matches!(*e.kind, mongodb::error::ErrorKind::GridFs(_)) {
                    return Err(mongo_err(e));
                }
            }
        }
        // Chunks of an upload that never finished have no file document: remove them too.
        let orphans = self
            .chunks()
            .delete_many(doc! { "files_id": id.as_str() })
            .await
            .map_err(mongo_err)?;
        Ok(existed || orphans.deleted_count > 0)
    }
}
