//! A local Razorpay that speaks its wire format (EXTERNAL-APIS.md §1): Basic auth with the
//! error envelope on failure, orders (with `notes: []` when empty), payments carrying the
//! payer's email, phone and method (which Facetra must drop), payment links, and helpers that
//! play the payer and sign webhooks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

/// The payer details the stub puts into every payment; none may be stored by Facetra.
pub const PAYER_EMAIL: &str = "payer.person@example.org";
pub const PAYER_PHONE: &str = "+919812345678";
pub const PAYER_METHOD: &str = "netbanking";

#[derive(Default)]
struct Books {
    next: u64,
    orders: HashMap<String, Value>,
    payments: HashMap<String, Value>,
    links: HashMap<String, Value>,
}

/// The running stub.
#[derive(Clone)]
pub struct RazorpayStub {
    pub base: String,
    pub key_id: String,
    pub key_secret: String,
    pub webhook_secret: String,
    books: Arc<Mutex<Books>>,
}

fn error(status: StatusCode, description: &str) -> Response {
    let body = json!({ "error": {
        "code": "BAD_REQUEST_ERROR", "description": description, "source": "business",
        "step": "payment_initiation", "reason": "input_validation_failed", "metadata": {}, "field": null,
    }});
    (status, Json(body)).into_response()
}

fn authorised(stub: &RazorpayStub, headers: &HeaderMap) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", stub.key_id, stub.key_secret))
    );
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn notes_of(body: &Value) -> Value {
    match body.get("notes") {
        Some(Value::Object(m)) if !m.is_empty() => Value::Object(m.clone()),
        _ => json!([]),
    }
}

async fn create_order(
    State(stub): State<RazorpayStub>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorised(&stub, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Authentication failed");
    }
    let amount = body["amount"].as_i64().unwrap_or(0);
    if amount < 100 {
        return error(
            StatusCode::BAD_REQUEST,
            "The amount must be at least INR 1.00",
        );
    }
    let mut books = stub.books.lock().unwrap();
    books.next += 1;
    let id = format!("order_Stub{:06}", books.next);
    let order = json!({
        "amount": amount, "amount_due": amount, "amount_paid": 0, "attempts": 0, "created_at": 1756455561,
        "currency": body["currency"], "entity": "order", "id": id, "notes": notes_of(&body),
        "offer_id": null, "receipt": body["receipt"], "status": "created",
    });
    books.orders.insert(id, order.clone());
    Json(order).into_response()
}

async fn get_payment(
    State(stub): State<RazorpayStub>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorised(&stub, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Authentication failed");
    }
    match stub.books.lock().unwrap().payments.get(&id) {
        Some(p) => Json(p.clone()).into_response(),
        None => error(StatusCode::BAD_REQUEST, "The id provided does not exist"),
    }
}

async fn create_link(
    State(stub): State<RazorpayStub>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorised(&stub, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Authentication failed");
    }
    assert!(
        body.get("customer").is_none(),
        "Facetra must not send customer details"
    );
    let mut books = stub.books.lock().unwrap();
    books.next += 1;
    let id = format!("plink_Stub{:06}", books.next);
    let link = json!({
        "id": id, "short_url": format!("https://rzp.io/i/stub{:06}", books.next), "status": "created",
        "amount": body["amount"], "amount_paid": 0, "currency": body["currency"],
        "reference_id": body["reference_id"], "description": body["description"], "notes": notes_of(&body),
        "payments": null, "created_at": 1756455561, "expire_by": 0, "customer": {},
    });
    books.links.insert(id, link.clone());
    Json(link).into_response()
}

async fn get_link(
    State(stub): State<RazorpayStub>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorised(&stub, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Authentication failed");
    }
    match stub.books.lock().unwrap().links.get(&id) {
        Some(l) => Json(l.clone()).into_response(),
        None => error(StatusCode::BAD_REQUEST, "The id provided does not exist"),
    }
}

/// HMAC-SHA256 hex, as Razorpay signs.
pub fn sign(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

impl RazorpayStub {
    /// Starts the stub on a free loopback port.
    pub async fn start() -> RazorpayStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let stub = RazorpayStub {
            base: format!("http://{}", listener.local_addr().expect("addr")),
            key_id: "rzp_test_StubKey0001".into(),
            key_secret: "stub_key_secret_4f1c2e".into(),
            webhook_secret: "stub_webhook_secret_9a8b".into(),
            books: Arc::default(),
        };
        let app = Router::new()
            .route("/v1/orders", post(create_order))
            .route("/v1/payments/{id}", get(get_payment))
            .route("/v1/payment_links", post(create_link))
            .route("/v1/payment_links/{id}", get(get_link))
            .with_state(stub.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        stub
    }

    /// The settings that point Facetra at this stub.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FACETRA_RAZORPAY_KEY_ID", self.key_id.clone()),
            ("FACETRA_RAZORPAY_KEY_SECRET", self.key_secret.clone()),
            (
                "FACETRA_RAZORPAY_WEBHOOK_SECRET",
                self.webhook_secret.clone(),
            ),
            ("FACETRA_RAZORPAY_BASE_URL", self.base.clone()),
        ]
    }

    fn new_payment(&self, books: &mut Books, amount: i64, order_id: &str, status: &str) -> Value {
        books.next += 1;
        json!({
            "id": format!("pay_Stub{:06}", books.next), "entity": "payment", "amount": amount, "currency": "INR",
            "status": status, "order_id": order_id, "invoice_id": null, "international": false,
            "method": PAYER_METHOD, "amount_refunded": 0, "refund_status": null, "captured": status == "captured",
            "description": null, "card_id": null, "bank": "HDFC", "wallet": null, "vpa": null,
            "email": PAYER_EMAIL, "contact": PAYER_PHONE, "notes": [], "fee": null, "tax": null,
            "error_code": "", "error_description": null, "acquirer_data": { "bank_transaction_id": "5733649" },
            "created_at": 1756455600,
        })
    }

    /// The payer pays `order_id`; the payment is `captured` or `authorized`. Its id.
    pub fn pay_order(&self, order_id: &str, status: &str) -> String {
        let mut books = self.books.lock().unwrap();
        let amount = books.orders[order_id]["amount"].as_i64().unwrap();
        let payment = self.new_payment(&mut books, amount, order_id, status);
        let id = payment["id"].as_str().unwrap().to_owned();
        books.payments.insert(id.clone(), payment);
        id
    }

    /// Like `pay_order`, by a payer whose checkout form carried `email`.
    pub fn pay_order_by(&self, order_id: &str, status: &str, email: &str) -> String {
        let id = self.pay_order(order_id, status);
        let mut books = self.books.lock().unwrap();
        if let Some(p) = books.payments.get_mut(&id) {
            p["email"] = json!(email);
        }
        id
    }

    /// Razorpay captures an authorised payment.
    pub fn capture(&self, payment_id: &str) {
        let mut books = self.books.lock().unwrap();
        let p = books.payments.get_mut(payment_id).unwrap();
        p["status"] = json!("captured");
        p["captured"] = json!(true);
    }

    /// The payer pays a link; its payment id.
    pub fn pay_link(&self, link_id: &str) -> String {
        let mut books = self.books.lock().unwrap();
        let amount = books.links[link_id]["amount"].as_i64().unwrap();
        books.next += 1;
        let order_id = format!("order_LinkOwn{:06}", books.next);
        let payment = self.new_payment(&mut books, amount, &order_id, "captured");
        let id = payment["id"].as_str().unwrap().to_owned();
        books.payments.insert(id.clone(), payment);
        let link = books.links.get_mut(link_id).unwrap();
        link["status"] = json!("paid");
        link["amount_paid"] = json!(amount);
        link["payments"] = json!([{ "amount": amount, "created_at": 1756455600, "method": PAYER_METHOD, "payment_id": id, "status": "captured" }]);
        id
    }

    /// The ids of the links created so far.
    pub fn links(&self) -> Vec<String> {
        self.books.lock().unwrap().links.keys().cloned().collect()
    }

    /// A payment as Razorpay holds it.
    pub fn payment(&self, id: &str) -> Value {
        self.books.lock().unwrap().payments[id].clone()
    }

    /// The checkout signature for a payment of an order.
    pub fn checkout_signature(&self, order_id: &str, payment_id: &str) -> String {
        sign(
            &self.key_secret,
            format!("{order_id}|{payment_id}").as_bytes(),
        )
    }

    /// A webhook body (bytes, as sent) for `event` about a payment, and its signature.
    pub fn webhook(&self, event: &str, payment_id: &str) -> (Vec<u8>, String) {
        let payment = self.payment(payment_id);
        let mut payload = json!({ "payment": { "entity": payment } });
        let mut contains = vec!["payment"];
        if event == "order.paid" {
            let order =
                self.books.lock().unwrap().orders[payment["order_id"].as_str().unwrap()].clone();
            let mut order = order;
            order["status"] = json!("paid");
            order["amount_paid"] = order["amount"].clone();
            payload["order"] = json!({ "entity": order });
            contains.push("order");
        }
        self.signed(json!({
            "entity": "event", "account_id": "acc_StubAccount01", "event": event, "contains": contains,
            "payload": payload, "created_at": 1756455601,
        }))
    }

    /// A `payment_link.paid` webhook for a paid link.
    pub fn link_webhook(&self, link_id: &str, payment_id: &str) -> (Vec<u8>, String) {
        let link = self.books.lock().unwrap().links[link_id].clone();
        let payment = self.payment(payment_id);
        self.signed(json!({
            "entity": "event", "account_id": "acc_StubAccount01", "event": "payment_link.paid",
            "contains": ["payment_link", "order", "payment"],
            "payload": {
                "payment_link": { "entity": link },
                "order": { "entity": { "id": payment["order_id"], "amount": payment["amount"], "currency": "INR", "status": "paid" } },
                "payment": { "entity": payment },
            },
            "created_at": 1756455601,
        }))
    }

    /// A `refund.processed` webhook refunding `amount` paise of a payment.
    pub fn refund_webhook(
        &self,
        payment_id: &str,
        refund_id: &str,
        amount: i64,
    ) -> (Vec<u8>, String) {
        let payment = self.payment(payment_id);
        self.signed(json!({
            "entity": "event", "account_id": "acc_StubAccount01", "event": "refund.processed",
            "contains": ["refund", "payment"],
            "payload": {
                "refund": { "entity": { "id": refund_id, "entity": "refund", "amount": amount, "currency": "INR",
                    "payment_id": payment_id, "notes": [], "receipt": null, "acquirer_data": { "arn": null },
                    "status": "processed", "speed_requested": "normal", "speed_processed": "normal", "created_at": 1756455700 } },
                "payment": { "entity": payment },
            },
            "created_at": 1756455701,
        }))
    }

    fn signed(&self, event: Value) -> (Vec<u8>, String) {
        // Compact, as Razorpay sends; tests that re-serialise must not verify.
        let body = serde_json::to_vec(&event).unwrap();
        let sig = sign(&self.webhook_secret, &body);
        (body, sig)
    }
}
