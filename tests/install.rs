//! `make install` puts every file where its user looks for it: the binaries in PREFIX/bin, the
//! man pages where `man -M PREFIX/share/man` finds them, and the completion scripts where
//! bash-completion, zsh and fish load them from (each shell, when installed, is asked to load
//! the installed script). `make uninstall` removes exactly those files.
//!
//! The binaries installed are the ones this test suite built (the Makefile's `RELEASE` is pointed
//! at a directory holding them), so the test needs no release build.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{describe, TempDir};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn have(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// Every file under `dir`, relative to it.
fn files(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                found.insert(p.strip_prefix(dir).expect("inside").display().to_string());
            }
        }
    }
    found
}

/// The demo binary this build made, if it made one (it is a binary of this package or, in the
/// workspace layout, of its own crate, built into the same target directory).
fn demo_binary() -> Option<PathBuf> {
    if let Some(p) = option_env!("CARGO_BIN_EXE_rnetstat-demo") {
        return Some(PathBuf::from(p));
    }
    let beside = Path::new(env!("CARGO_BIN_EXE_rnetstat")).with_file_name("rnetstat-demo");
    beside.is_file().then_some(beside)
}

fn make(args: &[&str]) -> Output {
    Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(ROOT)
        .args(args)
        .output()
        .expect("run make")
}

#[test]
fn make_install_puts_every_file_where_it_is_looked_for() {
    if !have("make") || !have("install") {
        eprintln!("skipping: needs make and install(1)");
        return;
    }
    let Some(demo) = demo_binary() else {
        eprintln!("skipping: the rnetstat-demo binary is not built (cargo build --workspace)");
        return;
    };
    let tmp = TempDir::new("install");
    let release = tmp.0.join("release");
    std::fs::create_dir_all(&release).expect("mkdir");
    std::fs::copy(env!("CARGO_BIN_EXE_rnetstat"), release.join("rnetstat")).expect("copy");
    std::fs::copy(&demo, release.join("rnetstat-demo")).expect("copy");
    let dest = tmp.0.join("stage");
    let vars = [
        format!("RELEASE={}", release.display()),
        format!("DESTDIR={}", dest.display()),
        "PREFIX=/opt/rn".to_string(),
    ];
    let vars: Vec<&str> = vars.iter().map(String::as_str).collect();

    let out = make(&[&["install"], &vars[..]].concat());
    assert!(out.status.success(), "{}", describe("make install", &out));
    let want: BTreeSet<String> = [
        "opt/rn/bin/rnetstat",
        "opt/rn/bin/rnetstat-demo",
        "opt/rn/share/man/man1/rnetstat.1",
        "opt/rn/share/man/man1/rnetstat-demo.1",
        "opt/rn/share/bash-completion/completions/rnetstat",
        "opt/rn/share/zsh/site-functions/_rnetstat",
        "opt/rn/share/fish/vendor_completions.d/rnetstat.fish",
    ]
    .map(String::from)
    .into();
    assert_eq!(files(&dest), want);
    let prefix = dest.join("opt/rn");
    let share = prefix.join("share");

    // The installed binary runs.
    let out = Command::new(prefix.join("bin/rnetstat"))
        .arg("--version")
        .output()
        .expect("run the installed binary");
    assert!(
        out.status.success() && out.stdout.starts_with(b"rnetstat "),
        "{}",
        describe("installed rnetstat --version", &out)
    );

    if have("man") {
        for page in ["rnetstat", "rnetstat-demo"] {
            let out = Command::new("man")
                .arg("-M")
                .arg(share.join("man"))
                .args(["-w", page])
                .output()
                .expect("run man");
            let found = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && found.trim().ends_with(&format!("man1/{page}.1")),
                "{}",
                describe("man -w", &out)
            );
        }
    } else {
        eprintln!("skipping the man lookup: man is not installed");
    }

    let loader = Path::new("/usr/share/bash-completion/bash_completion");
    if have("bash") && loader.is_file() {
        // bash-completion's on-demand loader, searching XDG_DATA_DIRS as it does for PREFIX.
        let out = Command::new("bash")
            .args(["--norc", "--noprofile", "-c"])
            .arg("source \"$0\" && __load_completion rnetstat && complete -p rnetstat")
            .arg(loader)
            .env("XDG_DATA_DIRS", &share)
            .output()
            .expect("run bash");
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("_rnetstat"),
            "{}",
            describe("bash-completion loading rnetstat", &out)
        );
    } else {
        eprintln!("skipping the bash-completion lookup: bash-completion is not installed");
    }

    if have("zsh") {
        // The site-functions directory on fpath (as zsh has PREFIX's by default): the function
        // autoloads.
        let out = Command::new("zsh")
            .arg("-fc")
            .arg("fpath=(\"$1\" $fpath); autoload -Uz +X _rnetstat && whence -w _rnetstat")
            .arg("zsh")
            .arg(share.join("zsh/site-functions"))
            .output()
            .expect("run zsh");
        assert!(
            out.status.success()
                && String::from_utf8_lossy(&out.stdout).contains("_rnetstat: function"),
            "{}",
            describe("zsh autoloading _rnetstat", &out)
        );
    } else {
        eprintln!("skipping the zsh lookup: zsh is not installed");
    }

    if have("fish") {
        // fish finds vendor completions under every XDG_DATA_DIRS entry, for commands on PATH.
        let home = tmp.0.join("home");
        std::fs::create_dir_all(&home).expect("mkdir");
        let path = format!(
            "{}:{}",
            prefix.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("fish")
            .args(["-c", "complete -C 'rnetstat --json'"])
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &home)
            .env("XDG_DATA_HOME", &home)
            .env("XDG_DATA_DIRS", &share)
            .env("PATH", path)
            .output()
            .expect("run fish");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("--json-lines"),
            "{}",
            describe("fish loading rnetstat.fish", &out)
        );
    } else {
        eprintln!("skipping the fish lookup: fish is not installed");
    }

    let out = make(&[&["uninstall"], &vars[..]].concat());
    assert!(out.status.success(), "{}", describe("make uninstall", &out));
    assert_eq!(files(&dest), BTreeSet::new(), "uninstall leaves files");
}

#[test]
fn make_install_without_a_build_says_what_to_do() {
    if !have("make") {
        eprintln!("skipping: needs make");
        return;
    }
    let tmp = TempDir::new("install-empty");
    let out = make(&[
        "install",
        &format!("RELEASE={}", tmp.0.join("nothing").display()),
        &format!("DESTDIR={}", tmp.0.join("stage").display()),
    ]);
    assert!(!out.status.success(), "{}", describe("make install", &out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is missing; run 'make' first"),
        "{}",
        describe("make install", &out)
    );
    assert!(!tmp.0.join("stage").exists(), "nothing installed");
}
