//! Flag groups several commands share, each declared once, and the one way results
//! are printed.
//!
//! The groups carry no doc comment of their own: clap would take it for the help of
//! the command they are flattened into.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use ae_data::{Dataset, Locator, Split};
use ae_models::AnyAutoencoder;
use anyhow::{Context, Result};
use burn::prelude::Device;
use clap::{Args, ValueEnum};
use serde::Serialize;
use trainer::applications::apply;
use trainer::artifact::Artifact;
use trainer::device::{self, Backend, Selected};

// The compute backend.
#[derive(Args, Clone, Debug)]
pub struct DeviceArgs {
    /// Compute backend. `auto` takes a hardware GPU when wgpu finds one, else the CPU.
    #[arg(long, value_enum, env = "BURN_DEVICE", default_value_t = Backend::Auto, ignore_case = true)]
    pub backend: Backend,
}

impl DeviceArgs {
    /// The chosen device.
    pub fn select(&self) -> Result<Selected> {
        device::select(self.backend)
    }
}

// The folder a named data set is read from.
#[derive(Args, Clone, Debug)]
pub struct DataDirArg {
    /// Folder holding the data set's IDX files; when given, the only place they are
    /// read from.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DataDirArg {
    /// The locator that honours the flag.
    pub fn locator(&self) -> Locator {
        Locator::new(self.data_dir.clone())
    }
}

// The artifact a command reads.
#[derive(Args, Clone, Debug)]
pub struct ArtifactArg {
    /// The artifact folder written by `train`.
    #[arg(long, value_name = "DIR")]
    pub artifact: PathBuf,
}

impl ArtifactArg {
    /// Opens the artifact.
    pub fn open(&self) -> Result<Artifact> {
        Artifact::open(&self.artifact)
    }
}

// One artifact, its data and the device: what most commands work on.
#[derive(Args, Clone, Debug)]
pub struct Source {
    #[command(flatten)]
    pub artifact: ArtifactArg,
    #[command(flatten)]
    pub data_dir: DataDirArg,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// A loaded artifact, its data set and the device its model lives on.
pub struct Loaded {
    pub artifact: Artifact,
    pub data: Dataset,
    pub device: Device,
    /// The backend of `device`.
    pub backend: Backend,
    pub model: AnyAutoencoder,
}

impl Source {
    /// Opens the artifact, its data set and the device; says which device unless `quiet`.
    pub fn load(&self, quiet: bool) -> Result<Loaded> {
        let artifact = self.artifact.open()?;
        let data = artifact.load_data(&self.data_dir.locator())?;
        let selected = self.select(quiet)?;
        let model = artifact.load_model(&selected.device)?;
        Ok(Loaded {
            artifact,
            data,
            device: selected.device,
            backend: selected.backend,
            model,
        })
    }

    /// The artifact's model on the chosen device, without its data.
    pub fn model(&self, artifact: &Artifact, quiet: bool) -> Result<(AnyAutoencoder, Device)> {
        let selected = self.select(quiet)?;
        let model = artifact.load_model(&selected.device)?;
        Ok((model, selected.device))
    }

    fn select(&self, quiet: bool) -> Result<Selected> {
        let selected = self.device.select()?;
        if !quiet {
            println!("device: {}", selected.description);
        }
        Ok(selected)
    }
}

// Machine-readable output.
#[derive(Args, Clone, Debug)]
pub struct JsonArg {
    /// Print the result as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl JsonArg {
    /// Prints `value` as pretty JSON, or as text.
    pub fn print<T: Serialize + Display>(&self, value: &T) -> Result<()> {
        if self.json {
            println!("{}", to_json(value)?);
        } else {
            println!("{value}");
        }
        Ok(())
    }
}

/// `value` as pretty JSON: the one way results go out as JSON.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value).context("the result serialises")
}

// Where a picture goes.
#[derive(Args, Clone, Debug)]
pub struct PngArg {
    /// Where to write the picture [default: a file in the artifact folder, named in the
    /// command's description].
    #[arg(long, value_name = "FILE.png")]
    pub png: Option<PathBuf>,
}

impl PngArg {
    /// The path given, or `file` in `dir`, with its folder created.
    pub fn path(&self, dir: &Path, file: &str) -> Result<PathBuf> {
        let path = self.png.clone().unwrap_or_else(|| dir.join(file));
        if let Some(parent) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        Ok(path)
    }
}

// A trained model on a file of new samples: `encode`, `reconstruct` and `score`.
#[derive(Args, Clone, Debug)]
pub struct NewData {
    #[command(flatten)]
    pub artifact: ArtifactArg,
    /// The new samples: an IDX image file (raw or .gz); a PNG or JPEG file, or a folder
    /// of them (every depth, in path order), made grey or RGB and resized (or cut into
    /// patches) as the model's training images were; a CSV table (its columns matched
    /// to the training columns by header name) or a .npy array. Tables are
    /// standardised with the training rows' saved statistics.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Samples sent to the device at once; memory stays bounded by it however large
    /// the input.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    pub batch_size: usize,
    /// Replace output files that already exist.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub device: DeviceArgs,
    #[command(flatten)]
    pub output: JsonArg,
}

impl NewData {
    /// Applies the artifact's model to the input for `task`, writing `outputs`, and
    /// prints what was done.
    pub fn run(&self, task: apply::Task, outputs: apply::Outputs) -> Result<()> {
        outputs.check_apart(&self.input, task)?;
        for (_, path) in outputs.files(&self.input, task) {
            if path.exists() && !self.force {
                anyhow::bail!(
                    "{}: already exists; choose another name, or pass --force to replace it",
                    path.display()
                );
            }
        }
        let artifact = ae_infer::Artifact::open(&self.artifact.artifact)?;
        let selected = self.device.select()?;
        if !self.output.json {
            println!("device: {}", selected.description);
        }
        let predictor = artifact
            .load(&selected.device)?
            .with_batch_size(self.batch_size);
        let summary = apply::apply(
            &artifact,
            &predictor,
            &self.input,
            task,
            &outputs,
            self.batch_size,
        )?;
        self.output.print(&summary)
    }
}

/// Keeps Mesa's Vulkan device-selection layer from looking for a Wayland display on a
/// headless machine, where libwayland prints "error: XDG_RUNTIME_DIR is invalid or not
/// set in the environment." each time wgpu lists adapters, which reads as a failure.
/// The layer only reorders GPUs for a desktop session; `--backend auto` ranks the
/// adapters itself. A session (`XDG_RUNTIME_DIR` set) or an explicit
/// `NODEVICE_SELECT` is left as it is.
#[allow(unsafe_code)]
pub fn quiet_gpu_probe() {
    let var = |name: &str| std::env::var_os(name).is_some();
    if cfg!(target_os = "linux") && !var("XDG_RUNTIME_DIR") && !var("NODEVICE_SELECT") {
        // SAFETY: called first in `main`, before the program starts any thread, so no
        // other thread reads or writes the environment meanwhile.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}

/// Makes a data error raised where no error can be returned (a batch of images read
/// from a cache file that was cut short under the run: [`ae_data::Split::gather`]) end
/// the program as any other error does: the message, exit status 1, no panic report.
/// Every other panic is reported as before.
pub fn data_errors_exit() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        match info.payload().downcast_ref::<ae_data::DataError>() {
            Some(err) => {
                eprintln!("error: {err}");
                std::process::exit(1);
            }
            None => report(info),
        }
    }));
}

/// Which split of the data set.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SplitName {
    Train,
    Test,
}

impl SplitName {
    /// The split of `data`.
    pub fn of(self, data: &Dataset) -> &Split {
        match self {
            Self::Train => &data.train,
            Self::Test => &data.test,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Test => "test",
        }
    }
}

/// A count that must be at least 1 (`--units`, `--k`, …).
pub fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("expected at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a count")),
    }
}

/// A finite number of at least 0 (`--theta`).
pub fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        Ok(_) => Err("expected a finite number of at least 0".into()),
        Err(_) => Err(format!("'{s}' is not a number")),
    }
}

/// An error and its causes on one line, `outer: inner: …`, each cause left out when the
/// text before it already says it (a file error that names its operating-system error
/// is not followed by that error again).
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cause_already_said_is_not_said_again() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let said = io.to_string();
        let err = anyhow::Error::new(ae_data::DataError::Io {
            path: "in.csv".into(),
            source: io,
        })
        .context("reading the samples");
        let text = super::error_text(&err);
        assert_eq!(text, format!("reading the samples: in.csv: {said}"));
        assert_eq!(text.matches(&said).count(), 1, "{text}");
    }
}
