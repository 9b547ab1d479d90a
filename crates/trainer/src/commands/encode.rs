use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;
use trainer::applications::apply::{Outputs, Task};

use crate::cli::NewData;

/// Encode new samples from a file: one code per sample, in the file's order, as .npy
/// or CSV (columns z0, z1, …).
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    data: NewData,
    /// The codes: FILE.npy or FILE.csv.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let outputs = Outputs {
        out: args.out,
        ..Outputs::default()
    };
    args.data.run(Task::Encode, outputs)
}
