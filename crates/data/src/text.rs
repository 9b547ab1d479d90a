//! Bounds on text read from users' files: a longest line, and values echoed in
//! errors cut to a readable length.

use std::io::Read;

/// The longest line a CSV file may have, in bytes (16 MiB: a million columns of
/// numbers fit). A longer one is an error, read no further than the limit, so a file
/// of one endless line cannot exhaust memory.
pub const MAX_LINE: usize = 16 << 20;

/// The longest column name, in bytes.
pub const MAX_NAME: usize = 1024;

/// Characters of a value echoed in an error.
const SHOWN: usize = 40;

/// `text` as an error shows it: whole when short, else its first characters and its
/// length.
pub fn clip(text: &str) -> String {
    match text.char_indices().nth(SHOWN) {
        None => text.to_string(),
        Some((end, _)) => format!("{}… ({} bytes)", &text[..end], text.len()),
    }
}

/// A reader that fails once a line runs past `limit` bytes.
pub struct BoundedLines<R> {
    inner: R,
    limit: usize,
    /// Bytes of the current line so far.
    current: usize,
    /// The 1-based number of the current line.
    line: usize,
}

impl<R> BoundedLines<R> {
    /// `inner`, whose lines may be at most `limit` bytes.
    pub fn new(inner: R, limit: usize) -> Self {
        Self {
            inner,
            limit,
            current: 0,
            line: 1,
        }
    }
}

impl<R: Read> Read for BoundedLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Never more than the rest of the allowance plus one byte, so that the byte
        // past the limit is seen before the reader's caller holds more.
        let room = (self.limit - self.current.min(self.limit)).saturating_add(1);
        let want = buf.len().min(room.max(1));
        let n = self.inner.read(&mut buf[..want])?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.current = 0;
                self.line += 1;
            } else {
                self.current += 1;
                if self.current > self.limit {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "line {} is longer than {} bytes, the limit of a line",
                            self.line, self.limit
                        ),
                    ));
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn a_line_past_the_limit_is_an_error_naming_it() {
        let text = b"1,2\n3,4,5,6,7\n8\n";
        let mut all = String::new();
        BoundedLines::new(&text[..], 9)
            .read_to_string(&mut all)
            .expect("every line within 9 bytes");
        assert_eq!(all.as_bytes(), text);
        let err = BoundedLines::new(&text[..], 8)
            .read_to_string(&mut String::new())
            .expect_err("line 2 has 9 bytes");
        assert_eq!(
            err.to_string(),
            "line 2 is longer than 8 bytes, the limit of a line"
        );
        // An endless line is refused after the limit, not read whole.
        let mut endless = BoundedLines::new(std::io::repeat(b'x'), 1000);
        let mut buf = vec![0u8; 1 << 16];
        let mut read = 0;
        let err = loop {
            match endless.read(&mut buf) {
                Ok(n) => read += n,
                Err(e) => break e,
            }
        };
        assert!(read <= 1001, "{read}");
        assert!(err.to_string().contains("line 1 is longer than 1000 bytes"));
    }

    #[test]
    fn long_values_are_cut_in_errors() {
        assert_eq!(clip("3.5"), "3.5");
        let long = "x".repeat(100);
        assert_eq!(clip(&long), format!("{}… (100 bytes)", "x".repeat(40)));
        let wide = "é".repeat(50);
        assert!(clip(&wide).starts_with(&"é".repeat(40)));
    }
}
