//! Tables of numbers — CSV files and NumPy `.npy` arrays — as data sets for the fully
//! connected families.
//!
//! A [`TableSpec`] names the file (and optionally a test file, a label column or a
//! label array); [`TableSpec::load`] reads it, checks every value, holds out a test
//! part when there is no test file, and standardises every column with the mean and
//! standard deviation of the training rows ([`Standardizer`]). The standardiser is
//! returned with the data so that a trained model can be applied to new rows the
//! same way.
//!
//! CSV: comma-separated numbers, one row per sample; an optional header row (a first
//! row with a field that is not a number); an optional label column, named by its
//! header or by its 0-based index, whose values are integers 0–255 or class names
//! (numbered in sorted order). `.npy`: a 2-D array `[samples, features]` of any real
//! or integer type (C or Fortran order), labels in a separate 1-D integer array.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::order::{TRAIN_ORDER_SEED, permutation};

mod csv;
mod npy;
mod series;

use csv::read_csv;
pub(crate) use csv::{check_header, parse_number};
use npy::read_npy_table;
pub use series::{WindowStream, Windows};

/// Rows of `f32` features in one contiguous buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Number of rows (samples).
    pub count: usize,
    /// Features per row.
    pub columns: usize,
    /// `count * columns` values, row after row.
    pub values: Vec<f32>,
}

impl Table {
    /// The values of row `index`.
    ///
    /// # Panics
    /// When `index >= self.count`.
    pub fn row(&self, index: usize) -> &[f32] {
        &self.values[index * self.columns..(index + 1) * self.columns]
    }

    /// The first `n` rows (all of them when `n >= count`).
    pub fn truncate(&mut self, n: usize) {
        self.count = self.count.min(n);
        self.values.truncate(self.count * self.columns);
    }

    /// The rows at `indices`, in that order.
    pub fn rows(&self, indices: &[usize]) -> Table {
        let mut values = Vec::with_capacity(indices.len() * self.columns);
        for &i in indices {
            values.extend_from_slice(self.row(i));
        }
        Table {
            count: indices.len(),
            columns: self.columns,
            values,
        }
    }
}

/// The largest standardised value accepted: its square still fits an `f32` (the
/// reconstruction losses square it).
pub const MAX_STANDARDISED: f64 = 1.8e19;

/// Per-column standardisation, `(x − mean) / std`, with statistics of the training
/// rows, computed in `f64` so that values up to `f32::MAX` standardise safely. A
/// constant column keeps `std = 1` (it becomes all zeros).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Mean of each column.
    pub mean: Vec<f32>,
    /// Standard deviation of each column (population, as scikit-learn's `StandardScaler`).
    pub std: Vec<f32>,
    /// The columns' names, from the training file's header (empty without one): new
    /// rows are matched to them by name ([`crate::rows`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

impl Standardizer {
    /// The statistics of `table`'s columns.
    pub fn fit(table: &Table) -> Self {
        let n = table.count.max(1) as f64;
        let mut sum = vec![0.0f64; table.columns];
        let mut sq = vec![0.0f64; table.columns];
        for row in table.values.chunks(table.columns.max(1)) {
            for (j, &v) in row.iter().enumerate() {
                sum[j] += f64::from(v);
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        for row in table.values.chunks(table.columns.max(1)) {
            for (j, &v) in row.iter().enumerate() {
                sq[j] += (f64::from(v) - mean[j]).powi(2);
            }
        }
        let std = sq
            .iter()
            .map(|s| {
                let std = (s / n).sqrt();
                if std > 1e-12 { std as f32 } else { 1.0 }
            })
            .collect();
        Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
            names: Vec::new(),
        }
    }

    /// Standardises `table` in place; `origin` names it in the error when its number
    /// of columns is not the one the statistics were taken on.
    pub fn apply(&self, table: &mut Table, origin: &Path) -> Result<(), DataError> {
        if table.columns != self.mean.len() || self.std.len() != self.mean.len() {
            return Err(DataError::Table {
                path: origin.to_path_buf(),
                message: format!(
                    "{} feature columns, but the standardisation was fitted on {}",
                    table.columns,
                    self.mean.len()
                ),
            });
        }
        self.standardize_rows(&mut table.values)
            .map_err(|message| DataError::Table {
                path: origin.to_path_buf(),
                message,
            })
    }

    /// Standardises rows of as many values as there are statistics, in place; the
    /// error names the row, the column and the value.
    pub fn standardize_rows(&self, values: &mut [f32]) -> Result<(), String> {
        let columns = self.mean.len().max(1);
        // In f64: `x − mean` of values near f32::MAX overflows f32.
        for (i, row) in values.chunks_mut(columns).enumerate() {
            for (j, ((v, m), s)) in row.iter_mut().zip(&self.mean).zip(&self.std).enumerate() {
                let z = (f64::from(*v) - f64::from(*m)) / f64::from(*s);
                if z.is_nan() || z.abs() > MAX_STANDARDISED {
                    return Err(format!(
                        "row {i}, column {j}: value {v} lies {z:.3e} standard deviations \
                         from the training rows' mean {m}: its square overflows 32-bit \
                         floats (at most {MAX_STANDARDISED:e} are usable)"
                    ));
                }
                *v = z as f32;
            }
        }
        Ok(())
    }

    /// The inverse of [`standardize_rows`](Self::standardize_rows): values back in
    /// the training file's units.
    pub fn unstandardize_rows(&self, values: &mut [f32]) {
        for row in values.chunks_mut(self.mean.len().max(1)) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (f64::from(*v) * f64::from(*s) + f64::from(*m)) as f32;
            }
        }
    }
}

/// A table data set: where its rows and labels are, and how the test part is made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableSpec {
    /// The CSV or `.npy` file of the training rows (all rows when there is no
    /// [`test`](Self::test) file).
    pub path: PathBuf,
    /// A separate file of test rows, in the same format and columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<PathBuf>,
    /// CSV: the label column, by header name or 0-based index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// `.npy`: a 1-D integer array of the labels of [`path`](Self::path)'s rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<PathBuf>,
    /// `.npy`: the labels of the [`test`](Self::test) file's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_labels: Option<PathBuf>,
    /// Without a test file, the share of rows held out for testing (chosen at random
    /// with [`split_seed`](Self::split_seed), the same on every load).
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Seed of the held-out test rows and of the training rows' order.
    #[serde(default)]
    pub split_seed: u64,
    /// A time series: the rows are time steps, cut into these sliding windows, each
    /// window a sample; the test part is the last share of the steps ([`series`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Windows>,
    /// CSV: a column left out of the features, by header name or 0-based index (a
    /// series' time stamps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_column: Option<String>,
}

fn default_test_fraction() -> f64 {
    0.2
}

/// The file formats a table is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Npy,
}

impl Format {
    fn of(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".csv") {
            Some(Self::Csv)
        } else if name.ends_with(".npy") {
            Some(Self::Npy)
        } else {
            None
        }
    }
}

/// The rows of a table file with their labels (if any) and class names.
struct Parsed {
    table: Table,
    labels: Option<Vec<Label>>,
    /// The feature columns' header names (CSV with a header).
    names: Vec<String>,
}

/// A label as written: a small integer, or a class name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Label {
    Number(u8),
    Name(String),
}

/// A table data set, read and standardised.
#[derive(Clone, Debug)]
pub struct LoadedTable {
    /// Training rows (standardised) and labels.
    pub train: (Table, Vec<u8>),
    /// Test rows (standardised) and labels.
    pub test: (Table, Vec<u8>),
    /// What each label means, label `i` at index `i`.
    pub classes: Vec<String>,
    /// The statistics the rows were standardised with.
    pub standardizer: Standardizer,
}

impl TableSpec {
    /// A spec for `path` with the defaults: no labels, 20 % held out for testing.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            test: None,
            label_column: None,
            labels: None,
            test_labels: None,
            test_fraction: default_test_fraction(),
            split_seed: 0,
            window: None,
            time_column: None,
        }
    }

    /// The columns of the file for a model of `features` inputs: as many, or for a
    /// series the values of one step of a window.
    pub fn columns_of(&self, features: usize) -> usize {
        features / self.window.map_or(1, |w| w.size.max(1))
    }

    /// Whether `path` names a file this module reads (`.csv` or `.npy`).
    pub fn is_table_path(path: &Path) -> bool {
        Format::of(path).is_some()
    }

    /// Checks the options against each other and the files' formats.
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |message: String| {
            Err(DataError::Table {
                path: self.path.clone(),
                message,
            })
        };
        let Some(format) = Format::of(&self.path) else {
            return bad("not a table file: expected a name ending in .csv or .npy".into());
        };
        if let Some(test) = &self.test
            && Format::of(test) != Some(format)
        {
            return bad(format!(
                "the test file {} is not of the same format (.csv or .npy)",
                test.display()
            ));
        }
        if !(0.0..1.0).contains(&self.test_fraction) {
            return bad(format!(
                "test fraction {}: expected a share in [0, 1)",
                self.test_fraction
            ));
        }
        if let Some(w) = self.window
            && let Err(message) = Windows::new(w.size, w.stride)
        {
            return bad(message);
        }
        match format {
            Format::Csv if self.labels.is_some() || self.test_labels.is_some() => bad(
                "label arrays (--labels, --test-labels) go with .npy files; a CSV names its \
                 label column (--label-column)"
                    .into(),
            ),
            Format::Npy if self.time_column.is_some() => bad(
                "--time-column names a CSV column; a .npy array holds only the series' values"
                    .into(),
            ),
            Format::Npy if self.label_column.is_some() => bad(
                "--label-column names a CSV column; the labels of a .npy file are a separate \
                 array (--labels FILE.npy)"
                    .into(),
            ),
            Format::Npy if self.test.is_some() && self.labels.is_some() != self.test_labels.is_some() => bad(
                "with a test file, give labels for both (--labels and --test-labels) or neither".into(),
            ),
            _ => Ok(()),
        }
    }

    /// Reads the table, makes the train and test parts, and standardises both with
    /// `standardizer` (a trained model's) or, when `None`, with statistics of the
    /// training rows.
    pub fn load(&self, standardizer: Option<&Standardizer>) -> Result<LoadedTable, DataError> {
        self.validate()?;
        let format = Format::of(&self.path).unwrap_or(Format::Csv);
        let read = |path: &Path, labels: Option<&Path>| match format {
            Format::Csv => read_csv(
                path,
                self.label_column.as_deref(),
                self.time_column.as_deref(),
            ),
            Format::Npy => read_npy_table(path, labels),
        };
        let train = read(&self.path, self.labels.as_deref())?;
        let (train, test) = match &self.test {
            Some(test_path) => {
                let test = read(test_path, self.test_labels.as_deref())?;
                if test.table.columns != train.table.columns {
                    return Err(DataError::Table {
                        path: test_path.clone(),
                        message: format!(
                            "{} feature columns, but the training file {} has {}",
                            test.table.columns,
                            self.path.display(),
                            train.table.columns
                        ),
                    });
                }
                (train, test)
            }
            None if self.window.is_some() => self.split_by_time(train)?,
            None => self.hold_out(train)?,
        };
        let classes = self.classes(&train, &test)?;
        let number = |l: &Label| match l {
            Label::Number(n) => *n,
            Label::Name(name) => classes.iter().position(|c| c == name).unwrap_or(0) as u8,
        };
        let labels_of = |p: &Parsed| match &p.labels {
            Some(ls) => ls.iter().map(number).collect(),
            None => vec![0; p.table.count],
        };
        let (train_labels, test_labels) = (labels_of(&train), labels_of(&test));
        // The training rows in a seeded random order, as a folder's images: the first
        // rows (`--limit`) and the last (the validation share) of a file sorted by
        // label are then not one class. A series keeps its time order.
        let order: Vec<usize> = match self.window {
            Some(_) => (0..train.table.count).collect(),
            None => permutation(train.table.count, self.split_seed ^ TRAIN_ORDER_SEED),
        };
        let train_labels: Vec<u8> = order.iter().map(|&i| train_labels[i]).collect();
        let train = Parsed {
            table: train.table.rows(&order),
            ..train
        };
        let standardizer = match standardizer {
            Some(s) => s.clone(),
            None => Standardizer {
                names: train.names.clone(),
                ..Standardizer::fit(&train.table)
            },
        };
        let (mut train, mut test) = (train.table, test.table);
        standardizer.apply(&mut train, &self.path)?;
        standardizer.apply(&mut test, self.test.as_deref().unwrap_or(&self.path))?;
        let (train, test) = match self.window {
            Some(w) => (
                self.windows(w, train, &train_labels, "training")?,
                self.windows(w, test, &test_labels, "test")?,
            ),
            None => ((train, train_labels), (test, test_labels)),
        };
        Ok(LoadedTable {
            train,
            test,
            classes,
            standardizer,
        })
    }

    /// The classes of the labels of both parts: numbers as they are (0 to the largest),
    /// names numbered in sorted order; at most 256.
    fn classes(&self, train: &Parsed, test: &Parsed) -> Result<Vec<String>, DataError> {
        let names: BTreeSet<&String> = [&train.labels, &test.labels]
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|l| match l {
                Label::Name(n) => Some(n),
                Label::Number(_) => None,
            })
            .collect();
        let numbers = [&train.labels, &test.labels]
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|l| match l {
                Label::Number(n) => Some(*n),
                Label::Name(_) => None,
            })
            .max();
        let classes: Vec<String> = if names.is_empty() {
            (0..=numbers.unwrap_or(0)).map(|n| n.to_string()).collect()
        } else {
            names.iter().map(|n| n.to_string()).collect()
        };
        if classes.len() > 256 {
            return Err(DataError::Table {
                path: self.path.clone(),
                message: format!(
                    "{} distinct labels; at most 256 classes are supported",
                    classes.len()
                ),
            });
        }
        Ok(classes)
    }

    /// The windows of one part of a series, with their labels; an error when the part
    /// is shorter than a window.
    fn windows(
        &self,
        w: Windows,
        steps: Table,
        labels: &[u8],
        part: &str,
    ) -> Result<(Table, Vec<u8>), DataError> {
        if w.count(steps.count) == 0 {
            return Err(DataError::Table {
                path: self.path.clone(),
                message: format!(
                    "a window of {} steps is longer than the {part} part of the series ({} \
                     steps{}); give a shorter --window{}",
                    w.size,
                    steps.count,
                    match (&self.test, part) {
                        (None, "test") => format!(", the last {} of them", self.test_fraction),
                        (None, _) => format!(", the first {} of them", 1.0 - self.test_fraction),
                        _ => String::new(),
                    },
                    if self.test.is_none() {
                        " or another --test-fraction"
                    } else {
                        ""
                    },
                ),
            });
        }
        Ok((w.cut(&steps), w.labels(labels)))
    }

    /// Splits a series by time: the last `test_fraction` of the steps are the test
    /// part, every training step before every test step.
    fn split_by_time(&self, all: Parsed) -> Result<(Parsed, Parsed), DataError> {
        let n = all.table.count;
        let test_n = ((n as f64) * self.test_fraction).round() as usize;
        if test_n == 0 || test_n >= n {
            return Err(DataError::Table {
                path: self.path.clone(),
                message: format!(
                    "a series of {n} steps cannot be split in time at a test fraction of {}; \
                     give another fraction, or a test file",
                    self.test_fraction
                ),
            });
        }
        let part = |range: std::ops::Range<usize>| Parsed {
            table: all.table.rows(&range.clone().collect::<Vec<_>>()),
            labels: all.labels.as_ref().map(|ls| ls[range].to_vec()),
            names: all.names.clone(),
        };
        Ok((part(0..n - test_n), part(n - test_n..n)))
    }

    /// Splits one file's rows into a training and a test part: `test_fraction` of them,
    /// chosen by a permutation seeded with `split_seed`, each part in file order.
    fn hold_out(&self, all: Parsed) -> Result<(Parsed, Parsed), DataError> {
        let n = all.table.count;
        let test_n = ((n as f64) * self.test_fraction).round() as usize;
        if n < 2 || (self.test_fraction > 0.0 && (test_n == 0 || test_n >= n)) {
            return Err(DataError::Table {
                path: self.path.clone(),
                message: format!(
                    "{n} rows cannot be split into a training and a test part at a test fraction \
                     of {}; give more rows, another fraction, or a test file",
                    self.test_fraction
                ),
            });
        }
        let order = permutation(n, self.split_seed);
        let mut test_idx = order[..test_n].to_vec();
        let mut train_idx = order[test_n..].to_vec();
        test_idx.sort_unstable();
        train_idx.sort_unstable();
        let part = |idx: &[usize]| Parsed {
            table: all.table.rows(idx),
            labels: all
                .labels
                .as_ref()
                .map(|ls| idx.iter().map(|&i| ls[i].clone()).collect()),
            names: all.names.clone(),
        };
        Ok((part(&train_idx), part(&test_idx)))
    }
}

impl fmt::Display for TableSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())
    }
}

fn table_error(path: &Path, message: String) -> DataError {
    DataError::Table {
        path: path.to_path_buf(),
        message,
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header.as_bytes());
        out.extend(data);
        out
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("temp dir is writable");
        path
    }

    #[test]
    fn values_near_the_f32_limit_standardise_safely_and_outliers_are_named() {
        let huge = Table {
            count: 4,
            columns: 2,
            values: vec![3e38, 1.0, -3e38, 2.0, -3e38, 3.0, -3e38, 4.0],
        };
        let s = Standardizer::fit(&huge);
        let mut t = huge.clone();
        s.apply(&mut t, Path::new("huge.csv"))
            .expect("standardises");
        // 3e38 lies 4.5e38 above the mean −1.5e38 (beyond f32) and √3 standard
        // deviations; 1 and 2 lie 1.342 and 0.447 below 2.5.
        let expected = [1.732_050_8, -1.341_640_8, -0.577_350_3, -0.447_213_6];
        for (v, e) in t.values.iter().zip(expected) {
            assert!((v - e).abs() < 1e-6, "{:?}", t.values);
        }
        assert!(t.values.iter().all(|v| v.is_finite()));
        // A test value 3e38 against training rows of std 1 cannot be squared in f32.
        let small = Table {
            count: 2,
            columns: 1,
            values: vec![0.0, 2.0],
        };
        let s = Standardizer::fit(&small);
        let mut far = Table {
            count: 2,
            columns: 1,
            values: vec![1.0, 3e38],
        };
        let err = s
            .apply(&mut far, Path::new("test.csv"))
            .expect_err("too far out")
            .to_string();
        assert!(
            err.starts_with("test.csv: row 1, column 0: value 300000000000000000000000000000000000000 lies 3.000e38"),
            "{err}"
        );
    }

    #[test]
    fn npy_types_orders_and_errors() {
        let f32s: Vec<u8> = [1.5f32, -2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = crate::npy::parse(&npy("<f4", false, "(2, 3)", &f32s)).expect("parses");
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.values, vec![1.5, -2.0, 3.0, 4.0, 5.0, 6.0]);
        // The same bytes in Fortran order are the transpose's memory.
        let f = crate::npy::parse(&npy("<f4", true, "(3, 2)", &f32s)).expect("parses");
        assert_eq!(f.values, vec![1.5, 4.0, -2.0, 5.0, 3.0, 6.0]);
        let i16s: Vec<u8> = [-3i16, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            crate::npy::parse(&npy("<i2", false, "(2,)", &i16s))
                .expect("i2")
                .values,
            vec![-3.0, 7.0]
        );
        let be: Vec<u8> = 2.5f64.to_be_bytes().to_vec();
        assert_eq!(
            crate::npy::parse(&npy(">f8", false, "(1,)", &be))
                .expect("f8")
                .values,
            vec![2.5]
        );
        let short =
            crate::npy::parse(&npy("<f4", false, "(2, 3)", &f32s[..20])).expect_err("short");
        assert!(
            short.contains("20 bytes") && short.contains("needs 24"),
            "{short}"
        );
        let complex = crate::npy::parse(&npy("<c8", false, "(1,)", &[0; 8])).expect_err("complex");
        assert!(complex.contains("c8"), "{complex}");
        assert!(crate::npy::parse(b"PK\x03\x04 not npy").is_err());
    }

    #[test]
    fn csv_with_header_names_labels_and_holds_out_a_test_part() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut text = String::from("a, b ,kind\n");
        for i in 0..10 {
            let kind = if i % 2 == 0 { "even" } else { "odd" };
            text.push_str(&format!("{i},{},{kind}\n", 2 * i));
        }
        let path = write(dir.path(), "t.csv", &text);
        let spec = TableSpec {
            label_column: Some("kind".into()),
            ..TableSpec::new(&path)
        };
        let t = spec.load(None).expect("loads");
        assert_eq!(t.classes, vec!["even", "odd"]);
        assert_eq!((t.train.0.count, t.test.0.count), (8, 2));
        assert_eq!(t.train.0.columns, 2);
        // Standardised with the training rows' statistics: mean 0, std 1 per column.
        for j in 0..2 {
            let col: Vec<f32> = (0..8).map(|i| t.train.0.row(i)[j]).collect();
            let mean = col.iter().sum::<f32>() / 8.0;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 8.0;
            assert!(
                mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
                "{mean} {var}"
            );
        }
        // Every row is in exactly one part, with its label: recover the raw values.
        let s = &t.standardizer;
        let mut seen: Vec<(u32, u8)> = [&t.train, &t.test]
            .iter()
            .flat_map(|(table, labels)| {
                (0..table.count).map(move |i| {
                    let raw = table.row(i)[0] * s.std[0] + s.mean[0];
                    (raw.round() as u32, labels[i])
                })
            })
            .collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..10).map(|i| (i, (i % 2) as u8)).collect::<Vec<_>>()
        );
        // The same split and statistics on every load; given statistics are used as is.
        let again = spec.load(Some(&t.standardizer)).expect("loads again");
        assert_eq!(again.test.0, t.test.0);
        assert_eq!(again.train.1, t.train.1);
    }

    #[test]
    fn a_file_sorted_by_label_trains_and_validates_on_every_class() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut text = String::from("x,class\n");
        for i in 0..40 {
            text.push_str(&format!("{i},{}\n", if i < 20 { "a" } else { "b" }));
        }
        let path = write(dir.path(), "sorted.csv", &text);
        let spec = TableSpec {
            label_column: Some("class".into()),
            ..TableSpec::new(&path)
        };
        let t = spec.load(None).expect("loads");
        let labels = &t.train.1;
        assert_eq!(labels.len(), 32);
        // The last quarter (a validation share) and the first quarter (a --limit) hold
        // both classes; in file order they would hold one.
        for part in [&labels[24..], &labels[..8]] {
            assert!(part.contains(&0) && part.contains(&1), "{labels:?}");
        }
        assert_eq!(spec.load(None).expect("loads").train.1, *labels, "seeded");
    }

    #[test]
    fn csv_without_header_takes_a_label_index_and_a_test_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let train = write(dir.path(), "train.csv", "1,5,0\n3,5,2\n");
        let test = write(dir.path(), "test.csv", "2,6,1\n");
        let spec = TableSpec {
            label_column: Some("2".into()),
            test: Some(test),
            ..TableSpec::new(&train)
        };
        let t = spec.load(None).expect("loads");
        assert_eq!(t.classes, vec!["0", "1", "2"]);
        // The training rows in their seeded order (here the second first); the test
        // rows in the file's.
        assert_eq!((t.train.1.clone(), t.test.1.clone()), (vec![2, 0], vec![1]));
        // Column 1 is constant in training: std 1, so it is only centred.
        assert_eq!(t.standardizer.std[1], 1.0);
        assert_eq!(t.train.0.values, vec![1.0, 0.0, -1.0, 0.0]);
        assert_eq!(t.test.0.values, vec![0.0, 1.0]);
    }

    #[test]
    fn bad_tables_name_the_file_line_and_value() {
        let dir = tempfile::tempdir().expect("temp dir");
        let msg = |spec: TableSpec| spec.load(None).expect_err("bad").to_string();
        let p = write(dir.path(), "nan.csv", "x,y\n1,2\n3,\n5,6\n7,8\n9,10\n");
        let m = msg(TableSpec::new(&p));
        assert!(
            m.contains("nan.csv") && m.contains("line 3") && m.contains("'y'"),
            "{m}"
        );
        let p = write(dir.path(), "ragged.csv", "1,2\n3\n");
        assert!(msg(TableSpec::new(&p)).contains("ragged.csv"));
        let p = write(dir.path(), "ok.csv", "x,y\n1,2\n3,4\n5,6\n");
        let m = msg(TableSpec {
            label_column: Some("z".into()),
            ..TableSpec::new(&p)
        });
        assert!(
            m.contains("no label column 'z'") && m.contains("x, y"),
            "{m}"
        );
        let m = msg(TableSpec::new(dir.path().join("absent.csv")));
        assert!(m.contains("absent.csv"), "{m}");
        let m = msg(TableSpec::new(dir.path().join("data.txt")));
        assert!(m.contains(".csv or .npy"), "{m}");
        let one = write(dir.path(), "one.csv", "1,2\n");
        assert!(msg(TableSpec::new(&one)).contains("1 rows cannot be split"));
        let test = write(dir.path(), "wide.csv", "1,2,3\n");
        let m = msg(TableSpec {
            test: Some(test),
            ..TableSpec::new(&p)
        });
        assert!(
            m.contains("wide.csv") && m.contains("3 feature columns"),
            "{m}"
        );
    }

    #[test]
    fn npy_tables_take_label_arrays() {
        let dir = tempfile::tempdir().expect("temp dir");
        let x: Vec<u8> = (0..12).flat_map(|v| f64::from(v).to_le_bytes()).collect();
        let xp = dir.path().join("x.npy");
        std::fs::write(&xp, npy("<f8", false, "(6, 2)", &x)).expect("write");
        let yp = dir.path().join("y.npy");
        std::fs::write(&yp, npy("|u1", false, "(6,)", &[0, 1, 0, 1, 0, 3])).expect("write");
        let spec = TableSpec {
            labels: Some(yp.clone()),
            test_fraction: 0.5,
            ..TableSpec::new(&xp)
        };
        let t = spec.load(None).expect("loads");
        assert_eq!(
            (t.train.0.count, t.test.0.count, t.train.0.columns),
            (3, 3, 2)
        );
        assert_eq!(t.classes.len(), 4);
        let short = dir.path().join("short.npy");
        std::fs::write(&short, npy("|u1", false, "(5,)", &[0; 5])).expect("write");
        let m = TableSpec {
            labels: Some(short),
            ..TableSpec::new(&xp)
        }
        .load(None)
        .expect_err("5 labels for 6 rows")
        .to_string();
        assert!(m.contains("short.npy") && m.contains("expected [6]"), "{m}");
        let m = TableSpec {
            label_column: Some("0".into()),
            ..TableSpec::new(&xp)
        }
        .load(None)
        .expect_err("label column on npy")
        .to_string();
        assert!(m.contains("--labels"), "{m}");
    }
}
