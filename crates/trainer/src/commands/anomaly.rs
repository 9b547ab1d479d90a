use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use trainer::applications::anomaly::{self, Score};
use trainer::dataset::class_label;

use crate::cli::{JsonArg, Source, positive};

/// One-class anomaly detection: score test samples by reconstruction error, a VAE's
/// negative ELBO, or the density of code and reconstruction; AUROC, average precision,
/// a threshold at a false-positive rate.
///
/// The threshold (with the fitted density) is stored in the artifact (threshold.json,
/// replacing an earlier one), so that `trainer score` and `trainer serve` judge new
/// data the same way.
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// The normal classes (labels or class names), comma-separated [default: the
    /// `--classes` the model was trained on].
    #[arg(long, value_name = "CLASSES", value_delimiter = ',')]
    normal: Option<Vec<String>>,
    /// reconstruction (squared error), elbo (VAEs: the negative ELBO), or density:
    /// the negative log-density of each sample's code, relative reconstruction error
    /// and cosine similarity to its reconstruction under a Gaussian mixture fitted to
    /// the normal training samples (Zong et al., 2018).
    #[arg(long, default_value = "reconstruction")]
    score: Score,
    /// --score density: the mixture's full-covariance Gaussians [default: 5].
    #[arg(long, value_parser = positive)]
    components: Option<usize>,
    /// False-positive rate the threshold is chosen for on held-out normal samples.
    #[arg(long, default_value_t = 0.05)]
    fpr: f64,
    /// Also the AUROC of the linear baseline: an exact PCA with as many components as
    /// the model's code, fitted on the samples the model trained on.
    #[arg(long)]
    pca_baseline: bool,
    #[command(flatten)]
    output: JsonArg,
}

/// The density's components when none are asked for.
const COMPONENTS: usize = 5;

pub fn run(args: Args) -> Result<()> {
    if let (Some(k), false) = (args.components, args.score == Score::Density) {
        bail!(
            "--components {k} sets the density's mixture: it applies to --score density, \
             not --score {}",
            args.score.flag()
        );
    }
    let l = args.source.load(args.output.json)?;
    if args.score == Score::Elbo && l.model.as_vae().is_none() {
        bail!(
            "--score elbo needs a variational autoencoder; {} holds an autoencoder of family {}",
            l.artifact.dir.display(),
            l.artifact.config.model.family()
        );
    }
    let normal = match (args.normal, &l.artifact.config.classes) {
        (Some(n), _) => n
            .iter()
            .map(|c| class_label(c, &l.data))
            .collect::<Result<Vec<u8>>>()?,
        (None, Some(c)) => c.clone(),
        (None, None) => bail!(
            "{} was trained on every class: pass --normal LABELS, or train a one-class \
             model with --classes",
            l.artifact.dir.display()
        ),
    };
    let mut report = anomaly::detect(
        &l.model,
        &l.artifact.config,
        &l.data,
        &normal,
        anomaly::Protocol {
            score: args.score,
            target_fpr: args.fpr,
            components: args.components.unwrap_or(COMPONENTS),
        },
        &l.device,
    )?;
    if args.pca_baseline {
        let k = l.artifact.config.model.latent();
        report.pca_auroc = Some(anomaly::pca_auroc(&l.artifact.config, &l.data, &normal, k)?);
    }
    args.output.print(&report)?;
    let saved = anomaly::save_threshold(&l.artifact.dir, &report.threshold())?;
    let note = format!("threshold saved to {}", saved.display());
    if args.output.json {
        eprintln!("{note}");
    } else {
        println!("{note}");
    }
    Ok(())
}
