//! What trained autoencoders are judged by, computed on the host: an exact PCA
//! baseline and principal angles between subspaces ([`pca`]), image quality (PSNR,
//! SSIM), detection quality (AUROC, average precision, thresholds at a false-positive
//! rate) ([`metrics`]) and nearest neighbours under several distances ([`neighbours`]) and the linear probe of
//! an embedding ([`probe`]: mini-batch, or converged by L-BFGS), t-SNE and UMAP maps
//! ([`tsne`], [`umap`]), a Gaussian mixture of codes to sample from ([`mixture`]), and the
//! full-covariance density of normal samples' features for anomaly scores ([`density`]).
//!
//! Data are row-major `f32` matrices: `n` rows (samples) of `dim` values. No I/O, no
//! deep-learning backend; the trainer feeds it codes and reconstructions.
#![warn(missing_docs)]

mod barnes_hut;
pub mod density;
mod lbfgs;
pub mod linalg;
pub mod metrics;
pub mod mixture;
pub mod neighbours;
mod parallel;
pub mod pca;
mod perplexity;
pub mod probe;
mod random;
pub mod tsne;
pub mod umap;

pub use density::Density;
pub use metrics::{auroc, average_precision, psnr, ssim, ssim_planes, threshold_at_fpr};
pub use mixture::GaussianMixture;
pub use neighbours::{
    Distance, knn_accuracy, knn_accuracy_with_progress, nearest, trustworthiness, vote_accuracy,
};
pub use pca::{Pca, principal_angles};
pub use probe::{LinearProbe, ProbeOptions};
pub use tsne::{EXACT_MAX, TsneOptions, tsne, tsne_with_progress};
pub use umap::{UmapOptions, umap, umap_with_progress};

/// Inputs these functions cannot work with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnalysisError {
    /// A buffer's length is not a whole number of rows.
    #[error("{what}: {len} values do not make rows of {dim}")]
    Shape {
        /// Which input.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The row width expected.
        dim: usize,
    },
    /// Two inputs that must match do not.
    #[error("{what}: {left} against {right}")]
    Mismatch {
        /// What differs.
        what: &'static str,
        /// One size.
        left: usize,
        /// The other.
        right: usize,
    },
    /// A parameter out of range.
    #[error("{what} = {value}: expected {expected}")]
    Parameter {
        /// The parameter.
        what: &'static str,
        /// Its value.
        value: String,
        /// What is valid.
        expected: &'static str,
    },
}

/// The number of rows of `data`, checking that it holds whole rows of `dim`.
pub(crate) fn rows(what: &'static str, data: &[f32], dim: usize) -> Result<usize, AnalysisError> {
    if dim == 0 || !data.len().is_multiple_of(dim) {
        return Err(AnalysisError::Shape {
            what,
            len: data.len(),
            dim,
        });
    }
    Ok(data.len() / dim)
}
