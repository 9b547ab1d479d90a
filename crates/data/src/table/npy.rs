//! A table from `.npy` arrays: the features, `[samples, features]`, and their labels.

use std::path::Path;

use super::{Label, Parsed, Table, table_error};
use crate::DataError;
use crate::npy::read;

/// Reads a 2-D `.npy` array of features and, optionally, a 1-D array of labels.
pub(super) fn read_npy_table(path: &Path, labels: Option<&Path>) -> Result<Parsed, DataError> {
    let features = read(path)?;
    let [count, columns] = features.shape[..] else {
        return Err(table_error(
            path,
            format!(
                "an array of shape {:?}: expected 2 dimensions, [samples, features]",
                features.shape
            ),
        ));
    };
    if count == 0 || columns == 0 {
        return Err(table_error(
            path,
            format!("shape [{count}, {columns}]: expected at least one sample and one feature"),
        ));
    }
    if let Some((i, v)) = features
        .values
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite())
    {
        return Err(table_error(
            path,
            format!(
                "value {v} at row {}, column {}: expected finite numbers",
                i / columns,
                i % columns
            ),
        ));
    }
    let labels = match labels {
        None => None,
        Some(lpath) => {
            let l = read(lpath)?;
            if l.shape[..] != [count] {
                return Err(table_error(
                    lpath,
                    format!(
                        "labels of shape {:?}: expected [{count}], one per row of {}",
                        l.shape,
                        path.display()
                    ),
                ));
            }
            let labels = l
                .values
                .iter()
                .enumerate()
                .map(|(i, &v)| match v {
                    v if v.fract() == 0.0 && (0.0..=255.0).contains(&v) => {
                        Ok(Label::Number(v as u8))
                    }
                    v => Err(table_error(
                        lpath,
                        format!("label {v} at index {i}: expected integers from 0 to 255"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Some(labels)
        }
    };
    Ok(Parsed {
        table: Table {
            count,
            columns,
            values: features.values.iter().map(|&v| v as f32).collect(),
        },
        labels,
        names: Vec::new(),
    })
}
