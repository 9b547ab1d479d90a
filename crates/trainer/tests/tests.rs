//! End-to-end tests of the `trainer` binary.

mod it;
