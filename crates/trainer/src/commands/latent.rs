use ae_analysis::{TsneOptions, UmapOptions};
use ae_models::Autoencoder;
use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use trainer::applications::embed::Embedding;
use trainer::applications::evaluate::map_images;
use trainer::drawing::maps::{self, Method, Projection};

use crate::cli::{PngArg, Source, non_negative, positive};

/// A scatter plot of the test codes coloured by label: the codes themselves when
/// they are 2-d, their t-SNE or UMAP map otherwise (<artifact>/latent.png).
#[derive(ClapArgs)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Map the first N test samples. t-SNE is exact up to 1,000 (costs grow as N²),
    /// Barnes–Hut above (N log N: all 10,000 test images of Fashion-MNIST in well under
    /// a minute).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    limit: usize,
    /// How codes of more than 2 units are mapped: t-SNE, or UMAP (McInnes et al.,
    /// 2018), which keeps more of the clusters' global arrangement.
    #[arg(long, value_enum, default_value_t = MethodArg::Tsne)]
    method: MethodArg,
    /// t-SNE perplexity (codes of more than 2 units).
    #[arg(long, default_value_t = 30.0)]
    perplexity: f64,
    /// t-SNE iterations.
    #[arg(long, default_value_t = 1000, value_parser = positive)]
    iterations: usize,
    /// Seed of the t-SNE layout.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Barnes–Hut accuracy: a group of points seen from farther than its width over
    /// THETA repels as one (0: every pair, exact at any N).
    #[arg(long, default_value_t = 0.5, value_parser = non_negative, allow_hyphen_values = true)]
    theta: f64,
    /// UMAP: the neighbourhood each code's memberships span, itself included.
    #[arg(long, default_value_t = 15)]
    neighbours: usize,
    /// UMAP: how close codes may sit in the map.
    #[arg(long, default_value_t = 0.1, value_parser = non_negative)]
    min_dist: f64,
    /// UMAP: passes of gradient descent [default: 500 up to 10,000 codes, 200 above].
    #[arg(long, value_parser = positive)]
    epochs: Option<usize>,
    #[command(flatten)]
    png: PngArg,
}

pub fn run(args: Args) -> Result<()> {
    if args.limit < 2 {
        bail!("--limit {}: expected at least 2 samples", args.limit);
    }
    let l = args.source.load(false)?;
    let first: Vec<usize> = (0..args.limit.min(l.data.test.len())).collect();
    let (codes, dim) = map_images(&l.data.test, &first, 256, &l.device, |x| l.model.encode(x));
    let embedding = Embedding {
        codes,
        dim,
        labels: l.data.test.labels[..first.len()].to_vec(),
    };
    let method = match args.method {
        MethodArg::Tsne => Method::Tsne(TsneOptions {
            perplexity: args.perplexity,
            iterations: args.iterations,
            seed: args.seed,
            theta: args.theta,
            ..TsneOptions::default()
        }),
        MethodArg::Umap => Method::Umap(UmapOptions {
            neighbours: args.neighbours,
            min_dist: args.min_dist,
            epochs: args.epochs,
            seed: args.seed,
            ..UmapOptions::default()
        }),
    };
    let names: Vec<&str> = l.data.classes.iter().map(String::as_str).collect();
    let started = std::time::Instant::now();
    let (chart, projection) = maps::latent_map(&embedding, args.limit, &names, method)?;
    let seconds = started.elapsed().as_secs_f64();
    let png = args.png.path(&l.artifact.dir, "latent.png")?;
    chart.save_png(&png, 900, 640)?;
    let how = match projection {
        Projection::Direct => "the 2-d codes as they are".to_string(),
        Projection::Mapped(Method::Tsne(o)) => format!(
            "{} t-SNE of the {dim}-d codes, perplexity {}, {} iterations",
            if o.is_exact(first.len()) {
                "exact".to_string()
            } else {
                format!("Barnes–Hut (theta {})", o.theta)
            },
            o.perplexity,
            o.iterations
        ),
        Projection::Mapped(Method::Umap(o)) => format!(
            "UMAP of the {dim}-d codes, {} neighbours, min_dist {}, {} epochs",
            o.neighbours,
            o.min_dist,
            o.epochs_for(first.len())
        ),
    };
    println!(
        "wrote {} ({} test samples; {how}; {seconds:.1} s)",
        png.display(),
        first.len()
    );
    Ok(())
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MethodArg {
    Tsne,
    Umap,
}
