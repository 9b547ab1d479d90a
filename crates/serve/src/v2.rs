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

use ae_infer::Task;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::answers::Numbers;
use crate::batch::Answer;
use crate::error::{ApiError, ErrorKind, refuse};
use crate::state::{AppState, ModelHandle};
use crate::v1::{check_rows, model_named, read_request, submit, within_deadline};

/// The only version of each model.
const VERSION: &str = "1";

/// The outputs a model can give, in the order they are answered, with the task that
/// computes each.
const OUTPUTS: [(&str, Task); 5] = [
    ("codes", Task::Encode),
    ("reconstructions", Task::Reconstruct),
    ("scores", Task::Score),
    ("anomalous", Task::Score),
    ("errors", Task::Score),
];

/// `GET /v2/health/live`.
#[derive(Serialize)]
pub struct Live {
    /// Always true: an answer at all is the news.
    pub live: bool,
}

/// `GET /v2/health/ready`.
#[derive(Serialize)]
pub struct Ready {
    /// True once every model is loaded (the server listens only then).
    pub ready: bool,
}

/// `GET /v2`: the server's metadata.
#[derive(Serialize)]
pub struct ServerMetadata {
    /// The server's name.
    pub name: &'static str,
    /// Its version.
    pub version: &'static str,
    /// The protocol's extensions it speaks: none.
    pub extensions: [&'static str; 0],
}

/// A tensor's name, data type and shape (-1: any number of samples).
#[derive(Serialize)]
pub struct TensorMetadata {
    /// Its name.
    pub name: &'static str,
    /// `FP32`, `FP64` or `BOOL`.
    pub datatype: &'static str,
    /// Its sizes.
    pub shape: Vec<i64>,
}

/// `GET /v2/models/NAME`: a model's metadata.
#[derive(Serialize)]
pub struct ModelMetadata<'a> {
    /// The model's name.
    pub name: &'a str,
    /// Its versions: one.
    pub versions: [&'static str; 1],
    /// `burn_` and its family.
    pub platform: String,
    /// Its one input.
    pub inputs: [TensorMetadata; 1],
    /// The outputs it can give.
    pub outputs: Vec<TensorMetadata>,
}

/// `GET /v2/models/NAME/ready`.
#[derive(Serialize)]
pub struct ModelReady<'a> {
    /// The model's name.
    pub name: &'a str,
    /// Always true: a model is served once it is loaded.
    pub ready: bool,
}

/// The data of an output tensor, flat in row-major order.
pub enum TensorData {
    /// `FP32` values.
    Fp32(Vec<f32>),
    /// `FP64` values.
    Fp64(Vec<f64>),
    /// `BOOL` values.
    Bool(Vec<bool>),
}

impl Serialize for TensorData {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Fp32(v) => Numbers(v).serialize(s),
            Self::Fp64(v) => Numbers(v).serialize(s),
            Self::Bool(v) => v.serialize(s),
        }
    }
}

/// An output tensor of an inference response.
#[derive(Serialize)]
pub struct OutputTensor {
    /// Which output.
    pub name: &'static str,
    /// `FP32`, `FP64` or `BOOL`.
    pub datatype: &'static str,
    /// Its sizes.
    pub shape: Vec<usize>,
    /// Its values.
    pub data: TensorData,
}

/// `POST /v2/models/NAME/infer`.
#[derive(Serialize)]
pub struct InferResponse<'a> {
    /// The request's id, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The model's name.
    pub model_name: &'a str,
    /// Its version.
    pub model_version: &'static str,
    /// The outputs asked for, in the order of [`OUTPUTS`].
    pub outputs: Vec<OutputTensor>,
}

pub(crate) async fn live() -> Response {
    axum::Json(Live { live: true }).into_response()
}

pub(crate) async fn ready() -> Response {
    axum::Json(Ready { ready: true }).into_response()
}

pub(crate) async fn server() -> Response {
    axum::Json(ServerMetadata {
        name: "autoencoders",
        version: env!("CARGO_PKG_VERSION"),
        extensions: [],
    })
    .into_response()
}

/// The outputs of `model`, with their data types and shapes (-1: the samples).
fn outputs_of(model: &ModelHandle) -> Vec<TensorMetadata> {
    let size = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    OUTPUTS
        .iter()
        .filter(|(o, _)| *o != "anomalous" || model.threshold.is_some())
        .map(|&(name, _)| {
            let (datatype, shape) = match name {
                "codes" => ("FP32", vec![-1, size(model.latent)]),
                "scores" => ("FP64", vec![-1]),
                "anomalous" => ("BOOL", vec![-1]),
                _ => ("FP32", vec![-1, size(model.features)]),
            };
            TensorMetadata {
                name,
                datatype,
                shape,
            }
        })
        .collect()
}

fn check_version(version: Option<&str>) -> Result<(), ApiError> {
    match version {
        None | Some(VERSION) => Ok(()),
        Some(v) => refuse(
            ErrorKind::VersionNotFound,
            format!(
                "no version '{}' of the model: it has version {VERSION}",
                ae_data::clip(v)
            ),
        ),
    }
}

fn metadata_of(state: &AppState, name: &str, version: Option<&str>) -> Result<Response, ApiError> {
    let model = model_named(state, name)?;
    check_version(version)?;
    let features = i64::try_from(model.features).unwrap_or(i64::MAX);
    Ok(axum::Json(ModelMetadata {
        name,
        versions: [VERSION],
        platform: format!("burn_{}", model.family),
        inputs: [TensorMetadata {
            name: "input",
            datatype: "FP32",
            shape: vec![-1, features],
        }],
        outputs: outputs_of(model),
    })
    .into_response())
}

pub(crate) async fn metadata(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Response {
    metadata_of(&state, &name, None).unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn metadata_version(
    State(state): State<Arc<AppState>>,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    metadata_of(&state, &name, Some(&version)).unwrap_or_else(IntoResponse::into_response)
}

fn ready_of(state: &AppState, name: &str, version: Option<&str>) -> Result<Response, ApiError> {
    model_named(state, name)?;
    check_version(version)?;
    Ok(axum::Json(ModelReady { name, ready: true }).into_response())
}

pub(crate) async fn model_ready(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Response {
    ready_of(&state, &name, None).unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn model_ready_version(
    State(state): State<Arc<AppState>>,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    ready_of(&state, &name, Some(&version)).unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn infer(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    within_deadline(&state, answer(&state, &name, None, &headers, body)).await
}

pub(crate) async fn infer_version(
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

fn bad(message: String) -> ApiError {
    ErrorKind::InvalidRequest.because(message)
}

/// The numbers of `data`, flat or nested, in row-major order.
fn flatten(data: &Value, out: &mut Vec<f32>) -> Result<(), ApiError> {
    match data {
        Value::Number(n) => {
            let v = n.as_f64().unwrap_or(f64::NAN) as f32;
            if !v.is_finite() {
                return refuse(
                    ErrorKind::InvalidInput,
                    format!(
                        "value {} of the input is not a finite 32-bit number",
                        out.len()
                    ),
                );
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
fn samples(request: &InferRequest, model: &ModelHandle) -> Result<(Vec<f32>, usize), ApiError> {
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
        return refuse(
            ErrorKind::InvalidInput,
            format!(
                "input shape {:?}: expected [n, {}] with n ≥ 1",
                input.shape, model.features
            ),
        );
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

/// The names of the outputs `request` asks for, all when it names none; an unknown
/// name is refused.
fn asked_for(request: &InferRequest, model: &ModelHandle) -> Result<Vec<&'static str>, ApiError> {
    let known: Vec<&'static str> = outputs_of(model).iter().map(|o| o.name).collect();
    match &request.outputs {
        Some(outputs) if !outputs.is_empty() => outputs
            .iter()
            .map(|o| {
                known
                    .iter()
                    .find(|&&k| k == o.name)
                    .copied()
                    .ok_or_else(|| {
                        bad(format!(
                            "no output '{}': this model gives {}",
                            ae_data::clip(&o.name),
                            known.join(", ")
                        ))
                    })
            })
            .collect(),
        _ => Ok(known),
    }
}

async fn answer(
    state: &AppState,
    name: &str,
    version: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let model = model_named(state, name)?;
    check_version(version)?;
    let (bytes, _held) = read_request(state, model, headers, body).await?;
    let request: InferRequest = serde_json::from_slice(&bytes).map_err(|e| {
        bad(format!(
            "not an inference request ({e}): expected {{\"inputs\": [{{\"name\", \"shape\", \
             \"datatype\", \"data\"}}]}}"
        ))
    })?;
    let asked = asked_for(&request, model)?;
    let (rows, n) = samples(&request, model)?;
    check_rows(state, n)?;
    let wants = |o: &str| asked.contains(&o);
    let mut outputs = Vec::new();
    for task in Task::ALL {
        if !OUTPUTS.iter().any(|&(o, t)| t == task && wants(o)) {
            continue;
        }
        match submit(state, name, model, task, rows.clone(), n).await? {
            Answer::Rows(values) => {
                let width = values.len() / n.max(1);
                outputs.push(OutputTensor {
                    name: if task == Task::Encode {
                        "codes"
                    } else {
                        "reconstructions"
                    },
                    datatype: "FP32",
                    shape: vec![n, width],
                    data: TensorData::Fp32(values),
                });
            }
            Answer::Scores {
                scores,
                anomalous,
                errors,
            } => {
                if wants("scores") {
                    outputs.push(OutputTensor {
                        name: "scores",
                        datatype: "FP64",
                        shape: vec![n],
                        data: TensorData::Fp64(scores),
                    });
                }
                if let (true, Some(flags)) = (wants("anomalous"), anomalous) {
                    outputs.push(OutputTensor {
                        name: "anomalous",
                        datatype: "BOOL",
                        shape: vec![n],
                        data: TensorData::Bool(flags),
                    });
                }
                if wants("errors") {
                    let width = errors.len() / n.max(1);
                    outputs.push(OutputTensor {
                        name: "errors",
                        datatype: "FP32",
                        shape: vec![n, width],
                        data: TensorData::Fp32(errors),
                    });
                }
            }
        }
    }
    Ok(axum::Json(InferResponse {
        id: request.id,
        model_name: name,
        model_version: VERSION,
        outputs,
    })
    .into_response())
}
