//! Every family trains through the same trainer on real images, and each
//! objective does what it is for.

use super::*;
use ae_data::{DatasetName, Locator};
use ae_models::regularize::contractive_penalty;
use ae_models::{
    Activation, AnyAutoencoder, Autoencoder, ConvAutoencoderConfig, ConvStackConfig,
    MlpAutoencoderConfig, ModelConfig, Reconstruction, Regularization, VaeConfig,
};
use burn::prelude::*;
use trainer::run::config::TrainConfig;
use trainer::run::fit::{DataPath, Outcome, train};

fn cpu() -> Device {
    Device::flex()
}

fn sample() -> ae_data::Dataset {
    Locator::only("unused")
        .load(DatasetName::FashionMnistSample)
        .expect("embedded sample")
}

/// Trains `model` on the first `limit` sample images for `epochs`.
fn fit(model: ModelConfig, epochs: usize, limit: usize, dir: &Path) -> Outcome {
    fit_lr(model, epochs, limit, 1e-3, dir)
}

fn fit_lr(model: ModelConfig, epochs: usize, limit: usize, lr: f64, dir: &Path) -> Outcome {
    let mut config = TrainConfig::new(model, DatasetName::FashionMnistSample.into());
    config.lr = lr;
    config.epochs = epochs;
    config.limit = Some(limit);
    config.batch_size = 64;
    config.seed = 9;
    std::fs::create_dir_all(dir).expect("mkdir");
    train(&config, &sample(), &cpu(), dir, DataPath::Host).expect("training runs")
}

fn loss(o: &Outcome, epoch: usize, split: &str, name: &str) -> f64 {
    let metrics = &o.history[epoch];
    let map = if split == "train" {
        &metrics.train
    } else {
        &metrics.valid
    };
    map.get(name).copied().unwrap_or(f64::NAN)
}

/// Reloads the artifact and checks the outputs are those of the trained model.
fn reload(dir: &Path) -> AnyAutoencoder {
    trainer::artifact::Artifact::open(dir)
        .expect("artifact")
        .load_model(&cpu())
        .expect("weights load")
}

#[test]
fn conv_autoencoder_trains_and_reloads() {
    let home = tempfile::tempdir().expect("temp dir");
    let model = ModelConfig::Conv(ConvAutoencoderConfig::new(
        ConvStackConfig::new([1, 28, 28], vec![8, 16]),
        16,
    ));
    let o = fit_lr(model, 2, 3000, 3e-3, home.path());
    assert!(loss(&o, 1, "train", "Loss") < loss(&o, 0, "train", "Loss"));
    // The control is the trivial predictor, the mean training image.
    learned(
        "conv test MSE per pixel",
        o.test.mse_per_pixel,
        mean_image_mse(),
        |mse| mse < 0.07,
    );
    let again = trainer::applications::evaluate::evaluate(
        &reload(home.path()),
        &sample().test,
        "test",
        256,
        &cpu(),
    );
    assert!((again.mse_per_pixel - o.test.mse_per_pixel).abs() < 1e-6);
}

#[test]
fn vae_trains_reports_kl_and_reloads() {
    let home = tempfile::tempdir().expect("temp dir");
    let o = fit(
        ModelConfig::Vae(VaeConfig::new(784, vec![200], 10)),
        3,
        2048,
        home.path(),
    );
    let (first, last) = (loss(&o, 0, "train", "Loss"), loss(&o, 2, "train", "Loss"));
    assert!(last < first, "ELBO loss {first} -> {last}");
    let kl = loss(&o, 2, "train", "kl");
    let rec = loss(&o, 2, "train", "reconstruction");
    assert!(
        kl > 1.0 && rec > 100.0,
        "terms kl {kl}, reconstruction {rec}"
    );
    assert!(
        (kl + rec - last).abs() < 0.01 * last,
        "terms {kl} + {rec} do not add up to {last}"
    );
    // The reloaded model reconstructs as the trained one did, within the noise of
    // the sampled codes (0.6 % here; the untrained model scores 0.17, 3.6× more).
    let model = reload(home.path());
    let again =
        trainer::applications::evaluate::evaluate(&model, &sample().test, "test", 256, &cpu());
    assert!(
        (again.mse_per_pixel - o.test.mse_per_pixel).abs() < 0.03 * o.test.mse_per_pixel,
        "reloaded {} vs trained {}",
        again.mse_per_pixel,
        o.test.mse_per_pixel
    );
    let x = sample().test.tensor(&[0, 1], &cpu());
    assert_eq!(model.encode(x).dims(), [2, 10]);
}

#[test]
fn k_sparse_codes_have_exactly_k_units() {
    let home = tempfile::tempdir().expect("temp dir");
    let reg = Regularization {
        k_sparse: Some(25),
        ..Default::default()
    };
    let mlp = MlpAutoencoderConfig::new(784, vec![], 200).with_regularization(reg);
    let o = fit(ModelConfig::Mlp(mlp), 2, 2048, home.path());
    assert!(loss(&o, 1, "train", "Loss") < loss(&o, 0, "train", "Loss"));
    let code =
        reload(home.path()).encode(sample().test.tensor(&(0..50).collect::<Vec<_>>(), &cpu()));
    let values = code.into_data().try_into_vec::<f32>().expect("f32");
    for row in values.chunks(200) {
        assert_eq!(row.iter().filter(|v| **v != 0.0).count(), 25);
    }
}

#[test]
fn sparsity_penalties_are_reported_and_lower_activity() {
    let home = tempfile::tempdir().expect("temp dir");
    let reg = Regularization {
        code_l1: 1e-3,
        weight_l2: 1e-5,
        ..Default::default()
    };
    let mlp = MlpAutoencoderConfig::new(784, vec![128], 64)
        .with_code_activation(Activation::Relu)
        .with_regularization(reg);
    let o = fit(ModelConfig::Mlp(mlp), 2, 2048, home.path());
    for term in ["reconstruction", "sparsity", "weight-l2"] {
        assert!(loss(&o, 1, "train", term) > 0.0, "{term} not reported");
    }
    let plain_dir = home.path().join("plain");
    let plain =
        MlpAutoencoderConfig::new(784, vec![128], 64).with_code_activation(Activation::Relu);
    fit(ModelConfig::Mlp(plain), 2, 2048, &plain_dir);
    let x = sample().test.tensor(&(0..200).collect::<Vec<_>>(), &cpu());
    let activity = |m: AnyAutoencoder| m.encode(x.clone()).abs().mean().into_scalar::<f32>();
    let (sparse, dense) = (activity(reload(home.path())), activity(reload(&plain_dir)));
    // 0.111 against 1.425 at this seed.
    assert!(
        sparse < 0.3 * dense,
        "mean |code| with L1 {sparse} not well below without {dense}"
    );
}

#[test]
fn contractive_penalty_lowers_the_jacobian_norm() {
    let home = tempfile::tempdir().expect("temp dir");
    let base = MlpAutoencoderConfig::new(784, vec![], 64).with_code_activation(Activation::Sigmoid);
    let reg = Regularization {
        contractive: 0.1,
        ..Default::default()
    };
    let with = home.path().join("cae");
    let without = home.path().join("plain");
    let o = fit(
        ModelConfig::Mlp(base.clone().with_regularization(reg)),
        2,
        2048,
        &with,
    );
    assert!(
        loss(&o, 1, "train", "contractive") > 0.0,
        "contractive term not reported"
    );
    fit(ModelConfig::Mlp(base), 2, 2048, &without);
    let x = sample().test.tensor(&(0..500).collect::<Vec<_>>(), &cpu());
    let jacobian = |dir: &Path| match reload(dir) {
        AnyAutoencoder::Mlp(m) => {
            let code = m.encode(x.clone());
            let w = m.encoder[0].weight.val();
            contractive_penalty(code, w, Activation::Sigmoid).into_scalar::<f32>()
        }
        _ => f32::NAN,
    };
    let (cae, plain) = (jacobian(&with), jacobian(&without));
    // 0.046 against 0.481 at this seed.
    assert!(
        cae < 0.25 * plain,
        "‖J‖² with penalty {cae} not well below without {plain}"
    );
}

#[test]
fn adversarial_codes_follow_the_gaussian_prior() {
    if !full_fashion_mnist("adversarial autoencoder prior match") {
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("aae");
    let args = [
        "--model",
        "aae",
        "--dataset",
        "fashion-mnist",
        "--hidden",
        "256",
        "--latent",
        "8",
        "--epochs",
        "5",
        "--schedule",
        "cosine",
    ];
    let out = train_cli_on(home.path(), &dir, "flex", &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let m = metrics(&dir);
    for term in ["reconstruction", "discriminator", "generator"] {
        assert!(
            epoch_value(&m, 0, "train", term).is_finite(),
            "{term} logged"
        );
    }
    assert!(
        epoch_value(&m, 4, "train", "reconstruction")
            < epoch_value(&m, 0, "train", "reconstruction")
    );
    // The decoded prior samples are written as a PNG grid.
    let png = std::fs::read(dir.join("samples.png")).expect("samples.png written");
    assert_eq!(&png[1..4], b"PNG");

    // The test codes match the prior: each unit's mean within 0.2 of 0 and its
    // standard deviation within 0.25 of 1, read as the largest deviation in units of
    // those tolerances (at most 1). The untrained encoder (the same model, one epoch of
    // 1,000 images at a rate too small to move a weight) is the control.
    let deviation = |dir: &Path| {
        let eval = run(trainer(home.path())
            .args(["eval", "--json", "--backend", "flex", "--artifact"])
            .arg(dir));
        assert!(eval.status.success(), "{}", stderr(&eval));
        let report: serde_json::Value =
            serde_json::from_slice(&eval.stdout).expect("eval prints JSON");
        let values = |key: &str| -> Vec<f64> {
            report[key]
                .as_array()
                .expect("code statistics")
                .iter()
                .map(|v| v.as_f64().unwrap_or(f64::NAN))
                .collect()
        };
        let (mean, std) = (values("code_mean"), values("code_std"));
        println!("code means {mean:?}, stds {std:?}");
        assert_eq!((mean.len(), std.len()), (8, 8));
        mean.iter()
            .map(|m| m.abs() / 0.2)
            .chain(std.iter().map(|s| (s - 1.0).abs() / 0.25))
            .fold(
                0.0,
                |worst: f64, d| if d.is_nan() { f64::NAN } else { worst.max(d) },
            )
    };
    let control = home.path().join("untrained");
    let out = train_cli_on(
        home.path(),
        &control,
        "flex",
        &[&untrained(&args)[..], &["--limit", "1000"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    learned(
        "largest deviation of the test codes from the prior (1: the tolerance)",
        deviation(&dir),
        deviation(&control),
        |d| d <= 1.0,
    );
}

#[test]
fn poisson_likelihood_trains_with_a_positive_rate() {
    let home = tempfile::tempdir().expect("temp dir");
    let model = ModelConfig::Mlp(
        MlpAutoencoderConfig::new(784, vec![64], 16)
            .with_reconstruction(Reconstruction::Poisson)
            .with_output_activation(Activation::Exp),
    );
    let o = fit(model.clone(), 3, 1024, &home.path().join("trained"));
    // λ - t·ln λ at λ = 1 (exp of a zero logit) is 1 per pixel; it falls below it, and
    // the untrained model's (one epoch at a rate that moves no weight) does not.
    let (first, last) = (loss(&o, 0, "train", "Loss"), loss(&o, 2, "train", "Loss"));
    assert!(last < first, "Poisson loss {first} -> {last}");
    let frozen = fit_lr(model, 1, 1024, 1e-30, &home.path().join("untrained"));
    learned(
        "Poisson loss per pixel",
        last,
        loss(&frozen, 0, "train", "Loss"),
        |l| l < 0.9,
    );
    // The rates start near 1 on pixels in [0, 1]; they come down to the images.
    let start = loss(&o, 0, "train", "Pixel MSE");
    assert!(
        o.test.mse_per_pixel < 0.3 * start,
        "test MSE {} vs {start} in the first epoch",
        o.test.mse_per_pixel
    );
    let err = MlpAutoencoderConfig::new(784, vec![], 16)
        .with_reconstruction(Reconstruction::Poisson)
        .with_output_activation(Activation::Identity)
        .validate()
        .expect_err("identity output with a Poisson loss");
    assert!(err.to_string().contains("output_activation"), "{err}");
}

#[test]
fn conv_vae_trains_from_the_command_line_and_writes_samples() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("conv-vae");
    let out = train_cli_on(
        home.path(),
        &dir,
        "flex",
        &[
            "--model",
            "conv-vae",
            "--dataset",
            "fashion-mnist-sample",
            "--channels",
            "8,16",
            "--latent",
            "8",
            "--epochs",
            "2",
            "--limit",
            "1024",
            "--lr",
            "3e-3",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let m = metrics(&dir);
    let (first, last) = (
        epoch_value(&m, 0, "train", "Loss"),
        epoch_value(&m, 1, "train", "Loss"),
    );
    assert!(last < first, "conv VAE loss {first} -> {last}");
    assert!(epoch_value(&m, 1, "valid", "kl") > 0.0);
    let png = std::fs::read(dir.join("samples.png")).expect("samples.png written");
    assert_eq!(&png[1..4], b"PNG");
    let config = std::fs::read_to_string(dir.join("config.json")).expect("config");
    assert!(config.contains("\"conv\""), "{config}");
    // The reloaded model reproduces the trained one's reconstruction error, up to the
    // sampling of the codes (reconstructions decode a sample of the posterior).
    let again = reload(&dir);
    let report =
        trainer::applications::evaluate::evaluate(&again, &sample().test, "test", 256, &cpu());
    let trained = m["test"]["mse_per_pixel"].as_f64().expect("test mse");
    assert!(
        (report.mse_per_pixel - trained).abs() < 0.03 * trained,
        "reloaded {} vs trained {trained}",
        report.mse_per_pixel
    );
}

#[test]
fn layerwise_pretraining_gives_fine_tuning_a_head_start() {
    let home = tempfile::tempdir().expect("temp dir");
    let common = [
        "--dataset",
        "fashion-mnist-sample",
        "--hidden",
        "256,64",
        "--latent",
        "16",
        "--epochs",
        "2",
    ];
    let scratch = home.path().join("scratch");
    let out = train_cli(home.path(), &scratch, &common);
    assert!(out.status.success(), "{}", stderr(&out));
    let stacked = home.path().join("stacked");
    let args: Vec<&str> = common
        .iter()
        .copied()
        .chain(["--pretrain", "layerwise:4"])
        .collect();
    let out = train_cli(home.path(), &stacked, &args);
    assert!(out.status.success(), "{}", stderr(&out));

    let m = metrics(&stacked);
    let stages = m["pretrain"]["stages"].as_array().expect("pretrain stages");
    assert_eq!(stages.len(), 3, "one stage per layer pair");
    for (layer, stage) in stages.iter().enumerate() {
        let loss = |e: usize| {
            stage["epochs"][e]["train"]["Loss"]
                .as_f64()
                .unwrap_or(f64::NAN)
        };
        assert!(
            loss(1) < loss(0),
            "pair {layer}: {} -> {}",
            loss(0),
            loss(1)
        );
        assert!(stacked.join(format!("pretrain/layer-{layer}")).is_dir());
    }
    // The stacked layers already reconstruct better than the mean training image
    // (0.087, the control; an untrained sigmoid decoder scores ≈ 0.17; these layers
    // 0.062), and fine-tuning starts well ahead of training from scratch.
    let after = m["pretrain"]["test"]["mse_per_pixel"]
        .as_f64()
        .unwrap_or(f64::NAN);
    learned(
        "test MSE per pixel after layer-wise pretraining",
        after,
        mean_image_mse(),
        |mse| mse < 0.075,
    );
    let first = |m: &serde_json::Value| epoch_value(m, 0, "train", "Loss");
    assert!(
        first(&m) < first(&metrics(&scratch)),
        "first epoch {} (pretrained) vs {} (scratch)",
        first(&m),
        first(&metrics(&scratch))
    );

    let bad = run(trainer(home.path()).args([
        "train",
        "--model",
        "conv",
        "--dataset",
        "fashion-mnist-sample",
        "--pretrain",
        "layerwise",
    ]));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("deep MLP"), "{}", stderr(&bad));
}
