//! `trainer`: train, evaluate and use autoencoders from the command line.
//!
//! The binary is a table of commands. Each is one file in `commands/` holding its
//! arguments (a clap `Args` struct whose doc comment is the command's help) and a
//! short `run` over the `trainer` library; the flag groups several commands share
//! are declared once in `cli.rs`. A new command is a file and a line in the table.

mod cli;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Declares the commands: their modules, the subcommand enum and its dispatch.
macro_rules! commands {
    ($($(#[$cfg:meta])* $variant:ident => $module:ident,)*) => {
        mod commands {
            $($(#[$cfg])* pub mod $module;)*
        }

        #[derive(Subcommand)]
        enum Command {
            $($(#[$cfg])* $variant(Box<commands::$module::Args>),)*
        }

        impl Command {
            fn run(self) -> Result<()> {
                match self {
                    $($(#[$cfg])* Self::$variant(args) => commands::$module::run(*args),)*
                }
            }
        }
    };
}

commands! {
    Train => train,
    Eval => eval,
    Pca => pca,
    Embed => embed,
    Search => search,
    Anomaly => anomaly,
    Denoise => denoise,
    Sample => sample,
    Interpolate => interpolate,
    Capsules => capsules,
    Latent => latent,
    Filters => filters,
    Compress => compress,
    Finetune => finetune,
    Encode => encode,
    Reconstruct => reconstruct,
    Score => score,
    Export => export,
    Import => import,
    InferenceServer => inference_server,
    #[cfg(feature = "remote")]
    Serve => serve,
}

/// Train, evaluate and use autoencoders on a GPU or a CPU.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    cli::quiet_gpu_probe();
    cli::data_errors_exit();
    match Cli::parse().command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", cli::error_text(&err));
            ExitCode::FAILURE
        }
    }
}
