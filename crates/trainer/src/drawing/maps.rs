//! Pictures of what a model learned: the latent map of the test codes, the decoded
//! manifold of a 2-D generative model, the first layer's filters, the loss curves.

use ae_analysis::{TsneOptions, UmapOptions};
use ae_models::{AnyAutoencoder, Autoencoder, Family, ModelConfig};
use anyhow::{Result, bail};
use burn::prelude::*;

use crate::applications::embed::Embedding;
use crate::drawing::image::Grid;
use crate::drawing::plot::{Chart, Series, Style};
use crate::run::history::EpochMetrics;

/// How the codes were brought to two dimensions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Projection {
    /// The codes are 2-D: drawn as they are.
    Direct,
    /// The codes mapped by t-SNE or UMAP.
    Mapped(Method),
}

/// How codes of more than two units are brought to two dimensions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// t-SNE (exact up to 1,000 codes, Barnes–Hut above).
    Tsne(TsneOptions),
    /// UMAP.
    Umap(UmapOptions),
}

/// A 2-D map of the first `n` codes of `embedding`, one series per label named from
/// `class_names`: the codes themselves when they are 2-D, else their t-SNE or UMAP
/// (`method`), with a progress bar on standard error while it runs (drawn only on a
/// terminal).
pub fn latent_map(
    embedding: &Embedding,
    n: usize,
    class_names: &[&str],
    method: Method,
) -> Result<(Chart, Projection)> {
    let n = n.min(embedding.len());
    if embedding.dim < 2 {
        bail!("a code of size {} has no 2-D map", embedding.dim);
    }
    let (codes, dim) = (&embedding.codes[..n * embedding.dim], embedding.dim);
    let (xy, projection) = match method {
        _ if dim == 2 => (codes.to_vec(), Projection::Direct),
        Method::Tsne(options) => {
            let bar = crate::run::progress::bar(options.iterations, "t-SNE iterations");
            let xy = ae_analysis::tsne_with_progress(codes, dim, options, |done| {
                bar.set_position(done as u64)
            })?;
            bar.finish_and_clear();
            (xy, Projection::Mapped(method))
        }
        Method::Umap(options) => {
            let bar = crate::run::progress::bar(options.epochs_for(n), "UMAP epochs");
            let xy = ae_analysis::umap_with_progress(codes, dim, options, |done| {
                bar.set_position(done as u64)
            })?;
            bar.finish_and_clear();
            (xy, Projection::Mapped(method))
        }
    };
    let labels = &embedding.labels[..n];
    let mut present: Vec<u8> = labels.to_vec();
    present.sort_unstable();
    present.dedup();
    let series = present
        .into_iter()
        .map(|label| Series {
            name: class_names
                .get(usize::from(label))
                .map_or_else(|| label.to_string(), |s| format!("{label} {s}")),
            points: labels
                .iter()
                .enumerate()
                .filter(|&(_, &l)| l == label)
                .map(|(i, _)| (f64::from(xy[2 * i]), f64::from(xy[2 * i + 1])))
                .collect(),
            style: Style::Points,
        })
        .collect();
    let (title, axes) = match projection {
        Projection::Direct => (format!("codes of {n} test images"), true),
        Projection::Mapped(Method::Tsne(o)) => (
            format!(
                "t-SNE of the {}-d codes of {n} test images (perplexity {})",
                embedding.dim, o.perplexity
            ),
            false,
        ),
        Projection::Mapped(Method::Umap(o)) => (
            format!(
                "UMAP of the {}-d codes of {n} test images ({} neighbours, min_dist {})",
                embedding.dim, o.neighbours, o.min_dist
            ),
            false,
        ),
    };
    let (x_label, y_label) = match projection {
        Projection::Direct => ("z0", "z1"),
        Projection::Mapped(_) => ("", ""),
    };
    Ok((
        Chart {
            title,
            x_label: x_label.into(),
            y_label: y_label.into(),
            series,
            axes,
            log_x: false,
        },
        projection,
    ))
}

/// The decodings of a `side` × `side` grid of codes of a 2-D generative model, spaced
/// at the standard normal's quantiles (Kingma & Welling, 2014, figure 4).
pub fn manifold(
    model: &AnyAutoencoder,
    config: &ModelConfig,
    side: usize,
    shape: [usize; 3],
    device: &Device,
) -> Result<Grid> {
    let (family, latent) = (config.family(), config.latent());
    if !family.has_continuous_prior() || latent != 2 {
        bail!(
            "the manifold grid needs a model with a continuous prior ({}) and a 2-d \
             code; this one is a {family} whose code has {latent} units",
            manifold_families()
        );
    }
    if side < 2 {
        bail!("--manifold {side}: expected at least 2 images a side");
    }
    let q: Vec<f32> = (0..side)
        .map(|i| normal_quantile((i as f64 + 0.5) / side as f64) as f32)
        .collect();
    let codes: Vec<f32> = (0..side)
        .flat_map(|r| {
            let q = &q;
            // Rows from top (high z1) to bottom, columns left to right in z0.
            (0..side).flat_map(move |c| [q[c], q[side - 1 - r]])
        })
        .collect();
    let z = Tensor::<2>::from_data(TensorData::new(codes, [side * side, 2]), device);
    let images = model
        .decode(z)
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap_or_default();
    Ok(Grid::of(shape, &images, side))
}

/// The names of the families whose continuous prior `--manifold` decodes.
pub fn manifold_families() -> String {
    Family::listed(Family::has_continuous_prior)
}

/// The standard normal's quantile function (Acklam's rational approximation,
/// relative error below 1.2e-9).
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Which units' filters to show.
#[derive(Clone, Copy, Debug)]
pub enum Units<'a> {
    /// The first n (all when there are fewer).
    First(usize),
    /// These, in this order.
    These(&'a [usize]),
}

/// The filters of `units` of the model's first fully connected layer (the weights
/// into each unit, shown as an image, each scaled to its own range); an error for
/// models whose first layer sees less than the whole image (a convolution, a patch
/// embedding).
pub fn filters(model: &AnyAutoencoder, units: Units<'_>, shape: [usize; 3]) -> Result<Grid> {
    let Some(layer) = model.first_dense_layer() else {
        bail!(
            "filters shows a first layer fully connected to the image; this model's first layer sees a part of it (a convolution or a patch embedding)"
        );
    };
    // burn's Linear weight is [inputs, units]: column j holds unit j's filter.
    unit_images(layer.weight.val(), units, shape, "the first layer")
}

/// The atoms of `units` of a linear decoder: the image each code unit adds to a
/// reconstruction, per unit of activation (a TopK sparse autoencoder's dictionary, a
/// shallow linear decoder's rows), each scaled to its own range.
pub fn atoms(model: &AnyAutoencoder, units: Units<'_>, shape: [usize; 3]) -> Result<Grid> {
    let Some(basis) = model.linear_decoder_basis() else {
        bail!(
            "atoms are the rows of a linear decoder (a TopK sparse autoencoder's, or a shallow MLP's without an output activation); this model's decoder is not linear"
        );
    };
    unit_images(basis.transpose(), units, shape, "the decoder")
}

/// Column j of `w` (`[inputs, units]`) as the image of unit j, for each of `units`.
fn unit_images(w: Tensor<2>, units: Units<'_>, shape: [usize; 3], what: &str) -> Result<Grid> {
    let [inputs, width] = w.dims();
    if inputs != shape.iter().product::<usize>() {
        bail!("{what} has {inputs} inputs, not the {shape:?} pixels of an image");
    }
    let w = w.into_data().try_into_vec_as::<f32>().unwrap_or_default();
    let units: Vec<usize> = match units {
        Units::First(n) => (0..n.min(width)).collect(),
        Units::These(u) => u.to_vec(),
    };
    if let Some(j) = units.iter().find(|&&j| j >= width) {
        bail!("unit {j}: {what} has {width} units");
    }
    let images: Vec<Vec<f32>> = units
        .iter()
        .map(|&j| {
            let column: Vec<f32> = (0..inputs).map(|i| w[i * width + j]).collect();
            let lo = column.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = column.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let span = (hi - lo).max(1e-12);
            column.iter().map(|v| (v - lo) / span).collect()
        })
        .collect();
    let per_row = (images.len() as f64).sqrt().ceil().max(1.0) as usize;
    Ok(Grid {
        shape,
        rows: images.chunks(per_row).map(<[_]>::to_vec).collect(),
    })
}

/// The training and validation loss of every epoch, as a line chart, and each of
/// `terms` (the objective's loss terms) when there are several.
pub fn loss_curves(history: &[EpochMetrics], title: &str, terms: &[&str]) -> Chart {
    // The total, then each term of an objective that has several.
    let mut metrics = vec![("Loss", "loss")];
    if terms.len() > 1 {
        metrics.extend(terms.iter().map(|&t| (t, t)));
    }
    let series = metrics
        .into_iter()
        .flat_map(|metric| [(metric, "train", false), (metric, "valid", true)])
        .map(|((key, label), name, valid)| Series {
            name: format!("{name} {label}"),
            points: history
                .iter()
                .enumerate()
                .filter_map(|(e, m)| {
                    let map = if valid { &m.valid } else { &m.train };
                    map.get(key).map(|&v| ((e + 1) as f64, v))
                })
                .collect(),
            style: Style::Line,
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    Chart {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: "loss".into(),
        series,
        axes: true,
        log_x: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_curves_draw_every_term_of_an_objective_with_several() {
        let epoch = |e: usize| {
            let split = |shift: f64| {
                [("Loss", 3.0), ("reconstruction", 2.0), ("kl", 1.0)]
                    .map(|(k, v)| (k.to_string(), v + shift - e as f64 * 0.1))
                    .into_iter()
                    .collect()
            };
            EpochMetrics {
                epoch: e + 1,
                train: split(0.0),
                valid: split(0.05),
            }
        };
        let history = [epoch(0), epoch(1)];
        let names = |c: Chart| c.series.into_iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(
            names(loss_curves(&history, "vae", &["reconstruction", "kl"])),
            [
                "train loss",
                "valid loss",
                "train reconstruction",
                "valid reconstruction",
                "train kl",
                "valid kl"
            ]
        );
        // One term is the total: drawn once.
        assert_eq!(
            names(loss_curves(&history, "mlp", &["reconstruction"])),
            ["train loss", "valid loss"]
        );
        let chart = loss_curves(&history, "vae", &["reconstruction", "kl"]);
        let kl = &chart.series[5].points;
        assert_eq!(kl.len(), 2);
        assert!(
            (kl[0].1 - 1.05).abs() < 1e-12 && (kl[1].1 - 0.95).abs() < 1e-12,
            "{kl:?}"
        );
    }

    #[test]
    fn normal_quantiles() {
        assert!(normal_quantile(0.5).abs() < 1e-9);
        assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-6);
        assert!((normal_quantile(0.01) + 2.326_347_874).abs() < 1e-6);
    }

    #[test]
    #[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
    fn manifold_needs_a_2d_generative_model() {
        let device = Device::ndarray();
        let vae_config =
            |latent| ae_models::ModelConfig::Vae(ae_models::VaeConfig::new(784, vec![16], latent));
        let vae = |latent| vae_config(latent).init(&device).expect("valid");
        let grid = manifold(&vae(2), &vae_config(2), 3, [1, 28, 28], &device).expect("2-d VAE");
        assert_eq!(grid.rows.len(), 3);
        assert!(grid.rows.iter().all(|r| r.len() == 3 && r[0].len() == 784));
        let err = manifold(&vae(5), &vae_config(5), 3, [1, 28, 28], &device).expect_err("5-d");
        assert!(err.to_string().contains("2-d code"), "{err}");
        let mlp_config =
            ae_models::ModelConfig::Mlp(ae_models::MlpAutoencoderConfig::new(784, vec![], 2));
        let mlp = mlp_config.init(&device).expect("valid");
        let err = manifold(&mlp, &mlp_config, 3, [1, 28, 28], &device).expect_err("no prior");
        assert!(err.to_string().contains("this one is a mlp"), "{err}");
        // Filters: one image per first-layer unit, each spanning [0, 1].
        let grid = filters(&vae(2), Units::First(100), [1, 28, 28]).expect("linear first layer");
        let all: Vec<&Vec<f32>> = grid.rows.iter().flatten().collect();
        assert_eq!(all.len(), 16);
        assert!(all.iter().all(|f| {
            let lo = f.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = f.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            lo == 0.0 && (hi - 1.0).abs() < 1e-6
        }));
        let conv = ae_models::ModelConfig::Conv(ae_models::ConvAutoencoderConfig::new(
            ae_models::ConvStackConfig::new([1, 28, 28], vec![4]),
            8,
        ))
        .init(&device)
        .expect("valid");
        assert!(filters(&conv, Units::First(4), [1, 28, 28]).is_err());
        assert!(
            filters(&vae(2), Units::These(&[3, 16]), [1, 28, 28]).is_err(),
            "16 units"
        );
        let two = filters(&vae(2), Units::These(&[5, 1]), [1, 28, 28]).expect("two units");
        assert_eq!(two.rows.iter().flatten().count(), 2);
    }

    #[test]
    fn a_2d_embedding_is_drawn_directly_one_series_per_label() {
        let e = Embedding {
            codes: vec![0.0, 0.0, 1.0, 1.0, 2.0, 0.5],
            dim: 2,
            labels: vec![3, 1, 3],
        };
        let names = ["a", "b", "c", "d"];
        let (chart, projection) =
            latent_map(&e, 10, &names, Method::Tsne(TsneOptions::default())).expect("2-d");
        assert_eq!(projection, Projection::Direct);
        assert_eq!(chart.series.len(), 2);
        assert_eq!(chart.series[0].name, "1 b");
        assert_eq!(chart.series[1].points, vec![(0.0, 0.0), (2.0, 0.5)]);
        let one_d = Embedding {
            codes: vec![0.0],
            dim: 1,
            labels: vec![0],
        };
        assert!(latent_map(&one_d, 1, &names, Method::Tsne(TsneOptions::default())).is_err());
    }
}
