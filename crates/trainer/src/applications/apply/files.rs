//! The files an application writes: where they go, kept apart from the input and one
//! another, and the writers that fill them batch by batch.

use std::path::{Path, PathBuf};

use ae_data::rows::InputKind;
use ae_data::{AtomicFile, NpyWriter, Prepared};
use anyhow::{Context, Result, bail};

use super::{Outputs, Task, files_list};

impl Outputs {
    /// Every file `task` writes for `input`, each with the flag that names it.
    pub fn files(&self, input: &Path, task: Task) -> Vec<(&'static str, PathBuf)> {
        let images = InputKind::of(input) == InputKind::Images;
        let mut files = vec![("--out", self.out.clone())];
        let optional = [
            ("--errors", &self.errors),
            ("--png", &self.png),
            ("--points", &self.points),
        ];
        files.extend(
            optional
                .into_iter()
                .filter_map(|(flag, p)| p.clone().map(|p| (flag, p))),
        );
        if images && task != Task::Score {
            files.push(("the list of files beside --out", files_list(&self.out)));
        }
        files
    }

    /// Refuses outputs that are the input file or one another (after resolving links
    /// and relative paths), which would destroy the input or lose a result.
    pub fn check_apart(&self, input: &Path, task: Task) -> Result<()> {
        let files = self.files(input, task);
        for (i, (flag, path)) in files.iter().enumerate() {
            if same_file(path, input) {
                bail!(
                    "{flag} {}: that is the input file; writing it would destroy the \
                     samples being read",
                    path.display()
                );
            }
            if let Some((other, _)) = files[..i].iter().find(|(_, p)| same_file(p, path)) {
                bail!(
                    "{flag} {}: {other} is the same file; give each output its own name",
                    path.display()
                );
            }
        }
        Ok(())
    }
}

/// `path` with its folder's links and relative parts resolved, whether or not the file
/// itself exists yet.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// Whether `a` and `b` name the same file: the same resolved path, or (where both
/// exist) the same file on disk, as hard links are.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b))
            && x.dev() == y.dev()
            && x.ino() == y.ino()
        {
            return true;
        }
    }
    resolved(a) == resolved(b)
}

/// A matrix written row batch by row batch, as `.npy` or CSV.
pub(super) enum MatrixFile {
    Npy(NpyWriter),
    Csv(Box<CsvFile>),
}

impl MatrixFile {
    /// `path` (`.npy` or `.csv`, by its name) with a CSV header of `names`.
    pub(super) fn create(path: &Path, names: &[String]) -> Result<Self> {
        let name = path.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".npy") {
            Ok(Self::Npy(NpyWriter::create(path, names.len())?))
        } else if name.ends_with(".csv") {
            let mut file = CsvFile::create(path)?;
            file.row(names.iter().map(String::as_str))?;
            Ok(Self::Csv(Box::new(file)))
        } else {
            bail!("{}: expected a name ending in .npy or .csv", path.display())
        }
    }

    pub(super) fn push(&mut self, values: &[f32], columns: usize) -> Result<()> {
        match self {
            Self::Npy(w) => Ok(w.push(values)?),
            Self::Csv(w) => {
                for row in values.chunks(columns) {
                    w.row(row.iter().map(|v| v.to_string()))?;
                }
                Ok(())
            }
        }
    }

    pub(super) fn prepare(self) -> Result<Prepared> {
        match self {
            Self::Npy(w) => Ok(w.prepare()?),
            Self::Csv(w) => w.prepare(),
        }
    }
}

/// A CSV file that appears whole or not at all ([`AtomicFile`]).
pub(super) struct CsvFile(csv::Writer<AtomicFile>);

impl CsvFile {
    pub(super) fn create(path: &Path) -> Result<Self> {
        Ok(Self(csv::Writer::from_writer(AtomicFile::create(path)?)))
    }

    pub(super) fn row<I, T>(&mut self, fields: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let path = self.0.get_ref().path().display().to_string();
        self.0
            .write_record(fields)
            .with_context(|| format!("writing {path}"))
    }

    pub(super) fn prepare(self) -> Result<Prepared> {
        let file = self
            .0
            .into_inner()
            .map_err(|e| anyhow::anyhow!("writing: {}", e.error()))?;
        Ok(file.prepare()?)
    }
}
