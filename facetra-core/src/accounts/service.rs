//! The accounts use cases: local set-up, dev login, sessions and API tokens, the profile, and
//! the staff's view of users. Each takes an `Actor` (or a presented token) and decides itself
//! whether it may proceed.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use super::store::InstanceCreated;
use super::{
    normalise_roles, normalise_scopes, parse_name, Actor, ApiToken, Consent, Consents, Email, Role,
    Scope, Session, StaffOp, User, UserStatus,
};
use crate::error::{Error, Result};
use crate::ids::{SessionId, TokenId, UserId};
use crate::paging::{Page, PageRequest};
use crate::privacy::audit::NewAuditEntry;
use crate::security::RawToken;
use crate::Facetra;

/// A session's `last_seen_at` is written only when older than this (DESIGN §2).
const TOUCH_EVERY_SECS: i64 = 60;
/// API tokens carry this prefix so they are recognisable (and scannable) as Facetra secrets.
pub const API_TOKEN_PREFIX: &str = "fct_";
/// The version of the privacy notice a consent is given under: the policy's "last updated".
pub const PRIVACY_NOTICE_VERSION: &str = "2026-06-01";

/// The owner of a new local studio.
#[derive(Debug, Clone)]
pub struct NewOwner {
    pub name: String,
    pub email: String,
    /// The person confirmed they are 18 or older.
    pub age_confirmed: bool,
}

/// What `init` did.
#[derive(Debug, Clone)]
pub enum InitOutcome {
    Created(User),
    /// The studio already had an owner; nothing changed.
    AlreadyInitialized(User),
}

/// A development sign-in request.
#[derive(Debug, Clone)]
pub struct DevLogin {
    pub email: String,
    pub name: String,
    pub age_confirmed: bool,
}

/// Who a presented token belongs to.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account as authentication read it (shared with the actor it makes).
    pub user: Arc<User>,
    /// The session the token opened, or `None` for an API token.
    pub session: Option<SessionId>,
    /// What the token may do: both scopes for a session, the API token's own otherwise.
    pub scopes: Vec<Scope>,
}

/// What a request asks to do, as far as a token's scope goes: the front end says which (an
/// HTTP `GET` reads, anything else writes), core decides whether the token may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Principal {
    /// The actor this principal acts as.
    pub fn actor(&self) -> Actor {
        Actor::Signed(Arc::clone(&self.user))
    }

    /// Refuses what the token's scopes do not cover (403, with the way out).
    pub fn permits(&self, access: Access) -> Result<()> {
        let needed = match access {
            Access::Read => Scope::Read,
            Access::Write => Scope::Write,
        };
        if self.scopes.contains(&needed) {
            return Ok(());
        }
        Err(Error::Forbidden(format!(
            "this API token has no {} scope; create one that has (facetra tokens create --scope {})",
            needed.as_str(),
            needed.as_str()
        )))
    }
}

/// The accounts domain, borrowed from the facade.
pub struct Accounts<'a> {
    pub(crate) f: &'a Facetra,
}

impl Accounts<'_> {
    /// Creates the local studio's owner, once. A second call changes nothing.
    pub async fn init(&self, owner: NewOwner) -> Result<InitOutcome> {
        let store = &self.f.store().accounts;
        if let Some(instance) = store.instance().await? {
            return self.existing_owner(instance.owner_id).await;
        }
        let user = self.new_user(&owner.email, &owner.name, owner.age_confirmed)?;
        match store.create_instance(&user).await? {
            InstanceCreated::Created => {
                self.f.on_account_created(&user).await?;
                self.f
                    .audit_record(
                        &Actor::System,
                        "instance.init",
                        Some(user.id.as_str()),
                        json!({}),
                    )
                    .await?;
                Ok(InitOutcome::Created(user))
            }
            InstanceCreated::Exists(instance) => self.existing_owner(instance.owner_id).await,
        }
    }

    async fn existing_owner(&self, id: UserId) -> Result<InitOutcome> {
        let owner = self
            .f
            .store()
            .accounts
            .user_by_id(&id)
            .await?
            .ok_or_else(|| {
                Error::Corrupt(format!("the instance names owner {id}, who does not exist"))
            })?;
        Ok(InitOutcome::AlreadyInitialized(owner))
    }

    /// The local studio's owner, if `init` has run.
    pub async fn owner(&self) -> Result<Option<User>> {
        let store = &self.f.store().accounts;
        match store.instance().await? {
            Some(i) => store.user_by_id(&i.owner_id).await,
            None => Ok(None),
        }
    }

    pub(super) fn new_user(&self, email: &str, name: &str, age_confirmed: bool) -> Result<User> {
        let email = Email::parse(email)?;
        let name = parse_name(name)?;
        if !age_confirmed {
            return Err(Error::invalid(
                "age_confirmed",
                "must be true: Facetra is only for people who are 18 or older",
            ));
        }
        let now = self.f.now();
        Ok(User {
            id: UserId::new(now),
            email,
            name,
            avatar_url: None,
            google_subject: None,
            roles: vec![Role::User],
            status: UserStatus::Active,
            consents: Consents::default(),
            age_confirmed_at: now,
            created_at: now,
            updated_at: now,
        })
    }

    /// Signs in by email alone, for local development and tests. Only when enabled; never into
    /// an account that has a Google subject or any role beyond `user`; grants no roles.
    /// A session token presented with the request is revoked (the token rotates).
    pub async fn dev_login(
        &self,
        req: DevLogin,
        previous: Option<&RawToken>,
    ) -> Result<(User, RawToken, bool)> {
        if !self.f.config().dev_login {
            return Err(Error::Forbidden("dev login is disabled".into()));
        }
        let store = &self.f.store().accounts;
        let email = Email::parse(&req.email)?;
        let (user, created) = match store.user_by_email(&email).await? {
            Some(user) => {
                if user.google_subject.is_some() || user.roles.iter().any(|r| *r != Role::User) {
                    return Err(Error::Forbidden(
                        "dev login cannot sign into an account that uses Google sign-in or holds a staff role"
                            .into(),
                    ));
                }
                if user.status != UserStatus::Active {
                    return Err(Error::Forbidden("this account is closed".into()));
                }
                (user, false)
            }
            None => {
                let user = self.new_user(email.as_str(), &req.name, req.age_confirmed)?;
                store.insert_user(&user).await?;
                self.f.on_account_created(&user).await?;
                (user, true)
            }
        };
        if let Some(old) = previous {
            store.delete_session(&old.hash()).await?;
        }
        let token = self.open_session(&user.id).await?;
        self.f
            .record_security_event(
                "auth.dev_login",
                Some(&user.id),
                json!({ "new_account": created }),
            )
            .await?;
        Ok((user, token, created))
    }

    /// Opens a session for `user` and returns its token (shown once, stored as a hash).
    pub(super) async fn open_session(&self, user: &UserId) -> Result<RawToken> {
        let cfg = self.f.config();
        let now = self.f.now();
        let token = RawToken::generate("");
        let session = Session {
            id: SessionId::new(now),
            user_id: user.clone(),
            token_hash: token.hash(),
            created_at: now,
            expires_at: now + Duration::seconds(cfg.session_ttl_secs),
            last_seen_at: now,
        };
        self.f.store().accounts.insert_session(&session).await?;
        Ok(token)
    }

    /// Resolves a session token or an API token to its user, enforcing expiry (absolute and
    /// idle) and the account's status.
    pub async fn authenticate(&self, token: &RawToken) -> Result<Principal> {
        if token.expose().starts_with(API_TOKEN_PREFIX) {
            return self.authenticate_api_token(token).await;
        }
        let store = &self.f.store().accounts;
        let cfg = self.f.config();
        let now = self.f.now();
        let hash = token.hash();
        let (session, user) =
            store
                .session_and_user(&hash)
                .await?
                .ok_or(Error::Unauthenticated(
                    "the session is unknown or has ended",
                ))?;
        let idle_limit = session.last_seen_at + Duration::seconds(cfg.session_idle_secs);
        if now >= session.expires_at || now >= idle_limit {
            store.delete_session(&hash).await?;
            return Err(Error::Unauthenticated("the session has expired"));
        }
        if user.status != UserStatus::Active {
            return Err(Error::Unauthenticated("the account is closed"));
        }
        if now - session.last_seen_at > Duration::seconds(TOUCH_EVERY_SECS) {
            store.touch_session(&session.id, now).await?;
        }
        Ok(Principal {
            user: Arc::new(user),
            session: Some(session.id),
            scopes: Scope::ALL.to_vec(),
        })
    }

    async fn authenticate_api_token(&self, token: &RawToken) -> Result<Principal> {
        let store = &self.f.store().accounts;
        let now = self.f.now();
        let (stored, user) =
            store
                .api_token_and_user(&token.hash())
                .await?
                .ok_or(Error::Unauthenticated(
                    "the API token is unknown or revoked",
                ))?;
        if now >= stored.expires_at {
            return Err(Error::Unauthenticated("the API token has expired"));
        }
        if user.status != UserStatus::Active {
            return Err(Error::Unauthenticated("the account is closed"));
        }
        let stale = stored
            .last_used_at
            .is_none_or(|t| now - t > Duration::seconds(TOUCH_EVERY_SECS));
        if stale {
            store.touch_api_token(&stored.id, now).await?;
        }
        Ok(Principal {
            user: Arc::new(user),
            session: None,
            scopes: stored.scopes,
        })
    }

    /// Whether the account exists and is active: workers and signed links ask before they act
    /// for its owner (an account being erased gets nothing new).
    pub async fn is_active(&self, id: &UserId) -> Result<bool> {
        Ok(self
            .f
            .store()
            .accounts
            .user_by_id(id)
            .await?
            .is_some_and(|u| u.status == UserStatus::Active))
    }

    async fn active_user(&self, id: &UserId) -> Result<User> {
        match self.f.store().accounts.user_by_id(id).await? {
            Some(user) if user.status == UserStatus::Active => Ok(user),
            _ => Err(Error::Unauthenticated("the account is closed")),
        }
    }

    /// Ends the session of `token`; unknown tokens are fine (logging out twice is harmless).
    pub async fn logout(&self, token: &RawToken) -> Result<()> {
        self.f
            .store()
            .accounts
            .delete_session(&token.hash())
            .await?;
        Ok(())
    }

    /// The actor's own account.
    pub async fn me(&self, actor: &Actor) -> Result<User> {
        match actor {
            Actor::Signed(user) => Ok(User::clone(user)),
            Actor::User(id) => self.active_user(id).await,
            Actor::Staff(_) | Actor::System => Err(Error::Forbidden(
                "only a signed-in user has a profile".into(),
            )),
        }
    }

    /// Changes the actor's display name (a correction: audited with the field's name and a
    /// keyed hash of the new value, never the value).
    pub async fn update_name(&self, actor: &Actor, name: &str) -> Result<User> {
        let user = self.me(actor).await?;
        self.correct_name(actor, &user.id, name).await
    }

    /// Sets an active account's name for `actor` (the person, or the DPO answering a
    /// correction request, who has authorized), audited as a correction.
    pub(crate) async fn correct_name(
        &self,
        actor: &Actor,
        id: &UserId,
        name: &str,
    ) -> Result<User> {
        let name = parse_name(name)?;
        let user = self
            .f
            .store()
            .accounts
            .set_name_if_active(id, &name, self.f.now())
            .await?
            .ok_or(Error::Unauthenticated("the account is closed"))?;
        let hash = self
            .f
            .keys()
            .keyed_hash(crate::security::KeyPurpose::ErasedIdentity, &name);
        self.f
            .audit_record(
                actor,
                "account.correct",
                Some(id.as_str()),
                json!({ "fields": ["name"], "hashes": { "name": hash } }),
            )
            .await?;
        Ok(user)
    }

    /// Gives or withdraws the actor's consents (`None` leaves one as it is), recording when,
    /// under which version of the privacy notice, and how (`method`: `web`, `cli`). A consent
    /// that does not change keeps its record.
    pub async fn set_consents(
        &self,
        actor: &Actor,
        analytics: Option<bool>,
        marketing: Option<bool>,
        method: &str,
    ) -> Result<User> {
        let user = self.me(actor).await?;
        let now = self.f.now();
        let update = |current: &Consent, wanted: Option<bool>| match wanted {
            Some(granted) if granted != current.granted => Consent {
                granted,
                at: Some(now),
                notice_version: Some(PRIVACY_NOTICE_VERSION.into()),
                method: Some(method.to_owned()),
            },
            _ => current.clone(),
        };
        let consents = Consents {
            analytics: update(&user.consents.analytics, analytics),
            marketing: update(&user.consents.marketing, marketing),
        };
        self.f
            .store()
            .accounts
            .set_consents_if_active(&user.id, &consents, now)
            .await?
            .ok_or(Error::Unauthenticated("the account is closed"))
    }

    /// Creates a named API token for the actor, valid `days` days (from 1 to the configured
    /// most, `FACETRA_API_TOKEN_MAX_DAYS`; that most when `None`), with `scopes` (both when
    /// empty).
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        days: Option<i64>,
        scopes: &[Scope],
    ) -> Result<(ApiToken, RawToken)> {
        let user = self.me(actor).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "must be 1 to 64 characters without control characters",
            ));
        }
        let most = self.f.config().api_token_max_days;
        let days = days.unwrap_or(most);
        if !(1..=most).contains(&days) {
            return Err(Error::invalid(
                "expires_in_days",
                format!("must be between 1 and {most}"),
            ));
        }
        let now = self.f.now();
        let raw = RawToken::generate(API_TOKEN_PREFIX);
        let token = ApiToken {
            id: TokenId::new(now),
            user_id: user.id,
            name: name.to_owned(),
            token_hash: Some(raw.hash()),
            scopes: normalise_scopes(scopes.iter().copied()),
            created_at: now,
            expires_at: now + Duration::days(days),
            last_used_at: None,
        };
        self.f.store().accounts.insert_api_token(&token).await?;
        Ok((token, raw))
    }

    /// The actor's API tokens (never the secrets).
    pub async fn tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>> {
        let user = self.me(actor).await?;
        self.f.store().accounts.list_api_tokens(&user.id).await
    }

    /// Revokes one of the actor's tokens; another user's token is "not found".
    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> Result<()> {
        let user = self.me(actor).await?;
        let id = TokenId::parse(id).ok_or(Error::NotFound("token"))?;
        if !self
            .f
            .store()
            .accounts
            .delete_api_token(&user.id, &id)
            .await?
        {
            return Err(Error::NotFound("token"));
        }
        Ok(())
    }

    /// Users, newest first (staff).
    /// Staff reads of accounts are audited like their changes (who looked, at what).
    pub async fn list_users(&self, actor: &Actor, page: &PageRequest) -> Result<Page<User>> {
        self.f.authorize(actor, StaffOp::ReadAccounts).await?;
        let found = self.f.store().accounts.list_users(page).await?;
        self.f
            .audit_record(
                actor,
                "accounts.list",
                None,
                json!({ "count": found.items.len() }),
            )
            .await?;
        Ok(found)
    }

    /// A user by id or email (staff; audited).
    pub async fn find_user(&self, actor: &Actor, id_or_email: &str) -> Result<User> {
        self.f.authorize(actor, StaffOp::ReadAccounts).await?;
        let user = self.lookup(id_or_email).await?;
        self.f
            .audit_record(actor, "accounts.read", Some(user.id.as_str()), json!({}))
            .await?;
        Ok(user)
    }

    /// A user by id or email, for core's own use (the caller has authorized).
    pub(crate) async fn lookup(&self, id_or_email: &str) -> Result<User> {
        let store = &self.f.store().accounts;
        let found = match UserId::parse(id_or_email.trim()) {
            Some(id) => store.user_by_id(&id).await?,
            None => store.user_by_email(&Email::parse(id_or_email)?).await?,
        };
        found.ok_or(Error::NotFound("user"))
    }

    /// Replaces a user's roles (`user` is always kept); needs `admin`; audited.
    pub async fn set_roles(
        &self,
        actor: &Actor,
        id_or_email: &str,
        roles: &[Role],
    ) -> Result<User> {
        self.f.authorize(actor, StaffOp::ChangeRoles).await?;
        let user = self.lookup(id_or_email).await?;
        let after = normalise_roles(roles.iter().copied());
        let changed = self
            .f
            .store()
            .accounts
            .set_roles_if_active(&user.id, &after, self.f.now())
            .await?
            .ok_or_else(|| {
                Error::Conflict("roles can only be changed on an active account".into())
            })?;
        let names = |r: &[Role]| r.iter().map(|r| r.as_str()).collect::<Vec<_>>();
        self.f
            .audit_record(
                actor,
                "user.set_roles",
                Some(user.id.as_str()),
                json!({ "before": names(&user.roles), "after": names(&changed.roles) }),
            )
            .await?;
        Ok(changed)
    }

    /// Makes the deployment's first admin: gives `admin` to an existing, active account, only
    /// while no active account holds it (afterwards admins grant roles with `set_roles`).
    /// Audited as the system's act.
    pub async fn bootstrap_admin(&self, id_or_email: &str) -> Result<User> {
        let store = &self.f.store().accounts;
        if store.has_admin().await? {
            return Err(Error::Conflict(
                "this deployment has an admin already; an admin grants roles with \
                 `facetra-admin users set-role`"
                    .into(),
            ));
        }
        let user = self.lookup(id_or_email).await?;
        let roles = normalise_roles(user.roles.iter().copied().chain([Role::Admin]));
        let admin = store
            .set_roles_if_active(&user.id, &roles, self.f.now())
            .await?
            .ok_or_else(|| Error::Conflict("only an active account can be made admin".into()))?;
        self.f
            .audit_record(
                &Actor::System,
                "user.bootstrap_admin",
                Some(admin.id.as_str()),
                json!({ "after": admin.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>() }),
            )
            .await?;
        Ok(admin)
    }
}

impl Facetra {
    /// Appends an audit entry for `actor`.
    pub(crate) async fn audit_record(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        details: serde_json::Value,
    ) -> Result<()> {
        let entry = NewAuditEntry {
            actor: actor.audit_label(),
            action: action.to_owned(),
            target: target.map(str::to_owned),
            details,
        };
        self.store().audit.append_audit(&entry, self.now()).await?;
        Ok(())
    }
}
