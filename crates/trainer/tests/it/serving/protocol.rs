//! The Open Inference Protocol (v2) routes, called by an independent client of the
//! protocol — Triton's Python client (`tritonclient[http]`, from PyPI) — and checked
//! against the server's own routes on the same rows, which the other tests check
//! against `trainer score` and `trainer encode`; and the server's OpenAPI document,
//! read by an independent validator (`openapi-spec-validator`, from PyPI), every
//! route it lists called and every answer checked against its schema. About 4 s.

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

/// Fetches the OpenAPI document of the server at `url`, validates it, then calls every
/// operation it lists — a good request and one naming no model, or a malformed body —
/// and checks each request against the document's schema of the body, and each
/// answer's status and body against the responses the document lists for it. Prints
/// what it checked as JSON.
const OPENAPI_CLIENT: &str = r#"
import json, sys, urllib.error, urllib.request
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

url, row = sys.argv[1], json.loads(sys.argv[2])
doc = json.load(urllib.request.urlopen(url + "/openapi.json"))
validate(doc)

def check(schema, value, what):
    errors = list(Draft202012Validator({**schema, "components": doc["components"]}).iter_errors(value))
    assert not errors, f"{what}: {errors[0].message}"

def call(method, path, body):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method.upper(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, answer.headers.get_content_type(), answer.read()
    except urllib.error.HTTPError as refusal:
        return refusal.code, refusal.headers.get_content_type(), refusal.read()

bodies = {
    "RowsRequest": {"inputs": [row], "errors": True},
    "InferRequest": {"id": "r2", "inputs": [{"name": "input", "datatype": "FP32",
                                           "shape": [1, len(row)], "data": row}]},
}
checked = []
for template, operations in doc["paths"].items():
    for method, op in operations.items():
        params = {p["name"]: p for p in op.get("parameters", [])}
        actions = params.get("action", {}).get("schema", {}).get("enum", [None])
        for action, model in [(a, "bc") for a in actions] + [(actions[0], "nope")]:
            if "name" not in params and model == "nope":
                continue
            path = template.replace("{name}", model).replace("{version}", "1")
            path = path.replace("{action}", action or "")
            body = None
            if "requestBody" in op:
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                body = bodies[schema["$ref"].rsplit("/", 1)[1]]
                check(schema, body, f"the request to {path}")
            for sent in [body] + ([{"inputs": 5}] if body is not None and model == "bc" else []):
                status, kind, raw = call(method, path, sent)
                response = op["responses"].get(str(status))
                assert response is not None, f"{method} {path}: {status} is not documented"
                if "$ref" in response:
                    response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                assert kind in response["content"], f"{method} {path}: {kind} answer not documented"
                if kind == "application/json":
                    check(response["content"][kind]["schema"], json.loads(raw), f"{method} {path} {status}")
                checked.append([method, path, status])
print(json.dumps(checked))
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

    // The OpenAPI document is valid, and the server answers as it says.
    if let Some(python) = python_with("jsonschema, openapi_spec_validator", "the OpenAPI document")
    {
        let out = run(Command::new(&python)
            .args(["-c", OPENAPI_CLIENT, &url])
            .arg(serde_json::json!(rows[0]).to_string()));
        assert!(out.status.success(), "{}", stderr(&out));
        let checked: Vec<(String, String, u16)> =
            serde_json::from_slice(&out.stdout).expect("what the client checked");
        let answered =
            |path: &str, status: u16| checked.iter().any(|(_, p, s)| p == path && *s == status);
        for action in ["encode", "reconstruct", "score"] {
            let path = format!("/v1/models/bc/{action}");
            assert!(
                answered(&path, 200) && answered(&path, 400),
                "{path}: {checked:?}"
            );
        }
        for path in [
            "/health",
            "/openapi.json",
            "/metrics",
            "/v2",
            "/v2/models/bc/infer",
        ] {
            assert!(answered(path, 200), "{path}: {checked:?}");
        }
        assert!(
            answered("/v2/models/nope/versions/1/infer", 404),
            "{checked:?}"
        );
        // 14 operations, 16 with the three actions, each called with a good request;
        // 7 of them once more for a model that is not there (the three actions share
        // one), the 5 with a body once more with a malformed one.
        assert_eq!(checked.len(), 16 + 7 + 5, "every operation: {checked:?}");
    }

    assert!(sigterm(&mut child).success());
}
