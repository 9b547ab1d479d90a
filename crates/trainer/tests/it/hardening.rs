//! New data as a hostile or unlucky user gives it: scores that overflow, damaged
//! weights, outputs that are the input, temporary files of a killed run, a table whose
//! header names a column twice, and a file of one endless line under a memory cap.
//! On the shared breast-cancer model (its threshold saved); about 5 s.

use std::io::Write;

use super::*;

fn fails(home: &Path, args: &[&str]) -> String {
    let out = run(trainer(home).args(args).args(["--backend", "flex"]));
    assert!(!out.status.success(), "succeeded: {args:?}");
    stderr(&out)
}

fn ok(home: &Path, args: &[&str]) -> String {
    let out = run(trainer(home).args(args).args(["--backend", "flex"]));
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The breast-cancer table's first `n` rows as CSV text, its label column left out.
fn table_text(n: usize) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(breast_cancer()).expect("the table");
    let header = reader.headers().expect("header").clone();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&j| &header[j] != "diagnosis")
        .collect();
    let names = keep.iter().map(|&j| header[j].to_string()).collect();
    let rows = reader
        .records()
        .take(n)
        .map(|r| {
            let r = r.expect("record");
            keep.iter().map(|&j| r[j].to_string()).collect()
        })
        .collect();
    (names, rows)
}

/// `score --artifact ARTIFACT --input INPUT --out OUT MORE…`.
fn score_cmd<'a>(
    artifact: &'a str,
    input: &'a str,
    out: &'a str,
    more: &[&'a str],
) -> Vec<&'a str> {
    [
        &[
            "score",
            "--artifact",
            artifact,
            "--input",
            input,
            "--out",
            out,
        ][..],
        more,
    ]
    .concat()
}

fn write_table(path: &Path, names: &[String], rows: &[Vec<String>]) {
    let mut text = names.join(",");
    for row in rows {
        text.push('\n');
        text.push_str(&row.join(","));
    }
    std::fs::write(path, text + "\n").expect("written");
}

#[test]
fn overflowing_scores_damaged_weights_and_clashing_files_fail_closed() {
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    let artifact = shared::copy(&shared_benign(), h, "bc");
    let a = artifact.to_str().expect("utf-8");
    let (names, rows) = table_text(3);

    // A row of values 1.5e19 standard deviations out, each a valid f32 and within
    // what the standardisation takes: its squared error overflows. It is flagged
    // anomalous and written as not a number; the two real rows beside it (the
    // control) keep finite scores.
    let stats: serde_json::Value = serde_json::from_slice(
        &std::fs::read(artifact.join("standardize.json")).expect("statistics"),
    )
    .expect("JSON");
    let far: Vec<String> = (0..names.len())
        .map(|j| {
            let (m, s) = (stats["mean"][j].as_f64(), stats["std"][j].as_f64());
            let v = m.expect("a mean") + 1.5e19 * s.expect("a std");
            format!("{:e}", v as f32)
        })
        .collect();
    let mut huge = rows.clone();
    huge[1] = far;
    write_table(&h.join("huge.csv"), &names, &huge);
    let said = ok(h, &score_cmd(a, "huge.csv", "s.csv", &[]));
    let mut reader = csv::Reader::from_path(h.join("s.csv")).expect("scores");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let score = |i: usize| records[i][1].parse::<f64>().expect("a number, NaN or inf");
    assert!(!score(1).is_finite(), "{:?}", records[1]);
    assert_eq!(
        &records[1][2], "1",
        "a score that is not a number is anomalous"
    );
    assert!(score(0).is_finite() && score(2).is_finite());
    assert!(
        said.contains("1 samples have a score that is not a finite number"),
        "{said}"
    );

    // The weights' checksum: `sha256sum` reads it; a flipped byte is an error naming
    // the file, where the same command on the intact copy (above) succeeded.
    let checked = Command::new("sha256sum")
        .args(["-c", "model.bpk.sha256"])
        .current_dir(&artifact)
        .output()
        .expect("sha256sum runs");
    assert!(checked.status.success(), "{checked:?}");
    let flipped = shared::copy(&artifact, h, "flipped");
    let weights = flipped.join("model.bpk");
    let mut bytes = std::fs::read(&weights).expect("weights");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&weights, &bytes).expect("written");
    let f = flipped.to_str().expect("utf-8");
    let err = fails(h, &score_cmd(f, "huge.csv", "f.csv", &[]));
    assert!(
        err.contains("model.bpk: the weights are damaged") && err.contains("model.bpk.sha256"),
        "{err}"
    );
    assert!(!h.join("f.csv").exists());

    // Outputs are never the input, nor one another, even through a link.
    let input = std::fs::read(h.join("huge.csv")).expect("input");
    let err = fails(h, &score_cmd(a, "huge.csv", "huge.csv", &["--force"]));
    assert!(err.contains("that is the input file"), "{err}");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(h.join("huge.csv"), h.join("link.csv")).expect("a link");
        let err = fails(
            h,
            &score_cmd(
                a,
                "huge.csv",
                "s2.csv",
                &["--errors", "link.csv", "--force"],
            ),
        );
        assert!(
            err.contains("--errors link.csv: that is the input file"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(h.join("huge.csv")).expect("input"), input);
    let err = fails(
        h,
        &score_cmd(a, "huge.csv", "e.csv", &["--errors", "./e.csv"]),
    );
    assert!(
        err.contains("--errors ./e.csv: --out is the same file"),
        "{err}"
    );

    // A killed run's temporary files are removed by the next run of the same output.
    let stale = h.join(".t.csv.4294967294-0.tmp");
    std::fs::write(&stale, "cut short").expect("written");
    ok(h, &score_cmd(a, "huge.csv", "t.csv", &[]));
    assert!(!stale.exists(), "the stale temporary file is still there");

    // A header naming a column twice is refused, by both names' places (every
    // column of the model is there; one comes again at the end with another value,
    // which would otherwise replace the first).
    let mut twice = names.clone();
    twice.push(names[0].clone());
    let doubled: Vec<Vec<String>> = rows
        .iter()
        .map(|r| [&r[..], &["1e6".to_string()]].concat())
        .collect();
    write_table(&h.join("twice.csv"), &twice, &doubled);
    let err = fails(h, &score_cmd(a, "twice.csv", "w.csv", &[]));
    let last = names.len();
    assert!(
        err.contains(&format!(
            "columns 0 and {last} are both named '{}'",
            names[0]
        )),
        "{err}"
    );

    // One endless line (4 GiB, sparse): refused at the line limit, under a memory cap
    // of 2 GiB that reading it whole would break, with the value cut in the message.
    let endless = h.join("endless.csv");
    let file = std::fs::File::create(&endless).expect("created");
    file.set_len(4 << 30).expect("sized");
    let mut head = std::fs::OpenOptions::new()
        .write(true)
        .open(&endless)
        .expect("open");
    head.write_all(b"x").expect("written");
    let out = run(Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2097152 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_trainer"))
        .args([
            "score",
            "--artifact",
            a,
            "--input",
            "endless.csv",
            "--out",
            "x.csv",
            "--backend",
            "flex",
        ])
        .current_dir(h)
        .env("XDG_CACHE_HOME", h.join("cache")));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("line 1 is longer than 16777216 bytes"),
        "{err}"
    );
    assert!(err.len() < 2000, "a long echo: {} bytes", err.len());
}
