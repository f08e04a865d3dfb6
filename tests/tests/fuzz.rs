//! schemathesis (PyPI, installed by `scripts/test`) against a running `facetra-server`, driven
//! by its own `/openapi.json`: no answer may be a 5xx, and none may break the schema the
//! document gives it. Payments go to the Razorpay stub, so they are on, as in production.

use std::process::Stdio;

use facetra_core::config::keys;
use facetra_tests::binaries::{command, RunningServer};
use facetra_tests::razorpay_stub::RazorpayStub;

use super::binaries::text;
use super::remote::{studio, token_for};

/// The environment variable naming schemathesis's `st` command.
pub const ENV: &str = "FACETRA_TEST_SCHEMATHESIS";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_off_its_schema() {
    let st = std::env::var(ENV).unwrap_or_else(|_| {
        panic!(
            "{ENV} is not set: this test runs schemathesis's `st`. Run scripts/test, which \
             installs it in a venv and sets {ENV}."
        )
    });
    let razorpay = RazorpayStub::start().await;
    let hosted = studio();
    let token = token_for(hosted.path());
    let mut cmd = command("facetra-server");
    cmd.args(["--bind", "127.0.0.1:0"])
        .env(keys::DATA_DIR, hosted.path())
        .env(keys::RATE_LIMIT_FORMS_PER_MIN, "100000")
        .env(keys::RATE_LIMIT_EVENTS_PER_MIN, "100000");
    for (k, v) in razorpay.settings() {
        cmd.env(k, v);
    }
    let server = RunningServer::start(cmd);
    let schema = format!("{}/openapi.json", server.base);
    let auth = format!("Authorization: Bearer {token}");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(st)
            .args(["run", &schema, "-H", &auth])
            .args(["--checks", "not_a_server_error,response_schema_conformance"])
            .args(["--max-examples", "10", "--seed", "20261201", "--no-color"])
            .stdin(Stdio::null())
            .output()
            .expect("run schemathesis")
    })
    .await
    .unwrap();
    let log = server.log();
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{}\nserver log:\n{}",
        text(&out),
        log.lines().rev().take(40).collect::<Vec<_>>().join("\n")
    );
    assert!(!log.contains("panicked"), "{log}");
    server.terminate();
}
