use std::io::Write;
use std::net::IpAddr;

use anyhow::Result;
use clap::Args as ClapArgs;
use trainer::device;
use trainer::remote::Exposure;

use crate::cli::DeviceArgs;

/// Lend this machine's devices to `train --remote` on another (or this) machine:
/// serve them over WebSocket until interrupted.
#[derive(ClapArgs)]
pub struct Args {
    /// TCP port to listen on (0: any free port, printed).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Address to listen on: loopback (this machine only) unless another is given, such
    /// as this machine's address on the cluster network or 0.0.0.0 for every one;
    /// beyond loopback a token is required.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Devices of the backend to serve (GPUs 0..N; on a CPU backend, N workers).
    #[arg(long, value_name = "N", default_value_t = 1)]
    devices: usize,
    /// Serve only clients presenting this token. It keeps out clients that do not have
    /// it; it does not encrypt (WebSocket in the clear: anyone who can read the network
    /// can read the token and the tensors).
    #[arg(long, env = "AE_REMOTE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Listen beyond loopback without a token: any client that reaches the port can run
    /// work on this machine's devices.
    #[arg(long)]
    insecure_no_token: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: Args) -> Result<()> {
    let exposure = Exposure {
        bind: args.bind,
        token: args.token,
        insecure_no_token: args.insecure_no_token,
    };
    // Refused before any device is taken.
    exposure.check(trainer::remote::RISK, "AE_REMOTE_TOKEN")?;
    let selected = args.device.select()?;
    let devices = device::devices(&selected, args.devices)?;
    let n = devices.len();
    trainer::remote::serve(devices, args.port, &exposure, |addr| {
        let port = addr.port();
        println!(
            "serving {n} device(s) of {} on port {port} of {} (ws://{addr}){}; Ctrl+C stops",
            selected.description,
            addr.ip(),
            if exposure.token.is_some() { ", token required" } else { "" }
        );
        if !addr.ip().is_loopback() && exposure.token.is_none() {
            eprintln!(
                "warning: --insecure-no-token: any client that reaches {addr} can run work on these devices"
            );
        }
        let _ = std::io::stdout().flush();
    })
}
