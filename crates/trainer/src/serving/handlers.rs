//! The routes: requests parsed and checked, answers as JSON (or `.npy`), every refusal
//! a JSON error with its status code.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc::TrySendError;
use std::time::Instant;

use axum::body::{Body, HttpBody};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::oneshot;

use super::batch::{Answer, Job};
use super::{AppState, ModelHandle};
use crate::apply::Task;

/// The media type of `.npy` bodies.
pub const NPY: &str = "application/x-npy";

/// A refusal: its status and what was wrong.
pub struct Refusal(pub StatusCode, pub String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "error": self.1 }))).into_response()
    }
}

fn refuse<T>(status: StatusCode, message: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(status, message.into()))
}

/// How much of a body over the limit is still read, and dropped, before the refusal.
const DRAIN: usize = 64 << 20;

/// The body, or `None` when it is longer than `limit` bytes. The rest of a longer body
/// is read to its end and dropped (up to [`DRAIN`] bytes more), so that a client that
/// sends the whole body before it reads receives the 413 instead of a reset connection.
async fn read_body(mut body: Body, limit: usize) -> Result<Option<Vec<u8>>, Refusal> {
    let mut kept = Vec::new();
    let mut length = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            Refusal(
                StatusCode::BAD_REQUEST,
                format!("the body could not be read: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        length = length.saturating_add(data.len());
        if length <= limit {
            kept.extend_from_slice(&data);
        } else if length > limit.saturating_add(DRAIN) {
            break;
        }
    }
    Ok((length <= limit).then_some(kept))
}

/// Counts every request by route and status, and times it.
pub async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let path = request.uri().path();
    let route = match path {
        "/health" => "health",
        "/metrics" => "metrics",
        "/v1/models" => "models",
        p if p.starts_with("/v1/models/") => "infer",
        _ => "other",
    };
    let response = next.run(request).await;
    state
        .metrics
        .request(route, response.status().as_u16(), start.elapsed());
    response
}

/// Lets through only requests that carry the token, when one is required.
pub async fn authorize(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    if state.exposure.admits(presented) {
        return next.run(request).await;
    }
    let message = if presented.is_some() {
        "the bearer token is wrong"
    } else {
        "this server requires a token: send Authorization: Bearer TOKEN"
    };
    let mut response = Refusal(StatusCode::UNAUTHORIZED, message.into()).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    let names: Vec<&String> = state.models.keys().collect();
    axum::Json(json!({ "status": "ok", "models": names })).into_response()
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

pub async fn models(State(state): State<Arc<AppState>>) -> Response {
    let list: Vec<_> = state
        .models
        .iter()
        .map(|(name, m)| {
            json!({
                "name": name,
                "family": m.family,
                "features": m.features,
                "latent": m.latent,
                "columns": m.columns,
                "threshold": m.threshold,
            })
        })
        .collect();
    axum::Json(json!({ "models": list })).into_response()
}

pub async fn not_found() -> Response {
    Refusal(
        StatusCode::NOT_FOUND,
        "no such route: POST /v1/models/NAME/{encode,reconstruct,score}, GET /v1/models, \
         /health, /metrics"
            .into(),
    )
    .into_response()
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

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonRow {
    Values(Vec<f32>),
    Named(BTreeMap<String, f32>),
}

/// The samples of a request, checked.
struct Samples {
    rows: Vec<f32>,
    n: usize,
    errors: bool,
    npy: bool,
}

pub async fn infer(
    State(state): State<Arc<AppState>>,
    Path((name, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let timeout = state.limits.timeout;
    // An answer that comes after the deadline is a 504 even when it is ready by then
    // (with a limit of 0 s, every answer): the timer alone fires on its next tick.
    let start = std::time::Instant::now();
    let answered = tokio::select! {
        biased;
        () = tokio::time::sleep(timeout) => None,
        answer = answer(&state, &name, &action, &headers, body) => {
            (start.elapsed() < timeout).then_some(answer)
        }
    };
    match answered {
        Some(Ok(response)) => response,
        Some(Err(refusal)) => refusal.into_response(),
        None => Refusal(
            StatusCode::GATEWAY_TIMEOUT,
            format!("no answer within {} s", timeout.as_secs_f64()),
        )
        .into_response(),
    }
}

async fn answer(
    state: &AppState,
    name: &str,
    action: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let Some(model) = state.models.get(name) else {
        let known: Vec<&str> = state.models.keys().map(String::as_str).collect();
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no model '{name}': this server has {}", known.join(", ")),
        );
    };
    let task = match action {
        "encode" => Task::Encode,
        "reconstruct" => Task::Reconstruct,
        "score" => Task::Score,
        _ => {
            return refuse(
                StatusCode::NOT_FOUND,
                format!("no action '{action}': expected encode, reconstruct or score"),
            );
        }
    };
    let limit = state.limits.max_body;
    let Some(bytes) = read_body(body, limit).await? else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than the limit of {limit} bytes"),
        );
    };
    let mut samples = parse(headers, &bytes, model)?;
    if samples.n > state.limits.max_rows {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{} samples: at most {} per request",
                samples.n, state.limits.max_rows
            ),
        );
    }
    let (reply, answer) = oneshot::channel();
    let job = Job {
        task,
        rows: std::mem::take(&mut samples.rows),
        n: samples.n,
        reply,
    };
    match model.jobs.try_send(job) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is busy: try again",
            );
        }
        Err(TrySendError::Disconnected(_)) => {
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "the model is not running");
        }
    }
    let answer = match answer.await {
        Ok(Ok(a)) => a,
        Ok(Err(message)) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, message),
        Err(_) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "the model stopped"),
    };
    state.metrics.samples(name, action_name(task), samples.n);
    Ok(respond(name, model, task, answer, &samples))
}

fn action_name(task: Task) -> &'static str {
    match task {
        Task::Encode => "encode",
        Task::Reconstruct => "reconstruct",
        Task::Score => "score",
    }
}

/// The samples of a JSON or `.npy` body.
fn parse(headers: &HeaderMap, bytes: &[u8], model: &ModelHandle) -> Result<Samples, Refusal> {
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
                Refusal(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "not a valid request ({e}): expected {{\"inputs\": [[number, …], …]}} \
                         or rows as objects of column: number"
                    ),
                )
            })?;
            let mut rows = Vec::with_capacity(request.inputs.len() * features);
            for (i, row) in request.inputs.iter().enumerate() {
                match row {
                    JsonRow::Values(v) if v.len() == features => rows.extend_from_slice(v),
                    JsonRow::Values(v) => {
                        return refuse(
                            StatusCode::UNPROCESSABLE_ENTITY,
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
            let array = ae_data::table::parse_npy(bytes).map_err(|e| {
                Refusal(
                    StatusCode::BAD_REQUEST,
                    format!("not a valid .npy body: {e}"),
                )
            })?;
            if array.shape.len() != 2 || array.shape[1] != features {
                return refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
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
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "content type {other}: expected application/json or {NPY} (with curl: -H 'Content-Type: application/json')"
                ),
            );
        }
    };
    let n = rows.len() / features.max(1);
    if n == 0 {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no samples: inputs is empty",
        );
    }
    if let Some(i) = rows.iter().position(|v| !v.is_finite()) {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
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
) -> Result<Vec<f32>, Refusal> {
    if model.columns.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "input {i} names its columns, and this model's columns have no names: send arrays"
            ),
        );
    }
    if let Some(extra) = map.keys().find(|k| !model.columns.contains(k)) {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("input {i}: '{extra}' is not one of the model's columns"),
        );
    }
    model
        .columns
        .iter()
        .map(|c| {
            map.get(c).copied().ok_or_else(|| {
                Refusal(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("input {i}: the model's column '{c}' is missing"),
                )
            })
        })
        .collect()
}

/// The answer as JSON, or as `.npy` for rows asked as `.npy`.
fn respond(
    name: &str,
    model: &ModelHandle,
    task: Task,
    answer: Answer,
    samples: &Samples,
) -> Response {
    let n = samples.n;
    fn rows(values: &[f32], n: usize) -> Vec<&[f32]> {
        let width = values.len() / n.max(1);
        values.chunks(width.max(1)).collect()
    }
    match answer {
        Answer::Rows(values) if samples.npy => {
            let width = values.len() / n.max(1);
            match crate::export::npy_bytes(&values, &[n, width]) {
                Ok(bytes) => ([(header::CONTENT_TYPE, NPY)], bytes).into_response(),
                Err(e) => Refusal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
            }
        }
        Answer::Rows(values) => {
            let key = match task {
                Task::Encode => "codes",
                _ => "reconstructions",
            };
            axum::Json(json!({ "model": name, key: rows(&values, n) })).into_response()
        }
        Answer::Scores {
            scores,
            anomalous,
            errors: squared,
        } => {
            let mut body = json!({
                "model": name,
                "score": model.threshold.as_ref().map(|t| t.score).unwrap_or_default(),
                "scores": scores,
                "threshold": model.threshold.as_ref().map(|t| t.value),
                "anomalous": anomalous,
            });
            if samples.errors {
                body["errors"] = json!(rows(&squared, n));
            }
            axum::Json(body).into_response()
        }
    }
}
