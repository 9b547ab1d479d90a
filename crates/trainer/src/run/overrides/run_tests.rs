//! The rules of the run's flags, of config files, of resuming and of the table
//! flags, in milliseconds: no model is built, nothing trains.

use ae_data::{DataSpec, DatasetName};
use ae_models::Family;

use super::tests::images;
use super::*;
use crate::run::config::Schedule;

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
    assert_eq!(config.model.family(), Family::MLP);
    assert_eq!(
        (config.epochs, config.classes.clone()),
        (3, Some(vec![1, 7]))
    );
    // The family's defaults: the AAE's β₁ is 0.5.
    let aae = configure(None, Some(Family::AAE), &none, &run, &data).expect("aae");
    assert_eq!((aae.model.family(), aae.beta1), (Family::AAE, 0.5));
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
    let same = configure(Some(file.clone()), Some(Family::MLP), &none, &run, &data).expect("mlp");
    assert_eq!(same.model.latent(), 5);
    let other = configure(Some(file), Some(Family::VAE), &none, &run, &data).expect("vae");
    assert_eq!(
        (other.model.family(), other.model.latent()),
        (Family::VAE, 20)
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
    config.model = Family::MLP
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
    let resumed = resume(saved.clone(), Some(Family::MLP), &none, &more).expect("allowed");
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
    let err = resume(saved.clone(), Some(Family::VAE), &latent, &lr).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "--resume continues the run as its config.json says: only --epochs and --workers may \
         change it; drop --model, --latent, --lr, --schedule, --grad-accumulation"
    );
}

#[test]
fn gradient_controls_parse_and_bad_values_are_named() {
    use crate::run::config::GradClip;
    assert_eq!("norm:1.5".parse::<GradClip>(), Ok(GradClip::Norm(1.5)));
    assert_eq!("value:0.1".parse::<GradClip>(), Ok(GradClip::Value(0.1)));
    let err = "max:1".parse::<GradClip>().expect_err("no such clipping");
    assert!(err.contains("norm:MAX or value:MAX"), "{err}");
    use crate::run::config::Optimizer;
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
