//! Training glue for burn's `Learner`: the step output, its metrics, and the
//! `TrainStep`/`InferenceStep` implementations of every model family.
//!
//! A step takes a `[batch, features]` tensor of clean inputs and returns a
//! [`ReconstructionOutput`]; [`PixelMseMetric`] reports the mean squared error per
//! feature whatever loss the model trains with, so runs with different losses can
//! be compared.

use std::sync::Arc;

use burn::prelude::*;
use burn::tensor::TensorReadError;
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Adaptor, ItemLazy, LossInput, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric,
    NumericAttributes, NumericEntry, SerializedEntry,
};
use burn::train::{InferenceStep, TrainOutput, TrainStep};

use crate::{AnyAutoencoder, AutoencoderOutput, MlpAutoencoder};

/// One batch as the trainer feeds it: the clean inputs, `[batch, features]`, and
/// their class labels, `[batch]`, when the data set has them. Only a model that
/// trains with labels (a capsule autoencoder masked by the label) reads them.
#[derive(Clone, Debug)]
pub struct Batch {
    /// The inputs.
    pub input: Tensor<2>,
    /// The class of each input.
    pub labels: Option<Tensor<1, Int>>,
}

impl From<Tensor<2>> for Batch {
    fn from(input: Tensor<2>) -> Self {
        Self {
            input,
            labels: None,
        }
    }
}

/// What one training or validation step reports to the metrics.
pub struct ReconstructionOutput {
    /// The total loss, `[1]`.
    pub loss: Tensor<1>,
    /// The reconstruction, `[batch, features]`.
    pub reconstruction: Tensor<2>,
    /// The clean input it reconstructs, `[batch, features]`.
    pub target: Tensor<2>,
    /// Each named term of the loss, then each measure beside it, `[1]`.
    pub terms: Vec<(&'static str, Tensor<1>)>,
}

impl ReconstructionOutput {
    /// The step output of a forward pass on `target`.
    pub fn new(output: &AutoencoderOutput, target: Tensor<2>) -> Self {
        Self {
            loss: output.loss.clone(),
            reconstruction: output.reconstruction.clone(),
            target,
            terms: output
                .terms
                .iter()
                .chain(&output.measures)
                .map(|t| (t.name, t.value.clone()))
                .collect(),
        }
    }
}

impl ItemLazy for ReconstructionOutput {
    fn sync(self) -> Result<Self, burn::tensor::ExecutionError> {
        self.loss.device().flush()?;
        Ok(Self {
            loss: self.loss.without_autodiff(),
            reconstruction: self.reconstruction.without_autodiff(),
            target: self.target.without_autodiff(),
            terms: self
                .terms
                .into_iter()
                .map(|(n, t)| (n, t.without_autodiff()))
                .collect(),
        })
    }
}

/// The methods of a metric that averages a value over samples (fields `name` and
/// `state`), shared by every metric here.
macro_rules! mean_metric_methods {
    () => {
        fn name(&self) -> MetricName {
            self.name.clone()
        }

        fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
            Ok(self
                .state
                .compute_final(FormatOptions::new(self.name()).precision(5)))
        }

        fn clear(&mut self) {
            self.state.reset();
        }

        fn attributes(&self) -> MetricAttributes {
            NumericAttributes {
                unit: None,
                higher_is_better: false,
            }
            .into()
        }
    };
}

/// burn's `Numeric` view of such metrics.
macro_rules! mean_metric_numeric {
    ($($metric:ty),*) => {$(
        impl Numeric for $metric {
            fn value(&self) -> Option<NumericEntry> {
                Some(self.state.current_value())
            }

            fn running_value(&self) -> Option<NumericEntry> {
                Some(self.state.running_value())
            }

            fn final_value(&self) -> NumericEntry {
                self.state.final_value()
            }
        }
    )*};
}

impl Adaptor<LossInput> for ReconstructionOutput {
    fn adapt(&self) -> LossInput {
        LossInput::new(self.loss.clone())
    }
}

impl Adaptor<PixelMseInput> for ReconstructionOutput {
    fn adapt(&self) -> PixelMseInput {
        PixelMseInput {
            reconstruction: self.reconstruction.clone(),
            target: self.target.clone(),
        }
    }
}

impl Adaptor<LossTermsInput> for ReconstructionOutput {
    fn adapt(&self) -> LossTermsInput {
        LossTermsInput {
            terms: self.terms.clone(),
            batch: self.target.dims()[0],
        }
    }
}

/// Input of [`LossTermMetric`]: every term; each metric picks its own.
pub struct LossTermsInput {
    /// Name and value of each term.
    pub terms: Vec<(&'static str, Tensor<1>)>,
    /// Samples in the batch.
    pub batch: usize,
}

/// One named term of the loss (reconstruction, KL, sparsity, …), averaged over samples.
#[derive(Clone)]
pub struct LossTermMetric {
    term: &'static str,
    name: MetricName,
    state: NumericMetricState,
}

impl LossTermMetric {
    /// The metric of term `term`, logged as `term` (e.g. "kl").
    pub fn new(term: &'static str) -> Self {
        Self {
            term,
            name: Arc::new(term.to_string()),
            state: NumericMetricState::default(),
        }
    }
}

impl Metric for LossTermMetric {
    type Input = LossTermsInput;

    fn update(
        &mut self,
        item: &LossTermsInput,
        _meta: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let Some((_, value)) = item.terms.iter().find(|(n, _)| *n == self.term) else {
            return Ok(SerializedEntry::not_available(None));
        };
        let v = value.clone().try_into_scalar::<f64>()?;
        self.state.update(v, item.batch);
        Ok(self
            .state
            .compute_update(FormatOptions::new(self.name()).precision(5)))
    }

    mean_metric_methods!();
}

/// Input of [`PixelMseMetric`].
pub struct PixelMseInput {
    /// `[batch, features]`.
    pub reconstruction: Tensor<2>,
    /// `[batch, features]`.
    pub target: Tensor<2>,
}

/// Mean squared error per feature (per pixel), averaged over samples.
#[derive(Clone)]
pub struct PixelMseMetric {
    name: MetricName,
    state: NumericMetricState,
}

impl PixelMseMetric {
    /// The metric's name in logs and summaries.
    pub const NAME: &'static str = "Pixel MSE";

    /// A new metric.
    pub fn new() -> Self {
        Self {
            name: Arc::new(Self::NAME.to_string()),
            state: NumericMetricState::default(),
        }
    }
}

impl Default for PixelMseMetric {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for PixelMseMetric {
    type Input = PixelMseInput;

    fn update(
        &mut self,
        item: &PixelMseInput,
        _meta: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let [batch, _] = item.target.dims();
        let mse = (item.reconstruction.clone() - item.target.clone())
            .powi_scalar(2)
            .mean()
            .try_into_scalar::<f64>()?;
        self.state.update(mse, batch);
        Ok(self
            .state
            .compute_update(FormatOptions::new(self.name()).precision(5)))
    }

    mean_metric_methods!();
}

mean_metric_numeric!(LossTermMetric, PixelMseMetric);

/// Implements `TrainStep` and `InferenceStep` for autoencoders trained on their
/// own input. (Burn's traits can only be implemented in the crate that defines
/// the model type, hence this macro rather than a blanket implementation.)
macro_rules! reconstruction_steps {
    ($($model:ty),* $(,)?) => {$(
        impl burn::train::TrainStep for $model {
            type Input = burn::tensor::Tensor<2>;
            type Output = $crate::train::ReconstructionOutput;

            fn step(
                &self,
                input: burn::tensor::Tensor<2>,
            ) -> burn::train::TrainOutput<$crate::train::ReconstructionOutput> {
                let output = $crate::Autoencoder::forward(self, input.clone());
                let grads = output.loss.backward();
                burn::train::TrainOutput::new(
                    self,
                    grads,
                    $crate::train::ReconstructionOutput::new(&output, input),
                )
            }
        }

        impl burn::train::InferenceStep for $model {
            type Input = burn::tensor::Tensor<2>;
            type Output = $crate::train::ReconstructionOutput;

            fn step(&self, input: burn::tensor::Tensor<2>) -> $crate::train::ReconstructionOutput {
                let output = $crate::Autoencoder::forward(self, input.clone());
                $crate::train::ReconstructionOutput::new(&output, input)
            }
        }
    )*};
}

// Every family's model, from the table in `lib.rs`.
pub(crate) use reconstruction_steps;

impl TrainStep for AnyAutoencoder {
    type Input = Batch;
    type Output = ReconstructionOutput;

    fn step(&self, batch: Batch) -> TrainOutput<ReconstructionOutput> {
        let output = self.forward_batch(batch.input.clone(), batch.labels);
        let grads = output.loss.backward();
        TrainOutput::new(self, grads, ReconstructionOutput::new(&output, batch.input))
    }
}

impl InferenceStep for AnyAutoencoder {
    type Input = Batch;
    type Output = ReconstructionOutput;

    fn step(&self, batch: Batch) -> ReconstructionOutput {
        let output = self.forward_batch(batch.input.clone(), batch.labels);
        ReconstructionOutput::new(&output, batch.input)
    }
}

/// One stage of greedy layer-wise pretraining: the shallow autoencoder of layer pair
/// `layer` of a deep MLP autoencoder (see [`MlpAutoencoder::layer_pair`]), trainable by
/// burn's `Learner` like any model. Only the pair's two layers change.
#[derive(Module, Debug)]
pub struct LayerwiseStage {
    /// The deep autoencoder being pretrained.
    pub autoencoder: MlpAutoencoder,
    /// The layer pair this stage trains.
    #[module(skip)]
    pub layer: usize,
}

impl TrainStep for LayerwiseStage {
    type Input = Batch;
    type Output = ReconstructionOutput;

    fn step(&self, batch: Batch) -> TrainOutput<ReconstructionOutput> {
        let (target, output) = self.autoencoder.layer_pair(batch.input, self.layer);
        let grads = output.loss.backward();
        TrainOutput::new(self, grads, ReconstructionOutput::new(&output, target))
    }
}

impl InferenceStep for LayerwiseStage {
    type Input = Batch;
    type Output = ReconstructionOutput;

    fn step(&self, batch: Batch) -> ReconstructionOutput {
        let (target, output) = self.autoencoder.layer_pair(batch.input, self.layer);
        ReconstructionOutput::new(&output, target)
    }
}
