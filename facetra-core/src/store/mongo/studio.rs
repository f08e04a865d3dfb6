//! `StudioStore` in BSON.

use async_trait::async_trait;
use mongodb::bson::{doc, Document};

use super::{bdate, from_bdate, mongo_err, need, Mongo};
use crate::error::Result;
use crate::ids::{BlobId, UploadId, UserId};
use crate::studio::store::StudioStore;
use crate::studio::{Upload, UploadKind};

fn upload_from(d: &Document) -> Result<Upload> {
    Ok(Upload {
        id: UploadId::from_stored(need("_id", d.get_str("_id"))?.to_owned()),
        user_id: UserId::from_stored(need("user_id", d.get_str("user_id"))?.to_owned()),
        kind: UploadKind::parse(need("kind", d.get_str("kind"))?)?,
        mime: need("mime", d.get_str("mime"))?.to_owned(),
        width: need("width", d.get_i64("width"))? as u32,
        height: need("height", d.get_i64("height"))? as u32,
        size: need("size", d.get_i64("size"))? as u64,
        sha256: need("sha256", d.get_str("sha256"))?.to_owned(),
        blob_id: BlobId::from_stored(need("blob_id", d.get_str("blob_id"))?.to_owned()),
        created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
    })
}

#[async_trait]
impl StudioStore for Mongo {
    async fn insert_upload(&self, u: &Upload) -> Result<()> {
        self.uploads()
            .insert_one(doc! {
                "_id": u.id.as_str(),
                "user_id": u.user_id.as_str(),
                "kind": u.kind.as_str(),
                "mime": &u.mime,
                "width": i64::from(u.width),
                "height": i64::from(u.height),
                "size": u.size as i64,
                "sha256": &u.sha256,
                "blob_id": u.blob_id.as_str(),
                "created_at": bdate(u.created_at),
            })
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn upload(&self, owner: &UserId, id: &UploadId) -> Result<Option<Upload>> {
        self.uploads()
            .find_one(doc! { "_id": id.as_str(), "user_id": owner.as_str() })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(upload_from)
            .transpose()
    }
}
