//! Decimal integers appended to a buffer without `core::fmt`: the table and the JSON writer
//! render several per row, and the /proc owner scan builds one path per process. The digits
//! come from `itoa` (two per step, no UTF-8 re-check).

/// Appends `n` in decimal.
pub fn push_u64(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `n` in decimal to a byte buffer.
pub fn push_u64_bytes(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_display() {
        for n in [0u64, 7, 10, 4242, u64::from(u32::MAX), u64::MAX] {
            let mut s = String::from("x");
            push_u64(&mut s, n);
            assert_eq!(s, format!("x{n}"));
            let mut b = b"x".to_vec();
            push_u64_bytes(&mut b, n);
            assert_eq!(b, format!("x{n}").into_bytes());
        }
    }
}
