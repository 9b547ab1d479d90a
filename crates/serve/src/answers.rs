//! The answers of the server's own routes, as types: what `/openapi.json` documents is
//! what these serialise to.

use ae_infer::{Score, Threshold};
use serde::{Serialize, Serializer};

/// A number as JSON: finite ones as numbers, in the fewest digits that read back to
/// the same value of their own type; NaN and the infinities, which JSON has no numbers
/// for, as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (the tokens JavaScript,
/// Python and Jackson print), never as `null`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Number<T>(pub T);

/// A float type written as a [`Number`].
pub trait Float: Copy {
    /// Writes a finite value.
    fn serialize_finite<S: Serializer>(self, s: S) -> Result<S::Ok, S::Error>;
    /// The value as an `f64`, to tell NaN from the infinities.
    fn widen(self) -> f64;
}

impl Float for f32 {
    fn serialize_finite<S: Serializer>(self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f32(self)
    }
    fn widen(self) -> f64 {
        f64::from(self)
    }
}

impl Float for f64 {
    fn serialize_finite<S: Serializer>(self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self)
    }
    fn widen(self) -> f64 {
        self
    }
}

impl<T: Float> Serialize for Number<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0.widen();
        if v.is_finite() {
            self.0.serialize_finite(s)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if v > 0.0 {
            s.serialize_str("Infinity")
        } else {
            s.serialize_str("-Infinity")
        }
    }
}

/// Numbers written as [`Number`]s: a flat list.
pub struct Numbers<'a, T>(pub &'a [T]);

impl<T: Float> Serialize for Numbers<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|&v| Number(v)))
    }
}

/// Rows of `width` values, as a list of lists of [`Number`]s.
pub struct Rows {
    /// The values, row after row.
    pub values: Vec<f32>,
    /// Values per row.
    pub width: usize,
}

impl Rows {
    /// `values` as `n` rows.
    pub fn of(values: Vec<f32>, n: usize) -> Self {
        let width = values.len() / n.max(1);
        Self { values, width }
    }
}

impl Serialize for Rows {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.values.chunks(self.width.max(1)).map(Numbers))
    }
}

/// `GET /health`.
#[derive(Serialize)]
pub struct Health<'a> {
    /// Always `"ok"`: an answer at all is the news.
    pub status: &'static str,
    /// The names of the models served.
    pub models: Vec<&'a str>,
}

/// One model of `GET /v1/models`.
#[derive(Serialize)]
pub struct ModelInfo<'a> {
    /// The name it is served as.
    pub name: &'a str,
    /// Its family (`"mlp"`, `"vae"`, …).
    pub family: &'a str,
    /// Values per sample.
    pub features: usize,
    /// Values per code.
    pub latent: usize,
    /// Its table's column names (empty for images and unnamed columns).
    pub columns: &'a [String],
    /// The anomaly threshold saved with it.
    pub threshold: Option<&'a Threshold>,
}

/// `GET /v1/models`.
#[derive(Serialize)]
pub struct ModelList<'a> {
    /// Every model served, by name.
    pub models: Vec<ModelInfo<'a>>,
}

/// `POST /v1/models/NAME/encode` (JSON).
#[derive(Serialize)]
pub struct Codes<'a> {
    /// The model's name.
    pub model: &'a str,
    /// One code per sample.
    pub codes: Rows,
}

/// `POST /v1/models/NAME/reconstruct` (JSON).
#[derive(Serialize)]
pub struct Reconstructions<'a> {
    /// The model's name.
    pub model: &'a str,
    /// One reconstruction per sample, in the inputs' units.
    pub reconstructions: Rows,
}

/// `POST /v1/models/NAME/score`.
#[derive(Serialize)]
pub struct Scores<'a> {
    /// The model's name.
    pub model: &'a str,
    /// What the scores measure.
    pub score: Score,
    /// One score per sample.
    pub scores: Numbers<'a, f64>,
    /// The saved threshold's value, if one was saved.
    pub threshold: Option<f64>,
    /// The threshold's decision per sample, if one was saved.
    pub anomalous: Option<&'a [bool]>,
    /// Each feature's squared error per sample, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Rows>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_tells_nan_from_the_infinities() {
        let json = |v: f64| serde_json::to_value(Number(v)).expect("serialises");
        // An f32 in its own shortest digits, which read back to the same f32.
        assert_eq!(
            serde_json::to_string(&Number(0.1f32)).expect("serialises"),
            "0.1"
        );
        assert_eq!(json(1.5), serde_json::json!(1.5));
        assert_eq!(json(f64::NAN), serde_json::json!("NaN"));
        assert_eq!(json(f64::INFINITY), serde_json::json!("Infinity"));
        assert_eq!(json(f64::NEG_INFINITY), serde_json::json!("-Infinity"));
        let rows = Rows::of(vec![1.0, 2.0, f32::NAN, 4.0], 2);
        assert_eq!(
            serde_json::to_value(rows).expect("serialises"),
            serde_json::json!([[1.0, 2.0], ["NaN", 4.0]])
        );
    }
}
