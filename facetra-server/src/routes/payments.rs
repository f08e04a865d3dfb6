//! Orders, checkout verification, payment links and Razorpay's webhooks.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use facetra_api::{Checkout, Order, PackChoice, PaymentLink, VerifyBody};
use facetra_core::payments::CheckoutResult;
use serde_json::json;

use crate::http::{ApiJson, Authenticated};
use crate::{ApiError, AppState};

/// Creates a Razorpay order for a pack.
#[utoipa::path(post, path = "/v1/orders", tag = "payments", request_body = PackChoice,
    responses((status = 201, body = Order), (status = 400), (status = 401), (status = 503, description = "payments_disabled")))]
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
    Ok((StatusCode::CREATED, Json(Order::from(order))).into_response())
}

/// Verifies Checkout's result; credits once Razorpay confirms the capture.
#[utoipa::path(post, path = "/v1/payments/verify", tag = "payments", request_body = VerifyBody,
    responses((status = 200, body = Checkout, description = "credited"), (status = 202, body = Checkout, description = "pending"),
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
    let status = match result {
        CheckoutResult::Credited { .. } => StatusCode::OK,
        CheckoutResult::Pending => StatusCode::ACCEPTED,
    };
    Ok((status, Json(Checkout::from(result))).into_response())
}

/// Creates a payment link for a pack (the CLI's checkout).
#[utoipa::path(post, path = "/v1/payment-links", tag = "payments", request_body = PackChoice,
    responses((status = 201, body = PaymentLink), (status = 401), (status = 503)))]
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
    Ok((StatusCode::CREATED, Json(PaymentLink::from(link))).into_response())
}

/// A payment link's state, reconciled with Razorpay.
#[utoipa::path(get, path = "/v1/payment-links/{id}", tag = "payments",
    params(("id" = String, Path, description = "Our payment-link id")),
    responses((status = 200, body = PaymentLink), (status = 404)))]
pub async fn link_status(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<PaymentLink>, ApiError> {
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
