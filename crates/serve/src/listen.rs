//! Connections, each bounded: a limit on how many are open, a deadline for a request's
//! headers (which also closes a connection idle between requests), half-closed
//! clients answered, and a deadline on the graceful stop after which the connections
//! left are closed.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::error::ErrorKind;
use crate::limits::Limits;
use crate::metrics::Metrics;

/// File descriptors kept free of connections for the model files, logs and the
/// listening socket.
const RESERVED_FILES: usize = 64;

/// Refusals answered at once when the connection limit is reached; beyond them, a
/// connection is closed unanswered.
const REFUSING: usize = 64;

/// The open connections at most: `asked`, and fewer when the process may not open
/// that many files (Linux's `/proc/self/limits` tells).
fn connection_limit(asked: usize) -> usize {
    let files = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse::<usize>().ok())
        });
    match files {
        Some(files) => asked.min(files.saturating_sub(RESERVED_FILES).max(1)),
        None => asked,
    }
}

/// Serves `app` on `listener` until `stop` resolves; then stops accepting, lets each
/// connection finish the request it is in, and after `limits.shutdown_timeout`
/// closes the connections still open.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    stop: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(connection_limit(limits.max_connections)));
    let refusing = Arc::new(Semaphore::new(REFUSING));
    let (closing, closed) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = tokio::select! {
            () = &mut stop => break,
            // Finished connections are reaped as they go.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors, or a connection reset before it was
                // accepted: wait a little rather than spin.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics.connection_refused();
            if let Ok(permit) = refusing.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(permit);
                });
            }
            continue;
        };
        let (app, metrics, mut closed) = (app.clone(), metrics.clone(), closed.clone());
        connections.spawn(async move {
            let _slot = slot;
            let _open = metrics.connection_opened();
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(app);
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .half_close(true);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = closed.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result
                && e.is_timeout()
            {
                metrics.connection_timed_out();
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
}

/// Answers a connection over the limit with a 503 and closes it.
async fn refuse(mut stream: TcpStream) {
    let body = ErrorKind::Busy
        .because("too many open connections: try again")
        .to_json();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
        // What the client sent is read and dropped, briefly, so that closing does not
        // reset the connection before it reads the answer.
        let mut sink = [0u8; 4096];
        let mut left = 64usize << 10;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}
