//! Users, sessions, API tokens and the local owner, on both backends.

use chrono::Duration;
use facetra_core::accounts::store::InstanceCreated;
use facetra_core::accounts::{
    Access, Consents, DevLogin, Email, InitOutcome, NewOwner, Role, Scope, User, UserStatus,
};
use facetra_core::config::keys;
use facetra_core::ids::UserId;
use facetra_core::paging::PageRequest;
use facetra_core::security::RawToken;
use facetra_core::{Actor, Error};
use facetra_tests::harness::contains;
use facetra_tests::{Backend, Harness};

use super::conformance;

conformance!(
    users_are_found_by_email_and_google_subject_and_both_are_unique,
    users_list_newest_first_in_keyset_pages,
    sessions_expire_at_their_absolute_end,
    sessions_expire_when_idle,
    last_seen_is_written_at_most_once_a_minute,
    a_revoked_session_stops_working_at_once,
    raw_tokens_never_reach_the_store_only_their_hashes,
    sign_in_rotates_the_session_token,
    api_tokens_authenticate_until_revoked_or_expired,
    a_read_token_reads_and_cannot_write_and_lifetimes_are_capped,
    a_pre_sign_in_session_is_taken_once_and_expired_ones_are_purged,
    init_makes_one_owner_however_often_it_runs,
    dev_login_refuses_google_and_staff_accounts,
    staff_roles_are_decided_in_core_and_a_refusal_changes_nothing,
    a_rename_racing_an_erasure_never_makes_the_account_active_again,
);

fn user(h: &Harness, email: &str, subject: Option<&str>) -> User {
    let now = h.clock.now_for_tests();
    User {
        id: UserId::new(now),
        email: Email::parse(email).unwrap(),
        name: "Person".into(),
        avatar_url: None,
        google_subject: subject.map(str::to_owned),
        roles: vec![Role::User],
        status: UserStatus::Active,
        consents: Consents::default(),
        age_confirmed_at: now,
        created_at: now,
        updated_at: now,
    }
}

trait Now {
    fn now_for_tests(&self) -> facetra_core::Timestamp;
}

impl Now for facetra_core::ManualClock {
    fn now_for_tests(&self) -> facetra_core::Timestamp {
        facetra_core::Clock::now(self)
    }
}

async fn dev_harness(backend: Backend) -> Harness {
    Harness::with(backend, &[(keys::DEV_LOGIN, "true")]).await
}

async fn login(h: &Harness, email: &str) -> RawToken {
    let req = DevLogin {
        email: email.into(),
        name: "Person".into(),
        age_confirmed: true,
    };
    h.facetra.accounts().dev_login(req, None).await.unwrap().1
}

async fn users_are_found_by_email_and_google_subject_and_both_are_unique(backend: Backend) {
    let h = Harness::new(backend).await;
    let store = &h.facetra.store().accounts;
    let a = user(&h, "Ada@Example.com", Some("google-sub-1"));
    store.insert_user(&a).await.unwrap();
    let b = user(&h, "bob@example.com", None);
    store.insert_user(&b).await.unwrap();
    let c = user(&h, "cy@example.com", None);
    store.insert_user(&c).await.unwrap(); // two accounts without a subject are fine

    let by_email = store
        .user_by_email(&Email::parse("ADA@example.COM").unwrap())
        .await
        .unwrap();
    assert_eq!(
        by_email.as_ref(),
        Some(&a),
        "email is stored lower-cased and found case-blind"
    );
    assert_eq!(by_email.unwrap().email.as_str(), "ada@example.com");
    assert_eq!(
        store.user_by_google_subject("google-sub-1").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.user_by_id(&b.id).await.unwrap(), Some(b.clone()));
    assert_eq!(store.user_by_google_subject("nobody").await.unwrap(), None);

    let same_email = user(&h, "ada@example.com", None);
    assert!(matches!(
        store.insert_user(&same_email).await,
        Err(Error::Conflict(_))
    ));
    let same_subject = user(&h, "other@example.com", Some("google-sub-1"));
    assert!(matches!(
        store.insert_user(&same_subject).await,
        Err(Error::Conflict(_))
    ));
    h.finish().await;
}

async fn users_list_newest_first_in_keyset_pages(backend: Backend) {
    let h = Harness::new(backend).await;
    let store = &h.facetra.store().accounts;
    let mut ids = Vec::new();
    for i in 0..7 {
        h.clock.advance(Duration::seconds(1));
        let u = user(&h, &format!("u{i}@example.com"), None);
        store.insert_user(&u).await.unwrap();
        ids.push(u.id);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut page = PageRequest {
        after: None,
        limit: 3,
    };
    loop {
        let got = store.list_users(&page).await.unwrap();
        seen.extend(got.items.iter().map(|u| u.id.clone()));
        match got.next {
            Some(next) => {
                page.after = Some(facetra_core::paging::Cursor::decode(&next.encode()).unwrap())
            }
            None => break,
        }
    }
    assert_eq!(seen, ids);
    h.finish().await;
}

async fn sessions_expire_at_their_absolute_end(backend: Backend) {
    let h = dev_harness(backend).await;
    let token = login(&h, "ada@example.com").await;
    let accounts = h.facetra.accounts();
    // Active every 90 minutes: idle never trips, the 12-hour end does.
    for _ in 0..7 {
        h.clock.advance(Duration::minutes(90));
        accounts
            .authenticate(&token)
            .await
            .expect("still inside 12 h");
    }
    h.clock.advance(Duration::minutes(90)); // 12 h
    assert!(matches!(
        accounts.authenticate(&token).await,
        Err(Error::Unauthenticated(_))
    ));
    h.finish().await;
}

async fn sessions_expire_when_idle(backend: Backend) {
    let h = dev_harness(backend).await;
    let token = login(&h, "ada@example.com").await;
    let accounts = h.facetra.accounts();
    h.clock.advance(Duration::minutes(119));
    accounts
        .authenticate(&token)
        .await
        .expect("idle for less than 2 h");
    h.clock.advance(Duration::minutes(119));
    accounts
        .authenticate(&token)
        .await
        .expect("activity renewed the idle window");
    h.clock.advance(Duration::minutes(120));
    assert!(matches!(
        accounts.authenticate(&token).await,
        Err(Error::Unauthenticated(_))
    ));
    // Configurable: a 10-minute idle limit.
    let h2 = Harness::with(
        backend,
        &[(keys::DEV_LOGIN, "true"), (keys::SESSION_IDLE_SECS, "600")],
    )
    .await;
    let t2 = login(&h2, "bob@example.com").await;
    h2.clock.advance(Duration::minutes(10));
    assert!(h2.facetra.accounts().authenticate(&t2).await.is_err());
    h.finish().await;
    h2.finish().await;
}

async fn last_seen_is_written_at_most_once_a_minute(backend: Backend) {
    let h = dev_harness(backend).await;
    let token = login(&h, "ada@example.com").await;
    let store = &h.facetra.store().accounts;
    let start = store
        .session_by_token(&token.hash())
        .await
        .unwrap()
        .unwrap()
        .last_seen_at;
    h.clock.advance(Duration::seconds(30));
    h.facetra.accounts().authenticate(&token).await.unwrap();
    let after_30s = store
        .session_by_token(&token.hash())
        .await
        .unwrap()
        .unwrap()
        .last_seen_at;
    assert_eq!(after_30s, start, "no write within a minute");
    h.clock.advance(Duration::seconds(40));
    h.facetra.accounts().authenticate(&token).await.unwrap();
    let after_70s = store
        .session_by_token(&token.hash())
        .await
        .unwrap()
        .unwrap()
        .last_seen_at;
    assert_eq!(after_70s, start + Duration::seconds(70));
    h.finish().await;
}

async fn a_revoked_session_stops_working_at_once(backend: Backend) {
    let h = dev_harness(backend).await;
    let accounts = h.facetra.accounts();
    let one = login(&h, "ada@example.com").await;
    let two = login(&h, "ada@example.com").await;
    accounts.authenticate(&one).await.unwrap();
    accounts.logout(&one).await.unwrap();
    assert!(matches!(
        accounts.authenticate(&one).await,
        Err(Error::Unauthenticated(_))
    ));
    accounts
        .authenticate(&two)
        .await
        .expect("other sessions live on");
    let user = accounts.authenticate(&two).await.unwrap().user;
    assert_eq!(
        h.facetra
            .store()
            .accounts
            .delete_user_sessions(&user.id)
            .await
            .unwrap(),
        1
    );
    assert!(accounts.authenticate(&two).await.is_err());
    h.finish().await;
}

async fn raw_tokens_never_reach_the_store_only_their_hashes(backend: Backend) {
    let h = dev_harness(backend).await;
    let session = login(&h, "ada@example.com").await;
    let actor = h
        .facetra
        .accounts()
        .authenticate(&session)
        .await
        .unwrap()
        .actor();
    let (_, api) = h
        .facetra
        .accounts()
        .create_token(&actor, "laptop", Some(30), &[])
        .await
        .unwrap();
    let stored = h
        .facetra
        .store()
        .accounts
        .session_by_token(&session.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.token_hash, session.hash());
    let bytes = h.stored_bytes().await;
    assert!(
        !contains(&bytes, session.expose()),
        "the raw session token is stored"
    );
    assert!(
        !contains(&bytes, api.expose()),
        "the raw API token is stored"
    );
    assert!(
        contains(&bytes, &session.hash().0),
        "the scan sees the store (hash present)"
    );
    h.finish().await;
}

async fn sign_in_rotates_the_session_token(backend: Backend) {
    let h = dev_harness(backend).await;
    let accounts = h.facetra.accounts();
    let first = login(&h, "ada@example.com").await;
    let req = DevLogin {
        email: "ada@example.com".into(),
        name: "Ada".into(),
        age_confirmed: true,
    };
    let (_, second, created) = accounts.dev_login(req, Some(&first)).await.unwrap();
    assert!(!created);
    assert_ne!(first, second);
    assert!(
        accounts.authenticate(&first).await.is_err(),
        "the old token must die"
    );
    accounts.authenticate(&second).await.unwrap();
    h.finish().await;
}

async fn api_tokens_authenticate_until_revoked_or_expired(backend: Backend) {
    let h = dev_harness(backend).await;
    let accounts = h.facetra.accounts();
    let session = login(&h, "ada@example.com").await;
    let actor = accounts.authenticate(&session).await.unwrap().actor();
    let (meta, raw) = accounts
        .create_token(&actor, "laptop", Some(1), &[])
        .await
        .unwrap();
    assert!(raw.expose().starts_with("fct_"));
    let p = accounts.authenticate(&raw).await.unwrap();
    assert_eq!(p.actor(), actor);
    assert_eq!(accounts.tokens(&actor).await.unwrap().len(), 1);

    let other = login(&h, "bob@example.com").await;
    let bob = accounts.authenticate(&other).await.unwrap().actor();
    assert!(matches!(
        accounts.revoke_token(&bob, meta.id.as_str()).await,
        Err(Error::NotFound(_))
    ));
    accounts
        .authenticate(&raw)
        .await
        .expect("someone else cannot revoke it");
    accounts
        .revoke_token(&actor, meta.id.as_str())
        .await
        .unwrap();
    assert!(
        accounts.authenticate(&raw).await.is_err(),
        "a revoked token stops at once"
    );
    assert!(accounts.tokens(&actor).await.unwrap().is_empty());

    let (_, short) = accounts
        .create_token(&actor, "ci", Some(1), &[])
        .await
        .unwrap();
    h.clock.advance(Duration::hours(23));
    accounts.authenticate(&session).await.ok();
    accounts.authenticate(&short).await.expect("inside a day");
    h.clock.advance(Duration::hours(2));
    assert!(
        accounts.authenticate(&short).await.is_err(),
        "expired after a day"
    );
    h.finish().await;
}

async fn a_read_token_reads_and_cannot_write_and_lifetimes_are_capped(backend: Backend) {
    let h = Harness::with(
        backend,
        &[(keys::DEV_LOGIN, "true"), (keys::API_TOKEN_MAX_DAYS, "30")],
    )
    .await;
    let accounts = h.facetra.accounts();
    let session = login(&h, "ada@example.com").await;
    let signed = accounts.authenticate(&session).await.unwrap();
    signed.permits(Access::Write).expect("a session may write");
    let actor = signed.actor();

    let (meta, read) = accounts
        .create_token(&actor, "dashboard", None, &[Scope::Read])
        .await
        .unwrap();
    assert_eq!(meta.scopes, vec![Scope::Read]);
    assert_eq!(
        meta.expires_at - meta.created_at,
        Duration::days(30),
        "the default is the most"
    );
    let p = accounts.authenticate(&read).await.unwrap();
    p.permits(Access::Read).expect("a read token reads");
    let refused = p.permits(Access::Write).unwrap_err();
    assert!(matches!(refused, Error::Forbidden(_)), "{refused:?}");
    assert!(
        refused.to_string().contains("facetra tokens create"),
        "{refused}"
    );
    let listed = accounts.tokens(&actor).await.unwrap();
    assert_eq!(listed[0].scopes, vec![Scope::Read], "the scope is stored");

    let (both, write) = accounts
        .create_token(&actor, "cli", Some(7), &[Scope::Write])
        .await
        .unwrap();
    assert_eq!(
        both.scopes,
        vec![Scope::Read, Scope::Write],
        "write brings read"
    );
    accounts
        .authenticate(&write)
        .await
        .unwrap()
        .permits(Access::Write)
        .expect("a write token writes");

    let too_long = accounts
        .create_token(&actor, "forever", Some(31), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&too_long, Error::Invalid { field, .. } if *field == "expires_in_days"),
        "{too_long:?}"
    );
    h.finish().await;
}

async fn a_pre_sign_in_session_is_taken_once_and_expired_ones_are_purged(backend: Backend) {
    use facetra_core::accounts::SignInAttempt;
    let h = Harness::new(backend).await;
    let store = &h.facetra.store().accounts;
    let now = h.facetra.now();
    let attempt = |token: &RawToken, at: facetra_core::Timestamp| SignInAttempt {
        id: facetra_core::ids::random("sia"),
        token_hash: token.hash(),
        return_to: "/studio".into(),
        age_confirmed: true,
        created_at: at,
        expires_at: at + Duration::minutes(10),
    };
    let (old, fresh) = (RawToken::generate(""), RawToken::generate(""));
    store
        .insert_sign_in_attempt(&attempt(&old, now))
        .await
        .unwrap();
    let later = now + Duration::minutes(11);
    store
        .insert_sign_in_attempt(&attempt(&fresh, later))
        .await
        .unwrap();
    assert!(
        store
            .take_sign_in_attempt(&old.hash())
            .await
            .unwrap()
            .is_none(),
        "an expired attempt is purged when the next one begins"
    );
    let taken = store
        .take_sign_in_attempt(&fresh.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (taken.return_to.as_str(), taken.age_confirmed),
        ("/studio", true)
    );
    assert_eq!(taken.expires_at, later + Duration::minutes(10));
    assert!(
        store
            .take_sign_in_attempt(&fresh.hash())
            .await
            .unwrap()
            .is_none(),
        "single use"
    );
    h.finish().await;
}

async fn init_makes_one_owner_however_often_it_runs(backend: Backend) {
    let h = Harness::new(backend).await;
    let accounts = h.facetra.accounts();
    let owner = NewOwner {
        name: "Asha".into(),
        email: "asha@example.com".into(),
        age_confirmed: true,
    };
    let first = accounts.init(owner.clone()).await.unwrap();
    let InitOutcome::Created(created) = first else {
        panic!("first init creates")
    };
    let again = NewOwner {
        name: "Other".into(),
        email: "other@example.com".into(),
        age_confirmed: true,
    };
    let InitOutcome::AlreadyInitialized(kept) = accounts.init(again.clone()).await.unwrap() else {
        panic!("second init must not create")
    };
    assert_eq!(kept.id, created.id);
    // Even straight at the port, a second instance is refused.
    let mut rogue = created.clone();
    rogue.id = UserId::new(h.clock.now_for_tests());
    rogue.email = Email::parse("rogue@example.com").unwrap();
    assert!(matches!(
        h.facetra
            .store()
            .accounts
            .create_instance(&rogue)
            .await
            .unwrap(),
        InstanceCreated::Exists(_)
    ));
    let all = h
        .facetra
        .store()
        .accounts
        .list_users(&PageRequest::first())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1, "no second owner, no stray user");
    assert_eq!(accounts.owner().await.unwrap().unwrap().id, created.id);
    let minor = NewOwner {
        age_confirmed: false,
        ..owner
    };
    let h2 = Harness::new(backend).await;
    assert!(matches!(
        h2.facetra.accounts().init(minor).await,
        Err(Error::Invalid {
            field: "age_confirmed",
            ..
        })
    ));
    h.finish().await;
    h2.finish().await;
}

async fn dev_login_refuses_google_and_staff_accounts(backend: Backend) {
    let h = dev_harness(backend).await;
    let store = &h.facetra.store().accounts;
    store
        .insert_user(&user(&h, "google@example.com", Some("sub-9")))
        .await
        .unwrap();
    let mut staff = user(&h, "dpo@example.com", None);
    staff.roles = vec![Role::User, Role::Dpo];
    store.insert_user(&staff).await.unwrap();
    let accounts = h.facetra.accounts();
    for email in ["google@example.com", "dpo@example.com"] {
        let req = DevLogin {
            email: email.into(),
            name: "X".into(),
            age_confirmed: true,
        };
        assert!(
            matches!(
                accounts.dev_login(req, None).await,
                Err(Error::Forbidden(_))
            ),
            "{email}"
        );
    }
    let minor = DevLogin {
        email: "new@example.com".into(),
        name: "New".into(),
        age_confirmed: false,
    };
    assert!(matches!(
        accounts.dev_login(minor, None).await,
        Err(Error::Invalid { .. })
    ));
    let (u, _, created) = accounts
        .dev_login(
            DevLogin {
                email: "new@example.com".into(),
                name: "New".into(),
                age_confirmed: true,
            },
            None,
        )
        .await
        .unwrap();
    assert!(created);
    assert_eq!(u.roles, vec![Role::User], "dev login grants no roles");
    let events = h.security_events("auth.dev_login").await;
    assert_eq!(
        events.len(),
        1,
        "each dev login is recorded as a security event"
    );
    assert_eq!(events[0].user_id.as_ref(), Some(&u.id));
    assert!(matches!(
        accounts
            .set_roles(&Actor::User(u.id.clone()), u.id.as_str(), &[Role::Admin])
            .await,
        Err(Error::Forbidden(_))
    ));
    // Disabled: refused whatever the account.
    let off = Harness::new(backend).await;
    let req = DevLogin {
        email: "new@example.com".into(),
        name: "New".into(),
        age_confirmed: true,
    };
    assert!(matches!(
        off.facetra.accounts().dev_login(req, None).await,
        Err(Error::Forbidden(_))
    ));
    h.finish().await;
    off.finish().await;
}

async fn staff_roles_are_decided_in_core_and_a_refusal_changes_nothing(backend: Backend) {
    let h = dev_harness(backend).await;
    login(&h, "ada@example.com").await;
    let ada = h
        .facetra
        .store()
        .accounts
        .user_by_email(&Email::parse("ada@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    let support = h.staff("sam@example.com", &[Role::Support]).await;
    let dpo = h.staff("dee@example.com", &[Role::Dpo]).await;
    let admin = h.staff("al@example.com", &[Role::Admin]).await;
    let accounts = h.facetra.accounts();
    fn forbidden<T>(r: Result<T, Error>) -> bool {
        matches!(r, Err(Error::Forbidden(_)))
    }
    assert!(accounts
        .find_user(&support, "ada@example.com")
        .await
        .is_ok());
    assert!(forbidden(
        accounts
            .set_roles(&support, ada.id.as_str(), &[Role::Admin])
            .await
    ));
    assert!(forbidden(
        h.facetra
            .credits()
            .grant(&dpo, ada.id.as_str(), 5, "goodwill", None)
            .await
    ));
    let user = Actor::User(ada.id.clone());
    assert!(forbidden(
        accounts.list_users(&user, &PageRequest::first()).await
    ));
    assert!(forbidden(h.facetra.credits().verify(&support).await));
    let after = accounts.find_user(&admin, ada.id.as_str()).await.unwrap();
    assert_eq!(after.roles, vec![Role::User], "nothing changed");
    assert_eq!(h.facetra.credits().balance(&user).await.unwrap(), 10);
    let refusals = h.security_events("authz.refused").await;
    assert_eq!(refusals.len(), 4, "each refusal is recorded");
    // Only core makes staff: a plain account, or an unknown one, is refused, however it
    // arrives (an operator's email, or a signed-in session).
    assert!(forbidden(accounts.staff("ada@example.com").await));
    let session = login(&h, "ada@example.com").await;
    let signed_in = accounts.authenticate(&session).await.unwrap();
    assert!(forbidden(accounts.staff_of(&signed_in).await));
    assert!(forbidden(accounts.staff("ghost@example.com").await));
    // The first admin is made once, while there is none.
    assert!(matches!(
        accounts.bootstrap_admin("ada@example.com").await,
        Err(Error::Conflict(_))
    ));
    let granted = accounts
        .set_roles(&admin, ada.id.as_str(), &[Role::Support])
        .await
        .unwrap();
    assert_eq!(granted.roles, vec![Role::User, Role::Support]);
    let signed_in = accounts.authenticate(&session).await.unwrap();
    let as_staff = accounts.staff_of(&signed_in).await.unwrap();
    assert!(accounts
        .find_user(&as_staff, "ada@example.com")
        .await
        .is_ok());
    assert!(forbidden(
        accounts
            .set_roles(&as_staff, ada.id.as_str(), &[Role::Admin])
            .await
    ));
    h.finish().await;
}

async fn a_rename_racing_an_erasure_never_makes_the_account_active_again(backend: Backend) {
    let h = dev_harness(backend).await;
    let token = login(&h, "ada@example.com").await;
    let me = h.facetra.accounts().authenticate(&token).await.unwrap();
    let store = &h.facetra.store().accounts;
    // The erasure begins between the rename's read and its write.
    assert!(store
        .mark_erasure_pending(&me.user.id, h.facetra.now())
        .await
        .unwrap());
    let renamed = store
        .set_name_if_active(&me.user.id, "New Name", h.facetra.now())
        .await
        .unwrap();
    assert!(renamed.is_none(), "the rename lost");
    let roles = store
        .set_roles_if_active(&me.user.id, &[Role::User, Role::Admin], h.facetra.now())
        .await
        .unwrap();
    assert!(roles.is_none(), "so did a role change");
    let stored = store.user_by_id(&me.user.id).await.unwrap().unwrap();
    assert_eq!(stored.status, UserStatus::ErasurePending);
    assert_eq!(stored.name, "Person");
    assert_eq!(stored.roles, vec![Role::User]);
    assert!(matches!(
        h.facetra.accounts().update_name(&me.actor(), "Other").await,
        Err(Error::Unauthenticated(_))
    ));
    h.finish().await;
}
