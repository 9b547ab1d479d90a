//! The flags of the vector-quantised autoencoder, and its rule: the convolutions and
//! the output as for `conv`, its codebook's own flags; the code is the grid of
//! codebook entries, so `--latent` is refused (the grid comes from the convolutions,
//! the width of its vectors from `--code-dim`).

use ae_models::{Family, Norm, VqVaeConfig};
use anyhow::{Result, bail};
use clap::Args;

use super::{Given, ModelOverrides, OwnFlags, flag, set};

/// Flags of `--model vq-vae`.
#[derive(Args, Clone, Debug, Default)]
pub struct VqOverrides {
    /// Entries of the codebook (vq-vae).
    #[arg(long, value_name = "ENTRIES")]
    pub codebook_size: Option<usize>,
    /// Width of each codebook entry and of the encoder's vector at each grid position
    /// (vq-vae).
    #[arg(long, value_name = "WIDTH")]
    pub code_dim: Option<usize>,
    /// Weight β of the commitment term (vq-vae).
    #[arg(long, value_name = "BETA")]
    pub commitment: Option<f64>,
    /// Move the codebook by exponential moving averages of the vectors assigned to
    /// each entry, with this decay (e.g. 0.99), instead of its loss term (vq-vae).
    #[arg(long, value_name = "DECAY")]
    pub ema_decay: Option<f64>,
    /// Training samples after which an entry no position took restarts at an encoder
    /// vector of the batch (vq-vae).
    #[arg(long, value_name = "SAMPLES")]
    pub restart_after: Option<usize>,
    /// Never restart unused codebook entries (vq-vae).
    #[arg(long, conflicts_with = "restart_after")]
    pub no_restarts: bool,
}

impl VqOverrides {
    /// The flags given, by name.
    pub fn given(&self) -> Vec<String> {
        let Self {
            codebook_size,
            code_dim,
            commitment,
            ema_decay,
            restart_after,
            no_restarts,
        } = self;
        given!(
            codebook_size,
            code_dim,
            commitment,
            ema_decay,
            restart_after,
            no_restarts
        )
    }
}

impl ModelOverrides {
    /// The vector-quantised autoencoder's flags: the convolutions, the output and the
    /// loss as for `conv`, and its codebook's.
    pub(super) fn apply_vq(&self, c: &mut VqVaeConfig, family: Family) -> Result<()> {
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
            own: OwnFlags { sae, vq, capsule },
        } = self;
        if latent.is_some() {
            bail!(
                "--latent does not apply to --model {family}: its code is a grid of codebook \
                 entries, as many as the convolutions leave positions; --code-dim sets their \
                 width, --codebook-size their number"
            );
        }
        refuse!(family; hidden, code_activation, no_bias, beta, prior, adversarial_weight,
            discriminator, noise, code_l1, kl_sparsity, k_sparse, contractive, weight_l1,
            weight_l2, dropout, patch, mask_ratio);
        super::own::refuse_first(sae.given(), family)?;
        super::own::refuse_first(capsule.given(), family)?;
        if let Some(w) = channels {
            c.conv.channels = w.0.clone();
        }
        set(&mut c.conv.activation, activation);
        if *batch_norm {
            c.conv.norm = Some(Norm::Batch);
        }
        c.output_activation = super::model::output(c.output_activation, *loss, *output_activation);
        set(&mut c.reconstruction, loss);
        let VqOverrides {
            codebook_size,
            code_dim,
            commitment,
            ema_decay,
            restart_after,
            no_restarts,
        } = vq;
        set(&mut c.codebook_size, codebook_size);
        set(&mut c.code_dim, code_dim);
        set(&mut c.commitment, commitment);
        if ema_decay.is_some() {
            c.ema_decay = *ema_decay;
        }
        if restart_after.is_some() {
            c.restart_after = *restart_after;
        }
        if *no_restarts {
            c.restart_after = None;
        }
        Ok(())
    }
}
