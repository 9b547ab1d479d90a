//! The strided-convolution stack the convolutional families share — its shape, the
//! encoder's convolutions and the decoder's transposed mirror — over images or along
//! the steps of sequences.

use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;

use crate::{Activation, ConfigError};

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
    pub(crate) inner: [usize; 3],
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    sequence: bool,
}

/// A batch of flattened samples as the `[batch, c, h, w]` maps the convolutions take:
/// an image as it is; a sequence of `w` steps of `c` values, stored step after step,
/// as `c` planes of 1 × `w`.
pub(crate) fn to_planes(input: Tensor<2>, [c, h, w]: [usize; 3], sequence: bool) -> Tensor<4> {
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
pub(crate) fn from_planes(planes: Tensor<4>, sequence: bool) -> Tensor<2> {
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
