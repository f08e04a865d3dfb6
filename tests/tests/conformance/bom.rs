//! BOMs on both backends: generated from the prompt, edited in versions with optimistic
//! concurrency (a stale version is refused and nothing is lost), history kept, private.

use facetra_core::accounts::DevLogin;
use facetra_core::config::keys;
use facetra_core::paging::PageRequest;
use facetra_core::studio::bom::{BomItem, BomSource};
use facetra_core::studio::{RenderSpec, UploadKind};
use facetra_core::{Actor, Error};
use facetra_tests::images::png;
use facetra_tests::{Backend, Harness};

use super::conformance;

conformance!(a_bom_is_edited_in_versions_and_a_stale_edit_is_refused);

async fn a_bom_is_edited_in_versions_and_a_stale_edit_is_refused(backend: Backend) {
    let h = Harness::with(backend, &[(keys::DEV_LOGIN, "true")]).await;
    let login = |email: &str| DevLogin {
        email: email.into(),
        name: "P".into(),
        age_confirmed: true,
    };
    let me = Actor::User(
        h.facetra
            .accounts()
            .dev_login(login("me@example.com"), None)
            .await
            .unwrap()
            .0
            .id,
    );
    let eve = Actor::User(
        h.facetra
            .accounts()
            .dev_login(login("eve@example.com"), None)
            .await
            .unwrap()
            .0
            .id,
    );
    let studio = h.facetra.studio();
    let sketch = studio
        .upload(&me, UploadKind::Sketch, png(80, 60))
        .await
        .unwrap();
    let spec = RenderSpec {
        prompt: "a walnut desk, a leather armchair and a brass lamp".into(),
        sketch_id: sketch.id.to_string(),
        reference_ids: vec![],
        variants: 1,
        aspect_ratio: "1:1".into(),
        style: None,
        idempotency_key: None,
    };
    let job = studio.request(&me, &spec).await.unwrap();
    let render = studio
        .work_once(Some(&job.id))
        .await
        .unwrap()
        .unwrap()
        .variants[0]
        .render_id
        .clone()
        .unwrap()
        .to_string();
    assert!(matches!(
        studio.bom(&me, &render).await,
        Err(Error::NotFound(_))
    ));
    let generated = studio.generate_bom(&me, &render).await.unwrap();
    assert_eq!((generated.version, generated.source), (1, BomSource::Local));
    assert_eq!(
        generated
            .items
            .iter()
            .map(|i| i.material.as_str())
            .collect::<Vec<_>>(),
        ["walnut", "leather", "brass"]
    );
    let mut items = generated.items.clone();
    items.push(BomItem {
        name: "Side table".into(),
        category: "furniture".into(),
        material: "marble".into(),
        quantity: 1.0,
        unit: "pc".into(),
        unit_price_paise: 1_250_000,
        note: String::new(),
    });
    let edited = studio
        .set_bom(&me, &render, 1, items.clone())
        .await
        .unwrap();
    assert_eq!((edited.version, edited.source), (2, BomSource::User));
    // Someone else's edit, also based on version 1, is stale: refused, version 2 kept.
    assert!(matches!(
        studio.set_bom(&me, &render, 1, vec![]).await,
        Err(Error::StaleVersion(1))
    ));
    assert_eq!(studio.bom(&me, &render).await.unwrap().items, items);
    let history = studio
        .bom_history(&me, &render, &PageRequest::first())
        .await
        .unwrap()
        .items;
    assert_eq!(
        history.iter().map(|b| b.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    let mut bad = items.clone();
    bad[0].quantity = -1.0;
    assert!(matches!(
        studio.set_bom(&me, &render, 2, bad).await,
        Err(Error::Invalid { .. })
    ));
    // Version arithmetic is checked: no overflow, no negative version.
    for version in [i64::MAX, -1] {
        assert!(matches!(
            studio.set_bom(&me, &render, version, items.clone()).await,
            Err(Error::Invalid {
                field: "version",
                ..
            })
        ));
    }
    assert!(matches!(
        studio.bom(&eve, &render).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        studio.set_bom(&eve, &render, 2, vec![]).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        studio.generate_bom(&eve, &render).await,
        Err(Error::NotFound(_))
    ));
    h.finish().await;
}
