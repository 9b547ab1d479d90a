//! How a table file becomes a data set: the table flags.

use std::path::{Path, PathBuf};

use ae_data::{DataSpec, TableSpec};
use anyhow::{Context, Result, bail};
use clap::Args;

use super::{Given, flag, set};

/// How a table file becomes a data set (with `--dataset FILE.csv|FILE.npy`).
#[derive(Args, Clone, Debug, Default)]
pub struct TableOverrides {
    /// CSV: the label column, by header name or 0-based index; its values are integers
    /// 0-255 or class names.
    #[arg(long, value_name = "NAME|INDEX")]
    pub label_column: Option<String>,
    /// .npy: the labels of the rows, a 1-D integer array.
    #[arg(long, value_name = "FILE.npy")]
    pub labels: Option<PathBuf>,
    /// A separate file of test rows, same format and columns [default: hold out
    /// --test-fraction of the rows].
    #[arg(long, value_name = "FILE")]
    pub test_file: Option<PathBuf>,
    /// .npy: the labels of the --test-file rows.
    #[arg(long, value_name = "FILE.npy")]
    pub test_labels: Option<PathBuf>,
    /// Share of the rows held out for testing when there is no --test-file [default: 0.2].
    #[arg(long)]
    pub test_fraction: Option<f64>,
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
        } = self;
        given!(label_column, labels, test_file, test_labels, test_fraction)
    }

    /// `spec` with these flags applied and every path made absolute, so that the
    /// artifact finds its data from any folder; the flags are refused for a data set
    /// that is not a table.
    pub fn apply(&self, spec: DataSpec) -> Result<DataSpec> {
        let DataSpec::Table(mut table) = spec else {
            let given = self.given();
            if let Some(first) = given.first() {
                bail!("{first} describes a table (--dataset FILE.csv or FILE.npy), not {spec}");
            }
            return Ok(spec);
        };
        let Self {
            label_column,
            labels,
            test_file,
            test_labels,
            test_fraction,
        } = self;
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
        Ok(DataSpec::Table(absolute(table)?))
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
