//! No code: a dependency of the examples that gives their builds the trainer's
//! features (see `Cargo.toml`).
