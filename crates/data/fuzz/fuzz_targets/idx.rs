//! Fuzzes the IDX parser, gzip layer included: no input may panic, hang or allocate
//! without bound; every input is either parsed or rejected with a `DataError`.
//!
//! The parser's two source files are compiled in directly (they need only `flate2`
//! and `thiserror`), so that fuzz builds do not compile the deep-learning stack.
#![no_main]

#[path = "../../src/error.rs"]
mod error;
#[path = "../../src/idx.rs"]
#[allow(dead_code)]
mod idx;

use std::path::Path;

pub use error::DataError;
use libfuzzer_sys::fuzz_target;

/// Stand-in for the data crate's data set names, which some error messages mention
/// and the parser never produces.
#[derive(Clone, Copy, Debug)]
pub enum DatasetName {}

impl DatasetName {
    pub const ALL: [DatasetName; 0] = [];

    pub fn as_str(self) -> &'static str {
        match self {}
    }
}

impl std::fmt::Display for DatasetName {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

fuzz_target!(|data: &[u8]| {
    for origin in ["input", "input.gz"] {
        let origin = Path::new(origin);
        if let Ok(images) = idx::parse_images(data, origin) {
            assert_eq!(
                images.pixels.len(),
                images.count * images.rows * images.cols
            );
            // What parses re-encodes to an equivalent file.
            let again = idx::parse_images(&idx::encode_images(&images), Path::new("again"));
            assert_eq!(again.ok().as_ref(), Some(&images));
        }
        if let Ok(labels) = idx::parse_labels(data, origin) {
            let again = idx::parse_labels(&idx::encode_labels(&labels), Path::new("again"));
            assert_eq!(again.ok(), Some(labels));
        }
    }
});
