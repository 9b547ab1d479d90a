//! Whether a module's weights are all finite numbers, and which is not.

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;

/// The first parameter of `module` holding a NaN or an infinity, as its path of
/// fields (`encoder.layers.0.weight`) and what it holds; `None` when all are finite.
/// Weights that are not finite make every output NaN, so whatever reads or writes
/// weights refuses them rather than answer with nothing.
pub fn first_non_finite<M: Module>(module: &M) -> Option<String> {
    let mut finder = Finder::default();
    module.visit(&mut finder);
    finder.found
}

#[derive(Default)]
struct Finder {
    path: Vec<String>,
    found: Option<String>,
}

impl ModuleVisitor for Finder {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        // The enum of families is a level of no meaning to a reader.
        let name = if container_type.starts_with("Enum:") {
            ""
        } else {
            name
        };
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.found.is_some() {
            return;
        }
        let tensor = param.val();
        if tensor.clone().is_finite().all().into_scalar::<bool>() {
            return;
        }
        let nan = tensor.clone().is_nan().any().into_scalar::<bool>();
        let name: Vec<&str> = self
            .path
            .iter()
            .map(String::as_str)
            .filter(|n| !n.is_empty())
            .collect();
        self.found = Some(format!(
            "{} {:?} holds {}",
            name.join("."),
            tensor.dims(),
            if nan { "NaN" } else { "an infinity" }
        ));
    }
}

#[cfg(test)]
mod tests {
    use burn::module::{Module, ModuleMapper, Param};
    use burn::prelude::*;

    use crate::{MlpAutoencoderConfig, ModelConfig};

    /// Fills the `at`-th float parameter with `value`.
    struct Spoil {
        at: usize,
        seen: usize,
        value: f32,
    }

    impl ModuleMapper for Spoil {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            self.seen += 1;
            if self.seen - 1 != self.at {
                return param;
            }
            param.map(|t| t.ones_like().mul_scalar(self.value))
        }
    }

    #[test]
    fn the_first_weight_that_is_not_finite_is_named() {
        let device = Device::flex();
        let config = ModelConfig::Mlp(MlpAutoencoderConfig::new(4, vec![3], 2));
        let model = config.init(&device).expect("an MLP");
        assert_eq!(super::first_non_finite(&model), None);
        let count = model.num_params();
        assert!(count > 0);
        // The last parameter is the decoder's last bias.
        let mut last = 0;
        model.visit(&mut Counter(&mut last));
        for (value, what) in [(f32::NAN, "NaN"), (f32::INFINITY, "an infinity")] {
            let spoilt = model.clone().map(&mut Spoil {
                at: last - 1,
                seen: 0,
                value,
            });
            let found = super::first_non_finite(&spoilt).expect("found");
            assert!(
                found.starts_with("decoder") && found.contains("bias") && found.ends_with(what),
                "{found}"
            );
        }
    }

    struct Counter<'a>(&'a mut usize);

    impl burn::module::ModuleVisitor for Counter<'_> {
        fn visit_float<const D: usize>(&mut self, _: &Param<Tensor<D>>) {
            *self.0 += 1;
        }
    }
}
