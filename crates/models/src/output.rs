//! The output every model family returns.

use burn::prelude::*;

/// One named term of a training objective (reconstruction, KL, sparsity, …).
#[derive(Clone, Debug)]
pub struct LossTerm {
    /// Short name, as shown in metrics.
    pub name: &'static str,
    /// Its value, already weighted as it enters the total, `[1]`.
    pub value: Tensor<1>,
}

/// What a forward pass of an autoencoder returns.
#[derive(Clone, Debug)]
pub struct AutoencoderOutput {
    /// The reconstruction, `[batch, features]`, in the data's range.
    pub reconstruction: Tensor<2>,
    /// The code, `[batch, latent]`.
    pub code: Tensor<2>,
    /// The total loss that training minimises, `[1]`.
    pub loss: Tensor<1>,
    /// The terms that add up to `loss`.
    pub terms: Vec<LossTerm>,
    /// Values measured on the batch beside the loss and not part of it (a sparse
    /// autoencoder's active latents, say), each `[1]`, reported like the terms.
    pub measures: Vec<LossTerm>,
}

impl AutoencoderOutput {
    /// An output whose loss is the sum of `terms` (at least one).
    pub fn from_terms(reconstruction: Tensor<2>, code: Tensor<2>, terms: Vec<LossTerm>) -> Self {
        let loss = terms
            .iter()
            .map(|t| t.value.clone())
            .reduce(|a, b| a + b)
            .expect("an objective has at least its reconstruction term");
        Self {
            reconstruction,
            code,
            loss,
            terms,
            measures: Vec::new(),
        }
    }

    /// The output with `measures` reported beside the loss.
    pub fn with_measures(mut self, measures: Vec<LossTerm>) -> Self {
        self.measures = measures;
        self
    }
}

/// The output of a forward pass whose objective is the reconstruction alone: `decoded`
/// is the decoder's output before and after `activation`, `input` the target.
pub(crate) fn reconstruction_only(
    code: Tensor<2>,
    decoded: (Tensor<2>, Tensor<2>),
    input: Tensor<2>,
    loss: crate::Reconstruction,
    activation: crate::Activation,
) -> AutoencoderOutput {
    let (pre, reconstruction) = decoded;
    let value = loss.mean(pre, reconstruction.clone(), input, activation);
    let terms = vec![LossTerm {
        name: "reconstruction",
        value,
    }];
    AutoencoderOutput::from_terms(reconstruction, code, terms)
}

/// The common interface of every autoencoder: encode, decode, and a forward pass
/// that computes the training objective against the input itself.
pub trait Autoencoder {
    /// The code of each input.
    ///
    /// # Shapes
    /// `[batch, features]` → `[batch, latent]`.
    fn encode(&self, input: Tensor<2>) -> Tensor<2>;

    /// The reconstruction of each code, in the data's range.
    ///
    /// # Shapes
    /// `[batch, latent]` → `[batch, features]`.
    fn decode(&self, code: Tensor<2>) -> Tensor<2>;

    /// Encodes, decodes and computes the loss against `input`.
    ///
    /// # Shapes
    /// `[batch, features]` → reconstruction `[batch, features]`, code `[batch, latent]`.
    fn forward(&self, input: Tensor<2>) -> AutoencoderOutput;
}

/// A code of `symbols` symbols, each one of `alphabet` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiscreteCode {
    /// Symbols per sample (a VQ-VAE's grid positions).
    pub symbols: usize,
    /// Values each symbol takes (a VQ-VAE's codebook entries).
    pub alphabet: usize,
}

impl DiscreteCode {
    /// Bits that store one sample's code exactly, symbols × log₂ alphabet (without
    /// entropy coding).
    pub fn bits(&self) -> f64 {
        self.symbols as f64 * (self.alphabet as f64).log2()
    }
}
