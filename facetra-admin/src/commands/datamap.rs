//! `facetra-admin datamap [--json]`: the record of processing activities.

use std::process::ExitCode;

use facetra_core::privacy::data::KindInfo;

use crate::context::{print_json, table, Ctx};

/// Print the record of processing activities: every kind of personal data the store holds,
/// its category, purpose, retention, processors and what erasure does with it, where it lives
/// on each backend (table or collection, fields), and every place declared to hold none.
///
/// The JSON (--json) is the same data.
#[derive(Debug, clap::Args)]
pub struct Cmd {}

fn shared(info: &KindInfo) -> String {
    info.processors
        .iter()
        .map(|p| p.describe())
        .collect::<Vec<_>>()
        .join("\n")
}

impl Cmd {
    pub async fn run(&self, ctx: &Ctx) -> anyhow::Result<ExitCode> {
        let map = ctx.facetra.privacy().datamap(&ctx.actor().await?).await?;
        if ctx.global.json {
            print_json(&map)?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut kinds = table(&[
            "kind",
            "category",
            "holds",
            "purpose",
            "kept for",
            "shared with",
            "on erasure",
        ]);
        for k in map.kinds {
            kinds.add_row(vec![
                k.name.to_owned(),
                k.category.describe().to_owned(),
                k.holds.to_owned(),
                k.purpose.to_owned(),
                k.retention.describe().to_owned(),
                shared(k),
                k.on_erasure.to_owned(),
            ]);
        }
        println!("Personal data held by Facetra\n{kinds}");
        let mut places = table(&["kind", "store", "place", "person", "fields"]);
        for k in map.kinds {
            for (store, locations) in [("SQLite", k.sqlite), ("MongoDB", k.mongo)] {
                for l in locations {
                    places.add_row(vec![
                        k.name.to_owned(),
                        store.to_owned(),
                        l.place.describe(),
                        l.person
                            .unwrap_or("(no one: made before sign-in)")
                            .to_owned(),
                        l.fields.join(", "),
                    ]);
                }
            }
        }
        println!("\nWhere it lives\n{places}");
        let mut none = table(&["place", "why it holds no personal data"]);
        for u in map.no_personal_data {
            none.add_row(vec![u.place.describe(), u.reason.to_owned()]);
        }
        println!("\nDeclared to hold no personal data\n{none}");
        Ok(ExitCode::SUCCESS)
    }
}
