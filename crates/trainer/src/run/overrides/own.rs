//! The flags that belong to one family alone, as one group. Only the family's own
//! rule takes them; every other family leaves them, and so refuses them.

use clap::Args;

mod capsule;
mod sae;
mod vq;

pub use capsule::CapsuleOverrides;
pub use sae::SaeOverrides;
pub use vq::VqOverrides;

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
}
