//! The run: what `train` does, from its flags to a finished artifact.
//!
//! A command's flags are plain data ([`overrides`], gathered in a
//! [`request::Request`]) applied to a [`config::TrainConfig`] that starts from a
//! family's defaults ([`ae_models::Family`]); [`memory`] refuses what cannot fit;
//! [`fit::Run`] trains through burn's `Learner` in phases (prepare, learner, launch,
//! finish), with its [`optimizer`], [`guard`]s against divergence, [`progress`],
//! [`live_log`] and [`tensorboard`] logs, [`pretrain`] (greedy layer-wise
//! pretraining), and writes an artifact whose per-epoch metrics [`history`] holds.

pub mod config;
pub mod fit;
pub mod guard;
pub mod history;
pub mod live_log;
pub mod memory;
pub mod optimizer;
pub mod overrides;
pub mod pretrain;
pub mod progress;
pub mod request;
pub mod tensorboard;
