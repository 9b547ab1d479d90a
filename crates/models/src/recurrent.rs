//! Recurrent sequence-to-sequence autoencoders (LSTM or GRU): an encoder reads the
//! steps of a sequence and its last hidden state, through a linear layer, is the code;
//! the decoder starts from a state made of the code and unrolls as many steps, reading
//! the code at each, and a linear layer turns each hidden state into a step's values
//! (the "repeat vector" design of Srivastava et al., 2015, and of Keras's LSTM
//! autoencoder example).

use burn::nn::{Gru, GruConfig, Linear, LinearConfig, Lstm, LstmConfig, LstmState};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::any::{FamilyConfig, FamilyModel};
use crate::family::{FamilySpec, Reads};
use crate::output::reconstruction_only;
use crate::size::{self, ModelSize};
use crate::{
    Activation, Autoencoder, AutoencoderOutput, ConfigError, Family, InputShape,
    ModelConfig, Noise, Reconstruction,
};

/// The recurrent cell of a [`RecurrentAutoencoder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cell {
    /// Long short-term memory (Hochreiter & Schmidhuber, 1997): four gates.
    Lstm,
    /// Gated recurrent unit (Cho et al., 2014): three gates.
    Gru,
}

impl Cell {
    /// Gates per unit, each an input and a hidden transform.
    pub fn gates(self) -> usize {
        match self {
            Self::Lstm => 4,
            Self::Gru => 3,
        }
    }
}

/// Configuration of a [`RecurrentAutoencoder`].
///
/// ```
/// use ae_models::{Autoencoder, Cell, RecurrentAutoencoderConfig};
/// use burn::prelude::*;
///
/// let device = Device::flex();
/// // Windows of 24 steps of 2 values, an LSTM of 32 units, a code of 6.
/// let model = RecurrentAutoencoderConfig::new(24, 2, Cell::Lstm, 32, 6).init(&device)?;
/// let windows = Tensor::<2>::zeros([5, 48], &device);
/// assert_eq!(model.encode(windows.clone()).dims(), [5, 6]);
/// assert_eq!(model.forward(windows).reconstruction.dims(), [5, 48]);
/// # Ok::<(), ae_models::ConfigError>(())
/// ```
#[derive(Config, Debug)]
pub struct RecurrentAutoencoderConfig {
    /// Steps per sequence.
    pub steps: usize,
    /// Values per step.
    pub channels: usize,
    /// The cell of the encoder and the decoder.
    pub cell: Cell,
    /// Units of the encoder's and the decoder's recurrent layer.
    pub hidden: usize,
    /// Size of the code.
    pub latent: usize,
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

/// A recurrent layer: an LSTM or a GRU, batch first.
// Built once with its model: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Recurrent {
    /// An LSTM.
    Lstm(Lstm),
    /// A GRU.
    Gru(Gru),
}

impl Recurrent {
    fn new(cell: Cell, d_input: usize, d_hidden: usize, device: &Device) -> Self {
        match cell {
            Cell::Lstm => Self::Lstm(LstmConfig::new(d_input, d_hidden, true).init(device)),
            Cell::Gru => Self::Gru(GruConfig::new(d_input, d_hidden, true).init(device)),
        }
    }

    /// The hidden state after every step, `[batch, steps, hidden]`, and after the
    /// last, `[batch, hidden]`, from the hidden state `start` (zeros when `None`).
    fn run(&self, input: Tensor<3>, start: Option<Tensor<2>>) -> (Tensor<3>, Tensor<2>) {
        match self {
            Self::Lstm(lstm) => {
                let state = start.map(|h| LstmState::new(h.zeros_like(), h));
                let (all, last) = lstm.forward(input, state);
                (all, last.hidden)
            }
            Self::Gru(gru) => {
                let all = gru.forward(input, start);
                let [batch, steps, hidden] = all.dims();
                let last = all
                    .clone()
                    .slice([0..batch, steps - 1..steps, 0..hidden])
                    .reshape([batch, hidden]);
                (all, last)
            }
        }
    }
}

/// A recurrent sequence-to-sequence autoencoder. Build it with
/// [`RecurrentAutoencoderConfig::init`]. Inputs are sequences flattened step after
/// step, `[batch, steps · channels]`.
#[derive(Module, Debug)]
pub struct RecurrentAutoencoder {
    /// Reads the input's steps.
    pub encoder: Recurrent,
    /// The encoder's last hidden state → code.
    pub to_code: Linear,
    /// Code → the decoder's first hidden state.
    pub from_code: Linear,
    /// Unrolls the code over the steps.
    pub decoder: Recurrent,
    /// Each decoder state → a step's values.
    pub output: Linear,
    #[module(skip)]
    steps: usize,
    #[module(skip)]
    channels: usize,
    #[module(skip)]
    output_activation: Activation,
    #[module(skip)]
    reconstruction: Reconstruction,
    #[module(skip)]
    noise: Noise,
}

impl RecurrentAutoencoderConfig {
    /// Checks every size and the objective.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("steps", self.steps),
            ("channels", self.channels),
            ("hidden", self.hidden),
            ("latent", self.latent),
        ] {
            if value == 0 {
                return Err(ConfigError::new(field, "0", "a positive size"));
            }
        }
        self.noise.validate()?;
        self.reconstruction.validate(self.output_activation)
    }

    /// Values per sample.
    pub fn input_size(&self) -> usize {
        self.steps * self.channels
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> Result<RecurrentAutoencoder, ConfigError> {
        self.validate()?;
        Ok(RecurrentAutoencoder {
            encoder: Recurrent::new(self.cell, self.channels, self.hidden, device),
            to_code: LinearConfig::new(self.hidden, self.latent).init(device),
            from_code: LinearConfig::new(self.latent, self.hidden).init(device),
            decoder: Recurrent::new(self.cell, self.latent, self.hidden, device),
            output: LinearConfig::new(self.hidden, self.channels).init(device),
            steps: self.steps,
            channels: self.channels,
            output_activation: self.output_activation,
            reconstruction: self.reconstruction,
            noise: self.noise,
        })
    }
}

impl RecurrentAutoencoder {
    /// The decoder's output before and after the output activation, flattened.
    fn decode_with_logits(&self, code: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let [batch, latent] = code.dims();
        let start = self.from_code.forward(code.clone()).tanh();
        let inputs = code
            .reshape([batch, 1, latent])
            .expand([batch, self.steps, latent]);
        let (states, _) = self.decoder.run(inputs, Some(start));
        let pre = self
            .output
            .forward(states)
            .reshape([batch, self.steps * self.channels]);
        (pre.clone(), self.output_activation.forward(pre))
    }
}

impl Autoencoder for RecurrentAutoencoder {
    fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        let batch = input.dims()[0];
        let steps = input.reshape([batch, self.steps, self.channels]);
        let (_, last) = self.encoder.run(steps, None);
        self.to_code.forward(last)
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

/// A recurrent family's default for windows of a series: one layer of 64 units each
/// way and a window's code size.
fn recurrent_defaults(shape: InputShape, cell: Cell) -> Option<ModelConfig> {
    let (steps, channels) = shape.sequence()?;
    let config = RecurrentAutoencoderConfig::new(steps, channels, cell, 64, shape.code_size());
    Some(config.into())
}

impl Family {
    /// LSTM sequence-to-sequence autoencoder.
    pub const LSTM: Family = Family::new(&FamilySpec {
        name: "lstm",
        description: "LSTM sequence-to-sequence autoencoder: the code is the encoder's last state, the decoder unrolls it",
        reads: Reads::Sequences,
        defaults: |shape| recurrent_defaults(shape, Cell::Lstm),
        ..FamilySpec::ORDINARY
    });

    /// GRU sequence-to-sequence autoencoder.
    pub const GRU: Family = Family::new(&FamilySpec {
        name: "gru",
        description: "GRU sequence-to-sequence autoencoder, as lstm with gated recurrent units",
        reads: Reads::Sequences,
        defaults: |shape| recurrent_defaults(shape, Cell::Gru),
        ..FamilySpec::ORDINARY
    });
}

impl FamilyConfig for RecurrentAutoencoderConfig {
    fn family(&self) -> Family {
        match self.cell {
            Cell::Lstm => Family::LSTM,
            Cell::Gru => Family::GRU,
        }
    }

    fn input_size(&self) -> usize {
        RecurrentAutoencoderConfig::input_size(self)
    }

    fn latent(&self) -> usize {
        self.latent
    }

    fn size(&self) -> Result<ModelSize, ConfigError> {
        let (gates, h) = (self.cell.gates(), self.hidden);
        Ok(size::recurrent(gates, self.channels, h, self.steps)
            .add(size::dense(&[h, self.latent, h], true))
            .add(size::recurrent(gates, self.latent, h, self.steps))
            .add(size::per_step(&[h, self.channels], self.steps)))
    }

    fn loss_terms(&self) -> Vec<&'static str> {
        vec!["reconstruction"]
    }
}

impl FamilyModel for RecurrentAutoencoder {}

#[cfg(test)]
#[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
mod tests {
    use super::*;
    use crate::testing::{first_last, save_load, train_on_batch, waves};

    #[test]
    fn each_cell_learns_a_wave_and_saves_identically() {
        for cell in [Cell::Lstm, Cell::Gru] {
            let device = Device::ndarray().autodiff();
            let _seeded = crate::testing::seeded(&device, 4);
            let config = || RecurrentAutoencoderConfig::new(16, 1, cell, 16, 4);
            let x = Tensor::<2>::from_data(waves(32, 16), &device);
            let model = config().init(&device).expect("valid config");
            let (model, losses) = train_on_batch(model, x, 60, 1e-2);
            let (first, last) = first_last(&losses, 3);
            assert!(last < 0.3 * first, "{cell:?} loss {first} -> {last}");

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
    }

    #[test]
    fn sizes_of_zero_are_named() {
        let err = RecurrentAutoencoderConfig::new(24, 1, Cell::Gru, 0, 4)
            .validate()
            .expect_err("no units");
        assert_eq!(err.field, "hidden");
        let err = RecurrentAutoencoderConfig::new(0, 1, Cell::Lstm, 8, 4)
            .validate()
            .expect_err("no steps");
        assert_eq!(err.field, "steps");
    }
}
