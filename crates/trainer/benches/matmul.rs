//! The matrix products of one training step of the MLP autoencoder 784-512-256-32,
//! timed one by one on each CPU backend:
//! `cargo bench -p trainer --bench matmul [-- --backend flex]`.
//!
//! For every layer `[in → out]` a step multiplies the batch by the weight (forward),
//! the output gradient by the transposed weight (input gradient) and the transposed
//! batch by the output gradient (weight gradient), with the same strided (transposed)
//! views burn's autodiff uses. Batch 128. Each product: 20 warm-up calls, then the
//! median of 5 passes of 100 calls. `bench/pytorch/matmul.py` times the same products
//! in PyTorch and prints the same table.
//!
//! `-- --peak` prints, as one JSON line per backend, the attainable GFLOP/s: the best
//! of square products of 512, 1024 and 2048 (the roofline of `cargo xtask bench`).

use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use burn::tensor::Distribution;
use trainer::device::{Backend, select};

const WIDTHS: [usize; 7] = [784, 512, 256, 32, 256, 512, 784];
const BATCH: usize = 128;

/// A product to time: its kind, its shape as printed, and the call.
type Product<'a> = (&'static str, String, Box<dyn Fn() -> Tensor<2> + 'a>);

/// Milliseconds per call of `f`: the median of 5 passes of `calls` calls, after
/// `calls / 5` warm-up calls.
fn time_ms(f: &dyn Fn() -> Tensor<2>, device: &Device, calls: usize) -> f64 {
    for _ in 0..calls.div_ceil(5) {
        let _ = f();
    }
    let _ = device.sync();
    let mut passes: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                let _ = f();
            }
            let _ = device.sync();
            t.elapsed().as_secs_f64() * 1e3 / calls as f64
        })
        .collect();
    passes.sort_by(f64::total_cmp);
    passes[2]
}

/// The machine's attainable GFLOP/s on a backend: the best of square products of
/// 512, 1024 and 2048, each the median of 5 passes after warm-up.
fn peak_gflops(device: &Device) -> f64 {
    [512usize, 1024, 2048]
        .iter()
        .map(|&n| {
            let a = Tensor::<2>::random([n, n], Distribution::Default, device);
            let b = Tensor::<2>::random([n, n], Distribution::Default, device);
            let calls = (1usize << 31) / (n * n * n) + 1;
            let f = || {
                let mut out = a.clone().matmul(b.clone());
                for _ in 1..calls {
                    out = a.clone().matmul(b.clone());
                }
                out
            };
            let ms = time_ms(&f, device, 5) / calls as f64;
            2.0 * (n * n * n) as f64 / ms / 1e6
        })
        .fold(0.0, f64::max)
}

fn main() -> Result<()> {
    let mut backends = vec![Backend::Flex, Backend::Ndarray];
    let mut peak = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--bench" => {}
            "--peak" => peak = true,
            "--backend" => {
                let v = args.next().context("--backend needs a value")?;
                let b = <Backend as clap::ValueEnum>::from_str(&v, true)
                    .map_err(|e| anyhow::anyhow!("--backend {v}: {e}"))?;
                backends = vec![b];
            }
            other => bail!("unknown flag {other}: expected --backend or --peak"),
        }
    }
    if peak {
        for backend in backends {
            let selected = select(backend)?;
            let gflops = peak_gflops(&selected.device);
            let backend = format!("burn {}", selected.backend);
            println!(
                "{}",
                serde_json::json!({ "framework": backend, "peak_gflops": gflops })
            );
        }
        return Ok(());
    }
    println!("| framework | product [m×k]·[k×n] | kind | ms |\n|---|---|---|---|");
    for backend in backends {
        let selected = select(backend)?;
        let device = selected.device;
        let name = format!("burn {}", selected.backend);
        let mut total = 0.0;
        for w in WIDTHS.windows(2) {
            let (fan_in, fan_out) = (w[0], w[1]);
            let x = Tensor::<2>::random([BATCH, fan_in], Distribution::Default, &device);
            let weight = Tensor::<2>::random([fan_in, fan_out], Distribution::Default, &device);
            let grad = Tensor::<2>::random([BATCH, fan_out], Distribution::Default, &device);
            let products: [Product; 3] = [
                (
                    "forward",
                    format!("[{BATCH}×{fan_in}]·[{fan_in}×{fan_out}]"),
                    Box::new(|| x.clone().matmul(weight.clone())),
                ),
                (
                    "input gradient",
                    format!("[{BATCH}×{fan_out}]·[{fan_out}×{fan_in}]ᵀ"),
                    Box::new(|| grad.clone().matmul(weight.clone().transpose())),
                ),
                (
                    "weight gradient",
                    format!("[{fan_in}×{BATCH}]ᵀ·[{BATCH}×{fan_out}]"),
                    Box::new(|| x.clone().transpose().matmul(grad.clone())),
                ),
            ];
            for (kind, shape, f) in &products {
                let ms = time_ms(f.as_ref(), &device, 100);
                total += ms;
                println!("| {name} | {shape} | {kind} | {ms:.3} |");
            }
        }
        println!("| {name} | all 18 products of a step | | {total:.3} |");
    }
    Ok(())
}
