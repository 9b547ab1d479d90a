//! Training across machines through burn's remote backend (feature `remote`).
//!
//! Every machine that lends its devices runs [`serve`] (`trainer serve`); the machine that
//! launches the run connects to them with [`connect`] (`trainer train --remote URL,…`) and
//! trains data-parallel on all their devices with burn's multi-device strategy: each
//! device computes the gradients of its share of the batches, and the gradients are
//! summed on the first device, which holds the optimiser. The launching process keeps
//! the data, the autodiff graph and the artifact; the servers run the tensor operations.
//!
//! The transport is WebSocket, for trusted networks (a cluster, a LAN); a token keeps
//! stray clients out but does not encrypt. burn 0.22 runs collective operations
//! (all-reduce, hence `--parallelism ddp`) only among the devices of one server.

use std::net::TcpListener;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use burn::remote::RemoteHost;
use burn::server::{RemoteServer, TokenAuthorizer, WebSocketTransport};

/// Serves `devices` to remote clients on TCP `port` (0: any free port) until the process
/// is interrupted. `on_listen` is called with the port once clients can connect.
pub fn serve(
    devices: Vec<Device>,
    port: u16,
    token: Option<&str>,
    on_listen: impl FnOnce(u16),
) -> Result<()> {
    let listener = TcpListener::bind(("0.0.0.0", port))
        .with_context(|| format!("listening on TCP port {port}"))?;
    let bound = listener
        .local_addr()
        .context("reading the listening address")?
        .port();
    let mut server = RemoteServer::new(devices);
    if let Some(token) = token {
        let authorizer = TokenAuthorizer::new(token)
            .map_err(|_| anyhow::anyhow!("--token: the token is empty"))?;
        server = server.with_authorizer(authorizer);
    }
    on_listen(bound);
    server
        .serve(WebSocketTransport::from_listener(listener))
        .map_err(|e| anyhow::anyhow!("serving on port {bound}: {e}"))
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
        let listed = host.devices().map_err(|e| {
            anyhow::anyhow!(
                "--remote {url}: cannot connect ({e}); is `trainer serve` running there?"
            )
        })?;
        devices.extend(listed);
    }
    Ok(devices)
}
