//! Packs, balance and the ledger.

use axum::extract::State;
use axum::Json;
use facetra_api::{Balance, List, ListQuery, Pack, Packs, Transaction};

use crate::http::{ApiQuery, Authenticated};
use crate::{ApiError, AppState};

/// The packs on sale (no sign-in needed).
#[utoipa::path(get, path = "/v1/packs", tag = "credits", responses((status = 200, body = Packs)))]
pub async fn packs(State(state): State<AppState>) -> Json<Packs> {
    Json(Packs {
        packs: state
            .facetra
            .credits()
            .packs()
            .iter()
            .map(Pack::from)
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
    responses((status = 200, body = List<Transaction>), (status = 400), (status = 401)))]
pub async fn transactions(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<List<Transaction>>, ApiError> {
    let page = state
        .facetra
        .credits()
        .transactions(&p.actor(), &q.page()?)
        .await?;
    Ok(Json(List::from_page(page)))
}
