//! Staff and what they may do. A staff member is an account that holds `support`, `dpo` or
//! `admin`, however it arrives (the admin CLI's `--operator`, later a session or API token);
//! only core can make one, from what the store says the account holds. One table
//! ([`StaffOp::roles`]) says which roles each staff operation needs, and every staff
//! operation asks [`Facetra::authorize`] first: a refusal changes nothing, is recorded as a
//! security event and reads "forbidden" (exit 5, HTTP 403). Front ends never decide this.

use serde_json::json;

use super::{Accounts, Actor, Principal, Role, User, UserStatus};
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::Facetra;

/// An account acting with its staff roles. Built only by core, from the stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    id: UserId,
    roles: Vec<Role>,
}

impl Staff {
    /// The staff member's account.
    pub fn id(&self) -> &UserId {
        &self.id
    }

    /// The staff roles held (never `user`).
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The staff side of `user`, if it holds any staff role and is active.
    pub(crate) fn of(user: &User) -> Option<Staff> {
        let roles: Vec<Role> = user
            .roles
            .iter()
            .copied()
            .filter(|r| *r != Role::User)
            .collect();
        (user.status == UserStatus::Active && !roles.is_empty()).then(|| Staff {
            id: user.id.clone(),
            roles,
        })
    }
}

/// Everything staff can do. Add an operation here, with its roles, before core offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffOp {
    /// List and look up accounts.
    ReadAccounts,
    /// Change an account's roles.
    ChangeRoles,
    /// Grant credits.
    GrantCredits,
    /// Read an account's ledger.
    ReadLedgers,
    /// Replay every ledger.
    VerifyLedgers,
    /// Read the mail outbox.
    ReadOutbox,
    /// Queue a failed message again.
    RetryMail,
    /// Read and verify the audit log.
    ReadAudit,
    /// Read the record of processing activities (the data map).
    ReadDataMap,
    /// Count and export a person's personal data.
    ExportData,
    /// Erase a person's personal data.
    EraseData,
    /// Read the waitlist and demo bookings.
    ReadSignups,
    /// Approve a waitlist entry (an invitation).
    ApproveSignups,
    /// Anonymise logs past their retention.
    AnonymiseLogs,
    /// Open, read, verify, extend, reject and close privacy requests.
    HandleRequests,
    /// Plan and apply the retention policy.
    RunRetention,
    /// Record breaches, report them and notify the people affected.
    HandleBreaches,
    /// Read users' message threads.
    ReadMessages,
    /// Answer support and feedback messages.
    AnswerMessages,
    /// Answer grievances.
    AnswerGrievances,
}

impl StaffOp {
    /// Every operation, in the order the table lists them.
    pub const ALL: [StaffOp; 20] = [
        StaffOp::ReadAccounts,
        StaffOp::ChangeRoles,
        StaffOp::GrantCredits,
        StaffOp::ReadLedgers,
        StaffOp::VerifyLedgers,
        StaffOp::ReadOutbox,
        StaffOp::RetryMail,
        StaffOp::ReadAudit,
        StaffOp::ReadDataMap,
        StaffOp::ExportData,
        StaffOp::EraseData,
        StaffOp::ReadSignups,
        StaffOp::ApproveSignups,
        StaffOp::AnonymiseLogs,
        StaffOp::HandleRequests,
        StaffOp::RunRetention,
        StaffOp::HandleBreaches,
        StaffOp::ReadMessages,
        StaffOp::AnswerMessages,
        StaffOp::AnswerGrievances,
    ];

    /// The one table: which roles may perform the operation. A role does not imply another
    /// (an admin is not a DPO unless the account holds both).
    pub fn roles(self) -> &'static [Role] {
        use Role::{Admin, Dpo, Support};
        match self {
            StaffOp::ReadAccounts => &[Support, Dpo, Admin],
            StaffOp::ChangeRoles => &[Admin],
            StaffOp::GrantCredits => &[Admin],
            StaffOp::ReadLedgers => &[Support, Dpo, Admin],
            StaffOp::VerifyLedgers => &[Dpo, Admin],
            StaffOp::ReadOutbox => &[Support, Admin],
            StaffOp::RetryMail => &[Support, Admin],
            StaffOp::ReadAudit => &[Dpo, Admin],
            StaffOp::ReadDataMap => &[Support, Dpo, Admin],
            StaffOp::ExportData | StaffOp::EraseData => &[Dpo],
            StaffOp::ReadSignups => &[Support, Admin],
            StaffOp::ApproveSignups => &[Admin],
            StaffOp::AnonymiseLogs => &[Dpo],
            StaffOp::HandleRequests => &[Dpo],
            StaffOp::RunRetention => &[Dpo],
            StaffOp::HandleBreaches => &[Dpo],
            StaffOp::ReadMessages => &[Support, Dpo],
            StaffOp::AnswerMessages => &[Support],
            StaffOp::AnswerGrievances => &[Dpo],
        }
    }

    /// The operation's name, as security events record it.
    pub fn as_str(self) -> &'static str {
        match self {
            StaffOp::ReadAccounts => "accounts.read",
            StaffOp::ChangeRoles => "accounts.change_roles",
            StaffOp::GrantCredits => "credits.grant",
            StaffOp::ReadLedgers => "credits.read_ledgers",
            StaffOp::VerifyLedgers => "credits.verify",
            StaffOp::ReadOutbox => "mail.read_outbox",
            StaffOp::RetryMail => "mail.retry",
            StaffOp::ReadAudit => "audit.read",
            StaffOp::ReadDataMap => "privacy.read_datamap",
            StaffOp::ExportData => "privacy.export",
            StaffOp::EraseData => "privacy.erase",
            StaffOp::ReadSignups => "onboarding.read",
            StaffOp::ApproveSignups => "waitlist.approve",
            StaffOp::AnonymiseLogs => "privacy.anonymise_logs",
            StaffOp::HandleRequests => "privacy.requests",
            StaffOp::RunRetention => "privacy.retention",
            StaffOp::HandleBreaches => "privacy.breaches",
            StaffOp::ReadMessages => "messages.read",
            StaffOp::AnswerMessages => "messages.answer",
            StaffOp::AnswerGrievances => "messages.answer_grievances",
        }
    }

    /// What it is, for a person reading a refusal.
    pub fn describe(self) -> &'static str {
        match self {
            StaffOp::ReadAccounts => "reading accounts",
            StaffOp::ChangeRoles => "changing roles",
            StaffOp::GrantCredits => "granting credits",
            StaffOp::ReadLedgers => "reading ledgers",
            StaffOp::VerifyLedgers => "verifying the ledgers",
            StaffOp::ReadOutbox => "reading the outbox",
            StaffOp::RetryMail => "retrying mail",
            StaffOp::ReadAudit => "reading the audit log",
            StaffOp::ReadDataMap => "reading the data map",
            StaffOp::ExportData => "exporting personal data",
            StaffOp::EraseData => "erasing personal data",
            StaffOp::ReadSignups => "reading the waitlist and demo bookings",
            StaffOp::ApproveSignups => "approving waitlist entries",
            StaffOp::AnonymiseLogs => "anonymising logs",
            StaffOp::HandleRequests => "handling privacy requests",
            StaffOp::RunRetention => "running retention",
            StaffOp::HandleBreaches => "handling breaches",
            StaffOp::ReadMessages => "reading messages",
            StaffOp::AnswerMessages => "answering support and feedback messages",
            StaffOp::AnswerGrievances => "answering grievances",
        }
    }
}

/// "`dpo` or `admin`".
fn either(roles: &[Role]) -> String {
    let names: Vec<String> = roles.iter().map(|r| format!("`{}`", r.as_str())).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "no role".into(),
    }
}

impl Facetra {
    /// Passes the system and staff holding a role the operation needs (`StaffOp::roles`);
    /// refuses everyone else with `Forbidden`, recording the refusal as a security event.
    pub(crate) async fn authorize(&self, actor: &Actor, op: StaffOp) -> Result<()> {
        let (allowed, who) = match actor {
            Actor::System => return Ok(()),
            Actor::Staff(s) => (s.roles.iter().any(|r| op.roles().contains(r)), &s.id),
            Actor::User(id) => (false, id),
            Actor::Signed(user) => (false, &user.id),
        };
        if allowed {
            return Ok(());
        }
        self.record_security_event(
            "authz.refused",
            Some(who),
            json!({ "operation": op.as_str() }),
        )
        .await?;
        Err(Error::Forbidden(format!(
            "{} needs the {} role",
            op.describe(),
            either(op.roles())
        )))
    }
}

impl Accounts<'_> {
    /// The staff actor for an operator named by id or email: an existing, active account
    /// holding a staff role. Anything else is refused (and recorded).
    pub async fn staff(&self, operator: &str) -> Result<Actor> {
        let found = self.lookup(operator).await;
        let user = match found {
            Ok(user) => user,
            Err(Error::NotFound(_) | Error::Invalid { .. }) => {
                self.f
                    .record_security_event("authz.unknown_operator", None, json!({}))
                    .await?;
                return Err(Error::Forbidden(
                    "the operator names no account; pass --operator with the email of a staff \
                     account"
                        .into(),
                ));
            }
            Err(e) => return Err(e),
        };
        self.as_staff(&user).await
    }

    /// The staff actor of a signed-in account (a session or API token on the admin routes):
    /// refused, and recorded, unless it holds a staff role.
    pub async fn staff_of(&self, principal: &Principal) -> Result<Actor> {
        self.as_staff(&principal.user).await
    }

    async fn as_staff(&self, user: &User) -> Result<Actor> {
        match Staff::of(user) {
            Some(staff) => Ok(Actor::Staff(staff)),
            None => {
                self.f
                    .record_security_event(
                        "authz.not_staff",
                        Some(&user.id),
                        json!({ "status": user.status.as_str() }),
                    )
                    .await?;
                Err(Error::Forbidden(format!(
                    "{} holds no staff role (support, dpo or admin) or is not active; an admin \
                     grants roles with `facetra-admin users set-role`",
                    user.id
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_gives_every_operation_a_staff_role_and_never_the_user_role() {
        for op in StaffOp::ALL {
            assert!(!op.roles().is_empty(), "{op:?}");
            assert!(!op.roles().contains(&Role::User), "{op:?}");
        }
        assert!(!StaffOp::GrantCredits.roles().contains(&Role::Dpo));
        assert!(!StaffOp::ChangeRoles.roles().contains(&Role::Support));
        assert_eq!(either(&[Role::Dpo, Role::Admin]), "`dpo` or `admin`");
    }
}
