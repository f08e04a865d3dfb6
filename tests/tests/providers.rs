//! Render jobs through the real provider clients against their stubs (Gemini, and Gemini through
//! Emergent's proxy): retries on 503 and 429 (honouring RetryInfo), a full refund when the provider keeps
//! failing, safety blocks refunded per variant, and no retry on 400 or a spent budget.

use facetra_core::accounts::DevLogin;
use facetra_core::config::keys;
use facetra_core::studio::providers::FailureClass;
use facetra_core::studio::{JobStatus, RenderSpec, UploadKind, VariantStatus};
use facetra_core::Actor;
use facetra_tests::gemini_stub::{GeminiStub, Reply};
use facetra_tests::images::png;
use facetra_tests::{Backend, Harness};

async fn studio() -> (Harness, GeminiStub, Actor, String) {
    let stub = GeminiStub::start().await;
    let h = Harness::with_stub(
        Backend::Sqlite,
        stub.settings(),
        &[(keys::DEV_LOGIN, "true")],
    )
    .await;
    let req = DevLogin {
        email: "designer@example.com".into(),
        name: "Designer".into(),
        age_confirmed: true,
    };
    let me = Actor::User(
        h.facetra
            .accounts()
            .dev_login(req, None)
            .await
            .unwrap()
            .0
            .id,
    );
    let sketch = h
        .facetra
        .studio()
        .upload(&me, UploadKind::Sketch, png(100, 80))
        .await
        .unwrap();
    (h, stub, me, sketch.id.to_string())
}

fn spec(sketch: &str, variants: u32) -> RenderSpec {
    RenderSpec {
        prompt: "a walnut bookshelf".into(),
        sketch_id: sketch.into(),
        reference_ids: vec![],
        variants,
        aspect_ratio: "16:9".into(),
        style: None,
        idempotency_key: None,
    }
}

#[tokio::test]
async fn gemini_503_then_429_then_success_succeeds() {
    let (h, stub, me, sketch) = studio().await;
    stub.then(&[
        Reply::Error(503, "UNAVAILABLE", None),
        Reply::Error(429, "RESOURCE_EXHAUSTED", Some("0.05s")),
        Reply::Image,
    ]);
    let job = h
        .facetra
        .studio()
        .request(&me, &spec(&sketch, 1))
        .await
        .unwrap();
    let done = h
        .facetra
        .studio()
        .work_once(Some(&job.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!((done.credits_charged, done.credits_refunded), (1, 0));
    let requests = stub.requests();
    assert_eq!(requests.len(), 3);
    let (call, headers, body) = &requests[0];
    assert_eq!(call, "gemini-2.5-flash-image:generateContent");
    assert_eq!(headers["x-goog-api-key"], stub.api_key.as_str());
    assert!(headers.get("user-agent").is_some());
    assert_eq!(
        body["generationConfig"]["responseModalities"],
        serde_json::json!(["TEXT", "IMAGE"])
    );
    assert_eq!(
        body["generationConfig"]["imageConfig"]["aspectRatio"],
        "16:9"
    );
    assert_eq!(
        body["contents"][0]["parts"][1]["inlineData"]["mimeType"],
        "image/png"
    );
    let render = &h
        .facetra
        .studio()
        .job_renders(&me, job.id.as_str())
        .await
        .unwrap()[0]
        .0;
    assert_eq!(render.provenance.provider, "gemini");
    assert_eq!(render.provenance.model, "gemini-2.5-flash-image");
    assert_eq!(render.provenance.finish_reason, "STOP");
    assert_eq!(render.provenance.usage["totalTokenCount"], 2580);
    h.finish().await;
}

#[tokio::test]
async fn gemini_always_500_fails_the_job_and_refunds_it_fully() {
    let (h, stub, me, sketch) = studio().await;
    stub.always(Reply::Error(500, "INTERNAL", None));
    let job = h
        .facetra
        .studio()
        .request(&me, &spec(&sketch, 2))
        .await
        .unwrap();
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 8);
    let done = h
        .facetra
        .studio()
        .work_once(Some(&job.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Failed);
    assert_eq!((done.credits_charged, done.credits_refunded), (0, 2));
    assert!(done
        .variants
        .iter()
        .all(|v| v.failure_class == Some(FailureClass::ProviderError) && v.reason.is_some()));
    assert_eq!(
        h.facetra.credits().balance(&me).await.unwrap(),
        10,
        "fully refunded"
    );
    assert_eq!(
        stub.requests().len(),
        8,
        "four calls per variant, then it gives up"
    );
    h.finish().await;
}

#[tokio::test]
async fn image_safety_on_one_variant_refunds_that_variant_and_keeps_the_others() {
    let (h, stub, me, sketch) = studio().await;
    stub.then(&[Reply::Image, Reply::ImageSafety, Reply::Image]);
    let job = h
        .facetra
        .studio()
        .request(&me, &spec(&sketch, 3))
        .await
        .unwrap();
    let done = h
        .facetra
        .studio()
        .work_once(Some(&job.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    let statuses: Vec<_> = done
        .variants
        .iter()
        .map(|v| (v.status, v.failure_class))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (VariantStatus::Succeeded, None),
            (VariantStatus::Failed, Some(FailureClass::SafetyBlocked)),
            (VariantStatus::Succeeded, None)
        ]
    );
    assert_eq!((done.credits_charged, done.credits_refunded), (2, 1));
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 8);
    assert_eq!(stub.requests().len(), 3, "a safety block is not retried");
    h.finish().await;
}

#[tokio::test]
async fn a_blocked_prompt_and_a_400_are_not_retried() {
    let (h, stub, me, sketch) = studio().await;
    stub.then(&[Reply::Blocked, Reply::Error(400, "INVALID_ARGUMENT", None)]);
    let job = h
        .facetra
        .studio()
        .request(&me, &spec(&sketch, 2))
        .await
        .unwrap();
    let done = h
        .facetra
        .studio()
        .work_once(Some(&job.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Failed);
    assert_eq!(
        done.variants[0].failure_class,
        Some(FailureClass::SafetyBlocked)
    );
    assert_eq!(
        done.variants[1].failure_class,
        Some(FailureClass::InvalidInput)
    );
    // The provider's own words (here "stub INVALID_ARGUMENT") stay out of what users see.
    let reason = done.variants[1].reason.clone().unwrap();
    assert!(!reason.contains("stub"), "{reason}");
    assert!(
        reason.contains("change the prompt or the images"),
        "{reason}"
    );
    assert_eq!(stub.requests().len(), 2);
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 10);
    h.finish().await;
}

#[tokio::test]
async fn the_emergent_proxy_renders_with_data_urls_retries_5xx_and_stops_on_a_spent_budget() {
    use facetra_tests::emergent_stub::EmergentStub;
    let stub = EmergentStub::start().await;
    let h = Harness::with_stub(
        Backend::Sqlite,
        stub.settings(),
        &[(keys::DEV_LOGIN, "true")],
    )
    .await;
    let req = DevLogin {
        email: "designer@example.com".into(),
        name: "Designer".into(),
        age_confirmed: true,
    };
    let me = Actor::User(
        h.facetra
            .accounts()
            .dev_login(req, None)
            .await
            .unwrap()
            .0
            .id,
    );
    let sketch = h
        .facetra
        .studio()
        .upload(&me, UploadKind::Sketch, png(100, 80))
        .await
        .unwrap();
    let reference = h
        .facetra
        .studio()
        .upload(&me, UploadKind::Reference, png(40, 40))
        .await
        .unwrap();
    stub.fail_next(&[(502, "bad gateway")]);
    let mut s = spec(sketch.id.as_str(), 1);
    s.reference_ids = vec![reference.id.to_string()];
    let job = h.facetra.studio().request(&me, &s).await.unwrap();
    let done = h
        .facetra
        .studio()
        .work_once(Some(&job.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    let body = &stub.requests()[1];
    assert_eq!(body["modalities"], serde_json::json!(["image", "text"]));
    let content = body["messages"][0]["content"].as_array().unwrap();
    assert_eq!(content.len(), 3, "text, sketch, reference");
    assert!(content[1]["image_url"]["url"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
    let render = &h
        .facetra
        .studio()
        .job_renders(&me, job.id.as_str())
        .await
        .unwrap()[0]
        .0;
    assert_eq!(render.provenance.provider, "emergent");
    assert_eq!(
        render.provenance.inputs_sha256,
        vec![sketch.sha256.clone(), reference.sha256.clone()]
    );

    stub.fail_next(&[(
        429,
        "Budget has been exceeded! Current cost: 1.02, Max budget: 1.0",
    )]);
    let job = h
        .facetra
        .studio()
        .request(&me, &spec(sketch.id.as_str(), 1))
        .await
        .unwrap();
    let done = h
        .facetra
        .studio()
        .work_once(Some(&job.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Failed);
    assert!(done.variants[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("budget"));
    assert_eq!(stub.requests().len(), 3, "a spent budget is not retried");
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 9);

    // BOMs are drafted through the proxy too, with structured output.
    stub.bom_answer(r#"{"items":[{"name":"Chair","category":"furniture","material":"cane","quantity":2,"unit":"pc","unit_price_paise":650000,"note":""}]}"#);
    let render = h
        .facetra
        .studio()
        .renders(&me, false, &facetra_core::paging::PageRequest::first())
        .await
        .unwrap()
        .items[0]
        .id
        .to_string();
    let bom = h.facetra.studio().generate_bom(&me, &render).await.unwrap();
    assert_eq!(
        (bom.source, bom.items[0].material.as_str()),
        (facetra_core::studio::bom::BomSource::Ai, "cane")
    );
    let last = stub.requests().last().unwrap().clone();
    assert_eq!(last["response_format"]["type"], "json_schema");
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 8);
    h.finish().await;
}

#[tokio::test]
async fn an_ai_bom_is_drafted_with_a_json_schema_charged_once_and_refunded_when_invalid() {
    let (h, stub, me, sketch) = studio().await;
    let job = h
        .facetra
        .studio()
        .request(&me, &spec(&sketch, 1))
        .await
        .unwrap();
    let render = h
        .facetra
        .studio()
        .work_once(Some(&job.id))
        .await
        .unwrap()
        .unwrap()
        .variants[0]
        .render_id
        .clone()
        .unwrap()
        .to_string();
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 9);
    stub.then(&[Reply::Text(
        r#"[{"name":"Bookshelf","category":"storage","material":"walnut","quantity":1,"unit":"pc","unit_price_paise":1800000,"note":"five shelves"}]"#,
    )]);
    let bom = h.facetra.studio().generate_bom(&me, &render).await.unwrap();
    assert_eq!(
        (bom.version, bom.source),
        (1, facetra_core::studio::bom::BomSource::Ai)
    );
    assert_eq!(bom.items[0].material, "walnut");
    assert_eq!(
        h.facetra.credits().balance(&me).await.unwrap(),
        8,
        "one credit for the AI BOM"
    );
    let (call, _, body) = stub.requests().last().unwrap().clone();
    assert_eq!(call, "gemini-2.5-flash:generateContent");
    assert_eq!(
        body["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert_eq!(body["generationConfig"]["responseSchema"]["type"], "ARRAY");
    assert_eq!(
        body["contents"][0]["parts"][1]["inlineData"]["mimeType"], "image/png",
        "the render is sent"
    );
    // An answer that does not fit the schema: nothing saved, the credit refunded.
    stub.then(&[Reply::Text(r#"[{"name":"Lamp","quantity":-2}]"#)]);
    assert!(matches!(
        h.facetra.studio().generate_bom(&me, &render).await,
        Err(facetra_core::Error::Provider { .. })
    ));
    assert_eq!(h.facetra.credits().balance(&me).await.unwrap(), 8);
    assert_eq!(
        h.facetra.studio().bom(&me, &render).await.unwrap().version,
        1
    );
    h.finish().await;
}
