//! `NomineeStore` on MongoDB: one document per user in `nominees`, its `_id` the user's id.

use async_trait::async_trait;
use mongodb::bson::doc;

use super::{bdate, from_bdate, mongo_err, need, Mongo};
use crate::accounts::Email;
use crate::error::Result;
use crate::ids::UserId;
use crate::privacy::nominee::{Nominee, NomineeStore};

#[async_trait]
impl NomineeStore for Mongo {
    async fn set_nominee(&self, n: &Nominee) -> Result<()> {
        self.nominees()
            .replace_one(
                doc! { "_id": n.user_id.as_str() },
                doc! {
                    "_id": n.user_id.as_str(),
                    "user_id": n.user_id.as_str(),
                    "name": &n.name,
                    "email": n.email.as_str(),
                    "created_at": bdate(n.created_at),
                },
            )
            .upsert(true)
            .await
            .map_err(mongo_err)?;
        Ok(())
    }

    async fn nominee(&self, user: &UserId) -> Result<Option<Nominee>> {
        let Some(d) = self
            .nominees()
            .find_one(doc! { "_id": user.as_str() })
            .await
            .map_err(mongo_err)?
        else {
            return Ok(None);
        };
        Ok(Some(Nominee {
            user_id: user.clone(),
            name: need("name", d.get_str("name"))?.to_owned(),
            email: Email::from_stored(need("email", d.get_str("email"))?.to_owned()),
            created_at: from_bdate(*need("created_at", d.get_datetime("created_at"))?),
        }))
    }

    async fn clear_nominee(&self, user: &UserId) -> Result<bool> {
        Ok(self
            .nominees()
            .delete_one(doc! { "_id": user.as_str() })
            .await
            .map_err(mongo_err)?
            .deleted_count
            > 0)
    }
}
