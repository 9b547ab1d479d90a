//! A request's body: read within its limits and the bytes its model may hold, then
//! parsed and checked as JSON rows or a `.npy` array.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::Ordering;

use axum::body::{Body, HttpBody};
use axum::http::{HeaderMap, header};
use serde::Deserialize;

use crate::error::{ApiError, ErrorKind, refuse};
use crate::state::ModelHandle;

/// The media type of `.npy` bodies.
pub const NPY: &str = "application/x-npy";

/// How much of a body over the limit is still read, and dropped, before the refusal.
const DRAIN: usize = 64 << 20;

/// The request bytes a model holds in memory for one request, given back when the
/// request is answered.
pub(crate) struct InFlight<'a> {
    pub model: &'a ModelHandle,
    pub metrics: &'a crate::metrics::Metrics,
    pub limit: usize,
    pub held: usize,
}

impl InFlight<'_> {
    /// Takes `n` more bytes; `false` (and nothing taken) when the model would then hold
    /// more than its limit.
    fn take(&mut self, n: usize) -> bool {
        let taken = self
            .model
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok();
        if taken {
            self.held += n;
            self.metrics.in_flight(n as i64);
        }
        taken
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.model.in_flight.fetch_sub(self.held, Ordering::AcqRel);
        self.metrics.in_flight(-(self.held as i64));
    }
}

/// The body, or `None` when it is longer than `limit` bytes. The rest of a longer body
/// is read to its end and dropped (up to [`DRAIN`] bytes more), so that a client that
/// sends the whole body before it reads receives the 413 instead of a reset connection.
/// The bytes kept are taken from the model's allowance (`held`); past it, 503.
pub(crate) async fn read_body(
    mut body: Body,
    limit: usize,
    held: &mut InFlight<'_>,
) -> Result<Option<Vec<u8>>, ApiError> {
    let mut kept = Vec::new();
    let mut length = 0usize;
    // Past the model's allowance the rest is read and dropped too, as past the limit.
    let mut busy = false;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            ErrorKind::InvalidRequest.because(format!("the body could not be read: {e}"))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        length = length.saturating_add(data.len());
        if length <= limit && !busy {
            if held.take(data.len()) {
                kept.extend_from_slice(&data);
            } else {
                busy = true;
                kept = Vec::new();
            }
        } else if length > limit.saturating_add(DRAIN) {
            break;
        }
    }
    if busy {
        return refuse(
            ErrorKind::Busy,
            format!(
                "the model holds {} bytes of requests, its limit: try again",
                held.limit
            ),
        );
    }
    Ok((length <= limit).then_some(kept))
}

/// A JSON request: rows as arrays of numbers, or objects of column name → number.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRequest {
    inputs: Vec<JsonRow>,
    /// With score: each feature's squared error too.
    #[serde(default)]
    errors: bool,
}

enum JsonRow {
    Values(Vec<f32>),
    Named(BTreeMap<String, f32>),
}

/// A row is an array of numbers or an object of column name → number in which no
/// name comes twice (JSON allows it; which value would be meant does not follow).
impl<'de> Deserialize<'de> for JsonRow {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Row;
        impl<'de> serde::de::Visitor<'de> for Row {
            type Value = JsonRow;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of numbers or an object of column name: number")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<JsonRow, A::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(v) = seq.next_element::<f32>()? {
                    values.push(v);
                }
                Ok(JsonRow::Values(values))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonRow, A::Error> {
                let mut row = BTreeMap::new();
                while let Some((name, value)) = map.next_entry::<String, f32>()? {
                    if row.contains_key(&name) {
                        return Err(serde::de::Error::custom(format!(
                            "the column '{}' comes twice in one row",
                            ae_data::clip(&name)
                        )));
                    }
                    row.insert(name, value);
                }
                Ok(JsonRow::Named(row))
            }
        }
        deserializer.deserialize_any(Row)
    }
}

/// The samples of a request, checked.
pub(crate) struct Samples {
    pub rows: Vec<f32>,
    pub n: usize,
    pub errors: bool,
    pub npy: bool,
}

/// The samples of a JSON or `.npy` body.
pub(crate) fn parse(
    headers: &HeaderMap,
    bytes: &[u8],
    model: &ModelHandle,
) -> Result<Samples, ApiError> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let features = model.features;
    let (rows, errors, npy) = match kind.as_deref() {
        None | Some("application/json") => {
            let request: JsonRequest = serde_json::from_slice(bytes).map_err(|e| {
                ErrorKind::InvalidRequest.because(format!(
                    "not a valid request ({e}): expected {{\"inputs\": [[number, …], …]}} \
                     or rows as objects of column: number"
                ))
            })?;
            let mut rows = Vec::with_capacity(request.inputs.len() * features);
            for (i, row) in request.inputs.iter().enumerate() {
                match row {
                    JsonRow::Values(v) if v.len() == features => rows.extend_from_slice(v),
                    JsonRow::Values(v) => {
                        return refuse(
                            ErrorKind::InvalidInput,
                            format!(
                                "input {i} has {} values; the model takes {features}",
                                v.len()
                            ),
                        );
                    }
                    JsonRow::Named(map) => rows.extend(named_row(i, map, model)?),
                }
            }
            (rows, request.errors, false)
        }
        Some(NPY) | Some("application/octet-stream") => {
            let array = ae_data::npy::parse(bytes).map_err(|e| {
                ErrorKind::InvalidRequest.because(format!("not a valid .npy body: {e}"))
            })?;
            if array.shape.len() != 2 || array.shape[1] != features {
                return refuse(
                    ErrorKind::InvalidInput,
                    format!(
                        "an array of shape {:?}: expected [samples, {features}]",
                        array.shape
                    ),
                );
            }
            let rows = array.values.iter().map(|&v| v as f32).collect();
            (rows, false, true)
        }
        Some(other) => {
            return refuse(
                ErrorKind::UnsupportedMediaType,
                format!(
                    "content type {other}: expected application/json or {NPY} (with curl: -H 'Content-Type: application/json')"
                ),
            );
        }
    };
    let n = rows.len() / features.max(1);
    if n == 0 {
        return refuse(ErrorKind::InvalidInput, "no samples: inputs is empty");
    }
    if let Some(i) = rows.iter().position(|v| !v.is_finite()) {
        return refuse(
            ErrorKind::InvalidInput,
            format!(
                "input {}, feature {}: {} is not a finite number",
                i / features,
                i % features,
                rows[i]
            ),
        );
    }
    Ok(Samples {
        rows,
        n,
        errors,
        npy,
    })
}

/// A row given by column names, in the model's column order.
fn named_row(
    i: usize,
    map: &BTreeMap<String, f32>,
    model: &ModelHandle,
) -> Result<Vec<f32>, ApiError> {
    if model.columns.is_empty() {
        return refuse(
            ErrorKind::InvalidInput,
            format!(
                "input {i} names its columns, and this model's columns have no names: send arrays"
            ),
        );
    }
    if let Some(extra) = map.keys().find(|k| !model.columns.contains(k)) {
        return refuse(
            ErrorKind::InvalidInput,
            format!("input {i}: '{extra}' is not one of the model's columns"),
        );
    }
    model
        .columns
        .iter()
        .map(|c| {
            map.get(c).copied().ok_or_else(|| {
                ErrorKind::InvalidInput
                    .because(format!("input {i}: the model's column '{c}' is missing"))
            })
        })
        .collect()
}
