//! How much a server takes on: its limits, declared once with their defaults (the
//! command line's flags default to them).

use std::time::Duration;

use crate::batch::Gathering;

/// The server's limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How concurrent requests are gathered into one call of a model.
    pub gathering: Gathering,
    /// Samples per request at most.
    pub max_rows: usize,
    /// Bytes per request body at most.
    pub max_body: usize,
    /// Requests waiting for a model at most; more are answered 503.
    pub queue: usize,
    /// The longest a request may take, reading its body included.
    pub timeout: Duration,
    /// The longest a client may take to send a request's headers, and the longest a
    /// connection may sit idle between requests.
    pub header_timeout: Duration,
    /// Connections open at once at most (fewer when the process may open fewer
    /// files); more are answered 503 and closed.
    pub max_connections: usize,
    /// Request bytes each model holds in memory at most; a request that would pass
    /// it is answered 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// After SIGTERM, how long the requests in hand may take before the connections
    /// still open are closed.
    pub shutdown_timeout: Duration,
}

impl Limits {
    /// The limits when none is changed (the command's flags default to them).
    pub const DEFAULT: Self = Self {
        gathering: Gathering {
            max_batch: 256,
            max_wait: Duration::ZERO,
        },
        max_rows: 4096,
        max_body: 32 << 20,
        queue: 1024,
        timeout: Duration::from_secs(30),
        header_timeout: Duration::from_secs(10),
        max_connections: 512,
        max_in_flight: 256 << 20,
        shutdown_timeout: Duration::from_secs(10),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
