//! Onboarding: the waitlist and demo bookings (name, email, company, role, message), the
//! staff's view of them, and invitations. Approving a waitlist entry makes it an invitation
//! for its email and sends "studio ready"; the account itself is made at that person's first
//! Google sign-in, which ties their entries to it (so they are exported and erased with the
//! account). With `FACETRA_SIGNUP=invite`, only invited emails may make an account.

pub mod store;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::accounts::{Actor, Email, StaffOp, User};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{SignupId, UserId};
use crate::paging::{Page, PageRequest};
use crate::Facetra;

/// Which form it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignupKind {
    Waitlist,
    Demo,
}

impl SignupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SignupKind::Waitlist => "waitlist",
            SignupKind::Demo => "demo",
        }
    }

    pub fn parse(s: &str) -> Option<SignupKind> {
        [SignupKind::Waitlist, SignupKind::Demo]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignupStatus {
    /// Waiting for staff.
    Pending,
    /// Invited: the person may make their account.
    Approved,
    /// The person made their account.
    Joined,
}

impl SignupStatus {
    pub const ALL: [SignupStatus; 3] = [
        SignupStatus::Pending,
        SignupStatus::Approved,
        SignupStatus::Joined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignupStatus::Pending => "pending",
            SignupStatus::Approved => "approved",
            SignupStatus::Joined => "joined",
        }
    }

    pub fn parse(s: &str) -> Result<SignupStatus> {
        SignupStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "status",
                    format!("unknown status {s:?}; use pending, approved or joined"),
                )
            })
    }
}

/// A waitlist entry or a demo booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signup {
    pub id: SignupId,
    pub kind: SignupKind,
    pub name: String,
    pub email: Email,
    pub company: Option<String>,
    pub role: Option<String>,
    pub message: Option<String>,
    pub status: SignupStatus,
    /// The account it belongs to, once there is one.
    pub user_id: Option<UserId>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

/// What a form sends.
#[derive(Debug, Clone, Default)]
pub struct SignupForm {
    pub name: String,
    pub email: String,
    pub company: Option<String>,
    pub role: Option<String>,
    pub message: Option<String>,
}

/// Who may make an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupMode {
    /// Anyone who signs in with Google (18 or older).
    Open,
    /// Only emails with an approved waitlist entry.
    Invite,
}

/// An optional text field: trimmed, empty is none, at most `max` characters, no control
/// characters but newlines in a message.
fn optional(
    field: &'static str,
    v: Option<&str>,
    max: usize,
    multiline: bool,
) -> Result<Option<String>> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = v
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t')));
    if bad || v.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters without control characters"),
        ));
    }
    Ok(Some(v.to_owned()))
}

/// Onboarding, borrowed from the facade.
pub struct Onboarding<'a> {
    pub(crate) f: &'a Facetra,
}

impl Onboarding<'_> {
    /// Takes a waitlist entry or a demo booking from the public form. The same email on the
    /// same form while its entry is pending gets that entry again (nothing is stored twice,
    /// and the answer says nothing about who else signed up). A demo booking needs a company
    /// and is confirmed by email.
    pub async fn submit(&self, kind: SignupKind, form: SignupForm) -> Result<Signup> {
        let name = crate::accounts::parse_name(&form.name)?;
        let email = Email::parse(&form.email)?;
        let company = optional("company", form.company.as_deref(), 200, false)?;
        if kind == SignupKind::Demo && company.is_none() {
            return Err(Error::invalid("company", "is needed to book a demo"));
        }
        let role = optional("role", form.role.as_deref(), 200, false)?;
        let message = optional("message", form.message.as_deref(), 5000, true)?;
        let store = &self.f.store().onboarding;
        if let Some(pending) = store.pending_signup(kind, &email).await? {
            return Ok(pending);
        }
        let now = self.f.now();
        let user_id = self
            .f
            .store()
            .accounts
            .user_by_email(&email)
            .await?
            .map(|u| u.id);
        let signup = Signup {
            id: SignupId::new(now),
            kind,
            name,
            email,
            company,
            role,
            message,
            status: SignupStatus::Pending,
            user_id,
            created_at: now,
            decided_at: None,
        };
        store.insert_signup(&signup).await?;
        if kind == SignupKind::Demo {
            let mail = crate::mail::templates::demo_confirmation(&signup.name);
            self.f
                .mail()
                .queue(
                    signup.user_id.as_ref(),
                    signup.email.as_str(),
                    &format!("demo:{}", signup.id),
                    mail,
                )
                .await?;
        }
        Ok(signup)
    }

    /// Entries of `kind`, newest first (staff; audited, as they hold names and emails).
    pub async fn list(
        &self,
        actor: &Actor,
        kind: SignupKind,
        status: Option<SignupStatus>,
        page: &PageRequest,
    ) -> Result<Page<Signup>> {
        self.f.authorize(actor, StaffOp::ReadSignups).await?;
        let found = self
            .f
            .store()
            .onboarding
            .signups(kind, status, page)
            .await?;
        self.f
            .audit_record(
                actor,
                "onboarding.list",
                None,
                json!({ "kind": kind.as_str(), "count": found.items.len() }),
            )
            .await?;
        Ok(found)
    }

    /// Approves a pending waitlist entry (staff): an invitation for its email, announced by
    /// the "studio ready" email, audited. Approving twice changes nothing the second time.
    pub async fn approve(&self, actor: &Actor, id: &str) -> Result<Signup> {
        self.f.authorize(actor, StaffOp::ApproveSignups).await?;
        let id = SignupId::parse(id).ok_or(Error::NotFound("waitlist entry"))?;
        let store = &self.f.store().onboarding;
        let entry = store
            .signup(&id)
            .await?
            .filter(|s| s.kind == SignupKind::Waitlist)
            .ok_or(Error::NotFound("waitlist entry"))?;
        if entry.status != SignupStatus::Pending {
            return Ok(entry);
        }
        let Some(approved) = store.approve_signup(&id, self.f.now()).await? else {
            return store
                .signup(&id)
                .await?
                .ok_or(Error::NotFound("waitlist entry"));
        };
        let mail = crate::mail::templates::studio_ready(
            &approved.name,
            self.f.config().trial_credits.max(0),
        );
        self.f
            .mail()
            .queue(
                approved.user_id.as_ref(),
                approved.email.as_str(),
                &format!("studio-ready:{}", approved.id),
                mail,
            )
            .await?;
        self.f
            .audit_record(
                actor,
                "waitlist.approve",
                Some(approved.id.as_str()),
                json!({}),
            )
            .await?;
        Ok(approved)
    }

    /// Refuses a new account for `email` unless sign-up is open or the email is invited.
    pub(crate) async fn may_join(&self, email: &Email) -> Result<()> {
        if self.f.config().signup_mode == SignupMode::Open
            || self.f.store().onboarding.invited(email).await?
        {
            return Ok(());
        }
        Err(Error::Forbidden(
            "Facetra is open by invitation for now: join the waitlist, and sign in once your \
             invitation arrives"
                .into(),
        ))
    }

    /// Ties the person's entries to their new account.
    pub(crate) async fn joined(&self, user: &User) -> Result<()> {
        self.f
            .store()
            .onboarding
            .link_signups(&user.email, &user.id, self.f.now())
            .await
            .map(|_| ())
    }
}
