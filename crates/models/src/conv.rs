//! Convolutional autoencoders: a strided-convolution encoder, a transposed-
//! convolution decoder that mirrors it, and a linear code between them — over images,
//! or along the steps of sequences (one-dimensional convolutions, [`ConvStackConfig::sequence`]).

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

use crate::any::{FamilyConfig, FamilyModel};
use crate::family::{FamilySpec, Reads};
use crate::size::{self, ModelSize};
use crate::{
    Activation, Autoencoder, AutoencoderOutput, ConfigError, ConvDecoder,
    ConvEncoder, ConvStackConfig, Family, Noise, Reconstruction, Regularization,
};

/// Configuration of a [`ConvAutoencoder`].
///
/// ```
/// use ae_models::{Autoencoder, ConvAutoencoderConfig, ConvStackConfig};
/// use burn::prelude::*;
///
/// let device = Device::flex();
/// // One grey 28×28 channel through convolutions of 8 and 16 channels (stride 2:
/// // 28 → 14 → 7) to a 10-d code; inputs and outputs are flattened images.
/// let stack = ConvStackConfig::new([1, 28, 28], vec![8, 16]);
/// let model = ConvAutoencoderConfig::new(stack, 10).init(&device)?;
/// let images = Tensor::<2>::random([4, 784], burn::tensor::Distribution::Default, &device);
/// let code = model.encode(images.clone());
/// assert_eq!(code.dims(), [4, 10]);
/// let again = model.decode(code);
/// assert_eq!(again.dims(), [4, 784]);
/// // The configuration is checked before anything is built, the error naming the field.
/// let empty = ConvStackConfig::new([1, 28, 28], vec![8, 0]);
/// let err = ConvAutoencoderConfig::new(empty, 10).init(&device).unwrap_err();
/// assert_eq!(err.field, "channels");
/// # Ok::<(), ae_models::ConfigError>(())
/// ```
#[derive(Config, Debug)]
pub struct ConvAutoencoderConfig {
    /// The convolutions of the encoder (the decoder mirrors them), with their
    /// activation, also used after the decoder's linear layer.
    pub conv: ConvStackConfig,
    /// Size of the code.
    pub latent: usize,
    /// Activation of the output.
    #[config(default = "Activation::Sigmoid")]
    pub output_activation: Activation,
    /// The reconstruction loss.
    #[config(default = "Reconstruction::Mse")]
    pub reconstruction: Reconstruction,
    /// Corruption of the inputs during training (denoising).
    #[config(default = "Noise::None")]
    pub noise: Noise,
    /// Penalties on the code and the weights (contractive is MLP-only).
    #[config(default = "Regularization::default()")]
    pub regularization: Regularization,
}

/// A convolutional autoencoder. Build it with [`ConvAutoencoderConfig::init`].
#[derive(Module, Debug)]
pub struct ConvAutoencoder {
    /// Strided convolutions, flattened.
    pub encoder: ConvEncoder,
    /// Flattened feature map → code.
    pub to_code: Linear,
    /// Code → flattened feature map.
    pub from_code: Linear,
    /// Transposed convolutions, back to the image.
    pub decoder: ConvDecoder,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    output_activation: Activation,
    #[module(skip)]
    reconstruction: Reconstruction,
    #[module(skip)]
    noise: Noise,
    #[module(skip)]
    regularization: Regularization,
}

impl ConvAutoencoderConfig {
    /// Checks that the stack fits the image and the objective is valid.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.conv.validate()?;
        if self.latent == 0 {
            return Err(ConfigError::new("latent", "0", "a positive code size"));
        }
        if self.regularization.contractive > 0.0 {
            return Err(ConfigError::new(
                "regularization.contractive",
                self.regularization.contractive.to_string(),
                "0 (the contractive penalty is for MLP autoencoders)",
            ));
        }
        self.noise.validate()?;
        self.reconstruction.validate(self.output_activation)?;
        self.regularization
            .validate(self.latent, Activation::Identity)
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> Result<ConvAutoencoder, ConfigError> {
        self.validate()?;
        let (encoder, decoder, flat) = self.conv.init(device)?;
        Ok(ConvAutoencoder {
            encoder,
            to_code: LinearConfig::new(flat, self.latent).init(device),
            from_code: LinearConfig::new(self.latent, flat).init(device),
            decoder,
            activation: self.conv.activation,
            output_activation: self.output_activation,
            reconstruction: self.reconstruction,
            noise: self.noise,
            regularization: self.regularization.clone(),
        })
    }
}

impl ConvAutoencoder {
    /// The decoder's output before and after the output activation, flattened.
    fn decode_with_logits(&self, code: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let features = self.activation.forward(self.from_code.forward(code));
        let pre = self.decoder.forward(features); // [batch, c·h·w]
        (pre.clone(), self.output_activation.forward(pre))
    }
}

impl Autoencoder for ConvAutoencoder {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        let code = self.to_code.forward(self.encoder.forward(input));
        self.regularization.constrain_code(code)
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        self.decode_with_logits(code).1
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        let code = self.encode(
            self.noise
                .corrupt_in_training(input.clone(), self.output_activation),
        );
        let (pre, reconstruction) = self.decode_with_logits(code.clone());
        let rec =
            self.reconstruction
                .mean(pre, reconstruction.clone(), input, self.output_activation);
        let weights = [self.to_code.weight.val(), self.from_code.weight.val()];
        let terms = self.regularization.objective(rec, &code, &weights);
        AutoencoderOutput::from_terms(reconstruction, code, terms)
    }
}

impl Family {
    /// Convolutional autoencoder over images.
    pub const CONV: Family = Family::new(&FamilySpec {
        name: "conv",
        description: "Convolutional autoencoder: strided convolutions, transposed convolutions",
        reads: Reads::Images,
        // Two strided convolutions of 32 and 64 channels and a code of 32.
        defaults: |shape| {
            let stack = ConvStackConfig::new(shape.image()?, vec![32, 64]);
            Some(ConvAutoencoderConfig::new(stack, 32).into())
        },
        ..FamilySpec::ORDINARY
    });

    /// One-dimensional convolutional autoencoder along the steps of sequences.
    pub const CONV1D: Family = Family::new(&FamilySpec {
        name: "conv1d",
        description: "One-dimensional convolutional autoencoder along the steps of sequences (windows of a series)",
        reads: Reads::Sequences,
        // Convolutions of 32 and 64 channels (kernel 5, stride 2), a window's code size
        // and a linear output.
        defaults: |shape| {
            let (steps, channels) = shape.sequence()?;
            let stack = ConvStackConfig::for_sequences(steps, channels, vec![32, 64])
                .with_kernel(5)
                .with_padding(2);
            let config = ConvAutoencoderConfig::new(stack, shape.code_size())
                .with_output_activation(Activation::Identity);
            Some(config.into())
        },
        ..FamilySpec::ORDINARY
    });
}

impl FamilyConfig for ConvAutoencoderConfig {
    fn family(&self) -> Family {
        if self.conv.is_sequence() {
            Family::CONV1D
        } else {
            Family::CONV
        }
    }

    fn input_size(&self) -> usize {
        self.conv.image.iter().product()
    }

    fn latent(&self) -> usize {
        self.latent
    }

    fn image_shape(&self) -> Option<[usize; 3]> {
        (!self.conv.is_sequence()).then_some(self.conv.image)
    }

    fn size(&self) -> Result<ModelSize, ConfigError> {
        let (stack, flat) = size::conv_stack(&self.conv)?;
        Ok(stack.add(size::dense(&[flat, self.latent, flat], true)))
    }

    fn loss_terms(&self) -> Vec<&'static str> {
        self.regularization.loss_terms()
    }
}

impl FamilyModel for ConvAutoencoder {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Norm;
    use crate::conv_stack::{from_planes, to_planes};
    use crate::testing::{
        first_last, save_load, test_images, train_on_batch, train_on_sample, waves,
    };

    fn config() -> ConvAutoencoderConfig {
        ConvAutoencoderConfig::new(ConvStackConfig::new([1, 28, 28], vec![8, 16]), 16)
    }

    #[test]
    fn shapes_follow_the_plan() {
        let device = Device::flex();
        let model = config().init(&device).expect("valid config");
        assert_eq!(model.decoder.inner, [16, 7, 7]);
        let out = model.forward(Tensor::zeros([3, 784], &device));
        assert_eq!(out.reconstruction.dims(), [3, 784]);
        assert_eq!(out.code.dims(), [3, 16]);
        // Odd sizes are restored too, through output padding.
        let odd = ConvAutoencoderConfig::new(ConvStackConfig::new([1, 15, 15], vec![4, 4]), 3)
            .init(&device)
            .expect("fits");
        assert_eq!(
            odd.forward(Tensor::zeros([2, 225], &device))
                .reconstruction
                .dims(),
            [2, 225]
        );
    }

    #[test]
    fn batch_norm_trains_on_batch_statistics_and_saves_its_running_averages() {
        let device = Device::flex().autodiff();
        let _seeded = crate::testing::seeded(&device, 7);
        let normed = || {
            ConvAutoencoderConfig::new(
                ConvStackConfig::new([1, 28, 28], vec![8, 16])
                    .with_norm(Some(Norm::Batch))
                    .with_activation(Activation::LeakyRelu {
                        negative_slope: 0.2,
                    }),
                16,
            )
        };
        let model = normed().init(&device).expect("valid config");
        assert_eq!(
            (model.encoder.norms.len(), model.decoder.norms.len()),
            (2, 1)
        );
        let (model, losses) = train_on_sample(model, &device, 40, 3e-3, None);
        let (first, last) = first_last(&losses, 3);
        assert!(
            last < 0.6 * first,
            "batch-norm conv AE loss {first} -> {last}"
        );

        // Evaluation uses the running averages: one image's reconstruction does not
        // depend on the rest of its batch, and it survives a save and a load.
        let plain = device.clone().without_autodiff();
        let model = model.valid();
        let x = test_images(4, &plain);
        let alone = model.forward(x.clone().slice(0..1)).reconstruction;
        let batched = model.forward(x.clone()).reconstruction.slice(0..1);
        alone
            .into_data()
            .assert_approx_eq::<f32>(&batched.into_data(), burn::tensor::Tolerance::default());
        let loaded = save_load(&model, normed().init(&plain).expect("valid config"));
        model
            .forward(x.clone())
            .reconstruction
            .into_data()
            .assert_eq(&loaded.forward(x).reconstruction.into_data(), true);
        // Negative control: a model saved before the batch statistics moved differs.
        let fresh = normed().init(&plain).expect("valid config");
        let moved = model.encoder.norms[0].running_mean.value().into_data();
        assert_ne!(
            moved,
            fresh.encoder.norms[0].running_mean.value().into_data()
        );
    }

    #[test]
    fn configs_written_before_norms_existed_still_read() {
        let json = r#"{"image": [1, 28, 28], "channels": [8, 16], "kernel": 3, "stride": 2,
            "padding": 1, "activation": "relu"}"#;
        let old: ConvStackConfig = serde_json::from_str(json).expect("an old config reads");
        assert_eq!(old.norm, None);
        let new = old.with_norm(Some(Norm::Batch));
        let text = serde_json::to_string(&new).expect("serialises");
        assert!(text.contains(r#""norm":"batch""#), "{text}");
        let back: ConvStackConfig = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back.norm, Some(Norm::Batch));
    }

    #[test]
    fn sequences_are_convolved_along_their_steps_channel_by_channel() {
        let device = Device::flex();
        // Two steps of three channels, stored step after step.
        let x = Tensor::<2>::from_floats([[0.0, 1.0, 2.0, 10.0, 11.0, 12.0]], &device);
        let planes = to_planes(x.clone(), [3, 1, 2], true);
        assert_eq!(planes.dims(), [1, 3, 1, 2]);
        let channel_1: Vec<f32> = planes
            .clone()
            .slice([0..1, 1..2, 0..1, 0..2])
            .into_data()
            .try_to_vec()
            .expect("f32");
        assert_eq!(channel_1, [1.0, 11.0]);
        from_planes(planes, true)
            .into_data()
            .assert_eq(&x.into_data(), true);

        // 24 steps of 2 channels, kernel 5, stride 2: 24 → 12 → 6 steps, one row.
        let stack = ConvStackConfig::for_sequences(24, 2, vec![4, 8])
            .with_kernel(5)
            .with_padding(2);
        assert_eq!(stack.plan().expect("fits").0, [[1, 24], [1, 12], [1, 6]]);
        let model = ConvAutoencoderConfig::new(stack, 3)
            .init(&device)
            .expect("valid");
        assert_eq!(model.decoder.inner, [8, 1, 6]);
        let out = model.forward(Tensor::zeros([5, 48], &device));
        assert_eq!(out.reconstruction.dims(), [5, 48]);
        // Odd lengths are restored through output padding, as for images.
        let odd = ConvAutoencoderConfig::new(ConvStackConfig::for_sequences(25, 1, vec![4]), 2)
            .init(&device)
            .expect("valid");
        assert_eq!(
            odd.forward(Tensor::zeros([1, 25], &device))
                .reconstruction
                .dims(),
            [1, 25]
        );
        // A sequence stack of more than one row is a configuration error.
        let err = ConvStackConfig::new([2, 2, 24], vec![4])
            .with_sequence(Some(true))
            .validate()
            .expect_err("two rows");
        assert_eq!(err.field, "image");
    }

    #[test]
    fn a_sequence_model_learns_a_wave_and_saves_identically() {
        let device = Device::flex().autodiff();
        let _seeded = crate::testing::seeded(&device, 3);
        let config = || {
            ConvAutoencoderConfig::new(ConvStackConfig::for_sequences(32, 1, vec![8, 16]), 4)
                .with_output_activation(Activation::Identity)
        };
        let data = waves(64, 32);
        let x = Tensor::<2>::from_data(data.clone(), &device);
        let model = config().init(&device).expect("valid config");
        let (model, losses) = train_on_batch(model, x, 60, 3e-3);
        let (first, last) = first_last(&losses, 3);
        assert!(last < 0.2 * first, "conv1d loss {first} -> {last}");

        let plain = device.clone().without_autodiff();
        let model = model.valid();
        let loaded = save_load(&model, config().init(&plain).expect("valid config"));
        let x = Tensor::<2>::from_data(data, &plain);
        model
            .forward(x.clone())
            .reconstruction
            .into_data()
            .assert_eq(&loaded.forward(x).reconstruction.into_data(), true);
    }

    #[test]
    fn a_stack_too_deep_for_the_image_is_an_error() {
        let err = ConvStackConfig::new([1, 4, 4], vec![4, 4, 4, 4])
            .with_kernel(3)
            .with_padding(0)
            .validate()
            .expect_err("4x4 cannot take four valid 3x3 convolutions");
        assert!(err.to_string().contains("channels"), "{err}");
    }

    #[test]
    fn loss_falls_and_save_load_is_identical() {
        let device = Device::flex().autodiff();
        let _seeded = crate::testing::seeded(&device, 5);
        let model = config().init(&device).expect("valid config");
        let (model, losses) = train_on_sample(model, &device, 40, 3e-3, None);
        let (first, last) = first_last(&losses, 3);
        assert!(last < 0.6 * first, "conv AE loss {first} -> {last}");

        let plain = device.clone().without_autodiff();
        let model = model.valid();
        let loaded = save_load(&model, config().init(&plain).expect("valid config"));
        let x = test_images(3, &plain);
        model
            .forward(x.clone())
            .reconstruction
            .into_data()
            .assert_eq(&loaded.forward(x).reconstruction.into_data(), true);
    }
}
