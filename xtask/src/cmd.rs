//! Running cargo from the tasks.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Runs `cargo` with `args`, echoing the command, failing on a non-zero exit.
pub fn cargo(args: &[&str]) -> Result<()> {
    cargo_with(args, &[])
}

/// A `cargo` command without the variables `cargo run` set for the xtask binary
/// (`CARGO_PKG_NAME`, `CARGO_MANIFEST_DIR`, …). Build scripts watch some of them
/// (ring's, through `rerun-if-env-changed`): inherited, they would make every build
/// started here differ from the same build started from a shell, and each switch
/// rebuilds ring and all that depends on it — burn's networking and burn itself.
pub fn command() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(set_by_cargo_run) {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Whether `key` is one of the variables cargo sets for the binary it runs.
fn set_by_cargo_run(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || key.starts_with("CARGO_MANIFEST_")
        || matches!(
            key,
            "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        )
}

/// [`cargo`] with environment variables added for it.
pub fn cargo_with(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Result<()> {
    println!("$ cargo {}", args.join(" "));
    let status = command()
        .args(args)
        .envs(env.iter().copied())
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The workspace's target folder.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        })
}

/// The model flags of a benchmarked architecture, the same for `trainer train` and
/// the `families` bench: a family's default, or `deep`, the MLP stacked as in Hinton
/// & Salakhutdinov (2006), 784-1000-500-250-30 (`bench/pytorch/bench.py` builds the
/// same layers under the same name).
pub fn model_flags(architecture: &str) -> Vec<&str> {
    match architecture {
        "deep" => vec![
            "--model",
            "mlp",
            "--hidden",
            "1000,500,250",
            "--latent",
            "30",
        ],
        other => vec!["--model", other],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_deep_architecture_is_the_stacked_mlp() {
        assert_eq!(super::model_flags("vae"), ["--model", "vae"]);
        assert_eq!(
            super::model_flags("deep").join(" "),
            "--model mlp --hidden 1000,500,250 --latent 30"
        );
    }

    #[test]
    fn the_package_variables_are_dropped_and_the_user_settings_kept() {
        for key in [
            "CARGO_PKG_NAME",
            "CARGO_MANIFEST_DIR",
            "CARGO_PRIMARY_PACKAGE",
        ] {
            assert!(super::set_by_cargo_run(key), "{key}");
        }
        for key in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_TERM_COLOR",
        ] {
            assert!(!super::set_by_cargo_run(key), "{key}");
        }
    }
}
