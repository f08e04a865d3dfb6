//! `facetra-server`: serves the Facetra HTTP API.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use facetra_core::config::{keys, Config, Sources};
use facetra_core::{Facetra, OpenMode, SystemClock};
use facetra_server::cli::Args;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FACETRA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_ansi(false)
        .init();
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("facetra-server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("facetra-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut flags = BTreeMap::new();
    if let Some(bind) = args.bind {
        flags.insert(keys::BIND.to_owned(), bind);
    }
    if let Some(dir) = args.data_dir {
        flags.insert(keys::DATA_DIR.to_owned(), dir.display().to_string());
    }
    let config = Config::load(Sources::from_process(flags, args.config))?;
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let bind = config.bind;
    let facetra = Facetra::open(config, Arc::new(SystemClock), OpenMode::CreateIfMissing).await?;
    tracing::info!("opened {}", facetra.store().description());
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(l) => l,
        Err(e) => {
            facetra.close().await;
            anyhow::bail!(
                "cannot listen on {bind}: {e}; choose another address with --bind or {}",
                keys::BIND
            );
        }
    };
    let served = facetra_server::serve(listener, facetra.clone(), shutdown_signal()).await;
    facetra.close().await;
    tracing::info!("stopped");
    Ok(served?)
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
