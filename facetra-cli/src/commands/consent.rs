//! `facetra consent`: show or change what you agreed to.

use facetra_api::ConsentsBody;

use crate::cli::Global;
use crate::client::connect;
use crate::output;

/// Show your consents, or give or withdraw them (both are off until you opt in).
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Usage analytics (which features you use, never what you make): on or off.
    #[arg(long, value_name = "on|off", value_parser = on_off)]
    analytics: Option<bool>,
    /// Product news by email: on or off.
    #[arg(long, value_name = "on|off", value_parser = on_off)]
    marketing: Option<bool>,
}

fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => Err(format!("{s:?}: use on or off")),
    }
}

fn word(on: bool) -> String {
    if on { "on" } else { "off" }.to_owned()
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = if self.analytics.is_none() && self.marketing.is_none() {
            client.consents().await
        } else {
            let wanted = ConsentsBody {
                analytics: self.analytics,
                marketing: self.marketing,
            };
            client.set_consents(&wanted).await
        };
        client.close().await;
        let consents = result?;
        if global.json {
            return output::json(&consents);
        }
        output::fields(&[
            ("analytics", word(consents.analytics)),
            ("marketing", word(consents.marketing)),
        ]);
        Ok(())
    }
}
