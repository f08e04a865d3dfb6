//! `facetra-admin users list|show|set-role`.

use std::process::ExitCode;

use facetra_core::accounts::{Role, User};
use facetra_core::paging::PageRequest;
use serde_json::json;

use crate::context::{print_json, table, Ctx};

/// User accounts.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// List accounts, newest first.
    List {
        /// At most this many (1–100).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Continue after this cursor (printed by the previous page).
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show one account, by id or email.
    Show {
        /// A user id (usr_…) or an email address.
        user: String,
    },
    /// Replace an account's roles (`user` is always kept); asks first unless --yes; audited.
    SetRole {
        /// A user id (usr_…) or an email address.
        user: String,
        /// The roles to hold: user, support, dpo, admin.
        #[arg(required = true, value_parser = parse_role)]
        roles: Vec<Role>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).map_err(|e| e.to_string())
}

fn view(u: &User) -> serde_json::Value {
    json!({
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "roles": u.roles,
        "status": u.status,
        "google_linked": u.google_subject.is_some(),
        "created_at": u.created_at,
    })
}

impl Cmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        let accounts = ctx.facetra.accounts();
        match self {
            Cmd::List { limit, cursor } => {
                let page = PageRequest::parse(cursor.as_deref(), Some(*limit))?;
                let page = accounts.list_users(&ctx.actor().await?, &page).await?;
                let next = page.next.as_ref().map(|c| c.encode());
                if ctx.global.json {
                    let items: Vec<_> = page.items.iter().map(view).collect();
                    print_json(&json!({ "items": items, "next_cursor": next }))?;
                } else {
                    let mut t = table(&["id", "email", "name", "roles", "status", "created"]);
                    for u in &page.items {
                        t.add_row(vec![
                            u.id.to_string(),
                            u.email.as_str().to_owned(),
                            u.name.clone(),
                            roles(&u.roles),
                            u.status.as_str().to_owned(),
                            crate::context::when(&u.created_at),
                        ]);
                    }
                    println!("{t}");
                    if let Some(next) = next {
                        println!("more: --cursor {next}");
                    }
                }
            }
            Cmd::Show { user } => {
                let u = accounts.find_user(&ctx.actor().await?, user).await?;
                show(ctx, &u)?;
            }
            Cmd::SetRole {
                user,
                roles: wanted,
            } => {
                let actor = ctx.actor().await?;
                let u = accounts.find_user(&actor, user).await?;
                let after = facetra_core::accounts::normalise_roles(wanted.iter().copied());
                let question = format!(
                    "Set the roles of {} (now {}) to {}?",
                    u.email.as_str(),
                    roles(&u.roles),
                    roles(&after)
                );
                if !ctx.confirm(&question)? {
                    eprintln!("facetra-admin: nothing changed");
                    return Ok(ExitCode::from(1));
                }
                let u = accounts.set_roles(&actor, u.id.as_str(), wanted).await?;
                show(ctx, &u)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn roles(r: &[Role]) -> String {
    r.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
}

fn show(ctx: &Ctx, u: &User) -> anyhow::Result<()> {
    if ctx.global.json {
        return print_json(&view(u));
    }
    let mut t = table(&["field", "value"]);
    t.add_row(vec!["id".to_owned(), u.id.to_string()]);
    t.add_row(vec!["email".to_owned(), u.email.as_str().to_owned()]);
    t.add_row(vec!["name".to_owned(), u.name.clone()]);
    t.add_row(vec!["roles".to_owned(), roles(&u.roles)]);
    t.add_row(vec!["status".to_owned(), u.status.as_str().to_owned()]);
    t.add_row(vec![
        "google linked".to_owned(),
        u.google_subject.is_some().to_string(),
    ]);
    t.add_row(vec![
        "created".to_owned(),
        crate::context::when(&u.created_at),
    ]);
    println!("{t}");
    Ok(())
}
