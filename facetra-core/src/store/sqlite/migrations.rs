//! Versioned schema migrations, tracked in `PRAGMA user_version`. Append new steps; never edit
//! a released one.

use std::path::Path;

use rusqlite::Connection;

use crate::error::{Error, Result};

const STEPS: &[&str] = &[
    // 1: accounts, the instance, the audit log, blobs.
    "CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        avatar_url TEXT,
        google_subject TEXT UNIQUE,
        roles TEXT NOT NULL,
        status TEXT NOT NULL,
        consents TEXT NOT NULL,
        age_confirmed_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX users_newest ON users (created_at DESC, id DESC);
    CREATE TABLE instance (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        owner_id TEXT NOT NULL REFERENCES users (id),
        created_at INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user_id);
    CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        last_used_at INTEGER
    );
    CREATE INDEX api_tokens_user ON api_tokens (user_id);
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE blobs (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX blobs_owner ON blobs (owner_id);",
    // 2: the credit ledger. No foreign key to users: purchase entries outlive an erased
    // account, re-keyed to a pseudonym.
    "CREATE TABLE ledger (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        amount INTEGER NOT NULL,
        balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
        reason TEXT NOT NULL,
        reference TEXT,
        idempotency_key TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        UNIQUE (user_id, seq)
    );
    CREATE INDEX ledger_newest ON ledger (user_id, created_at DESC, id DESC);",
    // 3: payments (nothing about the payer), webhook events seen, security events.
    "CREATE TABLE payments (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        pack_id TEXT NOT NULL,
        credits INTEGER NOT NULL,
        amount_paise INTEGER NOT NULL,
        currency TEXT NOT NULL,
        kind TEXT NOT NULL,
        order_id TEXT UNIQUE,
        link_id TEXT UNIQUE,
        link_url TEXT,
        razorpay_payment_id TEXT,
        status TEXT NOT NULL,
        status_rank INTEGER NOT NULL,
        credits_refunded INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX payments_razorpay_payment ON payments (razorpay_payment_id);
    CREATE INDEX payments_user ON payments (user_id, created_at DESC, id DESC);
    CREATE TABLE webhook_events (
        event_id TEXT PRIMARY KEY,
        received_at INTEGER NOT NULL
    );
    CREATE TABLE security_events (
        id TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        user_id TEXT,
        ip TEXT,
        details TEXT NOT NULL
    );
    CREATE INDEX security_events_newest ON security_events (at DESC, id DESC);",
    // 4: the mail outbox, with a lease per message.
    "CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        user_id TEXT,
        to_email TEXT NOT NULL,
        template TEXT NOT NULL,
        subject TEXT NOT NULL,
        text_body TEXT NOT NULL,
        html_body TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        provider_message_id TEXT,
        lease_holder TEXT,
        lease_until INTEGER,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
    );
    CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
    CREATE INDEX outbox_newest ON outbox (created_at DESC, id DESC);",
    // 5: uploads (their bytes are blobs).
    "CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        mime TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        blob_id TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX uploads_user ON uploads (user_id, created_at DESC, id DESC);",
    // 6: render jobs (the job as JSON, with the columns queries need) and renders.
    "CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        status TEXT NOT NULL,
        idempotency_key TEXT,
        lease_holder TEXT,
        lease_until INTEGER,
        created_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (user_id, idempotency_key)
    );
    CREATE INDEX jobs_due ON jobs (status, created_at);
    CREATE INDEX jobs_user ON jobs (user_id, created_at DESC, id DESC);
    CREATE TABLE renders (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        variant INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (job_id, variant)
    );
    CREATE INDEX renders_user ON renders (user_id, created_at DESC, id DESC);",
    // 7: the columns render downloads and selections query.
    "ALTER TABLE renders ADD COLUMN blob_id TEXT;
    ALTER TABLE renders ADD COLUMN selected INTEGER NOT NULL DEFAULT 0;
    UPDATE renders SET blob_id = json_extract(body, '$.blob_id'), selected = json_extract(body, '$.selected');
    CREATE INDEX renders_blob ON renders (blob_id);",
    // 8: portfolios.
    "CREATE TABLE portfolios (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        render_ids TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX portfolios_user ON portfolios (user_id, created_at DESC, id DESC);",
    // 9: BOM versions.
    "CREATE TABLE boms (
        render_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        source TEXT NOT NULL,
        items TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (render_id, version)
    );
    CREATE INDEX boms_user ON boms (user_id);",
    // 10: one lease encoding for every queue: holder, expiry and how often it was claimed.
    "ALTER TABLE jobs ADD COLUMN lease_count INTEGER NOT NULL DEFAULT 0;
    UPDATE jobs SET lease_count = COALESCE(json_extract(body, '$.attempts'), 0);
    ALTER TABLE outbox ADD COLUMN lease_count INTEGER NOT NULL DEFAULT 0;",
    // 11: security events anyone can cause are counted per window, not stored one by one.
    "ALTER TABLE security_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;",
    // 12: what each API token may do; the tokens from before could do everything.
    "ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read,write';",
    // 13: browsers' Google sign-ins in progress (no identity; 10 minutes at most).
    "CREATE TABLE sign_in_attempts (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        return_to TEXT NOT NULL,
        age_confirmed INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX sign_in_attempts_expiry ON sign_in_attempts (expires_at);",
    // 14: the waitlist and demo bookings (tied to an account once there is one).
    "CREATE TABLE signups (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        company TEXT,
        role TEXT,
        message TEXT,
        status TEXT NOT NULL,
        user_id TEXT,
        created_at INTEGER NOT NULL,
        decided_at INTEGER
    );
    CREATE INDEX signups_newest ON signups (kind, created_at DESC, id DESC);
    CREATE INDEX signups_email ON signups (email);
    CREATE INDEX signups_user ON signups (user_id);",
    // 15: usage analytics (only with consent; never content or ids of content).
    "CREATE TABLE usage_events (
        id TEXT PRIMARY KEY,
        user_id TEXT,
        type TEXT NOT NULL,
        feature TEXT NOT NULL,
        count INTEGER NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE INDEX usage_events_user ON usage_events (user_id);
    CREATE INDEX usage_events_at ON usage_events (at);",
    // 16: request logs, written in batches off the request path: appended in rowid order,
    // one index (the person's lines) beside it, so a busy server's inserts stay cheap.
    "CREATE TABLE request_logs (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        ip TEXT,
        user_agent TEXT,
        referrer TEXT,
        route TEXT NOT NULL,
        method TEXT NOT NULL,
        status INTEGER NOT NULL,
        latency_ms INTEGER NOT NULL,
        user_id TEXT
    );
    CREATE INDEX request_logs_user ON request_logs (user_id);",
    // 17: privacy requests; what is queried is a column, the rest one JSON body.
    "CREATE TABLE privacy_requests (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        user_id TEXT,
        email TEXT,
        email_hash TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX privacy_requests_newest ON privacy_requests (received_at DESC, id DESC);
    CREATE INDEX privacy_requests_user ON privacy_requests (user_id);",
    // 18: scheduled tasks (retention), leased like every queue.
    "CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        next_run_at INTEGER NOT NULL,
        lease_holder TEXT,
        lease_until INTEGER,
        lease_count INTEGER NOT NULL DEFAULT 0
    );",
    // 19: breaches and who was told of them.
    "CREATE TABLE breaches (
        id TEXT PRIMARY KEY,
        detected_at INTEGER NOT NULL,
        opened_at INTEGER NOT NULL,
        summary TEXT NOT NULL,
        board_due INTEGER NOT NULL,
        cert_in_due INTEGER NOT NULL,
        board_told_at INTEGER,
        cert_in_told_at INTEGER,
        notified INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX breaches_newest ON breaches (opened_at DESC, id DESC);
    CREATE TABLE breach_notices (
        breach_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        notified_at INTEGER NOT NULL,
        PRIMARY KEY (breach_id, user_id)
    );
    CREATE INDEX breach_notices_user ON breach_notices (user_id);",
    // 20: nominees, one per user.
    "CREATE TABLE nominees (
        user_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );",
    // 21: in-app message threads.
    "CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX messages_newest ON messages (created_at DESC, id DESC);
    CREATE INDEX messages_user ON messages (user_id);",
];

/// Brings the schema up to date in one transaction per step.
pub fn run(conn: &mut Connection, path: &Path) -> Result<()> {
    let corrupt = |e: rusqlite::Error| {
        Error::Corrupt(format!(
            "{} is not a usable Facetra database ({e}); restore it from a backup",
            path.display()
        ))
    };
    let current: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(corrupt)?
        .try_into()
        .unwrap_or(usize::MAX);
    if current > STEPS.len() {
        return Err(Error::Config(format!(
            "{} was written by a newer Facetra (schema {current}, this one knows {}); upgrade",
            path.display(),
            STEPS.len()
        )));
    }
    for (i, step) in STEPS.iter().enumerate().skip(current) {
        let tx = conn.transaction().map_err(corrupt)?;
        tx.execute_batch(step).map_err(corrupt)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(corrupt)?;
        tx.commit().map_err(corrupt)?;
    }
    Ok(())
}
