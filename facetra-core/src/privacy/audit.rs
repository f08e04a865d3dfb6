//! The audit log: every admin and DPO action, append-only and hash-chained. Each entry holds
//! the hash of the one before it and a unique, contiguous `seq`, and the store moves a head
//! record (the last seq and its hash) in the same transaction as each append, so `verify`
//! notices an entry that was changed, inserted or removed, the last one included. Concurrent appends retry on a seq
//! conflict instead of forking the chain.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::Result;

/// What an action records: ids, field names and counts, never personal values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// `Actor::audit_label()` of who acted.
    pub actor: String,
    /// A dotted action name, e.g. `user.set_roles`.
    pub action: String,
    /// The id acted on, if any.
    pub target: Option<String>,
    /// Extra facts (ids, field names, counts) as a JSON object.
    pub details: serde_json::Value,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash the chain starts from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditEntry {
    /// Seals `new` as the entry after `prev` (or the first one).
    pub fn seal(prev: Option<(u64, &str)>, new: &NewAuditEntry, at: Timestamp) -> AuditEntry {
        let (seq, prev_hash) = match prev {
            Some((seq, hash)) => (seq + 1, hash.to_owned()),
            None => (1, GENESIS_HASH.to_owned()),
        };
        let mut entry = AuditEntry {
            seq,
            at,
            actor: new.actor.clone(),
            action: new.action.clone(),
            target: new.target.clone(),
            details: new.details.clone(),
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// The SHA-256 over every field but `hash`, in a fixed layout.
    pub fn compute_hash(&self) -> String {
        let canonical = format!(
            "facetra-audit-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.seq,
            self.at.timestamp_millis(),
            self.actor,
            self.action,
            self.target.as_deref().unwrap_or(""),
            serde_json::to_string(&self.details).unwrap_or_default(),
            self.prev_hash,
        );
        crate::security::sha256_hex(canonical.as_bytes())
    }
}

/// The last sealed position, kept beside the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: u64,
    pub hash: String,
}

/// Persistence for the audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Seals and appends an entry after the current last one, retrying on a seq conflict.
    async fn append_audit(&self, entry: &NewAuditEntry, at: Timestamp) -> Result<AuditEntry>;
    /// Entries with `seq > after`, ascending, at most `limit`.
    async fn audit_entries(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>>;
    /// The head record, if any entry was ever appended.
    async fn audit_head(&self) -> Result<Option<AuditHead>>;
}

/// Where the chain first breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// An entry's seq is not the one after its predecessor (one removed or inserted).
    Gap { expected: u64, found: u64 },
    /// An entry's own hash does not match its content (it was changed).
    Altered { seq: u64 },
    /// An entry does not point at its predecessor's hash.
    Unlinked { seq: u64 },
    /// The chain ends before the head record says it does (the last entries were removed).
    Truncated { head_seq: u64, last_seq: u64 },
    /// The entry at the head's seq is not the one the head recorded.
    HeadMismatch { seq: u64 },
    /// Entries from this seq on were never recorded by Facetra (the head ends before them).
    Unrecorded { seq: u64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Gap { expected, found } => write!(
                f,
                "entry {expected} is missing or out of place (found seq {found} where {expected} belongs)"
            ),
            ChainBreak::Altered { seq } => write!(f, "entry {seq} was changed after it was written"),
            ChainBreak::Unlinked { seq } => {
                write!(f, "entry {seq} does not follow the entry before it")
            }
            ChainBreak::Truncated { head_seq, last_seq } => write!(
                f,
                "entries after {last_seq} were removed (the log had reached {head_seq})"
            ),
            ChainBreak::HeadMismatch { seq } => {
                write!(f, "entry {seq} differs from the one recorded as the log's head")
            }
            ChainBreak::Unrecorded { seq } => {
                write!(f, "entry {seq} and any after it were added outside Facetra")
            }
        }
    }
}

impl ChainBreak {
    /// The seq of the first bad entry.
    pub fn seq(&self) -> u64 {
        match self {
            ChainBreak::Gap { expected, .. } => *expected,
            ChainBreak::Altered { seq }
            | ChainBreak::Unlinked { seq }
            | ChainBreak::HeadMismatch { seq }
            | ChainBreak::Unrecorded { seq } => *seq,
            ChainBreak::Truncated { last_seq, .. } => last_seq + 1,
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries: u64,
    pub first_break: Option<ChainBreak>,
}

/// Walks the whole chain in pages and reports the first break.
pub async fn verify(store: &dyn AuditStore) -> Result<Verification> {
    const PAGE: usize = 500;
    let head = store.audit_head().await?;
    let mut prev: Option<AuditEntry> = None;
    let mut count = 0u64;
    loop {
        let after = prev.as_ref().map_or(0, |p| p.seq);
        let page = store.audit_entries(after, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for entry in page {
            count += 1;
            let expected = prev.as_ref().map_or(1, |p| p.seq + 1);
            let broken = if entry.seq != expected {
                Some(ChainBreak::Gap {
                    expected,
                    found: entry.seq,
                })
            } else if entry.compute_hash() != entry.hash {
                Some(ChainBreak::Altered { seq: entry.seq })
            } else if entry.prev_hash != prev.as_ref().map_or(GENESIS_HASH, |p| p.hash.as_str()) {
                Some(ChainBreak::Unlinked { seq: entry.seq })
            } else if head
                .as_ref()
                .is_some_and(|h| h.seq == entry.seq && h.hash != entry.hash)
            {
                Some(ChainBreak::HeadMismatch { seq: entry.seq })
            } else {
                None
            };
            if broken.is_some() {
                return Ok(Verification {
                    entries: count,
                    first_break: broken,
                });
            }
            prev = Some(entry);
        }
    }
    let last_seq = prev.as_ref().map_or(0, |p| p.seq);
    let head_seq = head.map_or(0, |h| h.seq);
    let first_break = if head_seq > last_seq {
        Some(ChainBreak::Truncated { head_seq, last_seq })
    } else if last_seq > head_seq {
        Some(ChainBreak::Unrecorded { seq: head_seq + 1 })
    } else {
        None
    };
    Ok(Verification {
        entries: count,
        first_break,
    })
}
