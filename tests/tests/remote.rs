//! `facetra` against a running `facetra-server` (remote mode) through the real binaries: the
//! same commands give the same JSON and exit codes as on the embedded default, and a token the
//! server refuses ends a command with the `facetra login` hint and exit 5.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use facetra_core::config::keys;
use facetra_tests::binaries::{command, run, RunningServer};
use serde_json::Value;

use super::binaries::text;

/// A local studio set up for Ada in a fresh directory.
pub(super) fn studio() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = run(command("facetra").arg("--data-dir").arg(dir.path()).args([
        "init",
        "--name",
        "Ada Lovelace",
        "--email",
        "ada@example.com",
        "--confirm-age",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    dir
}

/// A read-write API token for the owner of the studio in `dir`.
pub(super) fn token_for(dir: &Path) -> String {
    let out = run(command("facetra").arg("--data-dir").arg(dir).args([
        "tokens", "create", "cli", "--scope", "read", "--scope", "write",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `facetra-server` on the studio in `dir`.
fn serve(dir: &Path) -> RunningServer {
    let mut cmd = command("facetra-server");
    cmd.args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, dir)
        .env(keys::WORKERS, "2");
    RunningServer::start(cmd)
}

/// `facetra` in remote mode: `--server`, the token in FACETRA_TOKEN, and its own (empty)
/// configuration directory.
fn remote(base: &str, token: &str, config_home: &Path) -> impl Fn(&[&str]) -> Output {
    let (base, token, home) = (base.to_owned(), token.to_owned(), config_home.to_owned());
    move |args: &[&str]| {
        let mut c: Command = command("facetra");
        c.env("XDG_CONFIG_HOME", &home)
            .env("FACETRA_TOKEN", &token)
            .arg("--server")
            .arg(&base)
            .args(args);
        run(&mut c)
    }
}

/// Ids, times, links and this run's directory replaced by what they are, so two runs can be
/// compared: the same id is the same placeholder wherever it appears.
struct Normaliser {
    ids: HashMap<String, String>,
    dir: String,
}

impl Normaliser {
    fn new(dir: &Path) -> Normaliser {
        Normaliser {
            ids: HashMap::new(),
            dir: dir.display().to_string(),
        }
    }

    fn id(&mut self, word: &str) -> Option<String> {
        let (prefix, rest) = word.split_once('_')?;
        let is_id = (3..=4).contains(&prefix.len())
            && prefix.bytes().all(|b| b.is_ascii_lowercase())
            && rest.len() == 26
            && rest.bytes().all(|b| b.is_ascii_alphanumeric());
        is_id.then(|| {
            let next = self.ids.len() + 1;
            self.ids
                .entry(word.to_owned())
                .or_insert_with(|| format!("<{prefix} {next}>"))
                .clone()
        })
    }

    fn string(&mut self, s: &str) -> String {
        if chrono::DateTime::parse_from_rfc3339(s).is_ok() {
            return "<time>".into();
        }
        if s.starts_with("http://") || s.starts_with("/files/") {
            return "<link>".into();
        }
        // Ids stand alone or inside a file name (`<dir>/renders/job_…-1.png`).
        let s = s.replace(&self.dir, "<dir>");
        let mut out = String::new();
        let mut word = String::new();
        for c in s.chars().chain(std::iter::once('\0')) {
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
                continue;
            }
            let replaced = self.id(&word).unwrap_or_else(|| word.clone());
            out.push_str(&replaced);
            word.clear();
            if c != '\0' {
                out.push(c);
            }
        }
        out
    }

    fn value(&mut self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.string(s)),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.value(i)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// What one step printed: its exit code and its JSON, normalised.
type Step = (String, i32, Value);

/// The scenario of the issue, run through `facetra` as `run` runs it, with files under `dir`.
fn scenario(facetra: &dyn Fn(&[&str]) -> Output, dir: &Path) -> Vec<Step> {
    let mut n = Normaliser::new(dir);
    let mut steps = Vec::new();
    let mut step = |name: &str, args: &[&str]| -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = facetra(&all);
        let code = out.status.code().unwrap_or(-1);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        assert!(
            code == 0 || json.is_null(),
            "{name} failed and printed JSON: {}",
            text(&out)
        );
        steps.push((name.to_owned(), code, n.value(&json)));
        json
    };
    let sketch = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sketch.png");
    let out_dir = dir.join("renders");
    let (sketch, out_dir) = (sketch.to_str().unwrap(), out_dir.to_str().unwrap());
    step("whoami", &["whoami"]);
    step("credits", &["credits"]);
    let done = step(
        "render",
        &[
            "render",
            sketch,
            "--prompt",
            "oak chair, linen",
            "--variants",
            "2",
            "--out",
            out_dir,
        ],
    );
    let render = done["files"][0]["render_id"]
        .as_str()
        .unwrap_or("rnd_none")
        .to_owned();
    let other = done["files"][1]["render_id"]
        .as_str()
        .unwrap_or("rnd_none")
        .to_owned();
    step("renders", &["renders"]);
    step("select", &["select", &render]);
    let saved = dir.join("downloaded");
    step(
        "download",
        &["download", &render, "--out", saved.to_str().unwrap()],
    );
    step("bom generate", &["bom", "generate", &render]);
    step("bom show", &["bom", "show", &render]);
    let portfolio = step("portfolio create", &["portfolio", "create", "Living room"]);
    let portfolio = portfolio["id"].as_str().unwrap_or("prt_none").to_owned();
    step("portfolio add", &["portfolio", "add", &portfolio, &render]);
    step("portfolio show", &["portfolio", "show", &portfolio]);
    step("rename me", &["whoami", "--set-name", "Ada King"]);
    step("delete", &["delete", &other, "--yes"]);
    let export = dir.join("export.zip");
    step(
        "privacy export",
        &["privacy", "export", "--out", export.to_str().unwrap()],
    );
    step("credits after", &["credits"]);
    // Failures end with the same codes.
    step(
        "download missing",
        &["download", "rnd_00000000000000000000000000"],
    );
    step(
        "select missing",
        &["select", "rnd_00000000000000000000000000"],
    );
    step(
        "bom of a missing render",
        &["bom", "show", "rnd_00000000000000000000000000"],
    );
    step(
        "too many variants",
        &["render", sketch, "--prompt", "x", "--variants", "9"],
    );
    // The hosted studio's export also holds its request log and the token this run used.
    for (name, _, json) in &mut steps {
        if let Some(size) = json.get_mut("size").filter(|_| name == "privacy export") {
            *size = Value::from("<size>");
        }
    }
    steps
}

#[test]
fn the_same_scenario_gives_the_same_json_and_exit_codes_embedded_and_remote() {
    let local = studio();
    let local_files = tempfile::tempdir().unwrap();
    let dir = local.path().to_owned();
    let embedded =
        move |args: &[&str]| run(command("facetra").arg("--data-dir").arg(&dir).args(args));
    let on_embedded = scenario(&embedded, local_files.path());

    let hosted = studio();
    let token = token_for(hosted.path());
    let server = serve(hosted.path());
    let config_home = tempfile::tempdir().unwrap();
    let remote_files = tempfile::tempdir().unwrap();
    let on_remote = scenario(
        &remote(&server.base, &token, config_home.path()),
        remote_files.path(),
    );

    assert_eq!(on_embedded.len(), on_remote.len());
    for (e, r) in on_embedded.iter().zip(&on_remote) {
        assert_eq!(
            e.1, r.1,
            "`{}` exits {} embedded but {} remote",
            e.0, e.1, r.1
        );
        assert_eq!(
            e.2,
            r.2,
            "`{}` prints different JSON:\nembedded {}\nremote   {}",
            e.0,
            serde_json::to_string_pretty(&e.2).unwrap(),
            serde_json::to_string_pretty(&r.2).unwrap()
        );
    }
    // The scenario did what it says on both.
    let codes: Vec<i32> = on_remote.iter().map(|s| s.1).collect();
    assert_eq!(&codes[..15], &[0; 15], "{on_remote:#?}");
    assert_eq!(&codes[15..], &[4, 4, 4, 2], "{on_remote:#?}");
    for files in [local_files.path(), remote_files.path()] {
        let zip = std::fs::read(files.join("export.zip")).unwrap();
        assert!(facetra_tests::unzip::entries(&zip).contains_key("manifest.json"));
        let saved: Vec<PathBuf> = std::fs::read_dir(files.join("downloaded"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(saved.len(), 1, "{saved:?}");
    }
    server.terminate();
}

#[test]
fn a_saved_login_is_private_and_a_revoked_token_says_to_log_in_again_with_exit_5() {
    use std::os::unix::fs::PermissionsExt;
    let hosted = studio();
    let token = token_for(hosted.path());
    let server = serve(hosted.path());
    let home = tempfile::tempdir().unwrap();
    let facetra = |args: &[&str]| {
        run(command("facetra")
            .env("XDG_CONFIG_HOME", home.path())
            .args(args))
    };
    // A wrong token is refused at login and nothing is saved.
    let wrong = facetra(&["login", "--server", &server.base, "--token", "ftk_wrong"]);
    assert_eq!(wrong.status.code(), Some(5), "{}", text(&wrong));
    let saved = home.path().join("facetra/credentials.json");
    assert!(!saved.exists());

    let login = facetra(&["login", "--server", &server.base, "--token", &token]);
    assert!(login.status.success(), "{}", text(&login));
    assert!(text(&login).contains("ada@example.com"), "{}", text(&login));
    let mode = std::fs::metadata(&saved).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the saved token is the user's alone");
    assert!(!text(&login).contains(&token), "the token is never printed");

    // The saved login is used without any flag or variable.
    let me = facetra(&["whoami", "--json"]);
    assert!(me.status.success(), "{}", text(&me));
    let me: Value = serde_json::from_slice(&me.stdout).unwrap();
    assert_eq!(me["email"], "ada@example.com");

    let tokens = facetra(&["tokens", "list", "--json"]);
    let tokens: Value = serde_json::from_slice(&tokens.stdout).unwrap();
    let id = tokens["items"][0]["id"].as_str().unwrap().to_owned();
    let revoked = facetra(&["tokens", "revoke", &id]);
    assert!(revoked.status.success(), "{}", text(&revoked));

    let refused = facetra(&["credits"]);
    assert_eq!(refused.status.code(), Some(5), "{}", text(&refused));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("facetra login --server"),
        "says how to fix it: {said}"
    );
    assert!(!said.contains(&token));

    let out = facetra(&["logout"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!saved.exists(), "logout forgets the saved login");
    server.terminate();
}

/// A server that answers `GET /v1/me` with 429 (`Retry-After: 1`) `refusals` times, then
/// with an account; how many requests it got.
async fn busy_server(refusals: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let app = axum::Router::new().route(
        "/v1/me",
        axum::routing::get(move || {
            let counter = counter.clone();
            async move {
                use axum::response::IntoResponse;
                let n = counter.fetch_add(1, Ordering::SeqCst);
                if n < refusals {
                    let body = serde_json::json!({"error": {"code": "rate_limited",
                        "message": "too many requests from this address; wait and try again",
                        "request_id": "req_test"}});
                    return (
                        axum::http::StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "1")],
                        axum::Json(body),
                    )
                        .into_response();
                }
                axum::Json(serde_json::json!({
                    "id": "usr_01m8sw8tvbcgmnbgj2v8hmpf7g", "email": "ada@example.com",
                    "name": "Ada", "avatar_url": null, "roles": ["user"], "status": "active",
                    "created_at": "2026-12-01T00:00:00Z",
                    "consents": {"analytics": false, "marketing": false}
                }))
                .into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_tried_again_after_its_retry_after_and_given_up_after_five_tries() {
    use std::sync::atomic::Ordering;
    let home = tempfile::tempdir().unwrap();
    let (base, seen) = busy_server(2).await;
    let facetra = remote(&base, "fct_test", home.path());
    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || facetra(&["whoami", "--json"]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        seen.load(Ordering::SeqCst),
        3,
        "two refusals, then the answer"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "it waited as Retry-After said"
    );

    let (base, seen) = busy_server(usize::MAX).await;
    let facetra = remote(&base, "fct_test", home.path());
    let out = tokio::task::spawn_blocking(move || facetra(&["whoami"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(text(&out).contains("too many requests"), "{}", text(&out));
    assert_eq!(seen.load(Ordering::SeqCst), 6, "one try and five more");
}
