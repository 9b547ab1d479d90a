//! The library on its own, as a service of a user's would use it: an artifact written
//! in a temporary folder (an untrained MLP: its numbers are compared, not judged), a
//! server started on it and called over HTTP by a real client. Well under a second.

use std::path::Path;

use ae_models::{MlpAutoencoderConfig, ModelConfig};
use burn::prelude::Device;
use serde_json::{Value, json};

use crate::{ApiError, ErrorKind, Exposure, Limits, Server, ServerConfig, StartError};

const FEATURES: usize = 784;

/// An artifact of an untrained MLP autoencoder of Fashion-MNIST's images.
fn artifact(dir: &Path) {
    let config = ModelConfig::Mlp(MlpAutoencoderConfig::new(FEATURES, vec![16], 4));
    let model = config.init(&Device::flex()).expect("an MLP");
    let saved = json!({ "model": config, "dataset": "fashion-mnist-sample" });
    std::fs::write(dir.join(ae_infer::CONFIG_FILE), saved.to_string()).expect("config.json");
    ae_infer::save_module(&model, &dir.join(ae_infer::MODEL_FILE)).expect("the weights");
}

fn config(dir: &Path) -> ServerConfig {
    ServerConfig {
        models: vec![("m".into(), dir.to_path_buf())],
        exposure: Exposure::local(),
        port: 0,
        limits: Limits {
            max_rows: 3,
            ..Limits::DEFAULT
        },
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// The status and the JSON body of a request (a POST when `body` is given).
fn call(url: &str, body: Option<&str>) -> (u16, Value) {
    let mut response = match body {
        Some(body) => agent()
            .post(url)
            .header("Content-Type", "application/json")
            .send(body),
        None => agent().get(url).call(),
    }
    .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("a body");
    (status, serde_json::from_str(&text).expect("a JSON body"))
}

#[test]
fn a_service_serves_an_artifact_with_typed_answers_and_kinds_of_refusal() {
    let home = tempfile::tempdir().expect("a folder");
    artifact(home.path());
    let rows: Vec<f32> = (0..2 * FEATURES).map(|i| (i % 97) as f32 / 97.0).collect();
    let predictor = ae_infer::Artifact::open(home.path())
        .and_then(|a| a.load(&Device::flex()))
        .expect("the artifact loads");
    let expected = predictor.encode(&rows).expect("codes");

    let server = Server::start(config(home.path()), &Device::flex()).expect("it starts");
    let url = format!("http://{}", server.addr());
    assert_eq!(
        call(&format!("{url}/health"), None),
        (200, json!({"status": "ok", "models": ["m"]}))
    );
    let body = json!({ "inputs": [&rows[..FEATURES], &rows[FEATURES..]] }).to_string();
    let (status, answer) = call(&format!("{url}/v1/models/m/encode"), Some(&body));
    assert_eq!(status, 200, "{answer}");
    let codes: Vec<Vec<f32>> = serde_json::from_value(answer["codes"].clone()).expect("codes");
    let codes: Vec<f32> = codes.concat();
    assert_eq!(codes.len(), expected.len());
    for (a, b) in codes.iter().zip(&expected) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} against {b}");
    }
    let (status, answer) = call(&format!("{url}/v1/models/m/score"), Some(&body));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["scores"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        (&answer["threshold"], &answer["anomalous"]),
        (&Value::Null, &Value::Null)
    );
    assert!(
        answer.get("errors").is_none(),
        "errors only when asked: {answer}"
    );
    let infer = json!({"inputs": [{"name": "input", "datatype": "FP32", "shape": [2, FEATURES],
                                   "data": rows}], "outputs": [{"name": "codes"}]});
    let (status, answer) = call(
        &format!("{url}/v2/models/m/infer"),
        Some(&infer.to_string()),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outputs"][0]["shape"], json!([2, 4]));
    let data: Vec<f32> =
        serde_json::from_value(answer["outputs"][0]["data"].clone()).expect("data");
    assert_eq!(data, codes, "the protocol's codes are the same numbers");

    let (status, document) = call(&format!("{url}/openapi.json"), None);
    assert_eq!(status, 200);
    assert_eq!(
        document,
        serde_json::from_str::<Value>(crate::OPENAPI).expect("JSON")
    );

    let one = json!({ "inputs": [&rows[..FEATURES]] }).to_string();
    let four = json!({ "inputs": vec![&rows[..FEATURES]; 4] }).to_string();
    let refused: [(String, Option<&str>, ErrorKind); 7] = [
        (
            format!("{url}/v1/models/m/encode"),
            Some(&four),
            ErrorKind::TooLarge,
        ),
        (
            format!("{url}/v1/models/m/encode"),
            Some("{\"inputs\": [[1, 2]]}"),
            ErrorKind::InvalidInput,
        ),
        (
            format!("{url}/v1/models/m/encode"),
            Some("{\"inputs\": "),
            ErrorKind::InvalidRequest,
        ),
        (
            format!("{url}/v1/models/x/encode"),
            Some(&one),
            ErrorKind::ModelNotFound,
        ),
        (
            format!("{url}/v1/models/m/sing"),
            Some(&one),
            ErrorKind::NotFound,
        ),
        (
            format!("{url}/v2/models/m/versions/2/ready"),
            None,
            ErrorKind::VersionNotFound,
        ),
        (format!("{url}/nowhere"), None, ErrorKind::NotFound),
    ];
    for (url, body, kind) in refused {
        let (status, answer) = call(&url, body);
        let error: ApiError = serde_json::from_value(answer).expect("an error answer");
        assert_eq!(
            (status, error.kind),
            (kind.status().as_u16(), kind),
            "{url}: {error}"
        );
    }
    server.stop().expect("it stops");
}

#[test]
fn a_server_that_cannot_serve_as_asked_does_not_start() {
    let home = tempfile::tempdir().expect("a folder");
    artifact(home.path());
    let device = Device::flex();
    let start = |change: &dyn Fn(&mut ServerConfig)| {
        let mut config = config(home.path());
        change(&mut config);
        Server::start(config, &device).err().map(|e| e.to_string())
    };
    let named = |name: &'static str| move |c: &mut ServerConfig| c.models[0].0 = name.into();
    assert!(start(&|_| {}).is_none());
    for (refusal, says) in [
        (start(&|c| c.models.clear()), "no model to serve"),
        (start(&named("a/b")), "model 'a/b': a name is letters"),
        (start(&named("")), "model '': a name is letters"),
        (
            start(&|c| c.models.push(c.models[0].clone())),
            "model 'm': two models of that name",
        ),
        (start(&|c| c.models[0].1.push("missing")), "model m: "),
        (
            start(&|c| c.exposure.bind = [0, 0, 0, 0].into()),
            "--bind 0.0.0.0",
        ),
    ] {
        let refusal = refusal.unwrap_or_default();
        assert!(refusal.contains(says), "{refusal:?} does not say {says:?}");
    }
    let open = Exposure {
        token: Some(" x".into()),
        ..Exposure::local()
    };
    let err = open
        .check(crate::RISK, crate::TOKEN_ENV)
        .expect_err("a padded token");
    assert!(matches!(StartError::from(err), StartError::Exposure(_)));
}
