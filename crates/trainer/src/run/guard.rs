//! The divergence guard: stops training at the first step whose loss is not finite.

use std::sync::Arc;

use ae_models::train::ReconstructionOutput;
use burn::prelude::*;
use burn::tensor::TensorReadError;
use burn::train::Interrupter;
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, SerializedEntry,
};

/// The total loss of a step, as the guard reads it.
pub struct StepLoss {
    loss: Tensor<1>,
}

impl Adaptor<StepLoss> for ReconstructionOutput {
    fn adapt(&self) -> StepLoss {
        StepLoss {
            loss: self.loss.clone(),
        }
    }
}

/// A training "metric" that checks every step's loss and, when it is NaN or
/// infinite, stops the run through the Learner's interrupter with a reason that
/// names the epoch and the step. Burn checkpoints only at the end of an epoch, so the
/// last checkpoint on disk is from before the divergence.
#[derive(Clone)]
pub struct DivergenceGuard {
    interrupter: Interrupter,
    name: MetricName,
    epoch: usize,
    last_iteration: usize,
    tripped: bool,
}

impl DivergenceGuard {
    /// Prefix of the reason the guard gives; [`fit`](crate::run::fit) recognises it.
    pub const REASON: &'static str = "the loss diverged";

    /// A guard that stops through `interrupter`, counting epochs from `first_epoch`.
    pub fn new(interrupter: Interrupter, first_epoch: usize) -> Self {
        Self {
            interrupter,
            name: Arc::new("Divergence guard".to_string()),
            epoch: first_epoch,
            last_iteration: 0,
            tripped: false,
        }
    }
}

impl Metric for DivergenceGuard {
    type Input = StepLoss;

    fn update(
        &mut self,
        item: &StepLoss,
        meta: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let iteration = meta.iteration.unwrap_or(self.last_iteration + 1);
        if iteration <= self.last_iteration {
            self.epoch += 1;
        }
        self.last_iteration = iteration;
        let loss = item.loss.clone().try_into_scalar::<f64>()?;
        if !loss.is_finite() && !self.tripped {
            self.tripped = true;
            self.interrupter.stop(Some(&format!(
                "{}: loss = {loss} at epoch {}, step {iteration}",
                Self::REASON,
                self.epoch
            )));
        }
        Ok(SerializedEntry::not_available(None))
    }

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(SerializedEntry::not_available(None))
    }

    fn clear(&mut self) {}

    fn attributes(&self) -> MetricAttributes {
        MetricAttributes::None
    }
}
