//! `OnboardingStore` in SQL: one `signups` table for the waitlist and demo bookings.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::{db_err, from_ms, ms, Sqlite};
use crate::accounts::Email;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{SignupId, UserId};
use crate::onboarding::store::OnboardingStore;
use crate::onboarding::{Signup, SignupKind, SignupStatus};
use crate::paging::{Cursor, Page, PageRequest};

const COLUMNS: &str =
    "id, kind, name, email, company, role, message, status, user_id, created_at, decided_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(Signup, String, String, String)> {
    Ok((
        Signup {
            id: SignupId::from_stored(r.get(0)?),
            kind: SignupKind::Waitlist,
            name: r.get(2)?,
            email: Email::from_stored(r.get(3)?),
            company: r.get(4)?,
            role: r.get(5)?,
            message: r.get(6)?,
            status: SignupStatus::Pending,
            user_id: r.get::<_, Option<String>>(8)?.map(UserId::from_stored),
            created_at: from_ms(r.get(9)?),
            decided_at: r.get::<_, Option<i64>>(10)?.map(from_ms),
        },
        r.get(1)?,
        r.get(7)?,
        r.get(0)?,
    ))
}

fn finish((mut s, kind, status, id): (Signup, String, String, String)) -> Result<Signup> {
    s.kind = SignupKind::parse(&kind)
        .ok_or_else(|| Error::Corrupt(format!("sign-up {id}: kind {kind:?}")))?;
    s.status = SignupStatus::parse(&status)
        .map_err(|_| Error::Corrupt(format!("sign-up {id}: status {status:?}")))?;
    Ok(s)
}

fn one(c: &rusqlite::Connection, id: &str) -> Result<Option<Signup>> {
    c.prepare_cached(&format!("SELECT {COLUMNS} FROM signups WHERE id = ?1"))
        .map_err(db_err)?
        .query_row([id], from_row)
        .optional()
        .map_err(db_err)?
        .map(finish)
        .transpose()
}

#[async_trait]
impl OnboardingStore for Sqlite {
    async fn insert_signup(&self, s: &Signup) -> Result<()> {
        let s = s.clone();
        self.call(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO signups ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ),
                params![
                    s.id.as_str(),
                    s.kind.as_str(),
                    s.name,
                    s.email.as_str(),
                    s.company,
                    s.role,
                    s.message,
                    s.status.as_str(),
                    s.user_id.as_ref().map(|u| u.as_str().to_owned()),
                    ms(s.created_at),
                    s.decided_at.map(ms)
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn signup(&self, id: &SignupId) -> Result<Option<Signup>> {
        let id = id.as_str().to_owned();
        self.read(move |c| one(c, &id)).await
    }

    async fn pending_signup(&self, kind: SignupKind, email: &Email) -> Result<Option<Signup>> {
        let email = email.as_str().to_owned();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM signups WHERE kind = ?1 AND email = ?2 AND status = 'pending'
                 ORDER BY created_at DESC LIMIT 1"
            ))
            .map_err(db_err)?
            .query_row(params![kind.as_str(), email], from_row)
            .optional()
            .map_err(db_err)?
            .map(finish)
            .transpose()
        })
        .await
    }

    async fn signups(
        &self,
        kind: SignupKind,
        status: Option<SignupStatus>,
        page: &PageRequest,
    ) -> Result<Page<Signup>> {
        let page = page.clone();
        self.read(move |c| {
            let (at, id) = super::jobs::after(&page);
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM signups WHERE kind = ?1 AND (?2 IS NULL OR status = ?2)
                       AND (created_at < ?3 OR (created_at = ?3 AND id < ?4))
                     ORDER BY created_at DESC, id DESC LIMIT ?5"
                ))
                .map_err(db_err)?;
            let rows = stmt
                .query_map(
                    params![
                        kind.as_str(),
                        status.map(SignupStatus::as_str),
                        at,
                        id,
                        (page.limit + 1) as i64
                    ],
                    from_row,
                )
                .map_err(db_err)?;
            let items = rows
                .map(|r| finish(r.map_err(db_err)?))
                .collect::<Result<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |s| Cursor {
                created_at: s.created_at,
                id: s.id.to_string(),
            }))
        })
        .await
    }

    async fn approve_signup(&self, id: &SignupId, at: Timestamp) -> Result<Option<Signup>> {
        let id = id.as_str().to_owned();
        self.call(move |c| {
            let n = c
                .execute(
                    "UPDATE signups SET status = 'approved', decided_at = ?2
                     WHERE id = ?1 AND status = 'pending'",
                    params![id, ms(at)],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Ok(None);
            }
            one(c, &id)
        })
        .await
    }

    async fn invited(&self, email: &Email) -> Result<bool> {
        let email = email.as_str().to_owned();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT count(*) FROM signups
                 WHERE kind = 'waitlist' AND email = ?1 AND status IN ('approved', 'joined')",
            )
            .map_err(db_err)?
            .query_row([email], |r| r.get::<_, i64>(0))
            .map(|n| n > 0)
            .map_err(db_err)
        })
        .await
    }

    async fn link_signups(&self, email: &Email, user: &UserId, at: Timestamp) -> Result<u64> {
        let (email, user) = (email.as_str().to_owned(), user.as_str().to_owned());
        self.call(move |c| {
            let n = c
                .execute(
                    "UPDATE signups SET user_id = ?2,
                       status = CASE status WHEN 'approved' THEN 'joined' ELSE status END,
                       decided_at = CASE status WHEN 'approved' THEN ?3 ELSE decided_at END
                     WHERE email = ?1",
                    params![email, user, ms(at)],
                )
                .map_err(db_err)?;
            Ok(n as u64)
        })
        .await
    }
}
