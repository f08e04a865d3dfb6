//! The command-line definitions are valid, and the committed man pages match them.
//! Regenerate with `FACETRA_UPDATE_MAN=1 cargo test -p facetra-tests --test e2e docs::`.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

fn commands() -> Vec<clap::Command> {
    vec![
        facetra_cli::command(),
        facetra_admin::command(),
        facetra_server::cli::Args::command(),
    ]
}

#[test]
fn every_cli_definition_passes_clap_debug_assert() {
    for c in commands() {
        c.debug_assert();
    }
}

/// Renders a command and its subcommands, recursively, as `(file name, roff)`.
fn render(cmd: &clap::Command, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
    let name = if prefix.is_empty() {
        cmd.get_name().to_owned()
    } else {
        format!("{prefix}-{}", cmd.get_name())
    };
    let page_cmd = cmd.clone().name(name.clone()).disable_help_subcommand(true);
    let mut roff = Vec::new();
    clap_mangen::Man::new(page_cmd)
        .render(&mut roff)
        .expect("render");
    out.push((format!("{name}.1"), roff));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        render(sub, &name, out);
    }
}

fn man_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("man")
}

#[test]
fn man_pages_match_the_cli_definitions() {
    let mut pages = Vec::new();
    for mut c in commands() {
        c.build();
        render(&c, "", &mut pages);
    }
    let dir = man_dir();
    if std::env::var("FACETRA_UPDATE_MAN").is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, roff) in &pages {
            std::fs::write(dir.join(name), roff).unwrap();
        }
        return;
    }
    let mut stale = Vec::new();
    for (name, roff) in &pages {
        if std::fs::read(dir.join(name)).ok().as_deref() != Some(roff.as_slice()) {
            stale.push(name.clone());
        }
    }
    let committed: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let extra: Vec<_> = committed
        .iter()
        .filter(|c| !pages.iter().any(|(n, _)| n == *c))
        .collect();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "man/ is out of step with the CLIs (stale: {stale:?}, extra: {extra:?}); regenerate with \
         `FACETRA_UPDATE_MAN=1 cargo test -p facetra-tests --test e2e docs::`"
    );
}

/// A file of `docs/` that is generated: rewritten with FACETRA_UPDATE_DOCS=1, else compared.
fn generated(name: &str, now: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(name);
    if std::env::var("FACETRA_UPDATE_DOCS").is_ok() {
        std::fs::write(&path, now).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == now,
        "docs/{name} is out of step with the code; regenerate with \
         `FACETRA_UPDATE_DOCS=1 cargo test -p facetra-tests --test e2e docs::`"
    );
}

#[test]
fn the_api_reference_in_docs_is_the_openapi_document() {
    generated("API.md", &facetra_server::openapi::reference());
    generated("openapi.json", &facetra_server::openapi::document());
}

#[test]
fn the_configuration_reference_in_docs_is_the_settings_definition() {
    generated("CONFIG.md", &facetra_core::config::reference());
}

#[test]
fn the_readme_cites_only_documents_that_are_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for link in readme.split("](").skip(1) {
        let target = link.split(')').next().unwrap_or_default();
        if target.starts_with("http") {
            continue;
        }
        assert!(
            root.join(target).exists(),
            "README links to missing {target}"
        );
    }
    assert!(
        !readme.contains("DESIGN §"),
        "DESIGN.md is not in the repository"
    );
    let ignored = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(
        ignored.lines().any(|l| l == "/renders"),
        "the README's renders/ must not be committed by accident"
    );
}

#[test]
fn every_command_of_both_clis_has_an_example_in_its_help() {
    for cli in [facetra_cli::command(), facetra_admin::command()] {
        let mut cli = cli;
        cli.build();
        for path in facetra_cli::help::leaves(&cli) {
            let mut cmd = &cli;
            for name in path.split(' ') {
                cmd = cmd.find_subcommand(name).unwrap();
            }
            let help = cmd
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                help.contains("Examples:\n  "),
                "`{} {path}` has no example",
                cli.get_name()
            );
        }
    }
}
