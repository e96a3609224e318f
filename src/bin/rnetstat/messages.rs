//! The one place that writes to stderr. Everything printed here is escaped line by line, so no
//! name, path or argument can put a control byte on the terminal, and a write that fails (stderr
//! closed, or a full disk behind it) is dropped: a message must never end the run or panic it.

use std::io::{self, Write};

use rnetstat::report::{Level, Message};

pub struct Stderr {
    err: io::Stderr,
}

impl Stderr {
    pub fn new() -> Stderr {
        Stderr { err: io::stderr() }
    }

    /// A library message: warnings and `-v` notes behind `rnetstat:`, netstat's hint as netstat
    /// words it.
    pub fn message(&mut self, m: &Message) {
        match m.level() {
            Level::Hint => self.raw(m.text()),
            _ => self.error(m.text()),
        }
    }

    /// An error or warning of ours: `rnetstat: ` and the text.
    pub fn error(&mut self, text: &str) {
        self.write(Some("rnetstat: "), text);
    }

    /// Text that is already worded for the terminal (clap's usage errors, netstat's hint).
    pub fn raw(&mut self, text: &str) {
        self.write(None, text);
    }

    fn write(&mut self, prefix: Option<&str>, text: &str) {
        let mut line = String::with_capacity(text.len() + 16);
        for (i, l) in text.trim_end_matches('\n').split('\n').enumerate() {
            if i == 0 {
                if let Some(p) = prefix {
                    line.push_str(p);
                }
            }
            line.push_str(&rnetstat::report::terminal_safe(l.as_bytes()));
            line.push('\n');
        }
        let mut err = self.err.lock();
        let _ = err.write_all(line.as_bytes()).and_then(|()| err.flush());
    }
}
