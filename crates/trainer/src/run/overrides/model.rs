//! The model's flags, and the rule of each family: apply the flag, or refuse it.

use ae_models::{
    AaeConfig, Activation, ConvAutoencoderConfig, ConvStackConfig, Family, KlSparsity,
    MlpAutoencoderConfig, ModelConfig, Noise, Norm, Prior, Reconstruction, Regularization,
    VaeConfig,
};
use anyhow::{Result, bail};
use clap::Args;

use super::{Given, OwnFlags, Widths, flag, parse_kl};

/// Flags that shape the model. Which apply depends on the family; those that do not
/// are refused by name.
#[derive(Args, Clone, Debug, Default)]
#[command(
    next_help_heading = "Model (defaults: the family's for the data; --print-config shows them)"
)]
pub struct ModelOverrides {
    /// Code size.
    #[arg(long)]
    pub latent: Option<usize>,
    /// Hidden widths of the encoder, comma-separated (the decoder mirrors them); `none`
    /// for a shallow model. conv-vae: linear layers after the convolutions. lstm, gru:
    /// the units of the recurrent layers; transformer: the width of the attention
    /// layers; mae: the encoder's width (one value).
    #[arg(long)]
    pub hidden: Option<Widths>,
    /// Hidden activation: relu, leaky-relu[:slope], sigmoid, tanh, gelu, identity.
    #[arg(long)]
    pub activation: Option<Activation>,
    /// Code activation (mlp, aae).
    #[arg(long)]
    pub code_activation: Option<Activation>,
    /// Output activation: as --activation, or exp, softplus (mlp, conv, aae).
    #[arg(long)]
    pub output_activation: Option<Activation>,
    /// Reconstruction loss: mse, bce or poisson (count data; it brings an exp output
    /// unless --output-activation says otherwise).
    #[arg(long)]
    pub loss: Option<Reconstruction>,
    /// Linear layers without bias (mlp, aae).
    #[arg(long)]
    pub no_bias: bool,
    /// Output channels of the encoder's convolutions, comma-separated (conv, conv-vae).
    #[arg(long)]
    pub channels: Option<Widths>,
    /// Batch normalisation after every convolution but the decoder's last (conv,
    /// conv-vae).
    #[arg(long)]
    pub batch_norm: bool,
    /// Weight β of the KL term (vae, conv-vae).
    #[arg(long)]
    pub beta: Option<f64>,
    /// Prior of the codes (aae): gaussian or mixture:K[:RADIUS[:STD]].
    #[arg(long)]
    pub prior: Option<Prior>,
    /// Weight of the generator term against the reconstruction (aae).
    #[arg(long)]
    pub adversarial_weight: Option<f64>,
    /// Hidden widths of the discriminator, comma-separated (aae).
    #[arg(long)]
    pub discriminator: Option<Widths>,
    /// Training-time corruption (denoising): none, gaussian:STD, salt-pepper:RATE,
    /// masking:RATE, speckle:STD (mlp, conv, aae).
    #[arg(long)]
    pub noise: Option<Noise>,
    /// λ of the L1 penalty on code activations (sparse autoencoder; mlp, conv, aae).
    #[arg(long, value_name = "LAMBDA")]
    pub code_l1: Option<f64>,
    /// KL sparsity: target rate and weight, e.g. 0.05:1.0 (needs --code-activation
    /// sigmoid; mlp, aae).
    #[arg(long, value_name = "RHO:BETA", value_parser = parse_kl)]
    pub kl_sparsity: Option<KlSparsity>,
    /// Keep the k largest code units of each sample (k-sparse autoencoder; mlp, conv, aae).
    #[arg(long, value_name = "K")]
    pub k_sparse: Option<usize>,
    /// λ of the contractive penalty on the code layer's Jacobian (mlp, aae).
    #[arg(long, value_name = "LAMBDA")]
    pub contractive: Option<f64>,
    /// λ of an L1 penalty on the weights (mlp, conv, aae).
    #[arg(long, value_name = "LAMBDA")]
    pub weight_l1: Option<f64>,
    /// λ of an L2 penalty on the weights (mlp, conv, aae).
    #[arg(long, value_name = "LAMBDA")]
    pub weight_l2: Option<f64>,
    /// Dropout after hidden activations, in training (mlp, aae).
    #[arg(long)]
    pub dropout: Option<f64>,
    /// Side of the square patches the images are cut into (mae); it divides their
    /// height and width.
    #[arg(long, value_name = "PIXELS")]
    pub patch: Option<usize>,
    /// Share of each image's patches hidden from the encoder in training, in (0, 1)
    /// (mae).
    #[arg(long, value_name = "RATIO")]
    pub mask_ratio: Option<f64>,
    /// The flags of one family alone (topk-sae, vq-vae, capsule).
    #[command(flatten)]
    pub own: OwnFlags,
}

/// The fields the flags set of a configuration that reads its input as a sequence of
/// tokens — the steps of a series (recurrent, transformer), the patches of an image
/// (masked).
struct TokenModel<'a> {
    latent: &'a mut usize,
    /// Units of the recurrent layers, or the width of the attention layers.
    width: &'a mut usize,
    output_activation: &'a mut Activation,
    reconstruction: &'a mut Reconstruction,
    /// `None` for the masked autoencoder, whose masking is its corruption.
    noise: Option<&'a mut Noise>,
    /// The masked autoencoder's patches and mask ratio; `None` for the sequence
    /// families.
    patches: Option<(&'a mut usize, &'a mut f64)>,
}

/// The output activation after `--loss` and `--output-activation`: Poisson counts
/// need a positive rate, so `--loss poisson` brings `exp` unless the output
/// activation is given too.
fn output(
    current: Activation,
    loss: Option<Reconstruction>,
    given: Option<Activation>,
) -> Activation {
    match (given, loss) {
        (Some(a), _) => a,
        (None, Some(Reconstruction::Poisson)) => Activation::Exp,
        (None, _) => current,
    }
}

impl ModelOverrides {
    /// The flags given, by name.
    pub fn given(&self) -> Vec<String> {
        let Self {
            latent,
            hidden,
            activation,
            code_activation,
            output_activation,
            loss,
            no_bias,
            channels,
            batch_norm,
            beta,
            prior,
            adversarial_weight,
            discriminator,
            noise,
            code_l1,
            kl_sparsity,
            k_sparse,
            contractive,
            weight_l1,
            weight_l2,
            dropout,
            patch,
            mask_ratio,
            own,
        } = self;
        let mut names = given!(
            latent,
            hidden,
            activation,
            code_activation,
            output_activation,
            loss,
            no_bias,
            channels,
            batch_norm,
            beta,
            prior,
            adversarial_weight,
            discriminator,
            noise,
            code_l1,
            kl_sparsity,
            k_sparse,
            contractive,
            weight_l1,
            weight_l2,
            dropout,
            patch,
            mask_ratio,
        );
        names.extend(own.given());
        names
    }

    /// Applies the flags to `model`, or refuses the first that does not apply to its
    /// family.
    ///
    /// One rule for every family: the family's own step takes the flags it applies
    /// (a flag taken is `None` again), and whatever it left is refused by name. So a
    /// family's flags are its own business — no family names another's — and a new
    /// flag is refused by every family that does not take it.
    pub fn apply(&self, model: &mut ModelConfig) -> Result<()> {
        let family = model.family();
        let mut flags = self.clone();
        match model {
            ModelConfig::Mlp(m) => flags.take_mlp(m),
            ModelConfig::Aae(a) => flags.take_aae(a),
            ModelConfig::Conv(c) => flags.take_conv(c),
            ModelConfig::Vae(v) => flags.take_vae(v),
            ModelConfig::Recurrent(r) => flags.take_tokens(
                family,
                TokenModel {
                    latent: &mut r.latent,
                    width: &mut r.hidden,
                    output_activation: &mut r.output_activation,
                    reconstruction: &mut r.reconstruction,
                    noise: Some(&mut r.noise),
                    patches: None,
                },
            )?,
            ModelConfig::Transformer(t) => flags.take_tokens(
                family,
                TokenModel {
                    latent: &mut t.latent,
                    width: &mut t.width,
                    output_activation: &mut t.output_activation,
                    reconstruction: &mut t.reconstruction,
                    noise: Some(&mut t.noise),
                    patches: None,
                },
            )?,
            ModelConfig::Masked(m) => flags.take_tokens(
                family,
                TokenModel {
                    latent: &mut m.latent,
                    width: &mut m.width,
                    output_activation: &mut m.output_activation,
                    reconstruction: &mut m.reconstruction,
                    noise: None,
                    patches: Some((&mut m.patch, &mut m.mask_ratio)),
                },
            )?,
            ModelConfig::TopK(c) => flags.take_topk(c),
            ModelConfig::VqVae(c) => flags.take_vq(c, family)?,
            ModelConfig::Capsule(c) => flags.take_capsule(c, family)?,
        }
        if let Some(name) = flags.given().into_iter().next() {
            bail!("{name} does not apply to --model {family}");
        }
        Ok(())
    }

    /// The penalties on the code and the weights, into `reg`; `kl_and_contractive`:
    /// whether the model's code has an activation of its own and a closed-form
    /// Jacobian (the MLP's), for the KL sparsity and the contractive penalty.
    fn take_objective(&mut self, reg: &mut Regularization, kl_and_contractive: bool) {
        take(&mut reg.code_l1, &mut self.code_l1);
        if self.k_sparse.is_some() {
            reg.k_sparse = self.k_sparse.take();
        }
        take(&mut reg.weight_l1, &mut self.weight_l1);
        take(&mut reg.weight_l2, &mut self.weight_l2);
        if kl_and_contractive {
            if self.kl_sparsity.is_some() {
                reg.kl_sparsity = self.kl_sparsity.take();
            }
            take(&mut reg.contractive, &mut self.contractive);
        }
    }

    /// The output activation and the loss: `--loss poisson` brings `exp` unless
    /// `--output-activation` is given too.
    pub(super) fn take_output(
        &mut self,
        activation: &mut Activation,
        reconstruction: &mut Reconstruction,
    ) {
        *activation = output(*activation, self.loss, self.output_activation.take());
        take(reconstruction, &mut self.loss);
    }

    /// The families built of recurrent cells or attention — over the steps of
    /// sequences, or the patches of images: the code size, the width of their layers
    /// (`--hidden`, one value), the output and loss, the noise of the sequence
    /// families, and the patches and mask ratio of the masked autoencoder. The cells'
    /// and the attention's own activations are fixed, the code is a linear layer, and
    /// the penalties are the feed-forward models'.
    fn take_tokens(&mut self, family: Family, model: TokenModel<'_>) -> Result<()> {
        take(model.latent, &mut self.latent);
        match self.hidden.take().as_ref().map(|w| &w.0[..]) {
            None => {}
            Some([units]) => *model.width = *units,
            Some(other) => bail!(
                "--hidden {}: --model {family} has layers of one width, give it as one value",
                other
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
        self.take_output(model.output_activation, model.reconstruction);
        if let Some(slot) = model.noise {
            take(slot, &mut self.noise);
        }
        if let Some((side, ratio)) = model.patches {
            take(side, &mut self.patch);
            take(ratio, &mut self.mask_ratio);
        }
        Ok(())
    }

    fn take_mlp(&mut self, m: &mut MlpAutoencoderConfig) {
        take(&mut m.latent, &mut self.latent);
        if let Some(w) = self.hidden.take() {
            m.hidden = w.0;
        }
        take(&mut m.activation, &mut self.activation);
        take(&mut m.code_activation, &mut self.code_activation);
        self.take_output(&mut m.output_activation, &mut m.reconstruction);
        take(&mut m.noise, &mut self.noise);
        take(&mut m.dropout, &mut self.dropout);
        m.bias &= !std::mem::take(&mut self.no_bias);
        self.take_objective(&mut m.regularization, true);
    }

    /// The adversary's own flags; the rest shape its MLP autoencoder.
    fn take_aae(&mut self, a: &mut AaeConfig) {
        take(&mut a.prior, &mut self.prior);
        take(&mut a.adversarial_weight, &mut self.adversarial_weight);
        if let Some(w) = self.discriminator.take() {
            a.discriminator = w.0;
        }
        self.take_mlp(&mut a.autoencoder);
    }

    /// The convolutional autoencoder: the code is the linear layer after the
    /// convolutions, with no activation of its own (so no KL sparsity) and no
    /// closed-form Jacobian.
    fn take_conv(&mut self, c: &mut ConvAutoencoderConfig) {
        take(&mut c.latent, &mut self.latent);
        self.take_stack(&mut c.conv);
        self.take_output(&mut c.output_activation, &mut c.reconstruction);
        take(&mut c.noise, &mut self.noise);
        self.take_objective(&mut c.regularization, false);
    }

    /// The convolutions' channels, activation and batch normalisation.
    pub(super) fn take_stack(&mut self, conv: &mut ConvStackConfig) {
        if let Some(w) = self.channels.take() {
            conv.channels = w.0;
        }
        take(&mut conv.activation, &mut self.activation);
        if std::mem::take(&mut self.batch_norm) {
            conv.norm = Some(Norm::Batch);
        }
    }

    /// The VAE: the code is a Gaussian sample and the output a likelihood's parameter,
    /// so the deterministic autoencoders' code, output and penalty flags have no
    /// meaning; the convolutions' flags apply to a convolutional VAE.
    fn take_vae(&mut self, v: &mut VaeConfig) {
        take(&mut v.latent, &mut self.latent);
        if let Some(w) = self.hidden.take() {
            v.hidden = w.0;
        }
        if let Some(a) = self.activation {
            v.activation = a;
        }
        match &mut v.conv {
            Some(conv) => self.take_stack(conv),
            None => self.activation = None,
        }
        take(&mut v.reconstruction, &mut self.loss);
        take(&mut v.beta, &mut self.beta);
    }
}

/// Moves a flag's value, when it was given, into `slot`; the flag is taken.
pub(super) fn take<T>(slot: &mut T, flag: &mut Option<T>) {
    if let Some(v) = flag.take() {
        *slot = v;
    }
}
