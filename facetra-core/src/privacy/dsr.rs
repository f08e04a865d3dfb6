//! The privacy requests' lifecycle (DESIGN §5): intake from the signed-in user or by the DPO
//! for a request that arrived by email, verification (the user's session, a one-time code
//! mailed to the account's address, or a DPO override with a reason), the DPO's queue with its
//! due dates, extension, rejection with a reason from the fixed list, and closing. The person
//! is emailed when a request is received, completed or rejected. Every staff step is audited
//! with ids and reasons' codes, never a personal value.

use chrono::Duration;
use rand::Rng;
use serde_json::json;

use super::requests::{
    Channel, Denial, Method, PendingCode, PrivacyRequest, Rejection, RequestFilter, RequestStatus,
    RequestType, Verification, CODE_MINUTES, CODE_TRIES, DUE_DAYS,
};
use super::Privacy;
use crate::accounts::{Email, StaffOp, User};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{RequestId, UserId};
use crate::mail::templates;
use crate::paging::{Page, PageRequest};
use crate::security::{constant_time_eq, KeyPurpose};
use crate::Actor;

/// The longest message a request carries.
pub const MESSAGE_MAX: usize = 5000;
/// The most days one extension adds.
pub const EXTENSION_MAX_DAYS: i64 = 60;

/// Which requests the DPO's queue shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestQuery {
    pub status: Option<RequestStatus>,
    pub kind: Option<RequestType>,
    /// Only open requests due within this many days of the day.
    pub due_within_days: Option<i64>,
    /// Only open requests past their due date on the day.
    pub overdue: bool,
}

fn parse_message(message: Option<&str>) -> Result<Option<String>> {
    let Some(m) = message.map(str::trim).filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    if m.chars().count() > MESSAGE_MAX {
        return Err(Error::invalid(
            "message",
            format!("is longer than {MESSAGE_MAX} characters"),
        ));
    }
    if m.contains('\0') {
        return Err(Error::invalid("message", "contains a NUL character"));
    }
    Ok(Some(m.to_owned()))
}

fn reason_text(field: &'static str, reason: &str) -> Result<String> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(Error::invalid(field, "give the reason in a few words"));
    }
    if r.chars().count() > 500 || r.contains('\0') {
        return Err(Error::invalid(
            field,
            "must be at most 500 characters of text",
        ));
    }
    Ok(r.to_owned())
}

fn staff_id(actor: &Actor) -> Option<UserId> {
    match actor {
        Actor::Staff(s) => Some(s.id().clone()),
        _ => None,
    }
}

impl Privacy<'_> {
    /// The keyed hash of an email, as an erased person's request and the list of erased
    /// identities keep it.
    pub(crate) fn email_hash(&self, email: &Email) -> String {
        self.f
            .keys()
            .keyed_hash(KeyPurpose::ErasedIdentity, email.as_str())
    }

    fn code_hash(&self, id: &RequestId, code: &str) -> String {
        self.f
            .keys()
            .keyed_hash(KeyPurpose::Verification, &format!("{id}:{code}"))
    }

    fn new_request(
        &self,
        kind: RequestType,
        channel: Channel,
        user: Option<&User>,
        email: Email,
        message: Option<String>,
    ) -> PrivacyRequest {
        let now = self.f.now();
        PrivacyRequest {
            id: RequestId::new(now),
            kind,
            status: RequestStatus::Received,
            channel,
            user_id: user.map(|u| u.id.clone()),
            email_hash: self.email_hash(&email),
            email: Some(email),
            message,
            handler: None,
            received_at: now,
            due_at: now + Duration::days(DUE_DAYS),
            extension: None,
            verification: None,
            code: None,
            rejection: None,
            outcome: None,
            completed_at: None,
            erasure: None,
            export: None,
            nominee: false,
            updated_at: now,
            version: 1,
        }
    }

    /// Emails the person about their request, once per `step`.
    pub(crate) async fn tell(
        &self,
        r: &PrivacyRequest,
        step: &str,
        mail: templates::Rendered,
    ) -> Result<()> {
        let Some(to) = &r.email else {
            return Ok(());
        };
        self.f
            .mail()
            .queue(
                r.user_id.as_ref(),
                to.as_str(),
                &format!("dsr:{}:{step}", r.id),
                mail,
            )
            .await
    }

    /// Applies `change` to the stored request and saves it, refusing when another change came
    /// first.
    pub(crate) async fn change(
        &self,
        id: &RequestId,
        change: impl FnOnce(&mut PrivacyRequest) -> Result<()>,
    ) -> Result<PrivacyRequest> {
        let store = &self.f.store().requests;
        let mut r = store
            .request(id)
            .await?
            .ok_or(Error::NotFound("privacy request"))?;
        change(&mut r)?;
        r.version += 1;
        r.updated_at = self.f.now();
        if !store.update_request(&r).await? {
            return Err(Error::Conflict(format!(
                "privacy request {id} changed meanwhile; look at it again and repeat"
            )));
        }
        Ok(r)
    }

    /// One staff step on a request: `change` (which returns the audit entry's details, ids
    /// and codes only) applied and saved, the actor made its handler when it has none, and
    /// the step audited as `action`.
    async fn step(
        &self,
        actor: &Actor,
        id: &RequestId,
        action: &str,
        change: impl FnOnce(&mut PrivacyRequest) -> Result<serde_json::Value>,
    ) -> Result<PrivacyRequest> {
        let mut details = serde_json::Value::Null;
        let by = staff_id(actor);
        let r = self
            .change(id, |r| {
                details = change(r)?;
                r.handler = r.handler.take().or(by);
                Ok(())
            })
            .await?;
        self.f
            .audit_record(actor, action, Some(r.id.as_str()), details)
            .await?;
        Ok(r)
    }

    /// A signed-in user's own request: verified by their session. Withdrawing consent takes
    /// effect at once (analytics and marketing off) and completes the request.
    pub async fn ask(
        &self,
        actor: &Actor,
        kind: RequestType,
        message: Option<&str>,
    ) -> Result<PrivacyRequest> {
        let user = self.f.accounts().me(actor).await?;
        let message = parse_message(message)?;
        let open = self
            .f
            .store()
            .requests
            .requests(
                &RequestFilter {
                    kind: Some(kind),
                    user: Some(user.id.clone()),
                    ..RequestFilter::default()
                },
                &PageRequest::first(),
            )
            .await?;
        if let Some(r) = open.items.iter().find(|r| !r.status.is_closed()) {
            return Err(Error::Conflict(format!(
                "you already have an open {kind} request ({}, due {}); it will be answered by then",
                r.id,
                r.due_at.format("%Y-%m-%d")
            )));
        }
        let mut r = self
            .record_own(actor, &user, kind, message, json!({ "channel": "account" }))
            .await?;
        if kind == RequestType::Access {
            r = self.build_export(actor, &r).await?;
        }
        if kind == RequestType::WithdrawConsent {
            self.f
                .accounts()
                .set_consents(actor, Some(false), Some(false), "privacy_request")
                .await?;
            let outcome = "Your consent to usage analytics and to marketing email is withdrawn; nothing more is recorded or sent on it. To withdraw from the service itself, ask for the erasure of your account.";
            r = self.complete(actor, &r.id, outcome).await?;
        }
        Ok(r)
    }

    /// The grievance request an in-app grievance message opens: the user's, verified by their
    /// session, due in 30 days, pointing at the thread.
    pub(crate) async fn grievance_from_message(
        &self,
        actor: &Actor,
        user: &User,
        thread: &crate::ids::ThreadId,
        subject: &str,
    ) -> Result<PrivacyRequest> {
        let message = Some(format!("In-app message {thread}: {subject}"));
        let how = json!({ "channel": "message", "thread": thread.as_str() });
        self.record_own(actor, user, RequestType::Grievance, message, how)
            .await
    }

    /// Records the user's own request, verified by their session; audited with `how` (ids
    /// only), and the user told it was received.
    async fn record_own(
        &self,
        actor: &Actor,
        user: &User,
        kind: RequestType,
        message: Option<String>,
        mut how: serde_json::Value,
    ) -> Result<PrivacyRequest> {
        let mut r = self.new_request(
            kind,
            Channel::Account,
            Some(user),
            user.email.clone(),
            message,
        );
        r.status = RequestStatus::Verified;
        r.verification = Some(Verification {
            method: Method::Session,
            at: r.received_at,
            by: None,
            reason: None,
        });
        self.f.store().requests.insert_request(&r).await?;
        how["type"] = json!(kind.as_str());
        self.f
            .audit_record(actor, "privacy.request", Some(r.id.as_str()), how)
            .await?;
        let due = r.due_at.format("%Y-%m-%d").to_string();
        self.tell(
            &r,
            "received",
            templates::privacy_received(kind.as_str(), r.id.as_str(), &due, false),
        )
        .await?;
        Ok(r)
    }

    /// The signed-in user's own requests, newest first.
    pub async fn my_requests(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<PrivacyRequest>> {
        let user = self.f.accounts().me(actor).await?;
        self.f
            .store()
            .requests
            .requests(
                &RequestFilter {
                    user: Some(user.id),
                    ..RequestFilter::default()
                },
                page,
            )
            .await
    }

    /// Records a request that arrived by email, for the address it came from; the person is
    /// told it was received and that a code will verify it.
    pub async fn open_request(
        &self,
        actor: &Actor,
        email: &str,
        kind: RequestType,
        message: Option<&str>,
    ) -> Result<PrivacyRequest> {
        self.f.authorize(actor, StaffOp::HandleRequests).await?;
        let email = Email::parse(email)?;
        let user = self.f.store().accounts.user_by_email(&email).await?;
        self.record_request(actor, email, user, false, kind, message)
            .await
    }

    /// Records a request that a user's nominee (DPDP Act s.14) sent by email, for `account`
    /// (its email or id): refused unless `email` is the nominee the user named. It is verified
    /// by override once the DPO has seen proof of the user's death or incapacity.
    pub async fn open_for_nominee(
        &self,
        actor: &Actor,
        email: &str,
        account: &str,
        kind: RequestType,
        message: Option<&str>,
    ) -> Result<PrivacyRequest> {
        self.f.authorize(actor, StaffOp::HandleRequests).await?;
        let email = Email::parse(email)?;
        let user = self.f.accounts().lookup(account).await?;
        let named = self.f.store().nominees.nominee(&user.id).await?;
        if named.is_none_or(|n| n.email != email) {
            return Err(Error::Forbidden(format!(
                "{} is not the nominee of {}; a user names a nominee with `facetra privacy nominee set`",
                email.as_str(),
                user.id
            )));
        }
        self.record_request(actor, email, Some(user), true, kind, message)
            .await
    }

    async fn record_request(
        &self,
        actor: &Actor,
        email: Email,
        user: Option<User>,
        nominee: bool,
        kind: RequestType,
        message: Option<&str>,
    ) -> Result<PrivacyRequest> {
        let message = parse_message(message)?;
        let mut r = self.new_request(kind, Channel::Email, user.as_ref(), email, message);
        r.handler = staff_id(actor);
        r.nominee = nominee;
        self.f.store().requests.insert_request(&r).await?;
        self.f
            .audit_record(
                actor,
                "privacy.open",
                Some(r.id.as_str()),
                json!({
                    "type": kind.as_str(),
                    "channel": "email",
                    "nominee": nominee,
                    "account": r.user_id.as_ref().map(UserId::as_str),
                }),
            )
            .await?;
        let due = r.due_at.format("%Y-%m-%d").to_string();
        self.tell(
            &r,
            "received",
            templates::privacy_received(kind.as_str(), r.id.as_str(), &due, !nominee),
        )
        .await?;
        Ok(r)
    }

    /// The DPO's queue, newest first, as of `day` (today unless given).
    pub async fn requests(
        &self,
        actor: &Actor,
        query: &RequestQuery,
        day: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<PrivacyRequest>> {
        self.f.authorize(actor, StaffOp::HandleRequests).await?;
        let open_due_before = match (query.overdue, query.due_within_days) {
            (true, _) => Some(day),
            (false, Some(n)) if n >= 0 => Some(day + Duration::days(n)),
            (false, Some(_)) => {
                return Err(Error::invalid("due-within", "must be 0 days or more"));
            }
            (false, None) => None,
        };
        self.f
            .store()
            .requests
            .requests(
                &RequestFilter {
                    status: query.status,
                    kind: query.kind,
                    user: None,
                    open_due_before,
                },
                page,
            )
            .await
    }

    /// One request.
    pub async fn request(&self, actor: &Actor, id: &str) -> Result<PrivacyRequest> {
        self.f.authorize(actor, StaffOp::HandleRequests).await?;
        let id = RequestId::parse(id.trim()).ok_or(Error::NotFound("privacy request"))?;
        self.f
            .store()
            .requests
            .request(&id)
            .await?
            .ok_or(Error::NotFound("privacy request"))
    }

    /// Mails a one-time code to the request's address (valid 10 minutes); a new code replaces
    /// an unused one.
    pub async fn send_code(&self, actor: &Actor, id: &str) -> Result<PrivacyRequest> {
        let r = self.request(actor, id).await?;
        let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32));
        let hash = self.code_hash(&r.id, &code);
        let expires_at = self.f.now() + Duration::minutes(CODE_MINUTES);
        let r = self
            .step(actor, &r.id, "privacy.send_code", |r| {
                open_unverified(r)?;
                if r.nominee {
                    return Err(Error::Conflict(
                        "a nominee's request is verified by override, once you have seen proof of the user's death or incapacity: `dsr verify ID --override REASON`".into(),
                    ));
                }
                if r.email.is_none() {
                    return Err(Error::Conflict(
                        "the request has no address to send a code to; verify it by override"
                            .into(),
                    ));
                }
                r.code = Some(PendingCode {
                    hash,
                    expires_at,
                    wrong_tries: 0,
                });
                Ok(json!({}))
            })
            .await?;
        self.tell(
            &r,
            &format!("code:{}", r.version),
            templates::privacy_code(r.id.as_str(), &code),
        )
        .await?;
        Ok(r)
    }

    /// Checks the code the person gave: right, the request is verified; wrong, a try is
    /// spent, and after three the request is void (rejected for insufficient verification).
    pub async fn verify_code(&self, actor: &Actor, id: &str, code: &str) -> Result<PrivacyRequest> {
        let r = self.request(actor, id).await?;
        let given = self.code_hash(&r.id, code.trim());
        let (now, by) = (self.f.now(), staff_id(actor));
        let mut outcome = Ok(());
        let r = self
            .change(&r.id, |r| {
                open_unverified(r)?;
                let Some(pending) = r.code.as_mut() else {
                    return Err(Error::Conflict(
                        "no code has been sent for this request; send one with `dsr verify ID --send-code`"
                            .into(),
                    ));
                };
                if pending.expires_at < now {
                    r.code = None;
                    outcome = Err(Error::invalid(
                        "code",
                        "has expired (codes last 10 minutes); send a new one with `dsr verify ID --send-code`",
                    ));
                } else if constant_time_eq(pending.hash.as_bytes(), given.as_bytes()) {
                    r.code = None;
                    r.status = RequestStatus::Verified;
                    r.verification = Some(Verification {
                        method: Method::Code,
                        at: now,
                        by,
                        reason: None,
                    });
                } else {
                    pending.wrong_tries += 1;
                    let left = CODE_TRIES.saturating_sub(pending.wrong_tries);
                    if left == 0 {
                        r.code = None;
                        r.status = RequestStatus::Rejected;
                        r.rejection = Some(Rejection {
                            reason: Denial::InsufficientVerification,
                            note: Some("A wrong verification code was given three times.".into()),
                        });
                        r.completed_at = Some(now);
                        outcome = Err(Error::invalid(
                            "code",
                            "is wrong for the third time: the request is void and has been rejected",
                        ));
                    } else {
                        outcome = Err(Error::invalid(
                            "code",
                            format!("is wrong; {left} {} left before the request is void", if left == 1 { "try" } else { "tries" }),
                        ));
                    }
                }
                Ok(())
            })
            .await?;
        let action = match (&outcome, r.status) {
            (Ok(()), _) => "privacy.verified",
            (Err(_), RequestStatus::Rejected) => "privacy.void",
            (Err(_), _) => "privacy.wrong_code",
        };
        self.f
            .audit_record(
                actor,
                action,
                Some(r.id.as_str()),
                json!({ "method": "code" }),
            )
            .await?;
        if r.status == RequestStatus::Rejected {
            self.tell_rejected(&r).await?;
        }
        outcome.map(|()| r)
    }

    /// Verifies a request by the DPO's own judgement (a nominee's request, an identity checked
    /// another way), with the reason.
    pub async fn verify_override(
        &self,
        actor: &Actor,
        id: &str,
        reason: &str,
    ) -> Result<PrivacyRequest> {
        let r = self.request(actor, id).await?;
        let reason = reason_text("reason", reason)?;
        let (now, by) = (self.f.now(), staff_id(actor));
        let r = self
            .step(actor, &r.id, "privacy.verified", |r| {
                open_unverified(r)?;
                r.code = None;
                r.status = RequestStatus::Verified;
                r.verification = Some(Verification {
                    method: Method::Override,
                    at: now,
                    by: by.clone(),
                    reason: Some(reason),
                });
                Ok(json!({ "method": "override" }))
            })
            .await?;
        Ok(r)
    }

    /// Moves an open request's due date by `days` (1–60), with the reason; once per request.
    pub async fn extend(
        &self,
        actor: &Actor,
        id: &str,
        days: i64,
        reason: &str,
    ) -> Result<PrivacyRequest> {
        let r = self.request(actor, id).await?;
        let reason = reason_text("reason", reason)?;
        if !(1..=EXTENSION_MAX_DAYS).contains(&days) {
            return Err(Error::invalid(
                "days",
                format!("must be between 1 and {EXTENSION_MAX_DAYS}"),
            ));
        }
        let r = self
            .step(actor, &r.id, "privacy.extend", |r| {
                open(r)?;
                if r.extension.is_some() {
                    return Err(Error::Conflict(
                        "the request was extended once already; it cannot be extended again".into(),
                    ));
                }
                r.due_at += Duration::days(days);
                r.extension = Some(reason);
                Ok(json!({ "days": days }))
            })
            .await?;
        Ok(r)
    }

    /// Turns a request down with a reason from the fixed list (and a note for the person);
    /// the person is told why and how to complain.
    pub async fn reject(
        &self,
        actor: &Actor,
        id: &str,
        reason: Denial,
        note: Option<&str>,
    ) -> Result<PrivacyRequest> {
        let r = self.request(actor, id).await?;
        let note = note.map(|n| reason_text("note", n)).transpose()?;
        if reason == Denial::Other && note.is_none() {
            return Err(Error::invalid(
                "note",
                "say what the reason is when it is `other`",
            ));
        }
        let now = self.f.now();
        let r = self
            .step(actor, &r.id, "privacy.reject", |r| {
                open(r)?;
                if r.status == RequestStatus::InProgress {
                    return Err(Error::Conflict(
                        "the request is being carried out; finish it with `dsr erase`".into(),
                    ));
                }
                r.status = RequestStatus::Rejected;
                r.rejection = Some(Rejection { reason, note });
                r.code = None;
                r.completed_at = Some(now);
                Ok(json!({ "reason": reason.as_str() }))
            })
            .await?;
        self.tell_rejected(&r).await?;
        Ok(r)
    }

    async fn tell_rejected(&self, r: &PrivacyRequest) -> Result<()> {
        let Some(rejection) = &r.rejection else {
            return Ok(());
        };
        self.tell(
            r,
            "rejected",
            templates::privacy_rejected(
                r.kind.as_str(),
                r.id.as_str(),
                rejection.reason.describe(),
                rejection.note.as_deref(),
            ),
        )
        .await
    }

    /// Answers a verified correction request: the account's name set to `name` (audited
    /// with the field's name and a keyed hash, never the value), the request completed and
    /// the person told. The email comes from the sign-in provider and is not corrected here.
    pub async fn correct(&self, actor: &Actor, id: &str, name: &str) -> Result<PrivacyRequest> {
        let r = self.request(actor, id).await?;
        if r.kind != RequestType::Correction {
            return Err(Error::invalid(
                "id",
                format!("{} is a {} request, not a correction request", r.id, r.kind),
            ));
        }
        if !r.is_verified() {
            return Err(Error::Conflict(
                "the request is not verified; verify it first with `dsr verify`".into(),
            ));
        }
        open(&r)?;
        let user = r.user_id.clone().ok_or_else(|| {
            Error::Conflict(format!(
                "privacy request {} names no account; reject it as no_match",
                r.id
            ))
        })?;
        self.f.accounts().correct_name(actor, &user, name).await?;
        self.complete(actor, &r.id, "Your name is corrected as you asked.")
            .await
    }

    /// Closes a verified request as answered (a grievance resolved, an export handed over, a
    /// consent withdrawn: closing a withdrawal request switches analytics and marketing off),
    /// saying what was done; the person is told. Erasure requests are completed by the
    /// erasure itself, correction requests by `correct`.
    pub async fn close(&self, actor: &Actor, id: &str, outcome: &str) -> Result<PrivacyRequest> {
        let r = self.request(actor, id).await?;
        if r.kind == RequestType::Erasure {
            return Err(Error::Conflict(
                "an erasure request is completed by the erasure: run `dsr erase ID`".into(),
            ));
        }
        if !r.is_verified() && r.kind != RequestType::Grievance {
            return Err(Error::Conflict(
                "the request is not verified; verify it first with `dsr verify`".into(),
            ));
        }
        let outcome = reason_text("outcome", outcome)?;
        if r.kind == RequestType::WithdrawConsent {
            // Closing it is withdrawing: analytics and marketing off at once.
            let user = r.user_id.clone().ok_or_else(|| {
                Error::Conflict(format!(
                    "privacy request {} names no account, so there is no consent to withdraw; reject it as no_match",
                    r.id
                ))
            })?;
            self.f
                .accounts()
                .set_consents(&Actor::User(user), Some(false), Some(false), "dpo")
                .await?;
        }
        self.complete(actor, &r.id, &outcome).await
    }

    /// Marks a request completed with `outcome`, audits it and tells the person.
    pub(crate) async fn complete(
        &self,
        actor: &Actor,
        id: &RequestId,
        outcome: &str,
    ) -> Result<PrivacyRequest> {
        let now = self.f.now();
        let r = self
            .step(actor, id, "privacy.complete", |r| {
                open(r)?;
                r.status = RequestStatus::Completed;
                r.outcome = Some(outcome.to_owned());
                r.completed_at = Some(now);
                Ok(json!({ "type": r.kind.as_str() }))
            })
            .await?;
        self.tell(
            &r,
            "completed",
            templates::privacy_completed(r.kind.as_str(), r.id.as_str(), outcome),
        )
        .await?;
        Ok(r)
    }
}

fn open(r: &PrivacyRequest) -> Result<()> {
    if r.status.is_closed() {
        return Err(Error::Conflict(format!(
            "privacy request {} is {} already",
            r.id, r.status
        )));
    }
    Ok(())
}

fn open_unverified(r: &PrivacyRequest) -> Result<()> {
    open(r)?;
    if r.is_verified() {
        return Err(Error::Conflict(format!(
            "privacy request {} is verified already",
            r.id
        )));
    }
    Ok(())
}
