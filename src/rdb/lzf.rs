//! LZF decompression, for strings Redis saved compressed (`rdbcompression yes`,
//! its default, compresses strings longer than 20 bytes when that saves space).
//! herald writes strings uncompressed, which every Redis reads.
//!
//! The format is a sequence of runs, each starting with a control byte:
//! - `000LLLLL`: a literal run of L+1 bytes follows;
//! - `LLLooooo oooooooo` (L = 1..6) or `111ooooo LLLLLLLL oooooooo` (L = 7 +
//!   the second byte): a back reference of L+2 bytes, starting
//!   `(ooooo << 8 | oooooooo) + 1` bytes before the end of the output so far.
//!   A reference may overlap what it produces (run-length style), so it copies
//!   byte by byte.

/// Decompresses `input` into exactly `expected_len` bytes, or None if the
/// input is corrupt (a reference before the start, a run past the end, or a
/// different length).
pub fn decompress(input: &[u8], expected_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(expected_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let literal = input.get(ip..ip + run)?;
            if out.len() + run > expected_len {
                return None;
            }
            out.extend_from_slice(literal);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip)?);
                ip += 1;
            }
            len += 2;
            let low = usize::from(*input.get(ip)?);
            ip += 1;
            let back = ((ctrl & 0x1f) << 8) + low + 1;
            if back > out.len() || out.len() + len > expected_len {
                return None;
            }
            let start = out.len() - back;
            for i in 0..len {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    (out.len() == expected_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_overlapping_reference() {
        // "abc" literal, then a 7-byte reference one byte back: "ccccccc".
        let input = [2, b'a', b'b', b'c', (5 << 5), 0];
        assert_eq!(decompress(&input, 10).unwrap(), b"abcccccccc".to_vec());
    }

    #[test]
    fn corrupt_inputs_are_refused() {
        assert_eq!(decompress(&[5, b'a'], 6), None); // literal past the input
        assert_eq!(decompress(&[(1 << 5), 4], 3), None); // reference before the start
        assert_eq!(decompress(&[0, b'a'], 2), None); // shorter than announced
        assert_eq!(decompress(&[1, b'a', b'b'], 1), None); // longer than announced
        assert_eq!(decompress(&[0xe0], 9), None); // truncated long reference
    }
}
