//! The one interface under every command, in the HTTP API's own types (`facetra-api`), so a
//! command prints the same JSON whichever client it runs on, and the same JSON the server
//! answers. [`Embedded`] runs the core in-process on the local studio and acts as its owner;
//! [`Remote`] speaks the HTTP API to a `facetra-server` with an API token. Which one a command
//! gets is decided once, in [`connect`]: remote when `--server`, `FACETRA_SERVER` or a saved
//! login says so, embedded otherwise.

mod credentials;
mod embedded;
mod remote;

use async_trait::async_trait;
use facetra_api::{
    Bom, BomItem, Consents, ConsentsBody, CreatedToken, Job, List, ListQuery, Message, NewMessage,
    NewToken, Nominee, Pack, PaymentLink, Portfolio, PrivacyExport, PrivacyRequest,
    PrivacyRequestBody, Render, RenderRequest, Token, Transaction, Upload, User,
};
use facetra_core::studio::UploadKind;

pub use credentials::{normalise_server, Credentials, Login, TOKEN_ENV};
pub use embedded::{load_config, open_embedded, sources, Embedded};
pub use remote::{ApiFailure, Remote};

use crate::cli::Global;

/// Called with the job as it stands while it is worked (progress bars).
pub type Progress<'a> = &'a (dyn Fn(&Job) + Send + Sync);

/// What every command can ask of Facetra.
#[async_trait]
pub trait Client: Send + Sync {
    /// The account this client acts as.
    async fn whoami(&self) -> anyhow::Result<User>;
    /// Changes the account's name.
    async fn rename_me(&self, name: &str) -> anyhow::Result<User>;
    /// The packs on sale.
    async fn packs(&self) -> anyhow::Result<Vec<Pack>>;
    /// The balance.
    async fn balance(&self) -> anyhow::Result<i64>;
    /// Creates a payment link for a pack.
    async fn create_payment_link(&self, pack_id: &str) -> anyhow::Result<PaymentLink>;
    /// A payment link's state, reconciled with Razorpay.
    async fn payment_link(&self, id: &str) -> anyhow::Result<PaymentLink>;
    /// Uploads an image (a sketch or a reference).
    async fn upload(&self, kind: UploadKind, bytes: Vec<u8>) -> anyhow::Result<Upload>;
    /// Queues a render job (credits are reserved).
    async fn request_render(&self, request: RenderRequest) -> anyhow::Result<Job>;
    /// Drives a job to its end (the in-process worker on the embedded default), calling
    /// `progress` as variants finish.
    async fn run_job(&self, id: &str, progress: Progress<'_>) -> anyhow::Result<Job>;
    /// Whether jobs are rendered somewhere else (a server's workers) and go on when this
    /// command stops following them.
    fn renders_elsewhere(&self) -> bool {
        false
    }
    /// Cancels a job: the variants not yet finished are refunded.
    async fn cancel_job(&self, id: &str) -> anyhow::Result<Job>;
    /// Lets go of a job this client was working (on Ctrl-C).
    async fn release_job(&self, id: &str) -> anyhow::Result<()>;
    /// A job as it is now.
    async fn job(&self, id: &str) -> anyhow::Result<Job>;
    /// One page of jobs, newest first.
    async fn jobs(&self, page: &ListQuery) -> anyhow::Result<List<Job>>;
    /// One page of renders, newest first (only selected ones with `selected_only`).
    async fn renders(&self, selected_only: bool, page: &ListQuery) -> anyhow::Result<List<Render>>;
    /// One render (its record, not its image).
    async fn render(&self, id: &str) -> anyhow::Result<Render>;
    /// Deletes a render and its image.
    async fn delete_render(&self, id: &str) -> anyhow::Result<()>;
    /// Selects or unselects a render.
    async fn select(&self, id: &str, selected: bool) -> anyhow::Result<Render>;
    /// One page of portfolios, newest first.
    async fn portfolios(&self, page: &ListQuery) -> anyhow::Result<List<Portfolio>>;
    /// One portfolio.
    async fn portfolio(&self, id: &str) -> anyhow::Result<Portfolio>;
    /// Creates a portfolio.
    async fn create_portfolio(&self, name: &str) -> anyhow::Result<Portfolio>;
    /// Renames a portfolio.
    async fn rename_portfolio(&self, id: &str, name: &str) -> anyhow::Result<Portfolio>;
    /// Deletes a portfolio.
    async fn delete_portfolio(&self, id: &str) -> anyhow::Result<()>;
    /// Replaces a portfolio's renders, in order.
    async fn set_portfolio_renders(
        &self,
        id: &str,
        render_ids: &[String],
    ) -> anyhow::Result<Portfolio>;
    /// A render, its image copied to `sink` as it arrives; how many bytes.
    async fn download_render(
        &self,
        id: &str,
        sink: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> anyhow::Result<(Render, u64)>;
    /// A render's latest BOM.
    async fn bom(&self, render: &str) -> anyhow::Result<Bom>;
    /// One page of a render's BOM versions, newest first.
    async fn bom_history(&self, render: &str, page: &ListQuery) -> anyhow::Result<List<Bom>>;
    /// Generates a new BOM version from the render's prompt.
    async fn generate_bom(&self, render: &str) -> anyhow::Result<Bom>;
    /// Saves an edit based on `version`.
    async fn set_bom(&self, render: &str, version: i64, items: Vec<BomItem>)
        -> anyhow::Result<Bom>;
    /// One page of ledger entries, newest first.
    async fn transactions(&self, page: &ListQuery) -> anyhow::Result<List<Transaction>>;
    /// The account's consents.
    async fn consents(&self) -> anyhow::Result<Consents>;
    /// Gives or withdraws consents (`None` leaves one as it is).
    async fn set_consents(&self, wanted: &ConsentsBody) -> anyhow::Result<Consents>;
    /// Creates an API token (its secret is in this answer only).
    async fn create_token(&self, token: &NewToken) -> anyhow::Result<CreatedToken>;
    /// The account's API tokens, newest first.
    async fn tokens(&self) -> anyhow::Result<Vec<Token>>;
    /// Revokes an API token.
    async fn revoke_token(&self, id: &str) -> anyhow::Result<()>;
    /// Makes a privacy request (verified by this client's own sign-in).
    async fn privacy_request(&self, body: &PrivacyRequestBody) -> anyhow::Result<PrivacyRequest>;
    /// The account's privacy requests, newest first.
    async fn privacy_requests(&self, page: &ListQuery) -> anyhow::Result<List<PrivacyRequest>>;
    /// Writes to Facetra (a grievance also opens a grievance privacy request).
    async fn send_message(&self, message: &NewMessage) -> anyhow::Result<Message>;
    /// The account's message threads, newest first.
    async fn messages(&self, page: &ListQuery) -> anyhow::Result<List<Message>>;
    /// One thread with its answers.
    async fn message(&self, id: &str) -> anyhow::Result<Message>;
    /// Writes more in a thread.
    async fn reply_message(&self, id: &str, body: &str) -> anyhow::Result<Message>;
    /// Names (or replaces) the account's nominee.
    async fn set_nominee(&self, name: &str, email: &str) -> anyhow::Result<Nominee>;
    /// The account's nominee, if one is named.
    async fn nominee(&self) -> anyhow::Result<Option<Nominee>>;
    /// Removes the account's nominee; whether there was one.
    async fn clear_nominee(&self) -> anyhow::Result<bool>;
    /// The account's export (built by an access request when none is kept), copied to `sink`.
    async fn privacy_export(
        &self,
        sink: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> anyhow::Result<PrivacyExport>;
    /// Releases connections.
    async fn close(&self);
}

/// Where this invocation's commands go.
pub enum Target {
    /// The local studio.
    Embedded,
    /// A server, with its token.
    Remote(Login),
}

/// Remote when `--server`/`FACETRA_SERVER` or a saved login names a server, else embedded.
pub fn target(global: &Global) -> anyhow::Result<Target> {
    Ok(match Credentials::resolve(global)? {
        Some(login) => Target::Remote(login),
        None => Target::Embedded,
    })
}

/// The client for this invocation.
pub async fn connect(global: &Global) -> anyhow::Result<Box<dyn Client>> {
    Ok(match target(global)? {
        Target::Remote(login) => Box::new(Remote::new(login)?),
        Target::Embedded => Box::new(Embedded::open(global).await?),
    })
}
