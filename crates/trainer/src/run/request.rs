//! What a `train` command asks for, as data, and the run it resolves to: the data
//! set, the merged configuration, and for a resumed run the epoch to continue after.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ae_data::{DataSpec, Dataset, Locator};
use ae_models::Family;
use anyhow::{Result, bail};

use crate::artifact::{self, Artifact};
use crate::dataset::{describe, load_dataset};
use crate::run::config::TrainConfig;
use crate::run::overrides::{self, ModelOverrides, RunOverrides, TableOverrides};

/// A `train` command's flags, as plain data.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// A whole training config to start from (`--config`).
    pub config: Option<PathBuf>,
    /// The family (`--model`).
    pub family: Option<Family>,
    /// The data set (`--dataset`).
    pub dataset: Option<DataSpec>,
    /// The folder holding a named data set's files (`--data-dir`).
    pub data_dir: Option<PathBuf>,
    /// How a table becomes a data set.
    pub table: TableOverrides,
    /// The model's flags.
    pub model: ModelOverrides,
    /// The run's flags.
    pub run: RunOverrides,
}

/// Where a resumed run picks up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Train after the checkpoint of this epoch (`None`: no epoch is complete; start
    /// over).
    Train(Option<usize>),
    /// Training ended; write what the end phase did not, from these weights (the final
    /// model, or the checkpoint of the last epoch).
    Complete(PathBuf),
}

/// A run ready to start.
pub struct Plan {
    /// The configuration, validated.
    pub config: TrainConfig,
    /// Its data.
    pub data: Dataset,
    /// Lines for the user: which data set was taken and why.
    pub notes: Vec<String>,
}

impl Request {
    /// The new run this request describes: the data set (the flag, else the config
    /// file's, else MNIST or the embedded sample), and the configuration — the
    /// config file or the family's defaults for that data, with the flags applied —
    /// validated.
    pub fn plan(&self) -> Result<Plan> {
        let base_file = self.config.clone().or_else(|| {
            self.run
                .init_from
                .as_ref()
                .map(|dir| dir.join(artifact::CONFIG_FILE))
        });
        let base = base_file.as_deref().map(TrainConfig::load).transpose()?;
        let requested = self
            .dataset
            .clone()
            .or(base.as_ref().map(|c| c.dataset.clone()))
            .map(|spec| self.table.apply(spec))
            .transpose()?;
        if requested.is_none()
            && let Some(first) = self.table.given().first()
        {
            bail!("{first} describes a table: it needs --dataset FILE.csv or FILE.npy");
        }
        let (data, note) = load_dataset(requested.as_ref(), &self.locator())?;
        let mut notes: Vec<String> = note.into_iter().collect();
        let config = overrides::configure(base, self.family, &self.model, &self.run, &data)?;
        config.validate()?;
        let data = cut_test(data, config.test_limit);
        notes.push(format!("data: {}", describe(&data)));
        Ok(Plan {
            config,
            data,
            notes,
        })
    }

    /// The unfinished run in `dir` continued: its own config and data, with only
    /// `--epochs` and `--workers` changed, and where it picks up. Temporary files of
    /// writes the kill interrupted are removed first.
    pub fn plan_resume(&self, dir: &Path) -> Result<(Plan, Resume)> {
        let artifact = Artifact::open(dir)?;
        if artifact::is_complete(dir) {
            bail!(
                "{}: this run has finished ({} is written); nothing to resume",
                dir.display(),
                artifact::METRICS_FILE
            );
        }
        if self.dataset.is_some() || !self.table.given().is_empty() || self.config.is_some() {
            bail!(
                "--resume continues on the run's own data set and config: drop --dataset, \
                 --config and the table flags"
            );
        }
        let mut notes: Vec<String> = artifact::remove_stale_temps(dir)?
            .iter()
            .map(|p| format!("removed {}, left by an interrupted write", p.display()))
            .collect();
        let data = artifact.load_data(&self.locator())?;
        let config = overrides::resume(artifact.config, self.family, &self.model, &self.run)?;
        config.validate()?;
        let done = artifact::last_complete_checkpoint(dir);
        let weights = dir.join(artifact::MODEL_FILE);
        let resume = if weights.is_file() {
            // Training ended (its weights are the first file the end phase writes).
            Resume::Complete(weights)
        } else {
            match done {
                Some(n) if n >= config.epochs => Resume::Complete(
                    dir.join(artifact::CHECKPOINT_DIR)
                        .join(format!("model-{n}.bpk")),
                ),
                done => Resume::Train(done),
            }
        };
        let data = cut_test(data, config.test_limit);
        notes.push(format!("data: {}", describe(&data)));
        Ok((
            Plan {
                config,
                data,
                notes,
            },
            resume,
        ))
    }

    fn locator(&self) -> Locator {
        Locator::new(self.data_dir.clone())
    }
}

/// `data` with its test split cut to its first `limit` samples (`--test-limit`).
fn cut_test(mut data: Dataset, limit: Option<usize>) -> Dataset {
    if let Some(n) = limit
        && n < data.test.len()
    {
        data.test = Arc::new(data.test.head(n));
    }
    data
}
