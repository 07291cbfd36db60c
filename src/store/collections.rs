//! The hash and set values, with the encoding Redis would report for them.
//!
//! Redis keeps small hashes in a listpack (fields in insertion order) and small
//! all-integer sets in an intset (members sorted), and converts them once, for
//! good, to a hash table when they grow past the configured limits. A hash here
//! has the same two forms (`HashRepr`): a packed buffer while it is a listpack,
//! an IndexMap once converted, so OBJECT ENCODING, field order and the memory
//! of small hashes follow Redis. A set keeps one representation (an IndexSet)
//! and remembers only whether the conversion has happened (`hashtable`); an
//! intset's members are listed sorted (`SetValue::ordered`). When to convert is
//! the commands' policy (src/commands/hashes.rs, sets.rs); the store only keeps
//! the flag and the charge.
//!
//! Every change reports the difference in charged bytes it made, so the store's
//! accounting is O(1) per change (`Slot::update_with_charge`).

use bytes::Bytes;

use super::compact_bytes::CompactBytes;
use indexmap::{IndexMap, IndexSet};

/// Bytes charged per hash field beyond its field and value data.
pub const HASH_FIELD_OVERHEAD_BYTES: usize = 32;
/// Bytes charged per set member beyond its data.
pub const SET_MEMBER_OVERHEAD_BYTES: usize = 24;

type Hasher = foldhash::fast::RandomState;
pub type FieldMap = IndexMap<CompactBytes, CompactBytes, Hasher>;
pub type MemberSet = IndexSet<CompactBytes, Hasher>;

/// A hash, in one of Redis's two encodings (see `HashRepr`). 16 bytes, so
/// it lives inside the key's entry (`store::entry`) with no box of its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HashValue {
    repr: HashRepr,
}

/// How a hash holds its fields.
///
/// `Packed` is herald's listpack: the field count, then every field and value
/// in insertion order, in one exact-size buffer, each number and string
/// LEB128-length-prefixed (`count f1 v1 f2 v2 ...`; an empty hash has no
/// buffer at all). Lookups scan it, as Redis scans a listpack, and every
/// change rebuilds it, as Redis reallocates one; in exchange a 5-field hash
/// of short strings is one ~32-byte allocation instead of ten and a table.
/// `Table` is the hash table a hash becomes, for good, past
/// `hash-max-listpack-*`, with its running charge.
#[derive(Clone, Debug, PartialEq, Eq)]
enum HashRepr {
    Packed(Box<[u8]>),
    Table(Box<TableHash>),
}

// The entry's value part is sized for it: keep it two words.
const _: () = assert!(std::mem::size_of::<HashValue>() == 16);

#[derive(Clone, Debug, PartialEq, Eq)]
struct TableHash {
    map: FieldMap,
    /// Bytes charged for the fields (kept current by every change).
    charged: usize,
}

impl Default for HashRepr {
    fn default() -> Self {
        HashRepr::Packed(Box::default())
    }
}

/// A set: members, and whether it is an intset (every member an integer, few
/// enough) or was converted to a hash table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetValue {
    pub members: MemberSet,
    /// Converted to a hash table (Redis never converts back to an intset).
    pub hashtable: bool,
}

fn field_charge(field: &[u8], value: &[u8]) -> isize {
    (field.len() + value.len() + HASH_FIELD_OVERHEAD_BYTES) as isize
}

/// Bytes charged for a packed hash beyond its buffer (allocator rounding, on average).
const PACKED_OVERHEAD_BYTES: usize = 8;

/// Append `n` to a packed buffer as LEB128 (7 bits a byte, low first).
fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// Bytes `put_varint` writes for `n`.
fn varint_size(mut n: usize) -> usize {
    let mut size = 1;
    while n >= 0x80 {
        n >>= 7;
        size += 1;
    }
    size
}

/// The LEB128 number at `at` and where what follows starts.
fn get_varint(buf: &[u8], at: usize) -> Option<(usize, usize)> {
    let (mut n, mut shift, mut i) = (0usize, 0u32, at);
    loop {
        let b = *buf.get(i)?;
        i += 1;
        n |= ((b & 0x7f) as usize).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some((n, i));
        }
        shift += 7;
    }
}

/// Append `s` to a packed buffer: its LEB128 length, then its bytes.
fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len());
    out.extend_from_slice(s);
}

/// Bytes `put_str` writes for `s`.
fn str_size(s: &[u8]) -> usize {
    varint_size(s.len()) + s.len()
}

/// The string at `at` of a packed buffer and where the next one starts.
/// A buffer is only ever written by `put_str`, so it is well formed; a
/// truncated one would end the iteration (never read out of bounds).
fn get_str(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let (n, i) = get_varint(buf, at)?;
    let end = i.checked_add(n)?;
    Some((buf.get(i..end)?, end))
}

/// A packed buffer's field count and where its pairs start.
fn packed_header(buf: &[u8]) -> (usize, usize) {
    if buf.is_empty() {
        return (0, 0);
    }
    get_varint(buf, 0).unwrap_or((0, buf.len()))
}

/// A packed buffer of `count` fields: the pairs of `buf` with `buf[start..end]`
/// replaced by `pair` (if any). No fields: no buffer.
fn rebuild(
    buf: &[u8],
    count: usize,
    start: usize,
    end: usize,
    pair: Option<(&[u8], &[u8])>,
) -> Box<[u8]> {
    if count == 0 {
        return Box::default();
    }
    let (_, pairs_at) = packed_header(buf);
    let added = pair.map_or(0, |(f, v)| str_size(f) + str_size(v));
    let mut out =
        Vec::with_capacity(varint_size(count) + buf.len() - pairs_at - (end - start) + added);
    put_varint(&mut out, count);
    out.extend_from_slice(&buf[pairs_at..start]);
    if let Some((f, v)) = pair {
        put_str(&mut out, f);
        put_str(&mut out, v);
    }
    out.extend_from_slice(&buf[end..]);
    out.into_boxed_slice()
}

/// The field/value pairs of a packed buffer, in order.
pub struct PackedPairs<'a> {
    buf: &'a [u8],
    at: usize,
    /// Pairs not yet returned.
    left: usize,
}

impl<'a> Iterator for PackedPairs<'a> {
    /// (field, value, offset of the field, offset after the value)
    type Item = (&'a [u8], &'a [u8], usize, usize);
    fn next(&mut self) -> Option<Self::Item> {
        let start = self.at;
        let (field, after_field) = get_str(self.buf, start)?;
        let (value, end) = get_str(self.buf, after_field)?;
        self.at = end;
        self.left = self.left.saturating_sub(1);
        Some((field, value, start, end))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// The fields of a hash with their values, in the hash's order.
pub enum HashIter<'a> {
    Packed(PackedPairs<'a>),
    Table(indexmap::map::Iter<'a, CompactBytes, CompactBytes>),
}

impl<'a> Iterator for HashIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            HashIter::Packed(p) => p.next().map(|(f, v, _, _)| (f, v)),
            HashIter::Table(t) => t.next().map(|(f, v)| (&f[..], &v[..])),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            HashIter::Packed(p) => p.size_hint(),
            HashIter::Table(t) => t.size_hint(),
        }
    }
}

impl ExactSizeIterator for PackedPairs<'_> {}

impl ExactSizeIterator for HashIter<'_> {}

fn member_charge(member: &[u8]) -> isize {
    (member.len() + SET_MEMBER_OVERHEAD_BYTES) as isize
}

impl HashValue {
    /// A hash of `pairs` (later duplicates of a field replace earlier ones),
    /// packed or already converted to a hash table.
    pub fn from_pairs<F, V>(pairs: impl IntoIterator<Item = (F, V)>, hashtable: bool) -> Self
    where
        F: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let mut h = HashValue::default();
        if hashtable {
            h.convert_to_hashtable();
        }
        for (f, v) in pairs {
            h.insert(f, v);
        }
        h
    }

    pub fn len(&self) -> usize {
        self.as_ref().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Converted to a hash table (OBJECT ENCODING `hashtable`); else a listpack.
    pub fn is_hashtable(&self) -> bool {
        matches!(self.repr, HashRepr::Table(_))
    }

    /// The hash, borrowed (what readers of an entry get).
    pub fn as_ref(&self) -> HashRef<'_> {
        match &self.repr {
            HashRepr::Packed(buf) => HashRef(RefRepr::Packed(buf)),
            HashRepr::Table(t) => HashRef(RefRepr::Table(t)),
        }
    }

    /// A listpack's buffer (what an entry keeps inline); None for a hash table.
    pub fn packed_bytes(&self) -> Option<&[u8]> {
        match &self.repr {
            HashRepr::Packed(buf) => Some(buf),
            HashRepr::Table(_) => None,
        }
    }

    fn packed_pairs(buf: &[u8]) -> PackedPairs<'_> {
        let (left, at) = packed_header(buf);
        PackedPairs { buf, at, left }
    }

    /// Where `field` is in a packed buffer: (field offset, offset after its value, value).
    fn packed_find<'a>(buf: &'a [u8], field: &[u8]) -> Option<(usize, usize, &'a [u8])> {
        Self::packed_pairs(buf)
            .find(|(f, _, _, _)| *f == field)
            .map(|(_, v, start, end)| (start, end, v))
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.as_ref().get(field)
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// The pair at position `index` (`HashRef::get_index`).
    pub fn get_index(&self, index: usize) -> Option<(&[u8], &[u8])> {
        self.as_ref().get_index(index)
    }

    /// The fields with their values (`HashRef::iter`).
    pub fn iter(&self) -> HashIter<'_> {
        self.as_ref().iter()
    }

    /// Set `field` to `value` (both copied); returns whether the field is new
    /// and the charge change.
    pub fn insert(&mut self, field: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> (bool, isize) {
        let (field, value) = (field.as_ref(), value.as_ref());
        let before = self.charged_bytes() as isize;
        let added = match &mut self.repr {
            HashRepr::Packed(buf) => {
                let (count, _) = packed_header(buf);
                match Self::packed_find(buf, field) {
                    Some((start, end, _)) => {
                        *buf = rebuild(buf, count, start, end, Some((field, value)));
                        false
                    }
                    None => {
                        let end = buf.len();
                        *buf = rebuild(buf, count + 1, end, end, Some((field, value)));
                        true
                    }
                }
            }
            HashRepr::Table(t) => match t.map.get_mut(field) {
                Some(old) => {
                    t.charged = (t.charged + value.len()).saturating_sub(old.len());
                    *old = CompactBytes::new(value);
                    false
                }
                None => {
                    t.charged += field_charge(field, value) as usize;
                    t.map
                        .insert(CompactBytes::new(field), CompactBytes::new(value));
                    true
                }
            },
        };
        (added, self.charged_bytes() as isize - before)
    }

    /// Remove `field`; returns its value and the (negative) charge change.
    /// A listpack keeps the order of the other fields, as Redis's does.
    pub fn remove(&mut self, field: &[u8]) -> Option<(Bytes, isize)> {
        let before = self.charged_bytes() as isize;
        let value = match &mut self.repr {
            HashRepr::Packed(buf) => {
                let (start, end, value) = Self::packed_find(buf, field)?;
                let value = Bytes::copy_from_slice(value);
                let (count, _) = packed_header(buf);
                *buf = rebuild(buf, count - 1, start, end, None);
                value
            }
            HashRepr::Table(t) => {
                let (f, v) = t.map.swap_remove_entry(field)?;
                t.charged = t.charged.saturating_sub(field_charge(&f, &v) as usize);
                v.to_bytes()
            }
        };
        Some((value, self.charged_bytes() as isize - before))
    }

    /// Convert a listpack to a hash table, for good (Redis never converts
    /// back); returns the charge change. A hash table stays as it is.
    pub fn convert_to_hashtable(&mut self) -> isize {
        let HashRepr::Packed(buf) = &self.repr else {
            return 0;
        };
        let before = self.charged_bytes() as isize;
        let (count, _) = packed_header(buf);
        let mut map = FieldMap::with_capacity_and_hasher(count, Hasher::default());
        let mut charged = 0;
        for (f, v, _, _) in Self::packed_pairs(buf) {
            charged += field_charge(f, v) as usize;
            map.insert(CompactBytes::new(f), CompactBytes::new(v));
        }
        self.repr = HashRepr::Table(Box::new(TableHash { map, charged }));
        self.charged_bytes() as isize - before
    }

    /// The same hash owning every byte it refers to. Fields and values are
    /// always copied into the hash (`CompactBytes`), so it already does.
    pub fn detached(self) -> Self {
        self
    }

    /// Bytes charged for the fields, O(1): a listpack's buffer, or a hash
    /// table's running sum of its fields' data and per-field overhead.
    pub fn charged_bytes(&self) -> usize {
        self.as_ref().charged_bytes()
    }
}

/// A hash, borrowed: what an entry's readers get. A listpack is a packed
/// buffer wherever it lives (an entry keeps a small one inside its own
/// allocation, `store::entry`), a hash table is the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashRef<'a>(RefRepr<'a>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RefRepr<'a> {
    Packed(&'a [u8]),
    Table(&'a TableHash),
}

impl<'a> HashRef<'a> {
    /// A listpack's packed buffer, borrowed (an entry's inline hash).
    pub(super) fn packed(buf: &'a [u8]) -> Self {
        HashRef(RefRepr::Packed(buf))
    }

    pub fn len(self) -> usize {
        match self.0 {
            RefRepr::Packed(buf) => packed_header(buf).0,
            RefRepr::Table(t) => t.map.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Converted to a hash table (OBJECT ENCODING `hashtable`); else a listpack.
    pub fn is_hashtable(self) -> bool {
        matches!(self.0, RefRepr::Table(_))
    }

    pub fn get(self, field: &[u8]) -> Option<&'a [u8]> {
        match self.0 {
            RefRepr::Packed(buf) => HashValue::packed_find(buf, field).map(|(_, _, v)| v),
            RefRepr::Table(t) => t.map.get(field).map(|v| &v[..]),
        }
    }

    pub fn contains(self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// The fields with their values: a listpack in insertion order (removals
    /// keep the order of the others), a hash table in its own stable order.
    pub fn iter(self) -> HashIter<'a> {
        match self.0 {
            RefRepr::Packed(buf) => HashIter::Packed(HashValue::packed_pairs(buf)),
            RefRepr::Table(t) => HashIter::Table(t.map.iter()),
        }
    }

    /// The pair at position `index` of `iter`'s order (O(1) in a hash table,
    /// a scan of the buffer in a listpack, as Redis's listpack).
    pub fn get_index(self, index: usize) -> Option<(&'a [u8], &'a [u8])> {
        match self.0 {
            RefRepr::Packed(_) => self.iter().nth(index),
            RefRepr::Table(t) => t.map.get_index(index).map(|(f, v)| (&f[..], &v[..])),
        }
    }

    /// Bytes charged for the fields, O(1) (`HashValue::charged_bytes`).
    pub fn charged_bytes(self) -> usize {
        match self.0 {
            RefRepr::Packed(buf) => buf.len() + PACKED_OVERHEAD_BYTES,
            RefRepr::Table(t) => t.charged,
        }
    }

    /// The hash, owned.
    pub fn to_owned(self) -> HashValue {
        let repr = match self.0 {
            RefRepr::Packed(buf) => HashRepr::Packed(buf.into()),
            RefRepr::Table(t) => HashRepr::Table(Box::new(t.clone())),
        };
        HashValue { repr }
    }
}

impl SetValue {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.members.contains(member)
    }

    /// Whether the set is an intset (Redis's encoding for small all-integer sets).
    pub fn is_intset(&self) -> bool {
        !self.hashtable
    }

    /// Add `member`; returns whether it is new and the charge change.
    pub fn insert(&mut self, member: impl AsRef<[u8]>) -> (bool, isize) {
        let member = member.as_ref();
        let charge = member_charge(member);
        if self.members.insert(CompactBytes::new(member)) {
            (true, charge)
        } else {
            (false, 0)
        }
    }

    /// Remove `member`; returns the (negative) charge change if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<isize> {
        self.members
            .swap_remove(member)
            .then(|| -member_charge(member))
    }

    /// Remove the member at `index` (for random pops); returns it and the charge change.
    pub fn remove_index(&mut self, index: usize) -> Option<(CompactBytes, isize)> {
        let m = self.members.swap_remove_index(index)?;
        let delta = -member_charge(&m);
        Some((m, delta))
    }

    /// Add `member` as Redis's `setTypeAdd` does: an intset becomes a hash
    /// table, for good, when the member is not an integer (`is_integer`) or
    /// when it would hold more than `max_intset_entries` (capped at 2^30, as
    /// Redis caps it). Returns whether the member is new and the charge change.
    pub fn add(&mut self, member: impl AsRef<[u8]>, max_intset_entries: u64) -> (bool, isize) {
        let member = member.as_ref();
        let integer = self.is_intset() && is_integer(member);
        let (added, delta) = self.insert(member);
        if added && self.is_intset() {
            let max = max_intset_entries.min(MAX_INTSET_ENTRIES) as usize;
            if !integer || self.len() > max {
                self.hashtable = true;
            }
        }
        (added, delta)
    }

    /// A set of `members` built as Redis builds a result set (an empty intset
    /// and `add` for each): intset while all are integers and few enough.
    pub fn from_members(
        members: impl IntoIterator<Item = impl AsRef<[u8]>>,
        max_intset_entries: u64,
    ) -> SetValue {
        let mut set = SetValue::default();
        for m in members {
            set.add(m, max_intset_entries);
        }
        set
    }

    /// Whether a set built from these members now would be an intset (SPOP's
    /// rebuild of what it leaves, SDIFF's choice of encoding).
    pub fn would_be_intset(&self, max_intset_entries: u64) -> bool {
        self.len() as u64 <= max_intset_entries.min(MAX_INTSET_ENTRIES)
            && (self.is_intset() || self.members.iter().all(|m| is_integer(m)))
    }

    /// The members in the order Redis lists them: an intset sorted by value,
    /// a hash table in herald's own (arbitrary but stable) order.
    pub fn ordered(&self) -> Vec<&CompactBytes> {
        let mut out: Vec<&CompactBytes> = self.members.iter().collect();
        if self.is_intset() {
            out.sort_by_cached_key(|m| int_value(m));
        }
        out
    }

    /// Bytes charged for the members.
    pub fn charged_bytes(&self) -> usize {
        self.members.iter().map(|m| member_charge(m) as usize).sum()
    }
}

/// Redis caps `set-max-intset-entries` at 2^30 (intset internals).
const MAX_INTSET_ENTRIES: u64 = 1 << 30;

/// Whether `member` is an integer an intset can hold: Redis's `string2ll`
/// (optional '-', digits, no leading zeros, no '+' or spaces, fits i64).
pub fn is_integer(member: &[u8]) -> bool {
    let digits = member.strip_prefix(b"-").unwrap_or(member);
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if digits[0] == b'0' {
        // "0" alone; never "-0" or "007".
        return member.len() == 1;
    }
    std::str::from_utf8(member)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .is_some()
}

/// A member's integer value (members of an intset are all integers).
fn int_value(member: &[u8]) -> i64 {
    std::str::from_utf8(member)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn listpack_hash_keeps_insertion_order_on_removal() {
        let mut h = HashValue::default();
        for f in ["c", "a", "b", "d"] {
            assert!(h.insert(f, "v").0);
        }
        // "a" "v" (1+1+1+1 bytes) becomes "a" "longer" (1+1+1+6).
        assert_eq!(h.insert("a", "longer"), (false, 5));
        assert_eq!(h.get(b"a"), Some(&b"longer"[..]));
        let (v, delta) = h.remove(b"a").unwrap();
        assert_eq!((v, delta), (b("longer"), -(2 + 7)));
        let order: Vec<&[u8]> = h.iter().map(|(f, _)| f).collect();
        assert_eq!(order, [b"c", b"b", b"d"]);
        assert_eq!(h.len(), 3);
        // The count (one byte) and three pairs of one-byte strings.
        assert_eq!(h.charged_bytes(), 1 + 3 * 4 + PACKED_OVERHEAD_BYTES);
        assert_eq!(h.get_index(2), Some((&b"d"[..], &b"v"[..])));
        assert!(h.remove(b"zz").is_none());
    }

    #[test]
    fn packed_strings_of_any_length_round_trip() {
        let long = vec![b'x'; 70_000];
        let mut h = HashValue::default();
        h.insert(&long[..], "");
        h.insert("", &long[..]);
        h.insert("k", &long[..300]);
        assert_eq!(h.get(&long), Some(&b""[..]));
        assert_eq!(h.get(b""), Some(&long[..]));
        assert_eq!(h.get(b"k").map(<[u8]>::len), Some(300));
        let before = h.charged_bytes() as isize;
        let delta = h.convert_to_hashtable();
        assert!(h.is_hashtable());
        assert_eq!(h.charged_bytes() as isize, before + delta);
        assert_eq!(h.get(b"k").map(<[u8]>::len), Some(300));
        assert_eq!(h.len(), 3);
        assert_eq!(h.convert_to_hashtable(), 0);
    }

    #[test]
    fn table_hash_charges_per_field() {
        let mut h = HashValue::from_pairs([("f", "v")], true);
        assert!(h.is_hashtable());
        assert_eq!(h.charged_bytes(), 2 + HASH_FIELD_OVERHEAD_BYTES);
        assert_eq!(h.insert("f", "vvv"), (false, 2));
        let (_, delta) = h.remove(b"f").unwrap();
        assert_eq!(delta, -(4 + HASH_FIELD_OVERHEAD_BYTES as isize));
        assert!(h.is_empty() && h.is_hashtable());
    }

    #[test]
    fn intset_lists_members_sorted_by_value() {
        let mut s = SetValue::default();
        for m in ["10", "-3", "2", "100"] {
            assert!(s.insert(b(m)).0);
        }
        assert!(!s.insert(b("2")).0);
        let order: Vec<&[u8]> = s.ordered().into_iter().map(|m| &m[..]).collect();
        assert_eq!(order, [&b"-3"[..], b"2", b"10", b"100"]);
        assert_eq!(
            s.remove(b"2"),
            Some(-(1 + SET_MEMBER_OVERHEAD_BYTES as isize))
        );
        assert_eq!(s.remove(b"2"), None);
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn integers_as_string2ll_reads_them() {
        for yes in [
            "0",
            "-1",
            "17",
            "9223372036854775807",
            "-9223372036854775808",
        ] {
            assert!(is_integer(yes.as_bytes()), "{yes}");
        }
        for no in [
            "",
            "-",
            "-0",
            "01",
            "+1",
            " 1",
            "1 ",
            "1a",
            "9223372036854775808",
            "-9223372036854775809",
            "213244124402402314402033402",
        ] {
            assert!(!is_integer(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn add_converts_to_hashtable_for_good() {
        let mut s = SetValue::default();
        for m in ["1", "2", "3"] {
            assert!(s.add(b(m), 3).0);
        }
        assert!(s.is_intset());
        assert_eq!(s.add(b("2"), 3), (false, 0));
        assert!(s.is_intset(), "a member already there changes nothing");
        assert!(s.add(b("4"), 3).0);
        assert!(!s.is_intset(), "past the limit");
        s.remove(b"4");
        assert!(!s.is_intset(), "never converted back");
        let mut t = SetValue::from_members([b("5"), b("x")], 512);
        assert!(!t.is_intset());
        t.remove(b"x");
        assert!(t.would_be_intset(512) && !t.would_be_intset(0));
        assert!(!SetValue::from_members([b("1")], 0).is_intset());
        assert!(SetValue::from_members([b("1")], u64::MAX).is_intset());
    }
}
