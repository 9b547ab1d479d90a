//! The flags of the capsule autoencoder, and its rule: the first convolution's
//! channels (`--channels`, one value), the decoder's widths (`--hidden`), and its
//! capsules' own flags; the code is the class capsules, so `--latent` is refused.

use ae_models::{CapsuleAutoencoderConfig, CapsuleMask, Family};
use anyhow::{Result, bail};
use clap::Args;

use crate::run::overrides::model::take;
use crate::run::overrides::{Given, ModelOverrides, flag};

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
    /// The capsule autoencoder's flags: the first convolution's channels, the
    /// decoder's widths and its capsules' own.
    pub(in crate::run::overrides) fn take_capsule(
        &mut self,
        c: &mut CapsuleAutoencoderConfig,
        family: Family,
    ) -> Result<()> {
        if self.latent.is_some() {
            bail!(
                "--latent does not apply to --model {family}: its code is the class capsules, \
                 --capsules of --capsule-dim values"
            );
        }
        match self.channels.take().as_ref().map(|w| &w.0[..]) {
            None => {}
            Some([n]) => c.conv_channels = *n,
            Some(_) => bail!(
                "--channels: --model {family} has one convolution before its capsules, give \
                 its channels as one value"
            ),
        }
        if let Some(w) = self.hidden.take() {
            c.decoder = w.0;
        }
        let own = &mut self.own.capsule;
        take(&mut c.primary_maps, &mut own.primary_maps);
        take(&mut c.primary_dim, &mut own.primary_dim);
        take(&mut c.classes, &mut own.capsules);
        take(&mut c.capsule_dim, &mut own.capsule_dim);
        take(&mut c.routing, &mut own.routing);
        take(&mut c.mask, &mut own.mask_by);
        Ok(())
    }
}
