//! Clients that hold the server: slow and idle connections, more connections than the
//! limit, half-closed ones, requests that would pass the bytes a model may hold, large
//! requests split into model calls, and SIGTERM while connections are held. All on
//! short limits, against the real binary (about 10 s).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use super::*;

/// Sends `request` on a fresh connection and reads the whole answer (the server closes
/// it after: `Connection: close`); returns the status and the body.
fn exchange(addr: &str, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request).expect("sends");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    status_and_body(&answer)
}

fn status_and_body(answer: &str) -> (u16, String) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn request(path: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: \
         application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Whether the server has closed `stream` (a read gives the end, or a reset).
fn closed(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

fn metric(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in {metrics}"))
}

#[test]
fn slow_idle_and_greedy_clients_are_bounded_and_sigterm_exits_in_time() {
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    let artifact = shared_benign();
    let (_, rows) = table_rows(10);
    let (mut child, url) = start(
        h,
        &[
            "--artifact",
            &format!("bc={}", artifact.display()),
            "--header-timeout-s",
            "1",
            "--max-connections",
            "6",
            "--max-in-flight-mib",
            "1",
            "--max-batch",
            "4",
            "--shutdown-timeout-s",
            "2",
        ],
    );
    let addr = url.trim_start_matches("http://").to_string();
    let score = "/v1/models/bc/score";
    let one_row = serde_json::json!({ "inputs": [rows[0]] }).to_string();

    // Two slow clients (headers a byte at a time) and two idle ones hold four of the six
    // connections; a good client is answered all the while.
    let mut slow: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).expect("connects");
            s.write_all(b"POST /v1/models/bc/score HTTP/1.1\r\nHo")
                .expect("part of a header");
            s
        })
        .collect();
    let mut idle: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(&addr).expect("connects"))
        .collect();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(600) {
        for s in &mut slow {
            let _ = s.write_all(b"s");
        }
        let (status, body) = exchange(&addr, &request(score, "", &one_row));
        assert_eq!(status, 200, "{body}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Past the header timeout, the server has closed all four.
    std::thread::sleep(Duration::from_millis(1200));
    for (i, s) in slow.iter_mut().chain(idle.iter_mut()).enumerate() {
        assert!(
            closed(s),
            "connection {i} is still open after the header timeout"
        );
    }

    // More connections than the limit: those past it are answered 503 with
    // Retry-After at once, and once the idle ones time out, others are served again.
    let held: Vec<TcpStream> = (0..6)
        .map(|_| TcpStream::connect(&addr).expect("connects"))
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let mut over = TcpStream::connect(&addr).expect("connects");
    over.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut answer = String::new();
    let _ = over.read_to_string(&mut answer);
    let (status, body) = status_and_body(&answer);
    assert_eq!(status, 503, "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1") && body.contains("too many"),
        "{answer}"
    );
    let refusal: ae_serve::ApiError = serde_json::from_str(&body).expect("an error");
    assert_eq!(refusal.kind, ae_serve::ErrorKind::Busy);
    std::thread::sleep(Duration::from_millis(1300));
    let (status, _) = exchange(
        &addr,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "health after the idle connections timed out");
    drop(held);

    // A client that sends its request and closes its side still gets the answer.
    for _ in 0..10 {
        let mut s = TcpStream::connect(&addr).expect("connects");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.write_all(&request(score, "", &one_row)).expect("sends");
        s.shutdown(Shutdown::Write).expect("half-closed");
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert_eq!(status_and_body(&answer).0, 200, "half-closed: {answer:?}");
    }

    // A compressed body: 415, not 400. A row naming a column twice: refused.
    let (status, body) = exchange(&addr, &request(score, "Content-Encoding: gzip\r\n", "x"));
    assert_eq!(status, 415, "{body}");
    assert!(body.contains("send the body uncompressed"), "{body}");
    // Every column of the model, then one of them again, which would otherwise win.
    let (names, _) = table_rows(1);
    let mut fields: Vec<String> = names
        .iter()
        .zip(&rows[0])
        .map(|(n, v)| format!("{}: {v}", serde_json::json!(n)))
        .collect();
    fields.push("\"mean area\": 1e9".to_string());
    let twice = format!("{{\"inputs\": [{{{}}}]}}", fields.join(", "));
    let (status, body) = exchange(&addr, &request(score, "", &twice));
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("the column 'mean area' comes twice"),
        "{body}"
    );

    // The bytes a model holds: while one request's first 0.9 MiB are held, another of
    // 0.2 MiB would pass the 1 MiB limit and is answered 503; the first then completes.
    let padding = 900 << 10;
    let first_body = format!("{}{one_row}", " ".repeat(padding));
    let mut first = TcpStream::connect(&addr).expect("connects");
    first
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let first_request = request(score, "", &first_body);
    let cut = first_request.len() - one_row.len();
    first.write_all(&first_request[..cut]).expect("sends");
    std::thread::sleep(Duration::from_millis(300));
    let second = format!("{}{one_row}", " ".repeat(200 << 10));
    let (status, body) = exchange(&addr, &request(score, "", &second));
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("bytes of requests"), "{body}");
    let refusal: ae_serve::ApiError = serde_json::from_str(&body).expect("an error");
    assert_eq!(refusal.kind, ae_serve::ErrorKind::Busy);
    first.write_all(&first_request[cut..]).expect("sends");
    let mut answer = String::new();
    let _ = first.read_to_string(&mut answer);
    assert_eq!(status_and_body(&answer).0, 200, "{answer}");
    // Once answered, the bytes are given back.
    let (status, body) = exchange(&addr, &request(score, "", &second));
    assert_eq!(status, 200, "{body}");

    // A request of 10 samples with --max-batch 4: three model calls, none larger.
    let metrics_request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let before = exchange(&addr, metrics_request).1;
    let ten = serde_json::json!({ "inputs": rows }).to_string();
    let (status, body) = exchange(&addr, &request(score, "", &ten));
    assert_eq!(status, 200, "{body}");
    let after = exchange(&addr, metrics_request).1;
    let delta = |name: &str| metric(&after, name) - metric(&before, name);
    assert_eq!(delta("ae_batch_size_count"), 3.0, "{after}");
    assert_eq!(delta("ae_batch_size_sum"), 10.0);
    assert_eq!(delta("ae_batch_size_bucket{le=\"4\"}"), 3.0);
    assert!(
        metric(&after, "ae_connections_timed_out_total") >= 4.0,
        "{after}"
    );
    assert!(
        metric(&after, "ae_connections_refused_total") >= 1.0,
        "{after}"
    );
    assert_eq!(metric(&after, "ae_in_flight_bytes"), 0.0, "{after}");

    // SIGTERM while a slow client holds a connection: the server exits within its
    // shutdown deadline of 2 s (and the 1 s header timeout), not when the client goes.
    let mut holding = TcpStream::connect(&addr).expect("connects");
    holding
        .write_all(b"POST /v1/models/bc/score HTTP/1.1\r\n")
        .expect("sends");
    let _also_idle = TcpStream::connect(&addr).expect("connects");
    std::thread::sleep(Duration::from_millis(100));
    let stopping = Instant::now();
    let status = sigterm(&mut child);
    let took = stopping.elapsed();
    assert!(status.success(), "SIGTERM: {status:?}");
    assert!(took < Duration::from_secs(5), "stopped after {took:?}");
    drop(holding);
}
