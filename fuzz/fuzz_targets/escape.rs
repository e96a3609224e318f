//! Fuzzes `escape::escape`. Properties: the output holds no control character (so a record can
//! never move the cursor or split across lines), no bidi/zero-width character, and the escaping
//! is lossless: unescaping the output gives back the input bytes exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnetstat::fuzzing::escape;

fn unsafe_unicode(c: char) -> bool {
    matches!(c as u32, 0x200b..=0x200f | 0x2028..=0x202e | 0x2066..=0x2069 | 0xfeff)
}

/// Inverse of `escape`: `\\ \n \t \r \0`, `\xHH` (one raw byte), `\u{H..}` (one char).
fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        match chars.next().expect("dangling backslash") {
            '\\' => out.push(b'\\'),
            'n' => out.push(b'\n'),
            't' => out.push(b'\t'),
            'r' => out.push(b'\r'),
            '0' => out.push(0),
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).expect("\\x needs two hex digits"));
            }
            'u' => {
                assert_eq!(chars.next(), Some('{'));
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let c = char::from_u32(u32::from_str_radix(&hex, 16).expect("hex"))
                    .expect("a scalar value");
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
            other => panic!("unknown escape \\{other}"),
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let out = escape(data);
    assert!(
        !out.chars().any(|c| c.is_control() || unsafe_unicode(c)),
        "{out:?}"
    );
    assert_eq!(unescape(&out), data, "escaping lost information: {out:?}");
});
