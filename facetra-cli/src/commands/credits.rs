//! `facetra credits [--history]`.

use crate::cli::Global;
use crate::client::connect;
use crate::output;

/// Show your credit balance; with --history, the ledger, newest first.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Also list the ledger entries.
    #[arg(long)]
    pub history: bool,
    /// Entries per page (1–100).
    #[arg(long, default_value_t = 50, requires = "history")]
    pub limit: usize,
    /// Continue after this cursor (printed under the previous page).
    #[arg(long, requires = "history")]
    pub cursor: Option<String>,
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = async {
            let balance = client.balance().await?;
            let history = if self.history {
                let query = facetra_api::ListQuery {
                    cursor: self.cursor.clone(),
                    limit: Some(self.limit),
                };
                Some(client.transactions(&query).await?)
            } else {
                None
            };
            anyhow::Ok((balance, history))
        }
        .await;
        client.close().await;
        let (balance, history) = result?;
        if global.json {
            // `GET /v1/credits`; with --history, and the page of `GET /v1/credits/transactions`.
            let mut v = serde_json::to_value(facetra_api::Balance { balance })?;
            if let Some(page) = &history {
                v["items"] = serde_json::to_value(&page.items)?;
                v["next_cursor"] = serde_json::to_value(&page.next_cursor)?;
            }
            return output::json(&v);
        }
        println!("Balance: {}", output::count(balance, "credit"));
        if let Some(page) = history {
            let (items, next) = (page.items, page.next_cursor);
            let mut t = output::table(&["when", "kind", "amount", "balance", "reason"]);
            for e in &items {
                t.add_row(vec![
                    output::when(&e.created_at),
                    e.kind.as_str().to_owned(),
                    format!("{:+}", e.amount),
                    e.balance_after.to_string(),
                    e.reason.clone(),
                ]);
            }
            println!("{t}");
            if let Some(next) = next {
                println!("more: facetra credits --history --cursor {next}");
            }
        }
        Ok(())
    }
}
