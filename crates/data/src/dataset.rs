//! A data set: what it is, where it came from, and its splits.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::catalogue::DatasetName;
use crate::folder::FolderSpec;
use crate::places::Source;
use crate::split::Split;
use crate::table::{Standardizer, TableSpec};

/// What to train on: a known image data set by name, or a table file.
///
/// In a config file a name is a string (`"fashion-mnist"`) and a table an object
/// (`{"path": "data.csv", "label_column": "class"}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DataSpec {
    /// An MNIST-format data set, found by [`Locator`](crate::Locator).
    Named(DatasetName),
    /// A CSV or `.npy` table.
    Table(TableSpec),
    /// A folder of images.
    Folder(FolderSpec),
}

impl DataSpec {
    /// The shape `[channels, rows, columns]` of the images of this data set, for a
    /// model of `features` inputs: the folder's patch or image size and colour when it names them,
    /// else square images of the data set's planes (a size that is not a square is
    /// taken as a single row); `None` for a table.
    pub fn image_shape(&self, features: usize) -> Option<[usize; 3]> {
        let channels = match self {
            Self::Table(_) => return None,
            Self::Named(name) => return Some(name.image_shape()),
            Self::Folder(f) => f.colour.channels(),
        };
        if let Self::Folder(f) = self
            && let Some(shape) = f.sample_shape()
        {
            return Some(shape);
        }
        let plane = features / channels;
        let side = (plane as f64).sqrt().round() as usize;
        Some(if side * side == plane {
            [channels, side, side]
        } else {
            [channels, 1, plane]
        })
    }

    /// A short name for folder names: the data set's, or the table file's stem.
    pub fn short_name(&self) -> String {
        match self {
            Self::Named(n) => n.as_str().to_string(),
            Self::Table(t) => t
                .path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("table")
                .to_string(),
            Self::Folder(f) => f
                .folder
                .file_name()
                .and_then(|s| s.to_str())
                .unwrap_or("images")
                .to_string(),
        }
    }
}

impl fmt::Display for DataSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Named(n) => n.fmt(f),
            Self::Table(t) => t.fmt(f),
            Self::Folder(d) => d.fmt(f),
        }
    }
}

impl FromStr for DataSpec {
    type Err = DataError;

    /// A data set's name, the path of a `.csv` or `.npy` file, or a folder of images.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<DatasetName>() {
            Ok(name) => Ok(Self::Named(name)),
            Err(_) if Path::new(s).is_dir() => Ok(Self::Folder(FolderSpec::new(s))),
            Err(_) if TableSpec::is_table_path(Path::new(s)) => Ok(Self::Table(TableSpec::new(s))),
            Err(e) => Err(e),
        }
    }
}

impl From<DatasetName> for DataSpec {
    fn from(name: DatasetName) -> Self {
        Self::Named(name)
    }
}

/// A data set: what it is, where it came from, and its train and test splits.
///
/// The splits are shared (`Arc`): cloning a data set, or handing a split to a data
/// loader, copies no sample.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Which data set.
    pub spec: DataSpec,
    /// Where it was read from.
    pub source: Source,
    /// The training split.
    pub train: Arc<Split>,
    /// The test split.
    pub test: Arc<Split>,
    /// What each label means, label `i` at index `i`.
    pub classes: Vec<String>,
    /// For a table, the standardisation its rows went through.
    pub standardizer: Option<Standardizer>,
}

impl Dataset {
    /// An image data set by name, its class names filled in.
    pub fn of_images(name: DatasetName, source: Source, train: Split, test: Split) -> Self {
        Self {
            spec: DataSpec::Named(name),
            source,
            train: Arc::new(train),
            test: Arc::new(test),
            classes: name.class_names().iter().map(|c| c.to_string()).collect(),
            standardizer: None,
        }
    }

    /// Values per sample (pixels per image, or columns of a table).
    pub fn features(&self) -> usize {
        self.train.features()
    }

    /// Image shape as `[channels, rows, columns]`, or `None` for a table.
    pub fn image_shape(&self) -> Option<[usize; 3]> {
        self.train.image_shape()
    }

    /// Whether the samples are images.
    pub fn is_images(&self) -> bool {
        self.image_shape().is_some()
    }
}

pub(crate) fn check_shapes(train: &Split, test: &Split, test_path: &Path) -> Result<(), DataError> {
    if let (Some(train), Some(test)) = (train.image_shape(), test.image_shape())
        && train != test
    {
        return Err(DataError::ShapeMismatch {
            path: test_path.to_path_buf(),
            train,
            test,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_specs_parse_and_old_configs_still_read() {
        assert_eq!(
            "mnist".parse::<DataSpec>().ok(),
            Some(DataSpec::Named(DatasetName::Mnist))
        );
        let table = "rows.CSV".parse::<DataSpec>().expect("a table path");
        assert!(matches!(&table, DataSpec::Table(t) if t.path == Path::new("rows.CSV")));
        let err = "rows.txt".parse::<DataSpec>().expect_err("neither");
        assert!(err.to_string().contains(".csv or .npy"), "{err}");
        // A config written before tables existed holds the name as a string.
        let named: DataSpec = serde_json::from_str("\"fashion-mnist\"").expect("a name");
        assert_eq!(named, DataSpec::Named(DatasetName::FashionMnist));
        let json = serde_json::to_string(&table).expect("serialises");
        assert_eq!(serde_json::from_str::<DataSpec>(&json).ok(), Some(table));
    }
}
