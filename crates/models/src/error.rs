//! The error of a configuration that cannot build a model.

/// A configuration value that cannot build a model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid model configuration: {field} = {value}, expected {expected}")]
pub struct ConfigError {
    /// The configuration field.
    pub field: &'static str,
    /// The value given.
    pub value: String,
    /// What would be valid.
    pub expected: String,
}

impl ConfigError {
    /// An error for `field`, which holds `value` where `expected` was required.
    pub fn new(field: &'static str, value: impl Into<String>, expected: impl Into<String>) -> Self {
        Self {
            field,
            value: value.into(),
            expected: expected.into(),
        }
    }
}
