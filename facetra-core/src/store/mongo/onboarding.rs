//! `OnboardingStore` on MongoDB: one `signups` collection for the waitlist and demo bookings.

use async_trait::async_trait;
use mongodb::bson::{doc, Bson, Document};

use super::{bdate, from_bdate, mongo_err, need, newest_first, Mongo, TimeKey};
use crate::accounts::Email;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{SignupId, UserId};
use crate::onboarding::store::OnboardingStore;
use crate::onboarding::{Signup, SignupKind, SignupStatus};
use crate::paging::{Cursor, Page, PageRequest};

fn text(d: &Document, key: &str) -> Option<String> {
    d.get_str(key).ok().map(str::to_owned)
}

fn from_doc(d: &Document) -> Result<Signup> {
    let id = need("_id", d.get_str("_id"))?;
    let kind = need("kind", d.get_str("kind"))?;
    let status = need("status", d.get_str("status"))?;
    Ok(Signup {
        id: SignupId::from_stored(id.to_owned()),
        kind: SignupKind::parse(kind)
            .ok_or_else(|| Error::Corrupt(format!("sign-up {id}: kind {kind:?}")))?,
        name: need("name", d.get_str("name"))?.to_owned(),
        email: Email::from_stored(need("email", d.get_str("email"))?.to_owned()),
        company: text(d, "company"),
        role: text(d, "role"),
        message: text(d, "message"),
        status: SignupStatus::parse(status)
            .map_err(|_| Error::Corrupt(format!("sign-up {id}: status {status:?}")))?,
        user_id: text(d, "user_id").map(UserId::from_stored),
        created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
        decided_at: d.get_datetime("decided_at").ok().map(|t| from_bdate(*t)),
    })
}

fn to_doc(s: &Signup) -> Document {
    let mut d = doc! {
        "_id": s.id.as_str(),
        "kind": s.kind.as_str(),
        "name": &s.name,
        "email": s.email.as_str(),
        "status": s.status.as_str(),
        "created_at": bdate(s.created_at),
    };
    for (key, value) in [
        ("company", &s.company),
        ("role", &s.role),
        ("message", &s.message),
    ] {
        if let Some(v) = value {
            d.insert(key, v.as_str());
        }
    }
    if let Some(u) = &s.user_id {
        d.insert("user_id", u.as_str());
    }
    if let Some(at) = s.decided_at {
        d.insert("decided_at", Bson::DateTime(bdate(at)));
    }
    d
}

#[async_trait]
impl OnboardingStore for Mongo {
    async fn insert_signup(&self, s: &Signup) -> Result<()> {
        self.signups()
            .insert_one(to_doc(s))
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn signup(&self, id: &SignupId) -> Result<Option<Signup>> {
        self.signups()
            .find_one(doc! { "_id": id.as_str() })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(from_doc)
            .transpose()
    }

    async fn pending_signup(&self, kind: SignupKind, email: &Email) -> Result<Option<Signup>> {
        self.signups()
            .find_one(doc! { "kind": kind.as_str(), "email": email.as_str(), "status": "pending" })
            .sort(doc! { "created_at": -1 })
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(from_doc)
            .transpose()
    }

    async fn signups(
        &self,
        kind: SignupKind,
        status: Option<SignupStatus>,
        page: &PageRequest,
    ) -> Result<Page<Signup>> {
        let mut filter = doc! { "kind": kind.as_str() };
        if let Some(status) = status {
            filter.insert("status", status.as_str());
        }
        newest_first(
            &self.signups(),
            filter,
            TimeKey::Date("created_at"),
            page,
            from_doc,
            |s| Cursor {
                created_at: s.created_at,
                id: s.id.to_string(),
            },
        )
        .await
    }

    async fn approve_signup(&self, id: &SignupId, at: Timestamp) -> Result<Option<Signup>> {
        self.signups()
            .find_one_and_update(
                doc! { "_id": id.as_str(), "status": "pending" },
                doc! { "$set": { "status": "approved", "decided_at": bdate(at) } },
            )
            .return_document(mongodb::options::ReturnDocument::After)
            .await
            .map_err(mongo_err)?
            .as_ref()
            .map(from_doc)
            .transpose()
    }

    async fn invited(&self, email: &Email) -> Result<bool> {
        Ok(self
            .signups()
            .find_one(doc! {
                "kind": "waitlist",
                "email": email.as_str(),
                "status": { "$in": ["approved", "joined"] },
            })
            .await
            .map_err(mongo_err)?
            .is_some())
    }

    async fn link_signups(&self, email: &Email, user: &UserId, at: Timestamp) -> Result<u64> {
        let linked = self
            .signups()
            .update_many(
                doc! { "email": email.as_str() },
                doc! { "$set": { "user_id": user.as_str() } },
            )
            .await
            .map_err(mongo_err)?
            .modified_count;
        self.signups()
            .update_many(
                doc! { "email": email.as_str(), "status": "approved" },
                doc! { "$set": { "status": "joined", "decided_at": bdate(at) } },
            )
            .await
            .map_err(mongo_err)?;
        Ok(linked)
    }
}
