//! `PortfolioStore` in SQL (the ordered render ids as a JSON array).

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::{db_err, from_ms, ms, Sqlite};
use crate::error::{Error, Result};
use crate::ids::{PortfolioId, RenderId, UserId};
use crate::paging::{Cursor, Page, PageRequest};
use crate::studio::portfolios::{Portfolio, PortfolioStore};

const COLUMNS: &str = "id, user_id, name, render_ids, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(Portfolio, String)> {
    Ok((
        Portfolio {
            id: PortfolioId::from_stored(r.get(0)?),
            user_id: UserId::from_stored(r.get(1)?),
            name: r.get(2)?,
            render_ids: vec![],
            created_at: from_ms(r.get(4)?),
            updated_at: from_ms(r.get(5)?),
        },
        r.get(3)?,
    ))
}

fn finish((mut p, ids): (Portfolio, String)) -> Result<Portfolio> {
    let ids: Vec<String> = serde_json::from_str(&ids)
        .map_err(|e| Error::Corrupt(format!("portfolio {}: {e}", p.id)))?;
    p.render_ids = ids.into_iter().map(RenderId::from_stored).collect();
    Ok(p)
}

fn ids_json(p: &Portfolio) -> String {
    serde_json::to_string(&p.render_ids).unwrap_or_else(|_| "[]".into())
}

#[async_trait]
impl PortfolioStore for Sqlite {
    async fn insert_portfolio(&self, p: &Portfolio) -> Result<()> {
        let p = p.clone();
        self.call(move |c| {
            c.execute(
                &format!("INSERT INTO portfolios ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![
                    p.id.as_str(),
                    p.user_id.as_str(),
                    p.name,
                    ids_json(&p),
                    ms(p.created_at),
                    ms(p.updated_at)
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn portfolio(&self, owner: &UserId, id: &PortfolioId) -> Result<Option<Portfolio>> {
        let (owner, id) = (owner.as_str().to_owned(), id.as_str().to_owned());
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM portfolios WHERE id = ?1 AND user_id = ?2"),
                params![id, owner],
                from_row,
            )
            .optional()
            .map_err(db_err)?
            .map(finish)
            .transpose()
        })
        .await
    }

    async fn portfolios(&self, owner: &UserId, page: &PageRequest) -> Result<Page<Portfolio>> {
        let (owner, page) = (owner.as_str().to_owned(), page.clone());
        self.read(move |c| {
            let (at, id) = super::jobs::after(&page);
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM portfolios WHERE user_id = ?1
                       AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))
                     ORDER BY created_at DESC, id DESC LIMIT ?4"
                ))
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![owner, at, id, (page.limit + 1) as i64], from_row)
                .map_err(db_err)?;
            let items = rows
                .map(|r| finish(r.map_err(db_err)?))
                .collect::<Result<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |p| Cursor {
                created_at: p.created_at,
                id: p.id.to_string(),
            }))
        })
        .await
    }

    async fn update_portfolio(&self, p: &Portfolio) -> Result<bool> {
        let p = p.clone();
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE portfolios SET name = ?3, render_ids = ?4, updated_at = ?5 WHERE id = ?1 AND user_id = ?2",
                params![p.id.as_str(), p.user_id.as_str(), p.name, ids_json(&p), ms(p.updated_at)],
            )
            .map_err(db_err)?
                > 0)
        })
        .await
    }

    async fn delete_portfolio(&self, owner: &UserId, id: &PortfolioId) -> Result<bool> {
        let (owner, id) = (owner.as_str().to_owned(), id.as_str().to_owned());
        self.call(move |c| {
            Ok(c.execute(
                "DELETE FROM portfolios WHERE id = ?1 AND user_id = ?2",
                params![id, owner],
            )
            .map_err(db_err)?
                > 0)
        })
        .await
    }
}
