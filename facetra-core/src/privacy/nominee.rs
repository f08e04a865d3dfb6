//! Nominees (DPDP Act s.14): a user names one person who may exercise the user's rights in the
//! event of their death or incapacity. The nominee's request reaches the DPO by email, is
//! opened on the user's behalf (`dsr open --on-behalf-of`), and is verified by override once
//! the DPO has seen proof; it is then answered like the user's own.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Privacy;
use crate::accounts::Email;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::Actor;

/// The person a user named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nominee {
    pub user_id: UserId,
    pub name: String,
    pub email: Email,
    pub created_at: Timestamp,
}

/// Persistence for nominees: at most one per user.
#[async_trait]
pub trait NomineeStore: Send + Sync {
    /// Names (or replaces) the user's nominee.
    async fn set_nominee(&self, nominee: &Nominee) -> Result<()>;
    async fn nominee(&self, user: &UserId) -> Result<Option<Nominee>>;
    /// Removes the user's nominee; whether there was one.
    async fn clear_nominee(&self, user: &UserId) -> Result<bool>;
}

impl Privacy<'_> {
    /// Names the signed-in user's nominee (replacing any earlier one). Audited without the
    /// nominee's name or address.
    pub async fn set_nominee(&self, actor: &Actor, name: &str, email: &str) -> Result<Nominee> {
        let user = self.f.accounts().me(actor).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.contains('\0') {
            return Err(Error::invalid(
                "name",
                "give the nominee's name (at most 200 characters)",
            ));
        }
        let email = Email::parse(email)?;
        if email == user.email {
            return Err(Error::invalid(
                "email",
                "is your own address; a nominee is someone else, who acts if you cannot",
            ));
        }
        let nominee = Nominee {
            user_id: user.id.clone(),
            name: name.to_owned(),
            email,
            created_at: self.f.now(),
        };
        self.f.store().nominees.set_nominee(&nominee).await?;
        self.f
            .audit_record(
                actor,
                "privacy.nominee_set",
                Some(user.id.as_str()),
                json!({}),
            )
            .await?;
        Ok(nominee)
    }

    /// The signed-in user's nominee, if they named one.
    pub async fn my_nominee(&self, actor: &Actor) -> Result<Option<Nominee>> {
        let user = self.f.accounts().me(actor).await?;
        self.f.store().nominees.nominee(&user.id).await
    }

    /// Removes the signed-in user's nominee.
    pub async fn clear_nominee(&self, actor: &Actor) -> Result<bool> {
        let user = self.f.accounts().me(actor).await?;
        let removed = self.f.store().nominees.clear_nominee(&user.id).await?;
        if removed {
            self.f
                .audit_record(
                    actor,
                    "privacy.nominee_clear",
                    Some(user.id.as_str()),
                    json!({}),
                )
                .await?;
        }
        Ok(removed)
    }
}
