//! Training across machines through burn's remote backend (feature `remote`).
//!
//! Every machine that lends its devices runs [`serve`] (`trainer serve`); the machine that
//! launches the run connects to them with [`connect`] (`trainer train --remote URL,…`) and
//! trains data-parallel on all their devices with burn's multi-device strategy: each
//! device computes the gradients of its share of the batches, and the gradients are
//! summed on the first device, which holds the optimiser. The launching process keeps
//! the data, the autodiff graph and the artifact; the servers run the tensor operations.
//!
//! The transport is WebSocket, for trusted networks (a cluster, a LAN); a server listens
//! on loopback unless told otherwise, and beyond it only with a token, which keeps stray
//! clients out but does not encrypt. burn 0.22 runs collective operations
//! (all-reduce, hence `--parallelism ddp`) only among the devices of one server.

use std::net::{SocketAddr, TcpListener};

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use burn::remote::{ConnectError, RemoteHost};
use burn::server::{RemoteServer, TokenAuthorizer, WebSocketTransport};

use crate::device::Parallelism;
pub use ae_serve::Exposure;

/// What an open `trainer serve` lets strangers do, for the refusal.
pub const RISK: &str = "run work on its devices";

/// Serves `devices` to remote clients on TCP `port` (0: any free port) of the address
/// `exposure` names, until the process is interrupted. `on_listen` is called with the
/// address once clients can connect. Tokens are compared by digest, in constant time.
pub fn serve(
    devices: Vec<Device>,
    port: u16,
    exposure: &Exposure,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<()> {
    exposure.check(RISK, "AE_REMOTE_TOKEN")?;
    let listener = TcpListener::bind((exposure.bind, port))
        .with_context(|| format!("listening on {}, TCP port {port}", exposure.bind))?;
    let bound = listener
        .local_addr()
        .context("reading the listening address")?;
    let mut server = RemoteServer::new(devices);
    if let Some(token) = &exposure.token {
        let authorizer = TokenAuthorizer::new(token.as_str())
            .map_err(|_| anyhow::anyhow!("--token: the token is empty"))?;
        server = server.with_authorizer(authorizer);
    }
    on_listen(bound);
    server
        .serve(WebSocketTransport::from_listener(listener))
        .map_err(|e| anyhow::anyhow!("serving on {bound}: {e}"))
}

/// The devices of the servers at `urls` for a training run, checked against the
/// flags that cannot apply to them, and one line saying what they are.
pub fn training_devices(
    urls: &[String],
    token: Option<&str>,
    local_devices: usize,
    parallelism: Parallelism,
) -> Result<(Vec<Device>, String)> {
    if local_devices != 1 {
        bail!(
            "--devices counts local devices; with --remote every device the servers host is used"
        );
    }
    if parallelism == Parallelism::Ddp && urls.len() > 1 {
        bail!(
            "--parallelism ddp: burn 0.22 runs collective operations only among the devices \
             of one server; across {} servers use --parallelism multi",
            urls.len()
        );
    }
    let devices = connect(urls, token)?;
    let line = format!(
        "device: {} remote device(s) on {}",
        devices.len(),
        urls.join(", ")
    );
    Ok((devices, line))
}

/// Every device of the servers at `urls` (`ws://host:port`), in order, connected.
pub fn connect(urls: &[String], token: Option<&str>) -> Result<Vec<Device>> {
    if urls.is_empty() {
        bail!("--remote: expected at least one server address, ws://HOST:PORT");
    }
    let mut devices = Vec::new();
    for url in urls {
        if !url.starts_with("ws://") {
            bail!("--remote {url}: expected a WebSocket address, ws://HOST:PORT");
        }
        let mut host = RemoteHost::websocket(url);
        if let Some(token) = token {
            host = host.with_credential(token);
        }
        let listed = host.devices().map_err(|e| match e {
            ConnectError::Unauthorized => anyhow::anyhow!(
                "--remote {url}: the server refused the token{}: pass the one it was \
                 started with (--token or AE_REMOTE_TOKEN)",
                if token.is_some() {
                    ""
                } else {
                    " (none was given)"
                }
            ),
            e => anyhow::anyhow!(
                "--remote {url}: cannot connect ({e}); is `trainer serve` running there?"
            ),
        })?;
        devices.extend(listed);
    }
    Ok(devices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddp_across_servers_is_refused_in_one_clean_sentence() {
        let urls = ["ws://a:1".to_string(), "ws://b:1".to_string()];
        let msg = training_devices(&urls, None, 1, Parallelism::Ddp)
            .expect_err("two servers")
            .to_string();
        assert!(
            msg.contains("only among the devices of one server; across 2"),
            "{msg}"
        );
        assert!(!msg.contains("  "), "a run of spaces: {msg:?}");
    }
}
