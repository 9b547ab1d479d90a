use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use trainer::applications::safetensors::{self, NamedTensor};

use crate::cli::{ArtifactArg, DeviceArgs, to_json};

/// Write a model's weights as safetensors with PyTorch's names and layouts
/// (<out>/model.safetensors), and its architecture as JSON (<out>/architecture.json),
/// for PyTorch, NumPy or any safetensors reader.
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    artifact: ArtifactArg,
    /// Folder to write the two files to [default: the artifact folder].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

/// What architecture.json holds.
#[derive(serde::Serialize)]
struct Architecture<'a> {
    /// The family, as `--model` names it.
    family: String,
    /// The model's configuration, as in the artifact's config.json.
    model: &'a ae_models::ModelConfig,
    /// Each tensor of model.safetensors: name and shape, in file order.
    tensors: Vec<TensorEntry<'a>>,
    /// How the tensors are laid out.
    layout: &'static str,
    /// The inputs' standardisation, for tables (`standardize.json` of the artifact).
    standardize: Option<serde_json::Value>,
}

#[derive(serde::Serialize)]
struct TensorEntry<'a> {
    name: &'a str,
    shape: &'a [usize],
}

pub fn run(args: Args) -> Result<()> {
    let artifact = args.artifact.open()?;
    let device = args.device.select()?.device;
    let model = artifact.load_model(&device)?;
    let tensors: Vec<NamedTensor> = safetensors::state_dict(&model);
    let out = args.out.unwrap_or_else(|| artifact.dir.clone());
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let family = artifact.config.model.family().to_string();
    let metadata = BTreeMap::from([
        ("format".to_string(), "pt".to_string()),
        ("family".to_string(), family.clone()),
    ]);
    let weights = out.join("model.safetensors");
    safetensors::write(&weights, &tensors, &metadata)?;
    let standardize = artifact.dir.join(trainer::artifact::STANDARDIZER_FILE);
    let standardize = if standardize.is_file() {
        let text = std::fs::read_to_string(&standardize)
            .with_context(|| format!("reading {}", standardize.display()))?;
        Some(serde_json::from_str(&text).with_context(|| format!("{}", standardize.display()))?)
    } else {
        None
    };
    let architecture = Architecture {
        family,
        model: &artifact.config.model,
        tensors: tensors
            .iter()
            .map(|t| TensorEntry {
                name: &t.name,
                shape: &t.shape,
            })
            .collect(),
        layout: "PyTorch's: linear weights [out, in] (y = x W^T + b), convolutions \
                 [out, in, kh, kw], transposed convolutions [in, out, kh, kw]; f32, little-endian",
        standardize,
    };
    let json = out.join("architecture.json");
    trainer::artifact::write_atomic(&json, to_json(&architecture)?.as_bytes())?;
    let values: usize = tensors.iter().map(|t| t.values.len()).sum();
    println!(
        "{} tensors ({values} values) of the {} model:\n  {}\n  {}",
        tensors.len(),
        architecture.family,
        weights.display(),
        json.display()
    );
    Ok(())
}
