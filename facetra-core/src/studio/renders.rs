//! Renders after they exist: list, get, select, delete (with their bytes), and downloads
//! through signed, expiring links that need no session.

use super::jobs::Render;
use super::store::RenderFilter;
use super::Studio;
use crate::blobs::{BlobMeta, BlobReader};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{BlobId, RenderId};
use crate::paging::{Page, PageRequest};
use crate::security::signed_url;
use crate::Actor;

impl Studio<'_> {
    /// The actor's renders, newest first.
    pub async fn renders(
        &self,
        actor: &Actor,
        selected_only: bool,
        page: &PageRequest,
    ) -> Result<Page<Render>> {
        let me = self.f.accounts().me(actor).await?;
        let filter = RenderFilter {
            selected_only,
            among: None,
        };
        self.f.store().renders.renders(&me.id, &filter, page).await
    }

    /// The renders of one of the actor's portfolios, newest first.
    pub async fn portfolio_renders(
        &self,
        actor: &Actor,
        portfolio: &str,
        selected_only: bool,
        page: &PageRequest,
    ) -> Result<Page<Render>> {
        let p = self.portfolio(actor, portfolio).await?;
        let filter = RenderFilter {
            selected_only,
            among: Some(p.render_ids),
        };
        self.f
            .store()
            .renders
            .renders(&p.user_id, &filter, page)
            .await
    }

    /// One of the actor's renders.
    pub async fn render(&self, actor: &Actor, id: &str) -> Result<Render> {
        let me = self.f.accounts().me(actor).await?;
        let id = RenderId::parse(id).ok_or(Error::NotFound("render"))?;
        self.f
            .store()
            .jobs
            .render(&me.id, &id)
            .await?
            .ok_or(Error::NotFound("render"))
    }

    /// Selects or unselects one of the actor's renders.
    pub async fn select(&self, actor: &Actor, id: &str, selected: bool) -> Result<Render> {
        let me = self.f.accounts().me(actor).await?;
        let id = RenderId::parse(id).ok_or(Error::NotFound("render"))?;
        self.f
            .store()
            .renders
            .set_selected(&me.id, &id, selected)
            .await?
            .ok_or(Error::NotFound("render"))
    }

    /// Deletes one of the actor's renders and its bytes; its links stop working.
    pub async fn delete_render(&self, actor: &Actor, id: &str) -> Result<()> {
        let me = self.f.accounts().me(actor).await?;
        let id = RenderId::parse(id).ok_or(Error::NotFound("render"))?;
        let gone = self
            .f
            .store()
            .renders
            .delete_render(&me.id, &id)
            .await?
            .ok_or(Error::NotFound("render"))?;
        self.f.store().blobs.delete_blob(&gone.blob_id).await?;
        self.forget_render(&me.id, &gone.id).await
    }

    /// One of the actor's renders with its bytes.
    pub async fn render_bytes(&self, actor: &Actor, id: &str) -> Result<(Render, Vec<u8>)> {
        use tokio::io::AsyncReadExt;
        let render = self.render(actor, id).await?;
        let (_, mut reader) = self
            .f
            .store()
            .blobs
            .open_blob(&render.blob_id)
            .await?
            .ok_or(Error::NotFound("render"))?;
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await?;
        Ok((render, bytes))
    }

    /// A signed link to one of the actor's renders: the path with its query, and its expiry.
    pub async fn download_link(&self, actor: &Actor, id: &str) -> Result<(String, Timestamp)> {
        let render = self.render(actor, id).await?;
        let expires = self.f.now() + chrono::Duration::seconds(self.f.config().link_ttl_secs);
        let query = signed_url::sign(self.f.keys(), render.blob_id.as_str(), expires.timestamp());
        Ok((format!("/files/{}?{query}", render.blob_id), expires))
    }

    /// Opens a file through a signed link: the signature, then the expiry, then whether the
    /// blob and its active owner still exist (404 otherwise).
    pub async fn open_signed(
        &self,
        blob: &str,
        exp: Option<&str>,
        kid: Option<&str>,
        sig: Option<&str>,
    ) -> Result<(BlobMeta, BlobReader)> {
        signed_url::verify(self.f.keys(), blob, exp, kid, sig, self.f.now())?;
        let id = BlobId::parse(blob).ok_or(Error::NotFound("file"))?;
        let Some((meta, reader)) = self.f.store().blobs.open_blob(&id).await? else {
            return Err(Error::NotFound("file"));
        };
        if !self.f.accounts().is_active(&meta.owner).await? {
            return Err(Error::NotFound("file"));
        }
        Ok((meta, reader))
    }
}
