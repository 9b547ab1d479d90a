//! Masked autoencoders over image patches (He et al., 2021): the image is cut into
//! square patches, each embedded with a sinusoidal position; a random share of them is
//! hidden, a stack of self-attention layers reads the visible ones only, and a lighter
//! stack — the encoded visible patches, a learned mask token at every hidden place and
//! the code as one more token — predicts the hidden patches' pixels. The loss counts
//! the hidden patches alone.
//!
//! The code of an image is its patches encoded all together, none hidden, averaged and
//! projected by a linear layer: what `encode` returns for the probes, and what the
//! decoder reads as its global token in training. `decode` predicts every patch from
//! the code alone (all of them hidden): a coarse image, since training never hides
//! everything. `forward` hides patches at the configured ratio in training and in
//! evaluation alike, and its reconstruction is the input with the hidden patches
//! replaced by their prediction.

use burn::module::Param;
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{Linear, LinearConfig, PositionalEncoding, PositionalEncodingConfig};
use burn::prelude::*;
use burn::tensor::{Distribution, Int};

use crate::any::{FamilyConfig, FamilyModel};
use crate::family::{FamilySpec, Reads};
use crate::output::LossTerm;
use crate::size::{self, ModelSize};
use crate::{
    Activation, Autoencoder, AutoencoderOutput, ConfigError, Family,
    Reconstruction,
};

/// Configuration of a [`MaskedAutoencoder`].
///
/// ```
/// use ae_models::{Autoencoder, MaskedAutoencoderConfig};
/// use burn::prelude::*;
///
/// let device = Device::flex();
/// // 28×28 grey images in 49 patches of 4×4, three quarters hidden, a code of 32.
/// let model = MaskedAutoencoderConfig::new([1, 28, 28], 32).init(&device)?;
/// let images = Tensor::<2>::zeros([2, 784], &device);
/// assert_eq!(model.encode(images.clone()).dims(), [2, 32]);
/// assert_eq!(model.forward(images).reconstruction.dims(), [2, 784]);
/// // Patches must tile the image.
/// let err = MaskedAutoencoderConfig::new([1, 28, 28], 32).with_patch(5).validate().unwrap_err();
/// assert_eq!(err.field, "patch");
/// # Ok::<(), ae_models::ConfigError>(())
/// ```
#[derive(Config, Debug)]
pub struct MaskedAutoencoderConfig {
    /// Image shape `[channels, height, width]`; inputs are flattened images.
    pub image: [usize; 3],
    /// Size of the code.
    pub latent: usize,
    /// Side of the square patches; it divides the image's height and width.
    #[config(default = 4)]
    pub patch: usize,
    /// Share of the patches hidden from the encoder, in (0, 1).
    #[config(default = 0.75)]
    pub mask_ratio: f64,
    /// Width of the encoder's embedded patches.
    #[config(default = 64)]
    pub width: usize,
    /// Attention heads per layer, in the encoder and the decoder (they split both
    /// widths).
    #[config(default = 4)]
    pub heads: usize,
    /// Self-attention layers of the encoder.
    #[config(default = 4)]
    pub layers: usize,
    /// Width of the decoder's tokens.
    #[config(default = 32)]
    pub decoder_width: usize,
    /// Self-attention layers of the decoder.
    #[config(default = 2)]
    pub decoder_layers: usize,
    /// Activation of the predicted pixels.
    #[config(default = "Activation::Sigmoid")]
    pub output_activation: Activation,
    /// The loss on the hidden patches' pixels.
    #[config(default = "Reconstruction::Mse")]
    pub reconstruction: Reconstruction,
}

/// A masked autoencoder over image patches. Build it with
/// [`MaskedAutoencoderConfig::init`]. Inputs are flattened images,
/// `[batch, channels · height · width]`.
#[derive(Module, Debug)]
pub struct MaskedAutoencoder {
    /// Each patch's pixels → the encoder's width.
    pub embed: Linear,
    /// Self-attention over the visible patches.
    pub encoder: TransformerEncoder,
    /// The encoded patches, averaged → code.
    pub to_code: Linear,
    /// Code → the decoder's global token.
    pub from_code: Linear,
    /// Encoded visible patches → the decoder's width.
    pub to_decoder: Linear,
    /// The token standing for each hidden patch in the decoder.
    pub mask_token: Param<Tensor<1>>,
    /// Self-attention over every patch and the global token.
    pub decoder: TransformerEncoder,
    /// Each decoded patch → its pixels.
    pub output: Linear,
    /// Sinusoidal positions of the patches at the encoder's width.
    pub positions: PositionalEncoding,
    /// Sinusoidal positions of the patches at the decoder's width.
    pub decoder_positions: PositionalEncoding,
    #[module(skip)]
    image: [usize; 3],
    #[module(skip)]
    patch: usize,
    #[module(skip)]
    hidden: usize,
    #[module(skip)]
    output_activation: Activation,
    #[module(skip)]
    reconstruction: Reconstruction,
}

impl MaskedAutoencoderConfig {
    /// Checks every size, the patches against the image, the mask ratio and the
    /// objective.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("image", self.image.iter().product()),
            ("latent", self.latent),
            ("patch", self.patch),
            ("heads", self.heads),
            ("layers", self.layers),
            ("decoder_layers", self.decoder_layers),
        ] {
            if value == 0 {
                return Err(ConfigError::new(field, "0", "a positive size"));
            }
        }
        let [_, h, w] = self.image;
        if !h.is_multiple_of(self.patch) || !w.is_multiple_of(self.patch) {
            return Err(ConfigError::new(
                "patch",
                self.patch.to_string(),
                format!("a side that divides the {h}x{w} image"),
            ));
        }
        for (field, width) in [("width", self.width), ("decoder_width", self.decoder_width)] {
            if width == 0 || !width.is_multiple_of(self.heads) {
                return Err(ConfigError::new(
                    field,
                    width.to_string(),
                    format!("a positive multiple of the {} heads", self.heads),
                ));
            }
        }
        let patches = self.patches();
        let hidden = self.hidden_patches();
        if !(self.mask_ratio > 0.0 && self.mask_ratio < 1.0) || hidden == 0 || hidden == patches {
            return Err(ConfigError::new(
                "mask_ratio",
                self.mask_ratio.to_string(),
                format!(
                    "a share in (0, 1) that hides at least one of the {patches} patches and leaves one"
                ),
            ));
        }
        self.reconstruction.validate(self.output_activation)
    }

    /// Values per sample.
    pub fn input_size(&self) -> usize {
        self.image.iter().product()
    }

    /// Patches per image.
    pub fn patches(&self) -> usize {
        let [_, h, w] = self.image;
        (h / self.patch.max(1)) * (w / self.patch.max(1))
    }

    /// Values per patch.
    pub fn patch_size(&self) -> usize {
        self.image[0] * self.patch * self.patch
    }

    /// Patches hidden from the encoder in each image: the ratio's share, rounded.
    pub fn hidden_patches(&self) -> usize {
        (self.patches() as f64 * self.mask_ratio).round() as usize
    }

    /// The inner width of a layer's feed-forward part: twice its width.
    pub fn feed_forward(width: usize) -> usize {
        2 * width
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> Result<MaskedAutoencoder, ConfigError> {
        self.validate()?;
        let stack = |width, layers| {
            TransformerEncoderConfig::new(width, Self::feed_forward(width), self.heads, layers)
                .with_dropout(0.0)
                .init(device)
        };
        let positions = |width| {
            PositionalEncodingConfig::new(width)
                .with_max_sequence_size(self.patches())
                .init(device)
        };
        let (w, dw) = (self.width, self.decoder_width);
        Ok(MaskedAutoencoder {
            embed: LinearConfig::new(self.patch_size(), w).init(device),
            encoder: stack(w, self.layers),
            to_code: LinearConfig::new(w, self.latent).init(device),
            from_code: LinearConfig::new(self.latent, dw).init(device),
            to_decoder: LinearConfig::new(w, dw).init(device),
            mask_token: Param::from_tensor(Tensor::random(
                [dw],
                Distribution::Normal(0.0, 0.02),
                device,
            )),
            decoder: stack(dw, self.decoder_layers),
            output: LinearConfig::new(dw, self.patch_size()).init(device),
            positions: positions(w),
            decoder_positions: positions(dw),
            image: self.image,
            patch: self.patch,
            hidden: self.hidden_patches(),
            output_activation: self.output_activation,
            reconstruction: self.reconstruction,
        })
    }
}

impl MaskedAutoencoder {
    /// Patches per row and per column of the image.
    fn grid(&self) -> [usize; 2] {
        [self.image[1] / self.patch, self.image[2] / self.patch]
    }

    /// Flattened images as their patches, row after row, `[batch, patches, c·p·p]`.
    fn patchify(&self, images: Tensor<2>) -> Tensor<3> {
        let batch = images.dims()[0];
        let ([c, _, _], p, [gh, gw]) = (self.image, self.patch, self.grid());
        images
            .reshape([batch, c, gh, p, gw * p])
            .reshape([batch * c * gh, p, gw, p])
            .swap_dims(1, 2) // [batch·c·gh, gw, p, p]
            .reshape([batch, c, gh * gw, p * p])
            .swap_dims(1, 2) // [batch, patches, c, p·p]
            .reshape([batch, gh * gw, c * p * p])
    }

    /// The inverse of [`Self::patchify`].
    fn unpatchify(&self, patches: Tensor<3>) -> Tensor<2> {
        let batch = patches.dims()[0];
        let ([c, h, w], p, [gh, gw]) = (self.image, self.patch, self.grid());
        patches
            .reshape([batch, gh * gw, c, p * p])
            .swap_dims(1, 2)
            .reshape([batch * c * gh, gw, p, p])
            .swap_dims(1, 2)
            .reshape([batch, c * h * w])
    }

    /// Every patch embedded at its position, `[batch, patches, width]`.
    fn embedded(&self, images: Tensor<2>) -> Tensor<3> {
        self.positions
            .forward(self.embed.forward(self.patchify(images)))
    }

    /// The code of encoded patches: their mean, projected.
    fn code_of(&self, encoded: Tensor<3>) -> Tensor<2> {
        self.to_code.forward(encoded.mean_dim(1).squeeze_dim(1))
    }

    /// The decoder's prediction of every patch's pixels before and after the output
    /// activation, `[batch, patches, c·p·p]`, from the code and `tokens`, one per
    /// patch at the decoder's width.
    fn predict(&self, code: Tensor<2>, tokens: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let global = self.from_code.forward(code).unsqueeze_dim(1);
        let tokens = Tensor::cat(vec![global, self.decoder_positions.forward(tokens)], 1);
        let decoded = self.decoder.forward(TransformerEncoderInput::new(tokens));
        let [batch, n, width] = decoded.dims();
        let pre = self
            .output
            .forward(decoded.slice([0..batch, 1..n, 0..width]));
        (pre.clone(), self.output_activation.forward(pre))
    }

    /// The mask token at every one of `n` places of `batch` images.
    fn mask_tokens(&self, batch: usize, n: usize) -> Tensor<3> {
        let width = self.mask_token.dims()[0];
        self.mask_token
            .val()
            .reshape([1, 1, width])
            .expand([batch, n, width])
    }
}

/// `tokens` `[batch, n, width]` reordered along dim 1 by `order` `[batch, m]`.
fn take(tokens: Tensor<3>, order: Tensor<2, Int>) -> Tensor<3> {
    let width = tokens.dims()[2];
    let index = order.unsqueeze_dim::<3>(2).repeat_dim(2, width);
    tokens.gather(1, index)
}

impl Autoencoder for MaskedAutoencoder {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        let tokens = self.embedded(input);
        self.code_of(self.encoder.forward(TransformerEncoderInput::new(tokens)))
    }

    fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        let batch = code.dims()[0];
        let tokens = self.mask_tokens(batch, self.grid().iter().product());
        let (_, patches) = self.predict(code, tokens);
        self.unpatchify(patches)
    }

    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput {
        let device = input.device();
        let batch = input.dims()[0];
        let n = self.grid().iter().product::<usize>();
        let visible = n - self.hidden;
        // A random order of each image's patches: the first `visible` are shown.
        let order = Tensor::<2>::random([batch, n], Distribution::Default, &device).argsort(1);
        let restore = order.clone().argsort(1);
        let shown = order.slice([0..batch, 0..visible]);
        let encoded = self.encoder.forward(TransformerEncoderInput::new(take(
            self.embedded(input.clone()),
            shown,
        )));
        let code = self.code_of(encoded.clone());
        let tokens = Tensor::cat(
            vec![
                self.to_decoder.forward(encoded),
                self.mask_tokens(batch, self.hidden),
            ],
            1,
        );
        let (pre, predicted) = self.predict(code.clone(), take(tokens, restore.clone()));
        // 1 for each hidden patch, in the image's order.
        let hidden = Tensor::cat(
            vec![
                Tensor::<2>::zeros([batch, visible], &device),
                Tensor::<2>::ones([batch, self.hidden], &device),
            ],
            1,
        )
        .gather(1, restore)
        .unsqueeze_dim::<3>(2);
        let target = self.patchify(input);
        let size = target.dims()[2];
        let flat = |t: Tensor<3>| t.reshape([batch, n * size]);
        let losses = self.reconstruction.elementwise(
            flat(pre),
            flat(predicted.clone()),
            flat(target.clone()),
            self.output_activation,
        );
        let weights = flat(hidden.clone().expand([batch, n, size]));
        let value = (losses * weights)
            .sum()
            .div_scalar((batch * self.hidden * size) as f32);
        let shown_input = target.clone() * hidden.clone().neg().add_scalar(1.0);
        let reconstruction = self.unpatchify(predicted * hidden + shown_input);
        let terms = vec![LossTerm {
            name: "reconstruction",
            value,
        }];
        AutoencoderOutput::from_terms(reconstruction, code, terms)
    }
}

impl Family {
    /// Masked autoencoder over image patches.
    pub const MAE: Family = Family::new(&FamilySpec {
        name: "mae",
        description: "Masked autoencoder: self-attention over the visible patches of images, the hidden ones predicted",
        reads: Reads::Patches,
        // Patches of 4×4 and a code of 32 (see `MaskedAutoencoderConfig`).
        defaults: |shape| {
            Some(MaskedAutoencoderConfig::new(shape.image()?, 32).into())
        },
        ..FamilySpec::ORDINARY
    });
}

impl FamilyConfig for MaskedAutoencoderConfig {
    fn family(&self) -> Family {
        Family::MAE
    }

    fn input_size(&self) -> usize {
        MaskedAutoencoderConfig::input_size(self)
    }

    fn latent(&self) -> usize {
        self.latent
    }

    fn image_shape(&self) -> Option<[usize; 3]> {
        Some(self.image)
    }

    fn size(&self) -> Result<ModelSize, ConfigError> {
        let (n, d, w, dw) = (self.patches(), self.patch_size(), self.width, self.decoder_width);
        let ff = Self::feed_forward;
        // Counted as `encode` and `decode` run: every patch through the encoder, the
        // global token and every patch through the decoder (the mask token, one
        // vector, with the decoder's projection).
        Ok(size::per_step(&[d, w], n)
            .add(size::attention(self.layers, w, ff(w), n))
            .add(size::dense(&[w, self.latent, dw], true))
            .add(size::dense(&[w, dw], true))
            .add(ModelSize {
                parameters: dw as u64,
                ..ModelSize::default()
            })
            .add(size::attention(self.decoder_layers, dw, ff(dw), n + 1))
            .add(size::per_step(&[dw, d], n)))
    }

    fn loss_terms(&self) -> Vec<&'static str> {
        vec!["reconstruction"]
    }
}

impl FamilyModel for MaskedAutoencoder {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_saves_identically, first_last, test_images, train_on_sample};

    fn small(image: [usize; 3]) -> MaskedAutoencoderConfig {
        MaskedAutoencoderConfig::new(image, 8)
            .with_patch(7)
            .with_width(16)
            .with_decoder_width(16)
            .with_layers(1)
            .with_decoder_layers(1)
    }

    #[test]
    fn patches_tile_the_image_and_back() {
        let device = Device::flex();
        let model = small([3, 14, 21]).init(&device).expect("valid");
        let values: Vec<f32> = (0..2 * 3 * 14 * 21).map(|v| v as f32).collect();
        let images = Tensor::<2>::from_data(TensorData::new(values, [2, 3 * 14 * 21]), &device);
        let patches = model.patchify(images.clone());
        assert_eq!(patches.dims(), [2, 6, 3 * 49]);
        // Patch 1 (row 0, column 1) of image 0: channel 0 starts at pixel (0, 7), its
        // second row at (1, 7); channel 1 starts one plane later.
        let first = patches.clone().slice([0..1, 1..2, 0..3 * 49]);
        let v = first.into_data().try_to_vec::<f32>().expect("floats");
        assert_eq!(v[0], 7.0);
        assert_eq!(v[7], 21.0 + 7.0);
        assert_eq!(v[49], (14 * 21 + 7) as f32);
        model
            .unpatchify(patches)
            .into_data()
            .assert_eq(&images.into_data(), true);
    }

    #[test]
    fn the_loss_counts_hidden_patches_and_shown_ones_pass_through() {
        let device = Device::flex();
        let _seeded = crate::testing::seeded(&device, 3);
        let model = small([1, 28, 28]).init(&device).expect("valid");
        let x = test_images(4, &device);
        let out = model.forward(x.clone());
        // 16 patches of 7×7, 12 hidden: 4 per image come back exactly as given.
        let same = out.reconstruction.equal(x).int().sum_dim(1);
        let same = same.into_data().convert::<i64>().try_to_vec::<i64>().expect("ints");
        assert!(same.iter().all(|&s| s >= 4 * 49), "{same:?}");
        assert!(
            same.iter().all(|&s| s < 784),
            "hidden patches predicted: {same:?}"
        );
    }

    #[test]
    fn it_learns_real_images_and_saves_identically() {
        let device = Device::flex().autodiff();
        let _seeded = crate::testing::seeded(&device, 11);
        let config = || small([1, 28, 28]);
        let model = config().init(&device).expect("valid");
        let (model, losses) = train_on_sample(model, &device, 400, 3e-3, None);
        let (first, last) = first_last(&losses, 5);
        println!("masked loss {first} -> {last}");
        assert!(last < 0.4 * first, "masked loss {first} -> {last}");

        let plain = device.clone().without_autodiff();
        let model = model.valid();
        assert_saves_identically(&model, config().init(&plain).expect("valid"));
    }

    #[test]
    fn mask_ratios_and_patches_that_do_not_fit_are_named() {
        for ratio in [0.0, 1.0, -0.5, 0.01, 0.99] {
            let err = small([1, 28, 28])
                .with_mask_ratio(ratio)
                .validate()
                .expect_err("ratio");
            assert_eq!(err.field, "mask_ratio", "{ratio}");
            assert!(err.to_string().contains("16 patches"), "{err}");
        }
        let err = small([1, 28, 28]).with_patch(6).validate().expect_err("6");
        assert_eq!(err.field, "patch");
        assert!(err.to_string().contains("28x28"), "{err}");
        let err = small([1, 28, 28])
            .with_decoder_width(18)
            .validate()
            .expect_err("18 / 4");
        assert_eq!(err.field, "decoder_width");
    }
}
