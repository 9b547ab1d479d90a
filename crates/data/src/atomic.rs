//! Files that appear whole or not at all.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::DataError;

/// A file written under a temporary name beside its final one — `.<name>.<pid>-<n>.tmp`,
/// created like any other file (the user's umask sets its permissions) — and renamed
/// into place by [`finish`](Self::finish), so a file under its final name is always
/// whole. Dropped unfinished (an error, a panic), it removes the temporary file; a
/// killed process leaves it, named by its process id, and the next write of the same
/// name removes it ([`remove_stale_temps_of`]).
///
/// Several files that belong together are [`prepare`](Self::prepare)d first, each
/// written whole under its temporary name, then renamed one after the other by
/// [`commit_all`], with no work between the renames.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> Result<Self, DataError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        remove_stale_temps_of(path);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|source| DataError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            file: Some(BufWriter::new(file)),
        })
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> DataError {
        DataError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn file(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| std::io::ErrorKind::BrokenPipe.into())
    }

    /// Flushes the data to disk and renames the file into place.
    pub fn finish(self) -> Result<PathBuf, DataError> {
        self.prepare()?.commit()
    }

    /// Flushes the data to disk under the temporary name; the file is renamed into
    /// place by [`Prepared::commit`] (or [`commit_all`]).
    pub fn prepare(mut self) -> Result<Prepared, DataError> {
        let Some(file) = self.file.take() else {
            return Err(self.io(std::io::ErrorKind::BrokenPipe.into()));
        };
        let synced = file
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|file| file.sync_all());
        if let Err(e) = synced {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(self.io(e));
        }
        Ok(Prepared {
            path: self.path.clone(),
            tmp: self.tmp.clone(),
            committed: false,
        })
    }
}

/// A file written whole under its temporary name, not yet in place. Dropped
/// uncommitted, it removes the temporary file.
pub struct Prepared {
    path: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl Prepared {
    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the file into place.
    pub fn commit(mut self) -> Result<PathBuf, DataError> {
        std::fs::rename(&self.tmp, &self.path).map_err(|source| DataError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.committed = true;
        Ok(self.path.clone())
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Renames every prepared file into place, in order; at the first failure the rest are
/// removed. Returns the final names.
pub fn commit_all(files: Vec<Prepared>) -> Result<Vec<PathBuf>, DataError> {
    files.into_iter().map(Prepared::commit).collect()
}

/// Whether the process that wrote the temporary file `name` (`….<pid>-<n>.tmp`) is
/// gone, so the file is left over from a killed write. Only where the system tells
/// which processes run (`/proc`); elsewhere, and for other names, `false`.
pub fn writer_gone(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".tmp") else {
        return false;
    };
    let pid = stem
        .rsplit('.')
        .next()
        .and_then(|tail| tail.split('-').next())
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let proc = Path::new("/proc");
    match pid {
        Some(pid) if proc.join("self").exists() => !proc.join(pid).exists(),
        _ => false,
    }
}

/// Removes the temporary files that killed writes of `path` left beside it
/// (`.<name>.<pid>-<n>.tmp` of a process that is gone); returns them.
pub fn remove_stale_temps_of(path: &Path) -> Vec<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let prefix = format!(".{name}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let file = entry.file_name().to_string_lossy().into_owned();
            let rest = file.strip_prefix(&prefix)?;
            // The rest is `<pid>-<n>.tmp` exactly, not a longer name's temporary file.
            let stem = rest.strip_suffix(".tmp")?;
            let (pid, n) = stem.split_once('-')?;
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            (digits(pid) && digits(n) && writer_gone(&file))
                .then(|| entry.path())
                .filter(|p| std::fs::remove_file(p).is_ok())
        })
        .collect()
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file()?.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file()?.flush()
    }
}

impl Seek for AtomicFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.file()?.seek(pos)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` through an [`AtomicFile`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).map_err(|e| file.io(e))?;
    file.finish().map(|_| ())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn files_prepared_together_appear_together_and_stale_temps_go() {
        let dir = tempfile::tempdir().expect("a folder");
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        // A killed run's temporary file of a.csv (a process id that cannot run), and
        // one of a running process (this one), which stays.
        let stale = dir.path().join(".a.csv.4294967294-0.tmp");
        let live = dir
            .path()
            .join(format!(".a.csv.{}-99.tmp", std::process::id()));
        let other = dir.path().join(".a.csv.x.4294967294-0.tmp");
        for p in [&stale, &live, &other] {
            std::fs::write(p, "left over").expect("written");
        }
        let mut fa = AtomicFile::create(&a).expect("created");
        let mut fb = AtomicFile::create(&b).expect("created");
        if Path::new("/proc/self").exists() {
            assert!(!stale.exists(), "a dead writer's temporary file is removed");
        }
        assert!(live.exists() && other.exists());
        fa.write_all(b"1").expect("written");
        fb.write_all(b"2").expect("written");
        let ready = vec![fa.prepare().expect("a"), fb.prepare().expect("b")];
        assert!(
            !a.exists() && !b.exists(),
            "nothing in place before the commit"
        );
        assert_eq!(
            commit_all(ready).expect("renamed"),
            vec![a.clone(), b.clone()]
        );
        assert_eq!(std::fs::read(&b).expect("b"), b"2");

        // Prepared and dropped (an error in a later output): nothing is left.
        let c = dir.path().join("c.csv");
        let prepared = AtomicFile::create(&c).expect("c").prepare().expect("c");
        drop(prepared);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("listed")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.starts_with(".c.csv")), "{names:?}");
    }
}
