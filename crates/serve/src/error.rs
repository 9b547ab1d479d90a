//! What can go wrong: a refused request ([`ApiError`], its [`ErrorKind`] mapped to an
//! HTTP status here and nowhere else) and a server that cannot start ([`StartError`]).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Why a request was refused: the `kind` of every error answer, for a client to act on
/// without reading the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No token, or a wrong one (401).
    Unauthorized,
    /// No such route or action (404).
    NotFound,
    /// No model of that name (404).
    ModelNotFound,
    /// No such version of the model (404).
    VersionNotFound,
    /// Another content type, or a compressed body (415).
    UnsupportedMediaType,
    /// A body that cannot be read or parsed as the request it should be (400).
    InvalidRequest,
    /// A well-formed request whose samples the model cannot take: their number of
    /// features, values that are not finite, missing or unknown columns, none at all (422).
    InvalidInput,
    /// A body or a number of samples over the server's limit (413).
    TooLarge,
    /// The queue or the model's request bytes are full: try again shortly (503, with
    /// `Retry-After`).
    Busy,
    /// The model's thread is not running (503, with `Retry-After`).
    ModelUnavailable,
    /// No answer within the server's time for a request (504).
    Timeout,
    /// A fault of the server's (500).
    Internal,
}

impl ErrorKind {
    /// Every kind, in the order of the OpenAPI document's list.
    pub const ALL: [Self; 12] = [
        Self::Unauthorized,
        Self::NotFound,
        Self::ModelNotFound,
        Self::VersionNotFound,
        Self::UnsupportedMediaType,
        Self::InvalidRequest,
        Self::InvalidInput,
        Self::TooLarge,
        Self::Busy,
        Self::ModelUnavailable,
        Self::Timeout,
        Self::Internal,
    ];

    /// The HTTP status it is answered with: the one table of them.
    pub fn status(self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound | Self::ModelNotFound | Self::VersionNotFound => StatusCode::NOT_FOUND,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Busy | Self::ModelUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Its name in answers (`"busy"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::ModelNotFound => "model_not_found",
            Self::VersionNotFound => "version_not_found",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidInput => "invalid_input",
            Self::TooLarge => "too_large",
            Self::Busy => "busy",
            Self::ModelUnavailable => "model_unavailable",
            Self::Timeout => "timeout",
            Self::Internal => "internal",
        }
    }

    /// A refusal of this kind saying `message`.
    pub fn because(self, message: impl Into<String>) -> ApiError {
        ApiError {
            kind: self,
            message: message.into(),
        }
    }
}

/// A refused request, answered as `{"error": message, "kind": kind}` with the
/// kind's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// What was wrong and what was expected.
    #[serde(rename = "error")]
    pub message: String,
    /// Why, for machines.
    pub kind: ErrorKind,
}

impl ApiError {
    /// The body of the answer.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.kind.status();
        let mut response = (status, axum::Json(&self)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // The client may try again shortly.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.kind == ErrorKind::Unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// `Err` of a refusal of `kind` saying `message`.
pub(crate) fn refuse<T>(kind: ErrorKind, message: impl Into<String>) -> Result<T, ApiError> {
    Err(kind.because(message))
}

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Who may reach it is not settled safely ([`Exposure::check`](crate::Exposure::check)).
    #[error(transparent)]
    Exposure(#[from] crate::exposure::ExposureError),
    /// No model was given.
    #[error("no model to serve")]
    NoModel,
    /// A model's name cannot be part of a route, or two models share it.
    #[error("model '{name}': {problem}")]
    ModelName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A model's artifact could not be opened or its model built.
    #[error("model {name}: {source}")]
    Model {
        /// The model's name.
        name: String,
        /// What went wrong.
        source: ae_infer::InferError,
    },
    /// The socket, a thread or the runtime could not be set up.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// A thread of the server stopped by panicking.
    #[error("the {0} thread panicked")]
    Panicked(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_status_and_its_name_in_answers() {
        let mut names = std::collections::BTreeSet::new();
        for kind in ErrorKind::ALL {
            let json = serde_json::to_value(kind).expect("a kind serialises");
            assert_eq!(json, kind.name(), "{kind:?}");
            assert!(names.insert(kind.name()), "{} twice", kind.name());
            let status = kind.status();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{kind:?}"
            );
            let response = kind.because("why").into_response();
            assert_eq!(response.status(), status);
            assert_eq!(
                response.headers().contains_key(header::RETRY_AFTER),
                status == StatusCode::SERVICE_UNAVAILABLE,
                "{kind:?}"
            );
        }
        let error = ErrorKind::Busy.because("full");
        let body: serde_json::Value =
            serde_json::from_str(&error.to_json()).expect("the body is JSON");
        assert_eq!(body, serde_json::json!({"error": "full", "kind": "busy"}));
        let back: ApiError = serde_json::from_value(body).expect("a client reads it back");
        assert_eq!(back, error);
    }
}
