//! The flags of the TopK sparse autoencoder, and its rule: the dictionary's size, k,
//! its annealing, the auxiliary loss and the dead window; the other model flags are
//! refused.

use ae_models::{KAnneal, TopKSaeConfig};
use anyhow::Result;
use clap::Args;

use crate::run::overrides::model::take;
use crate::run::overrides::{Given, ModelOverrides, flag};

/// Flags of `--model topk-sae` (its k is `--k-sparse`, its dictionary `--latent`).
#[derive(Args, Clone, Debug, Default)]
pub struct SaeOverrides {
    /// Anneal k linearly from START to the final k over the first SAMPLES training
    /// samples (topk-sae).
    #[arg(long, value_name = "START:SAMPLES", value_parser = parse_anneal)]
    pub k_anneal: Option<KAnneal>,
    /// Dead latents the auxiliary loss uses per sample (topk-sae; default half the
    /// input's values).
    #[arg(long, value_name = "K")]
    pub aux_k: Option<usize>,
    /// Weight of the auxiliary loss on the dead latents (topk-sae).
    #[arg(long, value_name = "ALPHA")]
    pub aux_weight: Option<f64>,
    /// Training samples without firing after which a latent counts as dead (topk-sae).
    #[arg(long, value_name = "SAMPLES")]
    pub dead_after: Option<usize>,
}

impl SaeOverrides {
    /// The flags given, by name.
    pub fn given(&self) -> Vec<String> {
        let Self {
            k_anneal,
            aux_k,
            aux_weight,
            dead_after,
        } = self;
        given!(k_anneal, aux_k, aux_weight, dead_after)
    }
}

/// Parses `START:SAMPLES`.
fn parse_anneal(s: &str) -> Result<KAnneal, String> {
    let (start, samples) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}': expected START:SAMPLES, e.g. 128:20000"))?;
    let num = |v: &str| {
        v.parse::<usize>()
            .map_err(|_| format!("'{v}' is not a whole number"))
    };
    Ok(KAnneal {
        start: num(start)?,
        samples: num(samples)?,
    })
}

impl ModelOverrides {
    /// The TopK sparse autoencoder's flags: `--latent` (the dictionary), `--k-sparse`
    /// (its k) and its own; it has no hidden layers, activations of choice, noise or
    /// penalties.
    pub(in crate::run::overrides) fn take_topk(&mut self, c: &mut TopKSaeConfig) {
        // A new dictionary size keeps k at its share of the code when k was the
        // default and is not given.
        if let Some(n) = self.latent
            && self.k_sparse.is_none()
            && c.k == TopKSaeConfig::default_k(c.latent)
        {
            c.k = TopKSaeConfig::default_k(n);
        }
        take(&mut c.latent, &mut self.latent);
        take(&mut c.k, &mut self.k_sparse);
        let own = &mut self.own.sae;
        if own.k_anneal.is_some() {
            c.k_anneal = own.k_anneal.take();
        }
        if own.aux_k.is_some() {
            c.aux_k = own.aux_k.take();
        }
        take(&mut c.aux_weight, &mut own.aux_weight);
        take(&mut c.dead_after, &mut own.dead_after);
    }
}
