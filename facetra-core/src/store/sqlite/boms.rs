//! `BomStore` in SQL: a version is inserted only if the latest is the one the edit was based
//! on, checked in the same IMMEDIATE transaction.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::{db_err, from_ms, ms, Sqlite};
use crate::error::{Error, Result};
use crate::ids::{RenderId, UserId};
use crate::paging::{Page, PageRequest};
use crate::studio::bom::{version_after, version_cursor, Bom, BomSource, BomStore};

fn from_row(r: &Row<'_>) -> rusqlite::Result<(Bom, String, String)> {
    Ok((
        Bom {
            render_id: RenderId::from_stored(r.get(0)?),
            version: r.get(1)?,
            user_id: UserId::from_stored(r.get(2)?),
            source: BomSource::User,
            items: vec![],
            updated_at: from_ms(r.get(5)?),
        },
        r.get(3)?,
        r.get(4)?,
    ))
}

fn finish((mut b, source, items): (Bom, String, String)) -> Result<Bom> {
    b.source = serde_json::from_value(serde_json::Value::String(source))
        .map_err(|e| Error::Corrupt(e.to_string()))?;
    b.items =
        serde_json::from_str(&items).map_err(|e| Error::Corrupt(format!("BOM items: {e}")))?;
    Ok(b)
}

const COLUMNS: &str = "render_id, version, user_id, source, items, updated_at";

#[async_trait]
impl BomStore for Sqlite {
    async fn save_bom(&self, bom: &Bom, based_on: i64) -> Result<()> {
        let bom = bom.clone();
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let latest: i64 = tx
                .query_row(
                    "SELECT COALESCE(MAX(version), 0) FROM boms WHERE render_id = ?1",
                    [bom.render_id.as_str()],
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            if latest != based_on {
                return Err(Error::StaleVersion(based_on));
            }
            let source = serde_json::to_value(bom.source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            tx.execute(
                &format!("INSERT INTO boms ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![
                    bom.render_id.as_str(),
                    based_on + 1,
                    bom.user_id.as_str(),
                    source,
                    serde_json::to_string(&bom.items)
                        .map_err(|e| Error::Internal(e.to_string()))?,
                    ms(bom.updated_at)
                ],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn bom(&self, render: &RenderId) -> Result<Option<Bom>> {
        let render = render.as_str().to_owned();
        self.read(move |c| {
            c.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM boms WHERE render_id = ?1 ORDER BY version DESC LIMIT 1"
                ),
                [render],
                from_row,
            )
            .optional()
            .map_err(db_err)?
            .map(finish)
            .transpose()
        })
        .await
    }

    async fn bom_history(&self, render: &RenderId, page: &PageRequest) -> Result<Page<Bom>> {
        let (render, page) = (render.as_str().to_owned(), page.clone());
        self.read(move |c| {
            let below = version_after(&page)?;
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM boms WHERE render_id = ?1 AND version < ?2
                     ORDER BY version DESC LIMIT ?3"
                ))
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![render, below, (page.limit + 1) as i64], from_row)
                .map_err(db_err)?;
            let items = rows
                .map(|r| finish(r.map_err(db_err)?))
                .collect::<Result<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, version_cursor))
        })
        .await
    }
}
