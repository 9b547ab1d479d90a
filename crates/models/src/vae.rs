//! Variational autoencoders (Kingma & Welling, 2014) on an MLP encoder and decoder.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::Distribution;

use crate::{Activation, Autoencoder, AutoencoderOutput, ConfigError, LossTerm, Reconstruction};

/// A diagonal Gaussian over codes: the VAE encoder's output.
#[derive(Clone, Debug)]
pub struct Gaussian {
    /// Mean, `[batch, latent]`.
    pub mean: Tensor<2>,
    /// Log-variance, `[batch, latent]`.
    pub log_var: Tensor<2>,
}

impl Gaussian {
    /// A sample by reparameterisation, `mean + exp(log_var / 2) · ε`, `ε ~ N(0, I)`.
    pub fn sample(&self) -> Tensor<2> {
        let eps = Tensor::random(
            self.mean.shape(),
            Distribution::Normal(0.0, 1.0),
            &self.mean.device(),
        );
        self.mean.clone() + (self.log_var.clone() * 0.5).exp() * eps
    }

    /// `KL(q ‖ N(0, I))` of each sample, summed over the code, `[batch]`.
    pub fn kl(&self) -> Tensor<1> {
        let terms = self.log_var.clone().exp() + self.mean.clone().powi_scalar(2)
            - self.log_var.clone()
            - 1.0;
        terms.sum_dim(1).squeeze_dim(1) * 0.5
    }
}

/// Configuration of a [`Vae`].
#[derive(Config, Debug)]
pub struct VaeConfig {
    /// Number of input features (pixels).
    pub input_size: usize,
    /// Hidden widths of the encoder, from the input inwards; the decoder mirrors them.
    pub hidden: Vec<usize>,
    /// Size of the code.
    pub latent: usize,
    /// Activation after every hidden layer.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Likelihood of the pixels: Bernoulli (`Bce`) or Gaussian with unit variance (`Mse`,
    /// the squared error halved).
    #[config(default = "Reconstruction::Bce")]
    pub reconstruction: Reconstruction,
    /// Weight β of the KL term (β-VAE; 1 is the ELBO).
    #[config(default = 1.0)]
    pub beta: f64,
}

/// A variational autoencoder. Its loss is per sample: the negative log-likelihood
/// summed over pixels plus β · KL, averaged over the batch.
#[derive(Module, Debug)]
pub struct Vae {
    /// Encoder trunk: `input → hidden…`.
    pub encoder: Vec<Linear>,
    /// Head producing the mean.
    pub mean: Linear,
    /// Head producing the log-variance.
    pub log_var: Linear,
    /// Decoder: `latent → hidden… → input`.
    pub decoder: Vec<Linear>,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    reconstruction: Reconstruction,
    #[module(skip)]
    beta: f64,
}

impl VaeConfig {
    /// Checks sizes and β.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.input_size == 0 {
            return Err(ConfigError::new(
                "input_size",
                "0",
                "a positive number of features",
            ));
        }
        if self.latent == 0 {
            return Err(ConfigError::new("latent", "0", "a positive code size"));
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(ConfigError::new(
                "hidden",
                format!("{:?}", self.hidden),
                "one or more positive widths",
            ));
        }
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return Err(ConfigError::new(
                "beta",
                self.beta.to_string(),
                "a finite weight ≥ 0",
            ));
        }
        Ok(())
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> Result<Vae, ConfigError> {
        self.validate()?;
        let linear = |i, o| LinearConfig::new(i, o).init(device);
        let mut widths = vec![self.input_size];
        widths.extend(&self.hidden);
        let encoder = widths.windows(2).map(|w| linear(w[0], w[1])).collect();
        let last = *widths.last().unwrap_or(&self.input_size);
        let mut up = vec![self.latent];
        up.extend(self.hidden.iter().rev());
        up.push(self.input_size);
        let decoder = up.windows(2).map(|w| linear(w[0], w[1])).collect();
        Ok(Vae {
            encoder,
            mean: linear(last, self.latent),
            log_var: linear(last, self.latent),
            decoder,
            activation: self.activation,
            reconstruction: self.reconstruction,
            beta: self.beta,
        })
    }
}

impl Vae {
    /// The approximate posterior of each input.
    ///
    /// # Shapes
    /// `[batch, features]` → mean and log-variance `[batch, latent]`.
    pub fn posterior(&self, input: Tensor<2>) -> Gaussian {
        let h = self
            .encoder
            .iter()
            .fold(input, |x, l| self.activation.forward(l.forward(x)));
        Gaussian {
            mean: self.mean.forward(h.clone()),
            log_var: self.log_var.forward(h),
        }
    }

    /// The decoder's logits and probabilities.
    fn decode_with_logits(&self, code: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let n = self.decoder.len();
        let h = self.decoder[..n - 1]
            .iter()
            .fold(code, |x, l| self.activation.forward(l.forward(x)));
        let pre = self.decoder[n - 1].forward(h);
        (pre.clone(), Activation::Sigmoid.forward(pre))
    }

    /// `n` images decoded from codes drawn from the prior `N(0, I)`.
    pub fn sample(&self, n: usize, device: &Device) -> Tensor<2> {
        let latent = self.mean.weight.dims()[1];
        self.decode(Tensor::random(
            [n, latent],
            Distribution::Normal(0.0, 1.0),
            device,
        ))
    }
}

impl Autoencoder for Vae {
    /// The posterior mean: a deterministic code.
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        self.posterior(input).mean
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        self.decode_with_logits(code).1
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        let q = self.posterior(input.clone());
        let z = q.sample();
        let (pre, reconstruction) = self.decode_with_logits(z);
        let mut nll = self.reconstruction.elementwise(
            pre,
            reconstruction.clone(),
            input,
            Activation::Sigmoid,
        );
        if self.reconstruction == Reconstruction::Mse {
            nll = nll * 0.5;
        }
        let nll = nll.sum_dim(1).mean();
        let kl = q.kl().mean() * self.beta;
        let terms = vec![
            LossTerm {
                name: "reconstruction",
                value: nll,
            },
            LossTerm {
                name: "kl",
                value: kl,
            },
        ];
        AutoencoderOutput::from_terms(reconstruction, q.mean, terms)
    }
}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;
    use burn::optim::{AdamConfig, GradientsParams};

    #[test]
    fn kl_by_hand() {
        let device = Device::ndarray();
        let g = Gaussian {
            mean: Tensor::from_floats([[0.0, 1.0]], &device),
            log_var: Tensor::from_floats([[0.0, 2.0f32.ln()]], &device),
        };
        // 0.5 · [(1 + 0 - 0 - 1) + (2 + 1 - ln 2 - 1)] = 0.5 · (2 - ln 2)
        let kl: f32 = g.kl().into_scalar();
        assert!((kl - 0.5 * (2.0 - 2f32.ln())).abs() < 1e-5, "{kl}");
    }

    #[test]
    fn loss_falls_on_real_images_and_samples_have_image_shape() {
        let device = Device::ndarray().autodiff();
        device.seed(11);
        let sample = ae_data::sample::load().expect("embedded sample decodes");
        let batcher = ae_data::HostBatcher::new(std::sync::Arc::new(sample.train));
        let mut model = VaeConfig::new(784, vec![200], 8)
            .init(&device)
            .expect("valid config");
        let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
        let mut losses = Vec::new();
        for step in 0..60 {
            let idx: Vec<usize> = (step * 64 % 3968..step * 64 % 3968 + 64).collect();
            let out = model.forward(batcher.images(&idx, &device));
            losses.push(out.loss.clone().into_scalar::<f32>());
            let grads = GradientsParams::from_grads(out.loss.backward(), &model);
            model = optim.step(2e-3, model, grads);
        }
        let first: f32 = losses[..5].iter().sum::<f32>() / 5.0;
        let last: f32 = losses[losses.len() - 5..].iter().sum::<f32>() / 5.0;
        // Per-sample BCE + KL starts near 784 · ln 2 ≈ 543 nats.
        assert!(
            first > 400.0 && last < 0.75 * first,
            "ELBO loss {first} -> {last}"
        );
        assert_eq!(model.sample(5, &device).dims(), [5, 784]);
    }

    #[test]
    fn invalid_beta_is_named() {
        let err = VaeConfig::new(784, vec![400], 20)
            .with_beta(-1.0)
            .validate()
            .expect_err("negative beta");
        assert!(err.to_string().contains("beta"));
    }
}
