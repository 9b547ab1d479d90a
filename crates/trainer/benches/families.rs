//! Training and encoding throughput of one model family on one backend, as one JSON
//! line; `cargo xtask bench` runs it for every family and backend beside the PyTorch
//! reference in `bench/pytorch/`.
//!
//! `cargo bench -p trainer --bench families -- --model mlp --backend flex [--hidden 1000,500,250] [--latent 30] [--steps 300] [--max-seconds 20] [--phases]`
//!
//! The model: the family's default for 28×28 images (the trainer's), with
//! `--hidden` and `--latent` applied as `trainer train` applies them.
//!
//! A training step is what the trainer's step does: a batch of 128 real Fashion-MNIST
//! images gathered by the host data path, the model's forward pass with every loss
//! term, one backward pass, one Adam update, and the loss read back. Steps run until
//! `--steps` or `--max-seconds`, after five warm-up steps. Encoding: 20 batches of
//! 512 images through the inference model. Peak memory: the process's resident
//! high-water mark (Linux). With `--phases` the device is synchronised between the
//! parts of a step and each part's mean time is reported (`phases_ms`: data, forward,
//! backward, update, readback); on a GPU that stops the queue from running ahead,
//! so `cargo xtask bench` asks for it on the CPU backends only. `train_flops_per_sample`
//! counts the floating-point operations of training on one sample in the matrix
//! products and convolutions (`6 × multiply-adds`), for the roofline beside the machine's attainable
//! GFLOP/s (`cargo bench -p trainer --bench matmul -- --peak`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ae_data::{DatasetName, HostBatcher, Locator, Split};
use ae_models::{Autoencoder, Family, InputShape, ModelConfig};
use anyhow::{Context, Result, bail};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use trainer::device::{Backend, select};
use trainer::run::overrides::{ModelOverrides, Widths};

/// The benchmarked model: the family's default for 28×28 images with the overrides.
fn architecture(family: &str, overrides: ModelOverrides) -> Result<ModelConfig> {
    let family: Family = family
        .parse()
        .with_context(|| format!("--model {family}"))?;
    let mut model = family.default_config(InputShape::grey(28, 28))?;
    overrides.apply(&mut model)?;
    Ok(model)
}

struct Args {
    family: String,
    overrides: ModelOverrides,
    backend: Backend,
    steps: usize,
    max_seconds: f64,
    batch_size: usize,
    phases: bool,
}

/// Time spent in each part of the training steps.
#[derive(Default)]
struct Phases {
    data: Duration,
    forward: Duration,
    backward: Duration,
    update: Duration,
    readback: Duration,
}

impl Phases {
    fn mean_ms(&self, steps: usize) -> serde_json::Value {
        let ms = |d: Duration| 1e3 * d.as_secs_f64() / steps.max(1) as f64;
        serde_json::json!({
            "data": ms(self.data),
            "forward": ms(self.forward),
            "backward": ms(self.backward),
            "update": ms(self.update),
            "readback": ms(self.readback),
        })
    }
}

fn args() -> Result<Args> {
    let mut a = Args {
        family: Family::default().name().into(),
        overrides: ModelOverrides::default(),
        backend: Backend::Flex,
        steps: 300,
        max_seconds: 20.0,
        batch_size: 128,
        phases: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--bench" => continue, // added by `cargo bench`
            "--phases" => {
                a.phases = true;
                continue;
            }
            _ => {}
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--model" => a.family = value,
            "--hidden" => {
                a.overrides.hidden = Some(
                    value
                        .parse::<Widths>()
                        .map_err(|e| anyhow::anyhow!("--hidden {value}: {e}"))?,
                );
            }
            "--latent" => a.overrides.latent = Some(value.parse().context("--latent")?),
            "--backend" => {
                a.backend = <Backend as clap::ValueEnum>::from_str(&value, true)
                    .map_err(|e| anyhow::anyhow!("--backend {value}: {e}"))?;
            }
            "--steps" => a.steps = value.parse().context("--steps")?,
            "--max-seconds" => a.max_seconds = value.parse().context("--max-seconds")?,
            "--batch-size" => a.batch_size = value.parse().context("--batch-size")?,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

/// The resident-set high-water mark, from `/proc/self/status` (Linux).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Samples per second `model` encodes, over 20 batches of 512 training images (after
/// one to warm up).
fn encode_rate(model: &ae_models::AnyAutoencoder, train: Arc<Split>, device: &Device) -> f64 {
    let chunks: Vec<Vec<usize>> = (0..20)
        .map(|i| (i * 512..(i + 1) * 512).collect())
        .collect();
    let enc = HostBatcher::new(train);
    let _ = model
        .encode(enc.images(&chunks[0], device))
        .sum()
        .into_scalar::<f32>();
    let start = Instant::now();
    for c in &chunks {
        let _ = model
            .encode(enc.images(c, device))
            .sum()
            .into_scalar::<f32>();
    }
    (20 * 512) as f64 / start.elapsed().as_secs_f64()
}

fn main() -> Result<()> {
    let mut a = args()?;
    let config = architecture(&a.family, std::mem::take(&mut a.overrides))?;
    let selected = select(a.backend)?;
    let data = Locator::new(None)
        .load(DatasetName::FashionMnist)
        .context("the benchmark reads the full Fashion-MNIST training set")?;
    let device = selected.device.clone();
    let ad = device.clone().autodiff();
    ad.seed(0);
    let mut model = config.init(&ad)?;
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let batcher = HostBatcher::new(data.train.clone());
    let n = data.train.len();
    let mut state = 0x853c_49e6_748f_ea9bu64;
    let mut next_batch = || -> Vec<usize> {
        (0..a.batch_size)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 33) as usize % n
            })
            .collect()
    };
    // Synchronises the device (only when phases are timed) and returns the time since `t`.
    let lap = |t: &mut Instant| -> Duration {
        if a.phases {
            // A failed sync shows up as a failed readback below.
            let _ = ad.sync();
        }
        let now = Instant::now();
        let d = now - *t;
        *t = now;
        d
    };
    let mut step = |model: ae_models::AnyAutoencoder, p: &mut Phases| {
        let mut t = Instant::now();
        let x = batcher.images(&next_batch(), &ad);
        p.data += lap(&mut t);
        let out = model.forward(x);
        let loss = out.loss.clone();
        p.forward += lap(&mut t);
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        p.backward += lap(&mut t);
        let model = optim.step(1e-3, model, grads);
        p.update += lap(&mut t);
        let value = loss.into_scalar::<f32>();
        p.readback += lap(&mut t);
        (model, value)
    };
    let mut warm = Phases::default();
    for _ in 0..5 {
        model = step(model, &mut warm).0;
    }
    let mut phases = Phases::default();
    let start = Instant::now();
    let mut steps = 0;
    let mut last = f32::NAN;
    while steps < a.steps.max(1) && (steps < 3 || start.elapsed().as_secs_f64() < a.max_seconds) {
        (model, last) = step(model, &mut phases);
        steps += 1;
    }
    let train_time = start.elapsed().as_secs_f64();

    let encode = encode_rate(&model.valid(), data.train, &device);

    let report = serde_json::json!({
        "family": a.family,
        "framework": format!("burn {}", selected.backend),
        "device": selected.description,
        "steps": steps,
        "train_samples_per_s": (steps * a.batch_size) as f64 / train_time,
        "encode_samples_per_s": encode,
        "data_fraction": phases.data.as_secs_f64() / train_time,
        "phases_ms": if a.phases { phases.mean_ms(steps) } else { serde_json::Value::Null },
        "peak_rss_bytes": peak_rss_bytes(),
        // Floating-point operations of training on one sample: two per multiply-add,
        // three products (forward, and the input and weight gradients) per layer.
        "train_flops_per_sample": 6.0 * config.size()?.multiply_adds as f64,
        "last_loss": last,
    });
    println!("{report}");
    Ok(())
}
