//! Multi-layer perceptron autoencoders.
//!
//! Vanilla, undercomplete (`latent` < `input_size`), overcomplete (`latent` >
//! `input_size`) and deep/stacked autoencoders are all configurations of
//! [`MlpAutoencoderConfig`]: the encoder is `input → hidden[0] → … → latent`,
//! the decoder mirrors it.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::any::{FamilyConfig, FamilyModel};
use crate::family::FamilySpec;
use crate::regularize::contractive_penalty;
use crate::size::{self, ModelSize};
use crate::{
    Activation, AnyAutoencoder, Autoencoder, AutoencoderOutput, ConfigError, Family, InputShape,
    LossTerm, Noise, Reconstruction, Regularization,
};

/// Configuration of an [`MlpAutoencoder`].
///
/// ```
/// use ae_models::{Autoencoder, MlpAutoencoderConfig};
/// use burn::prelude::*;
///
/// let device = Device::flex();
/// // 784 pixels → 128 → a 16-d code → 128 → 784, the defaults elsewhere.
/// let model = MlpAutoencoderConfig::new(784, vec![128], 16).init(&device)?;
/// let images = Tensor::<2>::random([8, 784], burn::tensor::Distribution::Default, &device);
/// let code = model.encode(images.clone());
/// assert_eq!(code.dims(), [8, 16]);
/// let out = model.forward(images);
/// assert_eq!(out.reconstruction.dims(), [8, 784]);
/// // A sigmoid output: every reconstructed pixel in (0, 1), and a finite loss.
/// let pixels: Vec<f32> = out.reconstruction.into_data().to_vec().expect("f32 values");
/// assert!(pixels.iter().all(|&p| p > 0.0 && p < 1.0));
/// assert!(out.loss.into_scalar::<f32>().is_finite());
/// # Ok::<(), ae_models::ConfigError>(())
/// ```
#[derive(Config, Debug)]
pub struct MlpAutoencoderConfig {
    /// Number of input features (pixels, for images).
    pub input_size: usize,
    /// Widths of the encoder's hidden layers, from the input inwards; the decoder
    /// uses them in reverse. Empty for a single-layer (shallow) autoencoder.
    pub hidden: Vec<usize>,
    /// Size of the code.
    pub latent: usize,
    /// Activation after every hidden layer.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Activation of the code layer (identity: a linear code).
    #[config(default = "Activation::Identity")]
    pub code_activation: Activation,
    /// Activation of the output layer (sigmoid for data in `[0, 1]`).
    #[config(default = "Activation::Sigmoid")]
    pub output_activation: Activation,
    /// Whether the linear layers have a bias.
    #[config(default = true)]
    pub bias: bool,
    /// The reconstruction loss.
    #[config(default = "Reconstruction::Mse")]
    pub reconstruction: Reconstruction,
    /// Corruption of the inputs during training (denoising autoencoder).
    #[config(default = "Noise::None")]
    pub noise: Noise,
    /// Sparsity, contractive and weight penalties.
    #[config(default = "Regularization::default()")]
    pub regularization: Regularization,
    /// Dropout probability after every hidden activation, in training only.
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// An MLP autoencoder. Build it with [`MlpAutoencoderConfig::init`].
#[derive(Module, Debug)]
pub struct MlpAutoencoder {
    /// Linear layers of the encoder, the last one producing the code.
    pub encoder: Vec<Linear>,
    /// Linear layers of the decoder, the last one producing the reconstruction.
    pub decoder: Vec<Linear>,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    code_activation: Activation,
    #[module(skip)]
    output_activation: Activation,
    #[module(skip)]
    reconstruction: Reconstruction,
    #[module(skip)]
    noise: Noise,
    #[module(skip)]
    regularization: Regularization,
    dropout: Dropout,
}

impl MlpAutoencoderConfig {
    /// Checks the sizes: every width positive.
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
        if let Some(pos) = self.hidden.iter().position(|&w| w == 0) {
            return Err(ConfigError::new(
                "hidden",
                format!("{:?}", self.hidden),
                format!("positive widths (entry {pos} is 0)"),
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(ConfigError::new(
                "dropout",
                self.dropout.to_string(),
                "a probability in [0, 1)",
            ));
        }
        self.noise.validate()?;
        self.reconstruction.validate(self.output_activation)?;
        self.regularization
            .validate(self.latent, self.code_activation)
    }

    /// Layer widths from the input to the code: `[input, hidden…, latent]`.
    pub fn encoder_widths(&self) -> Vec<usize> {
        let mut widths = vec![self.input_size];
        widths.extend(&self.hidden);
        widths.push(self.latent);
        widths
    }

    /// Builds the model on `device` after [`validate`](Self::validate).
    pub fn init(&self, device: &Device) -> Result<MlpAutoencoder, ConfigError> {
        self.validate()?;
        let widths = self.encoder_widths();
        let layers = |pairs: Vec<(usize, usize)>| -> Vec<Linear> {
            pairs
                .into_iter()
                .map(|(i, o)| LinearConfig::new(i, o).with_bias(self.bias).init(device))
                .collect()
        };
        let down: Vec<_> = widths.windows(2).map(|w| (w[0], w[1])).collect();
        let up: Vec<_> = down.iter().rev().map(|&(i, o)| (o, i)).collect();
        Ok(MlpAutoencoder {
            encoder: layers(down),
            decoder: layers(up),
            activation: self.activation,
            code_activation: self.code_activation,
            output_activation: self.output_activation,
            reconstruction: self.reconstruction,
            noise: self.noise,
            regularization: self.regularization.clone(),
            dropout: DropoutConfig::new(self.dropout).init(),
        })
    }
}

impl MlpAutoencoder {
    /// Runs `layers`, with `hidden` (then dropout) after every layer but the last and
    /// `last` after it; returns the last layer's output before and after `last`.
    fn stack(&self, layers: &[Linear], x: Tensor<2>, last: Activation) -> (Tensor<2>, Tensor<2>) {
        let n = layers.len();
        let mut x = x;
        for layer in &layers[..n - 1] {
            x = self
                .dropout
                .forward(self.activation.forward(layer.forward(x)));
        }
        let pre = layers[n - 1].forward(x);
        (pre.clone(), last.forward(pre))
    }

    /// The decoder's output before and after the output activation.
    ///
    /// # Shapes
    /// `[batch, latent]` → two `[batch, features]`.
    pub fn decode_with_logits(&self, code: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        self.stack(&self.decoder, code, self.output_activation)
    }

    /// The activation of the output layer.
    pub fn output_activation(&self) -> Activation {
        self.output_activation
    }

    /// The reconstruction loss this model was configured with.
    pub fn reconstruction(&self) -> Reconstruction {
        self.reconstruction
    }

    /// Number of layer pairs: encoder layer `i` and its mirror, decoder layer
    /// `depth - 1 - i`.
    pub fn depth(&self) -> usize {
        self.encoder.len()
    }

    /// The shallow autoencoder of layer pair `layer`, for greedy layer-wise
    /// pretraining (Bengio et al., 2007): the input is run through the (frozen,
    /// detached) encoder layers before `layer`; encoder layer `layer` encodes it and
    /// its mirror decodes it. Returns the pair's input (the target) and its output;
    /// gradients reach only the pair's two layers. The outermost pair uses the
    /// model's output activation and loss, inner pairs reconstruct hidden activations
    /// with the hidden activation and squared error. Noise, dropout, code constraints
    /// and regularisers are left to fine-tuning.
    ///
    /// # Shapes
    /// `[batch, features]` → target and reconstruction `[batch, width of the pair's input]`.
    pub fn layer_pair(&self, input: Tensor<2>, layer: usize) -> (Tensor<2>, AutoencoderOutput) {
        let n = self.depth();
        let target = self.encoder[..layer]
            .iter()
            .fold(input, |x, l| self.activation.forward(l.forward(x)))
            .detach();
        let code_activation = if layer + 1 == n {
            self.code_activation
        } else {
            self.activation
        };
        let code = code_activation.forward(self.encoder[layer].forward(target.clone()));
        let pre = self.decoder[n - 1 - layer].forward(code.clone());
        let (out_activation, loss) = if layer == 0 {
            (self.output_activation, self.reconstruction)
        } else {
            (self.activation, Reconstruction::Mse)
        };
        let reconstruction = out_activation.forward(pre.clone());
        let rec = loss.mean(pre, reconstruction.clone(), target.clone(), out_activation);
        let terms = vec![LossTerm {
            name: "reconstruction",
            value: rec,
        }];
        let output = AutoencoderOutput::from_terms(reconstruction, code, terms);
        (target, output)
    }
}

impl Autoencoder for MlpAutoencoder {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        let code = self.stack(&self.encoder, input, self.code_activation).1;
        self.regularization.constrain_code(code)
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        self.decode_with_logits(code).1
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        let corrupted = self
            .noise
            .corrupt_in_training(input.clone(), self.output_activation);
        let code = self.encode(corrupted);
        let (pre, reconstruction) = self.decode_with_logits(code.clone());
        let rec =
            self.reconstruction
                .mean(pre, reconstruction.clone(), input, self.output_activation);
        let weights: Vec<Tensor<2>> = self
            .encoder
            .iter()
            .chain(&self.decoder)
            .map(|l| l.weight.val())
            .collect();
        let mut terms = self.regularization.objective(rec, &code, &weights);
        if self.regularization.contractive > 0.0
            && let Some(layer) = self.encoder.last()
        {
            let penalty =
                contractive_penalty(code.clone(), layer.weight.val(), self.code_activation);
            terms.push(LossTerm {
                name: "contractive",
                value: penalty * self.regularization.contractive,
            });
        }
        AutoencoderOutput::from_terms(reconstruction, code, terms)
    }
}

impl Family {
    /// Multi-layer perceptron autoencoder.
    pub const MLP: Family = Family::new(&FamilySpec {
        name: "mlp",
        description: "Multi-layer perceptron autoencoder (vanilla, undercomplete, overcomplete, deep)",
        defaults: |shape| Some(MlpAutoencoderConfig::for_shape(shape, 32).into()),
        ..FamilySpec::ORDINARY
    });
}

impl MlpAutoencoderConfig {
    /// The default MLP for inputs of `shape`: for images the 784-512-256-`image_code`
    /// of the literature; for a table row or a flattened window of `d` values one
    /// hidden layer of 64 units, a code of `d / 4` (2 to 16) and a linear output trained
    /// with MSE on the standardised values.
    pub(crate) fn for_shape(shape: InputShape, image_code: usize) -> Self {
        let features = shape.features();
        match shape {
            InputShape::Image { .. } => Self::new(features, vec![512, 256], image_code),
            InputShape::Vector { .. } | InputShape::Sequence { .. } => {
                Self::new(features, vec![64], shape.code_size())
                    .with_output_activation(Activation::Identity)
            }
        }
    }
}

impl FamilyConfig for MlpAutoencoderConfig {
    fn family(&self) -> Family {
        Family::MLP
    }

    fn input_size(&self) -> usize {
        self.input_size
    }

    fn latent(&self) -> usize {
        self.latent
    }

    fn size(&self) -> Result<ModelSize, ConfigError> {
        Ok(size::mlp(&self.encoder_widths(), self.bias))
    }

    fn loss_terms(&self) -> Vec<&'static str> {
        self.regularization.loss_terms()
    }

    fn is_stacked(&self) -> bool {
        !self.hidden.is_empty()
    }

    fn first_layer_is_code(&self) -> bool {
        self.hidden.is_empty()
    }
}

impl AnyAutoencoder {
    /// The MLP autoencoder, when the model is one (layer-wise pretraining works on it).
    pub fn into_mlp(self) -> Option<MlpAutoencoder> {
        match self {
            Self::Mlp(m) => Some(m),
            _ => None,
        }
    }
}

impl FamilyModel for MlpAutoencoder {
    fn first_dense_layer(&self) -> Option<&Linear> {
        self.encoder.first()
    }

    fn linear_decoder_basis(&self) -> Option<Tensor<2>> {
        // burn's Linear weight is [d_input, d_output] = [latent, features].
        (self.decoder.len() == 1 && self.output_activation() == Activation::Identity)
            .then(|| self.decoder[0].weight.val())
    }
}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;
    use crate::testing::save_load;
    use burn::optim::{AdamConfig, GradientsParams};

    fn config() -> MlpAutoencoderConfig {
        MlpAutoencoderConfig::new(12, vec![8, 6], 3)
    }

    #[test]
    fn shapes_and_layers() {
        let device = Device::ndarray();
        let model = config().init(&device).expect("valid config");
        assert_eq!(model.encoder.len(), 3);
        assert_eq!(model.decoder.len(), 3);
        let x = Tensor::<2>::random([5, 12], burn::tensor::Distribution::Default, &device);
        let out = model.forward(x);
        assert_eq!(out.reconstruction.dims(), [5, 12]);
        assert_eq!(out.code.dims(), [5, 3]);
        assert_eq!(out.loss.dims(), [1]);
        // Sigmoid output: reconstructions in (0, 1).
        let r = out
            .reconstruction
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32 data");
        assert!(r.iter().all(|v| *v > 0.0 && *v < 1.0));
    }

    #[test]
    fn shallow_and_biasless() {
        let device = Device::ndarray();
        let model = MlpAutoencoderConfig::new(10, vec![], 20)
            .with_bias(false)
            .init(&device)
            .expect("valid config");
        assert_eq!(model.encoder.len(), 1);
        assert!(model.encoder[0].bias.is_none() && model.decoder[0].bias.is_none());
        assert_eq!(
            model.encode(Tensor::zeros([2, 10], &device)).dims(),
            [2, 20]
        );
    }

    #[test]
    fn layer_pairs_reach_only_their_two_layers() {
        let device = Device::ndarray().autodiff();
        let model = config().init(&device).expect("valid config");
        let x = Tensor::<2>::random([4, 12], burn::tensor::Distribution::Default, &device);
        for layer in 0..model.depth() {
            let (target, out) = model.layer_pair(x.clone(), layer);
            let width = model.encoder[layer].weight.dims()[0];
            assert_eq!(target.dims(), [4, width]);
            assert_eq!(out.reconstruction.dims(), [4, width]);
            let mut grads = out.loss.backward();
            for (i, l) in model.encoder.iter().enumerate() {
                let g = GradientsParams::from_module(&mut grads, l).len();
                assert_eq!(
                    g,
                    if i == layer { 2 } else { 0 },
                    "encoder {i}, pair {layer}"
                );
            }
            for (j, l) in model.decoder.iter().enumerate() {
                let g = GradientsParams::from_module(&mut grads, l).len();
                let mirror = model.depth() - 1 - layer;
                assert_eq!(
                    g,
                    if j == mirror { 2 } else { 0 },
                    "decoder {j}, pair {layer}"
                );
            }
        }
    }

    #[test]
    fn invalid_sizes_are_named() {
        let device = Device::ndarray();
        let err = MlpAutoencoderConfig::new(784, vec![64, 0], 8)
            .init(&device)
            .expect_err("zero width");
        assert!(
            err.to_string().contains("hidden") && err.to_string().contains("entry 1"),
            "{err}"
        );
        let err = MlpAutoencoderConfig::new(784, vec![], 0)
            .init(&device)
            .expect_err("zero code");
        assert!(err.to_string().contains("latent"), "{err}");
    }

    #[test]
    fn config_json_round_trip() {
        let cfg = config()
            .with_activation(Activation::LeakyRelu {
                negative_slope: 0.1,
            })
            .with_reconstruction(Reconstruction::Bce);
        let json = serde_json::to_string(&cfg).expect("config serialises");
        let back: MlpAutoencoderConfig = serde_json::from_str(&json).expect("config parses");
        assert_eq!(back.activation, cfg.activation);
        assert_eq!(back.reconstruction, Reconstruction::Bce);
        assert_eq!(back.hidden, vec![8, 6]);
    }

    #[test]
    fn save_load_gives_identical_outputs() {
        let device = Device::ndarray();
        let model = config().init(&device).expect("valid config");
        let loaded = save_load(&model, config().init(&device).expect("valid config"));
        let x = Tensor::<2>::random([4, 12], burn::tensor::Distribution::Default, &device);
        let a = model.forward(x.clone()).reconstruction.into_data();
        let b = loaded.forward(x).reconstruction.into_data();
        a.assert_eq(&b, true);
    }

    #[test]
    fn loss_falls_on_real_images_with_bce() {
        let device = Device::ndarray().autodiff();
        let _seeded = crate::testing::seeded(&device, 7);
        let sample = ae_data::sample::load().expect("embedded sample decodes");
        let indices: Vec<usize> = (0..256).collect();
        let data = sample.train.tensor(&indices, &device);
        let mut model = MlpAutoencoderConfig::new(784, vec![64], 16)
            .with_reconstruction(Reconstruction::Bce)
            .init(&device)
            .expect("valid config");
        let mut optim = AdamConfig::new().init();
        let mut losses = Vec::new();
        for _ in 0..60 {
            let out = model.forward(data.clone());
            losses.push(out.loss.clone().into_scalar::<f32>());
            let grads = GradientsParams::from_grads(out.loss.backward(), &model);
            model = optim.step(3e-3, model, grads);
        }
        let (first, last) = (losses[0], losses[losses.len() - 1]);
        // BCE of Fashion-MNIST pixels starts near 0.69 (sigmoid(0) everywhere) and a
        // 16-unit code brings it well below 0.45 within a few dozen full-batch steps.
        assert!(
            last < 0.45 && last < first * 0.7,
            "BCE did not fall: {first} -> {last}"
        );
    }
}
