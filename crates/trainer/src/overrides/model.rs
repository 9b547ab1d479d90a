//! The model's flags, and the rule of each family: apply the flag, or refuse it.

use ae_models::{
    Activation, ConvAutoencoderConfig, Family, KlSparsity, MlpAutoencoderConfig, ModelConfig,
    Noise, Norm, Prior, Reconstruction, Regularization, VaeConfig,
};
use anyhow::{Result, bail};
use clap::Args;

use super::{Given, OwnFlags, Widths, flag, parse_kl, set};

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

/// The code and weight penalties, as given.
struct Objective {
    code_l1: Option<f64>,
    kl_sparsity: Option<KlSparsity>,
    k_sparse: Option<usize>,
    contractive: Option<f64>,
    weight_l1: Option<f64>,
    weight_l2: Option<f64>,
}

impl Objective {
    fn apply(self, reg: &mut Regularization) {
        set(&mut reg.code_l1, &self.code_l1);
        if self.kl_sparsity.is_some() {
            reg.kl_sparsity = self.kl_sparsity;
        }
        if self.k_sparse.is_some() {
            reg.k_sparse = self.k_sparse;
        }
        set(&mut reg.contractive, &self.contractive);
        set(&mut reg.weight_l1, &self.weight_l1);
        set(&mut reg.weight_l2, &self.weight_l2);
    }
}

/// The output activation after `--loss` and `--output-activation`: Poisson counts
/// need a positive rate, so `--loss poisson` brings `exp` unless the output
/// activation is given too.
pub(super) fn output(
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
    pub fn apply(&self, model: &mut ModelConfig) -> Result<()> {
        let family = model.family();
        match model {
            ModelConfig::Mlp(m) => self.apply_mlp(m, family),
            ModelConfig::Aae(a) => {
                // The adversary's own flags; the rest shape its MLP autoencoder.
                let mut rest = self.clone();
                set(&mut a.prior, &rest.prior.take());
                set(&mut a.adversarial_weight, &rest.adversarial_weight.take());
                if let Some(w) = rest.discriminator.take() {
                    a.discriminator = w.0;
                }
                rest.apply_mlp(&mut a.autoencoder, family)
            }
            ModelConfig::Conv(c) => self.apply_conv(c, family),
            ModelConfig::TopK(c) => self.apply_topk(c, family),
            ModelConfig::VqVae(c) => self.apply_vq(c, family),
            ModelConfig::Capsule(c) => self.apply_capsule(c, family),
            ModelConfig::Vae(v) => self.apply_vae(v, family),
            ModelConfig::Recurrent(r) => self.apply_tokens(
                family,
                TokenModel {
                    latent: &mut r.latent,
                    width: &mut r.hidden,
                    output_activation: &mut r.output_activation,
                    reconstruction: &mut r.reconstruction,
                    noise: Some(&mut r.noise),
                    patches: None,
                },
            ),
            ModelConfig::Transformer(t) => self.apply_tokens(
                family,
                TokenModel {
                    latent: &mut t.latent,
                    width: &mut t.width,
                    output_activation: &mut t.output_activation,
                    reconstruction: &mut t.reconstruction,
                    noise: Some(&mut t.noise),
                    patches: None,
                },
            ),
            ModelConfig::Masked(m) => self.apply_tokens(
                family,
                TokenModel {
                    latent: &mut m.latent,
                    width: &mut m.width,
                    output_activation: &mut m.output_activation,
                    reconstruction: &mut m.reconstruction,
                    noise: None,
                    patches: Some((&mut m.patch, &mut m.mask_ratio)),
                },
            ),
        }
    }

    /// The flags of the families built of recurrent cells or attention — over the
    /// steps of sequences, or the patches of images: the code size, the width of their
    /// layers (`--hidden`, one value), the objective, and the patches and mask ratio
    /// of the masked autoencoder.
    fn apply_tokens(&self, family: Family, model: TokenModel<'_>) -> Result<()> {
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
        // The cells' and the attention's own activations are fixed, the code is a
        // linear layer, and the penalties are the feed-forward models'.
        refuse!(family; activation, code_activation, no_bias, channels, batch_norm, beta, prior,
            adversarial_weight, discriminator, code_l1, kl_sparsity, k_sparse, contractive,
            weight_l1, weight_l2, dropout);
        own.refuse(family)?;
        set(model.latent, latent);
        match hidden.as_ref().map(|w| &w.0[..]) {
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
        *model.output_activation = output(*model.output_activation, *loss, *output_activation);
        set(model.reconstruction, loss);
        match model.noise {
            Some(slot) => set(slot, noise),
            None => refuse!(family; noise),
        }
        match model.patches {
            Some((side, ratio)) => {
                set(side, patch);
                set(ratio, mask_ratio);
            }
            None => refuse!(family; patch, mask_ratio),
        }
        Ok(())
    }

    fn apply_mlp(&self, m: &mut MlpAutoencoderConfig, family: Family) -> Result<()> {
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
        refuse!(family; channels, batch_norm, beta, prior, adversarial_weight, discriminator,
            patch, mask_ratio);
        own.refuse(family)?;
        set(&mut m.latent, latent);
        if let Some(w) = hidden {
            m.hidden = w.0.clone();
        }
        set(&mut m.activation, activation);
        set(&mut m.code_activation, code_activation);
        m.output_activation = output(m.output_activation, *loss, *output_activation);
        set(&mut m.reconstruction, loss);
        set(&mut m.noise, noise);
        set(&mut m.dropout, dropout);
        m.bias &= !no_bias;
        Objective {
            code_l1: *code_l1,
            kl_sparsity: *kl_sparsity,
            k_sparse: *k_sparse,
            contractive: *contractive,
            weight_l1: *weight_l1,
            weight_l2: *weight_l2,
        }
        .apply(&mut m.regularization);
        Ok(())
    }

    fn apply_conv(&self, c: &mut ConvAutoencoderConfig, family: Family) -> Result<()> {
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
        // The code is the linear layer after the convolutions: no activation of its
        // own (so no KL sparsity) and no closed-form Jacobian.
        refuse!(family; hidden, code_activation, no_bias, beta, prior, adversarial_weight,
            discriminator, kl_sparsity, contractive, dropout, patch, mask_ratio);
        own.refuse(family)?;
        set(&mut c.latent, latent);
        if let Some(w) = channels {
            c.conv.channels = w.0.clone();
        }
        set(&mut c.conv.activation, activation);
        if *batch_norm {
            c.conv.norm = Some(Norm::Batch);
        }
        c.output_activation = output(c.output_activation, *loss, *output_activation);
        set(&mut c.reconstruction, loss);
        set(&mut c.noise, noise);
        Objective {
            code_l1: *code_l1,
            kl_sparsity: None,
            k_sparse: *k_sparse,
            contractive: None,
            weight_l1: *weight_l1,
            weight_l2: *weight_l2,
        }
        .apply(&mut c.regularization);
        Ok(())
    }

    fn apply_vae(&self, v: &mut VaeConfig, family: Family) -> Result<()> {
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
        // The code is a Gaussian sample and the output a likelihood's parameter: the
        // deterministic autoencoders' code, output and penalty flags have no meaning.
        refuse!(family; code_activation, output_activation, no_bias, prior, adversarial_weight,
            discriminator, noise, code_l1, kl_sparsity, k_sparse, contractive, weight_l1,
            weight_l2, dropout, patch, mask_ratio);
        own.refuse(family)?;
        set(&mut v.latent, latent);
        if let Some(w) = hidden {
            v.hidden = w.0.clone();
        }
        set(&mut v.activation, activation);
        set(&mut v.reconstruction, loss);
        set(&mut v.beta, beta);
        match &mut v.conv {
            Some(conv) => {
                if let Some(w) = channels {
                    conv.channels = w.0.clone();
                }
                set(&mut conv.activation, activation);
                if *batch_norm {
                    conv.norm = Some(Norm::Batch);
                }
            }
            None => refuse!(family; channels, batch_norm),
        }
        Ok(())
    }
}
