//! The flags of the TopK sparse autoencoder, and its rule: the dictionary's size, k,
//! its annealing, the auxiliary loss and the dead window; the other model flags are
//! refused.

use ae_models::{Family, KAnneal, TopKSaeConfig};
use anyhow::{Result, bail};
use clap::Args;

use super::{Given, ModelOverrides, OwnFlags, flag, set};

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
    pub(super) fn apply_topk(&self, c: &mut TopKSaeConfig, family: Family) -> Result<()> {
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
        refuse!(family; hidden, activation, code_activation, output_activation, loss, no_bias,
            channels, batch_norm, beta, prior, adversarial_weight, discriminator, noise, code_l1,
            kl_sparsity, contractive, weight_l1, weight_l2, dropout, patch, mask_ratio);
        super::own::refuse_first(vq.given(), family)?;
        super::own::refuse_first(capsule.given(), family)?;
        let SaeOverrides {
            k_anneal,
            aux_k,
            aux_weight,
            dead_after,
        } = sae;
        // A new dictionary size keeps k at its share of the code when k was the
        // default and is not given.
        if let Some(n) = latent
            && k_sparse.is_none()
            && c.k == TopKSaeConfig::default_k(c.latent)
        {
            c.k = TopKSaeConfig::default_k(*n);
        }
        set(&mut c.latent, latent);
        set(&mut c.k, k_sparse);
        if k_anneal.is_some() {
            c.k_anneal = *k_anneal;
        }
        if aux_k.is_some() {
            c.aux_k = *aux_k;
        }
        set(&mut c.aux_weight, aux_weight);
        set(&mut c.dead_after, dead_after);
        Ok(())
    }
}
