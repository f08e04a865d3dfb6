//! Erasure of a person (DESIGN §5), in the order that keeps every promise while it runs:
//! (1) the account goes `erasure_pending` — from then on its sessions and tokens fail, core
//! refuses its operations and workers drop its results — and the identity joins the list of
//! erased identities (keyed hashes, outside the database); (2) the completion notice is
//! queued; (3) the records of others that carry one of the person's IPs are anonymised, then
//! the person's own records kind by kind, by each kind's rule in the registry, the progress
//! recorded after each; (4) once the notice is delivered or has failed for good, its
//! recipient is purged; (5) the request is completed. Interrupted, it resumes where it
//! stopped; run again after completion, it changes nothing. A dry run reports the same counts
//! and changes nothing.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::data::{erasure_order, Kind, Processor, Pseudonym, REGISTRY};
use super::requests::{ErasureProgress, KindReport, PrivacyRequest, RequestStatus, RequestType};
use super::Privacy;
use crate::accounts::{StaffOp, UserStatus};
use crate::error::{Error, Result};
use crate::ids::{MessageId, UserId};
use crate::mail::{templates, MessageStatus};
use crate::paging::PageRequest;
use crate::security::KeyPurpose;
use crate::Actor;

/// How an erasure runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EraseOptions {
    /// Report what would happen; change nothing.
    pub dry_run: bool,
    /// The account's credits are forfeited (needed when it holds any).
    pub forfeit_credits: bool,
}

/// Where an erasure stands after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureState {
    /// A dry run: nothing changed.
    Planned,
    /// Every record is erased; the completion notice is still on its way, and the next run
    /// finishes once it is delivered (or has failed for good).
    WaitingForNotice,
    Completed,
}

/// A processor that received the person's data, and what remains to be done there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessorLine {
    pub processor: Processor,
    pub name: &'static str,
    pub to_do: &'static str,
}

/// What an erasure did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    pub request: String,
    pub state: ErasureState,
    /// The person's own records, kind by kind.
    pub kinds: Vec<KindReport>,
    /// Records of others that carried one of the person's IP addresses.
    pub shared_ips: Vec<KindReport>,
    pub processors: Vec<ProcessorLine>,
    pub forfeited_credits: i64,
}

impl ErasureReport {
    /// Totals over every line: (removed, anonymised, kept).
    pub fn totals(&self) -> (u64, u64, u64) {
        self.kinds
            .iter()
            .chain(&self.shared_ips)
            .fold((0, 0, 0), |(r, a, k), l| {
                (r + l.removed, a + l.anonymised, k + l.kept)
            })
    }
}

/// One entry of the list of erased identities: keyed hashes only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ErasedIdentity {
    user: String,
    email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    google: Option<String>,
    at: crate::Timestamp,
}

fn line(kind: Kind, erased: super::data::Erased) -> KindReport {
    KindReport {
        kind: kind.as_str().to_owned(),
        removed: erased.removed,
        anonymised: erased.anonymised,
        kept: erased.kept,
        why_kept: (erased.kept > 0).then(|| kind.info().retention.describe().to_owned()),
    }
}

/// The processors of every kind the person had records of.
fn processors(lines: &[KindReport]) -> Vec<ProcessorLine> {
    let touched: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l.removed + l.anonymised + l.kept > 0)
        .map(|l| l.kind.as_str())
        .collect();
    let mut out: Vec<ProcessorLine> = Vec::new();
    for info in REGISTRY.iter().filter(|k| touched.contains(k.name)) {
        for p in info.processors {
            if !out.iter().any(|l| l.processor == *p) {
                out.push(ProcessorLine {
                    processor: *p,
                    name: p.describe(),
                    to_do: p.after_erasure(),
                });
            }
        }
    }
    out
}

impl Privacy<'_> {
    fn identities_file(&self) -> PathBuf {
        self.f
            .config()
            .data_dir
            .join("erasures")
            .join("identities.jsonl")
    }

    fn identity_of(&self, user: &crate::accounts::User) -> ErasedIdentity {
        let keys = self.f.keys();
        ErasedIdentity {
            user: keys.keyed_hash(KeyPurpose::ErasedIdentity, user.id.as_str()),
            email: self.email_hash(&user.email),
            google: user
                .google_subject
                .as_deref()
                .map(|s| keys.keyed_hash(KeyPurpose::ErasedIdentity, s)),
            at: self.f.now(),
        }
    }

    /// Adds an identity to the list of erased identities (0600, under the data directory).
    async fn remember_erased(&self, identity: &ErasedIdentity) -> Result<()> {
        let path = self.identities_file();
        let line = serde_json::to_string(identity).map_err(|e| Error::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                crate::private_fs::private_dir(dir)?;
            }
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            crate::private_fs::make_private(&path)?;
            writeln!(file, "{line}")?;
            file.sync_all()
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        Ok(())
    }

    async fn erased_identities(&self) -> Result<Vec<ErasedIdentity>> {
        let path = self.identities_file();
        let text = match tokio::fs::read_to_string(&path).await {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).map_err(|e| {
                    Error::Corrupt(format!(
                        "{}: a line is not an erased identity ({e})",
                        path.display()
                    ))
                })
            })
            .collect()
    }

    /// Carries out a verified erasure request, or (dry) reports what it would do. `progress`
    /// is told each kind as it is finished.
    pub async fn erase(
        &self,
        actor: &Actor,
        id: &str,
        options: EraseOptions,
        progress: &(dyn Fn(&KindReport) + Send + Sync),
    ) -> Result<ErasureReport> {
        let r = self.request(actor, id).await?;
        self.f.authorize(actor, StaffOp::EraseData).await?;
        if r.kind != RequestType::Erasure {
            return Err(Error::invalid(
                "id",
                format!("{} is a {} request, not an erasure request", r.id, r.kind),
            ));
        }
        match r.status {
            RequestStatus::Rejected => {
                return Err(Error::Conflict(format!(
                    "privacy request {} was rejected; nothing is erased for it",
                    r.id
                )))
            }
            RequestStatus::Completed => return Ok(report(&r, ErasureState::Completed)),
            _ => {}
        }
        if !r.is_verified() {
            return Err(Error::Conflict(format!(
                "privacy request {} is not verified, so nothing was erased; verify it first with `dsr verify {} --send-code`, then `--code`",
                r.id, r.id
            )));
        }
        let user_id = r.user_id.clone().ok_or_else(|| {
            Error::Conflict(format!(
                "privacy request {} names no account (no account has its email); close it with `dsr reject {} --reason no_match`",
                r.id, r.id
            ))
        })?;
        let user = self
            .f
            .store()
            .accounts
            .user_by_id(&user_id)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let balance = if r.erasure.is_none() {
            self.f.store().ledger.balance(&user_id).await?
        } else {
            0
        };
        if options.dry_run {
            return self.plan(&r, &user_id, balance).await;
        }
        if balance > 0 && !options.forfeit_credits {
            return Err(Error::Conflict(format!(
                "the account still holds {balance} {}, which an erasure forfeits; run again with --forfeit-credits once the person has agreed",
                if balance == 1 { "credit" } else { "credits" }
            )));
        }

        // (1) Stop the account, and remember who it was.
        if user.status == UserStatus::Active {
            self.f
                .store()
                .accounts
                .mark_erasure_pending(&user_id, self.f.now())
                .await?;
        }
        let mut r = r;
        if r.erasure.is_none() {
            self.remember_erased(&self.identity_of(&user)).await?;
            r = self
                .change(&r.id, |r| {
                    r.status = RequestStatus::InProgress;
                    r.erasure = Some(ErasureProgress {
                        pseudonym: Pseudonym::new().as_str().to_owned(),
                        forfeited_credits: balance.max(0),
                        ..ErasureProgress::default()
                    });
                    Ok(())
                })
                .await?;
            self.f
                .audit_record(
                    actor,
                    "privacy.erase_begin",
                    Some(r.id.as_str()),
                    json!({ "account": user_id.as_str(), "forfeited_credits": balance.max(0) }),
                )
                .await?;
        }

        // (2) The completion notice, queued while the address is still known.
        let notice = match r.erasure.as_ref().and_then(|e| e.notice.clone()) {
            Some(n) => n,
            None => {
                let n = MessageId::new(self.f.now());
                r = self
                    .change(&r.id, |r| {
                        if let Some(e) = r.erasure.as_mut() {
                            e.notice = Some(n.clone());
                        }
                        Ok(())
                    })
                    .await?;
                n
            }
        };
        if let Some(to) = &r.email {
            self.f
                .mail()
                .queue_as(
                    &notice,
                    None,
                    to.as_str(),
                    &format!("dsr:{}:completed", r.id),
                    templates::privacy_completed(
                        r.kind.as_str(),
                        r.id.as_str(),
                        "Your account and your data are erased. Payment records are kept under a pseudonym for the 7 years tax law requires, with no way back to you.",
                    ),
                )
                .await?;
        }

        // (3) Others' records with the person's IPs, then the person's own, kind by kind.
        let pseudonym = Pseudonym::from_stored(
            r.erasure
                .as_ref()
                .map(|e| e.pseudonym.clone())
                .unwrap_or_default(),
        );
        let personal = &self.f.store().personal_data;
        if r.erasure.as_ref().is_some_and(|e| e.shared_ips.is_none()) {
            let shared: Vec<KindReport> = personal
                .anonymise_shared_ips(&user_id, false)
                .await?
                .into_iter()
                .map(|(kind, n)| KindReport {
                    kind: kind.as_str().to_owned(),
                    removed: 0,
                    anonymised: n,
                    kept: 0,
                    why_kept: None,
                })
                .collect();
            r = self
                .change(&r.id, |r| {
                    if let Some(e) = r.erasure.as_mut() {
                        e.shared_ips = Some(shared);
                    }
                    Ok(())
                })
                .await?;
        }
        for info in erasure_order() {
            let done = r
                .erasure
                .as_ref()
                .is_some_and(|e| e.done.iter().any(|l| l.kind == info.name));
            if done {
                continue;
            }
            let erased = self
                .erase_kind(actor, info.kind, &user_id, &pseudonym)
                .await?;
            let l = line(info.kind, erased);
            progress(&l);
            r = self
                .change(&r.id, |r| {
                    if let Some(e) = r.erasure.as_mut() {
                        e.done.push(l);
                    }
                    Ok(())
                })
                .await?;
            crate::faults::hit(&format!("erasure.after.{}", info.name));
        }

        // (4) Once the notice is out (or has failed for good), forget where it went.
        let mail = self.f.mail();
        let outbox = &self.f.store().outbox;
        let pending = |m: &Option<crate::mail::OutboxMessage>| {
            m.as_ref()
                .is_some_and(|m| m.status == MessageStatus::Pending)
        };
        if pending(&outbox.outbox_message(&notice).await?) {
            mail.deliver_one(&notice).await?;
        }
        if pending(&outbox.outbox_message(&notice).await?) {
            return Ok(report(&r, ErasureState::WaitingForNotice));
        }
        outbox.purge_recipient(&notice).await?;
        self.f.mailer().forget(&notice).await?;

        // (5) Done.
        let (removed, anonymised, kept) = report(&r, ErasureState::Completed).totals();
        self.f
            .audit_record(
                actor,
                "privacy.erase",
                Some(r.id.as_str()),
                json!({ "account": user_id.as_str(), "removed": removed, "anonymised": anonymised, "kept": kept }),
            )
            .await?;
        let r = self
            .complete(
                actor,
                &r.id,
                "The account and its data are erased; payment records are kept under a pseudonym until their 7 years end.",
            )
            .await?;
        // The request's and the notice's earlier versions, with the address, are gone too.
        personal.settle().await?;
        Ok(report(&r, ErasureState::Completed))
    }

    async fn plan(&self, r: &PrivacyRequest, user: &UserId, balance: i64) -> Result<ErasureReport> {
        let personal = &self.f.store().personal_data;
        let progress = r.erasure.clone().unwrap_or_default();
        let mut kinds = progress.done.clone();
        for info in erasure_order() {
            if kinds.iter().any(|l| l.kind == info.name) {
                continue;
            }
            kinds.push(line(info.kind, personal.plan_erase(info.kind, user).await?));
        }
        let shared = match progress.shared_ips {
            Some(done) => done,
            None => personal
                .anonymise_shared_ips(user, true)
                .await?
                .into_iter()
                .map(|(kind, n)| KindReport {
                    kind: kind.as_str().to_owned(),
                    removed: 0,
                    anonymised: n,
                    kept: 0,
                    why_kept: None,
                })
                .collect(),
        };
        Ok(ErasureReport {
            request: r.id.to_string(),
            state: ErasureState::Planned,
            processors: processors(&kinds),
            kinds,
            shared_ips: shared,
            forfeited_credits: balance.max(progress.forfeited_credits),
        })
    }

    /// Re-applies every recorded erasure to the store as it is now (after a backup is
    /// restored): each account whose id, email or Google subject is on the list of erased
    /// identities and is not erased is erased again, kind by kind. How many were.
    pub async fn replay_erasures(&self, actor: &Actor, dry_run: bool) -> Result<Vec<UserId>> {
        self.f.authorize(actor, StaffOp::EraseData).await?;
        let listed = self.erased_identities().await?;
        if listed.is_empty() {
            return Ok(Vec::new());
        }
        let users: BTreeSet<&str> = listed.iter().map(|i| i.user.as_str()).collect();
        let emails: BTreeSet<&str> = listed.iter().map(|i| i.email.as_str()).collect();
        let subjects: BTreeSet<&str> = listed.iter().filter_map(|i| i.google.as_deref()).collect();
        let mut page = PageRequest {
            after: None,
            limit: PageRequest::MAX_LIMIT,
        };
        let mut found = Vec::new();
        loop {
            let batch = self.f.store().accounts.list_users(&page).await?;
            for user in &batch.items {
                if user.status == UserStatus::Erased {
                    continue;
                }
                let me = self.identity_of(user);
                let listed_here = users.contains(me.user.as_str())
                    || emails.contains(me.email.as_str())
                    || me.google.as_deref().is_some_and(|g| subjects.contains(g));
                if listed_here {
                    found.push(user.id.clone());
                }
            }
            match batch.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        if dry_run {
            return Ok(found);
        }
        for id in &found {
            self.f
                .store()
                .accounts
                .mark_erasure_pending(id, self.f.now())
                .await?;
            let pseudonym = Pseudonym::new();
            self.f
                .store()
                .personal_data
                .anonymise_shared_ips(id, false)
                .await?;
            for info in erasure_order() {
                self.erase_kind(actor, info.kind, id, &pseudonym).await?;
            }
        }
        self.f
            .audit_record(
                actor,
                "privacy.replay",
                None,
                json!({ "listed": listed.len(), "erased_again": found.len() }),
            )
            .await?;
        Ok(found)
    }
}

/// The report a request's recorded progress gives.
fn report(r: &PrivacyRequest, state: ErasureState) -> ErasureReport {
    let progress = r.erasure.clone().unwrap_or_default();
    ErasureReport {
        request: r.id.to_string(),
        state,
        processors: processors(&progress.done),
        kinds: progress.done,
        shared_ips: progress.shared_ips.unwrap_or_default(),
        forfeited_credits: progress.forfeited_credits,
    }
}
