//! The flags of the capsule autoencoder, and its rule: the first convolution's
//! channels (`--channels`, one value), the decoder's widths (`--hidden`), and its
//! capsules' own flags; the code is the class capsules, so `--latent` is refused.

use ae_models::{CapsuleAutoencoderConfig, CapsuleMask, Family};
use anyhow::{Result, bail};
use clap::Args;

use super::{Given, ModelOverrides, OwnFlags, flag, set};

/// Flags of `--model capsule`.
#[derive(Args, Clone, Debug, Default)]
pub struct CapsuleOverrides {
    /// Maps of primary capsules (capsule).
    #[arg(long, value_name = "MAPS")]
    pub primary_maps: Option<usize>,
    /// Values of a primary capsule (capsule).
    #[arg(long, value_name = "VALUES")]
    pub primary_dim: Option<usize>,
    /// Class capsules: one per class of the data (capsule).
    #[arg(long, value_name = "N")]
    pub capsules: Option<usize>,
    /// Values of a class capsule (capsule).
    #[arg(long, value_name = "VALUES")]
    pub capsule_dim: Option<usize>,
    /// Iterations of routing by agreement (capsule).
    #[arg(long, value_name = "N")]
    pub routing: Option<usize>,
    /// What the decoder sees in training: `label`, the true class's capsule, with the
    /// margin loss on the lengths (the paper's; needs labelled data), or `longest`, the
    /// longest capsule, with the reconstruction alone (capsule).
    #[arg(long, value_name = "label|longest")]
    pub mask_by: Option<CapsuleMask>,
}

impl CapsuleOverrides {
    /// The flags given, by name.
    pub fn given(&self) -> Vec<String> {
        let Self {
            primary_maps,
            primary_dim,
            capsules,
            capsule_dim,
            routing,
            mask_by,
        } = self;
        given!(
            primary_maps,
            primary_dim,
            capsules,
            capsule_dim,
            routing,
            mask_by
        )
    }
}

impl ModelOverrides {
    /// The capsule autoencoder's flags.
    pub(super) fn apply_capsule(
        &self,
        c: &mut CapsuleAutoencoderConfig,
        family: Family,
    ) -> Result<()> {
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
                "--latent does not apply to --model {family}: its code is the class capsules, \
                 --capsules of --capsule-dim values"
            );
        }
        refuse!(family; activation, code_activation, output_activation, loss, no_bias,
            batch_norm, beta, prior, adversarial_weight, discriminator, noise, code_l1,
            kl_sparsity, k_sparse, contractive, weight_l1, weight_l2, dropout, patch,
            mask_ratio);
        super::own::refuse_first(sae.given(), family)?;
        super::own::refuse_first(vq.given(), family)?;
        match channels.as_ref().map(|w| &w.0[..]) {
            None => {}
            Some([n]) => c.conv_channels = *n,
            Some(_) => bail!(
                "--channels: --model {family} has one convolution before its capsules, give \
                 its channels as one value"
            ),
        }
        if let Some(w) = hidden {
            c.decoder = w.0.clone();
        }
        let CapsuleOverrides {
            primary_maps,
            primary_dim,
            capsules,
            capsule_dim,
            routing,
            mask_by,
        } = capsule;
        set(&mut c.primary_maps, primary_maps);
        set(&mut c.primary_dim, primary_dim);
        set(&mut c.classes, capsules);
        set(&mut c.capsule_dim, capsule_dim);
        set(&mut c.routing, routing);
        set(&mut c.mask, mask_by);
        Ok(())
    }
}
