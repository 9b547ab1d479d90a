//! Decoding a list of files on every core, in file order, into any sink: memory, or a
//! cache file (so that a folder larger than memory never is in it).

use std::path::{Path, PathBuf};

use super::{FolderSpec, decode, folder_error, resize_planes};
use crate::DataError;

/// What decoding a list of files gave, the pixels having gone to the sink: the shape
/// of the samples, the file each came from, the files left out and why.
pub(super) struct Outcome {
    pub shape: [usize; 3],
    pub sources: Vec<u32>,
    pub skipped: Vec<(usize, String)>,
}

/// One file made ready: its size (after any resize), the pixels of its samples (one
/// image, or its patches) and how many.
pub(super) struct Ready {
    pub dims: [usize; 2],
    pub pixels: Vec<u8>,
    pub samples: usize,
}

/// A file that is not ready: left out with `skip_bad` (it does not decode), or the
/// end of the load (it decodes, but cannot be used).
pub(super) enum NotReady {
    Bad(DataError),
    Fatal(DataError),
}

impl NotReady {
    /// The error, whichever kind.
    pub fn into_error(self) -> DataError {
        match self {
            Self::Bad(e) | Self::Fatal(e) => e,
        }
    }
}

/// Decodes, resizes and cuts one file.
fn prepare(spec: &FolderSpec, file: &Path) -> Result<Ready, NotReady> {
    let image = decode(file, spec.colour).map_err(NotReady::Bad)?;
    let (dims, planes) = match spec.image_size {
        Some([rows, cols]) => ([rows, cols], resize_planes(&image, cols, rows)),
        None => ([image.height, image.width], image.planes),
    };
    let Some(patches) = spec.patches else {
        return Ok(Ready {
            dims,
            pixels: planes,
            samples: 1,
        });
    };
    let channels = spec.colour.channels();
    let cut = patches.cut(&planes, [channels, dims[0], dims[1]]);
    if cut.is_empty() {
        return Err(NotReady::Fatal(folder_error(
            file,
            format!(
                "{}×{} pixels (height×width): too small for one {}×{} patch",
                dims[0], dims[1], patches.size, patches.size
            ),
        )));
    }
    let samples = cut.len() / (channels * patches.size * patches.size);
    Ok(Ready {
        dims,
        pixels: cut,
        samples,
    })
}

/// Prepares `files` on up to `threads` threads, returning the results in file order.
pub(super) fn prepare_all(
    spec: &FolderSpec,
    files: &[PathBuf],
    threads: usize,
) -> Vec<Result<Ready, NotReady>> {
    if threads <= 1 || files.len() <= 1 {
        return files.iter().map(|f| prepare(spec, f)).collect();
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    files
                        .iter()
                        .skip(t)
                        .step_by(threads)
                        .map(|f| prepare(spec, f))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut per_thread: Vec<_> = workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .map(Vec::into_iter)
            .collect();
        (0..files.len())
            .filter_map(|i| per_thread[i % threads].next())
            .collect()
    })
}

/// A progress bar on standard error (drawn only on a terminal), when asked for.
fn progress_bar(show: bool, files: usize, what: &Path) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(files as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} images ({eta})")
    {
        bar.set_style(style);
    }
    bar.set_message(format!("decoding {}", what.display()));
    bar
}

/// Decodes `files` in order, handing each sample's pixels to `sink`: all of one size
/// and colour, the size of `expect` (and the file that has it) when given, else the
/// first file's. With `progress`, a bar counts the files.
pub(super) fn decode_files<'a>(
    spec: &FolderSpec,
    files: &'a [PathBuf],
    expect: Option<([usize; 2], &'a Path)>,
    progress: Option<&Path>,
    sink: &mut dyn FnMut(&[u8]) -> Result<(), DataError>,
) -> Result<Outcome, DataError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(16));
    let bar = progress_bar(
        progress.is_some(),
        files.len(),
        progress.unwrap_or(Path::new("")),
    );
    let channels = spec.colour.channels();
    let mut shape = expect;
    let mut outcome = Outcome {
        shape: [channels, 0, 0],
        sources: Vec::new(),
        skipped: Vec::new(),
    };
    // Chunks of a few files per thread: memory holds one chunk's images at most.
    let chunk = threads * 8;
    for (c, part) in files.chunks(chunk).enumerate() {
        for (j, ready) in prepare_all(spec, part, threads).into_iter().enumerate() {
            let i = c * chunk + j;
            let ready = match ready {
                Ok(r) => r,
                Err(NotReady::Bad(e)) if spec.skip_bad => {
                    outcome.skipped.push((i, e.to_string()));
                    continue;
                }
                Err(NotReady::Bad(e) | NotReady::Fatal(e)) => return Err(e),
            };
            if spec.patches.is_none() {
                check_size(&mut shape, ready.dims, &files[i])?;
            }
            let source = u32::try_from(i).map_err(|_| {
                folder_error(&files[i], "more than 4,294,967,295 files in one folder")
            })?;
            outcome
                .sources
                .extend(std::iter::repeat_n(source, ready.samples));
            sink(&ready.pixels)?;
        }
        bar.inc(part.len() as u64);
    }
    bar.finish_and_clear();
    outcome.shape = spec.sample_shape().unwrap_or_else(|| {
        let [rows, cols] = shape.map_or([0, 0], |(s, _)| s);
        [channels, rows, cols]
    });
    Ok(outcome)
}

/// Checks that an image of `dims` has the size of the first (recorded in `shape`).
fn check_size<'a>(
    shape: &mut Option<([usize; 2], &'a Path)>,
    dims: [usize; 2],
    file: &'a Path,
) -> Result<(), DataError> {
    match *shape {
        None => *shape = Some((dims, file)),
        Some((want, first)) if want != dims => {
            return Err(folder_error(
                file,
                format!(
                    "{}×{} pixels (height×width), where {} has {}×{}: give \
                     --image-size HxW to resize every image to one size",
                    dims[0],
                    dims[1],
                    first.display(),
                    want[0],
                    want[1]
                ),
            ));
        }
        Some(_) => {}
    }
    Ok(())
}
