//! `facetra portfolio list|create|rename|delete|add|remove|show`.

use facetra_core::studio::portfolios::Portfolio;

use crate::cli::Global;
use crate::client::{connect, Client};
use crate::output;

/// Named, ordered collections of your renders.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// List your portfolios.
    List,
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

fn print(global: &Global, portfolios: &[Portfolio]) -> anyhow::Result<()> {
    if global.json {
        return output::json(&serde_json::json!({ "items": portfolios }));
    }
    let mut t = output::table(&["id", "name", "renders"]);
    for p in portfolios {
        let ids: Vec<String> = p.render_ids.iter().map(|r| r.to_string()).collect();
        t.add_row(vec![p.id.to_string(), p.name.clone(), ids.join("\n")]);
    }
    println!("{t}");
    Ok(())
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = self.apply(client.as_ref()).await;
        client.close().await;
        match result? {
            Some(list) => print(global, &list),
            None => {
                if !global.json {
                    println!("deleted");
                }
                Ok(())
            }
        }
    }

    async fn apply(&self, c: &dyn Client) -> anyhow::Result<Option<Vec<Portfolio>>> {
        Ok(Some(match self {
            Cmd::List => c.portfolios().await?,
            Cmd::Create { name } => vec![c.create_portfolio(name).await?],
            Cmd::Rename { id, name } => vec![c.rename_portfolio(id, name).await?],
            Cmd::Delete { id } => {
                c.delete_portfolio(id).await?;
                return Ok(None);
            }
            Cmd::Add { id, renders } => {
                let mut ids: Vec<String> = c
                    .portfolio(id)
                    .await?
                    .render_ids
                    .iter()
                    .map(|r| r.to_string())
                    .collect();
                ids.extend(renders.iter().cloned());
                vec![c.set_portfolio_renders(id, &ids).await?]
            }
            Cmd::Remove { id, renders } => {
                let ids: Vec<String> = c
                    .portfolio(id)
                    .await?
                    .render_ids
                    .iter()
                    .map(|r| r.to_string())
                    .filter(|r| !renders.contains(r))
                    .collect();
                vec![c.set_portfolio_renders(id, &ids).await?]
            }
            Cmd::Show { id } => vec![c.portfolio(id).await?],
        }))
    }
}
