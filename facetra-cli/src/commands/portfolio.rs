//! `facetra portfolio list|create|rename|delete|add|remove|show`.

use facetra_api::{List, Portfolio};
use facetra_core::Error;

use crate::cli::Global;
use crate::client::{connect, Client};
use crate::commands::confirm;
use crate::output;

/// Named, ordered collections of your renders.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// List your portfolios.
    List {
        #[command(flatten)]
        page: crate::cli::Paging,
    },
    /// Create an empty portfolio.
    Create {
        /// Its name.
        name: String,
    },
    /// Rename a portfolio.
    Rename {
        /// The portfolio: its id (pfl_…) or its name.
        id: String,
        /// The new name.
        name: String,
    },
    /// Delete a portfolio (its renders stay); asks first.
    Delete {
        /// The portfolio: its id (pfl_…) or its name.
        id: String,
        /// Do not ask first.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Add renders at the end of a portfolio.
    Add {
        /// The portfolio: its id (pfl_…) or its name.
        id: String,
        /// Render ids (rnd_…).
        #[arg(required = true)]
        renders: Vec<String>,
    },
    /// Take renders out of a portfolio.
    Remove {
        /// The portfolio: its id (pfl_…) or its name.
        id: String,
        /// Render ids (rnd_…).
        #[arg(required = true)]
        renders: Vec<String>,
    },
    /// Show a portfolio and its renders in order (by id or by name).
    Show {
        /// The portfolio: its id (pfl_…) or its name.
        id: String,
    },
}

fn table(portfolios: &[Portfolio]) {
    let mut t = output::table(&["id", "name", "renders"]);
    for p in portfolios {
        t.add_row(vec![p.id.clone(), p.name.clone(), p.render_ids.join("\n")]);
    }
    println!("{t}");
}

/// What a portfolio command shows: a page of them, one, or nothing.
enum Shown {
    Page(List<Portfolio>),
    One(Portfolio),
    Deleted,
    Kept,
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = self.apply(client.as_ref()).await;
        client.close().await;
        match result? {
            Shown::Page(list) if global.json => output::json(&list),
            Shown::Page(list) => {
                table(&list.items);
                output::more(list.next_cursor.as_deref(), "facetra portfolio list");
                Ok(())
            }
            Shown::One(p) if global.json => output::json(&p),
            Shown::One(p) => {
                table(std::slice::from_ref(&p));
                Ok(())
            }
            Shown::Kept => {
                eprintln!("Nothing was deleted.");
                Ok(())
            }
            Shown::Deleted => {
                if !global.json {
                    println!("deleted");
                }
                Ok(())
            }
        }
    }

    async fn apply(&self, c: &dyn Client) -> anyhow::Result<Shown> {
        Ok(Shown::One(match self {
            Cmd::List { page } => return Ok(Shown::Page(c.portfolios(&page.query()).await?)),
            Cmd::Create { name } => c.create_portfolio(name).await?,
            Cmd::Rename { id, name } => {
                let p = find(c, id).await?;
                c.rename_portfolio(&p.id, name).await?
            }
            Cmd::Delete { id, yes } => {
                let p = find(c, id).await?;
                let question = format!(
                    "Delete the portfolio {:?} ({})? Its renders stay.",
                    p.name,
                    output::count(p.render_ids.len() as i64, "render")
                );
                if !*yes && !confirm(&question)? {
                    return Ok(Shown::Kept);
                }
                c.delete_portfolio(&p.id).await?;
                return Ok(Shown::Deleted);
            }
            Cmd::Add { id, renders } => {
                let p = find(c, id).await?;
                let mut ids = p.render_ids;
                ids.extend(renders.iter().cloned());
                c.set_portfolio_renders(&p.id, &ids).await?
            }
            Cmd::Remove { id, renders } => {
                let p = find(c, id).await?;
                let mut ids = p.render_ids;
                ids.retain(|r| !renders.contains(r));
                c.set_portfolio_renders(&p.id, &ids).await?
            }
            Cmd::Show { id } => find(c, id).await?,
        }))
    }
}

/// A portfolio by its id (pfl_…) or, failing that, by its name (any case).
async fn find(c: &dyn Client, id_or_name: &str) -> anyhow::Result<Portfolio> {
    if id_or_name.starts_with("pfl_") {
        return c.portfolio(id_or_name).await;
    }
    let mut query = facetra_api::ListQuery {
        cursor: None,
        limit: Some(100),
    };
    loop {
        let page = c.portfolios(&query).await?;
        let wanted = id_or_name.trim().to_lowercase();
        if let Some(p) = page
            .items
            .into_iter()
            .find(|p| p.name.to_lowercase() == wanted)
        {
            return Ok(p);
        }
        match page.next_cursor {
            Some(next) => query.cursor = Some(next),
            None => return Err(Error::NotFound("portfolio").into()),
        }
    }
}
