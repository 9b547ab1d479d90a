//! The server's own routes (`/v1`, `/health`, `/metrics`) and what every route shares:
//! the token, the count of each request, the deadline, the model by name, the body
//! within its limits, the model's thread.

use std::sync::Arc;
use std::sync::mpsc::TrySendError;
use std::time::Instant;

use ae_infer::Task;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use crate::answers::{Codes, Health, ModelInfo, ModelList, Numbers, Reconstructions, Rows, Scores};
use crate::batch::{Answer, Job};
use crate::body::{InFlight, NPY, Samples, parse, read_body};
use crate::error::{ApiError, ErrorKind, refuse};
use crate::state::{AppState, ModelHandle};

/// Counts every request by route and status, and times it.
pub async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let path = request.uri().path();
    let route = match path {
        "/health" => "health",
        "/metrics" => "metrics",
        "/openapi.json" => "openapi",
        "/v1/models" => "models",
        p if p.starts_with("/v1/models/") => "infer",
        p if p.starts_with("/v2/models/") && p.ends_with("/infer") => "v2_infer",
        p if p.starts_with("/v2") => "v2",
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
    ErrorKind::Unauthorized.because(message).into_response()
}

pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    let models = state.models.keys().map(String::as_str).collect();
    axum::Json(Health {
        status: "ok",
        models,
    })
    .into_response()
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

pub async fn models(State(state): State<Arc<AppState>>) -> Response {
    let models = state
        .models
        .iter()
        .map(|(name, m)| ModelInfo {
            name,
            family: &m.family,
            features: m.features,
            latent: m.latent,
            columns: &m.columns,
            threshold: m.threshold.as_ref(),
        })
        .collect();
    axum::Json(ModelList { models }).into_response()
}

pub async fn not_found() -> Response {
    ErrorKind::NotFound
        .because(
            "no such route: POST /v1/models/NAME/{encode,reconstruct,score}, GET /v1/models, \
             /health, /metrics, /openapi.json; the Open Inference Protocol's \
             /v2/health/{live,ready}, /v2, /v2/models/NAME[/ready], POST /v2/models/NAME/infer",
        )
        .into_response()
}

pub async fn infer(
    State(state): State<Arc<AppState>>,
    Path((name, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    within_deadline(&state, answer(&state, &name, &action, &headers, body)).await
}

/// The answer of `work`, or a 504 once the server's time for a request has passed.
pub(crate) async fn within_deadline(
    state: &AppState,
    work: impl Future<Output = Result<Response, ApiError>>,
) -> Response {
    let timeout = state.limits.timeout;
    // An answer that comes after the deadline is a 504 even when it is ready by then
    // (with a limit of 0 s, every answer): the timer alone fires on its next tick.
    let start = std::time::Instant::now();
    let answered = tokio::select! {
        biased;
        () = tokio::time::sleep(timeout) => None,
        answer = work => (start.elapsed() < timeout).then_some(answer),
    };
    match answered {
        Some(Ok(response)) => response,
        Some(Err(refusal)) => refusal.into_response(),
        None => ErrorKind::Timeout
            .because(format!("no answer within {} s", timeout.as_secs_f64()))
            .into_response(),
    }
}

/// The model served as `name`, or a 404 naming those there are.
pub(crate) fn model_named<'a>(
    state: &'a AppState,
    name: &str,
) -> Result<&'a ModelHandle, ApiError> {
    state.models.get(name).ok_or_else(|| {
        let known: Vec<&str> = state.models.keys().map(String::as_str).collect();
        ErrorKind::ModelNotFound.because(format!(
            "no model '{}': this server has {}",
            ae_data::clip(name),
            known.join(", ")
        ))
    })
}

/// The body of a request to `model`, uncompressed and within the limits, with the
/// bytes it holds of the model's allowance (given back when dropped).
pub(crate) async fn read_request<'a>(
    state: &'a AppState,
    model: &'a ModelHandle,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Vec<u8>, InFlight<'a>), ApiError> {
    if let Some(encoding) = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|e| e != "identity")
    {
        return refuse(
            ErrorKind::UnsupportedMediaType,
            format!(
                "content encoding '{}': send the body uncompressed",
                ae_data::clip(&encoding)
            ),
        );
    }
    let limit = state.limits.max_body;
    let mut held = InFlight {
        model,
        metrics: &state.metrics,
        limit: state.limits.max_in_flight,
        held: 0,
    };
    match read_body(body, limit, &mut held).await? {
        Some(bytes) => Ok((bytes, held)),
        None => refuse(
            ErrorKind::TooLarge,
            format!("the body is larger than the limit of {limit} bytes"),
        ),
    }
}

/// Refuses more samples than a request may hold.
pub(crate) fn check_rows(state: &AppState, n: usize) -> Result<(), ApiError> {
    if n > state.limits.max_rows {
        return refuse(
            ErrorKind::TooLarge,
            format!("{n} samples: at most {} per request", state.limits.max_rows),
        );
    }
    Ok(())
}

/// `task` on `n` samples of `rows`, by the model's thread; counted in the metrics.
pub(crate) async fn submit(
    state: &AppState,
    name: &str,
    model: &ModelHandle,
    task: Task,
    rows: Vec<f32>,
    n: usize,
) -> Result<Answer, ApiError> {
    let (reply, answer) = oneshot::channel();
    let job = Job {
        task,
        rows,
        n,
        reply,
    };
    match model.jobs.try_send(job) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return refuse(ErrorKind::Busy, "the server is busy: try again");
        }
        Err(TrySendError::Disconnected(_)) => {
            return refuse(ErrorKind::ModelUnavailable, "the model is not running");
        }
    }
    let answer = match answer.await {
        Ok(Ok(a)) => a,
        Ok(Err(error)) => return Err(error),
        Err(_) => return refuse(ErrorKind::ModelUnavailable, "the model stopped"),
    };
    state.metrics.samples(name, task.name(), n);
    Ok(answer)
}

async fn answer(
    state: &AppState,
    name: &str,
    action: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let model = model_named(state, name)?;
    let Some(task) = Task::named(action) else {
        return refuse(
            ErrorKind::NotFound,
            format!(
                "no action '{}': expected encode, reconstruct or score",
                ae_data::clip(action)
            ),
        );
    };
    let (bytes, _held) = read_request(state, model, headers, body).await?;
    let mut samples = parse(headers, &bytes, model)?;
    check_rows(state, samples.n)?;
    let rows = std::mem::take(&mut samples.rows);
    let answer = submit(state, name, model, task, rows, samples.n).await?;
    respond(name, model, task, answer, &samples)
}

/// The answer as JSON, or as `.npy` for rows asked as `.npy`.
fn respond(
    name: &str,
    model: &ModelHandle,
    task: Task,
    answer: Answer,
    samples: &Samples,
) -> Result<Response, ApiError> {
    let n = samples.n;
    Ok(match answer {
        Answer::Rows(values) if samples.npy => {
            let width = values.len() / n.max(1);
            let bytes = ae_data::npy::to_bytes(&values, &[n, width])
                .map_err(|e| ErrorKind::Internal.because(e))?;
            ([(header::CONTENT_TYPE, NPY)], bytes).into_response()
        }
        Answer::Rows(values) if task == Task::Encode => axum::Json(Codes {
            model: name,
            codes: Rows::of(values, n),
        })
        .into_response(),
        Answer::Rows(values) => axum::Json(Reconstructions {
            model: name,
            reconstructions: Rows::of(values, n),
        })
        .into_response(),
        Answer::Scores {
            scores,
            anomalous,
            errors,
        } => axum::Json(Scores {
            model: name,
            score: model
                .threshold
                .as_ref()
                .map(|t| t.score)
                .unwrap_or_default(),
            scores: Numbers(&scores),
            threshold: model.threshold.as_ref().map(|t| t.value),
            anomalous: anomalous.as_deref(),
            errors: samples.errors.then(|| Rows::of(errors, n)),
        })
        .into_response(),
    })
}
