//! The registry of personal data: every kind of data the store holds about a person, named
//! once, with where it lives on each backend (table or collection, its fields, the GridFS
//! bucket or blob directory), its category, purpose, retention, the processors it is shared
//! with (privacy policy §4) and what erasure does with it. Every table and collection is
//! either here or in [`NO_PERSONAL_DATA`] with the reason, and a test fails when one is in
//! neither.
//!
//! Each backend implements, per kind, the owner-scoped operations of [`PersonalDataStore`]:
//! count, read for export (a stream, one record at a time) and erase by the kind's rule. The
//! data map, the DPO's export and erasure, and retention are loops over [`REGISTRY`]; a new
//! kind of personal data is added here and in both adapters, and every one of them covers it.

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::Serialize;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::UserId;

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Account,
    Sessions,
    ApiTokens,
    Uploads,
    Files,
    Jobs,
    Renders,
    Boms,
    Portfolios,
    Ledger,
    Payments,
    Outbox,
    SecurityEvents,
    SignInAttempts,
    Signups,
    UsageEvents,
    RequestLogs,
    PrivacyRequests,
    BreachNotices,
    Nominees,
    Messages,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 21] = [
        Kind::Account,
        Kind::Sessions,
        Kind::ApiTokens,
        Kind::Uploads,
        Kind::Files,
        Kind::Jobs,
        Kind::Renders,
        Kind::Boms,
        Kind::Portfolios,
        Kind::Ledger,
        Kind::Payments,
        Kind::Outbox,
        Kind::SecurityEvents,
        Kind::SignInAttempts,
        Kind::Signups,
        Kind::UsageEvents,
        Kind::RequestLogs,
        Kind::PrivacyRequests,
        Kind::BreachNotices,
        Kind::Nominees,
        Kind::Messages,
    ];

    /// The kind's name, as the data map and exports show it.
    pub fn as_str(self) -> &'static str {
        self.info().name
    }

    /// The kind's entry in the registry.
    pub fn info(self) -> &'static KindInfo {
        REGISTRY
            .iter()
            .find(|k| k.kind == self)
            .unwrap_or(&REGISTRY[0])
    }

    /// Parses a kind's name.
    pub fn parse(name: &str) -> Option<Kind> {
        REGISTRY.iter().find(|k| k.name == name).map(|k| k.kind)
    }
}

/// What sort of personal data it is (privacy policy §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Name, email, profile photo, Google subject.
    Account,
    /// Session and API-token records (hashes only).
    Authentication,
    /// Sketches, references, prompts, renders, BOMs, portfolios.
    UserContent,
    /// Credit transactions and payment records.
    Financial,
    /// Emails we send.
    Communications,
    /// IP addresses, security and log records.
    DeviceAndLogs,
}

impl Category {
    /// How the data map names it.
    pub fn describe(self) -> &'static str {
        match self {
            Category::Account => "account",
            Category::Authentication => "authentication",
            Category::UserContent => "user content",
            Category::Financial => "financial",
            Category::Communications => "communications",
            Category::DeviceAndLogs => "device and log data",
        }
    }
}

/// Who it is shared with (privacy policy §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Processor {
    /// Google sign-in: the source of the account's email, name and photo.
    Google,
    /// Google Gemini, directly or through Emergent's integration layer: prompts and images.
    GeminiEmergent,
    /// Razorpay: the payment itself (billing details stay with Razorpay).
    Razorpay,
    /// Resend: name and email of the recipient, and the message.
    Resend,
    /// MongoDB Atlas: all stored data, when the deployment runs on MongoDB.
    MongoDbAtlas,
    /// Emergent's Kubernetes infrastructure: app runtime and logs.
    Hosting,
}

impl Processor {
    /// How the data map names it.
    pub fn describe(self) -> &'static str {
        match self {
            Processor::Google => "Google (sign-in)",
            Processor::GeminiEmergent => "Google Gemini / Emergent (AI generation)",
            Processor::Razorpay => "Razorpay (payments)",
            Processor::Resend => "Resend (email)",
            Processor::MongoDbAtlas => "MongoDB Atlas (database hosting)",
            Processor::Hosting => "Emergent (app hosting)",
        }
    }
}

impl Processor {
    /// What remains to be done at the processor once a person is erased here.
    pub fn after_erasure(self) -> &'static str {
        match self {
            Processor::Google => "nothing: Google keeps the person's own Google account; the link to it is gone from Facetra",
            Processor::GeminiEmergent => "prompts and images sent for rendering fall under the provider's own retention; nothing is kept at Facetra's request",
            Processor::Razorpay => "nothing: the payment stays with Razorpay as tax law requires, and Facetra's record of it is under a pseudonym",
            Processor::Resend => "delivered emails stay in Resend's logs for its retention period; delete them in the Resend dashboard if the person asks",
            Processor::MongoDbAtlas => "erased from the live database by this run; backups age out by their schedule: run `dsr replay` after any restore",
            Processor::Hosting => "the host's own request logs age out with its log retention (90 days)",
        }
    }
}

/// How long it is kept (privacy policy §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retention {
    /// While the account is active.
    WhileActive,
    /// Until the person deletes it or closes the account.
    UntilDeleted,
    /// Until the session ends (absolute or idle limit), then purged.
    SessionLifetime,
    /// Until the token expires or is revoked.
    UntilExpiredOrRevoked,
    /// Seven years from the end of the Indian financial year (31 March) it was made in.
    SevenYears,
    /// Purchases and payment refunds seven years; other entries while the account is active.
    LedgerEntries,
    /// The message bodies until delivered; the record (recipient, template, time) while active.
    UntilDelivered,
    /// 90 days, then anonymised.
    NinetyDaysThenAnonymised,
    /// Until used, and at most 10 minutes.
    TenMinutes,
    /// With the account once there is one; an entry that never became an account, 12 months.
    SignupEntries,
    /// While the account is active; after an erasure, the request itself, as the record that
    /// it was answered, with the email only as a keyed hash.
    RequestRecords,
}

impl Retention {
    /// How the data map says it.
    pub fn describe(self) -> &'static str {
        match self {
            Retention::WhileActive => "while the account is active",
            Retention::UntilDeleted => "until the person deletes it or closes the account",
            Retention::SessionLifetime => {
                "until the session ends (12 h absolute, 2 h idle by default), then purged"
            }
            Retention::UntilExpiredOrRevoked => "until it expires (at most 90 days) or is revoked",
            Retention::SevenYears => {
                "7 years from the end of the financial year (31 March) it was made in (Indian tax law)"
            }
            Retention::LedgerEntries => {
                "purchases and payment refunds 7 years (as payment records); other entries while the account is active"
            }
            Retention::UntilDelivered => {
                "bodies until delivered; who, which template and when while the account is active"
            }
            Retention::NinetyDaysThenAnonymised => "90 days, then anonymised",
            Retention::TenMinutes => "until the sign-in finishes, at most 10 minutes",
            Retention::SignupEntries => {
                "while the account made from it is active; an entry that never became an account, 12 months from when it was sent"
            }
            Retention::RequestRecords => {
                "while the account is active; after an erasure the request stays, as the record that it was answered, with the email only as a keyed hash"
            }
        }
    }
}

/// What erasing the person does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureRule {
    /// The records (and their bytes) are deleted.
    Delete,
    /// The records stay with everything that points at the person removed.
    Anonymise,
    /// The records stay, re-keyed to a pseudonym with no way back, until their retention ends.
    Pseudonymise,
}

/// Where a kind lives on one backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "name")]
pub enum Place {
    /// A SQLite table.
    Table(&'static str),
    /// A MongoDB collection.
    Collection(&'static str),
    /// One document of a MongoDB collection: (collection, `_id`).
    Document(&'static str, &'static str),
    /// A GridFS bucket (its `.files` and `.chunks` collections).
    Bucket(&'static str),
    /// Files in a directory under the data directory.
    Directory(&'static str),
}

impl Place {
    /// The table or collections it occupies (what a listing of the store shows).
    pub fn containers(self) -> Vec<String> {
        match self {
            Place::Table(t) | Place::Collection(t) | Place::Document(t, _) => vec![t.to_owned()],
            Place::Bucket(b) => vec![format!("{b}.files"), format!("{b}.chunks")],
            Place::Directory(_) => vec![],
        }
    }

    /// How the data map writes it.
    pub fn describe(self) -> String {
        match self {
            Place::Table(t) => format!("table {t}"),
            Place::Collection(c) => format!("collection {c}"),
            Place::Document(c, id) => format!("collection {c}, document {id:?}"),
            Place::Bucket(b) => format!("GridFS bucket {b}"),
            Place::Directory(d) => format!("files under <data dir>/{d}/"),
        }
    }
}

/// One place a kind lives, the field that names the person, and every field stored there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    pub place: Place,
    /// The field holding the person's user id; `None` for records made before anyone is known
    /// (a pre-sign-in session): nothing there is anyone's to export or erase, and retention
    /// purges it.
    pub person: Option<&'static str>,
    /// Every field (column, or top-level document key) stored there.
    pub fields: &'static [&'static str],
}

/// One kind of personal data: what it is and where it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KindInfo {
    pub kind: Kind,
    pub name: &'static str,
    /// What it holds, in a person's words.
    pub holds: &'static str,
    pub category: Category,
    pub purpose: &'static str,
    pub retention: Retention,
    pub processors: &'static [Processor],
    pub erasure: ErasureRule,
    /// What erasure does, in a person's words.
    pub on_erasure: &'static str,
    pub sqlite: &'static [Location],
    pub mongo: &'static [Location],
}

/// A place declared to hold no personal data, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Undeclared {
    pub place: Place,
    pub reason: &'static str,
}

use Place::{Bucket, Collection, Directory, Document, Table};
use Processor::{GeminiEmergent, Google, Hosting, MongoDbAtlas, Razorpay, Resend};

/// Every kind of personal data, in the order the data map lists them.
pub static REGISTRY: &[KindInfo] = &[
    KindInfo {
        kind: Kind::Account,
        name: "account",
        holds: "name, email, profile photo URL, Google subject, roles, consents, the 18+ confirmation",
        category: Category::Account,
        purpose: "to sign the person in and run their account",
        retention: Retention::WhileActive,
        processors: &[Google, Resend, MongoDbAtlas, Hosting],
        erasure: ErasureRule::Anonymise,
        on_erasure: "the record stays as a tombstone marked erased, without email, name, photo, Google subject, roles or consents; the local studio's owner record is deleted",
        sqlite: &[
            Location {
                place: Table("users"),
                person: Some("id"),
                fields: &[
                    "id",
                    "email",
                    "name",
                    "avatar_url",
                    "google_subject",
                    "roles",
                    "status",
                    "consents",
                    "age_confirmed_at",
                    "created_at",
                    "updated_at",
                ],
            },
            Location {
                place: Table("instance"),
                person: Some("owner_id"),
                fields: &["id", "owner_id", "created_at"],
            },
        ],
        mongo: &[
            Location {
                place: Collection("users"),
                person: Some("_id"),
                fields: &[
                    "_id",
                    "email",
                    "name",
                    "avatar_url",
                    "google_subject",
                    "roles",
                    "status",
                    "consents",
                    "age_confirmed_at",
                    "created_at",
                    "updated_at",
                ],
            },
            Location {
                place: Document("meta", "instance"),
                person: Some("owner_id"),
                fields: &["_id", "owner_id", "created_at"],
            },
        ],
    },
    KindInfo {
        kind: Kind::Sessions,
        name: "sessions",
        holds: "signed-in sessions: the SHA-256 of the session token, when it began, was last used and ends",
        category: Category::Authentication,
        purpose: "to keep the person signed in, briefly",
        retention: Retention::SessionLifetime,
        processors: &[MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted: every session ends at once",
        sqlite: &[Location {
            place: Table("sessions"),
            person: Some("user_id"),
            fields: &["id", "user_id", "token_hash", "created_at", "expires_at", "last_seen_at"],
        }],
        mongo: &[Location {
            place: Collection("sessions"),
            person: Some("user_id"),
            fields: &["_id", "user_id", "token_hash", "created_at", "expires_at", "last_seen_at"],
        }],
    },
    KindInfo {
        kind: Kind::ApiTokens,
        name: "api_tokens",
        holds: "named API tokens for the command line: the SHA-256 of each, its name, scopes, expiry and last use",
        category: Category::Authentication,
        purpose: "to let the person's own command line act for them",
        retention: Retention::UntilExpiredOrRevoked,
        processors: &[MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted: every token stops working at once",
        sqlite: &[Location {
            place: Table("api_tokens"),
            person: Some("user_id"),
            fields: &["id", "user_id", "name", "token_hash", "created_at", "expires_at", "last_used_at", "scopes"],
        }],
        mongo: &[Location {
            place: Collection("api_tokens"),
            person: Some("user_id"),
            fields: &["_id", "user_id", "name", "token_hash", "created_at", "expires_at", "last_used_at", "scopes"],
        }],
    },
    KindInfo {
        kind: Kind::Uploads,
        name: "uploads",
        holds: "the sketches and reference images the person uploaded (their records; the bytes are files)",
        category: Category::UserContent,
        purpose: "to render what the person asks for",
        retention: Retention::WhileActive,
        processors: &[GeminiEmergent, MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted",
        sqlite: &[Location {
            place: Table("uploads"),
            person: Some("user_id"),
            fields: &["id", "user_id", "kind", "mime", "width", "height", "size", "sha256", "blob_id", "created_at"],
        }],
        mongo: &[Location {
            place: Collection("uploads"),
            person: Some("user_id"),
            fields: &["_id", "user_id", "kind", "mime", "width", "height", "size", "sha256", "blob_id", "created_at"],
        }],
    },
    KindInfo {
        kind: Kind::Files,
        name: "files",
        holds: "the bytes of the person's uploads and renders (metadata stripped at upload)",
        category: Category::UserContent,
        purpose: "to keep the person's images and send their inputs to the AI provider",
        retention: Retention::UntilDeleted,
        processors: &[GeminiEmergent, MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted: files are overwritten with zeros before they are unlinked; GridFS chunks are removed; signed links answer 404",
        sqlite: &[
            Location {
                place: Table("blobs"),
                person: Some("owner_id"),
                fields: &["id", "owner_id", "content_type", "size", "sha256", "created_at"],
            },
            Location {
                place: Directory("blobs"),
                person: Some("owner_id"),
                fields: &[],
            },
        ],
        mongo: &[Location {
            place: Bucket("blobs"),
            person: Some("metadata.owner"),
            fields: &["_id", "length", "chunkSize", "uploadDate", "filename", "metadata", "files_id", "n", "data"],
        }],
    },
    KindInfo {
        kind: Kind::Jobs,
        name: "jobs",
        holds: "render requests: the prompt, style, aspect ratio, the inputs used, credits and status",
        category: Category::UserContent,
        purpose: "to render what the person asks for and charge or refund it",
        retention: Retention::WhileActive,
        processors: &[GeminiEmergent, MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted",
        sqlite: &[Location {
            place: Table("jobs"),
            person: Some("user_id"),
            fields: &["id", "user_id", "status", "idempotency_key", "lease_holder", "lease_until", "lease_count", "created_at", "body"],
        }],
        mongo: &[Location {
            place: Collection("jobs"),
            person: Some("user_id"),
            fields: &[
                "_id", "id", "user_id", "status", "status_seq", "prompt", "style", "aspect_ratio",
                "sketch_id", "reference_ids", "variants", "credits_reserved", "credits_charged",
                "credits_refunded", "idempotency_key", "provider", "created_at", "updated_at",
                "finished_at", "created_ms", "lease_holder", "lease_until", "lease_count",
            ],
        }],
    },
    KindInfo {
        kind: Kind::Renders,
        name: "renders",
        holds: "the person's renders: provenance (prompt, model, parameters), selection (the bytes are files)",
        category: Category::UserContent,
        purpose: "to keep the person's renders, their selections and where each came from",
        retention: Retention::UntilDeleted,
        processors: &[MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted",
        sqlite: &[Location {
            place: Table("renders"),
            person: Some("user_id"),
            fields: &["id", "job_id", "user_id", "variant", "created_at", "body", "blob_id", "selected"],
        }],
        mongo: &[Location {
            place: Collection("renders"),
            person: Some("user_id"),
            fields: &[
                "_id", "id", "job_id", "user_id", "variant", "blob_id", "mime", "width", "height",
                "selected", "provenance", "created_at", "created_ms",
            ],
        }],
    },
    KindInfo {
        kind: Kind::Boms,
        name: "boms",
        holds: "bills of materials of the person's renders, every version and its edits",
        category: Category::UserContent,
        purpose: "to keep the person's bills of materials",
        retention: Retention::UntilDeleted,
        processors: &[GeminiEmergent, MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted",
        sqlite: &[Location {
            place: Table("boms"),
            person: Some("user_id"),
            fields: &["render_id", "version", "user_id", "source", "items", "updated_at"],
        }],
        mongo: &[Location {
            place: Collection("boms"),
            person: Some("user_id"),
            fields: &["_id", "render_id", "user_id", "version", "source", "items", "updated_at"],
        }],
    },
    KindInfo {
        kind: Kind::Portfolios,
        name: "portfolios",
        holds: "the person's portfolios: their names and which renders they hold",
        category: Category::UserContent,
        purpose: "to keep the person's collections of renders",
        retention: Retention::UntilDeleted,
        processors: &[MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted",
        sqlite: &[Location {
            place: Table("portfolios"),
            person: Some("user_id"),
            fields: &["id", "user_id", "name", "render_ids", "created_at", "updated_at"],
        }],
        mongo: &[Location {
            place: Collection("portfolios"),
            person: Some("user_id"),
            fields: &["_id", "user_id", "name", "render_ids", "created_at", "updated_at"],
        }],
    },
    KindInfo {
        kind: Kind::Ledger,
        name: "ledger",
        holds: "credit transactions: trial credits, purchases, charges for renders and BOMs, refunds, grants",
        category: Category::Financial,
        purpose: "to keep the person's credit balance exact",
        retention: Retention::LedgerEntries,
        processors: &[MongoDbAtlas, Hosting],
        erasure: ErasureRule::Pseudonymise,
        on_erasure: "purchases and payment refunds are kept under a pseudonym until their 7 years end; every other entry is deleted",
        sqlite: &[Location {
            place: Table("ledger"),
            person: Some("user_id"),
            fields: &["id", "user_id", "seq", "kind", "amount", "balance_after", "reason", "reference", "idempotency_key", "created_at"],
        }],
        mongo: &[Location {
            place: Collection("ledger"),
            person: Some("user_id"),
            fields: &["_id", "user_id", "seq", "kind", "amount", "balance_after", "reason", "reference", "idempotency_key", "created_at"],
        }],
    },
    KindInfo {
        kind: Kind::Payments,
        name: "payments",
        holds: "payment records: Razorpay's payment, order and link ids, amount, status, pack (no billing name, email or method)",
        category: Category::Financial,
        purpose: "to credit purchased packs and keep payment records as tax law requires",
        retention: Retention::SevenYears,
        processors: &[Razorpay, MongoDbAtlas, Hosting],
        erasure: ErasureRule::Pseudonymise,
        on_erasure: "kept under a pseudonym until their 7 years end",
        sqlite: &[Location {
            place: Table("payments"),
            person: Some("user_id"),
            fields: &[
                "id", "user_id", "pack_id", "credits", "amount_paise", "currency", "kind", "order_id",
                "link_id", "link_url", "razorpay_payment_id", "status", "status_rank",
                "credits_refunded", "created_at", "updated_at",
            ],
        }],
        mongo: &[Location {
            place: Collection("payments"),
            person: Some("user_id"),
            fields: &[
                "_id", "user_id", "pack_id", "credits", "amount_paise", "currency", "kind", "order_id",
                "link_id", "link_url", "razorpay_payment_id", "status", "status_rank",
                "credits_refunded", "created_at", "updated_at",
            ],
        }],
    },
    KindInfo {
        kind: Kind::Outbox,
        name: "outbox",
        holds: "transactional emails to the person: address, subject and body until delivered, then who, which template and when",
        category: Category::Communications,
        purpose: "to send welcome, receipt and notice emails exactly once",
        retention: Retention::UntilDelivered,
        processors: &[Resend, MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted, with the file mailer's copies",
        sqlite: &[
            Location {
                place: Table("outbox"),
                person: Some("user_id"),
                fields: &[
                    "id", "user_id", "to_email", "template", "subject", "text_body", "html_body",
                    "idempotency_key", "status", "attempts", "next_attempt_at", "last_error",
                    "provider_message_id", "lease_holder", "lease_until", "lease_count",
                    "created_at", "sent_at",
                ],
            },
            Location {
                place: Directory("outbox"),
                person: Some("user_id"),
                fields: &[],
            },
        ],
        mongo: &[
            Location {
                place: Collection("outbox"),
                person: Some("user_id"),
                fields: &[
                    "_id", "user_id", "to", "template", "subject", "text", "html",
                    "idempotency_key", "status", "attempts", "next_attempt_at", "last_error",
                    "provider_message_id", "lease_holder", "lease_until", "lease_count",
                    "created_at", "sent_at",
                ],
            },
            Location {
                place: Directory("outbox"),
                person: Some("user_id"),
                fields: &[],
            },
        ],
    },
    KindInfo {
        kind: Kind::SecurityEvents,
        name: "security_events",
        holds: "security events about the person: sign-in and access refusals, bad signatures, with the IP where there was a request",
        category: Category::DeviceAndLogs,
        purpose: "to protect the service and the person against abuse",
        retention: Retention::NinetyDaysThenAnonymised,
        processors: &[MongoDbAtlas, Hosting],
        erasure: ErasureRule::Anonymise,
        on_erasure: "the events stay without the user id and the IP",
        sqlite: &[Location {
            place: Table("security_events"),
            person: Some("user_id"),
            fields: &["id", "at", "kind", "user_id", "ip", "details", "count"],
        }],
        mongo: &[Location {
            place: Collection("security_events"),
            person: Some("user_id"),
            fields: &["_id", "at", "kind", "user_id", "ip", "details", "count"],
        }],
    },
    KindInfo {
        kind: Kind::Signups,
        name: "signups",
        holds: "waitlist entries and demo bookings: name, email, company, role, message, and whether and when staff approved them",
        category: Category::Account,
        purpose: "to answer a request to join or for a demo, and to invite the person",
        retention: Retention::SignupEntries,
        processors: &[Resend, MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted",
        sqlite: &[Location {
            place: Table("signups"),
            person: Some("user_id"),
            fields: &["id", "kind", "name", "email", "company", "role", "message", "status", "user_id", "created_at", "decided_at"],
        }],
        mongo: &[Location {
            place: Collection("signups"),
            person: Some("user_id"),
            fields: &["_id", "kind", "name", "email", "company", "role", "message", "status", "user_id", "created_at", "decided_at"],
        }],
    },
    KindInfo {
        kind: Kind::UsageEvents,
        name: "usage_events",
        holds: "usage analytics, only with analytics consent: which features the person used, how many renders, credit purchases, and when; never a prompt, an image or a render id",
        category: Category::DeviceAndLogs,
        purpose: "to understand which features are used and improve them",
        retention: Retention::NinetyDaysThenAnonymised,
        processors: &[MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted",
        sqlite: &[Location {
            place: Table("usage_events"),
            person: Some("user_id"),
            fields: &["id", "user_id", "type", "feature", "count", "at"],
        }],
        mongo: &[Location {
            place: Collection("usage_events"),
            person: Some("user_id"),
            fields: &["_id", "user_id", "type", "feature", "count", "at"],
        }],
    },
    KindInfo {
        kind: Kind::RequestLogs,
        name: "request_logs",
        holds: "a log line per request: IP address, user agent, the referring site, the route (never a query string or an id), status, time taken, and the signed-in user",
        category: Category::DeviceAndLogs,
        purpose: "to run, secure and debug the service",
        retention: Retention::NinetyDaysThenAnonymised,
        processors: &[MongoDbAtlas, Hosting],
        erasure: ErasureRule::Anonymise,
        on_erasure: "the lines stay without the user id, the IP address and the user agent",
        sqlite: &[Location {
            place: Table("request_logs"),
            person: Some("user_id"),
            fields: &["seq", "at", "ip", "user_agent", "referrer", "route", "method", "status", "latency_ms", "user_id"],
        }],
        mongo: &[Location {
            place: Collection("request_logs"),
            person: Some("user_id"),
            fields: &["_id", "at", "ip", "user_agent", "referrer", "route", "method", "status", "latency_ms", "user_id"],
        }],
    },
    KindInfo {
        kind: Kind::PrivacyRequests,
        name: "privacy_requests",
        holds: "the person's privacy requests (access, correction, erasure, consent withdrawal, grievance): their words, the email to answer, how they were verified, due dates and what was done",
        category: Category::Communications,
        purpose: "to answer the person's rights under the DPDP Act and show that they were answered",
        retention: Retention::RequestRecords,
        processors: &[Resend, MongoDbAtlas, Hosting],
        erasure: ErasureRule::Anonymise,
        on_erasure: "the request stays as the record that it was answered, without the person's words and with the email only as a keyed hash",
        sqlite: &[Location {
            place: Table("privacy_requests"),
            person: Some("user_id"),
            fields: &["id", "type", "status", "user_id", "email", "email_hash", "received_at", "due_at", "version", "body"],
        }],
        mongo: &[Location {
            place: Collection("privacy_requests"),
            person: Some("user_id"),
            fields: &["_id", "type", "status", "user_id", "email", "email_hash", "received_at", "due_at", "version", "body"],
        }],
    },
    KindInfo {
        kind: Kind::BreachNotices,
        name: "breach_notices",
        holds: "which security incidents the person was told of, and when (the email itself is in the outbox)",
        category: Category::Communications,
        purpose: "to tell the person of a breach affecting their data, once, and show that they were told",
        retention: Retention::WhileActive,
        processors: &[Resend, MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted (the breach's own record keeps only how many were told)",
        sqlite: &[Location {
            place: Table("breach_notices"),
            person: Some("user_id"),
            fields: &["breach_id", "user_id", "message_id", "notified_at"],
        }],
        mongo: &[Location {
            place: Collection("breach_notices"),
            person: Some("user_id"),
            fields: &["_id", "breach_id", "user_id", "message_id", "notified_at"],
        }],
    },
    KindInfo {
        kind: Kind::Nominees,
        name: "nominees",
        holds: "the person the user named to exercise their rights on death or incapacity (DPDP Act s.14): their name and email",
        category: Category::Account,
        purpose: "to let the named person act for the user when the user cannot",
        retention: Retention::WhileActive,
        processors: &[MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted",
        sqlite: &[Location {
            place: Table("nominees"),
            person: Some("user_id"),
            fields: &["user_id", "name", "email", "created_at"],
        }],
        mongo: &[Location {
            place: Collection("nominees"),
            person: Some("user_id"),
            fields: &["_id", "user_id", "name", "email", "created_at"],
        }],
    },
    KindInfo {
        kind: Kind::Messages,
        name: "messages",
        holds: "the person's in-app messages to Facetra (support, feedback, grievances) and the staff's answers",
        category: Category::Communications,
        purpose: "to answer the person's questions, feedback and grievances",
        retention: Retention::WhileActive,
        processors: &[MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "deleted, the staff's answers with them",
        sqlite: &[Location {
            place: Table("messages"),
            person: Some("user_id"),
            fields: &["id", "user_id", "kind", "status", "created_at", "updated_at", "body"],
        }],
        mongo: &[Location {
            place: Collection("messages"),
            person: Some("user_id"),
            fields: &["_id", "user_id", "kind", "status", "created_at", "updated_at", "body"],
        }],
    },
    KindInfo {
        kind: Kind::SignInAttempts,
        name: "sign_in_attempts",
        holds: "a browser's Google sign-in in progress (the pre-sign-in session): the SHA-256 of its cookie, the page to return to and the 18+ answer; no identity, since nobody is known yet",
        category: Category::Authentication,
        purpose: "to finish a Google sign-in safely: its state, nonce and PKCE verifier are derived from the cookie, never stored",
        retention: Retention::TenMinutes,
        processors: &[MongoDbAtlas, Hosting],
        erasure: ErasureRule::Delete,
        on_erasure: "nothing to erase: no attempt names a person, and each is deleted when used or after 10 minutes",
        sqlite: &[Location {
            place: Table("sign_in_attempts"),
            person: None,
            fields: &["id", "token_hash", "return_to", "age_confirmed", "created_at", "expires_at"],
        }],
        mongo: &[Location {
            place: Collection("sign_in_attempts"),
            person: None,
            fields: &["_id", "token_hash", "return_to", "age_confirmed", "created_at", "expires_at"],
        }],
    },
];

/// Every other place in the store, and why it holds no personal data.
pub static NO_PERSONAL_DATA: &[Undeclared] = &[
    Undeclared {
        place: Table("audit_log"),
        reason: "staff actions by id, field names, counts and keyed hashes, never a personal value; append-only, so erasure never touches it",
    },
    Undeclared {
        place: Table("audit_head"),
        reason: "the last sequence number and hash of the audit chain",
    },
    Undeclared {
        place: Table("breaches"),
        reason: "what happened in a breach, when it was detected, its deadlines and when the Board and CERT-In were told, and how many people were; who was told is in breach_notices",
    },
    Undeclared {
        place: Table("schedules"),
        reason: "when each scheduled task (retention) runs next, and which server holds it",
    },
    Undeclared {
        place: Table("webhook_events"),
        reason: "Razorpay event ids and when they arrived, kept to ignore repeats",
    },
    Undeclared {
        place: Collection("audit_log"),
        reason: "staff actions by id, field names, counts and keyed hashes, never a personal value; append-only, so erasure never touches it",
    },
    Undeclared {
        place: Document("meta", "schema"),
        reason: "the schema version",
    },
    Undeclared {
        place: Document("meta", "audit_head"),
        reason: "the last sequence number and hash of the audit chain",
    },
    Undeclared {
        place: Directory("erasures"),
        reason: "the list of erased identities as keyed hashes (of the user id, the email and the Google subject), kept outside the database so that `dsr replay` can erase them again after a backup is restored",
    },
    Undeclared {
        place: Collection("breaches"),
        reason: "what happened in a breach, when it was detected, its deadlines and when the Board and CERT-In were told, and how many people were; who was told is in breach_notices",
    },
    Undeclared {
        place: Collection("schedules"),
        reason: "when each scheduled task (retention) runs next, and which server holds it",
    },
    Undeclared {
        place: Collection("webhook_events"),
        reason: "Razorpay event ids and when they arrived, kept to ignore repeats",
    },
];

impl KindInfo {
    /// Where it lives on `backend`.
    pub fn locations(&self, backend: StoreKind) -> &'static [Location] {
        match backend {
            StoreKind::Sqlite => self.sqlite,
            StoreKind::Mongo => self.mongo,
        }
    }
}

/// Every kind in the order erasure takes them: the account last, since its record is what
/// makes the rest the person's (an interrupted erasure can still find them).
pub fn erasure_order() -> impl Iterator<Item = &'static KindInfo> {
    REGISTRY
        .iter()
        .filter(|k| k.kind != Kind::Account)
        .chain(REGISTRY.iter().filter(|k| k.kind == Kind::Account))
}

/// Which backend a listing is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    Sqlite,
    Mongo,
}

/// Every table or collection the registry and the declarations name on `backend`.
pub fn known_containers(backend: StoreKind) -> Vec<String> {
    let registered = REGISTRY
        .iter()
        .flat_map(|k| k.locations(backend).iter().map(|l| l.place));
    let declared = NO_PERSONAL_DATA.iter().map(|u| u.place).filter(|p| {
        matches!(
            (backend, p),
            (StoreKind::Sqlite, Place::Table(_))
                | (StoreKind::Mongo, Place::Collection(_) | Place::Document(..))
        )
    });
    let mut all: Vec<String> = registered
        .chain(declared)
        .flat_map(Place::containers)
        .collect();
    all.sort();
    all.dedup();
    all
}

/// The record of processing activities: every kind, and every place declared to hold none.
#[derive(Debug, Clone, Serialize)]
pub struct DataMap {
    pub kinds: &'static [KindInfo],
    pub no_personal_data: &'static [Undeclared],
}

/// One stored record, as an export shows it: where it came from and its fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// The table or collection.
    pub from: &'static str,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A kind's records, one at a time.
pub type Records = BoxStream<'static, Result<Record>>;

/// A pseudonym that erasure re-keys kept records to: random, so there is no way back to the
/// person. The erasure keeps it for its own resumption; nothing else does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pseudonym(String);

impl Pseudonym {
    /// The prefix every pseudonym carries; ledgers under it are not the person's any more.
    pub const PREFIX: &'static str = "psn";

    /// A new, random pseudonym.
    pub fn new() -> Pseudonym {
        Pseudonym(crate::ids::random(Self::PREFIX))
    }

    /// A pseudonym read back from an erasure's own record.
    pub fn from_stored(s: String) -> Pseudonym {
        Pseudonym(s)
    }

    /// The pseudonym itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a stored owner id is a pseudonym (not a person).
    pub fn is_pseudonym(id: &str) -> bool {
        id.starts_with("psn_")
    }
}

impl Default for Pseudonym {
    fn default() -> Self {
        Self::new()
    }
}

/// What erasing one kind did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    pub removed: u64,
    pub anonymised: u64,
    /// Kept under the pseudonym until their retention ends.
    pub kept: u64,
}

impl Erased {
    /// What erasing `n` records of `kind` does when all of them go the one way its rule says
    /// (every kind but the account and the ledger, whose records are split).
    pub fn by_rule(kind: Kind, n: u64) -> Erased {
        match kind.info().erasure {
            ErasureRule::Delete => Erased {
                removed: n,
                ..Erased::default()
            },
            ErasureRule::Anonymise => Erased {
                anonymised: n,
                ..Erased::default()
            },
            ErasureRule::Pseudonymise => Erased {
                kept: n,
                ..Erased::default()
            },
        }
    }
}

/// The owner-scoped operations every backend implements for every kind.
#[async_trait]
pub trait PersonalDataStore: Send + Sync {
    /// Every table (SQLite) or collection (MongoDB) the store holds, to check against the
    /// registry.
    async fn containers(&self) -> Result<Vec<String>>;
    /// How many records of `kind` belong to `person`.
    async fn count(&self, kind: Kind, person: &UserId) -> Result<u64>;
    /// The person's records of `kind`, streamed: memory stays flat however many there are.
    fn export(&self, kind: Kind, person: &UserId) -> Records;
    /// Erases the person's records of `kind` by its rule, then makes sure the removed bytes
    /// are gone from the files too (SQLite checkpoints and truncates its WAL).
    async fn erase(
        &self,
        kind: Kind,
        person: &UserId,
        pseudonym: &Pseudonym,
        at: Timestamp,
    ) -> Result<Erased>;
    /// What `erase` would do to the person's records of `kind`, changing nothing: the dry
    /// run's report, whose counts the real run's equal.
    async fn plan_erase(&self, kind: Kind, person: &UserId) -> Result<Erased>;
    /// Strips the IP address (and, on lines that name nobody, the user agent) from records of
    /// others that carry an IP seen on the person's own records: the person's IPs are theirs
    /// whoever's line holds them. Per kind, how many records that touched (or would, with
    /// `dry_run`: then nothing changes). Run before the person's own records go, since they
    /// are where the IPs are found.
    async fn anonymise_shared_ips(
        &self,
        person: &UserId,
        dry_run: bool,
    ) -> Result<Vec<(Kind, u64)>>;
    /// Makes sure bytes removed or overwritten so far are gone from the files too (SQLite
    /// checkpoints and truncates its WAL, which still holds the pages as they were).
    async fn settle(&self) -> Result<()>;
    /// What retention does to records of `kind` past `cutoff`, by the kind's rule: logs kept
    /// 90 days lose what points at a person (user id, IP, user agent) when made before it;
    /// sessions, API tokens and sign-in attempts are deleted when they ended before it;
    /// payment records and the pseudonymous ledger entries kept with them are deleted when
    /// made before it; sign-ups that never became an account likewise; delivered mail loses
    /// its bodies. How many records that touched (or would, with `dry_run`: then nothing
    /// changes). Kinds kept while the account is active: 0.
    async fn expire(&self, kind: Kind, cutoff: Timestamp, dry_run: bool) -> Result<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_registered_once_and_everywhere() {
        for kind in Kind::ALL {
            assert_eq!(
                REGISTRY.iter().filter(|k| k.kind == kind).count(),
                1,
                "{kind:?}"
            );
        }
        assert_eq!(REGISTRY.len(), Kind::ALL.len());
        for info in REGISTRY {
            assert_eq!(info.kind.info().name, info.name);
            assert_eq!(Kind::parse(info.name), Some(info.kind));
            assert!(
                !info.sqlite.is_empty() && !info.mongo.is_empty(),
                "{}",
                info.name
            );
            assert!(!info.processors.is_empty(), "{}", info.name);
        }
        let mut names: Vec<&str> = REGISTRY.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len());
        assert_eq!(erasure_order().last().map(|k| k.kind), Some(Kind::Account));
        assert_eq!(erasure_order().count(), REGISTRY.len());
    }
}
