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
}

impl UsageType {
    pub fn as_str(self) -> &'static str {
        match self {
            UsageType::FeatureUsed => "feature_used",
            UsageType::Generation => "generation",
            UsageType::CreditTransaction => "credit_transaction",
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
    pub feature: Feature,
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
