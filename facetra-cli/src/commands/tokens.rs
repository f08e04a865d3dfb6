//! `facetra tokens create|list|revoke`: API tokens for scripts and the command line on
//! another machine.

use facetra_api::{NewToken, Token};
use facetra_core::accounts::Scope;

use crate::cli::Global;
use crate::client::connect;
use crate::output;

/// API tokens (`fct_…`) that act for you over the HTTP API.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Create a token; it is printed this once.
    Create {
        /// A name to recognise it by (say, the machine it is for).
        name: String,
        /// Days until it expires (at most the server's limit, 90 unless configured; that
        /// limit when left out).
        #[arg(long, value_name = "DAYS")]
        days: Option<i64>,
        /// What it may do: `read`, or `write` (which reads too). Both when left out.
        #[arg(long = "scope", value_name = "SCOPE", value_parser = parse_scope)]
        scopes: Vec<Scope>,
    },
    /// List your tokens (never their secrets).
    List,
    /// Revoke a token: it stops working at once.
    Revoke {
        /// The token id (tok_…).
        id: String,
    },
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    Scope::parse(s).map_err(|_| format!("unknown scope {s:?}; use read or write"))
}

fn scopes(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn when(t: &facetra_core::Timestamp) -> String {
    output::when(t)
}

fn table(tokens: &[Token]) {
    let mut t = output::table(&["id", "name", "scopes", "expires", "last used"]);
    for token in tokens {
        t.add_row(vec![
            token.id.clone(),
            token.name.clone(),
            scopes(&token.scopes),
            when(&token.expires_at),
            token
                .last_used_at
                .as_ref()
                .map_or_else(|| "never".into(), when),
        ]);
    }
    println!("{t}");
}

impl Cmd {
    pub async fn run(&self, global: &Global) -> anyhow::Result<()> {
        let client = connect(global).await?;
        let result = match self {
            Cmd::Create {
                name,
                days,
                scopes: wanted,
            } => {
                let asked = NewToken {
                    name: name.clone(),
                    expires_in_days: *days,
                    scopes: wanted.clone(),
                };
                client.create_token(&asked).await.map(|made| {
                    if global.json {
                        return output::json(&made);
                    }
                    println!("{}", made.token);
                    eprintln!(
                        "Token {} ({}; {}) expires {}. Keep it now: it is not shown again. \
                         Send it as `Authorization: Bearer <token>`; revoke it with \
                         `facetra tokens revoke {}`.",
                        made.id,
                        made.name,
                        scopes(&made.scopes),
                        when(&made.expires_at),
                        made.id
                    );
                    Ok(())
                })
            }
            Cmd::List => client.tokens().await.map(|tokens| {
                if global.json {
                    return output::json(&facetra_api::Tokens { items: tokens });
                }
                if tokens.is_empty() {
                    println!("no tokens yet: create one with `facetra tokens create NAME`");
                } else {
                    table(&tokens);
                }
                Ok(())
            }),
            Cmd::Revoke { id } => client.revoke_token(id).await.map(|()| {
                if !global.json {
                    println!("revoked {id}");
                }
                Ok(())
            }),
        };
        client.close().await;
        result?
    }
}
