//! TopK sparse autoencoders, as trained on network activations (Gao et al., 2024,
//! "Scaling and evaluating sparse autoencoders").
//!
//! `z = ReLU(TopK(W_enc (x − b_pre) + b_enc))`, `x̂ = W_dec z + b_pre`: the code keeps
//! the k largest pre-activations of each sample, the decoder's rows (the dictionary's
//! atoms, one per latent) are used at unit norm whatever the weights' scale, so a
//! latent's size is its activation alone, and the encoder starts as the decoder's
//! transpose. `b_pre` is a learned bias taken off the input first; [`TopKSae::centred_on`]
//! starts it at the data's mean.
//!
//! A latent that has not fired for `dead_after` training samples counts as dead. The
//! auxiliary loss gives the dead ones a gradient: their `aux_k` largest pre-activations
//! (without the ReLU, which would give a latent that only ever falls below zero no
//! gradient) reconstruct what the live code left over, `aux_weight · mean (e − ê)²` with
//! `e = x − x̂` held fixed (zero when no latent is dead). k can be annealed from a
//! larger value over the first training samples. Besides the loss, every forward pass
//! reports three measures that are not part of it: `l0` (active latents per sample),
//! `fvu` (the fraction of the batch's variance left unexplained) and `dead` (the
//! fraction of latents dead).

use burn::module::{Param, RunningState};
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::any::{FamilyConfig, FamilyModel};
use crate::family::FamilySpec;
use crate::output::LossTerm;
use crate::regularize::k_sparse;
use crate::size::{self, ModelSize};
use crate::{AnyAutoencoder, Autoencoder, AutoencoderOutput, ConfigError, Family};

/// k lowered linearly from `start` to the configured k over the first `samples`
/// training samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KAnneal {
    /// The k of the first step, at least the final k and at most the code size.
    pub start: usize,
    /// Training samples over which k falls to its final value.
    pub samples: usize,
}

/// Configuration of a [`TopKSae`].
///
/// ```
/// use ae_models::{Autoencoder, TopKSaeConfig};
/// use burn::prelude::*;
///
/// let device = Device::flex();
/// // 64 values per sample, a dictionary of 256 latents, 8 active per sample.
/// let model = TopKSaeConfig::new(64, 256, 8).init(&device)?;
/// let x = Tensor::<2>::random([4, 64], burn::tensor::Distribution::Default, &device);
/// let code = model.encode(x);
/// assert_eq!(code.dims(), [4, 256]);
/// let active = code.greater_elem(0.0).float().sum_dim(1).into_data().to_vec::<f32>().unwrap();
/// assert!(active.iter().all(|&n| n <= 8.0));
/// // k may not exceed the dictionary.
/// assert_eq!(TopKSaeConfig::new(64, 256, 300).validate().unwrap_err().field, "k");
/// # Ok::<(), ae_models::ConfigError>(())
/// ```
#[derive(Config, Debug)]
pub struct TopKSaeConfig {
    /// Values per sample (the width of the activations it decomposes).
    pub input_size: usize,
    /// Latents: the size of the dictionary and of the code.
    pub latent: usize,
    /// Latents active per sample.
    pub k: usize,
    /// k annealed from a larger value at the start of training.
    #[config(default = "None")]
    pub k_anneal: Option<KAnneal>,
    /// Dead latents the auxiliary loss uses per sample; `None`: half the input size
    /// (Gao et al.), at most the code size.
    #[config(default = "None")]
    pub aux_k: Option<usize>,
    /// Weight α of the auxiliary loss (1/32 in the paper).
    #[config(default = 0.03125)]
    pub aux_weight: f64,
    /// Training samples without firing after which a latent counts as dead.
    #[config(default = 10000)]
    pub dead_after: usize,
}

/// A TopK sparse autoencoder. Build it with [`TopKSaeConfig::init`]; inputs are
/// `[batch, input_size]`.
#[derive(Module, Debug)]
pub struct TopKSae {
    /// `b_pre`, taken off the input before encoding and added back after decoding,
    /// `[input_size]`.
    pub pre_bias: Param<Tensor<1>>,
    /// `W_enc`, `b_enc`: input → pre-activations of the latents.
    pub encoder: Linear,
    /// The decoder's atoms, one row per latent, `[latent, input_size]`, used at unit
    /// norm.
    pub decoder: Param<Tensor<2>>,
    /// Training samples since each latent last fired, `[latent]`.
    pub since_fired: RunningState<Tensor<1>>,
    /// Training samples seen, `[1]` (it drives the annealing of k).
    pub seen: RunningState<Tensor<1>>,
    #[module(skip)]
    k: usize,
    #[module(skip)]
    k_anneal: Option<KAnneal>,
    #[module(skip)]
    aux_k: usize,
    #[module(skip)]
    aux_weight: f64,
    #[module(skip)]
    dead_after: usize,
}

impl TopKSaeConfig {
    /// Checks the sizes, k against the code, the annealing, the auxiliary loss and the
    /// dead window.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("input_size", self.input_size),
            ("latent", self.latent),
            ("dead_after", self.dead_after),
        ] {
            if value == 0 {
                return Err(ConfigError::new(field, "0", "a positive size"));
            }
        }
        let latent = self.latent;
        if self.k == 0 || self.k > latent {
            return Err(ConfigError::new(
                "k",
                self.k.to_string(),
                format!("1 ≤ k ≤ latent ({latent})"),
            ));
        }
        if let Some(a) = self.k_anneal {
            if a.start < self.k || a.start > latent {
                return Err(ConfigError::new(
                    "k_anneal.start",
                    a.start.to_string(),
                    format!("k ({}) ≤ start ≤ latent ({latent})", self.k),
                ));
            }
            if a.samples == 0 {
                return Err(ConfigError::new(
                    "k_anneal.samples",
                    "0",
                    "a positive number of training samples",
                ));
            }
        }
        if let Some(aux) = self.aux_k
            && (aux == 0 || aux > latent)
        {
            return Err(ConfigError::new(
                "aux_k",
                aux.to_string(),
                format!("1 ≤ aux_k ≤ latent ({latent})"),
            ));
        }
        if !(self.aux_weight.is_finite() && self.aux_weight >= 0.0) {
            return Err(ConfigError::new(
                "aux_weight",
                self.aux_weight.to_string(),
                "a finite weight ≥ 0",
            ));
        }
        Ok(())
    }

    /// The default k of a dictionary of `latent` latents: one in 32 active.
    pub fn default_k(latent: usize) -> usize {
        (latent / 32).max(1)
    }

    /// The dead latents the auxiliary loss uses per sample.
    pub fn aux_latents(&self) -> usize {
        self.aux_k
            .unwrap_or(self.input_size / 2)
            .clamp(1, self.latent.max(1))
    }

    /// Builds the model on `device`: atoms in random directions at unit norm, the
    /// encoder their transpose with a zero bias, `b_pre` zero.
    pub fn init(&self, device: &Device) -> Result<TopKSae, ConfigError> {
        self.validate()?;
        let (d, n) = (self.input_size, self.latent);
        let atoms = unit_rows(Tensor::random(
            [n, d],
            Distribution::Normal(0.0, 1.0),
            device,
        ));
        let encoder = Linear {
            weight: Param::from_tensor(atoms.clone().transpose()),
            bias: Some(Param::from_tensor(Tensor::zeros([n], device))),
        };
        Ok(TopKSae {
            pre_bias: Param::from_tensor(Tensor::zeros([d], device)),
            encoder,
            decoder: Param::from_tensor(atoms),
            since_fired: RunningState::new(Tensor::zeros([n], device)),
            seen: RunningState::new(Tensor::zeros([1], device)),
            k: self.k,
            k_anneal: self.k_anneal,
            aux_k: self.aux_latents(),
            aux_weight: self.aux_weight,
            dead_after: self.dead_after,
        })
    }
}

/// Each row of `w` divided by its norm.
fn unit_rows(w: Tensor<2>) -> Tensor<2> {
    let norms = w.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
    w / norms
}

impl TopKSae {
    /// The model with `b_pre` at the mean of `samples` (`[n, input_size]`), the start
    /// Gao et al. give it (they take the geometric median).
    pub fn centred_on(mut self, samples: Tensor<2>) -> Self {
        let mean = samples.mean_dim(0).squeeze_dim::<1>(0).detach();
        let device = self.pre_bias.val().device();
        self.pre_bias = Param::from_tensor(mean.to_device(&device));
        self
    }

    /// The atoms at unit norm, `[latent, input_size]`: the directions each latent adds
    /// to a reconstruction.
    pub fn atoms(&self) -> Tensor<2> {
        unit_rows(self.decoder.val())
    }

    /// The k in force: the configured one, or while k is annealed the value for the
    /// training samples seen so far.
    pub fn current_k(&self) -> usize {
        let Some(anneal) = self.k_anneal else {
            return self.k;
        };
        let seen = self.seen.value().into_scalar::<f32>() as f64;
        let done = (seen / anneal.samples as f64).min(1.0);
        let k = anneal.start as f64 - (anneal.start - self.k) as f64 * done;
        (k.round() as usize).clamp(self.k, anneal.start)
    }

    /// The latents dead now, `[latent]` (1 dead, 0 live).
    pub fn dead(&self, device: &Device) -> Tensor<1> {
        let since = self.since_fired.value().to_device(device);
        since.greater_equal_elem(self.dead_after as f32).float()
    }

    fn pre_activations(&self, input: Tensor<2>) -> Tensor<2> {
        let centred = input - self.pre_bias.val().unsqueeze_dim(0);
        self.encoder.forward(centred)
    }

    /// Counts the training samples of a batch and the latents that fired in it.
    fn record(&self, code: &Tensor<2>, batch: usize) {
        let device = code.device();
        let fired = code.clone().detach().greater_elem(0.0).int().sum_dim(0);
        let fired = fired.squeeze_dim::<1>(0).greater_elem(0).float();
        let since = self.since_fired.value_sync().to_device(&device);
        self.since_fired
            .update(((since + batch as f32) * (fired.neg() + 1.0)).detach());
        let seen = self.seen.value_sync().to_device(&device);
        self.seen.update((seen + batch as f32).detach());
    }
}

impl Autoencoder for TopKSae {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        relu(k_sparse(self.pre_activations(input), self.current_k()))
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        code.matmul(self.atoms()) + self.pre_bias.val().unsqueeze_dim(0)
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        let [batch, _] = input.dims();
        let device = input.device();
        let pre = self.pre_activations(input.clone());
        let code = relu(k_sparse(pre.clone(), self.current_k()));
        let atoms = self.atoms();
        let reconstruction =
            code.clone().matmul(atoms.clone()) + self.pre_bias.val().unsqueeze_dim(0);
        let residual = input.clone() - reconstruction.clone();
        let squared = residual.clone().powi_scalar(2);

        // The dead latents' largest pre-activations predict the residual, as they are:
        // no ReLU, so that a latent whose pre-activations are all negative still gets
        // the gradient that raises it. The live ones are pushed far below, so that
        // TopK takes them last, and zeroed when it does.
        let dead = self.dead(&device);
        let any_dead = dead.clone().max();
        let live = dead.clone().neg() + 1.0;
        let masked = pre - live.unsqueeze_dim(0) * 1e9;
        let aux_code = k_sparse(masked, self.aux_k) * dead.clone().unsqueeze_dim(0);
        let predicted = aux_code.matmul(atoms);
        let aux =
            (predicted - residual.detach()).powi_scalar(2).mean() * any_dead * self.aux_weight;

        let active = code.clone().detach().greater_elem(0.0).float();
        let spread = (input.clone() - input.mean_dim(0)).powi_scalar(2).sum();
        let measures = vec![
            LossTerm {
                name: "l0",
                value: active.sum_dim(1).mean(),
            },
            LossTerm {
                name: "fvu",
                value: (squared.clone().sum() / spread.clamp_min(1e-12)).detach(),
            },
            LossTerm {
                name: "dead",
                value: dead.mean(),
            },
        ];
        if device.is_autodiff() {
            self.record(&code, batch);
        }
        let terms = vec![
            LossTerm {
                name: "reconstruction",
                value: squared.mean(),
            },
            LossTerm {
                name: "auxiliary",
                value: aux,
            },
        ];
        AutoencoderOutput::from_terms(reconstruction, code, terms).with_measures(measures)
    }
}

impl Family {
    /// TopK sparse autoencoder.
    pub const TOPK_SAE: Family = Family::new(&FamilySpec {
        name: "topk-sae",
        description: "TopK sparse autoencoder (Gao et al. 2024): an overcomplete dictionary, k latents active per sample",
        // Any input as a vector of d values: a dictionary of 4d latents (16 to 1024),
        // 1/32 of them active per sample.
        defaults: |shape| {
            let features = shape.features();
            let latent = (4 * features).clamp(16, 1024);
            let k = TopKSaeConfig::default_k(latent);
            Some(TopKSaeConfig::new(features, latent, k).into())
        },
        ..FamilySpec::ORDINARY
    });
}

impl FamilyConfig for TopKSaeConfig {
    fn family(&self) -> Family {
        Family::TOPK_SAE
    }

    fn input_size(&self) -> usize {
        self.input_size
    }

    fn latent(&self) -> usize {
        self.latent
    }

    fn size(&self) -> Result<ModelSize, ConfigError> {
        // b_pre, the encoder with its bias, the atoms; and the counters of the samples
        // since each latent fired and of those seen (stored with the weights, as burn
        // counts them, though not trained).
        let (d, n) = (self.input_size, self.latent);
        Ok(size::dense(&[d, n], true)
            .add(size::dense(&[n, d], false))
            .add(ModelSize {
                parameters: (d + n + 1) as u64,
                ..ModelSize::default()
            }))
    }

    fn loss_terms(&self) -> Vec<&'static str> {
        vec!["reconstruction", "auxiliary"]
    }

    fn measures(&self) -> Vec<&'static str> {
        vec!["l0", "fvu", "dead"]
    }

    fn first_layer_is_code(&self) -> bool {
        true
    }
}

impl FamilyModel for TopKSae {
    fn first_dense_layer(&self) -> Option<&Linear> {
        Some(&self.encoder)
    }

    fn linear_decoder_basis(&self) -> Option<Tensor<2>> {
        Some(self.atoms())
    }

    fn initialised_from(&self, samples: Tensor<2>) -> Option<AnyAutoencoder> {
        Some(self.clone().centred_on(samples).into())
    }

    fn initialises_from_data(&self) -> bool {
        true
    }
}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;
    use crate::testing::{
        assert_saves_identically, first_last, term, test_images, train_on_sample,
    };

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().to_vec::<f32>().expect("floats")
    }

    #[test]
    fn codes_have_k_active_latents_and_atoms_unit_norm() {
        let device = Device::ndarray();
        let _seeded = crate::testing::seeded(&device, 5);
        let model = TopKSaeConfig::new(784, 256, 12)
            .init(&device)
            .expect("valid");
        // The encoder starts as the atoms' transpose, the atoms at unit norm.
        let atoms = model.atoms();
        atoms
            .clone()
            .transpose()
            .into_data()
            .assert_approx_eq::<f32>(&model.encoder.weight.val().into_data(), Default::default());
        let norms = values(atoms.powi_scalar(2).sum_dim(1));
        assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-4), "{norms:?}");
        let x = test_images(8, &device);
        let code = values(model.encode(x.clone()));
        for row in code.chunks(256) {
            let active = row.iter().filter(|&&v| v > 0.0).count();
            assert!((1..=12).contains(&active), "{active} active");
            assert!(row.iter().all(|&v| v >= 0.0));
        }
        // The pre-encoder bias starts at the data's mean.
        let centred = model.centred_on(x.clone());
        let mean = values(x.mean_dim(0));
        let bias = centred
            .pre_bias
            .val()
            .into_data()
            .to_vec::<f32>()
            .expect("floats");
        assert_eq!(bias, mean);
        let out = centred.forward(test_images(8, &device));
        assert_eq!(term(&out, "dead"), 0.0, "no latent is dead before training");
        assert!(term(&out, "l0") <= 12.0);
        assert_eq!(
            term(&out, "auxiliary"),
            0.0,
            "no dead latent, no auxiliary loss"
        );
    }

    #[test]
    fn it_learns_real_images_and_saves_identically() {
        let device = Device::ndarray().autodiff();
        let _seeded = crate::testing::seeded(&device, 11);
        let config = || TopKSaeConfig::new(784, 256, 16).with_dead_after(2000);
        let start = config().init(&device).expect("valid");
        let start = start.centred_on(test_images(64, &device));
        let (model, fvu) = train_on_sample(start, &device, 300, 1e-3, Some("fvu"));
        let (first, last) = first_last(&fvu, 5);
        println!("fvu {first} -> {last}");
        assert!(last < 0.5 * first && last < 0.3, "fvu {first} -> {last}");

        let plain = device.clone().without_autodiff();
        let model = model.valid();
        let loaded = assert_saves_identically(&model, config().init(&plain).expect("valid"));
        // The counters travel with the weights.
        model
            .since_fired
            .value()
            .into_data()
            .assert_eq(&loaded.since_fired.value().into_data(), true);
    }

    /// Trains with 32 latents that cannot fire: zero encoder weights and a bias of
    /// -0.5, every pre-activation below zero. They count as dead after `dead_after`
    /// samples, and only the auxiliary loss moves their encoder weights (it would not
    /// if it took their pre-activations through the ReLU).
    fn dead_latents_trained(aux_weight: f64) -> (f32, f32, f32) {
        let device = Device::ndarray().autodiff();
        let _seeded = crate::testing::seeded(&device, 17);
        let mut model = TopKSaeConfig::new(784, 64, 4)
            .with_dead_after(256)
            .with_aux_weight(aux_weight)
            .init(&device)
            .expect("valid");
        let live: Vec<f32> = (0..64).map(|j| if j < 32 { 0.0 } else { 1.0 }).collect();
        let live = Tensor::<1>::from_floats(live.as_slice(), &device);
        let weight = model.encoder.weight.val() * live.clone().unsqueeze_dim(0);
        model.encoder.weight = Param::from_tensor(weight.detach());
        let bias = (live.clone().neg() + 1.0) * -0.5;
        model.encoder.bias = Some(Param::from_tensor(bias.detach()));
        let before = model.encoder.weight.val().slice([0..784, 0..32]);
        let (model, aux) = train_on_sample(model, &device, 12, 1e-2, Some("auxiliary"));
        let after = model.encoder.weight.val().slice([0..784, 0..32]);
        let moved = (after - before).abs().max().into_scalar::<f32>();
        let dead = model.dead(&device).mean().into_scalar::<f32>();
        (dead, aux.iter().copied().fold(0.0, f32::max), moved)
    }

    #[test]
    fn dead_latents_are_counted_and_only_the_auxiliary_loss_reaches_them() {
        let (dead, aux, moved) = dead_latents_trained(1.0 / 32.0);
        println!("with the auxiliary loss: dead {dead}, aux {aux}, moved {moved}");
        assert!(aux > 0.0, "auxiliary loss {aux}");
        assert!(
            moved > 1e-4,
            "the dead latents' encoder weights moved {moved}"
        );
        // Negative control: without the auxiliary loss they get no gradient at all.
        let (dead_without, aux, moved) = dead_latents_trained(0.0);
        assert!(
            dead_without >= 0.5,
            "the 32 latents that cannot fire are dead: {dead_without}"
        );
        assert!(dead <= dead_without, "{dead} against {dead_without}");
        assert_eq!((aux, moved), (0.0, 0.0));
    }

    #[test]
    fn k_anneals_from_its_start_to_its_value() {
        let device = Device::ndarray().autodiff();
        let model = TopKSaeConfig::new(784, 128, 8)
            .with_k_anneal(Some(KAnneal {
                start: 64,
                samples: 256,
            }))
            .init(&device)
            .expect("valid");
        let mut ks = vec![model.current_k()];
        let x = test_images(64, &device);
        for _ in 0..5 {
            let out = model.forward(x.clone());
            let _ = out.loss.backward();
            ks.push(model.current_k());
        }
        // The count of a step is seen by the next one (burn's running state lags by
        // one update on the thread that wrote it).
        assert_eq!(ks[0], 64);
        assert!(ks.windows(2).all(|w| w[1] <= w[0]), "{ks:?}");
        assert_eq!(*ks.last().expect("k"), 8, "{ks:?}");
        let active = values(model.encode(x.slice([0..4, 0..784])));
        assert!(
            active
                .chunks(128)
                .all(|r| r.iter().filter(|&&v| v > 0.0).count() <= 8)
        );
    }

    #[test]
    fn configurations_that_cannot_work_are_named() {
        let base = || TopKSaeConfig::new(64, 128, 8);
        let field = |c: TopKSaeConfig| c.validate().expect_err("invalid").field;
        assert_eq!(field(TopKSaeConfig::new(64, 128, 0)), "k");
        assert_eq!(field(TopKSaeConfig::new(64, 128, 129)), "k");
        assert_eq!(field(TopKSaeConfig::new(64, 0, 1)), "latent");
        assert_eq!(field(base().with_dead_after(0)), "dead_after");
        assert_eq!(field(base().with_aux_k(Some(200))), "aux_k");
        assert_eq!(field(base().with_aux_weight(-1.0)), "aux_weight");
        let anneal = |start, samples| base().with_k_anneal(Some(KAnneal { start, samples }));
        assert_eq!(field(anneal(4, 100)), "k_anneal.start");
        assert_eq!(field(anneal(200, 100)), "k_anneal.start");
        assert_eq!(field(anneal(16, 0)), "k_anneal.samples");
        let err = TopKSaeConfig::new(64, 128, 0)
            .validate()
            .expect_err("k")
            .to_string();
        assert!(err.contains("1 ≤ k ≤ latent (128)"), "{err}");
        assert_eq!(base().aux_latents(), 32, "half the input");
    }
}
