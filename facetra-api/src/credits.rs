//! Packs, balances, the ledger and payments.

use facetra_core::credits::{LedgerEntry, LedgerKind};
use facetra_core::payments::{LinkView, OrderCreated};
use facetra_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A pack on sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pack {
    pub id: String,
    pub name: String,
    pub credits: i64,
    pub price_paise: i64,
    pub currency: String,
}

impl From<&facetra_core::credits::Pack> for Pack {
    fn from(p: &facetra_core::credits::Pack) -> Self {
        Pack {
            id: p.id.clone(),
            name: p.name.clone(),
            credits: p.credits,
            price_paise: p.price_paise,
            currency: p.currency.clone(),
        }
    }
}

/// `GET /v1/packs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Packs {
    pub packs: Vec<Pack>,
}

/// `GET /v1/credits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Balance {
    pub balance: i64,
}

/// A ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Transaction {
    pub id: String,
    #[schema(value_type = String)]
    pub kind: LedgerKind,
    pub amount: i64,
    pub balance_after: i64,
    pub reason: String,
    pub reference: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<LedgerEntry> for Transaction {
    fn from(e: LedgerEntry) -> Self {
        Transaction {
            id: e.id.to_string(),
            kind: e.kind,
            amount: e.amount,
            balance_after: e.balance_after,
            reason: e.reason,
            reference: e.reference,
            created_at: e.created_at,
        }
    }
}

/// `{"pack_id"}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackChoice {
    pub pack_id: String,
}

/// `POST /v1/orders` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Order {
    pub order_id: String,
    pub amount: i64,
    pub currency: String,
    pub key_id: String,
    pub pack_id: String,
}

impl From<OrderCreated> for Order {
    fn from(o: OrderCreated) -> Self {
        Order {
            order_id: o.order_id,
            amount: o.amount,
            currency: o.currency,
            key_id: o.key_id,
            pack_id: o.pack_id,
        }
    }
}

/// What Razorpay Checkout's handler receives.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyBody {
    pub razorpay_order_id: String,
    pub razorpay_payment_id: String,
    pub razorpay_signature: String,
}

/// `PaymentLink` of API.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PaymentLink {
    pub id: String,
    /// `created|paid|credited|expired|cancelled`.
    pub status: String,
    pub short_url: String,
    pub pack_id: String,
}

impl From<LinkView> for PaymentLink {
    fn from(l: LinkView) -> Self {
        PaymentLink {
            id: l.id,
            status: l.status,
            short_url: l.short_url,
            pack_id: l.pack_id,
        }
    }
}

/// `POST /v1/payments/verify` answer: `credited` with the balance (200), or `pending` (202)
/// while Razorpay has not confirmed the capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Checkout {
    /// `credited` or `pending`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<i64>,
}

impl From<facetra_core::payments::CheckoutResult> for Checkout {
    fn from(r: facetra_core::payments::CheckoutResult) -> Self {
        match r {
            facetra_core::payments::CheckoutResult::Credited { balance } => Checkout {
                status: "credited".into(),
                balance: Some(balance),
            },
            facetra_core::payments::CheckoutResult::Pending => Checkout {
                status: "pending".into(),
                balance: None,
            },
        }
    }
}
