use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use trainer::artifact::{
    self, Artifact, CONFIG_FILE, METRICS_FILE, MODEL_FILE, STANDARDIZER_FILE, write_atomic,
};
use trainer::applications::evaluate::evaluate;
use trainer::applications::safetensors;

use crate::cli::{DataDirArg, DeviceArgs, to_json};

/// Make an artifact of weights trained elsewhere: a safetensors file with PyTorch's
/// names and layouts (what `export` writes, or PyTorch's
/// `safetensors.torch.save_file(model.state_dict(), FILE)` for the same architecture)
/// in the architecture and data set of an existing artifact. The new artifact is
/// evaluated on the test split and works with every command.
#[derive(ClapArgs)]
pub struct Args {
    /// The safetensors file.
    #[arg(long, value_name = "FILE")]
    weights: PathBuf,
    /// An artifact whose architecture the weights fit; its configuration, data set
    /// and a table's standardisation are copied.
    #[arg(long, value_name = "DIR")]
    like: PathBuf,
    /// Folder of the new artifact.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Replace --out if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    data_dir: DataDirArg,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: Args) -> Result<()> {
    let like = Artifact::open(&args.like)?;
    let tensors = safetensors::read(&args.weights)?;
    let device = args.device.select()?.device;
    let model = like.config.model.init(&device)?;
    let model = safetensors::load_state_dict(model, &tensors).with_context(|| {
        format!(
            "{} into the {} model of {}",
            args.weights.display(),
            like.config.model.family(),
            like.dir.display()
        )
    })?;
    let data = like.load_data(&args.data_dir.locator())?;
    // Everything is read and fits: only now is the folder touched.
    artifact::prepare_out_dir(&args.out, args.force)?;
    for file in [CONFIG_FILE, STANDARDIZER_FILE] {
        let from = like.dir.join(file);
        if from.is_file() {
            let bytes =
                std::fs::read(&from).with_context(|| format!("reading {}", from.display()))?;
            write_atomic(&args.out.join(file), &bytes)?;
        }
    }
    artifact::save_model(&model, &args.out.join(MODEL_FILE))?;
    let test = evaluate(&model, &data.test, "test", like.config.batch_size, &device);
    println!("imported {}: {test}", args.weights.display());
    let metrics = serde_json::json!({
        "epochs": [],
        "imported_from": args.weights,
        "test": test,
    });
    // Last: the folder is a finished artifact.
    write_atomic(&args.out.join(METRICS_FILE), to_json(&metrics)?.as_bytes())?;
    println!("wrote {}", args.out.display());
    Ok(())
}
