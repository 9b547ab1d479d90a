//! Image grids as PNG files.

use std::path::Path;

use anyhow::{Context, Result};

use crate::artifact::write_atomic;

/// Images of one size, in rows, to be laid out as a grid: grey images as dark strokes
/// on a white page (as the data sets of strokes are usually shown), colour images in
/// their colours.
#[derive(Clone, Debug)]
pub struct Grid {
    /// Image shape `[channels, height, width]`: one channel (grey) or three (RGB).
    pub shape: [usize; 3],
    /// Rows of images; each image holds its planes one after another, values in `[0, 1]`.
    pub rows: Vec<Vec<Vec<f32>>>,
}

/// Pixels between images and around the grid.
const PAD: usize = 2;

impl Grid {
    /// A grid of the images in `values` (one after another), `per_row` to a row.
    pub fn of(shape: [usize; 3], values: &[f32], per_row: usize) -> Self {
        let size = shape.iter().product::<usize>().max(1);
        let images: Vec<Vec<f32>> = values.chunks(size).map(<[f32]>::to_vec).collect();
        Self {
            shape,
            rows: images.chunks(per_row.max(1)).map(<[_]>::to_vec).collect(),
        }
    }

    /// Bytes per pixel of the rendered grid: 1 (grey) or 3 (RGB).
    pub fn bytes_per_pixel(&self) -> usize {
        if self.shape[0] == 3 { 3 } else { 1 }
    }

    /// The grid as 8-bit pixels, grey or interleaved RGB: `(width, height, pixels)`.
    pub fn render(&self) -> (usize, usize, Vec<u8>) {
        let [channels, height, width] = self.shape;
        let bpp = self.bytes_per_pixel();
        let plane = height * width;
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let w = cols * (width + PAD) + PAD;
        let h = self.rows.len() * (height + PAD) + PAD;
        let mut px = vec![255u8; w * h * bpp];
        let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        for (r, row) in self.rows.iter().enumerate() {
            for (c, image) in row.iter().enumerate() {
                let (x0, y0) = (PAD + c * (width + PAD), PAD + r * (height + PAD));
                for y in 0..height {
                    for x in 0..width {
                        let at = ((y0 + y) * w + x0 + x) * bpp;
                        let value =
                            |k: usize| image.get(k * plane + y * width + x).copied().unwrap_or(0.0);
                        if bpp == 3 {
                            for k in 0..3 {
                                px[at + k] = byte(value(k.min(channels - 1)));
                            }
                        } else {
                            px[at] = 255 - byte(value(0));
                        }
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
            encoder.set_color(if self.bytes_per_pixel() == 3 {
                png::ColorType::Rgb
            } else {
                png::ColorType::Grayscale
            });
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
            shape: [1, 2, 3],
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

    #[test]
    fn colour_images_keep_their_colours() {
        // One 1×2 image: a red pixel, then a grey one; planes R, G, B.
        let grid = Grid::of([3, 1, 2], &[1.0, 0.5, 0.0, 0.5, 0.0, 0.5], 4);
        let (w, h, px) = grid.render();
        assert_eq!((w, h), (2 + PAD * 2, 1 + PAD * 2));
        let at = (PAD * w + PAD) * 3;
        assert_eq!(px[at..at + 6], [255, 0, 0, 128, 128, 128]);
        assert_eq!(px[..3], [255, 255, 255], "a white page");
        let tmp = tempfile::tempdir().expect("temp dir");
        let path = tmp.path().join("c.png");
        grid.save_png(&path).expect("png written");
        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(&path).expect("open"),
        ));
        let reader = decoder.read_info().expect("valid png");
        assert_eq!(reader.info().color_type, png::ColorType::Rgb);
    }
}
