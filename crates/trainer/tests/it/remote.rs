//! Training across machines (feature `remote`): two `trainer serve` processes on this
//! machine stand in for two nodes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use super::*;

/// A `trainer serve` process, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
    /// The line it printed once listening.
    line: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `trainer serve --port 0` on the CPU and reads the port it listens on.
fn server(home: &Path) -> Server {
    server_with(home, &[])
}

/// Starts `trainer serve --port 0 ARGS` on the CPU and reads the port it listens on.
fn server_with(home: &Path, args: &[&str]) -> Server {
    let mut child = trainer(home)
        .args(["serve", "--port", "0", "--backend", "flex"])
        .args(args)
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
    Server {
        child,
        port,
        line: first,
    }
}

/// Runs `cmd`, killing it if it has not ended within `secs` seconds.
fn run_within(cmd: &mut std::process::Command, secs: u64) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the trainer binary runs");
    let id = child.id();
    let (done, waited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if waited
            .recv_timeout(std::time::Duration::from_secs(secs))
            .is_err()
        {
            // Still running: SIGKILL, so that the test fails instead of hanging.
            let _ = std::process::Command::new("kill")
                .args(["-9", &id.to_string()])
                .status();
        }
    });
    let out = child.wait_with_output().expect("output");
    let _ = done.send(());
    println!("--- stdout\n{}", String::from_utf8_lossy(&out.stdout));
    println!("--- stderr\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A server listens on loopback unless told otherwise, and beyond it only with a
/// token; a client without the token, or with another, is refused, and one with it
/// trains.
#[test]
fn servers_are_loopback_by_default_and_tokens_are_checked() {
    let home = tempfile::tempdir().expect("temp dir");
    let open = server(home.path());
    assert!(
        open.line.contains("of 127.0.0.1 (ws://127.0.0.1:"),
        "{}",
        open.line
    );
    drop(open);

    // Beyond loopback: refused without a token, before any device is taken.
    let out = run_within(
        trainer(home.path()).args(["serve", "--port", "0", "--bind", "0.0.0.0"]),
        60,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("--bind 0.0.0.0") && err.contains("--token"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    let insecure = server_with(home.path(), &["--bind", "0.0.0.0", "--insecure-no-token"]);
    assert!(insecure.line.contains("of 0.0.0.0"), "{}", insecure.line);
    drop(insecure);

    let guarded = server_with(
        home.path(),
        &["--bind", "0.0.0.0", "--token", "a-shared-secret"],
    );
    assert!(guarded.line.contains("token required"), "{}", guarded.line);
    let url = format!("ws://127.0.0.1:{}", guarded.port);
    let train = |token: Option<&str>, name: &str| {
        let mut cmd = trainer(home.path());
        cmd.arg("train")
            .args(TINY)
            .args(["--remote", url.as_str(), "--out"])
            .arg(home.path().join(name))
            .env_remove("AE_REMOTE_TOKEN");
        if let Some(token) = token {
            cmd.args(["--token", token]);
        }
        run_within(&mut cmd, 120)
    };
    for (token, name) in [(None, "without"), (Some("another-secret"), "wrong")] {
        let out = train(token, name);
        assert!(!out.status.success(), "{name} token: trained");
        assert!(
            out.status.code().is_some(),
            "{name} token: hung until killed"
        );
        assert!(
            stderr(&out).contains("refused the token"),
            "{name} token: {}",
            stderr(&out)
        );
        assert!(!home.path().join(name).join("model.bpk").exists());
    }
    let out = train(Some("a-shared-secret"), "right");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(home.path().join("right/model.bpk").is_file());
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
