//! `AccountStore` in SQL.

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::{db_err, from_ms, ms, Sqlite};
use crate::accounts::store::{AccountStore, InstanceCreated};
use crate::accounts::{
    ApiToken, Consents, Email, Instance, Role, Scope, Session, SignInAttempt, User, UserStatus,
};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{SessionId, TokenId, UserId};
use crate::paging::{Cursor, Page, PageRequest};
use crate::security::TokenHash;

const USER_COLUMNS: &str = "id, email, name, avatar_url, google_subject, roles, status, consents, \
                            age_confirmed_at, created_at, updated_at";

/// A user row with the columns that still need parsing: roles, status, consents.
type UserRow = (User, String, String, String);

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    user_at(r, 0)
}

/// A user whose `USER_COLUMNS` start at column `at` of the row.
fn user_at(r: &Row<'_>, at: usize) -> rusqlite::Result<UserRow> {
    let roles: String = r.get(at + 5)?;
    let consents: String = r.get(at + 7)?;
    let status: String = r.get(at + 6)?;
    Ok((
        User {
            id: UserId::from_stored(r.get(at)?),
            email: Email::from_stored(r.get(at + 1)?),
            name: r.get(at + 2)?,
            avatar_url: r.get(at + 3)?,
            google_subject: r.get(at + 4)?,
            roles: Vec::new(),
            status: UserStatus::Active,
            consents: Default::default(),
            age_confirmed_at: from_ms(r.get(at + 8)?),
            created_at: from_ms(r.get(at + 9)?),
            updated_at: from_ms(r.get(at + 10)?),
        },
        roles,
        status,
        consents,
    ))
}

fn finish_user((mut user, roles, status, consents): UserRow) -> Result<User> {
    user.roles = roles
        .split(',')
        .filter(|r| !r.is_empty())
        .map(Role::parse)
        .collect::<Result<_>>()?;
    user.status = UserStatus::parse(&status)?;
    user.consents = serde_json::from_str(&consents)
        .map_err(|e| Error::Corrupt(format!("consents of {}: {e}", user.id)))?;
    Ok(user)
}

fn roles_text(user: &User) -> String {
    user.roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn consents_text(user: &User) -> Result<String> {
    serde_json::to_string(&user.consents).map_err(|e| Error::Internal(e.to_string()))
}

fn insert_user_tx(c: &rusqlite::Connection, u: &User) -> Result<()> {
    c.execute(
        &format!("INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
        params![
            u.id.as_str(),
            u.email.as_str(),
            u.name,
            u.avatar_url,
            u.google_subject,
            roles_text(u),
            u.status.as_str(),
            consents_text(u)?,
            ms(u.age_confirmed_at),
            ms(u.created_at),
            ms(u.updated_at)
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

fn one_user(c: &rusqlite::Connection, column: &str, value: &str) -> Result<Option<User>> {
    c.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE {column} = ?1"
    ))
    .map_err(db_err)?
    .query_row([value], user_from_row)
    .optional()
    .map_err(db_err)?
    .map(finish_user)
    .transpose()
}

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: SessionId::from_stored(r.get(0)?),
        user_id: UserId::from_stored(r.get(1)?),
        token_hash: TokenHash(r.get(2)?),
        created_at: from_ms(r.get(3)?),
        expires_at: from_ms(r.get(4)?),
        last_seen_at: from_ms(r.get(5)?),
    })
}

fn token_from_row(r: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: TokenId::from_stored(r.get(0)?),
        user_id: UserId::from_stored(r.get(1)?),
        name: r.get(2)?,
        token_hash: Some(TokenHash(r.get(3)?)),
        created_at: from_ms(r.get(4)?),
        expires_at: from_ms(r.get(5)?),
        last_used_at: r.get::<_, Option<i64>>(6)?.map(from_ms),
        scopes: scopes_from(&r.get::<_, String>(7)?),
    })
}

/// Scopes are stored as their names joined by commas; an unknown name grants nothing.
fn scopes_from(stored: &str) -> Vec<Scope> {
    stored
        .split(',')
        .filter_map(|s| Scope::parse(s).ok())
        .collect()
}

fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

const TOKEN_COLUMNS: &str =
    "id, user_id, name, token_hash, created_at, expires_at, last_used_at, scopes";

#[async_trait]
impl AccountStore for Sqlite {
    async fn insert_user(&self, user: &User) -> Result<()> {
        let user = user.clone();
        self.call(move |c| insert_user_tx(c, &user)).await
    }

    async fn set_name_if_active(
        &self,
        id: &UserId,
        name: &str,
        at: Timestamp,
    ) -> Result<Option<User>> {
        let (id, name) = (id.as_str().to_owned(), name.to_owned());
        self.call(move |c| {
            c.execute(
                "UPDATE users SET name = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'active'",
                params![id, name, ms(at)],
            )
            .map_err(db_err)?;
            Ok(one_user(c, "id", &id)?.filter(|u| u.status == UserStatus::Active))
        })
        .await
    }

    async fn set_consents_if_active(
        &self,
        id: &UserId,
        consents: &Consents,
        at: Timestamp,
    ) -> Result<Option<User>> {
        let id = id.as_str().to_owned();
        let text = serde_json::to_string(consents).map_err(|e| Error::Internal(e.to_string()))?;
        self.call(move |c| {
            let n = c
                .execute(
                    "UPDATE users SET consents = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'active'",
                    params![id, text, ms(at)],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Ok(None);
            }
            one_user(c, "id", &id)
        })
        .await
    }

    async fn link_google_if_unlinked(
        &self,
        id: &UserId,
        subject: &str,
        avatar_url: Option<&str>,
        at: Timestamp,
    ) -> Result<Option<User>> {
        let (id, subject, avatar) = (
            id.as_str().to_owned(),
            subject.to_owned(),
            avatar_url.map(str::to_owned),
        );
        self.call(move |c| {
            let n = c
                .execute(
                    "UPDATE users SET google_subject = ?2, avatar_url = coalesce(?3, avatar_url),
                     updated_at = ?4
                     WHERE id = ?1 AND status = 'active' AND google_subject IS NULL",
                    params![id, subject, avatar, ms(at)],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Ok(None);
            }
            one_user(c, "id", &id)
        })
        .await
    }

    async fn set_roles_if_active(
        &self,
        id: &UserId,
        roles: &[Role],
        at: Timestamp,
    ) -> Result<Option<User>> {
        let id = id.as_str().to_owned();
        let roles = roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",");
        self.call(move |c| {
            let n = c
                .execute(
                    "UPDATE users SET roles = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'active'",
                    params![id, roles, ms(at)],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Ok(None);
            }
            one_user(c, "id", &id)
        })
        .await
    }

    async fn mark_erasure_pending(&self, id: &UserId, at: Timestamp) -> Result<bool> {
        let id = id.as_str().to_owned();
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE users SET status = 'erasure_pending', updated_at = ?2
                 WHERE id = ?1 AND status = 'active'",
                params![id, ms(at)],
            )
            .map_err(db_err)?
                > 0)
        })
        .await
    }

    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>> {
        let id = id.as_str().to_owned();
        self.read(move |c| one_user(c, "id", &id)).await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let email = email.as_str().to_owned();
        self.read(move |c| one_user(c, "email", &email)).await
    }

    async fn user_by_google_subject(&self, subject: &str) -> Result<Option<User>> {
        let subject = subject.to_owned();
        self.read(move |c| one_user(c, "google_subject", &subject))
            .await
    }

    async fn has_admin(&self) -> Result<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT 1 FROM users WHERE status = 'active' AND (',' || roles || ',') LIKE '%,admin,%' LIMIT 1",
                [],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(db_err)
        })
        .await
    }

    async fn list_users(&self, page: &PageRequest) -> Result<Page<User>> {
        let page = page.clone();
        self.read(move |c| {
            let (after_at, after_id) = match &page.after {
                Some(cur) => (ms(cur.created_at), cur.id.clone()),
                None => (i64::MAX, String::new()),
            };
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {USER_COLUMNS} FROM users
                     WHERE created_at < ?1 OR (created_at = ?1 AND id < ?2)
                     ORDER BY created_at DESC, id DESC LIMIT ?3"
                ))
                .map_err(db_err)?;
            let after_id = if page.after.is_some() {
                after_id
            } else {
                "\u{10FFFF}".to_owned()
            };
            let rows = stmt
                .query_map(
                    params![after_at, after_id, (page.limit + 1) as i64],
                    user_from_row,
                )
                .map_err(db_err)?;
            let mut users = Vec::new();
            for row in rows {
                users.push(finish_user(row.map_err(db_err)?)?);
            }
            Ok(Page::from_overfetch(users, page.limit, |u| Cursor {
                created_at: u.created_at,
                id: u.id.to_string(),
            }))
        })
        .await
    }

    async fn create_instance(&self, owner: &User) -> Result<InstanceCreated> {
        let owner = owner.clone();
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            if let Some(existing) = instance_tx(&tx)? {
                return Ok(InstanceCreated::Exists(existing));
            }
            insert_user_tx(&tx, &owner)?;
            tx.execute(
                "INSERT INTO instance (id, owner_id, created_at) VALUES (1, ?1, ?2)",
                params![owner.id.as_str(), ms(owner.created_at)],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(InstanceCreated::Created)
        })
        .await
    }

    async fn instance(&self) -> Result<Option<Instance>> {
        self.read(instance_tx).await
    }

    async fn insert_session(&self, s: &Session) -> Result<()> {
        let s = s.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    s.id.as_str(),
                    s.user_id.as_str(),
                    s.token_hash.0,
                    ms(s.created_at),
                    ms(s.expires_at),
                    ms(s.last_seen_at)
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn session_by_token(&self, hash: &TokenHash) -> Result<Option<Session>> {
        let hash = hash.0.clone();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id, user_id, token_hash, created_at, expires_at, last_seen_at
                 FROM sessions WHERE token_hash = ?1",
            )
            .map_err(db_err)?
            .query_row([hash], session_from_row)
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn session_and_user(&self, hash: &TokenHash) -> Result<Option<(Session, User)>> {
        /// Built once: the statement cache is keyed by the text.
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let users = USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "SELECT s.id, s.user_id, s.token_hash, s.created_at, s.expires_at, s.last_seen_at,
                        {users}
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1"
            )
        });
        let hash = hash.0.clone();
        self.read(move |c| {
            c.prepare_cached(&SQL)
                .map_err(db_err)?
                .query_row([hash], |r| Ok((session_from_row(r)?, user_at(r, 6)?)))
                .optional()
                .map_err(db_err)?
                .map(|(session, user)| Ok((session, finish_user(user)?)))
                .transpose()
        })
        .await
    }

    async fn api_token_and_user(&self, hash: &TokenHash) -> Result<Option<(ApiToken, User)>> {
        /// Built once: the statement cache is keyed by the text.
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let prefixed = |columns: &str, table: &str| {
                columns
                    .split(", ")
                    .map(|c| format!("{table}.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!(
                "SELECT {}, {} FROM api_tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.token_hash = ?1",
                prefixed(TOKEN_COLUMNS, "t"),
                prefixed(USER_COLUMNS, "u")
            )
        });
        let hash = hash.0.clone();
        self.read(move |c| {
            c.prepare_cached(&SQL)
                .map_err(db_err)?
                .query_row([hash], |r| Ok((token_from_row(r)?, user_at(r, 8)?)))
                .optional()
                .map_err(db_err)?
                .map(|(token, user)| Ok((token, finish_user(user)?)))
                .transpose()
        })
        .await
    }

    async fn touch_session(&self, id: &SessionId, at: Timestamp) -> Result<()> {
        let id = id.as_str().to_owned();
        self.call(move |c| {
            c.execute(
                "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1",
                params![id, ms(at)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_session(&self, hash: &TokenHash) -> Result<bool> {
        let hash = hash.0.clone();
        self.call(move |c| {
            Ok(
                c.execute("DELETE FROM sessions WHERE token_hash = ?1", [hash])
                    .map_err(db_err)?
                    > 0,
            )
        })
        .await
    }

    async fn delete_user_sessions(&self, user: &UserId) -> Result<u64> {
        let user = user.as_str().to_owned();
        self.call(move |c| {
            Ok(c.execute("DELETE FROM sessions WHERE user_id = ?1", [user])
                .map_err(db_err)? as u64)
        })
        .await
    }

    async fn purge_sessions(&self, now: Timestamp, idle_before: Timestamp) -> Result<u64> {
        self.call(move |c| {
            Ok(c.execute(
                "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at < ?2",
                params![ms(now), ms(idle_before)],
            )
            .map_err(db_err)? as u64)
        })
        .await
    }

    async fn insert_sign_in_attempt(&self, a: &SignInAttempt) -> Result<()> {
        let a = a.clone();
        self.call(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            tx.execute(
                "DELETE FROM sign_in_attempts WHERE expires_at <= ?1",
                [ms(a.created_at)],
            )
            .map_err(db_err)?;
            tx.execute(
                "INSERT INTO sign_in_attempts
                 (id, token_hash, return_to, age_confirmed, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    a.id,
                    a.token_hash.0,
                    a.return_to,
                    a.age_confirmed,
                    ms(a.created_at),
                    ms(a.expires_at)
                ],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    async fn take_sign_in_attempt(&self, hash: &TokenHash) -> Result<Option<SignInAttempt>> {
        let hash = hash.0.clone();
        self.call(move |c| {
            c.query_row(
                "DELETE FROM sign_in_attempts WHERE token_hash = ?1
                 RETURNING id, token_hash, return_to, age_confirmed, created_at, expires_at",
                [hash],
                |r| {
                    Ok(SignInAttempt {
                        id: r.get(0)?,
                        token_hash: TokenHash(r.get(1)?),
                        return_to: r.get(2)?,
                        age_confirmed: r.get(3)?,
                        created_at: from_ms(r.get(4)?),
                        expires_at: from_ms(r.get(5)?),
                    })
                },
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn insert_api_token(&self, t: &ApiToken) -> Result<()> {
        let t = t.clone();
        self.call(move |c| {
            let hash = t
                .token_hash
                .as_ref()
                .ok_or_else(|| Error::Internal("an API token needs its hash".into()))?;
            c.execute(
                &format!(
                    "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ),
                params![
                    t.id.as_str(),
                    t.user_id.as_str(),
                    t.name,
                    hash.0,
                    ms(t.created_at),
                    ms(t.expires_at),
                    t.last_used_at.map(ms),
                    scopes_text(&t.scopes)
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn list_api_tokens(&self, user: &UserId) -> Result<Vec<ApiToken>> {
        let user = user.as_str().to_owned();
        self.read(move |c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = ?1
                     ORDER BY created_at DESC, id DESC"
                ))
                .map_err(db_err)?;
            let rows = stmt.query_map([user], token_from_row).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn touch_api_token(&self, id: &TokenId, at: Timestamp) -> Result<()> {
        let id = id.as_str().to_owned();
        self.call(move |c| {
            c.execute(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
                params![id, ms(at)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_api_token(&self, user: &UserId, id: &TokenId) -> Result<bool> {
        let (user, id) = (user.as_str().to_owned(), id.as_str().to_owned());
        self.call(move |c| {
            Ok(c.execute(
                "DELETE FROM api_tokens WHERE id = ?1 AND user_id = ?2",
                params![id, user],
            )
            .map_err(db_err)?
                > 0)
        })
        .await
    }
}

fn instance_tx(c: &rusqlite::Connection) -> Result<Option<Instance>> {
    c.query_row(
        "SELECT owner_id, created_at FROM instance WHERE id = 1",
        [],
        |r| {
            Ok(Instance {
                owner_id: UserId::from_stored(r.get(0)?),
                created_at: from_ms(r.get(1)?),
            })
        },
    )
    .optional()
    .map_err(db_err)
}
