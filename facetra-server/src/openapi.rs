//! The OpenAPI document, assembled from the routes' annotations, with what every route shares
//! added in one place ([`Shared`]): how a caller authenticates, and the error envelope every
//! 4xx and 5xx answer carries.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, RefOr, SecurityRequirement};
use utoipa::OpenApi;

use crate::routes::{
    admin, auth, bom, credits, health, me, messages, onboarding, payments, portfolios, privacy,
    studio, tokens, uploads,
};

/// Facetra's HTTP API.
#[derive(OpenApi)]
#[openapi(
    modifiers(&Shared),
    info(
        title = "Facetra API",
        version = "1",
        description = "The HTTP contract of API.md."
    ),
    paths(
        health::healthz,
        health::readyz,
        health::openapi,
        auth::dev_login,
        auth::google_id_token,
        auth::google_start,
        auth::google_callback,
        auth::logout,
        me::get_me,
        me::patch_me,
        me::get_consents,
        me::put_consents,
        tokens::create,
        admin::users,
        admin::grant,
        admin::set_roles,
        admin::waitlist,
        admin::demos,
        admin::approve,
        privacy::create,
        privacy::list,
        privacy::queue,
        privacy::export,
        privacy::nominee,
        privacy::set_nominee,
        privacy::clear_nominee,
        messages::create,
        messages::list,
        messages::get,
        messages::reply,
        messages::event,
        onboarding::waitlist,
        onboarding::demo,
        tokens::list,
        tokens::revoke,
        credits::packs,
        credits::balance,
        credits::transactions,
        payments::create_order,
        payments::verify,
        payments::create_link,
        payments::link_status,
        payments::webhook,
        uploads::create,
        studio::create,
        studio::quote,
        studio::jobs,
        studio::job,
        studio::cancel,
        studio::renders,
        studio::render,
        studio::delete,
        studio::select,
        studio::unselect,
        studio::download,
        studio::file,
        portfolios::list,
        portfolios::create,
        portfolios::get,
        portfolios::rename,
        portfolios::delete,
        portfolios::set_renders,
        bom::get,
        bom::put,
        bom::generate,
        bom::history,
    ),
    components(schemas(
        facetra_api::ErrorBody,
        facetra_api::ErrorDetail,
        facetra_api::User,
        facetra_api::Consents,
        facetra_api::NameBody,
        facetra_api::ConsentsBody,
        facetra_api::DevLoginBody,
        facetra_api::IdTokenBody,
        facetra_api::SignedIn,
        facetra_api::NewToken,
        facetra_api::Token,
        facetra_api::CreatedToken,
        facetra_api::Tokens,
        facetra_api::GrantBody,
        facetra_api::RolesBody,
        facetra_api::Signup,
        facetra_api::SignupBody,
        facetra_api::SignupCreated,
        facetra_api::Pack,
        facetra_api::Packs,
        facetra_api::Balance,
        facetra_api::Transaction,
        facetra_api::PackChoice,
        facetra_api::Order,
        facetra_api::VerifyBody,
        facetra_api::Checkout,
        facetra_api::PaymentLink,
        facetra_api::Upload,
        facetra_api::RenderRequest,
        facetra_api::Quote,
        facetra_api::JobAccepted,
        facetra_api::Job,
        facetra_api::Variant,
        facetra_api::Render,
        facetra_api::Provenance,
        facetra_api::Download,
        facetra_api::Bom,
        facetra_api::BomItem,
        facetra_api::BomEdit,
        facetra_api::Portfolio,
        facetra_api::PortfolioRenders,
        facetra_api::PrivacyRequestBody,
        facetra_api::PrivacyRequest,
        facetra_api::StaffPrivacyRequest,
        facetra_api::PrivacyExport,
        facetra_api::NomineeBody,
        facetra_api::Nominee,
        facetra_api::NewMessage,
        facetra_api::ReplyBody,
        facetra_api::Message,
        facetra_api::MessageReply,
        facetra_api::EventBody,
    ))
)]
pub struct ApiDoc;

/// The routes a caller reaches without signing in (a test checks each against the server).
pub const PUBLIC: &[&str] = &[
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/auth/dev-login",
    "/auth/logout",
    "/auth/google/id-token",
    "/auth/google/start",
    "/auth/google/callback",
    "/v1/packs",
    "/v1/waitlist",
    "/v1/demo-bookings",
    "/webhooks/razorpay",
    "/files/{blob}",
];

/// Authentication and the error envelope, on every operation.
struct Shared;

impl utoipa::Modify for Shared {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("API token (fct_…), from POST /v1/tokens")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("session_token"))),
        );
        let envelope = RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorBody"));
        for (path, item) in doc.paths.paths.iter_mut() {
            let public = PUBLIC.contains(&path.as_str());
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ];
            for (method, op) in operations {
                let Some(op) = op else { continue };
                // Unique across the document (handlers share names like `create`), so a
                // client generator names one method per operation: `post_v1_jobs_id_cancel`.
                let words: Vec<&str> = path
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .collect();
                op.operation_id = Some(format!("{method}_{}", words.join("_")));
                if !public {
                    op.security = Some(vec![
                        SecurityRequirement::new("bearer", Vec::<String>::new()),
                        SecurityRequirement::new("session", Vec::<String>::new()),
                    ]);
                    op.responses
                        .responses
                        .entry("401".into())
                        .or_insert_with(|| {
                            RefOr::T(utoipa::openapi::Response::new(
                                "unauthenticated or invalid_token",
                            ))
                        });
                }
                for (status, answer) in op.responses.responses.iter_mut() {
                    let error = status.starts_with('4') || status.starts_with('5');
                    if let (true, RefOr::T(answer)) = (error, answer) {
                        if answer.content.is_empty() {
                            answer.content.insert(
                                "application/json".into(),
                                Content::new(Some(envelope.clone())),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// The document as committed in the repository (`docs/openapi.json`), for client generators.
pub fn document() -> String {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let mut pretty = serde_json::to_string_pretty(&doc).unwrap_or_default();
    pretty.push('\n');
    pretty
}

/// The API reference kept in the repository (`docs/API.md`), written from the document: each
/// operation with its summary, who may call it, its body and its answers.
pub fn reference() -> String {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let name = |schema: &serde_json::Value| -> String {
        if let Some(r) = schema["$ref"].as_str() {
            return format!("`{}`", r.rsplit('/').next().unwrap_or(r));
        }
        if let Some(r) = schema["items"]["$ref"].as_str() {
            return format!("list of `{}`", r.rsplit('/').next().unwrap_or(r));
        }
        match schema["type"].as_str() {
            Some(t) => format!("`{t}`"),
            None => "see the schema".into(),
        }
    };
    let mut out = String::from(
        "# Facetra HTTP API reference\n\n\
         Generated from the server's `/openapi.json` (the route annotations and the shared API \
         types in `facetra-api`); a test fails when it drifts. Regenerate with \
         `FACETRA_UPDATE_DOCS=1 cargo test -p facetra-tests --test e2e docs::`.\n\n\
         Conventions: JSON bodies; times RFC 3339 UTC; money in integer paise; lists are \
         `{\"items\", \"next_cursor\"}` with `?cursor=&limit=` (at most 100); every 4xx/5xx \
         answer is `ErrorBody` = `{\"error\": {\"code\", \"message\", \"request_id\"}}`. \
         Authentication: `Authorization: Bearer <API token>` or the `session_token` cookie \
         (cookie writes also need a matching `Origin`).\n",
    );
    let mut by_tag: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let tag = op["tags"][0].as_str().unwrap_or("other").to_owned();
                let mut entry = format!("\n### `{} {path}`\n\n", method.to_uppercase());
                if let Some(summary) = op["summary"].as_str() {
                    entry.push_str(summary);
                    entry.push_str("\n\n");
                }
                let signed_in = op["security"].as_array().is_some_and(|s| !s.is_empty());
                entry.push_str(if signed_in {
                    "- Signed in (API token or session).\n"
                } else {
                    "- Public.\n"
                });
                if let Some(body) = op["requestBody"]["content"].as_object() {
                    for (mime, content) in body {
                        entry.push_str(&format!("- Body ({mime}): {}\n", name(&content["schema"])));
                    }
                }
                if let Some(answers) = op["responses"].as_object() {
                    for (status, answer) in answers {
                        let what = answer["content"]
                            .as_object()
                            .and_then(|c| c.values().next())
                            .map(|c| name(&c["schema"]))
                            .unwrap_or_default();
                        let description = answer["description"].as_str().unwrap_or("");
                        let line = format!("- {status} {what} {description}").replace("  ", " ");
                        entry.push_str(line.trim_end());
                        entry.push('\n');
                    }
                }
                by_tag.entry(tag).or_default().push(entry);
            }
        }
    }
    for (tag, entries) in by_tag {
        out.push_str(&format!("\n## {tag}\n"));
        for e in entries {
            out.push_str(&e);
        }
    }
    out
}
