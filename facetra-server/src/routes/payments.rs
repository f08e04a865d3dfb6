//! Orders, checkout verification, payment links and Razorpay's webhooks.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use facetra_core::payments::{CheckoutResult, LinkView, OrderCreated};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::http::{ApiJson, Authenticated};
use crate::{ApiError, AppState};

/// `{"pack_id"}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PackChoice {
    pub pack_id: String,
}

/// `POST /v1/orders` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub order_id: String,
    pub amount: i64,
    pub currency: String,
    pub key_id: String,
    pub pack_id: String,
}

impl From<OrderCreated> for OrderView {
    fn from(o: OrderCreated) -> Self {
        OrderView {
            order_id: o.order_id,
            amount: o.amount,
            currency: o.currency,
            key_id: o.key_id,
            pack_id: o.pack_id,
        }
    }
}

/// Checkout's handler result.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyBody {
    pub razorpay_order_id: String,
    pub razorpay_payment_id: String,
    pub razorpay_signature: String,
}

/// A payment link (`PaymentLink` of API.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentLinkView {
    pub id: String,
    pub status: String,
    pub short_url: String,
    pub pack_id: String,
}

impl From<LinkView> for PaymentLinkView {
    fn from(l: LinkView) -> Self {
        PaymentLinkView {
            id: l.id,
            status: l.status,
            short_url: l.short_url,
            pack_id: l.pack_id,
        }
    }
}

/// Creates a Razorpay order for a pack.
#[utoipa::path(post, path = "/v1/orders", tag = "payments", request_body = PackChoice,
    responses((status = 201, body = OrderView), (status = 400), (status = 401), (status = 503, description = "payments_disabled")))]
pub async fn create_order(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<PackChoice>,
) -> Result<Response, ApiError> {
    let order = state
        .facetra
        .payments()
        .create_order(&p.actor(), &body.pack_id)
        .await?;
    Ok((StatusCode::CREATED, Json(OrderView::from(order))).into_response())
}

/// Verifies Checkout's result; credits once Razorpay confirms the capture.
#[utoipa::path(post, path = "/v1/payments/verify", tag = "payments", request_body = VerifyBody,
    responses((status = 200, description = "credited"), (status = 202, description = "pending"),
        (status = 403, description = "invalid_signature"), (status = 404)))]
pub async fn verify(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Response, ApiError> {
    let result = state
        .facetra
        .payments()
        .verify_checkout(
            &p.actor(),
            &body.razorpay_order_id,
            &body.razorpay_payment_id,
            &body.razorpay_signature,
        )
        .await?;
    Ok(match result {
        CheckoutResult::Credited { balance } => (
            StatusCode::OK,
            Json(json!({ "status": "credited", "balance": balance })),
        )
            .into_response(),
        CheckoutResult::Pending => {
            (StatusCode::ACCEPTED, Json(json!({ "status": "pending" }))).into_response()
        }
    })
}

/// Creates a payment link for a pack (the CLI's checkout).
#[utoipa::path(post, path = "/v1/payment-links", tag = "payments", request_body = PackChoice,
    responses((status = 201, body = PaymentLinkView), (status = 401), (status = 503)))]
pub async fn create_link(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiJson(body): ApiJson<PackChoice>,
) -> Result<Response, ApiError> {
    let link = state
        .facetra
        .payments()
        .create_link(&p.actor(), &body.pack_id)
        .await?;
    Ok((StatusCode::CREATED, Json(PaymentLinkView::from(link))).into_response())
}

/// A payment link's state, reconciled with Razorpay.
#[utoipa::path(get, path = "/v1/payment-links/{id}", tag = "payments",
    params(("id" = String, Path, description = "Our payment-link id")),
    responses((status = 200, body = PaymentLinkView), (status = 404)))]
pub async fn link_status(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<PaymentLinkView>, ApiError> {
    Ok(Json(
        state
            .facetra
            .payments()
            .link_status(&p.actor(), &id)
            .await?
            .into(),
    ))
}

/// Razorpay's webhooks: the signature is checked over the exact raw body.
#[utoipa::path(post, path = "/webhooks/razorpay", tag = "payments",
    request_body(content = String, content_type = "application/json", description = "Razorpay's event, signed in X-Razorpay-Signature"),
    responses((status = 200), (status = 403, description = "invalid_signature")))]
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let signature = header("x-razorpay-signature").unwrap_or_default();
    let event_id = header("x-razorpay-event-id");
    state
        .facetra
        .payments()
        .handle_webhook(&body, &signature, event_id.as_deref())
        .await?;
    Ok(Json(json!({ "status": "ok" })))
}
