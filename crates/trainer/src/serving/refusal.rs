//! A refused request: its status and a JSON `{"error": …}` saying what was wrong.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A refusal: its status and what was wrong.
pub struct Refusal(pub StatusCode, pub String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.0, axum::Json(json!({ "error": self.1 }))).into_response();
        // Every 503 is "busy": the client may try again shortly.
        if self.0 == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// `Err` of a refusal.
pub fn refuse<T>(status: StatusCode, message: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(status, message.into()))
}
