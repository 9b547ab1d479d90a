//! Using a trained model from your own program: open an artifact written by
//! `trainer train`, stream a file of new samples through it in batches, and report
//! the most anomalous ones. It depends on the inference and data crates and on burn
//! with a backend, as a user's crate would — not on the trainer.
//!
//! Run: `cargo run --release -p apply-model -- ARTIFACT_DIR FILE` where FILE is an
//! IDX image file, a CSV table (columns matched by header name) or a `.npy` array.

use ae_data::rows::RowReader;
use ae_infer::Artifact;
use anyhow::{Context, bail};
use burn::prelude::*;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, input] = &args[..] else {
        bail!("usage: apply-model ARTIFACT_DIR FILE");
    };
    let device = Device::default();
    let artifact = Artifact::open(dir.as_ref())?;
    let predictor = artifact.load(&device)?;
    println!(
        "{}: a model of {} features with {}-d codes, on {device:?}",
        dir,
        predictor.features(),
        predictor.latent()
    );

    // Stream the file: one batch of rows in memory at a time.
    let mut reader = RowReader::open(input.as_ref(), &artifact.columns())?;
    let (mut rows, mut scored) = (Vec::new(), Vec::<(usize, f64)>::new());
    let mut first_code = None;
    while reader.next_batch(512, &mut rows)? > 0 {
        let start = reader.done() - rows.len() / predictor.features();
        if first_code.is_none() {
            let codes = predictor.encode(&rows[..predictor.features()])?;
            first_code = Some(codes);
        }
        let scores = predictor.score(&rows).context("scoring")?;
        scored.extend(
            scores
                .scores
                .iter()
                .enumerate()
                .map(|(i, &s)| (start + i, s)),
        );
    }
    println!(
        "the first sample's code: {:?}",
        first_code.unwrap_or_default()
    );

    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    let kind = predictor.threshold().map(|t| t.score).unwrap_or_default();
    println!(
        "{} samples scored by {kind}; the five highest:",
        scored.len()
    );
    for (index, score) in scored.iter().take(5) {
        println!("  sample {index}: {score:.4}");
    }
    match predictor.threshold() {
        Some(t) => {
            let above = scored.iter().filter(|(_, s)| *s > t.value).count();
            println!(
                "{above} above the artifact's threshold {:.4} (chosen for a false-positive rate of {})",
                t.value, t.target_fpr
            );
        }
        None => println!("no threshold saved: run `trainer anomaly` on the artifact first"),
    }
    Ok(())
}
