//! `facetra whoami`.

use crate::cli::Global;
use crate::client::connect;
use crate::output;

/// Show the account this command line acts as.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// Change your name first (how it appears on your account and in mail).
    #[arg(long, value_name = "NAME")]
    pub set_name: Option<String>,
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let me = match &self.set_name {
            Some(name) => client.rename_me(name).await,
            None => client.whoami().await,
        };
        client.close().await;
        let me = me?;
        if global.json {
            return output::json(&me);
        }
        output::fields(&[
            ("id", me.id),
            ("email", me.email),
            ("name", me.name),
            (
                "roles",
                me.roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("status", me.status.as_str().to_owned()),
            ("since", output::when(&me.created_at)),
        ]);
        Ok(())
    }
}
