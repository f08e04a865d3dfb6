//! Usage analytics: which features a person uses, how many renders they make, their credit
//! transactions, counted. An event holds only the user id, its type, the feature (a fixed
//! name, never text from the person), a count and the time: never a prompt, an image or a
//! render id. Nothing is recorded for an account without analytics consent (DESIGN §4).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::accounts::{Actor, User};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::UserId;
use crate::Facetra;

/// What kind of thing was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageType {
    FeatureUsed,
    Generation,
    CreditTransaction,
    /// A page of the web app was shown (`POST /v1/events`).
    PageView,
}

impl UsageType {
    pub fn as_str(self) -> &'static str {
        match self {
            UsageType::FeatureUsed => "feature_used",
            UsageType::Generation => "generation",
            UsageType::CreditTransaction => "credit_transaction",
            UsageType::PageView => "page_view",
        }
    }
}

/// The features counted: fixed names only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    Upload,
    Render,
    Bom,
    Purchase,
}

impl Feature {
    pub fn as_str(self) -> &'static str {
        match self {
            Feature::Upload => "upload",
            Feature::Render => "render",
            Feature::Bom => "bom",
            Feature::Purchase => "purchase",
        }
    }
}

/// One counted event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageEvent {
    pub id: String,
    pub user_id: UserId,
    pub kind: UsageType,
    /// A feature's fixed name, or for a page view the page's path as a route (ids and the
    /// query string stripped).
    pub feature: String,
    pub count: i64,
    pub at: Timestamp,
}

/// Persistence for usage events.
#[async_trait]
pub trait UsageStore: Send + Sync {
    async fn insert_usage_event(&self, event: &UsageEvent) -> Result<()>;
}

/// Usage analytics, borrowed from the facade.
pub struct Usage<'a> {
    pub(crate) f: &'a Facetra,
}

impl Usage<'_> {
    /// Counts `count` of `feature` for `user`, only if they consented to analytics. A failure
    /// to store it is logged, never the caller's failure: analytics must not break a render.
    pub async fn record(&self, user: &User, kind: UsageType, feature: Feature, count: i64) {
        self.store(user, kind, feature.as_str().to_owned(), count)
            .await;
    }

    async fn store(&self, user: &User, kind: UsageType, feature: String, count: i64) {
        if !user.consents.analytics.granted {
            return;
        }
        let event = UsageEvent {
            id: crate::ids::random("use"),
            user_id: user.id.clone(),
            kind,
            feature,
            count,
            at: self.f.now(),
        };
        if let Err(e) = self.f.store().usage.insert_usage_event(&event).await {
            tracing::warn!(error = %e, "a usage event could not be stored");
        }
    }

    /// The same for the actor, when it is a signed-in user (read once if core has only its
    /// id); staff and the system are not counted.
    pub async fn record_for(&self, actor: &Actor, kind: UsageType, feature: Feature, count: i64) {
        match actor {
            Actor::Signed(user) => self.record(user, kind, feature, count).await,
            Actor::User(id) => {
                if let Ok(Some(user)) = self.f.store().accounts.user_by_id(id).await {
                    self.record(&user, kind, feature, count).await;
                }
            }
            Actor::Staff(_) | Actor::System => {}
        }
    }
}

/// The event types the web app may send (`POST /v1/events`).
pub const EVENT_TYPES: &[&str] = &["page_view"];

/// A page's path as it is stored: the query string and fragment dropped, every segment that
/// is an id (`rnd_…`, a number, a long token) or not a plain word replaced by `{id}`, at most
/// 8 segments. So no render id, prompt or search text is ever kept.
pub fn page_route(path: &str) -> Result<String> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with('/') || path.len() > 512 {
        return Err(crate::error::Error::invalid(
            "path",
            "give the page's path, starting with / (at most 512 characters)",
        ));
    }
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 24
            && !s.contains('_')
            && s.chars().all(|c| c.is_ascii_lowercase() || c == '-')
    };
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .take(8)
        .map(|s| if plain(s) { s } else { "{id}" })
        .collect();
    Ok(format!("/{}", segments.join("/")))
}

impl Usage<'_> {
    /// A page view from the web app: `kind` must be one of [`EVENT_TYPES`]; stored only for
    /// an account with analytics consent (otherwise accepted and dropped), its path reduced to
    /// a route by [`page_route`].
    pub async fn event(&self, actor: &Actor, kind: &str, path: &str) -> Result<()> {
        if !EVENT_TYPES.contains(&kind) {
            return Err(crate::error::Error::invalid(
                "type",
                format!("{kind:?} is not one of {}", EVENT_TYPES.join(", ")),
            ));
        }
        let route = page_route(path)?;
        let user = self.f.accounts().me(actor).await?;
        self.store(&user, UsageType::PageView, route, 1).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_keeps_its_route_and_never_its_query_or_ids() {
        assert_eq!(page_route("/studio?prompt=oak+table").unwrap(), "/studio");
        assert_eq!(
            page_route("/renders/rnd_01hx5q0000abcdefghjkmnpqrs/bom#x").unwrap(),
            "/renders/{id}/bom"
        );
        assert_eq!(page_route("/portfolios/42").unwrap(), "/portfolios/{id}");
        assert_eq!(page_route("/search/Oak Table").unwrap(), "/search/{id}");
        assert_eq!(page_route("/").unwrap(), "/");
        assert!(page_route("studio").is_err());
    }
}
