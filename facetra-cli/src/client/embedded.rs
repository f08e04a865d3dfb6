//! The in-process client: the core on the local studio, acting as its owner.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use facetra_api::{
    Bom, BomItem, Consents, ConsentsBody, CreatedToken, Job, List, ListQuery, Message, NewMessage,
    NewToken, Nominee, Pack, PaymentLink, Portfolio, PrivacyExport, PrivacyRequest,
    PrivacyRequestBody, Render, RenderRequest, Token, Transaction, Upload, User,
};
use facetra_core::config::{keys, Config, Sources};
use facetra_core::paging::PageRequest;
use facetra_core::studio::UploadKind;
use facetra_core::{Actor, Error, Facetra, OpenMode, SystemClock};

use super::{Client, Progress};
use crate::cli::Global;

/// Where the configuration comes from: the global flags, the environment, the file.
pub fn sources(global: &Global) -> Sources {
    let mut flags = BTreeMap::new();
    if let Some(dir) = &global.data_dir {
        flags.insert(keys::DATA_DIR.to_owned(), dir.display().to_string());
    }
    Sources::from_process(flags, global.config.clone())
}

/// The configuration from the global flags and the environment.
pub fn load_config(global: &Global) -> anyhow::Result<Config> {
    let config = Config::load(sources(global))?;
    for warning in &config.warnings {
        eprintln!("facetra: warning: {warning}");
    }
    Ok(config)
}

/// Opens the local studio's core.
pub async fn open_embedded(config: Config, mode: OpenMode) -> anyhow::Result<Facetra> {
    let described = config.database.describe();
    tracing::debug!(database = %described, "opening the store");
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
        .map_err(Into::into)
}

/// The in-process client, acting as the local owner.
pub struct Embedded {
    facetra: Facetra,
    owner: Actor,
    /// This process's name as a worker, for the leases it takes.
    holder: String,
}

impl Embedded {
    /// A client on an opened studio, acting as its owner.
    pub fn new(facetra: Facetra, owner: &facetra_core::accounts::User) -> Embedded {
        Embedded {
            facetra,
            owner: Actor::User(owner.id.clone()),
            holder: facetra_core::ids::random("cli"),
        }
    }

    /// Opens the existing local studio and finds its owner.
    pub async fn open(global: &Global) -> anyhow::Result<Embedded> {
        let facetra = open_embedded(load_config(global)?, OpenMode::MustExist).await?;
        match facetra.accounts().owner().await {
            Ok(Some(owner)) => Ok(Embedded::new(facetra, &owner)),
            Ok(None) => {
                facetra.close().await;
                Err(
                    Error::Config("this studio is not set up yet: run `facetra init` first".into())
                        .into(),
                )
            }
            Err(e) => {
                facetra.close().await;
                Err(e.into())
            }
        }
    }
}

/// Core's page request for a list query (a bad cursor or limit is the user's to fix).
fn page(q: &ListQuery) -> anyhow::Result<PageRequest> {
    Ok(q.page()?)
}

#[async_trait]
impl Client for Embedded {
    async fn whoami(&self) -> anyhow::Result<User> {
        Ok(self.facetra.accounts().me(&self.owner).await?.into())
    }

    async fn rename_me(&self, name: &str) -> anyhow::Result<User> {
        let accounts = self.facetra.accounts();
        Ok(accounts.update_name(&self.owner, name).await?.into())
    }

    async fn packs(&self) -> anyhow::Result<Vec<Pack>> {
        Ok(self
            .facetra
            .credits()
            .packs()
            .iter()
            .map(Pack::from)
            .collect())
    }

    async fn balance(&self) -> anyhow::Result<i64> {
        Ok(self.facetra.credits().balance(&self.owner).await?)
    }

    async fn upload(&self, kind: UploadKind, bytes: Vec<u8>) -> anyhow::Result<Upload> {
        Ok(self
            .facetra
            .studio()
            .upload(&self.owner, kind, bytes)
            .await?
            .into())
    }

    async fn request_render(&self, request: RenderRequest) -> anyhow::Result<Job> {
        Ok(self
            .facetra
            .studio()
            .request(&self.owner, &request.into())
            .await?
            .into())
    }

    async fn run_job(&self, id: &str, progress: Progress<'_>) -> anyhow::Result<Job> {
        let report = |job: &facetra_core::studio::Job| progress(&Job::from(job.clone()));
        Ok(self
            .facetra
            .studio()
            .run_job(&self.owner, id, &self.holder, &report)
            .await?
            .into())
    }

    async fn cancel_job(&self, id: &str) -> anyhow::Result<Job> {
        Ok(self.facetra.studio().cancel(&self.owner, id).await?.into())
    }

    async fn release_job(&self, id: &str) -> anyhow::Result<()> {
        self.facetra
            .studio()
            .release(&self.owner, id, &self.holder)
            .await?;
        Ok(())
    }

    async fn job(&self, id: &str) -> anyhow::Result<Job> {
        Ok(self.facetra.studio().job(&self.owner, id).await?.into())
    }

    async fn jobs(&self, q: &ListQuery) -> anyhow::Result<List<Job>> {
        let found = self.facetra.studio().jobs(&self.owner, &page(q)?).await?;
        Ok(List::from_page(found))
    }

    async fn renders(&self, selected_only: bool, q: &ListQuery) -> anyhow::Result<List<Render>> {
        let found = self
            .facetra
            .studio()
            .renders(&self.owner, selected_only, &page(q)?)
            .await?;
        Ok(List::from_page(found))
    }

    async fn render(&self, id: &str) -> anyhow::Result<Render> {
        Ok(self.facetra.studio().render(&self.owner, id).await?.into())
    }

    async fn delete_render(&self, id: &str) -> anyhow::Result<()> {
        Ok(self.facetra.studio().delete_render(&self.owner, id).await?)
    }

    async fn select(&self, id: &str, selected: bool) -> anyhow::Result<Render> {
        Ok(self
            .facetra
            .studio()
            .select(&self.owner, id, selected)
            .await?
            .into())
    }

    async fn portfolios(&self, q: &ListQuery) -> anyhow::Result<List<Portfolio>> {
        let found = self
            .facetra
            .studio()
            .portfolios(&self.owner, &page(q)?)
            .await?;
        Ok(List::from_page(found))
    }

    async fn portfolio(&self, id: &str) -> anyhow::Result<Portfolio> {
        Ok(self
            .facetra
            .studio()
            .portfolio(&self.owner, id)
            .await?
            .into())
    }

    async fn create_portfolio(&self, name: &str) -> anyhow::Result<Portfolio> {
        Ok(self
            .facetra
            .studio()
            .create_portfolio(&self.owner, name)
            .await?
            .into())
    }

    async fn rename_portfolio(&self, id: &str, name: &str) -> anyhow::Result<Portfolio> {
        Ok(self
            .facetra
            .studio()
            .rename_portfolio(&self.owner, id, name)
            .await?
            .into())
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
            .await?
            .into())
    }

    async fn download_render(
        &self,
        id: &str,
        sink: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> anyhow::Result<(Render, u64)> {
        use tokio::io::AsyncWriteExt;
        let (render, bytes) = self.facetra.studio().render_bytes(&self.owner, id).await?;
        sink.write_all(&bytes).await?;
        sink.flush().await?;
        Ok((render.into(), bytes.len() as u64))
    }

    async fn bom(&self, render: &str) -> anyhow::Result<Bom> {
        Ok(self.facetra.studio().bom(&self.owner, render).await?.into())
    }

    async fn bom_history(&self, render: &str, q: &ListQuery) -> anyhow::Result<List<Bom>> {
        let studio = self.facetra.studio();
        let found = studio.bom_history(&self.owner, render, &page(q)?).await?;
        Ok(List::from_page(found))
    }

    async fn generate_bom(&self, render: &str) -> anyhow::Result<Bom> {
        Ok(self
            .facetra
            .studio()
            .generate_bom(&self.owner, render)
            .await?
            .into())
    }

    async fn set_bom(
        &self,
        render: &str,
        version: i64,
        items: Vec<BomItem>,
    ) -> anyhow::Result<Bom> {
        let items = items.into_iter().map(Into::into).collect();
        Ok(self
            .facetra
            .studio()
            .set_bom(&self.owner, render, version, items)
            .await?
            .into())
    }

    async fn create_payment_link(&self, pack_id: &str) -> anyhow::Result<PaymentLink> {
        Ok(self
            .facetra
            .payments()
            .create_link(&self.owner, pack_id)
            .await?
            .into())
    }

    async fn payment_link(&self, id: &str) -> anyhow::Result<PaymentLink> {
        Ok(self
            .facetra
            .payments()
            .link_status(&self.owner, id)
            .await?
            .into())
    }

    async fn transactions(&self, q: &ListQuery) -> anyhow::Result<List<Transaction>> {
        let found = self
            .facetra
            .credits()
            .transactions(&self.owner, &page(q)?)
            .await?;
        Ok(List::from_page(found))
    }

    async fn consents(&self) -> anyhow::Result<Consents> {
        let me = self.facetra.accounts().me(&self.owner).await?;
        Ok(Consents::from(&me.consents))
    }

    async fn set_consents(&self, wanted: &ConsentsBody) -> anyhow::Result<Consents> {
        let me = self
            .facetra
            .accounts()
            .set_consents(&self.owner, wanted.analytics, wanted.marketing, "cli")
            .await?;
        Ok(Consents::from(&me.consents))
    }

    async fn create_token(&self, token: &NewToken) -> anyhow::Result<CreatedToken> {
        Ok(self
            .facetra
            .accounts()
            .create_token(
                &self.owner,
                &token.name,
                token.expires_in_days,
                &token.scopes,
            )
            .await?
            .into())
    }

    async fn tokens(&self) -> anyhow::Result<Vec<Token>> {
        let tokens = self.facetra.accounts().tokens(&self.owner).await?;
        Ok(tokens.into_iter().map(Token::from).collect())
    }

    async fn revoke_token(&self, id: &str) -> anyhow::Result<()> {
        Ok(self
            .facetra
            .accounts()
            .revoke_token(&self.owner, id)
            .await?)
    }

    async fn privacy_request(&self, body: &PrivacyRequestBody) -> anyhow::Result<PrivacyRequest> {
        Ok(self
            .facetra
            .privacy()
            .ask(&self.owner, body.kind, body.message.as_deref())
            .await?
            .into())
    }

    async fn privacy_requests(&self, page: &ListQuery) -> anyhow::Result<List<PrivacyRequest>> {
        let found = self
            .facetra
            .privacy()
            .my_requests(&self.owner, &page.page()?)
            .await?;
        Ok(List::from_page(found))
    }

    async fn send_message(&self, m: &NewMessage) -> anyhow::Result<Message> {
        let messages = self.facetra.messages();
        Ok(messages
            .send(&self.owner, m.kind, &m.subject, &m.body)
            .await?
            .into())
    }

    async fn messages(&self, page: &ListQuery) -> anyhow::Result<List<Message>> {
        let messages = self.facetra.messages();
        Ok(List::from_page(
            messages.mine(&self.owner, &page.page()?).await?,
        ))
    }

    async fn message(&self, id: &str) -> anyhow::Result<Message> {
        Ok(self.facetra.messages().get(&self.owner, id).await?.into())
    }

    async fn reply_message(&self, id: &str, body: &str) -> anyhow::Result<Message> {
        let messages = self.facetra.messages();
        Ok(messages.reply(&self.owner, id, body).await?.into())
    }

    async fn set_nominee(&self, name: &str, email: &str) -> anyhow::Result<Nominee> {
        let privacy = self.facetra.privacy();
        Ok(privacy.set_nominee(&self.owner, name, email).await?.into())
    }

    async fn nominee(&self) -> anyhow::Result<Option<Nominee>> {
        let privacy = self.facetra.privacy();
        Ok(privacy.my_nominee(&self.owner).await?.map(Nominee::from))
    }

    async fn clear_nominee(&self) -> anyhow::Result<bool> {
        Ok(self.facetra.privacy().clear_nominee(&self.owner).await?)
    }

    async fn privacy_export(
        &self,
        sink: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> anyhow::Result<PrivacyExport> {
        let privacy = self.facetra.privacy();
        let (_, mut reader) = privacy.open_or_build_my_export(&self.owner).await?;
        tokio::io::copy(&mut reader, sink).await?;
        Ok(privacy.my_export(&self.owner).await?.into())
    }

    async fn close(&self) {
        // No server runs beside the embedded default: deliver what this command queued.
        if let Err(e) = self.facetra.mail().deliver_due(50).await {
            eprintln!("facetra: mail could not be delivered yet ({e}); it stays queued");
        }
        self.facetra.close().await;
    }
}
