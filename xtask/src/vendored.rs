//! The vendored crates of `patches/`, kept honest: each tree must be the crate as
//! published on crates.io (its archive's SHA-256 pinned here) with the patch beside
//! it applied (`patches/NAME.diff`, a unified diff) and the licence files added,
//! nothing else. `cargo test -p xtask` checks it; the archive is downloaded once
//! (with curl, from crates.io's static host) into `target/vendored/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// A crate of `patches/`: name, version, and the SHA-256 of the published archive.
pub struct Vendored {
    pub name: &'static str,
    pub version: &'static str,
    pub sha256: &'static str,
}

/// Every vendored crate.
pub const VENDORED: [Vendored; 1] = [Vendored {
    name: "burn-flex",
    version: "0.22.1",
    sha256: "7e05d08ef48d738fadf13f8689b634f8b396d5a8cbb27d0a87f61e163d241846",
}];

/// Files a vendored tree holds beyond the published crate: the licence texts of the
/// project it comes from, which the published archive leaves out.
const ADDED: [&str; 2] = ["LICENSE-APACHE", "LICENSE-MIT"];

impl Vendored {
    /// The published archive, downloaded once and checked against its SHA-256.
    fn archive(&self) -> Result<PathBuf> {
        let dir = crate::cmd::target_dir().join("vendored");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{}-{}.crate", self.name, self.version));
        if !path.is_file() {
            let url = format!(
                "https://static.crates.io/crates/{0}/{0}-{1}.crate",
                self.name, self.version
            );
            let partial = path.with_extension("crate.part");
            let status = Command::new("curl")
                .args(["-sSfL", "--retry", "3", "-o"])
                .arg(&partial)
                .arg(&url)
                .status()
                .context("running curl to download the published crate (is curl installed?)")?;
            if !status.success() {
                bail!("downloading {url}: curl exited with {status}");
            }
            std::fs::rename(&partial, &path)?;
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let found = format!("{:x}", Sha256::digest(&bytes));
        if found != self.sha256 {
            let _ = std::fs::remove_file(&path);
            bail!(
                "{}: SHA-256 {found}, expected {} (removed; the next run downloads it again)",
                path.display(),
                self.sha256
            );
        }
        Ok(path)
    }

    /// The published crate with the patch applied, in a fresh folder outside the
    /// repository (so that `git apply` patches files, not the index).
    fn patched(&self, root: &Path) -> Result<PathBuf> {
        let archive = self.archive()?;
        let work = std::env::temp_dir().join(format!(
            "vendored-{}-{}-{}",
            self.name,
            self.version,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work)?;
        let status = Command::new("tar")
            .arg("xzf")
            .arg(&archive)
            .arg("-C")
            .arg(&work)
            .status()
            .context("running tar")?;
        if !status.success() {
            bail!("unpacking {}: tar exited with {status}", archive.display());
        }
        let tree = work.join(format!("{}-{}", self.name, self.version));
        let diff = root.join("patches").join(format!("{}.diff", self.name));
        let status = Command::new("git")
            .args(["apply", "--whitespace=nowarn"])
            .arg(&diff)
            .current_dir(&tree)
            .status()
            .context("running git apply")?;
        if !status.success() {
            bail!(
                "{} does not apply to the published {} {}",
                diff.display(),
                self.name,
                self.version
            );
        }
        Ok(tree)
    }

    /// The files of the vendored tree that differ from the published crate with its
    /// patch: changed, missing or added (beyond the licence files).
    pub fn differences(&self, root: &Path) -> Result<Vec<String>> {
        let expected = self.patched(root)?;
        let vendored = root.join("patches").join(self.name);
        let (want, have) = (files(&expected)?, files(&vendored)?);
        let _ = std::fs::remove_dir_all(expected.parent().unwrap_or(&expected));
        let mut found = Vec::new();
        for (path, bytes) in &want {
            match have.get(path) {
                None => found.push(format!("{path}: missing")),
                Some(b) if b != bytes => found.push(format!("{path}: differs")),
                Some(_) => {}
            }
        }
        for path in have.keys() {
            if !want.contains_key(path) && !ADDED.contains(&path.as_str()) {
                found.push(format!("{path}: not in the published crate"));
            }
        }
        for added in ADDED {
            if !have.contains_key(added) {
                found.push(format!(
                    "{added}: missing (the licence of the crate's project)"
                ));
            }
        }
        Ok(found)
    }
}

/// Every file under `dir`, by its path relative to `dir` with `/`, and its bytes.
fn files(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(name, std::fs::read(&path)?);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_vendored_crate_is_the_published_one_with_its_patch() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace");
        for crate_ in &VENDORED {
            let differences = crate_.differences(root).expect("compared");
            assert!(
                differences.is_empty(),
                "patches/{} is not {} {} from crates.io with patches/{}.diff: {differences:?}",
                crate_.name,
                crate_.name,
                crate_.version,
                crate_.name
            );
        }
    }
}
