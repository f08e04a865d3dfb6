//! `facetra-admin bootstrap EMAIL`: makes the deployment's first admin.

use std::process::ExitCode;

use crate::context::{print_json, Ctx};

/// Make the first admin of this deployment: gives the `admin` role to an existing account.
///
/// It works only while no active account holds `admin`; from then on an admin grants roles
/// with `facetra-admin users set-role`. No --operator is needed (there is no staff yet); the
/// change is audited as the system's. Asks first unless --yes.
#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// The account to make admin: a user id (usr_…) or an email address.
    pub user: String,
}

impl Cmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        if !ctx.confirm(&format!(
            "Make {} this deployment's first admin?",
            self.user
        ))? {
            eprintln!("facetra-admin: nothing changed");
            return Ok(ExitCode::from(1));
        }
        let admin = ctx.facetra.accounts().bootstrap_admin(&self.user).await?;
        if ctx.global.json {
            print_json(&serde_json::json!({ "id": admin.id, "roles": admin.roles }))?;
        } else {
            println!(
                "{} is now an admin; act as them with --operator {}",
                admin.id,
                admin.email.as_str()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
