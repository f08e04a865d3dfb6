//! Razorpay's wire format (EXTERNAL-APIS.md §1): the HTTP client (Basic auth, JSON, no
//! redirects, a timeout), the two signature schemes, and lenient views of the entities that
//! keep only what we store. Deserialisation tolerates Razorpay's quirks (`notes: []`, empty
//! strings for nulls, fields that come and go).

use async_trait::async_trait;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use crate::config::RazorpayConfig;
use crate::error::{Error, Result};
use crate::security::constant_time_eq;

pub use crate::security::hmac_hex;

/// Whether `signature` is the HMAC of `message` under `key`, compared in constant time.
pub fn signature_matches(key: &[u8], message: &[u8], signature: &str) -> bool {
    let expected = hmac_hex(key, message);
    constant_time_eq(
        expected.as_bytes(),
        signature.trim().to_ascii_lowercase().as_bytes(),
    )
}

/// The checkout signature message: the order id **we stored**, `|`, the payment id.
pub fn checkout_message(order_id: &str, payment_id: &str) -> String {
    format!("{order_id}|{payment_id}")
}

/// `notes` arrives as `{}` with entries and as `[]` without.
fn lenient_notes<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<serde_json::Map<String, Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    })
}

/// An empty string means "none".
fn lenient_string<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.and_then(|v| match v {
        Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    }))
}

/// An order entity (only what we use).
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub id: String,
    #[serde(default)]
    pub amount: i64,
    #[serde(default)]
    pub currency: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_notes")]
    pub notes: serde_json::Map<String, Value>,
}

/// A payment entity (only what we use; email, contact and method are never read).
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentEntity {
    pub id: String,
    #[serde(default)]
    pub amount: i64,
    #[serde(default)]
    pub currency: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub order_id: Option<String>,
}

/// A refund entity.
#[derive(Debug, Clone, Deserialize)]
pub struct RefundEntity {
    pub id: String,
    #[serde(default)]
    pub amount: i64,
    #[serde(default, deserialize_with = "lenient_string")]
    pub payment_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
}

/// A payment link entity.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentLinkEntity {
    pub id: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub short_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default)]
    pub amount: i64,
    #[serde(default)]
    pub amount_paid: i64,
    #[serde(default, deserialize_with = "lenient_string")]
    pub reference_id: Option<String>,
    /// The payments made through the link (a list of small objects, or null).
    #[serde(default)]
    pub payments: Option<Vec<LinkPayment>>,
}

/// A payment listed inside a payment link.
#[derive(Debug, Clone, Deserialize)]
pub struct LinkPayment {
    pub payment_id: String,
    #[serde(default)]
    pub amount: i64,
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
}

/// A webhook delivery, parsed leniently: only the entities we use.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookEvent {
    pub event: String,
    #[serde(default)]
    pub payload: WebhookPayload,
}

/// The entities a webhook may carry.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WebhookPayload {
    pub payment: Option<Wrapped<PaymentEntity>>,
    pub order: Option<Wrapped<Order>>,
    pub refund: Option<Wrapped<RefundEntity>>,
    pub payment_link: Option<Wrapped<PaymentLinkEntity>>,
}

/// `{"entity": {...}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Wrapped<T> {
    pub entity: T,
}

/// What Facetra asks of Razorpay. The real client speaks HTTP; tests point its base URL at a
/// local stub.
#[async_trait]
pub trait Gateway: Send + Sync + std::fmt::Debug {
    async fn create_order(
        &self,
        amount: i64,
        currency: &str,
        receipt: &str,
        notes: Value,
    ) -> Result<Order>;
    async fn fetch_payment(&self, id: &str) -> Result<PaymentEntity>;
    async fn create_payment_link(
        &self,
        amount: i64,
        currency: &str,
        reference_id: &str,
        description: &str,
        notes: Value,
    ) -> Result<PaymentLinkEntity>;
    async fn fetch_payment_link(&self, id: &str) -> Result<PaymentLinkEntity>;
}

/// The HTTP client for Razorpay's API.
pub struct Client {
    http: reqwest::Client,
    config: RazorpayConfig,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("razorpay::Client")
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

/// Razorpay's error envelope.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    description: String,
}

impl Client {
    /// A client for the configured account.
    pub fn new(config: RazorpayConfig) -> Result<Client> {
        let http = crate::security::outbound_client(15, "Razorpay")?;
        Ok(Client { http, config })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T> {
        let provider = "Razorpay";
        let res = req
            .basic_auth(&self.config.key_id, Some(self.config.key_secret.expose()))
            .send()
            .await
            .map_err(|e| Error::Provider {
                provider,
                message: format!("request failed: {}", e.without_url()),
            })?;
        let status = res.status();
        let body = res.bytes().await.map_err(|e| Error::Provider {
            provider,
            message: format!("reading the answer: {}", e.without_url()),
        })?;
        if !status.is_success() {
            let detail = serde_json::from_slice::<ErrorBody>(&body)
                .map(|b| format!("{} {}", b.error.code, b.error.description))
                .unwrap_or_default();
            return Err(Error::Provider {
                provider,
                message: format!("HTTP {status}: {detail}"),
            });
        }
        serde_json::from_slice(&body).map_err(|e| Error::Provider {
            provider,
            message: format!("unexpected answer: {e}"),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.config.base_url)
    }
}

#[async_trait]
impl Gateway for Client {
    async fn create_order(
        &self,
        amount: i64,
        currency: &str,
        receipt: &str,
        notes: Value,
    ) -> Result<Order> {
        let body =
            json!({ "amount": amount, "currency": currency, "receipt": receipt, "notes": notes });
        self.call(self.http.post(self.url("orders")).json(&body))
            .await
    }

    async fn fetch_payment(&self, id: &str) -> Result<PaymentEntity> {
        if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(Error::invalid(
                "razorpay_payment_id",
                "is not a Razorpay payment id",
            ));
        }
        self.call(self.http.get(self.url(&format!("payments/{id}"))))
            .await
    }

    async fn create_payment_link(
        &self,
        amount: i64,
        currency: &str,
        reference_id: &str,
        description: &str,
        notes: Value,
    ) -> Result<PaymentLinkEntity> {
        // No customer details: we neither send nor store them.
        let body = json!({
            "amount": amount,
            "currency": currency,
            "reference_id": reference_id,
            "description": description,
            "notes": notes,
            "notify": { "sms": false, "email": false },
            "reminder_enable": false,
        });
        self.call(self.http.post(self.url("payment_links")).json(&body))
            .await
    }

    async fn fetch_payment_link(&self, id: &str) -> Result<PaymentLinkEntity> {
        self.call(self.http.get(self.url(&format!("payment_links/{id}"))))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_lowercase_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sig = hmac_hex(b"secret", b"order_1|pay_1");
        assert!(signature_matches(b"secret", b"order_1|pay_1", &sig));
        assert!(signature_matches(
            b"secret",
            b"order_1|pay_1",
            &sig.to_uppercase()
        ));
        assert!(!signature_matches(b"other", b"order_1|pay_1", &sig));
        assert!(!signature_matches(b"secret", b"order_2|pay_1", &sig));
        assert!(!signature_matches(b"secret", b"order_1|pay_1", ""));
    }

    #[test]
    fn quirks_deserialise() {
        let order: Order = serde_json::from_str(
            r#"{"amount":5000,"amount_due":5000,"currency":"INR","id":"order_R","notes":[],"offer_id":null,"receipt":"r","status":"created"}"#,
        )
        .unwrap();
        assert!(order.notes.is_empty());
        let p: PaymentEntity = serde_json::from_str(
            r#"{"id":"pay_1","amount":49900,"currency":"INR","status":"captured","order_id":"order_R","error_code":"","fee":null,"email":"x@y.z","contact":"+91","method":"upi"}"#,
        )
        .unwrap();
        assert_eq!(p.order_id.as_deref(), Some("order_R"));
    }
}
