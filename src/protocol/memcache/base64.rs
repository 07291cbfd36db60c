//! Tiny base64 codec for meta-protocol binary keys (`b` flag).
//!
//! The decoder mirrors memcached's `base64_decode` (base64.c): bytes outside
//! the alphabet are skipped, the number of alphabet bytes (counting `=`) must
//! be a non-zero multiple of four, decoding stops after the first padded
//! block, more than two `=` in a block is an error, and an empty result is an
//! error.

const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Value of a base64 alphabet byte; `=` decodes as 0. `None` for bytes outside the alphabet.
fn dvalue(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        b'=' => Some(0),
        _ => None,
    }
}

/// Decodes `src`; `None` when memcached would fail (its decoder returns 0).
pub fn decode(src: &[u8]) -> Option<Vec<u8>> {
    let count = src.iter().filter(|&&b| dvalue(b).is_some()).count();
    if count == 0 || count % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(count / 4 * 3);
    let mut block = [0u8; 4];
    let mut n = 0usize;
    let mut pad = 0usize;
    for &b in src {
        let Some(v) = dvalue(b) else { continue };
        if b == b'=' {
            pad += 1;
        }
        if let Some(slot) = block.get_mut(n) {
            *slot = v;
        }
        n += 1;
        if n == 4 {
            let [b0, b1, b2, b3] = block;
            out.push((b0 << 2) | (b1 >> 4));
            out.push((b1 << 4) | (b2 >> 2));
            out.push((b2 << 6) | b3);
            n = 0;
            if pad > 0 {
                match pad {
                    1 => {
                        out.pop();
                    }
                    2 => {
                        out.pop();
                        out.pop();
                    }
                    _ => return None,
                }
                break;
            }
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

/// Appends the padded base64 encoding of `src` to `out`.
pub fn encode_into(src: &[u8], out: &mut Vec<u8>) {
    let mut chunks = src.chunks_exact(3);
    for c in &mut chunks {
        let (a, b, d) = (c[0], c[1], c[2]);
        out.push(TABLE[usize::from(a >> 2)]);
        out.push(TABLE[usize::from(((a & 0x03) << 4) | (b >> 4))]);
        out.push(TABLE[usize::from(((b & 0x0f) << 2) | (d >> 6))]);
        out.push(TABLE[usize::from(d & 0x3f)]);
    }
    match *chunks.remainder() {
        [a] => {
            out.push(TABLE[usize::from(a >> 2)]);
            out.push(TABLE[usize::from((a & 0x03) << 4)]);
            out.extend_from_slice(b"==");
        }
        [a, b] => {
            out.push(TABLE[usize::from(a >> 2)]);
            out.push(TABLE[usize::from(((a & 0x03) << 4) | (b >> 4))]);
            out.push(TABLE[usize::from((b & 0x0f) << 2)]);
            out.push(b'=');
        }
        _ => {}
    }
}

/// Padded base64 encoding of `src`.
pub fn encode(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len().div_ceil(3) * 4);
    encode_into(src, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_memcached_quirks() {
        for s in [&b"a"[..], b"ab", b"abc", b"abcd", b"\x00\xff\x10 \r\n", b""] {
            let e = encode(s);
            if s.is_empty() {
                assert!(e.is_empty());
                assert_eq!(decode(&e), None);
            } else {
                assert_eq!(decode(&e).as_deref(), Some(s));
            }
        }
        assert_eq!(encode(b"abc"), b"YWJj");
        assert_eq!(encode(b"a"), b"YQ==");
        assert_eq!(encode(b"ab"), b"YWI=");
        assert_eq!(decode(b"YQ=").as_deref(), None);
        assert_eq!(decode(b"YQ").as_deref(), None);
        assert_eq!(decode(b"a").as_deref(), None);
        assert_eq!(decode(b"!!!!").as_deref(), None);
        assert_eq!(decode(b"====").as_deref(), None);
        // non-alphabet bytes are skipped, as in memcached
        assert_eq!(decode(b"Y!Q=\t=").as_deref(), Some(&b"a"[..]));
        // decoding stops after the first padded block
        assert_eq!(decode(b"YQ==YQ==").as_deref(), Some(&b"a"[..]));
    }
}
