//! The `train` flags as plain data, and the rules that apply them to a run's
//! configuration.
//!
//! Two layers, as in ripgrep's low and high arguments: flags parse into the override
//! structs below, every field `None` (or `false`) unless the flag was given; then
//! [`configure`] applies them to a [`TrainConfig`] that starts from a family's
//! defaults for the data or from a config file. Defaults therefore live in one place
//! each — the models crate for architectures, [`TrainConfig::new`] for the run — and
//! `train --print-config` shows what a run will use.
//!
//! Each family's step of [`ModelOverrides::apply`] takes the flags it applies; a
//! flag left untaken is refused with "`--x` does not apply to `--model y`", so a new
//! flag is refused by every family until one takes it.

use std::str::FromStr;

use ae_data::Dataset;
use ae_models::{Family, KlSparsity};
use anyhow::{Context, Result, bail};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use crate::dataset::input_shape;
use crate::run::config::TrainConfig;

/// Whether a flag was given: an `Option` that is `Some`, a switch that is on.
pub(crate) trait Given {
    fn given(&self) -> bool;
}

impl<T> Given for Option<T> {
    fn given(&self) -> bool {
        self.is_some()
    }
}

impl Given for bool {
    fn given(&self) -> bool {
        *self
    }
}

/// The command-line name of an override field: `code_l1` → `--code-l1`.
pub(crate) fn flag(field: &str) -> String {
    format!("--{}", field.replace('_', "-"))
}

/// The flags among `fields` that were given, by name.
macro_rules! given {
    ($($field:ident),* $(,)?) => {{
        let mut names: Vec<String> = Vec::new();
        $(if Given::given($field) { names.push(flag(stringify!($field))); })*
        names
    }};
}

/// Overwrites `slot` with the flag's value when it was given.
fn set<T: Clone>(slot: &mut T, value: &Option<T>) {
    if let Some(v) = value {
        *slot = v.clone();
    }
}

mod images;
mod model;
mod own;
mod run;
mod table;

pub use images::ImageOverrides;
pub use model::ModelOverrides;
// `OwnFlags` and each family's group of flags.
pub use own::*;
pub use run::{RunOverrides, resume};
pub use table::TableOverrides;

/// Layer widths, comma-separated on the command line; `none` (or nothing) for none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Widths(pub Vec<usize>);

impl FromStr for Widths {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s == "none" {
            return Ok(Widths(Vec::new()));
        }
        s.split(',')
            .map(|w| {
                w.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("'{w}' is not a layer width"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Widths)
    }
}

/// Parses KL sparsity as `RHO:BETA`.
fn parse_kl(s: &str) -> Result<KlSparsity, String> {
    let (rho, beta) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}': expected RHO:BETA, e.g. 0.05:1.0"))?;
    let num = |v: &str| {
        v.parse::<f64>()
            .map_err(|_| format!("'{v}' is not a number"))
    };
    Ok(KlSparsity {
        target: num(rho)?,
        weight: num(beta)?,
    })
}

/// The `--model` values: every [`Family`], each with its description.
pub fn family_parser() -> impl TypedValueParser<Value = Family> {
    PossibleValuesParser::new(
        Family::ALL
            .iter()
            .map(|f| PossibleValue::new(f.name()).help(f.description())),
    )
    .try_map(|name| name.parse::<Family>())
}

/// The defaults of `family` for the samples of `data`.
fn defaults(family: Family, data: &Dataset) -> Result<ae_models::ModelConfig> {
    family
        .default_config(input_shape(data))
        .with_context(|| format!("--model {family} on {}", data.spec))
}

/// The run's configuration: `base` (a config file) or the defaults of `family` (the
/// default family when not given) for `data`, with the flags applied. A `family` other than the
/// base's starts from that family's defaults.
pub fn configure(
    base: Option<TrainConfig>,
    family: Option<Family>,
    model: &ModelOverrides,
    run: &RunOverrides,
    data: &Dataset,
) -> Result<TrainConfig> {
    let shape = input_shape(data);
    let mut config = match base {
        Some(c) => c,
        None => TrainConfig::new(
            defaults(family.unwrap_or_default(), data)?,
            data.spec.clone(),
        ),
    };
    config.dataset = data.spec.clone();
    if let Some(family) = family
        && config.model.family() != family
    {
        config.model = defaults(family, data)?;
    }
    model.apply(&mut config.model)?;
    run.apply(&mut config, data)?;
    if config.model.input_size() != shape.features() {
        bail!(
            "the config's model expects {} input features but {} has {} per sample",
            config.model.input_size(),
            data.spec,
            shape.features()
        );
    }
    Ok(config)
}

#[cfg(test)]
mod run_tests;
#[cfg(test)]
mod tests;
