//! SHA-256 checksums of weight files, kept beside each in `sha256sum`'s format
//! (`model.bpk.sha256`: `<hex>  model.bpk`), so `sha256sum -c model.bpk.sha256` checks
//! a file too. A byte flipped on a disk or in a copy makes a model answer garbage
//! without any error; with its checksum, loading it is an error naming the file.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::InferError;

/// The checksum file of `weights`: its name with `.sha256` added.
pub fn checksum_path(weights: &Path) -> PathBuf {
    let mut name = weights.as_os_str().to_os_string();
    name.push(".sha256");
    PathBuf::from(name)
}

fn error(path: &Path, message: String) -> InferError {
    InferError::Artifact {
        path: path.to_path_buf(),
        message,
    }
}

/// The SHA-256 of the file `path`, in lower-case hexadecimal.
pub fn sha256_of(path: &Path) -> Result<String, InferError> {
    let mut file =
        std::fs::File::open(path).map_err(|e| error(path, format!("cannot read it: {e}")))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| error(path, format!("cannot read it: {e}")))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Writes the checksum file of `weights` (whole or not at all); returns its path.
pub fn write_checksum(weights: &Path) -> Result<PathBuf, InferError> {
    let hex = sha256_of(weights)?;
    let name = weights
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = checksum_path(weights);
    ae_data::write_atomic(&path, format!("{hex}  {name}\n").as_bytes())
        .map_err(|e| error(&path, e.to_string()))?;
    Ok(path)
}

/// Checks `weights` against its checksum file. Weights without one (written before
/// checksums were kept) pass; a checksum file that is malformed or does not match is
/// an error naming both.
pub fn verify_checksum(weights: &Path) -> Result<(), InferError> {
    let path = checksum_path(weights);
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(error(&path, format!("cannot read the checksum: {e}"))),
    };
    // A checksum line is short: no more is read.
    let mut text = String::new();
    file.take(4096)
        .read_to_string(&mut text)
        .map_err(|e| error(&path, format!("cannot read the checksum: {e}")))?;
    let want = text.split_whitespace().next().unwrap_or("");
    if want.len() != 64 || !want.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(error(
            &path,
            "not a SHA-256 checksum file (expected 64 hexadecimal digits, two spaces and \
             the file's name)"
                .into(),
        ));
    }
    let got = sha256_of(weights)?;
    if !got.eq_ignore_ascii_case(want) {
        return Err(error(
            weights,
            format!(
                "the weights are damaged: their SHA-256 is {got}, and {} records {want} \
                 (copy the artifact again, or train it again)",
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flipped_byte_is_found_and_the_file_checks_with_sha256sum() {
        let dir = tempfile::tempdir().expect("a folder");
        let weights = dir.path().join("model.bpk");
        std::fs::write(&weights, b"some weights, byte after byte").expect("written");
        // None kept: older artifacts pass.
        verify_checksum(&weights).expect("no checksum file");
        let sidecar = write_checksum(&weights).expect("written");
        assert_eq!(sidecar, dir.path().join("model.bpk.sha256"));
        // The SHA-256 of the text above, as `sha256sum` prints it.
        let text = std::fs::read_to_string(&sidecar).expect("read");
        assert_eq!(
            text,
            format!("{}  model.bpk\n", sha256_of(&weights).expect("hashed"))
        );
        verify_checksum(&weights).expect("intact");
        if let Ok(out) = std::process::Command::new("sha256sum")
            .arg("-c")
            .arg("model.bpk.sha256")
            .current_dir(dir.path())
            .output()
        {
            assert!(out.status.success(), "{out:?}");
        }

        let mut bytes = std::fs::read(&weights).expect("read");
        bytes[7] ^= 0x10;
        std::fs::write(&weights, &bytes).expect("written");
        let err = verify_checksum(&weights).expect_err("damaged").to_string();
        assert!(
            err.contains("model.bpk: the weights are damaged") && err.contains("model.bpk.sha256"),
            "{err}"
        );

        std::fs::write(&sidecar, "not a checksum").expect("written");
        let err = verify_checksum(&weights)
            .expect_err("malformed")
            .to_string();
        assert!(err.contains("not a SHA-256 checksum file"), "{err}");
    }
}
