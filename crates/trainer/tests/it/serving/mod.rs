//! The HTTP inference server end to end, with a real HTTP client: answers equal the
//! command line's on the same rows, every bad request gets its 4xx while a concurrent
//! client keeps being answered, concurrent requests share model calls, the token is
//! enforced, the default address is loopback, and SIGTERM stops it cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::*;

const TOKEN: &str = "test-token-0123";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// POSTs `body` of `content_type` with `token`; returns the status and the body.
fn post(url: &str, token: Option<&str>, content_type: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut request = agent().post(url).header("Content-Type", content_type);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.send(body).expect("the server answers");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_vec().expect("a body");
    (status, body)
}

fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut request = agent().get(url);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.call().expect("the server answers");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().expect("text"))
}

fn json_of(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).expect("a JSON body")
}

/// Starts `trainer inference-server ARGS --port 0 --backend flex`; returns the child
/// and its base URL, read from its first lines.
fn start(home: &Path, args: &[&str]) -> (Child, String) {
    let mut child = trainer(home)
        .arg("inference-server")
        .args(args)
        .args(["--port", "0", "--backend", "flex"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the trainer starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server prints where it listens")
            .expect("a line");
        println!("{line}");
        if let Some(rest) = line.strip_prefix("listening on ") {
            break rest
                .split(['[', ';', ','])
                .next()
                .unwrap_or(rest)
                .to_string();
        }
    };
    // Keep draining stdout so the child never blocks on it.
    std::thread::spawn(move || lines.for_each(|l| println!("server: {}", l.unwrap_or_default())));
    (child, url)
}

fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(killed.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    child.wait().expect("the server exits")
}

/// Rows 0..n of the breast-cancer table without the label, as JSON arrays.
fn table_rows(n: usize) -> (Vec<String>, Vec<Vec<f32>>) {
    let mut reader = csv::Reader::from_path(breast_cancer()).expect("the table");
    let header = reader.headers().expect("header").clone();
    let label = header.iter().position(|c| c == "diagnosis").expect("label");
    let names = header
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != label)
        .map(|(_, c)| c.to_string())
        .collect();
    let rows = reader
        .records()
        .take(n)
        .map(|r| {
            r.expect("record")
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != label)
                .map(|(_, v)| v.parse().expect("number"))
                .collect()
        })
        .collect();
    (names, rows)
}

/// `rows` under their column `names` as `home/rows.csv`.
fn rows_csv(home: &Path, names: &[String], rows: &[Vec<f32>]) -> std::path::PathBuf {
    let path = home.join("rows.csv");
    let mut text = names.join(",");
    for row in rows {
        text.push('\n');
        text.push_str(&row.iter().map(f32::to_string).collect::<Vec<_>>().join(","));
    }
    std::fs::write(&path, text + "\n").expect("write");
    path
}

#[test]
fn the_inference_server_answers_refuses_and_stops_cleanly() {
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    let dir = shared_benign();
    let artifact = dir.to_str().expect("utf-8");
    // The command line's scores and codes of the first 20 rows, to compare with.
    let (names, rows) = table_rows(20);
    let csv_in = rows_csv(h, &names, &rows);
    let input = csv_in.to_str().expect("utf-8");
    for (cmd, out) in [("score", "scores.csv"), ("encode", "codes.npy")] {
        let o = run(trainer(h).args([
            cmd,
            "--artifact",
            artifact,
            "--input",
            input,
            "--out",
            out,
            "--backend",
            "flex",
        ]));
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let mut expected_scores = Vec::new();
    let mut expected_flags = Vec::new();
    for record in csv::Reader::from_path(h.join("scores.csv"))
        .expect("scores")
        .records()
    {
        let record = record.expect("record");
        expected_scores.push(record[1].parse::<f64>().expect("score"));
        expected_flags.push(&record[2] == "1");
    }
    let expected_codes = ae_data::npy::read(&h.join("codes.npy")).expect("codes");

    // Beyond loopback without a token: refused before anything is loaded.
    let out = run(trainer(h).args([
        "inference-server",
        "--artifact",
        artifact,
        "--bind",
        "0.0.0.0",
        "--backend",
        "flex",
    ]));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--bind 0.0.0.0") && stderr(&out).contains("AE_SERVE_TOKEN"),
        "{}",
        stderr(&out)
    );

    let (mut child, url) = start(
        h,
        &[
            "--artifact",
            &format!("bc={artifact}"),
            "--token",
            TOKEN,
            "--max-rows",
            "50",
            "--max-body-mib",
            "1",
            "--max-wait-ms",
            "20",
        ],
    );
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "the default address is loopback: {url}"
    );
    let score_url = format!("{url}/v1/models/bc/score");
    let json_rows = |rows: &[Vec<f32>]| serde_json::json!({ "inputs": rows }).to_string();

    // Answers equal the command line's.
    let (status, body) = post(
        &score_url,
        Some(TOKEN),
        "application/json",
        json_rows(&rows).as_bytes(),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let answer = json_of(&body);
    let scores: Vec<f64> = serde_json::from_value(answer["scores"].clone()).expect("scores");
    let flags: Vec<bool> = serde_json::from_value(answer["anomalous"].clone()).expect("flags");
    for (a, b) in scores.iter().zip(&expected_scores) {
        assert!(
            (a - b).abs() <= 1e-5 * b.abs().max(1.0),
            "server {a}, command line {b}"
        );
    }
    assert_eq!(flags, expected_flags);
    let npy_body = ae_data::npy::to_bytes(
        &rows.iter().flatten().copied().collect::<Vec<f32>>(),
        &[rows.len(), rows[0].len()],
    )
    .expect("npy");
    let (status, body) = post(
        &format!("{url}/v1/models/bc/encode"),
        Some(TOKEN),
        "application/x-npy",
        &npy_body,
    );
    assert_eq!(status, 200);
    let codes = ae_data::npy::parse(&body).expect("a .npy answer");
    assert_eq!(codes.shape, expected_codes.shape);
    for (a, b) in codes.values.iter().zip(&expected_codes.values) {
        assert!(
            (a - b).abs() <= 1e-5 * b.abs().max(1.0),
            "code {a} against {b}"
        );
    }
    // Rows by column name, in any order, answer the same.
    let named: Vec<serde_json::Value> = rows[..2]
        .iter()
        .map(|r| {
            names
                .iter()
                .zip(r)
                .rev()
                .map(|(n, v)| (n.clone(), serde_json::json!(v)))
                .collect()
        })
        .collect();
    let (status, body) = post(
        &score_url,
        Some(TOKEN),
        "application/json",
        serde_json::json!({ "inputs": named })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let by_name: Vec<f64> =
        serde_json::from_value(json_of(&body)["scores"].clone()).expect("scores");
    assert_eq!(by_name, scores[..2]);

    // A good client keeps being answered while every bad request is refused.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let good = {
        let (stop, answered, url, body) = (
            stop.clone(),
            answered.clone(),
            score_url.clone(),
            json_rows(&rows[..3]),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let (status, reply) = post(&url, Some(TOKEN), "application/json", body.as_bytes());
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
                answered.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut nan_row = rows[0].clone();
    nan_row[3] = f32::NAN;
    let nan_npy = ae_data::npy::to_bytes(&nan_row, &[1, 30]).expect("npy");
    let mut huge = rows[0].iter().map(|v| v.to_string()).collect::<Vec<_>>();
    huge[7] = "1e39".into();
    let big_body = vec![b' '; 2 << 20];
    let many = json_rows(&vec![rows[0].clone(); 51]);
    let mut missing = named[0].clone();
    missing.as_object_mut().expect("object").remove("mean area");
    let mut extra = named[0].clone();
    extra["colour"] = serde_json::json!(1.0);
    // (action, token, content type, body, status, what the error says)
    type Bad<'a> = (&'a str, Option<&'a str>, &'a str, Vec<u8>, u16, &'a str);
    let bad: Vec<Bad> = vec![
        (
            "score",
            None,
            "application/json",
            json_rows(&rows[..1]).into_bytes(),
            401,
            "requires a token",
        ),
        (
            "score",
            Some("wrong"),
            "application/json",
            json_rows(&rows[..1]).into_bytes(),
            401,
            "token is wrong",
        ),
        (
            "score",
            Some(TOKEN),
            "application/json",
            b"{\"inputs\": [[1, 2".to_vec(),
            400,
            "not a valid request",
        ),
        (
            "score",
            Some(TOKEN),
            "application/json",
            b"{\"inputs\": [[NaN]]}".to_vec(),
            400,
            "not a valid request",
        ),
        (
            "score",
            Some(TOKEN),
            "application/json",
            b"{\"inputs\": [[1, 2, 3]]}".to_vec(),
            422,
            "has 3 values; the model takes 30",
        ),
        (
            "score",
            Some(TOKEN),
            "application/json",
            format!("{{\"inputs\": [[{}]]}}", huge.join(",")).into_bytes(),
            422,
            "input 0, feature 7: inf is not a finite number",
        ),
        (
            "score",
            Some(TOKEN),
            "application/x-npy",
            nan_npy,
            422,
            "input 0, feature 3: NaN",
        ),
        (
            "score",
            Some(TOKEN),
            "application/json",
            b"{\"inputs\": []}".to_vec(),
            422,
            "no samples",
        ),
        (
            "score",
            Some(TOKEN),
            "application/json",
            many.into_bytes(),
            413,
            "51 samples: at most 50",
        ),
        (
            "score",
            Some(TOKEN),
            "application/json",
            big_body,
            413,
            "larger than the limit",
        ),
        (
            "score",
            Some(TOKEN),
            "application/json",
            serde_json::json!({ "inputs": [missing] })
                .to_string()
                .into_bytes(),
            422,
            "column 'mean area' is missing",
        ),
        (
            "score",
            Some(TOKEN),
            "application/json",
            serde_json::json!({ "inputs": [extra] })
                .to_string()
                .into_bytes(),
            422,
            "'colour' is not one of the model's columns",
        ),
        (
            "score",
            Some(TOKEN),
            "text/csv",
            b"1,2,3".to_vec(),
            415,
            "expected application/json",
        ),
        (
            "sing",
            Some(TOKEN),
            "application/json",
            json_rows(&rows[..1]).into_bytes(),
            404,
            "no action 'sing'",
        ),
    ];
    for (action, token, kind, body, want, says) in bad {
        let (status, reply) = post(&format!("{url}/v1/models/bc/{action}"), token, kind, &body);
        let message = json_of(&reply)["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(status, want, "{action} {kind}: {message}");
        assert!(message.contains(says), "{message:?} does not say {says:?}");
        // Every refusal names its kind, and the kind its status.
        let error: ae_serve::ApiError = serde_json::from_slice(&reply).expect("an error");
        assert_eq!(error.kind.status().as_u16(), status, "{error:?}");
    }
    let (status, reply) = post(
        &format!("{url}/v1/models/nope/score"),
        Some(TOKEN),
        "application/json",
        b"{}",
    );
    assert_eq!(status, 404);
    assert!(
        json_of(&reply)["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no model 'nope': this server has bc")
    );
    assert_eq!(
        get(&format!("{url}/health"), None).0,
        200,
        "health needs no token"
    );
    assert_eq!(get(&format!("{url}/metrics"), None).0, 401);
    stop.store(true, Ordering::Relaxed);
    good.join().expect("the good client was always answered");
    assert!(answered.load(Ordering::Relaxed) > 0);

    // Concurrent single-sample requests share model calls: counted from here on, as
    // the requests before held several samples each.
    let metric = |metrics: &str, name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    let calls = |metrics: &str| {
        (
            metric(metrics, "ae_batch_size_count"),
            metric(metrics, "ae_batch_size_sum"),
        )
    };
    let (status, before) = get(&format!("{url}/metrics"), Some(TOKEN));
    assert_eq!(status, 200);
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let (url, body) = (score_url.clone(), json_rows(&rows[c..c + 1]));
            std::thread::spawn(move || {
                for _ in 0..10 {
                    assert_eq!(
                        post(&url, Some(TOKEN), "application/json", body.as_bytes()).0,
                        200
                    );
                }
            })
        })
        .collect();
    clients
        .into_iter()
        .for_each(|c| c.join().expect("a client"));
    let (status, metrics) = get(&format!("{url}/metrics"), Some(TOKEN));
    assert_eq!(status, 200);
    let ((calls_before, samples_before), (calls_after, samples_after)) =
        (calls(&before), calls(&metrics));
    let (batches, samples) = (calls_after - calls_before, samples_after - samples_before);
    assert_eq!(samples, 80.0, "8 clients' 10 single-sample requests");
    assert!(
        batches < samples,
        "{samples} single-sample requests in {batches} model calls: nothing gathered"
    );
    for code in ["401", "400", "413", "415", "422", "404"] {
        assert!(
            metrics.contains(&format!("code=\"{code}\"")),
            "no {code} counted: {metrics}"
        );
    }
    assert!(metric(&metrics, "ae_request_errors_total") >= 15.0);

    let status = sigterm(&mut child);
    assert!(status.success(), "SIGTERM: {status:?}");
}

mod clients;
mod protocol;
mod routes;
