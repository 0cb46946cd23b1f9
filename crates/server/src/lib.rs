//! `sotay-server`: the central sync server of Sổ tay.
//!
//! This crate owns the `/v1` HTTP protocol (its wire types live in
//! `sotay_domain::wire`, shared with the device), the storage of synced
//! reports on SQLite or PostgreSQL ([`store`]), enrollment and tokens
//! ([`auth`]), the administration commands ([`admin`]) and a launcher for
//! tests ([`testing`]).
//!
//! Architecture invariants:
//! - A device reads and writes only its own group's data; the group comes
//!   from its token, never from the request.
//! - Bad input is a 4xx `{code, message}`; never a 500, a panic or a
//!   partial write.
//! - A change is stored once per (report id, rev), whatever the retries.

pub mod admin;
pub mod announcements;
pub mod api;
pub mod auth;
pub mod backup;
pub mod campaigns;
pub mod conn;
pub mod dashboard;
pub mod error;
pub mod ingest;
pub mod metrics;
pub mod places;
pub mod sources;
pub mod store;
pub mod testing;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::DynStore;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Limits and tunables. The defaults suit a ward; tests shrink them.
#[derive(Debug, Clone)]
pub struct Config {
    /// Most changes in one push.
    pub max_batch_items: usize,
    /// Largest request body, after gzip decompression.
    pub max_body_bytes: usize,
    /// A request taking longer is answered 408.
    pub request_timeout: Duration,
    /// A request head (and a connection's first request) not received in
    /// full within this time closes the connection: a client that opens
    /// sockets and never finishes its head does not keep them. It is also
    /// the keep-alive: a connection idle this long after an answer closes.
    pub header_read_timeout: Duration,
    /// Connections open at once; past it, new ones are closed at once.
    pub max_connections: usize,
    /// Failed enrollments allowed per client address per window.
    pub enroll_failures_allowed: usize,
    pub enroll_failure_window: Duration,
    pub pull_limit_default: u32,
    pub pull_limit_max: u32,
    /// Dashboard: failed logins in a row before an account is locked.
    pub login_failures_allowed: usize,
    /// Dashboard: login attempts one client address may make per minute,
    /// and all addresses together (each runs argon2).
    pub logins_per_address_per_minute: usize,
    pub logins_per_minute: usize,
    /// Dashboard: how long a locked account stays locked.
    pub login_lockout: chrono::TimeDelta,
    /// Dashboard: a session's lifetime (one station shift).
    pub session_ttl: chrono::TimeDelta,
    /// Dashboard: a session unused this long ends too, so a browser left
    /// open on a shared station desk does not stay logged in all shift.
    pub session_idle: chrono::TimeDelta,
    /// Dashboard cookies carry `Secure`: set when the server serves TLS
    /// itself (a TLS-terminating proxy is recognised by
    /// `X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// The address devices use to reach this server, put into enrollment
    /// links made on the dashboard; without it, the request's own address.
    pub public_url: Option<String>,
    /// The SHA-256 of this server's TLS key (when it serves TLS itself),
    /// pinned in enrollment links made on the dashboard.
    pub tls_pin: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed: the rate
    /// limits then count the real client, not the proxy.
    pub trusted_proxies: Vec<IpAddr>,
    /// Most changes one device may push per hour (a lost phone in the
    /// wrong hands cannot fill the database); past it, `429 rate-limited`,
    /// which the device backs off from.
    pub changes_per_device_per_hour: usize,
    /// The largest photo taken (`PUT /v1/photos/{sha256}`), advertised in
    /// `/v1/server-info`; at most `max_body_bytes`.
    pub photo_max_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_batch_items: 500,
            max_body_bytes: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            enroll_failures_allowed: 10,
            enroll_failure_window: Duration::from_secs(600),
            pull_limit_default: 100,
            pull_limit_max: 1000,
            login_failures_allowed: 5,
            logins_per_address_per_minute: 20,
            logins_per_minute: 120,
            login_lockout: chrono::TimeDelta::minutes(15),
            session_ttl: chrono::TimeDelta::hours(8),
            session_idle: chrono::TimeDelta::minutes(30),
            secure_cookies: false,
            public_url: None,
            tls_pin: None,
            trusted_proxies: Vec::new(),
            changes_per_device_per_hour: 20_000,
            photo_max_bytes: sotay_domain::photo::PHOTO_BYTES_MAX,
        }
    }
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub config: Arc<Config>,
    /// Failed enrollments per client address.
    pub(crate) limiter: Arc<Limiter>,
    /// Login attempts per client address, and of everyone together.
    pub(crate) logins: Arc<Limiter>,
    pub(crate) logins_overall: Arc<Limiter>,
    /// Changes pushed per device per hour.
    pub(crate) pushes: Arc<Limiter<sotay_domain::wire::DeviceId>>,
    /// Each ward's source keys (public halves), briefly cached.
    pub source_keys: Arc<sources::KeyCache>,
    /// The published checklist templates pushes are checked against.
    pub templates: Arc<ingest::TemplateCache>,
    /// Officers' secret keys, by session, in this process's memory only.
    pub session_keys: Arc<sources::SessionKeys>,
    /// This server's id, read from the store once (it never changes).
    pub(crate) server_id: Arc<tokio::sync::OnceCell<String>>,
    /// What this process has done, for `/metrics` on its own address.
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    pub fn new(store: DynStore, config: Config) -> Self {
        let limiter = Arc::new(Limiter::new(
            config.enroll_failures_allowed,
            config.enroll_failure_window,
        ));
        let minute = Duration::from_secs(60);
        let logins = Arc::new(Limiter::new(config.logins_per_address_per_minute, minute));
        let logins_overall = Arc::new(Limiter::new(config.logins_per_minute, minute));
        let pushes = Arc::new(Limiter::new(
            config.changes_per_device_per_hour,
            Duration::from_secs(3600),
        ));
        Self {
            store,
            config: Arc::new(config),
            limiter,
            logins,
            logins_overall,
            pushes,
            source_keys: Arc::new(sources::KeyCache::new(Duration::from_secs(10))),
            templates: Arc::new(ingest::TemplateCache::new(Duration::from_secs(60))),
            session_keys: Arc::new(sources::SessionKeys::default()),
            server_id: Arc::new(tokio::sync::OnceCell::new()),
            metrics: Arc::new(metrics::Metrics::default()),
        }
    }
}

/// A sliding-window limit of hits per key (a client address, a device, or
/// one key for everyone). [`Limiter::hit`] checks and records in one step
/// under one lock, so parallel requests cannot all slip through before any
/// is counted. A hit may weigh more than one (a push of many changes).
pub(crate) struct Limiter<K = IpAddr> {
    allowed: usize,
    window: Duration,
    hits: Mutex<HashMap<K, Vec<(Instant, usize)>>>,
}

impl<K: std::hash::Hash + Eq + Clone + std::fmt::Debug> Limiter<K> {
    fn new(allowed: usize, window: Duration) -> Self {
        Self {
            allowed,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Records a hit for `key`, or refuses when its window is full. The
    /// returned instant identifies the hit for [`Limiter::forgive`].
    pub(crate) fn hit(&self, key: K) -> Result<Instant, error::ApiError> {
        self.hit_weighing(key, 1)
    }

    /// [`Limiter::hit`] for a hit that weighs `weight`.
    pub(crate) fn hit_weighing(&self, key: K, weight: usize) -> Result<Instant, error::ApiError> {
        let now = Instant::now();
        let mut map = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a flood of keys: forget expired entries.
        if map.len() > 10_000 {
            map.retain(|_, v| v.iter().any(|(t, _)| now.duration_since(*t) < self.window));
        }
        let v = map.entry(key.clone()).or_default();
        v.retain(|(t, _)| now.duration_since(*t) < self.window);
        let used: usize = v.iter().map(|(_, n)| n).sum();
        if used.saturating_add(weight) > self.allowed {
            tracing::warn!(?key, "rate limit hit");
            return Err(error::ApiError::RateLimited);
        }
        v.push((now, weight));
        Ok(now)
    }

    /// Takes back a hit that turned out fine (a valid enrollment code), so
    /// only failures fill the window.
    pub(crate) fn forgive(&self, key: K, hit: Instant) {
        let mut map = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = map.get_mut(&key)
            && let Some(i) = v.iter().position(|(t, _)| *t == hit)
        {
            v.remove(i);
        }
    }
}

/// The key of a limit that counts everyone together.
pub(crate) const EVERYONE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

/// The whole HTTP API. Tests call it without a socket
/// (`tower::ServiceExt::oneshot`); [`spawn_on`] serves it on a listener.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let timeout = state.config.request_timeout;
    let hsts = state.config.secure_cookies;
    Router::new()
        // A browser opening the server's address lands on the dashboard
        // (its login when not logged in), not on a JSON 404.
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/dashboard") }),
        )
        .route("/healthz", get(api::healthz))
        .route("/openapi.json", get(api::openapi_json))
        .route("/v1/server-info", get(api::server_info))
        .route("/v1/enroll", post(api::enroll))
        .route("/v1/sync/push", post(api::push))
        .route("/v1/sync/pull", get(api::pull))
        .route("/v1/announcements/read", post(api::read_receipts))
        .route("/v1/campaigns", get(api::campaigns))
        .route(
            "/v1/photos/{sha256}",
            axum::routing::head(api::photo_head)
                .get(api::photo_get)
                .put(api::photo_put),
        )
        .merge(dashboard::routes())
        .route_layer(axum::middleware::from_fn(metrics::note_route))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(state.clone())
        // Innermost first. The limit sits inside decompression so that it
        // bounds the decompressed size: a small gzip bomb is still refused.
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::Extension(api::BodyLimit(limit)))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(RequestDecompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state,
            metrics::count_requests,
        ))
        .layer(axum::middleware::map_response(move |res| {
            security_headers(res, hsts)
        }))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// The headers every answer carries: nothing is sniffed into another type,
/// no page may be framed (clickjacking), no address leaks in a Referer, the
/// dashboard's pages load nothing but their own stylesheet and post only to
/// themselves; under TLS, browsers are told to come back only over HTTPS.
async fn security_headers(mut res: Response, hsts: bool) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// Gives every error response made outside a handler (no route, a layer's
/// 408/413/415) the same `{code, message}` body as ours.
async fn json_errors(res: Response) -> Response {
    let status = res.status();
    // The dashboard's error pages are HTML by design and keep their body.
    let ours = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
    });
    if (status.is_client_error() || status.is_server_error()) && !ours {
        let mut new = (status, axum::Json(error::body_for_status(status))).into_response();
        // What the answer said beside its status stays (the challenge of a
        // 401, a photo's Upload-Offset); only the body is replaced.
        for (name, v) in res.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                new.headers_mut().insert(name.clone(), v.clone());
            }
        }
        new.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return new;
    }
    res
}

/// Why serving stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("TLS certificate or key {path}")]
    Tls {
        path: String,
        source: std::io::Error,
    },
}

/// A running server; stops when dropped (or with [`ServerHandle::shutdown`]).
pub struct ServerHandle {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), std::io::Error>>>,
}

impl ServerHandle {
    /// `http://ADDR`, the base URL devices use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
        }
        Ok(())
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves the API on `listener` in a background task (bind port 0 for
/// tests), with the same connection limits as [`serve`]. The client address
/// is recorded for the rate limits.
pub fn spawn_on(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> std::io::Result<ServerHandle> {
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = serve(listener, state, async {
        let _ = stopped.await;
    });
    let task = tokio::spawn(async move { serving.await.map_err(std::io::Error::other) });
    Ok(ServerHandle {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

/// How long requests in flight may finish after a shutdown was asked.
const GRACE: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves (plain HTTP, e.g. behind a reverse
/// proxy that terminates TLS), with the limits of [`conn`]: a cap on
/// connections and a timeout on every request head.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let config = state.config.clone();
    let handle = axum_server::Handle::new();
    let server = axum_server::from_tcp(listener.into_std()?)?
        .acceptor(conn::CapAcceptor::new(
            axum_server::accept::DefaultAcceptor,
            config.max_connections,
        ))
        .handle(handle.clone());
    let server = conn::configure(server, &config);
    tokio::spawn(async move {
        shutdown.await;
        handle.graceful_shutdown(Some(GRACE));
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    server.serve(app).await?;
    Ok(())
}

/// Serves HTTPS with rustls from PEM files (certificate chain and key).
pub async fn serve_tls(
    addr: SocketAddr,
    state: AppState,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<(), ServeError> {
    // Several providers could be compiled in; pick ring explicitly. An
    // error only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|source| ServeError::Tls {
            path: format!("{} / {}", cert.display(), key.display()),
            source,
        })?;
    let limits = state.config.clone();
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config).acceptor(
        conn::CapAcceptor::new(axum_server::accept::DefaultAcceptor, limits.max_connections),
    );
    let server = conn::configure(axum_server::bind(addr).acceptor(acceptor), &limits);
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    server.serve(app).await?;
    Ok(())
}
