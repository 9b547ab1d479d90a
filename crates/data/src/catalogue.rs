//! The data sets known by name: their files, published checksums, mirrors and class
//! names. Facts only: finding and reading the files is the [`Locator`](crate::Locator)'s.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DataError;

/// The MNIST-format data sets known by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    /// Handwritten digits, 60,000 train and 10,000 test images of 28×28.
    Mnist,
    /// Zalando's clothing images, same format and sizes as MNIST.
    FashionMnist,
    /// A few thousand real Fashion-MNIST images embedded in this crate: works with
    /// no file on disk and no network.
    FashionMnistSample,
}

/// One of the four files of a data set.
#[derive(Clone, Copy, Debug)]
pub struct FileSpec {
    /// The standard file name (gzip-compressed).
    pub name: &'static str,
    /// SHA-256 of the compressed file as published, checked after a download.
    pub sha256: &'static str,
}

/// The four standard file names, in the order train images, train labels, test
/// images, test labels.
pub const FILE_NAMES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

impl DatasetName {
    /// Every known data set.
    pub const ALL: [DatasetName; 3] = [Self::Mnist, Self::FashionMnist, Self::FashionMnistSample];

    /// The name used on the command line and in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mnist => "mnist",
            Self::FashionMnist => "fashion-mnist",
            Self::FashionMnistSample => "fashion-mnist-sample",
        }
    }

    /// What each label means, label `i` at index `i`.
    pub fn class_names(self) -> [&'static str; 10] {
        match self {
            Self::Mnist => ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            Self::FashionMnist | Self::FashionMnistSample => [
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
        }
    }

    /// The files with their published checksums; `None` for the embedded sample.
    pub fn files(self) -> Option<[FileSpec; 4]> {
        let sums = match self {
            Self::Mnist => [
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ],
            Self::FashionMnist => [
                "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
                "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
                "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
                "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
            ],
            Self::FashionMnistSample => return None,
        };
        Some([0, 1, 2, 3].map(|i| FileSpec {
            name: FILE_NAMES[i],
            sha256: sums[i],
        }))
    }

    /// Base addresses the files are published at, tried in order.
    pub fn mirrors(self) -> &'static [&'static str] {
        match self {
            Self::Mnist => &[
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
            ],
            Self::FashionMnist => &[
                "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            ],
            Self::FashionMnistSample => &[],
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| DataError::UnknownDataset {
                name: s.to_string(),
                known: Self::ALL.map(Self::as_str).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in DatasetName::ALL {
            assert_eq!(d.as_str().parse::<DatasetName>().ok(), Some(d));
        }
        let err = "cifar".parse::<DatasetName>().expect_err("unknown");
        assert!(err.to_string().contains("cifar") && err.to_string().contains("fashion-mnist"));
    }
}
