//! The rules of the overrides, in milliseconds: no model is built, nothing trains.

use ae_data::idx::Images;
use ae_data::{DataSpec, DatasetName, Source, Split};
use ae_models::{Activation, ModelConfig, Noise, Prior, Reconstruction};
use clap::{CommandFactory, Parser};

use super::*;
use crate::config::Schedule;

/// A data set of 28×28 images with 10 labels, a handful of samples.
fn images() -> Dataset {
    let split = |count: usize| {
        Split::images(
            Images::grey(count, 28, 28, vec![0; count * 784]),
            (0..count).map(|i| (i % 10) as u8).collect(),
        )
    };
    Dataset::of_images(
        DatasetName::FashionMnistSample,
        Source::Embedded,
        split(20),
        split(10),
    )
}

/// The family's defaults for 28×28 images, or for a sequence family windows of 24
/// steps.
fn defaults(family: Family) -> ModelConfig {
    let shape = if family.is_sequential() {
        ae_models::InputShape::Sequence {
            steps: 24,
            channels: 1,
        }
    } else {
        ae_models::InputShape::grey(28, 28)
    };
    family.default_config(shape).expect("the family takes it")
}

/// Gives one flag a value.
type Setting = fn(&mut ModelOverrides);

/// One setting per model flag, by name.
fn settings() -> Vec<(&'static str, Setting)> {
    vec![
        ("--latent", |o| o.latent = Some(3)),
        ("--hidden", |o| o.hidden = Some(Widths(vec![16]))),
        ("--activation", |o| o.activation = Some(Activation::Tanh)),
        ("--code-activation", |o| {
            o.code_activation = Some(Activation::Sigmoid)
        }),
        ("--output-activation", |o| {
            o.output_activation = Some(Activation::Tanh)
        }),
        ("--loss", |o| o.loss = Some(Reconstruction::Poisson)),
        ("--no-bias", |o| o.no_bias = true),
        ("--channels", |o| o.channels = Some(Widths(vec![8, 16]))),
        ("--batch-norm", |o| o.batch_norm = true),
        ("--beta", |o| o.beta = Some(2.0)),
        ("--prior", |o| {
            o.prior = Some(Prior::Mixture {
                components: 4,
                radius: 2.0,
                std: 0.5,
            })
        }),
        ("--adversarial-weight", |o| o.adversarial_weight = Some(0.5)),
        ("--discriminator", |o| {
            o.discriminator = Some(Widths(vec![32]))
        }),
        ("--noise", |o| o.noise = Some(Noise::Gaussian { std: 0.3 })),
        ("--code-l1", |o| o.code_l1 = Some(1e-3)),
        ("--kl-sparsity", |o| {
            o.kl_sparsity = Some(KlSparsity {
                target: 0.05,
                weight: 1.0,
            })
        }),
        ("--k-sparse", |o| o.k_sparse = Some(5)),
        ("--contractive", |o| o.contractive = Some(0.1)),
        ("--weight-l1", |o| o.weight_l1 = Some(1e-5)),
        ("--weight-l2", |o| o.weight_l2 = Some(1e-5)),
        ("--dropout", |o| o.dropout = Some(0.2)),
        ("--patch", |o| o.patch = Some(7)),
        ("--mask-ratio", |o| o.mask_ratio = Some(0.5)),
    ]
}

/// The flags each family refuses; every other model flag applies.
fn refused(family: Family) -> Vec<&'static str> {
    match family.name() {
        // Attention over patches: the transformer's flags, and no noise (its masking is
        // its corruption).
        "mae" => [refused_of_any(Family::Transformer), &["--noise"]].concat(),
        // The patches and the mask ratio are the masked autoencoder's alone.
        _ => [refused_of_any(family), &["--patch", "--mask-ratio"]].concat(),
    }
}

/// The flags `family` refuses but the masked autoencoder's own.
fn refused_of_any(family: Family) -> &'static [&'static str] {
    const VAE: &[&str] = &[
        "--code-activation",
        "--output-activation",
        "--no-bias",
        "--prior",
        "--adversarial-weight",
        "--discriminator",
        "--noise",
        "--code-l1",
        "--kl-sparsity",
        "--k-sparse",
        "--contractive",
        "--weight-l1",
        "--weight-l2",
        "--dropout",
    ];
    match family.name() {
        "mlp" => &[
            "--channels",
            "--batch-norm",
            "--beta",
            "--prior",
            "--adversarial-weight",
            "--discriminator",
        ],
        "aae" => &["--channels", "--batch-norm", "--beta"],
        "conv" | "conv1d" => &[
            "--hidden",
            "--code-activation",
            "--no-bias",
            "--beta",
            "--prior",
            "--adversarial-weight",
            "--discriminator",
            "--kl-sparsity",
            "--contractive",
            "--dropout",
        ],
        "vae" => &[
            "--code-activation",
            "--output-activation",
            "--no-bias",
            "--prior",
            "--adversarial-weight",
            "--discriminator",
            "--noise",
            "--code-l1",
            "--kl-sparsity",
            "--k-sparse",
            "--contractive",
            "--weight-l1",
            "--weight-l2",
            "--dropout",
            "--channels",
            "--batch-norm",
        ],
        "conv-vae" => VAE,
        "lstm" | "gru" | "transformer" => &[
            "--activation",
            "--code-activation",
            "--no-bias",
            "--channels",
            "--batch-norm",
            "--beta",
            "--prior",
            "--adversarial-weight",
            "--discriminator",
            "--code-l1",
            "--kl-sparsity",
            "--k-sparse",
            "--contractive",
            "--weight-l1",
            "--weight-l2",
            "--dropout",
        ],
        other => panic!("family {other} has no row in this table: add it"),
    }
}

#[test]
fn the_table_names_every_model_flag_the_command_line_has() {
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        model: ModelOverrides,
    }
    let mut from_clap: Vec<String> = Cli::command()
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    let mut from_table: Vec<String> = settings().iter().map(|(n, _)| n.to_string()).collect();
    from_clap.sort();
    from_table.sort();
    assert_eq!(from_clap, from_table);
    // And `given` reports each setting by that name.
    for (name, setting) in settings() {
        let mut o = ModelOverrides::default();
        setting(&mut o);
        assert_eq!(o.given(), vec![name.to_string()]);
    }
}

#[test]
fn every_family_applies_or_refuses_each_model_flag_by_name() {
    for family in Family::ALL {
        for (name, setting) in settings() {
            let mut o = ModelOverrides::default();
            setting(&mut o);
            let mut model = defaults(family);
            let result = o.apply(&mut model);
            if refused(family).contains(&name) {
                let err = result.expect_err(name).to_string();
                assert_eq!(err, format!("{name} does not apply to --model {family}"));
            } else {
                result.unwrap_or_else(|e| panic!("{name} on {family}: {e}"));
                assert_ne!(
                    serde_json::to_string(&model).ok(),
                    serde_json::to_string(&defaults(family)).ok(),
                    "{name} was accepted by {family} but changed nothing"
                );
            }
        }
    }
}

#[test]
fn applied_flags_land_in_the_family_config() {
    let o = ModelOverrides {
        latent: Some(3),
        hidden: Some(Widths(vec![16])),
        no_bias: true,
        loss: Some(Reconstruction::Poisson),
        ..Default::default()
    };
    let mut mlp = defaults(Family::Mlp);
    o.apply(&mut mlp).expect("applies");
    let ModelConfig::Mlp(m) = &mlp else {
        panic!("still an MLP")
    };
    assert_eq!((m.latent, m.hidden.clone(), m.bias), (3, vec![16], false));
    // Poisson counts bring a positive rate unless the output activation is given.
    assert_eq!(m.output_activation, Activation::Exp);
    let given = ModelOverrides {
        output_activation: Some(Activation::Softplus),
        ..o.clone()
    };
    let mut mlp = defaults(Family::Mlp);
    given.apply(&mut mlp).expect("applies");
    assert!(matches!(&mlp, ModelConfig::Mlp(m) if m.output_activation == Activation::Softplus));

    // The adversary's flags reach the AAE, the rest its autoencoder.
    let mut aae = defaults(Family::Aae);
    ModelOverrides {
        latent: Some(2),
        adversarial_weight: Some(0.5),
        discriminator: Some(Widths(vec![8])),
        ..Default::default()
    }
    .apply(&mut aae)
    .expect("applies");
    let ModelConfig::Aae(a) = &aae else {
        panic!("still an AAE")
    };
    assert_eq!(
        (
            a.autoencoder.latent,
            a.adversarial_weight,
            a.discriminator.clone()
        ),
        (2, 0.5, vec![8])
    );

    // A conv VAE's channels, activation and batch norm reach its convolutions.
    let mut conv_vae = defaults(Family::ConvVae);
    ModelOverrides {
        channels: Some(Widths(vec![4])),
        activation: Some(Activation::Gelu),
        batch_norm: true,
        ..Default::default()
    }
    .apply(&mut conv_vae)
    .expect("applies");
    let ModelConfig::Vae(v) = &conv_vae else {
        panic!("still a VAE")
    };
    let conv = v.conv.as_ref().expect("convolutional");
    assert_eq!(
        (conv.channels.clone(), conv.activation, conv.norm),
        (vec![4], Activation::Gelu, Some(ae_models::Norm::Batch))
    );
}

#[test]
fn configure_starts_from_the_family_defaults_or_the_file_and_applies_run_flags() {
    let data = images();
    let run = RunOverrides {
        epochs: Some(3),
        classes: Some(vec!["Trouser".into(), "7".into()]),
        ..Default::default()
    };
    let none = ModelOverrides::default();
    let config = configure(None, None, &none, &run, &data).expect("defaults");
    assert_eq!(config.model.family(), Family::Mlp);
    assert_eq!(
        (config.epochs, config.classes.clone()),
        (3, Some(vec![1, 7]))
    );
    // The family's defaults: the AAE's β₁ is 0.5.
    let aae = configure(None, Some(Family::Aae), &none, &run, &data).expect("aae");
    assert_eq!((aae.model.family(), aae.beta1), (Family::Aae, 0.5));
    // A --model other than the file's starts from that family's defaults; the same
    // family keeps the file's architecture.
    let mut file = config.clone();
    file.model = configure(
        None,
        None,
        &ModelOverrides {
            latent: Some(5),
            ..Default::default()
        },
        &RunOverrides::default(),
        &data,
    )
    .expect("latent 5")
    .model;
    let same = configure(Some(file.clone()), Some(Family::Mlp), &none, &run, &data).expect("mlp");
    assert_eq!(same.model.latent(), 5);
    let other = configure(Some(file), Some(Family::Vae), &none, &run, &data).expect("vae");
    assert_eq!(
        (other.model.family(), other.model.latent()),
        (Family::Vae, 20)
    );
    // A class the data set does not have.
    let bad = RunOverrides {
        classes: Some(vec!["Sock".into()]),
        ..Default::default()
    };
    let err = configure(None, None, &none, &bad, &data).expect_err("no sock");
    assert!(err.to_string().contains("class Sock"), "{err}");
}

#[test]
fn a_config_file_for_other_inputs_is_refused() {
    let data = images();
    let mut config = configure(
        None,
        None,
        &ModelOverrides::default(),
        &RunOverrides::default(),
        &data,
    )
    .expect("defaults");
    config.model = Family::Mlp
        .default_config(ae_models::InputShape::Vector { features: 30 })
        .expect("vector");
    let err = configure(
        Some(config),
        None,
        &ModelOverrides::default(),
        &RunOverrides::default(),
        &data,
    )
    .expect_err("30 features against 784");
    assert!(
        err.to_string().contains("expects 30 input features"),
        "{err}"
    );
}

#[test]
fn resume_changes_only_epochs_and_workers() {
    let data = images();
    let none = ModelOverrides::default();
    let saved = configure(None, None, &none, &RunOverrides::default(), &data).expect("defaults");
    let more = RunOverrides {
        epochs: Some(20),
        workers: Some(2),
        ..Default::default()
    };
    let resumed = resume(saved.clone(), Some(Family::Mlp), &none, &more).expect("allowed");
    assert_eq!((resumed.epochs, resumed.num_workers), (20, 2));
    let mut expected = saved.clone();
    (expected.epochs, expected.num_workers) = (20, 2);
    assert_eq!(resumed.to_json(), expected.to_json());

    let lr = RunOverrides {
        lr: Some(0.1),
        schedule: Some(Schedule::Cosine),
        grad_accumulation: Some(2),
        ..more.clone()
    };
    let latent = ModelOverrides {
        latent: Some(4),
        ..Default::default()
    };
    let err = resume(saved.clone(), Some(Family::Vae), &latent, &lr).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "--resume continues the run as its config.json says: only --epochs and --workers may \
         change it; drop --model, --latent, --lr, --schedule, --grad-accumulation"
    );
}

#[test]
fn gradient_controls_parse_and_bad_values_are_named() {
    use crate::config::GradClip;
    assert_eq!("norm:1.5".parse::<GradClip>(), Ok(GradClip::Norm(1.5)));
    assert_eq!("value:0.1".parse::<GradClip>(), Ok(GradClip::Value(0.1)));
    let err = "max:1".parse::<GradClip>().expect_err("no such clipping");
    assert!(err.contains("norm:MAX or value:MAX"), "{err}");
    use crate::config::Optimizer;
    assert_eq!("adamw".parse::<Optimizer>(), Ok(Optimizer::AdamW));
    assert_eq!(
        "sgd:0.9".parse::<Optimizer>(),
        Ok(Optimizer::Sgd { momentum: 0.9 })
    );
    let err = "rmsprop"
        .parse::<Optimizer>()
        .expect_err("no such optimiser");
    assert!(err.contains("adam, adamw, sgd or sgd:MOMENTUM"), "{err}");
    let data = images();
    let none = ModelOverrides::default();
    let refused = |run: RunOverrides| {
        configure(None, None, &none, &run, &data)
            .and_then(|c| c.validate().map(|()| c))
            .expect_err("refused")
            .to_string()
    };
    let clip = RunOverrides {
        grad_clip: Some(GradClip::Norm(0.0)),
        ..Default::default()
    };
    assert!(refused(clip).contains("grad_clip = 0: expected a positive"));
    let accumulation = RunOverrides {
        grad_accumulation: Some(0),
        ..Default::default()
    };
    assert!(refused(accumulation).contains("grad_accumulation = 0"));
    let sgd = RunOverrides {
        optimizer: Some(Optimizer::Sgd { momentum: 1.0 }),
        ..Default::default()
    };
    assert!(refused(sgd).contains("expected a momentum in [0, 1)"));
    let both = RunOverrides {
        grad_clip: Some(GradClip::Value(0.5)),
        grad_accumulation: Some(4),
        ..Default::default()
    };
    let config = configure(None, None, &none, &both, &data).expect("valid");
    assert_eq!(
        config.updates_per_epoch(9),
        3,
        "9 batches, an update per 4 or fewer"
    );
    assert!(
        config
            .to_json()
            .contains("\"grad_clip\": {\n    \"value\": 0.5"),
        "{}",
        config.to_json()
    );
}

#[test]
fn table_flags_are_refused_for_a_named_data_set_in_one_clean_sentence() {
    let table = TableOverrides {
        test_fraction: Some(0.3),
        ..Default::default()
    };
    let err = table
        .apply(DataSpec::Named(DatasetName::Mnist))
        .expect_err("not a table")
        .to_string();
    assert_eq!(
        err,
        "--test-fraction describes a table (--dataset FILE.csv or FILE.npy) or a folder of \
         images (--dataset DIR), not mnist"
    );
    assert!(!err.contains("  "));
    let named = TableOverrides::default()
        .apply(DataSpec::Named(DatasetName::Mnist))
        .expect("no table flag");
    assert_eq!(named, DataSpec::Named(DatasetName::Mnist));
    // Image flags are refused for a table, table flags for a folder.
    let sized = TableOverrides {
        images: ImageOverrides {
            image_size: Some([28, 28]),
            ..Default::default()
        },
        ..Default::default()
    };
    let err = sized
        .apply(DataSpec::Table(ae_data::TableSpec::new("rows.csv")))
        .expect_err("a table");
    assert!(
        err.to_string()
            .contains("--image-size describes a folder of images"),
        "{err}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let labelled = TableOverrides {
        label_column: Some("class".into()),
        ..Default::default()
    };
    let err = labelled
        .apply(DataSpec::Folder(ae_data::FolderSpec::new(dir.path())))
        .expect_err("a folder");
    assert!(
        err.to_string().contains("--label-column describes a table"),
        "{err}"
    );
    let windowed = TableOverrides {
        window: Some(ae_data::Windows::new(24, 1).expect("valid")),
        ..Default::default()
    };
    let err = windowed
        .apply(DataSpec::Folder(ae_data::FolderSpec::new(dir.path())))
        .expect_err("a folder");
    assert!(
        err.to_string().contains("--window describes a table"),
        "{err}"
    );
    let folder = TableOverrides {
        images: ImageOverrides {
            image_size: Some([14, 14]),
            colour: Some(ae_data::Colour::Rgb),
            patches: Some(ae_data::Patches { size: 8, stride: 4 }),
            skip_bad_images: true,
        },
        test_fraction: Some(0.5),
        ..Default::default()
    }
    .apply(DataSpec::Folder(ae_data::FolderSpec::new(dir.path())))
    .expect("folder flags");
    let DataSpec::Folder(f) = folder else {
        panic!("a folder")
    };
    assert_eq!(
        (
            f.image_size,
            f.colour,
            f.patches,
            f.test_fraction,
            f.skip_bad
        ),
        (
            Some([14, 14]),
            ae_data::Colour::Rgb,
            Some(ae_data::Patches { size: 8, stride: 4 }),
            0.5,
            true
        )
    );
    assert!(f.folder.is_absolute());
    let parse = ae_data::folder::parse_image_size;
    assert_eq!(parse("14x28"), Ok([14, 28]));
    assert_eq!(parse("32"), Ok([32, 32]));
    assert!(parse("0x5").is_err() && parse("axb").is_err());
}

#[test]
fn widths_and_kl_sparsity_parse() {
    assert_eq!("none".parse::<Widths>(), Ok(Widths(vec![])));
    assert_eq!("512, 256".parse::<Widths>(), Ok(Widths(vec![512, 256])));
    assert!("512,x".parse::<Widths>().is_err());
    assert_eq!(
        parse_kl("0.05:1"),
        Ok(KlSparsity {
            target: 0.05,
            weight: 1.0
        })
    );
    assert!(parse_kl("0.05").is_err());
}
