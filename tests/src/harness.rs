//! One fresh store per test, on either backend, with a manual clock; and raw access to what
//! it stored, for scans ("is this value anywhere?") and for tampering ("change entry 3").

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::TimeZone;
use facetra_core::config::{keys, Config, Sources};
use facetra_core::{Facetra, ManualClock, OpenMode};
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};

/// The environment variable naming the MongoDB-wire server for tests.
pub const MONGO_ENV: &str = "FACETRA_TEST_MONGODB_URI";

/// A fixed root secret for tests (never a real one).
pub const TEST_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

/// Which storage backend a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mongo,
}

impl Backend {
    /// The name used in test paths.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Mongo => "mongo",
        }
    }
}

/// The MongoDB URI for tests; fails loudly when it is not set.
pub fn mongo_uri() -> String {
    match std::env::var(MONGO_ENV) {
        Ok(uri) if !uri.is_empty() => uri,
        _ => panic!(
            "{MONGO_ENV} is not set: MongoDB scenarios need a MongoDB-wire server. \
             Run scripts/test, which starts one (SecantusDB) and sets it."
        ),
    }
}

/// A fresh store on one backend.
pub struct Harness {
    pub backend: Backend,
    pub facetra: Facetra,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
    /// The MongoDB database name (Mongo only).
    pub mongo_db: Option<String>,
    /// The Razorpay stub the store points at, when it was made with one.
    pub razorpay: Option<crate::razorpay_stub::RazorpayStub>,
}

/// The instant every harness clock starts at: in the future, so a server's own TTL monitor
/// (which uses the wall clock) never removes what a test's manual clock still considers live.
pub fn epoch() -> facetra_core::Timestamp {
    chrono::Utc
        .with_ymd_and_hms(2036, 1, 5, 9, 0, 0)
        .single()
        .expect("valid date")
}

impl Harness {
    /// A fresh store with default settings.
    pub async fn new(backend: Backend) -> Harness {
        Harness::with(backend, &[]).await
    }

    /// A fresh store with extra settings (environment-variable names and values).
    pub async fn with(backend: Backend, extra: &[(&str, &str)]) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let (config, mongo_db) = config_for(backend, dir.path(), extra);
        let clock = ManualClock::new(epoch());
        let facetra = Facetra::open(config, Arc::new(clock.clone()), OpenMode::CreateIfMissing)
            .await
            .expect("open the test store");
        Harness {
            backend,
            facetra,
            clock,
            dir,
            mongo_db,
            razorpay: None,
        }
    }

    /// A fresh store pointed at a stub (its settings) plus extra settings.
    pub async fn with_stub(
        backend: Backend,
        stub: Vec<(&'static str, String)>,
        extra: &[(&str, &str)],
    ) -> Harness {
        let mut all: Vec<(&str, &str)> = stub.iter().map(|(k, v)| (*k, v.as_str())).collect();
        all.extend_from_slice(extra);
        Harness::with(backend, &all).await
    }

    /// A fresh store pointed at its own Razorpay stub (kept in `razorpay`) plus extra settings.
    pub async fn with_razorpay(backend: Backend, extra: &[(&str, &str)]) -> Harness {
        let stub = crate::razorpay_stub::RazorpayStub::start().await;
        let mut h = Harness::with_stub(backend, stub.settings(), extra).await;
        h.razorpay = Some(stub);
        h
    }

    /// The first page of security events of `kind`, newest first.
    pub async fn security_events(
        &self,
        kind: &str,
    ) -> Vec<facetra_core::security::events::SecurityEvent> {
        self.facetra
            .store()
            .security
            .security_events(Some(kind), &facetra_core::paging::PageRequest::first())
            .await
            .expect("security events")
            .items
    }

    /// Signs a person in by dev login (the harness must enable it) and returns them as an actor.
    pub async fn person(&self, email: &str) -> facetra_core::Actor {
        let req = facetra_core::accounts::DevLogin {
            email: email.into(),
            name: "Person".into(),
            age_confirmed: true,
        };
        let (user, _, _) = self
            .facetra
            .accounts()
            .dev_login(req, None)
            .await
            .expect("dev login");
        facetra_core::Actor::User(user.id)
    }

    /// A staff member holding `roles` (an account made for the test the first time), as an
    /// actor.
    pub async fn staff(
        &self,
        email: &str,
        roles: &[facetra_core::accounts::Role],
    ) -> facetra_core::Actor {
        use facetra_core::accounts::{Consents, Email, User, UserStatus};
        let parsed = Email::parse(email).expect("email");
        let known = self.facetra.store().accounts.user_by_email(&parsed).await;
        if known.expect("look up staff").is_some() {
            return self.facetra.accounts().staff(email).await.expect("staff");
        }
        let now = self.facetra.now();
        let user = User {
            id: facetra_core::ids::UserId::new(now),
            email: Email::parse(email).expect("email"),
            name: "Staff Member".into(),
            avatar_url: None,
            google_subject: None,
            roles: facetra_core::accounts::normalise_roles(roles.iter().copied()),
            status: UserStatus::Active,
            consents: Consents::default(),
            age_confirmed_at: now,
            created_at: now,
            updated_at: now,
        };
        self.facetra
            .store()
            .accounts
            .insert_user(&user)
            .await
            .expect("insert staff");
        self.facetra
            .accounts()
            .staff(email)
            .await
            .expect("a staff actor")
    }

    /// An admin, as an actor.
    pub async fn admin(&self) -> facetra_core::Actor {
        self.staff(
            "admin@facetra.test",
            &[
                facetra_core::accounts::Role::Admin,
                facetra_core::accounts::Role::Dpo,
                facetra_core::accounts::Role::Support,
            ],
        )
        .await
    }

    /// Another facade on the same store (same data directory or MongoDB database), opened
    /// with `extra` settings: what a restart with a changed configuration would see.
    pub async fn reopened(&self, extra: &[(&str, &str)]) -> Facetra {
        let mut all: Vec<(&str, &str)> = extra.to_vec();
        let db_url;
        if let Some(name) = &self.mongo_db {
            db_url = mongo_uri();
            all.push((keys::DATABASE_URL, &db_url));
            all.push((keys::MONGODB_DATABASE, name));
        }
        let (config, _) = config_for(self.backend, self.dir.path(), &all);
        Facetra::open(
            config,
            Arc::new(self.clock.clone()),
            OpenMode::CreateIfMissing,
        )
        .await
        .expect("reopen the test store")
    }

    /// Drops the MongoDB database and closes the store.
    pub async fn finish(self) {
        if let Some(name) = &self.mongo_db {
            if let Ok(client) = mongodb::Client::with_uri_str(mongo_uri()).await {
                let _ = client.database(name).drop().await;
                client.shutdown().await;
            }
        }
        self.facetra.close().await;
    }

    /// Everything stored, as text and bytes: every file under the data directory (the SQLite
    /// file, its WAL, the blob files, the file mailer's copies) and, on MongoDB, every document
    /// of every collection as extended JSON, GridFS chunks as raw bytes.
    pub async fn stored_bytes(&self) -> Vec<u8> {
        match self.backend {
            Backend::Sqlite => {
                let mut all = Vec::new();
                for entry in walk(self.dir.path()) {
                    if let Ok(bytes) = std::fs::read(&entry) {
                        all.extend_from_slice(&bytes);
                    }
                }
                all
            }
            Backend::Mongo => {
                let (client, db) = self.raw_mongo().await;
                let mut all = Vec::new();
                for entry in walk(self.dir.path()) {
                    if let Ok(bytes) = std::fs::read(&entry) {
                        all.extend_from_slice(&bytes);
                    }
                }
                for name in db.list_collection_names().await.expect("list collections") {
                    let docs: Vec<Document> = db
                        .collection::<Document>(&name)
                        .find(doc! {})
                        .await
                        .expect("find")
                        .try_collect()
                        .await
                        .expect("collect");
                    for d in docs {
                        all.extend_from_slice(format!("{d}").as_bytes());
                        // Binary fields (GridFS chunks) as raw bytes too.
                        for (_, v) in d.iter() {
                            if let mongodb::bson::Bson::Binary(b) = v {
                                all.extend_from_slice(&b.bytes);
                            }
                        }
                    }
                }
                client.shutdown().await;
                all
            }
        }
    }

    /// A raw SQLite connection to the test database (SQLite only).
    pub fn raw_sqlite(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("facetra.db")).expect("open raw sqlite")
    }

    /// A raw driver handle on the test database (Mongo only).
    pub async fn raw_mongo(&self) -> (mongodb::Client, mongodb::Database) {
        let client = mongodb::Client::with_uri_str(mongo_uri())
            .await
            .expect("raw mongo client");
        let db = client.database(self.mongo_db.as_deref().expect("a mongo harness"));
        (client, db)
    }
}

/// The configuration for a fresh store on `backend` in `dir`.
pub fn config_for(
    backend: Backend,
    dir: &Path,
    extra: &[(&str, &str)],
) -> (Config, Option<String>) {
    let mut flags: std::collections::BTreeMap<String, String> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    flags.insert(keys::DATA_DIR.into(), dir.display().to_string());
    let mut mongo_db = None;
    if backend == Backend::Mongo {
        let name = format!(
            "t_{}",
            facetra_core::ids::random("db").trim_start_matches("db_")
        );
        flags
            .entry(keys::DATABASE_URL.into())
            .or_insert_with(mongo_uri);
        let name = flags
            .entry(keys::MONGODB_DATABASE.into())
            .or_insert(name)
            .clone();
        flags
            .entry(keys::SECRET_KEY.into())
            .or_insert_with(|| TEST_SECRET.into());
        mongo_db = Some(name);
    }
    let sources = Sources {
        flags,
        env: Default::default(),
        config_file: Some(PathBuf::new()),
    };
    (Config::load(sources).expect("test config"), mongo_db)
}

/// Every file below `dir`.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
    }
    out
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    !n.is_empty() && haystack.windows(n.len()).any(|w| w == n)
}
