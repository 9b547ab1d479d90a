//! Cached, checked downloads of a data set's files.
//!
//! Each file is streamed into a temporary file beside its destination while its
//! SHA-256 is computed; only a file whose digest matches the published one is
//! renamed into place, so an interrupted or corrupt download never leaves a file
//! that looks complete.

use std::path::Path;

use crate::DataError;
use crate::catalogue::DatasetName;

/// Largest file accepted from a mirror (the MNIST training images are ≈ 10 MB,
/// Fashion-MNIST's ≈ 26 MB).
#[cfg(feature = "download")]
const MAX_BYTES: u64 = 100 << 20;

/// Downloads every missing file of `name` into `dir`, from `mirrors` when given
/// (base addresses, each ending in or without `/`) else from the published ones.
#[cfg(feature = "download")]
pub fn fetch(
    name: DatasetName,
    dir: &Path,
    mirrors: Option<&[String]>,
    progress: bool,
) -> Result<(), DataError> {
    let Some(files) = name.files() else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io {
        path: dir.into(),
        source,
    })?;
    let bases: Vec<String> = match mirrors {
        Some(m) => m.to_vec(),
        None => name.mirrors().iter().map(|s| s.to_string()).collect(),
    };
    for file in files {
        let dest = dir.join(file.name);
        if dest.is_file() && sha256_file(&dest)? == file.sha256 {
            continue;
        }
        let mut reasons = Vec::new();
        let mut done = false;
        for base in &bases {
            let url = format!("{}/{}", base.trim_end_matches('/'), file.name);
            match fetch_one(&url, &dest, file.sha256, progress) {
                Ok(()) => {
                    done = true;
                    break;
                }
                Err(reason) => reasons.push(format!("{url}: {reason}")),
            }
        }
        if !done {
            return Err(DataError::Download {
                file: file.name.to_string(),
                reason: if reasons.is_empty() {
                    "no mirror to try".into()
                } else {
                    reasons.join("; ")
                },
            });
        }
    }
    Ok(())
}

/// Without the `download` feature there is nothing to fetch with.
#[cfg(not(feature = "download"))]
pub fn fetch(
    name: DatasetName,
    _dir: &Path,
    _mirrors: Option<&[String]>,
    _progress: bool,
) -> Result<(), DataError> {
    Err(DataError::Download {
        file: name.to_string(),
        reason: "built without the `download` feature".into(),
    })
}

/// One file from one address into `dest`, checked, atomically.
#[cfg(feature = "download")]
fn fetch_one(url: &str, dest: &Path, sha256: &str, progress: bool) -> Result<(), String> {
    use sha2::{Digest, Sha256};
    use std::io::{Read, Write};
    use std::time::Duration;

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if total.is_some_and(|t| t > MAX_BYTES) {
        return Err(format!(
            "{} bytes announced, more than the {MAX_BYTES} accepted",
            total.unwrap_or(0)
        ));
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let bar = progress_bar(progress, total, dest);
    let mut reader = response.body_mut().with_config().limit(MAX_BYTES).reader();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n])
            .map_err(|e| format!("{}: {e}", tmp.path().display()))?;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    let digest = hex(&hasher.finalize());
    if digest != sha256 {
        return Err(format!("SHA-256 is {digest}, expected {sha256}"));
    }
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    tmp.persist(dest)
        .map_err(|e| format!("{}: {}", dest.display(), e.error))?;
    Ok(())
}

#[cfg(feature = "download")]
fn progress_bar(enabled: bool, total: Option<u64>, dest: &Path) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    if !enabled {
        return ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    let template = "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    bar.set_message(format!("downloading {name}"));
    bar
}

/// SHA-256 of a file, as lowercase hex.
#[cfg(feature = "download")]
pub(crate) fn sha256_file(path: &Path) -> Result<String, DataError> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.into(),
        source,
    })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|source| DataError::Io {
        path: path.into(),
        source,
    })?;
    Ok(hex(&hasher.finalize()))
}

#[cfg(feature = "download")]
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(all(test, feature = "download"))]
mod tests {
    use super::*;
    use crate::catalogue::FILE_NAMES;
    use crate::testing::serve;

    fn sample_files() -> Vec<(String, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample");
        FILE_NAMES
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    std::fs::read(dir.join(n)).expect("sample file"),
                )
            })
            .collect()
    }

    #[test]
    fn bad_checksum_leaves_nothing_behind() {
        // The sample files are real Fashion-MNIST files, but not the published full
        // ones: their SHA-256 does not match, so nothing may be kept.
        let (base, log) = serve(sample_files(), 8);
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("fashion-mnist");
        let err =
            fetch(DatasetName::FashionMnist, &dir, Some(&[base]), false).expect_err("checksum");
        let msg = err.to_string();
        assert!(
            msg.contains("SHA-256") && msg.contains("train-images-idx3-ubyte.gz"),
            "{msg}"
        );
        let left: Vec<_> = std::fs::read_dir(&dir).expect("dir made").collect();
        assert!(left.is_empty(), "files left behind: {left:?}");
        assert_eq!(
            log.lock().expect("log").as_slice(),
            ["/data/train-images-idx3-ubyte.gz"]
        );
    }
}
