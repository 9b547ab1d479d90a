//! An HTTP inference server (`trainer inference-server`): trained models answer
//! encode, reconstruct and score requests, by name.
//!
//! ```text
//! POST /v1/models/NAME/encode       {"inputs": [[x, …], …]}  →  {"codes": [[z, …], …]}
//! POST /v1/models/NAME/reconstruct  {"inputs": …}            →  {"reconstructions": …}
//! POST /v1/models/NAME/score        {"inputs": …, "errors": true}
//!                                   →  {"scores": […], "threshold": t, "anomalous": […], "errors": …}
//! GET  /v1/models                   each model's features, code size, columns, threshold
//! GET  /health                      {"status": "ok", "models": […]}  (no token needed)
//! GET  /metrics                     Prometheus text: requests, errors, latency, batch sizes
//! ```
//!
//! Rows are arrays of the model's features in its units (pixels in `[0, 1]`, a table's
//! values as in its file, standardised by the server) or, for a table model trained on
//! a CSV file with a header, objects of column name → value. A `.npy` body
//! (`Content-Type: application/x-npy`, a 2-D array) is answered in `.npy` for encode
//! and reconstruct. Each model lives on one thread with its device ([`batch`]), which
//! gathers the samples of concurrent requests into one call of the model. Limits on
//! the body, the samples per request, the queue and the time to answer; every refusal
//! is a JSON `{"error": …}` with a 4xx (5xx when busy or out of time), and the server
//! goes on serving. Every client is bounded ([`listen`]): connections open at once,
//! the time to send a request's headers (which also closes idle connections), the
//! request bytes each model holds in memory (beyond them 503 with `Retry-After`). A
//! request larger than `--max-batch` samples is answered in model calls of at most
//! that many. Scores that are not finite numbers are flagged anomalous and written as
//! the strings `"NaN"`, `"Infinity"`, `"-Infinity"`. SIGTERM or Ctrl+C stops it
//! gracefully: it stops accepting, answers the requests it holds, and closes the
//! connections still open after a deadline.

mod batch;
mod body;
mod handlers;
mod listen;
mod metrics;
mod refusal;
mod v2;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use ae_infer::{Artifact, Threshold};
use anyhow::{Context, Result, anyhow};
use axum::Router;
use axum::routing::{get, post};
use burn::prelude::Device;

use crate::exposure::Exposure;
pub use batch::Gathering;
use metrics::Metrics;

/// What an open inference server lets strangers do, for the refusal.
pub const RISK: &str = "use its models and its devices";
/// The environment variable of the token.
pub const TOKEN_ENV: &str = "AE_SERVE_TOKEN";

/// The server's limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How concurrent requests are gathered into one call of a model.
    pub gathering: Gathering,
    /// Samples per request at most.
    pub max_rows: usize,
    /// Bytes per request body at most.
    pub max_body: usize,
    /// Requests waiting for a model at most; more are answered 503.
    pub queue: usize,
    /// The longest a request may take, reading its body included.
    pub timeout: Duration,
    /// The longest a client may take to send a request's headers, and the longest a
    /// connection may sit idle between requests.
    pub header_timeout: Duration,
    /// Connections open at once at most (fewer when the process may open fewer
    /// files); more are answered 503 and closed.
    pub max_connections: usize,
    /// Request bytes each model holds in memory at most; a request that would pass
    /// it is answered 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// After SIGTERM, how long the requests in hand may take before the connections
    /// still open are closed.
    pub shutdown_timeout: Duration,
}

impl Limits {
    /// The limits when none is changed (the command's flags default to them).
    pub const DEFAULT: Self = Self {
        gathering: Gathering {
            max_batch: 256,
            max_wait: Duration::ZERO,
        },
        max_rows: 4096,
        max_body: 32 << 20,
        queue: 1024,
        timeout: Duration::from_secs(30),
        header_timeout: Duration::from_secs(10),
        max_connections: 512,
        max_in_flight: 256 << 20,
        shutdown_timeout: Duration::from_secs(10),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A model the server answers for.
struct ModelHandle {
    family: String,
    features: usize,
    latent: usize,
    columns: Vec<String>,
    threshold: Option<Threshold>,
    jobs: SyncSender<batch::Job>,
    /// Request bytes held for its answers now.
    in_flight: AtomicUsize,
}

/// What every request sees.
struct AppState {
    models: BTreeMap<String, ModelHandle>,
    metrics: Arc<Metrics>,
    exposure: Exposure,
    limits: Limits,
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl Server {
    /// Starts serving `models` (name, artifact folder) on `device`, on TCP `port` (0:
    /// any free one) of the address `exposure` names; returns once it accepts
    /// connections.
    pub fn start(
        models: &[(String, std::path::PathBuf)],
        device: &Device,
        exposure: Exposure,
        port: u16,
        limits: Limits,
    ) -> Result<Self> {
        exposure.check(RISK, TOKEN_ENV)?;
        if models.is_empty() {
            anyhow::bail!("no model to serve: pass --model NAME=DIR (or --artifact DIR)");
        }
        let metrics = Arc::new(Metrics::default());
        let mut handles = BTreeMap::new();
        for (name, dir) in models {
            if handles.contains_key(name) {
                anyhow::bail!("--model {name}: two models of that name");
            }
            let handle = spawn_model(name, dir, device, limits, metrics.clone())?;
            handles.insert(name.clone(), handle);
        }
        let listener = TcpListener::bind((exposure.bind, port))
            .with_context(|| format!("listening on {}, TCP port {port}", exposure.bind))?;
        listener
            .set_nonblocking(true)
            .context("configuring the socket")?;
        let addr = listener
            .local_addr()
            .context("reading the listening address")?;
        let state = Arc::new(AppState {
            models: handles,
            metrics,
            exposure,
            limits,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("http".into())
            .spawn(move || serve(listener, state, stopped))
            .context("starting the server thread")?;
        Ok(Self {
            addr,
            stop: Some(stop),
            thread,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops gracefully: no new connections; the requests it holds are answered.
    pub fn stop(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait()
    }

    /// Serves until SIGTERM or Ctrl+C (or [`stop`](Self::stop) from elsewhere).
    pub fn wait(self) -> Result<()> {
        self.thread
            .join()
            .map_err(|_| anyhow!("the server thread panicked"))?
    }
}

/// Loads the model of `dir` on its own thread, which answers its jobs.
fn spawn_model(
    name: &str,
    dir: &std::path::Path,
    device: &Device,
    limits: Limits,
    metrics: Arc<Metrics>,
) -> Result<ModelHandle> {
    let artifact = Artifact::open(dir).with_context(|| format!("model {name}"))?;
    let (jobs, receiver) = std::sync::mpsc::sync_channel(limits.queue);
    let (ready, loaded) = std::sync::mpsc::channel();
    let (device, worker_artifact) = (device.clone(), artifact.clone());
    std::thread::Builder::new()
        .name(format!("model-{name}"))
        .spawn(move || match worker_artifact.load(&device) {
            Ok(predictor) => {
                let _ = ready.send(Ok(()));
                batch::work(
                    predictor.with_batch_size(limits.gathering.max_batch.max(1)),
                    receiver,
                    limits.gathering,
                    metrics,
                );
            }
            Err(e) => {
                let _ = ready.send(Err(e));
            }
        })
        .context("starting a model thread")?;
    loaded
        .recv()
        .map_err(|_| anyhow!("model {name}: its thread stopped while loading"))?
        .with_context(|| format!("model {name}"))?;
    Ok(ModelHandle {
        family: artifact.model.family().to_string(),
        features: artifact.features(),
        latent: artifact.model.latent(),
        columns: artifact.columns().names.to_vec(),
        threshold: artifact.threshold.clone(),
        jobs,
        in_flight: AtomicUsize::new(0),
    })
}

/// Runs the HTTP server on its own runtime until stopped or signalled.
fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("http-worker")
        .build()
        .context("starting the async runtime")?;
    let served = runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::from_std(listener).context("registering the socket")?;
        let (limits, metrics) = (state.limits, state.metrics.clone());
        let app = router(state);
        listen::serve(listener, app, limits, metrics, async move {
            tokio::select! {
                _ = stopped => {}
                _ = signalled() => {}
            }
        })
        .await;
        anyhow::Ok(())
    });
    // Tasks still running (a connection closed at the deadline) are not waited for.
    runtime.shutdown_background();
    served
}

/// The routes.
fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/models", get(handlers::models))
        .route("/v1/models/{name}/{action}", post(handlers::infer))
        .route("/v2", get(v2::server))
        .route("/v2/models/{name}", get(v2::metadata))
        .route("/v2/models/{name}/ready", get(v2::model_ready))
        .route("/v2/models/{name}/infer", post(v2::infer))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(v2::metadata_version),
        )
        .route(
            "/v2/models/{name}/versions/{version}/ready",
            get(v2::model_ready_version),
        )
        .route(
            "/v2/models/{name}/versions/{version}/infer",
            post(v2::infer_version),
        )
        .route("/metrics", get(handlers::metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            handlers::authorize,
        ))
        .route("/health", get(handlers::health))
        .route("/v2/health/live", get(v2::live))
        .route("/v2/health/ready", get(v2::ready))
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            handlers::track,
        ))
        .with_state(state)
}

/// SIGTERM or Ctrl+C.
async fn signalled() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
