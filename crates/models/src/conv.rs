//! Convolutional autoencoders: a strided-convolution encoder, a transposed-
//! convolution decoder that mirrors it, and a linear code between them — over images,
//! or along the steps of sequences (one-dimensional convolutions, [`ConvStackConfig::sequence`]).

use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;

use crate::{
    Activation, Autoencoder, AutoencoderOutput, ConfigError, Noise, Reconstruction, Regularization,
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

/// The shape of a strided-convolution stack and of its mirror: a part that the
/// convolutional autoencoder and the convolutional VAE share.
#[derive(Config, Debug)]
pub struct ConvStackConfig {
    /// Image shape `[channels, height, width]`; inputs are flattened images.
    pub image: [usize; 3],
    /// Output channels of each encoder convolution (the decoder mirrors them).
    pub channels: Vec<usize>,
    /// Square kernel size.
    #[config(default = 3)]
    pub kernel: usize,
    /// Stride of every convolution.
    #[config(default = 2)]
    pub stride: usize,
    /// Zero padding of every convolution.
    #[config(default = 1)]
    pub padding: usize,
    /// Activation after every convolution and between transposed convolutions.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Normalisation after every convolution and every inner transposed convolution,
    /// before the activation; `None` for none (and in configs written before it
    /// existed).
    pub norm: Option<Norm>,
    /// `Some(true)`: the convolutions run along the steps of sequences — windows of a
    /// time series, `steps × channels` values step after step — with `image` set to
    /// `[channels, 1, steps]` and kernels of 1 × `kernel` (one-dimensional
    /// convolutions). `None` or `Some(false)`: images.
    pub sequence: Option<bool>,
}

/// A normalisation layer in a convolution stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Batch normalisation: batch statistics in training, running averages in
    /// evaluation.
    Batch,
}

/// Strided convolutions from a flattened image to a flattened feature map.
#[derive(Module, Debug)]
pub struct ConvEncoder {
    /// The convolutions.
    pub convs: Vec<Conv2d>,
    /// Batch normalisation after each convolution (none without [`Norm::Batch`]).
    pub norms: Vec<BatchNorm>,
    #[module(skip)]
    image: [usize; 3],
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    sequence: bool,
}

/// Transposed convolutions from a flattened feature map back to a flattened image
/// (before any output activation).
#[derive(Module, Debug)]
pub struct ConvDecoder {
    /// The transposed convolutions.
    pub deconvs: Vec<ConvTranspose2d>,
    /// Batch normalisation after each transposed convolution but the last (none
    /// without [`Norm::Batch`]).
    pub norms: Vec<BatchNorm>,
    #[module(skip)]
    inner: [usize; 3],
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    sequence: bool,
}

/// A batch of flattened samples as the `[batch, c, h, w]` maps the convolutions take:
/// an image as it is; a sequence of `w` steps of `c` values, stored step after step,
/// as `c` planes of 1 × `w`.
fn to_planes(input: Tensor<2>, [c, h, w]: [usize; 3], sequence: bool) -> Tensor<4> {
    let batch = input.dims()[0];
    if sequence {
        input
            .reshape([batch, w, c])
            .swap_dims(1, 2)
            .reshape([batch, c, h, w])
    } else {
        input.reshape([batch, c, h, w])
    }
}

/// The inverse of [`to_planes`].
fn from_planes(planes: Tensor<4>, sequence: bool) -> Tensor<2> {
    let [batch, c, h, w] = planes.dims();
    if sequence {
        planes
            .reshape([batch, c, w])
            .swap_dims(1, 2)
            .reshape([batch, w * c])
    } else {
        planes.reshape([batch, c * h * w])
    }
}

impl ConvEncoder {
    /// # Shapes
    /// `[batch, c·h·w]` → `[batch, features]`.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let mut x = to_planes(input, self.image, self.sequence);
        for (i, conv) in self.convs.iter().enumerate() {
            x = conv.forward(x); // [batch, channels_i, h_i, w_i]
            if let Some(norm) = self.norms.get(i) {
                x = norm.forward(x);
            }
            x = self.activation.forward(x);
        }
        x.flatten(1, 3)
    }
}

impl ConvDecoder {
    /// # Shapes
    /// `[batch, features]` → `[batch, c·h·w]`, before the output activation.
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        let batch = features.dims()[0];
        let [c, h, w] = self.inner;
        let mut x = features.reshape([batch, c, h, w]);
        let n = self.deconvs.len();
        for (i, deconv) in self.deconvs.iter().enumerate() {
            x = deconv.forward(x);
            if i + 1 < n {
                if let Some(norm) = self.norms.get(i) {
                    x = norm.forward(x);
                }
                x = self.activation.forward(x);
            }
        }
        from_planes(x, self.sequence)
    }
}

impl ConvStackConfig {
    /// A stack of one-dimensional convolutions along sequences of `steps` steps of
    /// `channels` values.
    pub fn for_sequences(steps: usize, channels: usize, filters: Vec<usize>) -> Self {
        Self::new([channels, 1, steps], filters).with_sequence(Some(true))
    }

    /// Whether the convolutions run along sequences.
    pub fn is_sequence(&self) -> bool {
        self.sequence == Some(true)
    }

    /// Kernel, stride and padding as `[rows, columns]`: square for images, 1 × kernel
    /// (no padding, stride 1 across the single row) for sequences.
    pub fn geometry(&self) -> [[usize; 2]; 3] {
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        if self.is_sequence() {
            [[1, k], [1, s], [0, p]]
        } else {
            [[k, k], [s, s], [p, p]]
        }
    }

    /// Spatial sizes after each convolution, starting with the image's, and the
    /// output padding each transposed convolution needs to land on them.
    pub fn plan(&self) -> Result<(Vec<[usize; 2]>, Vec<usize>), ConfigError> {
        let [c, h, w] = self.image;
        if c == 0 || h == 0 || w == 0 {
            return Err(ConfigError::new(
                "image",
                format!("{:?}", self.image),
                "positive channels, height and width",
            ));
        }
        if self.channels.is_empty() || self.channels.contains(&0) {
            return Err(ConfigError::new(
                "channels",
                format!("{:?}", self.channels),
                "one or more positive channel counts",
            ));
        }
        if self.kernel == 0 || self.stride == 0 {
            return Err(ConfigError::new(
                "kernel/stride",
                format!("{}/{}", self.kernel, self.stride),
                "positive values",
            ));
        }
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        let [[kh, kw], [sh, sw], [ph, pw]] = self.geometry();
        let mut sizes = vec![[h, w]];
        for _ in &self.channels {
            let [a, b] = *sizes.last().unwrap_or(&[h, w]);
            let out = |n: usize, k: usize, s: usize, p: usize| {
                (n + 2 * p).checked_sub(k).map(|v| v / s + 1)
            };
            match (out(a, kh, sh, ph), out(b, kw, sw, pw)) {
                (Some(x), Some(y)) if x > 0 && y > 0 => sizes.push([x, y]),
                _ => {
                    return Err(ConfigError::new(
                        "channels",
                        format!("{:?}", self.channels),
                        format!(
                            "a stack that fits {h}x{w} images: after {} convolutions of kernel {k}, stride {s}, padding {p} nothing is left",
                            sizes.len()
                        ),
                    ));
                }
            }
        }
        // out = (in - 1)·s - 2p + k + output_padding must give back each size (along
        // the columns: a sequence's steps, or an image's side).
        let mut pads = Vec::new();
        for pair in sizes.windows(2).rev() {
            let (target, from) = (pair[0][1], pair[1][1]);
            let base = ((from - 1) * s + k).checked_sub(2 * p);
            match base {
                Some(b) if target >= b && target - b < s => pads.push(target - b),
                _ => {
                    return Err(ConfigError::new(
                        "image",
                        format!("{:?}", self.image),
                        format!(
                            "sizes a transposed convolution can restore (kernel {k}, stride {s}, padding {p})"
                        ),
                    ));
                }
            }
        }
        Ok((sizes, pads))
    }

    /// Checks that the stack fits the image (square images only) or the sequences
    /// (`image` of one row).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.is_sequence() && self.image[1] != 1 {
            return Err(ConfigError::new(
                "image",
                format!("{:?}", self.image),
                "[channels, 1, steps] for sequences",
            ));
        }
        self.plan()?;
        if !self.is_sequence() && self.image[1] != self.image[2] {
            return Err(ConfigError::new(
                "image",
                format!("{:?}", self.image),
                "square images",
            ));
        }
        Ok(())
    }

    /// Builds the encoder and the mirrored decoder, and returns the size of the
    /// flattened feature map between them.
    pub fn init(&self, device: &Device) -> Result<(ConvEncoder, ConvDecoder, usize), ConfigError> {
        self.validate()?;
        let (sizes, pads) = self.plan()?;
        let [k, s, p] = self.geometry();
        let mut chans = vec![self.image[0]];
        chans.extend(&self.channels);
        let convs = chans
            .windows(2)
            .map(|c| {
                Conv2dConfig::new([c[0], c[1]], k)
                    .with_stride(s)
                    .with_padding(PaddingConfig2d::Explicit(p[0], p[1], p[0], p[1]))
                    .init(device)
            })
            .collect();
        let [h, w] = *sizes.last().unwrap_or(&[1, 1]);
        let last = *chans.last().unwrap_or(&1);
        let deconvs = chans
            .windows(2)
            .rev()
            .zip(&pads)
            .map(|(c, &op)| {
                // An image's sides are equal and take the same output padding; a
                // sequence's single row needs none.
                let row_pad = if self.is_sequence() { 0 } else { op };
                ConvTranspose2dConfig::new([c[1], c[0]], k)
                    .with_stride(s)
                    .with_padding(p)
                    .with_padding_out([row_pad, op])
                    .init(device)
            })
            .collect();
        let norm = |c: usize| BatchNormConfig::new(c).init(device);
        let (norms, inner_norms) = if self.norm == Some(Norm::Batch) {
            (
                chans[1..].iter().map(|&c| norm(c)).collect(),
                chans[1..chans.len() - 1]
                    .iter()
                    .rev()
                    .map(|&c| norm(c))
                    .collect(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let encoder = ConvEncoder {
            convs,
            norms,
            image: self.image,
            activation: self.activation,
            sequence: self.is_sequence(),
        };
        let decoder = ConvDecoder {
            deconvs,
            norms: inner_norms,
            inner: [last, h, w],
            activation: self.activation,
            sequence: self.is_sequence(),
        };
        Ok((encoder, decoder, last * h * w))
    }
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

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;
    use crate::testing::{
        first_last, save_load, test_images, train_on_batch, train_on_sample, waves,
    };

    fn config() -> ConvAutoencoderConfig {
        ConvAutoencoderConfig::new(ConvStackConfig::new([1, 28, 28], vec![8, 16]), 16)
    }

    #[test]
    fn shapes_follow_the_plan() {
        let device = Device::ndarray();
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
        let device = Device::ndarray().autodiff();
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
        let device = Device::ndarray();
        // Two steps of three channels, stored step after step.
        let x = Tensor::<2>::from_floats([[0.0, 1.0, 2.0, 10.0, 11.0, 12.0]], &device);
        let planes = to_planes(x.clone(), [3, 1, 2], true);
        assert_eq!(planes.dims(), [1, 3, 1, 2]);
        let channel_1: Vec<f32> = planes
            .clone()
            .slice([0..1, 1..2, 0..1, 0..2])
            .into_data()
            .to_vec()
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
        let device = Device::ndarray().autodiff();
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
        let device = Device::ndarray().autodiff();
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
