//! Packs, balance and the ledger.

use axum::extract::{Query, State};
use axum::Json;
use facetra_core::credits::{LedgerEntry, Pack};
use facetra_core::paging::PageRequest;
use facetra_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::Authenticated;
use crate::{ApiError, AppState};

/// A pack on sale.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackView {
    pub id: String,
    pub name: String,
    pub credits: i64,
    pub price_paise: i64,
    pub currency: String,
}

impl From<&Pack> for PackView {
    fn from(p: &Pack) -> Self {
        PackView {
            id: p.id.clone(),
            name: p.name.clone(),
            credits: p.credits,
            price_paise: p.price_paise,
            currency: p.currency.clone(),
        }
    }
}

/// `GET /v1/packs` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Packs {
    pub packs: Vec<PackView>,
}

/// `GET /v1/credits` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Balance {
    pub balance: i64,
}

/// A ledger entry as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Transaction {
    pub id: String,
    pub kind: String,
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
            kind: e.kind.as_str().to_owned(),
            amount: e.amount,
            balance_after: e.balance_after,
            reason: e.reason,
            reference: e.reference,
            created_at: e.created_at,
        }
    }
}

/// `?cursor=&limit=` of every list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

impl ListQuery {
    /// The page request, or a 400 naming the bad parameter.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest::parse(self.cursor.as_deref(), self.limit)?)
    }
}

/// `{"items": [...], "next_cursor": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionList {
    pub items: Vec<Transaction>,
    pub next_cursor: Option<String>,
}

/// The packs on sale (no sign-in needed).
#[utoipa::path(get, path = "/v1/packs", tag = "credits", responses((status = 200, body = Packs)))]
pub async fn packs(State(state): State<AppState>) -> Json<Packs> {
    Json(Packs {
        packs: state
            .facetra
            .credits()
            .packs()
            .iter()
            .map(PackView::from)
            .collect(),
    })
}

/// The caller's balance.
#[utoipa::path(get, path = "/v1/credits", tag = "credits", responses((status = 200, body = Balance), (status = 401)))]
pub async fn balance(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
) -> Result<Json<Balance>, ApiError> {
    Ok(Json(Balance {
        balance: state.facetra.credits().balance(&p.actor()).await?,
    }))
}

/// The caller's ledger, newest first.
#[utoipa::path(get, path = "/v1/credits/transactions", tag = "credits", params(ListQuery),
    responses((status = 200, body = TransactionList), (status = 400), (status = 401)))]
pub async fn transactions(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Query(q): Query<ListQuery>,
) -> Result<Json<TransactionList>, ApiError> {
    let page = state
        .facetra
        .credits()
        .transactions(&p.actor(), &q.page()?)
        .await?;
    Ok(Json(TransactionList {
        items: page.items.into_iter().map(Transaction::from).collect(),
        next_cursor: page.next.map(|c| c.encode()),
    }))
}
