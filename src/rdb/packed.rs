//! Redis's packed blobs as they appear inside RDB values: listpack (written
//! and read), ziplist and intset (read only: older Redis versions wrote them).
//! Elements come out as bytes; integers are rendered in decimal, which is how
//! Redis hands them to commands.
//!
//! Every reader checks each length against the blob, so a corrupt or hostile
//! payload is refused (None), never read out of bounds.

/// A listpack stops at this byte.
const LP_EOF: u8 = 0xff;
/// Header: total bytes (u32 LE) + element count (u16 LE).
const LP_HEADER_BYTES: usize = 6;
/// The count field's value when the count does not fit in 16 bits.
const LP_COUNT_UNKNOWN: u16 = u16::MAX;

/// Redis's `string2ll`: an integer in canonical form (no sign on zero, no
/// leading zeros or '+', no spaces), which packed encodings store as a number.
pub fn canonical_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let digit = i64::from(d - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(digit)?
        } else {
            v.checked_add(digit)?
        };
    }
    Some(v)
}

/// Builds a listpack from elements, encoding canonical integers as numbers
/// as Redis's `lpAppend` does (so our blobs are the ones Redis would write).
pub fn listpack<'a>(elements: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut lp = vec![0u8; LP_HEADER_BYTES];
    let mut count: usize = 0;
    for e in elements {
        let start = lp.len();
        match canonical_i64(e) {
            Some(v) => encode_lp_int(&mut lp, v),
            None => encode_lp_str(&mut lp, e),
        }
        let entry_len = lp.len() - start;
        encode_backlen(&mut lp, entry_len);
        count += 1;
    }
    lp.push(LP_EOF);
    let total = lp.len() as u32;
    lp[0..4].copy_from_slice(&total.to_le_bytes());
    let count = if count < usize::from(LP_COUNT_UNKNOWN) {
        count as u16
    } else {
        LP_COUNT_UNKNOWN
    };
    lp[4..6].copy_from_slice(&count.to_le_bytes());
    lp
}

fn encode_lp_int(lp: &mut Vec<u8>, v: i64) {
    if (0..=127).contains(&v) {
        lp.push(v as u8);
    } else if (-4096..=4095).contains(&v) {
        let uv = if v < 0 { (1 << 13) + v } else { v } as u16;
        lp.push(0xc0 | (uv >> 8) as u8);
        lp.push((uv & 0xff) as u8);
    } else if i64::from(i16::MIN) <= v && v <= i64::from(i16::MAX) {
        lp.push(0xf1);
        lp.extend_from_slice(&(v as i16).to_le_bytes());
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        lp.push(0xf2);
        lp.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
    } else if i64::from(i32::MIN) <= v && v <= i64::from(i32::MAX) {
        lp.push(0xf3);
        lp.extend_from_slice(&(v as i32).to_le_bytes());
    } else {
        lp.push(0xf4);
        lp.extend_from_slice(&v.to_le_bytes());
    }
}

fn encode_lp_str(lp: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 64 {
        lp.push(0x80 | len as u8);
    } else if len < 4096 {
        lp.push(0xe0 | (len >> 8) as u8);
        lp.push((len & 0xff) as u8);
    } else {
        lp.push(0xf0);
        lp.extend_from_slice(&(len as u32).to_le_bytes());
    }
    lp.extend_from_slice(s);
}

/// The entry length written after each entry so the list can be walked
/// backwards: 7 bits per byte, most significant first, every byte but the
/// first with its high bit set (read right to left, a set bit means "more").
fn encode_backlen(lp: &mut Vec<u8>, len: usize) {
    let mut groups = vec![(len & 127) as u8];
    let mut rest = len >> 7;
    while rest > 0 {
        groups.push((rest & 127) as u8);
        rest >>= 7;
    }
    // groups[0] is least significant; written last, all but the most
    // significant (written first) carry the continuation bit.
    let last = groups.len() - 1;
    for (i, g) in groups.iter().enumerate().rev() {
        lp.push(if i == last { *g } else { g | 128 });
    }
}

/// The number of bytes `encode_backlen` writes for `len`.
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Reads every element of a listpack.
pub fn read_listpack(lp: &[u8]) -> Option<Vec<Vec<u8>>> {
    if lp.len() < LP_HEADER_BYTES + 1 {
        return None;
    }
    let total = u32::from_le_bytes(lp[0..4].try_into().ok()?) as usize;
    if total != lp.len() || lp[lp.len() - 1] != LP_EOF {
        return None;
    }
    let announced = u16::from_le_bytes(lp[4..6].try_into().ok()?);
    let mut out = Vec::new();
    let mut p = LP_HEADER_BYTES;
    loop {
        let b = *lp.get(p)?;
        if b == LP_EOF {
            break;
        }
        let (element, entry_len) = read_lp_entry(&lp[p..])?;
        // The backlen must match what Redis would have written.
        let back = backlen_size(entry_len);
        let after = p + entry_len + back;
        if after > lp.len() - 1 {
            return None;
        }
        out.push(element);
        p = after;
    }
    if p != lp.len() - 1 {
        return None;
    }
    if announced != LP_COUNT_UNKNOWN && usize::from(announced) != out.len() {
        return None;
    }
    Some(out)
}

/// One entry at the start of `e`: its element and its length without the backlen.
fn read_lp_entry(e: &[u8]) -> Option<(Vec<u8>, usize)> {
    let b = e[0];
    let int = |v: i64, len: usize| Some((v.to_string().into_bytes(), len));
    let string = |start: usize, len: usize| {
        let s = e.get(start..start.checked_add(len)?)?;
        Some((s.to_vec(), start + len))
    };
    if b & 0x80 == 0 {
        int(i64::from(b), 1)
    } else if b & 0xc0 == 0x80 {
        string(1, usize::from(b & 0x3f))
    } else if b & 0xe0 == 0xc0 {
        let uv = (u16::from(b & 0x1f) << 8) | u16::from(*e.get(1)?);
        let v = if uv >= 1 << 12 {
            i64::from(uv) - (1 << 13)
        } else {
            i64::from(uv)
        };
        int(v, 2)
    } else if b & 0xf0 == 0xe0 {
        string(2, (usize::from(b & 0x0f) << 8) | usize::from(*e.get(1)?))
    } else {
        match b {
            0xf0 => string(
                5,
                u32::from_le_bytes(e.get(1..5)?.try_into().ok()?) as usize,
            ),
            0xf1 => int(
                i64::from(i16::from_le_bytes(e.get(1..3)?.try_into().ok()?)),
                3,
            ),
            0xf2 => {
                let x = e.get(1..4)?;
                let v = i32::from_le_bytes([0, x[0], x[1], x[2]]) >> 8;
                int(i64::from(v), 4)
            }
            0xf3 => int(
                i64::from(i32::from_le_bytes(e.get(1..5)?.try_into().ok()?)),
                5,
            ),
            0xf4 => int(i64::from_le_bytes(e.get(1..9)?.try_into().ok()?), 9),
            _ => None,
        }
    }
}

/// Reads every element of a ziplist (Redis < 7 lists, hashes and zsets).
pub fn read_ziplist(zl: &[u8]) -> Option<Vec<Vec<u8>>> {
    const ZL_HEADER_BYTES: usize = 10;
    if zl.len() < ZL_HEADER_BYTES + 1 {
        return None;
    }
    let total = u32::from_le_bytes(zl[0..4].try_into().ok()?) as usize;
    if total != zl.len() || zl[zl.len() - 1] != 0xff {
        return None;
    }
    let mut out = Vec::new();
    let mut p = ZL_HEADER_BYTES;
    while *zl.get(p)? != 0xff {
        // prevlen: one byte, or 0xfe and a u32.
        p += if zl[p] < 0xfe { 1 } else { 5 };
        let enc = *zl.get(p)?;
        let rest = zl.get(p..)?;
        let string = |header: usize, len: usize| -> Option<(Vec<u8>, usize)> {
            Some((
                rest.get(header..header.checked_add(len)?)?.to_vec(),
                header + len,
            ))
        };
        let int = |v: i64, size: usize| Some((v.to_string().into_bytes(), size));
        let (element, size) = match enc >> 6 {
            0 => string(1, usize::from(enc & 0x3f))?,
            1 => string(
                2,
                (usize::from(enc & 0x3f) << 8) | usize::from(*rest.get(1)?),
            )?,
            2 => string(
                5,
                u32::from_be_bytes(rest.get(1..5)?.try_into().ok()?) as usize,
            )?,
            _ => match enc {
                0xc0 => int(
                    i64::from(i16::from_le_bytes(rest.get(1..3)?.try_into().ok()?)),
                    3,
                )?,
                0xd0 => int(
                    i64::from(i32::from_le_bytes(rest.get(1..5)?.try_into().ok()?)),
                    5,
                )?,
                0xe0 => int(i64::from_le_bytes(rest.get(1..9)?.try_into().ok()?), 9)?,
                0xf0 => {
                    let x = rest.get(1..4)?;
                    int(i64::from(i32::from_le_bytes([0, x[0], x[1], x[2]]) >> 8), 4)?
                }
                0xfe => int(i64::from(*rest.get(1)? as i8), 2)?,
                0xf1..=0xfd => int(i64::from(enc & 0x0f) - 1, 1)?,
                _ => return None,
            },
        };
        out.push(element);
        p += size;
    }
    (p == zl.len() - 1).then_some(out)
}

/// Reads an intset: encoding width (u32 LE: 2, 4 or 8), count (u32 LE), then
/// the values, little-endian, strictly ascending.
pub fn read_intset(is: &[u8]) -> Option<Vec<i64>> {
    let width = u32::from_le_bytes(is.get(0..4)?.try_into().ok()?) as usize;
    let count = u32::from_le_bytes(is.get(4..8)?.try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || is.len() != 8 + width.checked_mul(count)? {
        return None;
    }
    let values: Vec<i64> = is[8..]
        .chunks_exact(width)
        .map(|c| match width {
            2 => i64::from(i16::from_le_bytes([c[0], c[1]])),
            4 => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        })
        .collect();
    values.windows(2).all(|w| w[0] < w[1]).then_some(values)
}

/// Builds an intset of the narrowest width that holds every value.
pub fn intset(values: &mut [i64]) -> Vec<u8> {
    values.sort_unstable();
    let width: usize = if values.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if values.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * values.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for &v in values.iter() {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers_only() {
        assert_eq!(canonical_i64(b"0"), Some(0));
        assert_eq!(canonical_i64(b"-12"), Some(-12));
        assert_eq!(canonical_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(canonical_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1a",
            b"9223372036854775808",
        ] {
            assert_eq!(canonical_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn listpack_round_trips_every_encoding() {
        let long = vec![b'x'; 5000];
        let medium = vec![b'y'; 300];
        let elements: Vec<Vec<u8>> = vec![
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-4096".to_vec(),
            b"4095".to_vec(),
            b"-32768".to_vec(),
            b"32767".to_vec(),
            b"8388607".to_vec(),
            b"-8388608".to_vec(),
            b"2147483647".to_vec(),
            b"-2147483648".to_vec(),
            b"9223372036854775807".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"".to_vec(),
            b"hello".to_vec(),
            b"007".to_vec(),
            medium,
            long,
        ];
        let lp = listpack(elements.iter().map(|e| e.as_slice()));
        assert_eq!(read_listpack(&lp).unwrap(), elements);
    }

    #[test]
    fn listpack_matches_redis_bytes() {
        // `RPUSH l a 1 -1 1000` on redis-server 7.0 dumps this listpack.
        let lp = listpack([&b"a"[..], b"1", b"-1", b"1000"]);
        assert_eq!(
            lp,
            [
                0x12, 0, 0, 0, 4, 0, // 18 bytes, 4 entries
                0x81, b'a', 2, // "a"
                0x01, 1, // 1
                0xdf, 0xff, 2, // -1 as 13-bit
                0xc3, 0xe8, 2, // 1000 as 13-bit
                0xff
            ]
        );
    }

    #[test]
    fn corrupt_listpacks_are_refused() {
        let lp = listpack([&b"abc"[..], b"12"]);
        for cut in 0..lp.len() {
            assert_eq!(read_listpack(&lp[..cut]), None);
        }
        let mut wrong_count = lp.clone();
        wrong_count[4] = 3;
        assert_eq!(read_listpack(&wrong_count), None);
        let mut long_string = lp.clone();
        long_string[6] = 0xbf; // 63-byte string in a 17-byte blob
        assert_eq!(read_listpack(&long_string), None);
    }

    #[test]
    fn intset_round_trips_and_refuses_unsorted() {
        let mut v = vec![5, -3, 70000];
        let is = intset(&mut v);
        assert_eq!(read_intset(&is).unwrap(), vec![-3, 5, 70000]);
        let mut unsorted = intset(&mut [1, 2]);
        unsorted[8..10].copy_from_slice(&9i16.to_le_bytes());
        assert_eq!(read_intset(&unsorted), None);
        assert_eq!(read_intset(&is[..is.len() - 1]), None);
    }

    #[test]
    fn ziplist_reads_every_encoding() {
        // zlbytes, zltail, zllen, then entries: "ab" (6-bit string),
        // 12 (4-bit immediate 0xfd = 12), -2 (int8), 300 (int16), then end.
        let mut zl = vec![0u8; 10];
        zl.extend_from_slice(&[0, 0x02, b'a', b'b']);
        zl.extend_from_slice(&[4, 0xfd]);
        zl.extend_from_slice(&[2, 0xfe, 0xfe]);
        zl.extend_from_slice(&[3, 0xc0, 0x2c, 0x01]);
        zl.push(0xff);
        let total = zl.len() as u32;
        zl[0..4].copy_from_slice(&total.to_le_bytes());
        assert_eq!(
            read_ziplist(&zl).unwrap(),
            vec![
                b"ab".to_vec(),
                b"12".to_vec(),
                b"-2".to_vec(),
                b"300".to_vec()
            ]
        );
        assert_eq!(read_ziplist(&zl[..zl.len() - 2]), None);
    }
}
