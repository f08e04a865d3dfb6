//! The one interface under every command. `Embedded` runs the core in-process on the local
//! studio and acts as its owner; a remote client speaking the HTTP API implements the same
//! trait, so every command works the same either way.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use facetra_core::accounts::User;
use facetra_core::config::{keys, Config, Sources};
use facetra_core::credits::{LedgerEntry, Pack};
use facetra_core::paging::PageRequest;
use facetra_core::payments::LinkView;
use facetra_core::studio::bom::{Bom, BomItem};
use facetra_core::studio::jobs::Progress;
use facetra_core::studio::portfolios::Portfolio;
use facetra_core::studio::{Job, Render, RenderSpec, Upload, UploadKind};
use facetra_core::{Actor, Error, Facetra, OpenMode, SystemClock};
use serde::{Deserialize, Serialize};

use crate::cli::Global;

/// An account as the CLI shows it (the API's `User`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: String,
    pub email: String,
    pub name: String,
    pub avatar_url: Option<String>,
    pub roles: Vec<String>,
    pub status: String,
    pub created_at: String,
}

impl From<User> for UserInfo {
    fn from(u: User) -> Self {
        UserInfo {
            id: u.id.to_string(),
            email: u.email.as_str().to_owned(),
            name: u.name,
            avatar_url: u.avatar_url,
            roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            status: u.status.as_str().to_owned(),
            created_at: u.created_at.to_rfc3339_opts(chrono_secs(), true),
        }
    }
}

fn chrono_secs() -> chrono::SecondsFormat {
    chrono::SecondsFormat::Secs
}

/// A ledger entry as the CLI shows it (the API's transaction).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransactionInfo {
    pub id: String,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    pub reason: String,
    pub reference: Option<String>,
    pub created_at: String,
}

impl From<LedgerEntry> for TransactionInfo {
    fn from(e: LedgerEntry) -> Self {
        TransactionInfo {
            id: e.id.to_string(),
            kind: e.kind.as_str().to_owned(),
            amount: e.amount,
            balance_after: e.balance_after,
            reason: e.reason,
            reference: e.reference,
            created_at: e.created_at.to_rfc3339_opts(chrono_secs(), true),
        }
    }
}

/// An upload as the CLI shows it (the API's upload).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadInfo {
    pub id: String,
    pub kind: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    pub size: u64,
    pub sha256: String,
}

impl From<Upload> for UploadInfo {
    fn from(u: Upload) -> Self {
        UploadInfo {
            id: u.id.to_string(),
            kind: u.kind.as_str().to_owned(),
            mime: u.mime,
            width: u.width,
            height: u.height,
            size: u.size,
            sha256: u.sha256,
        }
    }
}

/// What every command can ask of Facetra.
#[async_trait]
pub trait Client: Send + Sync {
    /// The account this client acts as.
    async fn whoami(&self) -> anyhow::Result<UserInfo>;
    /// The packs on sale.
    async fn packs(&self) -> anyhow::Result<Vec<Pack>>;
    /// The balance.
    async fn balance(&self) -> anyhow::Result<i64>;
    /// Creates a payment link for a pack.
    async fn create_payment_link(&self, pack_id: &str) -> anyhow::Result<LinkView>;
    /// A payment link's state, reconciled with Razorpay.
    async fn payment_link(&self, id: &str) -> anyhow::Result<LinkView>;
    /// Uploads an image (a sketch or a reference).
    async fn upload(&self, kind: UploadKind, bytes: Vec<u8>) -> anyhow::Result<UploadInfo>;
    /// Queues a render job (credits are reserved).
    async fn request_render(&self, spec: RenderSpec) -> anyhow::Result<Job>;
    /// Drives a job to its end (the in-process worker on the embedded default), calling
    /// `progress` as variants finish.
    async fn run_job(&self, id: &str, progress: Progress<'_>) -> anyhow::Result<Job>;
    /// Lets go of a job this client was working (on Ctrl-C).
    async fn release_job(&self, id: &str) -> anyhow::Result<()>;
    /// A job as it is now.
    async fn job(&self, id: &str) -> anyhow::Result<Job>;
    /// Recent jobs, newest first.
    async fn jobs(&self, limit: usize) -> anyhow::Result<Vec<Job>>;
    /// A job's renders and their bytes.
    async fn job_renders(&self, id: &str) -> anyhow::Result<Vec<(Render, Vec<u8>)>>;
    /// The renders, newest first (only selected ones with `selected_only`).
    async fn renders(&self, selected_only: bool) -> anyhow::Result<Vec<Render>>;
    /// Selects or unselects a render.
    async fn select(&self, id: &str, selected: bool) -> anyhow::Result<Render>;
    /// The portfolios.
    async fn portfolios(&self) -> anyhow::Result<Vec<Portfolio>>;
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
    /// A render and its image.
    async fn render_bytes(&self, id: &str) -> anyhow::Result<(Render, Vec<u8>)>;
    /// A render's latest BOM.
    async fn bom(&self, render: &str) -> anyhow::Result<Bom>;
    /// Generates a new BOM version from the render's prompt.
    async fn generate_bom(&self, render: &str) -> anyhow::Result<Bom>;
    /// Saves an edit based on `version`.
    async fn set_bom(&self, render: &str, version: i64, items: Vec<BomItem>)
        -> anyhow::Result<Bom>;
    /// Ledger entries, newest first: one page and the cursor of the next.
    async fn transactions(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> anyhow::Result<(Vec<TransactionInfo>, Option<String>)>;
    /// Releases connections.
    async fn close(&self);
}

/// The configuration from the global flags and the environment.
pub fn load_config(global: &Global) -> anyhow::Result<Config> {
    let mut flags = BTreeMap::new();
    if let Some(dir) = &global.data_dir {
        flags.insert(keys::DATA_DIR.to_owned(), dir.display().to_string());
    }
    Ok(Config::load(Sources::from_process(
        flags,
        global.config.clone(),
    ))?)
}

/// Opens the local studio's core.
pub async fn open_embedded(config: Config, mode: OpenMode) -> anyhow::Result<Facetra> {
    let described = config.database.describe();
    Facetra::open(config, Arc::new(SystemClock), mode)
        .await
        .map_err(|e| match e {
            Error::Config(msg)
                if mode == OpenMode::MustExist && msg.starts_with("no Facetra database") =>
            {
                Error::Config("this studio is not set up yet: run `facetra init` first".into())
            }
            other => other,
        })
        .with_context(|| format!("opening {described}"))
}

/// The in-process client, acting as the local owner.
pub struct Embedded {
    facetra: Facetra,
    owner: Actor,
    /// This process's name as a worker, for the leases it takes.
    holder: String,
}

impl Embedded {
    /// Opens the existing local studio and finds its owner.
    pub async fn open(global: &Global) -> anyhow::Result<Embedded> {
        let facetra = open_embedded(load_config(global)?, OpenMode::MustExist).await?;
        let owner = match facetra.accounts().owner().await {
            Ok(Some(owner)) => owner,
            Ok(None) => {
                facetra.close().await;
                return Err(Error::Config(
                    "this studio is not set up yet: run `facetra init` first".into(),
                )
                .into());
            }
            Err(e) => {
                facetra.close().await;
                return Err(e.into());
            }
        };
        Ok(Embedded {
            facetra,
            owner: Actor::User(owner.id),
            holder: facetra_core::ids::random("cli"),
        })
    }
}

#[async_trait]
impl Client for Embedded {
    async fn whoami(&self) -> anyhow::Result<UserInfo> {
        Ok(self.facetra.accounts().me(&self.owner).await?.into())
    }

    async fn packs(&self) -> anyhow::Result<Vec<Pack>> {
        Ok(self.facetra.credits().packs().to_vec())
    }

    async fn balance(&self) -> anyhow::Result<i64> {
        Ok(self.facetra.credits().balance(&self.owner).await?)
    }

    async fn upload(&self, kind: UploadKind, bytes: Vec<u8>) -> anyhow::Result<UploadInfo> {
        Ok(self
            .facetra
            .studio()
            .upload(&self.owner, kind, bytes)
            .await?
            .into())
    }

    async fn request_render(&self, spec: RenderSpec) -> anyhow::Result<Job> {
        Ok(self.facetra.studio().request(&self.owner, &spec).await?)
    }

    async fn run_job(&self, id: &str, progress: Progress<'_>) -> anyhow::Result<Job> {
        Ok(self
            .facetra
            .studio()
            .run_job(&self.owner, id, &self.holder, progress)
            .await?)
    }

    async fn release_job(&self, id: &str) -> anyhow::Result<()> {
        self.facetra
            .studio()
            .release(&self.owner, id, &self.holder)
            .await?;
        Ok(())
    }

    async fn job(&self, id: &str) -> anyhow::Result<Job> {
        Ok(self.facetra.studio().job(&self.owner, id).await?)
    }

    async fn jobs(&self, limit: usize) -> anyhow::Result<Vec<Job>> {
        Ok(self.facetra.studio().jobs(&self.owner, limit).await?)
    }

    async fn job_renders(&self, id: &str) -> anyhow::Result<Vec<(Render, Vec<u8>)>> {
        Ok(self.facetra.studio().job_renders(&self.owner, id).await?)
    }

    async fn renders(&self, selected_only: bool) -> anyhow::Result<Vec<Render>> {
        Ok(self
            .facetra
            .studio()
            .renders(&self.owner, selected_only, 100)
            .await?)
    }

    async fn select(&self, id: &str, selected: bool) -> anyhow::Result<Render> {
        Ok(self
            .facetra
            .studio()
            .select(&self.owner, id, selected)
            .await?)
    }

    async fn portfolios(&self) -> anyhow::Result<Vec<Portfolio>> {
        Ok(self.facetra.studio().portfolios(&self.owner).await?)
    }

    async fn portfolio(&self, id: &str) -> anyhow::Result<Portfolio> {
        Ok(self.facetra.studio().portfolio(&self.owner, id).await?)
    }

    async fn create_portfolio(&self, name: &str) -> anyhow::Result<Portfolio> {
        Ok(self
            .facetra
            .studio()
            .create_portfolio(&self.owner, name)
            .await?)
    }

    async fn rename_portfolio(&self, id: &str, name: &str) -> anyhow::Result<Portfolio> {
        Ok(self
            .facetra
            .studio()
            .rename_portfolio(&self.owner, id, name)
            .await?)
    }

    async fn delete_portfolio(&self, id: &str) -> anyhow::Result<()> {
        Ok(self
            .facetra
            .studio()
            .delete_portfolio(&self.owner, id)
            .await?)
    }

    async fn set_portfolio_renders(
        &self,
        id: &str,
        render_ids: &[String],
    ) -> anyhow::Result<Portfolio> {
        Ok(self
            .facetra
            .studio()
            .set_portfolio_renders(&self.owner, id, render_ids)
            .await?)
    }

    async fn render_bytes(&self, id: &str) -> anyhow::Result<(Render, Vec<u8>)> {
        Ok(self.facetra.studio().render_bytes(&self.owner, id).await?)
    }

    async fn bom(&self, render: &str) -> anyhow::Result<Bom> {
        Ok(self.facetra.studio().bom(&self.owner, render).await?)
    }

    async fn generate_bom(&self, render: &str) -> anyhow::Result<Bom> {
        Ok(self
            .facetra
            .studio()
            .generate_bom(&self.owner, render)
            .await?)
    }

    async fn set_bom(
        &self,
        render: &str,
        version: i64,
        items: Vec<BomItem>,
    ) -> anyhow::Result<Bom> {
        Ok(self
            .facetra
            .studio()
            .set_bom(&self.owner, render, version, items)
            .await?)
    }

    async fn create_payment_link(&self, pack_id: &str) -> anyhow::Result<LinkView> {
        Ok(self
            .facetra
            .payments()
            .create_link(&self.owner, pack_id)
            .await?)
    }

    async fn payment_link(&self, id: &str) -> anyhow::Result<LinkView> {
        Ok(self.facetra.payments().link_status(&self.owner, id).await?)
    }

    async fn transactions(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> anyhow::Result<(Vec<TransactionInfo>, Option<String>)> {
        let page = PageRequest::parse(cursor, Some(limit))?;
        let page = self
            .facetra
            .credits()
            .transactions(&self.owner, &page)
            .await?;
        Ok((
            page.items.into_iter().map(Into::into).collect(),
            page.next.map(|c| c.encode()),
        ))
    }

    async fn close(&self) {
        // No server runs beside the embedded default: deliver what this command queued.
        if let Err(e) = self.facetra.mail().deliver_due(50).await {
            eprintln!("facetra: mail could not be delivered yet ({e}); it stays queued");
        }
        self.facetra.close().await;
    }
}

/// The client for this invocation.
pub async fn connect(global: &Global) -> anyhow::Result<Box<dyn Client>> {
    Ok(Box::new(Embedded::open(global).await?))
}
