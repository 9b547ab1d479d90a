//! Project automation: `cargo xtask <command>`.
//!
//! - `ci`: what CI runs, cheapest checks first: format, then one release build of
//!   every target in which clippy lints the workspace's crates, then every test (the
//!   tests train real models; see README). `ci-env` prints the build's
//!   variables, so that later commands reuse that build.
//! - `bench`: throughput, memory and roofline of every family on each backend beside
//!   PyTorch (installed into a venv under `target/bench/`, or an existing Python);
//!   with `--binaries DIR`, prebuilt bench binaries on a machine without Rust.
//! - `bench-runs`: whole `trainer train` runs beside the same runs in PyTorch: wall
//!   time and the test error each reached.
//! - `results run|render|check|list`: the README's figures as experiments run again
//!   (`bench/experiments/`), their files (`docs/results/`) and the README written
//!   from them.
//! - `photos [DIR]`: two real colour photographs (CC BY) from scikit-learn's wheel.
//!
//! Its tests check the repository itself: `tidy` its layout and rules, and
//! `vendored` that `patches/` holds published crates with their patches only.

mod bench;
mod ci;
mod cmd;
mod photos;
mod results;
mod runs;
#[cfg(test)]
mod tidy;
#[cfg(test)]
mod vendored;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("ci-env") => ci::print_build_env(),
        Some("bench") => bench::run(&args[1..]),
        Some("bench-runs") => runs::run(&args[1..]),
        Some("photos") => photos::run(&args[1..]),
        Some("results") => results::run(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            println!(
                "usage: cargo xtask <command>\n\ncommands:\n  ci [--no-lint]   format check, one build of every target linted by clippy (-D warnings), all tests (release), the experiments at their quick size\n  ci-env           the variables of `ci`'s build (lints as it compiles; opt-level), as export lines\n  bench [--families mlp,deep,conv,vae,aae] [--backends flex,ndarray,wgpu] [--batch-sizes 128,1024]\n        [--steps N] [--max-seconds S] [--repeat N] [--no-pytorch] [--binaries DIR] [--python PATH]\n                   throughput, memory and roofline per family and backend, beside PyTorch\n  bench-runs [--families mlp,deep,conv,vae,aae] [--epochs 3] [--limit N] [--repeat N] [--backend flex] [--python PATH] [--no-pytorch]\n                   whole `trainer train` runs beside the same runs in PyTorch: wall time, test error\n  results run NAME…|--all [--quick] [--store] [--python PATH] | render | check | list
                   the README's figures: experiments run again, their files, the README from them
  photos [DIR]     two colour photographs (CC BY 2.0) from scikit-learn's wheel into DIR [photos/]"
            );
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!(
            "unknown xtask command '{other}' (try `cargo xtask help`)"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}
