//! `StudioStore` in SQL.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::{db_err, from_ms, ms, Sqlite};
use crate::error::Result;
use crate::ids::{BlobId, UploadId, UserId};
use crate::studio::store::StudioStore;
use crate::studio::{Upload, UploadKind};

#[async_trait]
impl StudioStore for Sqlite {
    async fn insert_upload(&self, u: &Upload) -> Result<()> {
        let u = u.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO uploads (id, user_id, kind, mime, width, height, size, sha256, blob_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    u.id.as_str(),
                    u.user_id.as_str(),
                    u.kind.as_str(),
                    u.mime,
                    u.width,
                    u.height,
                    u.size as i64,
                    u.sha256,
                    u.blob_id.as_str(),
                    ms(u.created_at)
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn upload(&self, owner: &UserId, id: &UploadId) -> Result<Option<Upload>> {
        let (owner, id) = (owner.as_str().to_owned(), id.as_str().to_owned());
        self.read(move |c| {
            let row = c
                .query_row(
                    "SELECT id, user_id, kind, mime, width, height, size, sha256, blob_id, created_at
                     FROM uploads WHERE id = ?1 AND user_id = ?2",
                    params![id, owner],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, u32>(4)?,
                            r.get::<_, u32>(5)?,
                            r.get::<_, i64>(6)?,
                            r.get::<_, String>(7)?,
                            r.get::<_, String>(8)?,
                            r.get::<_, i64>(9)?,
                        ))
                    },
                )
                .optional()
                .map_err(db_err)?;
            row.map(|(id, user, kind, mime, width, height, size, sha256, blob, at)| {
                Ok(Upload {
                    id: UploadId::from_stored(id),
                    user_id: UserId::from_stored(user),
                    kind: UploadKind::parse(&kind)?,
                    mime,
                    width,
                    height,
                    size: size as u64,
                    sha256,
                    blob_id: BlobId::from_stored(blob),
                    created_at: from_ms(at),
                })
            })
            .transpose()
        })
        .await
    }
}
