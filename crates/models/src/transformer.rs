//! Transformer autoencoders over the steps of sequences: each step's values are
//! embedded, given a sinusoidal position, and read by a stack of self-attention layers
//! (Vaswani et al., 2017); the attended steps, flattened, make the code through a
//! linear layer. The decoder maps the code back to one vector per step, adds the
//! positions again, and a second stack of self-attention layers and a linear layer per
//! step give back the values.

use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{Linear, LinearConfig, PositionalEncoding, PositionalEncodingConfig};
use burn::prelude::*;

use crate::any::{FamilyConfig, FamilyModel};
use crate::family::{FamilySpec, Reads};
use crate::output::reconstruction_only;
use crate::size::{self, ModelSize};
use crate::{
    Activation, Autoencoder, AutoencoderOutput, ConfigError, Family,
    Noise, Reconstruction,
};

/// Configuration of a [`TransformerAutoencoder`].
///
/// ```
/// use ae_models::{Autoencoder, TransformerAutoencoderConfig};
/// use burn::prelude::*;
///
/// let device = Device::flex();
/// // Windows of 24 steps of 1 value: width 32, 4 heads, 2 layers each way, a code of 6.
/// let model = TransformerAutoencoderConfig::new(24, 1, 6).init(&device)?;
/// let windows = Tensor::<2>::zeros([3, 24], &device);
/// assert_eq!(model.forward(windows).reconstruction.dims(), [3, 24]);
/// // The width must split into the heads.
/// let err = TransformerAutoencoderConfig::new(24, 1, 6).with_width(30).init(&device).unwrap_err();
/// assert_eq!(err.field, "width");
/// # Ok::<(), ae_models::ConfigError>(())
/// ```
#[derive(Config, Debug)]
pub struct TransformerAutoencoderConfig {
    /// Steps per sequence.
    pub steps: usize,
    /// Values per step.
    pub channels: usize,
    /// Size of the code.
    pub latent: usize,
    /// Width of the embedded steps (`d_model`).
    #[config(default = 32)]
    pub width: usize,
    /// Attention heads per layer (they split the width).
    #[config(default = 4)]
    pub heads: usize,
    /// Self-attention layers in the encoder, and as many in the decoder.
    #[config(default = 2)]
    pub layers: usize,
    /// Activation of each step's output.
    #[config(default = "Activation::Identity")]
    pub output_activation: Activation,
    /// The reconstruction loss.
    #[config(default = "Reconstruction::Mse")]
    pub reconstruction: Reconstruction,
    /// Corruption of the inputs during training (denoising).
    #[config(default = "Noise::None")]
    pub noise: Noise,
}

/// A transformer autoencoder over sequences. Build it with
/// [`TransformerAutoencoderConfig::init`]. Inputs are sequences flattened step after
/// step, `[batch, steps · channels]`.
#[derive(Module, Debug)]
pub struct TransformerAutoencoder {
    /// Each step's values → the width.
    pub embed: Linear,
    /// Self-attention over the embedded steps.
    pub encoder: TransformerEncoder,
    /// The attended steps, flattened → code.
    pub to_code: Linear,
    /// Code → one vector per step, flattened.
    pub from_code: Linear,
    /// Self-attention over the decoded steps.
    pub decoder: TransformerEncoder,
    /// Each decoded step → its values.
    pub output: Linear,
    /// The sinusoidal positions added before each stack.
    pub positions: PositionalEncoding,
    #[module(skip)]
    steps: usize,
    #[module(skip)]
    channels: usize,
    #[module(skip)]
    width: usize,
    #[module(skip)]
    output_activation: Activation,
    #[module(skip)]
    reconstruction: Reconstruction,
    #[module(skip)]
    noise: Noise,
}

impl TransformerAutoencoderConfig {
    /// Checks every size and the objective.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("steps", self.steps),
            ("channels", self.channels),
            ("latent", self.latent),
            ("heads", self.heads),
            ("layers", self.layers),
        ] {
            if value == 0 {
                return Err(ConfigError::new(field, "0", "a positive size"));
            }
        }
        if self.width == 0 || !self.width.is_multiple_of(self.heads) {
            return Err(ConfigError::new(
                "width",
                self.width.to_string(),
                format!("a positive multiple of the {} heads", self.heads),
            ));
        }
        self.noise.validate()?;
        self.reconstruction.validate(self.output_activation)
    }

    /// Values per sample.
    pub fn input_size(&self) -> usize {
        self.steps * self.channels
    }

    /// The inner width of each layer's feed-forward part: twice the width.
    pub fn feed_forward(&self) -> usize {
        2 * self.width
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> Result<TransformerAutoencoder, ConfigError> {
        self.validate()?;
        let stack = || {
            TransformerEncoderConfig::new(self.width, self.feed_forward(), self.heads, self.layers)
                .with_dropout(0.0)
                .init(device)
        };
        let flat = self.steps * self.width;
        Ok(TransformerAutoencoder {
            embed: LinearConfig::new(self.channels, self.width).init(device),
            encoder: stack(),
            to_code: LinearConfig::new(flat, self.latent).init(device),
            from_code: LinearConfig::new(self.latent, flat).init(device),
            decoder: stack(),
            output: LinearConfig::new(self.width, self.channels).init(device),
            positions: PositionalEncodingConfig::new(self.width)
                .with_max_sequence_size(self.steps)
                .init(device),
            steps: self.steps,
            channels: self.channels,
            width: self.width,
            output_activation: self.output_activation,
            reconstruction: self.reconstruction,
            noise: self.noise,
        })
    }
}

impl TransformerAutoencoder {
    /// The decoder's output before and after the output activation, flattened.
    fn decode_with_logits(&self, code: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let batch = code.dims()[0];
        let steps = self
            .from_code
            .forward(code)
            .reshape([batch, self.steps, self.width]);
        let attended = self
            .decoder
            .forward(TransformerEncoderInput::new(self.positions.forward(steps)));
        let pre = self
            .output
            .forward(attended)
            .reshape([batch, self.steps * self.channels]);
        (pre.clone(), self.output_activation.forward(pre))
    }
}

impl Autoencoder for TransformerAutoencoder {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        let batch = input.dims()[0];
        let steps = self
            .embed
            .forward(input.reshape([batch, self.steps, self.channels]));
        let attended = self
            .encoder
            .forward(TransformerEncoderInput::new(self.positions.forward(steps)));
        self.to_code
            .forward(attended.reshape([batch, self.steps * self.width]))
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        self.decode_with_logits(code).1
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        let code = self.encode(
            self.noise
                .corrupt_in_training(input.clone(), self.output_activation),
        );
        let decoded = self.decode_with_logits(code.clone());
        reconstruction_only(
            code,
            decoded,
            input,
            self.reconstruction,
            self.output_activation,
        )
    }
}

impl Family {
    /// Transformer autoencoder over the steps of sequences.
    pub const TRANSFORMER: Family = Family::new(&FamilySpec {
        name: "transformer",
        description: "Transformer autoencoder: self-attention over the steps of sequences, each way",
        reads: Reads::Sequences,
        defaults: |shape| {
            let (steps, channels) = shape.sequence()?;
            let config = TransformerAutoencoderConfig::new(steps, channels, shape.code_size());
            Some(config.into())
        },
        ..FamilySpec::ORDINARY
    });
}

impl FamilyConfig for TransformerAutoencoderConfig {
    fn family(&self) -> Family {
        Family::TRANSFORMER
    }

    fn input_size(&self) -> usize {
        TransformerAutoencoderConfig::input_size(self)
    }

    fn latent(&self) -> usize {
        self.latent
    }

    fn size(&self) -> Result<ModelSize, ConfigError> {
        let (d, steps) = (self.width, self.steps);
        let stack = size::attention(self.layers, d, self.feed_forward(), steps);
        Ok(size::per_step(&[self.channels, d], steps)
            .add(stack)
            .add(size::dense(&[steps * d, self.latent, steps * d], true))
            .add(stack)
            .add(size::per_step(&[d, self.channels], steps)))
    }

    fn loss_terms(&self) -> Vec<&'static str> {
        vec!["reconstruction"]
    }
}

impl FamilyModel for TransformerAutoencoder {}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;
    use crate::testing::{first_last, save_load, train_on_batch, waves};

    #[test]
    fn it_learns_a_wave_and_saves_identically() {
        let device = Device::ndarray().autodiff();
        let _seeded = crate::testing::seeded(&device, 6);
        let config = || TransformerAutoencoderConfig::new(16, 1, 4).with_width(16);
        let x = Tensor::<2>::from_data(waves(32, 16), &device);
        let model = config().init(&device).expect("valid config");
        let (model, losses) = train_on_batch(model, x, 60, 3e-3);
        let (first, last) = first_last(&losses, 3);
        assert!(last < 0.3 * first, "transformer loss {first} -> {last}");

        let plain = device.clone().without_autodiff();
        let model = model.valid();
        let loaded = save_load(&model, config().init(&plain).expect("valid config"));
        let x = Tensor::<2>::from_data(waves(4, 16), &plain);
        model
            .forward(x.clone())
            .reconstruction
            .into_data()
            .assert_eq(&loaded.forward(x).reconstruction.into_data(), true);
    }

    #[test]
    fn sizes_of_zero_and_widths_the_heads_do_not_split_are_named() {
        let err = TransformerAutoencoderConfig::new(24, 1, 4)
            .with_heads(0)
            .validate()
            .expect_err("no heads");
        assert_eq!(err.field, "heads");
        let err = TransformerAutoencoderConfig::new(24, 1, 4)
            .with_width(10)
            .validate()
            .expect_err("10 / 4");
        assert!(err.to_string().contains("multiple of the 4 heads"), "{err}");
    }
}
