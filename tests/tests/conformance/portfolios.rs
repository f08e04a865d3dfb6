//! Portfolios on both backends: named, ordered, holding only the owner's renders, and losing a
//! render when it is deleted.

use facetra_core::config::keys;
use facetra_core::paging::PageRequest;
use facetra_core::studio::{RenderSpec, UploadKind};
use facetra_core::{Actor, Error};
use facetra_tests::images::png;
use facetra_tests::{Backend, Harness};

use super::conformance;

conformance!(portfolios_hold_only_the_owners_renders_in_order);

async fn renders(h: &Harness, who: &Actor, n: u32) -> Vec<String> {
    let studio = h.facetra.studio();
    let sketch = studio
        .upload(who, UploadKind::Sketch, png(80, 60))
        .await
        .unwrap();
    let spec = RenderSpec {
        prompt: "a linen armchair".into(),
        sketch_id: sketch.id.to_string(),
        reference_ids: vec![],
        variants: n,
        aspect_ratio: "1:1".into(),
        style: None,
        idempotency_key: None,
    };
    let job = studio.request(who, &spec).await.unwrap();
    let done = studio.work_once(Some(&job.id)).await.unwrap().unwrap();
    done.variants
        .iter()
        .map(|v| v.render_id.clone().unwrap().to_string())
        .collect()
}

async fn portfolios_hold_only_the_owners_renders_in_order(backend: Backend) {
    let h = Harness::with(backend, &[(keys::DEV_LOGIN, "true")]).await;
    let (me, eve) = (
        h.person("me@example.com").await,
        h.person("eve@example.com").await,
    );
    let mine = renders(&h, &me, 3).await;
    let hers = renders(&h, &eve, 1).await;
    let studio = h.facetra.studio();
    let p = studio
        .create_portfolio(&me, "  Living rooms ")
        .await
        .unwrap();
    assert_eq!(p.name, "Living rooms");
    let ordered = vec![mine[2].clone(), mine[0].clone()];
    let p = studio
        .set_portfolio_renders(&me, p.id.as_str(), &ordered)
        .await
        .unwrap();
    assert_eq!(
        p.render_ids
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>(),
        ordered,
        "order is kept"
    );
    // The cap is checked before any render is looked up.
    let flood: Vec<String> = (0..501).map(|i| format!("rnd_{i}")).collect();
    assert!(matches!(
        studio
            .set_portfolio_renders(&me, p.id.as_str(), &flood)
            .await,
        Err(Error::Invalid {
            field: "render_ids",
            ..
        })
    ));
    let sneaky = vec![mine[1].clone(), hers[0].clone()];
    assert!(matches!(
        studio
            .set_portfolio_renders(&me, p.id.as_str(), &sneaky)
            .await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(
        studio
            .portfolio(&me, p.id.as_str())
            .await
            .unwrap()
            .render_ids
            .len(),
        2,
        "a refused change changes nothing"
    );
    assert!(matches!(
        studio.portfolio(&eve, p.id.as_str()).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        studio
            .rename_portfolio(&eve, p.id.as_str(), "mine now")
            .await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        studio.delete_portfolio(&eve, p.id.as_str()).await,
        Err(Error::NotFound(_))
    ));
    assert!(studio
        .portfolios(&eve, &PageRequest::first())
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        studio
            .rename_portfolio(&me, p.id.as_str(), "Lounges")
            .await
            .unwrap()
            .name,
        "Lounges"
    );
    studio.delete_render(&me, &mine[2]).await.unwrap();
    assert_eq!(
        studio
            .portfolio(&me, p.id.as_str())
            .await
            .unwrap()
            .render_ids
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>(),
        vec![mine[0].clone()]
    );
    studio.delete_portfolio(&me, p.id.as_str()).await.unwrap();
    assert!(studio
        .portfolios(&me, &PageRequest::first())
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(
        studio.render(&me, &mine[0]).await.is_ok(),
        "deleting a portfolio keeps its renders"
    );
    h.finish().await;
}
