//! The server's counters, in Prometheus's text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Upper bounds of the batch-size histogram, in samples.
const BATCH_BUCKETS: [f64; 12] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0,
];

/// A Prometheus histogram: cumulative counts per bucket, sum and count.
#[derive(Debug, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], value: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; bounds.len()];
        }
        for (slot, bound) in self.counts.iter_mut().zip(bounds) {
            if value <= *bound {
                *slot += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, bounds: &[f64]) {
        for (i, bound) in bounds.iter().enumerate() {
            let n = self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}", self.sum);
        let _ = writeln!(out, "{name}_count {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// (route, status code) → requests.
    requests: BTreeMap<(&'static str, u16), u64>,
    /// (model, action) → samples answered.
    samples: BTreeMap<(String, &'static str), u64>,
    latency: Histogram,
    batches: Histogram,
}

/// Requests, errors, latency and batch sizes since the server started; connections
/// open, refused over the limit and closed for want of headers.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    open: AtomicI64,
    refused: AtomicU64,
    timed_out: AtomicU64,
    /// Request bytes held for answers, over every model.
    in_flight: AtomicI64,
}

/// An open connection, counted while it lives.
pub struct Open<'a>(&'a AtomicI64);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves counters that are still counters.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A connection opened; it counts as open until the guard is dropped.
    pub fn connection_opened(&self) -> Open<'_> {
        self.open.fetch_add(1, Ordering::Relaxed);
        Open(&self.open)
    }

    /// A connection refused over the limit.
    pub fn connection_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection closed because its request's headers did not come in time.
    pub fn connection_timed_out(&self) {
        self.timed_out.fetch_add(1, Ordering::Relaxed);
    }

    /// Request bytes taken into memory (`bytes` > 0) or released (< 0).
    pub fn in_flight(&self, bytes: i64) {
        self.in_flight.fetch_add(bytes, Ordering::Relaxed);
    }

    /// One request to `route`, answered with `status` after `elapsed`.
    pub fn request(&self, route: &'static str, status: u16, elapsed: Duration) {
        let mut m = self.inner();
        *m.requests.entry((route, status)).or_default() += 1;
        m.latency.observe(&LATENCY_BUCKETS, elapsed.as_secs_f64());
    }

    /// `n` samples of `model` answered for `action`.
    pub fn samples(&self, model: &str, action: &'static str, n: usize) {
        *self
            .inner()
            .samples
            .entry((model.to_string(), action))
            .or_default() += n as u64;
    }

    /// One call of a model on `n` samples gathered from concurrent requests.
    pub fn batch(&self, n: usize) {
        self.inner().batches.observe(&BATCH_BUCKETS, n as f64);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let m = self.inner();
        let mut out = String::new();
        out.push_str("# HELP ae_requests_total HTTP requests by route and status code.\n");
        out.push_str("# TYPE ae_requests_total counter\n");
        for ((route, code), n) in &m.requests {
            let _ = writeln!(
                out,
                "ae_requests_total{{route=\"{route}\",code=\"{code}\"}} {n}"
            );
        }
        out.push_str("# HELP ae_request_errors_total HTTP requests answered with a 4xx or 5xx.\n");
        out.push_str("# TYPE ae_request_errors_total counter\n");
        let errors: u64 = m
            .requests
            .iter()
            .filter(|((_, code), _)| *code >= 400)
            .map(|(_, n)| n)
            .sum();
        let _ = writeln!(out, "ae_request_errors_total {errors}");
        out.push_str("# HELP ae_samples_total Samples answered by model and action.\n");
        out.push_str("# TYPE ae_samples_total counter\n");
        for ((model, action), n) in &m.samples {
            let model = model.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(
                out,
                "ae_samples_total{{model=\"{model}\",action=\"{action}\"}} {n}"
            );
        }
        out.push_str("# HELP ae_request_duration_seconds Time from request to answer.\n");
        out.push_str("# TYPE ae_request_duration_seconds histogram\n");
        m.latency
            .render(&mut out, "ae_request_duration_seconds", &LATENCY_BUCKETS);
        out.push_str(
            "# HELP ae_batch_size Samples per model call, concurrent requests together.\n",
        );
        out.push_str("# TYPE ae_batch_size histogram\n");
        m.batches.render(&mut out, "ae_batch_size", &BATCH_BUCKETS);
        let gauges = [
            (
                "ae_open_connections",
                "gauge",
                "Connections open now.",
                self.open.load(Ordering::Relaxed),
            ),
            (
                "ae_connections_refused_total",
                "counter",
                "Connections answered 503 because the limit of open ones was reached.",
                self.refused.load(Ordering::Relaxed) as i64,
            ),
            (
                "ae_connections_timed_out_total",
                "counter",
                "Connections closed because a request's headers did not come in time \
                 (idle ones included).",
                self.timed_out.load(Ordering::Relaxed) as i64,
            ),
            (
                "ae_in_flight_bytes",
                "gauge",
                "Request bytes held in memory for answers now.",
                self.in_flight.load(Ordering::Relaxed),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counters_labelled() {
        let m = Metrics::default();
        m.request("infer", 200, Duration::from_millis(3));
        m.request("infer", 200, Duration::from_millis(30));
        m.request("infer", 422, Duration::from_micros(100));
        m.samples("bc", "score", 5);
        m.batch(3);
        let text = m.render();
        assert!(
            text.contains("ae_requests_total{route=\"infer\",code=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("ae_request_errors_total 1"), "{text}");
        assert!(text.contains("ae_samples_total{model=\"bc\",action=\"score\"} 5"));
        assert!(text.contains("ae_request_duration_seconds_bucket{le=\"0.0005\"} 1"));
        assert!(text.contains("ae_request_duration_seconds_bucket{le=\"0.005\"} 2"));
        assert!(text.contains("ae_request_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("ae_request_duration_seconds_count 3"));
        assert!(text.contains("ae_batch_size_bucket{le=\"2\"} 0"));
        assert!(text.contains("ae_batch_size_bucket{le=\"4\"} 1"));
        {
            let _a = m.connection_opened();
            let _b = m.connection_opened();
            m.connection_refused();
            assert!(m.render().contains("ae_open_connections 2"));
        }
        let text = m.render();
        assert!(text.contains("ae_open_connections 0"), "{text}");
        assert!(text.contains("ae_connections_refused_total 1"), "{text}");
    }
}
