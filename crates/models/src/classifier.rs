//! Transfer learning: a linear classifier head on an autoencoder's encoder.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

use crate::{AnyAutoencoder, Autoencoder};

/// An autoencoder's encoder followed by a linear layer to class logits. Only the
/// encoder is used; the decoder's weights come along unused.
#[derive(Module, Debug)]
pub struct Classifier {
    /// The autoencoder whose code feeds the head.
    pub encoder: AnyAutoencoder,
    /// Code → logits.
    pub head: Linear,
}

impl Classifier {
    /// A fresh head of `classes` outputs on `encoder`, whose codes have `latent` units.
    pub fn new(encoder: AnyAutoencoder, latent: usize, classes: usize, device: &Device) -> Self {
        Self {
            encoder,
            head: LinearConfig::new(latent, classes).init(device),
        }
    }

    /// Class logits, `[batch, features]` → `[batch, classes]`. With `frozen` the code
    /// is detached: gradients reach the head only, the encoder keeps its weights.
    pub fn logits(&self, input: Tensor<2>, frozen: bool) -> Tensor<2> {
        let code = self.encoder.encode(input);
        let code = if frozen { code.detach() } else { code };
        self.head.forward(code)
    }

    /// Mean cross-entropy of the logits against `targets` (`[batch]` class indices).
    pub fn loss(&self, input: Tensor<2>, targets: Tensor<1, Int>, frozen: bool) -> Tensor<1> {
        let logits = self.logits(input, frozen);
        CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits, targets)
    }
}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;
    use crate::{MlpAutoencoderConfig, ModelConfig};
    use burn::optim::{AdamConfig, GradientsParams};

    #[test]
    fn frozen_training_moves_the_head_only_and_the_loss_falls() {
        let device = Device::ndarray().autodiff();
        let _seeded = crate::testing::seeded(&device, 3);
        let encoder = ModelConfig::Mlp(MlpAutoencoderConfig::new(6, vec![], 3))
            .init(&device)
            .expect("valid");
        let mut model = Classifier::new(encoder, 3, 2, &device);
        // Class 0: first three features high; class 1: last three.
        let x = Tensor::<2>::from_floats(
            [
                [1.0, 1.0, 1.0, 0.0, 0.0, 0.0],
                [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
                [0.9, 1.0, 0.8, 0.1, 0.0, 0.2],
                [0.1, 0.0, 0.2, 0.9, 1.0, 0.8],
            ],
            &device,
        );
        let y = Tensor::<1, Int>::from_ints([0, 1, 0, 1], &device);
        let encoder_before = model.encoder.encode(x.clone()).into_data();
        let first: f32 = model.loss(x.clone(), y.clone(), true).into_scalar();
        let mut optim = AdamConfig::new().init();
        for _ in 0..300 {
            let loss = model.loss(x.clone(), y.clone(), true);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(5e-2, model, grads);
        }
        let last: f32 = model.loss(x.clone(), y.clone(), true).into_scalar();
        assert!(last < 0.5 * first, "loss {first} -> {last}");
        assert_eq!(model.encoder.encode(x.clone()).into_data(), encoder_before);
        // Unfrozen, the encoder moves too.
        let loss = model.loss(x.clone(), y, false);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let model = optim.step(1e-2, model, grads);
        assert_ne!(model.encoder.encode(x).into_data(), encoder_before);
    }
}
