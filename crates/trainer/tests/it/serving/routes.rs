//! The server's other routes and refusals: its list of models, reconstructions, 503
//! under load and 504 past its time limit.

use super::*;

/// The answers the first test does not reach: `GET /v1/models` lists each model with
/// its sizes, columns and threshold; `reconstruct` answers what the command line's
/// `reconstruct` writes, as JSON and as `.npy`; with a queue of one request, a burst
/// of concurrent requests gets 503 for those that find it full while the rest are
/// answered; a server whose requests may take no time answers 504; each refusal is
/// counted and leaves the server answering.
#[test]
fn the_inference_server_lists_reconstructs_and_sheds_load() {
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    let dir = shared_benign();
    let artifact = dir.to_str().expect("utf-8");
    let (names, rows) = table_rows(20);
    let csv_in = rows_csv(h, &names, &rows);
    let o = run(trainer(h).args([
        "reconstruct",
        "--artifact",
        artifact,
        "--input",
        csv_in.to_str().expect("utf-8"),
        "--out",
        "rec.npy",
        "--backend",
        "flex",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = ae_data::npy::read(&h.join("rec.npy")).expect("reconstructions");
    assert_eq!(expected.shape, vec![20, 30]);
    let threshold: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("threshold.json")).expect("threshold.json"),
    )
    .expect("JSON");

    let (mut child, url) = start(
        h,
        &[
            "--artifact",
            &format!("bc={artifact}"),
            "--queue",
            "1",
            "--max-batch",
            "1",
        ],
    );
    let (status, body) = get(&format!("{url}/v1/models"), None);
    assert_eq!(status, 200, "{body}");
    let listed = json_of(body.as_bytes());
    let models = listed["models"].as_array().expect("a list of models");
    assert_eq!(models.len(), 1, "{listed}");
    let bc = &models[0];
    assert_eq!(bc["name"], "bc");
    assert_eq!(bc["features"], 30);
    assert_eq!(bc["family"], "mlp");
    assert!(bc["latent"].as_u64().is_some_and(|l| l > 0), "{bc}");
    assert_eq!(bc["columns"], serde_json::json!(names));
    assert_eq!(bc["threshold"], threshold, "{bc} against {threshold}");

    // Reconstructions in the table's units, as the command line writes them.
    let rec_url = format!("{url}/v1/models/bc/reconstruct");
    let body = serde_json::json!({ "inputs": rows }).to_string();
    let (status, reply) = post(&rec_url, None, "application/json", body.as_bytes());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    let answer: Vec<Vec<f64>> =
        serde_json::from_value(json_of(&reply)["reconstructions"].clone()).expect("rows");
    let answer: Vec<f64> = answer.into_iter().flatten().collect();
    assert_eq!(answer.len(), expected.values.len());
    for (a, b) in answer.iter().zip(&expected.values) {
        assert!(
            (a - b).abs() <= 1e-4 * b.abs().max(1.0),
            "server {a}, command line {b}"
        );
    }
    let npy = ae_data::npy::to_bytes(
        &rows.iter().flatten().copied().collect::<Vec<f32>>(),
        &[rows.len(), 30],
    )
    .expect("npy");
    let (status, reply) = post(&rec_url, None, "application/x-npy", &npy);
    assert_eq!(status, 200);
    let array = ae_data::npy::parse(&reply).expect("a .npy answer");
    assert_eq!(array.shape, expected.shape);
    // The same f32 values: JSON writes each as its shortest f64 text.
    assert_eq!(array.values.len(), answer.len());
    for (npy, json) in array.values.iter().zip(&answer) {
        assert!(
            (npy - json).abs() <= 1e-6 * json.abs(),
            "the .npy answer {npy} against JSON's {json}"
        );
    }

    // A burst of large requests against a queue of one: those that find it full are
    // refused at once with 503, the others answered. Which ones is a matter of timing,
    // so bursts repeat until one sees a 503 (the first does, in practice).
    let big = ae_data::npy::to_bytes(
        &rows
            .iter()
            .cycle()
            .take(4000)
            .flatten()
            .copied()
            .collect::<Vec<f32>>(),
        &[4000, 30],
    )
    .expect("npy");
    let big = Arc::new(big);
    let mut shed = 0;
    for _ in 0..20 {
        let burst: Vec<_> = (0..16)
            .map(|_| {
                let (url, body) = (rec_url.clone(), big.clone());
                std::thread::spawn(move || post(&url, None, "application/x-npy", &body))
            })
            .collect();
        for client in burst {
            let (status, reply) = client.join().expect("a client");
            match status {
                200 => {}
                503 => {
                    let message = json_of(&reply)["error"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    assert!(message.contains("busy"), "{message}");
                    shed += 1;
                }
                other => panic!("{other}: {}", String::from_utf8_lossy(&reply)),
            }
        }
        if shed > 0 {
            break;
        }
    }
    assert!(shed > 0, "no request found the queue of one full");
    let (status, _) = post(&rec_url, None, "application/json", body.as_bytes());
    assert_eq!(status, 200, "answered again after the burst");
    let (_, metrics) = get(&format!("{url}/metrics"), None);
    assert!(metrics.contains("code=\"503\""), "{metrics}");
    assert!(sigterm(&mut child).success());

    // No time to answer: 504, and the server goes on (health, a second 504).
    let (mut child, url) = start(
        h,
        &["--artifact", &format!("bc={artifact}"), "--timeout-s", "0"],
    );
    for _ in 0..2 {
        let rec_url = format!("{url}/v1/models/bc/reconstruct");
        let (status, reply) = post(&rec_url, None, "application/json", body.as_bytes());
        assert_eq!(status, 504, "{}", String::from_utf8_lossy(&reply));
        let message = json_of(&reply)["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(message.contains("no answer within 0 s"), "{message}");
        assert_eq!(get(&format!("{url}/health"), None).0, 200);
    }
    let (_, metrics) = get(&format!("{url}/metrics"), None);
    assert!(
        metrics.contains("ae_requests_total{route=\"infer\",code=\"504\"} 2"),
        "{metrics}"
    );
    assert!(sigterm(&mut child).success());
}
