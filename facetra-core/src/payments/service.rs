//! The payment use cases: create an order or a payment link for a pack, verify a checkout,
//! reconcile a link, and handle webhooks. Every path ends in `credit`, keyed on our payment
//! record, so a pack is credited once per order however the news arrives.

use std::sync::Arc;

use serde_json::json;

use super::razorpay::{self, Gateway, PaymentEntity, PaymentLinkEntity, WebhookEvent};
use super::store::PaymentRef;
use super::{Payment, PaymentKind, PaymentStatus};
use crate::config::keys;
use crate::credits::{Appended, LedgerKind, NewLedgerEntry};
use crate::error::{Error, Result};
use crate::ids::{PaymentId, UserId};
use crate::privacy::usage::{Feature, UsageType};
use crate::{Actor, Facetra};

/// `POST /v1/orders` answer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrderCreated {
    pub order_id: String,
    pub amount: i64,
    pub currency: String,
    pub key_id: String,
    pub pack_id: String,
}

/// What a checkout verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutResult {
    /// The pack is credited (now or before); the balance after.
    Credited { balance: i64 },
    /// Razorpay has not captured the payment yet; the webhook will finish.
    Pending,
}

/// A payment link as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkView {
    pub id: String,
    /// `created|paid|credited|expired|cancelled`.
    pub status: String,
    pub short_url: String,
    pub pack_id: String,
}

/// The payments domain, borrowed from the facade.
pub struct Payments<'a> {
    pub(crate) f: &'a Facetra,
}

fn disabled() -> Error {
    Error::PaymentsDisabled(format!(
        "set {} and {} (and {} to accept webhooks)",
        keys::RAZORPAY_KEY_ID,
        keys::RAZORPAY_KEY_SECRET,
        keys::RAZORPAY_WEBHOOK_SECRET
    ))
}

impl Payments<'_> {
    fn gateway(&self) -> Result<&Arc<dyn Gateway>> {
        self.f.gateway().ok_or_else(disabled)
    }

    async fn security_event(
        &self,
        kind: &str,
        user: Option<&UserId>,
        details: serde_json::Value,
    ) -> Result<()> {
        self.f.record_security_event(kind, user, details).await
    }

    fn new_payment(&self, user: &UserId, pack_id: &str, kind: PaymentKind) -> Result<Payment> {
        let pack = self.f.credits().pack(pack_id)?.clone();
        let now = self.f.now();
        Ok(Payment {
            id: PaymentId::new(now),
            user_id: user.clone(),
            pack_id: pack.id,
            credits: pack.credits,
            amount_paise: pack.price_paise,
            currency: pack.currency,
            kind,
            order_id: None,
            link_id: None,
            link_url: None,
            razorpay_payment_id: None,
            status: PaymentStatus::Created,
            credits_refunded: 0,
            created_at: now,
            updated_at: now,
        })
    }

    /// Creates a Razorpay order for a pack (the web app's checkout).
    pub async fn create_order(&self, actor: &Actor, pack_id: &str) -> Result<OrderCreated> {
        // An unknown pack is named as such, whether or not payments are on.
        self.f.credits().pack(pack_id)?;
        let gateway = self.gateway()?;
        let me = self.f.accounts().me(actor).await?;
        let mut payment = self.new_payment(&me.id, pack_id, PaymentKind::Order)?;
        let notes = json!({ "user_id": me.id, "pack_id": payment.pack_id, "payment": payment.id });
        let order = gateway
            .create_order(
                payment.amount_paise,
                &payment.currency,
                payment.id.as_str(),
                notes,
            )
            .await?;
        payment.order_id = Some(order.id.clone());
        self.f.store().payments.insert_payment(&payment).await?;
        Ok(OrderCreated {
            order_id: order.id,
            amount: payment.amount_paise,
            currency: payment.currency,
            key_id: self
                .f
                .config()
                .razorpay
                .as_ref()
                .map(|r| r.key_id.clone())
                .unwrap_or_default(),
            pack_id: payment.pack_id,
        })
    }

    /// Verifies a Checkout result: the order must be the caller's and the signature must be
    /// over the order id we stored; then Razorpay must confirm a captured payment of the
    /// order's amount and currency.
    pub async fn verify_checkout(
        &self,
        actor: &Actor,
        order_id: &str,
        payment_id: &str,
        signature: &str,
    ) -> Result<CheckoutResult> {
        let gateway = self.gateway()?;
        let me = self.f.accounts().me(actor).await?;
        let payment = match self
            .f
            .store()
            .payments
            .find_payment(PaymentRef::Order(order_id))
            .await?
        {
            Some(p) if p.user_id == me.id && p.kind == PaymentKind::Order => p,
            _ => return Err(Error::NotFound("order")),
        };
        let stored_order = payment.order_id.clone().unwrap_or_default();
        let secret = self
            .f
            .config()
            .razorpay
            .as_ref()
            .ok_or_else(disabled)?
            .key_secret
            .clone();
        let message = razorpay::checkout_message(&stored_order, payment_id);
        if !razorpay::signature_matches(secret.expose().as_bytes(), message.as_bytes(), signature) {
            self.security_event(
                "payment.checkout_bad_signature",
                Some(&me.id),
                json!({ "payment": payment.id }),
            )
            .await?;
            return Err(Error::InvalidSignature);
        }
        if payment.status == PaymentStatus::Credited || payment.status == PaymentStatus::Refunded {
            return Ok(CheckoutResult::Credited {
                balance: self.f.store().ledger.balance(&me.id).await?,
            });
        }
        let confirmed = gateway.fetch_payment(payment_id).await?;
        let matches = confirmed.order_id.as_deref() == Some(stored_order.as_str())
            && confirmed.amount == payment.amount_paise
            && confirmed.currency == payment.currency;
        if !matches {
            self.security_event(
                "payment.checkout_mismatch",
                Some(&me.id),
                json!({ "payment": payment.id }),
            )
            .await?;
            return Err(Error::Conflict(
                "Razorpay reports a different payment for this order".into(),
            ));
        }
        if confirmed.status.as_deref() != Some("captured") {
            self.f
                .store()
                .payments
                .advance_payment(
                    &payment.id,
                    PaymentStatus::Pending,
                    Some(&confirmed.id),
                    self.f.now(),
                )
                .await?;
            return Ok(CheckoutResult::Pending);
        }
        self.credit(&payment, &confirmed.id).await?;
        Ok(CheckoutResult::Credited {
            balance: self.f.store().ledger.balance(&me.id).await?,
        })
    }

    /// Credits the payment's pack once and marks it credited. The key is our payment record,
    /// so one order (or link) is credited at most once, however many captured Razorpay payments
    /// arrive for it; a second one is a security event for the operator to refund by hand.
    async fn credit(&self, payment: &Payment, razorpay_payment_id: &str) -> Result<()> {
        let key = format!("purchase:{}", payment.id);
        let current = self
            .f
            .store()
            .payments
            .find_payment(PaymentRef::Ours(&payment.id))
            .await?
            .ok_or(Error::NotFound("payment"))?;
        if current.status == PaymentStatus::Refunded
            && self
                .f
                .store()
                .ledger
                .ledger_entry_by_key(&key)
                .await?
                .is_none()
        {
            // Refunded before it was ever credited: its money went back, so a capture
            // reported afterwards credits nothing; the operator is told.
            return self
                .security_event(
                    "payment.capture_after_refund",
                    Some(&payment.user_id),
                    json!({
                        "payment": payment.id,
                        "razorpay_payment": razorpay_payment_id,
                        "amount_paise": payment.amount_paise,
                    }),
                )
                .await;
        }
        let pack_name = self
            .f
            .credits()
            .pack(&payment.pack_id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|_| payment.pack_id.clone());
        let appended = self
            .f
            .credits()
            .append(NewLedgerEntry {
                user_id: payment.user_id.clone(),
                kind: LedgerKind::Purchase,
                amount: payment.credits,
                reason: format!("{pack_name} pack"),
                reference: Some(payment.id.to_string()),
                idempotency_key: key,
            })
            .await?;
        let stored = self
            .f
            .store()
            .payments
            .advance_payment(
                &payment.id,
                PaymentStatus::Credited,
                Some(razorpay_payment_id),
                self.f.now(),
            )
            .await?;
        match &appended {
            Appended::Applied(entry) => {
                self.queue_receipt(payment, entry.balance_after).await?;
                self.f
                    .usage()
                    .record_for(
                        &Actor::User(payment.user_id.clone()),
                        UsageType::CreditTransaction,
                        Feature::Purchase,
                        payment.credits,
                    )
                    .await;
            }
            Appended::Replayed(_) => {
                // The record names the Razorpay payment that was credited.
                let credited = stored.razorpay_payment_id.as_deref();
                if credited.is_some_and(|first| first != razorpay_payment_id) {
                    self.security_event(
                        "payment.second_capture",
                        Some(&payment.user_id),
                        json!({
                            "payment": payment.id,
                            "razorpay_payment": razorpay_payment_id,
                            "amount_paise": payment.amount_paise,
                            "currency": payment.currency,
                        }),
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Queues the receipt for a credited payment (once per payment).
    async fn queue_receipt(&self, payment: &Payment, balance: i64) -> Result<()> {
        let Some(user) = self.f.store().accounts.user_by_id(&payment.user_id).await? else {
            return Ok(());
        };
        let Ok(pack) = self.f.credits().pack(&payment.pack_id).cloned() else {
            return Ok(());
        };
        let receipt = crate::mail::templates::payment_receipt(
            &user.name,
            &pack,
            payment.id.as_str(),
            balance,
        );
        self.f
            .mail()
            .queue(
                Some(&user.id),
                user.email.as_str(),
                &format!("receipt:{}", payment.id),
                receipt,
            )
            .await
    }

    /// Handles a webhook delivery: the signature over the exact raw body, dedupe on the event
    /// id, then the event. Every correctly signed delivery is accepted (`Ok`), including ones
    /// that do not match their order: those credit nothing and are recorded.
    pub async fn handle_webhook(
        &self,
        body: &[u8],
        signature: &str,
        event_id: Option<&str>,
    ) -> Result<()> {
        let config = self.f.config().razorpay.as_ref().ok_or_else(disabled)?;
        let secret = config.webhook_secret.as_ref().ok_or_else(disabled)?;
        if !razorpay::signature_matches(secret.expose().as_bytes(), body, signature) {
            self.f
                .count_security_event("payment.webhook_bad_signature")
                .await?;
            return Err(Error::InvalidSignature);
        }
        let store = &self.f.store().payments;
        if let Some(id) = event_id {
            if store.webhook_seen(id).await? {
                return Ok(());
            }
        }
        let event: WebhookEvent = match serde_json::from_slice(body) {
            Ok(e) => e,
            Err(_) => {
                self.security_event("payment.webhook_unreadable", None, json!({}))
                    .await?;
                return Ok(());
            }
        };
        self.dispatch(event).await?;
        if let Some(id) = event_id {
            store.remember_webhook(id, self.f.now()).await?;
        }
        Ok(())
    }

    async fn dispatch(&self, event: WebhookEvent) -> Result<()> {
        let p = event.payload;
        match event.event.as_str() {
            "payment.captured" | "order.paid" => {
                let Some(paid) = p.payment.map(|w| w.entity) else {
                    return Ok(());
                };
                let order_amount = p
                    .order
                    .as_ref()
                    .map(|o| (o.entity.amount, o.entity.currency.clone()));
                self.captured(&paid, order_amount).await
            }
            "payment.failed" => {
                let Some(failed) = p.payment.map(|w| w.entity) else {
                    return Ok(());
                };
                if let Some(order) = failed.order_id.as_deref() {
                    if let Some(ours) = self
                        .f
                        .store()
                        .payments
                        .find_payment(PaymentRef::Order(order))
                        .await?
                    {
                        self.f
                            .store()
                            .payments
                            .advance_payment(&ours.id, PaymentStatus::Failed, None, self.f.now())
                            .await?;
                    }
                }
                Ok(())
            }
            "refund.processed" => match p.refund.map(|w| w.entity) {
                Some(refund) => {
                    let order = p.payment.and_then(|w| w.entity.order_id);
                    self.refunded(&refund, order.as_deref()).await
                }
                None => Ok(()),
            },
            "payment_link.paid" => {
                let (Some(link), Some(paid)) = (
                    p.payment_link.map(|w| w.entity),
                    p.payment.map(|w| w.entity),
                ) else {
                    return Ok(());
                };
                self.link_paid(&link, &paid).await
            }
            _ => Ok(()),
        }
    }

    async fn captured(&self, paid: &PaymentEntity, order: Option<(i64, String)>) -> Result<()> {
        let store = &self.f.store().payments;
        let ours = match paid.order_id.as_deref() {
            Some(order_id) => store.find_payment(PaymentRef::Order(order_id)).await?,
            None => None,
        };
        let Some(ours) = ours.filter(|o| o.kind == PaymentKind::Order) else {
            // Unknown to us (a payment link's order is Razorpay's own, and its
            // payment_link.paid event credits it): credit nothing, record it.
            if store
                .find_payment(PaymentRef::RazorpayPayment(&paid.id))
                .await?
                .is_none()
            {
                self.security_event(
                    "payment.webhook_unknown_order",
                    None,
                    json!({ "razorpay_payment": paid.id }),
                )
                .await?;
            }
            return Ok(());
        };
        let order_ok = order.is_none_or(|(amount, currency)| {
            amount == ours.amount_paise && currency == ours.currency
        });
        if paid.amount != ours.amount_paise || paid.currency != ours.currency || !order_ok {
            self.security_event(
                "payment.webhook_mismatch",
                Some(&ours.user_id),
                json!({ "payment": ours.id, "expected_paise": ours.amount_paise, "got_paise": paid.amount }),
            )
            .await?;
            return Ok(());
        }
        self.credit(&ours, &paid.id).await?;
        Ok(())
    }

    async fn link_paid(&self, link: &PaymentLinkEntity, paid: &PaymentEntity) -> Result<()> {
        let store = &self.f.store().payments;
        let ours = match store.find_payment(PaymentRef::Link(&link.id)).await? {
            Some(p) => Some(p),
            None => match link.reference_id.as_deref().and_then(PaymentId::parse) {
                Some(id) => store
                    .find_payment(PaymentRef::Ours(&id))
                    .await?
                    .filter(|p| p.kind == PaymentKind::Link),
                None => None,
            },
        };
        let Some(ours) = ours else {
            self.security_event(
                "payment.webhook_unknown_link",
                None,
                json!({ "link": link.id }),
            )
            .await?;
            return Ok(());
        };
        if paid.amount != ours.amount_paise
            || paid.currency != ours.currency
            || paid.status.as_deref() != Some("captured")
        {
            self.security_event(
                "payment.webhook_mismatch",
                Some(&ours.user_id),
                json!({ "payment": ours.id, "expected_paise": ours.amount_paise, "got_paise": paid.amount }),
            )
            .await?;
            return Ok(());
        }
        self.credit(&ours, &paid.id).await?;
        Ok(())
    }

    /// A processed refund takes back the refunded share of the pack's credits, never below
    /// zero; if they were already spent the account is flagged for review. Only a payment that
    /// was credited gives anything back: a refund of one never credited (or of a second capture
    /// of an order credited once) takes nothing from the user's other credits.
    async fn refunded(
        &self,
        refund: &razorpay::RefundEntity,
        order_id: Option<&str>,
    ) -> Result<()> {
        let Some(paid_id) = refund.payment_id.as_deref() else {
            return Ok(());
        };
        let store = &self.f.store().payments;
        let mut ours = store
            .find_payment(PaymentRef::RazorpayPayment(paid_id))
            .await?;
        if let (None, Some(order)) = (&ours, order_id) {
            // We may never have heard of this payment: its order is ours, though.
            ours = store.find_payment(PaymentRef::Order(order)).await?;
        }
        let Some(ours) = ours else {
            self.security_event(
                "payment.refund_unknown_payment",
                None,
                json!({ "refund": refund.id }),
            )
            .await?;
            return Ok(());
        };
        if ours.amount_paise <= 0 {
            return Ok(());
        }
        let credited = ours.status.rank() >= PaymentStatus::Credited.rank();
        if !credited {
            // Never credited: there is nothing of this payment to take back. Marked refunded,
            // it can never be credited later (its money went back).
            store
                .advance_payment(&ours.id, PaymentStatus::Refunded, None, self.f.now())
                .await?;
            return Ok(());
        }
        if ours.razorpay_payment_id.as_deref() != Some(paid_id) {
            // Another payment of an order that was credited once (a second capture, refunded
            // by hand): it credited nothing, so it takes nothing.
            return Ok(());
        }
        let share = (i128::from(ours.credits) * i128::from(refund.amount.min(ours.amount_paise))
            / i128::from(ours.amount_paise)) as i64;
        let balance = self.f.store().ledger.balance(&ours.user_id).await?;
        let key = format!("refund:{}", refund.id);
        if self
            .f
            .store()
            .ledger
            .ledger_entry_by_key(&key)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let taken = share.min(balance);
        if taken > 0 {
            let appended = self
                .f
                .credits()
                .append(NewLedgerEntry {
                    user_id: ours.user_id.clone(),
                    kind: LedgerKind::Refund,
                    amount: -taken,
                    reason: "payment refunded".into(),
                    reference: Some(ours.id.to_string()),
                    idempotency_key: key,
                })
                .await;
            match appended {
                // The balance moved between reading and appending: take what is left next time.
                Err(Error::InsufficientCredits { .. }) => {}
                other => {
                    other?;
                }
            }
        }
        if taken < share {
            self.security_event(
                "payment.refund_after_spend",
                Some(&ours.user_id),
                json!({ "payment": ours.id, "credits_due": share, "credits_taken": taken }),
            )
            .await?;
        }
        store
            .add_refunded_credits(&ours.id, taken, self.f.now())
            .await?;
        store
            .advance_payment(&ours.id, PaymentStatus::Refunded, None, self.f.now())
            .await?;
        Ok(())
    }

    /// Creates a payment link for a pack (the terminal's checkout).
    pub async fn create_link(&self, actor: &Actor, pack_id: &str) -> Result<LinkView> {
        // An unknown pack is named as such, whether or not payments are on.
        self.f.credits().pack(pack_id)?;
        let gateway = self.gateway()?;
        let me = self.f.accounts().me(actor).await?;
        let mut payment = self.new_payment(&me.id, pack_id, PaymentKind::Link)?;
        let pack_name = self.f.credits().pack(pack_id)?.name.clone();
        let notes = json!({ "user_id": me.id, "pack_id": payment.pack_id });
        let link = gateway
            .create_payment_link(
                payment.amount_paise,
                &payment.currency,
                payment.id.as_str(),
                &format!("Facetra {pack_name} pack ({} credits)", payment.credits),
                notes,
            )
            .await?;
        payment.link_id = Some(link.id.clone());
        payment.link_url = link.short_url.clone();
        self.f.store().payments.insert_payment(&payment).await?;
        Ok(link_view(&payment))
    }

    /// A payment link's state, reconciled with Razorpay (the only way on the embedded default,
    /// which receives no webhooks). Another user's link is "not found".
    pub async fn link_status(&self, actor: &Actor, id: &str) -> Result<LinkView> {
        let me = self.f.accounts().me(actor).await?;
        let id = PaymentId::parse(id).ok_or(Error::NotFound("payment link"))?;
        let store = &self.f.store().payments;
        let payment = match store.find_payment(PaymentRef::Ours(&id)).await? {
            Some(p) if p.user_id == me.id && p.kind == PaymentKind::Link => p,
            _ => return Err(Error::NotFound("payment link")),
        };
        if matches!(
            payment.status,
            PaymentStatus::Credited | PaymentStatus::Refunded
        ) {
            return Ok(link_view(&payment));
        }
        let gateway = self.gateway()?;
        let link = gateway
            .fetch_payment_link(payment.link_id.as_deref().unwrap_or_default())
            .await?;
        match link.status.as_deref() {
            Some("paid") => {
                let captured = link.payments.iter().flatten().find(|p| {
                    p.status.as_deref() == Some("captured") && p.amount == payment.amount_paise
                });
                if let Some(paid) = captured {
                    self.credit(&payment, &paid.payment_id).await?;
                } else {
                    store
                        .advance_payment(&payment.id, PaymentStatus::Captured, None, self.f.now())
                        .await?;
                }
            }
            Some("expired") => {
                store
                    .advance_payment(&payment.id, PaymentStatus::Expired, None, self.f.now())
                    .await?;
            }
            Some("cancelled") => {
                store
                    .advance_payment(&payment.id, PaymentStatus::Cancelled, None, self.f.now())
                    .await?;
            }
            _ => {}
        }
        let now = store
            .find_payment(PaymentRef::Ours(&payment.id))
            .await?
            .ok_or(Error::NotFound("payment link"))?;
        Ok(link_view(&now))
    }
}

fn link_view(p: &Payment) -> LinkView {
    let status = match p.status {
        PaymentStatus::Created | PaymentStatus::Pending | PaymentStatus::Failed => "created",
        PaymentStatus::Captured => "paid",
        PaymentStatus::Credited | PaymentStatus::Refunded => "credited",
        PaymentStatus::Expired => "expired",
        PaymentStatus::Cancelled => "cancelled",
    };
    LinkView {
        id: p.id.to_string(),
        status: status.into(),
        short_url: p.link_url.clone().unwrap_or_default(),
        pack_id: p.pack_id.clone(),
    }
}
