//! `facetra packs`.

use crate::cli::Global;
use crate::client::connect;
use crate::output;

/// List the credit packs on sale, with their prices.
#[derive(Debug, clap::Args)]
pub struct Cmd {}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let packs = client.packs().await;
        client.close().await;
        let packs = packs?;
        if global.json {
            return output::json(&facetra_api::Packs { packs });
        }
        let mut t = output::table(&["pack", "name", "credits", "price"]);
        for p in &packs {
            t.add_row(vec![
                p.id.clone(),
                p.name.clone(),
                p.credits.to_string(),
                output::rupees(p.price_paise),
            ]);
        }
        println!("{t}");
        println!("Buy one with `facetra buy <pack>`.");
        Ok(())
    }
}
