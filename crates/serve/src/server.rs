//! A running server: its models loaded, each on its own thread, and the HTTP
//! connections served on a runtime of their own.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use ae_infer::Artifact;
use burn::prelude::Device;

use crate::batch;
use crate::error::StartError;
use crate::exposure::Exposure;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::state::{AppState, ModelHandle};
use crate::{listen, routes};

/// What an open inference server lets strangers do, for the refusal.
pub const RISK: &str = "use its models and its devices";
/// The environment variable of the token.
pub const TOKEN_ENV: &str = "AE_SERVE_TOKEN";

/// What to serve, to whom, on which port, within which limits.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The models, as the name each is served as and its artifact folder. A name is
    /// letters, digits, `-`, `_` or `.`.
    pub models: Vec<(String, PathBuf)>,
    /// The address to listen on and the token clients must present.
    pub exposure: Exposure,
    /// The TCP port (0: any free one; [`Server::addr`] tells which).
    pub port: u16,
    /// The server's limits.
    pub limits: Limits,
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: std::thread::JoinHandle<Result<(), StartError>>,
}

/// The error of an I/O step.
fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Io { what, source }
}

/// Refuses a name no route could carry, or one given twice.
fn check_name(name: &str, taken: &BTreeMap<String, ModelHandle>) -> Result<(), StartError> {
    let valid = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    let problem = if name.is_empty() || !name.chars().all(valid) {
        "a name is letters, digits, '-', '_' or '.'"
    } else if taken.contains_key(name) {
        "two models of that name"
    } else {
        return Ok(());
    };
    Err(StartError::ModelName {
        name: name.to_string(),
        problem,
    })
}

impl Server {
    /// Loads the models of `config` on `device` and starts serving them; returns once
    /// the server accepts connections. Until SIGTERM, Ctrl+C or [`stop`](Self::stop).
    pub fn start(config: ServerConfig, device: &Device) -> Result<Self, StartError> {
        let ServerConfig {
            models,
            exposure,
            port,
            limits,
        } = config;
        exposure.check(RISK, TOKEN_ENV)?;
        if models.is_empty() {
            return Err(StartError::NoModel);
        }
        let metrics = Arc::new(Metrics::default());
        let mut handles = BTreeMap::new();
        for (name, dir) in &models {
            check_name(name, &handles)?;
            let handle = spawn_model(name, dir, device, limits, metrics.clone())?;
            handles.insert(name.clone(), handle);
        }
        let listener = TcpListener::bind((exposure.bind, port)).map_err(io(format!(
            "listening on {}, TCP port {port}",
            exposure.bind
        )))?;
        listener
            .set_nonblocking(true)
            .map_err(io("configuring the socket"))?;
        let addr = listener
            .local_addr()
            .map_err(io("reading the listening address"))?;
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
            .map_err(io("starting the server thread"))?;
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
    pub fn stop(mut self) -> Result<(), StartError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait()
    }

    /// Serves until SIGTERM or Ctrl+C (or [`stop`](Self::stop) from elsewhere).
    pub fn wait(self) -> Result<(), StartError> {
        self.thread
            .join()
            .map_err(|_| StartError::Panicked("server"))?
    }
}

/// Loads the model of `dir` on its own thread, which answers its jobs.
fn spawn_model(
    name: &str,
    dir: &Path,
    device: &Device,
    limits: Limits,
    metrics: Arc<Metrics>,
) -> Result<ModelHandle, StartError> {
    let failed = |source| StartError::Model {
        name: name.to_string(),
        source,
    };
    let artifact = Artifact::open(dir).map_err(failed)?;
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
        .map_err(io("starting a model thread"))?;
    loaded
        .recv()
        .map_err(|_| StartError::Panicked("model"))?
        .map_err(failed)?;
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
) -> Result<(), StartError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("http-worker")
        .build()
        .map_err(io("starting the async runtime"))?;
    let served = runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(io("registering the socket"))?;
        let (limits, metrics) = (state.limits, state.metrics.clone());
        let app = routes::router(state);
        listen::serve(listener, app, limits, metrics, async move {
            tokio::select! {
                _ = stopped => {}
                _ = signalled() => {}
            }
        })
        .await;
        Ok(())
    });
    // Tasks still running (a connection closed at the deadline) are not waited for.
    runtime.shutdown_background();
    served
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
