use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;
use trainer::applications::apply::{Outputs, Task};

use crate::cli::NewData;

/// Score new samples from a file for anomalies: a CSV of index, score and — when
/// `trainer anomaly` has stored a threshold in the artifact — anomalous (1 above it),
/// with the squared error of every feature or pixel that explains each score.
///
/// The score is the stored threshold's (reconstruction error, or a VAE's negative
/// ELBO), else the reconstruction error: the squared error summed over the features,
/// in the model's units (standardised values for a table).
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    data: NewData,
    /// The scores: FILE.csv.
    #[arg(long, value_name = "FILE.csv")]
    out: PathBuf,
    /// Each feature's squared error: FILE.npy or FILE.csv (a table's column names).
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,
    /// Images: the first 32 inputs above their per-pixel error heat-maps (darker is
    /// larger, scaled to the largest error shown). A series model (trained with
    /// --window): the series' first column and its reconstruction (each step's mean
    /// over the windows that hold it) above the step scores.
    #[arg(long, value_name = "FILE.png")]
    png: Option<PathBuf>,
    /// A series model (trained with --window): the score of every step, the mean of
    /// the scores of the windows that hold it, as FILE.csv (step, score).
    #[arg(long, value_name = "FILE.csv")]
    points: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let outputs = Outputs {
        out: args.out,
        errors: args.errors,
        png: args.png,
        points: args.points,
    };
    args.data.run(Task::Score, outputs)
}
