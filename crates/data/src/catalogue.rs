//! The data sets known by name: their files, published checksums, mirrors and class
//! names. Facts only: finding and reading the files is the [`Locator`](crate::Locator)'s.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DataError;

/// The data sets known by name: MNIST-format (IDX files) and CIFAR (binary files).
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
    /// Krizhevsky's tiny colour images: 50,000 train and 10,000 test images of
    /// 32×32 RGB in 10 classes (the binary version's files).
    Cifar10,
    /// Like CIFAR-10 with 100 classes (the fine labels; the 20 coarse ones are not
    /// used).
    Cifar100,
}

/// How a named data set's files are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Four IDX files ([`FILE_NAMES`]), raw or gzip.
    Idx,
    /// CIFAR binary batches: records of `label_bytes` label bytes (the label used is
    /// the last) and 3,072 pixel bytes (1,024 red, then green, then blue, each plane
    /// row-major), in `train` files and one `test` file, as extracted from the
    /// published archive into `folder`.
    Cifar {
        /// Label bytes per record: 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine).
        label_bytes: usize,
        /// The training files, in order.
        train: &'static [&'static str],
        /// The test file.
        test: &'static str,
        /// The folder the archive extracts to.
        folder: &'static str,
    },
}

/// One of the four files of a data set.
#[derive(Clone, Copy, Debug)]
pub struct FileSpec {
    /// The standard file name (gzip-compressed).
    pub name: &'static str,
    /// SHA-256 of the compressed file as published, checked after a download.
    pub sha256: &'static str,
}

/// A data set published as one archive of its files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchiveSpec {
    /// The archive's file name (a gzip-compressed tar file).
    pub name: &'static str,
    /// Its size in bytes, as published.
    pub bytes: u64,
    /// Its SHA-256, checked after a download.
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
    pub const ALL: [DatasetName; 5] = [
        Self::Mnist,
        Self::FashionMnist,
        Self::FashionMnistSample,
        Self::Cifar10,
        Self::Cifar100,
    ];

    /// The name used on the command line and in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mnist => "mnist",
            Self::FashionMnist => "fashion-mnist",
            Self::FashionMnistSample => "fashion-mnist-sample",
            Self::Cifar10 => "cifar-10",
            Self::Cifar100 => "cifar-100",
        }
    }

    /// How its files are laid out.
    pub fn layout(self) -> Layout {
        match self {
            Self::Mnist | Self::FashionMnist | Self::FashionMnistSample => Layout::Idx,
            Self::Cifar10 => Layout::Cifar {
                label_bytes: 1,
                train: &[
                    "data_batch_1.bin",
                    "data_batch_2.bin",
                    "data_batch_3.bin",
                    "data_batch_4.bin",
                    "data_batch_5.bin",
                ],
                test: "test_batch.bin",
                folder: "cifar-10-batches-bin",
            },
            Self::Cifar100 => Layout::Cifar {
                label_bytes: 2,
                train: &["train.bin"],
                test: "test.bin",
                folder: "cifar-100-binary",
            },
        }
    }

    /// The names of the files it is read from, in order.
    pub fn file_names(self) -> Vec<&'static str> {
        match self.layout() {
            Layout::Idx => FILE_NAMES.to_vec(),
            Layout::Cifar { train, test, .. } => {
                let mut names = train.to_vec();
                names.push(test);
                names
            }
        }
    }

    /// Image shape `[channels, rows, columns]`.
    pub fn image_shape(self) -> [usize; 3] {
        match self.layout() {
            Layout::Idx => [1, 28, 28],
            Layout::Cifar { .. } => [3, 32, 32],
        }
    }

    /// What each label means, label `i` at index `i`.
    pub fn class_names(self) -> &'static [&'static str] {
        match self {
            Self::Mnist => &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            Self::Cifar10 => &[
                "airplane",
                "automobile",
                "bird",
                "cat",
                "deer",
                "dog",
                "frog",
                "horse",
                "ship",
                "truck",
            ],
            Self::Cifar100 => &CIFAR100_CLASSES,
            Self::FashionMnist | Self::FashionMnistSample => &[
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
            Self::FashionMnistSample | Self::Cifar10 | Self::Cifar100 => return None,
        };
        Some([0, 1, 2, 3].map(|i| FileSpec {
            name: FILE_NAMES[i],
            sha256: sums[i],
        }))
    }

    /// The archive a data set is published as (the CIFAR binary versions), with the
    /// size and SHA-256 that tensorflow-datasets records for it.
    pub fn archive(self) -> Option<ArchiveSpec> {
        match self {
            Self::Cifar10 => Some(ArchiveSpec {
                name: "cifar-10-binary.tar.gz",
                bytes: 170_052_171,
                sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
            }),
            Self::Cifar100 => Some(ArchiveSpec {
                name: "cifar-100-binary.tar.gz",
                bytes: 168_513_733,
                sha256: "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
            }),
            Self::Mnist | Self::FashionMnist | Self::FashionMnistSample => None,
        }
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
            Self::Cifar10 | Self::Cifar100 => &["https://www.cs.toronto.edu/~kriz/"],
            Self::FashionMnistSample => &[],
        }
    }
}

/// CIFAR-100's fine classes, label `i` at index `i` (the order of the archive's
/// `fine_label_names.txt`).
const CIFAR100_CLASSES: [&str; 100] = [
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
];

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
        assert!(err.to_string().contains("cifar-10") && err.to_string().contains("fashion-mnist"));
        assert_eq!(DatasetName::Cifar100.class_names().len(), 100);
        assert_eq!(DatasetName::Cifar100.class_names()[99], "worm");
        assert_eq!(DatasetName::Cifar10.file_names().len(), 6);
    }
}
