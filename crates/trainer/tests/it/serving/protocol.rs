//! The Open Inference Protocol (v2) routes, called by an independent client of the
//! protocol — Triton's Python client (`tritonclient[http]`, from PyPI) — and checked
//! against the server's own routes on the same rows, which the other tests check
//! against `trainer score` and `trainer encode`. About 3 s.

use super::*;

/// Asks the server at `url` through tritonclient for the metadata of `bc` and for the
/// codes, scores and decisions of `rows`; prints them as JSON.
const CLIENT: &str = r#"
import json, sys
import numpy as np
import tritonclient.http as triton

url, rows = sys.argv[1], np.array(json.loads(sys.argv[2]), dtype=np.float32)
client = triton.InferenceServerClient(url=url)
assert client.is_server_live() and client.is_server_ready()
assert client.is_model_ready("bc")
meta = client.get_model_metadata("bc")
x = triton.InferInput("input", list(rows.shape), "FP32")
x.set_data_from_numpy(rows, binary_data=False)
wanted = [triton.InferRequestedOutput(n, binary_data=False) for n in ("codes", "scores", "anomalous")]
result = client.infer("bc", inputs=[x], outputs=wanted, request_id="r1")
print(json.dumps({
    "inputs": meta["inputs"],
    "outputs": [o["name"] for o in meta["outputs"]],
    "id": result.get_response()["id"],
    "codes": result.as_numpy("codes").tolist(),
    "scores": result.as_numpy("scores").tolist(),
    "anomalous": result.as_numpy("anomalous").tolist(),
}))
"#;

#[test]
fn an_open_inference_protocol_client_gets_the_servers_own_answers() {
    let Some(python) = python_with("tritonclient.http, numpy", "the inference protocol") else {
        return;
    };
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    let artifact = shared_benign();
    let (_, rows) = table_rows(5);
    let (mut child, url) = start(h, &["--artifact", &format!("bc={}", artifact.display())]);
    let inputs = serde_json::json!({ "inputs": rows }).to_string();
    let own = |action: &str| {
        let (status, body) = post(
            &format!("{url}/v1/models/bc/{action}"),
            None,
            "application/json",
            inputs.as_bytes(),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        json_of(&body)
    };
    let (scored, encoded) = (own("score"), own("encode"));

    let out = run(Command::new(&python)
        .args(["-c", CLIENT, url.trim_start_matches("http://")])
        .arg(serde_json::json!(rows).to_string()));
    assert!(out.status.success(), "{}", stderr(&out));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the client's JSON");
    assert_eq!(got["inputs"][0]["shape"], serde_json::json!([-1, 30]));
    assert_eq!(
        got["outputs"],
        serde_json::json!(["codes", "reconstructions", "scores", "anomalous", "errors"])
    );
    assert_eq!(got["id"], "r1");
    assert_eq!(got["anomalous"], scored["anomalous"]);
    let close = |a: &serde_json::Value, b: &serde_json::Value| {
        let (a, b) = (a.as_f64().expect("a number"), b.as_f64().expect("a number"));
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} against {b}");
    };
    for (a, b) in got["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .zip(scored["scores"].as_array().expect("scores"))
    {
        close(a, b);
    }
    let codes = encoded["codes"].as_array().expect("codes");
    assert_eq!(got["codes"].as_array().map(Vec::len), Some(codes.len()));
    for (a, b) in got["codes"].as_array().expect("codes").iter().zip(codes) {
        for (x, y) in a
            .as_array()
            .expect("row")
            .iter()
            .zip(b.as_array().expect("row"))
        {
            close(x, y);
        }
    }

    // What the protocol refuses, and how.
    let infer = format!("{url}/v2/models/bc/infer");
    let tensor = |shape: serde_json::Value, data: serde_json::Value| serde_json::json!({ "inputs": [{ "name": "input", "datatype": "FP32", "shape": shape, "data": data }] });
    let flat: Vec<f32> = rows[0].clone();
    for (url, body, status, says) in [
        (
            infer.clone(),
            serde_json::json!({ "inputs": [{ "name": "input", "datatype": "FP32", "shape": [1, 30], "data": flat }], "outputs": [{ "name": "logits" }] }),
            400,
            "no output 'logits': this model gives codes, reconstructions, scores, anomalous, errors",
        ),
        (
            infer.clone(),
            tensor(serde_json::json!([1, 29]), serde_json::json!(flat[..29])),
            422,
            "expected [n, 30]",
        ),
        (
            infer.clone(),
            tensor(serde_json::json!([2, 30]), serde_json::json!(flat)),
            400,
            "holds 30 values; its shape [2, 30] says 60",
        ),
        (
            format!("{url}/v2/models/bc/versions/2/infer"),
            tensor(serde_json::json!([1, 30]), serde_json::json!(flat)),
            404,
            "no version '2'",
        ),
    ] {
        let (got, reply) = post(&url, None, "application/json", body.to_string().as_bytes());
        let message = json_of(&reply)["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(got, status, "{message}");
        assert!(message.contains(says), "{message:?} does not say {says:?}");
    }
    // Nested data in the shape of images-like tensors is taken in row-major order.
    let nested: Vec<Vec<f32>> = flat.chunks(10).map(<[f32]>::to_vec).collect();
    let (status, reply) = post(
        &infer,
        None,
        "application/json",
        tensor(serde_json::json!([1, 3, 10]), serde_json::json!([nested]))
            .to_string()
            .as_bytes(),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    let answer = json_of(&reply);
    let scores = answer["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .find(|o| o["name"] == "scores")
        .expect("scores")
        .clone();
    close(&scores["data"][0], &scored["scores"][0]);

    assert!(sigterm(&mut child).success());
}
