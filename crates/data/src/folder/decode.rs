//! Decoding PNG and JPEG files to grey or RGB planes, and resizing them.

use std::io::{BufReader, Read};
use std::path::Path;

use crate::folder::Colour;
use crate::{DataError, Images};

/// A decoded image: `channels` planes of `height × width` bytes, one after another.
pub struct Decoded {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// The planes.
    pub planes: Vec<u8>,
}

/// Interleaved pixels of `step` bytes (grey, grey+alpha, RGB or RGBA), as planes of
/// `colour`: luma for grey, grey copied to every plane for RGB, alpha dropped.
fn to_planes(pixels: impl Iterator<Item = [u8; 3]>, count: usize, colour: Colour) -> Vec<u8> {
    match colour {
        Colour::Grey => pixels.map(|[r, g, b]| luma(r, g, b)).collect(),
        Colour::Rgb => {
            let rgb: Vec<u8> = pixels.take(count).flatten().collect();
            Images::planes_of(&rgb, 3)
        }
    }
}

/// The most pixels an image may declare (Pillow's default limit, 89,478,485): a larger
/// header is refused before anything is decoded, as a decompression bomb.
pub const MAX_PIXELS: usize = 89_478_485;

fn bad(path: &Path, message: impl Into<String>) -> DataError {
    DataError::Table {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// BT.601 luma of an RGB pixel, rounded (a grey pixel stays itself).
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000) as u8
}

/// Checks a declared size against [`MAX_PIXELS`].
fn check_size(path: &Path, width: usize, height: usize) -> Result<(), DataError> {
    if width == 0 || height == 0 || width.saturating_mul(height) > MAX_PIXELS {
        return Err(bad(
            path,
            format!(
                "declares {width}×{height} pixels: expected a positive size of at most \
                 {MAX_PIXELS} pixels (a larger one is refused as a decompression bomb)"
            ),
        ));
    }
    Ok(())
}

/// Decodes the PNG or JPEG file `path` (told by its first bytes, which must agree with
/// its name) to planes of `colour`.
pub fn decode(path: &Path, colour: Colour) -> Result<Decoded, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = BufReader::new(file);
    let mut magic = [0u8; 8];
    let n = reader.read(&mut magic).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.to_string_lossy().to_ascii_lowercase();
    let named_png = name.ends_with(".png");
    let is_png = n >= 8 && magic == *b"\x89PNG\r\n\x1a\n";
    let is_jpeg = n >= 3 && magic[..3] == [0xff, 0xd8, 0xff];
    let bytes_read = magic[..n].to_vec();
    let chained = std::io::Cursor::new(bytes_read).chain(reader);
    match (is_png, is_jpeg, named_png) {
        (true, _, true) => decode_png(path, chained, colour),
        (_, true, false) => decode_jpeg(path, chained, colour),
        (true, _, false) => Err(bad(path, "named .jpg/.jpeg but is a PNG file: rename it")),
        (_, true, true) => Err(bad(path, "named .png but is a JPEG file: rename it")),
        _ => Err(bad(
            path,
            format!(
                "not a PNG or JPEG file (its first bytes are {:02x?})",
                &magic[..n.min(4)]
            ),
        )),
    }
}

fn decode_png(path: &Path, reader: impl Read, colour: Colour) -> Result<Decoded, DataError> {
    let mut bytes = Vec::new();
    let mut reader = reader;
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    // The header's size first, before the decoder reads further.
    if bytes.len() >= 24 && &bytes[12..16] == b"IHDR" {
        let be =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        check_size(path, be(16) as usize, be(20) as usize)?;
    }
    let mut decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut png = decoder
        .read_info()
        .map_err(|e| bad(path, format!("the PNG is corrupt or cut short: {e}")))?;
    let (width, height) = {
        let info = png.info();
        (info.width as usize, info.height as usize)
    };
    check_size(path, width, height)?;
    let size = png
        .output_buffer_size()
        .ok_or_else(|| bad(path, "the PNG's size overflows"))?;
    let mut buf = vec![0u8; size];
    let frame = png
        .next_frame(&mut buf)
        .map_err(|e| bad(path, format!("the PNG is corrupt or cut short: {e}")))?;
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(bad(path, "an indexed PNG that did not expand"));
        }
    };
    let line = frame.line_size;
    let pixels = buf
        .chunks(line)
        .take(height)
        .flat_map(|row| row.chunks(channels).take(width))
        .map(|px| match channels {
            1 | 2 => [px[0]; 3],
            _ => [px[0], px[1], px[2]],
        });
    let planes = to_planes(pixels, width * height, colour);
    Ok(Decoded {
        width,
        height,
        planes,
    })
}

fn decode_jpeg(path: &Path, reader: impl Read, colour: Colour) -> Result<Decoded, DataError> {
    let mut decoder = jpeg_decoder::Decoder::new(BufReader::new(reader));
    decoder
        .read_info()
        .map_err(|e| bad(path, format!("the JPEG is corrupt or cut short: {e}")))?;
    let info = decoder
        .info()
        .ok_or_else(|| bad(path, "the JPEG has no frame header"))?;
    let (width, height) = (usize::from(info.width), usize::from(info.height));
    check_size(path, width, height)?;
    let pixels = decoder
        .decode()
        .map_err(|e| bad(path, format!("the JPEG is corrupt or cut short: {e}")))?;
    let step = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::L16 => 2,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        jpeg_decoder::PixelFormat::CMYK32 => 4,
    };
    if pixels.len() != width * height * step {
        return Err(bad(
            path,
            "the JPEG decoded to fewer pixels than it declares",
        ));
    }
    let rgb = pixels.chunks(step).map(|p| match step {
        1 | 2 => [p[0]; 3],
        3 => [p[0], p[1], p[2]],
        _ => {
            // Adobe's inverted CMYK, as jpeg-decoder hands it out: R = C·K etc.
            let k = u32::from(p[3]);
            let c = |v: u8| ((u32::from(v) * k + 127) / 255) as u8;
            [c(p[0]), c(p[1]), c(p[2])]
        }
    });
    let planes = to_planes(rgb, width * height, colour);
    Ok(Decoded {
        width,
        height,
        planes,
    })
}

/// One axis of a resampling: for each output position, the source indices and their
/// weights — the overlap of each source pixel with the output pixel's footprint when
/// shrinking (area averaging), a triangle of one source pixel when enlarging
/// (bilinear). `offset` is the crop's start in scaled coordinates.
fn weights(src: usize, dst: usize, scale: f64, offset: f64) -> Vec<Vec<(usize, f64)>> {
    (0..dst)
        .map(|o| {
            let mut taps: Vec<(usize, f64)> = if scale < 1.0 {
                // The footprint [a, b) of output pixel `o` in source coordinates.
                let (a, b) = (
                    (o as f64 + offset) / scale,
                    (o as f64 + 1.0 + offset) / scale,
                );
                let lo = a.floor().max(0.0) as usize;
                let hi = (b.ceil() as usize).min(src);
                (lo..hi)
                    .map(|i| (i, (b.min(i as f64 + 1.0) - a.max(i as f64)).max(0.0)))
                    .filter(|&(_, w)| w > 1e-12)
                    .collect()
            } else {
                // Centre of output pixel `o`, in source pixel-centre coordinates.
                let centre = (o as f64 + 0.5 + offset) / scale - 0.5;
                let lo = centre.floor().max(0.0) as usize;
                (lo..(lo + 2).min(src))
                    .map(|i| (i, (1.0 - (i as f64 - centre).abs()).max(0.0)))
                    .filter(|&(_, w)| w > 1e-12)
                    .collect()
            };
            if taps.is_empty() {
                let nearest = (((o as f64 + 0.5 + offset) / scale) as usize).min(src - 1);
                taps.push((nearest, 1.0));
            }
            let total: f64 = taps.iter().map(|t| t.1).sum();
            taps.iter_mut().for_each(|t| t.1 /= total);
            taps
        })
        .collect()
}

/// Every plane of `image` scaled to cover `out_w × out_h` and centre-cropped to it (see
/// [`resize_cover`]).
pub fn resize_planes(image: &Decoded, out_w: usize, out_h: usize) -> Vec<u8> {
    if [image.width, image.height] == [out_w, out_h] {
        return image.planes.clone();
    }
    let plane = image.width * image.height;
    image
        .planes
        .chunks(plane.max(1))
        .flat_map(|p| resize_cover(p, image.width, image.height, out_w, out_h))
        .collect()
}

/// `grey` (`width × height`) scaled by the factor that makes it cover `out_w × out_h`,
/// then centre-cropped to it.
pub fn resize_cover(
    grey: &[u8],
    width: usize,
    height: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<u8> {
    let scale = (out_w as f64 / width as f64).max(out_h as f64 / height as f64);
    // The scaled image's size, and the crop's offset into it.
    let (sw, sh) = (width as f64 * scale, height as f64 * scale);
    let (ox, oy) = ((sw - out_w as f64) / 2.0, (sh - out_h as f64) / 2.0);
    let (cols, rows) = (
        weights(width, out_w, scale, ox),
        weights(height, out_h, scale, oy),
    );
    // Horizontal pass for every source row, then vertical.
    let mut horizontal = vec![0f64; height * out_w];
    for y in 0..height {
        let line = &grey[y * width..(y + 1) * width];
        for (x, taps) in cols.iter().enumerate() {
            horizontal[y * out_w + x] = taps.iter().map(|&(i, w)| f64::from(line[i]) * w).sum();
        }
    }
    let mut out = vec![0u8; out_w * out_h];
    for (y, taps) in rows.iter().enumerate() {
        for x in 0..out_w {
            let v: f64 = taps
                .iter()
                .map(|&(i, w)| horizontal[i * out_w + x] * w)
                .sum();
            out[y * out_w + x] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}
