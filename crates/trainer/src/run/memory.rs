//! Whether a run can fit in memory, decided before any work: a configuration whose
//! weights alone exceed the machine is refused with the figure, instead of aborting
//! in an allocation halfway through creating its artifact.

use anyhow::{Result, bail};

use crate::run::config::TrainConfig;

/// Bytes per value (`f32`).
const VALUE: u64 = 4;
/// Values kept per parameter while training with Adam: the weight, its gradient and
/// Adam's two moments.
const PER_PARAMETER: u64 = 4;

/// A lower bound of the memory training `config` needs, in bytes: weights,
/// gradients and Adam's two moments, and one batch's activations with their
/// gradients. Backends add workspace on top.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// The model's parameters.
    pub parameters: u64,
    /// Bytes of the parameters, their gradients and Adam's state.
    pub parameter_bytes: u64,
    /// Bytes of one batch's activations and their gradients.
    pub activation_bytes: u64,
}

impl Estimate {
    /// The estimate for `config`.
    pub fn of(config: &TrainConfig) -> Result<Self> {
        let size = config.model.size()?;
        Ok(Self {
            parameters: size.parameters,
            parameter_bytes: size.parameters.saturating_mul(VALUE * PER_PARAMETER),
            activation_bytes: size
                .activations
                .saturating_mul(config.batch_size as u64)
                .saturating_mul(2 * VALUE),
        })
    }

    /// The whole estimate, in bytes.
    pub fn total(&self) -> u64 {
        self.parameter_bytes.saturating_add(self.activation_bytes)
    }
}

/// The machine's physical memory in bytes, when the platform says (Linux:
/// `MemTotal` of `/proc/meminfo`).
pub fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// Refuses `config` when its [`Estimate`] exceeds `available` bytes (the machine's
/// memory; no check when unknown). The model is built on the host to be saved, so
/// the host's memory bounds every backend.
pub fn check(config: &TrainConfig, available: Option<u64>) -> Result<Estimate> {
    let estimate = Estimate::of(config)?;
    if let Some(available) = available
        && estimate.total() > available
    {
        bail!(
            "the model is too large to train here: it needs at least {} ({} parameters: \
             weights, gradients and Adam's two moments take {}; one batch of {} takes {}), \
             and this machine has {} of memory; choose smaller --hidden, --latent or \
             --channels, or a smaller --batch-size",
            bytes(estimate.total()),
            count(estimate.parameters),
            bytes(estimate.parameter_bytes),
            config.batch_size,
            bytes(estimate.activation_bytes),
            bytes(available)
        );
    }
    Ok(estimate)
}

/// `n` bytes in decimal units: `12.5 TB`.
pub fn bytes(n: u64) -> String {
    scaled(n, &["bytes", "kB", "MB", "GB", "TB", "PB", "EB"])
}

/// `n` with a decimal multiplier: `3.1 trillion`.
fn count(n: u64) -> String {
    scaled(
        n,
        &[
            "",
            "thousand",
            "million",
            "billion",
            "trillion",
            "quadrillion",
            "quintillion",
        ],
    )
}

fn scaled(n: u64, units: &[&str]) -> String {
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} {}", units[0]).trim_end().to_string()
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ae_data::{DataSpec, DatasetName};
    use ae_models::{Family, InputShape, MlpAutoencoderConfig, ModelConfig};

    fn mlp(hidden: Vec<usize>, latent: usize) -> TrainConfig {
        TrainConfig::new(
            ModelConfig::Mlp(MlpAutoencoderConfig::new(784, hidden, latent)),
            DataSpec::Named(DatasetName::FashionMnistSample),
        )
    }

    #[test]
    fn the_default_model_fits_and_absurd_widths_are_refused_with_the_figure() {
        let default = TrainConfig::new(
            Family::MLP
                .default_config(InputShape::grey(28, 28))
                .expect("valid"),
            DataSpec::Named(DatasetName::FashionMnistSample),
        );
        let estimate = check(&default, Some(1 << 30)).expect("fits in 1 GiB");
        // 784-512-256-32 and its mirror: 2 · (401,408 + 131,072 + 8,192) weights and
        // 512 + 256 + 32 + 256 + 512 + 784 biases.
        assert_eq!(estimate.parameters, 1_081_344 + 2_352);
        assert_eq!(estimate.parameter_bytes, estimate.parameters * 16);

        let huge = mlp(vec![4_000_000_000], 32);
        let err = check(&huge, Some(24 << 30)).expect_err("too large");
        let msg = err.to_string();
        // 784·4e9 + 4e9·32 weights each way and 8e9 biases: 6.536e12 parameters of 16
        // bytes; 8.0e9 activations per sample, 128 samples, 8 bytes each.
        assert!(msg.contains("needs at least 112.8 TB"), "{msg}");
        assert!(msg.contains("6.5 trillion parameters"), "{msg}");
        assert!(msg.contains("Adam's two moments take 104.6 TB"), "{msg}");
        assert!(msg.contains("one batch of 128 takes 8.2 TB"), "{msg}");
        assert!(msg.contains("this machine has 25.8 GB of memory"), "{msg}");
        // Without a known size nothing is refused.
        assert!(check(&huge, None).is_ok());
    }

    #[test]
    fn sizes_read_in_decimal_units() {
        assert_eq!(bytes(999), "999 bytes");
        assert_eq!(bytes(12_500_000_000_000), "12.5 TB");
        assert_eq!(count(1_500), "1.5 thousand");
        assert_eq!(count(12), "12");
        assert!(physical_memory().is_none_or(|m| m > 1 << 20));
    }
}
