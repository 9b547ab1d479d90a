//! Finding a data set: the places it is looked for, in order, and reading what is
//! found there.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalogue::{DatasetName, FILE_NAMES, Layout};
use crate::dataset::{DataSpec, Dataset, check_shapes};
use crate::folder::ImageCache;
use crate::places::{DATA_DIR_ENV, MIRROR_ENV, SYSTEM_DIR, Source};
use crate::split::Split;
use crate::table::Standardizer;
use crate::{DataError, cifar, download, idx, sample};

/// Reads the files of `name` from `dir`, checked: for MNIST-format sets the four
/// standard files (each raw or gzip): headers, sizes, images against labels; for
/// CIFAR the binary batches (in `dir` or in the archive's folder inside it): whole
/// records. Every label must be one of `name`'s classes.
pub fn read_dir(dir: &Path, name: DatasetName, source: Source) -> Result<Dataset, DataError> {
    let classes = name.class_names().len();
    if let Layout::Cifar {
        label_bytes,
        train,
        test,
        ..
    } = name.layout()
    {
        let dir = files_dir(dir, name);
        let paths: Vec<PathBuf> = train.iter().map(|f| dir.join(f)).collect();
        let train = cifar::read_files(&paths, label_bytes, classes)?;
        let test = cifar::read_files(&[dir.join(test)], label_bytes, classes)?;
        return Ok(Dataset::of_images(name, source, train, test));
    }
    let paths = FILE_NAMES.map(|f| existing_variant(dir, f).unwrap_or_else(|| dir.join(f)));
    let [train_images, train_labels, test_images, test_labels] = &paths;
    let train = read_split(train_images, train_labels, name)?;
    let test = read_split(test_images, test_labels, name)?;
    check_shapes(&train, &test, test_images)?;
    Ok(Dataset::of_images(name, source, train, test))
}

/// Where in `dir` the files of `name` are: the folder the CIFAR archive extracts to
/// when `dir` holds it, else `dir`.
fn files_dir(dir: &Path, name: DatasetName) -> PathBuf {
    match name.layout() {
        Layout::Cifar { folder, .. } if dir.join(folder).is_dir() => dir.join(folder),
        _ => dir.to_path_buf(),
    }
}

fn read_split(
    images_path: &Path,
    labels_path: &Path,
    name: DatasetName,
) -> Result<Split, DataError> {
    let images = idx::read_images(images_path)?;
    let labels = idx::read_labels(labels_path)?;
    idx::check_pair(
        &images,
        &labels,
        images_path.to_path_buf(),
        labels_path.to_path_buf(),
    )?;
    let classes = name.class_names().len();
    if let Some(index) = labels.iter().position(|&l| usize::from(l) >= classes) {
        return Err(DataError::LabelOutOfRange {
            path: labels_path.to_path_buf(),
            index,
            label: labels[index],
            dataset: name.to_string(),
            classes,
        });
    }
    Ok(Split::images(images, labels))
}

/// The file `name` in `dir`, compressed (`name`) or not (`name` without `.gz`).
fn existing_variant(dir: &Path, name: &str) -> Option<PathBuf> {
    if !name.ends_with(".gz") {
        let path = dir.join(name);
        return path.is_file().then_some(path);
    }
    let gz = dir.join(name);
    if gz.is_file() {
        return Some(gz);
    }
    let raw = dir.join(name.trim_end_matches(".gz"));
    raw.is_file().then_some(raw)
}

/// Which of the files of `name` are missing from `dir`.
fn missing_files(dir: &Path, name: DatasetName) -> Vec<&'static str> {
    let dir = files_dir(dir, name);
    name.file_names()
        .into_iter()
        .filter(|f| existing_variant(&dir, f).is_none())
        .collect()
}

/// Finds a data set on disk, or downloads it, in a fixed order of places.
///
/// A folder the caller names (`--data-dir`) is the only place looked in: the data
/// set is read from `DIR/<name>/` or `DIR/`, and a file missing there is an error
/// naming it, never a reason to read another copy. Otherwise the order is the
/// folder in [`DATA_DIR_ENV`], the user cache, the system folder ([`SYSTEM_DIR`]),
/// then a download into the cache (with the `download` feature); in the first, both
/// `ROOT/<name>/` and `ROOT/` are tried. A folder that has all four files is read
/// and checked: a corrupt file is an error, never a reason to look elsewhere.
#[derive(Clone, Debug)]
pub struct Locator {
    /// The caller's folder.
    pub data_dir: Option<PathBuf>,
    /// The folder from [`DATA_DIR_ENV`].
    pub env_dir: Option<PathBuf>,
    /// The user cache root for this project's data sets.
    pub cache_dir: Option<PathBuf>,
    /// The system folder.
    pub system_dir: PathBuf,
    /// Whether to download what is not found.
    pub download: bool,
    /// Base addresses replacing the published mirrors (from [`MIRROR_ENV`]).
    pub mirrors: Option<Vec<String>>,
    /// Whether to draw a progress bar while downloading.
    pub progress: bool,
    /// Where folders of images are cached once decoded, and how much stays in memory.
    pub images: ImageCache,
}

impl Locator {
    /// The standard places, with `data_dir` first, environment variables honoured and
    /// downloads on when the `download` feature is compiled in.
    pub fn new(data_dir: Option<PathBuf>) -> Self {
        let env_dir = std::env::var_os(DATA_DIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let mirrors = std::env::var(MIRROR_ENV)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            });
        let cache_dir = dirs::cache_dir().map(|d| d.join("autoencoders"));
        Self {
            data_dir,
            env_dir,
            cache_dir: cache_dir.clone(),
            system_dir: PathBuf::from(SYSTEM_DIR),
            download: cfg!(feature = "download"),
            mirrors,
            progress: true,
            images: ImageCache::standard(cache_dir.as_deref()),
        }
    }

    /// A locator that only looks in `dir` (and `dir/<name>`), as `--data-dir` does,
    /// and never downloads.
    pub fn only(dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: Some(dir.into()),
            env_dir: None,
            cache_dir: None,
            system_dir: PathBuf::new(),
            download: false,
            mirrors: None,
            progress: false,
            images: ImageCache::none(),
        }
    }

    /// Finds `name` on disk, checking everything found.
    ///
    /// Returns `Ok(Err(tried))`, the places tried, when no place has all four files.
    pub fn find(&self, name: DatasetName) -> Result<Result<Dataset, Vec<String>>, DataError> {
        if name == DatasetName::FashionMnistSample {
            return sample::load().map(Ok);
        }
        if let Some(dir) = &self.data_dir {
            return self.read_named_dir(dir, name).map(Ok);
        }
        let mut tried = Vec::new();
        for (dir, source) in self.candidates(name) {
            let missing = missing_files(&dir, name);
            if missing.is_empty() {
                return read_dir(&dir, name, source).map(Ok);
            }
            let what = if missing.len() == name.file_names().len() {
                "no data set files".to_string()
            } else {
                format!("missing {}", missing.join(", "))
            };
            tried.push(format!("{source}: {what}"));
        }
        Ok(Err(tried))
    }

    /// Finds `name` on disk or downloads it; one error listing every place otherwise.
    pub fn load(&self, name: DatasetName) -> Result<Dataset, DataError> {
        let mut tried = match self.find(name)? {
            Ok(dataset) => return Ok(dataset),
            Err(tried) => tried,
        };
        match self.download_target() {
            _ if name.files().is_none() && name.archive().is_none() => tried.push(format!(
                "download: not offered for {name}; put its files in a folder as the hint says"
            )),
            Some(dir) if self.download => {
                let dir = dir.join(name.as_str());
                match download::fetch(name, &dir, self.mirrors.as_deref(), self.progress) {
                    Ok(()) => return read_dir(&dir, name, Source::Downloaded(dir.clone())),
                    Err(err) => tried.push(format!("download: {err}")),
                }
            }
            Some(_) if cfg!(feature = "download") => tried.push("download: turned off".into()),
            Some(_) => {
                tried.push("download: not compiled in (enable the `download` feature)".into())
            }
            None => tried.push("download: no cache folder to download into".into()),
        }
        Err(DataError::NotFound {
            dataset: name.to_string(),
            tried,
            hint: offline_hint(name),
        })
    }

    /// Folders to look in, in order, each with the source it stands for.
    fn candidates(&self, name: DatasetName) -> Vec<(PathBuf, Source)> {
        let mut out = Vec::new();
        let sub = name.as_str();
        if let Some(d) = &self.env_dir {
            out.push((d.join(sub), Source::EnvDir(d.join(sub))));
            out.push((d.clone(), Source::EnvDir(d.clone())));
        }
        if let Some(d) = &self.cache_dir {
            out.push((d.join(sub), Source::Cache(d.join(sub))));
        }
        if !self.system_dir.as_os_str().is_empty() {
            let d = self.system_dir.join(sub);
            out.push((d.clone(), Source::System(d)));
        }
        out
    }

    /// Reads `name` from the caller's folder `dir` (`dir/<name>/`, else `dir/`): the
    /// one with all four files, or an error naming the files missing from the one
    /// that holds most of them.
    fn read_named_dir(&self, dir: &Path, name: DatasetName) -> Result<Dataset, DataError> {
        let folders = [dir.join(name.as_str()), dir.to_path_buf()];
        let mut best: Option<(PathBuf, Vec<&'static str>)> = None;
        for folder in folders {
            let missing = missing_files(&folder, name);
            if missing.is_empty() {
                return read_dir(&folder, name, Source::DataDir(folder.clone()));
            }
            if best.as_ref().is_none_or(|(_, m)| missing.len() < m.len()) {
                best = Some((folder, missing));
            }
        }
        let (folder, missing) = best.unwrap_or_else(|| (dir.to_path_buf(), name.file_names()));
        Err(DataError::Incomplete {
            dir: folder,
            dataset: name.to_string(),
            missing: missing.into_iter().map(str::to_string).collect(),
        })
    }

    /// Where a download goes: the cache.
    fn download_target(&self) -> Option<PathBuf> {
        self.cache_dir.clone()
    }
}

fn offline_hint(name: DatasetName) -> String {
    if let Layout::Cifar { folder, .. } = name.layout() {
        return format!(
            "Put the files of the binary version ({}), or the {folder}/ folder its \
             archive extracts to, in a folder and pass it with --data-dir or ${DATA_DIR_ENV} \
             (or in the cache's {name}/ folder).",
            name.file_names().join(", ")
        );
    }
    let mut hint = format!(
        "Offline routes: put the four files ({}) in a folder and pass it with --data-dir \
         or ${DATA_DIR_ENV}",
        FILE_NAMES.join(", ")
    );
    if name == DatasetName::FashionMnist {
        hint.push_str("; on Debian or Ubuntu, `apt-get install dataset-fashion-mnist`");
    }
    hint.push_str("; or train on the embedded sample with --dataset fashion-mnist-sample.");
    hint
}

impl DataSpec {
    /// Loads the data: a named set through `locator`, a folder of images (listing on
    /// standard error the files left out with `skip_bad`), a table from its files,
    /// standardised with `standardizer` when given (a trained model's), else with
    /// the training rows' statistics.
    pub fn load(
        &self,
        locator: &Locator,
        standardizer: Option<&Standardizer>,
    ) -> Result<Dataset, DataError> {
        match self {
            Self::Named(name) => locator.load(*name),
            Self::Table(spec) => {
                let t = spec.load(standardizer)?;
                Ok(Dataset {
                    spec: self.clone(),
                    source: Source::File(spec.path.clone()),
                    train: Arc::new(Split::table(t.train.0, t.train.1)),
                    test: Arc::new(Split::table(t.test.0, t.test.1)),
                    classes: t.classes,
                    standardizer: Some(t.standardizer),
                })
            }
            Self::Folder(spec) => {
                let loaded = spec.load_with(&locator.images)?;
                for (file, why) in &loaded.skipped {
                    eprintln!("skipped {}: {why}", file.display());
                }
                Ok(Dataset {
                    spec: self.clone(),
                    source: Source::File(spec.folder.clone()),
                    train: Arc::new(loaded.train),
                    test: Arc::new(loaded.test),
                    classes: loaded.classes,
                    standardizer: None,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::{Images, encode_images, encode_labels};
    #[cfg(feature = "download")]
    use crate::testing::serve;

    /// Writes the four raw files of a 4×3-pixel data set into `dir`, labels `i % 10`.
    pub(crate) fn write_fixture(dir: &Path, train: usize, test: usize) {
        std::fs::create_dir_all(dir).expect("temp dir is writable");
        for (count, [img, lbl]) in [(train, [0, 1]), (test, [2, 3])] {
            let images = Images::grey(
                count,
                4,
                3,
                (0..count * 12).map(|i| (i % 256) as u8).collect(),
            );
            let labels: Vec<u8> = (0..count).map(|i| (i % 10) as u8).collect();
            let raw_names = FILE_NAMES.map(|f| f.trim_end_matches(".gz"));
            std::fs::write(dir.join(raw_names[img]), encode_images(&images)).expect("write");
            std::fs::write(dir.join(raw_names[lbl]), encode_labels(&labels)).expect("write");
        }
    }

    /// A locator with no caller's folder that looks only in `env` and `system`.
    fn places(env: &Path, system: &Path) -> Locator {
        Locator {
            data_dir: None,
            env_dir: Some(env.to_path_buf()),
            cache_dir: None,
            system_dir: system.to_path_buf(),
            download: false,
            mirrors: None,
            progress: false,
            images: ImageCache::none(),
        }
    }

    #[test]
    fn finds_raw_files_in_data_dir_subfolder() {
        let tmp = tempfile::tempdir().expect("temp dir");
        write_fixture(&tmp.path().join("mnist"), 7, 3);
        let ds = Locator::only(tmp.path())
            .load(DatasetName::Mnist)
            .expect("fixture loads");
        assert_eq!((ds.train.len(), ds.test.len()), (7, 3));
        assert_eq!(ds.image_shape(), Some([1, 4, 3]));
        assert_eq!(ds.source, Source::DataDir(tmp.path().join("mnist")));
    }

    #[test]
    fn a_named_folder_missing_a_file_is_an_error_not_another_copy() {
        // A complete copy in the system folder must not stand in for the folder the
        // caller named, which lacks the test labels.
        let tmp = tempfile::tempdir().expect("temp dir");
        write_fixture(&tmp.path().join("system/fashion-mnist"), 5, 2);
        let named = tmp.path().join("mine");
        write_fixture(&named, 5, 2);
        std::fs::remove_file(named.join("t10k-labels-idx1-ubyte")).expect("remove");
        let mut locator = Locator::only(&named);
        locator.system_dir = tmp.path().join("system");
        let err = locator
            .load(DatasetName::FashionMnist)
            .expect_err("incomplete");
        assert!(matches!(err, DataError::Incomplete { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains(&named.display().to_string())
                && msg.contains("missing t10k-labels-idx1-ubyte.gz")
                && !msg.contains("train-images"),
            "{msg}"
        );
        // An empty named folder is as much an error.
        let empty = tmp.path().join("empty");
        std::fs::create_dir_all(&empty).expect("mkdir");
        let err = Locator::only(&empty)
            .load(DatasetName::Mnist)
            .expect_err("empty");
        assert!(
            err.to_string().contains("train-images-idx3-ubyte.gz"),
            "{err}"
        );
        // Without a named folder, the system copy is found.
        let ds = places(&tmp.path().join("none"), &tmp.path().join("system"))
            .load(DatasetName::FashionMnist)
            .expect("system copy");
        assert!(matches!(ds.source, Source::System(_)), "{:?}", ds.source);
    }

    #[test]
    fn missing_everywhere_lists_places_and_routes() {
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::write(tmp.path().join(FILE_NAMES[0]), b"partial").expect("write");
        let err = places(tmp.path(), &tmp.path().join("system"))
            .load(DatasetName::FashionMnist)
            .expect_err("absent");
        let msg = err.to_string();
        assert!(matches!(err, DataError::NotFound { .. }));
        assert!(msg.contains(&tmp.path().display().to_string()), "{msg}");
        assert!(msg.contains("missing train-labels-idx1-ubyte.gz"), "{msg}");
        assert!(
            msg.contains("dataset-fashion-mnist") && msg.contains("fashion-mnist-sample"),
            "{msg}"
        );
    }

    #[test]
    fn cifar_is_read_from_its_archive_folder_or_named_with_what_is_missing() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = tmp.path().join("cifar-10").join("cifar-10-batches-bin");
        std::fs::create_dir_all(&root).expect("mkdir");
        let record = |label: u8, value: u8| {
            let mut r = vec![label];
            r.extend(std::iter::repeat_n(value, crate::cifar::PIXELS));
            r
        };
        for (i, name) in DatasetName::Cifar10.file_names().iter().enumerate() {
            let bytes = [record(i as u8, 10 * i as u8), record(9, 1)].concat();
            std::fs::write(root.join(name), bytes).expect("write");
        }
        let ds = Locator::only(tmp.path())
            .load(DatasetName::Cifar10)
            .expect("reads the archive folder");
        assert_eq!((ds.train.len(), ds.test.len()), (10, 2));
        assert_eq!(ds.image_shape(), Some([3, 32, 32]));
        assert_eq!(ds.train.labels[..4], [0, 9, 1, 9]);
        assert_eq!(ds.test.labels, [5, 9]);
        assert_eq!(ds.classes[0], "airplane");
        let train = ds.train.as_images().expect("images");
        assert_eq!(train.image(2)[3071], 10, "data_batch_2's first image");

        std::fs::remove_file(root.join("data_batch_3.bin")).expect("rm");
        let err = Locator::only(tmp.path())
            .load(DatasetName::Cifar10)
            .expect_err("a batch missing")
            .to_string();
        assert!(err.contains("data_batch_3.bin"), "{err}");
        let err = places(&tmp.path().join("none"), &tmp.path().join("system"))
            .load(DatasetName::Cifar100)
            .expect_err("nowhere")
            .to_string();
        assert!(
            err.contains("train.bin")
                && err.contains("cifar-100-binary/")
                && err.contains("download: no cache folder"),
            "{err}"
        );
    }

    #[test]
    fn corrupt_file_is_an_error_not_a_fallback() {
        let tmp = tempfile::tempdir().expect("temp dir");
        write_fixture(tmp.path(), 5, 2);
        std::fs::write(
            tmp.path().join("t10k-labels-idx1-ubyte"),
            encode_labels(&[1]),
        )
        .expect("write");
        let err = Locator::only(tmp.path())
            .load(DatasetName::Mnist)
            .expect_err("count mismatch");
        assert!(
            matches!(
                err,
                DataError::CountMismatch {
                    images: 2,
                    labels: 1,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_label_outside_the_classes_is_an_error_naming_file_index_and_value() {
        let tmp = tempfile::tempdir().expect("temp dir");
        write_fixture(tmp.path(), 5, 3);
        let path = tmp.path().join("t10k-labels-idx1-ubyte");
        std::fs::write(&path, encode_labels(&[1, 255, 3])).expect("write");
        let err = Locator::only(tmp.path())
            .load(DatasetName::FashionMnist)
            .expect_err("label 255");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: label 255 at index 1 is not one of the 10 classes of fashion-mnist (0 to 9)",
                path.display()
            )
        );
    }

    #[test]
    #[cfg(feature = "download")]
    fn downloads_checks_and_caches() {
        // Serve real Fashion-MNIST files under their published names when the system
        // package is installed; otherwise the matching-checksum path is unreachable
        // offline and is reported as skipped.
        let system = Path::new(SYSTEM_DIR).join("fashion-mnist");
        if !system.join(FILE_NAMES[0]).is_file() {
            ae_test_support::skip(
                "download of full Fashion-MNIST from a loopback mirror",
                "package dataset-fashion-mnist is not installed",
            );
            return;
        }
        let files: Vec<_> = FILE_NAMES
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    std::fs::read(system.join(n)).expect("system file"),
                )
            })
            .collect();
        let (bad, _) = serve(vec![], 4);
        let (good, log) = serve(files, 8);
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut locator = places(&tmp.path().join("none"), &tmp.path().join("none"));
        locator.cache_dir = Some(tmp.path().join("cache"));
        locator.download = true;
        // The first mirror answers 404 for everything: the second one serves.
        locator.mirrors = Some(vec![bad, good]);
        let ds = locator.load(DatasetName::FashionMnist).expect("downloaded");
        assert_eq!((ds.train.len(), ds.test.len()), (60_000, 10_000));
        assert!(matches!(ds.source, Source::Downloaded(_)));
        assert_eq!(log.lock().expect("log").len(), 4);
        // A second load finds the cached files and makes no request.
        let again = locator.load(DatasetName::FashionMnist).expect("cached");
        assert!(
            matches!(again.source, Source::Cache(_)),
            "{:?}",
            again.source
        );
        assert_eq!(log.lock().expect("log").len(), 4);
    }
}
