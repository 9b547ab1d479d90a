//! The OpenAPI 3.1 document of the server's routes, served at `/openapi.json`: the
//! file `openapi.json` beside this one, checked against the route table, the error
//! kinds and the crate's version by the tests of [`routes`](crate::routes), and read
//! by an OpenAPI validator, every answer checked against its schemas, by the
//! trainer's protocol test.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The document.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub(crate) async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}
