//! TensorBoard event files, written without TensorFlow: the `tf.Event` protocol
//! buffers TensorBoard reads (a version record, then one event per step with a
//! summary of scalar values), each framed as a TFRecord — its length, the masked
//! CRC-32C of the length, the bytes, their masked CRC-32C.
//!
//! A file is named `events.out.tfevents.<seconds>.<host>` as TensorBoard expects; a
//! folder of them is one run in TensorBoard's list (`tensorboard --logdir
//! ARTIFACT/tensorboard` shows `train` and `valid` side by side).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// An event file being appended to.
pub struct EventWriter {
    path: PathBuf,
    file: BufWriter<File>,
}

impl EventWriter {
    /// Creates `dir` if need be and a new event file in it, starting with the version
    /// record.
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let now = wall_time();
        let path = dir.join(format!(
            "events.out.tfevents.{}.autoencoders",
            now.trunc() as u64
        ));
        let file = BufWriter::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?,
        );
        let mut writer = Self { path, file };
        let mut event = Vec::new();
        double(&mut event, 1, now);
        bytes(&mut event, 3, b"brain.Event:2");
        writer.record(&event)?;
        Ok(writer)
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event at `step` holding every value of `values` as a scalar named
    /// by its key, and flushes it to the file.
    pub fn scalars(&mut self, step: i64, values: &BTreeMap<String, f64>) -> std::io::Result<()> {
        let mut summary = Vec::new();
        for (tag, value) in values {
            let mut entry = Vec::new();
            bytes(&mut entry, 1, tag.as_bytes());
            // simple_value: a float, field 2, wire type 5.
            key(&mut entry, 2, 5);
            entry.extend_from_slice(&(*value as f32).to_le_bytes());
            bytes(&mut summary, 1, &entry);
        }
        let mut event = Vec::new();
        double(&mut event, 1, wall_time());
        key(&mut event, 2, 0);
        varint(&mut event, step as u64);
        bytes(&mut event, 5, &summary);
        self.record(&event)
    }

    /// Frames `data` as a TFRecord and writes it through.
    fn record(&mut self, data: &[u8]) -> std::io::Result<()> {
        let length = (data.len() as u64).to_le_bytes();
        self.file.write_all(&length)?;
        self.file.write_all(&masked_crc(&length).to_le_bytes())?;
        self.file.write_all(data)?;
        self.file.write_all(&masked_crc(data).to_le_bytes())?;
        self.file.flush()
    }
}

/// Seconds since the Unix epoch.
fn wall_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A protocol-buffer field key.
fn key(out: &mut Vec<u8>, field: u64, wire_type: u64) {
    varint(out, (field << 3) | wire_type);
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field: a string, bytes or an embedded message.
fn bytes(out: &mut Vec<u8>, field: u64, value: &[u8]) {
    key(out, field, 2);
    varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

/// A double field (wire type 1).
fn double(out: &mut Vec<u8>, field: u64, value: f64) {
    key(out, field, 1);
    out.extend_from_slice(&value.to_le_bytes());
}

/// CRC-32C (Castagnoli), bit by bit over a table of the 256 byte values.
fn crc32c(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u32; 256];
        for (i, slot) in table.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    (c >> 1) ^ 0x82F6_3B78
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        table
    });
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// The CRC as TFRecord stores it: rotated right by 15 bits, plus a constant.
fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_values() {
        // The check value of CRC-32C (RFC 3720, B.4) and its all-zero vector.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
    }

    #[test]
    fn varints_and_records_are_framed() {
        let mut v = Vec::new();
        varint(&mut v, 300);
        assert_eq!(v, [0xAC, 0x02]);
        let dir = tempfile::tempdir().expect("temp dir");
        let mut w = EventWriter::create(dir.path()).expect("created");
        let values = BTreeMap::from([("Loss".to_string(), 0.5)]);
        w.scalars(3, &values).expect("written");
        let data = std::fs::read(w.path()).expect("read back");
        // Two records, each framed by its length and the two CRCs.
        let first = u64::from_le_bytes(data[..8].try_into().expect("8 bytes")) as usize;
        assert_eq!(
            u32::from_le_bytes(data[8..12].try_into().expect("4 bytes")),
            masked_crc(&data[..8])
        );
        let body = &data[12..12 + first];
        assert!(body.ends_with(b"brain.Event:2"));
        let second = 12 + first + 4;
        let len = u64::from_le_bytes(data[second..second + 8].try_into().expect("8")) as usize;
        assert_eq!(data.len(), second + 12 + len + 4);
        let event = &data[second + 12..second + 12 + len];
        assert!(event.windows(4).any(|w| w == b"Loss"));
        assert!(event.windows(4).any(|w| w == 0.5f32.to_le_bytes()));
    }
}
