//! The Open Inference Protocol (KServe's v2, which Triton, KServe, Seldon and
//! MLServer speak), beside the server's own routes, so that any of its clients can
//! call the models:
//!
//! ```text
//! GET  /v2/health/live, /v2/health/ready     liveness and readiness (no token needed)
//! GET  /v2                                   the server's name, version, extensions
//! GET  /v2/models/NAME[/versions/1]          the model's metadata: its input and outputs
//! GET  /v2/models/NAME[/versions/1]/ready
//! POST /v2/models/NAME[/versions/1]/infer    {"inputs": [{"name": "input", "datatype": "FP32",
//!                                              "shape": [n, features], "data": […]}],
//!                                             "outputs": [{"name": "scores"}, …]}
//! ```
//!
//! One input tensor, FP32 (or FP64), of shape `[n, features]` (or `[n, …]` whose
//! trailing sizes multiply to the features: `[n, 1, 28, 28]` for images), its data flat
//! or nested in row-major order. The outputs asked for by name, all when none is:
//! `codes` `[n, latent]` FP32, `reconstructions` `[n, features]` FP32, `scores` `[n]`
//! FP64, `errors` `[n, features]` FP32 and, with a saved threshold, `anomalous` `[n]`
//! BOOL. Requests share the model calls, limits and token of the server's own routes;
//! errors are `{"error": …}` with their status.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::batch::Answer;
use super::handlers::{
    check_rows, json_number, model_named, read_request, submit, within_deadline,
};
use super::refusal::{Refusal, refuse};
use super::{AppState, ModelHandle};
use crate::applications::apply::Task;

/// The only version of each model.
const VERSION: &str = "1";

/// The outputs a model can give, in the order they are answered.
const OUTPUTS: [&str; 5] = ["codes", "reconstructions", "scores", "anomalous", "errors"];

pub async fn live() -> Response {
    axum::Json(json!({ "live": true })).into_response()
}

pub async fn ready() -> Response {
    axum::Json(json!({ "ready": true })).into_response()
}

pub async fn server() -> Response {
    axum::Json(json!({
        "name": "autoencoders",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": [],
    }))
    .into_response()
}

/// The outputs of `model`, with their data types and shapes (-1: the samples).
fn outputs_of(model: &ModelHandle) -> Vec<Value> {
    OUTPUTS
        .iter()
        .filter(|&&o| o != "anomalous" || model.threshold.is_some())
        .map(|&name| {
            let (datatype, shape) = match name {
                "codes" => ("FP32", json!([-1, model.latent])),
                "scores" => ("FP64", json!([-1])),
                "anomalous" => ("BOOL", json!([-1])),
                _ => ("FP32", json!([-1, model.features])),
            };
            json!({ "name": name, "datatype": datatype, "shape": shape })
        })
        .collect()
}

fn check_version(version: Option<&str>) -> Result<(), Refusal> {
    match version {
        None | Some(VERSION) => Ok(()),
        Some(v) => refuse(
            StatusCode::NOT_FOUND,
            format!(
                "no version '{}' of the model: it has version {VERSION}",
                ae_data::clip(v)
            ),
        ),
    }
}

fn metadata_of(state: &AppState, name: &str, version: Option<&str>) -> Result<Response, Refusal> {
    let model = model_named(state, name)?;
    check_version(version)?;
    Ok(axum::Json(json!({
        "name": name,
        "versions": [VERSION],
        "platform": format!("burn_{}", model.family),
        "inputs": [{ "name": "input", "datatype": "FP32", "shape": [-1, model.features] }],
        "outputs": outputs_of(model),
    }))
    .into_response())
}

pub async fn metadata(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    metadata_of(&state, &name, None).unwrap_or_else(IntoResponse::into_response)
}

pub async fn metadata_version(
    State(state): State<Arc<AppState>>,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    metadata_of(&state, &name, Some(&version)).unwrap_or_else(IntoResponse::into_response)
}

fn ready_of(state: &AppState, name: &str, version: Option<&str>) -> Result<Response, Refusal> {
    model_named(state, name)?;
    check_version(version)?;
    Ok(axum::Json(json!({ "name": name, "ready": true })).into_response())
}

pub async fn model_ready(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    ready_of(&state, &name, None).unwrap_or_else(IntoResponse::into_response)
}

pub async fn model_ready_version(
    State(state): State<Arc<AppState>>,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    ready_of(&state, &name, Some(&version)).unwrap_or_else(IntoResponse::into_response)
}

pub async fn infer(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    within_deadline(&state, answer(&state, &name, None, &headers, body)).await
}

pub async fn infer_version(
    State(state): State<Arc<AppState>>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    within_deadline(
        &state,
        answer(&state, &name, Some(&version), &headers, body),
    )
    .await
}

/// An inference request (the protocol's fields this server reads; others are let be).
#[derive(Deserialize)]
struct InferRequest {
    #[serde(default)]
    id: Option<String>,
    inputs: Vec<InputTensor>,
    #[serde(default)]
    outputs: Option<Vec<RequestedOutput>>,
}

#[derive(Deserialize)]
struct InputTensor {
    name: String,
    shape: Vec<i64>,
    datatype: String,
    data: Value,
}

#[derive(Deserialize)]
struct RequestedOutput {
    name: String,
}

fn bad(message: String) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, message)
}

/// The numbers of `data`, flat or nested, in row-major order.
fn flatten(data: &Value, out: &mut Vec<f32>) -> Result<(), Refusal> {
    match data {
        Value::Number(n) => {
            let v = n.as_f64().unwrap_or(f64::NAN) as f32;
            if !v.is_finite() {
                return Err(Refusal(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "value {} of the input is not a finite 32-bit number",
                        out.len()
                    ),
                ));
            }
            out.push(v);
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|item| flatten(item, out)),
        other => Err(bad(format!(
            "the input's data holds {}: expected numbers",
            ae_data::clip(&other.to_string())
        ))),
    }
}

/// The samples of the request's one input tensor, checked against the model.
fn samples(request: &InferRequest, model: &ModelHandle) -> Result<(Vec<f32>, usize), Refusal> {
    let [input] = &request.inputs[..] else {
        return Err(bad(format!(
            "{} input tensors: the model takes one, [n, {}] FP32",
            request.inputs.len(),
            model.features
        )));
    };
    if !matches!(input.datatype.as_str(), "FP32" | "FP64") {
        return Err(bad(format!(
            "input '{}' is {}: expected FP32 (or FP64)",
            ae_data::clip(&input.name),
            ae_data::clip(&input.datatype)
        )));
    }
    let sizes: Option<Vec<usize>> = input
        .shape
        .iter()
        .map(|&d| usize::try_from(d).ok())
        .collect();
    let (n, rest) = match sizes.as_deref() {
        Some([n, rest @ ..]) if !rest.is_empty() => (*n, rest.iter().product::<usize>()),
        _ => (0, 0),
    };
    if rest != model.features || n == 0 {
        return Err(Refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "input shape {:?}: expected [n, {}] with n ≥ 1",
                input.shape, model.features
            ),
        ));
    }
    let mut rows = Vec::with_capacity(n.saturating_mul(rest).min(1 << 24));
    flatten(&input.data, &mut rows)?;
    if rows.len() != n * rest {
        return Err(bad(format!(
            "the input's data holds {} values; its shape {:?} says {}",
            rows.len(),
            input.shape,
            n * rest
        )));
    }
    Ok((rows, n))
}

/// An output tensor of the answer.
fn tensor(name: &str, datatype: &str, shape: Vec<usize>, data: Value) -> Value {
    json!({ "name": name, "datatype": datatype, "shape": shape, "data": data })
}

fn flat(values: &[f32]) -> Value {
    values.iter().map(|&v| json_number(f64::from(v))).collect()
}

async fn answer(
    state: &AppState,
    name: &str,
    version: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let model = model_named(state, name)?;
    check_version(version)?;
    let (bytes, _held) = read_request(state, model, headers, body).await?;
    let request: InferRequest = serde_json::from_slice(&bytes).map_err(|e| {
        bad(format!(
            "not an inference request ({e}): expected {{\"inputs\": [{{\"name\", \"shape\", \
             \"datatype\", \"data\"}}]}}"
        ))
    })?;
    let known = outputs_of(model);
    let asked: Vec<String> = match &request.outputs {
        Some(outputs) if !outputs.is_empty() => outputs.iter().map(|o| o.name.clone()).collect(),
        _ => known
            .iter()
            .filter_map(|o| o["name"].as_str().map(String::from))
            .collect(),
    };
    if let Some(unknown) = asked
        .iter()
        .find(|a| !known.iter().any(|o| o["name"] == a.as_str()))
    {
        let names: Vec<&str> = known.iter().filter_map(|o| o["name"].as_str()).collect();
        return Err(bad(format!(
            "no output '{}': this model gives {}",
            ae_data::clip(unknown),
            names.join(", ")
        )));
    }
    let (rows, n) = samples(&request, model)?;
    check_rows(state, n)?;
    let wants = |o: &str| asked.iter().any(|a| a == o);
    let mut outputs = Vec::new();
    for (task, gives) in [
        (Task::Encode, &["codes"][..]),
        (Task::Reconstruct, &["reconstructions"][..]),
        (Task::Score, &["scores", "anomalous", "errors"][..]),
    ] {
        if !gives.iter().any(|o| wants(o)) {
            continue;
        }
        match submit(state, name, model, task, rows.clone(), n).await? {
            Answer::Rows(values) => {
                let width = values.len() / n.max(1);
                outputs.push(tensor(gives[0], "FP32", vec![n, width], flat(&values)));
            }
            Answer::Scores {
                scores,
                anomalous,
                errors,
            } => {
                if wants("scores") {
                    let data: Value = scores.iter().map(|&s| json_number(s)).collect();
                    outputs.push(tensor("scores", "FP64", vec![n], data));
                }
                if let (true, Some(flags)) = (wants("anomalous"), anomalous) {
                    outputs.push(tensor("anomalous", "BOOL", vec![n], json!(flags)));
                }
                if wants("errors") {
                    let width = errors.len() / n.max(1);
                    outputs.push(tensor("errors", "FP32", vec![n, width], flat(&errors)));
                }
            }
        }
    }
    let mut body = json!({ "model_name": name, "model_version": VERSION, "outputs": outputs });
    if let Some(id) = request.id {
        body["id"] = json!(id);
    }
    Ok(axum::Json(body).into_response())
}
