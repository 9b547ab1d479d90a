//! The flags that belong to one family alone, as one group: every other family
//! refuses them all at once.

use ae_models::Family;
use anyhow::{Result, bail};
use clap::Args;

use super::{CapsuleOverrides, SaeOverrides, VqOverrides};

/// Flags of one family alone.
#[derive(Args, Clone, Debug, Default)]
pub struct OwnFlags {
    /// The TopK sparse autoencoder's flags.
    #[command(flatten)]
    pub sae: SaeOverrides,
    /// The vector-quantised autoencoder's flags.
    #[command(flatten)]
    pub vq: VqOverrides,
    /// The capsule autoencoder's flags.
    #[command(flatten)]
    pub capsule: CapsuleOverrides,
}

impl OwnFlags {
    /// The flags given, by name.
    pub fn given(&self) -> Vec<String> {
        let mut names = self.sae.given();
        names.extend(self.vq.given());
        names.extend(self.capsule.given());
        names
    }

    /// Refuses the first flag given: each applies to its own family alone.
    pub fn refuse(&self, family: Family) -> Result<()> {
        refuse_first(self.given(), family)
    }
}

/// Refuses the first of the flags `given` for `family`.
pub(super) fn refuse_first(given: Vec<String>, family: Family) -> Result<()> {
    if let Some(name) = given.into_iter().next() {
        bail!("{name} does not apply to --model {family}");
    }
    Ok(())
}
