//! Plain progress lines for runs without a terminal (CI, pipes, log files).
//!
//! Burn's own fallback prints a debug dump for every batch; this renderer prints a
//! line at each quarter of a split and one at its end, with the running metrics.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::{MetricDefinition, MetricId};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};
use burn::train::{LearnerModel, SupervisedTraining};

/// A bar of `steps` on standard error for a long computation outside training,
/// `what` naming the steps (drawn only on a terminal; finish it with
/// `finish_and_clear`).
pub fn bar(steps: usize, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(steps as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{what} {{bar:30}} {{pos}}/{{len}} [{{elapsed_precise}}, {{eta}} left]"
    )) {
        bar.set_style(style);
    }
    bar
}

/// burn's dashboard in a terminal, else a line per quarter epoch.
pub fn with_renderer<M: LearnerModel>(training: SupervisedTraining<M>) -> SupervisedTraining<M> {
    if cfg!(feature = "tui") && std::io::stdout().is_terminal() {
        training
    } else {
        training.renderer(Box::new(PlainRenderer::new()))
    }
}

/// A [`MetricsRenderer`] that prints a few lines per epoch.
#[derive(Default)]
pub struct PlainRenderer {
    names: BTreeMap<String, String>,
    latest: BTreeMap<String, f64>,
    epoch: usize,
    epochs: usize,
    split: String,
    total: usize,
    next_mark: usize,
}

impl PlainRenderer {
    /// A renderer that prints to standard output.
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&mut self, state: MetricState) {
        if let MetricState::Numeric(entry, Some(value)) = state {
            let name = self.name(&entry.metric_id);
            self.latest.insert(name, value.current());
        }
    }

    fn name(&self, id: &MetricId) -> String {
        let key = format!("{id:?}");
        self.names.get(&key).cloned().unwrap_or(key)
    }

    fn line(&self, what: &str) {
        let metrics: Vec<String> = self
            .latest
            .iter()
            .map(|(k, v)| format!("{k} {v:.5}"))
            .collect();
        println!(
            "epoch {}/{} {:<5} {what:>14}  {}",
            self.epoch,
            self.epochs,
            self.split,
            metrics.join("  ")
        );
        let _ = std::io::stdout().flush();
    }
}

impl MetricsRendererTraining for PlainRenderer {
    fn update_train(&mut self, state: MetricState) {
        self.record(state);
    }

    fn update_valid(&mut self, state: MetricState) {
        self.record(state);
    }
}

impl TrainingProgressLogger for PlainRenderer {
    fn start(
        &mut self,
        total_epochs: usize,
        starting_epoch: usize,
        _items: Option<usize>,
        _label: Option<&str>,
    ) {
        self.epochs = total_epochs;
        // `starting_epoch` is the 1-based epoch about to run; each train split counts one.
        self.epoch = starting_epoch.saturating_sub(1);
    }

    fn update_epoch(&mut self, _epoch: usize) {}

    fn start_split(&mut self, split: &str, total_items: usize) {
        if split.eq_ignore_ascii_case("train") {
            self.epoch += 1;
        }
        self.split = split.to_lowercase();
        self.total = total_items;
        self.next_mark = total_items.div_ceil(4);
        self.latest.clear();
    }

    fn update_split(&mut self, items: usize) {
        if items >= self.next_mark && items < self.total {
            self.line(&format!("{items}/{}", self.total));
            self.next_mark += self.total.div_ceil(4).max(1);
        }
    }

    fn end_split(&mut self) {
        self.line("done");
    }

    fn end(&mut self) {}

    // Per-iteration events: one line per batch is what this renderer avoids.
    fn log_event_training(&mut self, _event: String) {}
}

impl EvaluationProgressLogger for PlainRenderer {
    fn start_global_progress(&mut self, _total: usize) {}
    fn start_test(&mut self, _name: &str, _total: usize) {}
    fn update_test_progress(&mut self, _items: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRendererEvaluation for PlainRenderer {
    fn update_test(&mut self, _name: EvaluationName, state: MetricState) {
        self.record(state);
    }
}

impl MetricsRenderer for PlainRenderer {
    fn manual_close(&mut self) {}

    fn register_metric(&mut self, definition: MetricDefinition) {
        self.names.insert(
            format!("{:?}", definition.metric_id),
            definition.name.to_string(),
        );
    }
}
