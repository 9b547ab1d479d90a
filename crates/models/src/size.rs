//! How large a configuration is, counted before anything is built: its parameters, the
//! values one sample produces on the way through it and the multiply-adds that takes.
//! Callers turn these into a memory estimate and refuse a model no machine could hold
//! before allocating it; the benchmarks turn the multiply-adds into GFLOP/s.
//!
//! Counts saturate at `u64::MAX` instead of overflowing: a width of four billion is a
//! configuration to refuse, not a panic.

use crate::{ConfigError, ConvStackConfig, MaskedAutoencoderConfig, ModelConfig};

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
    fn add(self, other: ModelSize) -> ModelSize {
        ModelSize {
            parameters: self.parameters.saturating_add(other.parameters),
            activations: self.activations.saturating_add(other.activations),
            multiply_adds: self.multiply_adds.saturating_add(other.multiply_adds),
        }
    }
}

fn mul(a: usize, b: usize) -> u64 {
    (a as u64).saturating_mul(b as u64)
}

/// Fully connected layers through `widths` (`[in, …, out]`), with or without biases.
fn dense(widths: &[usize], bias: bool) -> ModelSize {
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
fn conv_stack(conv: &ConvStackConfig) -> Result<(ModelSize, usize), ConfigError> {
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
fn recurrent(gates: usize, inputs: usize, hidden: usize, steps: usize) -> ModelSize {
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
fn per_step(widths: &[usize], steps: usize) -> ModelSize {
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
fn attention(layers: usize, d: usize, ff: usize, steps: usize) -> ModelSize {
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

impl ModelConfig {
    /// The configuration's parameters and per-sample activations, without building it.
    pub fn size(&self) -> Result<ModelSize, ConfigError> {
        let input = ModelSize {
            parameters: 0,
            activations: self.input_size() as u64,
            multiply_adds: 0,
        };
        let body = match self {
            Self::Mlp(c) => mlp(&c.encoder_widths(), c.bias),
            Self::Aae(c) => {
                let mut discriminator = vec![c.autoencoder.latent];
                discriminator.extend(&c.discriminator);
                discriminator.push(1);
                mlp(&c.autoencoder.encoder_widths(), c.autoencoder.bias)
                    .add(dense(&discriminator, true))
            }
            Self::Conv(c) => {
                let (stack, flat) = conv_stack(&c.conv)?;
                stack.add(dense(&[flat, c.latent, flat], true))
            }
            Self::Recurrent(c) => {
                let (gates, h) = (c.cell.gates(), c.hidden);
                recurrent(gates, c.channels, h, c.steps)
                    .add(dense(&[h, c.latent, h], true))
                    .add(recurrent(gates, c.latent, h, c.steps))
                    .add(per_step(&[h, c.channels], c.steps))
            }
            Self::Transformer(c) => {
                let (d, steps) = (c.width, c.steps);
                let stack = attention(c.layers, d, c.feed_forward(), steps);
                per_step(&[c.channels, d], steps)
                    .add(stack)
                    .add(dense(&[steps * d, c.latent, steps * d], true))
                    .add(stack)
                    .add(per_step(&[d, c.channels], steps))
            }
            Self::Masked(c) => {
                let (n, d, w, dw) = (c.patches(), c.patch_size(), c.width, c.decoder_width);
                let ff = MaskedAutoencoderConfig::feed_forward;
                // Counted as `encode` and `decode` run: every patch through the
                // encoder, the global token and every patch through the decoder (the
                // mask token, one vector, with the decoder's projection).
                per_step(&[d, w], n)
                    .add(attention(c.layers, w, ff(w), n))
                    .add(dense(&[w, c.latent, dw], true))
                    .add(dense(&[w, dw], true))
                    .add(ModelSize {
                        parameters: dw as u64,
                        ..ModelSize::default()
                    })
                    .add(attention(c.decoder_layers, dw, ff(dw), n + 1))
                    .add(per_step(&[dw, d], n))
            }
            Self::TopK(c) => {
                // b_pre, the encoder with its bias, the atoms; and the counters of
                // the samples since each latent fired and of those seen (stored with
                // the weights, as burn counts them, though not trained).
                let (d, n) = (c.input_size, c.latent);
                dense(&[d, n], true)
                    .add(dense(&[n, d], false))
                    .add(ModelSize {
                        parameters: (d + n + 1) as u64,
                        ..ModelSize::default()
                    })
            }
            Self::VqVae(c) => {
                let (stack, flat) = conv_stack(&c.conv)?;
                let positions = c.positions()?;
                let (k, d) = (c.codebook_size, c.code_dim);
                let channels = flat / positions.max(1);
                // The 1 × 1 convolutions to the code and back at each position; the
                // codebook, and the states saved with it (the EMA averages, where
                // restarts moved each entry, each entry's idle count); the distances
                // of each position's vector to every entry.
                stack
                    .add(per_step(&[channels, d, channels], positions))
                    .add(ModelSize {
                        parameters: mul(k, d).saturating_mul(3).saturating_add(2 * k as u64),
                        activations: mul(positions, k),
                        multiply_adds: mul(positions, k).saturating_mul(d as u64),
                    })
            }
            Self::Capsule(c) => {
                let [channels, h, w] = c.image;
                let (k, n) = (c.kernel, c.primary_capsules()?);
                let [gh, gw] = c.primary_grid()?;
                let (h1, w1) = (h + 1 - k, w + 1 - k);
                let primary = c.primary_maps * c.primary_dim;
                let (j, d) = (c.classes, c.capsule_dim);
                let mut decoder = vec![j * d];
                decoder.extend(&c.decoder);
                decoder.push(channels * h * w);
                let kernel = mul(k, k);
                // The convolution (each output position), the primary capsules'
                // convolution (each of its positions), the transforms of every
                // primary capsule to every class capsule; routing's sums are left out.
                ModelSize {
                    parameters: kernel
                        .saturating_mul(mul(channels, c.conv_channels))
                        .saturating_add(c.conv_channels as u64)
                        .saturating_add(kernel.saturating_mul(mul(c.conv_channels, primary)))
                        .saturating_add(primary as u64)
                        .saturating_add(mul(n, j * d).saturating_mul(c.primary_dim as u64)),
                    activations: mul(c.conv_channels, h1 * w1)
                        .saturating_add(mul(primary, gh * gw))
                        .saturating_add(mul(n, j * d))
                        .saturating_add((j * d) as u64),
                    multiply_adds: kernel
                        .saturating_mul(mul(channels, c.conv_channels))
                        .saturating_mul(mul(h1, w1))
                        .saturating_add(
                            kernel
                                .saturating_mul(mul(c.conv_channels, primary))
                                .saturating_mul(mul(gh, gw)),
                        )
                        .saturating_add(mul(n, j * d).saturating_mul(c.primary_dim as u64)),
                }
                .add(dense(&decoder, true))
            }
            Self::Vae(c) => {
                let (stack, outer) = match &c.conv {
                    Some(conv) => conv_stack(conv)?,
                    None => (ModelSize::default(), c.input_size),
                };
                let mut down = vec![outer];
                down.extend(&c.hidden);
                let last = down.last().copied().unwrap_or(outer);
                let mut up = vec![c.latent];
                up.extend(c.hidden.iter().rev());
                up.push(outer);
                // Encoder trunk, the mean and log-variance heads, the decoder.
                stack
                    .add(dense(&down, true))
                    .add(dense(&[last, c.latent], true))
                    .add(dense(&[last, c.latent], true))
                    .add(dense(&up, true))
            }
        };
        Ok(input.add(body))
    }
}

/// An MLP encoder through `widths` and its mirrored decoder.
fn mlp(widths: &[usize], bias: bool) -> ModelSize {
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
        for family in Family::ALL {
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
