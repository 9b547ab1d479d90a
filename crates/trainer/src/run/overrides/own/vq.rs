//! The flags of the vector-quantised autoencoder, and its rule: the convolutions and
//! the output as for `conv`, its codebook's own flags; the code is the grid of
//! codebook entries, so `--latent` is refused (the grid comes from the convolutions,
//! the width of its vectors from `--code-dim`).

use ae_models::{Family, VqVaeConfig};
use anyhow::{Result, bail};
use clap::Args;

use crate::run::overrides::model::take;
use crate::run::overrides::{Given, ModelOverrides, flag};

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
    pub(in crate::run::overrides) fn take_vq(
        &mut self,
        c: &mut VqVaeConfig,
        family: Family,
    ) -> Result<()> {
        if self.latent.is_some() {
            bail!(
                "--latent does not apply to --model {family}: its code is a grid of codebook \
                 entries, as many as the convolutions leave positions; --code-dim sets their \
                 width, --codebook-size their number"
            );
        }
        self.take_stack(&mut c.conv);
        self.take_output(&mut c.output_activation, &mut c.reconstruction);
        let own = &mut self.own.vq;
        take(&mut c.codebook_size, &mut own.codebook_size);
        take(&mut c.code_dim, &mut own.code_dim);
        take(&mut c.commitment, &mut own.commitment);
        if own.ema_decay.is_some() {
            c.ema_decay = own.ema_decay.take();
        }
        if own.restart_after.is_some() {
            c.restart_after = own.restart_after.take();
        }
        if std::mem::take(&mut own.no_restarts) {
            c.restart_after = None;
        }
        Ok(())
    }
}
