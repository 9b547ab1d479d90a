//! Opening a CSV file of new samples: its header matched to the model's columns by
//! name, or its columns taken by position.

use std::fs::File;

use super::{Columns, RowReader, Source, error};
use crate::DataError;
use crate::table::parse_number;

impl RowReader {
    pub(super) fn open_csv(&mut self, file: File, want: &Columns<'_>) -> Result<Source, DataError> {
        let path = self.path.clone();
        let mut records = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .from_reader(crate::BoundedLines::new(file, crate::MAX_LINE))
            .into_records();
        let first = match records.next() {
            None => return Err(error(&path, "empty: no header and no rows".into())),
            Some(r) => r.map_err(|e| error(&path, e.to_string()))?,
        };
        let is_header = first.iter().any(|f| parse_number(f).is_none());
        if is_header {
            crate::table::check_header(&path, &first)?;
        }
        let width = first.len();
        // The label and time columns, which new files may hold and are left out.
        let left_out: Vec<&str> = [want.label, want.time].into_iter().flatten().collect();
        let map: Vec<Option<usize>> = if is_header && !want.names.is_empty() {
            let header: Vec<&str> = first.iter().collect();
            for (j, name) in header.iter().enumerate() {
                if !left_out.contains(name) && !want.names.iter().any(|n| n == name) {
                    return Err(error(
                        &path,
                        format!(
                            "column {j} '{}' is not one of the model's columns ({}); \
                             remove it",
                            crate::clip(name),
                            want.names.join(", ")
                        ),
                    ));
                }
            }
            if let Some(missing) = want.names.iter().find(|n| !header.contains(&n.as_str())) {
                return Err(error(
                    &path,
                    format!("the model's column '{missing}' is missing"),
                ));
            }
            header
                .iter()
                .map(|name| want.names.iter().position(|n| n == name))
                .collect()
        } else {
            // By position, leaving out the label and time columns (by name, or by
            // index in a file of as many more columns).
            let mut skipped: Vec<usize> = left_out
                .iter()
                .filter_map(|l| {
                    if is_header {
                        first.iter().position(|c| c == *l)
                    } else {
                        l.parse::<usize>().ok().filter(|_| want.names.is_empty())
                    }
                })
                .filter(|&i| i < width)
                .collect();
            if !is_header && width != want.features + skipped.len() {
                skipped.clear();
            }
            let columns = width - skipped.len();
            if columns != want.features {
                let named = if is_header && want.names.is_empty() {
                    " (the training file had no header, so columns are taken by position)"
                } else {
                    ""
                };
                return Err(error(
                    &path,
                    format!(
                        "{columns} feature columns, but the model takes {}{named}",
                        want.features
                    ),
                ));
            }
            let mut next = 0;
            (0..width)
                .map(|j| {
                    (!skipped.contains(&j)).then(|| {
                        next += 1;
                        next - 1
                    })
                })
                .collect()
        };
        Ok(Source::Csv {
            records,
            map,
            line: 2,
            pending: (!is_header).then_some(first),
        })
    }
}
