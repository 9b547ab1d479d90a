//! Helpers shared by the unit tests: short training runs on the embedded sample of
//! real Fashion-MNIST images, and a save → load round trip.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;

use crate::Autoencoder;

/// Trains `model` for `steps` Adam steps (PyTorch's ε) on consecutive batches of 64
/// sample images at `lr`; returns it and, per step, the value of the loss term or
/// measure `term` (`None`: the total loss).
pub fn train_on_sample<M: Module + Autoencoder>(
    mut model: M,
    device: &Device,
    steps: usize,
    lr: f64,
    term: Option<&str>,
) -> (M, Vec<f32>) {
    let sample = ae_data::sample::load().expect("embedded sample decodes");
    let batcher = ae_data::HostBatcher::new(sample.train);
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let mut values = Vec::new();
    for step in 0..steps {
        let start = step * 64 % 3968;
        let idx: Vec<usize> = (start..start + 64).collect();
        let out = model.forward(batcher.images(&idx, device));
        let tracked = match term {
            Some(name) => out
                .terms
                .iter()
                .chain(&out.measures)
                .find(|t| t.name == name)
                .map(|t| t.value.clone())
                .unwrap_or_else(|| panic!("term {name} reported")),
            None => out.loss.clone(),
        };
        values.push(tracked.into_scalar::<f32>());
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        model = optim.step(lr, model, grads);
    }
    (model, values)
}

/// Trains `model` for `steps` Adam steps at `lr` on the one batch `x`; returns it and
/// the loss of each step.
pub fn train_on_batch<M: Module + Autoencoder>(
    mut model: M,
    x: Tensor<2>,
    steps: usize,
    lr: f64,
) -> (M, Vec<f32>) {
    let mut optim = AdamConfig::new().init();
    let mut losses = Vec::new();
    for _ in 0..steps {
        let loss = model.forward(x.clone()).loss;
        losses.push(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);
    }
    (model, losses)
}

/// `n` windows of `steps` steps of a sine wave of period 12, each from another phase,
/// `[n, steps]`: sequences for the sequence models.
pub fn waves(n: usize, steps: usize) -> TensorData {
    let values: Vec<f32> = (0..n)
        .flat_map(|w| {
            (0..steps).map(move |t| ((t + 5 * w) as f32 * std::f32::consts::FRAC_PI_6).sin())
        })
        .collect();
    TensorData::new(values, [n, steps])
}

/// Means of the first and of the last `n` values.
pub fn first_last(values: &[f32], n: usize) -> (f32, f32) {
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    (mean(&values[..n]), mean(&values[values.len() - n..]))
}

/// `model`'s weights saved as a burnpack record (the artifact's format) and loaded
/// into `fresh`, held in memory throughout: every backend reads them whole.
pub fn save_load<M: Module>(model: &M, fresh: M) -> M {
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .expect("record saves");
    let record = burn::store::ModuleRecord::from_bytes(bytes).expect("record loads");
    fresh.load_record(record)
}

/// `model` saved and loaded into `fresh` encodes the first three sample test images and
/// decodes their codes exactly as `model` does; returns the loaded model.
pub fn assert_saves_identically<M: Module + Autoencoder>(model: &M, fresh: M) -> M {
    let loaded = save_load(model, fresh);
    let x = test_images(3, &loaded.devices()[0]);
    let code = model.encode(x.clone());
    code.clone()
        .into_data()
        .assert_eq(&loaded.encode(x).into_data(), true);
    model
        .decode(code.clone())
        .into_data()
        .assert_eq(&loaded.decode(code).into_data(), true);
    loaded
}

/// The value of the loss term or measure `name` of `out`.
pub fn term(out: &crate::AutoencoderOutput, name: &str) -> f32 {
    out.terms
        .iter()
        .chain(&out.measures)
        .find(|t| t.name == name)
        .map(|t| t.value.clone().into_scalar::<f32>())
        .unwrap_or_else(|| panic!("{name} reported"))
}

/// The first `n` sample test images.
pub fn test_images(n: usize, device: &Device) -> Tensor<2> {
    let sample = ae_data::sample::load().expect("embedded sample decodes");
    let idx: Vec<usize> = (0..n).collect();
    sample.test.tensor(&idx, device)
}

/// Seeds the backend's random generator and holds it until the guard drops: the
/// tests of one process share that generator, and no other seeded test reseeds it or
/// draws from it meanwhile (unseeded tests still may: bounds keep a margin for that).
pub fn seeded(device: &Device, seed: u64) -> std::sync::MutexGuard<'static, ()> {
    static GENERATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(seed);
    guard
}
