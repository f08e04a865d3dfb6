//! The real binaries, run as a user or an operator would: start-up refusals and errors, the
//! server's life cycle, `facetra init` and `whoami`, and `facetra-admin`.

use std::process::Output;

use facetra_core::config::keys;
use facetra_tests::binaries::{command, run, RunningServer};

pub(super) fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub(super) fn assert_clean_failure(out: &Output, expected: &str) {
    let all = text(out);
    assert!(!out.status.success(), "expected a failure:\n{all}");
    assert!(all.contains(expected), "expected {expected:?} in:\n{all}");
    assert!(
        !all.contains("panicked"),
        "a panic is not an error message:\n{all}"
    );
}

pub(super) fn init(dir: &std::path::Path) -> Output {
    run(command("facetra").arg("--data-dir").arg(dir).args([
        "init",
        "--name",
        "Asha Rao",
        "--email",
        "Asha@Example.com",
        "--confirm-age",
    ]))
}

/// Makes `email` (an account of the studio in `dir`) the first admin, and returns a runner for
/// `facetra-admin` acting as them.
pub(super) fn as_admin(dir: &std::path::Path, email: &str) -> impl Fn(&[&str]) -> Output {
    let made = run(command("facetra-admin").arg("--data-dir").arg(dir).args([
        "--yes",
        "bootstrap",
        email,
    ]));
    assert!(made.status.success(), "{}", text(&made));
    let (dir, email) = (dir.to_owned(), email.to_owned());
    move |args: &[&str]| {
        run(command("facetra-admin")
            .arg("--data-dir")
            .arg(&dir)
            .args(["--operator", &email])
            .args(args))
    }
}

#[test]
fn the_server_announces_its_address_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command("facetra-server");
    cmd.args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path());
    let server = RunningServer::start(cmd);
    let body = facetra_tests::binaries::http_get(&server.base, "/healthz");
    assert_eq!(body, r#"{"status":"ok"}"#);
    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[test]
fn the_embedded_secret_is_generated_once_and_kept_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut first = command("facetra-server");
    first
        .args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path());
    RunningServer::start(first).terminate();
    let key_path = dir.path().join("secret.key");
    let key = std::fs::read(&key_path).unwrap();
    assert_eq!(
        std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mut second = command("facetra-server");
    second
        .args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path());
    let server = RunningServer::start(second);
    assert!(
        !server
            .log()
            .contains(&String::from_utf8_lossy(&key).to_string()),
        "the key reached the log"
    );
    server.terminate();
    assert_eq!(
        std::fs::read(&key_path).unwrap(),
        key,
        "the key must not change between starts"
    );
}

#[test]
fn dev_login_refuses_to_start_on_a_non_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(command("facetra-server")
        .args(["--bind", "0.0.0.0:0"])
        .env(keys::DATA_DIR, dir.path())
        .env(keys::DEV_LOGIN, "true"));
    assert_clean_failure(
        &out,
        "FACETRA_DEV_LOGIN=true is only allowed on a loopback address",
    );
    let out = run(command("facetra-server")
        .args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path())
        .env(keys::DEV_LOGIN, "true")
        .env(keys::PUBLIC_URL, "https://studio.example.com"));
    assert_clean_failure(&out, "loopback");
}

#[test]
fn a_mongodb_url_without_a_secret_key_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(command("facetra-server")
        .args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path())
        .env(keys::DATABASE_URL, "mongodb://127.0.0.1:1/"));
    assert_clean_failure(
        &out,
        "FACETRA_SECRET_KEY is required with a MongoDB database",
    );
}

#[test]
fn an_unreachable_mongodb_gives_a_clear_error_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(command("facetra-server")
        .args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path())
        .env(
            keys::DATABASE_URL,
            "mongodb://user:pa55word@127.0.0.1:1/?serverSelectionTimeoutMS=300",
        )
        .env(keys::SECRET_KEY, facetra_tests::harness::TEST_SECRET));
    assert_clean_failure(&out, "cannot reach MongoDB at mongodb://127.0.0.1:1");
    assert!(
        !text(&out).contains("pa55word"),
        "credentials reached the output"
    );
    let admin = run(command("facetra-admin")
        .args(["users", "list"])
        .env(
            keys::DATABASE_URL,
            "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300",
        )
        .env(keys::SECRET_KEY, facetra_tests::harness::TEST_SECRET));
    assert_clean_failure(&admin, "cannot reach MongoDB");
    assert_eq!(admin.status.code(), Some(6));
}

#[test]
fn a_corrupt_database_gives_a_clear_error_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("facetra.db"), vec![0x42u8; 8192]).unwrap();
    let out = run(command("facetra-server")
        .args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path()));
    assert_clean_failure(&out, "is not a usable Facetra database");
    let admin = run(command("facetra-admin")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["audit", "verify"]));
    assert_clean_failure(&admin, "is not a usable Facetra database");
    let who = run(command("facetra")
        .arg("--data-dir")
        .arg(dir.path())
        .arg("whoami"));
    assert_clean_failure(&who, "is not a usable Facetra database");
}

#[test]
fn init_twice_keeps_one_owner_and_whoami_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = init(dir.path());
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("Your studio is ready"));
    let again = run(command("facetra").arg("--data-dir").arg(dir.path()).args([
        "init",
        "--name",
        "Someone Else",
        "--email",
        "else@example.com",
        "--confirm-age",
        "--json",
    ]));
    assert!(again.status.success(), "{}", text(&again));
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report["created"], false);
    assert_eq!(report["owner"]["email"], "asha@example.com");

    let who = run(command("facetra")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["whoami", "--json"]));
    assert!(who.status.success(), "{}", text(&who));
    let me: serde_json::Value = serde_json::from_slice(&who.stdout).unwrap();
    assert_eq!(me["email"], "asha@example.com");
    assert_eq!(me["name"], "Asha Rao");

    let list = as_admin(dir.path(), "asha@example.com")(&["users", "list", "--json"]);
    let users: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        users["items"].as_array().unwrap().len(),
        1,
        "one owner, no second account"
    );
}

#[test]
fn init_without_a_terminal_or_flags_names_the_flags_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("studio");
    let out = run(command("facetra").arg("--data-dir").arg(&data).args([
        "init",
        "--email",
        "a@example.com",
    ]));
    assert_clean_failure(&out, "pass --name NAME --confirm-age");
    assert!(
        !data.exists(),
        "nothing is created before the owner is known"
    );
    let who = run(command("facetra")
        .arg("--data-dir")
        .arg(&data)
        .arg("whoami"));
    assert_clean_failure(&who, "run `facetra init`");
    assert_eq!(who.status.code(), Some(3));
}

#[test]
fn facetra_admin_never_creates_a_database_and_names_it_only_when_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(command("facetra-admin")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["users", "list"]));
    assert_clean_failure(&out, "no Facetra database at");
    assert!(
        !dir.path().join("facetra.db").exists(),
        "facetra-admin created a database"
    );
    init(dir.path());
    let admin = as_admin(dir.path(), "asha@example.com");
    let db = format!("SQLite at {}", dir.path().join("facetra.db").display());
    let out = admin(&["users", "list"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !text(&out).contains("SQLite"),
        "a read says nothing of it: {}",
        text(&out)
    );
    let out = admin(&[
        "--yes",
        "credits",
        "grant",
        "asha@example.com",
        "5",
        "--reason",
        "thanks",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("changing {db}")),
        "{}",
        text(&out)
    );
    // Asked on a terminal: the person by email, the state now, and the database.
    let line = format!(
        "{} --data-dir {} --operator asha@example.com credits grant asha@example.com 1 --reason x",
        facetra_tests::binaries::bin("facetra-admin").display(),
        dir.path().display()
    );
    // Answered "n" through the terminal (after the prompt is up).
    let asked = run(std::process::Command::new("sh")
        .env(
            "XDG_CONFIG_HOME",
            facetra_tests::binaries::empty_config_home(),
        )
        .arg("-c")
        .arg(format!(
            "(sleep 1; printf n; sleep 1) | script -qec '{line}' /dev/null"
        )));
    let asked = text(&asked);
    assert!(asked.contains("nothing changed"), "{asked}");
    // The audit log pages with --cursor, as every other list does.
    let page = text(&admin(&["audit", "list", "--limit", "1"]));
    let cursor = page
        .split("more: facetra-admin audit list --cursor ")
        .nth(1)
        .unwrap_or_else(|| panic!("no cursor under the page: {page}"))
        .trim()
        .to_owned();
    let next = admin(&[
        "audit", "list", "--cursor", &cursor, "--limit", "1", "--json",
    ]);
    let next: serde_json::Value = serde_json::from_slice(&next.stdout).unwrap();
    assert_eq!(
        next[0]["seq"].as_u64(),
        Some(cursor.parse::<u64>().unwrap() + 1),
        "{next}"
    );
    assert!(
        asked.contains("Grant 1 credit to asha@example.com (balance now 15)?"),
        "{asked}"
    );
    assert!(asked.contains(&format!("(in {db})")), "{asked}");
}

#[test]
fn set_role_needs_an_operator_and_confirmation_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let plain = |args: &[&str]| {
        run(command("facetra-admin")
            .arg("--data-dir")
            .arg(dir.path())
            .args(args))
    };
    let no_operator = plain(&["users", "set-role", "asha@example.com", "dpo", "--yes"]);
    assert_clean_failure(&no_operator, "--operator");
    assert_eq!(no_operator.status.code(), Some(2));
    let admin = as_admin(dir.path(), "asha@example.com");
    let no_terminal = admin(&["users", "set-role", "asha@example.com", "admin", "dpo"]);
    assert_clean_failure(&no_terminal, "--yes");
    let shown = admin(&["users", "show", "asha@example.com", "--json"]);
    let user: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(
        user["roles"],
        serde_json::json!(["user", "admin"]),
        "refused commands changed nothing"
    );

    let done = run(command("facetra-admin")
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "users",
            "set-role",
            "asha@example.com",
            "admin",
            "dpo",
            "--yes",
            "--json",
        ])
        .env(keys::OPERATOR, "asha@example.com"));
    assert!(done.status.success(), "{}", text(&done));
    let user: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(user["roles"], serde_json::json!(["user", "dpo", "admin"]));

    let log = admin(&["audit", "list", "--json"]);
    let entries: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    let all = entries.as_array().unwrap();
    let first = all
        .iter()
        .find(|e| e["action"] == "user.bootstrap_admin")
        .unwrap();
    assert_eq!(first["actor"], "system");
    let last = all.last().unwrap().clone();
    assert_eq!(last["action"], "user.set_roles");
    assert_eq!(
        last["actor"],
        format!("staff:{}", user["id"].as_str().unwrap())
    );
    assert_eq!(last["target"], user["id"]);
    assert!(
        !last.to_string().contains("asha"),
        "audit entries hold ids, never personal values: {last}"
    );
    let verify = admin(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
}

#[test]
fn an_operator_must_be_staff_holding_the_role_the_command_needs() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let run_as = |operator: &str, args: &[&str]| {
        run(command("facetra-admin")
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--operator", operator, "--yes"])
            .args(args))
    };
    let refused = |out: &Output, what: &str| {
        assert_clean_failure(out, what);
        assert_eq!(out.status.code(), Some(5), "{}", text(out));
    };
    refused(
        &run_as("nobody@example.com", &["users", "list"]),
        "names no account",
    );
    refused(
        &run_as("asha@example.com", &["users", "list"]),
        "holds no staff role",
    );
    // The first admin is made once, and only while there is none.
    let admin = as_admin(dir.path(), "asha@example.com");
    let again = run(command("facetra-admin")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--yes", "bootstrap", "asha@example.com"]));
    assert_clean_failure(&again, "has an admin already");
    assert_eq!(again.status.code(), Some(7));
    // A DPO may not grant credits, nor change roles.
    let made = admin(&["users", "set-role", "asha@example.com", "dpo", "--yes"]);
    assert!(made.status.success(), "{}", text(&made));
    refused(
        &run_as(
            "asha@example.com",
            &["credits", "grant", "asha@example.com", "5", "--reason", "r"],
        ),
        "granting credits needs the `admin` role",
    );
    refused(
        &run_as(
            "asha@example.com",
            &["users", "set-role", "asha@example.com", "admin"],
        ),
        "changing roles needs the `admin` role",
    );
    let verify = run_as("asha@example.com", &["audit", "verify"]);
    assert!(
        verify.status.success(),
        "a DPO reads the audit log: {}",
        text(&verify)
    );
    let credits: serde_json::Value = serde_json::from_slice(
        &run(command("facetra")
            .arg("--data-dir")
            .arg(dir.path())
            .args(["credits", "--json"]))
        .stdout,
    )
    .unwrap();
    assert_eq!(credits["balance"], 10, "the refused grant changed nothing");
    let db = rusqlite::Connection::open(dir.path().join("facetra.db")).unwrap();
    let roles: String = db
        .query_row("SELECT roles FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(roles, "user,dpo", "the refused role change changed nothing");
    let refusals: i64 = db
        .query_row(
            "SELECT count(*) FROM security_events WHERE kind LIKE 'authz.%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(refusals, 4, "every refusal is a security event");
}

#[test]
fn audit_verify_exits_non_zero_and_names_the_first_bad_entry() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let admin = as_admin(dir.path(), "asha@example.com");
    for role in ["dpo", "support", "admin"] {
        let out = admin(&[
            "--yes",
            "users",
            "set-role",
            "asha@example.com",
            "admin",
            role,
        ]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let db = rusqlite::Connection::open(dir.path().join("facetra.db")).unwrap();
    db.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET details = '{\"after\":[\"admin\"]}' WHERE seq = 3;",
    )
    .unwrap();
    drop(db);
    let out = admin(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("broken at entry 3"), "{}", text(&out));
}

#[test]
fn credits_grant_needs_a_reason_and_an_operator_and_verify_replays_every_ledger() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let plain = |args: &[&str]| {
        run(command("facetra-admin")
            .arg("--data-dir")
            .arg(dir.path())
            .args(args))
    };
    let no_operator = plain(&[
        "--yes",
        "credits",
        "grant",
        "asha@example.com",
        "25",
        "--reason",
        "goodwill",
    ]);
    assert_clean_failure(&no_operator, "--operator");
    let admin = as_admin(dir.path(), "asha@example.com");
    let no_reason = admin(&["--yes", "credits", "grant", "asha@example.com", "25"]);
    assert_clean_failure(&no_reason, "--reason");
    let granted = admin(&[
        "--yes",
        "credits",
        "grant",
        "asha@example.com",
        "25",
        "--reason",
        "goodwill",
        "--idempotency-key",
        "ticket-7",
    ]);
    assert!(granted.status.success(), "{}", text(&granted));
    let again = admin(&[
        "--yes",
        "credits",
        "grant",
        "asha@example.com",
        "25",
        "--reason",
        "goodwill",
        "--idempotency-key",
        "ticket-7",
    ]);
    assert!(text(&again).contains("already granted"), "{}", text(&again));

    let me = run(command("facetra").arg("--data-dir").arg(dir.path()).args([
        "credits",
        "--history",
        "--json",
    ]));
    let me: serde_json::Value = serde_json::from_slice(&me.stdout).unwrap();
    assert_eq!(me["balance"], 35, "10 trial + 25 granted once");
    assert_eq!(me["items"][0]["kind"], "grant");

    let log = admin(&["audit", "list", "--json"]);
    let entries: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    let grants: Vec<_> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "credits.grant")
        .collect();
    assert_eq!(grants.len(), 1, "one grant, one audit entry");
    assert_eq!(grants[0]["details"]["amount"], 25);
    assert!(
        !grants[0].to_string().contains("goodwill"),
        "free text stays out of the audit log"
    );

    let ok = admin(&["credits", "verify"]);
    assert!(ok.status.success(), "{}", text(&ok));
    let db = rusqlite::Connection::open(dir.path().join("facetra.db")).unwrap();
    db.execute("UPDATE ledger SET amount = 26 WHERE kind = 'grant'", [])
        .unwrap();
    drop(db);
    let bad = admin(&["credits", "verify"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(text(&bad).contains("entry 2"), "{}", text(&bad));

    let packs = run(command("facetra")
        .arg("--data-dir")
        .arg(dir.path())
        .arg("packs"));
    assert!(text(&packs).contains("₹1,499.00"), "{}", text(&packs));
}

#[test]
fn buy_without_razorpay_says_how_to_configure_it() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let out = run(command("facetra")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["buy", "starter"]));
    assert_clean_failure(&out, "FACETRA_RAZORPAY_KEY_ID");
    assert_eq!(out.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buy_prints_a_payment_link_and_waits_until_it_is_credited() {
    use facetra_tests::razorpay_stub::RazorpayStub;
    let stub = RazorpayStub::start().await;
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let mut cmd = command("facetra");
    cmd.arg("--data-dir")
        .arg(dir.path())
        .args(["buy", "starter", "--json", "--poll-secs", "1"]);
    for (k, v) in stub.settings() {
        cmd.env(k, v);
    }
    let child = tokio::task::spawn_blocking(move || run(&mut cmd));
    let plink = loop {
        if let Some(l) = stub.links().pop() {
            break l;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    stub.pay_link(&plink);
    let out = child.await.unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["link"]["status"], "credited");
    assert_eq!(result["balance"], 60);
    let verify = as_admin(dir.path(), "asha@example.com")(&["credits", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
}

#[test]
fn the_embedded_default_writes_mail_to_files() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let outbox = dir.path().join("outbox");
    let files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("To: asha@example.com"), "{eml}");
    assert!(eml.contains("Subject: Welcome to Facetra"), "{eml}");
    assert!(eml.contains("10 trial credits"), "{eml}");
    let listed = as_admin(dir.path(), "asha@example.com")(&["mail", "outbox", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["items"][0]["status"], "sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_outbox_lists_a_rejected_message_with_its_reason_and_retry_requeues_it() {
    use facetra_tests::resend_stub::{ResendStub, Scripted};
    let stub = ResendStub::start().await;
    stub.fail_next(&[Scripted {
        status: 422,
        name: "invalid_from_address",
        retry_after: None,
    }]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let settings = stub.settings();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = command("facetra");
        cmd.arg("--data-dir").arg(&path).args([
            "init",
            "--name",
            "Asha Rao",
            "--email",
            "asha@example.com",
            "--confirm-age",
        ]);
        for (k, v) in settings {
            cmd.env(k, v);
        }
        run(&mut cmd)
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let no_operator = run(command("facetra-admin")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["mail", "outbox", "--failed"]));
    assert_clean_failure(&no_operator, "--operator");
    let admin = as_admin(dir.path(), "asha@example.com");
    let failed = admin(&["mail", "outbox", "--failed"]);
    assert!(failed.status.success(), "{}", text(&failed));
    assert!(
        text(&failed).contains("invalid_from_address"),
        "{}",
        text(&failed)
    );
    let listed: serde_json::Value =
        serde_json::from_slice(&admin(&["mail", "outbox", "--failed", "--json"]).stdout).unwrap();
    let id = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let retried = admin(&["--yes", "mail", "retry", &id]);
    assert!(retried.status.success(), "{}", text(&retried));
    let left: serde_json::Value =
        serde_json::from_slice(&admin(&["mail", "outbox", "--failed", "--json"]).stdout).unwrap();
    assert!(left["items"].as_array().unwrap().is_empty());
    let log: serde_json::Value =
        serde_json::from_slice(&admin(&["audit", "list", "--json"]).stdout).unwrap();
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "mail.retry" && e["target"] == id.as_str()));
    assert!(
        stub.sent().is_empty(),
        "nothing was delivered by the rejected attempt"
    );
}

#[test]
fn facetra_upload_stores_a_stripped_image_and_refuses_a_renamed_text_file() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let sketch = dir.path().join("sketch.jpg");
    std::fs::write(&sketch, facetra_tests::images::jpeg_with_metadata(80, 60)).unwrap();
    let out = run(command("facetra")
        .arg("--data-dir")
        .arg(dir.path())
        .arg("upload")
        .arg(&sketch)
        .arg("--json"));
    assert!(out.status.success(), "{}", text(&out));
    let u: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            u["mime"].as_str(),
            u["width"].as_u64(),
            u["height"].as_u64()
        ),
        (Some("image/jpeg"), Some(80), Some(60))
    );
    let blobs: Vec<_> = facetra_tests::harness::walk(&dir.path().join("blobs"));
    assert_eq!(blobs.len(), 1);
    let stored = std::fs::read(&blobs[0]).unwrap();
    assert!(!facetra_tests::harness::contains(
        &stored,
        facetra_tests::images::GPS_MARKER
    ));
    let fake = dir.path().join("notes.png");
    std::fs::write(&fake, "meeting notes, not a picture").unwrap();
    let out = run(command("facetra")
        .arg("--data-dir")
        .arg(dir.path())
        .arg("upload")
        .arg(&fake));
    assert_clean_failure(&out, "not a PNG, JPEG or WebP image");
}

/// A runner for `facetra` on the studio in `dir`.
/// Gives `email` the `admin` and `dpo` roles through `admin` (a runner from `as_admin`).
pub(super) fn grant_dpo(admin: &impl Fn(&[&str]) -> Output, email: &str) {
    let made = admin(&["--yes", "users", "set-role", email, "admin", "dpo"]);
    assert!(made.status.success(), "{}", text(&made));
}

pub(super) fn facetra_in(dir: &std::path::Path) -> impl Fn(&[&str]) -> Output {
    let dir = dir.to_owned();
    move |args: &[&str]| run(command("facetra").arg("--data-dir").arg(&dir).args(args))
}

/// Renders the example sketch once in the studio in `dir` (images under `dir/out`); the
/// render's id.
pub(super) fn render_once(dir: &std::path::Path, prompt: &str) -> String {
    let out = dir.join("out");
    let done = facetra_in(dir)(&[
        "render",
        example_sketch().to_str().unwrap(),
        "--prompt",
        prompt,
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(done.status.success(), "{}", text(&done));
    let done: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    done["files"][0]["render_id"].as_str().unwrap().to_owned()
}

fn example_sketch() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sketch.png")
}

#[test]
fn render_on_a_fresh_machine_sets_up_the_studio_and_saves_real_images() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = (dir.path().join("data"), dir.path().join("out"));
    let refused = run(command("facetra")
        .arg("--data-dir")
        .arg(&data)
        .arg("render")
        .arg(example_sketch())
        .args(["--prompt", "an oak sofa"]));
    assert_clean_failure(&refused, "--name NAME --email EMAIL --confirm-age");
    assert!(
        !data.exists(),
        "nothing is created before the owner is known"
    );

    let done = run(command("facetra")
        .arg("--data-dir")
        .arg(&data)
        .arg("render")
        .arg(example_sketch())
        .args([
            "--prompt",
            "a teal velvet sofa with oak arms and a brass lamp",
            "--variants",
            "2",
            "--aspect",
            "16:9",
            "--json",
            "--name",
            "Meera Iyer",
            "--email",
            "meera@example.com",
            "--confirm-age",
            "--out",
        ])
        .arg(&out));
    assert!(done.status.success(), "{}", text(&done));
    let result: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(result["job"]["status"], "succeeded");
    assert_eq!(result["job"]["credits_charged"], 2);
    let files = result["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    for f in files {
        let img = image::open(f["path"].as_str().unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (1024, 576));
    }
    let credits = run(command("facetra")
        .arg("--data-dir")
        .arg(&data)
        .args(["credits", "--json"]));
    let credits: serde_json::Value = serde_json::from_slice(&credits.stdout).unwrap();
    assert_eq!(credits["balance"], 8);

    // --no-wait leaves the job queued; `jobs ID --wait` finishes it.
    let queued = run(command("facetra")
        .arg("--data-dir")
        .arg(&data)
        .arg("render")
        .arg(example_sketch())
        .args(["--prompt", "a marble console", "--no-wait", "--json"]));
    assert!(queued.status.success(), "{}", text(&queued));
    let job: serde_json::Value = serde_json::from_slice(&queued.stdout).unwrap();
    assert_eq!(job["status"], "queued");
    let id = job["id"].as_str().unwrap();
    let finished = run(command("facetra")
        .arg("--data-dir")
        .arg(&data)
        .args(["jobs", id, "--wait", "--json", "--out"])
        .arg(&out));
    assert!(finished.status.success(), "{}", text(&finished));
    let finished: serde_json::Value = serde_json::from_slice(&finished.stdout).unwrap();
    assert_eq!(finished["job"]["status"], "succeeded");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_job_finishes_or_refunds_it_after_restart_and_never_both() {
    use facetra_tests::gemini_stub::{GeminiStub, Reply};
    let stub = GeminiStub::start().await;
    stub.always(Reply::Slow(4000));
    let dir = tempfile::tempdir().unwrap();
    let server = |dir: &std::path::Path| {
        let mut cmd = command("facetra-server");
        cmd.args(["--bind", "127.0.0.1:0"])
            .env(keys::DATA_DIR, dir)
            .env(keys::DEV_LOGIN, "true")
            .env(keys::JOB_LEASE_SECS, "2")
            .env(keys::WORKERS, "1");
        for (k, v) in stub.settings() {
            cmd.env(k, v);
        }
        RunningServer::start(cmd)
    };
    let first = server(dir.path());
    let http = reqwest::Client::new();
    let cookie =
        facetra_tests::binaries::dev_login_cookie(&http, &first.base, "ada@example.com").await;
    let form = reqwest::multipart::Form::new().text("kind", "sketch").part(
        "file",
        reqwest::multipart::Part::bytes(facetra_tests::images::png(120, 90)).file_name("s.png"),
    );
    let up: serde_json::Value = http
        .post(format!("{}/v1/uploads", first.base))
        .header("cookie", &cookie)
        .header("origin", &first.base)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job: serde_json::Value = http
        .post(format!("{}/v1/renders", first.base))
        .header("cookie", &cookie)
        .header("origin", &first.base)
        .json(
            &serde_json::json!({ "prompt": "a brass lamp", "sketch_id": up["id"], "variants": 2 }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = job["job"]["id"].as_str().unwrap().to_owned();
    while stub.requests().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Mid-job: the provider call for variant 1 is in flight.
    drop(first); // SIGKILL
    stub.always(Reply::Image);
    let second = server(dir.path());
    let mut done = serde_json::Value::Null;
    for _ in 0..300 {
        done = http
            .get(format!("{}/v1/jobs/{id}", second.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ["succeeded", "failed"].contains(&done["status"].as_str().unwrap_or("")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(done["status"], "succeeded", "{done}");
    let (charged, refunded) = (
        done["credits_charged"].as_i64().unwrap(),
        done["credits_refunded"].as_i64().unwrap(),
    );
    assert_eq!(
        charged + refunded,
        2,
        "every variant is either charged or refunded, never both: {done}"
    );
    let balance: serde_json::Value = http
        .get(format!("{}/v1/credits", second.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(balance["balance"].as_i64().unwrap(), 10 - charged);
    drop(second);
    let verify = as_admin(dir.path(), "ada@example.com")(&["credits", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
}

#[test]
fn portfolios_and_selections_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let facetra = |args: &[&str]| {
        let out = run(command("facetra")
            .arg("--data-dir")
            .arg(dir.path())
            .args(args));
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default()
    };
    let out = dir.path().join("out");
    let sketch = example_sketch();
    let done = facetra(&[
        "render",
        sketch.to_str().unwrap(),
        "--prompt",
        "a sage linen sofa",
        "--variants",
        "2",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let ids: Vec<String> = done["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["render_id"].as_str().unwrap().to_owned())
        .collect();
    let created = facetra(&["portfolio", "create", "Best of", "--json"]);
    let pid = created["id"].as_str().unwrap().to_owned();
    facetra(&["portfolio", "add", &pid, &ids[1], &ids[0], "--json"]);
    let shown = facetra(&["portfolio", "show", &pid, "--json"]);
    assert_eq!(shown["render_ids"], serde_json::json!([ids[1], ids[0]]));
    facetra(&["portfolio", "remove", &pid, &ids[1], "--json"]);
    assert_eq!(
        facetra(&["portfolio", "show", &pid, "--json"])["render_ids"],
        serde_json::json!([ids[0]])
    );
    facetra(&["select", &ids[0], "--json"]);
    let picked = facetra(&["renders", "--selected", "--json"]);
    assert_eq!(picked["items"].as_array().unwrap().len(), 1);
    facetra(&["unselect", &ids[0], "--json"]);
    assert!(facetra(&["renders", "--selected", "--json"])["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let saved = facetra(&[
        "download",
        &ids[0],
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        image::open(saved["path"].as_str().unwrap())
            .unwrap()
            .width(),
        1024
    );
    // A name finds it too; a second portfolio of the same name is refused.
    let by_name = facetra(&["portfolio", "show", "best OF", "--json"]);
    assert_eq!(by_name["id"], pid.as_str());
    let twice = run(command("facetra").arg("--data-dir").arg(dir.path()).args([
        "portfolio",
        "create",
        "Best of",
    ]));
    assert_eq!(twice.status.code(), Some(7));
    assert_clean_failure(&twice, "already have a portfolio named");
    // Deleting asks; without a terminal it needs --yes.
    let unasked = run(command("facetra").arg("--data-dir").arg(dir.path()).args([
        "portfolio",
        "delete",
        &pid,
    ]));
    assert_eq!(unasked.status.code(), Some(2));
    assert_clean_failure(&unasked, "pass --yes");
    facetra(&["portfolio", "delete", "Best of", "--yes"]);
    assert!(facetra(&["portfolio", "list", "--json"])["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn bom_generate_set_and_export_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let facetra = facetra_in(dir.path());
    let render = render_once(dir.path(), "an oak table with a brass lamp");
    let generated: serde_json::Value =
        serde_json::from_slice(&facetra(&["bom", "generate", &render, "--json"]).stdout).unwrap();
    assert_eq!(generated["version"], 1);
    let file = dir.path().join("items.json");
    std::fs::write(&file, r#"[{"name":"Table","category":"furniture","material":"oak","quantity":1,"unit":"pc","unit_price_paise":2400000,"note":"=cmd"}]"#).unwrap();
    let set = facetra(&[
        "bom",
        "set",
        &render,
        file.to_str().unwrap(),
        "--version",
        "1",
        "--json",
    ]);
    assert!(set.status.success(), "{}", text(&set));
    let stale = facetra(&[
        "bom",
        "set",
        &render,
        file.to_str().unwrap(),
        "--version",
        "1",
    ]);
    assert_clean_failure(&stale, "reload it and apply your edit again");
    assert_eq!(stale.status.code(), Some(7));
    let csv = facetra(&["bom", "export", &render]);
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(
        csv.starts_with("name,category,material,quantity,unit,unit_price_inr,total_inr,note\n"),
        "{csv}"
    );
    assert!(
        csv.contains("Table,furniture,oak,1,pc,24000.00,24000.00,\"'=cmd\""),
        "{csv}"
    );
    std::fs::write(&file, "not json").unwrap();
    assert_clean_failure(
        &facetra(&["bom", "set", &render, file.to_str().unwrap()]),
        "not a JSON list of BOM items",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_in_render_saves_what_is_done_says_what_next_and_releases_the_job_at_once() {
    use facetra_tests::gemini_stub::{GeminiStub, Reply};
    let stub = GeminiStub::start().await;
    stub.always(Reply::Slow(30_000));
    stub.then(&[Reply::Image]);
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let env = |cmd: &mut std::process::Command| {
        for (k, v) in stub.settings() {
            cmd.env(k, v);
        }
    };
    let first = dir.path().join("first");
    let mut cmd = command("facetra");
    cmd.arg("--data-dir")
        .arg(dir.path())
        .arg("render")
        .arg(example_sketch())
        .args(["--prompt", "a cane chair", "--variants", "2", "--out"])
        .arg(&first);
    env(&mut cmd);
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Variant 1 is answered at once; variant 2 hangs.
    while stub.requests().len() < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let said = text(&out);
    for words in [
        "Saved 1 finished image",
        "run the same command again",
        "facetra jobs cancel",
    ] {
        assert!(said.contains(words), "no {words:?} in: {said}");
    }
    assert!(!said.contains("conflict"), "no jargon: {said}");
    let saved = std::fs::read_dir(&first).unwrap().count();
    assert_eq!(saved, 1, "the finished variant is saved");
    // The lease is gone: another worker finishes it now, not after the 60 s expiry.
    stub.always(Reply::Image);
    let jobs = run(command("facetra")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["jobs", "--json"]));
    let jobs: serde_json::Value = serde_json::from_slice(&jobs.stdout).unwrap();
    let id = jobs["items"][0]["id"].as_str().unwrap().to_owned();
    let started = std::time::Instant::now();
    let mut finish = command("facetra");
    finish
        .arg("--data-dir")
        .arg(dir.path())
        .args(["jobs", &id, "--wait", "--json", "--out"])
        .arg(dir.path().join("out"));
    env(&mut finish);
    let done = tokio::task::spawn_blocking(move || run(&mut finish))
        .await
        .unwrap();
    assert!(done.status.success(), "{}", text(&done));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "it waited for the lease to expire"
    );
    let done: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(done["job"]["status"], "succeeded");
}

#[test]
fn a_crash_between_reserving_credits_and_queueing_the_job_loses_no_credit() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let facetra = |args: &[&str]| {
        run(command("facetra")
            .arg("--data-dir")
            .arg(dir.path())
            .args(args))
    };
    // The process dies right after the reservation was written and before the job was.
    let crashed = run(command("facetra")
        .arg("--data-dir")
        .arg(dir.path())
        .arg("render")
        .arg(example_sketch())
        .args(["--prompt", "a brass lamp", "--variants", "3"])
        .env("FACETRA_FAULTS", "queue_job.reserved"));
    assert!(!crashed.status.success(), "{}", text(&crashed));
    assert!(
        text(&crashed).contains("fault point queue_job.reserved reached"),
        "{}",
        text(&crashed)
    );
    let credits: serde_json::Value =
        serde_json::from_slice(&facetra(&["credits", "--json"]).stdout).unwrap();
    assert_eq!(credits["balance"], 10, "the reservation died with the job");
    let jobs: serde_json::Value =
        serde_json::from_slice(&facetra(&["jobs", "--json"]).stdout).unwrap();
    assert!(jobs["items"].as_array().unwrap().is_empty(), "{jobs}");
    let history: serde_json::Value =
        serde_json::from_slice(&facetra(&["credits", "--history", "--json"]).stdout).unwrap();
    assert_eq!(history["items"].as_array().unwrap().len(), 1, "{history}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs FACETRA_TEST_MONGODB_URI"]
async fn two_servers_on_one_mongodb_run_each_job_once_and_send_each_email_once() {
    use facetra_tests::gemini_stub::{GeminiStub, Reply};
    use facetra_tests::resend_stub::ResendStub;
    let gemini = GeminiStub::start().await;
    gemini.always(Reply::Slow(60));
    let resend = ResendStub::start().await;
    let database = format!(
        "t_{}",
        facetra_core::ids::random("two").trim_start_matches("two_")
    );
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = |dir: &std::path::Path| {
        let mut cmd = command("facetra-server");
        cmd.args(["--bind", "127.0.0.1:0"])
            .env(keys::DATA_DIR, dir)
            .env(keys::DATABASE_URL, facetra_tests::harness::mongo_uri())
            .env(keys::MONGODB_DATABASE, &database)
            .env(keys::SECRET_KEY, facetra_tests::harness::TEST_SECRET)
            .env(keys::DEV_LOGIN, "true")
            .env(keys::WORKERS, "2")
            .env(keys::MAIL_POLL_MS, "50");
        for (k, v) in gemini.settings().into_iter().chain(resend.settings()) {
            cmd.env(k, v);
        }
        RunningServer::start(cmd)
    };
    let servers = [server(dir_a.path()), server(dir_b.path())];
    let http = reqwest::Client::new();
    let (people, jobs_each, variants) = (4, 3, 2);
    let mut watched = Vec::new();
    for p in 0..people {
        let base = &servers[p % 2].base;
        let email = format!("p{p}@example.com");
        let cookie = facetra_tests::binaries::dev_login_cookie(&http, base, &email).await;
        let form = reqwest::multipart::Form::new().text("kind", "sketch").part(
            "file",
            reqwest::multipart::Part::bytes(facetra_tests::images::png(120, 90)).file_name("s.png"),
        );
        let up: serde_json::Value = http
            .post(format!("{base}/v1/uploads"))
            .header("cookie", &cookie)
            .header("origin", base)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for j in 0..jobs_each {
            let job: serde_json::Value = http
                .post(format!("{base}/v1/renders"))
                .header("cookie", &cookie)
                .header("origin", base)
                .json(&serde_json::json!({
                    "prompt": format!("lamp-{p}-{j}"), "sketch_id": up["id"], "variants": variants
                }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = job["job"]["id"].as_str().unwrap().to_owned();
            watched.push((base.clone(), cookie.clone(), id, format!("lamp-{p}-{j}")));
        }
    }
    for (base, cookie, id, _) in &watched {
        let mut status = String::new();
        for _ in 0..600 {
            let job: serde_json::Value = http
                .get(format!("{base}/v1/jobs/{id}"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            status = job["status"].as_str().unwrap_or_default().to_owned();
            if status == "succeeded" || status == "failed" {
                assert_eq!(job["credits_charged"], variants, "{job}");
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(status, "succeeded", "job {id}");
    }
    // Every (job, variant) went to the provider exactly once, whichever server took it.
    let requests: Vec<String> = gemini
        .requests()
        .iter()
        .map(|(_, _, body)| body.to_string())
        .collect();
    assert_eq!(requests.len(), people * jobs_each * variants);
    for (_, _, _, prompt) in &watched {
        for v in 1..=variants {
            let needle = format!("{prompt} Variation {v}.");
            let hits = requests.iter().filter(|r| r.contains(&needle)).count();
            assert_eq!(hits, 1, "{needle} was rendered {hits} times");
        }
    }
    // Each welcome email reached Resend exactly once (no second request, even a deduplicated one).
    for _ in 0..200 {
        if resend.sent().len() >= people {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(resend.sent().len(), people, "{:?}", resend.sent());
    assert_eq!(resend.requests(), people, "a message was sent twice");
    drop(servers);
    let client = mongodb::Client::with_uri_str(facetra_tests::harness::mongo_uri())
        .await
        .unwrap();
    let _ = client.database(&database).drop().await;
}

#[test]
fn datamap_prints_the_registry_as_a_table_and_the_same_data_as_json() {
    use facetra_core::privacy::data::{NO_PERSONAL_DATA, REGISTRY};
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let refused = run(command("facetra-admin")
        .arg("--data-dir")
        .arg(dir.path())
        .arg("datamap"));
    assert_clean_failure(&refused, "--operator");
    let admin = as_admin(dir.path(), "asha@example.com");
    let json = admin(&["datamap", "--json"]);
    assert!(json.status.success(), "{}", text(&json));
    let map: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let kinds = map["kinds"].as_array().unwrap();
    let names: Vec<&str> = kinds.iter().map(|k| k["name"].as_str().unwrap()).collect();
    let registered: Vec<&str> = REGISTRY.iter().map(|k| k.name).collect();
    assert_eq!(names, registered);
    for k in kinds {
        for field in [
            "category",
            "purpose",
            "retention",
            "processors",
            "erasure",
            "sqlite",
            "mongo",
        ] {
            assert!(!k[field].is_null(), "{} has no {field}", k["name"]);
        }
    }
    assert_eq!(
        map["no_personal_data"].as_array().unwrap().len(),
        NO_PERSONAL_DATA.len()
    );
    let table = admin(&["datamap"]);
    assert!(table.status.success(), "{}", text(&table));
    let table = text(&table);
    for k in REGISTRY {
        assert!(table.contains(k.name), "{}", k.name);
        assert!(table.contains(k.purpose), "{}", k.purpose);
    }
    for needle in [
        "Declared to hold no personal data",
        "table audit_log",
        "collection webhook_events",
        "GridFS bucket blobs",
        "Razorpay (payments)",
    ] {
        assert!(table.contains(needle), "{needle}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_exactly_what_the_api_answers_for_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let facetra = |args: &[&str]| {
        let out = run(command("facetra")
            .arg("--data-dir")
            .arg(dir.path())
            .args(args));
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let out = dir.path().join("out");
    facetra(&[
        "render",
        example_sketch().to_str().unwrap(),
        "--prompt",
        "a sage linen sofa",
        "--variants",
        "2",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let made = facetra(&["portfolio", "create", "Best of", "--json"]);
    let first = facetra(&["renders", "--json"])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    facetra(&[
        "portfolio",
        "add",
        made["id"].as_str().unwrap(),
        &first,
        "--json",
    ]);
    facetra(&["select", &first, "--json"]);

    // The same studio served over HTTP, signed in as its owner.
    let mut cmd = command("facetra-server");
    cmd.args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path())
        .env(keys::DEV_LOGIN, "true")
        .env(keys::WORKERS, "0");
    let server = RunningServer::start(cmd);
    let http = reqwest::Client::new();
    let cookie =
        facetra_tests::binaries::dev_login_cookie(&http, &server.base, "asha@example.com").await;
    let get = |path: &'static str| {
        let (http, base, cookie) = (http.clone(), server.base.clone(), cookie.clone());
        async move {
            let res = http
                .get(format!("{base}{path}"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path}");
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    for (args, path) in [
        (&["renders", "--json"][..], "/v1/renders"),
        (
            &["renders", "--selected", "--json"][..],
            "/v1/renders?selected=true",
        ),
        (&["jobs", "--json"][..], "/v1/jobs"),
        (&["credits", "--json"][..], "/v1/credits"),
        (&["portfolio", "list", "--json"][..], "/v1/portfolios"),
    ] {
        let printed = tokio::task::block_in_place(|| facetra(args));
        assert_eq!(
            printed,
            get(path).await,
            "facetra {args:?} against GET {path}"
        );
    }
    let job = get("/v1/jobs").await["items"][0].clone();
    let shown =
        tokio::task::block_in_place(|| facetra(&["jobs", job["id"].as_str().unwrap(), "--json"]));
    assert_eq!(shown, job, "a single object is the object itself");
    assert_eq!(
        job["variants"][0]["index"], 1,
        "variants are numbered from 1"
    );
    assert_eq!(job["variants"][1]["index"], 2);
    let render = &get("/v1/renders").await["items"][0];
    assert!(
        render["created_at"].as_str().unwrap().ends_with('Z'),
        "times are RFC 3339 in UTC: {render}"
    );
    drop(server);
}

#[test]
fn render_reads_the_configuration_and_opens_the_database_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let rendered = run(command("facetra")
        .arg("--data-dir")
        .arg(dir.path())
        .arg("render")
        .arg(example_sketch())
        .args(["--prompt", "a walnut desk", "--json", "--out"])
        .arg(&out)
        .args([
            "--name",
            "Asha Rao",
            "--email",
            "asha@example.com",
            "--confirm-age",
        ])
        .env("FACETRA_LOG", "facetra_cli=debug"));
    assert!(rendered.status.success(), "{}", text(&rendered));
    let stderr = String::from_utf8_lossy(&rendered.stderr);
    assert_eq!(
        stderr.matches("opening the store").count(),
        1,
        "on a fresh machine, set-up and render share one open database:\n{stderr}"
    );
    let again = run(command("facetra")
        .arg("--data-dir")
        .arg(dir.path())
        .arg("render")
        .arg(example_sketch())
        .args(["--prompt", "a walnut desk", "--json", "--out"])
        .arg(&out)
        .env("FACETRA_LOG", "facetra_cli=debug"));
    assert!(again.status.success(), "{}", text(&again));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(stderr.matches("opening the store").count(), 1, "{stderr}");
}

#[test]
fn bom_set_without_a_version_never_saves_over_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let facetra = facetra_in(dir.path());
    let render = render_once(dir.path(), "an oak table");
    facetra(&["bom", "generate", &render]);
    // Someone saves the BOM as version 1 to edit it; meanwhile version 2 is generated.
    let saved = dir.path().join("bom.json");
    std::fs::write(&saved, facetra(&["bom", "show", &render, "--json"]).stdout).unwrap();
    facetra(&["bom", "generate", &render]);
    let list = dir.path().join("items.json");
    std::fs::write(&list, r#"[{"name":"Table","category":"furniture","material":"oak","quantity":1,"unit":"pc","unit_price_paise":100}]"#).unwrap();
    let unversioned = facetra(&["bom", "set", &render, list.to_str().unwrap()]);
    assert_clean_failure(&unversioned, "--version");
    assert_eq!(unversioned.status.code(), Some(2));
    assert!(
        text(&unversioned).contains("the latest is 2"),
        "{}",
        text(&unversioned)
    );
    let stale = facetra(&["bom", "set", &render, saved.to_str().unwrap()]);
    assert_clean_failure(&stale, "reload it and apply your edit again");
    assert_eq!(
        stale.status.code(),
        Some(7),
        "the saved file carries version 1"
    );
    let latest: serde_json::Value =
        serde_json::from_slice(&facetra(&["bom", "show", &render, "--json"]).stdout).unwrap();
    assert_eq!(latest["version"], 2, "nothing was saved over version 2");
    let ok = facetra(&[
        "bom",
        "set",
        &render,
        list.to_str().unwrap(),
        "--version",
        "2",
        "--json",
    ]);
    assert!(ok.status.success(), "{}", text(&ok));
}

#[test]
fn uploads_keep_no_metadata_whichever_segment_or_chunk_hides_it() {
    use facetra_tests::images::{
        jpeg_with_app5, jpeg_with_video_trailer, png_with_unknown_chunk, HIDDEN_MARKER,
    };
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let facetra = facetra_in(dir.path());
    for (name, bytes) in [
        ("motion.jpg", jpeg_with_video_trailer(80, 60)),
        ("vendor.jpg", jpeg_with_app5(80, 60)),
        ("chunk.png", png_with_unknown_chunk(80, 60)),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, &bytes).unwrap();
        let out = facetra(&["upload", file.to_str().unwrap(), "--json"]);
        assert!(out.status.success(), "{name}: {}", text(&out));
        std::fs::remove_file(&file).unwrap();
        let stored: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            stored["size"].as_u64().unwrap() < bytes.len() as u64,
            "{name}: nothing was stripped"
        );
    }
    for path in facetra_tests::harness::walk(dir.path()) {
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !facetra_tests::harness::contains(&bytes, HIDDEN_MARKER),
            "{} holds the hidden metadata",
            path.display()
        );
    }
}

#[test]
fn the_data_directory_is_private_and_a_secret_key_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("studio");
    let out = run(command("facetra")
        .arg("--data-dir")
        .arg(&dir)
        .arg("render")
        .arg(example_sketch())
        .args(["--prompt", "a cane chair", "--json", "--out"])
        .arg(root.path().join("out"))
        .args([
            "--name",
            "Asha Rao",
            "--email",
            "asha@example.com",
            "--confirm-age",
        ]));
    assert!(out.status.success(), "{}", text(&out));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "the data directory");
    let mut seen = 0;
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                assert_eq!(mode(&p), 0o700, "{}", p.display());
                stack.push(p);
            } else {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
                seen += 1;
            }
        }
    }
    assert!(
        seen >= 5,
        "the database, its WAL, blobs, the mail copy and the key"
    );
    let key = dir.join("secret.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = run(command("facetra").arg("--data-dir").arg(&dir).arg("whoami"));
    assert_clean_failure(&refused, "chmod 600");
    assert_eq!(refused.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_slow_clients_are_closed_by_the_header_timeout_and_healthz_keeps_answering() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command("facetra-server");
    cmd.args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path())
        .env(keys::HEADER_TIMEOUT_SECS, "2");
    let server = RunningServer::start(cmd);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let started = std::time::Instant::now();
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        slow.push(tokio::spawn(async move {
            let opened = std::time::Instant::now();
            let mut buf = [0u8; 64];
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n".iter().cycle() {
                tokio::select! {
                    read = stream.read(&mut buf) => {
                        if matches!(read, Ok(0) | Err(_)) {
                            return opened.elapsed();
                        }
                    }
                    () = tokio::time::sleep(std::time::Duration::from_millis(900)) => {
                        if stream.write_all(&[*byte]).await.is_err() {
                            return opened.elapsed();
                        }
                    }
                }
                if opened.elapsed() > std::time::Duration::from_secs(20) {
                    return opened.elapsed();
                }
            }
            opened.elapsed()
        }));
    }
    // Meanwhile a new client asks /healthz, again and again.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut slowest = std::time::Duration::ZERO;
    while started.elapsed() < std::time::Duration::from_secs(4) {
        let asked = std::time::Instant::now();
        let res = http
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        slowest < std::time::Duration::from_millis(100),
        "/healthz took {slowest:?} while 300 slow clients held connections"
    );
    let mut longest = std::time::Duration::ZERO;
    for task in slow {
        longest = longest.max(task.await.unwrap());
    }
    assert!(
        longest < std::time::Duration::from_secs(4),
        "a half-sent request was kept open for {longest:?}"
    );
    drop(server);
}

/// The server's peak resident memory so far, from /proc.
fn peak_rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_40_megapixel_16_bit_uploads_stay_within_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command("facetra-server");
    cmd.args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path())
        .env(keys::DEV_LOGIN, "true")
        .env(keys::WORKERS, "0");
    let server = RunningServer::start(cmd);
    let png = facetra_tests::images::png_16bit_black(8000, 5000);
    assert!(png.len() < 2_500_000, "{} bytes", png.len());
    let http = reqwest::Client::new();
    let mut uploads = Vec::new();
    for person in 0..10 {
        let email = format!("p{person}@example.com");
        let cookie = facetra_tests::binaries::dev_login_cookie(&http, &server.base, &email).await;
        for _ in 0..2 {
            let (http, base, cookie, png) = (
                http.clone(),
                server.base.clone(),
                cookie.clone(),
                png.clone(),
            );
            uploads.push(tokio::spawn(async move {
                let form = reqwest::multipart::Form::new().text("kind", "sketch").part(
                    "file",
                    reqwest::multipart::Part::bytes(png).file_name("huge.png"),
                );
                let res = http
                    .post(format!("{base}/v1/uploads"))
                    .header("cookie", &cookie)
                    .header("origin", &base)
                    .multipart(form)
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                let retry = res.headers().contains_key("retry-after");
                let body: serde_json::Value = res.json().await.unwrap_or_default();
                (status, retry, body)
            }));
        }
    }
    let mut statuses = Vec::new();
    for upload in uploads {
        let (status, retry, body) = upload.await.unwrap();
        match status {
            201 => {}
            429 | 503 => {
                assert!(retry, "a {status} says when to come back: {body}");
                assert!(body["error"]["code"].is_string(), "{body}");
            }
            other => panic!("an upload answered {other}: {body}"),
        }
        statuses.push(status);
    }
    assert!(
        statuses.contains(&201),
        "some uploads go through: {statuses:?}"
    );
    let health = facetra_tests::binaries::http_get(&server.base, "/healthz");
    assert_eq!(health, r#"{"status":"ok"}"#, "the server stays up");
    let peak = peak_rss_mb(server.child.id());
    eprintln!("peak resident memory {peak} MB; answers {statuses:?}");
    assert!(
        peak < 1_000 + 200,
        "peak resident memory {peak} MB, over the 1 GB budget plus 200 MB: {statuses:?}"
    );
    drop(server);
}

#[tokio::test]
async fn facetra_tokens_create_list_and_revoke_and_the_server_honours_them() {
    let dir = tempfile::tempdir().unwrap();
    assert!(init(dir.path()).status.success());
    let facetra = facetra_in(dir.path());
    let made = facetra(&[
        "tokens",
        "create",
        "dashboard",
        "--scope",
        "read",
        "--days",
        "7",
        "--json",
    ]);
    assert!(made.status.success(), "{}", text(&made));
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let token = made["token"].as_str().unwrap().to_owned();
    let id = made["id"].as_str().unwrap().to_owned();
    assert!(token.starts_with("fct_"), "{made}");

    let listed = facetra(&["tokens", "list"]);
    assert!(listed.status.success(), "{}", text(&listed));
    let listed = text(&listed);
    assert!(
        listed.contains("dashboard") && listed.contains(&id),
        "{listed}"
    );
    assert!(
        !listed.contains(&token),
        "the list shows a secret:\n{listed}"
    );
    let refused = facetra(&["tokens", "create", "forever", "--days", "400"]);
    assert_clean_failure(&refused, "--days: must be between 1 and");
    assert_eq!(refused.status.code(), Some(2), "bad input exits 2");

    let mut cmd = command("facetra-server");
    cmd.args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path());
    let server = RunningServer::start(cmd);
    let http = reqwest::Client::new();
    let me = |token: String| {
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            http.get(format!("{base}/v1/me"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let res = me(token.clone()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["email"],
        "asha@example.com"
    );
    let write = http
        .post(format!("{}/v1/portfolios", server.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "name": "Kitchens" }))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 403, "a read token cannot write");

    let revoked = facetra(&["tokens", "revoke", &id]);
    assert!(revoked.status.success(), "{}", text(&revoked));
    assert_eq!(
        me(token).await.status(),
        401,
        "revoked at once, in another process"
    );
    server.terminate();
}

#[tokio::test]
async fn facetra_admin_lists_and_approves_the_waitlist_a_server_took() {
    let dir = tempfile::tempdir().unwrap();
    assert!(init(dir.path()).status.success());
    let admin = as_admin(dir.path(), "asha@example.com");
    let mut cmd = command("facetra-server");
    cmd.args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir.path());
    let server = RunningServer::start(cmd);
    let http = reqwest::Client::new();
    for (path, email) in [
        ("/v1/waitlist", "mira@example.com"),
        ("/v1/demo-bookings", "raj@example.com"),
    ] {
        let res = http
            .post(format!("{}{path}", server.base))
            .json(&serde_json::json!({ "name": "Mira Shah", "email": email, "company": "Shah Interiors" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{path}");
    }

    let listed = admin(&["waitlist", "list", "--status", "pending", "--json"]);
    assert!(listed.status.success(), "{}", text(&listed));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let id = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let demos = admin(&["demos", "list"]);
    assert!(text(&demos).contains("raj@example.com"), "{}", text(&demos));

    let approved = admin(&["waitlist", "approve", &id]);
    assert!(approved.status.success(), "{}", text(&approved));
    assert!(text(&approved).contains("approved"), "{}", text(&approved));
    let unknown = admin(&["waitlist", "approve", "sgn_nope"]);
    assert_clean_failure(&unknown, "not found");
    assert_eq!(unknown.status.code(), Some(4));
    let bad = admin(&["waitlist", "list", "--status", "maybe"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    server.terminate();
}

#[test]
fn facetra_consent_shows_and_changes_the_owners_consents() {
    let dir = tempfile::tempdir().unwrap();
    assert!(init(dir.path()).status.success());
    let facetra = facetra_in(dir.path());
    let shown = facetra(&["consent"]);
    assert!(shown.status.success(), "{}", text(&shown));
    assert!(
        text(&shown).contains("analytics") && text(&shown).contains("off"),
        "{}",
        text(&shown)
    );
    let changed = facetra(&["consent", "--analytics", "on", "--json"]);
    assert!(changed.status.success(), "{}", text(&changed));
    let changed: serde_json::Value = serde_json::from_slice(&changed.stdout).unwrap();
    assert_eq!(
        changed,
        serde_json::json!({ "analytics": true, "marketing": false })
    );
    let bad = facetra(&["consent", "--marketing", "maybe"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}

#[test]
fn facetra_admin_anonymise_logs_needs_the_dpo_counts_first_and_refuses_a_bad_age() {
    let dir = tempfile::tempdir().unwrap();
    assert!(init(dir.path()).status.success());
    let admin = as_admin(dir.path(), "asha@example.com");
    let refused = admin(&["anonymise", "logs", "--dry-run"]);
    assert_clean_failure(&refused, "dpo");
    assert_eq!(refused.status.code(), Some(5));
    grant_dpo(&admin, "asha@example.com");
    let planned = admin(&["anonymise", "logs", "--dry-run", "--json"]);
    assert!(planned.status.success(), "{}", text(&planned));
    let planned: serde_json::Value = serde_json::from_slice(&planned.stdout).unwrap();
    assert_eq!(planned["dry_run"], true);
    assert_eq!(planned["anonymised"]["request_logs"], 0);
    let done = admin(&["--yes", "anonymise", "logs", "--older-than", "90d"]);
    assert!(done.status.success(), "{}", text(&done));
    assert!(text(&done).contains("request_logs"), "{}", text(&done));
    let bad = admin(&["anonymise", "logs", "--older-than", "0d"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}

#[test]
fn output_piped_into_head_ends_quietly_and_counts_agree_with_their_number() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(init(data).status.success());
    let admin = as_admin(data, "asha@example.com");
    grant_dpo(&admin, "asha@example.com");
    // The data map is larger than a pipe holds: `head` closes it while it is still printing.
    for (bin, args) in [
        ("facetra-admin", "--operator asha@example.com datamap"),
        ("facetra-admin", "completions fish"),
    ] {
        let script = format!(
            "{} --data-dir {} {args} 2>{}/err | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}",
            facetra_tests::binaries::bin(bin).display(),
            data.display(),
            data.display()
        );
        let out = run(std::process::Command::new("bash").args(["-c", &script]));
        let code = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let err = std::fs::read_to_string(data.join("err")).unwrap_or_default();
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{bin} {args}: {err}"
        );
        assert!(
            code == "0" || code == "141",
            "{bin} {args} exited {code}: {err}"
        );
    }
    let granted = admin(&[
        "--yes",
        "credits",
        "grant",
        "asha@example.com",
        "1",
        "--reason",
        "a test",
    ]);
    assert!(
        text(&granted).contains("granted 1 credit ("),
        "{}",
        text(&granted)
    );
    let balance = facetra_in(data)(&["credits"]);
    assert!(
        text(&balance).contains("Balance: 11 credits"),
        "{}",
        text(&balance)
    );
}

#[test]
fn completions_say_how_to_install_them() {
    for bin in ["facetra", "facetra-admin"] {
        let help = run(command(bin).args(["completions", "--help"]));
        let help = text(&help);
        for shell in ["bash", "zsh", "fish"] {
            assert!(
                help.contains(&format!("{bin} completions {shell} >")),
                "{bin}: no install line for {shell}:\n{help}"
            );
        }
    }
}

#[test]
fn every_commands_help_lists_the_global_options_apart_from_its_own() {
    for (bin, cmd) in [("facetra", "render"), ("facetra-admin", "users")] {
        let help = text(&run(command(bin).args([cmd, "--help"])));
        let (own, global) = help
            .split_once("Global options:")
            .unwrap_or_else(|| panic!("{bin} {cmd}: no global options heading:\n{help}"));
        assert!(
            !own.contains("--json"),
            "{bin} {cmd}: --json among its own:\n{help}"
        );
        assert!(global.contains("--json"), "{bin} {cmd}:\n{help}");
    }
}

#[test]
fn a_batch_interrupted_after_two_jobs_and_run_again_makes_five_jobs_each_charged_once() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let sketches = dir.path().join("sketches");
    std::fs::create_dir(&sketches).unwrap();
    for (i, name) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        let png = facetra_tests::images::png(120 + i as u32 * 8, 90);
        std::fs::write(sketches.join(format!("{name}.png")), png).unwrap();
    }
    std::fs::write(sketches.join("notes.txt"), "not a sketch").unwrap();
    let facetra = facetra_in(dir.path());
    let out = dir.path().join("out");
    let render = |inputs: &[&str], extra: &[&str]| {
        let mut args = vec!["render"];
        args.extend_from_slice(inputs);
        args.extend_from_slice(&["--prompt", "oak and cane", "--out", out.to_str().unwrap()]);
        args.extend_from_slice(extra);
        let done = facetra(&args);
        assert!(done.status.success(), "{}", text(&done));
        done
    };
    let path = |name: &str| sketches.join(name).display().to_string();
    // The first run finished two jobs and was stopped while queueing the third.
    render(&[&path("a.png"), &path("b.png")], &[]);
    render(&[&path("c.png")], &["--no-wait"]);
    // The whole folder again: the three are found by their inputs, two more are made.
    let all = render(&[sketches.to_str().unwrap()], &["--json"]);
    let all: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "{all}");
    assert!(
        items.iter().all(|i| i["job"]["status"] == "succeeded"),
        "{all}"
    );
    let jobs = json_of(&facetra(&["jobs", "--json"]));
    assert_eq!(
        jobs["items"].as_array().unwrap().len(),
        5,
        "five jobs in all"
    );
    let balance = json_of(&facetra(&["credits", "--json"]));
    assert_eq!(
        balance["balance"], 5,
        "each of the five charged once: {balance}"
    );
    // Once more, quietly: every render id, one per line, and nothing charged.
    let quiet = render(&[sketches.to_str().unwrap()], &["-q"]);
    let ids: Vec<String> = String::from_utf8_lossy(&quiet.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(ids.iter().all(|id| id.starts_with("rnd_")), "{ids:?}");
    let balance = json_of(&facetra(&["credits", "--json"]));
    assert_eq!(balance["balance"], 5);
    let done = json_of(&facetra(&[
        "jobs",
        "--status",
        "succeeded",
        "--limit",
        "2",
        "--json",
    ]));
    assert_eq!(done["items"].as_array().unwrap().len(), 2, "{done}");
    assert!(done["next_cursor"].is_string(), "{done}");
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn download_goes_to_a_file_a_folder_or_stdout_keeps_what_exists_and_takes_the_selected() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let facetra = facetra_in(dir.path());
    let out = dir.path().join("out");
    let done = json_of(&facetra(&[
        "render",
        example_sketch().to_str().unwrap(),
        "--prompt",
        "a cane chair",
        "--variants",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]));
    let job = done["job"]["id"].as_str().unwrap().to_owned();
    let render = done["files"][0]["render_id"].as_str().unwrap().to_owned();
    let file = dir.path().join("chair.png");
    json_of(&facetra(&[
        "download",
        &render,
        "--out",
        file.to_str().unwrap(),
        "--json",
    ]));
    let bytes = std::fs::read(&file).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG"),
        "a path ending in a file name is that file"
    );
    let again = facetra(&["download", &render, "--out", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(7), "{}", text(&again));
    assert_clean_failure(&again, "pass --force to replace it");
    std::fs::write(&file, b"mine").unwrap();
    let kept = facetra(&["download", &render, "--out", file.to_str().unwrap()]);
    assert!(!kept.status.success());
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"mine",
        "an existing file is kept"
    );
    json_of(&facetra(&[
        "download",
        &render,
        "--out",
        file.to_str().unwrap(),
        "--force",
        "--json",
    ]));
    assert_eq!(std::fs::read(&file).unwrap(), bytes);
    let parts = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "part")
        })
        .count();
    assert_eq!(parts, 0, "a finished download leaves no .part file");
    let piped = facetra(&["download", &render, "--out", "-"]);
    assert!(piped.status.success(), "{}", text(&piped));
    assert_eq!(piped.stdout, bytes, "`-` is standard output");

    json_of(&facetra(&["select", &render, "--json"]));
    let picks = dir.path().join("picks");
    let saved = json_of(&facetra(&[
        "download",
        "--selected",
        "--out",
        picks.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(saved["items"].as_array().unwrap().len(), 1, "{saved}");
    assert_eq!(std::fs::read_dir(&picks).unwrap().count(), 1);
    let of_job = json_of(&facetra(&["renders", "--job", &job, "--json"]));
    assert_eq!(of_job["items"].as_array().unwrap().len(), 2, "{of_job}");
    let chosen = json_of(&facetra(&[
        "renders",
        "--job",
        &job,
        "--selected",
        "--json",
    ]));
    assert_eq!(chosen["items"].as_array().unwrap().len(), 1, "{chosen}");
    assert_eq!(chosen["items"][0]["id"], render.as_str());

    // Without a display, `open` prints where the image is.
    let opened = run(command("facetra")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["open", &render]));
    assert!(opened.status.success(), "{}", text(&opened));
    let path = String::from_utf8_lossy(&opened.stdout).trim().to_owned();
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "{path}");
}

#[test]
fn tables_fit_an_80_column_terminal_and_are_plain_rows_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    render_once(
        dir.path(),
        "an oak dining table with brass legs and a linen runner",
    );
    let facetra = facetra_in(dir.path());
    let piped = facetra(&["renders"]);
    let piped = String::from_utf8_lossy(&piped.stdout).to_string();
    assert_eq!(piped.lines().count(), 1, "one row, no header: {piped}");
    assert!(piped.starts_with("rnd_") && piped.contains('\t'), "{piped}");
    assert!(!piped.contains('│'), "no box drawing when piped: {piped}");
    // On a terminal 80 columns wide (a pseudo-terminal from `script`).
    let line = format!(
        "stty cols 80; {} --data-dir {} renders",
        facetra_tests::binaries::bin("facetra").display(),
        dir.path().display()
    );
    let shown = run(std::process::Command::new("script")
        .env(
            "XDG_CONFIG_HOME",
            facetra_tests::binaries::empty_config_home(),
        )
        .args(["-qec", &line, "/dev/null"]));
    let shown = String::from_utf8_lossy(&shown.stdout).to_string();
    assert!(shown.contains('│'), "a table on a terminal: {shown}");
    for row in shown.lines() {
        assert!(
            row.trim_end().chars().count() <= 80,
            "wider than 80: {row:?}\n{shown}"
        );
    }
}

#[test]
fn errors_name_flags_say_the_next_step_and_never_the_os_or_storage_words() {
    let fresh = tempfile::tempdir().unwrap();
    let unset = facetra_in(fresh.path())(&["whoami"]);
    assert_eq!(unset.status.code(), Some(3));
    assert_clean_failure(&unset, "run `facetra init` first");
    assert!(!text(&unset).contains("SQLite"), "{}", text(&unset));

    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let facetra = facetra_in(dir.path());
    let sketch = example_sketch();
    let sketch = sketch.to_str().unwrap();
    let missing = facetra(&["render", "no-such-sketch.png", "--prompt", "x"]);
    assert_eq!(
        missing.status.code(),
        Some(2),
        "a missing file is bad input"
    );
    assert_clean_failure(&missing, "no-such-sketch.png: no such file");
    assert!(!text(&missing).contains("os error"), "{}", text(&missing));

    let aspect = facetra(&["render", sketch, "--prompt", "x", "--aspect", "7:5"]);
    assert_eq!(aspect.status.code(), Some(2));
    assert_clean_failure(&aspect, "--aspect: use one of");
    assert!(!text(&aspect).contains("aspect_ratio"), "{}", text(&aspect));

    let render = render_once(dir.path(), "a cane chair");
    let no_bom = facetra(&["bom", "show", &render]);
    assert_eq!(no_bom.status.code(), Some(4));
    assert_clean_failure(&no_bom, "facetra bom generate");

    let unknown = facetra(&["buy", "nope"]);
    assert_clean_failure(&unknown, "unknown pack \"nope\"");
    assert!(!text(&unknown).contains("payments"), "{}", text(&unknown));

    // Spend the trial credits until a render is refused.
    let broke = (0..10)
        .map(|i| {
            facetra(&[
                "render",
                sketch,
                "--prompt",
                &format!("y{i}"),
                "--variants",
                "4",
            ])
        })
        .find(|out| !out.status.success())
        .expect("the trial credits run out");
    assert_eq!(broke.status.code(), Some(8), "{}", text(&broke));
    assert_clean_failure(&broke, "facetra buy PACK");
}

/// Runs `facetra ARGS` on a pseudo-terminal (`script`), with `env` set; its output.
fn on_a_terminal(dir: &std::path::Path, env: &[(&str, &str)], args: &str) -> Output {
    let line = format!(
        "{} --data-dir {} {args}",
        facetra_tests::binaries::bin("facetra").display(),
        dir.display()
    );
    let mut cmd = std::process::Command::new("script");
    cmd.env(
        "XDG_CONFIG_HOME",
        facetra_tests::binaries::empty_config_home(),
    )
    .args(["-qec", &line, "/dev/null"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

#[test]
fn bom_edit_saves_only_a_change_reopens_bad_json_and_generate_keeps_edits_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let facetra = facetra_in(dir.path());
    let render = render_once(dir.path(), "an oak table with a brass lamp");
    let first = json_of(&facetra(&["bom", "generate", &render, "--json"]));
    assert_eq!(first["version"], 1);

    // Saved without a change: no new version.
    let unchanged = on_a_terminal(
        dir.path(),
        &[("EDITOR", "true")],
        &format!("bom edit {render}"),
    );
    assert!(unchanged.status.success(), "{}", text(&unchanged));
    assert!(
        text(&unchanged).contains("No changes"),
        "{}",
        text(&unchanged)
    );
    assert_eq!(
        json_of(&facetra(&["bom", "show", &render, "--json"]))["version"],
        1
    );

    // The first save is not JSON; the editor opens again with the error on top and the
    // second save (which sees the note) is kept.
    let editor = dir.path().join("editor.sh");
    let rounds = dir.path().join("rounds");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\necho x >> {rounds}\nif [ $(wc -l < {rounds}) -eq 1 ]; then echo 'oops, not json' > \"$1\"; \
             else grep -q '^// facetra:' \"$1\" || exit 9; \
             echo '[{{\"name\":\"Lamp\",\"category\":\"lighting\",\"material\":\"brass\",\"quantity\":2,\"unit\":\"pc\",\"unit_price_paise\":150000,\"note\":\"\"}}]' > \"$1\"; fi\n",
            rounds = rounds.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&editor)
        .status()
        .unwrap();
    let edited = on_a_terminal(
        dir.path(),
        &[("EDITOR", editor.to_str().unwrap())],
        &format!("bom edit {render}"),
    );
    assert!(edited.status.success(), "{}", text(&edited));
    assert_eq!(std::fs::read_to_string(&rounds).unwrap().lines().count(), 2);
    let latest = json_of(&facetra(&["bom", "show", &render, "--json"]));
    assert_eq!(latest["version"], 2);
    assert_eq!(latest["items"][0]["name"], "Lamp");

    // Generating over the edit asks; without a terminal it needs --force.
    let refused = facetra(&["bom", "generate", &render]);
    assert_eq!(refused.status.code(), Some(7), "{}", text(&refused));
    assert_clean_failure(&refused, "--force");
    assert_eq!(
        json_of(&facetra(&["bom", "show", &render, "--json"]))["version"],
        2
    );
    let forced = json_of(&facetra(&["bom", "generate", &render, "--force", "--json"]));
    assert_eq!(forced["version"], 3);
    // Every version stays readable.
    let second = json_of(&facetra(&[
        "bom",
        "show",
        &render,
        "--version",
        "2",
        "--json",
    ]));
    assert_eq!(second["items"][0]["name"], "Lamp");
    let none = facetra(&["bom", "show", &render, "--version", "9"]);
    assert_eq!(none.status.code(), Some(4));
}

#[test]
fn a_misspelled_key_in_the_config_file_is_named_with_the_closest_setting() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let file = dir.path().join("facetra.toml");
    std::fs::write(
        &file,
        "renderr = \"local\"\ntrial_credits = 10\nzzzzzzzzzzzz = 1\n",
    )
    .unwrap();
    let out = run(command("facetra")
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--config")
        .arg(&file)
        .arg("whoami"));
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("`renderr` is not a setting and is ignored; did you mean `renderer`?"),
        "{said}"
    );
    assert!(
        !said.contains("`trial_credits`"),
        "a valid key is no warning: {said}"
    );
    assert!(said.contains("`zzzzzzzzzzzz` is not a setting"), "{said}");
}

#[test]
fn the_first_run_checks_each_answer_as_it_is_given_and_asks_again() {
    let dir = tempfile::tempdir().unwrap();
    let line = format!(
        "{} --data-dir {} init",
        facetra_tests::binaries::bin("facetra").display(),
        dir.path().display()
    );
    // Typed answers, each after its prompt is up: a bad email, then a good one, then yes.
    let typed = "(sleep 1; printf 'Asha Rao\\r'; sleep 0.5; printf 'not-an-email\\r'; sleep 0.5; \
                 printf 'asha@example.com\\r'; sleep 0.5; printf y; sleep 1)";
    let out = run(std::process::Command::new("sh")
        .env(
            "XDG_CONFIG_HOME",
            facetra_tests::binaries::empty_config_home(),
        )
        .arg("-c")
        .arg(format!("{typed} | script -qec '{line}' /dev/null")));
    let said = text(&out);
    assert!(said.contains("is not a valid email address"), "{said}");
    assert!(
        said.contains("Are you 18 or older?"),
        "asked again, then went on: {said}"
    );
    assert!(
        said.contains("Owner: Asha Rao <asha@example.com>"),
        "{said}"
    );
}

#[test]
fn times_in_text_output_come_in_one_format() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    render_once(dir.path(), "a cane chair");
    let facetra = facetra_in(dir.path());
    json_of(&facetra(&[
        "tokens", "create", "ci", "--scope", "read", "--json",
    ]));
    let mut printed = String::new();
    for args in [
        &["whoami"][..],
        &["tokens", "list"],
        &["jobs"],
        &["renders"],
        &["credits", "--history"],
    ] {
        let out = facetra(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        printed.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    let stamp = |s: &str| {
        s.len() >= 20
            && s.as_bytes()[4] == b'-'
            && s.as_bytes()[10] == b' '
            && s.as_bytes()[13] == b':'
            && &s[16..20] == " UTC"
    };
    let mut seen = 0;
    for (i, _) in printed.match_indices("20") {
        let rest = &printed[i..];
        if rest.len() > 10 && rest.as_bytes()[4] == b'-' && rest.as_bytes()[7] == b'-' {
            assert!(
                stamp(rest),
                "a time not as `YYYY-MM-DD HH:MM UTC`: {:?}",
                &rest[..rest.len().min(25)]
            );
            seen += 1;
        }
    }
    assert!(seen >= 5, "{printed}");
}

#[test]
fn config_set_checks_the_value_first_keeps_secrets_unprinted_and_get_and_list_agree() {
    let home = tempfile::tempdir().unwrap();
    let facetra = |args: &[&str]| {
        run(command("facetra")
            .env("XDG_CONFIG_HOME", home.path())
            .args(args))
    };
    let file = home.path().join("facetra/facetra.toml");
    let set = facetra(&["config", "set", "trial_credits", "25"]);
    assert!(set.status.success(), "{}", text(&set));
    let got = facetra(&["config", "get", "FACETRA_TRIAL_CREDITS"]);
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "25");
    // A value the configuration refuses is not saved.
    let bad = facetra(&["config", "set", "trial_credits", "lots"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "trial_credits = 25\n"
    );
    let typo = facetra(&["config", "set", "trial_credit", "5"]);
    assert_eq!(typo.status.code(), Some(2));
    assert_clean_failure(&typo, "did you mean `trial_credits`?");
    // A secret is kept private and never printed.
    let secret = "sk-test-never-printed-0001";
    let set = facetra(&["config", "set", "gemini_api_key", secret]);
    assert!(set.status.success(), "{}", text(&set));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for args in [
        &["config", "get", "gemini_api_key"][..],
        &["config", "list"],
        &["config", "list", "--json"],
    ] {
        let out = facetra(args);
        assert!(out.status.success(), "{}", text(&out));
        assert!(!text(&out).contains(secret), "{args:?} printed the secret");
    }
    let listed = json_of(&facetra(&["config", "list", "--json"]));
    let credits = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["toml_key"] == "trial_credits")
        .unwrap()
        .clone();
    assert_eq!(credits["value"], "25");
    assert_eq!(credits["from"], "file");
}

#[test]
fn jobs_cancel_refunds_the_variants_not_started() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let facetra = facetra_in(dir.path());
    let sketch = example_sketch();
    let queued = json_of(&facetra(&[
        "render",
        sketch.to_str().unwrap(),
        "--prompt",
        "a cane chair",
        "--variants",
        "3",
        "--no-wait",
        "--json",
    ]));
    let id = queued["id"].as_str().unwrap().to_owned();
    assert_eq!(json_of(&facetra(&["credits", "--json"]))["balance"], 7);
    let cancelled = json_of(&facetra(&["jobs", "cancel", &id, "--json"]));
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert_eq!(cancelled["credits_refunded"], 3, "{cancelled}");
    assert_eq!(json_of(&facetra(&["credits", "--json"]))["balance"], 10);
    let listed = json_of(&facetra(&["jobs", "--status", "cancelled", "--json"]));
    assert_eq!(listed["items"][0]["id"], id.as_str());
}

#[test]
fn render_reuses_an_upload_and_a_second_run_is_the_same_job() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let facetra = facetra_in(dir.path());
    let sketch = example_sketch();
    let upload = json_of(&facetra(&["upload", sketch.to_str().unwrap(), "--json"]));
    let id = upload["id"].as_str().unwrap().to_owned();
    let out = dir.path().join("out");
    let args = [
        "render",
        "--sketch",
        &id,
        "--prompt",
        "in white oak",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ];
    let first = json_of(&facetra(&args));
    assert_eq!(first["job"]["status"], "succeeded", "{first}");
    let again = json_of(&facetra(&args));
    assert_eq!(
        again["job"]["id"], first["job"]["id"],
        "the same inputs, the same job"
    );
    assert_eq!(json_of(&facetra(&["credits", "--json"]))["balance"], 9);
}
