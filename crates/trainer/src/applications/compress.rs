//! Rate–distortion: how many bits an image costs against how well it comes back, for
//! autoencoder codes and PCA coefficients quantised to 8 bits, beside JPEG and PNG
//! of the same images.

use ae_analysis::Pca;
use ae_data::{Images, Split};
use ae_models::{AnyAutoencoder, Autoencoder};
use anyhow::{Context, Result, bail};
use burn::prelude::*;
use serde::Serialize;

use crate::applications::compare::pixels;
use crate::applications::evaluate::map_images;
use crate::dataset::images_of;
use crate::drawing::plot::{Chart, Series, Style};

/// One codec at one setting.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RdPoint {
    /// `autoencoder (<dir>)`, `PCA`, `JPEG` or `PNG`.
    pub method: String,
    /// Code size (autoencoder, PCA; symbols of a discrete code) or JPEG quality.
    pub setting: usize,
    /// Mean bits per test image.
    pub bits_per_image: f64,
    /// PSNR over the test split (peak 1), dB; infinite for a lossless codec.
    pub psnr_db: f64,
}

/// Bits per code unit once quantised.
pub const CODE_BITS: usize = 8;

/// Uniform `CODE_BITS`-bit quantisation of each column of row-major `values`
/// (`dim` wide), over the column's range in `reference`: the values as decoded.
pub fn quantise(values: &[f32], reference: &[f32], dim: usize) -> Vec<f32> {
    let levels = ((1u32 << CODE_BITS) - 1) as f32;
    let mut lo = vec![f32::INFINITY; dim];
    let mut hi = vec![f32::NEG_INFINITY; dim];
    for row in reference.chunks(dim) {
        for (j, &v) in row.iter().enumerate() {
            lo[j] = lo[j].min(v);
            hi[j] = hi[j].max(v);
        }
    }
    values
        .chunks(dim)
        .flat_map(|row| {
            row.iter().enumerate().map(|(j, &v)| {
                let span = hi[j] - lo[j];
                // A constant (or absent) column decodes to its one value.
                if span.is_nan() || span <= 0.0 {
                    return if lo[j].is_finite() { lo[j] } else { v };
                }
                let q = ((v - lo[j]) / span * levels).round().clamp(0.0, levels);
                lo[j] + q / levels * span
            })
        })
        .collect()
}

fn psnr(decoded: &[f32], clean: &[f32]) -> f64 {
    let sq: f64 = decoded
        .iter()
        .zip(clean)
        .map(|(a, b)| f64::from(a.clamp(0.0, 1.0) - b).powi(2))
        .sum();
    ae_analysis::psnr(sq / clean.len().max(1) as f64, 1.0)
}

/// The autoencoder's codes quantised to 8 bits a unit (ranges from the training
/// codes), decoded; a discrete code (a VQ-VAE's) as it is, at its exact bits (symbols
/// × log₂ alphabet).
pub fn autoencoder_point(
    model: &AnyAutoencoder,
    name: String,
    train: &Split,
    test: &Split,
    device: &Device,
) -> RdPoint {
    let all = |s: &Split| (0..s.len()).collect::<Vec<_>>();
    let (test_codes, dim) = map_images(test, &all(test), 256, device, |x| model.encode(x));
    let (q, setting, bits) = match model.discrete_code() {
        Some(code) => (test_codes, code.symbols, code.bits()),
        None => {
            let (train_codes, _) = map_images(train, &all(train), 256, device, |x| model.encode(x));
            let q = quantise(&test_codes, &train_codes, dim);
            (q, dim, (dim * CODE_BITS) as f64)
        }
    };
    let mut decoded = Vec::with_capacity(test.len() * test.features());
    for chunk in q.chunks(256 * dim) {
        let z = Tensor::<2>::from_data(
            TensorData::new(chunk.to_vec(), [chunk.len() / dim, dim]),
            device,
        );
        decoded.extend(
            model
                .decode(z)
                .into_data()
                .try_into_vec_as::<f32>()
                .unwrap_or_default(),
        );
    }
    RdPoint {
        method: name,
        setting,
        bits_per_image: bits,
        psnr_db: psnr(&decoded, &pixels(test)),
    }
}

/// PCA's leading `k` coefficients, quantised like the codes, for each of `sizes`.
pub fn pca_points(pca: &Pca, train: &Split, test: &Split, sizes: &[usize]) -> Result<Vec<RdPoint>> {
    let (train_px, test_px) = (pixels(train), pixels(test));
    sizes
        .iter()
        .map(|&k| {
            if k == 0 || k > pca.k() {
                bail!("code size {k}: the PCA has {} components", pca.k());
            }
            let p = pca.leading(k);
            let q = quantise(&p.transform(&test_px)?, &p.transform(&train_px)?, k);
            Ok(RdPoint {
                method: "PCA".into(),
                setting: k,
                bits_per_image: (k * CODE_BITS) as f64,
                psnr_db: psnr(&p.reconstruct(&q)?, &test_px),
            })
        })
        .collect()
}

/// Bytes of a JPEG file's entropy-coded data: what follows the start-of-scan header,
/// up to the end-of-image marker. The rest (quantisation and Huffman tables, ~600
/// bytes) is the same for every image of a quality, as a decoder's weights are.
fn jpeg_payload(file: &[u8]) -> usize {
    let sos = file.windows(2).position(|w| w == [0xFF, 0xDA]);
    match sos {
        Some(i) if i + 4 <= file.len() => {
            let header = usize::from(u16::from_be_bytes([file[i + 2], file[i + 3]]));
            file.len().saturating_sub(i + 2 + header + 2)
        }
        _ => file.len(),
    }
}

/// Each test image as a baseline JPEG (grey, or YCbCr 4:2:0 for colour, the encoder's
/// default) at each quality, decoded again: a
/// `JPEG` point counting whole files and a `JPEG payload` point counting the
/// entropy-coded data only.
pub fn jpeg_points(test: &Split, qualities: &[u8]) -> Result<Vec<RdPoint>> {
    let images = images_of(test)?;
    let (w, h) = (images.cols as u16, images.rows as u16);
    let clean = pixels(test);
    qualities
        .iter()
        .map(|&quality| {
            let (mut bytes, mut payload) = (0usize, 0usize);
            let mut decoded = Vec::with_capacity(clean.len());
            for i in 0..test.len() {
                let mut out = Vec::new();
                let colour = if images.channels == 3 {
                    jpeg_encoder::ColorType::Rgb
                } else {
                    jpeg_encoder::ColorType::Luma
                };
                jpeg_encoder::Encoder::new(&mut out, quality)
                    .encode(&images.interleaved(i), w, h, colour)
                    .context("encoding JPEG")?;
                bytes += out.len();
                payload += jpeg_payload(&out);
                let px = jpeg_decoder::Decoder::new(out.as_slice())
                    .decode()
                    .context("decoding JPEG")?;
                let px = Images::planes_of(&px, images.channels);
                decoded.extend(px.iter().map(|&p| f32::from(p) / 255.0));
            }
            let per_image = |b: usize| 8.0 * b as f64 / test.len().max(1) as f64;
            let psnr_db = psnr(&decoded, &clean);
            Ok(
                [("JPEG", bytes), ("JPEG payload", payload)].map(|(method, b)| RdPoint {
                    method: method.into(),
                    setting: usize::from(quality),
                    bits_per_image: per_image(b),
                    psnr_db,
                }),
            )
        })
        .collect::<Result<Vec<_>>>()
        .map(|pairs| {
            let (whole, payload): (Vec<_>, Vec<_>) = pairs.into_iter().map(|[a, b]| (a, b)).unzip();
            whole.into_iter().chain(payload).collect()
        })
}

/// Each test image as a grey or RGB PNG: lossless, so its PSNR is infinite.
pub fn png_point(test: &Split) -> Result<RdPoint> {
    let images = images_of(test)?;
    let mut bytes = 0usize;
    for i in 0..test.len() {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, images.cols as u32, images.rows as u32);
            encoder.set_color(if images.channels == 3 {
                png::ColorType::Rgb
            } else {
                png::ColorType::Grayscale
            });
            encoder.set_compression(png::Compression::High);
            let mut writer = encoder.write_header().context("encoding PNG")?;
            writer
                .write_image_data(&images.interleaved(i))
                .context("encoding PNG")?;
        }
        bytes += out.len();
    }
    Ok(RdPoint {
        method: "PNG".into(),
        setting: 0,
        bits_per_image: 8.0 * bytes as f64 / test.len().max(1) as f64,
        psnr_db: f64::INFINITY,
    })
}

/// Bits per image against PSNR, a line per method (PNG, lossless, is in the table only).
pub fn chart(points: &[RdPoint], title: &str) -> Chart {
    let mut methods: Vec<&str> = Vec::new();
    for p in points {
        if p.psnr_db.is_finite() && !methods.contains(&p.method.as_str()) {
            methods.push(&p.method);
        }
    }
    let series = methods
        .into_iter()
        .map(|m| {
            let mut pts: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| p.method == m)
                .map(|p| (p.bits_per_image, p.psnr_db))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                name: m.to_string(),
                points: pts,
                style: Style::Line,
            }
        })
        .collect();
    Chart {
        title: title.into(),
        x_label: "bits per image (log scale)".into(),
        y_label: "PSNR (dB)".into(),
        series,
        axes: true,
        log_x: true,
    }
}

/// The points as a markdown table.
pub fn markdown(points: &[RdPoint]) -> String {
    let mut out = String::from(
        "| method | code size or quality | bits per image | PSNR (dB) |\n|---|---|---|---|\n",
    );
    for p in points {
        let setting = match p.method.as_str() {
            "PNG" => "lossless".to_string(),
            "JPEG" | "JPEG payload" => format!("quality {}", p.setting),
            _ => p.setting.to_string(),
        };
        let psnr = if p.psnr_db.is_finite() {
            format!("{:.2}", p.psnr_db)
        } else {
            "∞".into()
        };
        out.push_str(&format!(
            "| {} | {setting} | {:.0} | {psnr} |\n",
            p.method, p.bits_per_image
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ae_data::idx::Images;

    #[test]
    fn quantisation_keeps_256_levels_over_the_reference_range() {
        let reference = [0.0, 10.0, 1.0, 20.0];
        let q = quantise(&[0.5, 15.0, 2.0, 5.0], &reference, 2);
        // Column 0 spans [0, 1] in 255 steps; column 1 spans [10, 20].
        assert!((q[0] - 128.0 / 255.0).abs() < 1e-6, "{q:?}");
        assert!((q[1] - (10.0 + 128.0 / 255.0 * 10.0)).abs() < 1e-4, "{q:?}");
        assert_eq!(q[2], 1.0, "clamped to the range");
        assert_eq!(q[3], 10.0);
    }

    #[test]
    fn codecs_on_a_few_images() {
        let count = 4;
        let pixels: Vec<u8> = (0..count * 64).map(|i| ((i * 37) % 256) as u8).collect();
        let split = Split::images(Images::grey(count, 8, 8, pixels), vec![0; count]);
        let jpeg = jpeg_points(&split, &[20, 95]).expect("encodes");
        assert_eq!(jpeg.len(), 4);
        assert!(jpeg[0].bits_per_image < jpeg[1].bits_per_image);
        assert!(jpeg[0].psnr_db < jpeg[1].psnr_db, "{jpeg:?}");
        // The payload excludes the tables: smaller, same quality.
        assert_eq!(jpeg[2].method, "JPEG payload");
        assert!(
            jpeg[2].bits_per_image < jpeg[0].bits_per_image - 8.0 * 300.0,
            "{jpeg:?}"
        );
        assert_eq!(jpeg[2].psnr_db, jpeg[0].psnr_db);
        let png = png_point(&split).expect("encodes");
        assert!(png.bits_per_image > 0.0 && png.psnr_db.is_infinite());
        let table = markdown(&[jpeg[0].clone(), png]);
        assert!(
            table.contains("quality 20") && table.contains("lossless | ") && table.contains("∞")
        );
    }
    #[test]
    fn colour_images_go_through_the_codecs_in_colour() {
        // Two 16×16 colour images: a red-to-blue ramp across, green down.
        let plane = |f: &dyn Fn(usize, usize) -> u8| {
            (0..256).map(|p| f(p / 16, p % 16)).collect::<Vec<u8>>()
        };
        let image = [
            plane(&|_, x| (x * 16) as u8),
            plane(&|y, _| (y * 16) as u8),
            plane(&|_, x| 255 - (x * 16) as u8),
        ]
        .concat();
        let mut images = Images::empty([3, 16, 16]);
        images.pixels = [image.clone(), image.clone()].concat();
        images.count = 2;
        assert_eq!(images.interleaved(0)[..6], [0, 0, 255, 16, 0, 239]);
        assert_eq!(Images::planes_of(&images.interleaved(1), 3), image);
        let split = Split::images(images, vec![0, 0]);
        let jpeg = jpeg_points(&split, &[95]).expect("encodes");
        // Planes compared with planes: a high quality keeps the ramps close.
        assert!(jpeg[0].psnr_db > 30.0, "{jpeg:?}");
        let png = png_point(&split).expect("encodes");
        assert!(png.bits_per_image > 0.0);
    }
}
