//! Adversarial autoencoders (Makhzani et al., 2015): an MLP autoencoder whose codes
//! a discriminator learns to tell apart from samples of a prior, while the encoder
//! learns to fool it — so that the codes come to follow the prior.
//!
//! The three phases of the paper (reconstruction, discriminator, generator) live in
//! one objective whose gradient with respect to each part is that part's own phase:
//! - reconstruction (and any regulariser of the autoencoder) reaches the encoder and
//!   the decoder only;
//! - the discriminator loss is computed on *detached* codes, so it reaches the
//!   discriminator only;
//! - the generator loss is computed through a *detached copy* of the discriminator's
//!   weights, so it reaches the encoder only.
//!
//! One backward pass therefore gives each part exactly its phase's gradient (all three
//! taken at the same parameters), and any optimiser — burn's `Learner` included —
//! trains the model like every other family.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::{Distribution, activation};
use serde::{Deserialize, Serialize};

use crate::any::{FamilyConfig, FamilyModel};
use crate::family::{FamilySpec, Sampling};
use crate::size::{self, ModelSize};
use crate::{
    Autoencoder, AutoencoderOutput, ConfigError, Family, LossTerm, MlpAutoencoder,
    MlpAutoencoderConfig,
};

/// The distribution the codes are matched to.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Prior {
    /// The standard normal `N(0, I)`.
    Gaussian,
    /// An equal mixture of `components` Gaussians of standard deviation `std`, centred
    /// on a circle of radius `radius` in the first two code dimensions (the other
    /// dimensions are `N(0, std²)`), as in the paper's 2-D figures.
    Mixture {
        /// Number of components.
        components: usize,
        /// Distance of each centre from the origin.
        radius: f64,
        /// Standard deviation of each component.
        std: f64,
    },
}

impl Prior {
    /// Checks the prior for a code of `latent` units.
    pub fn validate(&self, latent: usize) -> Result<(), ConfigError> {
        if let Self::Mixture {
            components,
            radius,
            std,
        } = *self
        {
            if components == 0 {
                return Err(ConfigError::new(
                    "prior.components",
                    "0",
                    "at least one component",
                ));
            }
            if latent < 2 {
                return Err(ConfigError::new(
                    "latent",
                    latent.to_string(),
                    "at least 2 units for a mixture prior (its centres lie in a plane)",
                ));
            }
            if !(radius.is_finite() && radius >= 0.0) {
                return Err(ConfigError::new(
                    "prior.radius",
                    radius.to_string(),
                    "a finite radius ≥ 0",
                ));
            }
            if !(std.is_finite() && std > 0.0) {
                return Err(ConfigError::new(
                    "prior.std",
                    std.to_string(),
                    "a finite standard deviation > 0",
                ));
            }
        }
        Ok(())
    }

    /// `n` samples of a `latent`-unit code.
    ///
    /// # Shapes
    /// Returns `[n, latent]`.
    pub fn sample(&self, n: usize, latent: usize, device: &Device) -> Tensor<2> {
        match *self {
            Self::Gaussian => Tensor::random([n, latent], Distribution::Normal(0.0, 1.0), device),
            Self::Mixture {
                components,
                radius,
                std,
            } => {
                let k = components as f64;
                // A component index in {0, …, K-1} per sample, then its angle.
                let index =
                    Tensor::<2>::random([n, 1], Distribution::Uniform(0.0, k), device).floor();
                let angle = index * (std::f64::consts::TAU / k);
                let mut centre = vec![angle.clone().cos() * radius, angle.sin() * radius];
                if latent > 2 {
                    centre.push(Tensor::zeros([n, latent - 2], device));
                }
                Tensor::cat(centre, 1)
                    + Tensor::random([n, latent], Distribution::Normal(0.0, std), device)
            }
        }
    }
}

impl std::str::FromStr for Prior {
    type Err = String;

    /// Parses `gaussian` or `mixture:K[:RADIUS[:STD]]` (radius 4, std 0.5 by default).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split(':').collect();
        let num = |v: &str| {
            v.parse::<f64>()
                .map_err(|_| format!("prior '{s}': '{v}' is not a number"))
        };
        match parts.as_slice() {
            ["gaussian"] => Ok(Self::Gaussian),
            ["mixture", k, rest @ ..] if rest.len() <= 2 => Ok(Self::Mixture {
                components: k
                    .parse()
                    .map_err(|_| format!("prior '{s}': '{k}' is not a number of components"))?,
                radius: rest.first().map_or(Ok(4.0), |v| num(v))?,
                std: rest.get(1).map_or(Ok(0.5), |v| num(v))?,
            }),
            _ => Err(format!(
                "unknown prior '{s}': expected gaussian or mixture:K[:RADIUS[:STD]]"
            )),
        }
    }
}

/// Configuration of an [`Aae`].
///
/// ```
/// use ae_models::{AaeConfig, Autoencoder, MlpAutoencoderConfig, Prior};
/// use burn::prelude::*;
///
/// let device = Device::flex();
/// // An MLP autoencoder whose 2-d codes are matched to a mixture of 10 Gaussians.
/// let prior: Prior = "mixture:10".parse().expect("a prior");
/// let aae = AaeConfig::new(MlpAutoencoderConfig::new(784, vec![128], 2))
///     .with_prior(prior)
///     .init(&device)?;
/// let images = Tensor::<2>::random([4, 784], burn::tensor::Distribution::Default, &device);
/// let out = aae.forward(images);
/// assert_eq!(out.code.dims(), [4, 2]);
/// // Its loss terms: the reconstruction and the two adversarial phases.
/// let names: Vec<&str> = out.terms.iter().map(|t| t.name).collect();
/// assert!(names.contains(&"reconstruction") && names.contains(&"discriminator"));
/// # Ok::<(), ae_models::ConfigError>(())
/// ```
#[derive(Config, Debug)]
pub struct AaeConfig {
    /// The autoencoder whose codes are shaped (any MLP configuration, regularisers and
    /// denoising included).
    pub autoencoder: MlpAutoencoderConfig,
    /// Hidden widths of the discriminator (ReLU), which ends in one logit.
    #[config(default = "vec![256, 256]")]
    pub discriminator: Vec<usize>,
    /// The prior the codes are matched to.
    #[config(default = "Prior::Gaussian")]
    pub prior: Prior,
    /// Weight of the generator (fool-the-discriminator) term against the autoencoder's
    /// reconstruction loss. That loss is a per-pixel mean, so the default 0.003 is about
    /// 2.4 against a reconstruction summed over a 784-pixel image; much larger weights
    /// let the adversary drown the reconstruction.
    #[config(default = 0.003)]
    pub adversarial_weight: f64,
}

/// An adversarial autoencoder: an MLP autoencoder and a discriminator on its codes.
/// See the [module documentation](self) for how its phases are trained.
#[derive(Module, Debug)]
pub struct Aae {
    /// Encoder and decoder.
    pub autoencoder: MlpAutoencoder,
    /// Linear layers of the discriminator, the last one producing a logit
    /// ("this code was drawn from the prior").
    pub discriminator: Vec<Linear>,
    #[module(skip)]
    prior: Prior,
    #[module(skip)]
    adversarial_weight: f64,
}

impl AaeConfig {
    /// Checks the autoencoder, the discriminator's widths, the prior and the weight.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.autoencoder.validate()?;
        if let Some(pos) = self.discriminator.iter().position(|&w| w == 0) {
            return Err(ConfigError::new(
                "discriminator",
                format!("{:?}", self.discriminator),
                format!("positive widths (entry {pos} is 0)"),
            ));
        }
        if !(self.adversarial_weight.is_finite() && self.adversarial_weight >= 0.0) {
            return Err(ConfigError::new(
                "adversarial_weight",
                self.adversarial_weight.to_string(),
                "a finite weight ≥ 0",
            ));
        }
        self.prior.validate(self.autoencoder.latent)
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> Result<Aae, ConfigError> {
        self.validate()?;
        let mut widths = vec![self.autoencoder.latent];
        widths.extend(&self.discriminator);
        widths.push(1);
        Ok(Aae {
            autoencoder: self.autoencoder.init(device)?,
            discriminator: widths
                .windows(2)
                .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                .collect(),
            prior: self.prior,
            adversarial_weight: self.adversarial_weight,
        })
    }
}

impl Aae {
    /// The discriminator's logit that each code was drawn from the prior. With
    /// `frozen`, its weights are detached: gradients reach the codes, not the weights.
    ///
    /// # Shapes
    /// `[batch, latent]` → `[batch, 1]`.
    pub fn discriminate(&self, code: Tensor<2>, frozen: bool) -> Tensor<2> {
        let n = self.discriminator.len();
        let mut x = code;
        for (i, layer) in self.discriminator.iter().enumerate() {
            let mut weight = layer.weight.val();
            let mut bias = layer.bias.as_ref().map(|b| b.val());
            if frozen {
                weight = weight.detach();
                bias = bias.map(Tensor::detach);
            }
            x = x.matmul(weight);
            if let Some(b) = bias {
                x = x + b.unsqueeze_dim(0);
            }
            if i + 1 < n {
                x = activation::relu(x);
            }
        }
        x
    }

    /// The prior the codes are matched to.
    pub fn prior(&self) -> Prior {
        self.prior
    }

    /// `n` images decoded from codes drawn from the prior.
    pub fn sample(&self, n: usize, device: &Device) -> Tensor<2> {
        let latent = self.discriminator[0].weight.dims()[0];
        self.decode(self.prior.sample(n, latent, device))
    }
}

/// `-ln σ(z)`, the cross-entropy of logit `z` against label 1, stable for any `z`.
fn bce_label_one(logit: Tensor<2>) -> Tensor<1> {
    activation::softplus(logit.neg(), 1.0).mean()
}

/// `-ln(1 - σ(z))`, against label 0.
fn bce_label_zero(logit: Tensor<2>) -> Tensor<1> {
    activation::softplus(logit, 1.0).mean()
}

impl Autoencoder for Aae {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        self.autoencoder.encode(input)
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        self.autoencoder.decode(code)
    }

    /// The autoencoder's terms, then `discriminator` (codes detached) and `generator`
    /// (discriminator detached, times the adversarial weight).
    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        let AutoencoderOutput {
            reconstruction,
            code,
            mut terms,
            ..
        } = Autoencoder::forward(&self.autoencoder, input);
        let [batch, latent] = code.dims();
        let prior = self.prior.sample(batch, latent, &code.device());
        let discriminator = bce_label_one(self.discriminate(prior, false))
            + bce_label_zero(self.discriminate(code.clone().detach(), false));
        let generator = bce_label_one(self.discriminate(code.clone(), true));
        terms.push(LossTerm {
            name: "discriminator",
            value: discriminator,
        });
        terms.push(LossTerm {
            name: "generator",
            value: generator * self.adversarial_weight,
        });
        AutoencoderOutput::from_terms(reconstruction, code, terms)
    }
}

impl Family {
    /// Adversarial autoencoder.
    pub const AAE: Family = Family::new(&FamilySpec {
        name: "aae",
        description: "Adversarial autoencoder: an MLP autoencoder whose codes a discriminator matches to a prior",
        sampling: Sampling::ContinuousPrior,
        // As is usual for adversarial training (Radford et al., 2016).
        beta1: 0.5,
        // The MLP's default, with a code of 8 for images.
        defaults: |shape| Some(AaeConfig::new(MlpAutoencoderConfig::for_shape(shape, 8)).into()),
        ..FamilySpec::ORDINARY
    });
}

impl FamilyConfig for AaeConfig {
    fn family(&self) -> Family {
        Family::AAE
    }

    fn input_size(&self) -> usize {
        self.autoencoder.input_size
    }

    fn latent(&self) -> usize {
        self.autoencoder.latent
    }

    fn size(&self) -> Result<ModelSize, ConfigError> {
        let mut discriminator = vec![self.autoencoder.latent];
        discriminator.extend(&self.discriminator);
        discriminator.push(1);
        let autoencoder = &self.autoencoder;
        Ok(size::mlp(&autoencoder.encoder_widths(), autoencoder.bias)
            .add(size::dense(&discriminator, true)))
    }

    fn loss_terms(&self) -> Vec<&'static str> {
        let mut names = self.autoencoder.regularization.loss_terms();
        names.extend(["discriminator", "generator"]);
        names
    }

    fn first_layer_is_code(&self) -> bool {
        self.autoencoder.hidden.is_empty()
    }
}

impl FamilyModel for Aae {
    fn sample(&self, n: usize, device: &Device) -> Option<Tensor<2>> {
        Some(Aae::sample(self, n, device))
    }

    fn first_dense_layer(&self) -> Option<&Linear> {
        self.autoencoder.encoder.first()
    }
}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;
    use crate::testing::{first_last, save_load, test_images, train_on_sample};
    use burn::optim::GradientsParams;

    fn config() -> AaeConfig {
        AaeConfig::new(MlpAutoencoderConfig::new(784, vec![128], 4)).with_discriminator(vec![64])
    }

    /// Gradients of one named term of a fresh forward pass (burn consumes the graph
    /// in a backward pass), counted as (encoder, decoder, discriminator) tensors.
    fn grads_of(model: &Aae, x: &Tensor<2>, term: &str) -> (usize, usize, usize) {
        let out = model.forward(x.clone());
        let value = out
            .terms
            .iter()
            .find(|t| t.name == term)
            .map(|t| t.value.clone())
            .unwrap_or_else(|| panic!("term {term} reported"));
        let mut grads = value.backward();
        (
            GradientsParams::from_module(&mut grads, &model.autoencoder.encoder).len(),
            GradientsParams::from_module(&mut grads, &model.autoencoder.decoder).len(),
            GradientsParams::from_module(&mut grads, &model.discriminator).len(),
        )
    }

    #[test]
    fn each_phase_reaches_only_its_own_parameters() {
        let device = Device::ndarray().autodiff();
        let _seeded = crate::testing::seeded(&device, 3);
        let model = config().init(&device).expect("valid config");
        let x = Tensor::<2>::random([8, 784], Distribution::Default, &device);
        // Encoder and decoder: 2 layers each, weight and bias: 4 tensors each;
        // discriminator: 2 layers, 4 tensors.
        assert_eq!(grads_of(&model, &x, "reconstruction"), (4, 4, 0));
        assert_eq!(grads_of(&model, &x, "discriminator"), (0, 0, 4));
        assert_eq!(grads_of(&model, &x, "generator"), (4, 0, 0));
    }

    #[test]
    fn mixture_prior_has_its_centres_on_the_circle() {
        let device = Device::ndarray();
        let _seeded = crate::testing::seeded(&device, 5);
        let prior: Prior = "mixture:4:3:0.01".parse().expect("valid prior");
        let z = prior.sample(400, 3, &device);
        let v = z.into_data().try_into_vec::<f32>().expect("f32 data");
        for row in v.chunks(3) {
            let r = (row[0] * row[0] + row[1] * row[1]).sqrt();
            assert!((r - 3.0).abs() < 0.1, "radius {r}");
            assert!(row[2].abs() < 0.1, "third dimension {}", row[2]);
            // Centres at angles 0, 90, 180, 270 degrees: one coordinate is near 0.
            assert!(row[0].abs().min(row[1].abs()) < 0.1, "{row:?}");
        }
        assert!(
            "mixture:0"
                .parse::<Prior>()
                .expect("parses")
                .validate(2)
                .is_err()
        );
        assert!(
            "mixture:10"
                .parse::<Prior>()
                .expect("parses")
                .validate(1)
                .is_err()
        );
        assert!("uniform".parse::<Prior>().is_err());
    }

    #[test]
    fn loss_falls_on_real_images_and_save_load_is_identical() {
        let device = Device::ndarray().autodiff();
        let _seeded = crate::testing::seeded(&device, 13);
        let model = config().init(&device).expect("valid config");
        let (model, rec) = train_on_sample(model, &device, 80, 1e-3, Some("reconstruction"));
        let (first, last) = first_last(&rec, 5);
        assert!(last < 0.6 * first, "reconstruction {first} -> {last}");

        let plain = device.clone().without_autodiff();
        let model = model.valid();
        let loaded = save_load(&model, config().init(&plain).expect("valid config"));
        let codes = model.encode(test_images(3, &plain));
        codes
            .clone()
            .into_data()
            .assert_eq(&loaded.encode(test_images(3, &plain)).into_data(), true);
        model
            .discriminate(codes.clone(), false)
            .into_data()
            .assert_eq(&loaded.discriminate(codes, false).into_data(), true);
    }
}
