//! The embedded default: SQLite (bundled) in WAL mode with foreign keys and secure delete on,
//! versioned migrations, and blobs as files under `<data dir>/blobs/`. One connection writes,
//! on the blocking pool, so writes are serialised and
//! transactions never conflict; reads go to a few read-only connections of their own, which
//! WAL lets run beside the writer and each other (a read sees every write committed before it
//! began), right on the calling thread (they take microseconds).

mod accounts;
mod audit;
mod blobs;
mod boms;
mod breaches;
mod jobs;
mod leases;
mod ledger;
mod migrations;
mod nominees;
mod onboarding;
mod outbox;
mod payments;
mod personal;
mod portfolios;
mod requests;
mod studio;
mod threads;
mod usage;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};

use super::{Backend, OpenMode};
use crate::clock::Timestamp;
use crate::config::keys;
use crate::error::{Error, Result};

/// How many read-only connections serve reads.
const READERS: usize = 4;

/// The SQLite adapter; cheap to clone.
#[derive(Clone)]
pub struct Sqlite {
    /// The one connection that writes (and reads inside its transactions).
    conn: Arc<Mutex<Connection>>,
    /// Read-only connections for reads outside a transaction.
    readers: Arc<Vec<Mutex<Connection>>>,
    next_reader: Arc<AtomicUsize>,
    path: PathBuf,
    blob_dir: PathBuf,
}

impl Sqlite {
    /// Opens (or, in `CreateIfMissing` mode, creates) the database at `path`.
    pub async fn open(path: &Path, blob_dir: &Path, mode: OpenMode) -> Result<Sqlite> {
        let path = path.to_path_buf();
        let blob_dir = blob_dir.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(path, blob_dir, mode))
            .await
            .map_err(|e| Error::Internal(format!("opening the database panicked: {e}")))?
    }

    fn open_blocking(path: PathBuf, blob_dir: PathBuf, mode: OpenMode) -> Result<Sqlite> {
        let exists = path.exists();
        if !exists && mode == OpenMode::MustExist {
            return Err(Error::Config(format!(
                "no Facetra database at {}: run `facetra init` or start facetra-server to \
                 create one, or point {} (or {}) at the right place",
                path.display(),
                keys::DATA_DIR,
                keys::DATABASE_URL
            )));
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::private_fs::private_dir(parent).map_err(|e| {
                Error::Config(format!(
                    "cannot create the data directory {}: {e}",
                    parent.display()
                ))
            })?;
        }
        crate::private_fs::private_dir(&blob_dir).map_err(|e| {
            Error::Config(format!(
                "cannot create the blob directory {}: {e}",
                blob_dir.display()
            ))
        })?;
        let corrupt = |e: rusqlite::Error| {
            Error::Corrupt(format!(
                "{} is not a usable Facetra database ({e}); restore it from a backup or set {} \
                 to another location",
                path.display(),
                keys::DATA_DIR
            ))
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(corrupt)?;
        // Private before the WAL exists: SQLite gives its journal files the database's mode.
        for file in [
            path.clone(),
            wal_path(&path, "-wal"),
            wal_path(&path, "-shm"),
        ] {
            crate::private_fs::make_private(&file)?;
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(corrupt)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA secure_delete = ON;",
        )
        .map_err(corrupt)?;
        migrations::run(&mut conn, &path)?;
        let reader_flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(&path, reader_flags).map_err(corrupt)?;
            reader
                .busy_timeout(std::time::Duration::from_secs(5))
                .map_err(corrupt)?;
            reader
                .execute_batch("PRAGMA query_only = ON;")
                .map_err(corrupt)?;
            readers.push(Mutex::new(reader));
        }
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
            readers: Arc::new(readers),
            next_reader: Arc::default(),
            path,
            blob_dir,
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn call<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| Error::Internal(format!("a database call panicked: {e}")))?
    }
}

impl Sqlite {
    /// Runs a read with one of the read-only connections: a free one if there is, else the
    /// next in turn. A read takes microseconds, so it runs right here: the hop to the blocking
    /// pool (a thread wake-up and a context switch each way) costs more than the query.
    async fn read<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&Connection) -> Result<R>,
    {
        let readers = &self.readers;
        let n = readers.len();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let free = (0..n).find_map(|i| readers[(start + i) % n].try_lock().ok());
        let guard = match free {
            Some(guard) => guard,
            None => readers[start % n].lock().unwrap_or_else(|p| p.into_inner()),
        };
        f(&guard)
    }
}

#[async_trait]
impl Backend for Sqlite {
    async fn ping(&self) -> Result<()> {
        let path = self.path.clone();
        self.call(move |c| {
            if !path.exists() {
                return Err(Error::Unavailable(format!("{} has gone", path.display())));
            }
            c.query_row("SELECT count(*) FROM instance", [], |r| r.get::<_, i64>(0))
                .map(|_| ())
                .map_err(db_err)
        })
        .await
    }

    async fn close(&self) {
        let _ = self
            .call(|c| {
                c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                    .map_err(db_err)
            })
            .await;
    }
}

/// Maps a SQLite error to the core error. Each kind of constraint says what it is: a taken
/// unique value is a `Conflict`; a broken CHECK, NOT NULL or trigger rule means Facetra wrote
/// something it should not have (a bug, `Internal`), never "already taken".
fn db_err(e: rusqlite::Error) -> Error {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        let what = msg.as_deref().unwrap_or("a constraint");
        match f.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                // The field, never the table: `users.email` is told as `email`.
                let taken = what
                    .strip_prefix("UNIQUE constraint failed: ")
                    .unwrap_or(what)
                    .split(", ")
                    .map(|c| c.rsplit_once('.').map_or(c, |(_, field)| field))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Error::Conflict(format!("{taken} is already taken"));
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                return Error::Conflict(
                    "a record it refers to does not exist, or others still refer to it".into(),
                );
            }
            ffi::SQLITE_CONSTRAINT_CHECK => {
                let rule = what
                    .strip_prefix("CHECK constraint failed: ")
                    .unwrap_or(what);
                return Error::Internal(format!("the store refused a value that breaks `{rule}`"));
            }
            ffi::SQLITE_CONSTRAINT_NOTNULL => {
                let column = what
                    .strip_prefix("NOT NULL constraint failed: ")
                    .unwrap_or(what);
                return Error::Internal(format!("a required value is missing: {column}"));
            }
            ffi::SQLITE_CONSTRAINT_TRIGGER => {
                return Error::Internal(format!("the store refused the change: {what}"));
            }
            _ => {}
        }
        if f.code == rusqlite::ErrorCode::ConstraintViolation {
            return Error::Internal(format!("the store refused the change: {what}"));
        }
        if matches!(
            f.code,
            rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
        ) {
            return Error::Corrupt(e.to_string());
        }
        if matches!(
            f.code,
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
        ) {
            return Error::Unavailable(e.to_string());
        }
    }
    Error::Internal(format!("sqlite: {e}"))
}

/// The database's `-wal` or `-shm` companion.
fn wal_path(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn ms(t: Timestamp) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> Timestamp {
    chrono::DateTime::from_timestamp_millis(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_constraint_failure_says_what_it_is() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE t (id TEXT PRIMARY KEY, email TEXT UNIQUE, n INTEGER NOT NULL CHECK (n >= 0));
             CREATE TRIGGER t_frozen BEFORE DELETE ON t BEGIN SELECT RAISE(ABORT, 'frozen'); END;
             INSERT INTO t VALUES ('a', 'x@example.com', 1);",
        )
        .unwrap();
        let fail = |sql: &str| db_err(c.execute(sql, []).unwrap_err());
        match fail("INSERT INTO t VALUES ('b', 'x@example.com', 1)") {
            Error::Conflict(m) => assert_eq!(m, "email is already taken"),
            other => panic!("{other:?}"),
        }
        match fail("INSERT INTO t VALUES ('c', 'y@example.com', -1)") {
            Error::Internal(m) => {
                assert_eq!(m, "the store refused a value that breaks `n >= 0`");
                assert!(!m.contains("taken"));
            }
            other => panic!("{other:?}"),
        }
        match fail("INSERT INTO t VALUES ('d', 'z@example.com', NULL)") {
            Error::Internal(m) => assert_eq!(m, "a required value is missing: t.n"),
            other => panic!("{other:?}"),
        }
        match fail("DELETE FROM t") {
            Error::Internal(m) => assert!(m.ends_with("frozen"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
