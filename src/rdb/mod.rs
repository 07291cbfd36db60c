//! Redis's RDB value format: how one value is written in a `dump.rdb` and in a
//! DUMP payload, so data moves between herald and Redis both ways.
//!
//! Pure code, bytes in and values out (no store, no I/O). A value is a type
//! byte and a body; the body uses three building blocks:
//! - a *length*: `00xxxxxx` (6 bits), `01xxxxxx xxxxxxxx` (14 bits, big
//!   endian), `0x80` + u32 BE, `0x81` + u64 BE; `11xxxxxx` marks a special
//!   string encoding instead;
//! - a *string*: a length and bytes, or `0xc0`/`0xc1`/`0xc2` + an 8/16/32-bit
//!   little-endian integer (rendered as decimal), or `0xc3` + compressed
//!   length + plain length + LZF data;
//! - a *packed blob* (a string holding a listpack, ziplist or intset).
//!
//! herald writes what Redis 7.0 (RDB version 10) reads: strings with integer
//! encoding, lists as quicklist-2 of listpacks, sets as intsets or plain sets,
//! hashes as plain hashes, sorted sets as ZSET_2 (binary doubles). It reads
//! every non-module, non-stream type Redis 2.x to 7.2 writes.
//!
//! A DUMP payload is `value ‖ RDB version (u16 LE) ‖ CRC-64 (u64 LE)` of all
//! bytes before the checksum.

pub mod crc64;
pub mod lzf;
pub mod packed;

/// The RDB version herald writes (Redis 7.0's).
pub const RDB_VERSION: u16 = 10;
/// The newest version herald reads: Redis 7.2's, whose only new value type
/// (listpack sets) it understands.
pub const RDB_VERSION_MAX_READ: u16 = 11;

/// Value type bytes (Redis `rdb.h`).
pub mod kind {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const SET_LISTPACK: u8 = 20;
}

/// A quicklist-2 node holding one element as is (Redis's huge elements).
const QUICKLIST_NODE_PLAIN: u64 = 1;
/// A quicklist-2 node holding a listpack.
const QUICKLIST_NODE_PACKED: u64 = 2;
/// herald's listpack nodes hold at most this many bytes of elements, as
/// Redis's default `list-max-listpack-size -2` (8 KiB) does.
const QUICKLIST_NODE_MAX_BYTES: usize = 8 * 1024;
/// Strings longer than this are not tried as integers (Redis: 11 chars).
const INT_ENCODING_MAX_LEN: usize = 11;

/// A decoded value, independent of how the store keeps it.
#[derive(Clone, Debug, PartialEq)]
pub enum RdbValue {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    ZSet(Vec<(Vec<u8>, f64)>),
}

/// Why a value could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RdbError {
    /// A value type herald does not read (modules, streams, unknown).
    UnsupportedType(u8),
    /// Truncated or inconsistent bytes, duplicates, NaN scores...
    Corrupt,
    /// A collection with no elements (Redis refuses to load empty keys).
    EmptyKey,
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// Writes an RDB length.
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push((len & 0xff) as u8);
    } else if len <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Writes an RDB string, integer-encoded when it is a canonical integer that
/// fits in 32 bits (as Redis's `rdbSaveRawString`), otherwise plain.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= INT_ENCODING_MAX_LEN {
        if let Some(v) = packed::canonical_i64(s) {
            if let Ok(v) = i8::try_from(v) {
                out.extend_from_slice(&[0xc0, v as u8]);
                return;
            } else if let Ok(v) = i16::try_from(v) {
                out.push(0xc1);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            } else if let Ok(v) = i32::try_from(v) {
                out.push(0xc2);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// A string value: type byte and body.
pub fn write_str_value(out: &mut Vec<u8>, s: &[u8]) {
    out.push(kind::STRING);
    write_string(out, s);
}

/// A list as quicklist-2: listpack nodes of about 8 KiB each.
pub fn write_list_value<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a [u8]> + Clone) {
    out.push(kind::LIST_QUICKLIST_2);
    let mut nodes: Vec<Vec<&[u8]>> = Vec::new();
    let mut node_bytes = 0;
    for item in items {
        if nodes.is_empty() || node_bytes + item.len() > QUICKLIST_NODE_MAX_BYTES {
            nodes.push(Vec::new());
            node_bytes = 0;
        }
        node_bytes += item.len();
        if let Some(node) = nodes.last_mut() {
            node.push(item);
        }
    }
    write_len(out, nodes.len() as u64);
    for node in nodes {
        write_len(out, QUICKLIST_NODE_PACKED);
        let lp = packed::listpack(node);
        write_len(out, lp.len() as u64);
        out.extend_from_slice(&lp);
    }
}

/// A set: an intset when every member is a canonical integer and there are at
/// most `max_intset_entries` of them (Redis's `set-max-intset-entries`), else
/// a plain set.
pub fn write_set_value<'a>(
    out: &mut Vec<u8>,
    members: impl ExactSizeIterator<Item = &'a [u8]> + Clone,
    max_intset_entries: usize,
) {
    let ints: Option<Vec<i64>> = if members.len() <= max_intset_entries {
        members.clone().map(packed::canonical_i64).collect()
    } else {
        None
    };
    if let Some(mut ints) = ints {
        out.push(kind::SET_INTSET);
        let blob = packed::intset(&mut ints);
        write_len(out, blob.len() as u64);
        out.extend_from_slice(&blob);
        return;
    }
    out.push(kind::SET);
    write_len(out, members.len() as u64);
    for m in members {
        write_string(out, m);
    }
}

/// A hash as field/value pairs.
pub fn write_hash_value<'a>(
    out: &mut Vec<u8>,
    fields: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
) {
    out.push(kind::HASH);
    write_len(out, fields.len() as u64);
    for (f, v) in fields {
        write_string(out, f);
        write_string(out, v);
    }
}

/// A small hash as Redis 7.0 writes a listpack-encoded one: one listpack of
/// field, value, field, value...
pub fn write_hash_listpack_value<'a>(
    out: &mut Vec<u8>,
    fields: impl Iterator<Item = (&'a [u8], &'a [u8])>,
) {
    out.push(kind::HASH_LISTPACK);
    let lp = packed::listpack(fields.flat_map(|(f, v)| [f, v]));
    write_len(out, lp.len() as u64);
    out.extend_from_slice(&lp);
}

/// A sorted set as ZSET_2: member, then its score as a little-endian f64.
pub fn write_zset_value<'a>(
    out: &mut Vec<u8>,
    members: impl ExactSizeIterator<Item = (&'a [u8], f64)>,
) {
    out.push(kind::ZSET_2);
    write_len(out, members.len() as u64);
    for (m, score) in members {
        write_string(out, m);
        out.extend_from_slice(&score.to_le_bytes());
    }
}

/// Wraps a written value into a DUMP payload (version and checksum appended).
pub fn seal_dump(mut value: Vec<u8>) -> Vec<u8> {
    value.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::crc64(0, &value);
    value.extend_from_slice(&crc.to_le_bytes());
    value
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/// Checks a DUMP payload's footer (Redis's `verifyDumpPayload`) and returns
/// the value bytes, or None if the version is newer than herald reads or the
/// checksum is wrong.
pub fn open_dump(payload: &[u8]) -> Option<&[u8]> {
    if payload.len() < 10 {
        return None;
    }
    let (body, crc) = payload.split_at(payload.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    if version > RDB_VERSION_MAX_READ {
        return None;
    }
    let expected = u64::from_le_bytes(crc.try_into().ok()?);
    (crc64::crc64(0, body) == expected).then(|| &body[..body.len() - 2])
}

/// A cursor over RDB bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

type Result<T> = std::result::Result<T, RdbError>;

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn byte(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or(RdbError::Corrupt)?;
        self.pos += 1;
        Ok(b)
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(RdbError::Corrupt)?;
        let s = self.buf.get(self.pos..end).ok_or(RdbError::Corrupt)?;
        self.pos = end;
        Ok(s)
    }

    /// A length, or Err for a special string encoding where a length belongs.
    pub fn length(&mut self) -> Result<u64> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(RdbError::Corrupt),
        }
    }

    /// A length that must also fit what is left of the input, once each
    /// element costs at least `min_bytes_each` (so a hostile count cannot
    /// make us reserve memory the payload could never fill).
    fn count(&mut self, min_bytes_each: usize) -> Result<usize> {
        let n = usize::try_from(self.length()?).map_err(|_| RdbError::Corrupt)?;
        if n.checked_mul(min_bytes_each)
            .is_none_or(|need| need > self.remaining())
        {
            return Err(RdbError::Corrupt);
        }
        Ok(n)
    }

    fn len_or_encoding(&mut self) -> Result<Len> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Len::Plain(u64::from(b & 0x3f)),
            1 => Len::Plain((u64::from(b & 0x3f) << 8) | u64::from(self.byte()?)),
            3 => Len::Encoded(b & 0x3f),
            _ => match b {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.array()?))),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return Err(RdbError::Corrupt),
            },
        })
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.take(N)?.try_into().map_err(|_| RdbError::Corrupt)
    }

    /// An RDB string, integer and LZF encodings expanded.
    pub fn string(&mut self) -> Result<Vec<u8>> {
        match self.len_or_encoding()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| RdbError::Corrupt)?;
                Ok(self.take(n)?.to_vec())
            }
            Len::Encoded(0) => Ok((self.byte()? as i8).to_string().into_bytes()),
            Len::Encoded(1) => Ok(i16::from_le_bytes(self.array()?).to_string().into_bytes()),
            Len::Encoded(2) => Ok(i32::from_le_bytes(self.array()?).to_string().into_bytes()),
            Len::Encoded(3) => {
                let compressed = usize::try_from(self.length()?).map_err(|_| RdbError::Corrupt)?;
                let plain = usize::try_from(self.length()?).map_err(|_| RdbError::Corrupt)?;
                let data = self.take(compressed)?;
                // LZF expands at most ~ 264x (a 3-byte reference makes 264
                // bytes); a larger claim is a lie that would reserve memory.
                if plain > compressed.saturating_mul(264) + 32 {
                    return Err(RdbError::Corrupt);
                }
                lzf::decompress(data, plain).ok_or(RdbError::Corrupt)
            }
            Len::Encoded(_) => Err(RdbError::Corrupt),
        }
    }

    /// A ZSET (version 1) score: length byte then ASCII, or 253/254/255 for
    /// nan/inf/-inf.
    fn ascii_double(&mut self) -> Result<f64> {
        match self.byte()? {
            255 => Ok(f64::NEG_INFINITY),
            254 => Ok(f64::INFINITY),
            253 => Ok(f64::NAN),
            n => {
                let text = self.take(usize::from(n))?;
                std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .ok_or(RdbError::Corrupt)
            }
        }
    }

    /// A value of type `kind`.
    pub fn value(&mut self, kind: u8) -> Result<RdbValue> {
        let value = match kind {
            kind::STRING => RdbValue::Str(self.string()?),
            kind::LIST => {
                let n = self.count(1)?;
                RdbValue::List((0..n).map(|_| self.string()).collect::<Result<_>>()?)
            }
            kind::LIST_ZIPLIST => {
                RdbValue::List(packed_elements(&self.string()?, packed::read_ziplist)?)
            }
            kind::LIST_QUICKLIST | kind::LIST_QUICKLIST_2 => {
                let nodes = self.count(1)?;
                let mut items = Vec::new();
                for _ in 0..nodes {
                    let container = if kind == kind::LIST_QUICKLIST_2 {
                        self.length()?
                    } else {
                        QUICKLIST_NODE_PACKED
                    };
                    let blob = self.string()?;
                    match container {
                        QUICKLIST_NODE_PLAIN => items.push(blob),
                        QUICKLIST_NODE_PACKED => {
                            let read = if kind == kind::LIST_QUICKLIST_2 {
                                packed::read_listpack
                            } else {
                                packed::read_ziplist
                            };
                            // Redis skips empty nodes rather than failing.
                            items.extend(read(&blob).ok_or(RdbError::Corrupt)?);
                        }
                        _ => return Err(RdbError::Corrupt),
                    }
                }
                RdbValue::List(items)
            }
            kind::SET => {
                let n = self.count(1)?;
                RdbValue::Set((0..n).map(|_| self.string()).collect::<Result<_>>()?)
            }
            kind::SET_INTSET => {
                let ints = packed::read_intset(&self.string()?).ok_or(RdbError::Corrupt)?;
                RdbValue::Set(
                    ints.into_iter()
                        .map(|v| v.to_string().into_bytes())
                        .collect(),
                )
            }
            kind::SET_LISTPACK => {
                RdbValue::Set(packed_elements(&self.string()?, packed::read_listpack)?)
            }
            kind::HASH => {
                let n = self.count(2)?;
                let mut fields = Vec::with_capacity(n);
                for _ in 0..n {
                    fields.push((self.string()?, self.string()?));
                }
                RdbValue::Hash(fields)
            }
            kind::HASH_ZIPLIST | kind::HASH_LISTPACK => {
                let read = if kind == kind::HASH_LISTPACK {
                    packed::read_listpack
                } else {
                    packed::read_ziplist
                };
                RdbValue::Hash(pairs(packed_elements(&self.string()?, read)?)?)
            }
            kind::ZSET | kind::ZSET_2 => {
                let n = self.count(2)?;
                let mut members = Vec::with_capacity(n);
                for _ in 0..n {
                    let m = self.string()?;
                    let score = if kind == kind::ZSET_2 {
                        f64::from_le_bytes(self.array()?)
                    } else {
                        self.ascii_double()?
                    };
                    members.push((m, score));
                }
                RdbValue::ZSet(members)
            }
            kind::ZSET_ZIPLIST | kind::ZSET_LISTPACK => {
                let read = if kind == kind::ZSET_LISTPACK {
                    packed::read_listpack
                } else {
                    packed::read_ziplist
                };
                let mut members = Vec::new();
                for (m, s) in pairs(packed_elements(&self.string()?, read)?)? {
                    let score = std::str::from_utf8(&s)
                        .ok()
                        .and_then(|t| t.parse::<f64>().ok())
                        .ok_or(RdbError::Corrupt)?;
                    members.push((m, score));
                }
                RdbValue::ZSet(members)
            }
            other => return Err(RdbError::UnsupportedType(other)),
        };
        validate(&value)?;
        Ok(value)
    }
}

enum Len {
    Plain(u64),
    Encoded(u8),
}

fn packed_elements(blob: &[u8], read: fn(&[u8]) -> Option<Vec<Vec<u8>>>) -> Result<Vec<Vec<u8>>> {
    read(blob).ok_or(RdbError::Corrupt)
}

/// Field/value (or member/score) pairs from a flat element list.
fn pairs(flat: Vec<Vec<u8>>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    if !flat.len().is_multiple_of(2) {
        return Err(RdbError::Corrupt);
    }
    let mut it = flat.into_iter();
    let mut out = Vec::new();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Ok(out)
}

/// What Redis checks on load: no empty collections, no duplicate set members,
/// hash fields or zset members, no NaN scores.
fn validate(value: &RdbValue) -> Result<()> {
    fn unique<'a>(keys: impl Iterator<Item = &'a [u8]>) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for k in keys {
            if !seen.insert(k) {
                return Err(RdbError::Corrupt);
            }
        }
        Ok(())
    }
    let empty = match value {
        RdbValue::Str(_) => false,
        RdbValue::List(l) => l.is_empty(),
        RdbValue::Set(s) => {
            unique(s.iter().map(|m| m.as_slice()))?;
            s.is_empty()
        }
        RdbValue::Hash(h) => {
            unique(h.iter().map(|(f, _)| f.as_slice()))?;
            h.is_empty()
        }
        RdbValue::ZSet(z) => {
            unique(z.iter().map(|(m, _)| m.as_slice()))?;
            if z.iter().any(|(_, s)| s.is_nan()) {
                return Err(RdbError::Corrupt);
            }
            z.is_empty()
        }
    };
    if empty {
        Err(RdbError::EmptyKey)
    } else {
        Ok(())
    }
}

/// Reads a whole DUMP value (type byte and body), which must use every byte.
pub fn read_value(bytes: &[u8]) -> Result<RdbValue> {
    let mut r = Reader::new(bytes);
    let kind = r.byte()?;
    let value = r.value(kind)?;
    if r.remaining() != 0 {
        return Err(RdbError::Corrupt);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump_str(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_str_value(&mut out, s);
        seal_dump(out)
    }

    #[test]
    fn string_dump_matches_redis() {
        // redis-server 7.0: DUMP of "bar" and of "12345".
        assert_eq!(
            dump_str(b"bar"),
            b"\x00\x03bar\x0a\x00\xe6\xbe\x49\x60\xee\x66\xfd\x17".to_vec()
        );
        assert_eq!(
            dump_str(b"12345"),
            b"\x00\xc1\x39\x30\x0a\x00\x9d\x94\xea\x27\x93\xfc\x08\xb9".to_vec()
        );
    }

    #[test]
    fn small_hash_and_set_dumps_match_redis() {
        // redis-server 7.0: `HSET h f v n 12`, `SADD si 3 1 2`, `SADD ss a`.
        let mut out = Vec::new();
        write_hash_listpack_value(
            &mut out,
            [(&b"f"[..], &b"v"[..]), (b"n", b"12")].into_iter(),
        );
        assert_eq!(
            hex(&seal_dump(out)),
            "1012120000000400816602817602816e020c01ff0a0001369481d35b8974"
        );
        let mut out = Vec::new();
        write_set_value(&mut out, [&b"3"[..], b"1", b"2"].into_iter(), 512);
        assert_eq!(
            hex(&seal_dump(out)),
            "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b"
        );
        let mut out = Vec::new();
        write_set_value(&mut out, [&b"a"[..]].into_iter(), 512);
        assert_eq!(hex(&seal_dump(out)), "020101610a006296e97e44d21a6d");
    }

    #[test]
    fn redis_zset_listpack_reads() {
        // redis-server 7.0: `ZADD z 1.5 a 2 b`, DUMP z.
        let payload = unhex("111414000000040081610283312e35048162020201ff0a00fa02b425af188763");
        let body = open_dump(&payload).unwrap();
        assert_eq!(
            read_value(body).unwrap(),
            RdbValue::ZSet(vec![(b"a".to_vec(), 1.5), (b"b".to_vec(), 2.0)])
        );
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn list_dump_matches_redis() {
        // redis-server 7.0: `RPUSH l a 1 -1 1000`, DUMP l.
        let mut out = Vec::new();
        write_list_value(&mut out, [&b"a"[..], b"1", b"-1", b"1000"].into_iter());
        let mut want = b"\x12\x01\x02\x12\x12\x00\x00\x00\x04\x00\x81a\x02\x01\x01\xdf\xff\x02\xc3\xe8\x02\xff".to_vec();
        want.extend_from_slice(b"\x0a\x00\x84\x36\x7e\x38\x78\x23\xa0\x28");
        assert_eq!(seal_dump(out), want);
    }

    #[test]
    fn lengths_round_trip() {
        for n in [
            0u64,
            63,
            64,
            16383,
            16384,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
        ] {
            let mut out = Vec::new();
            write_len(&mut out, n);
            assert_eq!(Reader::new(&out).length().unwrap(), n);
        }
    }

    #[test]
    fn every_type_round_trips() {
        let big: Vec<Vec<u8>> = (0..3000)
            .map(|i| format!("item-{i}").into_bytes())
            .collect();
        let mut out = Vec::new();
        write_list_value(&mut out, big.iter().map(|v| v.as_slice()));
        assert_eq!(read_value(&out).unwrap(), RdbValue::List(big.clone()));

        let ints: Vec<Vec<u8>> = vec![b"3".to_vec(), b"-70000".to_vec(), b"1".to_vec()];
        let mut out = Vec::new();
        write_set_value(&mut out, ints.iter().map(|v| v.as_slice()), 512);
        assert_eq!(out[0], kind::SET_INTSET);
        let RdbValue::Set(mut got) = read_value(&out).unwrap() else {
            panic!()
        };
        got.sort();
        let mut want = ints.clone();
        want.sort();
        assert_eq!(got, want);

        let mut out = Vec::new();
        write_set_value(&mut out, [&b"a"[..], b"1"].into_iter(), 512);
        assert_eq!(
            read_value(&out).unwrap(),
            RdbValue::Set(vec![b"a".to_vec(), b"1".to_vec()])
        );

        let fields = [(&b"f"[..], &b"v"[..]), (b"n", b"10")];
        let mut out = Vec::new();
        write_hash_value(&mut out, fields.into_iter());
        assert_eq!(
            read_value(&out).unwrap(),
            RdbValue::Hash(vec![
                (b"f".to_vec(), b"v".to_vec()),
                (b"n".to_vec(), b"10".to_vec())
            ])
        );

        let mut out = Vec::new();
        write_zset_value(
            &mut out,
            [(&b"a"[..], 1.5), (b"b", f64::NEG_INFINITY)].into_iter(),
        );
        assert_eq!(
            read_value(&out).unwrap(),
            RdbValue::ZSet(vec![
                (b"a".to_vec(), 1.5),
                (b"b".to_vec(), f64::NEG_INFINITY)
            ])
        );
    }

    #[test]
    fn dump_footer_is_checked() {
        let payload = dump_str(b"hello");
        assert_eq!(open_dump(&payload).unwrap(), b"\x00\x05hello");
        let mut flipped = payload.clone();
        flipped[3] ^= 1;
        assert_eq!(open_dump(&flipped), None);
        let mut newer = Vec::from(&b"\x00\x01x"[..]);
        newer.extend_from_slice(&12u16.to_le_bytes());
        let crc = crc64::crc64(0, &newer);
        newer.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(open_dump(&newer), None);
        assert_eq!(open_dump(b"short"), None);
    }

    #[test]
    fn hostile_values_are_refused() {
        // A list claiming 2^32 elements in 3 bytes, a duplicate set, a NaN
        // score, an empty list, trailing garbage, an unknown type.
        assert_eq!(
            read_value(b"\x01\x80\xff\xff\xff\xff\x00"),
            Err(RdbError::Corrupt)
        );
        assert_eq!(read_value(b"\x02\x02\x01a\x01a"), Err(RdbError::Corrupt));
        let mut nan = vec![kind::ZSET_2, 1, 1, b'a'];
        nan.extend_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(read_value(&nan), Err(RdbError::Corrupt));
        assert_eq!(read_value(b"\x01\x00"), Err(RdbError::EmptyKey));
        assert_eq!(read_value(b"\x00\x01ab"), Err(RdbError::Corrupt));
        assert_eq!(read_value(b"\x0f\x00"), Err(RdbError::UnsupportedType(15)));
        // An LZF string claiming a huge plain length.
        assert_eq!(
            read_value(b"\x00\xc3\x02\x81\x00\x00\x00\x01\x00\x00\x00\x00\x00a"),
            Err(RdbError::Corrupt)
        );
        // Every truncation of a valid value fails cleanly.
        let mut out = Vec::new();
        write_list_value(&mut out, [&b"abc"[..], b"12", b"x"].into_iter());
        for cut in 0..out.len() {
            assert!(read_value(&out[..cut]).is_err());
        }
    }
}
