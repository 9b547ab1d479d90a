//! `trainer`: train and evaluate autoencoders from the command line.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use ae_data::{DataSpec, Dataset, Locator};
use ae_models::{
    AaeConfig, Activation, AnyAutoencoder, ConvAutoencoderConfig, ConvStackConfig, KlSparsity,
    MlpAutoencoderConfig, ModelConfig, Noise, Prior, Reconstruction, Regularization, VaeConfig,
};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use trainer::artifact::{self, Artifact};
use trainer::config::{Pretrain, Schedule, TrainConfig};
use trainer::device::{self, Backend};
use trainer::evaluate::evaluate;
use trainer::fit::{self, DataPath};

/// Train, evaluate and use autoencoders on a GPU or a CPU.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model and write an artifact folder (config, weights, metrics, pictures).
    Train(Box<TrainArgs>),
    /// Reload an artifact and report reconstruction quality on the test split.
    Eval(EvalArgs),
    /// Compare autoencoders with an exact PCA at the same code sizes (squared error per
    /// test image; PCA fitted on every training image).
    Pca(PcaArgs),
    /// Write the codes of a split as .npy (codes and labels) and CSV.
    Embed(commands::EmbedArgs),
    /// Nearest training images of a test image, by the distance between their codes.
    Search(commands::SearchArgs),
    /// One-class anomaly detection: score test images by reconstruction error (or a
    /// VAE's negative ELBO); AUROC, average precision, a threshold at a false-positive rate.
    Anomaly(commands::AnomalyArgs),
    /// Corrupt test images, reconstruct them, and report PSNR before and after.
    Denoise(commands::DenoiseArgs),
    /// Decode samples of the prior of a VAE or AAE as an image grid.
    Sample(commands::SampleArgs),
    /// Decode codes on the segment between two test images' codes, as an image grid.
    Interpolate(commands::InterpolateArgs),
    /// A scatter plot of the test codes coloured by label: the codes themselves when
    /// they are 2-d, their t-SNE map otherwise.
    Latent(commands::LatentArgs),
    /// The first layer's filters (weights into each unit) as an image grid.
    Filters(commands::FiltersArgs),
    /// Rate–distortion: bits per image against PSNR for autoencoder codes and PCA
    /// coefficients quantised to 8 bits, beside JPEG and PNG.
    Compress(commands::CompressArgs),
    /// Transfer learning with few labels: a classifier head on the trained encoder,
    /// frozen and fine-tuned, against the same network trained from scratch.
    Finetune(commands::FinetuneArgs),
    /// Lend this machine's devices to `train --remote` on another (or this) machine:
    /// serve them over WebSocket until interrupted.
    #[cfg(feature = "remote")]
    Serve(ServeArgs),
}

#[cfg(feature = "remote")]
#[derive(Args)]
struct ServeArgs {
    /// TCP port to listen on, every interface (0: any free port, printed).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Devices of the backend to serve (GPUs 0..N; on a CPU backend, N workers).
    #[arg(long, value_name = "N", default_value_t = 1)]
    devices: usize,
    /// Serve only clients presenting this token (WebSocket is not encrypted: use on a
    /// trusted network).
    #[arg(long, env = "AE_REMOTE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    device: DeviceArgs,
}

#[cfg(feature = "remote")]
fn run_serve(args: ServeArgs) -> Result<()> {
    let selected = device::select(args.device.backend)?;
    let devices = device::devices(&selected, args.devices)?;
    let n = devices.len();
    trainer::remote::serve(devices, args.port, args.token.as_deref(), |port| {
        use std::io::Write;
        println!(
            "serving {n} device(s) of {} on port {port} (ws://<this host>:{port}); Ctrl+C stops",
            selected.description
        );
        let _ = std::io::stdout().flush();
    })
}

/// The model families `--model` accepts.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModelKind {
    /// Multi-layer perceptron autoencoder (vanilla, undercomplete, overcomplete, deep).
    Mlp,
    /// Convolutional autoencoder: strided convolutions, transposed convolutions.
    Conv,
    /// Variational autoencoder (MLP encoder and decoder).
    Vae,
    /// Variational autoencoder with a convolutional encoder and decoder.
    ConvVae,
    /// Adversarial autoencoder: an MLP autoencoder whose codes a discriminator matches to a prior.
    Aae,
}

impl ModelKind {
    fn name(self) -> &'static str {
        match self {
            Self::Mlp => "mlp",
            Self::Conv => "conv",
            Self::Vae => "vae",
            Self::ConvVae => "conv-vae",
            Self::Aae => "aae",
        }
    }

    /// The family's default architecture for `data`: for images, the architectures of
    /// the literature; for a table of `d` columns, one hidden layer of 64 units, a code
    /// of `d / 4` (2 to 16) and a linear output trained with MSE on the standardised
    /// values.
    fn default_config(self, data: &Dataset) -> ModelConfig {
        let pixels = data.features();
        let Some(shape) = data.image_shape() else {
            let latent = (pixels / 4).clamp(2, 16);
            let mlp = MlpAutoencoderConfig::new(pixels, vec![64], latent)
                .with_output_activation(Activation::Identity);
            return match self {
                Self::Mlp => ModelConfig::Mlp(mlp),
                Self::Aae => ModelConfig::Aae(AaeConfig::new(mlp)),
                Self::Vae => ModelConfig::Vae(
                    VaeConfig::new(pixels, vec![64], latent)
                        .with_reconstruction(Reconstruction::Mse),
                ),
                // Refused by `TrainConfig::validate`, which names the reason.
                Self::Conv | Self::ConvVae => ModelConfig::Conv(ConvAutoencoderConfig::new(
                    ConvStackConfig::new([1, 1, pixels], vec![32, 64]),
                    latent,
                )),
            };
        };
        match self {
            Self::Mlp => ModelConfig::Mlp(MlpAutoencoderConfig::new(pixels, vec![512, 256], 32)),
            Self::Conv => ModelConfig::Conv(ConvAutoencoderConfig::new(
                ConvStackConfig::new([1, shape[0], shape[1]], vec![32, 64]),
                32,
            )),
            Self::Vae => ModelConfig::Vae(VaeConfig::new(pixels, vec![400], 20)),
            Self::ConvVae => ModelConfig::Vae(VaeConfig::new(pixels, vec![], 20).with_conv(Some(
                ConvStackConfig::new([1, shape[0], shape[1]], vec![32, 64]),
            ))),
            Self::Aae => ModelConfig::Aae(AaeConfig::new(MlpAutoencoderConfig::new(
                pixels,
                vec![512, 256],
                8,
            ))),
        }
    }
}

/// How a table file becomes a data set (with `--dataset FILE.csv|FILE.npy`).
#[derive(Args)]
struct TableArgs {
    /// CSV: the label column, by header name or 0-based index; its values are integers
    /// 0-255 or class names.
    #[arg(long, value_name = "NAME|INDEX")]
    label_column: Option<String>,
    /// .npy: the labels of the rows, a 1-D integer array.
    #[arg(long, value_name = "FILE.npy")]
    labels: Option<PathBuf>,
    /// A separate file of test rows, same format and columns [default: hold out
    /// --test-fraction of the rows].
    #[arg(long, value_name = "FILE")]
    test_file: Option<PathBuf>,
    /// .npy: the labels of the --test-file rows.
    #[arg(long, value_name = "FILE.npy")]
    test_labels: Option<PathBuf>,
    /// Share of the rows held out for testing when there is no --test-file [default: 0.2].
    #[arg(long)]
    test_fraction: Option<f64>,
}

impl TableArgs {
    fn given(&self) -> bool {
        self.label_column.is_some()
            || self.labels.is_some()
            || self.test_file.is_some()
            || self.test_labels.is_some()
            || self.test_fraction.is_some()
    }

    /// `spec` with these flags applied and every path made absolute, so that the
    /// artifact finds its data from any folder.
    fn apply(&self, spec: DataSpec) -> Result<DataSpec> {
        let DataSpec::Table(mut table) = spec else {
            if self.given() {
                bail!(
                    "--label-column, --labels, --test-file, --test-labels and --test-fraction                      describe a table (--dataset FILE.csv or FILE.npy), not {spec}"
                );
            }
            return Ok(spec);
        };
        let absolute = |p: PathBuf| {
            std::path::absolute(&p).with_context(|| format!("{}: not a usable path", p.display()))
        };
        set(&mut table.label_column, self.label_column.clone().map(Some));
        set(&mut table.labels, self.labels.clone().map(Some));
        set(&mut table.test, self.test_file.clone().map(Some));
        set(&mut table.test_labels, self.test_labels.clone().map(Some));
        set(&mut table.test_fraction, self.test_fraction);
        table.path = absolute(table.path)?;
        for p in [&mut table.labels, &mut table.test, &mut table.test_labels] {
            if let Some(path) = p.take() {
                *p = Some(absolute(path)?);
            }
        }
        table.validate()?;
        Ok(DataSpec::Table(table))
    }
}

#[derive(Args)]
struct DeviceArgs {
    /// Compute backend. `auto` takes a hardware GPU when wgpu finds one, else the CPU.
    #[arg(long, value_enum, env = "BURN_DEVICE", default_value_t = Backend::Auto, ignore_case = true)]
    backend: Backend,
}

#[derive(Args)]
struct TrainArgs {
    /// A whole training config (JSON, as written to an artifact's config.json); flags override it.
    #[arg(long, value_name = "FILE.json")]
    config: Option<PathBuf>,
    /// Model family.
    #[arg(long, value_enum)]
    model: Option<ModelKind>,
    /// Data set: mnist, fashion-mnist or fashion-mnist-sample, or your own table, a
    /// numeric CSV or .npy file. Default: MNIST if it can be found or downloaded, else the
    /// embedded sample.
    #[arg(long, value_name = "NAME|FILE")]
    dataset: Option<DataSpec>,
    /// Folder holding the data set's IDX files (looked in before the other places).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    table: TableArgs,
    /// Passes over the training data [default: 10].
    #[arg(long)]
    epochs: Option<usize>,
    /// Images per step [default: 128].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam learning rate [default: 0.001].
    #[arg(long)]
    lr: Option<f64>,
    /// Code size [default: 32; vae 20; aae 8].
    #[arg(long)]
    latent: Option<usize>,
    /// Hidden widths of the encoder, comma-separated; `none` for a shallow model [default: 512,256;
    /// vae 400; conv-vae none (linear layers after the convolutions)].
    #[arg(long, value_parser = parse_widths)]
    hidden: Option<Widths>,
    /// Hidden activation: relu, leaky-relu[:slope], sigmoid, tanh, gelu, identity [default: relu].
    #[arg(long)]
    activation: Option<Activation>,
    /// Code activation [default: identity].
    #[arg(long)]
    code_activation: Option<Activation>,
    /// Output activation: as --activation, or exp, softplus [default: sigmoid; exp with --loss poisson].
    #[arg(long)]
    output_activation: Option<Activation>,
    /// Reconstruction loss: mse, bce or poisson (count data) [default: mse].
    #[arg(long)]
    loss: Option<Reconstruction>,
    /// Linear layers without bias (mlp).
    #[arg(long)]
    no_bias: bool,
    /// Output channels of the encoder's convolutions, comma-separated (conv, conv-vae) [default: 32,64].
    #[arg(long, value_parser = parse_widths)]
    channels: Option<Widths>,
    /// Weight of the KL term (vae, conv-vae) [default: 1].
    #[arg(long)]
    beta: Option<f64>,
    /// Prior of the codes (aae): gaussian or mixture:K[:RADIUS[:STD]] [default: gaussian].
    #[arg(long)]
    prior: Option<Prior>,
    /// Weight of the generator term against the reconstruction (aae) [default: 1].
    #[arg(long)]
    adversarial_weight: Option<f64>,
    /// Hidden widths of the discriminator, comma-separated (aae) [default: 256,256].
    #[arg(long, value_parser = parse_widths)]
    discriminator: Option<Widths>,
    /// Training-time corruption (denoising): none, gaussian:STD, salt-pepper:RATE, masking:RATE, speckle:STD.
    #[arg(long)]
    noise: Option<Noise>,
    /// λ of the L1 penalty on code activations (sparse autoencoder).
    #[arg(long, value_name = "LAMBDA")]
    code_l1: Option<f64>,
    /// KL sparsity: target rate and weight, e.g. 0.05:1.0 (needs --code-activation sigmoid).
    #[arg(long, value_name = "RHO:BETA", value_parser = parse_kl)]
    kl_sparsity: Option<KlSparsity>,
    /// Keep the k largest code units of each sample (k-sparse autoencoder).
    #[arg(long, value_name = "K")]
    k_sparse: Option<usize>,
    /// λ of the contractive penalty on the code layer's Jacobian (mlp).
    #[arg(long, value_name = "LAMBDA")]
    contractive: Option<f64>,
    /// λ of an L1 penalty on the weights.
    #[arg(long, value_name = "LAMBDA")]
    weight_l1: Option<f64>,
    /// λ of an L2 penalty on the weights.
    #[arg(long, value_name = "LAMBDA")]
    weight_l2: Option<f64>,
    /// Dropout after hidden activations, in training (mlp).
    #[arg(long)]
    dropout: Option<f64>,
    /// Seed of the initial weights and the data order [default: 42].
    #[arg(long)]
    seed: Option<u64>,
    /// Train on the first N training images only.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Train on the samples of these classes only (labels or class names,
    /// comma-separated): the normal classes for `anomaly` (one-class training).
    #[arg(long, value_delimiter = ',', value_name = "CLASSES")]
    classes: Option<Vec<String>>,
    /// Fraction of the training images held out for validation; 0 validates on the test split [default: 0.1].
    #[arg(long)]
    valid_fraction: Option<f64>,
    /// Greedy layer-wise pretraining of a deep MLP before the end-to-end run:
    /// none, layerwise (1 epoch per layer pair) or layerwise:EPOCHS [default: none].
    #[arg(long)]
    pretrain: Option<Pretrain>,
    /// Adam's β₁ [default: 0.9; aae 0.5].
    #[arg(long)]
    beta1: Option<f64>,
    /// Adam weight decay (L2, as PyTorch's `weight_decay`) [default: 0].
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Stop when the validation loss has not improved for N epochs.
    #[arg(long, value_name = "N")]
    early_stopping: Option<usize>,
    /// Learning-rate schedule: constant, cosine (to 0 over the run) or step:EPOCHS[:GAMMA]
    /// (× γ, default 0.1, every EPOCHS epochs) [default: constant].
    #[arg(long)]
    schedule: Option<Schedule>,
    /// Threads preparing batches [default: 1].
    #[arg(long)]
    workers: Option<usize>,
    /// Keep the data on the device and gather batches there.
    #[arg(long)]
    data_on_device: bool,
    /// Train data-parallel on N devices of the backend (GPUs 0..N; on a CPU backend, N
    /// workers sharing the CPU) with burn's multi-device strategy.
    #[arg(long, value_name = "N", default_value_t = 1)]
    devices: usize,
    /// How several devices combine their gradients: multi (summed on the first
    /// device, which holds the optimiser) or ddp (a replica per device, all-reduce).
    #[arg(long, value_enum, default_value_t = fit::Parallelism::Multi)]
    parallelism: fit::Parallelism,
    /// Train on the devices of `trainer serve` servers, on this machine or others
    /// (comma-separated ws://HOST:PORT), data-parallel with the multi strategy.
    #[cfg(feature = "remote")]
    #[arg(long, value_delimiter = ',', value_name = "ws://HOST:PORT,…")]
    remote: Vec<String>,
    /// The token the servers were started with.
    #[cfg(feature = "remote")]
    #[arg(long, env = "AE_REMOTE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Artifact folder [default: artifacts/<model>-<dataset>-<n>, the first free n].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the artifact folder if it exists.
    #[arg(long)]
    force: bool,
    /// Continue the unfinished run in DIR from its last complete checkpoint, with the
    /// config in DIR/config.json (only --epochs and --workers may change it).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "force", "config"])]
    resume: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    source: commands::Source,
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    json: bool,
    /// Images per batch.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Also report the k-nearest-neighbour accuracy (euclidean and cosine) of the test
    /// codes against the training codes, with this k (5 is usual).
    #[arg(long, value_name = "K")]
    knn: Option<usize>,
    /// Also report the test accuracy of a linear probe (logistic regression) trained on
    /// the training codes.
    #[arg(long)]
    probe: bool,
    /// Also report the trustworthiness (5 neighbours) of the codes of the first N test
    /// images against their pixels (cost grows as N²; 1000 is usual).
    #[arg(long, value_name = "N")]
    trustworthiness: Option<usize>,
    /// VAEs: also estimate the negative log-likelihood by importance sampling with K
    /// posterior samples per image (100 is usual).
    #[arg(long, value_name = "K")]
    nll: Option<usize>,
}

#[derive(Args)]
struct PcaArgs {
    /// Artifact folders to compare; their code sizes are compared at.
    #[arg(long, value_name = "DIR")]
    artifact: Vec<PathBuf>,
    /// Code sizes for PCA, comma-separated [default: those of the artifacts].
    #[arg(long, value_parser = parse_widths)]
    components: Option<Widths>,
    /// Data set [default: the artifacts'].
    #[arg(long, value_name = "NAME|FILE")]
    dataset: Option<DataSpec>,
    /// Folder holding the data set's IDX files.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print JSON instead of a markdown table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Clone, Debug)]
struct Widths(Vec<usize>);

fn parse_widths(s: &str) -> Result<Widths, String> {
    if s.is_empty() || s == "none" {
        return Ok(Widths(Vec::new()));
    }
    s.split(',')
        .map(|w| {
            w.trim()
                .parse::<usize>()
                .map_err(|_| format!("'{w}' is not a layer width"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Widths)
}

fn parse_kl(s: &str) -> Result<KlSparsity, String> {
    let (rho, beta) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}': expected RHO:BETA, e.g. 0.05:1.0"))?;
    let num = |v: &str| {
        v.parse::<f64>()
            .map_err(|_| format!("'{v}' is not a number"))
    };
    Ok(KlSparsity {
        target: num(rho)?,
        weight: num(beta)?,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => run_train(*args),
        Command::Eval(args) => run_eval(args),
        Command::Pca(args) => run_pca(args),
        Command::Embed(args) => commands::run_embed(args),
        Command::Search(args) => commands::run_search(args),
        Command::Anomaly(args) => commands::run_anomaly(args),
        Command::Denoise(args) => commands::run_denoise(args),
        Command::Sample(args) => commands::run_sample(args),
        Command::Interpolate(args) => commands::run_interpolate(args),
        Command::Latent(args) => commands::run_latent(args),
        Command::Filters(args) => commands::run_filters(args),
        Command::Compress(args) => commands::run_compress(args),
        Command::Finetune(args) => commands::run_finetune(args),
        #[cfg(feature = "remote")]
        Command::Serve(args) => run_serve(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_train(args: TrainArgs) -> Result<()> {
    if let Some(dir) = &args.resume {
        return run_resume(&args, dir);
    }
    let base = args.config.as_deref().map(TrainConfig::load).transpose()?;
    // The data set: the flag, else the config file's, else MNIST-or-sample.
    let requested = args
        .dataset
        .clone()
        .or(base.as_ref().map(|c| c.dataset.clone()))
        .map(|spec| args.table.apply(spec))
        .transpose()?;
    if requested.is_none() && args.table.given() {
        bail!(
            "--label-column, --labels, --test-file, --test-labels and --test-fraction need --dataset FILE.csv or FILE.npy"
        );
    }
    let locator = Locator::new(args.data_dir.clone());
    let (data, note) = trainer::load_dataset(requested.as_ref(), &locator)?;
    if let Some(note) = note {
        println!("{note}");
    }
    let what = if data.is_images() {
        "images".to_string()
    } else {
        format!("rows of {} columns, standardised", data.features())
    };
    println!(
        "data: {} from {} ({} train / {} test {what})",
        data.spec.short_name(),
        data.source,
        data.train.len(),
        data.test.len()
    );

    let config = merge(&args, base, &data)?;
    config.validate()?;
    let devices = select_devices(&args)?;

    let dir = match &args.out {
        Some(dir) => dir.clone(),
        None => artifact::next_free_dir(
            std::path::Path::new("artifacts"),
            &format!("{}-{}", config.model.kind(), data.spec.short_name()),
        ),
    };
    artifact::prepare_out_dir(&dir, args.force)?;
    println!("artifact: {}", dir.display());
    let data_path = if args.data_on_device {
        DataPath::Device
    } else {
        DataPath::Host
    };
    let outcome = fit::train_on(
        &config,
        &data,
        &devices,
        args.parallelism,
        &dir,
        data_path,
        None,
    )?;
    println!("{}", outcome.test);
    println!("wrote {}", outcome.dir.display());
    Ok(())
}

/// The `--devices` of the chosen backend to train on (or the `--remote` servers'
/// devices), said on one line.
fn select_devices(args: &TrainArgs) -> Result<Vec<burn::prelude::Device>> {
    #[cfg(feature = "remote")]
    if !args.remote.is_empty() {
        if args.devices != 1 {
            bail!(
                "--devices counts local devices; with --remote every device the servers host is used"
            );
        }
        if args.parallelism == fit::Parallelism::Ddp && args.remote.len() > 1 {
            bail!(
                "--parallelism ddp: burn 0.22 runs collective operations only among the devices                  of one server; across {} servers use --parallelism multi",
                args.remote.len()
            );
        }
        let devices = trainer::remote::connect(&args.remote, args.token.as_deref())?;
        println!(
            "device: {} remote device(s) on {}",
            devices.len(),
            args.remote.join(", ")
        );
        return Ok(devices);
    }
    let selected = device::select(args.device.backend)?;
    let devices = device::devices(&selected, args.devices)?;
    if args.parallelism == fit::Parallelism::Ddp
        && devices.len() > 1
        && matches!(selected.backend, Backend::Flex | Backend::Ndarray)
    {
        bail!(
            "--parallelism ddp: burn's collective operations run on GPU backends (cuda, \
             wgpu, vulkan, metal), not on {}; use --parallelism multi on a CPU",
            selected.backend
        );
    }
    println!("device: {}", selected.description);
    if devices.len() > 1 {
        println!("training data-parallel on {} devices", devices.len());
    }
    Ok(devices)
}

/// Continues the run in `dir` after its last complete checkpoint.
fn run_resume(args: &TrainArgs, dir: &std::path::Path) -> Result<()> {
    let artifact = Artifact::open(dir)?;
    if dir.join(artifact::MODEL_FILE).exists() {
        bail!(
            "{}: this run has finished ({} is written); nothing to resume",
            dir.display(),
            artifact::MODEL_FILE
        );
    }
    let data = artifact.load_data(&Locator::new(args.data_dir.clone()))?;
    let saved = artifact.config;
    if args.dataset.is_some() || args.table.given() {
        bail!("--resume continues on the run's own data set: drop --dataset and the table flags");
    }
    let config = merge(args, Some(saved.clone()), &data)?;
    let mut expected = saved;
    expected.epochs = config.epochs;
    expected.num_workers = config.num_workers;
    if config.to_json() != expected.to_json() {
        bail!(
            "--resume continues the run in {} as its {} says; only --epochs and --workers \
             may change it (drop the other training flags)",
            dir.display(),
            artifact::CONFIG_FILE
        );
    }
    config.validate()?;
    let done = artifact::last_complete_checkpoint(dir);
    if let Some(n) = done
        && n >= config.epochs
    {
        bail!(
            "{}: {n} of {} epochs are done; pass a larger --epochs to train further",
            dir.display(),
            config.epochs
        );
    }
    let devices = select_devices(args)?;
    match done {
        Some(n) => println!(
            "resuming {} after epoch {n} of {}",
            dir.display(),
            config.epochs
        ),
        None => {
            println!("no complete checkpoint in {}: starting over", dir.display());
            // Logs and partial checkpoints of the interrupted attempt would mix with the
            // new run's.
            for sub in ["train", "valid", artifact::CHECKPOINT_DIR] {
                let path = dir.join(sub);
                if path.exists() {
                    std::fs::remove_dir_all(&path)
                        .with_context(|| format!("removing {}", path.display()))?;
                }
            }
        }
    }
    let data_path = if args.data_on_device {
        DataPath::Device
    } else {
        DataPath::Host
    };
    let outcome = fit::train_on(
        &config,
        &data,
        &devices,
        args.parallelism,
        dir,
        data_path,
        done,
    )?;
    println!("{}", outcome.test);
    println!("wrote {}", outcome.dir.display());
    Ok(())
}

/// The config file (or the defaults) with every flag given applied on top.
fn merge(args: &TrainArgs, base: Option<TrainConfig>, data: &Dataset) -> Result<TrainConfig> {
    let features = data.features();
    let kind = args.model.unwrap_or(ModelKind::Mlp);
    let mut config = match base {
        Some(c) => c,
        None => TrainConfig::new(kind.default_config(data), data.spec.clone()),
    };
    config.dataset = data.spec.clone();
    // A --model of another family than the config file's starts from that family's defaults.
    if let Some(kind) = args.model
        && config.model.kind() != kind.name()
    {
        config.model = kind.default_config(data);
    }
    let family = config.model.kind();
    let not_for = |flag: &str| anyhow::anyhow!("{flag} does not apply to --model {family}");
    match &mut config.model {
        ModelConfig::Mlp(m) => apply_mlp(m, args),
        ModelConfig::Aae(a) => {
            apply_mlp(&mut a.autoencoder, args);
            set(&mut a.prior, args.prior);
            set(&mut a.adversarial_weight, args.adversarial_weight);
            set(
                &mut a.discriminator,
                args.discriminator.clone().map(|w| w.0),
            );
        }
        ModelConfig::Conv(m) => {
            set(&mut m.latent, args.latent);
            set(&mut m.conv.channels, args.channels.clone().map(|w| w.0));
            set(&mut m.conv.activation, args.activation);
            set(&mut m.output_activation, args.output_activation);
            set(&mut m.reconstruction, args.loss);
            if args.loss == Some(Reconstruction::Poisson) && args.output_activation.is_none() {
                m.output_activation = Activation::Exp;
            }
            set(&mut m.noise, args.noise);
            apply_regularization(&mut m.regularization, args);
            if args.hidden.is_some()
                || args.no_bias
                || args.dropout.is_some()
                || args.code_activation.is_some()
            {
                return Err(not_for(
                    "--hidden, --no-bias, --dropout or --code-activation",
                ));
            }
        }
        ModelConfig::Vae(m) => {
            set(&mut m.latent, args.latent);
            set(&mut m.hidden, args.hidden.clone().map(|w| w.0));
            set(&mut m.activation, args.activation);
            set(&mut m.reconstruction, args.loss);
            set(&mut m.beta, args.beta);
            if let Some(conv) = &mut m.conv {
                set(&mut conv.channels, args.channels.clone().map(|w| w.0));
                set(&mut conv.activation, args.activation);
            }
            if args.noise.is_some()
                || args.code_l1.is_some()
                || args.k_sparse.is_some()
                || args.kl_sparsity.is_some()
            {
                return Err(not_for("--noise, --code-l1, --k-sparse or --kl-sparsity"));
            }
        }
    }
    if args.channels.is_some() && family != "conv" && family != "conv-vae" {
        return Err(not_for("--channels"));
    }
    if args.beta.is_some() && family != "vae" && family != "conv-vae" {
        return Err(not_for("--beta"));
    }
    if (args.prior.is_some() || args.adversarial_weight.is_some() || args.discriminator.is_some())
        && family != "aae"
    {
        return Err(not_for("--prior, --adversarial-weight or --discriminator"));
    }
    set(&mut config.epochs, args.epochs);
    set(&mut config.batch_size, args.batch_size);
    set(&mut config.num_workers, args.workers);
    set(&mut config.lr, args.lr);
    set(&mut config.seed, args.seed);
    set(&mut config.valid_fraction, args.valid_fraction);
    set(&mut config.weight_decay, args.weight_decay);
    set(&mut config.schedule, args.schedule);
    set(&mut config.beta1, args.beta1);
    set(&mut config.pretrain, args.pretrain);
    if args.early_stopping.is_some() {
        config.early_stopping = args.early_stopping;
    }
    if args.limit.is_some() {
        config.limit = args.limit;
    }
    if let Some(classes) = &args.classes {
        let labels = classes
            .iter()
            .map(|c| trainer::class_label(c, data))
            .collect::<Result<Vec<u8>>>()?;
        config.classes = Some(labels);
    }
    if config.model.input_size() != features {
        bail!(
            "the config's model expects {} input features but {} has {features} per sample",
            config.model.input_size(),
            data.spec
        );
    }
    Ok(config)
}

/// Overwrites `slot` with the flag's value when it was given.
fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// The flags of an MLP autoencoder (alone or inside an adversarial one).
fn apply_mlp(m: &mut MlpAutoencoderConfig, args: &TrainArgs) {
    set(&mut m.latent, args.latent);
    set(&mut m.hidden, args.hidden.clone().map(|w| w.0));
    set(&mut m.activation, args.activation);
    set(&mut m.code_activation, args.code_activation);
    set(&mut m.output_activation, args.output_activation);
    set(&mut m.reconstruction, args.loss);
    if args.loss == Some(Reconstruction::Poisson) && args.output_activation.is_none() {
        m.output_activation = Activation::Exp;
    }
    set(&mut m.noise, args.noise);
    set(&mut m.dropout, args.dropout);
    m.bias &= !args.no_bias;
    apply_regularization(&mut m.regularization, args);
}

fn apply_regularization(reg: &mut Regularization, args: &TrainArgs) {
    set(&mut reg.code_l1, args.code_l1);
    if args.kl_sparsity.is_some() {
        reg.kl_sparsity = args.kl_sparsity;
    }
    if args.k_sparse.is_some() {
        reg.k_sparse = args.k_sparse;
    }
    set(&mut reg.contractive, args.contractive);
    set(&mut reg.weight_l1, args.weight_l1);
    set(&mut reg.weight_l2, args.weight_l2);
}

fn run_eval(args: EvalArgs) -> Result<()> {
    if args.batch_size == 0 {
        bail!("--batch-size 0: expected a positive batch size");
    }
    let commands::Loaded {
        artifact,
        data,
        device,
        model,
    } = args.source.load(args.json)?;
    if args.nll.is_some() && !matches!(model, AnyAutoencoder::Vae(_)) {
        bail!(
            "--nll needs a variational autoencoder; {} holds an autoencoder of family {}",
            artifact.dir.display(),
            artifact.config.model.kind()
        );
    }
    let mut report = evaluate(&model, &data.test, "test", args.batch_size, &device);
    if let Some(k) = args.knn {
        report.knn = Some(trainer::evaluate::knn(
            &model,
            &data.train,
            &data.test,
            k,
            &device,
        )?);
    }
    if args.probe {
        report.linear_probe = Some(trainer::evaluate::linear_probe(
            &model,
            &data.train,
            &data.test,
            &device,
        )?);
    }
    if let Some(n) = args.trustworthiness {
        report.trustworthiness = Some(trainer::evaluate::trustworthiness(
            &model, &data.test, n, 5, &device,
        )?);
    }
    if let Some(k) = args.nll {
        let AnyAutoencoder::Vae(vae) = &model else {
            bail!("--nll needs a variational autoencoder");
        };
        report.nll = Some(trainer::evaluate::vae_nll(vae, &data.test, k, &device)?);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).context("report serialises")?
        );
    } else {
        println!("{report}");
    }
    Ok(())
}

fn run_pca(args: PcaArgs) -> Result<()> {
    let artifacts = args
        .artifact
        .iter()
        .map(|dir| Artifact::open(dir))
        .collect::<Result<Vec<_>>>()?;
    let dataset = match (&args.dataset, artifacts.first()) {
        (Some(spec), _) => spec.clone(),
        (None, Some(a)) => a.config.dataset.clone(),
        (None, None) => bail!("give --dataset, or one or more --artifact folders"),
    };
    if let Some(other) = artifacts.iter().find(|a| a.config.dataset != dataset) {
        bail!(
            "{} was trained on {}, not {dataset}: compare artifacts of one data set",
            other.dir.display(),
            other.config.dataset
        );
    }
    let mut sizes: Vec<usize> = match &args.components {
        Some(w) => w.0.clone(),
        None => artifacts.iter().map(|a| a.config.model.latent()).collect(),
    };
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.is_empty() {
        bail!("give --components, or one or more --artifact folders");
    }
    let locator = Locator::new(args.data_dir.clone());
    // A table is standardised as the artifacts were; a named set needs no statistics.
    let data = match artifacts.first() {
        Some(a) => a.load_data(&locator)?,
        None => dataset.load(&locator, None)?,
    };
    let largest = sizes.iter().copied().max().unwrap_or(1);
    let pca = trainer::compare::fit_pca(&data, largest)?;
    let mut rows = trainer::compare::pca_rows(&pca, &data, &sizes)?;
    if !artifacts.is_empty() {
        let selected = device::select(args.device.backend)?;
        for a in &artifacts {
            let model = a.load_model(&selected.device)?;
            let report = evaluate(&model, &data.test, "test", 256, &selected.device);
            rows.push(trainer::compare::Row {
                method: format!("{} ({})", a.config.model.kind(), a.dir.display()),
                code_size: a.config.model.latent(),
                sq_error_per_image: report.sq_error_per_image,
                mse_per_pixel: report.mse_per_pixel,
                max_angle_to_pca_deg: linear_decoder_basis(&model)
                    .map(|basis| trainer::compare::max_angle_to_pca(&pca, &basis))
                    .transpose()?,
            });
        }
    }
    rows.sort_by_key(|r| r.code_size);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).context("rows serialise")?
        );
    } else {
        print!("{}", trainer::compare::markdown(&rows));
    }
    Ok(())
}

/// The decoder weights of a single-layer MLP autoencoder, one row per code unit: the
/// basis its reconstructions lie in (up to the bias), when the decoder is linear.
fn linear_decoder_basis(model: &AnyAutoencoder) -> Option<Vec<f32>> {
    let AnyAutoencoder::Mlp(m) = model else {
        return None;
    };
    if m.decoder.len() != 1 || m.output_activation() != Activation::Identity {
        return None;
    }
    // burn's Linear weight is [d_input, d_output] = [latent, pixels].
    m.decoder[0]
        .weight
        .val()
        .into_data()
        .try_into_vec::<f32>()
        .ok()
}
