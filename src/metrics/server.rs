//! `--metrics --listen ADDR:PORT`: serves `GET /metrics` until SIGINT or SIGTERM.
//!
//! hyper's HTTP/1 server on a current-thread tokio runtime does the protocol (no hand-written
//! parsing); this file only routes. Limits, so one client cannot hold up the others:
//! request heads of at most [`MAX_HEAD`] bytes (hyper answers larger ones with 431 and
//! malformed ones with 400, and the server goes on), [`HEAD_TIMEOUT`] to send a request head,
//! [`CONNECTION_LIFETIME`] for a whole connection (then the answer in flight is finished and it
//! closes), and at most [`MAX_CONNECTIONS`] open at once
//! (past that a new connection is closed at once). Each scrape takes its own listing on the
//! blocking pool, at most [`PARALLEL_SCRAPES`] at a time; the rest wait their turn.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ACCEPT, ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::Semaphore;

use super::collect::scrape;
use super::encode::{encode, Dropped, Format};
use crate::config::Config;

/// The largest request head accepted, in bytes.
pub const MAX_HEAD: usize = 16 * 1024;
/// How long a client has to send a request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one connection may stay open, requests and keep-alive included.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);
/// How long a connection past its lifetime has to finish the answer in flight.
pub const LAST_ANSWER: Duration = Duration::from_secs(60);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 128;
/// Listings taken at once.
pub const PARALLEL_SCRAPES: usize = 2;
/// How often the accept loop looks for a stop request.
const STOP_POLL: Duration = Duration::from_millis(100);

/// Why the server could not run.
#[derive(Debug)]
pub enum ServeError {
    /// The runtime could not be built (threads, epoll).
    Runtime(std::io::Error),
    /// The address could not be bound.
    Bind(SocketAddr, std::io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Runtime(_) => f.write_str("cannot start the metrics server"),
            ServeError::Bind(a, _) => write!(f, "cannot listen on {a}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Runtime(e) | ServeError::Bind(_, e) => Some(e),
        }
    }
}

struct Shared {
    cfg: Config,
    dropped: Mutex<Dropped>,
    scrapes: Semaphore,
}

/// Binds `addr` and serves until a stop is requested (see [`crate::signal`]). `ready` is called
/// once with the address bound (the port the kernel chose, for port 0).
pub fn serve(
    cfg: &Config,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        // Scrapes run on the same few threads for the server's life: a thread made per scrape
        // would take a fresh malloc arena now and then, and the RSS would creep.
        .max_blocking_threads(PARALLEL_SCRAPES)
        .thread_keep_alive(Duration::from_secs(24 * 3600))
        .build()
        .map_err(ServeError::Runtime)?;
    let listener = std::net::TcpListener::bind(addr).map_err(|e| ServeError::Bind(addr, e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| ServeError::Bind(addr, e))?;
    let shared = Arc::new(Shared {
        cfg: cfg.clone(),
        dropped: Mutex::new(Dropped::default()),
        scrapes: Semaphore::new(PARALLEL_SCRAPES),
    });
    let result = rt.block_on(async {
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(|e| ServeError::Bind(addr, e))?;
        ready(listener.local_addr().unwrap_or(addr));
        let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        while !crate::signal::stop_requested() {
            let Ok(accepted) = tokio::time::timeout(STOP_POLL, listener.accept()).await else {
                continue;
            };
            // A failed accept (EMFILE, a connection reset before accept) ends that client only.
            let Ok((stream, _peer)) = accepted else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let Ok(permit) = connections.clone().try_acquire_owned() else {
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let shared = shared.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| handle(shared.clone(), req));
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEAD_TIMEOUT)
                    .max_buf_size(MAX_HEAD)
                    .serve_connection(TokioIo::new(stream), service);
                let mut conn = std::pin::pin!(conn);
                if tokio::time::timeout(CONNECTION_LIFETIME, conn.as_mut())
                    .await
                    .is_err()
                {
                    // Past its lifetime: the scrape in flight is answered, then it closes.
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(LAST_ANSWER, conn).await;
                }
                drop(permit);
            });
        }
        Ok(())
    });
    // Scrapes still running on the blocking pool get a moment to finish; then we go.
    rt.shutdown_timeout(Duration::from_secs(2));
    result
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() != "/metrics" {
        return Ok(text(
            StatusCode::NOT_FOUND,
            "not found: metrics are at /metrics\n",
        ));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed: use GET\n",
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(r);
    }
    let format = Format::negotiate(req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()));
    let Ok(_turn) = shared.scrapes.acquire().await else {
        return Ok(text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"));
    };
    let job = shared.clone();
    let body = tokio::task::spawn_blocking(move || {
        let s = scrape(&job.cfg)?;
        let mut dropped = job.dropped.lock().unwrap_or_else(|p| p.into_inner());
        Ok::<_, crate::listing::ListError>(encode(&s, format, &mut dropped))
    })
    .await;
    Ok(match body {
        Ok(Ok(body)) => {
            let mut r = Response::new(Full::new(Bytes::from(body)));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            r
        }
        Ok(Err(e)) => {
            let mut r = Response::new(Full::new(Bytes::from(format!("scrape failed: {e}\n"))));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "scrape failed\n"),
    })
}
