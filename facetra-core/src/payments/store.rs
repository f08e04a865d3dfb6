//! The payments port: payment records (forward-only status) and the webhook events seen.

use async_trait::async_trait;

use super::{Payment, PaymentStatus};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::PaymentId;

/// Which Razorpay id to look a payment up by.
#[derive(Debug, Clone, Copy)]
pub enum PaymentRef<'a> {
    Ours(&'a PaymentId),
    Order(&'a str),
    Link(&'a str),
    RazorpayPayment(&'a str),
}

/// Persistence for payments.
#[async_trait]
pub trait PaymentStore: Send + Sync {
    async fn insert_payment(&self, payment: &Payment) -> Result<()>;
    async fn find_payment(&self, by: PaymentRef<'_>) -> Result<Option<Payment>>;
    /// Moves the status forward (never back) and records Razorpay's payment id if it was not
    /// known; the move to `credited` records the payment that was credited (an earlier failed
    /// attempt's id is replaced). Returns the payment as stored afterwards.
    async fn advance_payment(
        &self,
        id: &PaymentId,
        to: PaymentStatus,
        razorpay_payment_id: Option<&str>,
        at: Timestamp,
    ) -> Result<Payment>;
    /// Adds refunded credits to the record.
    async fn add_refunded_credits(&self, id: &PaymentId, credits: i64, at: Timestamp)
        -> Result<()>;
    /// Whether a webhook event id was processed already.
    async fn webhook_seen(&self, event_id: &str) -> Result<bool>;
    /// Remembers a processed webhook event id (a repeat is fine).
    async fn remember_webhook(&self, event_id: &str, at: Timestamp) -> Result<()>;
}
