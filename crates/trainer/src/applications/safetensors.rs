//! Weights out of burn: a model's parameters as a safetensors file with PyTorch's names
//! and layouts, and a JSON of the architecture beside it, so that PyTorch or NumPy load
//! them without burn.
//!
//! Names are the module paths PyTorch's `state_dict()` would give the same modules
//! (`encoder.0.weight`, `decoder.1.bias`, `mean.weight`, …). Layouts are PyTorch's:
//! a linear layer's weight is `[out, in]` (burn keeps `[in, out]`, so it is transposed
//! here); convolution weights are `[out, in, kh, kw]` and transposed convolutions
//! `[in, out, kh, kw]` in both. Values are little-endian `f32`.

use std::collections::BTreeMap;
use std::path::Path;

use ae_models::AnyAutoencoder;
use anyhow::{Context, Result, bail};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::Serialize;

use crate::artifact::write_atomic;

/// One parameter: its PyTorch name, shape and values (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    /// The parameter's name, as PyTorch's `state_dict()` gives it.
    pub name: String,
    /// Its shape, in PyTorch's layout.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f32>,
}

/// Every parameter of `model`, in the order the model holds them, with PyTorch's names
/// and layouts.
pub fn state_dict(model: &AnyAutoencoder) -> Vec<NamedTensor> {
    let mut collector = Collector::default();
    model.visit(&mut collector);
    collector.tensors
}

/// Collects parameters with the path of module fields and indices above them.
#[derive(Default)]
struct Collector {
    /// (name, container type) of each module entered.
    path: Vec<(String, String)>,
    tensors: Vec<NamedTensor>,
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path
            .push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let (name, in_linear) = pytorch_name(&self.path);
        let tensor = param.val();
        let (tensor_shape, values) = if in_linear && D == 2 {
            let t = tensor.transpose();
            (t.dims().to_vec(), t.into_data())
        } else {
            (tensor.dims().to_vec(), tensor.into_data())
        };
        let values = values
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        self.tensors.push(NamedTensor {
            name,
            shape: tensor_shape,
            values,
        });
    }
}

/// The PyTorch name of the parameter at `path` ((field or index, container type) of
/// each module entered), and whether it is a linear layer's weight, which PyTorch
/// keeps transposed.
fn pytorch_name(path: &[(String, String)]) -> (String, bool) {
    // The enum of families is no module of PyTorch's: its level is left out. Batch
    // norm's scale and shift are `weight` and `bias` in PyTorch (`gamma` and `beta` in
    // burn); its running averages have the same names in both.
    let name = path
        .iter()
        .filter(|(_, kind)| !kind.starts_with("Enum:"))
        .map(|(name, kind)| match (name.as_str(), kind.as_str()) {
            ("gamma", "Struct:BatchNorm") => "weight",
            ("beta", "Struct:BatchNorm") => "bias",
            (name, _) => name,
        })
        .collect::<Vec<_>>()
        .join(".");
    let in_linear = path
        .last()
        .is_some_and(|(field, kind)| field == "weight" && kind == "Struct:Linear");
    (name, in_linear)
}

/// `model` with every parameter replaced by the tensor of its PyTorch name in
/// `tensors` (PyTorch's layouts, as [`state_dict`] gives them). A parameter without
/// its tensor, a tensor of another shape, a tensor no parameter takes and a tensor
/// holding NaN or an infinity are errors, each named.
pub fn load_state_dict(model: AnyAutoencoder, tensors: &[NamedTensor]) -> Result<AnyAutoencoder> {
    for t in tensors {
        if let Some(i) = t.values.iter().position(|v| !v.is_finite()) {
            bail!(
                "tensor {}: value {i} of {} is {}: the weights must be finite numbers",
                t.name,
                t.values.len(),
                t.values[i]
            );
        }
    }
    let mut loader = Loader {
        path: Vec::new(),
        tensors: tensors.iter().map(|t| (t.name.as_str(), t)).collect(),
        used: Vec::new(),
        errors: Vec::new(),
    };
    let model = model.map(&mut loader);
    let unused: Vec<&str> = tensors
        .iter()
        .map(|t| t.name.as_str())
        .filter(|name| !loader.used.iter().any(|u| u == name))
        .collect();
    if let Some(name) = unused.first() {
        loader.errors.push(format!(
            "{name}: no parameter of the model has this name ({} such tensors)",
            unused.len()
        ));
    }
    if !loader.errors.is_empty() {
        let shown: Vec<&str> = loader.errors.iter().take(5).map(String::as_str).collect();
        bail!(
            "the weights do not fit the model ({} problems): {}",
            loader.errors.len(),
            shown.join("; ")
        );
    }
    Ok(model)
}

/// Replaces parameters by the tensors of their names.
struct Loader<'a> {
    path: Vec<(String, String)>,
    tensors: BTreeMap<&'a str, &'a NamedTensor>,
    used: Vec<String>,
    errors: Vec<String>,
}

impl ModuleMapper for Loader<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path
            .push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (name, in_linear) = pytorch_name(&self.path);
        let Some(&t) = self.tensors.get(name.as_str()) else {
            self.errors.push(format!("{name}: missing"));
            return param;
        };
        self.used.push(name.clone());
        let mut expected = param.val().dims().to_vec();
        if in_linear {
            expected.reverse();
        }
        if t.shape != expected {
            self.errors.push(format!(
                "{name}: shape {:?}, the model's is {expected:?}",
                t.shape
            ));
            return param;
        }
        param.map(|old| {
            let data = TensorData::new(t.values.clone(), t.shape.clone());
            let new = Tensor::<D>::from_data(data, &old.device());
            if in_linear { new.transpose() } else { new }
        })
    }
}

/// The bytes of a safetensors file holding `tensors` (`F32`) and `metadata`.
pub fn to_bytes(tensors: &[NamedTensor], metadata: &BTreeMap<String, String>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Entry<'a> {
        dtype: &'static str,
        shape: &'a [usize],
        data_offsets: [usize; 2],
    }
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        header.insert(
            "__metadata__".into(),
            serde_json::to_value(metadata).unwrap_or_default(),
        );
    }
    let mut offset = 0;
    for t in tensors {
        let end = offset + 4 * t.values.len();
        let entry = Entry {
            dtype: "F32",
            shape: &t.shape,
            data_offsets: [offset, end],
        };
        header.insert(
            t.name.clone(),
            serde_json::to_value(entry).unwrap_or_default(),
        );
        offset = end;
    }
    let mut text = serde_json::Value::Object(header).to_string().into_bytes();
    // The data starts 8-byte aligned: the header is padded with spaces.
    while !(8 + text.len()).is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + offset);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    for t in tensors {
        for v in &t.values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Reads the `F32` tensors of a safetensors file, in the order of their data.
pub fn read(path: &Path) -> Result<Vec<NamedTensor>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    from_bytes(&bytes)
        .with_context(|| format!("{}: not a safetensors file of f32 tensors", path.display()))
}

/// Parses the bytes of a safetensors file of `F32` tensors.
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<NamedTensor>> {
    let Some(len) = bytes.get(..8) else {
        bail!(
            "{} bytes: shorter than the 8-byte header length",
            bytes.len()
        );
    };
    let len = u64::from_le_bytes(len.try_into().unwrap_or_default()) as usize;
    let Some(header) = bytes.get(8..8usize.saturating_add(len)) else {
        bail!("the header of {len} bytes runs past the end of the file");
    };
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(header).context("the header is not a JSON object")?;
    let data = &bytes[8 + len..];
    let mut tensors = Vec::new();
    for (name, entry) in header {
        if name == "__metadata__" {
            continue;
        }
        let dtype = entry["dtype"].as_str().unwrap_or("");
        if dtype != "F32" {
            bail!("{name}: dtype {dtype:?}, expected F32");
        }
        let shape: Vec<usize> = serde_json::from_value(entry["shape"].clone())
            .with_context(|| format!("{name}: shape"))?;
        let [start, end]: [usize; 2] = serde_json::from_value(entry["data_offsets"].clone())
            .with_context(|| format!("{name}: data_offsets"))?;
        let count: usize = shape.iter().product();
        let Some(raw) = data.get(start..end).filter(|r| r.len() == 4 * count) else {
            bail!(
                "{name}: data {start}..{end} does not hold the {count} values of shape {shape:?}"
            );
        };
        let values = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        tensors.push((
            start,
            NamedTensor {
                name,
                shape,
                values,
            },
        ));
    }
    tensors.sort_by_key(|(start, _)| *start);
    Ok(tensors.into_iter().map(|(_, t)| t).collect())
}

/// Writes `tensors` to `path` whole or not at all.
pub fn write(
    path: &Path,
    tensors: &[NamedTensor],
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    write_atomic(path, &to_bytes(tensors, metadata))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_the_data_is_aligned() {
        let tensors = vec![
            NamedTensor {
                name: "encoder.0.weight".into(),
                shape: vec![2, 3],
                values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            },
            NamedTensor {
                name: "encoder.0.bias".into(),
                shape: vec![2],
                values: vec![-1.0, 0.5],
            },
        ];
        let metadata = BTreeMap::from([("format".to_string(), "pt".to_string())]);
        let bytes = to_bytes(&tensors, &metadata);
        let len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        assert_eq!((8 + len) % 8, 0);
        assert_eq!(bytes.len(), 8 + len + 4 * 8);
        assert_eq!(from_bytes(&bytes).expect("parses"), tensors);
    }

    #[test]
    #[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
    fn a_state_dict_loads_back_and_misfits_are_named() {
        use ae_models::{Autoencoder, ModelConfig, VaeConfig};
        let device = Device::ndarray();
        let config = ModelConfig::Vae(VaeConfig::new(6, vec![4], 2));
        let (a, b) = (
            config.init(&device).expect("valid"),
            config.init(&device).expect("valid"),
        );
        let dict = state_dict(&a);
        let loaded = load_state_dict(b, &dict).expect("fits");
        assert_eq!(state_dict(&loaded), dict);
        let x = Tensor::<2>::ones([3, 6], &device);
        a.encode(x.clone())
            .into_data()
            .assert_eq(&loaded.encode(x).into_data(), true);

        let mut wrong = dict.clone();
        wrong[0].shape.reverse();
        wrong.pop();
        wrong.push(NamedTensor {
            name: "extra.weight".into(),
            shape: vec![1],
            values: vec![0.0],
        });
        let fresh = config.init(&device).expect("valid");
        let err = load_state_dict(fresh, &wrong)
            .expect_err("misfits")
            .to_string();
        assert!(
            err.contains("encoder.0.weight: shape [6, 4], the model's is [4, 6]"),
            "{err}"
        );
        assert!(
            err.contains(&format!("{}: missing", dict[dict.len() - 1].name)),
            "{err}"
        );
        assert!(err.contains("extra.weight: no parameter"), "{err}");

        // A weight that is not a finite number is named, and nothing loads.
        let mut broken = dict.clone();
        broken[1].values[2] = f32::NAN;
        let fresh = config.init(&device).expect("valid");
        let err = load_state_dict(fresh, &broken)
            .expect_err("NaN")
            .to_string();
        assert!(
            err.contains(&format!("tensor {}: value 2 of", broken[1].name)) && err.contains("NaN"),
            "{err}"
        );
    }

    #[test]
    #[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
    fn batch_norm_leaves_with_pytorch_names_and_its_running_averages() {
        use ae_models::{ConvAutoencoderConfig, ConvStackConfig, ModelConfig, Norm};
        let device = Device::ndarray();
        let stack = ConvStackConfig::new([3, 8, 8], vec![4, 6]).with_norm(Some(Norm::Batch));
        let config = ModelConfig::Conv(ConvAutoencoderConfig::new(stack, 3));
        let model = config.init(&device).expect("valid");
        let dict = state_dict(&model);
        let names: Vec<&str> = dict.iter().map(|t| t.name.as_str()).collect();
        for name in [
            "encoder.convs.0.weight",
            "encoder.norms.0.weight",
            "encoder.norms.0.bias",
            "encoder.norms.0.running_mean",
            "encoder.norms.1.running_var",
            "decoder.norms.0.weight",
        ] {
            assert!(names.contains(&name), "{name} not in {names:?}");
        }
        assert!(
            !names
                .iter()
                .any(|n| n.contains("gamma") || n.contains("training")),
            "{names:?}"
        );
        let var = dict
            .iter()
            .find(|t| t.name == "encoder.norms.1.running_var")
            .expect("there");
        assert_eq!((var.shape.clone(), var.values[0]), (vec![6], 1.0));
        let fresh = config.init(&device).expect("valid");
        assert_eq!(
            state_dict(&load_state_dict(fresh, &dict).expect("fits")),
            dict
        );
    }

    #[test]
    fn bad_files_are_named() {
        for (bytes, expected) in [
            (vec![1u8, 2], "shorter than"),
            (100u64.to_le_bytes().to_vec(), "runs past"),
            ([&8u64.to_le_bytes()[..], b"not json"].concat(), "JSON"),
        ] {
            let err = format!("{:#}", from_bytes(&bytes).expect_err("bad"));
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    #[allow(deprecated)] // Device::ndarray: deprecated upstream in favour of flex.
    fn linear_weights_leave_in_pytorch_layout() {
        use ae_models::{MlpAutoencoderConfig, ModelConfig};
        let device = Device::ndarray();
        let config = ModelConfig::Mlp(MlpAutoencoderConfig::new(6, vec![4], 2));
        let model = config.init(&device).expect("valid");
        let dict = state_dict(&model);
        let names: Vec<(&str, Vec<usize>)> = dict
            .iter()
            .map(|t| (t.name.as_str(), t.shape.clone()))
            .collect();
        assert_eq!(
            names,
            [
                ("encoder.0.weight", vec![4, 6]),
                ("encoder.0.bias", vec![4]),
                ("encoder.1.weight", vec![2, 4]),
                ("encoder.1.bias", vec![2]),
                ("decoder.0.weight", vec![4, 2]),
                ("decoder.0.bias", vec![4]),
                ("decoder.1.weight", vec![6, 4]),
                ("decoder.1.bias", vec![6]),
            ]
        );
        // Row o of the exported weight is column o of burn's.
        let AnyAutoencoder::Mlp(mlp) = &model else {
            panic!("an MLP")
        };
        let burn = mlp.encoder[0]
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32");
        let exported = &dict[0].values;
        for i in 0..6 {
            for o in 0..4 {
                assert_eq!(exported[o * 6 + i], burn[i * 4 + o]);
            }
        }
    }
}
