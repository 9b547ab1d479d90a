//! How a folder's images are read: their colour, their size, their patches.

use serde::{Deserialize, Serialize};

/// Square patches cut from each image: `size × size` pixels, every `stride` pixels
/// across and down from the top-left corner (the last row and column of patches that
/// do not fit are left out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patches {
    /// Side of a patch.
    pub size: usize,
    /// Step between patches (`size`: side by side, no overlap).
    pub stride: usize,
}

impl std::str::FromStr for Patches {
    type Err = String;

    /// `SIZE` (side by side) or `SIZE:STRIDE`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse = |v: &str| positive(v, s, "SIZE or SIZE:STRIDE");
        match s.split_once(':') {
            Some((size, stride)) => Ok(Self {
                size: parse(size)?,
                stride: parse(stride)?,
            }),
            None => parse(s).map(|size| Self { size, stride: size }),
        }
    }
}

impl Patches {
    /// The patches of an image of `shape`, one after another.
    pub(super) fn cut(self, planes: &[u8], [channels, rows, cols]: [usize; 3]) -> Vec<u8> {
        let (p, step) = (self.size, self.stride);
        let starts = |n: usize| {
            (0..n.saturating_sub(p) + 1)
                .step_by(step)
                .take_while(move |&i| i + p <= n)
        };
        let mut out = Vec::new();
        for y in starts(rows) {
            for x in starts(cols) {
                for c in 0..channels {
                    for row in y..y + p {
                        let at = (c * rows + row) * cols + x;
                        out.extend_from_slice(&planes[at..at + p]);
                    }
                }
            }
        }
        out
    }
}

/// `v` as a positive size; else an error quoting `whole` and the `expected` form.
fn positive(v: &str, whole: &str, expected: &str) -> Result<usize, String> {
    v.trim()
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("'{whole}': expected {expected}, positive sizes"))
}

/// An image size, `HEIGHTxWIDTH` or `N` (square), as `--image-size` takes it.
pub fn parse_image_size(s: &str) -> Result<[usize; 2], String> {
    let parse = |v: &str| positive(v, s, "HEIGHTxWIDTH or N");
    match s.split_once(['x', 'X', '×']) {
        Some((h, w)) => Ok([parse(h)?, parse(w)?]),
        None => parse(s).map(|n| [n, n]),
    }
}

/// The colour of a folder's images as a model sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    /// One plane of BT.601 luma.
    #[default]
    Grey,
    /// Three planes: red, green, blue.
    Rgb,
}

impl Colour {
    /// Planes per image.
    pub fn channels(self) -> usize {
        match self {
            Self::Grey => 1,
            Self::Rgb => 3,
        }
    }
}

impl std::str::FromStr for Colour {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "grey" | "gray" | "l" => Ok(Self::Grey),
            "rgb" | "colour" | "color" => Ok(Self::Rgb),
            _ => Err(format!("'{s}': expected grey or rgb")),
        }
    }
}

impl std::fmt::Display for Colour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Grey => "grey",
            Self::Rgb => "rgb",
        })
    }
}
