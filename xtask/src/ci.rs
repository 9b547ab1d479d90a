//! `cargo xtask ci`: format, lints, tests.

use anyhow::Result;

use crate::cmd::cargo;

pub fn run(args: &[String]) -> Result<()> {
    let lint = !args.iter().any(|a| a == "--no-lint");
    if lint {
        cargo(&["fmt", "--all", "--check"])?;
        // --release: build scripts and proc macros are then shared with the test build.
        cargo(&[
            "clippy",
            "--release",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])?;
    }
    // Release: the tests train models on real images, and the README's train
    // command (`cargo run --release`) then reuses the same build.
    cargo(&["test", "--release", "--workspace"])?;
    Ok(())
}
