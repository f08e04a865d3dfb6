//! Accounts: users, sessions, API tokens, the local owner, and who may act on whom. It owns
//! every authentication decision; it never stores a raw token, only its SHA-256, and never
//! puts an email or a name into a log line or an audit entry.

pub mod google;
pub(crate) mod service;
mod signin;
pub mod staff;
pub mod store;

pub use service::{Access, Accounts, DevLogin, InitOutcome, NewOwner, Principal};
pub use signin::{safe_return_to, Callback, CallbackOutcome, SignInStart};
pub use staff::{Staff, StaffOp};

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{SessionId, TokenId, UserId};
use crate::security::TokenHash;

/// An email address, trimmed and lower-cased; only plausible addresses parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses and normalises an address.
    pub fn parse(raw: &str) -> Result<Email> {
        let e = raw.trim().to_lowercase();
        let valid = e.len() <= 254
            && e.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            })
            && !e.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err(Error::invalid("email", "is not a valid email address"));
        }
        Ok(Email(e))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn from_stored(s: String) -> Email {
        Email(s)
    }
}

/// A display name: trimmed, 1–100 characters, no control characters.
pub fn parse_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "must be 1 to 100 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

/// What an account may do beyond its own data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Support,
    Dpo,
    Admin,
}

impl Role {
    /// Every role, in order.
    pub const ALL: [Role; 4] = [Role::User, Role::Support, Role::Dpo, Role::Admin];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Support => "support",
            Role::Dpo => "dpo",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name.
    pub fn parse(s: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "role",
                    format!("unknown role {s:?}; use user, support, dpo or admin"),
                )
            })
    }
}

/// The sorted, de-duplicated role list every account has; `user` is always in it.
pub fn normalise_roles(roles: impl IntoIterator<Item = Role>) -> Vec<Role> {
    let mut all: Vec<Role> = roles.into_iter().chain([Role::User]).collect();
    all.sort();
    all.dedup();
    all
}

/// Where an account is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    ErasurePending,
    Erased,
}

impl UserStatus {
    /// The status's name.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::ErasurePending => "erasure_pending",
            UserStatus::Erased => "erased",
        }
    }

    /// Parses a stored status.
    pub fn parse(s: &str) -> Result<UserStatus> {
        match s {
            "active" => Ok(UserStatus::Active),
            "erasure_pending" => Ok(UserStatus::ErasurePending),
            "erased" => Ok(UserStatus::Erased),
            other => Err(Error::Corrupt(format!("unknown user status {other:?}"))),
        }
    }
}

/// One consent: off until the user opts in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub granted: bool,
    pub at: Option<Timestamp>,
    pub notice_version: Option<String>,
    pub method: Option<String>,
}

/// The consents an account can give.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consents {
    pub analytics: Consent,
    pub marketing: Consent,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub avatar_url: Option<String>,
    pub google_subject: Option<String>,
    pub roles: Vec<Role>,
    pub status: UserStatus,
    pub consents: Consents,
    /// When the person confirmed they are 18 or older (no account without it).
    pub age_confirmed_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl User {
    /// Whether the account holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// A signed-in session. The token itself is never stored: only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub token_hash: TokenHash,
    pub created_at: Timestamp,
    /// The absolute end of the session.
    pub expires_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// What an API token may do: `read` (every `GET`) or `write` as well (renders, payments,
/// changes). A session may do both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    /// Every scope, in order.
    pub const ALL: [Scope; 2] = [Scope::Read, Scope::Write];

    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    /// Parses a scope name.
    pub fn parse(s: &str) -> Result<Scope> {
        Scope::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                Error::invalid("scopes", format!("unknown scope {s:?}; use read or write"))
            })
    }
}

/// The sorted scope list a token holds: `write` brings `read` with it, and none means both
/// (what the command line needs to work).
pub fn normalise_scopes(scopes: impl IntoIterator<Item = Scope>) -> Vec<Scope> {
    let mut all: Vec<Scope> = scopes.into_iter().collect();
    if all.is_empty() || all.contains(&Scope::Write) {
        all.push(Scope::Read);
        all.push(Scope::Write);
    }
    all.sort();
    all.dedup();
    all
}

/// A named API token for the CLI's remote mode. Stored as a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    #[serde(skip)]
    pub token_hash: Option<TokenHash>,
    pub scopes: Vec<Scope>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A browser's Google sign-in in progress (the pre-sign-in session, DESIGN §4): what the
/// callback needs besides what its cookie derives (state, nonce, PKCE verifier). It names no
/// one, and lives until used or `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInAttempt {
    pub id: String,
    pub token_hash: TokenHash,
    /// A local path, already made safe.
    pub return_to: String,
    pub age_confirmed: bool,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The local studio: who owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub owner_id: UserId,
    pub created_at: Timestamp,
}

/// Who is asking; every core operation checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user, acting on their own data.
    User(UserId),
    /// A signed-in user as this request's authentication has just read them (active then):
    /// core takes the account from here instead of reading it again (`Principal::actor`).
    Signed(Arc<User>),
    /// A staff member (support, DPO, admin) acting with the roles the store gives them; only
    /// core makes one (`Accounts::staff`).
    Staff(Staff),
    /// The system itself (workers, schedulers, local set-up, the first admin's bootstrap).
    System,
}

impl Actor {
    /// The user acting on their own data, if the actor is one.
    pub fn user_id(&self) -> Option<&UserId> {
        match self {
            Actor::User(id) => Some(id),
            Actor::Signed(user) => Some(&user.id),
            Actor::Staff(_) | Actor::System => None,
        }
    }

    /// How the actor is named in the audit log: ids only, never an email or a name.
    pub fn audit_label(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::Signed(user) => format!("user:{}", user.id),
            Actor::Staff(s) => format!("staff:{}", s.id()),
            Actor::System => "system".into(),
        }
    }
}
