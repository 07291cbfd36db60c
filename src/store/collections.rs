//! The hash and set values: an insertion-ordered map or set (IndexMap/IndexSet)
//! plus the encoding Redis would report for it.
//!
//! Redis keeps small hashes in a listpack (fields in insertion order) and small
//! all-integer sets in an intset (members sorted), and converts them once, for
//! good, to a hash table when they grow past the configured limits. herald keeps
//! one representation and remembers only whether that conversion has happened
//! (`hashtable`), so OBJECT ENCODING and the member order of small values match
//! Redis: a listpack hash removes fields keeping the order of the others, an
//! intset's members are listed sorted (`SetValue::ordered`). When to convert is
//! the commands' policy (src/commands/hashes.rs, sets.rs); the store only keeps
//! the flag and the charge.
//!
//! Every change reports the difference in charged bytes it made, so the store's
//! accounting is O(1) per change (`Slot::update_with_charge`).

use bytes::Bytes;
use indexmap::{IndexMap, IndexSet};

/// Bytes charged per hash field beyond its field and value data.
pub const HASH_FIELD_OVERHEAD_BYTES: usize = 32;
/// Bytes charged per set member beyond its data.
pub const SET_MEMBER_OVERHEAD_BYTES: usize = 24;

type Hasher = foldhash::fast::RandomState;
pub type FieldMap = IndexMap<Bytes, Bytes, Hasher>;
pub type MemberSet = IndexSet<Bytes, Hasher>;

/// A hash: fields in insertion order (while listpack-encoded, removals keep it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HashValue {
    pub fields: FieldMap,
    /// Converted to a hash table (Redis never converts back).
    pub hashtable: bool,
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

fn member_charge(member: &[u8]) -> isize {
    (member.len() + SET_MEMBER_OVERHEAD_BYTES) as isize
}

impl HashValue {
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn get(&self, field: &[u8]) -> Option<&Bytes> {
        self.fields.get(field)
    }

    /// Set `field` to `value`; returns whether the field is new and the charge change.
    pub fn insert(&mut self, field: Bytes, value: Bytes) -> (bool, isize) {
        let added = field_charge(&field, &value);
        match self.fields.get_mut(&field[..]) {
            Some(old) => {
                let delta = value.len() as isize - old.len() as isize;
                *old = value;
                (false, delta)
            }
            None => {
                self.fields.insert(field, value);
                (true, added)
            }
        }
    }

    /// Remove `field`; returns its value and the (negative) charge change.
    /// A listpack hash keeps the order of the other fields, as Redis's does.
    pub fn remove(&mut self, field: &[u8]) -> Option<(Bytes, isize)> {
        let (f, v) = if self.hashtable {
            self.fields.swap_remove_entry(field)?
        } else {
            self.fields.shift_remove_entry(field)?
        };
        let delta = -field_charge(&f, &v);
        Some((v, delta))
    }

    /// Bytes charged for the fields.
    pub fn charged_bytes(&self) -> usize {
        self.fields
            .iter()
            .map(|(f, v)| field_charge(f, v) as usize)
            .sum()
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
    pub fn insert(&mut self, member: Bytes) -> (bool, isize) {
        let charge = member_charge(&member);
        if self.members.insert(member) {
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
    pub fn remove_index(&mut self, index: usize) -> Option<(Bytes, isize)> {
        let m = self.members.swap_remove_index(index)?;
        let delta = -member_charge(&m);
        Some((m, delta))
    }

    /// Add `member` as Redis's `setTypeAdd` does: an intset becomes a hash
    /// table, for good, when the member is not an integer (`is_integer`) or
    /// when it would hold more than `max_intset_entries` (capped at 2^30, as
    /// Redis caps it). Returns whether the member is new and the charge change.
    pub fn add(&mut self, member: Bytes, max_intset_entries: u64) -> (bool, isize) {
        let integer = self.is_intset() && is_integer(&member);
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
        members: impl IntoIterator<Item = Bytes>,
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
    pub fn ordered(&self) -> Vec<&Bytes> {
        let mut out: Vec<&Bytes> = self.members.iter().collect();
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
            assert!(h.insert(b(f), b("v")).0);
        }
        assert_eq!(h.insert(b("a"), b("longer")), (false, 5));
        let (v, delta) = h.remove(b"a").unwrap();
        assert_eq!((v, delta), (b("longer"), -(1 + 6 + 32)));
        let order: Vec<&Bytes> = h.fields.keys().collect();
        assert_eq!(order, [&b("c"), &b("b"), &b("d")]);
        assert_eq!(h.charged_bytes(), 3 * (1 + 1 + HASH_FIELD_OVERHEAD_BYTES));
    }

    #[test]
    fn intset_lists_members_sorted_by_value() {
        let mut s = SetValue::default();
        for m in ["10", "-3", "2", "100"] {
            assert!(s.insert(b(m)).0);
        }
        assert!(!s.insert(b("2")).0);
        let order: Vec<&Bytes> = s.ordered();
        assert_eq!(order, [&b("-3"), &b("2"), &b("10"), &b("100")]);
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
