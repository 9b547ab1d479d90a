//! Metrics a tracker can read while a run goes on, written as each epoch's split
//! ends: `metrics.jsonl` in the artifact gets one line per split, the epoch's mean of
//! every numeric metric (`{"epoch":1,"split":"train","Loss":0.042,…}`), appended and
//! flushed at once; `tensorboard/train/` and `tensorboard/valid/` get the same values
//! as TensorBoard scalars (see [`crate::run::tensorboard`]). burn's own logs, which resume
//! reads, are kept beside them. A resumed run appends the epochs it runs, so an epoch a
//! kill interrupted may show twice: the later entry is the one that counts.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, NumericEntry};

use crate::run::tensorboard::EventWriter;

/// The file's name in the artifact.
pub const LIVE_METRICS_FILE: &str = "metrics.jsonl";

/// The folder of the TensorBoard event files in the artifact, one folder per split.
pub const TENSORBOARD_DIR: &str = "tensorboard";

/// Where an epoch's means go.
trait EpochSink {
    /// Writes the means `values` of `split` (`train`, `valid`) at `epoch`.
    fn write(
        &mut self,
        epoch: usize,
        split: &str,
        values: &BTreeMap<String, f64>,
    ) -> std::io::Result<()>;

    /// What is written, for messages.
    fn path(&self) -> &Path;
}

/// `metrics.jsonl`: a JSON line per split and epoch.
struct Jsonl(PathBuf);

impl EpochSink for Jsonl {
    fn write(
        &mut self,
        epoch: usize,
        split: &str,
        values: &BTreeMap<String, f64>,
    ) -> std::io::Result<()> {
        let mut line = serde_json::Map::new();
        line.insert("epoch".into(), epoch.into());
        line.insert("split".into(), split.into());
        for (name, value) in values {
            line.insert(name.clone(), (*value).into());
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.0)?;
        writeln!(file, "{}", serde_json::Value::Object(line))?;
        file.flush()
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

/// TensorBoard event files, one per split, made at the split's first epoch.
struct TensorBoard {
    dir: PathBuf,
    writers: BTreeMap<String, EventWriter>,
}

impl EpochSink for TensorBoard {
    fn write(
        &mut self,
        epoch: usize,
        split: &str,
        values: &BTreeMap<String, f64>,
    ) -> std::io::Result<()> {
        let writer = match self.writers.entry(split.to_string()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(EventWriter::create(&self.dir.join(split))?)
            }
        };
        writer.scalars(epoch as i64, values)
    }

    fn path(&self) -> &Path {
        &self.dir
    }
}

/// A [`MetricLogger`] that writes each epoch's means to `metrics.jsonl` and to
/// TensorBoard event files.
pub struct LiveLogger {
    sinks: Vec<Box<dyn EpochSink + Send>>,
    names: BTreeMap<String, String>,
    /// The latest epoch mean of each metric of the split under way.
    current: BTreeMap<String, f64>,
}

impl LiveLogger {
    /// A logger writing into the artifact folder `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            sinks: vec![
                Box::new(Jsonl(dir.join(LIVE_METRICS_FILE))),
                Box::new(TensorBoard {
                    dir: dir.join(TENSORBOARD_DIR),
                    writers: BTreeMap::new(),
                }),
            ],
            names: BTreeMap::new(),
            current: BTreeMap::new(),
        }
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

impl MetricLogger for LiveLogger {
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
        Err(format!("the live logs keep no entries of {name} to read"))
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names.insert(
            format!("{:?}", definition.metric_id),
            definition.name.to_string(),
        );
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        let values = std::mem::take(&mut self.current);
        let split = split_name(&summary.split);
        for sink in &mut self.sinks {
            // A tracker's file that cannot be written must not stop the run: say so
            // once per epoch on standard error.
            if let Err(e) = sink.write(summary.epoch_number, &split, &values) {
                eprintln!("cannot write to {}: {e}", sink.path().display());
            }
        }
    }
}
