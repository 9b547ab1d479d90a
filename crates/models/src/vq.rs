//! The vector-quantised autoencoder (VQ-VAE, van den Oord et al., 2017): a
//! convolutional encoder to a grid of vectors, each replaced by its nearest entry of a
//! learned codebook, and a decoder from the quantised grid. Gradients pass the
//! quantisation straight through; the codebook learns from its own loss term
//! (`‖sg(z) − e‖²`) and the encoder is held near it by the commitment term
//! (`β ‖z − sg(e)‖²`).
//!
//! The code of [`Autoencoder::encode`] is the quantised grid, flattened position after
//! position (`[batch, h·w·code_dim]`), so that `decode` takes it back; the discrete
//! code is [`VqVae::indices`] (`[batch, h·w]`, one codebook entry per position).

use burn::module::{Param, RunningState};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;
use burn::tensor::Distribution;

use crate::any::{FamilyConfig, FamilyModel};
use crate::family::{FamilySpec, Reads, Sampling};
use crate::output::LossTerm;
use crate::size::{self, ModelSize};
use crate::{
    Activation, AnyAutoencoder, Autoencoder, AutoencoderOutput, ConfigError, ConvDecoder,
    ConvEncoder, ConvStackConfig, DiscreteCode, Family, Reconstruction,
};

/// Configuration of a [`VqVae`].
#[derive(Config, Debug)]
pub struct VqVaeConfig {
    /// The convolutions of the encoder (the decoder mirrors them).
    pub conv: ConvStackConfig,
    /// Entries of the codebook.
    #[config(default = 512)]
    pub codebook_size: usize,
    /// Width of each entry, and of the encoder's vector at each grid position.
    #[config(default = 16)]
    pub code_dim: usize,
    /// Weight β of the commitment term.
    #[config(default = 0.25)]
    pub commitment: f64,
    /// `Some(decay)`: the codebook follows exponential moving averages of the
    /// encoder's vectors assigned to each entry (decay 0.99 in the paper's appendix)
    /// instead of learning from the codebook term.
    pub ema_decay: Option<f64>,
    /// `Some(n)`: an entry no grid position has taken for `n` training samples is
    /// dead and restarts at an encoder vector of the current batch, picked at random
    /// (the dead-code restarts of Dhariwal et al., 2020); `None`: never.
    #[config(default = "Some(1000)")]
    pub restart_after: Option<usize>,
    /// Activation of the output.
    #[config(default = "Activation::Sigmoid")]
    pub output_activation: Activation,
    /// The reconstruction loss.
    #[config(default = "Reconstruction::Mse")]
    pub reconstruction: Reconstruction,
}

/// A VQ-VAE. Build it with [`VqVaeConfig::init`].
#[derive(Module, Debug)]
pub struct VqVae {
    /// Strided convolutions to the feature map.
    pub encoder: ConvEncoder,
    /// 1 × 1 convolution: the map's channels to `code_dim` at each position.
    pub to_code: Conv2d,
    /// The codebook, `[codebook_size, code_dim]` (unused with EMA updates).
    pub codebook: Param<Tensor<2>>,
    /// Added to the learned codebook: where restarted entries moved, `[size, code_dim]`
    /// (zero until an entry restarts; unused with EMA updates).
    pub restart_shift: RunningState<Tensor<2>>,
    /// Training samples since each entry was last taken, `[size]`.
    pub idle: RunningState<Tensor<1>>,
    /// With EMA updates: the moving average of each entry's assigned count, `[size]`.
    pub ema_count: RunningState<Tensor<1>>,
    /// With EMA updates: the moving average of each entry's assigned sum,
    /// `[size, code_dim]`.
    pub ema_sum: RunningState<Tensor<2>>,
    /// 1 × 1 convolution: `code_dim` back to the map's channels.
    pub from_code: Conv2d,
    /// Transposed convolutions back to the image.
    pub decoder: ConvDecoder,
    /// `[channels, h, w]` of the encoder's map.
    #[module(skip)]
    map: [usize; 3],
    #[module(skip)]
    code_dim: usize,
    #[module(skip)]
    commitment: f64,
    #[module(skip)]
    ema_decay: Option<f64>,
    #[module(skip)]
    restart_after: Option<usize>,
    #[module(skip)]
    output_activation: Activation,
    #[module(skip)]
    reconstruction: Reconstruction,
}

impl VqVaeConfig {
    /// Checks the stack and the codebook.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.conv.validate()?;
        if self.codebook_size < 2 {
            return Err(ConfigError::new(
                "codebook_size",
                self.codebook_size.to_string(),
                "at least 2 entries",
            ));
        }
        if self.code_dim == 0 {
            return Err(ConfigError::new("code_dim", "0", "a positive width"));
        }
        if let Some(decay) = self.ema_decay
            && !(decay > 0.0 && decay < 1.0)
        {
            return Err(ConfigError::new(
                "ema_decay",
                decay.to_string(),
                "a decay between 0 and 1",
            ));
        }
        if self.restart_after == Some(0) {
            return Err(ConfigError::new(
                "restart_after",
                "0",
                "a positive number of training samples (or none, never to restart)",
            ));
        }
        if !(self.commitment.is_finite() && self.commitment >= 0.0) {
            return Err(ConfigError::new(
                "commitment",
                self.commitment.to_string(),
                "a finite weight of at least 0",
            ));
        }
        Ok(())
    }

    /// Builds the model; the codebook starts uniform in `±1 / codebook_size`, as in
    /// the reference implementation.
    pub fn init(&self, device: &Device) -> Result<VqVae, ConfigError> {
        self.validate()?;
        let (encoder, decoder, _) = self.conv.init(device)?;
        let (sizes, _) = self.conv.plan()?;
        let [h, w] = *sizes.last().unwrap_or(&[1, 1]);
        let channels = *self.conv.channels.last().unwrap_or(&1);
        let bound = 1.0 / self.codebook_size as f64;
        let start = Tensor::random(
            [self.codebook_size, self.code_dim],
            Distribution::Uniform(-bound, bound),
            device,
        );
        Ok(VqVae {
            encoder,
            to_code: Conv2dConfig::new([channels, self.code_dim], [1, 1]).init(device),
            codebook: Param::from_tensor(start.clone()),
            restart_shift: RunningState::new(Tensor::zeros(
                [self.codebook_size, self.code_dim],
                device,
            )),
            idle: RunningState::new(Tensor::zeros([self.codebook_size], device)),
            // Averages that start at the same codebook, each entry counted once.
            ema_count: RunningState::new(Tensor::ones([self.codebook_size], device)),
            ema_sum: RunningState::new(start),
            from_code: Conv2dConfig::new([self.code_dim, channels], [1, 1]).init(device),
            decoder,
            map: [channels, h, w],
            code_dim: self.code_dim,
            commitment: self.commitment,
            ema_decay: self.ema_decay,
            restart_after: self.restart_after,
            output_activation: self.output_activation,
            reconstruction: self.reconstruction,
        })
    }

    /// Grid positions of the discrete code of one sample.
    pub fn positions(&self) -> Result<usize, ConfigError> {
        let (sizes, _) = self.conv.plan()?;
        Ok(sizes.last().map_or(1, |[h, w]| h * w))
    }

    /// Values of [`Autoencoder::encode`]'s code: `code_dim` at each grid position (0
    /// for a stack that does not fit its image, which [`validate`](Self::validate)
    /// refuses).
    pub fn latent(&self) -> usize {
        self.positions().map_or(0, |p| p * self.code_dim)
    }
}

impl VqVae {
    /// The encoder's vectors, one row per grid position: `[batch·h·w, code_dim]`.
    fn vectors(&self, input: Tensor<2>) -> Tensor<2> {
        let batch = input.dims()[0];
        let [c, h, w] = self.map;
        let map = self.encoder.forward(input).reshape([batch, c, h, w]);
        let z = self.to_code.forward(map); // [batch, code_dim, h, w]
        z.permute([0, 2, 3, 1])
            .reshape([batch * h * w, self.code_dim])
    }

    /// The codebook in use: the learned one (moved where entries restarted), or with
    /// EMA updates the averages' ratio.
    pub fn entries(&self) -> Tensor<2> {
        match self.ema_decay {
            None => {
                let device = self.codebook.device();
                self.codebook.val() + self.restart_shift.value().to_device(&device)
            }
            Some(_) => {
                let device = self.codebook.device();
                let count = self.ema_count.value().to_device(&device);
                let sum = self.ema_sum.value().to_device(&device);
                (sum / count.clamp_min(1e-5).unsqueeze_dim(1)).detach()
            }
        }
    }

    /// What a training batch changes besides the weights: each entry's idle count;
    /// with EMA updates, the averages moved towards this batch's assignment of `z`
    /// (rows, `[batch·h·w, code_dim]`) to `idx`; dead entries restarted at rows of `z`
    /// picked at random. Every state is read once and written once.
    fn update_states(&self, z: Tensor<2>, idx: Tensor<1, Int>, batch: usize) {
        let device = z.device();
        let z = z.detach();
        let [size, _] = self.codebook.dims();
        let one_hot = idx.one_hot::<2>(size).float().detach(); // [rows, size]
        let count = one_hot.clone().sum_dim(0).squeeze_dim::<1>(0);
        let taken = count.clone().greater_elem(0.0).float();
        let idle = self.idle.value_sync().to_device(&device);
        let idle = (idle + batch as f32) * (taken.neg() + 1.0);
        let dead = match self.restart_after {
            Some(after) => idle.clone().greater_equal_elem(after as f32).float(),
            None => Tensor::zeros([size], &device),
        };
        let alive = dead.clone().neg() + 1.0;
        let rows = z.dims()[0];
        let pick =
            Tensor::<1, Int>::random([size], Distribution::Uniform(0.0, rows as f64), &device)
                .clamp(0, rows as i64 - 1);
        let candidates = z.clone().select(0, pick);
        let (dead2, alive2) = (
            dead.clone().unsqueeze_dim(1),
            alive.clone().unsqueeze_dim(1),
        );
        match self.ema_decay {
            Some(decay) => {
                let sum = one_hot.transpose().matmul(z);
                let (d, rest) = (decay as f32, 1.0 - decay as f32);
                let old_count = self.ema_count.value_sync().to_device(&device);
                let old_sum = self.ema_sum.value_sync().to_device(&device);
                let count = (old_count * d + count * rest) * alive.clone() + dead.clone();
                let sum = (old_sum * d + sum * rest) * alive2 + candidates * dead2;
                self.ema_count.update(count.detach());
                self.ema_sum.update(sum.detach());
            }
            None => {
                let shift = self.restart_shift.value_sync().to_device(&device);
                let learned = self.codebook.val().detach();
                let shift = shift * alive2 + (candidates - learned) * dead2;
                self.restart_shift.update(shift.detach());
            }
        }
        self.idle.update((idle * alive).detach());
    }

    /// The index of the nearest codebook entry to each row of `z`, `[rows]`.
    fn nearest(&self, z: Tensor<2>) -> Tensor<1, Int> {
        let e = self.entries();
        // ‖z − e‖² = ‖z‖² − 2 z·e + ‖e‖²; ‖z‖² is the same for every entry.
        let distances =
            e.clone().powi_scalar(2).sum_dim(1).transpose() - z.matmul(e.transpose()) * 2.0;
        distances.argmin(1).squeeze_dim(1)
    }

    /// The discrete code: the codebook entry at each grid position, `[batch, h·w]`
    /// (positions row after row).
    pub fn indices(&self, input: Tensor<2>) -> Tensor<2, Int> {
        let batch = input.dims()[0];
        let [_, h, w] = self.map;
        self.nearest(self.vectors(input)).reshape([batch, h * w])
    }

    /// Codebook entries of `indices` (`[batch, h·w]`) as the flattened grid `decode`
    /// takes, `[batch, h·w·code_dim]`.
    pub fn lookup(&self, indices: Tensor<2, Int>) -> Tensor<2> {
        let [batch, positions] = indices.dims();
        self.entries()
            .select(0, indices.reshape([batch * positions]))
            .reshape([batch, positions * self.code_dim])
    }

    /// Rows and columns of the code grid.
    pub fn grid(&self) -> [usize; 2] {
        [self.map[1], self.map[2]]
    }

    /// The discrete code as symbols: one codebook entry per grid position.
    pub fn discrete_code(&self) -> DiscreteCode {
        DiscreteCode {
            symbols: self.map[1] * self.map[2],
            alphabet: self.codebook.dims()[0],
        }
    }

    fn decode_logits(&self, code: Tensor<2>) -> Tensor<2> {
        let batch = code.dims()[0];
        let [c, h, w] = self.map;
        let grid = code
            .reshape([batch, h, w, self.code_dim])
            .permute([0, 3, 1, 2]);
        let map = self.from_code.forward(grid).reshape([batch, c * h * w]);
        self.decoder.forward(map)
    }
}

impl Autoencoder for VqVae {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        let batch = input.dims()[0];
        let [_, h, w] = self.map;
        let idx = self.nearest(self.vectors(input));
        self.entries()
            .select(0, idx)
            .reshape([batch, h * w * self.code_dim])
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        self.output_activation.forward(self.decode_logits(code))
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        let batch = input.dims()[0];
        let [_, h, w] = self.map;
        let z = self.vectors(input.clone());
        let idx = self.nearest(z.clone().detach());
        let e = self.entries().select(0, idx.clone());
        // With EMA updates the codebook moves by the averages, not by a loss term.
        let codebook = match self.ema_decay {
            None => (z.clone().detach() - e.clone()).powi_scalar(2).mean(),
            Some(_) => Tensor::zeros([1], &z.device()),
        };
        if z.device().is_autodiff() {
            self.update_states(z.clone(), idx.clone(), batch);
        }
        let commitment = (z.clone() - e.clone().detach()).powi_scalar(2).mean() * self.commitment;
        // Straight through: the decoder sees e, the encoder gets the decoder's gradient.
        let quantised = z.clone() + (e - z).detach();
        let code = quantised.reshape([batch, h * w * self.code_dim]);
        let pre = self.decode_logits(code.clone());
        let reconstruction = self.output_activation.forward(pre.clone());
        let loss =
            self.reconstruction
                .mean(pre, reconstruction.clone(), input, self.output_activation);
        // Codebook use in the batch: entries used, and the perplexity of their use.
        let entries = self.codebook.dims()[0];
        let counts = idx
            .one_hot::<2>(entries)
            .float()
            .sum_dim(0)
            .squeeze_dim::<1>(0);
        let p = counts.clone() / (batch * h * w) as f32;
        let entropy = (p.clone() * (p + 1e-10).log()).sum().neg();
        let measures = vec![
            LossTerm {
                name: "perplexity",
                value: entropy.exp().detach(),
            },
            LossTerm {
                name: "used",
                value: counts.greater_elem(0.0).float().sum().detach(),
            },
        ];
        let terms = vec![
            LossTerm {
                name: "reconstruction",
                value: loss,
            },
            LossTerm {
                name: "codebook",
                value: codebook,
            },
            LossTerm {
                name: "commitment",
                value: commitment,
            },
        ];
        AutoencoderOutput::from_terms(reconstruction, code, terms).with_measures(measures)
    }
}

impl Family {
    /// Vector-quantised autoencoder.
    pub const VQ_VAE: Family = Family::new(&FamilySpec {
        name: "vq-vae",
        description: "Vector-quantised autoencoder (VQ-VAE): convolutions to a grid of vectors, each the nearest entry of a learned codebook",
        reads: Reads::Images,
        // A prior learned over its codes after training (`PixelCnnPrior`).
        sampling: Sampling::LearnedPrior,
        // The convolutional autoencoder's convolutions, to a 7×7 grid of 16-wide
        // vectors for 28×28 images.
        defaults: |shape| {
            let stack = ConvStackConfig::new(shape.image()?, vec![32, 64]);
            Some(VqVaeConfig::new(stack).into())
        },
        ..FamilySpec::ORDINARY
    });
}

impl FamilyConfig for VqVaeConfig {
    fn family(&self) -> Family {
        Family::VQ_VAE
    }

    fn input_size(&self) -> usize {
        self.conv.image.iter().product()
    }

    fn latent(&self) -> usize {
        VqVaeConfig::latent(self)
    }

    fn image_shape(&self) -> Option<[usize; 3]> {
        (!self.conv.is_sequence()).then_some(self.conv.image)
    }

    fn size(&self) -> Result<ModelSize, ConfigError> {
        let (stack, flat) = size::conv_stack(&self.conv)?;
        let positions = self.positions()?;
        let (k, d) = (self.codebook_size, self.code_dim);
        let channels = flat / positions.max(1);
        // The 1 × 1 convolutions to the code and back at each position; the codebook,
        // and the states saved with it (the EMA averages, where restarts moved each
        // entry, each entry's idle count); the distances of each position's vector to
        // every entry.
        Ok(stack
            .add(size::per_step(&[channels, d, channels], positions))
            .add(ModelSize {
                parameters: size::mul(k, d)
                    .saturating_mul(3)
                    .saturating_add(2 * k as u64),
                activations: size::mul(positions, k),
                multiply_adds: size::mul(positions, k).saturating_mul(d as u64),
            }))
    }

    fn loss_terms(&self) -> Vec<&'static str> {
        vec!["reconstruction", "codebook", "commitment"]
    }

    fn measures(&self) -> Vec<&'static str> {
        vec!["perplexity", "used"]
    }
}

impl AnyAutoencoder {
    /// The VQ-VAE, when the model is one: its discrete codes and their entries.
    pub fn as_vq(&self) -> Option<&VqVae> {
        match self {
            Self::VqVae(m) => Some(m),
            _ => None,
        }
    }
}

impl FamilyModel for VqVae {
    fn discrete_code(&self) -> Option<DiscreteCode> {
        Some(VqVae::discrete_code(self))
    }
}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;
    use crate::testing::{
        assert_saves_identically, first_last, save_load, term, test_images, train_on_sample,
    };

    fn config() -> VqVaeConfig {
        VqVaeConfig::new(ConvStackConfig::new([1, 28, 28], vec![16, 32]))
            .with_codebook_size(32)
            .with_code_dim(8)
    }

    #[test]
    fn each_position_takes_a_codebook_entry() {
        let device = Device::flex();
        let model = config().init(&device).expect("valid config");
        assert_eq!(
            model.discrete_code(),
            DiscreteCode {
                symbols: 49,
                alphabet: 32
            }
        );
        let x = test_images(3, &device);
        let idx = model.indices(x.clone());
        assert_eq!(idx.dims(), [3, 49]);
        let code = model.encode(x.clone());
        assert_eq!(code.dims(), [3, 49 * 8]);
        // The code is the entries of the indices, and the nearest ones.
        model
            .lookup(idx)
            .into_data()
            .assert_eq(&code.clone().into_data(), true);
        assert_eq!(model.decode(code).dims(), [3, 784]);
        assert_eq!(config().positions().expect("valid"), 49);
        // 49 entries of 32 are 49 × 5 bits.
        assert_eq!(model.discrete_code().bits(), 245.0);
    }

    #[test]
    fn loss_falls_the_codebook_is_used_and_save_load_is_identical() {
        let device = Device::flex().autodiff();
        let _seeded = crate::testing::seeded(&device, 3);
        let model = config().init(&device).expect("valid config");
        let before = model
            .valid()
            .forward(test_images(64, &device.clone().without_autodiff()));
        let (model, losses) = train_on_sample(model, &device, 80, 1e-2, None);
        let (first, last) = first_last(&losses, 5);
        println!("VQ-VAE loss {first} -> {last}");
        assert!(last < 0.6 * first, "VQ-VAE loss {first} -> {last}");

        // Saved and loaded on ndarray, which reads the file at once.
        #[allow(deprecated)]
        let plain = Device::ndarray();
        let model = model.valid().to_device(&plain);
        let after = model.forward(test_images(64, &plain));
        let (used, perplexity) = (term(&after, "used"), term(&after, "perplexity"));
        println!(
            "reconstruction {} -> {}; entries used {} -> {used}, perplexity {} -> {perplexity}",
            term(&before, "reconstruction"),
            term(&after, "reconstruction"),
            term(&before, "used"),
            term(&before, "perplexity"),
        );
        assert!(term(&after, "reconstruction") < term(&before, "reconstruction"));
        assert!(
            used >= 16.0 && perplexity > 8.0,
            "{used} entries, perplexity {perplexity}"
        );
        // The quantised codes and their decodings, and the discrete codes, the same.
        let loaded = assert_saves_identically(&model, config().init(&plain).expect("valid config"));
        let x = test_images(3, &plain);
        model
            .indices(x.clone())
            .into_data()
            .assert_eq(&loaded.indices(x).into_data(), true);
    }

    #[test]
    fn ema_updates_move_the_codebook_to_the_vectors_assigned_to_it() {
        let device = Device::flex().autodiff();
        let _seeded = crate::testing::seeded(&device, 4);
        let model = config()
            .with_ema_decay(Some(0.9))
            .init(&device)
            .expect("valid config");
        let start = model.entries();
        let (model, losses) = train_on_sample(model, &device, 60, 1e-2, None);
        let (first, last) = first_last(&losses, 5);
        println!("VQ-VAE (EMA) loss {first} -> {last}");
        assert!(last < 0.6 * first, "VQ-VAE (EMA) loss {first} -> {last}");
        // The codebook moved only through the averages: the learned one stayed put.
        let moved = (model.entries() - start.clone())
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(moved > 1e-2, "{moved}");
        model
            .codebook
            .val()
            .into_data()
            .assert_eq(&start.into_data(), true);
        // The averages are saved with the weights.
        // Saved and loaded on ndarray, which reads the file at once.
        #[allow(deprecated)]
        let plain = Device::ndarray();
        let model = model.valid().to_device(&plain);
        let loaded = save_load(
            &model,
            config()
                .with_ema_decay(Some(0.9))
                .init(&plain)
                .expect("valid"),
        );
        model
            .entries()
            .into_data()
            .assert_eq(&loaded.entries().into_data(), true);
    }

    /// After one training forward with `restart_after` 1 (every entry no position took
    /// is dead), the entries taken are where they were and every other one sits on an
    /// encoder vector of the batch.
    #[test]
    fn dead_entries_restart_at_vectors_of_the_batch() {
        let device = Device::flex().autodiff();
        let _seeded = crate::testing::seeded(&device, 5);
        for ema in [None, Some(0.9)] {
            let model = config()
                .with_restart_after(Some(1))
                .with_ema_decay(ema)
                .init(&device)
                .expect("valid config");
            let x = test_images(2, &device);
            let before = model.entries();
            let z = model.vectors(x.clone()).detach();
            let taken: Vec<i64> = model
                .nearest(z.clone())
                .into_data()
                .convert::<i64>()
                .to_vec()
                .expect("ints");
            let _ = model.forward(x);
            // Running states show a thread's update once synchronised.
            let _ = model.restart_shift.value_sync();
            let _ = model.ema_count.value_sync();
            let _ = model.ema_sum.value_sync();
            let after = model.entries();
            let moved: Vec<f32> = (after.clone() - before)
                .abs()
                .max_dim(1)
                .into_data()
                .to_vec()
                .expect("floats");
            // Distance of each entry to its nearest encoder vector.
            let gap: Vec<f32> = (after.clone().powi_scalar(2).sum_dim(1)
                - after.matmul(z.clone().transpose()) * 2.0
                + z.powi_scalar(2).sum_dim(1).transpose())
            .min_dim(1)
            .into_data()
            .to_vec()
            .expect("floats");
            let mut restarted = 0;
            for (j, (moved, gap)) in moved.iter().zip(&gap).enumerate() {
                if taken.contains(&(j as i64)) {
                    if ema.is_none() {
                        assert_eq!(*moved, 0.0, "entry {j} was taken and stays");
                    }
                } else {
                    assert!(*gap < 1e-5, "entry {j}: {gap} from the batch ({ema:?})");
                    restarted += 1;
                }
            }
            assert!(restarted > 20, "{restarted} of 32 restarted");
        }
    }

    /// Restarts keep more of the codebook in use than the same training without them.
    #[test]
    fn restarts_keep_more_entries_in_use() {
        let device = Device::flex().autodiff();
        let used = |restart_after| {
            let _seeded = crate::testing::seeded(&device, 3);
            let model = config()
                .with_restart_after(restart_after)
                .init(&device)
                .expect("valid config");
            let (model, _) = train_on_sample(model, &device, 80, 1e-2, None);
            let out = model
                .valid()
                .forward(test_images(64, &device.clone().without_autodiff()));
            (term(&out, "used"), term(&out, "perplexity"))
        };
        let (without, with) = (used(None), used(Some(256)));
        println!("entries used, perplexity: without restarts {without:?}, with {with:?}");
        assert!(
            with.0 >= without.0 + 8.0 && with.1 > 1.5 * without.1,
            "with restarts {with:?}, without {without:?}"
        );
    }

    #[test]
    fn config_errors_name_the_field() {
        let device = Device::flex();
        let field = |c: VqVaeConfig| c.init(&device).map(|_| ()).expect_err("invalid").field;
        assert_eq!(field(config().with_codebook_size(1)), "codebook_size");
        assert_eq!(field(config().with_code_dim(0)), "code_dim");
        assert_eq!(field(config().with_commitment(-1.0)), "commitment");
        assert_eq!(field(config().with_ema_decay(Some(1.0))), "ema_decay");
        assert_eq!(field(config().with_restart_after(Some(0))), "restart_after");
        let mut strideless = config();
        strideless.conv.stride = 0;
        assert_eq!(field(strideless), "kernel/stride");
    }
}
