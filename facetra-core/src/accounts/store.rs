//! The accounts port: users, sessions, API tokens and the instance record, as the use cases
//! need them. Each method is atomic; uniqueness (email, Google subject, token hash) is enforced
//! by the store and reported as `Error::Conflict`.

use async_trait::async_trait;

use super::{ApiToken, Consents, Email, Instance, Role, Session, SignInAttempt, User};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{SessionId, TokenId, UserId};
use crate::paging::{Page, PageRequest};
use crate::security::TokenHash;

/// What `create_instance` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceCreated {
    /// The owner was inserted and named in the new instance record.
    Created,
    /// An instance already existed; nothing was written.
    Exists(Instance),
}

/// Persistence for accounts.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Inserts a new user; `Conflict` when the email or Google subject is taken.
    async fn insert_user(&self, user: &User) -> Result<()>;
    /// Renames an active account; the account after, or `None` when it is not active (an
    /// erasure that began meanwhile wins) or does not exist.
    async fn set_name_if_active(
        &self,
        id: &UserId,
        name: &str,
        at: Timestamp,
    ) -> Result<Option<User>>;
    /// Replaces an active account's roles; the account after, or `None` when it is not active.
    async fn set_roles_if_active(
        &self,
        id: &UserId,
        roles: &[Role],
        at: Timestamp,
    ) -> Result<Option<User>>;
    /// Links an active account that has no Google subject yet to `subject` (and its picture,
    /// when there is one); the account after, or `None` when it is not active or is linked
    /// already. A subject another account holds is a `Conflict`.
    async fn link_google_if_unlinked(
        &self,
        id: &UserId,
        subject: &str,
        avatar_url: Option<&str>,
        at: Timestamp,
    ) -> Result<Option<User>>;
    /// Replaces an active account's consents; the account after, or `None` when not active.
    async fn set_consents_if_active(
        &self,
        id: &UserId,
        consents: &Consents,
        at: Timestamp,
    ) -> Result<Option<User>>;
    /// Moves an active account to `erasure_pending`; false when it was not active. From then
    /// on no targeted update above can touch it.
    async fn mark_erasure_pending(&self, id: &UserId, at: Timestamp) -> Result<bool>;
    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>>;
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>>;
    async fn user_by_google_subject(&self, subject: &str) -> Result<Option<User>>;
    /// Whether an active account holds the `admin` role.
    async fn has_admin(&self) -> Result<bool>;
    /// Users, newest first, keyset-paged on (created_at, id).
    async fn list_users(&self, page: &PageRequest) -> Result<Page<User>>;

    /// Inserts the owner and the instance record naming it, atomically, unless an instance
    /// exists already.
    async fn create_instance(&self, owner: &User) -> Result<InstanceCreated>;
    async fn instance(&self) -> Result<Option<Instance>>;

    async fn insert_session(&self, session: &Session) -> Result<()>;
    async fn session_by_token(&self, hash: &TokenHash) -> Result<Option<Session>>;
    /// The session with this token hash and its account, in one read (the hot path of every
    /// signed-in request).
    async fn session_and_user(&self, hash: &TokenHash) -> Result<Option<(Session, User)>>;
    /// Records activity; callers write it at most once a minute.
    async fn touch_session(&self, id: &SessionId, at: Timestamp) -> Result<()>;
    /// Deletes the session with this token hash; whether one existed.
    async fn delete_session(&self, hash: &TokenHash) -> Result<bool>;
    /// Deletes every session of a user; how many.
    async fn delete_user_sessions(&self, user: &UserId) -> Result<u64>;
    /// Deletes sessions past their absolute end or idle since `idle_before`; how many.
    async fn purge_sessions(&self, now: Timestamp, idle_before: Timestamp) -> Result<u64>;

    /// Stores a pre-sign-in session, and drops those that expired before `attempt` began.
    async fn insert_sign_in_attempt(&self, attempt: &SignInAttempt) -> Result<()>;
    /// Deletes and returns the pre-sign-in session with this cookie hash, in one step: a second
    /// call for the same cookie finds nothing (single use).
    async fn take_sign_in_attempt(&self, hash: &TokenHash) -> Result<Option<SignInAttempt>>;

    async fn insert_api_token(&self, token: &ApiToken) -> Result<()>;
    /// The API token with this hash and its account, in one read (every bearer request).
    async fn api_token_and_user(&self, hash: &TokenHash) -> Result<Option<(ApiToken, User)>>;
    async fn list_api_tokens(&self, user: &UserId) -> Result<Vec<ApiToken>>;
    async fn touch_api_token(&self, id: &TokenId, at: Timestamp) -> Result<()>;
    /// Deletes a user's token; false when it is not theirs or does not exist.
    async fn delete_api_token(&self, user: &UserId, id: &TokenId) -> Result<bool>;
}
