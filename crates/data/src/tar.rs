//! Reading chosen files out of a gzip-compressed tar archive (POSIX ustar and GNU
//! tar's headers), as the published CIFAR archives are.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use crate::{AtomicFile, DataError};

fn corrupt(archive: &Path, message: String) -> DataError {
    DataError::Table {
        path: archive.to_path_buf(),
        message,
    }
}

/// An octal number of a header field (NUL- or space-terminated).
fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?;
    let digits = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

/// A NUL-terminated name field.
fn name(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Writes the regular files of `archive` whose paths (inside it) are keys of `wanted`
/// to their destinations, each whole or not at all; a wanted file the archive lacks,
/// a header whose checksum is wrong or an archive cut short is an error naming the
/// archive.
pub(crate) fn extract(archive: &Path, wanted: &[(&str, PathBuf)]) -> Result<(), DataError> {
    let file = std::fs::File::open(archive).map_err(|source| DataError::Io {
        path: archive.to_path_buf(),
        source,
    })?;
    let mut reader = GzDecoder::new(std::io::BufReader::new(file));
    let cut = |e: std::io::Error| corrupt(archive, format!("cut short or not a .tar.gz: {e}"));
    let mut found = vec![false; wanted.len()];
    let mut header = [0u8; 512];
    loop {
        reader.read_exact(&mut header).map_err(cut)?;
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let sum: u64 = header
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        let size = octal(&header[124..136]);
        if octal(&header[148..156]) != Some(sum) || size.is_none() {
            return Err(corrupt(archive, "a tar header is damaged".into()));
        }
        let size = size.unwrap_or(0);
        let mut path = name(&header[..100]);
        if &header[257..262] == b"ustar" && header[345] != 0 {
            path = format!("{}/{path}", name(&header[345..500]));
        }
        let regular = matches!(header[156], b'0' | 0);
        let mut body = (&mut reader).take(size.next_multiple_of(512));
        match wanted.iter().position(|(p, _)| *p == path) {
            Some(i) if regular => {
                let mut out = AtomicFile::create(&wanted[i].1)?;
                let copied = std::io::copy(&mut (&mut body).take(size), &mut out).map_err(cut)?;
                if copied != size {
                    return Err(corrupt(archive, format!("{path} is cut short")));
                }
                out.finish()?;
                found[i] = true;
            }
            _ => {}
        }
        std::io::copy(&mut body, &mut std::io::sink()).map_err(cut)?;
    }
    match wanted.iter().zip(&found).find(|(_, f)| !**f) {
        Some(((path, _), _)) => Err(corrupt(archive, format!("{path} is not in it"))),
        None => Ok(()),
    }
}
