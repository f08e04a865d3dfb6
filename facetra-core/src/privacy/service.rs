//! The privacy use cases that stand on the registry of personal data: the data map, and, per
//! kind, counting, exporting and erasing a person's records. Each is staff-only (the role
//! table in `accounts::staff`), and each is a call into the backend's `PersonalDataStore` for
//! one registered kind, so the DPO's requests (which loop over every kind) cover whatever the
//! registry names, and nothing else.

use futures::TryStreamExt;
use serde_json::json;

use super::data::{DataMap, Erased, Kind, Pseudonym, Records, NO_PERSONAL_DATA, REGISTRY};
use crate::accounts::{StaffOp, UserStatus};
use crate::error::{Error, Result};
use crate::ids::{MessageId, UserId};
use crate::{Actor, Facetra};

/// The privacy domain, borrowed from the facade.
pub struct Privacy<'a> {
    pub(crate) f: &'a Facetra,
}

impl Privacy<'_> {
    /// The record of processing activities: every kind of personal data and every place
    /// declared to hold none.
    pub async fn datamap(&self, actor: &Actor) -> Result<DataMap> {
        self.f.authorize(actor, StaffOp::ReadDataMap).await?;
        Ok(DataMap {
            kinds: REGISTRY,
            no_personal_data: NO_PERSONAL_DATA,
        })
    }

    /// Anonymises the logs older than `older_than_days` (request logs, security events and
    /// usage events: every kind the registry keeps 90 days then anonymises), as of `as_of`
    /// (now, or a later date, to see what that date will bring; never an earlier one). With
    /// `dry_run`, counts what would change and changes nothing. Audited with the counts.
    pub async fn anonymise_logs(
        &self,
        actor: &Actor,
        older_than_days: i64,
        as_of: Option<crate::Timestamp>,
        dry_run: bool,
    ) -> Result<Vec<(Kind, u64)>> {
        self.f.authorize(actor, StaffOp::AnonymiseLogs).await?;
        if older_than_days < 1 {
            return Err(Error::invalid("older-than", "must be at least 1 day"));
        }
        let now = self.f.now();
        let as_of = as_of.unwrap_or(now);
        if as_of < now {
            return Err(Error::invalid(
                "as-of",
                "must be today or later (it shows what a future date will bring)",
            ));
        }
        let before = as_of - chrono::Duration::days(older_than_days);
        let mut touched = Vec::new();
        for info in REGISTRY
            .iter()
            .filter(|k| k.retention == super::data::Retention::NinetyDaysThenAnonymised)
        {
            let n = self
                .f
                .store()
                .personal_data
                .expire(info.kind, before, dry_run)
                .await?;
            touched.push((info.kind, n));
        }
        if !dry_run {
            let counts: serde_json::Map<String, serde_json::Value> = touched
                .iter()
                .map(|(k, n)| (k.as_str().to_owned(), json!(n)))
                .collect();
            self.f
                .audit_record(
                    actor,
                    "privacy.anonymise_logs",
                    None,
                    json!({ "older_than_days": older_than_days, "counts": counts }),
                )
                .await?;
        }
        Ok(touched)
    }

    /// How many records of `kind` the store holds for `person`.
    pub async fn count(&self, actor: &Actor, kind: Kind, person: &UserId) -> Result<u64> {
        self.f.authorize(actor, StaffOp::ExportData).await?;
        self.f.store().personal_data.count(kind, person).await
    }

    /// The person's records of `kind`, one at a time.
    pub async fn export(&self, actor: &Actor, kind: Kind, person: &UserId) -> Result<Records> {
        self.f.authorize(actor, StaffOp::ExportData).await?;
        Ok(self.f.store().personal_data.export(kind, person))
    }

    /// Erases the person's records of `kind` by its rule (`privacy::data`), copies the mailer
    /// kept included. Only for an account whose erasure has begun (it is no longer active, so
    /// nothing new is written for it meanwhile). Audited with the counts.
    pub async fn erase_kind(
        &self,
        actor: &Actor,
        kind: Kind,
        person: &UserId,
        pseudonym: &Pseudonym,
    ) -> Result<Erased> {
        self.f.authorize(actor, StaffOp::EraseData).await?;
        let account = self
            .f
            .store()
            .accounts
            .user_by_id(person)
            .await?
            .ok_or(Error::NotFound("user"))?;
        if account.status == UserStatus::Active {
            return Err(Error::Conflict(
                "the account is active; its erasure must begin (erasure_pending) first".into(),
            ));
        }
        let store = &self.f.store().personal_data;
        if kind == Kind::Outbox {
            let mut messages = store.export(kind, person);
            while let Some(record) = messages.try_next().await? {
                let id = record
                    .fields
                    .get("id")
                    .or_else(|| record.fields.get("_id"))
                    .and_then(|v| v.as_str())
                    .and_then(MessageId::parse);
                if let Some(id) = id {
                    self.f.mailer().forget(&id).await?;
                }
            }
        }
        let erased = store.erase(kind, person, pseudonym, self.f.now()).await?;
        self.f
            .audit_record(
                actor,
                "privacy.erase_kind",
                Some(person.as_str()),
                json!({
                    "kind": kind.as_str(),
                    "removed": erased.removed,
                    "anonymised": erased.anonymised,
                    "kept": erased.kept,
                }),
            )
            .await?;
        Ok(erased)
    }
}
