//! The registry of personal data on both backends: every table and collection is either
//! registered or declared to hold none; every registered kind can be counted, exported and
//! erased for one person. The fixture here (a person with a record of every kind) is what the
//! erasure scenarios in `requests` erase.

use std::collections::BTreeSet;

use facetra_core::accounts::{NewOwner, Role};
use facetra_core::config::keys;
use facetra_core::credits::{LedgerKind, NewLedgerEntry};
use facetra_core::ids::{PaymentId, SecurityEventId, UserId};
use facetra_core::payments::{Payment, PaymentKind, PaymentStatus};
use facetra_core::privacy::data::{known_containers, Kind, Place, StoreKind, REGISTRY};
use facetra_core::security::events::SecurityEvent;
use facetra_core::studio::{RenderSpec, UploadKind};
use facetra_core::Actor;
use facetra_tests::images::png;
use facetra_tests::{Backend, Harness};
use futures::TryStreamExt;

use super::conformance;

conformance!(
    every_table_and_collection_is_registered_or_declared_to_hold_no_personal_data,
    every_registered_kind_counts_and_exports_a_persons_records,
);

/// Someone with one record (at least) of every registered kind, their name written into their
/// own content too.
pub(super) struct Person {
    pub(super) id: UserId,
    pub(super) actor: Actor,
    pub(super) email: &'static str,
    pub(super) name: &'static str,
    pub(super) ip: &'static str,
}

pub(super) async fn harness(backend: Backend) -> Harness {
    Harness::with_razorpay(backend, &[(keys::DEV_LOGIN, "true")]).await
}

fn store_kind(backend: Backend) -> StoreKind {
    match backend {
        Backend::Sqlite => StoreKind::Sqlite,
        Backend::Mongo => StoreKind::Mongo,
    }
}

async fn populate(
    h: &Harness,
    email: &'static str,
    name: &'static str,
    ip: &'static str,
    owner: bool,
) -> Person {
    let f = &h.facetra;
    if owner {
        f.accounts()
            .init(NewOwner {
                name: name.into(),
                email: email.into(),
                age_confirmed: true,
            })
            .await
            .unwrap();
    }
    let (user, _, _) = f
        .accounts()
        .dev_login(
            facetra_core::accounts::DevLogin {
                email: email.into(),
                name: name.into(),
                age_confirmed: true,
            },
            None,
        )
        .await
        .unwrap();
    let actor = Actor::User(user.id.clone());
    f.accounts()
        .set_consents(&actor, Some(true), None, "web")
        .await
        .unwrap();
    f.accounts()
        .create_token(&actor, &format!("laptop of {name}"), Some(30), &[])
        .await
        .unwrap();
    f.onboarding()
        .submit(
            facetra_core::onboarding::SignupKind::Waitlist,
            facetra_core::onboarding::SignupForm {
                name: name.into(),
                email: email.into(),
                company: Some(format!("{name} Studio")),
                role: None,
                message: Some(format!("{name} would like to join")),
            },
        )
        .await
        .unwrap();
    f.store()
        .request_logs
        .insert_request_logs(&[facetra_core::privacy::logs::RequestLog {
            at: f.now(),
            ip: Some(ip.into()),
            user_agent: Some(format!("{name}'s browser")),
            referrer: Some("https://facetra.studio".into()),
            route: "/v1/renders/{id}".into(),
            method: "GET".into(),
            status: 200,
            latency_ms: 3,
            user_id: Some(user.id.clone()),
        }])
        .await
        .unwrap();
    // A pack bought through Razorpay, whose webhook carried the person's email.
    if let Some(stub) = &h.razorpay {
        let order = f.payments().create_order(&actor, "starter").await.unwrap();
        let paid = stub.pay_order_by(&order.order_id, "captured", email);
        let (body, sig) = stub.webhook("payment.captured", &paid);
        f.payments()
            .handle_webhook(
                &body,
                &sig,
                Some(&format!("evt_{}", &user.id.as_str()[4..18])),
            )
            .await
            .unwrap();
    }
    // A line from before the person signed in: their IP, nobody's user id.
    f.store()
        .request_logs
        .insert_request_logs(&[facetra_core::privacy::logs::RequestLog {
            at: f.now(),
            ip: Some(ip.into()),
            user_agent: Some(format!("{name}'s browser")),
            referrer: None,
            route: "/v1/auth/google/start".into(),
            method: "GET".into(),
            status: 302,
            latency_ms: 1,
            user_id: None,
        }])
        .await
        .unwrap();
    f.privacy()
        .ask(
            &actor,
            facetra_core::privacy::requests::RequestType::Grievance,
            Some(&format!("{name} finds the renders too dark")),
        )
        .await
        .unwrap();
    // A browser's sign-in in progress (it names no one).
    f.store()
        .accounts
        .insert_sign_in_attempt(&facetra_core::accounts::SignInAttempt {
            id: facetra_core::ids::random("sia"),
            token_hash: facetra_core::security::RawToken::generate("").hash(),
            return_to: "/studio".into(),
            age_confirmed: true,
            created_at: f.now(),
            expires_at: f.now() + chrono::Duration::minutes(10),
        })
        .await
        .unwrap();
    let studio = f.studio();
    let sketch = studio
        .upload(&actor, UploadKind::Sketch, png(96, 72))
        .await
        .unwrap();
    let job = studio
        .request(
            &actor,
            &RenderSpec {
                prompt: format!("an oak table with a brass lamp for {name}"),
                sketch_id: sketch.id.to_string(),
                reference_ids: vec![],
                variants: 1,
                aspect_ratio: "4:3".into(),
                style: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    let done = studio.work_once(Some(&job.id)).await.unwrap().unwrap();
    let render = done.variants[0].render_id.clone().unwrap().to_string();
    let bom = studio.generate_bom(&actor, &render).await.unwrap();
    let mut items = bom.items.clone();
    items[0].note = format!("chosen by {name}");
    studio
        .set_bom(&actor, &render, bom.version, items)
        .await
        .unwrap();
    let portfolio = studio
        .create_portfolio(&actor, &format!("{name}'s best"))
        .await
        .unwrap();
    studio
        .set_portfolio_renders(&actor, portfolio.id.as_str(), &[render])
        .await
        .unwrap();
    let now = f.now();
    let payment = Payment {
        id: PaymentId::new(now),
        user_id: user.id.clone(),
        pack_id: "starter".into(),
        credits: 50,
        amount_paise: 49_900,
        currency: "INR".into(),
        kind: PaymentKind::Order,
        order_id: Some(format!("order_{}", &user.id.as_str()[4..18])),
        link_id: None,
        link_url: None,
        razorpay_payment_id: Some(format!("pay_{}", &user.id.as_str()[4..18])),
        status: PaymentStatus::Credited,
        credits_refunded: 0,
        created_at: now,
        updated_at: now,
    };
    f.store().payments.insert_payment(&payment).await.unwrap();
    f.store()
        .ledger
        .append_ledger(
            &NewLedgerEntry {
                user_id: user.id.clone(),
                kind: LedgerKind::Purchase,
                amount: 50,
                reason: "Starter pack".into(),
                reference: Some(payment.id.to_string()),
                idempotency_key: format!(
                    "purchase:{}",
                    payment.razorpay_payment_id.as_ref().unwrap()
                ),
            },
            now,
        )
        .await
        .unwrap();
    f.store()
        .security
        .record_security_event(&SecurityEvent {
            id: SecurityEventId::new(now),
            at: now,
            kind: "auth.test".into(),
            user_id: Some(user.id.clone()),
            ip: Some(ip.into()),
            details: serde_json::json!({}),
            count: 1,
        })
        .await
        .unwrap();
    f.privacy()
        .set_nominee(
            &actor,
            &format!("{name}'s sister"),
            &format!("sister.of.{}", email),
        )
        .await
        .unwrap();
    // A message to Facetra and its answer, and a page view (with analytics consent).
    let thread = f
        .messages()
        .send(
            &actor,
            facetra_core::messages::MessageKind::Support,
            "Renders too dark",
            &format!("{name} here: the renders come out too dark"),
        )
        .await
        .unwrap();
    f.messages()
        .answer(
            &Actor::System,
            thread.id.as_str(),
            &format!("Dear {name}, try a brighter prompt"),
        )
        .await
        .unwrap();
    f.usage()
        .event(&actor, "page_view", "/studio?prompt=secret")
        .await
        .unwrap();
    // A breach the person was told of.
    let breach = f
        .privacy()
        .open_breach(&Actor::System, f.now(), "a test incident")
        .await
        .unwrap();
    f.privacy()
        .notify_breach(
            &Actor::System,
            breach.id.as_str(),
            &facetra_core::privacy::breach::Recipients::Listed(vec![email.into()]),
            None,
            false,
        )
        .await
        .unwrap();
    // The embedded default's file mailer keeps a copy of what it sent.
    f.mail().deliver_due(50).await.unwrap();
    Person {
        id: user.id,
        actor,
        email,
        name,
        ip,
    }
}

/// Ursula (the local owner) and Vikram, each with one record of every kind.
pub(super) async fn two_people(h: &Harness) -> (Person, Person) {
    let u = populate(
        h,
        "ursula@example.com",
        "Ursula Quimby",
        "203.0.113.7",
        true,
    )
    .await;
    let v = populate(
        h,
        "vikram@example.com",
        "Vikram Zest",
        "198.51.100.9",
        false,
    )
    .await;
    (u, v)
}

pub(super) async fn counts(h: &Harness, dpo: &Actor, who: &UserId) -> Vec<(Kind, u64)> {
    let mut out = Vec::new();
    for info in REGISTRY {
        out.push((
            info.kind,
            h.facetra
                .privacy()
                .count(dpo, info.kind, who)
                .await
                .unwrap(),
        ));
    }
    out
}

async fn every_table_and_collection_is_registered_or_declared_to_hold_no_personal_data(
    backend: Backend,
) {
    let h = harness(backend).await;
    populate(
        &h,
        "ursula@example.com",
        "Ursula Quimby",
        "203.0.113.7",
        true,
    )
    .await;
    let store = &h.facetra.store().personal_data;
    let present: BTreeSet<String> = store.containers().await.unwrap().into_iter().collect();
    let known: BTreeSet<String> = known_containers(store_kind(backend)).into_iter().collect();
    let unknown: Vec<&String> = present.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "neither in the registry of personal data nor declared to hold none: {unknown:?}; add \
         them to facetra_core::privacy::data"
    );
    if backend == Backend::Sqlite {
        // (MongoDB makes a collection at its first write, so only SQLite has them all.)
        let missing: Vec<&String> = known.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "the registry names tables the store lacks: {missing:?}"
        );
    }
    // Field by field: every stored field is one the registry names, and every named one exists.
    match backend {
        Backend::Sqlite => {
            let db = h.raw_sqlite();
            for info in REGISTRY {
                for location in info.sqlite {
                    let Place::Table(table) = location.place else {
                        continue;
                    };
                    let mut stmt = db
                        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                        .unwrap();
                    let columns: BTreeSet<String> = stmt
                        .query_map([], |r| r.get::<_, String>(0))
                        .unwrap()
                        .map(Result::unwrap)
                        .collect();
                    let named: BTreeSet<String> =
                        location.fields.iter().map(|f| (*f).to_owned()).collect();
                    assert_eq!(columns, named, "the fields of table {table}");
                }
            }
        }
        Backend::Mongo => {
            let (client, db) = h.raw_mongo().await;
            for info in REGISTRY {
                for location in info.mongo {
                    let (collections, filter) = match location.place {
                        Place::Collection(c) => (vec![c.to_owned()], mongodb::bson::doc! {}),
                        Place::Document(c, id) => {
                            (vec![c.to_owned()], mongodb::bson::doc! { "_id": id })
                        }
                        Place::Bucket(b) => (
                            vec![format!("{b}.files"), format!("{b}.chunks")],
                            mongodb::bson::doc! {},
                        ),
                        _ => continue,
                    };
                    for c in collections {
                        let docs: Vec<mongodb::bson::Document> = db
                            .collection(&c)
                            .find(filter.clone())
                            .await
                            .unwrap()
                            .try_collect()
                            .await
                            .unwrap();
                        assert!(!docs.is_empty(), "no documents in {c} to check");
                        for d in docs {
                            for key in d.keys() {
                                assert!(
                                    location.fields.contains(&key.as_str()),
                                    "{c} stores the field {key}, which the registry does not name"
                                );
                            }
                        }
                    }
                }
            }
            client.shutdown().await;
        }
    }
    h.finish().await;
}

async fn every_registered_kind_counts_and_exports_a_persons_records(backend: Backend) {
    let h = harness(backend).await;
    let (u, v) = two_people(&h).await;
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    for (kind, n) in counts(&h, &dpo, &u.id).await {
        let anyones = kind.info().sqlite.iter().all(|l| l.person.is_none());
        if anyones {
            // Made before anyone is known (a pre-sign-in session): nobody's to export.
            assert_eq!(n, 0, "{} counted for a person", kind.as_str());
            continue;
        }
        assert!(
            n >= 1,
            "no {} record for the person: add one to the fixture",
            kind.as_str()
        );
        let records: Vec<_> = h
            .facetra
            .privacy()
            .export(&dpo, kind, &u.id)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(records.len() as u64, n, "{}", kind.as_str());
        let text = serde_json::to_string(&records).unwrap();
        assert!(
            !text.contains(v.id.as_str()),
            "the export of {} holds another person's records",
            kind.as_str()
        );
    }
    let account = h
        .facetra
        .privacy()
        .export(&dpo, Kind::Account, &u.id)
        .await
        .unwrap();
    let account: Vec<_> = account.try_collect().await.unwrap();
    assert!(serde_json::to_string(&account).unwrap().contains(u.email));
    // Only a DPO exports.
    assert!(matches!(
        h.facetra.privacy().count(&u.actor, Kind::Jobs, &u.id).await,
        Err(facetra_core::Error::Forbidden(_))
    ));
    let admin = h.staff("al@example.com", &[Role::Admin]).await;
    assert!(matches!(
        h.facetra.privacy().export(&admin, Kind::Jobs, &u.id).await,
        Err(facetra_core::Error::Forbidden(_))
    ));
    h.finish().await;
}
