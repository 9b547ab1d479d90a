//! One thread per model holds it on its device and answers jobs, gathering the
//! samples of concurrent requests into one call of the model: the requests that queued
//! while it was busy, and those that arrive within a maximum wait after the first, up
//! to a maximum batch.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use ae_infer::{InferError, Predictor, Task};
use tokio::sync::oneshot;

use crate::error::{ApiError, ErrorKind};
use crate::metrics::Metrics;

/// What a model answers.
#[derive(Debug)]
pub enum Answer {
    /// Codes or reconstructions, row after row.
    Rows(Vec<f32>),
    /// Scores, the threshold's decisions, and each feature's squared error.
    Scores {
        scores: Vec<f64>,
        anomalous: Option<Vec<bool>>,
        errors: Vec<f32>,
    },
}

impl Answer {
    /// This answer followed by `next`'s, of the samples after.
    fn append(self, next: Answer) -> Answer {
        match (self, next) {
            (Answer::Rows(mut a), Answer::Rows(b)) => {
                a.extend(b);
                Answer::Rows(a)
            }
            (
                Answer::Scores {
                    mut scores,
                    anomalous,
                    mut errors,
                },
                Answer::Scores {
                    scores: s,
                    anomalous: a,
                    errors: e,
                },
            ) => {
                scores.extend(s);
                errors.extend(e);
                Answer::Scores {
                    scores,
                    anomalous: anomalous.zip(a).map(|(mut x, y)| {
                        x.extend(y);
                        x
                    }),
                    errors,
                }
            }
            // One task's parts are all of one kind.
            (first, _) => first,
        }
    }
}

/// One request's samples, and where its answer goes.
pub struct Job {
    pub task: Task,
    /// `n` samples of the model's features, checked finite.
    pub rows: Vec<f32>,
    pub n: usize,
    pub reply: oneshot::Sender<Result<Answer, ApiError>>,
}

/// How jobs are gathered.
#[derive(Clone, Copy, Debug)]
pub struct Gathering {
    /// Samples per model call at most (a larger request is answered in several).
    pub max_batch: usize,
    /// The longest a job waits for others after it arrives.
    pub max_wait: Duration,
}

/// Answers `jobs` with `predictor` until every sender is gone.
pub fn work(
    predictor: Predictor,
    jobs: Receiver<Job>,
    gathering: Gathering,
    metrics: Arc<Metrics>,
) {
    while let Ok(first) = jobs.recv() {
        let deadline = Instant::now() + gathering.max_wait;
        let mut n = first.n;
        let mut batch = vec![first];
        // What queued while the model was busy joins at once; then others, until the
        // deadline.
        while n < gathering.max_batch {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = match jobs.try_recv() {
                Ok(job) => Ok(job),
                Err(_) if left.is_zero() => break,
                Err(_) => jobs.recv_timeout(left),
            };
            match next {
                Ok(job) => {
                    n += job.n;
                    batch.push(job);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        for task in Task::ALL {
            let (group, rest): (Vec<Job>, Vec<Job>) =
                batch.into_iter().partition(|j| j.task == task);
            batch = rest;
            if !group.is_empty() {
                answer(&predictor, task, group, gathering.max_batch, &metrics);
            }
        }
    }
}

/// Runs the jobs of one task together, in calls of at most `max_batch` samples; when
/// it fails, each job alone, so that one request's bad sample fails only that request.
fn answer(predictor: &Predictor, task: Task, group: Vec<Job>, max_batch: usize, metrics: &Metrics) {
    let rows: Vec<f32> = group.iter().flat_map(|j| j.rows.iter().copied()).collect();
    let in_calls = |rows: &[f32]| -> Result<Answer, ApiError> {
        let features = predictor.features().max(1);
        let mut whole: Option<Answer> = None;
        for chunk in rows.chunks(max_batch.max(1) * features) {
            metrics.batch(chunk.len() / features);
            let part = run(predictor, task, chunk)?;
            whole = Some(match whole {
                None => part,
                Some(w) => w.append(part),
            });
        }
        whole.ok_or_else(|| ErrorKind::InvalidInput.because("no samples"))
    };
    match in_calls(&rows) {
        Ok(answer) => {
            let mut parts = split(answer, &group, predictor);
            for job in group.into_iter().rev() {
                let part = parts.pop().unwrap_or(Answer::Rows(Vec::new()));
                let _ = job.reply.send(Ok(part));
            }
        }
        Err(_) if group.len() > 1 => {
            for job in group {
                let result = in_calls(&job.rows);
                let _ = job.reply.send(result);
            }
        }
        Err(e) => {
            for job in group {
                let _ = job.reply.send(Err(e.clone()));
            }
        }
    }
}

/// A model's error as a refusal: samples it cannot take are the client's to mend
/// (422); anything else is the server's fault (500).
fn refusal(error: InferError) -> ApiError {
    match error {
        InferError::Input(message) => ErrorKind::InvalidInput.because(message),
        other => ErrorKind::Internal.because(other.to_string()),
    }
}

fn run(predictor: &Predictor, task: Task, rows: &[f32]) -> Result<Answer, ApiError> {
    let out = match task {
        Task::Encode => Answer::Rows(predictor.encode(rows).map_err(refusal)?),
        Task::Reconstruct => Answer::Rows(predictor.reconstruct(rows).map_err(refusal)?),
        Task::Score => {
            let s = predictor.score(rows).map_err(refusal)?;
            Answer::Scores {
                scores: s.scores,
                anomalous: s.anomalous,
                errors: s.errors,
            }
        }
    };
    Ok(out)
}

/// The answer of a group cut into each job's part, in order.
fn split(answer: Answer, group: &[Job], predictor: &Predictor) -> Vec<Answer> {
    let mut parts = Vec::with_capacity(group.len());
    match answer {
        Answer::Rows(values) => {
            let width = values.len() / group.iter().map(|j| j.n).sum::<usize>().max(1);
            let mut at = 0;
            for job in group {
                parts.push(Answer::Rows(values[at..at + job.n * width].to_vec()));
                at += job.n * width;
            }
        }
        Answer::Scores {
            scores,
            anomalous,
            errors,
        } => {
            let features = predictor.features();
            let mut at = 0;
            for job in group {
                let range = at..at + job.n;
                parts.push(Answer::Scores {
                    scores: scores[range.clone()].to_vec(),
                    anomalous: anomalous.as_ref().map(|a| a[range.clone()].to_vec()),
                    errors: errors[range.start * features..range.end * features].to_vec(),
                });
                at += job.n;
            }
        }
    }
    parts
}
