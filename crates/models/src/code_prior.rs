//! A learned prior over a discrete code grid: a small PixelCNN (van den Oord et al.,
//! 2016), as the VQ-VAE paper samples its codes. Each grid position's entry is
//! predicted from the positions before it (row after row, left to right) by masked
//! convolutions over the entries' embeddings; sampling draws the positions in that
//! order.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Embedding, EmbeddingConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

use crate::{ConfigError, DiscreteCode};

/// Configuration of a [`PixelCnnPrior`].
#[derive(Config, Debug)]
pub struct PixelCnnPriorConfig {
    /// Values each position takes (a VQ-VAE's codebook entries).
    pub entries: usize,
    /// Rows and columns of the grid.
    pub grid: [usize; 2],
    /// Channels of the embedding and of every masked convolution.
    #[config(default = 64)]
    pub width: usize,
    /// Masked 3 × 3 convolutions after the first 5 × 5 one, each a residual block.
    #[config(default = 4)]
    pub layers: usize,
}

/// A convolution whose kernel sees only the positions before its centre (type A), or
/// those and the centre (type B).
#[derive(Module, Debug)]
pub struct MaskedConv {
    /// The convolution; its kernel is masked at each use.
    pub conv: Conv2d,
    #[module(skip)]
    kernel: usize,
    #[module(skip)]
    centre: bool,
}

impl MaskedConv {
    fn new(channels: [usize; 2], kernel: usize, centre: bool, device: &Device) -> Self {
        let conv = Conv2dConfig::new(channels, [kernel, kernel])
            .with_padding(PaddingConfig2d::Explicit(
                kernel / 2,
                kernel / 2,
                kernel / 2,
                kernel / 2,
            ))
            .init(device);
        Self {
            conv,
            kernel,
            centre,
        }
    }

    /// The kernel's mask, `[1, 1, k, k]`: 1 above the centre row, and left of the
    /// centre (and at it, for type B) on its row.
    fn mask(&self, device: &Device) -> Tensor<4> {
        let (k, c) = (self.kernel, self.kernel / 2);
        let values: Vec<f32> = (0..k * k)
            .map(|n| {
                let (i, j) = (n / k, n % k);
                f32::from(u8::from(
                    i < c || (i == c && (j < c || (self.centre && j == c))),
                ))
            })
            .collect();
        Tensor::from_data(TensorData::new(values, [1, 1, k, k]), device)
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let weight = self.conv.weight.val();
        let mask = self.mask(&weight.device()).expand(weight.dims());
        let pad = self.kernel / 2;
        conv2d(
            x,
            weight * mask,
            self.conv.bias.as_ref().map(Param::val),
            ConvOptions::new([1, 1], [pad, pad], [1, 1], 1),
        )
    }
}

/// A PixelCNN over a grid of discrete codes. Build it with [`PixelCnnPriorConfig::init`].
#[derive(Module, Debug)]
pub struct PixelCnnPrior {
    /// Each entry's vector.
    pub embedding: Embedding,
    /// The first masked convolution (type A: blind to the position it predicts).
    pub first: MaskedConv,
    /// Residual masked convolutions (type B).
    pub body: Vec<MaskedConv>,
    /// 1 × 1 convolution to each entry's logit.
    pub out: Conv2d,
    #[module(skip)]
    grid: [usize; 2],
    #[module(skip)]
    entries: usize,
}

impl PixelCnnPriorConfig {
    /// Checks the sizes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.entries < 2 {
            return Err(ConfigError::new(
                "entries",
                self.entries.to_string(),
                "at least 2 values a position",
            ));
        }
        if self.grid.contains(&0) {
            return Err(ConfigError::new(
                "grid",
                format!("{:?}", self.grid),
                "at least one row and one column",
            ));
        }
        if self.width == 0 {
            return Err(ConfigError::new("width", "0", "a positive width"));
        }
        Ok(())
    }

    /// Builds the prior.
    pub fn init(&self, device: &Device) -> Result<PixelCnnPrior, ConfigError> {
        self.validate()?;
        let w = self.width;
        Ok(PixelCnnPrior {
            embedding: EmbeddingConfig::new(self.entries, w).init(device),
            first: MaskedConv::new([w, w], 5, false, device),
            body: (0..self.layers)
                .map(|_| MaskedConv::new([w, w], 3, true, device))
                .collect(),
            out: Conv2dConfig::new([w, self.entries], [1, 1]).init(device),
            grid: self.grid,
            entries: self.entries,
        })
    }
}

impl PixelCnnPrior {
    /// The logits of each position's entry given the positions before it,
    /// `[batch·h·w, entries]`, for codes `[batch, h·w]`.
    pub fn logits(&self, codes: Tensor<2, Int>) -> Tensor<2> {
        let [batch, _] = codes.dims();
        let [h, w] = self.grid;
        let x = self.embedding.forward(codes); // [batch, h·w, width]
        let width = x.dims()[2];
        let x = x.reshape([batch, h, w, width]).permute([0, 3, 1, 2]);
        let mut x = burn::tensor::activation::relu(self.first.forward(x));
        for layer in &self.body {
            x = x.clone() + burn::tensor::activation::relu(layer.forward(x));
        }
        self.out
            .forward(x)
            .permute([0, 2, 3, 1])
            .reshape([batch * h * w, self.entries])
    }

    /// Mean negative log-likelihood of `codes` (`[batch, h·w]`), nats per position.
    pub fn nll(&self, codes: Tensor<2, Int>) -> Tensor<1> {
        let [batch, positions] = codes.dims();
        let device = codes.device();
        let logits = self.logits(codes.clone());
        CrossEntropyLossConfig::new()
            .init(&device)
            .forward(logits, codes.reshape([batch * positions]))
    }

    /// `n` codes drawn position after position, `[n, h·w]` (from the device's
    /// generator: seed it for repeatable draws).
    pub fn sample(&self, n: usize, device: &Device) -> Tensor<2, Int> {
        let positions = self.grid[0] * self.grid[1];
        let mut codes = Tensor::<2, Int>::zeros([n, positions], device);
        for p in 0..positions {
            let logits = self
                .logits(codes.clone())
                .reshape([n, positions, self.entries])
                .slice([0..n, p..p + 1])
                .reshape([n, self.entries]);
            // Gumbel-max: the argmax of the logits plus Gumbel noise is a draw of the
            // softmax's categorical distribution.
            let u = Tensor::<2>::random(
                [n, self.entries],
                Distribution::Uniform(1e-7, 1.0 - 1e-7),
                device,
            );
            let gumbel = u.log().neg().log().neg();
            let drawn = (logits + gumbel).argmax(1); // [n, 1]
            codes = codes.slice_assign([0..n, p..p + 1], drawn);
        }
        codes
    }

    /// The code it is a prior over: the grid's positions, each one of the entries.
    pub fn discrete_code(&self) -> DiscreteCode {
        DiscreteCode {
            symbols: self.grid[0] * self.grid[1],
            alphabet: self.entries,
        }
    }
}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use burn::optim::{AdamConfig, GradientsParams};

    use super::*;

    /// A prediction of position p may not depend on p or anything after it.
    #[test]
    fn each_position_sees_only_the_positions_before_it() {
        let device = Device::ndarray();
        let _seeded = crate::testing::seeded(&device, 1);
        let prior = PixelCnnPriorConfig::new(8, [4, 4])
            .with_width(8)
            .init(&device)
            .expect("valid");
        let codes = Tensor::<2, Int>::from_data(
            TensorData::new((0..16).map(|i| i % 8).collect::<Vec<i64>>(), [1, 16]),
            &device,
        );
        let base = prior.logits(codes.clone());
        for p in 0..16 {
            // Change position p: logits of positions ≤ p stay, some later one moves.
            let changed = codes.clone().slice_assign(
                [0..1, p..p + 1],
                Tensor::from_data(TensorData::new(vec![7 - (p as i64 % 8)], [1, 1]), &device),
            );
            let diff: Vec<f32> = (prior.logits(changed) - base.clone())
                .abs()
                .max_dim(1)
                .into_data()
                .to_vec()
                .expect("floats");
            assert!(
                diff[..=p].iter().all(|d| *d == 0.0),
                "position {p}: {diff:?}"
            );
            if p < 15 {
                assert!(diff[p + 1..].iter().any(|d| *d > 0.0), "position {p}");
            }
        }
    }

    /// On codes with structure (each row one value, the next row's that plus one), the
    /// trained prior's likelihood beats the uniform one by far, and its samples follow
    /// the structure.
    #[test]
    fn learns_structured_codes_and_samples_them() {
        let device = Device::flex().autodiff();
        let _seeded = crate::testing::seeded(&device, 2);
        let mut prior = PixelCnnPriorConfig::new(8, [4, 4])
            .with_width(32)
            .with_layers(2)
            .init(&device)
            .expect("valid");
        let data: Vec<i64> = (0..64)
            .flat_map(|s| (0..16).map(move |i| (s + i / 4) % 8))
            .collect();
        let codes = Tensor::<2, Int>::from_data(TensorData::new(data, [64, 16]), &device);
        let uniform = 8f32.ln();
        let before = prior.nll(codes.clone()).into_scalar::<f32>();
        let mut optim = AdamConfig::new().init();
        for _ in 0..150 {
            let loss = prior.nll(codes.clone());
            let grads = GradientsParams::from_grads(loss.backward(), &prior);
            prior = optim.step(3e-3, prior, grads);
        }
        let after = prior.nll(codes).into_scalar::<f32>();
        println!("nats per position: uniform {uniform}, untrained {before}, trained {after}");
        assert!(before > 0.9 * uniform, "untrained {before}");
        assert!(after < 0.4 * uniform, "trained {after}");
        let drawn: Vec<i64> = prior
            .valid()
            .sample(20, &device.clone().without_autodiff())
            .into_data()
            .convert::<i64>()
            .to_vec()
            .expect("ints");
        let follow = drawn
            .chunks(16)
            .filter(|c| (0..16).all(|i| c[i] == (c[0] + (i / 4) as i64) % 8))
            .count();
        assert!(follow >= 15, "{follow} of 20 samples follow the rows");
    }
}
