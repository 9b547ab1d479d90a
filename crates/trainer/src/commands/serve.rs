use std::io::Write;

use anyhow::Result;
use clap::Args as ClapArgs;
use trainer::device;

use crate::cli::DeviceArgs;

/// Lend this machine's devices to `train --remote` on another (or this) machine:
/// serve them over WebSocket until interrupted.
#[derive(ClapArgs)]
pub struct Args {
    /// TCP port to listen on, every interface (0: any free port, printed).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Devices of the backend to serve (GPUs 0..N; on a CPU backend, N workers).
    #[arg(long, value_name = "N", default_value_t = 1)]
    devices: usize,
    /// Serve only clients presenting this token (WebSocket is not encrypted: use on a
    /// trusted network).
    #[arg(long, env = "AE_REMOTE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: Args) -> Result<()> {
    let selected = args.device.select()?;
    let devices = device::devices(&selected, args.devices)?;
    let n = devices.len();
    trainer::remote::serve(devices, args.port, args.token.as_deref(), |port| {
        println!(
            "serving {n} device(s) of {} on port {port} (ws://<this host>:{port}); Ctrl+C stops",
            selected.description
        );
        let _ = std::io::stdout().flush();
    })
}
