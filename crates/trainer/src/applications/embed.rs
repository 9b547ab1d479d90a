//! Codes as data: the embedding of a split written for other tools, and similarity
//! search among the codes.

use std::path::{Path, PathBuf};

use ae_analysis::Distance;
use ae_data::Split;
use ae_models::Autoencoder;
use anyhow::{Result, bail};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::applications::evaluate::codes;
use crate::applications::export::codes_csv;

/// The codes of a split and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    /// `[n, dim]`, row-major.
    pub codes: Vec<f32>,
    /// Code size.
    pub dim: usize,
    /// One label per row.
    pub labels: Vec<u8>,
}

impl Embedding {
    /// Encodes every image of `split`.
    pub fn of<M: Autoencoder>(model: &M, split: &Split, device: &Device) -> Self {
        let (codes, dim) = codes(model, split, 256, device);
        Self {
            codes,
            dim,
            labels: split.labels.clone(),
        }
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.codes[i * self.dim..(i + 1) * self.dim]
    }

    /// Writes `<stem>.npy` (codes, float32 `[n, dim]`), `<stem>-labels.npy` (uint8
    /// `[n]`) and `<stem>.csv` (`label,z0,…`) into `dir`; returns the paths.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
        let paths = [
            dir.join(format!("{stem}.npy")),
            dir.join(format!("{stem}-labels.npy")),
            dir.join(format!("{stem}.csv")),
        ];
        let csv = codes_csv(&self.codes, self.dim, &self.labels)?;
        ae_data::npy::write(&paths[0], &self.codes, &[self.len(), self.dim])?;
        ae_data::npy::write(&paths[1], &self.labels, &[self.len()])?;
        crate::artifact::write_atomic(&paths[2], csv.as_bytes())?;
        Ok(paths.to_vec())
    }
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Neighbour {
    /// Index of the image in the searched split.
    pub index: usize,
    /// Its label.
    pub label: u8,
    /// Distance between its code and the query's.
    pub distance: f32,
}

/// The `k` images of `database` whose codes are nearest to `query`'s code.
pub fn search(
    database: &Embedding,
    query: &[f32],
    k: usize,
    distance: Distance,
) -> Result<Vec<Neighbour>> {
    if k == 0 {
        bail!("--k 0: expected at least one neighbour");
    }
    Ok(
        ae_analysis::nearest(query, &database.codes, database.dim, k, distance)?
            .into_iter()
            .map(|(index, distance)| Neighbour {
                index,
                label: database.labels[index],
                distance,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_ranks_by_the_chosen_distance() {
        let db = Embedding {
            codes: vec![0.0, 0.0, 3.0, 4.0, 1.0, 1.0, -2.0, -2.0],
            dim: 2,
            labels: vec![0, 1, 2, 3],
        };
        let hits = search(&db, &[1.0, 1.0], 2, Distance::Euclidean).expect("valid");
        assert_eq!(hits[0].index, 2);
        assert_eq!(hits[0].distance, 0.0);
        assert_eq!((hits[1].index, hits[1].label), (0, 0));
        // Cosine ignores length: (3, 4) and (1, 1) point almost the same way; (-2, -2) opposite.
        let hits = search(&db, &[2.0, 2.0], 4, Distance::Cosine).expect("valid");
        assert_eq!(hits[0].index, 2);
        assert_eq!(hits[1].index, 1);
        assert_eq!(hits[3].index, 3);
        assert!((hits[3].distance - 2.0).abs() < 1e-6);
        assert!(search(&db, &[1.0], 2, Distance::Euclidean).is_err());
        assert!(search(&db, &[1.0, 1.0], 0, Distance::Euclidean).is_err());
    }

    #[test]
    fn write_puts_three_files() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let e = Embedding {
            codes: vec![0.5, 1.5],
            dim: 1,
            labels: vec![4, 2],
        };
        let paths = e.write(tmp.path(), "test-codes").expect("written");
        assert_eq!(paths.len(), 3);
        let csv = std::fs::read_to_string(&paths[2]).expect("csv");
        assert_eq!(csv, "label,z0\n4,0.5\n2,1.5\n");
        assert!(std::fs::metadata(&paths[0]).expect("npy").len() > 64);
    }
}
