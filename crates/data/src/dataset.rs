//! Data sets by name, and the places they are looked for.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::idx::{self, Images};
use crate::table::{Standardizer, Table, TableSpec};

/// Environment variable naming a folder that holds data sets (checked after `--data-dir`).
pub const DATA_DIR_ENV: &str = "AE_DATA_DIR";
/// Environment variable replacing the download mirrors with one or more base addresses
/// (comma-separated), for a local mirror or proxy.
pub const MIRROR_ENV: &str = "AE_DATA_MIRROR";
/// Where Debian's `dataset-*` packages install data sets.
pub const SYSTEM_DIR: &str = "/usr/share/datasets";

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
            })
    }
}

/// The samples of a split: images of `u8` pixels, or rows of `f32` features.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    /// Images, pixels `0..=255` (handed out as `[0, 1]`).
    Images(Images),
    /// Rows of a table, standardised.
    Table(Table),
}

/// One split: its samples in one contiguous buffer, and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// The samples.
    pub samples: Samples,
    /// One label per sample.
    pub labels: Vec<u8>,
}

impl Split {
    /// A split of images.
    pub fn images(images: Images, labels: Vec<u8>) -> Self {
        Self {
            samples: Samples::Images(images),
            labels,
        }
    }

    /// A split of table rows.
    pub fn table(table: Table, labels: Vec<u8>) -> Self {
        Self {
            samples: Samples::Table(table),
            labels,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        match &self.samples {
            Samples::Images(i) => i.count,
            Samples::Table(t) => t.count,
        }
    }

    /// Whether the split has no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per sample: pixels per image, or columns per row.
    pub fn features(&self) -> usize {
        match &self.samples {
            Samples::Images(i) => i.pixels_per_image(),
            Samples::Table(t) => t.columns,
        }
    }

    /// The images, when the split holds images.
    pub fn as_images(&self) -> Option<&Images> {
        match &self.samples {
            Samples::Images(i) => Some(i),
            Samples::Table(_) => None,
        }
    }

    /// `[rows, columns]` of the images, when the split holds images.
    pub fn image_shape(&self) -> Option<[usize; 2]> {
        self.as_images().map(|i| [i.rows, i.cols])
    }

    /// Writes the samples at `indices` as `f32` into `out` (cleared first), one after
    /// another: pixels scaled to `[0, 1]`, table values as they are.
    pub fn gather(&self, indices: &[usize], out: &mut Vec<f32>) {
        out.clear();
        out.reserve(indices.len() * self.features());
        match &self.samples {
            Samples::Images(images) => {
                for &i in indices {
                    out.extend(
                        images
                            .image(i)
                            .iter()
                            .map(|&p| f32::from(p) * (1.0 / 255.0)),
                    );
                }
            }
            Samples::Table(table) => {
                for &i in indices {
                    out.extend_from_slice(table.row(i));
                }
            }
        }
    }

    /// Keeps the first `n` samples.
    pub fn truncate(&mut self, n: usize) {
        match &mut self.samples {
            Samples::Images(i) => i.truncate(n),
            Samples::Table(t) => t.truncate(n),
        }
        self.labels.truncate(self.len());
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Split {
        let samples = match &self.samples {
            Samples::Images(images) => {
                let mut pixels = Vec::with_capacity(indices.len() * images.pixels_per_image());
                for &i in indices {
                    pixels.extend_from_slice(images.image(i));
                }
                Samples::Images(Images {
                    count: indices.len(),
                    rows: images.rows,
                    cols: images.cols,
                    pixels,
                })
            }
            Samples::Table(table) => Samples::Table(table.rows(indices)),
        };
        Split {
            samples,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// The samples whose label is in `labels`, in their order.
    pub fn with_labels(&self, labels: &[u8]) -> Split {
        let keep: Vec<usize> = (0..self.len())
            .filter(|&i| labels.contains(&self.labels[i]))
            .collect();
        self.select(&keep)
    }
}

/// Where a data set was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A folder given by the caller (`--data-dir`).
    DataDir(PathBuf),
    /// The folder named by [`DATA_DIR_ENV`].
    EnvDir(PathBuf),
    /// The user cache.
    Cache(PathBuf),
    /// The system-wide folder of Debian's packages.
    System(PathBuf),
    /// Downloaded just now into this folder.
    Downloaded(PathBuf),
    /// The sample embedded in this crate.
    Embedded,
    /// A table file.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DataDir(p) => write!(f, "{} (--data-dir)", p.display()),
            Self::EnvDir(p) => write!(f, "{} (${DATA_DIR_ENV})", p.display()),
            Self::Cache(p) => write!(f, "{} (cache)", p.display()),
            Self::System(p) => write!(f, "{} (system)", p.display()),
            Self::Downloaded(p) => write!(f, "{} (downloaded)", p.display()),
            Self::Embedded => f.write_str("embedded sample"),
            Self::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// What to train on: a known image data set by name, or a table file.
///
/// In a config file a name is a string (`"fashion-mnist"`) and a table an object
/// (`{"path": "data.csv", "label_column": "class"}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DataSpec {
    /// An MNIST-format data set, found by [`Locator`].
    Named(DatasetName),
    /// A CSV or `.npy` table.
    Table(TableSpec),
}

impl DataSpec {
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
        }
    }

    /// Loads the data: a named set through `locator`, a table from its files,
    /// standardised with `standardizer` when given (a trained model's), else with
    /// the training rows' statistics.
    pub fn load(
        &self,
        locator: &Locator,
        standardizer: Option<&Standardizer>,
    ) -> Result<Dataset, DataError> {
        match self {
            Self::Named(name) => locator.load(*name),
            Self::Table(spec) => {
                let t = spec.load(standardizer)?;
                Ok(Dataset {
                    spec: self.clone(),
                    source: Source::File(spec.path.clone()),
                    train: Split::table(t.train.0, t.train.1),
                    test: Split::table(t.test.0, t.test.1),
                    classes: t.classes,
                    standardizer: Some(t.standardizer),
                })
            }
        }
    }
}

impl fmt::Display for DataSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Named(n) => n.fmt(f),
            Self::Table(t) => t.fmt(f),
        }
    }
}

impl FromStr for DataSpec {
    type Err = DataError;

    /// A data set's name, or the path of a `.csv` or `.npy` file.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<DatasetName>() {
            Ok(name) => Ok(Self::Named(name)),
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
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Which data set.
    pub spec: DataSpec,
    /// Where it was read from.
    pub source: Source,
    /// The training split.
    pub train: Split,
    /// The test split.
    pub test: Split,
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
            train,
            test,
            classes: name.class_names().map(str::to_string).to_vec(),
            standardizer: None,
        }
    }

    /// Values per sample (pixels per image, or columns of a table).
    pub fn features(&self) -> usize {
        self.train.features()
    }

    /// Image shape as `[rows, columns]`, or `None` for a table.
    pub fn image_shape(&self) -> Option<[usize; 2]> {
        self.train.image_shape()
    }

    /// Whether the samples are images.
    pub fn is_images(&self) -> bool {
        self.image_shape().is_some()
    }
}

/// Reads the four standard files of `name` from `dir` (each raw or gzip), checked.
pub fn read_dir(dir: &Path, name: DatasetName, source: Source) -> Result<Dataset, DataError> {
    let paths = FILE_NAMES.map(|f| existing_variant(dir, f).unwrap_or_else(|| dir.join(f)));
    let [train_images, train_labels, test_images, test_labels] = &paths;
    let train = read_split(train_images, train_labels)?;
    let test = read_split(test_images, test_labels)?;
    check_shapes(&train, &test, test_images)?;
    Ok(Dataset::of_images(name, source, train, test))
}

fn read_split(images_path: &Path, labels_path: &Path) -> Result<Split, DataError> {
    let images = idx::read_images(images_path)?;
    let labels = idx::read_labels(labels_path)?;
    idx::check_pair(
        &images,
        &labels,
        images_path.to_path_buf(),
        labels_path.to_path_buf(),
    )?;
    Ok(Split::images(images, labels))
}

pub(crate) fn check_shapes(train: &Split, test: &Split, test_path: &Path) -> Result<(), DataError> {
    let (a, b) = (train.image_shape(), test.image_shape());
    if let (Some([train_rows, train_cols]), Some([test_rows, test_cols])) = (a, b)
        && a != b
    {
        return Err(DataError::ShapeMismatch {
            path: test_path.to_path_buf(),
            train_rows,
            train_cols,
            test_rows,
            test_cols,
        });
    }
    Ok(())
}

/// The file `name` in `dir`, compressed (`name`) or not (`name` without `.gz`).
fn existing_variant(dir: &Path, name: &str) -> Option<PathBuf> {
    let gz = dir.join(name);
    if gz.is_file() {
        return Some(gz);
    }
    let raw = dir.join(name.trim_end_matches(".gz"));
    raw.is_file().then_some(raw)
}

/// Which of the four files are missing from `dir`.
fn missing_files(dir: &Path) -> Vec<&'static str> {
    FILE_NAMES
        .into_iter()
        .filter(|f| existing_variant(dir, f).is_none())
        .collect()
}

/// Finds a data set on disk, or downloads it, in a fixed order of places.
///
/// The order: the caller's folder (`--data-dir`), the folder in [`DATA_DIR_ENV`],
/// the user cache, the system folder ([`SYSTEM_DIR`]), then a download into the
/// cache (with the `download` feature). In the first three, both `ROOT/<name>/` and
/// `ROOT/` itself are tried. A folder that has all four files is read and checked:
/// a corrupt file is an error, never a reason to look elsewhere.
#[derive(Clone, Debug)]
pub struct Locator {
    /// The caller's folder.
    pub data_dir: Option<PathBuf>,
    /// The folder from [`DATA_DIR_ENV`].
    pub env_dir: Option<PathBuf>,
    /// The user cache root for this project's data sets.
    pub cache_dir: Option<PathBuf>,
    /// The system folder.
    pub system_dir: PathBuf,
    /// Whether to download what is not found.
    pub download: bool,
    /// Base addresses replacing the published mirrors (from [`MIRROR_ENV`]).
    pub mirrors: Option<Vec<String>>,
    /// Whether to draw a progress bar while downloading.
    pub progress: bool,
}

impl Locator {
    /// The standard places, with `data_dir` first, environment variables honoured and
    /// downloads on when the `download` feature is compiled in.
    pub fn new(data_dir: Option<PathBuf>) -> Self {
        let env_dir = std::env::var_os(DATA_DIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let mirrors = std::env::var(MIRROR_ENV)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            });
        Self {
            data_dir,
            env_dir,
            cache_dir: dirs::cache_dir().map(|d| d.join("autoencoders")),
            system_dir: PathBuf::from(SYSTEM_DIR),
            download: cfg!(feature = "download"),
            mirrors,
            progress: true,
        }
    }

    /// A locator that only looks in `dir` (and `dir/<name>`) and never downloads.
    pub fn only(dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: Some(dir.into()),
            env_dir: None,
            cache_dir: None,
            system_dir: PathBuf::new(),
            download: false,
            mirrors: None,
            progress: false,
        }
    }

    /// Finds `name` on disk, checking everything found.
    ///
    /// Returns `Ok(Err(tried))`, the places tried, when no place has all four files.
    pub fn find(&self, name: DatasetName) -> Result<Result<Dataset, Vec<String>>, DataError> {
        if name == DatasetName::FashionMnistSample {
            return crate::sample::load().map(Ok);
        }
        let mut tried = Vec::new();
        for (dir, source) in self.candidates(name) {
            let missing = missing_files(&dir);
            if missing.is_empty() {
                return read_dir(&dir, name, source).map(Ok);
            }
            let what = if missing.len() == FILE_NAMES.len() {
                "no data set files".to_string()
            } else {
                format!("missing {}", missing.join(", "))
            };
            tried.push(format!("{source}: {what}"));
        }
        Ok(Err(tried))
    }

    /// Finds `name` on disk or downloads it; one error listing every place otherwise.
    pub fn load(&self, name: DatasetName) -> Result<Dataset, DataError> {
        let mut tried = match self.find(name)? {
            Ok(dataset) => return Ok(dataset),
            Err(tried) => tried,
        };
        match self.download_target() {
            Some(dir) if self.download => {
                let dir = dir.join(name.as_str());
                match crate::download::fetch(name, &dir, self.mirrors.as_deref(), self.progress) {
                    Ok(()) => return read_dir(&dir, name, Source::Downloaded(dir.clone())),
                    Err(err) => tried.push(format!("download: {err}")),
                }
            }
            Some(_) if cfg!(feature = "download") => tried.push("download: turned off".into()),
            Some(_) => {
                tried.push("download: not compiled in (enable the `download` feature)".into())
            }
            None => {
                tried.push("download: no cache folder and no --data-dir to download into".into())
            }
        }
        Err(DataError::NotFound {
            dataset: name,
            tried,
            hint: offline_hint(name),
        })
    }

    /// Folders to look in, in order, each with the source it stands for.
    fn candidates(&self, name: DatasetName) -> Vec<(PathBuf, Source)> {
        let mut out = Vec::new();
        let sub = name.as_str();
        if let Some(d) = &self.data_dir {
            out.push((d.join(sub), Source::DataDir(d.join(sub))));
            out.push((d.clone(), Source::DataDir(d.clone())));
        }
        if let Some(d) = &self.env_dir {
            out.push((d.join(sub), Source::EnvDir(d.join(sub))));
            out.push((d.clone(), Source::EnvDir(d.clone())));
        }
        if let Some(d) = &self.cache_dir {
            out.push((d.join(sub), Source::Cache(d.join(sub))));
        }
        if !self.system_dir.as_os_str().is_empty() {
            let d = self.system_dir.join(sub);
            out.push((d.clone(), Source::System(d)));
        }
        out
    }

    /// Where a download goes: the cache, else the caller's folder.
    fn download_target(&self) -> Option<PathBuf> {
        self.cache_dir.clone().or_else(|| self.data_dir.clone())
    }
}

fn offline_hint(name: DatasetName) -> String {
    let mut hint = format!(
        "Offline routes: put the four files ({}) in a folder and pass it with --data-dir \
         or ${DATA_DIR_ENV}",
        FILE_NAMES.join(", ")
    );
    if name == DatasetName::FashionMnist {
        hint.push_str("; on Debian or Ubuntu, `apt-get install dataset-fashion-mnist`");
    }
    hint.push_str("; or train on the embedded sample with --dataset fashion-mnist-sample.");
    hint
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::{encode_images, encode_labels};

    pub(crate) fn write_fixture(dir: &Path, train: usize, test: usize) {
        std::fs::create_dir_all(dir).expect("temp dir is writable");
        for (count, [img, lbl]) in [(train, [0, 1]), (test, [2, 3])] {
            let images = Images {
                count,
                rows: 4,
                cols: 3,
                pixels: (0..count * 12).map(|i| (i % 256) as u8).collect(),
            };
            let labels: Vec<u8> = (0..count).map(|i| (i % 10) as u8).collect();
            let raw_names = FILE_NAMES.map(|f| f.trim_end_matches(".gz"));
            std::fs::write(dir.join(raw_names[img]), encode_images(&images)).expect("write");
            std::fs::write(dir.join(raw_names[lbl]), encode_labels(&labels)).expect("write");
        }
    }

    #[test]
    fn with_labels_keeps_the_images_of_those_labels_in_order() {
        let split = Split::images(
            Images {
                count: 5,
                rows: 1,
                cols: 2,
                pixels: (0..10).collect(),
            },
            vec![3, 1, 3, 0, 1],
        );
        let kept = split.with_labels(&[1, 0]);
        assert_eq!(kept.labels, vec![1, 0, 1]);
        let pixels = kept.as_images().map(|i| i.pixels.clone());
        assert_eq!(pixels, Some(vec![2, 3, 6, 7, 8, 9]));
        assert_eq!(kept.len(), 3);
        assert!(split.with_labels(&[7]).is_empty());
    }

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

    #[test]
    fn names_round_trip() {
        for d in DatasetName::ALL {
            assert_eq!(d.as_str().parse::<DatasetName>().ok(), Some(d));
        }
        let err = "cifar".parse::<DatasetName>().expect_err("unknown");
        assert!(err.to_string().contains("cifar") && err.to_string().contains("fashion-mnist"));
    }

    #[test]
    fn finds_raw_files_in_data_dir_subfolder() {
        let tmp = tempfile::tempdir().expect("temp dir");
        write_fixture(&tmp.path().join("mnist"), 7, 3);
        let ds = Locator::only(tmp.path())
            .load(DatasetName::Mnist)
            .expect("fixture loads");
        assert_eq!((ds.train.len(), ds.test.len()), (7, 3));
        assert_eq!(ds.image_shape(), Some([4, 3]));
        assert_eq!(ds.source, Source::DataDir(tmp.path().join("mnist")));
    }

    #[test]
    fn missing_everywhere_lists_places_and_routes() {
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::write(tmp.path().join(FILE_NAMES[0]), b"partial").expect("write");
        let err = Locator::only(tmp.path())
            .load(DatasetName::FashionMnist)
            .expect_err("absent");
        let msg = err.to_string();
        assert!(matches!(err, DataError::NotFound { .. }));
        assert!(msg.contains(&tmp.path().display().to_string()), "{msg}");
        assert!(msg.contains("missing train-labels-idx1-ubyte.gz"), "{msg}");
        assert!(
            msg.contains("dataset-fashion-mnist") && msg.contains("fashion-mnist-sample"),
            "{msg}"
        );
    }

    #[test]
    fn corrupt_file_is_an_error_not_a_fallback() {
        let tmp = tempfile::tempdir().expect("temp dir");
        write_fixture(tmp.path(), 5, 2);
        std::fs::write(
            tmp.path().join("t10k-labels-idx1-ubyte"),
            encode_labels(&[1]),
        )
        .expect("write");
        let err = Locator::only(tmp.path())
            .load(DatasetName::Mnist)
            .expect_err("count mismatch");
        assert!(
            matches!(
                err,
                DataError::CountMismatch {
                    images: 2,
                    labels: 1,
                    ..
                }
            ),
            "{err}"
        );
    }
}
