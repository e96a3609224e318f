//! Shell completion scripts, generated from the clap definition in [`crate::cli`] by
//! clap_complete, so they cannot drift from the options. `rnetstat --completions SHELL` prints
//! one; the copies committed under `completions/` (what `make install` and the .deb install) are
//! checked against a fresh generation by tests/completions.rs.
//!
//! Filter words (`state`, `sport`, ... and the state names) complete in bash and zsh because the
//! FILTER argument reports them as possible values (see [`crate::cli`]); fish's generator skips
//! positional arguments, so its script gets one more `complete` line offering the same words.

use clap::ValueEnum;
use clap_complete::Shell;

use crate::filter::{FILTER_KEYWORDS, STATE_WORDS};

/// The shells a script is generated and committed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

impl CompletionShell {
    pub const ALL: [CompletionShell; 3] = [
        CompletionShell::Bash,
        CompletionShell::Zsh,
        CompletionShell::Fish,
    ];

    /// The committed script's path inside the repository, named as each shell's loader expects
    /// (bash-completion: the command's name; zsh: `_` + the name; fish: the name + `.fish`).
    pub fn committed_path(self) -> &'static str {
        match self {
            CompletionShell::Bash => "completions/rnetstat.bash",
            CompletionShell::Zsh => "completions/_rnetstat",
            CompletionShell::Fish => "completions/rnetstat.fish",
        }
    }

    fn shell(self) -> Shell {
        match self {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
        }
    }
}

/// The completion script for `shell`.
pub fn script(shell: CompletionShell) -> Vec<u8> {
    let mut cmd = crate::cli::command();
    let mut buf = Vec::new();
    // Into memory: clap_complete panics when its writer fails, and stdout can be a closed pipe.
    clap_complete::generate(shell.shell(), &mut cmd, "rnetstat", &mut buf);
    if shell == CompletionShell::Fish {
        let words: Vec<&str> = FILTER_KEYWORDS.iter().chain(STATE_WORDS).copied().collect();
        buf.extend_from_slice(
            format!(
                "# Filter words (clap_complete's fish generator leaves positional arguments out).\n\
                 complete -c rnetstat -f -n 'not string match -q -- \"-*\" (commandline -ct)' \
                 -a '{}'\n",
                words.join(" ")
            )
            .as_bytes(),
        );
    }
    buf
}
