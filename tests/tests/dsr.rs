//! The DPO's toolkit through the real binaries: a person raises a request with `facetra`; the
//! DPO takes an erasure request that arrived by email from intake to completion with
//! `facetra-admin` alone — opened, refused while unverified, verified with the mailed code,
//! planned, interrupted halfway and finished — and after a backup is restored, `dsr replay`
//! erases the person again. What is left is scanned byte by byte.

use std::path::Path;

use facetra_core::config::keys;
use facetra_tests::binaries::{command, run, RunningServer};

use facetra_tests::harness::{contains, walk};

use super::binaries::{as_admin, facetra_in, grant_dpo, init, render_once, text};

/// Every byte Facetra stored under `dir` (the CLI's saved images under `out/` aside, and
/// SQLite's shared-memory index, which every opening rewrites and which holds no rows).
fn stored(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for f in walk(dir) {
        let shm = f.to_string_lossy().ends_with("-shm");
        if !f.starts_with(dir.join("out")) && !shm {
            all.extend(std::fs::read(&f).unwrap_or_default());
        }
    }
    all
}

/// The newest verification code the file mailer wrote.
fn mailed_code(dir: &Path) -> String {
    let mut newest: Option<(std::time::SystemTime, String)> = None;
    for f in walk(&dir.join("outbox")) {
        let body = std::fs::read_to_string(&f).unwrap_or_default();
        if let Some(rest) = body.split("Your verification code is ").nth(1) {
            let at = std::fs::metadata(&f).unwrap().modified().unwrap();
            if newest.as_ref().is_none_or(|(t, _)| at > *t) {
                newest = Some((at, rest[..6].to_owned()));
            }
        }
    }
    newest.expect("a mailed code").1
}

fn copy_store(from: &Path, to: &Path) {
    for f in walk(from) {
        let rel = f.strip_prefix(from).unwrap();
        if rel.starts_with("out") || rel.starts_with("erasures") {
            continue;
        }
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

#[tokio::test]
async fn a_dpo_takes_an_erasure_request_from_intake_to_completion_with_facetra_admin_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(init(data).status.success());
    render_once(data, "an oak desk by Asha Rao");
    let facetra = facetra_in(data);
    let grievance = json(&facetra(&[
        "privacy",
        "request",
        "grievance",
        "-m",
        "Asha Rao finds the renders too dark",
        "--json",
    ]));
    assert_eq!(grievance["status"], "verified");
    let mine = json(&facetra(&["privacy", "requests", "--json"]));
    assert_eq!(mine["items"][0]["id"], grievance["id"]);

    // The DPO's own account, made by signing in once.
    let mut cmd = command("facetra-server");
    cmd.args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, data)
        .env(keys::DEV_LOGIN, "true")
        .env(keys::WORKERS, "0");
    let server = RunningServer::start(cmd);
    let http = reqwest::Client::new();
    facetra_tests::binaries::dev_login_cookie(&http, &server.base, "dee@example.com").await;
    assert!(server.terminate().success());
    let admin = as_admin(data, "dee@example.com");
    grant_dpo(&admin, "dee@example.com");

    // A backup, taken before the erasure.
    let backup = tempfile::tempdir().unwrap();
    copy_store(data, backup.path());

    // Intake: a request that arrived by email.
    let opened = json(&admin(&[
        "dsr",
        "open",
        "--email",
        "asha@example.com",
        "--type",
        "erasure",
        "--json",
    ]));
    let id = opened["id"].as_str().unwrap().to_owned();
    assert_eq!(opened["status"], "received");
    let before = stored(data);
    let refused = admin(&["--yes", "dsr", "erase", &id, "--forfeit-credits"]);
    assert_eq!(refused.status.code(), Some(7), "{}", text(&refused));
    assert!(
        text(&refused).contains("not verified"),
        "{}",
        text(&refused)
    );
    assert!(contains(&stored(data), "asha@example.com"));
    assert!(
        before == stored(data),
        "an unverified erasure changes nothing"
    );

    // Verification by the mailed code.
    let sent = admin(&["dsr", "verify", &id, "--send-code"]);
    assert!(sent.status.success(), "{}", text(&sent));
    let code = mailed_code(data);
    let verified = json(&admin(&["dsr", "verify", &id, "--code", &code, "--json"]));
    assert_eq!(verified["status"], "verified");
    assert_eq!(verified["verified_by"], "code");

    // The plan, then a refusal while credits remain, then a run killed halfway.
    let plan = json(&admin(&["dsr", "erase", &id, "--dry-run", "--json"]));
    assert_eq!(plan["state"], "planned");
    let held = admin(&["--yes", "dsr", "erase", &id]);
    assert_eq!(held.status.code(), Some(7), "{}", text(&held));
    assert!(text(&held).contains("--forfeit-credits"), "{}", text(&held));
    let killed = run(command("facetra-admin")
        .arg("--data-dir")
        .arg(data)
        .args([
            "--operator",
            "dee@example.com",
            "--yes",
            "dsr",
            "erase",
            &id,
        ])
        .arg("--forfeit-credits")
        .env("FACETRA_FAULTS", "erasure.after.renders"));
    assert!(
        !killed.status.success(),
        "the fault point stops it: {}",
        text(&killed)
    );
    let shown = json(&admin(&["dsr", "show", &id, "--json"]));
    assert_eq!(shown["status"], "in_progress");
    let done = json(&admin(&[
        "--yes",
        "dsr",
        "erase",
        &id,
        "--forfeit-credits",
        "--json",
    ]));
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(
        done["kinds"], plan["kinds"],
        "the real counts equal the plan's"
    );

    let after = stored(data);
    for needle in ["asha@example.com", "Asha Rao"] {
        assert!(!contains(&after, needle), "{needle} is still stored");
    }
    let again = json(&admin(&["--yes", "dsr", "erase", &id, "--json"]));
    assert_eq!(again["kinds"], done["kinds"]);
    assert!(stored(data) == after, "a second erasure changes nothing");

    // Due dates: the grievance (open) is overdue in 31 days.
    let received: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(opened["received_at"].clone()).unwrap();
    let later = (received + chrono::Duration::days(31))
        .format("%Y-%m-%d")
        .to_string();
    let overdue = json(&admin(&[
        "dsr",
        "list",
        "--overdue",
        "--as-of",
        &later,
        "--json",
    ]));
    let ids: Vec<&str> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![grievance["id"].as_str().unwrap()]);
    assert!(text(&admin(&["dsr", "list", "--as-of", &later])).contains("OVERDUE"));
    let audit = admin(&["audit", "verify"]);
    assert!(audit.status.success(), "{}", text(&audit));

    // A restored backup brings the person back; the replay erases them again.
    for f in ["facetra.db", "facetra.db-wal", "facetra.db-shm"] {
        let _ = std::fs::remove_file(data.join(f));
    }
    let _ = std::fs::remove_dir_all(data.join("blobs"));
    let _ = std::fs::remove_dir_all(data.join("outbox"));
    copy_store(backup.path(), data);
    assert!(
        contains(&stored(data), "asha@example.com"),
        "the backup holds Asha"
    );
    let replayed = json(&admin(&["--yes", "dsr", "replay", "--json"]));
    assert_eq!(
        replayed["accounts"].as_array().unwrap().len(),
        1,
        "{replayed}"
    );
    let restored = stored(data);
    for needle in ["asha@example.com", "Asha Rao"] {
        assert!(
            !contains(&restored, needle),
            "{needle} is back after the replay"
        );
    }
}

#[test]
fn an_export_is_a_zip_any_unzip_tool_reads_and_an_unverified_one_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(init(data).status.success());
    render_once(data, "an oak desk");
    let zip = data.join("out").join("mine.zip");
    let saved = json(&facetra_in(data)(&[
        "privacy",
        "export",
        "--out",
        zip.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(saved["status"], "ready");
    // Python's zipfile checks every entry's CRC.
    let checked = run(std::process::Command::new("python3")
        .args(["-m", "zipfile", "-t"])
        .arg(&zip));
    assert!(checked.status.success(), "{}", text(&checked));
    let listed = run(std::process::Command::new("python3")
        .args(["-m", "zipfile", "-l"])
        .arg(&zip));
    let listing = String::from_utf8_lossy(&listed.stdout).into_owned();
    for name in ["manifest.json", "index.html", "data/renders.json", "files/"] {
        assert!(listing.contains(name), "{name} missing from:\n{listing}");
    }
    let again = facetra_in(data)(&["privacy", "export", "--out", zip.to_str().unwrap()]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing file is kept: {}",
        text(&again)
    );

    let unasked = facetra_in(data)(&["privacy", "delete-account"]);
    assert_eq!(unasked.status.code(), Some(2), "{}", text(&unasked));
    let asked = json(&facetra_in(data)(&[
        "privacy",
        "delete-account",
        "--yes",
        "--json",
    ]));
    assert_eq!(
        (asked["type"].as_str(), asked["status"].as_str()),
        (Some("erasure"), Some("verified"))
    );

    let admin = as_admin(data, "asha@example.com");
    grant_dpo(&admin, "asha@example.com");
    let opened = json(&admin(&[
        "dsr",
        "open",
        "--email",
        "asha@example.com",
        "--type",
        "access",
        "--json",
    ]));
    let id = opened["id"].as_str().unwrap();
    let out = data.join("out").join("dpo.zip");
    let refused = admin(&["dsr", "export", id, "--out", out.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(7), "{}", text(&refused));
    assert!(
        !out.exists(),
        "nothing is written for an unverified request"
    );
    let verified = admin(&[
        "--yes",
        "dsr",
        "verify",
        id,
        "--override",
        "asked in person",
    ]);
    assert!(verified.status.success(), "{}", text(&verified));
    let written = admin(&["dsr", "export", id, "--out", out.to_str().unwrap()]);
    assert!(written.status.success(), "{}", text(&written));
    assert!(text(&written).contains("dsr close"), "{}", text(&written));
    let closed = json(&admin(&[
        "dsr",
        "close",
        id,
        "--outcome",
        "Export sent",
        "--json",
    ]));
    assert_eq!(closed["status"], "completed");
}

#[test]
fn retention_plan_and_apply_agree_and_apply_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(init(data).status.success());
    let admin = as_admin(data, "asha@example.com");
    let refused = admin(&["retention", "plan"]);
    assert_eq!(
        refused.status.code(),
        Some(5),
        "the DPO's: {}",
        text(&refused)
    );
    grant_dpo(&admin, "asha@example.com");
    let later = "2099-01-01";
    let plan = json(&admin(&["retention", "plan", "--as-of", later, "--json"]));
    assert_eq!(plan["applied"], false);
    let kinds: Vec<&str> = plan["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    for kind in ["request_logs", "payments", "sessions", "exports"] {
        assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
    }
    let unconfirmed = admin(&["retention", "apply", "--as-of", later]);
    let changed: u64 = plan["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["changed"].as_u64().unwrap())
        .sum();
    if changed > 0 {
        assert!(
            !unconfirmed.status.success(),
            "without a terminal it needs --yes"
        );
    }
    let applied = json(&admin(&[
        "--yes",
        "retention",
        "apply",
        "--as-of",
        later,
        "--json",
    ]));
    assert_eq!(applied["applied"], true);
    for (p, a) in plan["lines"]
        .as_array()
        .unwrap()
        .iter()
        .zip(applied["lines"].as_array().unwrap())
    {
        assert_eq!(p["changed"], a["changed"], "{}", p["kind"]);
    }
    let earlier = admin(&["retention", "plan", "--as-of", "2000-01-01"]);
    assert_eq!(earlier.status.code(), Some(2), "{}", text(&earlier));
}

#[test]
fn a_breach_is_recorded_reported_and_its_people_told_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(init(data).status.success());
    let admin = as_admin(data, "asha@example.com");
    grant_dpo(&admin, "asha@example.com");
    let opened = json(&admin(&[
        "breach",
        "open",
        "--detected-at",
        "2020-01-01T00:00:00Z",
        "--summary",
        "A test incident",
        "--json",
    ]));
    let id = opened[0]["id"].as_str().unwrap().to_owned();
    let listed = admin(&["breach", "list"]);
    assert!(text(&listed).contains("MISSED"), "{}", text(&listed));
    let reported = admin(&["breach", "report", &id, "--to", "cert-in"]);
    assert!(reported.status.success(), "{}", text(&reported));
    assert!(text(&reported).contains("met"), "{}", text(&reported));
    let users = data.join("affected.txt");
    std::fs::write(&users, "asha@example.com\nnobody@example.com\n").unwrap();
    let dry = json(&admin(&[
        "breach",
        "notify",
        &id,
        "--users",
        users.to_str().unwrap(),
        "--dry-run",
        "--json",
    ]));
    assert_eq!(dry["notified"], 1);
    let unconfirmed = admin(&["breach", "notify", &id, "--users", users.to_str().unwrap()]);
    assert!(
        !unconfirmed.status.success(),
        "it asks first: {}",
        text(&unconfirmed)
    );
    let sent = json(&admin(&[
        "--yes",
        "breach",
        "notify",
        &id,
        "--users",
        users.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(sent["notified"], 1);
    assert_eq!(sent["skipped"], serde_json::json!(["nobody@example.com"]));
    let mailed = walk(&data.join("outbox")).iter().any(|f| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .contains("security incident")
    });
    assert!(mailed, "the notice went out through the outbox");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs FACETRA_TEST_MONGODB_URI"]
async fn on_mongodb_too_a_dpo_exports_and_erases_with_facetra_admin_alone() {
    let database = format!(
        "t_{}",
        facetra_core::ids::random("dsr").trim_start_matches("dsr_")
    );
    let dir = tempfile::tempdir().unwrap();
    let env = |cmd: &mut std::process::Command| {
        cmd.env(keys::DATA_DIR, dir.path())
            .env(keys::DATABASE_URL, facetra_tests::harness::mongo_uri())
            .env(keys::MONGODB_DATABASE, &database)
            .env(keys::SECRET_KEY, facetra_tests::harness::TEST_SECRET);
    };
    let mut cmd = command("facetra-server");
    cmd.args(["--bind", "127.0.0.1:0"])
        .env(keys::DEV_LOGIN, "true")
        .env(keys::WORKERS, "0");
    env(&mut cmd);
    let server = RunningServer::start(cmd);
    let http = reqwest::Client::new();
    for email in ["ada@example.com", "dee@example.com"] {
        facetra_tests::binaries::dev_login_cookie(&http, &server.base, email).await;
    }
    assert!(server.terminate().success());
    let admin = |args: &[&str]| {
        let mut cmd = command("facetra-admin");
        env(&mut cmd);
        cmd.args(["--operator", "dee@example.com"]).args(args);
        run(&mut cmd)
    };
    let boot = {
        let mut cmd = command("facetra-admin");
        env(&mut cmd);
        run(cmd.args(["--yes", "bootstrap", "dee@example.com"]))
    };
    assert!(boot.status.success(), "{}", text(&boot));
    grant_dpo(&admin, "dee@example.com");

    let access = json(&admin(&[
        "dsr",
        "open",
        "--email",
        "ada@example.com",
        "--type",
        "access",
        "--json",
    ]));
    let id = access["id"].as_str().unwrap();
    let verified = admin(&["--yes", "dsr", "verify", id, "--override", "seen in person"]);
    assert!(verified.status.success(), "{}", text(&verified));
    let zip = dir.path().join("ada.zip");
    let written = admin(&["dsr", "export", id, "--out", zip.to_str().unwrap()]);
    assert!(written.status.success(), "{}", text(&written));
    let checked = run(std::process::Command::new("python3")
        .args(["-m", "zipfile", "-t"])
        .arg(&zip));
    assert!(checked.status.success(), "{}", text(&checked));

    let erasure = json(&admin(&[
        "dsr",
        "open",
        "--email",
        "ada@example.com",
        "--type",
        "erasure",
        "--json",
    ]));
    let id = erasure["id"].as_str().unwrap();
    let verified = admin(&["--yes", "dsr", "verify", id, "--override", "seen in person"]);
    assert!(verified.status.success(), "{}", text(&verified));
    let plan = json(&admin(&["dsr", "erase", id, "--dry-run", "--json"]));
    let done = json(&admin(&[
        "--yes",
        "dsr",
        "erase",
        id,
        "--forfeit-credits",
        "--json",
    ]));
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["kinds"], plan["kinds"]);

    let client = mongodb::Client::with_uri_str(facetra_tests::harness::mongo_uri())
        .await
        .unwrap();
    let db = client.database(&database);
    let mut all = String::new();
    for name in db.list_collection_names().await.unwrap() {
        use futures::TryStreamExt;
        let docs: Vec<mongodb::bson::Document> = db
            .collection(&name)
            .find(mongodb::bson::doc! {})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        for d in docs {
            all.push_str(&d.to_string());
        }
    }
    assert!(
        !all.contains("ada@example.com"),
        "Ada's email is still stored"
    );
    assert!(all.contains("dee@example.com"), "the scan reads the store");
    let _ = db.drop().await;
    client.shutdown().await;
}

#[test]
fn a_grievance_raised_from_the_cli_reaches_the_dpo_with_its_due_date_and_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(init(data).status.success());
    let facetra = facetra_in(data);
    let sent = json(&facetra(&[
        "messages",
        "send",
        "--kind",
        "grievance",
        "--subject",
        "Charged twice",
        "--body",
        "My card was charged twice for one pack",
        "--json",
    ]));
    let thread = sent["id"].as_str().unwrap().to_owned();
    let admin = as_admin(data, "asha@example.com");
    grant_dpo(&admin, "asha@example.com");
    let queue = json(&admin(&["dsr", "list", "--type", "grievance", "--json"]));
    let r = &queue["items"][0];
    assert_eq!(r["status"], "verified");
    assert!(r["message"].as_str().unwrap().contains(&thread), "{r}");
    assert!(r["due_at"].is_string());
    let open = json(&admin(&["messages", "list", "--open", "--json"]));
    assert_eq!(open["items"][0]["id"], thread.as_str());
    let answered = json(&admin(&[
        "messages",
        "reply",
        &thread,
        "--body",
        "We refunded the second charge.",
        "--json",
    ]));
    assert_eq!(answered["status"], "answered");
    let seen = json(&facetra(&["messages", "show", &thread, "--json"]));
    assert_eq!(seen["replies"][0]["from"], "staff");
    assert_eq!(seen["replies"][0]["body"], "We refunded the second charge.");
    let closed = json(&admin(&[
        "dsr",
        "close",
        r["id"].as_str().unwrap(),
        "--outcome",
        "Refunded",
        "--json",
    ]));
    assert_eq!(closed["status"], "completed");
}
