//! `AccountStore` in BSON.

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{self, doc, Bson, Document};

use super::{bdate, from_bdate, is_duplicate, mongo_err, need, newest_first, Mongo, TimeKey};
use crate::accounts::store::{AccountStore, InstanceCreated};
use crate::accounts::{
    ApiToken, Consents, Email, Instance, Role, Scope, Session, SignInAttempt, User, UserStatus,
};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{SessionId, TokenId, UserId};
use crate::paging::{Cursor, Page, PageRequest};
use crate::security::TokenHash;

const INSTANCE_ID: &str = "instance";

fn user_doc(u: &User) -> Result<Document> {
    let consents = bson::to_document(&u.consents).map_err(|e| Error::Internal(e.to_string()))?;
    let mut d = doc! {
        "_id": u.id.as_str(),
        "email": u.email.as_str(),
        "name": &u.name,
        "roles": u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "status": u.status.as_str(),
        "consents": consents,
        "age_confirmed_at": bdate(u.age_confirmed_at),
        "created_at": bdate(u.created_at),
        "updated_at": bdate(u.updated_at),
    };
    // Absent, not null: the partial unique index covers only strings.
    if let Some(avatar) = &u.avatar_url {
        d.insert("avatar_url", avatar);
    }
    if let Some(subject) = &u.google_subject {
        d.insert("google_subject", subject);
    }
    Ok(d)
}

fn user_from(d: &Document) -> Result<User> {
    let roles = need("roles", d.get_array("roles"))?
        .iter()
        .map(|r| Role::parse(r.as_str().unwrap_or_default()))
        .collect::<Result<Vec<_>>>()?;
    let consents = bson::from_document(need("consents", d.get_document("consents"))?.clone())
        .map_err(|e| Error::Corrupt(format!("stored consents: {e}")))?;
    Ok(User {
        id: UserId::from_stored(need("_id", d.get_str("_id"))?.to_owned()),
        email: Email::from_stored(need("email", d.get_str("email"))?.to_owned()),
        name: need("name", d.get_str("name"))?.to_owned(),
        avatar_url: d.get_str("avatar_url").ok().map(str::to_owned),
        google_subject: d.get_str("google_subject").ok().map(str::to_owned),
        roles,
        status: UserStatus::parse(need("status", d.get_str("status"))?)?,
        consents,
        age_confirmed_at: from_bdate(*need(
            "age_confirmed_at",
            d.get_datetime("age_confirmed_at"),
        )?),
        created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
        updated_at: from_bdate(*need("updated_at", d.get_datetime("updated_at"))?),
    })
}

fn session_from(d: &Document) -> Result<Session> {
    Ok(Session {
        id: SessionId::from_stored(need("_id", d.get_str("_id"))?.to_owned()),
        user_id: UserId::from_stored(need("user_id", d.get_str("user_id"))?.to_owned()),
        token_hash: TokenHash(need("token_hash", d.get_str("token_hash"))?.to_owned()),
        created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
        expires_at: from_bdate(*need("expires_at", d.get_datetime("expires_at"))?),
        last_seen_at: from_bdate(*need("last_seen_at", d.get_datetime("last_seen_at"))?),
    })
}

fn token_from(d: &Document) -> Result<ApiToken> {
    Ok(ApiToken {
        id: TokenId::from_stored(need("_id", d.get_str("_id"))?.to_owned()),
        user_id: UserId::from_stored(need("user_id", d.get_str("user_id"))?.to_owned()),
        name: need("name", d.get_str("name"))?.to_owned(),
        token_hash: Some(TokenHash(
            need("token_hash", d.get_str("token_hash"))?.to_owned(),
        )),
        created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
        expires_at: from_bdate(*need("expires_at", d.get_datetime("expires_at"))?),
        last_used_at: d.get_datetime("last_used_at").ok().map(|t| from_bdate(*t)),
        // A token from before scopes could do everything; an unknown name grants nothing.
        scopes: match d.get_array("scopes") {
            Ok(names) => names
                .iter()
                .filter_map(|n| n.as_str().and_then(|n| Scope::parse(n).ok()))
                .collect(),
            Err(_) => Scope::ALL.to_vec(),
        },
    })
}

fn instance_from(d: &Document) -> Result<Instance> {
    Ok(Instance {
        owner_id: UserId::from_stored(need("owner_id", d.get_str("owner_id"))?.to_owned()),
        created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
    })
}

impl Mongo {
    /// The API token with this hash.
    async fn api_token_by_hash(&self, hash: &TokenHash) -> Result<Option<ApiToken>> {
        self.api_tokens()
            .find_one(doc! { "token_hash": &hash.0 })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(token_from)
            .transpose()
    }

    /// `$set`s `fields` on the account only while it is active; the account after.
    async fn set_if_active(&self, id: &UserId, fields: Document) -> Result<Option<User>> {
        self.set_where_active(id, doc! {}, fields).await
    }

    /// The same, only where the account also matches `extra`.
    async fn set_where_active(
        &self,
        id: &UserId,
        mut extra: Document,
        fields: Document,
    ) -> Result<Option<User>> {
        extra.insert("_id", id.as_str());
        extra.insert("status", "active");
        self.users()
            .find_one_and_update(extra, doc! { "$set": fields })
            .return_document(mongodb::options::ReturnDocument::After)
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn one_user(&self, filter: Document) -> Result<Option<User>> {
        self.users()
            .find_one(filter)
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn create_instance_tx(&self, owner: &User) -> mongodb::error::Result<()> {
        let mut session = self.client.start_session().await?;
        session.start_transaction().await?;
        let user = user_doc(owner).map_err(|e| mongodb::error::Error::custom(e.to_string()))?;
        self.users().insert_one(user).session(&mut session).await?;
        self.meta()
            .insert_one(doc! {
                "_id": INSTANCE_ID,
                "owner_id": owner.id.as_str(),
                "created_at": bdate(owner.created_at),
            })
            .session(&mut session)
            .await?;
        session.commit_transaction().await
    }
}

#[async_trait]
impl AccountStore for Mongo {
    async fn insert_user(&self, user: &User) -> Result<()> {
        self.users()
            .insert_one(user_doc(user)?)
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn set_name_if_active(
        &self,
        id: &UserId,
        name: &str,
        at: Timestamp,
    ) -> Result<Option<User>> {
        self.set_if_active(id, doc! { "name": name, "updated_at": bdate(at) })
            .await
    }

    async fn set_consents_if_active(
        &self,
        id: &UserId,
        consents: &Consents,
        at: Timestamp,
    ) -> Result<Option<User>> {
        let consents = bson::to_document(consents).map_err(|e| Error::Internal(e.to_string()))?;
        self.set_if_active(id, doc! { "consents": consents, "updated_at": bdate(at) })
            .await
    }

    async fn link_google_if_unlinked(
        &self,
        id: &UserId,
        subject: &str,
        avatar_url: Option<&str>,
        at: Timestamp,
    ) -> Result<Option<User>> {
        let mut fields = doc! { "google_subject": subject, "updated_at": bdate(at) };
        if let Some(avatar) = avatar_url {
            fields.insert("avatar_url", avatar);
        }
        self.set_where_active(id, doc! { "google_subject": null }, fields)
            .await
    }

    async fn set_roles_if_active(
        &self,
        id: &UserId,
        roles: &[Role],
        at: Timestamp,
    ) -> Result<Option<User>> {
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        self.set_if_active(id, doc! { "roles": roles, "updated_at": bdate(at) })
            .await
    }

    async fn mark_erasure_pending(&self, id: &UserId, at: Timestamp) -> Result<bool> {
        let r = self
            .users()
            .update_one(
                doc! { "_id": id.as_str(), "status": "active" },
                doc! { "$set": { "status": "erasure_pending", "updated_at": bdate(at) } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(r.matched_count == 1)
    }

    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>> {
        self.one_user(doc! { "_id": id.as_str() }).await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        self.one_user(doc! { "email": email.as_str() }).await
    }

    async fn user_by_google_subject(&self, subject: &str) -> Result<Option<User>> {
        self.one_user(doc! { "google_subject": subject }).await
    }

    async fn has_admin(&self) -> Result<bool> {
        Ok(self
            .users()
            .find_one(doc! { "roles": "admin", "status": "active" })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(mongo_err)?
            .is_some())
    }

    async fn list_users(&self, page: &PageRequest) -> Result<Page<User>> {
        newest_first(
            &self.users(),
            doc! {},
            TimeKey::Date("created_at"),
            page,
            user_from,
            |u| Cursor {
                created_at: u.created_at,
                id: u.id.to_string(),
            },
        )
        .await
    }

    async fn create_instance(&self, owner: &User) -> Result<InstanceCreated> {
        if let Some(existing) = self.instance().await? {
            return Ok(InstanceCreated::Exists(existing));
        }
        for _ in 0..5 {
            match self.create_instance_tx(owner).await {
                Ok(()) => return Ok(InstanceCreated::Created),
                Err(e) if e.contains_label("TransientTransactionError") => continue,
                Err(e) if is_duplicate(&e) => {
                    return match self.instance().await? {
                        Some(existing) => Ok(InstanceCreated::Exists(existing)),
                        None => Err(mongo_err(e)),
                    }
                }
                Err(e) => return Err(mongo_err(e)),
            }
        }
        Err(Error::Unavailable(
            "the instance record kept conflicting; try again".into(),
        ))
    }

    async fn instance(&self) -> Result<Option<Instance>> {
        self.meta()
            .find_one(doc! { "_id": INSTANCE_ID })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(instance_from)
            .transpose()
    }

    async fn insert_session(&self, s: &Session) -> Result<()> {
        self.sessions()
            .insert_one(doc! {
                "_id": s.id.as_str(),
                "user_id": s.user_id.as_str(),
                "token_hash": &s.token_hash.0,
                "created_at": bdate(s.created_at),
                "expires_at": bdate(s.expires_at),
                "last_seen_at": bdate(s.last_seen_at),
            })
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn session_by_token(&self, hash: &TokenHash) -> Result<Option<Session>> {
        self.sessions()
            .find_one(doc! { "token_hash": &hash.0 })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(session_from)
            .transpose()
    }

    async fn session_and_user(&self, hash: &TokenHash) -> Result<Option<(Session, User)>> {
        let Some(session) = self.session_by_token(hash).await? else {
            return Ok(None);
        };
        let user = self.user_by_id(&session.user_id).await?;
        Ok(user.map(|u| (session, u)))
    }

    async fn api_token_and_user(&self, hash: &TokenHash) -> Result<Option<(ApiToken, User)>> {
        let Some(token) = self.api_token_by_hash(hash).await? else {
            return Ok(None);
        };
        let user = self.user_by_id(&token.user_id).await?;
        Ok(user.map(|u| (token, u)))
    }

    async fn touch_session(&self, id: &SessionId, at: Timestamp) -> Result<()> {
        self.sessions()
            .update_one(
                doc! { "_id": id.as_str() },
                doc! { "$max": { "last_seen_at": bdate(at) } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn delete_session(&self, hash: &TokenHash) -> Result<bool> {
        let r = self
            .sessions()
            .delete_one(doc! { "token_hash": &hash.0 })
            .await
            .map_err(mongo_err)?;
        Ok(r.deleted_count > 0)
    }

    async fn delete_user_sessions(&self, user: &UserId) -> Result<u64> {
        let r = self
            .sessions()
            .delete_many(doc! { "user_id": user.as_str() })
            .await
            .map_err(mongo_err)?;
        Ok(r.deleted_count)
    }

    async fn purge_sessions(&self, now: Timestamp, idle_before: Timestamp) -> Result<u64> {
        let r = self
            .sessions()
            .delete_many(doc! { "$or": [
                { "expires_at": { "$lte": bdate(now) } },
                { "last_seen_at": { "$lt": bdate(idle_before) } },
            ] })
            .await
            .map_err(mongo_err)?;
        Ok(r.deleted_count)
    }

    async fn insert_sign_in_attempt(&self, a: &SignInAttempt) -> Result<()> {
        // The TTL index purges the expired ones too, but only about once a minute.
        self.sign_in_attempts()
            .delete_many(doc! { "expires_at": { "$lte": bdate(a.created_at) } })
            .await
            .map_err(mongo_err)?;
        self.sign_in_attempts()
            .insert_one(doc! {
                "_id": &a.id,
                "token_hash": &a.token_hash.0,
                "return_to": &a.return_to,
                "age_confirmed": a.age_confirmed,
                "created_at": bdate(a.created_at),
                "expires_at": bdate(a.expires_at),
            })
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn take_sign_in_attempt(&self, hash: &TokenHash) -> Result<Option<SignInAttempt>> {
        let Some(d) = self
            .sign_in_attempts()
            .find_one_and_delete(doc! { "token_hash": &hash.0 })
            .await
            .map_err(mongo_err)?
        else {
            return Ok(None);
        };
        Ok(Some(SignInAttempt {
            id: need("_id", d.get_str("_id"))?.to_owned(),
            token_hash: TokenHash(need("token_hash", d.get_str("token_hash"))?.to_owned()),
            return_to: need("return_to", d.get_str("return_to"))?.to_owned(),
            age_confirmed: need("age_confirmed", d.get_bool("age_confirmed"))?,
            created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
            expires_at: from_bdate(*need("expires_at", d.get_datetime("expires_at"))?),
        }))
    }

    async fn insert_api_token(&self, t: &ApiToken) -> Result<()> {
        let hash = t
            .token_hash
            .as_ref()
            .ok_or_else(|| Error::Internal("an API token needs its hash".into()))?;
        let mut d = doc! {
            "_id": t.id.as_str(),
            "user_id": t.user_id.as_str(),
            "name": &t.name,
            "token_hash": &hash.0,
            "created_at": bdate(t.created_at),
            "expires_at": bdate(t.expires_at),
            "scopes": t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        };
        if let Some(at) = t.last_used_at {
            d.insert("last_used_at", Bson::DateTime(bdate(at)));
        }
        self.api_tokens().insert_one(d).await.map_err(mongo_err)?;
        Ok(())
    }

    async fn list_api_tokens(&self, user: &UserId) -> Result<Vec<ApiToken>> {
        let docs: Vec<Document> = self
            .api_tokens()
            .find(doc! { "user_id": user.as_str() })
            .sort(doc! { "created_at": -1, "_id": -1 })
            .await
            .map_err(mongo_err)?
            .try_collect()
            .await
            .map_err(mongo_err)?;
        docs.iter().map(token_from).collect()
    }

    async fn touch_api_token(&self, id: &TokenId, at: Timestamp) -> Result<()> {
        self.api_tokens()
            .update_one(
                doc! { "_id": id.as_str() },
                doc! { "$max": { "last_used_at": bdate(at) } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn delete_api_token(&self, user: &UserId, id: &TokenId) -> Result<bool> {
        let r = self
            .api_tokens()
            .delete_one(doc! { "_id": id.as_str(), "user_id": user.as_str() })
            .await
            .map_err(mongo_err)?;
        Ok(r.deleted_count > 0)
    }
}
