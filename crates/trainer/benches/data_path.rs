//! Batches per second of the two data paths: `cargo bench -p trainer --bench data_path`.
//!
//! Uses the full Fashion-MNIST training set when it is installed, else the embedded
//! sample; batches of 128 images of 28×28 on the ndarray (CPU) device, in shuffled
//! order. The device path includes the gather; both include making the tensor.

use std::time::Instant;

use ae_data::{DatasetName, DeviceBatcher, HostBatcher, Locator};
use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;

#[allow(deprecated)] // Device::ndarray is deprecated upstream in favour of flex.
fn main() {
    let data = Locator::new(None)
        .find(DatasetName::FashionMnist)
        .ok()
        .and_then(Result::ok)
        .or_else(|| ae_data::sample::load().ok())
        .expect("the embedded sample always loads");
    let split = data.train.clone();
    let device = Device::ndarray();
    let n = split.len();
    // A fixed pseudo-random order (LCG), the same for both paths.
    let mut state = 12345u64;
    let order: Vec<usize> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        })
        .collect();
    let batches: Vec<Vec<usize>> = order
        .chunks(128)
        .filter(|c| c.len() == 128)
        .map(<[usize]>::to_vec)
        .collect();
    println!(
        "{} ({} images), {} batches of 128, ndarray device",
        data.spec,
        n,
        batches.len()
    );

    let host = HostBatcher::new(split.clone());
    report("host  (u8 -> f32 per batch, one upload)", &batches, |b| {
        host.batch(b, &device)
    });
    let on_device = DeviceBatcher::new(&split, &device);
    report("device (uploaded once, gathered by index)", &batches, |b| {
        on_device.batch(b, &device)
    });
}

fn report(name: &str, batches: &[Vec<usize>], mut make: impl FnMut(Vec<usize>) -> Tensor<2>) {
    // Warm-up, then three timed passes; the best is reported.
    for b in batches.iter().take(10) {
        let _ = make(b.clone()).into_data();
    }
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        for b in batches {
            // Reading one value forces the batch to be materialised.
            let t = make(b.clone());
            let _ = t.slice([0..1, 0..1]).into_data();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let per_sec = batches.len() as f64 / best;
    println!(
        "{name}: {per_sec:9.0} batches/s ({:.1} µs per batch)",
        1e6 / per_sec
    );
}
