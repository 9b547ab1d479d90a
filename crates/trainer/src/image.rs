//! Image grids as PNG files.

use std::path::Path;

use anyhow::{Context, Result};

use crate::artifact::write_atomic;

/// Grayscale images of one size, in rows, to be laid out as a grid.
#[derive(Clone, Debug)]
pub struct Grid {
    /// Image height in pixels.
    pub height: usize,
    /// Image width in pixels.
    pub width: usize,
    /// Rows of images; each image holds `height * width` values in `[0, 1]`.
    pub rows: Vec<Vec<Vec<f32>>>,
}

/// Pixels between images and around the grid.
const PAD: usize = 2;

impl Grid {
    /// The grid as 8-bit grayscale pixels: `(width, height, pixels)`.
    pub fn render(&self) -> (usize, usize, Vec<u8>) {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let w = cols * (self.width + PAD) + PAD;
        let h = self.rows.len() * (self.height + PAD) + PAD;
        let mut px = vec![255u8; w * h];
        for (r, row) in self.rows.iter().enumerate() {
            for (c, image) in row.iter().enumerate() {
                let (x0, y0) = (PAD + c * (self.width + PAD), PAD + r * (self.height + PAD));
                for y in 0..self.height {
                    for x in 0..self.width {
                        let v = image.get(y * self.width + x).copied().unwrap_or(0.0);
                        // Dark strokes on a white page, as the images are usually shown.
                        px[(y0 + y) * w + x0 + x] = 255 - (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                    }
                }
            }
        }
        (w, h, px)
    }

    /// Writes the grid as a PNG file.
    pub fn save_png(&self, path: &Path) -> Result<()> {
        let (w, h, px) = self.render();
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, w as u32, h as u32);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().context("encoding PNG")?;
            writer.write_image_data(&px).context("encoding PNG")?;
        }
        write_atomic(path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_png() {
        let grid = Grid {
            height: 2,
            width: 3,
            rows: vec![vec![vec![1.0; 6], vec![0.0; 6]], vec![vec![0.5; 6]]],
        };
        let (w, h, px) = grid.render();
        assert_eq!((w, h), (2 * 5 + 2, 2 * 4 + 2));
        assert_eq!(px[PAD * w + PAD], 0, "a full-intensity pixel is black");
        assert_eq!(px[PAD * w + PAD + 5], 255, "a zero pixel is white");
        let tmp = tempfile::tempdir().expect("temp dir");
        let path = tmp.path().join("g.png");
        grid.save_png(&path).expect("png written");
        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(&path).expect("open"),
        ));
        let reader = decoder.read_info().expect("valid png");
        assert_eq!(
            (reader.info().width, reader.info().height),
            (w as u32, h as u32)
        );
    }
}
