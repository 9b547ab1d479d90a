//! Using the models as a library: train an MLP autoencoder on the embedded
//! Fashion-MNIST sample with a hand-written loop, encode and decode, and write the
//! weights as safetensors for tools without burn. It depends
//! on the models and data crates and on burn with a backend, as a user's crate would.
//!
//! Run: `cargo run --release -p custom-loop` (the CPU); on a GPU,
//! `cargo run --release -p custom-loop --features wgpu`. `BURN_DEVICE` chooses among
//! the compiled backends.

use ae_data::sample;
use ae_models::{Autoencoder, MlpAutoencoderConfig, Reconstruction};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};

fn main() -> anyhow::Result<()> {
    // The first compiled backend (GPUs first), or the one `BURN_DEVICE` names.
    let device = Device::default();
    println!("device: {device:?}");
    let device = device.autodiff();
    device.seed(0);

    let data = sample::load()?;
    let (train, test) = (&data.train, &data.test);

    let mut model = MlpAutoencoderConfig::new(784, vec![256], 16)
        .with_reconstruction(Reconstruction::Bce)
        .init(&device)?;
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();

    let batch = 100;
    for epoch in 1..=3 {
        let mut total = 0.0;
        for start in (0..4000).step_by(batch) {
            let indices: Vec<usize> = (start..start + batch).collect();
            let out = model.forward(train.tensor(&indices, &device));
            total += out.loss.clone().into_scalar::<f32>();
            let grads = GradientsParams::from_grads(out.loss.backward(), &model);
            model = optim.step(1e-3, model, grads);
        }
        println!(
            "epoch {epoch}: mean train BCE {:.4}",
            total / (4000 / batch) as f32
        );
    }

    // Inference: no autodiff needed.
    let model = model.valid();
    let x = test.tensor(
        &(0..8).collect::<Vec<_>>(),
        &device.clone().without_autodiff(),
    );
    let code = model.encode(x.clone());
    let recon = model.decode(code.clone());
    let mse: f32 = (recon - x).powi_scalar(2).mean().into_scalar();
    println!(
        "codes {:?}, test MSE per pixel of 8 images: {mse:.4}",
        code.dims()
    );

    // The weights for any safetensors reader (NumPy, PyTorch), under burn's names and in
    // burn's `[in, out]` layout (`encoder.0.weight`: 784 × 256).
    let path = "artifacts/custom-loop.safetensors";
    std::fs::create_dir_all("artifacts")?;
    let mut store = SafetensorsStore::from_file(path).overwrite(true);
    model
        .save_into(&mut store)
        .map_err(|e| anyhow::anyhow!("writing {path}: {e}"))?;
    println!("weights written to {path}");
    Ok(())
}
