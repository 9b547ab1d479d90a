//! The converged linear probe against scikit-learn's logistic regression on the same
//! data: the standardised pixels of the embedded Fashion-MNIST sample, C = 0.01. The
//! reference is `fixtures/probe-sklearn.json`, written by `fixtures/probe_sklearn.py`:
//! the probe reaches its objective within 1e-8 and its test accuracy exactly.

use ae_analysis::LinearProbe;

fn split_rows(split: &ae_data::Split) -> Vec<f32> {
    let all: Vec<usize> = (0..split.len()).collect();
    let mut rows = Vec::new();
    split.gather(&all, &mut rows);
    rows
}

/// How close the converged probe's objective comes to scikit-learn's (measured: 6e-9).
const OBJECTIVE_TOLERANCE: f64 = 1e-8;

#[test]
fn the_converged_probe_reaches_scikit_learns_objective_and_accuracy() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/probe-sklearn.json"))
            .expect("the fixture is JSON");
    let data = ae_data::sample::load().expect("the embedded sample");
    let (train, test) = (split_rows(&data.train), split_rows(&data.test));
    let probe = LinearProbe::fit_converged(&train, &data.train.labels, 784, 0.01, 1000, 1e-6)
        .expect("fits");
    let accuracy = probe.accuracy(&test, &data.test.labels).expect("rows");
    let reference = fixture["test_accuracy"].as_f64().expect("test_accuracy");
    let objective = probe
        .mean_objective(&train, &data.train.labels, 0.01)
        .expect("rows");
    let reference_objective = fixture["objective"].as_f64().expect("objective");
    println!(
        "test accuracy {accuracy} (scikit-learn {reference}); objective {objective} \
         (scikit-learn {reference_objective})"
    );
    // The same test accuracy: as many of the test images right.
    assert!(
        (accuracy - reference).abs() < 0.5 / data.test.len() as f64,
        "{accuracy} vs {reference}"
    );
    assert!(
        (objective - reference_objective).abs() <= OBJECTIVE_TOLERANCE,
        "{objective} vs {reference_objective}"
    );
    // Negative control: the mini-batch probe (30 epochs of Adam, its own light
    // penalty) is not at the optimum, and the same check on the objective sees it.
    let quick =
        LinearProbe::fit(&train, &data.train.labels, 784, Default::default()).expect("fits");
    let off = quick
        .mean_objective(&train, &data.train.labels, 0.01)
        .expect("rows");
    println!("mini-batch probe objective {off}");
    assert!(
        (off - reference_objective).abs() > OBJECTIVE_TOLERANCE,
        "{off}"
    );
}
