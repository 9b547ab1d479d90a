use std::path::PathBuf;

use ae_data::DataSpec;
use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use trainer::artifact::Artifact;
use trainer::applications::compare::{self, Row};
use trainer::applications::evaluate::evaluate;
use trainer::run::overrides::Widths;

use crate::cli::{DataDirArg, DeviceArgs, JsonArg};

/// Compare autoencoders with an exact PCA at the same code sizes (squared error per
/// test sample; PCA fitted on every training sample).
#[derive(ClapArgs)]
pub struct Args {
    /// Artifact folders to compare; their code sizes are compared at.
    #[arg(long, value_name = "DIR")]
    artifact: Vec<PathBuf>,
    /// Code sizes for PCA, comma-separated [default: those of the artifacts].
    #[arg(long)]
    components: Option<Widths>,
    /// Data set [default: the artifacts'].
    #[arg(long, value_name = "NAME|FILE")]
    dataset: Option<DataSpec>,
    #[command(flatten)]
    data_dir: DataDirArg,
    #[command(flatten)]
    output: JsonArg,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: Args) -> Result<()> {
    let artifacts = Artifact::open_all(&args.artifact)?;
    let dataset = match (&args.dataset, artifacts.first()) {
        (Some(spec), _) => spec.clone(),
        (None, Some(a)) => a.config.dataset.clone(),
        (None, None) => bail!("give --dataset, or one or more --artifact folders"),
    };
    Artifact::check_same_data(&artifacts, &dataset)?;
    let mut sizes: Vec<usize> = match &args.components {
        Some(w) => w.0.clone(),
        None => artifacts.iter().map(|a| a.config.model.latent()).collect(),
    };
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.is_empty() {
        bail!("give --components, or one or more --artifact folders");
    }
    let locator = args.data_dir.locator();
    // A table is standardised as the artifacts were; a named set needs no statistics.
    let data = match artifacts.first() {
        Some(a) => a.load_data(&locator)?,
        None => dataset.load(&locator, None)?,
    };
    let largest = sizes.iter().copied().max().unwrap_or(1);
    let pca = compare::fit_pca(&data, largest)?;
    let mut rows = compare::pca_rows(&pca, &data, &sizes)?;
    if !artifacts.is_empty() {
        let selected = args.device.select()?;
        for a in &artifacts {
            let model = a.load_model(&selected.device)?;
            let report = evaluate(&model, &data.test, "test", 256, &selected.device);
            let basis = model
                .linear_decoder_basis()
                .and_then(|w| w.into_data().try_into_vec::<f32>().ok());
            rows.push(Row {
                method: a.label(),
                code_size: a.config.model.latent(),
                sq_error_per_image: report.sq_error_per_image,
                mse_per_pixel: report.mse_per_pixel,
                max_angle_to_pca_deg: basis
                    .map(|basis| compare::max_angle_to_pca(&pca, &basis))
                    .transpose()?,
            });
        }
    }
    rows.sort_by_key(|r| r.code_size);
    if args.output.json {
        println!("{}", crate::cli::to_json(&rows)?);
    } else {
        print!("{}", compare::markdown(&rows));
    }
    Ok(())
}
