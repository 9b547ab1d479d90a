//! The capsule autoencoder of Sabour et al. (2017), "Dynamic routing between
//! capsules": a convolution, primary capsules (a strided convolution whose channels
//! are grouped into vectors, squashed), one capsule per class reached by dynamic
//! routing by agreement, and a decoder that reconstructs the image from the class
//! capsules with all but one masked out.
//!
//! Two ways to train it:
//! - **with labels** ([`CapsuleAutoencoder::forward_labelled`]), as in the paper: the
//!   margin loss on the capsules' lengths, the decoder sees the true class's capsule,
//!   and the reconstruction is weighted down (`reconstruction_weight`);
//! - **without labels** ([`Autoencoder::forward`]): the decoder sees the longest
//!   capsule, and the loss is the reconstruction alone, so the capsules become a
//!   clustering of the images, each capsule's vector the pose within its cluster.
//!
//! The code of [`Autoencoder::encode`] is every class capsule, `[batch, classes ·
//! capsule_dim]`; [`Autoencoder::decode`] masks all but the longest of them, as the
//! paper does at test time.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid, softmax};

use crate::any::{FamilyConfig, FamilyModel};
use crate::family::{FamilySpec, Reads};
use crate::output::LossTerm;
use crate::size::{self, ModelSize, mul};
use crate::{AnyAutoencoder, Autoencoder, AutoencoderOutput, ConfigError, Family};

/// What the decoder sees in training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CapsuleMask {
    /// The true class's capsule, and the margin loss on the lengths (the paper's
    /// training; needs labels).
    #[default]
    Label,
    /// The longest capsule, and the reconstruction alone (no labels).
    Longest,
}

impl std::str::FromStr for CapsuleMask {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "label" => Ok(Self::Label),
            "longest" => Ok(Self::Longest),
            other => Err(format!("'{other}': expected label or longest")),
        }
    }
}

/// Configuration of a [`CapsuleAutoencoder`]; the defaults are the paper's.
#[derive(Config, Debug)]
pub struct CapsuleAutoencoderConfig {
    /// `[channels, height, width]` of the images.
    pub image: [usize; 3],
    /// Channels of the first convolution.
    #[config(default = 256)]
    pub conv_channels: usize,
    /// Side of the kernels of both convolutions (the second has stride 2).
    #[config(default = 9)]
    pub kernel: usize,
    /// Maps of primary capsules (each position of each map one capsule).
    #[config(default = 32)]
    pub primary_maps: usize,
    /// Values of a primary capsule.
    #[config(default = 8)]
    pub primary_dim: usize,
    /// Class capsules.
    #[config(default = 10)]
    pub classes: usize,
    /// Values of a class capsule.
    #[config(default = 16)]
    pub capsule_dim: usize,
    /// Iterations of routing by agreement.
    #[config(default = 3)]
    pub routing: usize,
    /// Hidden widths of the decoder.
    #[config(default = "vec![512, 1024]")]
    pub decoder: Vec<usize>,
    /// Weight of the reconstruction (mean squared error per pixel) beside the margin
    /// loss when training with labels: the paper's 0.0005 on the summed squared error
    /// of 784 pixels is 0.392 on the mean.
    #[config(default = 0.392)]
    pub reconstruction_weight: f64,
    /// What the decoder sees in training: the label's capsule or the longest.
    #[config(default = "CapsuleMask::Label")]
    pub mask: CapsuleMask,
}

/// A capsule autoencoder. Build it with [`CapsuleAutoencoderConfig::init`].
#[derive(Module, Debug)]
pub struct CapsuleAutoencoder {
    /// The first convolution (ReLU).
    pub conv: Conv2d,
    /// The primary capsules' convolution (stride 2).
    pub primary: Conv2d,
    /// The transforms from each primary capsule to each class capsule's prediction,
    /// `[primary capsules, classes · capsule_dim, primary_dim]`.
    pub transforms: Param<Tensor<3>>,
    /// The decoder's layers (ReLU between, sigmoid out).
    pub decoder: Vec<Linear>,
    /// `[maps, dim, h, w]` of the primary capsules.
    #[module(skip)]
    primary_shape: [usize; 4],
    #[module(skip)]
    image: [usize; 3],
    #[module(skip)]
    classes: usize,
    #[module(skip)]
    capsule_dim: usize,
    #[module(skip)]
    routing: usize,
    #[module(skip)]
    reconstruction_weight: f64,
    #[module(skip)]
    mask: CapsuleMask,
}

impl CapsuleAutoencoderConfig {
    /// Rows and columns of the primary capsules' maps.
    pub fn primary_grid(&self) -> Result<[usize; 2], ConfigError> {
        let [_, h, w] = self.image;
        let k = self.kernel;
        let grid =
            |side: usize| (side >= k && side - k + 1 >= k).then(|| (side - k + 1 - k) / 2 + 1);
        match (grid(h), grid(w)) {
            (Some(gh), Some(gw)) => Ok([gh, gw]),
            _ => Err(ConfigError::new(
                "kernel",
                k.to_string(),
                format!(
                    "a kernel that two convolutions can apply to {h}×{w} images (at most {})",
                    h.min(w).div_ceil(2)
                ),
            )),
        }
    }

    /// Primary capsules of one image.
    pub fn primary_capsules(&self) -> Result<usize, ConfigError> {
        let [h, w] = self.primary_grid()?;
        Ok(self.primary_maps * h * w)
    }

    /// Checks the sizes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("conv_channels", self.conv_channels),
            ("kernel", self.kernel),
            ("primary_maps", self.primary_maps),
            ("primary_dim", self.primary_dim),
            ("capsule_dim", self.capsule_dim),
            ("routing", self.routing),
        ] {
            if value == 0 {
                return Err(ConfigError::new(field, "0", "a positive size"));
            }
        }
        if self.classes < 2 {
            return Err(ConfigError::new(
                "classes",
                self.classes.to_string(),
                "at least 2 class capsules",
            ));
        }
        if self.decoder.contains(&0) {
            return Err(ConfigError::new(
                "decoder",
                format!("{:?}", self.decoder),
                "positive widths",
            ));
        }
        if !(self.reconstruction_weight.is_finite() && self.reconstruction_weight >= 0.0) {
            return Err(ConfigError::new(
                "reconstruction_weight",
                self.reconstruction_weight.to_string(),
                "a finite weight of at least 0",
            ));
        }
        self.primary_grid().map(|_| ())
    }

    /// Builds the model.
    pub fn init(&self, device: &Device) -> Result<CapsuleAutoencoder, ConfigError> {
        self.validate()?;
        let [channels, h, w] = self.image;
        let [gh, gw] = self.primary_grid()?;
        let n = self.primary_capsules()?;
        let k = self.kernel;
        let mut widths = vec![self.classes * self.capsule_dim];
        widths.extend(&self.decoder);
        widths.push(channels * h * w);
        Ok(CapsuleAutoencoder {
            conv: Conv2dConfig::new([channels, self.conv_channels], [k, k]).init(device),
            primary: Conv2dConfig::new(
                [self.conv_channels, self.primary_maps * self.primary_dim],
                [k, k],
            )
            .with_stride([2, 2])
            .init(device),
            // Scaled so that a class capsule's input starts near unit length (routing's
            // first sum averages n predictions of random direction): squashed, the
            // capsules start at lengths of about a half, not near zero, so that the
            // decoder sees them from the first step.
            transforms: Initializer::Normal {
                mean: 0.0,
                std: 2.0 * self.classes as f64
                    / ((n * self.primary_dim * self.capsule_dim) as f64).sqrt(),
            }
            .init(
                [n, self.classes * self.capsule_dim, self.primary_dim],
                device,
            ),
            decoder: widths
                .windows(2)
                .map(|p| LinearConfig::new(p[0], p[1]).init(device))
                .collect(),
            primary_shape: [self.primary_maps, self.primary_dim, gh, gw],
            image: self.image,
            classes: self.classes,
            capsule_dim: self.capsule_dim,
            routing: self.routing,
            reconstruction_weight: self.reconstruction_weight,
            mask: self.mask,
        })
    }
}

/// `s · ‖s‖ / (1 + ‖s‖²)` along the last dimension: short vectors shrink to almost
/// nothing, long ones to just under unit length.
fn squash<const D: usize>(s: Tensor<D>) -> Tensor<D> {
    let norm2 = s.clone().powi_scalar(2).sum_dim(D - 1);
    let scale = norm2.clone() / (norm2.clone() + 1.0) / (norm2 + 1e-8).sqrt();
    s * scale
}

impl CapsuleAutoencoder {
    /// The class capsules, `[batch, classes, capsule_dim]`.
    pub fn capsules(&self, input: Tensor<2>) -> Tensor<3> {
        let batch = input.dims()[0];
        let [c, h, w] = self.image;
        let [maps, dim, gh, gw] = self.primary_shape;
        let x = relu(self.conv.forward(input.reshape([batch, c, h, w])));
        let u = self
            .primary
            .forward(x)
            .reshape([batch, maps, dim, gh, gw])
            .permute([0, 1, 3, 4, 2])
            .reshape([batch, maps * gh * gw, dim]);
        let u = squash(u); // [batch, n, dim]
        let n = maps * gh * gw;
        // Each primary capsule's prediction of each class capsule: [batch, n, J, d].
        let u_hat = self
            .transforms
            .val()
            .matmul(u.permute([1, 2, 0])) // [n, J·d, batch]
            .permute([2, 0, 1])
            .reshape([batch, n, self.classes, self.capsule_dim]);
        let mut logits = Tensor::<3>::zeros([batch, n, self.classes], &u_hat.device());
        let mut v = Tensor::<3>::zeros([batch, self.classes, self.capsule_dim], &u_hat.device());
        for iteration in 0..self.routing {
            let coupling = softmax(logits.clone(), 2).unsqueeze_dim::<4>(3);
            let s = (coupling * u_hat.clone()).sum_dim(1); // [batch, 1, J, d]
            v = squash(s.clone()).reshape([batch, self.classes, self.capsule_dim]);
            if iteration + 1 < self.routing {
                let agreement =
                    (u_hat.clone() * squash(s))
                        .sum_dim(3)
                        .reshape([batch, n, self.classes]);
                logits = logits + agreement;
            }
        }
        v
    }

    /// Whether training masks by the label (and so wants labels).
    pub fn masks_by_label(&self) -> bool {
        self.mask == CapsuleMask::Label
    }

    /// The length of each class capsule, `[batch, classes]`: the model's belief that
    /// the class is present.
    pub fn lengths(&self, input: Tensor<2>) -> Tensor<2> {
        Self::lengths_of(self.capsules(input))
    }

    fn lengths_of(capsules: Tensor<3>) -> Tensor<2> {
        let [batch, classes, _] = capsules.dims();
        (capsules.powi_scalar(2).sum_dim(2) + 1e-8)
            .sqrt()
            .reshape([batch, classes])
    }

    /// The class of the longest capsule of each image, `[batch]`.
    pub fn predict(&self, input: Tensor<2>) -> Tensor<1, Int> {
        Self::longest(self.capsules(input))
    }

    /// The longest of each image's `capsules` (`[batch, classes, dim]`), `[batch]`.
    pub fn longest(capsules: Tensor<3>) -> Tensor<1, Int> {
        Self::lengths_of(capsules).argmax(1).squeeze_dim(1)
    }

    /// The image from the capsules with all but `keep` (`[batch]`) masked out.
    pub fn reconstruct(&self, capsules: Tensor<3>, keep: Tensor<1, Int>) -> Tensor<2> {
        let [batch, classes, dim] = capsules.dims();
        let mask = keep.one_hot::<2>(classes).float().unsqueeze_dim::<3>(2);
        let mut x = (capsules * mask).reshape([batch, classes * dim]);
        let last = self.decoder.len().saturating_sub(1);
        for (i, layer) in self.decoder.iter().enumerate() {
            x = layer.forward(x);
            x = if i == last { sigmoid(x) } else { relu(x) };
        }
        x
    }

    /// Decodings of one image's capsule `class` (of `capsules`, `[1, classes, dim]`)
    /// with each of its dimensions moved in turn by each of `deltas`, all other
    /// capsules masked: `[dim · deltas.len(), pixels]`, dimension after dimension
    /// (the per-capsule perturbations of Sabour et al., figure 4).
    pub fn perturb(&self, capsules: Tensor<3>, class: usize, deltas: &[f32]) -> Tensor<2> {
        let [_, classes, dim] = capsules.dims();
        let device = capsules.device();
        let n = dim * deltas.len();
        let mut shift = vec![0.0f32; n * classes * dim];
        for d in 0..dim {
            for (s, delta) in deltas.iter().enumerate() {
                let row = d * deltas.len() + s;
                shift[(row * classes + class) * dim + d] = *delta;
            }
        }
        let shift = Tensor::<1>::from_floats(shift.as_slice(), &device).reshape([n, classes, dim]);
        let keep = Tensor::<1, Int>::full([n], class as i64, &device);
        self.reconstruct(capsules.repeat_dim(0, n) + shift, keep)
    }

    /// The paper's objective for images with `labels` (`[batch]`): the margin loss on
    /// the capsules' lengths (m⁺ 0.9, m⁻ 0.1, λ 0.5) and the weighted reconstruction
    /// from the true class's capsule.
    pub fn forward_labelled(&self, input: Tensor<2>, labels: Tensor<1, Int>) -> AutoencoderOutput {
        let capsules = self.capsules(input.clone());
        let lengths = Self::lengths_of(capsules.clone());
        let target = labels.clone().one_hot::<2>(self.classes).float();
        let present = relu(lengths.clone().neg() + 0.9).powi_scalar(2);
        let absent = relu(lengths - 0.1).powi_scalar(2);
        let margin = (target.clone() * present + (target.neg() + 1.0) * absent * 0.5)
            .sum_dim(1)
            .mean();
        let code = capsules
            .clone()
            .reshape([input.dims()[0], self.classes * self.capsule_dim]);
        let reconstruction = self.reconstruct(capsules, labels);
        let mse = (reconstruction.clone() - input).powi_scalar(2).mean();
        let terms = vec![
            LossTerm {
                name: "margin",
                value: margin,
            },
            LossTerm {
                name: "reconstruction",
                value: mse * self.reconstruction_weight,
            },
        ];
        AutoencoderOutput::from_terms(reconstruction, code, terms)
    }
}

impl Autoencoder for CapsuleAutoencoder {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        let batch = input.dims()[0];
        self.capsules(input)
            .reshape([batch, self.classes * self.capsule_dim])
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        let batch = code.dims()[0];
        let capsules = code.reshape([batch, self.classes, self.capsule_dim]);
        self.reconstruct(capsules.clone(), Self::longest(capsules))
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        let code = self.encode(input.clone());
        let reconstruction = self.decode(code.clone());
        let mse = (reconstruction.clone() - input).powi_scalar(2).mean();
        let terms = vec![LossTerm {
            name: "reconstruction",
            value: mse,
        }];
        AutoencoderOutput::from_terms(reconstruction, code, terms)
    }
}

impl Family {
    /// Capsule autoencoder.
    pub const CAPSULE: Family = Family::new(&FamilySpec {
        name: "capsule",
        description: "Capsule autoencoder (Sabour et al. 2017): primary capsules, dynamic routing to one capsule per class, a decoder from the longest",
        reads: Reads::Images,
        // The paper's architecture, for any image size its kernels fit.
        defaults: |shape| {
            Some(CapsuleAutoencoderConfig::new(shape.image()?).into())
        },
        ..FamilySpec::ORDINARY
    });
}

impl FamilyConfig for CapsuleAutoencoderConfig {
    fn family(&self) -> Family {
        Family::CAPSULE
    }

    fn input_size(&self) -> usize {
        self.image.iter().product()
    }

    fn latent(&self) -> usize {
        self.classes * self.capsule_dim
    }

    fn image_shape(&self) -> Option<[usize; 3]> {
        Some(self.image)
    }

    fn size(&self) -> Result<ModelSize, ConfigError> {
        let [channels, h, w] = self.image;
        let (k, n) = (self.kernel, self.primary_capsules()?);
        let [gh, gw] = self.primary_grid()?;
        let (h1, w1) = (h + 1 - k, w + 1 - k);
        let primary = self.primary_maps * self.primary_dim;
        let (j, d) = (self.classes, self.capsule_dim);
        let mut decoder = vec![j * d];
        decoder.extend(&self.decoder);
        decoder.push(channels * h * w);
        let kernel = mul(k, k);
        let first = kernel.saturating_mul(mul(channels, self.conv_channels));
        let second = kernel.saturating_mul(mul(self.conv_channels, primary));
        let transforms = mul(n, j * d).saturating_mul(self.primary_dim as u64);
        // The convolution (each output position), the primary capsules' convolution
        // (each of its positions), the transforms of every primary capsule to every
        // class capsule; routing's sums are left out.
        Ok(ModelSize {
            parameters: first
                .saturating_add(self.conv_channels as u64)
                .saturating_add(second)
                .saturating_add(primary as u64)
                .saturating_add(transforms),
            activations: mul(self.conv_channels, h1 * w1)
                .saturating_add(mul(primary, gh * gw))
                .saturating_add(mul(n, j * d))
                .saturating_add((j * d) as u64),
            multiply_adds: first
                .saturating_mul(mul(h1, w1))
                .saturating_add(second.saturating_mul(mul(gh, gw)))
                .saturating_add(transforms),
        }
        .add(size::dense(&decoder, true)))
    }

    fn loss_terms(&self) -> Vec<&'static str> {
        match self.mask {
            CapsuleMask::Label => vec!["margin", "reconstruction"],
            CapsuleMask::Longest => vec!["reconstruction"],
        }
    }
}

impl AnyAutoencoder {
    /// The capsule autoencoder, when the model is one: its capsules' lengths classify.
    pub fn as_capsule(&self) -> Option<&CapsuleAutoencoder> {
        match self {
            Self::Capsule(m) => Some(m),
            _ => None,
        }
    }
}

impl FamilyModel for CapsuleAutoencoder {
    fn forward_labelled(&self, input: Tensor<2>, labels: Tensor<1, Int>) -> AutoencoderOutput {
        if self.masks_by_label() {
            CapsuleAutoencoder::forward_labelled(self, input, labels)
        } else {
            self.forward(input)
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::optim::{AdamConfig, GradientsParams};

    use super::*;
    use crate::testing::{first_last, save_load, test_images, train_on_sample};

    /// A small capsule network for 28 × 28 images: 6 × 6 × 4 primary capsules.
    fn config() -> CapsuleAutoencoderConfig {
        CapsuleAutoencoderConfig::new([1, 28, 28])
            .with_conv_channels(16)
            .with_primary_maps(4)
            .with_decoder(vec![64])
    }

    #[test]
    fn shapes_and_squashed_lengths() {
        let device = Device::flex();
        let model = config().init(&device).expect("valid");
        assert_eq!(config().primary_capsules().expect("valid"), 4 * 6 * 6);
        let x = test_images(3, &device);
        let lengths: Vec<f32> = model
            .lengths(x.clone())
            .into_data()
            .try_to_vec()
            .expect("floats");
        assert_eq!(lengths.len(), 30);
        assert!(lengths.iter().all(|l| *l >= 0.0 && *l < 1.0), "{lengths:?}");
        let code = model.encode(x.clone());
        assert_eq!(code.dims(), [3, 160]);
        assert_eq!(model.decode(code).dims(), [3, 784]);
        let s = Tensor::<2>::from_data([[3.0, 4.0], [0.0, 0.0]], &device);
        let squashed: Vec<f32> = squash(s).into_data().try_to_vec().expect("floats");
        // ‖s‖ = 5: length 25 / 26, along s.
        let expected = [0.6 * 25.0 / 26.0, 0.8 * 25.0 / 26.0, 0.0, 0.0];
        for (a, b) in squashed.iter().zip(expected) {
            assert!((a - b).abs() < 1e-5, "{squashed:?}");
        }
    }

    /// Without labels: the reconstruction from the longest capsule improves, and the
    /// model saves and loads to identical outputs.
    #[test]
    fn unsupervised_loss_falls_and_save_load_is_identical() {
        let device = Device::flex().autodiff();
        let _seeded = crate::testing::seeded(&device, 3);
        let model = config().init(&device).expect("valid");
        let (model, losses) = train_on_sample(model, &device, 60, 2e-3, None);
        let (first, last) = first_last(&losses, 5);
        println!("capsule autoencoder loss {first} -> {last}");
        assert!(last < 0.6 * first, "{first} -> {last}");
        #[allow(deprecated)] // ndarray reads the saved file at once.
        let plain = Device::ndarray();
        let model = model.valid().to_device(&plain);
        let loaded = save_load(&model, config().init(&plain).expect("valid"));
        let x = test_images(3, &plain);
        model
            .forward(x.clone())
            .reconstruction
            .into_data()
            .assert_eq(&loaded.forward(x).reconstruction.into_data(), true);
    }

    /// With labels, as in the paper: the capsules' lengths classify held-out sample
    /// images far above chance, the untrained model's at about chance.
    #[test]
    fn margin_loss_makes_capsule_lengths_a_classifier() {
        let device = Device::flex().autodiff();
        let _seeded = crate::testing::seeded(&device, 4);
        let sample = ae_data::sample::load().expect("embedded sample");
        let batcher = ae_data::HostBatcher::new(sample.train.clone());
        let mut model = config().init(&device).expect("valid");
        let plain = device.clone().without_autodiff();
        let test: Vec<usize> = (0..500).collect();
        let labels_of = |split: &ae_data::Split, idx: &[usize]| -> Vec<i64> {
            idx.iter().map(|&i| i64::from(split.labels[i])).collect()
        };
        let accuracy = |model: &CapsuleAutoencoder| {
            let predicted: Vec<i64> = model
                .predict(sample.test.tensor(&test, &plain))
                .into_data()
                .convert::<i64>()
                .try_to_vec()
                .expect("ints");
            let truth = labels_of(&sample.test, &test);
            predicted.iter().zip(&truth).filter(|(p, t)| p == t).count() as f64 / 500.0
        };
        let untrained = accuracy(&model.valid());
        let mut optim = AdamConfig::new().init();
        for step in 0..120 {
            let start = step * 64 % 3968;
            let idx: Vec<usize> = (start..start + 64).collect();
            let labels = Tensor::<1, Int>::from_data(
                TensorData::new(labels_of(&sample.train, &idx), [64]),
                &device,
            );
            let out = model.forward_labelled(batcher.images(&idx, &device), labels);
            let grads = GradientsParams::from_grads(out.loss.backward(), &model);
            model = optim.step(2e-3, model, grads);
        }
        let trained = accuracy(&model.valid());
        println!("capsule lengths as a classifier: untrained {untrained}, trained {trained}");
        assert!(trained > 0.6, "trained {trained}");
        assert!(untrained < 0.3, "untrained {untrained}");
    }

    /// A perturbation of 0 decodes as the capsule itself; a moved dimension changes
    /// the image; capsules other than `class` are masked out whatever they hold.
    #[test]
    fn perturbations_move_one_dimension_of_one_capsule() {
        let device = Device::flex();
        let model = config().init(&device).expect("valid");
        let capsules = model.capsules(test_images(1, &device));
        let deltas = [-0.25, 0.0, 0.25];
        let rows = |c: Tensor<3>| -> Vec<f32> {
            model
                .perturb(c, 3, &deltas)
                .into_data()
                .try_to_vec()
                .expect("floats")
        };
        let grid = rows(capsules.clone());
        assert_eq!(grid.len(), 16 * 3 * 784);
        let plain: Vec<f32> = model
            .reconstruct(capsules.clone(), Tensor::<1, Int>::from_ints([3], &device))
            .into_data()
            .try_to_vec()
            .expect("floats");
        let image = |row: usize| &grid[row * 784..(row + 1) * 784];
        let gap = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max)
        };
        for d in 0..16 {
            assert!(
                gap(image(d * 3 + 1), &plain) < 1e-5,
                "dimension {d} unmoved"
            );
            assert!(
                gap(image(d * 3), image(d * 3 + 2)) > 1e-4,
                "dimension {d} moved"
            );
        }
        // Another capsule's values never reach the decoder.
        let other =
            Tensor::<1>::from_floats([0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], &device)
                .reshape([1, 10, 1])
                .repeat_dim(2, 16);
        assert!(gap(&rows(capsules + other), &grid) < 1e-5);
    }

    #[test]
    fn config_errors_name_the_field() {
        let device = Device::flex();
        let field =
            |c: CapsuleAutoencoderConfig| c.init(&device).map(|_| ()).expect_err("invalid").field;
        assert_eq!(field(config().with_kernel(15)), "kernel");
        assert_eq!(field(config().with_classes(1)), "classes");
        assert_eq!(field(config().with_routing(0)), "routing");
        assert_eq!(
            field(config().with_reconstruction_weight(-1.0)),
            "reconstruction_weight"
        );
    }
}
