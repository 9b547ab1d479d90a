//! Metrics a tracker can read while a run goes on: `metrics.jsonl` in the artifact
//! gets one line per split as each epoch's split ends, the epoch's mean of every
//! numeric metric (`{"epoch":1,"split":"train","Loss":0.042,…}`), appended and
//! flushed at once. burn's own logs, which resume reads, are kept beside it. A resumed
//! run appends the epochs it runs, so an epoch a kill interrupted may show twice: the
//! later line is the one that counts.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, NumericEntry};

/// The file's name in the artifact.
pub const LIVE_METRICS_FILE: &str = "metrics.jsonl";

/// A [`MetricLogger`] that appends each epoch's means as a JSON line.
pub struct JsonlLogger {
    path: PathBuf,
    names: BTreeMap<String, String>,
    /// The latest epoch mean of each metric of the split under way.
    current: BTreeMap<String, f64>,
}

impl JsonlLogger {
    /// A logger appending to `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            names: BTreeMap::new(),
            current: BTreeMap::new(),
        }
    }

    fn append(&self, line: &str) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        writeln!(file, "{line}")?;
        file.flush()
    }
}

/// The split's name in the file.
fn split_name(split: &Split) -> String {
    match split {
        Split::Train => "train".into(),
        Split::Valid => "valid".into(),
        Split::Test(None) => "test".into(),
        Split::Test(Some(tag)) => format!("test-{tag}"),
    }
}

impl MetricLogger for JsonlLogger {
    fn log(&mut self, update: MetricsUpdate, _epoch: usize, _split: &Split) {
        for numeric in update.entries_numeric {
            let key = format!("{:?}", numeric.entry.metric_id);
            let name = self.names.get(&key).cloned().unwrap_or(key);
            // The epoch's value: the final one when burn computes it, else the running
            // mean of the epoch so far.
            let value = match (&numeric.numeric_entry, &numeric.running_entry) {
                (Some(NumericEntry::Final(v)), _) => Some(*v),
                (_, Some(running)) => Some(running.current()),
                (Some(entry), None) => Some(entry.current()),
                (None, None) => None,
            };
            if let Some(v) = value.filter(|v| v.is_finite()) {
                self.current.insert(name, v);
            }
        }
    }

    fn read_numeric(
        &mut self,
        name: &str,
        _epoch: usize,
        _split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        // burn's file logger, registered first, answers; this one only writes.
        Err(format!(
            "{} keeps no entries of {name} to read",
            self.path.display()
        ))
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names.insert(
            format!("{:?}", definition.metric_id),
            definition.name.to_string(),
        );
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        let mut line = serde_json::Map::new();
        line.insert("epoch".into(), summary.epoch_number.into());
        line.insert("split".into(), split_name(&summary.split).into());
        for (name, value) in std::mem::take(&mut self.current) {
            line.insert(name, value.into());
        }
        let text = serde_json::Value::Object(line).to_string();
        // A tracker's file that cannot be written must not stop the run: say so once
        // per epoch on standard error.
        if let Err(e) = self.append(&text) {
            eprintln!("cannot append to {}: {e}", self.path.display());
        }
    }
}
