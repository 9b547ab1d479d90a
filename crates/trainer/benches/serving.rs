//! Load on the HTTP inference server, beside calling the library directly:
//! `cargo bench -p trainer --bench serving [-- --requests N --seconds S --max-wait-ms W
//! --backend B]`.
//!
//! The MLP autoencoder 784-512-256-32 (the README's default model, trained one epoch on
//! the embedded sample: its weights do not change the time) is served on localhost;
//! 1, 8 and 64 clients, each a thread with its own connection, send single-image
//! `encode` requests (a JSON body of 784 numbers) back to back, `--requests` in all
//! per level (2,000 by default) or until `--seconds` (30) pass. Each level prints the
//! throughput and the median and 99th-percentile latency; the library rows time
//! `Predictor::encode` on one image per call, and on 64 images per call, in this
//! process. Localhost only; nothing leaves the machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ae_serve::{Exposure, Limits, Server, ServerConfig};
use anyhow::{Context, Result, bail};
use trainer::device::{Backend, select};

struct Args {
    requests: usize,
    seconds: f64,
    backend: Backend,
    max_wait_ms: Option<f64>,
}

fn args() -> Result<Args> {
    let mut a = Args {
        requests: 2000,
        seconds: 30.0,
        backend: Backend::Flex,
        max_wait_ms: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--bench" => {}
            "--requests" => a.requests = value()?.parse()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--max-wait-ms" => a.max_wait_ms = Some(value()?.parse()?),
            "--backend" => {
                let v = value()?;
                a.backend = <Backend as clap::ValueEnum>::from_str(&v, true)
                    .map_err(|e| anyhow::anyhow!("--backend {v}: {e}"))?;
            }
            other => bail!(
                "unknown flag {other}: expected --requests, --seconds, --max-wait-ms or --backend"
            ),
        }
    }
    Ok(a)
}

/// Throughput and latency quantiles of `latencies` measured over `wall`.
fn row(what: &str, clients: usize, mut latencies: Vec<Duration>, wall: Duration, per_call: usize) {
    latencies.sort_unstable();
    let q = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    let n = latencies.len() * per_call;
    println!(
        "| {what} | {clients} | {} | {:.0} | {:.2} | {:.2} |",
        latencies.len(),
        n as f64 / wall.as_secs_f64(),
        q(0.5).as_secs_f64() * 1e3,
        q(0.99).as_secs_f64() * 1e3,
    );
}

/// Trains the model the benchmark serves into `dir`: the default MLP, one epoch of
/// 512 images.
fn train(dir: &std::path::Path) -> Result<()> {
    let trained = std::process::Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args([
            "train",
            "--dataset",
            "fashion-mnist-sample",
            "--epochs",
            "1",
            "--limit",
            "512",
        ])
        .args(["--backend", "flex", "--out"])
        .arg(dir)
        .output()
        .context("running the trainer")?;
    if !trained.status.success() {
        bail!(
            "training failed: {}",
            String::from_utf8_lossy(&trained.stderr)
        );
    }
    Ok(())
}

/// The latencies of `clients` threads posting `body` to `url` until `limit` requests
/// are sent or `seconds` have passed.
fn post_from(
    clients: usize,
    url: &str,
    body: &Arc<String>,
    (limit, seconds): (usize, f64),
) -> Result<Vec<Duration>> {
    let sent = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (url, body, sent) = (url.to_string(), body.clone(), sent.clone());
            std::thread::spawn(move || -> Result<Vec<Duration>> {
                let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
                let mut latencies = Vec::new();
                while sent.fetch_add(1, Ordering::Relaxed) < limit
                    && start.elapsed().as_secs_f64() < seconds
                {
                    let t = Instant::now();
                    let mut response = agent
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .send(body.as_bytes())?;
                    let _ = response.body_mut().read_to_vec()?;
                    latencies.push(t.elapsed());
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in threads {
        latencies.extend(
            t.join()
                .map_err(|_| anyhow::anyhow!("a client panicked"))??,
        );
    }
    Ok(latencies)
}

fn main() -> Result<()> {
    let a = args()?;
    let home = tempfile::tempdir()?;
    let dir = home.path().join("default-model");
    train(&dir)?;
    let selected = select(a.backend)?;
    println!("device: {}", selected.description);
    let image: Vec<f32> = ae_data::sample::load()?
        .test
        .as_images()
        .context("images")?
        .image(0)
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();

    println!(
        "| path | clients | requests | images/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|"
    );
    // The library, in this process: one image per call, then 64.
    let predictor = ae_infer::Artifact::open(&dir)?.load(&selected.device)?;
    for per_call in [1usize, 64] {
        let rows: Vec<f32> = image.iter().copied().cycle().take(784 * per_call).collect();
        let _ = predictor.encode(&rows)?;
        let (mut latencies, start) = (Vec::new(), Instant::now());
        while latencies.len() < a.requests / per_call.min(8)
            && start.elapsed().as_secs_f64() < a.seconds
        {
            let t = Instant::now();
            let codes = predictor.encode(&rows)?;
            latencies.push(t.elapsed());
            assert_eq!(codes.len(), 32 * per_call);
        }
        row(
            &format!("library, {per_call} per call"),
            1,
            latencies,
            start.elapsed(),
            per_call,
        );
    }

    let mut limits = Limits::default();
    if let Some(ms) = a.max_wait_ms {
        limits.gathering.max_wait = Duration::from_secs_f64(ms / 1000.0);
    }
    println!("gathering: {:?}", limits.gathering);
    let config = ServerConfig {
        models: vec![("m".to_string(), dir.clone())],
        exposure: Exposure::local(),
        port: 0,
        limits,
    };
    let server = Server::start(config, &selected.device)?;
    let url = format!("http://{}/v1/models/m/encode", server.addr());
    let body = Arc::new(serde_json::json!({ "inputs": [image] }).to_string());
    for clients in [1usize, 8, 64] {
        let start = Instant::now();
        let latencies = post_from(clients, &url, &body, (a.requests, a.seconds))?;
        row(
            "HTTP, 1 per request",
            clients,
            latencies,
            start.elapsed(),
            1,
        );
    }
    Ok(server.stop()?)
}
