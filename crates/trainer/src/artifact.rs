//! The artifact folder a training run writes, and reading it back.
//!
//! ```text
//! DIR/config.json           the whole TrainConfig (reusable with --config)
//! DIR/model.bpk             final weights (burnpack)
//! DIR/model.bpk.sha256      their SHA-256, checked whenever they are loaded
//! DIR/metrics.json          train/valid metrics of every epoch, and the test report
//! DIR/standardize.json      a table's per-column mean and std (training rows), names
//! DIR/threshold.json        the anomaly threshold `trainer anomaly` chose last
//! DIR/reconstructions.png   test images (top) above their reconstructions (bottom)
//! DIR/pretrain.json         with layer-wise pretraining: each stage's metrics
//! DIR/checkpoint/, train/, valid/, experiment.log   burn's Learner's own files
//! ```
//! Every file this crate writes goes to a temporary sibling first and is renamed into
//! place, so a file that exists is whole; burn writes its checkpoints the same way. A
//! run writes `model.bpk` as soon as training ends and `metrics.json` last: a folder
//! with `metrics.json` is a finished run ([`is_complete`]), and `train --resume`
//! finishes any other from its weights or its last checkpoint. burn's metric logs
//! (`train/`, `valid/`, `experiment.log`) are appended as the run goes: after a kill
//! their last line may be cut, and a resumed run rewrites the epochs after its
//! checkpoint.

use std::path::{Path, PathBuf};

use ae_data::{DataSpec, Dataset, Locator};
use ae_models::AnyAutoencoder;
use anyhow::{Context, Result, bail};
use burn::prelude::*;
use burn::store::ModuleRecord;

use crate::run::config::TrainConfig;

/// The files inference reads, named where the inference library owns them.
pub use ae_infer::{CONFIG_FILE, MODEL_FILE, STANDARDIZER_FILE, THRESHOLD_FILE};
/// Per-epoch metrics and the test report.
pub const METRICS_FILE: &str = "metrics.json";
/// With layer-wise pretraining, each stage's metrics and the pretrained stack's test
/// report (also under `pretrain` in [`METRICS_FILE`]).
pub const PRETRAIN_FILE: &str = "pretrain.json";
/// The reconstruction grid.
pub const RECONSTRUCTIONS_FILE: &str = "reconstructions.png";
/// Images decoded from samples of the prior (generative families).
pub const SAMPLES_FILE: &str = "samples.png";
/// Training and validation loss per epoch, as a line chart.
pub const LOSS_FILE: &str = "loss.png";
/// The folder of burn's per-epoch checkpoints (model, optimiser, learning-rate schedule).
pub const CHECKPOINT_DIR: &str = "checkpoint";

/// The last epoch whose model, optimiser and schedule checkpoints are all on disk and
/// readable (each file is written to a temporary name and renamed, but the three are
/// written separately, so a run killed at the end of an epoch can leave one missing).
pub fn last_complete_checkpoint(dir: &Path) -> Option<usize> {
    let folder = dir.join(CHECKPOINT_DIR);
    let mut epochs: Vec<usize> = std::fs::read_dir(&folder)
        .ok()?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name();
            let n = name
                .to_str()?
                .strip_prefix("model-")?
                .strip_suffix(".bpk")?;
            n.parse().ok()
        })
        .collect();
    epochs.sort_unstable();
    epochs.into_iter().rev().find(|n| {
        ["model", "optim", "scheduler"]
            .iter()
            .all(|part| ModuleRecord::load(folder.join(format!("{part}-{n}.bpk"))).is_ok())
    })
}

/// Removes the metric logs of the epochs after `done`, which an interrupted attempt
/// left unfinished, before a resumed run writes them again.
pub fn drop_epochs_after(dir: &Path, done: usize) -> Result<()> {
    for split in ["train", "valid"] {
        let Ok(entries) = std::fs::read_dir(dir.join(split)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let epoch = name.to_str().and_then(|n| n.strip_prefix("epoch-"));
            if epoch
                .and_then(|e| e.parse::<usize>().ok())
                .is_some_and(|e| e > done)
            {
                std::fs::remove_dir_all(entry.path())
                    .with_context(|| format!("removing {}", entry.path().display()))?;
            }
        }
    }
    Ok(())
}

/// Removes burn's logs and checkpoints of an attempt that completed no epoch, so that
/// a run started over in `dir` does not mix with them.
pub fn clear_attempt(dir: &Path) -> Result<()> {
    for sub in ["train", "valid", CHECKPOINT_DIR] {
        let path = dir.join(sub);
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

/// A finished training run on disk: the inference library's reading of the folder
/// (the model, the data, a table's standardisation, the anomaly threshold, each
/// checked) and the run's whole configuration.
#[derive(Clone, Debug)]
pub struct Artifact {
    /// Its folder.
    pub dir: PathBuf,
    /// The run's configuration.
    pub config: TrainConfig,
    /// The folder as the inference library reads it.
    inference: ae_infer::Artifact,
}

impl Artifact {
    /// Opens the artifact in `dir`: the inference library's checks of its files, and
    /// the run's configuration from the same reading.
    pub fn open(dir: &Path) -> Result<Self> {
        let (inference, config) = ae_infer::Artifact::open_with::<TrainConfig>(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            inference,
        })
    }

    /// Opens every artifact of `dirs`.
    pub fn open_all(dirs: &[PathBuf]) -> Result<Vec<Self>> {
        dirs.iter().map(|dir| Self::open(dir)).collect()
    }

    /// Checks that every artifact of `artifacts` was trained on `dataset`, so that
    /// their results compare.
    pub fn check_same_data(artifacts: &[Self], dataset: &DataSpec) -> Result<()> {
        if let Some(other) = artifacts.iter().find(|a| &a.config.dataset != dataset) {
            bail!(
                "{} was trained on {}, not {dataset}: compare artifacts of one data set",
                other.dir.display(),
                other.config.dataset
            );
        }
        Ok(())
    }

    /// The data set the run was trained on, found through `locator`; a table's rows
    /// are standardised with the run's own statistics ([`STANDARDIZER_FILE`]).
    pub fn load_data(&self, locator: &Locator) -> Result<Dataset> {
        let spec = &self.config.dataset;
        let standardizer = match spec {
            DataSpec::Named(_) | DataSpec::Folder(_) => None,
            DataSpec::Table(_) => self.inference.standardizer.clone(),
        };
        spec.load(locator, standardizer.as_ref()).with_context(|| {
            format!(
                "loading {spec}, the data set {} was trained on",
                self.dir.display()
            )
        })
    }

    /// The image shape `[channels, rows, columns]` of the artifact's model: a
    /// convolutional model's own, else its data set's (see [`DataSpec::image_shape`]);
    /// an error when it was trained on a table, which has no images.
    pub fn image_shape(&self) -> Result<[usize; 3]> {
        ae_infer::image_shape(&self.config.model, &self.config.dataset).with_context(|| {
            format!(
                "this draws images, and {} was trained on the table {}",
                self.dir.display(),
                self.config.dataset
            )
        })
    }

    /// One line naming the artifact: its family and folder.
    pub fn label(&self) -> String {
        format!("{} ({})", self.config.model.family(), self.dir.display())
    }

    /// Builds the model from the config and loads the saved weights into it.
    pub fn load_model(&self, device: &Device) -> Result<AnyAutoencoder> {
        let path = self.dir.join(MODEL_FILE);
        if !path.is_file() {
            bail!(
                "{}: weights are missing (did training finish?)",
                path.display()
            );
        }
        self.load_weights(&path, device)
    }

    /// The model with the weights of `path`: the final model or an epoch's checkpoint.
    pub fn load_weights(&self, path: &Path, device: &Device) -> Result<AnyAutoencoder> {
        Ok(ae_infer::load_weights(&self.config.model, path, device)?)
    }

    /// The artifact as the inference library reads it: the model's configuration,
    /// a table's standardisation, the anomaly threshold.
    pub fn inference(&self) -> &ae_infer::Artifact {
        &self.inference
    }
}

/// Saves `model`'s weights to `path` (burn's format) with their SHA-256 beside them;
/// weights that are not all finite (a run that diverged) are refused.
pub fn save_model(model: &AnyAutoencoder, path: &Path) -> Result<()> {
    Ok(ae_infer::save_module(model, path)?)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename
/// ([`ae_data::AtomicFile`]), so that a file under its final name is always whole. The
/// temporary file is named `.<name>.<pid>-<n>.tmp` (see [`remove_stale_temps`]) and
/// created like any other file, so the result has the permissions the user's umask
/// gives every file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(ae_data::write_atomic(path, bytes)?)
}

/// Removes the temporary files that killed writes left in `dir` and its checkpoint
/// folder: this crate's `.<name>.<pid>-<n>.tmp`, burn's `<name>.<pid>-<n>.tmp` and
/// older `.tmpXXXXXX` files, unless the process that wrote them still runs. Returns
/// the files removed.
pub fn remove_stale_temps(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for folder in [dir.to_path_buf(), dir.join(CHECKPOINT_DIR)] {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !path.is_file() || !is_stale_temp(&name) {
                continue;
            }
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            removed.push(path);
        }
    }
    Ok(removed)
}

/// Whether `name` is a temporary file of an interrupted write whose writer is gone.
fn is_stale_temp(name: &str) -> bool {
    if name.starts_with(".tmp") {
        return true;
    }
    // `….<pid>-<n>.tmp`: kept while process <pid> runs.
    ae_data::writer_gone(name)
}

/// Whether the run in `dir` finished and wrote every file: [`METRICS_FILE`], the
/// last file a run writes, is there.
pub fn is_complete(dir: &Path) -> bool {
    dir.join(METRICS_FILE).is_file()
}

/// Prepares an empty output folder. An existing non-empty folder is refused unless
/// `force`, in which case it is removed first.
pub fn prepare_out_dir(dir: &Path, force: bool) -> Result<()> {
    let non_empty = dir.is_dir()
        && std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_some();
    if dir.exists() && !dir.is_dir() {
        bail!("{}: exists and is not a folder", dir.display());
    }
    if non_empty {
        if !force {
            bail!(
                "{}: already exists and is not empty; choose another --out, or pass --force to replace it",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// The first free `artifacts/<stem>-<n>` folder, n = 1, 2, …
pub fn next_free_dir(root: &Path, stem: &str) -> PathBuf {
    (1..)
        .map(|n| root.join(format!("{stem}-{n}")))
        .find(|p| !p.exists())
        .expect("an unbounded range always has a free name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_whole_files_with_the_usual_permissions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.json");
        write_atomic(&path, b"first").expect("write");
        write_atomic(&path, b"second").expect("replace");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left, ["config.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.path().join("plain");
            std::fs::write(&plain, b"x").expect("write");
            let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode();
            assert_eq!(mode(&path), mode(&plain), "an atomic write is owner-only");
        }
        // A failed write leaves nothing behind.
        assert!(write_atomic(&dir.path().join("no/such/folder/x"), b"x").is_err());
    }

    #[test]
    fn stale_temporary_files_are_told_from_live_ones() {
        let me = std::process::id();
        assert!(is_stale_temp(".tmpAb12Cd"));
        assert!(is_stale_temp(".metrics.json.4194399-3.tmp"));
        assert!(is_stale_temp("optim-2.bpk.4194399-17.tmp"));
        assert!(!is_stale_temp(&format!(".metrics.json.{me}-3.tmp")));
        assert!(!is_stale_temp("model-2.bpk"));
        assert!(!is_stale_temp("notes.tmp"));
    }
}
