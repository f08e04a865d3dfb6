//! Bills of materials: one per render, kept as versions. Generating makes a new version from
//! the prompt (the local heuristic, free); every edit makes a new version and must name the
//! version it was based on (optimistic concurrency: a stale one is refused, nothing lost);
//! the history keeps every version; export is CSV.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Studio;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{RenderId, UserId};
use crate::paging::{Cursor, Page, PageRequest};
use crate::privacy::usage::{Feature, UsageType};
use crate::Actor;

/// Who wrote a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BomSource {
    Ai,
    Local,
    User,
}

/// One line of a BOM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BomItem {
    pub name: String,
    pub category: String,
    pub material: String,
    pub quantity: f64,
    pub unit: String,
    pub unit_price_paise: i64,
    #[serde(default)]
    pub note: String,
}

/// One version of a render's BOM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bom {
    pub render_id: RenderId,
    pub user_id: UserId,
    pub version: i64,
    pub source: BomSource,
    pub items: Vec<BomItem>,
    pub updated_at: Timestamp,
}

/// Persistence for BOM versions.
#[async_trait]
pub trait BomStore: Send + Sync {
    /// Stores `bom` as version `based_on + 1` if the latest version is still `based_on`
    /// (0 for none); `StaleVersion` otherwise.
    async fn save_bom(&self, bom: &Bom, based_on: i64) -> Result<()>;
    /// The latest version.
    async fn bom(&self, render: &RenderId) -> Result<Option<Bom>>;
    /// The versions, newest first, paged on the version.
    async fn bom_history(&self, render: &RenderId, page: &PageRequest) -> Result<Page<Bom>>;
}

/// A BOM history's position: the version (newest first); the cursor carries it as its id.
pub(crate) fn version_cursor(b: &Bom) -> Cursor {
    Cursor {
        created_at: b.updated_at,
        id: b.version.to_string(),
    }
}

/// The version a page of history starts below.
pub(crate) fn version_after(page: &PageRequest) -> Result<i64> {
    match &page.after {
        Some(c) => {
            c.id.parse()
                .map_err(|_| Error::invalid("cursor", "is not a cursor of this history"))
        }
        None => Ok(i64::MAX),
    }
}

/// The largest quantity of one item (a hundred thousand pieces or square metres).
pub const MAX_QUANTITY: f64 = 100_000.0;
/// The largest unit price: ₹100 crore. With the quantity cap and 200 items, no total can
/// overflow.
pub const MAX_UNIT_PRICE_PAISE: i64 = 100_000_000_000;

fn validate(items: &[BomItem]) -> Result<()> {
    if items.len() > 200 {
        return Err(Error::invalid("items", "a BOM holds at most 200 items"));
    }
    for (i, item) in items.iter().enumerate() {
        let text_ok =
            |s: &str, max: usize| s.chars().count() <= max && !s.chars().any(char::is_control);
        if item.name.trim().is_empty() || !text_ok(&item.name, 200) {
            return Err(Error::invalid(
                "items",
                format!("item {}: name must be 1 to 200 characters", i + 1),
            ));
        }
        if !(text_ok(&item.category, 100)
            && text_ok(&item.material, 100)
            && text_ok(&item.unit, 30)
            && text_ok(&item.note, 500))
        {
            return Err(Error::invalid(
                "items",
                format!("item {}: a field is too long", i + 1),
            ));
        }
        if !item.quantity.is_finite() || !(0.0..=MAX_QUANTITY).contains(&item.quantity) {
            return Err(Error::invalid(
                "items",
                format!(
                    "item {}: the quantity must be between 0 and {MAX_QUANTITY}",
                    i + 1
                ),
            ));
        }
        if !(0..=MAX_UNIT_PRICE_PAISE).contains(&item.unit_price_paise) {
            return Err(Error::invalid(
                "items",
                format!(
                    "item {}: the unit price must be between ₹0 and ₹{} crore",
                    i + 1,
                    MAX_UNIT_PRICE_PAISE / 1_000_000_000
                ),
            ));
        }
    }
    Ok(())
}

/// The local heuristic: furniture and finishes named in the prompt, with typical quantities and
/// prices, their material taken from the material words next to them.
pub fn heuristic_items(prompt: &str) -> Vec<BomItem> {
    const PIECES: &[(&str, &str, f64, &str, i64)] = &[
        ("sofa", "furniture", 1.0, "pc", 8_500_000),
        ("armchair", "furniture", 1.0, "pc", 3_200_000),
        ("chair", "furniture", 4.0, "pc", 650_000),
        ("table", "furniture", 1.0, "pc", 2_400_000),
        ("desk", "furniture", 1.0, "pc", 2_100_000),
        ("bed", "furniture", 1.0, "pc", 6_000_000),
        ("bookshelf", "storage", 1.0, "pc", 1_800_000),
        ("shelf", "storage", 2.0, "pc", 450_000),
        ("cabinet", "storage", 1.0, "pc", 2_600_000),
        ("console", "furniture", 1.0, "pc", 1_900_000),
        ("lamp", "lighting", 1.0, "pc", 550_000),
        ("pendant", "lighting", 1.0, "pc", 700_000),
        ("rug", "textiles", 6.0, "m²", 180_000),
        ("curtain", "textiles", 8.0, "m²", 90_000),
        ("floor", "finishes", 20.0, "m²", 320_000),
        ("wall", "finishes", 30.0, "m²", 45_000),
        ("countertop", "finishes", 3.0, "m²", 900_000),
        ("tile", "finishes", 12.0, "m²", 150_000),
    ];
    const MATERIALS: &[&str] = &[
        "oak",
        "walnut",
        "teak",
        "bamboo",
        "rattan",
        "cane",
        "marble",
        "granite",
        "terrazzo",
        "concrete",
        "stone",
        "brick",
        "terracotta",
        "brass",
        "copper",
        "steel",
        "chrome",
        "glass",
        "velvet",
        "linen",
        "wool",
        "leather",
        "boucle",
        "plaster",
    ];
    let lower = prompt.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut items = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let singular = w.strip_suffix('s').unwrap_or(w);
        let Some((piece, category, qty, unit, price)) =
            PIECES.iter().find(|p| p.0 == *w || p.0 == singular)
        else {
            continue;
        };
        if items
            .iter()
            .any(|it: &BomItem| it.name.eq_ignore_ascii_case(piece))
        {
            continue;
        }
        // The nearest material word before the piece ("oak table"), else just after ("table in oak").
        let before = words[i.saturating_sub(3)..i]
            .iter()
            .rev()
            .find(|m| MATERIALS.contains(m));
        let after = words[(i + 1).min(words.len())..(i + 4).min(words.len())]
            .iter()
            .find(|m| MATERIALS.contains(m));
        let near = before.or(after);
        let material = near.map_or("to be specified", |m| m);
        let mut name = piece.to_string();
        name[..1].make_ascii_uppercase();
        items.push(BomItem {
            name,
            category: category.to_string(),
            material: material.to_owned(),
            quantity: *qty,
            unit: unit.to_string(),
            unit_price_paise: *price,
            note: "estimated from the prompt; check quantities and prices".into(),
        });
    }
    items
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(['=', '+', '-', '@']) {
        // Quoted; a leading formula character is neutralised for spreadsheets.
        let s = if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A BOM's items as CSV (a header line, then one line per item, with line totals in rupees).
pub fn to_csv(items: &[BomItem]) -> String {
    let mut out =
        String::from("name,category,material,quantity,unit,unit_price_inr,total_inr,note\n");
    for i in items {
        let total = (i.quantity * i.unit_price_paise as f64).round() as i64;
        out.push_str(&format!(
            "{},{},{},{},{},{}.{:02},{}.{:02},{}\n",
            csv_field(&i.name),
            csv_field(&i.category),
            csv_field(&i.material),
            i.quantity,
            csv_field(&i.unit),
            i.unit_price_paise / 100,
            i.unit_price_paise % 100,
            total / 100,
            total % 100,
            csv_field(&i.note)
        ));
    }
    out
}

impl Studio<'_> {
    async fn owned_render(
        &self,
        actor: &Actor,
        render: &str,
    ) -> Result<(UserId, RenderId, String)> {
        let r = self.render(actor, render).await?;
        Ok((r.user_id, r.id, r.provenance.prompt))
    }

    /// The latest BOM of one of the actor's renders.
    pub async fn bom(&self, actor: &Actor, render: &str) -> Result<Bom> {
        let (_, id, _) = self.owned_render(actor, render).await?;
        self.f
            .store()
            .boms
            .bom(&id)
            .await?
            .ok_or(Error::NotFound("BOM"))
    }

    /// The versions, newest first.
    pub async fn bom_history(
        &self,
        actor: &Actor,
        render: &str,
        page: &PageRequest,
    ) -> Result<Page<Bom>> {
        let (_, id, _) = self.owned_render(actor, render).await?;
        self.f.store().boms.bom_history(&id, page).await
    }

    /// Generates a new version: the AI provider drafts it from the render (charged
    /// `FACETRA_BOM_COST`, refunded if it fails), or the local heuristic from the prompt (free).
    pub async fn generate_bom(&self, actor: &Actor, render: &str) -> Result<Bom> {
        let (owner, id, prompt) = self.owned_render(actor, render).await?;
        let based_on = self.f.store().boms.bom(&id).await?.map_or(0, |b| b.version);
        let drafter = self.f.bom_drafter();
        let ai = drafter.provider() != "local";
        let cost = self.f.config().bom_cost;
        // One charge per attempt: a racing attempt that loses refunds only its own charge.
        let key = format!("bom:{id}:{}", crate::ids::random("try"));
        if ai {
            self.f
                .credits()
                .append(crate::credits::NewLedgerEntry {
                    user_id: owner.clone(),
                    kind: crate::credits::LedgerKind::Bom,
                    amount: -cost,
                    reason: "AI bill of materials".into(),
                    reference: Some(id.to_string()),
                    idempotency_key: key.clone(),
                })
                .await?;
        }
        let image = match self.render_bytes(actor, render).await {
            Ok((_, bytes)) => bytes,
            Err(_) => Vec::new(),
        };
        let drafted = drafter.draft_bom(&prompt, &image).await;
        let items = match drafted
            .map_err(|f| f.reason)
            .and_then(|items| validate(&items).map(|()| items).map_err(|e| e.to_string()))
        {
            Ok(items) => items,
            Err(reason) => {
                if ai {
                    self.refund_bom(&owner, &id, &key, cost).await?;
                }
                return Err(Error::Provider {
                    provider: "the BOM provider",
                    message: reason,
                });
            }
        };
        let bom = Bom {
            render_id: id.clone(),
            user_id: owner.clone(),
            version: based_on + 1,
            source: if ai { BomSource::Ai } else { BomSource::Local },
            items,
            updated_at: self.f.now(),
        };
        if let Err(e) = self.f.store().boms.save_bom(&bom, based_on).await {
            if ai {
                self.refund_bom(&owner, &id, &key, cost).await?;
            }
            return Err(e);
        }
        self.f
            .usage()
            .record_for(actor, UsageType::FeatureUsed, Feature::Bom, 1)
            .await;
        Ok(bom)
    }

    async fn refund_bom(
        &self,
        owner: &UserId,
        render: &RenderId,
        key: &str,
        cost: i64,
    ) -> Result<()> {
        self.f
            .credits()
            .append(crate::credits::NewLedgerEntry {
                user_id: owner.clone(),
                kind: crate::credits::LedgerKind::Refund,
                amount: cost,
                reason: "AI bill of materials failed".into(),
                reference: Some(render.to_string()),
                idempotency_key: format!("refund:{key}"),
            })
            .await?;
        Ok(())
    }

    /// Saves an edit made on `version`; a stale version is refused with `StaleVersion`.
    pub async fn set_bom(
        &self,
        actor: &Actor,
        render: &str,
        version: i64,
        items: Vec<BomItem>,
    ) -> Result<Bom> {
        let (owner, id, _) = self.owned_render(actor, render).await?;
        validate(&items)?;
        let next = version
            .checked_add(1)
            .filter(|_| version >= 0)
            .ok_or_else(|| {
                Error::invalid("version", "is not a version of this BOM (0 for the first)")
            })?;
        let bom = Bom {
            render_id: id,
            user_id: owner,
            version: next,
            source: BomSource::User,
            items,
            updated_at: self.f.now(),
        };
        self.f.store().boms.save_bom(&bom, version).await?;
        Ok(bom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heuristic_reads_pieces_and_their_materials() {
        let items =
            heuristic_items("A teal velvet sofa, two oak chairs and a brass lamp on a wool rug");
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["Sofa", "Chair", "Lamp", "Rug"]);
        assert_eq!(items[0].material, "velvet");
        assert_eq!(items[1].material, "oak");
        assert_eq!(items[2].material, "brass");
        assert!(heuristic_items("").is_empty());
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let bom = Bom {
            render_id: RenderId::new(chrono::DateTime::from_timestamp(0, 0).unwrap()),
            user_id: UserId::new(chrono::DateTime::from_timestamp(0, 0).unwrap()),
            version: 1,
            source: BomSource::User,
            items: vec![BomItem {
                name: "=HYPERLINK(\"x\")".into(),
                category: "a, b".into(),
                material: "oak".into(),
                quantity: 2.5,
                unit: "m²".into(),
                unit_price_paise: 12_345,
                note: String::new(),
            }],
            updated_at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
        };
        let csv = to_csv(&bom.items);
        assert!(
            csv.contains("\"'=HYPERLINK(\"\"x\"\")\",\"a, b\",oak,2.5,m²,123.45,308.63,"),
            "{csv}"
        );
    }
}
