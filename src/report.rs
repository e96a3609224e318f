//! What a run tells its user besides its output: warnings, netstat's hints, and `-v`'s notes.
//!
//! Library code never writes to stderr. Each stage hands a [`Message`] to the caller's sink, and
//! the caller (the `rnetstat` binary, or a program using the library) decides where it goes. That
//! keeps one place that owns stderr, so a closed or full stderr is handled once, and a library
//! user is not surprised by text on its terminal.

use std::fmt;

/// How a [`Message`] should be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Level {
    /// Something was skipped or could not be read; the output is still what it says it is.
    Warning,
    /// netstat's own hint (e.g. that some owners are hidden), worded as netstat words it.
    Hint,
    /// What `-v` reports: which source served each table, how owners were found.
    Info,
}

/// One message for the user. Its text can hold what the system or the arguments gave (paths,
/// names), so escape it before it reaches a terminal, as the `rnetstat` binary does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    level: Level,
    text: String,
}

impl Message {
    pub(crate) fn new(level: Level, text: impl Into<String>) -> Message {
        Message {
            level,
            text: text.into(),
        }
    }

    pub(crate) fn warning(text: impl Into<String>) -> Message {
        Message::new(Level::Warning, text)
    }

    pub(crate) fn info(text: impl Into<String>) -> Message {
        Message::new(Level::Info, text)
    }

    /// How to read it.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The message, without a program-name prefix; it may span lines (netstat's hint does).
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Where messages go: a closure the caller gives.
pub type Sink<'a> = &'a mut dyn FnMut(Message);

/// `bytes` made safe to put on a terminal: printable text is kept, control bytes, invalid UTF-8
/// and bidirectional overrides become visible escapes (`\n`, `\x1b`, `\u{202e}`), so no name can
/// move the cursor, recolour the terminal or split a line. What the table does to every name.
pub fn terminal_safe(bytes: &[u8]) -> String {
    crate::escape::escape(bytes)
}

/// An error and its causes on one line, each step said once:
/// `cannot read /x/net/snmp: No such file or directory`.
///
/// Each error's `Display` says only its own step and `source()` gives the cause, so walking the
/// chain prints every step once. An OS error's "(os error N)" suffix is dropped: the words say it.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut next = Some(e);
    while let Some(err) = next {
        if !text.is_empty() {
            text.push_str(": ");
        }
        let step = err.to_string();
        let step = match err.downcast_ref::<std::io::Error>() {
            Some(io) if io.raw_os_error().is_some() => match step.rfind(" (os error ") {
                Some(cut) => step[..cut].to_string(),
                None => step,
            },
            _ => step,
        };
        text.push_str(&step);
        next = err.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Step(std::io::Error);

    impl fmt::Display for Step {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("cannot read /x/net/snmp")
        }
    }

    impl std::error::Error for Step {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn chain_says_each_step_once_without_the_errno_suffix() {
        let e = Step(std::io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(
            chain(&e),
            "cannot read /x/net/snmp: No such file or directory"
        );
    }

    #[test]
    fn chain_keeps_a_custom_io_message() {
        let e = std::io::Error::other("the owner scan thread panicked");
        assert_eq!(chain(&e), "the owner scan thread panicked");
    }
}
