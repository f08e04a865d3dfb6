//! `NomineeStore` in SQL: one row per user in `nominees`.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::{db_err, from_ms, ms, Sqlite};
use crate::accounts::Email;
use crate::error::Result;
use crate::ids::UserId;
use crate::privacy::nominee::{Nominee, NomineeStore};

#[async_trait]
impl NomineeStore for Sqlite {
    async fn set_nominee(&self, n: &Nominee) -> Result<()> {
        let n = n.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO nominees (user_id, name, email, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id) DO UPDATE SET name = ?2, email = ?3, created_at = ?4",
                params![
                    n.user_id.as_str(),
                    n.name,
                    n.email.as_str(),
                    ms(n.created_at)
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn nominee(&self, user: &UserId) -> Result<Option<Nominee>> {
        let user = user.as_str().to_owned();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT user_id, name, email, created_at FROM nominees WHERE user_id = ?1",
            )
            .map_err(db_err)?
            .query_row([user], |r| {
                Ok(Nominee {
                    user_id: UserId::from_stored(r.get(0)?),
                    name: r.get(1)?,
                    email: Email::from_stored(r.get(2)?),
                    created_at: from_ms(r.get(3)?),
                })
            })
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn clear_nominee(&self, user: &UserId) -> Result<bool> {
        let user = user.as_str().to_owned();
        self.call(move |c| {
            Ok(c.execute("DELETE FROM nominees WHERE user_id = ?1", [user])
                .map_err(db_err)?
                > 0)
        })
        .await
    }
}
