//! `facetra-server`: the HTTP API of API.md over the core facade. Handlers parse a request,
//! call one core operation and render its result; they never decide who may see what (core
//! does). The server takes a bound listener and a shutdown future, so tests bind port 0.

pub mod cli;
mod error;
mod health;
mod http;
mod listen;
pub mod openapi;
mod request_log;
mod routes;
mod throttle;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use facetra_core::config::keys;
use facetra_core::{Error, Facetra};
use tokio::net::TcpListener;

pub use error::ApiError;
pub use openapi::ApiDoc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub facetra: Facetra,
    pub web: Arc<WebSettings>,
    /// Whether the store answers (the probe's view).
    pub health: Arc<health::StoreHealth>,
    /// The per-IP request budgets.
    pub throttles: Arc<throttle::Throttles>,
    /// Where request logs go (none when `FACETRA_REQUEST_LOGS=false`).
    pub request_logs: Option<Arc<request_log::RequestLogger>>,
}

/// Settings derived from the configuration and the bound address.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// The public base URL (configured, else `http://<bound address>`).
    pub public_url: String,
    /// Origins allowed for cookie-authenticated writes.
    pub allowed_origins: Vec<String>,
    /// Where the web app's pages are (`FACETRA_WEB_ORIGIN`, else the public URL): a sign-in's
    /// `return_to` is resolved against it.
    pub app_base: String,
    /// Whether the session cookie carries `Secure`.
    pub secure_cookie: bool,
    /// How long a request may take before 408.
    pub request_timeout: std::time::Duration,
    /// With dev login on, the only `Host` the server answers to (the public URL's authority).
    pub dev_login_host: Option<String>,
}

impl WebSettings {
    /// Derives the settings; refuses dev login anywhere but on loopback over plain HTTP.
    pub fn new(facetra: &Facetra, bound: SocketAddr) -> Result<WebSettings, Error> {
        let config = facetra.config();
        let public_url = config.public_url_or(bound);
        let public_origin = origin_of(&public_url).ok_or_else(|| {
            Error::Config(format!("{} is not a URL with a host", keys::PUBLIC_URL))
        })?;
        let loopback_public = is_loopback_http(&public_url);
        if config.dev_login && !(bound.ip().is_loopback() && loopback_public) {
            return Err(Error::Config(format!(
                "{}=true is only allowed on a loopback address with a loopback http:// public URL; \
                 bind 127.0.0.1 (or unset {})",
                keys::DEV_LOGIN,
                keys::DEV_LOGIN
            )));
        }
        let mut allowed_origins = vec![public_origin.clone()];
        if let Some(web) = &config.web_origin {
            allowed_origins.push(origin_of(web).unwrap_or_else(|| web.clone()));
        }
        let dev_login_host = config.dev_login.then(|| {
            public_origin
                .split_once("://")
                .map_or(public_origin.as_str(), |(_, authority)| authority)
                .to_owned()
        });
        let app_base = config
            .web_origin
            .clone()
            .unwrap_or_else(|| public_origin.clone());
        Ok(WebSettings {
            public_url,
            allowed_origins,
            app_base,
            secure_cookie: !loopback_public,
            request_timeout: std::time::Duration::from_secs(30),
            dev_login_host,
        })
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    if host.is_empty() || host.contains('@') {
        return None;
    }
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    ))
}

/// Whether the URL is plain `http://` on 127.0.0.1 / localhost / ::1.
fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    let max_body = state.facetra.config().max_body_bytes;
    let cors = cors(state.facetra.config().web_origin.as_deref());
    let router = routes::routes(&state)
        .fallback(routes::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::guard,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state);
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// CORS for exactly `FACETRA_WEB_ORIGIN`, with credentials, so the web app on its own origin
/// can call the API and no other origin can; none without a web origin.
fn cors(web_origin: Option<&str>) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, HeaderValue, Method};
    let origin = HeaderValue::from_str(&origin_of(web_origin?)?).ok()?;
    Some(
        tower_http::cors::CorsLayer::new()
            .allow_origin(tower_http::cors::AllowOrigin::list([origin]))
            .allow_credentials(true)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
            .expose_headers([
                header::HeaderName::from_static("x-request-id"),
                header::RETRY_AFTER,
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Serves on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    facetra: Facetra,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let bound = listener.local_addr()?;
    let web = Arc::new(WebSettings::new(&facetra, bound)?);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sender = {
        let (facetra, stop) = (facetra.clone(), stopping(stopped.clone()));
        let poll = std::time::Duration::from_millis(facetra.config().mail_poll_ms);
        tokio::spawn(async move { facetra.mail().run_sender(poll, stop).await })
    };
    let retention = match facetra.config().retention.interval_secs {
        0 => None,
        secs => {
            let (facetra, stop) = (facetra.clone(), stopping(stopped.clone()));
            let every = std::time::Duration::from_secs(secs);
            Some(tokio::spawn(async move {
                facetra.privacy().run_retention_schedule(every, stop).await
            }))
        }
    };
    let workers: Vec<_> = (0..facetra.config().workers)
        .map(|_| {
            let (facetra, stop) = (facetra.clone(), stopping(stopped.clone()));
            let holder = facetra_core::ids::random("wrk");
            tokio::spawn(async move {
                facetra
                    .studio()
                    .run_worker(&holder, WORKER_POLL, stop)
                    .await
            })
        })
        .collect();
    let config = facetra.config();
    let limits = listen::Limits {
        header_timeout: std::time::Duration::from_secs(config.header_timeout_secs),
        idle_timeout: std::time::Duration::from_secs(config.idle_timeout_secs),
        max_connections: config.max_connections,
    };
    let health = Arc::new(health::StoreHealth::default());
    let probe = {
        let (health, facetra, stop) = (health.clone(), facetra.clone(), stopping(stopped.clone()));
        tokio::spawn(async move { health.probe(facetra, stop).await })
    };
    let throttles = Arc::new(throttle::Throttles::new(facetra.config().rate_limits));
    let (request_logs, log_writer) = if facetra.config().request_logs {
        let (logger, writer) = request_log::RequestLogger::start(facetra.clone(), 10_000);
        (Some(logger), Some(writer))
    } else {
        (None, None)
    };
    let app = router(AppState {
        facetra,
        web,
        health,
        throttles,
        request_logs,
    });
    tracing::info!("listening on http://{bound}");
    let served = listen::serve(listener, app, limits, async move {
        shutdown.await;
        let _ = stop.send(true);
    })
    .await;
    let _ = sender.await;
    let _ = probe.await;
    if let Some(retention) = retention {
        let _ = retention.await;
    }
    if let Some(writer) = log_writer {
        let _ = writer.await;
    }
    for w in workers {
        let _ = w.await;
    }
    served?;
    Ok(())
}

/// How often an idle render worker looks for due jobs.
const WORKER_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// Resolves once shutdown has begun (a job in hand is finished first, so shutdown releases
/// nothing half-done).
async fn stopping(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_loopback_are_parsed_strictly() {
        assert_eq!(
            origin_of("https://App.Example.com/x?y").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert!(origin_of("https://user@evil.com").is_none());
        assert!(is_loopback_http("http://127.0.0.1:9000/"));
        assert!(is_loopback_http("http://localhost"));
        assert!(is_loopback_http("http://[::1]:80"));
        assert!(!is_loopback_http("https://127.0.0.1"));
        assert!(!is_loopback_http("http://127.0.0.1.evil.com"));
        assert!(!is_loopback_http("http://10.0.0.1"));
    }
}
