//! Build script: puts the git commit into `--version` when rnetstat is built from a checkout.
//!
//! `RNETSTAT_VERSION` is the package version, followed by ` (git COMMIT)` when the package
//! directory is a git checkout (its own `.git`, so a tarball unpacked inside some other repository
//! does not borrow that repository's commit) and `git` answers. Without git it is the plain
//! version. The script reruns when HEAD moves: `.git/HEAD` for a branch switch, the branch's ref
//! and `packed-refs` for a commit.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Reruns the script when `path` changes; a path that does not exist is left out (cargo would
/// rerun the script on every build for it).
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let dir = Path::new(&dir);
    let mut full = version.clone();
    // `.git` is a directory in a clone and a file in a worktree: either means a checkout.
    if dir.join(".git").exists() {
        for what in ["HEAD", "packed-refs"] {
            if let Some(p) = git(dir, &["rev-parse", "--git-path", what]) {
                watch(&dir.join(p));
            }
        }
        if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            if let Some(p) = git(dir, &["rev-parse", "--git-path", &branch]) {
                watch(&dir.join(p));
            }
        }
        if let Some(commit) = git(dir, &["rev-parse", "--short", "HEAD"]) {
            full = format!("{version} (git {commit})");
        }
    }
    println!("cargo:rustc-env=RNETSTAT_VERSION={full}");
}
