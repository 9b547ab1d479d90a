//! The metrics of a run, epoch by epoch, as burn's Learner logged them.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use burn::train::LearnerSummary;
use serde::Serialize;

/// Metrics of one epoch, averaged over it.
#[derive(Clone, Debug, Serialize)]
pub struct EpochMetrics {
    /// 1-based epoch.
    pub epoch: usize,
    /// Training split: metric name → value.
    pub train: BTreeMap<String, f64>,
    /// Validation split: metric name → value.
    pub valid: BTreeMap<String, f64>,
}

/// Per-epoch means of the metrics `names` (as burn logs them), from the Learner's
/// logs in `dir`.
pub fn read_history(dir: &Path, names: &[&str]) -> Result<Vec<EpochMetrics>> {
    let summary =
        LearnerSummary::new(dir, names).map_err(|e| anyhow::anyhow!("reading metrics: {e}"))?;
    let mut epochs: Vec<EpochMetrics> = (1..=summary.epochs)
        .map(|epoch| EpochMetrics {
            epoch,
            train: Default::default(),
            valid: Default::default(),
        })
        .collect();
    let splits = [
        (&summary.metrics.train, true),
        (&summary.metrics.valid, false),
    ];
    for (metrics, is_train) in splits {
        for metric in metrics {
            for entry in &metric.entries {
                if let Some(e) = epochs.get_mut(entry.step.wrapping_sub(1)) {
                    let map = if is_train { &mut e.train } else { &mut e.valid };
                    map.insert(metric.name.clone(), entry.value);
                }
            }
        }
    }
    Ok(epochs)
}
