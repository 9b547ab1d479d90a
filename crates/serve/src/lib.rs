//! An HTTP inference server for trained autoencoders, as a library: a service of your
//! own starts it on the backend it chooses, and `trainer inference-server` is its
//! flags plus one call. Models answer encode, reconstruct and score requests by name,
//! on the server's own routes and on the Open Inference Protocol (KServe v2, which
//! Triton, KServe, Seldon and MLServer speak):
//!
//! ```text
//! POST /v1/models/NAME/encode       {"inputs": [[x, …], …]}  →  {"codes": [[z, …], …]}
//! POST /v1/models/NAME/reconstruct  {"inputs": …}            →  {"reconstructions": …}
//! POST /v1/models/NAME/score        {"inputs": …, "errors": true}
//!                                   →  {"scores": […], "threshold": t, "anomalous": […], "errors": …}
//! GET  /v1/models                   each model's features, code size, columns, threshold
//! GET  /health                      {"status": "ok", "models": […]}  (no token needed)
//! GET  /metrics                     Prometheus text: requests, errors, latency, batch sizes
//! GET  /openapi.json                the OpenAPI 3.1 document of every route (no token needed)
//! GET  /v2/health/{live,ready}, /v2, /v2/models/NAME[/ready], POST /v2/models/NAME/infer
//! ```
//!
//! Rows are arrays of the model's features in its units (pixels in `[0, 1]`, a table's
//! values as in its file, standardised by the server) or, for a table model trained on
//! a CSV file with a header, objects of column name → value. A `.npy` body
//! (`Content-Type: application/x-npy`, a 2-D array) is answered in `.npy` for encode
//! and reconstruct. Each model lives on one thread with its device, which gathers the
//! samples of concurrent requests into one call of the model. Answers are the types
//! of [`answers`] and [`v2`]; every refusal is an [`ApiError`], `{"error": …, "kind":
//! …}`, its [`ErrorKind`] mapped to one status, and the server goes on serving. Every
//! client is bounded ([`Limits`]): connections open at once, the time to send a
//! request's headers, the request bytes each model holds in memory, the body, the
//! samples per request, the queue and the time to answer. SIGTERM or Ctrl+C stops it
//! gracefully: it stops accepting, answers the requests it holds, and closes the
//! connections still open after a deadline.
//!
//! ```no_run
//! use ae_serve::{Exposure, Limits, Server, ServerConfig};
//! use burn::prelude::Device;
//!
//! let config = ServerConfig {
//!     models: vec![("bc".into(), "artifacts/breast-cancer".into())],
//!     exposure: Exposure::local(),
//!     port: 8080,
//!     limits: Limits::DEFAULT,
//! };
//! let server = Server::start(config, &Device::flex())?;
//! println!("listening on http://{}", server.addr());
//! server.wait()?; // until SIGTERM or Ctrl+C
//! # Ok::<(), ae_serve::StartError>(())
//! ```
#![warn(missing_docs)]

pub mod answers;
mod batch;
mod body;
mod error;
mod exposure;
mod limits;
mod listen;
mod metrics;
mod openapi;
mod routes;
mod server;
mod state;
mod v1;
pub mod v2;

pub use batch::Gathering;
pub use body::NPY;
pub use error::{ApiError, ErrorKind, StartError};
pub use exposure::{Exposure, ExposureError};
pub use limits::Limits;
pub use openapi::DOCUMENT as OPENAPI;
pub use server::{RISK, Server, ServerConfig, TOKEN_ENV};

#[cfg(test)]
mod tests;
