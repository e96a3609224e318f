//! Making bytes from the system safe to put on a terminal.
//!
//! Process names and socket paths are chosen by whoever runs a process, so they may hold escape
//! sequences, newlines or invalid UTF-8. The table prints them through [`escape_into`], which keeps
//! printable text (ASCII and valid non-control Unicode) and writes everything else as a visible
//! escape, so no record can move the cursor, recolour the terminal or split across lines.

use std::fmt::Write as _;

/// Appends `bytes` to `out`, escaped for display:
/// `\\`, `\n`, `\t`, `\r`, `\0` and `\xHH` for other control bytes and invalid UTF-8,
/// `\u{HHHH}` for Unicode control and bidirectional-override characters.
pub fn escape_into(out: &mut String, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                escape_str(out, s);
                return;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                // `valid_up_to` guarantees this prefix is UTF-8.
                escape_str(out, std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(after.len());
                for b in &after[..bad] {
                    let _ = write!(out, "\\x{b:02x}");
                }
                rest = &after[bad..];
            }
        }
    }
}

/// Returns `bytes` as rnetstat's table prints a name from the system (a process's `comm`, a
/// socket path): printable text kept; `\\`, `\n`, `\t`, `\r`, `\0` and `\xHH` for other
/// control bytes and invalid UTF-8; `\u{HHHH}` for Unicode control and bidirectional-override
/// characters.
///
/// ```
/// assert_eq!(rnetstat::escape(b"evil\x1b[2J\n"), "evil\\x1b[2J\\n");
/// ```
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    escape_into(&mut s, bytes);
    s
}

fn escape_str(out: &mut String, s: &str) {
    // Fast path: the overwhelmingly common case is plain printable ASCII.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\') {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe_unicode(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// C1 controls, and the characters that reorder or hide text on a terminal.
fn is_unsafe_unicode(c: char) -> bool {
    matches!(c as u32,
        0x80..=0x9f          // C1 controls (0x9b is CSI on some terminals)
        | 0x200b..=0x200f    // zero-width and direction marks
        | 0x2028..=0x2029    // line and paragraph separators
        | 0x202a..=0x202e    // bidi embeddings and overrides
        | 0x2066..=0x2069    // bidi isolates
        | 0xfeff)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn printable_text_is_kept() {
        assert_eq!(escape(b"nginx: worker"), "nginx: worker");
        assert_eq!(escape("café".as_bytes()), "café");
        assert_eq!(escape(b"/tmp/a b.sock"), "/tmp/a b.sock");
    }

    #[test]
    fn control_bytes_become_visible_escapes() {
        assert_eq!(escape(b"a\nb"), "a\\nb");
        assert_eq!(escape(b"\x1b[31mred"), "\\x1b[31mred");
        assert_eq!(escape(b"x\0y\x7f"), "x\\0y\\x7f");
        assert_eq!(escape(b"back\\slash"), "back\\\\slash");
    }

    #[test]
    fn invalid_utf8_is_escaped_byte_by_byte() {
        assert_eq!(escape(b"ab\xff\xfecd"), "ab\\xff\\xfecd");
        assert_eq!(escape(b"\xe2\x82"), "\\xe2\\x82");
    }

    #[test]
    fn c1_and_bidi_controls_are_escaped() {
        assert_eq!(escape("a\u{9b}b".as_bytes()), "a\\u{009b}b");
        assert_eq!(escape("x\u{202e}y".as_bytes()), "x\\u{202e}y");
    }

    #[test]
    fn output_never_holds_a_control_character() {
        let all: Vec<u8> = (0u8..=255).collect();
        let out = escape(&all);
        assert!(out.chars().all(|c| !c.is_control()), "{out:?}");
    }
}
