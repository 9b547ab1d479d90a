//! Cached, checked downloads of a data set's files.
//!
//! Each file is streamed into a temporary file beside its destination while its
//! SHA-256 is computed; only a file whose digest matches the published one is
//! renamed into place, so an interrupted or corrupt download never leaves a file
//! that looks complete. A data set published as one archive (CIFAR) is downloaded
//! the same way, its batch files extracted (each written whole) and the archive
//! removed.

use std::path::Path;

use crate::DataError;
use crate::catalogue::DatasetName;
#[cfg(feature = "download")]
use crate::catalogue::{ArchiveSpec, Layout};

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
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io {
        path: dir.into(),
        source,
    })?;
    let bases: Vec<String> = match mirrors {
        Some(m) => m.to_vec(),
        None => name.mirrors().iter().map(|s| s.to_string()).collect(),
    };
    if let (Some(archive), Layout::Cifar { folder, .. }) = (name.archive(), name.layout()) {
        return fetch_archive(&archive, folder, &name.file_names(), dir, &bases, progress);
    }
    let Some(files) = name.files() else {
        return Ok(());
    };
    for file in files {
        let dest = dir.join(file.name);
        if dest.is_file() && sha256_file(&dest)? == file.sha256 {
            continue;
        }
        fetch_from(&bases, file.name, &dest, file.sha256, MAX_BYTES, progress)?;
    }
    Ok(())
}

/// `name` from the first of `bases` that gives it whole and of `sha256` (at most
/// `max` bytes) into `dest`; an error listing every address and why otherwise.
#[cfg(feature = "download")]
fn fetch_from(
    bases: &[String],
    name: &str,
    dest: &Path,
    sha256: &str,
    max: u64,
    progress: bool,
) -> Result<(), DataError> {
    let mut reasons = Vec::new();
    for base in bases {
        let url = format!("{}/{}", base.trim_end_matches('/'), name);
        match fetch_one(&url, dest, sha256, max, progress) {
            Ok(()) => return Ok(()),
            Err(reason) => reasons.push(format!("{url}: {reason}")),
        }
    }
    Err(DataError::Download {
        file: name.to_string(),
        reason: if reasons.is_empty() {
            "no mirror to try".into()
        } else {
            reasons.join("; ")
        },
    })
}

/// Downloads `archive` into `dir` from `bases`, checked, and extracts `files` from
/// its folder `folder` into `dir/folder/`; the archive is removed once they are out.
#[cfg(feature = "download")]
pub(crate) fn fetch_archive(
    archive: &ArchiveSpec,
    folder: &str,
    files: &[&str],
    dir: &Path,
    bases: &[String],
    progress: bool,
) -> Result<(), DataError> {
    let out = dir.join(folder);
    if files.iter().all(|f| out.join(f).is_file()) {
        return Ok(());
    }
    let dest = dir.join(archive.name);
    if !(dest.is_file() && sha256_file(&dest)? == archive.sha256) {
        fetch_from(
            bases,
            archive.name,
            &dest,
            archive.sha256,
            archive.bytes,
            progress,
        )?;
    }
    std::fs::create_dir_all(&out).map_err(|source| DataError::Io {
        path: out.clone(),
        source,
    })?;
    let inside: Vec<String> = files.iter().map(|f| format!("{folder}/{f}")).collect();
    let wanted: Vec<(&str, std::path::PathBuf)> = inside
        .iter()
        .zip(files)
        .map(|(path, f)| (path.as_str(), out.join(f)))
        .collect();
    crate::tar::extract(&dest, &wanted)?;
    std::fs::remove_file(&dest).map_err(|source| DataError::Io { path: dest, source })
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
fn fetch_one(url: &str, dest: &Path, sha256: &str, max: u64, progress: bool) -> Result<(), String> {
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
    if total.is_some_and(|t| t > max) {
        return Err(format!(
            "{} bytes announced, more than the {max} accepted",
            total.unwrap_or(0)
        ));
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let bar = progress_bar(progress, total, dest);
    let mut reader = response.body_mut().with_config().limit(max).reader();
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

    /// A CIFAR-10 archive made by the `tar` program: the binary batches (records
    /// numbered by their first pixel) in `cifar-10-batches-bin/`, beside a file that
    /// is not wanted; `None` when there is no `tar` to make it.
    fn cifar_archive(dir: &Path) -> Option<Vec<u8>> {
        let folder = dir.join("cifar-10-batches-bin");
        std::fs::create_dir_all(&folder).expect("mkdir");
        let name = DatasetName::Cifar10;
        for (i, file) in name.file_names().iter().enumerate() {
            let mut bytes = Vec::new();
            for r in 0..3u8 {
                bytes.push(r); // the label
                bytes.extend(std::iter::repeat_n(10 * i as u8 + r, 3072));
            }
            std::fs::write(folder.join(file), bytes).expect("write");
        }
        std::fs::write(folder.join("batches.meta.txt"), "airplane\n").expect("write");
        let status = std::process::Command::new("tar")
            .current_dir(dir)
            .args(["-czf", "cifar.tar.gz", "cifar-10-batches-bin"])
            .status()
            .ok()?;
        assert!(status.success(), "tar failed");
        Some(std::fs::read(dir.join("cifar.tar.gz")).expect("the archive"))
    }

    #[test]
    fn an_archive_is_checked_extracted_and_removed() {
        let work = tempfile::tempdir().expect("temp dir");
        let Some(archive) = cifar_archive(work.path()) else {
            ae_test_support::skip(
                "an_archive_is_checked_extracted_and_removed",
                "no tar program",
            );
            return;
        };
        let name = DatasetName::Cifar10;
        let Layout::Cifar { folder, .. } = name.layout() else {
            panic!("CIFAR's layout");
        };
        // The published sum is checked: this archive is not the published one.
        let (base, _) = serve(vec![("cifar-10-binary.tar.gz".into(), archive.clone())], 8);
        let dir = work.path().join("cache/cifar-10");
        let err = fetch(name, &dir, Some(std::slice::from_ref(&base)), false).expect_err("sum");
        assert!(err.to_string().contains("expected c4a38c50"), "{err}");
        let left: Vec<_> = std::fs::read_dir(&dir).expect("dir made").collect();
        assert!(left.is_empty(), "files left behind: {left:?}");

        // With this archive's own size and sum it is taken, its batches extracted and
        // read back exactly, and the archive removed.
        use sha2::{Digest, Sha256};
        let sum = hex(&Sha256::digest(&archive));
        let spec = ArchiveSpec {
            name: "cifar-10-binary.tar.gz",
            bytes: archive.len() as u64,
            sha256: Box::leak(sum.into_boxed_str()),
        };
        fetch_archive(&spec, folder, &name.file_names(), &dir, &[base], false).expect("fetched");
        assert!(!dir.join(spec.name).exists(), "the archive is removed");
        assert!(!dir.join(folder).join("batches.meta.txt").exists());
        let paths: Vec<_> = name
            .file_names()
            .iter()
            .map(|f| dir.join(folder).join(f))
            .collect();
        let all = crate::cifar::read_files(&paths, 1, 10).expect("the extracted batches read");
        assert_eq!(all.len(), 18);
        let firsts: Vec<u8> = (0..18)
            .map(|i| all.as_images().expect("images").image(i)[0])
            .collect();
        let expected: Vec<u8> = (0..6u8)
            .flat_map(|f| (0..3u8).map(move |r| 10 * f + r))
            .collect();
        assert_eq!(firsts, expected);
        assert_eq!(all.labels[..3], [0, 1, 2]);
        // A second fetch finds the files and asks for nothing.
        fetch_archive(&spec, folder, &name.file_names(), &dir, &[], false).expect("on disk");

        // An archive cut short is an error, and leaves no batch behind.
        let cut = work.path().join("cut");
        std::fs::create_dir_all(&cut).expect("mkdir");
        let path = cut.join("cut.tar.gz");
        std::fs::write(&path, &archive[..archive.len() / 2]).expect("write");
        let out = cut.join("data_batch_1.bin");
        let err = crate::tar::extract(
            &path,
            &[("cifar-10-batches-bin/test_batch.bin", out.clone())],
        )
        .expect_err("cut short");
        assert!(err.to_string().contains("cut.tar.gz"), "{err}");
        assert!(!out.exists());
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
