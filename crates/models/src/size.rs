//! How large a configuration is, counted before anything is built: its parameters, the
//! values one sample produces on the way through it and the multiply-adds that takes.
//! Callers turn these into a memory estimate and refuse a model no machine could hold
//! before allocating it; the benchmarks turn the multiply-adds into GFLOP/s.
//!
//! Counts saturate at `u64::MAX` instead of overflowing: a width of four billion is a
//! configuration to refuse, not a panic. The layers' counts are here; each family adds
//! them up for its architecture in its own file.

use crate::{ConfigError, ConvStackConfig};

/// Parameters and per-sample activations of a configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModelSize {
    /// Trainable values (weights and biases).
    pub parameters: u64,
    /// Values one sample produces through every layer of a forward pass (the
    /// activations a backward pass keeps), the input and the output included.
    pub activations: u64,
    /// Multiply-adds of one sample's forward pass through every weight layer (a
    /// convolution and its transposed mirror each count their kernel once per output
    /// or input position of the smaller map). A training step costs about three times
    /// this: the forward product and the two products of its backward pass.
    pub multiply_adds: u64,
}

impl ModelSize {
    pub(crate) fn add(self, other: ModelSize) -> ModelSize {
        ModelSize {
            parameters: self.parameters.saturating_add(other.parameters),
            activations: self.activations.saturating_add(other.activations),
            multiply_adds: self.multiply_adds.saturating_add(other.multiply_adds),
        }
    }
}

pub(crate) fn mul(a: usize, b: usize) -> u64 {
    (a as u64).saturating_mul(b as u64)
}

/// Fully connected layers through `widths` (`[in, …, out]`), with or without biases.
pub(crate) fn dense(widths: &[usize], bias: bool) -> ModelSize {
    widths
        .windows(2)
        .map(|w| ModelSize {
            parameters: mul(w[0], w[1]).saturating_add(if bias { w[1] as u64 } else { 0 }),
            activations: w[1] as u64,
            multiply_adds: mul(w[0], w[1]),
        })
        .fold(ModelSize::default(), ModelSize::add)
}

/// The convolutions and their mirror (biases included), and the flattened size of the
/// innermost feature map.
pub(crate) fn conv_stack(conv: &ConvStackConfig) -> Result<(ModelSize, usize), ConfigError> {
    let (sizes, _) = conv.plan()?;
    let [[kh, kw], _, _] = conv.geometry();
    let kernel = mul(kh, kw);
    let mut channels = vec![conv.image[0]];
    channels.extend(&conv.channels);
    let mut total = ModelSize::default();
    for (c, [h, w]) in channels.windows(2).zip(sizes.iter().skip(1)) {
        let weights = mul(c[0], c[1]).saturating_mul(kernel);
        // The convolution and its transposed mirror, each with a bias.
        total = total.add(ModelSize {
            parameters: weights
                .saturating_mul(2)
                .saturating_add((c[0] + c[1]) as u64),
            activations: mul(c[1], *h).saturating_mul(*w as u64).saturating_mul(2),
            multiply_adds: weights.saturating_mul(mul(*h, *w)).saturating_mul(2),
        });
    }
    let [h, w] = sizes.last().copied().unwrap_or([1, 1]);
    let last = channels.last().copied().unwrap_or(1);
    Ok((total, last.saturating_mul(h).saturating_mul(w)))
}

/// A recurrent layer of `hidden` units over `steps` steps of `inputs` values: each
/// gate an input and a hidden transform, both with biases.
pub(crate) fn recurrent(gates: usize, inputs: usize, hidden: usize, steps: usize) -> ModelSize {
    let per_gate = dense(&[inputs, hidden], true).add(dense(&[hidden, hidden], true));
    ModelSize {
        parameters: per_gate.parameters.saturating_mul(gates as u64),
        activations: mul(steps, hidden).saturating_mul(gates as u64 + 1),
        multiply_adds: per_gate
            .multiply_adds
            .saturating_mul(gates as u64)
            .saturating_mul(steps as u64),
    }
}

/// Fully connected layers through `widths` applied to each of `steps` steps (the same
/// weights at every step).
pub(crate) fn per_step(widths: &[usize], steps: usize) -> ModelSize {
    let one = dense(widths, true);
    ModelSize {
        parameters: one.parameters,
        activations: one.activations.saturating_mul(steps as u64),
        multiply_adds: one.multiply_adds.saturating_mul(steps as u64),
    }
}

/// A stack of `layers` self-attention layers of width `d` (each: the query, key,
/// value and output projections, two layer norms, a feed-forward part of `ff` inner
/// units) over `steps` steps.
pub(crate) fn attention(layers: usize, d: usize, ff: usize, steps: usize) -> ModelSize {
    let projections = dense(&[d, d], true);
    let feed_forward = dense(&[d, ff, d], true);
    let per_step = ModelSize {
        parameters: projections
            .parameters
            .saturating_mul(4)
            .saturating_add(feed_forward.parameters)
            .saturating_add(4 * d as u64),
        activations: 6 * d as u64 + ff as u64,
        // The projections and the feed-forward part, per step; the scores and the
        // weighted values, `steps` each.
        multiply_adds: projections
            .multiply_adds
            .saturating_mul(4)
            .saturating_add(feed_forward.multiply_adds)
            .saturating_add(mul(2 * steps, d)),
    };
    ModelSize {
        parameters: per_step.parameters.saturating_mul(layers as u64),
        activations: per_step.activations.saturating_mul(mul(layers, steps)),
        multiply_adds: per_step.multiply_adds.saturating_mul(mul(layers, steps)),
    }
}

/// An MLP encoder through `widths` and its mirrored decoder.
pub(crate) fn mlp(widths: &[usize], bias: bool) -> ModelSize {
    let mut up = widths.to_vec();
    up.reverse();
    dense(widths, bias).add(dense(&up, bias))
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::prelude::*;

    use crate::{Family, InputShape, MlpAutoencoderConfig, ModelConfig};

    /// The count agrees with the parameters of the built model, for every family.
    #[test]
    #[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
    fn parameter_counts_match_the_built_models() {
        let device = Device::ndarray();
        for &family in Family::ALL {
            let shape = if family.is_sequential() {
                InputShape::Sequence {
                    steps: 24,
                    channels: 3,
                }
            } else {
                InputShape::grey(28, 28)
            };
            let config = family.default_config(shape).expect("valid");
            let built = config.init(&device).expect("builds").num_params() as u64;
            assert_eq!(config.size().expect("counts").parameters, built, "{family}");
        }
        let no_bias = ModelConfig::Mlp(MlpAutoencoderConfig::new(10, vec![4], 2).with_bias(false));
        let size = no_bias.size().expect("counts");
        // 10·4 + 4·2 weights each way; activations 10 → 4 → 2 → 4 → 10.
        assert_eq!(size.parameters, 2 * (40 + 8));
        assert_eq!(size.activations, 10 + 4 + 2 + 4 + 10);
        assert_eq!(size.multiply_adds, 2 * (40 + 8));
    }

    #[test]
    fn absurd_widths_saturate_instead_of_overflowing() {
        let huge = ModelConfig::Mlp(MlpAutoencoderConfig::new(784, vec![usize::MAX / 2], 8));
        assert_eq!(huge.size().expect("counts").parameters, u64::MAX);
        let large = ModelConfig::Mlp(MlpAutoencoderConfig::new(784, vec![4_000_000_000], 32));
        let p = large.size().expect("counts").parameters;
        assert!(p > 6_000_000_000_000, "{p}");
    }
}
