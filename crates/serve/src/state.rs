//! What every request sees: the models served and the server's settings.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::mpsc::SyncSender;

use ae_infer::Threshold;

use crate::batch;
use crate::exposure::Exposure;
use crate::limits::Limits;
use crate::metrics::Metrics;

/// A model the server answers for.
pub(crate) struct ModelHandle {
    pub family: String,
    pub features: usize,
    pub latent: usize,
    pub columns: Vec<String>,
    pub threshold: Option<Threshold>,
    pub jobs: SyncSender<batch::Job>,
    /// Request bytes held for its answers now.
    pub in_flight: AtomicUsize,
}

/// What every request sees.
pub(crate) struct AppState {
    pub models: BTreeMap<String, ModelHandle>,
    pub metrics: Arc<Metrics>,
    pub exposure: Exposure,
    pub limits: Limits,
}
