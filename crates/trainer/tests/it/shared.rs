//! Models trained once per test run and shared by every test that needs the same one.
//!
//! A shared artifact is trained the first time a test asks for it (other tests asking
//! meanwhile wait for it) into a folder of this test process under the target
//! directory, and handed out by path. Tests read it; a test that writes into an
//! artifact (a command that stores a threshold, a picture) works on a [`copy`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::{stderr, train_cli_on};

struct Registry {
    root: PathBuf,
    cells: Mutex<HashMap<String, Arc<OnceLock<PathBuf>>>>,
}

/// The folder of this process's shared models, made on first use; the folders of
/// earlier test processes that are no longer running are removed.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shared-models");
        if let Ok(entries) = std::fs::read_dir(&base) {
            for entry in entries.filter_map(Result::ok) {
                let pid = entry.file_name().to_string_lossy().into_owned();
                let alive = Path::new("/proc").join(&pid).exists();
                if Path::new("/proc/self").exists() && !alive {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let root = base.join(std::process::id().to_string());
        std::fs::create_dir_all(&root).expect("the shared models' folder");
        Registry {
            root,
            cells: Mutex::new(HashMap::new()),
        }
    })
}

/// The artifact of `trainer train ARGS --backend BACKEND`, trained once per test
/// process, then `prepare(home, dir)` run on it once (for commands that write into the
/// artifact, such as `anomaly`'s threshold). `name` names its folder; the same name
/// must always come with the same arguments.
pub fn model_with(
    name: &str,
    backend: &str,
    args: &[&str],
    prepare: impl FnOnce(&Path, &Path),
) -> PathBuf {
    let registry = registry();
    let cell = {
        let mut cells = registry.cells.lock().unwrap_or_else(|e| e.into_inner());
        let cell = cells.entry(name.to_string()).or_default();
        cell.clone()
    };
    cell.get_or_init(|| {
        let home = registry.root.join(name);
        let dir = home.join("model");
        std::fs::create_dir_all(&home).expect("the shared model's folder");
        let out = train_cli_on(&home, &dir, backend, args);
        assert!(
            out.status.success(),
            "shared model {name}: {}",
            stderr(&out)
        );
        prepare(&home, &dir);
        dir
    })
    .clone()
}

/// [`model_with`] without a step after training.
pub fn model(name: &str, backend: &str, args: &[&str]) -> PathBuf {
    model_with(name, backend, args, |_, _| {})
}

/// A copy of the artifact `dir` in `home/name` (its checkpoints left out), for a test
/// that writes into it.
pub fn copy(dir: &Path, home: &Path, name: &str) -> PathBuf {
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("the shared artifact") {
            let entry = entry.expect("entry");
            let path = entry.path();
            let target = to.join(entry.file_name());
            if path.is_dir() {
                if entry.file_name() != "checkpoint" {
                    copy_tree(&path, &target);
                }
            } else {
                std::fs::copy(&path, &target).expect("copy");
            }
        }
    }
    let out = home.join(name);
    copy_tree(dir, &out);
    out
}
