use std::path::{Path, PathBuf};

use ae_data::DataSpec;
use ae_models::Family;
use anyhow::Result;
use burn::prelude::Device;
use clap::Args as ClapArgs;
use trainer::artifact::{self, Artifact};
use trainer::device::Parallelism;
use trainer::run::fit::{DataPath, Run};
use trainer::run::memory;
use trainer::run::overrides::{ModelOverrides, RunOverrides, TableOverrides, family_parser};
use trainer::run::request::{Plan, Request, Resume};

use crate::cli::{DataDirArg, DeviceArgs};

/// Train a model and write an artifact folder (config, weights, metrics, pictures).
#[derive(ClapArgs)]
pub struct Args {
    /// A whole training config (JSON, as written to an artifact's config.json, or by
    /// --print-config); flags override it.
    #[arg(long, value_name = "FILE.json")]
    config: Option<PathBuf>,
    /// Model family [default: mlp].
    #[arg(long, value_parser = family_parser())]
    model: Option<Family>,
    /// Print the configuration this run would use (JSON, reusable with --config) and
    /// exit without training.
    #[arg(long, conflicts_with = "resume")]
    print_config: bool,
    /// Data set: mnist, fashion-mnist or fashion-mnist-sample, or your own table, a
    /// numeric CSV or .npy file. Default: MNIST if it can be found or downloaded, else the
    /// embedded sample.
    #[arg(long, value_name = "NAME|FILE", help_heading = "Data")]
    dataset: Option<DataSpec>,
    #[command(flatten, next_help_heading = "Data")]
    data_dir: DataDirArg,
    #[command(flatten, next_help_heading = "Data")]
    table: TableOverrides,
    #[command(flatten)]
    model_flags: ModelOverrides,
    #[command(flatten)]
    run_flags: RunOverrides,
    #[command(flatten, next_help_heading = "Devices")]
    devices: DevicesArgs,
    /// Artifact folder [default: artifacts/<model>-<dataset>-<n>, the first free n].
    #[arg(long, value_name = "DIR", help_heading = "Artifact")]
    out: Option<PathBuf>,
    /// Replace the artifact folder if it exists.
    #[arg(long, help_heading = "Artifact")]
    force: bool,
    /// Continue the unfinished run in DIR from its last complete checkpoint, with the
    /// config in DIR/config.json (only --epochs and --workers may change it).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "force", "config"], help_heading = "Artifact")]
    resume: Option<PathBuf>,
}

#[derive(ClapArgs)]
struct DevicesArgs {
    /// Keep the data on the device and gather batches there.
    #[arg(long)]
    data_on_device: bool,
    /// Train data-parallel on N devices of the backend (GPUs 0..N; on a CPU backend, N
    /// workers sharing the CPU) with burn's multi-device strategy.
    #[arg(long, value_name = "N", default_value_t = 1)]
    devices: usize,
    /// How several devices combine their gradients: multi (summed on the first
    /// device, which holds the optimiser) or ddp (a replica per device, all-reduce).
    #[arg(long, value_enum, default_value_t = Parallelism::Multi)]
    parallelism: Parallelism,
    /// Train on the devices of `trainer serve` servers, on this machine or others
    /// (comma-separated ws://HOST:PORT), data-parallel with the multi strategy.
    #[cfg(feature = "remote")]
    #[arg(long, value_delimiter = ',', value_name = "ws://HOST:PORT,…")]
    remote: Vec<String>,
    /// The token the servers were started with.
    #[cfg(feature = "remote")]
    #[arg(long, env = "AE_REMOTE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    device: DeviceArgs,
}

impl DevicesArgs {
    /// The devices to train on, said on stdout.
    fn select(&self) -> Result<Vec<Device>> {
        #[cfg(feature = "remote")]
        if !self.remote.is_empty() {
            let (devices, line) = trainer::remote::training_devices(
                &self.remote,
                self.token.as_deref(),
                self.devices,
                self.parallelism,
            )?;
            println!("{line}");
            return Ok(devices);
        }
        let (devices, line) =
            trainer::device::training_devices(self.device.backend, self.devices, self.parallelism)?;
        println!("{line}");
        Ok(devices)
    }

    fn data_path(&self) -> DataPath {
        if self.data_on_device {
            DataPath::Device
        } else {
            DataPath::Host
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    let request = Request {
        config: args.config.clone(),
        family: args.model,
        dataset: args.dataset.clone(),
        data_dir: args.data_dir.data_dir.clone(),
        table: args.table.clone(),
        model: args.model_flags.clone(),
        run: args.run_flags.clone(),
    };
    if let Some(dir) = &args.resume {
        let (plan, point) = request.plan_resume(dir)?;
        plan.notes.iter().for_each(|note| println!("{note}"));
        let done = match point {
            Resume::Complete(weights) => return complete(&args, &plan, dir, &weights),
            Resume::Train(done) => done,
        };
        match done {
            Some(n) => println!(
                "resuming {} after epoch {n} of {}",
                dir.display(),
                plan.config.epochs
            ),
            None => {
                println!("no complete checkpoint in {}: starting over", dir.display());
                artifact::clear_attempt(dir)?;
            }
        }
        return train(&args, &plan, dir, done);
    }
    let plan = request.plan()?;
    if args.print_config {
        println!("{}", plan.config.to_json());
        return Ok(());
    }
    plan.notes.iter().for_each(|note| println!("{note}"));
    memory::check(&plan.config, memory::physical_memory())?;
    let dir = match &args.out {
        Some(dir) => dir.clone(),
        None => artifact::next_free_dir(
            Path::new("artifacts"),
            &format!(
                "{}-{}",
                plan.config.model.family(),
                plan.data.spec.short_name()
            ),
        ),
    };
    train(&args, &plan, &dir, None)
}

/// Selects the devices, prepares the folder of a new run, trains, and says the result.
fn train(args: &Args, plan: &Plan, dir: &Path, resume: Option<usize>) -> Result<()> {
    let devices = args.devices.select()?;
    if resume.is_none() && args.resume.is_none() {
        artifact::prepare_out_dir(dir, args.force)?;
        println!("artifact: {}", dir.display());
    }
    let outcome = run_in(args, plan, dir, &devices, resume).train()?;
    report_best(&outcome);
    println!("{}", outcome.test);
    println!("wrote {}", outcome.dir.display());
    Ok(())
}

/// Writes what a run whose training ended did not write, from `weights`.
fn complete(args: &Args, plan: &Plan, dir: &Path, weights: &Path) -> Result<()> {
    println!(
        "training in {} had ended; completing its files from {}",
        dir.display(),
        weights.display()
    );
    let devices = args.devices.select()?;
    let model = Artifact::open(dir)?.load_weights(weights, &devices[0])?;
    let outcome = run_in(args, plan, dir, &devices, None).complete(model)?;
    report_best(&outcome);
    println!("{}", outcome.test);
    println!("wrote {}", outcome.dir.display());
    Ok(())
}

fn run_in<'a>(
    args: &Args,
    plan: &'a Plan,
    dir: &'a Path,
    devices: &'a [Device],
    resume: Option<usize>,
) -> Run<'a> {
    Run {
        config: &plan.config,
        data: &plan.data,
        devices,
        parallelism: args.devices.parallelism,
        data_path: args.devices.data_path(),
        dir,
        resume,
    }
}

/// Says which epoch's weights an early-stopped run kept.
fn report_best(outcome: &trainer::run::fit::Outcome) {
    if let Some(best) = outcome.best_epoch {
        println!(
            "kept the weights of epoch {best} of {}, the lowest validation loss",
            outcome.history.len()
        );
    }
}
