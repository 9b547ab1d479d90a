//! What the workspace's tests share, kept out of the libraries' public API: a test
//! that cannot run on this machine (no data set installed, no GPU) reports itself
//! with [`skip`] instead of passing in silence, and CI turns every skip into a
//! failure.
#![warn(missing_docs)]

/// Environment variable that turns every skipped test into a failure (set in CI).
pub const REQUIRE_ALL_ENV: &str = "AE_REQUIRE_ALL";

/// Environment variable naming a file each skipped test appends a line to (`cargo
/// xtask ci` sets it and lists the skips at the end: `cargo test` hides the output of
/// tests that pass).
pub const SKIP_LOG_ENV: &str = "AE_SKIP_LOG";

/// Reports a test that cannot run on this machine: prints the reason and appends it
/// to the file named by [`SKIP_LOG_ENV`], or panics when [`REQUIRE_ALL_ENV`] is set,
/// so that CI never passes on a silent skip.
pub fn skip(test: &str, reason: &str) {
    let required = std::env::var_os(REQUIRE_ALL_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    let log = std::env::var_os(SKIP_LOG_ENV).filter(|v| !v.is_empty());
    record_skip(
        test,
        reason,
        required,
        log.as_deref().map(std::path::Path::new),
    );
}

/// [`skip`] with its environment as arguments.
fn record_skip(test: &str, reason: &str, required: bool, log: Option<&std::path::Path>) {
    if required {
        panic!("{test}: cannot run ({reason}) and ${REQUIRE_ALL_ENV} forbids skipping");
    }
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(log) = log {
        use std::io::Write;
        let line = format!("{test}: {reason}\n");
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = appended {
            eprintln!("could not record the skip in {}: {e}", log.display());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn skips_are_recorded_or_forbidden() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("skips.txt");
        super::record_skip("a", "no data", false, Some(&log));
        super::record_skip("b", "no GPU", false, Some(&log));
        let text = std::fs::read_to_string(&log).expect("log written");
        assert_eq!(text, "a: no data\nb: no GPU\n");
        let forbidden = std::panic::catch_unwind(|| super::record_skip("c", "x", true, None));
        assert!(forbidden.is_err(), "a required test skipped quietly");
    }
}
