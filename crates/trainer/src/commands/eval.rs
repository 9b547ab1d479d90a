use std::sync::Arc;

use ae_data::Split;
use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use trainer::applications::evaluate::{self, evaluate};

use crate::cli::{JsonArg, Loaded, Source, positive};

/// Reload an artifact and report reconstruction quality on the test split.
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    output: JsonArg,
    /// Samples per batch.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    batch_size: usize,
    /// Also report the k-nearest-neighbour accuracy (euclidean and cosine) of the test
    /// codes against the training codes, with this k (5 is usual).
    #[arg(long, value_name = "K", value_parser = positive)]
    knn: Option<usize>,
    /// Where --knn searches: on the device for a GPU backend, else on the host (auto);
    /// the device finds each block of queries' neighbours by a matrix product and top-k.
    #[arg(long, value_enum, default_value_t = Search::Auto)]
    knn_on: Search,
    /// Also report the test accuracy of a linear probe (multinomial logistic
    /// regression) trained on the training codes to convergence: full-batch L-BFGS on
    /// the objective of scikit-learn's LogisticRegression (C = 1, its default).
    #[arg(long)]
    probe: bool,
    /// The converged probe's C, the inverse of its L2 strength (smaller is stronger);
    /// implies --probe.
    #[arg(long, value_name = "C")]
    probe_c: Option<f64>,
    /// Train the probe by 30 epochs of mini-batch Adam instead: quicker on large
    /// splits, not converged; implies --probe.
    #[arg(long, conflicts_with = "probe_c")]
    probe_adam: bool,
    /// Also report the trustworthiness (5 neighbours) of the codes of the first N test
    /// samples against their values (cost grows as N²; 1000 is usual).
    #[arg(long, value_name = "N", value_parser = positive)]
    trustworthiness: Option<usize>,
    /// VAEs: also estimate the negative log-likelihood by importance sampling with K
    /// posterior samples per sample (100 is usual).
    #[arg(long, value_name = "K", value_parser = positive)]
    nll: Option<usize>,
    /// Evaluate on the first N samples of each split only: the test samples every
    /// figure is measured on, and the training samples whose codes --knn searches and
    /// --probe fits on (a quick look at a large data set).
    #[arg(long, value_name = "N", value_parser = positive)]
    limit: Option<usize>,
}

pub fn run(args: Args) -> Result<()> {
    let Loaded {
        artifact,
        data,
        device,
        backend,
        model,
    } = args.source.load(args.output.json)?;
    let vae = match (args.nll, model.as_vae()) {
        (Some(_), None) => bail!(
            "--nll needs a variational autoencoder; {} holds an autoencoder of family {}",
            artifact.dir.display(),
            artifact.config.model.family()
        ),
        (_, vae) => vae,
    };
    let limit = args.limit.unwrap_or(usize::MAX);
    let head = |split: &Arc<Split>| {
        if split.len() > limit {
            Arc::new(split.head(limit))
        } else {
            split.clone()
        }
    };
    let (train, test) = (&head(&data.train), &head(&data.test));
    let mut report = evaluate(&model, test, "test", args.batch_size, &device);
    report.class_accuracy = evaluate::class_accuracy(&model, test, &device);
    if let Some(k) = args.knn {
        let on_device = match args.knn_on {
            Search::Auto => !backend.is_cpu(),
            Search::Host => false,
            Search::Device => true,
        };
        report.knn = Some(evaluate::knn(&model, train, test, k, &device, on_device)?);
    }
    if args.probe || args.probe_c.is_some() || args.probe_adam {
        let fit = match (args.probe_adam, args.probe_c) {
            (true, _) => evaluate::ProbeFit::Adam,
            (false, c) => evaluate::ProbeFit::Converged(c.unwrap_or(1.0)),
        };
        report.linear_probe = Some(evaluate::linear_probe(&model, train, test, fit, &device)?);
        report.linear_probe_fit = Some(fit.to_string());
    }
    if let Some(n) = args.trustworthiness {
        report.trustworthiness = Some(evaluate::trustworthiness(&model, test, n, 5, &device)?);
    }
    if let (Some(k), Some(vae)) = (args.nll, vae) {
        report.nll = Some(evaluate::vae_nll(vae, test, k, &device)?);
    }
    args.output.print(&report)
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Search {
    Auto,
    Host,
    Device,
}
