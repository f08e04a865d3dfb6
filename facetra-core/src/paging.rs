//! Paging, shared by every port: lists are newest first with keyset paging on
//! (`created_at`, `id`); the cursor handed to clients is opaque (base64url of the last
//! position); the default limit is 50, the maximum 100. It sits below the domains and the
//! adapters, so both import it and neither imports the other.

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, Result};

/// A request for one page of a newest-first list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Resume after this position.
    pub after: Option<Cursor>,
    /// At most this many items (1–100, default 50).
    pub limit: usize,
}

impl PageRequest {
    /// The default and maximum page sizes.
    pub const DEFAULT_LIMIT: usize = 50;
    pub const MAX_LIMIT: usize = 100;

    /// A request from an opaque cursor string and an optional limit.
    pub fn parse(cursor: Option<&str>, limit: Option<usize>) -> Result<PageRequest> {
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if limit == 0 || limit > Self::MAX_LIMIT {
            return Err(Error::invalid("limit", "must be between 1 and 100"));
        }
        let after = cursor
            .filter(|c| !c.is_empty())
            .map(Cursor::decode)
            .transpose()?;
        Ok(PageRequest { after, limit })
    }

    /// The first page with the default limit.
    pub fn first() -> PageRequest {
        PageRequest {
            after: None,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// A position in a list: the (created_at, id) of the last item seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub created_at: Timestamp,
    pub id: String,
}

impl Cursor {
    /// The opaque form handed to clients (base64url of the position).
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// Parses the opaque form.
    pub fn decode(s: &str) -> Result<Cursor> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| Error::invalid("cursor", "is not a cursor this server handed out"))
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched items.
    pub fn from_overfetch(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> Cursor) -> Page<T> {
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(key)
        } else {
            None
        };
        Page { items, next }
    }
}
