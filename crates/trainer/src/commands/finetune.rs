use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use trainer::applications::finetune::{self, FinetuneOptions, FinetuneRow, Start};

use crate::cli::{JsonArg, Source, positive, to_json};

/// Transfer learning with few labels: a classifier head on the trained encoder,
/// frozen and fine-tuned, against the same network trained from scratch.
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Sizes of the labelled training set, comma-separated (balanced over the classes).
    #[arg(long, value_name = "N,…", value_delimiter = ',', default_value = "100,1000", value_parser = positive)]
    labelled: Vec<usize>,
    /// Adam steps per classifier.
    #[arg(long, default_value_t = 1000, value_parser = positive)]
    steps: usize,
    /// Labelled samples per step.
    #[arg(long, default_value_t = 64, value_parser = positive)]
    batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Seed of the heads, the scratch encoder and the batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    output: JsonArg,
}

pub fn run(args: Args) -> Result<()> {
    if !(args.lr > 0.0 && args.lr.is_finite()) {
        bail!("--lr {}: expected a positive, finite learning rate", args.lr);
    }
    let l = args.source.load(args.output.json)?;
    let ad = l.device.clone().autodiff();
    let pretrained = l.artifact.load_model(&ad)?;
    let options = FinetuneOptions {
        steps: args.steps,
        batch_size: args.batch_size,
        lr: args.lr,
        seed: args.seed,
    };
    let mut rows = Vec::new();
    for &n in &args.labelled {
        let subset = finetune::labelled_subset(&l.data.train, n)?;
        for start in [Start::Frozen, Start::FineTuned, Start::Scratch] {
            let (accuracy, _) = finetune::train_classifier(
                &pretrained,
                &l.artifact.config.model,
                &l.data.train,
                &subset,
                &l.data.test,
                start,
                options,
                &l.device,
            )?;
            rows.push(FinetuneRow {
                labels: subset.len(),
                start,
                test_accuracy: accuracy,
            });
        }
    }
    if args.output.json {
        println!("{}", to_json(&rows)?);
    } else {
        println!("| labels | encoder | test accuracy |\n|---|---|---|");
        for r in &rows {
            println!("| {} | {} | {:.4} |", r.labels, r.start, r.test_accuracy);
        }
    }
    Ok(())
}
