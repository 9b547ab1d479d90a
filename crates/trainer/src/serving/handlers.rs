//! The routes: requests parsed and checked, answers as JSON (or `.npy`), every refusal
//! a JSON error with its status code.

use std::sync::Arc;
use std::sync::mpsc::TrySendError;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::oneshot;

use super::batch::{Answer, Job};
use super::body::{InFlight, NPY, Samples, parse, read_body};
use super::refusal::{Refusal, refuse};
use super::{AppState, ModelHandle};
use crate::applications::apply::Task;

/// Counts every request by route and status, and times it.
pub async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let path = request.uri().path();
    let route = match path {
        "/health" => "health",
        "/metrics" => "metrics",
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
         /health, /metrics; the Open Inference Protocol's /v2/health/{live,ready}, /v2, \
         /v2/models/NAME[/ready], POST /v2/models/NAME/infer"
            .into(),
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
pub(super) async fn within_deadline(
    state: &AppState,
    work: impl Future<Output = Result<Response, Refusal>>,
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
        None => Refusal(
            StatusCode::GATEWAY_TIMEOUT,
            format!("no answer within {} s", timeout.as_secs_f64()),
        )
        .into_response(),
    }
}

/// The model served as `name`, or a 404 naming those there are.
pub(super) fn model_named<'a>(state: &'a AppState, name: &str) -> Result<&'a ModelHandle, Refusal> {
    state.models.get(name).ok_or_else(|| {
        let known: Vec<&str> = state.models.keys().map(String::as_str).collect();
        Refusal(
            StatusCode::NOT_FOUND,
            format!("no model '{name}': this server has {}", known.join(", ")),
        )
    })
}

/// The body of a request to `model`, uncompressed and within the limits, with the
/// bytes it holds of the model's allowance (given back when dropped).
pub(super) async fn read_request<'a>(
    state: &'a AppState,
    model: &'a ModelHandle,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Vec<u8>, InFlight<'a>), Refusal> {
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
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
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
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than the limit of {limit} bytes"),
        ),
    }
}

/// Refuses more samples than a request may hold.
pub(super) fn check_rows(state: &AppState, n: usize) -> Result<(), Refusal> {
    if n > state.limits.max_rows {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{n} samples: at most {} per request", state.limits.max_rows),
        );
    }
    Ok(())
}

/// `task` on `n` samples of `rows`, by the model's thread; counted in the metrics.
pub(super) async fn submit(
    state: &AppState,
    name: &str,
    model: &ModelHandle,
    task: Task,
    rows: Vec<f32>,
    n: usize,
) -> Result<Answer, Refusal> {
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
    state.metrics.samples(name, action_name(task), n);
    Ok(answer)
}

async fn answer(
    state: &AppState,
    name: &str,
    action: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let model = model_named(state, name)?;
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
    let (bytes, _held) = read_request(state, model, headers, body).await?;
    let mut samples = parse(headers, &bytes, model)?;
    check_rows(state, samples.n)?;
    let rows = std::mem::take(&mut samples.rows);
    let answer = submit(state, name, model, task, rows, samples.n).await?;
    Ok(respond(name, model, task, answer, &samples))
}

fn action_name(task: Task) -> &'static str {
    match task {
        Task::Encode => "encode",
        Task::Reconstruct => "reconstruct",
        Task::Score => "score",
    }
}

/// A number as JSON: finite ones as numbers; NaN and the infinities, which JSON has no
/// numbers for, as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (the tokens
/// JavaScript, Python and Jackson print), never as `null`.
pub fn json_number(v: f64) -> serde_json::Value {
    match serde_json::Number::from_f64(v) {
        Some(n) => serde_json::Value::Number(n),
        None if v.is_nan() => "NaN".into(),
        None if v > 0.0 => "Infinity".into(),
        None => "-Infinity".into(),
    }
}

/// Rows of `values`, `n` of them, as JSON arrays ([`json_number`]).
pub(super) fn json_rows(values: &[f32], n: usize) -> serde_json::Value {
    let width = values.len() / n.max(1);
    values
        .chunks(width.max(1))
        .map(|row| {
            row.iter()
                .map(|&v| json_number(f64::from(v)))
                .collect::<serde_json::Value>()
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
    match answer {
        Answer::Rows(values) if samples.npy => {
            let width = values.len() / n.max(1);
            match ae_data::npy::to_bytes(&values, &[n, width]) {
                Ok(bytes) => ([(header::CONTENT_TYPE, NPY)], bytes).into_response(),
                Err(e) => Refusal(StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
            }
        }
        Answer::Rows(values) => {
            let key = match task {
                Task::Encode => "codes",
                _ => "reconstructions",
            };
            axum::Json(json!({ "model": name, key: json_rows(&values, n) })).into_response()
        }
        Answer::Scores {
            scores,
            anomalous,
            errors: squared,
        } => {
            let scores: Vec<serde_json::Value> = scores.into_iter().map(json_number).collect();
            let mut body = json!({
                "model": name,
                "score": model.threshold.as_ref().map(|t| t.score).unwrap_or_default(),
                "scores": scores,
                "threshold": model.threshold.as_ref().map(|t| t.value),
                "anomalous": anomalous,
            });
            if samples.errors {
                body["errors"] = json_rows(&squared, n);
            }
            axum::Json(body).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::json_number;

    #[test]
    fn json_tells_nan_from_the_infinities() {
        assert_eq!(json_number(1.5), serde_json::json!(1.5));
        assert_eq!(json_number(f64::NAN), serde_json::json!("NaN"));
        assert_eq!(json_number(f64::INFINITY), serde_json::json!("Infinity"));
        assert_eq!(
            json_number(f64::NEG_INFINITY),
            serde_json::json!("-Infinity")
        );
    }
}
