//! The committed completion scripts (`completions/`) are what the CLI generates now, the binary
//! prints the same with `--completions SHELL`, and each shell that is installed accepts its
//! script; bash's also completes an option, a filter keyword and a state name when driven the
//! way bash drives it.
//!
//! Regenerate after changing `src/cli.rs` (or after a rebase brings new flags):
//! `RNETSTAT_UPDATE_COMPLETIONS=1 cargo test --test completions`.

use std::path::{Path, PathBuf};
use std::process::Command;

use rnetstat::completions::{script, CompletionShell};

mod common;

const UPDATE_ENV: &str = "RNETSTAT_UPDATE_COMPLETIONS";
const REGENERATE: &str = "RNETSTAT_UPDATE_COMPLETIONS=1 cargo test --test completions";

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn have(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

#[test]
fn committed_scripts_are_current() {
    let update = std::env::var_os(UPDATE_ENV).is_some_and(|v| v == "1");
    for shell in CompletionShell::ALL {
        let path = repo_path(shell.committed_path());
        let fresh = script(shell);
        if update {
            let tmp = path.with_extension("tmp");
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&tmp, &fresh).expect("write the new script");
            std::fs::rename(&tmp, &path).expect("move it into place");
            eprintln!("{UPDATE_ENV}=1: wrote {}", path.display());
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e}\nGenerate it with: {REGENERATE}",
                path.display()
            )
        });
        assert!(
            committed == fresh,
            "{} is stale: src/cli.rs generates something else now.\nRegenerate it with:\n    \
             {REGENERATE}\nand commit the result.",
            path.display()
        );
    }
}

#[test]
fn the_binary_prints_each_script() {
    for shell in CompletionShell::ALL {
        let name = format!("{shell:?}").to_lowercase();
        let run = common::rnetstat(&["--completions", &name]);
        assert_eq!(run.code(), Some(0), "{}", run.explain());
        assert!(run.out.stdout == script(shell), "{}", run.explain());
        assert!(run.out.stderr.is_empty(), "{}", run.explain());
    }
    let run = common::rnetstat(&["--completions", "tcsh"]);
    assert_eq!(run.code(), Some(2), "{}", run.explain());
    assert!(run.stderr().contains("bash"), "{}", run.explain());
}

/// Runs bash's completion function the way bash does on TAB for `words` (the last word is the
/// one being completed) and returns the candidates.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = repo_path(CompletionShell::Bash.committed_path());
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let prev = if cword > 0 { words[cword - 1] } else { "" };
    let program = format!(
        "source \"$0\" || exit 9\n\
         COMP_WORDS=({words})\nCOMP_CWORD={cword}\n\
         _rnetstat rnetstat '{cur}' '{prev}' || exit 8\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        cur = words[cword],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .arg(&script)
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "bash completion failed for {words:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_options_filter_words_and_state_names() {
    if !have("bash") {
        eprintln!("skipping: bash is not installed");
        return;
    }
    let c = bash_complete(&["rnetstat", "--json"]);
    assert_eq!(c, ["--json", "--json-lines"]);
    let c = bash_complete(&["rnetstat", "-tan", "spo"]);
    assert_eq!(c, ["sport"]);
    let c = bash_complete(&["rnetstat", "-t", "state", "time"]);
    assert_eq!(c, ["time-wait"]);
    let c = bash_complete(&["rnetstat", "--owner-scan", ""]);
    assert_eq!(c, ["auto", "bpf", "proc"]);
    let c = bash_complete(&["rnetstat", "--completions", "z"]);
    assert_eq!(c, ["zsh"]);
}

/// Each installed shell parses its script without complaint.
#[test]
fn installed_shells_accept_their_scripts() {
    let checks: [(CompletionShell, &str, &[&str]); 3] = [
        (
            CompletionShell::Bash,
            "bash",
            &["--norc", "--noprofile", "-n"],
        ),
        (CompletionShell::Zsh, "zsh", &["-n"]),
        (CompletionShell::Fish, "fish", &["--no-execute"]),
    ];
    for (shell, tool, args) in checks {
        if !have(tool) {
            eprintln!("skipping the {tool} syntax check: {tool} is not installed");
            continue;
        }
        let path = repo_path(shell.committed_path());
        let out = Command::new(tool)
            .args(args)
            .arg(&path)
            .output()
            .expect("run the shell");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{tool} rejects {}: {}\n{}",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn fish_completes_filter_words_and_state_names() {
    if !have("fish") {
        eprintln!("skipping: fish is not installed (Debian package: fish)");
        return;
    }
    let script = repo_path(CompletionShell::Fish.committed_path());
    let complete = |line: &str| -> Vec<String> {
        let out = Command::new("fish")
            .args(["--no-config", "-c", "source $argv[1]; complete -C $argv[2]"])
            .arg(&script)
            .arg(line)
            .output()
            .expect("run fish");
        assert!(
            out.status.success(),
            "fish failed on {line:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(complete("rnetstat -t state tim"), ["time-wait"]);
    assert_eq!(complete("rnetstat dpo"), ["dport"]);
    assert_eq!(complete("rnetstat --json"), ["--json", "--json-lines"]);
}
