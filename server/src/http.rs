//! The router ([`app`]) and the server loop ([`serve`]): limits, timeouts, security
//! headers, request ids and logs that carry route templates only (never a concrete
//! path: `/s…` paths may carry a token, API paths carry share ids).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::Instrument;

use crate::client_ip::ClientIp;
use crate::config::Config;
use crate::error::Error;
use crate::routes as r;
use crate::slots::Slots;
use crate::state::AppState;
use crate::www::Www;

/// Content-Security-Policy of the pages and of JavaScript (a worker's script
/// brings its own policy) (DESIGN.md).
pub const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
                       img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
                       base-uri 'none'; form-action 'none'";

/// Content-Security-Policy of every other response (JSON, wasm, CSS, errors):
/// nothing may run if one is opened as a document, and it is a fifth of the
/// bytes, which every API call and asset of the open page pays.
pub const CSP_NONE: &str = "default-src 'none'; frame-ancestors 'none'";

/// [`CSP`] for HTML and JavaScript, [`CSP_NONE`] for the rest.
fn csp_for(res: &Response) -> Option<HeaderValue> {
    let ty = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let page = ty.starts_with("text/html") || ty.starts_with("text/javascript");
    Some(HeaderValue::from_static(if page { CSP } else { CSP_NONE }))
}

/// Logs, counts and ids every routed request (route template only).
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let id = state.request_id();
    let method = req.method().clone();
    let started = Instant::now();
    let span = tracing::info_span!("request", id, %method, route = %route);
    let mut res = next.run(req).instrument(span.clone()).await;
    let status = res.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            ms = started.elapsed().as_millis() as u64,
            "answered"
        );
    });
    state.metrics.request(&route, status);
    res.headers_mut()
        .insert("x-request-id", HeaderValue::from(id));
    res
}

/// Admission, in this order, so no single client can hold the shared pool: health
/// checks pass untouched (they never wait behind anything); the client's address is
/// resolved ([`ClientIp`], honouring `trusted_proxies`) and stored for handlers;
/// its rate limit and its own in-flight cap are checked; only then does the
/// request wait for one of the `max_in_flight` permits. The request timeout covers
/// the wait and the handler (bodies have their own, shorter deadline in `Signed`).
async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if req.uri().path() == "/healthz" {
        return next.run(req).await;
    }
    let limits = &state.config.limits;
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let mut own_slot = None;
    if let Some(peer) = peer {
        let client = ClientIp::resolve(peer, req.headers(), &state.config.trusted_proxies);
        req.extensions_mut().insert(client);
        if let Err(e) = state
            .limiter
            .check(&format!("ip:{client}"), limits.requests_per_minute)
        {
            return e.into_response();
        }
        match state
            .in_flight_per_ip
            .take(client, limits.max_in_flight_per_ip.max(1))
        {
            Some(slot) => own_slot = Some(slot),
            None => return Error::RateLimited(1).into_response(),
        }
    }
    let limit = Duration::from_secs(limits.request_timeout_secs.max(1));
    let run = async {
        let Ok(_permit) = state.in_flight.acquire().await else {
            return Error::internal("the in-flight pool is closed").into_response();
        };
        next.run(req).await
    };
    let res = match tokio::time::timeout(limit, run).await {
        Ok(res) => res,
        Err(_) => Error::Timeout.into_response(),
    };
    drop(own_slot);
    res
}

/// The body limit of the routes that carry a record, from the policy in force
/// now (an admin may change it at run time), not the one at start-up.
async fn record_body_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let policy = match state.policy().await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let limit = r::record_body_limit(&policy, state.config.limits.json_body_bytes);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Error::TooLarge("the request body is larger than this route allows")
            .into_response();
    }
    next.run(req.map(|b| Body::new(http_body_util::Limited::new(b, limit))))
        .await
}

/// What a recipient sees at `/s` on a relay without the web viewer: the truth
/// (nothing was opened, the link still works) and what to do next.
const PLACEHOLDER: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
     <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
     <title>oneshare</title><main><h1>This share cannot be opened here yet</h1>\
     <p>This relay has no web viewer installed. Nothing was opened: your link is still \
     unused and keeps working until it expires.</p>\
     <p>Open it in an app that uses <code>@oneshare/sdk</code>, or ask the sender how \
     they want you to open it. Do not forward the link: the first device that opens \
     it is the only one that can read it.</p></main></html>";

/// Routes that are not the API: the viewer's pages and assets (see [`crate::www`]),
/// `/s` falls back to a placeholder without a viewer, anything else is a JSON 404.
/// `/s…` paths may hold a token (a mangled fragment): never logged or echoed.
async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let readable = req.method() == Method::GET || req.method() == Method::HEAD;
    if !readable {
        return Error::NotFound.into_response();
    }
    let www = Www::new(state.config.www_dir.as_deref());
    let path = req.uri().path();
    if let Some(res) = www.respond(path, req.headers()).await {
        return res;
    }
    if path == "/s" || path.starts_with("/s/") || path.starts_with("/s%") {
        return Html(PLACEHOLDER).into_response();
    }
    Error::NotFound.into_response()
}

fn cors(origins: &[String]) -> CorsLayer {
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(list))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::CONTENT_TYPE,
            header::RANGE,
            HeaderName::from_static("last-event-id"),
            HeaderName::from_static(oneshare_sdk::signing::HEADER_SIGNER),
            HeaderName::from_static(oneshare_sdk::signing::HEADER_TIMESTAMP),
            HeaderName::from_static(oneshare_sdk::signing::HEADER_NONCE),
            HeaderName::from_static(oneshare_sdk::signing::HEADER_SIGNATURE),
            HeaderName::from_static(oneshare_sdk::signing::HEADER_TRANSMISSION),
        ])
        .expose_headers([
            header::CONTENT_RANGE,
            header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(Duration::from_secs(600))
}

/// The whole application, for in-process tests and [`serve`].
pub fn app(state: AppState) -> Router {
    let limits = &state.config.limits;
    let json_limit = limits.json_body_bytes;
    let record_limit = || {
        (
            middleware::from_fn_with_state(state.clone(), record_body_limit),
            DefaultBodyLimit::disable(),
        )
    };
    let part_limit = usize::try_from(limits.part_size()).unwrap_or(usize::MAX);
    let big = |n: usize| DefaultBodyLimit::max(n);
    let api = Router::new()
        .route("/healthz", get(r::healthz))
        .route("/metrics", get(r::metrics))
        .route("/v1/relay-key", get(r::relay_key))
        .route("/v1/openapi.json", get(r::openapi))
        .route(
            "/v1/shares",
            post(r::create).layer(record_limit()).get(r::list),
        )
        .route("/v1/shares/{id}", axum::routing::delete(r::revoke))
        .route("/v1/shares/{id}/status", get(r::status))
        .route("/v1/shares/{id}/bind", post(r::bind))
        .route("/v1/shares/{id}/confirm", post(r::confirm))
        .route("/v1/shares/{id}/transfer", post(r::request_transfer))
        .route("/v1/shares/{id}/transfer/{rid}", get(r::transfer_status))
        .route(
            "/v1/shares/{id}/transfer/{rid}/approve",
            post(r::approve_transfer),
        )
        .route(
            "/v1/shares/{id}/transfer/{rid}/deny",
            post(r::deny_transfer),
        )
        .route("/v1/transfers", get(r::transfers))
        .route(
            "/v1/shares/{id}/record",
            get(r::record).put(r::update).layer(record_limit()),
        )
        .route(
            "/v1/shares/{id}/attachments/{aid}/parts/{n}",
            put(r::put_part).layer(big(part_limit)),
        )
        .route(
            "/v1/shares/{id}/attachments/{aid}/upload",
            get(r::upload_status),
        )
        .route(
            "/v1/shares/{id}/attachments/{aid}/finalize",
            post(r::finalize),
        )
        .route("/v1/shares/{id}/attachments/{aid}", get(r::download))
        .route("/v1/events", get(r::events))
        .route("/v1/admin/policy", get(r::get_policy).put(r::put_policy))
        .route("/v1/admin/shares", get(r::admin_list))
        .route(
            "/v1/admin/shares/{id}",
            axum::routing::delete(r::admin_revoke),
        )
        .method_not_allowed_fallback(r::method_not_allowed)
        .route_layer(middleware::from_fn_with_state(state.clone(), observe))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(json_limit))
        .layer(middleware::from_fn_with_state(state.clone(), guard));
    let h = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    // HSTS only where the relay is reached over https (a plain-http relay on a
    // laptop must not pin its host name to https for a year).
    let hsts = state
        .config
        .public_url
        .starts_with("https://")
        .then(|| HeaderValue::from_static("max-age=31536000"));
    // CORS only for the origins an operator named: with none, every answer
    // would still carry `vary: origin` and the exposed-headers list for nothing.
    let api = if state.config.cors_origins.is_empty() {
        api
    } else {
        api.layer(cors(&state.config.cors_origins))
    };
    api.layer(SetResponseHeaderLayer::overriding(
        header::STRICT_TRANSPORT_SECURITY,
        move |_: &Response| hsts.clone(),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        csp_for,
    ))
    .layer(h("referrer-policy", "no-referrer"))
    .layer(h("x-content-type-options", "nosniff"))
    .layer(h("cross-origin-opener-policy", "same-origin"))
    .layer(h("cross-origin-resource-policy", "same-origin"))
    .layer(h("x-frame-options", "DENY"))
    // API answers are never cached; the viewer's files set their own policy.
    .layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ))
    .with_state(state)
}

/// Server limits that act on connections.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Open connections at once (further clients wait in the backlog).
    pub max_connections: usize,
    /// Open connections per peer address (IPv6: per /64); trusted proxies are exempt.
    pub max_connections_per_ip: usize,
    /// Peers exempt from the per-address cap.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Time to receive a request's headers.
    pub header_timeout: Duration,
    /// Time a write may wait for the client to read.
    pub write_timeout: Duration,
}

impl ConnLimits {
    /// The connection limits of a configuration.
    pub fn new(config: &Config) -> Self {
        let l = &config.limits;
        Self {
            max_connections: l.max_connections.max(1),
            max_connections_per_ip: l.max_connections_per_ip.max(1),
            trusted_proxies: config.trusted_proxies.clone(),
            header_timeout: Duration::from_secs(l.header_timeout_secs.max(1)),
            write_timeout: Duration::from_secs(l.write_timeout_secs.max(1)),
        }
    }
}

/// A connection whose writes fail once the client has not read for `limit`, so
/// a client that stops reading (an event stream, a download) frees its slot.
struct WriteDeadline<S> {
    io: S,
    limit: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteDeadline<S> {
    /// After a `Pending` write: arms the deadline, and errors once it passed.
    fn stalled<T>(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<T>> {
        let limit = self.limit;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progress<T>(
        &mut self,
        r: Poll<std::io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<T>> {
        match r {
            Poll::Pending => self.stalled(cx),
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.progress(r, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.progress(r, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_flush(cx);
        self.progress(r, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains open
/// connections for up to ten seconds.
///
/// # Errors
/// Never in practice: accept errors are logged and retried.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_ip: Arc<Slots<ClientIp>> = Arc::default();
    let no_headers = axum::http::HeaderMap::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let peer_slot = if limits
            .trusted_proxies
            .iter()
            .any(|n| n.contains(&addr.ip()))
        {
            None
        } else {
            let key = ClientIp::resolve(addr.ip(), &no_headers, &[]);
            match per_ip.take(key, limits.max_connections_per_ip) {
                Some(slot) => Some(slot),
                // Over its share of connections: closed at once, before any read.
                None => continue,
            }
        };
        let router = router.clone();
        let svc =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(addr));
                router.clone().oneshot(req.map(Body::new))
            });
        let io = WriteDeadline {
            io: stream,
            limit: limits.write_timeout,
            stalled: None,
        };
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(io), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop((permit, peer_slot));
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("connections still open after 10 s; stopping anyway");
        }
    }
    Ok(())
}
