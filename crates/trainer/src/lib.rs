//! The library half of the `trainer` binary: everything its commands do, reusable from
//! examples and tests. The binary only parses flags and prints.
//!
//! Its modules are grouped by what they do:
//! - [`run`]: training — flags as data applied to a family's defaults, the memory
//!   check, burn's `Learner` in phases, checkpoints, logs and metrics;
//! - [`applications`]: what a trained model is used for — evaluation, anomaly
//!   detection, embeddings and search, generation, baselines, transfer, export, and
//!   new files through the inference library [`ae_infer`];
//! - [`drawing`]: image grids, charts and latent maps;
//! - and what all of them share: the [`artifact`] folder a run writes and reads
//!   back, the [`dataset`] a command works on, and [`device::select`] (the one
//!   function that picks a backend and device; [`remote`] lends and borrows devices
//!   across machines).
//!
//! The HTTP inference server is the library [`ae_serve`]; the command
//! `inference-server` passes it its flags.
#![warn(missing_docs)]

pub mod applications;
pub mod artifact;
pub mod dataset;
pub mod device;
pub mod drawing;
#[cfg(feature = "remote")]
pub mod remote;
pub mod run;
