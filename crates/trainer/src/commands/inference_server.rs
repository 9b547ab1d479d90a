use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use ae_serve::{Exposure, Gathering, Limits, Server, ServerConfig};

use crate::cli::{DeviceArgs, positive};

/// The server's limits when no flag changes them: the library's, declared once there.
const DEFAULT: Limits = Limits::DEFAULT;

/// Serve trained models over HTTP: POST /v1/models/NAME/{encode,reconstruct,score}
/// with JSON rows (or a .npy body), the Open Inference Protocol under /v2, GET
/// /health, /metrics (Prometheus) and /openapi.json, until SIGTERM or Ctrl+C, which
/// finish the requests in hand. Not `serve`, which lends devices for training.
#[derive(ClapArgs)]
pub struct Args {
    /// An artifact to serve, as DIR (named by its folder) or NAME=DIR; repeat for
    /// several models.
    #[arg(long, value_name = "[NAME=]DIR", required = true)]
    artifact: Vec<String>,
    /// TCP port to listen on (0: any free port, printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on: loopback (this machine only) unless another is given;
    /// beyond loopback a token is required.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Answer only requests with `Authorization: Bearer TOKEN` (all routes but
    /// /health). It keeps out clients without it; it does not encrypt (plain HTTP:
    /// put a TLS proxy in front beyond a trusted network).
    #[arg(long, env = "AE_SERVE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Listen beyond loopback without a token: any client that reaches the port can use
    /// the models and the machine's devices.
    #[arg(long)]
    insecure_no_token: bool,
    /// Samples per model call at most: concurrent requests are gathered up to it.
    #[arg(long, default_value_t = DEFAULT.gathering.max_batch, value_parser = positive)]
    max_batch: usize,
    /// Milliseconds a request waits for others to share its model call. At 0 the
    /// requests that queued while the model was busy still share the next call.
    #[arg(long, default_value_t = DEFAULT.gathering.max_wait.as_secs_f64() * 1000.0)]
    max_wait_ms: f64,
    /// Samples per request at most (larger: 413).
    #[arg(long, default_value_t = DEFAULT.max_rows, value_parser = positive)]
    max_rows: usize,
    /// Request body size at most, in MiB (larger: 413).
    #[arg(long, default_value_t = DEFAULT.max_body >> 20, value_parser = positive)]
    max_body_mib: usize,
    /// Requests waiting per model at most (more: 503).
    #[arg(long, default_value_t = DEFAULT.queue, value_parser = positive)]
    queue: usize,
    /// Seconds a request may take (longer: 504).
    #[arg(long, default_value_t = DEFAULT.timeout.as_secs_f64())]
    timeout_s: f64,
    /// Seconds a client may take to send a request's headers, and a connection may
    /// sit idle between requests; then it is closed.
    #[arg(long, default_value_t = DEFAULT.header_timeout.as_secs_f64())]
    header_timeout_s: f64,
    /// Connections open at once at most (fewer when the process may open fewer
    /// files); more are answered 503 and closed.
    #[arg(long, default_value_t = DEFAULT.max_connections, value_parser = positive)]
    max_connections: usize,
    /// Request bytes each model holds in memory at most, in MiB; a request that would
    /// pass it is answered 503 with Retry-After.
    #[arg(long, default_value_t = DEFAULT.max_in_flight >> 20, value_parser = positive)]
    max_in_flight_mib: usize,
    /// Seconds the requests in hand may take after SIGTERM or Ctrl+C; then the
    /// connections still open are closed and the server exits.
    #[arg(long, default_value_t = DEFAULT.shutdown_timeout.as_secs_f64())]
    shutdown_timeout_s: f64,
    #[command(flatten)]
    device: DeviceArgs,
}

/// `NAME=DIR` or `DIR` (named by its last component); the server checks the name.
fn named(spec: &str) -> (String, PathBuf) {
    match spec.split_once('=') {
        Some((name, dir)) => (name.to_string(), PathBuf::from(dir)),
        None => {
            let dir = PathBuf::from(spec);
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, dir)
        }
    }
}

impl Args {
    /// The server's configuration, as the flags give it.
    fn config(&self) -> Result<ServerConfig> {
        let duration = |flag: &str, v: f64| match v {
            v if (0.0..1e9).contains(&v) => Ok(Duration::from_secs_f64(v)),
            _ => bail!("--{flag} {v}: expected a non-negative time"),
        };
        let limits = Limits {
            gathering: Gathering {
                max_batch: self.max_batch,
                max_wait: duration("max-wait-ms", self.max_wait_ms / 1000.0)?,
            },
            max_rows: self.max_rows,
            max_body: self.max_body_mib << 20,
            queue: self.queue,
            timeout: duration("timeout-s", self.timeout_s)?,
            header_timeout: duration("header-timeout-s", self.header_timeout_s)?,
            max_connections: self.max_connections,
            max_in_flight: self.max_in_flight_mib << 20,
            shutdown_timeout: duration("shutdown-timeout-s", self.shutdown_timeout_s)?,
        };
        Ok(ServerConfig {
            models: self.artifact.iter().map(|s| named(s)).collect(),
            exposure: Exposure {
                bind: self.bind,
                token: self.token.clone(),
                insecure_no_token: self.insecure_no_token,
            },
            port: self.port,
            limits,
        })
    }
}

pub fn run(args: Args) -> Result<()> {
    let config = args.config()?;
    // Refused before any device is taken.
    config.exposure.check(ae_serve::RISK, ae_serve::TOKEN_ENV)?;
    let selected = args.device.select()?;
    println!("device: {}", selected.description);
    let (models, guarded) = (config.models.clone(), config.exposure.token.is_some());
    let server = Server::start(config, &selected.device)?;
    let addr = server.addr();
    for (name, dir) in &models {
        println!("model {name}: {}", dir.display());
    }
    println!(
        "listening on http://{addr}{}; SIGTERM or Ctrl+C stops",
        if guarded { ", token required" } else { "" }
    );
    if !addr.ip().is_loopback() && !guarded {
        eprintln!(
            "warning: --insecure-no-token: any client that reaches {addr} can use these models"
        );
    }
    std::io::stdout().flush()?;
    server.wait()?;
    println!("stopped");
    Ok(())
}
