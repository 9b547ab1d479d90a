//! Help and code agree: every default `train --help` states is the one the run uses,
//! as `train --print-config` shows it, and defaults that depend on the family or the
//! data are not stated at all.

use std::collections::BTreeMap;

use super::*;

/// `--flag` → the `[default: …]` its help states, for every flag of `help`.
fn stated_defaults(help: &str) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    let finish = |entry: Option<(String, String)>, out: &mut BTreeMap<_, _>| {
        if let Some((flag, text)) = entry {
            let default = text
                .split("[default: ")
                .nth(1)
                .and_then(|rest| rest.split(']').next())
                .map(str::to_string);
            out.insert(flag, default);
        }
    };
    for line in help.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("--") || trimmed.starts_with("-h, --") {
            finish(current.take(), &mut out);
            let flag = trimmed
                .trim_start_matches("-h, ")
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            current = Some((flag, String::new()));
        } else if let Some((_, text)) = &mut current {
            text.push(' ');
            text.push_str(trimmed);
        }
    }
    finish(current, &mut out);
    out
}

fn print_config(home: &Path, args: &[&str]) -> serde_json::Value {
    let out = run(trainer(home)
        .args([
            "train",
            "--print-config",
            "--dataset",
            "fashion-mnist-sample",
        ])
        .args(args));
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("--print-config prints only JSON")
}

#[test]
fn every_default_train_help_states_is_the_one_the_run_uses() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = run(trainer(home.path()).args(["train", "--help"]));
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let defaults = stated_defaults(&help);
    assert!(defaults.len() > 40, "{} flags parsed", defaults.len());
    let config = print_config(home.path(), &[]);
    // Where each stated default shows in the configuration.
    let in_config: BTreeMap<&str, &str> = [
        ("--model", "/model/kind"),
        ("--epochs", "/epochs"),
        ("--batch-size", "/batch_size"),
        ("--lr", "/lr"),
        ("--seed", "/seed"),
        ("--valid-fraction", "/valid_fraction"),
        ("--pretrain", "/pretrain"),
        ("--weight-decay", "/weight_decay"),
        ("--schedule", "/schedule"),
        ("--optimizer", "/optimizer"),
        ("--workers", "/num_workers"),
    ]
    .into();
    // Defaults of flags that are not part of a run's configuration: clap's own
    // (`default_value_t`), or a rule about a table's rows or a folder's images.
    let outside = [
        "--devices",
        "--parallelism",
        "--backend",
        "--out",
        "--test-file",
        "--test-fraction",
        "--image-size",
        "--colour",
    ];
    for (flag, default) in &defaults {
        let Some(default) = default else { continue };
        // A rule, not a value: the family's default, which --print-config prints.
        if outside.contains(&flag.as_str()) || default.contains("--print-config") {
            continue;
        }
        let pointer = in_config
            .get(flag.as_str())
            .unwrap_or_else(|| panic!("{flag} states [default: {default}]: say where it shows"));
        let value = &config
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{pointer} in {config}"));
        let agrees = match (value.as_f64(), default.parse::<f64>()) {
            (Some(v), Ok(d)) => (v - d).abs() < 1e-12,
            _ => value.as_str() == Some(default.as_str()),
        };
        assert!(agrees, "{flag}: help says {default}, the run uses {value}");
    }
    // Every mapped flag does state its default.
    for flag in in_config.keys() {
        assert!(
            defaults.get(*flag).is_some_and(Option::is_some),
            "{flag} states no default"
        );
    }
    // The model's flags depend on the family and the data: no value is written by hand.
    let model = help
        .split("Model (defaults")
        .nth(1)
        .and_then(|s| s.split("\nTraining:").next())
        .expect("a Model section");
    assert!(!model.contains("[default:"), "{model}");
    assert_eq!(
        defaults.get("--beta1"),
        Some(&Some("the family's; --print-config shows it".to_string()))
    );
}

#[test]
fn print_config_shows_each_family_and_its_output_is_a_config_file() {
    let home = tempfile::tempdir().expect("temp dir");
    // The family's defaults where help gives none: the AAE's β₁ and code size, the
    // VAE's loss, a table's architecture.
    let aae = print_config(home.path(), &["--model", "aae"]);
    assert_eq!(aae["beta1"], 0.5);
    assert_eq!(aae["model"]["autoencoder"]["latent"], 8);
    assert_eq!(aae["model"]["adversarial_weight"], 0.003);
    let vae = print_config(home.path(), &["--model", "vae"]);
    assert_eq!(vae["model"]["reconstruction"], "bce");
    let table = breast_cancer();
    let out = run(trainer(home.path())
        .args([
            "train",
            "--print-config",
            "--label-column",
            "diagnosis",
            "--dataset",
        ])
        .arg(&table));
    assert!(out.status.success(), "{}", stderr(&out));
    let table: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(table["model"]["latent"], 7, "30 columns / 4");
    assert_eq!(table["model"]["output_activation"], "identity");
    assert_eq!(table["dataset"]["test_fraction"], 0.2);
    // The printed configuration is a config file: read back, it prints the same.
    let path = home.path().join("vae.json");
    std::fs::write(&path, serde_json::to_string(&vae).expect("JSON")).expect("write");
    let again = run(trainer(home.path())
        .args(["train", "--print-config", "--config"])
        .arg(&path));
    assert!(again.status.success(), "{}", stderr(&again));
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(again, vae);
    // Nothing was trained or written.
    assert!(!home.path().join("artifacts").exists());
}
