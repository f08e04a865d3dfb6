//! The onboarding port: waitlist entries and demo bookings.

use async_trait::async_trait;

use super::{Signup, SignupKind, SignupStatus};
use crate::accounts::Email;
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{SignupId, UserId};
use crate::paging::{Page, PageRequest};

/// Persistence for sign-ups.
#[async_trait]
pub trait OnboardingStore: Send + Sync {
    async fn insert_signup(&self, signup: &Signup) -> Result<()>;
    async fn signup(&self, id: &SignupId) -> Result<Option<Signup>>;
    /// The entry of `kind` for `email` that is still pending, if there is one.
    async fn pending_signup(&self, kind: SignupKind, email: &Email) -> Result<Option<Signup>>;
    /// Entries of `kind`, newest first, only those with `status` when given.
    async fn signups(
        &self,
        kind: SignupKind,
        status: Option<SignupStatus>,
        page: &PageRequest,
    ) -> Result<Page<Signup>>;
    /// Moves a pending entry to approved; the entry after, or `None` when it was not pending.
    async fn approve_signup(&self, id: &SignupId, at: Timestamp) -> Result<Option<Signup>>;
    /// Whether an approved (or joined) waitlist entry exists for `email`: an invitation.
    async fn invited(&self, email: &Email) -> Result<bool>;
    /// Ties every entry for `email` to the account `user` (approved ones become joined); how
    /// many.
    async fn link_signups(&self, email: &Email, user: &UserId, at: Timestamp) -> Result<u64>;
}
