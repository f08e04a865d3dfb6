//! Payments through Razorpay: orders and checkout verification for the web app, payment links
//! for the terminal, webhooks for both. A pack is credited exactly once per order or link (ledger
//! key `purchase:{our payment id}`), whatever mix of verify calls, webhook deliveries, link polls
//! and even second captured payments arrives; a refund takes back only what its payment
//! credited. Only our payment id, Razorpay's order, link and payment ids, amount,
//! status, pack and owning user are stored: the payer's name, email, phone and method that
//! Razorpay sends are dropped before anything is written.

pub mod razorpay;
mod service;
pub mod store;

pub use service::{CheckoutResult, LinkView, OrderCreated, Payments};

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{PaymentId, UserId};

/// How the payment was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    /// A Razorpay order paid through Checkout (the web app).
    Order,
    /// A payment link (the terminal).
    Link,
}

impl PaymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentKind::Order => "order",
            PaymentKind::Link => "link",
        }
    }

    pub fn parse(s: &str) -> Result<PaymentKind> {
        match s {
            "order" => Ok(PaymentKind::Order),
            "link" => Ok(PaymentKind::Link),
            other => Err(Error::Corrupt(format!("unknown payment kind {other:?}"))),
        }
    }
}

/// Where a payment is; it only ever moves forward (`rank`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Created,
    Pending,
    Failed,
    Expired,
    Cancelled,
    Captured,
    Credited,
    Refunded,
}

impl PaymentStatus {
    const ALL: [PaymentStatus; 8] = [
        PaymentStatus::Created,
        PaymentStatus::Pending,
        PaymentStatus::Failed,
        PaymentStatus::Expired,
        PaymentStatus::Cancelled,
        PaymentStatus::Captured,
        PaymentStatus::Credited,
        PaymentStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Created => "created",
            PaymentStatus::Pending => "pending",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Expired => "expired",
            PaymentStatus::Cancelled => "cancelled",
            PaymentStatus::Captured => "captured",
            PaymentStatus::Credited => "credited",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Result<PaymentStatus> {
        PaymentStatus::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| Error::Corrupt(format!("unknown payment status {s:?}")))
    }

    /// The order of states: a payment moves only to a higher rank. A failed attempt can still
    /// be followed by a captured one; nothing goes back from credited.
    pub fn rank(self) -> i64 {
        match self {
            PaymentStatus::Created => 0,
            PaymentStatus::Pending => 1,
            PaymentStatus::Failed | PaymentStatus::Expired | PaymentStatus::Cancelled => 2,
            PaymentStatus::Captured => 3,
            PaymentStatus::Credited => 4,
            PaymentStatus::Refunded => 5,
        }
    }
}

/// Our record of a payment: nothing about the payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: PaymentId,
    pub user_id: UserId,
    pub pack_id: String,
    pub credits: i64,
    pub amount_paise: i64,
    pub currency: String,
    pub kind: PaymentKind,
    /// Razorpay's `order_…` (orders we created).
    pub order_id: Option<String>,
    /// Razorpay's `plink_…` and its URL (payment links).
    pub link_id: Option<String>,
    pub link_url: Option<String>,
    /// Razorpay's `pay_…` once known.
    pub razorpay_payment_id: Option<String>,
    pub status: PaymentStatus,
    /// Credits taken back by refunds.
    pub credits_refunded: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
