//! What a trained model is used for.
//!
//! [`evaluate::evaluate`] measures reconstruction quality on a split;
//! [`anomaly::detect`] does one-class anomaly detection; [`embed`] writes codes as
//! `.npy`/CSV and [`neighbours`] searches them; [`generate`] denoises, interpolates
//! and samples ([`code_prior`] for discrete codes); [`compare`] is the PCA baseline,
//! [`compress`] the rate–distortion curve, [`finetune`] transfer learning with few
//! labels; [`export`] and [`safetensors`] write and read weights with PyTorch's
//! names; [`apply`] runs a trained model on new files through the inference library
//! [`ae_infer`], which users' crates take alone.

pub mod anomaly;
pub mod apply;
pub mod code_prior;
pub mod compare;
pub mod compress;
pub mod embed;
pub mod evaluate;
pub mod export;
pub mod finetune;
pub mod generate;
pub mod neighbours;
pub mod safetensors;
