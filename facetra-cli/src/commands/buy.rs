//! `facetra buy <pack>`: the terminal's checkout. It creates a Razorpay payment link (no
//! customer details are sent), prints its URL (and offers to open it), then waits with a
//! spinner, reconciling the link with Razorpay until it is credited, expires or is
//! cancelled, or until you stop waiting (Ctrl-C). The link stays valid: `facetra buy --resume
//! ID` waits on it again (the embedded default receives no webhooks, so a paid link is credited
//! when it is checked).

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::Global;
use crate::client::{connect, Client};
use crate::output;

/// Buy a credit pack through a Razorpay payment link.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// The pack to buy (see `facetra packs`).
    #[arg(required_unless_present = "resume", conflicts_with = "resume")]
    pub pack: Option<String>,
    /// Wait on a payment link created earlier instead of creating one.
    #[arg(long, value_name = "LINK_ID")]
    pub resume: Option<String>,
    /// Print the link and return without waiting for the payment.
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds between checks while waiting.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub poll_secs: u64,
    /// Give up waiting after this many minutes.
    #[arg(long, default_value_t = 30)]
    pub timeout_mins: u64,
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = self.buy(client.as_ref(), global).await;
        client.close().await;
        result
    }

    async fn buy(&self, client: &dyn Client, global: &Global) -> anyhow::Result<()> {
        let link = match (&self.resume, &self.pack) {
            (Some(id), _) => client.payment_link(id).await?,
            (None, Some(pack)) => client.create_payment_link(pack).await?,
            (None, None) => {
                return Err(
                    facetra_core::Error::invalid("pack", "name a pack or --resume LINK_ID").into(),
                )
            }
        };
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        if !global.json {
            println!("Pay here: {}", link.short_url);
        }
        if interactive && !global.json {
            let open = dialoguer::Confirm::new()
                .with_prompt("Open it in your browser?")
                .default(true)
                .interact()?;
            if open {
                open_in_browser(&link.short_url);
            }
        }
        if self.no_wait {
            if global.json {
                output::json(&link)?;
            } else {
                println!(
                    "Once paid, run `facetra buy --resume {}` to have it credited.",
                    link.id
                );
            }
            return Ok(());
        }
        let spinner = indicatif::ProgressBar::new_spinner();
        if !interactive || global.json {
            spinner.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        spinner.set_message("waiting for the payment (Ctrl-C to stop waiting)");
        spinner.enable_steady_tick(Duration::from_millis(120));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(self.timeout_mins * 60);
        let mut current = link;
        let outcome = loop {
            if matches!(
                current.status.as_str(),
                "credited" | "expired" | "cancelled"
            ) {
                break Some(current.clone());
            }
            if tokio::time::Instant::now() >= deadline {
                break None;
            }
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break None,
                () = tokio::time::sleep(Duration::from_secs(self.poll_secs)) => {}
            }
            current = client.payment_link(&current.id).await?;
        };
        spinner.finish_and_clear();
        match outcome {
            Some(link) if link.status == "credited" => {
                let balance = client.balance().await?;
                if global.json {
                    output::json(&serde_json::json!({ "link": link, "balance": balance }))?;
                } else {
                    println!(
                        "Paid and credited: the {} pack. Balance: {}.",
                        link.pack_id,
                        output::count(balance, "credit")
                    );
                }
                Ok(())
            }
            Some(link) => Err(facetra_core::Error::Conflict(format!(
                "the payment link {} and was not paid; run `facetra buy {}` for a new one",
                if link.status == "expired" {
                    "expired"
                } else {
                    "was cancelled"
                },
                link.pack_id
            ))
            .into()),
            None => {
                if global.json {
                    output::json(&current)?;
                } else {
                    println!(
                        "Stopped waiting. The link stays valid: once paid, `facetra buy --resume {}` credits it.",
                        current.id
                    );
                }
                Ok(())
            }
        }
    }
}

/// Opens a URL with the desktop's handler, quietly; printing it is the fallback.
fn open_in_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
