//! How a table file or a folder of images becomes a data set: the data flags.

use std::path::{Path, PathBuf};

use ae_data::{DataSpec, FolderSpec, TableSpec, Windows};
use anyhow::{Context, Result, bail};
use clap::Args;

use super::{Given, ImageOverrides, flag, set};

/// How a table file (`--dataset FILE.csv|FILE.npy`) or a folder of images
/// (`--dataset DIR`) becomes a data set.
#[derive(Args, Clone, Debug, Default)]
pub struct TableOverrides {
    /// CSV: the label column, by header name or 0-based index; its values are integers
    /// 0-255 or class names.
    #[arg(long, value_name = "NAME|INDEX")]
    pub label_column: Option<String>,
    /// .npy: the labels of the rows, a 1-D integer array.
    #[arg(long, value_name = "FILE.npy")]
    pub labels: Option<PathBuf>,
    /// A separate file of test rows, same format and columns, or a folder of test
    /// images laid out like the training folder [default: a folder's test/, else hold
    /// out --test-fraction].
    #[arg(long, value_name = "FILE|DIR")]
    pub test_file: Option<PathBuf>,
    /// .npy: the labels of the --test-file rows.
    #[arg(long, value_name = "FILE.npy")]
    pub test_labels: Option<PathBuf>,
    /// Share of the rows or images held out for testing when there is no --test-file
    /// (or test/ folder) [default: 0.2].
    #[arg(long)]
    pub test_fraction: Option<f64>,
    /// A time series: the rows are time steps, cut into sliding windows of SIZE steps,
    /// one every STRIDE (default 1), each window a sample; the test part is then the
    /// last --test-fraction of the steps.
    #[arg(long, value_name = "SIZE[:STRIDE]")]
    pub window: Option<Windows>,
    /// CSV: a column left out of the features, by header name or 0-based index, such
    /// as a series' time stamps.
    #[arg(long, value_name = "NAME|INDEX")]
    pub time_column: Option<String>,
    /// How a folder's images are read.
    #[command(flatten)]
    pub images: ImageOverrides,
}

impl TableOverrides {
    /// The flags given, by name.
    pub fn given(&self) -> Vec<String> {
        let Self {
            label_column,
            labels,
            test_file,
            test_labels,
            test_fraction,
            window,
            time_column,
            images,
        } = self;
        let mut names = given!(
            label_column,
            labels,
            test_file,
            test_labels,
            test_fraction,
            window,
            time_column
        );
        names.extend(images.given());
        names
    }

    /// `spec` with these flags applied and every path made absolute, so that the
    /// artifact finds its data from any folder; the flags are refused for a data set
    /// that is not a table.
    pub fn apply(&self, spec: DataSpec) -> Result<DataSpec> {
        let mut table = match spec {
            DataSpec::Table(table) => table,
            DataSpec::Folder(folder) => return self.apply_folder(folder),
            DataSpec::Named(_) => {
                if let Some(first) = self.given().first() {
                    bail!(
                        "{first} describes a table (--dataset FILE.csv or FILE.npy) or a \
                         folder of images (--dataset DIR), not {spec}"
                    );
                }
                return Ok(spec);
            }
        };
        let Self {
            label_column,
            labels,
            test_file,
            test_labels,
            test_fraction,
            window,
            time_column,
            images,
        } = self;
        if let Some(first) = images.given().first() {
            bail!("{first} describes a folder of images (--dataset DIR), not the table {table}");
        }
        if label_column.is_some() {
            table.label_column = label_column.clone();
        }
        for (slot, value) in [
            (&mut table.labels, labels),
            (&mut table.test, test_file),
            (&mut table.test_labels, test_labels),
        ] {
            if value.is_some() {
                *slot = value.clone();
            }
        }
        set(&mut table.test_fraction, test_fraction);
        if window.is_some() {
            table.window = *window;
        }
        if time_column.is_some() {
            table.time_column = time_column.clone();
        }
        Ok(DataSpec::Table(absolute(table)?))
    }
}

impl TableOverrides {
    /// `folder` with the flags that apply to images, its paths made absolute.
    fn apply_folder(&self, mut folder: FolderSpec) -> Result<DataSpec> {
        let Self {
            label_column,
            labels,
            test_file,
            test_labels,
            test_fraction,
            window,
            time_column,
            images,
        } = self;
        let table_only = given!(label_column, labels, test_labels, window, time_column);
        if let Some(first) = table_only.first() {
            bail!("{first} describes a table; a folder's labels are its class subfolders' names");
        }
        if test_file.is_some() {
            folder.test_folder.clone_from(test_file);
        }
        set(&mut folder.test_fraction, test_fraction);
        images.apply(&mut folder);
        let absolute = |p: &Path| {
            std::path::absolute(p).with_context(|| format!("{}: not a usable path", p.display()))
        };
        folder.folder = absolute(&folder.folder)?;
        if let Some(t) = &mut folder.test_folder {
            *t = absolute(t)?;
        }
        folder.validate()?;
        Ok(DataSpec::Folder(folder))
    }
}

/// `table` with every path made absolute, checked.
fn absolute(mut table: TableSpec) -> Result<TableSpec> {
    let absolute = |p: &Path| {
        std::path::absolute(p).with_context(|| format!("{}: not a usable path", p.display()))
    };
    table.path = absolute(&table.path)?;
    for p in [&mut table.labels, &mut table.test, &mut table.test_labels]
        .into_iter()
        .flatten()
    {
        *p = absolute(p)?;
    }
    table.validate()?;
    Ok(table)
}
