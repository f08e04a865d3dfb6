//! Portfolios: named, ordered collections of the owner's renders. A portfolio never holds
//! another user's render, and a deleted render leaves every portfolio it was in.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Studio;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{PortfolioId, RenderId, UserId};
use crate::paging::{Page, PageRequest};
use crate::Actor;

/// A portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    pub id: PortfolioId,
    pub user_id: UserId,
    pub name: String,
    /// In the owner's chosen order.
    pub render_ids: Vec<RenderId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Persistence for portfolios; every method is scoped to the owner.
#[async_trait]
pub trait PortfolioStore: Send + Sync {
    async fn insert_portfolio(&self, p: &Portfolio) -> Result<()>;
    async fn portfolio(&self, owner: &UserId, id: &PortfolioId) -> Result<Option<Portfolio>>;
    /// The owner's portfolios, newest first, keyset-paged.
    async fn portfolios(&self, owner: &UserId, page: &PageRequest) -> Result<Page<Portfolio>>;
    /// Replaces a portfolio's name and renders; false when it is not the owner's.
    async fn update_portfolio(&self, p: &Portfolio) -> Result<bool>;
    async fn delete_portfolio(&self, owner: &UserId, id: &PortfolioId) -> Result<bool>;
}

/// The most renders a portfolio holds.
pub const MAX_RENDERS: usize = 500;

fn parse_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

impl Studio<'_> {
    /// Refuses `name` when another of the owner's portfolios (not `except`) has it, in any
    /// case: a name is how a person finds a portfolio again (`facetra portfolio show NAME`).
    async fn name_is_free(
        &self,
        owner: &UserId,
        name: &str,
        except: Option<&PortfolioId>,
    ) -> Result<()> {
        let mut page = PageRequest {
            after: None,
            limit: PageRequest::MAX_LIMIT,
        };
        loop {
            let found = self.f.store().portfolios.portfolios(owner, &page).await?;
            let taken = found
                .items
                .iter()
                .any(|p| Some(&p.id) != except && p.name.to_lowercase() == name.to_lowercase());
            if taken {
                return Err(Error::Conflict(format!(
                    "you already have a portfolio named {name:?}; choose another name"
                )));
            }
            match found.next {
                Some(next) => page.after = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// Creates an empty portfolio.
    pub async fn create_portfolio(&self, actor: &Actor, name: &str) -> Result<Portfolio> {
        let me = self.f.accounts().me(actor).await?;
        let name = parse_name(name)?;
        self.name_is_free(&me.id, &name, None).await?;
        let now = self.f.now();
        let p = Portfolio {
            id: PortfolioId::new(now),
            user_id: me.id,
            name,
            render_ids: vec![],
            created_at: now,
            updated_at: now,
        };
        self.f.store().portfolios.insert_portfolio(&p).await?;
        Ok(p)
    }

    /// The actor's portfolios, newest first.
    pub async fn portfolios(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Portfolio>> {
        let me = self.f.accounts().me(actor).await?;
        self.f.store().portfolios.portfolios(&me.id, page).await
    }

    /// One of the actor's portfolios.
    pub async fn portfolio(&self, actor: &Actor, id: &str) -> Result<Portfolio> {
        let me = self.f.accounts().me(actor).await?;
        let id = PortfolioId::parse(id).ok_or(Error::NotFound("portfolio"))?;
        self.f
            .store()
            .portfolios
            .portfolio(&me.id, &id)
            .await?
            .ok_or(Error::NotFound("portfolio"))
    }

    /// Renames a portfolio.
    pub async fn rename_portfolio(&self, actor: &Actor, id: &str, name: &str) -> Result<Portfolio> {
        let mut p = self.portfolio(actor, id).await?;
        p.name = parse_name(name)?;
        self.name_is_free(&p.user_id, &p.name, Some(&p.id)).await?;
        p.updated_at = self.f.now();
        self.save(p).await
    }

    /// Replaces a portfolio's renders (in this order); each must be the actor's.
    pub async fn set_portfolio_renders(
        &self,
        actor: &Actor,
        id: &str,
        render_ids: &[String],
    ) -> Result<Portfolio> {
        // The cap comes before any lookup: a list of a million ids costs nothing.
        if render_ids.len() > MAX_RENDERS {
            return Err(Error::invalid(
                "render_ids",
                format!("a portfolio holds at most {MAX_RENDERS} renders"),
            ));
        }
        let mut p = self.portfolio(actor, id).await?;
        let mut ids: Vec<RenderId> = Vec::new();
        for r in render_ids {
            let render = self.render(actor, r).await?;
            if !ids.contains(&render.id) {
                ids.push(render.id);
            }
        }
        p.render_ids = ids;
        p.updated_at = self.f.now();
        self.save(p).await
    }

    async fn save(&self, p: Portfolio) -> Result<Portfolio> {
        if !self.f.store().portfolios.update_portfolio(&p).await? {
            return Err(Error::NotFound("portfolio"));
        }
        Ok(p)
    }

    /// Deletes a portfolio (its renders stay).
    pub async fn delete_portfolio(&self, actor: &Actor, id: &str) -> Result<()> {
        let p = self.portfolio(actor, id).await?;
        if !self
            .f
            .store()
            .portfolios
            .delete_portfolio(&p.user_id, &p.id)
            .await?
        {
            return Err(Error::NotFound("portfolio"));
        }
        Ok(())
    }

    /// Takes a deleted render out of the owner's portfolios.
    pub(crate) async fn forget_render(&self, owner: &UserId, render: &RenderId) -> Result<()> {
        let store = &self.f.store().portfolios;
        let mut page = PageRequest {
            after: None,
            limit: PageRequest::MAX_LIMIT,
        };
        loop {
            let found = store.portfolios(owner, &page).await?;
            for mut p in found.items {
                if p.render_ids.contains(render) {
                    p.render_ids.retain(|r| r != render);
                    p.updated_at = self.f.now();
                    store.update_portfolio(&p).await?;
                }
            }
            match found.next {
                Some(next) => page.after = Some(next),
                None => return Ok(()),
            }
        }
    }
}
