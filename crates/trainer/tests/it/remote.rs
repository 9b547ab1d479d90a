//! Training across machines (feature `remote`): two `trainer serve` processes on this
//! machine stand in for two nodes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use super::*;

/// A `trainer serve` process, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `trainer serve --port 0` on the CPU and reads the port it listens on.
fn server(home: &Path) -> Server {
    let mut child = trainer(home)
        .args(["serve", "--port", "0", "--backend", "flex"])
        .stdout(Stdio::piped())
        // The server logs each session; a client that goes away is logged as an error.
        .stderr(Stdio::null())
        .spawn()
        .expect("trainer serve starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout);
    let mut first = String::new();
    lines.read_line(&mut first).expect("serve prints a line");
    // Keep draining whatever the server prints later.
    std::thread::spawn(move || for _ in lines.lines() {});
    let port = first
        .split("on port ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {first:?}"));
    Server { child, port }
}

#[test]
fn trains_data_parallel_on_two_remote_servers() {
    let home = tempfile::tempdir().expect("temp dir");
    let (a, b) = (server(home.path()), server(home.path()));
    let urls = format!("ws://127.0.0.1:{},ws://127.0.0.1:{}", a.port, b.port);
    let dir = home.path().join("remote");
    let args = [
        "--dataset",
        "fashion-mnist-sample",
        "--limit",
        "1024",
        "--epochs",
        "3",
        "--hidden",
        "32",
        "--latent",
        "8",
        "--remote",
        &urls,
    ];
    let out = run(trainer(home.path())
        .arg("train")
        .args(args)
        .arg("--out")
        .arg(&dir));
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("2 remote device(s)"), "{stdout}");
    let m = metrics(&dir);
    let losses: Vec<f64> = (0..3)
        .map(|e| epoch_value(&m, e, "train", "Loss"))
        .collect();
    assert!(
        losses.windows(2).all(|w| w[1] < w[0]),
        "loss falls every epoch: {losses:?}"
    );
    // The artifact is an ordinary one: it reloads and evaluates on a local device, and
    // it is the model two local workers under the same strategy train.
    let eval = |dir: &Path| {
        let out = run(trainer(home.path())
            .args(["eval", "--json", "--backend", "flex", "--artifact"])
            .arg(dir));
        assert!(out.status.success(), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        report["mse_per_pixel"].as_f64().unwrap_or(f64::NAN)
    };
    let local = home.path().join("local");
    let out = train_cli_on(
        home.path(),
        &local,
        "flex",
        &[&args[..args.len() - 2], &["--devices", "2"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (remote_mse, local_mse) = (eval(&dir), eval(&local));
    assert!(
        (remote_mse - local_mse).abs() < 1e-3 * local_mse,
        "remote {remote_mse} vs two local workers {local_mse}"
    );

    // DDP across servers is refused (burn's collectives stay within one server), and
    // a server that is not there is named.
    let refused = [
        (
            vec!["--remote", urls.as_str(), "--parallelism", "ddp"],
            "one server",
        ),
        (vec!["--remote", "ws://127.0.0.1:9"], "cannot connect"),
        (vec!["--remote", "http://127.0.0.1:9"], "ws://HOST:PORT"),
    ];
    for (i, (flags, expected)) in refused.iter().enumerate() {
        let out = run(trainer(home.path())
            .arg("train")
            .args(TINY)
            .args(flags)
            .arg("--out")
            .arg(home.path().join(format!("refused-{i}"))));
        assert!(!out.status.success(), "{flags:?} succeeded");
        assert!(
            stderr(&out).contains(expected),
            "{flags:?}: {}",
            stderr(&out)
        );
    }
}
