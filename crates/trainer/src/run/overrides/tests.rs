//! The rules of the model flags, in milliseconds: no model is built, nothing trains.

use ae_data::idx::Images;
use ae_data::{DatasetName, Source, Split};
use ae_models::{Activation, ModelConfig, Noise, Prior, Reconstruction};
use clap::{CommandFactory, Parser};

use super::*;

/// A data set of 28×28 images with 10 labels, a handful of samples.
pub(super) fn images() -> Dataset {
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
        ("--channels", |o| o.channels = Some(Widths(vec![8]))),
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
        ("--k-anneal", |o| {
            o.own.sae.k_anneal = Some(ae_models::KAnneal {
                start: 64,
                samples: 1000,
            })
        }),
        ("--aux-k", |o| o.own.sae.aux_k = Some(16)),
        ("--aux-weight", |o| o.own.sae.aux_weight = Some(0.1)),
        ("--dead-after", |o| o.own.sae.dead_after = Some(500)),
        ("--codebook-size", |o| o.own.vq.codebook_size = Some(64)),
        ("--code-dim", |o| o.own.vq.code_dim = Some(4)),
        ("--commitment", |o| o.own.vq.commitment = Some(0.5)),
        ("--ema-decay", |o| o.own.vq.ema_decay = Some(0.99)),
        ("--restart-after", |o| o.own.vq.restart_after = Some(100)),
        ("--no-restarts", |o| o.own.vq.no_restarts = true),
        ("--primary-maps", |o| o.own.capsule.primary_maps = Some(8)),
        ("--primary-dim", |o| o.own.capsule.primary_dim = Some(4)),
        ("--capsules", |o| o.own.capsule.capsules = Some(5)),
        ("--capsule-dim", |o| o.own.capsule.capsule_dim = Some(8)),
        ("--routing", |o| o.own.capsule.routing = Some(2)),
        ("--mask-by", |o| {
            o.own.capsule.mask_by = Some(ae_models::CapsuleMask::Longest)
        }),
    ]
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

/// The flags `family`'s defaults take (apply), by name; the others it refuses, each
/// by name. A flag taken changes the configuration.
fn taken_by(family: Family) -> Vec<&'static str> {
    let mut taken = Vec::new();
    for (name, setting) in settings() {
        let mut o = ModelOverrides::default();
        setting(&mut o);
        let mut model = defaults(family);
        match o.apply(&mut model) {
            Ok(()) => {
                assert_ne!(
                    serde_json::to_string(&model).ok(),
                    serde_json::to_string(&defaults(family)).ok(),
                    "{name} was accepted by {family} but changed nothing"
                );
                taken.push(name);
            }
            // Some refusals go on to say what to give instead.
            Err(err) => assert!(
                err.to_string()
                    .starts_with(&format!("{name} does not apply to --model {family}")),
                "{name} on {family}: {err}"
            ),
        }
    }
    taken
}

#[test]
fn every_family_applies_or_refuses_each_model_flag_by_name() {
    let taken: Vec<(Family, Vec<&str>)> = Family::ALL.iter().map(|&f| (f, taken_by(f))).collect();
    let takers = |flag: &str| -> Vec<String> {
        taken
            .iter()
            .filter(|(_, names)| names.contains(&flag))
            .map(|(f, _)| f.to_string())
            .collect()
    };
    // Every flag shapes some family, and a family's own flags that family alone.
    for (name, setting) in settings() {
        let mut o = ModelOverrides::default();
        setting(&mut o);
        let by = takers(name);
        assert!(!by.is_empty(), "{name} applies to no family");
        if !o.own.given().is_empty() {
            assert_eq!(by.len(), 1, "{name}, a family's own flag, taken by {by:?}");
        }
    }
    // The rules, as the README's table of flags states them.
    let of = |family: Family| &taken.iter().find(|(f, _)| *f == family).expect("listed").1;
    for (family, flag, applies) in [
        (Family::MLP, "--contractive", true),
        (Family::MLP, "--channels", false),
        (Family::AAE, "--prior", true),
        (Family::CONV, "--contractive", false),
        (Family::CONV, "--batch-norm", true),
        (Family::VAE, "--beta", true),
        (Family::VAE, "--batch-norm", false),
        (Family::CONV_VAE, "--batch-norm", true),
        (Family::CONV_VAE, "--noise", false),
        (Family::LSTM, "--noise", true),
        (Family::TRANSFORMER, "--activation", false),
        (Family::MAE, "--noise", false),
        (Family::MAE, "--mask-ratio", true),
        (Family::VQ_VAE, "--latent", false),
        (Family::VQ_VAE, "--channels", true),
        (Family::CAPSULE, "--latent", false),
    ] {
        assert_eq!(of(family).contains(&flag), applies, "{flag} on {family}");
    }
    let mut topk = of(Family::TOPK_SAE).clone();
    topk.sort();
    assert_eq!(
        topk,
        [
            "--aux-k",
            "--aux-weight",
            "--dead-after",
            "--k-anneal",
            "--k-sparse",
            "--latent"
        ]
    );
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
    let mut mlp = defaults(Family::MLP);
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
    let mut mlp = defaults(Family::MLP);
    given.apply(&mut mlp).expect("applies");
    assert!(matches!(&mlp, ModelConfig::Mlp(m) if m.output_activation == Activation::Softplus));

    // The adversary's flags reach the AAE, the rest its autoencoder.
    let mut aae = defaults(Family::AAE);
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
    let mut conv_vae = defaults(Family::CONV_VAE);
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

#[test]
fn a_new_dictionary_size_keeps_the_default_share_of_active_latents() {
    let apply = |o: ModelOverrides| {
        let mut model = defaults(Family::TOPK_SAE);
        o.apply(&mut model).expect("applies");
        let ModelConfig::TopK(c) = model else {
            panic!("still a TopK SAE")
        };
        (c.latent, c.k)
    };
    assert_eq!(apply(ModelOverrides::default()), (1024, 32));
    let smaller = ModelOverrides {
        latent: Some(256),
        ..Default::default()
    };
    assert_eq!(apply(smaller.clone()), (256, 8));
    let given = ModelOverrides {
        k_sparse: Some(20),
        ..smaller
    };
    assert_eq!(apply(given), (256, 20));
}
