//! The ledger port: one atomic append (balance and key checked together), reads by account.

use async_trait::async_trait;

use super::{Appended, LedgerEntry, NewLedgerEntry};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::UserId;
use crate::paging::{Page, PageRequest};

/// Persistence for the credit ledger.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Appends `entry` unless its key was used (then returns the first result) or the balance
    /// would fall below zero (`InsufficientCredits`). A used key with a different account, kind
    /// or amount is a `Conflict`.
    async fn append_ledger(&self, entry: &NewLedgerEntry, at: Timestamp) -> Result<Appended>;
    /// The account's balance (0 without entries).
    async fn balance(&self, user: &UserId) -> Result<i64>;
    /// The entry written under `key`, if any.
    async fn ledger_entry_by_key(&self, key: &str) -> Result<Option<LedgerEntry>>;
    /// The account's entries, newest first, keyset-paged.
    async fn ledger_page(&self, user: &UserId, page: &PageRequest) -> Result<Page<LedgerEntry>>;
    /// The account's entries with `seq > after`, oldest first, at most `limit`.
    async fn ledger_entries(
        &self,
        user: &UserId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>>;
    /// Accounts that have a ledger, in id order, after `after`, at most `limit`.
    async fn ledger_accounts(&self, after: Option<&UserId>, limit: usize) -> Result<Vec<UserId>>;
}
