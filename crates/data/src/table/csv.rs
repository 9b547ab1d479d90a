//! Numeric CSV files: an optional header row, an optional label column.

use std::path::Path;

use super::{Label, Parsed, Table, table_error};
use crate::DataError;

/// Reads a numeric CSV file; `label_column` (header name or 0-based index) is taken
/// out of the features as labels, `skip_column` (a series' time stamps) left out.
pub(super) fn read_csv(
    path: &Path,
    label_column: Option<&str>,
    skip_column: Option<&str>,
) -> Result<Parsed, DataError> {
    let (header, rows) = read_records(path)?;
    let width = header
        .as_ref()
        .map(Vec::len)
        .or_else(|| rows.first().map(csv::StringRecord::len))
        .unwrap_or(0);
    let line_of = |i: usize| i + 1 + usize::from(header.is_some());
    let find = |what: &str, name: &str| column_index(path, header.as_deref(), width, what, name);
    let label = label_column.map(|name| find("label", name)).transpose()?;
    let skip = skip_column.map(|name| find("time", name)).transpose()?;
    if skip.is_some() && skip == label {
        return Err(table_error(
            path,
            "the time column and the label column are the same column".into(),
        ));
    }
    let columns = width - usize::from(label.is_some()) - usize::from(skip.is_some());
    if rows.is_empty() || columns == 0 {
        return Err(table_error(
            path,
            format!(
                "{} data rows with {columns} feature columns: expected at least one of each",
                rows.len()
            ),
        ));
    }
    let mut values = Vec::with_capacity(rows.len() * columns);
    let mut labels = label.map(|_| Vec::with_capacity(rows.len()));
    for (i, row) in rows.iter().enumerate() {
        for (j, field) in row.iter().enumerate() {
            if Some(j) == label {
                if let Some(ls) = labels.as_mut() {
                    ls.push(parse_label(field));
                }
                continue;
            }
            if Some(j) == skip {
                continue;
            }
            let v = parse_number(field)
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    let column = header
                        .as_ref()
                        .and_then(|h| h.get(j))
                        .map_or(format!("column {j}"), |c| format!("column {j} ('{c}')"));
                    let hint = if label.is_none() && parse_number(field).is_none() {
                        " (if this column holds labels, name it as the label column)"
                    } else {
                        ""
                    };
                    table_error(
                        path,
                        format!(
                            "line {}, {column}: '{}' is not a finite number{hint}",
                            line_of(i),
                            crate::clip(field)
                        ),
                    )
                })?;
            values.push(v);
        }
    }
    let names = header
        .map(|h| {
            h.into_iter()
                .enumerate()
                .filter(|&(j, _)| Some(j) != label && Some(j) != skip)
                .map(|(_, name)| name)
                .collect()
        })
        .unwrap_or_default();
    Ok(Parsed {
        table: Table {
            count: rows.len(),
            columns,
            values,
        },
        labels,
        names,
    })
}

/// The header (when the first line is not numbers) and the data records of a CSV file.
type Records = (Option<Vec<String>>, Vec<csv::StringRecord>);

/// Reads the records of the CSV file at `path`, lines bounded, the header checked.
fn read_records(path: &Path) -> Result<Records, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_reader(crate::BoundedLines::new(file, crate::MAX_LINE));
    let mut records = reader.records();
    let mut header: Option<Vec<String>> = None;
    let mut rows: Vec<csv::StringRecord> = Vec::new();
    if let Some(first) = records.next() {
        let first = first.map_err(|e| table_error(path, e.to_string()))?;
        if first.iter().any(|f| parse_number(f).is_none()) {
            check_header(path, &first)?;
            header = Some(first.iter().map(str::to_string).collect());
        } else {
            rows.push(first);
        }
    }
    for record in records {
        rows.push(record.map_err(|e| table_error(path, e.to_string()))?);
    }
    Ok((header, rows))
}

/// The index of the `what` column `name` (a header name or a 0-based index below
/// `width`), or an error that lists the columns there are.
fn column_index(
    path: &Path,
    header: Option<&[String]>,
    width: usize,
    what: &str,
    name: &str,
) -> Result<usize, DataError> {
    header
        .and_then(|h| h.iter().position(|c| c == name))
        .or_else(|| name.parse::<usize>().ok().filter(|&i| i < width))
        .ok_or_else(|| {
            let columns = match header {
                Some(h) => format!("the header has {}", h.join(", ")),
                None => format!(
                    "no header row, {width} columns (indices 0 to {})",
                    width.saturating_sub(1)
                ),
            };
            table_error(path, format!("no {what} column '{name}': {columns}"))
        })
}

/// Refuses a header row whose names are too long or come twice.
pub(crate) fn check_header(path: &Path, header: &csv::StringRecord) -> Result<(), DataError> {
    for (j, name) in header.iter().enumerate() {
        if name.len() > crate::MAX_NAME {
            return Err(table_error(
                path,
                format!(
                    "column {j}: a name of {} bytes ('{}'): at most {} bytes",
                    name.len(),
                    crate::clip(name),
                    crate::MAX_NAME
                ),
            ));
        }
        if let Some(k) = header.iter().take(j).position(|other| other == name) {
            return Err(table_error(
                path,
                format!(
                    "columns {k} and {j} are both named '{}': each column needs its own name",
                    crate::clip(name)
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn parse_number(field: &str) -> Option<f32> {
    field.parse::<f32>().ok()
}

pub(super) fn parse_label(field: &str) -> Label {
    match field.parse::<f64>() {
        Ok(v) if v.fract() == 0.0 && (0.0..=255.0).contains(&v) => Label::Number(v as u8),
        _ => Label::Name(field.to_string()),
    }
}
