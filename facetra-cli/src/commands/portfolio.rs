//! `facetra portfolio list|create|rename|delete|add|remove|show`.

use facetra_api::{List, Portfolio};

use crate::cli::Global;
use crate::client::{connect, Client};
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
        /// The portfolio id (pfl_…).
        id: String,
        /// The new name.
        name: String,
    },
    /// Delete a portfolio (its renders stay).
    Delete {
        /// The portfolio id (pfl_…).
        id: String,
    },
    /// Add renders at the end of a portfolio.
    Add {
        /// The portfolio id (pfl_…).
        id: String,
        /// Render ids (rnd_…).
        #[arg(required = true)]
        renders: Vec<String>,
    },
    /// Take renders out of a portfolio.
    Remove {
        /// The portfolio id (pfl_…).
        id: String,
        /// Render ids (rnd_…).
        #[arg(required = true)]
        renders: Vec<String>,
    },
    /// Show a portfolio and its renders in order.
    Show {
        /// The portfolio id (pfl_…).
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
            Cmd::Rename { id, name } => c.rename_portfolio(id, name).await?,
            Cmd::Delete { id } => {
                c.delete_portfolio(id).await?;
                return Ok(Shown::Deleted);
            }
            Cmd::Add { id, renders } => {
                let mut ids = c.portfolio(id).await?.render_ids;
                ids.extend(renders.iter().cloned());
                c.set_portfolio_renders(id, &ids).await?
            }
            Cmd::Remove { id, renders } => {
                let mut ids = c.portfolio(id).await?.render_ids;
                ids.retain(|r| !renders.contains(r));
                c.set_portfolio_renders(id, &ids).await?
            }
            Cmd::Show { id } => c.portfolio(id).await?,
        }))
    }
}
