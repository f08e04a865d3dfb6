//! The HTTP client: the same operations as the embedded default, through a `facetra-server`'s
//! API with an API token (`Authorization: Bearer`). Answers are the API's own types, so a
//! command prints what it would print on the embedded default; an error envelope becomes an
//! [`ApiFailure`] whose code ends the command with core's exit code for it. A 429 or 503 is
//! tried again after the `Retry-After` the server sent; a render is followed by reading its
//! job until it ends; images and exports come through the signed links the server hands out,
//! never with the token.

use std::time::Duration;

use async_trait::async_trait;
use facetra_api::{
    Balance, Bom, BomEdit, BomItem, Consents, ConsentsBody, CreatedToken, Download, Job,
    JobAccepted, List, ListQuery, Message, NameBody, NewMessage, NewToken, Nominee, NomineeBody,
    Pack, PackChoice, Packs, PaymentLink, Portfolio, PortfolioRenders, PrivacyExport,
    PrivacyRequest, PrivacyRequestBody, Render, RenderRequest, ReplyBody, Token, Tokens,
    Transaction, Upload, User,
};
use facetra_core::privacy::requests::RequestType;
use facetra_core::studio::UploadKind;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::{Client, Login, Progress};

/// How often a followed job is read again.
const POLL: Duration = Duration::from_millis(400);
/// How many times a 429 or 503 is tried again, and the longest wait the client accepts.
const RETRIES: u32 = 5;
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// An error the server answered (`{"error": {"code", "message", "request_id"}}`), or the
/// server could not be reached (`unavailable`).
#[derive(Debug)]
pub struct ApiFailure {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// The server, for the "log in again" hint.
    pub server: String,
}

impl ApiFailure {
    /// The exit code: core's for the code, as on the embedded default.
    pub fn exit_code(&self) -> u8 {
        facetra_core::error::exit_code_for(&self.code)
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code.as_str() {
            "unauthenticated" | "invalid_token" => write!(
                f,
                "{} refused the API token (wrong, expired or revoked): run `facetra login \
                 --server {}` again",
                self.server, self.server
            ),
            "internal" => match &self.request_id {
                Some(id) => write!(f, "{} (request id {id})", self.message),
                None => f.write_str(&self.message),
            },
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ApiFailure {}

/// A client of one server, acting with one API token.
pub struct Remote {
    http: reqwest::Client,
    login: Login,
}

impl Remote {
    /// A client for `login` (nothing is sent until the first call).
    pub fn new(login: Login) -> anyhow::Result<Remote> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("facetra-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Remote { http, login })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.login.server)
    }

    fn unreachable(&self, e: &reqwest::Error) -> ApiFailure {
        ApiFailure {
            code: "unavailable".into(),
            message: format!(
                "cannot reach {} ({}); check the address and your connection, then try again",
                self.login.server,
                without_url(e)
            ),
            request_id: None,
            server: self.login.server.clone(),
        }
    }

    /// Sends what `build` makes (again after a 429 or 503, as `Retry-After` says) and turns
    /// an error answer into an [`ApiFailure`].
    async fn send(&self, build: impl Fn() -> RequestBuilder) -> anyhow::Result<Response> {
        let mut attempt = 0;
        loop {
            let response = build().send().await.map_err(|e| self.unreachable(&e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            let retryable = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            );
            if retryable && attempt < RETRIES {
                if let Some(wait) = retry_after(&response) {
                    attempt += 1;
                    tracing::debug!(status = status.as_u16(), ?wait, attempt, "retrying");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            return Err(self.failure(response).await.into());
        }
    }

    async fn failure(&self, response: Response) -> ApiFailure {
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        match serde_json::from_slice::<facetra_api::ErrorBody>(&body) {
            Ok(facetra_api::ErrorBody { error }) => ApiFailure {
                code: error.code,
                message: error.message,
                request_id: error.request_id,
                server: self.login.server.clone(),
            },
            Err(_) => ApiFailure {
                code: if status.is_server_error() {
                    "unavailable".into()
                } else {
                    "unknown".into()
                },
                message: format!(
                    "{} answered {status} without an API error; is it a facetra-server?",
                    self.login.server
                ),
                request_id: None,
                server: self.login.server.clone(),
            },
        }
    }

    /// An authenticated request to an API path.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(self.login.token.expose())
    }

    async fn json<T: DeserializeOwned>(&self, response: Response) -> anyhow::Result<T> {
        let body = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        serde_json::from_slice(&body).map_err(|e| {
            anyhow::anyhow!(
                "{} answered something this facetra does not understand ({e}); is it the same \
                 version?",
                self.login.server
            )
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let response = self.send(|| self.request(Method::GET, path)).await?;
        self.json(response).await
    }

    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &(impl Serialize + Sync),
    ) -> anyhow::Result<List<T>> {
        let response = self
            .send(|| self.request(Method::GET, path).query(query))
            .await?;
        self.json(response).await
    }

    async fn with_body<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &(impl Serialize + Sync),
    ) -> anyhow::Result<T> {
        let response = self
            .send(|| self.request(method.clone(), path).json(body))
            .await?;
        self.json(response).await
    }

    async fn without_body<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
    ) -> anyhow::Result<T> {
        let response = self.send(|| self.request(method.clone(), path)).await?;
        self.json(response).await
    }

    async fn delete(&self, path: &str) -> anyhow::Result<()> {
        self.send(|| self.request(Method::DELETE, path)).await?;
        Ok(())
    }

    /// A signed link's file, streamed to `sink` (no token: the link is its own permission).
    async fn fetch_signed(
        &self,
        url: &str,
        sink: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> anyhow::Result<u64> {
        let url = if url.starts_with('/') {
            self.url(url)
        } else {
            url.to_owned()
        };
        let mut response = self.send(|| self.http.get(&url)).await?;
        let mut written = 0;
        while let Some(chunk) = response.chunk().await.map_err(|e| self.unreachable(&e))? {
            sink.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        sink.flush().await?;
        Ok(written)
    }
}

/// A reqwest error's words without its URL (which may carry a signed link's query).
fn without_url(e: &reqwest::Error) -> String {
    let mut words = e.to_string();
    if let Some(url) = e.url() {
        words = words.replace(url.as_str(), "the server");
    }
    words
}

/// The wait a 429/503 asks for (`Retry-After` in seconds), at most [`LONGEST_WAIT`]; `None`
/// when the answer does not ask to come back.
fn retry_after(response: &Response) -> Option<Duration> {
    let secs: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs).min(LONGEST_WAIT))
}

fn id_path(prefix: &str, id: &str, suffix: &str) -> String {
    // Ids are the API's own (`rnd_…`); anything else is escaped so it cannot leave the path.
    let escaped: String = id
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    format!("{prefix}/{escaped}{suffix}")
}

#[async_trait]
impl Client for Remote {
    async fn whoami(&self) -> anyhow::Result<User> {
        self.get("/v1/me").await
    }

    async fn rename_me(&self, name: &str) -> anyhow::Result<User> {
        let body = NameBody {
            name: name.to_owned(),
        };
        self.with_body(Method::PATCH, "/v1/me", &body).await
    }

    async fn packs(&self) -> anyhow::Result<Vec<Pack>> {
        Ok(self.get::<Packs>("/v1/packs").await?.packs)
    }

    async fn balance(&self) -> anyhow::Result<i64> {
        Ok(self.get::<Balance>("/v1/credits").await?.balance)
    }

    async fn create_payment_link(&self, pack_id: &str) -> anyhow::Result<PaymentLink> {
        let choice = PackChoice {
            pack_id: pack_id.to_owned(),
        };
        self.with_body(Method::POST, "/v1/payment-links", &choice)
            .await
    }

    async fn payment_link(&self, id: &str) -> anyhow::Result<PaymentLink> {
        self.get(&id_path("/v1/payment-links", id, "")).await
    }

    async fn upload(&self, kind: UploadKind, bytes: Vec<u8>) -> anyhow::Result<Upload> {
        let bytes = bytes::Bytes::from(bytes);
        let response = self
            .send(|| {
                let part = reqwest::multipart::Part::stream(bytes.clone()).file_name("image");
                let form = reqwest::multipart::Form::new()
                    .text("kind", kind.as_str())
                    .part("file", part);
                self.request(Method::POST, "/v1/uploads").multipart(form)
            })
            .await?;
        self.json(response).await
    }

    async fn request_render(&self, request: RenderRequest) -> anyhow::Result<Job> {
        let accepted: JobAccepted = self
            .with_body(Method::POST, "/v1/renders", &request)
            .await?;
        Ok(accepted.job)
    }

    async fn run_job(&self, id: &str, progress: Progress<'_>) -> anyhow::Result<Job> {
        // The server's workers render it; this follows the job until it ends.
        let mut seen = None;
        loop {
            let job = self.job(id).await?;
            if seen != Some(job.status_seq) {
                seen = Some(job.status_seq);
                progress(&job);
            }
            if job.status.is_final() {
                return Ok(job);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn renders_elsewhere(&self) -> bool {
        true
    }

    async fn cancel_job(&self, id: &str) -> anyhow::Result<Job> {
        self.without_body(Method::POST, &id_path("/v1/jobs", id, "/cancel"))
            .await
    }

    async fn release_job(&self, _id: &str) -> anyhow::Result<()> {
        // Nothing to let go of: the job is the server's to work, and it goes on.
        Ok(())
    }

    async fn job(&self, id: &str) -> anyhow::Result<Job> {
        self.get(&id_path("/v1/jobs", id, "")).await
    }

    async fn jobs(&self, page: &ListQuery) -> anyhow::Result<List<Job>> {
        self.list("/v1/jobs", page).await
    }

    async fn renders(&self, selected_only: bool, page: &ListQuery) -> anyhow::Result<List<Render>> {
        let query = facetra_api::RenderQuery {
            selected: selected_only.then_some(true),
            portfolio_id: None,
            cursor: page.cursor.clone(),
            limit: page.limit,
        };
        self.list("/v1/renders", &query).await
    }

    async fn render(&self, id: &str) -> anyhow::Result<Render> {
        self.get(&id_path("/v1/renders", id, "")).await
    }

    async fn delete_render(&self, id: &str) -> anyhow::Result<()> {
        self.delete(&id_path("/v1/renders", id, "")).await
    }

    async fn select(&self, id: &str, selected: bool) -> anyhow::Result<Render> {
        let method = if selected {
            Method::POST
        } else {
            Method::DELETE
        };
        self.without_body(method, &id_path("/v1/renders", id, "/selection"))
            .await
    }

    async fn portfolios(&self, page: &ListQuery) -> anyhow::Result<List<Portfolio>> {
        self.list("/v1/portfolios", page).await
    }

    async fn portfolio(&self, id: &str) -> anyhow::Result<Portfolio> {
        self.get(&id_path("/v1/portfolios", id, "")).await
    }

    async fn create_portfolio(&self, name: &str) -> anyhow::Result<Portfolio> {
        let body = NameBody {
            name: name.to_owned(),
        };
        self.with_body(Method::POST, "/v1/portfolios", &body).await
    }

    async fn rename_portfolio(&self, id: &str, name: &str) -> anyhow::Result<Portfolio> {
        let body = NameBody {
            name: name.to_owned(),
        };
        self.with_body(Method::PATCH, &id_path("/v1/portfolios", id, ""), &body)
            .await
    }

    async fn delete_portfolio(&self, id: &str) -> anyhow::Result<()> {
        self.delete(&id_path("/v1/portfolios", id, "")).await
    }

    async fn set_portfolio_renders(
        &self,
        id: &str,
        render_ids: &[String],
    ) -> anyhow::Result<Portfolio> {
        let body = PortfolioRenders {
            render_ids: render_ids.to_vec(),
        };
        let path = id_path("/v1/portfolios", id, "/renders");
        self.with_body(Method::PUT, &path, &body).await
    }

    async fn download_render(
        &self,
        id: &str,
        sink: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> anyhow::Result<(Render, u64)> {
        let render = self.render(id).await?;
        let link: Download = self.get(&id_path("/v1/renders", id, "/download")).await?;
        let written = self.fetch_signed(&link.url, sink).await?;
        Ok((render, written))
    }

    async fn bom(&self, render: &str) -> anyhow::Result<Bom> {
        self.get(&id_path("/v1/renders", render, "/bom")).await
    }

    async fn bom_history(&self, render: &str, page: &ListQuery) -> anyhow::Result<List<Bom>> {
        self.list(&id_path("/v1/renders", render, "/bom/history"), page)
            .await
    }

    async fn generate_bom(&self, render: &str) -> anyhow::Result<Bom> {
        let path = id_path("/v1/renders", render, "/bom/generate");
        self.without_body(Method::POST, &path).await
    }

    async fn set_bom(
        &self,
        render: &str,
        version: i64,
        items: Vec<BomItem>,
    ) -> anyhow::Result<Bom> {
        let edit = BomEdit { version, items };
        let path = id_path("/v1/renders", render, "/bom");
        self.with_body(Method::PUT, &path, &edit).await
    }

    async fn transactions(&self, page: &ListQuery) -> anyhow::Result<List<Transaction>> {
        self.list("/v1/credits/transactions", page).await
    }

    async fn consents(&self) -> anyhow::Result<Consents> {
        self.get("/v1/me/consents").await
    }

    async fn set_consents(&self, wanted: &ConsentsBody) -> anyhow::Result<Consents> {
        self.with_body(Method::PUT, "/v1/me/consents", wanted).await
    }

    async fn create_token(&self, token: &NewToken) -> anyhow::Result<CreatedToken> {
        self.with_body(Method::POST, "/v1/tokens", token).await
    }

    async fn tokens(&self) -> anyhow::Result<Vec<Token>> {
        Ok(self.get::<Tokens>("/v1/tokens").await?.items)
    }

    async fn revoke_token(&self, id: &str) -> anyhow::Result<()> {
        self.delete(&id_path("/v1/tokens", id, "")).await
    }

    async fn privacy_request(&self, body: &PrivacyRequestBody) -> anyhow::Result<PrivacyRequest> {
        self.with_body(Method::POST, "/v1/privacy/requests", body)
            .await
    }

    async fn privacy_requests(&self, page: &ListQuery) -> anyhow::Result<List<PrivacyRequest>> {
        self.list("/v1/privacy/requests", page).await
    }

    async fn send_message(&self, message: &NewMessage) -> anyhow::Result<Message> {
        self.with_body(Method::POST, "/v1/messages", message).await
    }

    async fn messages(&self, page: &ListQuery) -> anyhow::Result<List<Message>> {
        self.list("/v1/messages", page).await
    }

    async fn message(&self, id: &str) -> anyhow::Result<Message> {
        self.get(&id_path("/v1/messages", id, "")).await
    }

    async fn reply_message(&self, id: &str, body: &str) -> anyhow::Result<Message> {
        let reply = ReplyBody {
            body: body.to_owned(),
        };
        let path = id_path("/v1/messages", id, "/replies");
        self.with_body(Method::POST, &path, &reply).await
    }

    async fn set_nominee(&self, name: &str, email: &str) -> anyhow::Result<Nominee> {
        let body = NomineeBody {
            name: name.to_owned(),
            email: email.to_owned(),
        };
        self.with_body(Method::PUT, "/v1/privacy/nominee", &body)
            .await
    }

    async fn nominee(&self) -> anyhow::Result<Option<Nominee>> {
        match self.get("/v1/privacy/nominee").await {
            Ok(n) => Ok(Some(n)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn clear_nominee(&self) -> anyhow::Result<bool> {
        match self.delete("/v1/privacy/nominee").await {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn privacy_export(
        &self,
        sink: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> anyhow::Result<PrivacyExport> {
        let mut export: PrivacyExport = self.get("/v1/privacy/export").await?;
        if export.url.is_none() {
            // None is kept: an access request builds one at once (as core's
            // `open_or_build_my_export` does on the embedded default).
            let ask = PrivacyRequestBody {
                kind: RequestType::Access,
                message: None,
            };
            let _: PrivacyRequest = self
                .with_body(Method::POST, "/v1/privacy/requests", &ask)
                .await?;
            export = self.get("/v1/privacy/export").await?;
        }
        let url = export.url.clone().ok_or_else(|| {
            anyhow::anyhow!(
                "{} made no export for the access request; ask again later",
                self.login.server
            )
        })?;
        self.fetch_signed(&url, sink).await?;
        Ok(export)
    }

    async fn close(&self) {}
}

fn is_not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<ApiFailure>()
        .is_some_and(|f| f.code == "not_found")
}
