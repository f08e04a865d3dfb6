//! The waitlist, demo bookings and invitations, on both backends.

use facetra_core::accounts::{DevLogin, Role};
use facetra_core::config::keys;
use facetra_core::onboarding::{SignupForm, SignupKind, SignupStatus};
use facetra_core::paging::PageRequest;
use facetra_core::Error;
use facetra_tests::{Backend, Harness};

use super::conformance;

conformance!(
    a_form_is_stored_once_per_pending_email_and_a_demo_needs_a_company_and_is_confirmed,
    approving_an_entry_invites_its_email_once_and_the_account_takes_the_entries_with_it,
);

fn form(email: &str) -> SignupForm {
    SignupForm {
        name: "Mira Shah".into(),
        email: email.into(),
        company: Some("Shah Interiors".into()),
        role: Some("Principal designer".into()),
        message: Some("We render kitchens\\nevery week.".into()),
    }
}

async fn outbox_templates(h: &Harness) -> Vec<String> {
    h.facetra
        .mail()
        .outbox(&h.admin().await, false, &PageRequest::first())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.template)
        .collect()
}

async fn a_form_is_stored_once_per_pending_email_and_a_demo_needs_a_company_and_is_confirmed(
    backend: Backend,
) {
    let h = Harness::with(backend, &[(keys::DEV_LOGIN, "true")]).await;
    let onboarding = h.facetra.onboarding();
    let first = onboarding
        .submit(SignupKind::Waitlist, form("Mira@Example.com"))
        .await
        .unwrap();
    assert_eq!(first.email.as_str(), "mira@example.com");
    assert_eq!(first.status, SignupStatus::Pending);
    let again = onboarding
        .submit(SignupKind::Waitlist, form("mira@example.com"))
        .await
        .unwrap();
    assert_eq!(
        again.id, first.id,
        "the same pending entry, not a second one"
    );

    let mut no_company = form("raj@example.com");
    no_company.company = None;
    let refused = onboarding
        .submit(SignupKind::Demo, no_company.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            Error::Invalid {
                field: "company",
                ..
            }
        ),
        "{refused:?}"
    );
    onboarding
        .submit(SignupKind::Waitlist, no_company)
        .await
        .expect("the waitlist needs no company");
    let mut bad = form("x@example.com");
    bad.name = "\u{0}".into();
    assert!(onboarding.submit(SignupKind::Waitlist, bad).await.is_err());
    let mut long = form("y@example.com");
    long.message = Some("m".repeat(5001));
    assert!(matches!(
        onboarding.submit(SignupKind::Waitlist, long).await,
        Err(Error::Invalid {
            field: "message",
            ..
        })
    ));

    let demo = onboarding
        .submit(SignupKind::Demo, form("mira@example.com"))
        .await
        .unwrap();
    assert_ne!(demo.id, first.id, "a demo is its own entry");
    assert_eq!(
        outbox_templates(&h).await,
        vec!["demo_confirmation".to_owned()]
    );

    let support = h.staff("sam@facetra.test", &[Role::Support]).await;
    let waitlist = onboarding
        .list(&support, SignupKind::Waitlist, None, &PageRequest::first())
        .await
        .unwrap();
    assert_eq!(waitlist.items.len(), 2);
    assert_eq!(
        waitlist.items[1].message.as_deref(),
        Some("We render kitchens\\nevery week.")
    );
    let demos = onboarding
        .list(
            &support,
            SignupKind::Demo,
            Some(SignupStatus::Pending),
            &PageRequest::first(),
        )
        .await
        .unwrap();
    assert_eq!(demos.items.len(), 1);
    let user = h.person("someone@example.com").await;
    assert!(matches!(
        onboarding
            .list(&user, SignupKind::Waitlist, None, &PageRequest::first())
            .await,
        Err(Error::Forbidden(_))
    ));
    h.finish().await;
}

async fn approving_an_entry_invites_its_email_once_and_the_account_takes_the_entries_with_it(
    backend: Backend,
) {
    let h = Harness::with(backend, &[(keys::DEV_LOGIN, "true")]).await;
    let onboarding = h.facetra.onboarding();
    let entry = onboarding
        .submit(SignupKind::Waitlist, form("mira@example.com"))
        .await
        .unwrap();
    let support = h.staff("sam@facetra.test", &[Role::Support]).await;
    assert!(matches!(
        onboarding.approve(&support, entry.id.as_str()).await,
        Err(Error::Forbidden(_))
    ));
    let admin = h.staff("ada@facetra.test", &[Role::Admin]).await;
    let approved = onboarding.approve(&admin, entry.id.as_str()).await.unwrap();
    assert_eq!(approved.status, SignupStatus::Approved);
    assert!(approved.decided_at.is_some());
    let twice = onboarding.approve(&admin, entry.id.as_str()).await.unwrap();
    assert_eq!(twice.status, SignupStatus::Approved);
    let mails = outbox_templates(&h).await;
    assert_eq!(
        mails.iter().filter(|t| *t == "studio_ready").count(),
        1,
        "one invitation email: {mails:?}"
    );
    assert!(h
        .facetra
        .store()
        .onboarding
        .invited(&entry.email)
        .await
        .unwrap());
    let audited = h
        .facetra
        .audit()
        .list(&h.admin().await, 0, 100)
        .await
        .unwrap();
    assert_eq!(
        audited
            .iter()
            .filter(|e| e.action == "waitlist.approve")
            .count(),
        1
    );

    // The account made for that email takes the entries.
    let (user, _, created) = h
        .facetra
        .accounts()
        .dev_login(
            DevLogin {
                email: "mira@example.com".into(),
                name: "Mira".into(),
                age_confirmed: true,
            },
            None,
        )
        .await
        .unwrap();
    assert!(created);
    let joined = h
        .facetra
        .store()
        .onboarding
        .signup(&entry.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(joined.status, SignupStatus::Joined);
    assert_eq!(joined.user_id.as_ref(), Some(&user.id));
    assert!(matches!(
        onboarding.approve(&admin, "sgn_nope").await,
        Err(Error::NotFound(_))
    ));
    h.finish().await;
}
