//! `CompactBytes`: an owned byte string in 24 bytes, short ones inline.
//!
//! Set members and hash fields and values are mostly short (ids, names,
//! counters). Kept as `Bytes` (32 bytes) each costs a heap allocation and,
//! on every lookup, one more cache miss to reach the bytes to compare. Up to
//! `INLINE_CAPACITY` bytes live in the value itself, so a hash table slot
//! holds the member: a lookup reads the table and the slot, as Redis's dict
//! reads its bucket, entry and key. Longer strings are one exact-size box.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytes::Bytes;

/// Longest string kept inline.
pub const INLINE_CAPACITY: usize = 22;

/// An immutable byte string; derefs to `[u8]`, hashes and compares as one.
#[derive(Clone)]
pub enum CompactBytes {
    Inline {
        len: u8,
        data: [u8; INLINE_CAPACITY],
    },
    Boxed(Box<[u8]>),
}

const _: () = assert!(std::mem::size_of::<CompactBytes>() == 24);

impl CompactBytes {
    pub fn new(s: &[u8]) -> Self {
        if s.len() <= INLINE_CAPACITY {
            let mut data = [0u8; INLINE_CAPACITY];
            data[..s.len()].copy_from_slice(s);
            CompactBytes::Inline {
                len: s.len() as u8,
                data,
            }
        } else {
            CompactBytes::Boxed(s.into())
        }
    }

    /// A copy as `Bytes` (for values that outlive the store's lock).
    pub fn to_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(self)
    }

    /// Heap bytes held beyond the 24 of the value itself.
    pub fn heap_bytes(&self) -> usize {
        match self {
            CompactBytes::Inline { .. } => 0,
            CompactBytes::Boxed(b) => b.len(),
        }
    }
}

impl Default for CompactBytes {
    fn default() -> Self {
        CompactBytes::new(b"")
    }
}

impl Deref for CompactBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            CompactBytes::Inline { len, data } => &data[..*len as usize],
            CompactBytes::Boxed(b) => b,
        }
    }
}

impl AsRef<[u8]> for CompactBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Borrow<[u8]> for CompactBytes {
    fn borrow(&self) -> &[u8] {
        self
    }
}

impl From<&[u8]> for CompactBytes {
    fn from(s: &[u8]) -> Self {
        CompactBytes::new(s)
    }
}

// Hash and equality as the bytes, so lookups by `&[u8]` (Borrow) agree.
impl Hash for CompactBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl PartialEq for CompactBytes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for CompactBytes {}

impl PartialOrd for CompactBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CompactBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl std::fmt::Debug for CompactBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&Bytes::copy_from_slice(self), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_strings_are_inline_and_long_ones_boxed() {
        for len in [0, 1, 21, 22, 23, 100] {
            let s: Vec<u8> = (0..len as u8).collect();
            let c = CompactBytes::new(&s);
            assert_eq!(&*c, &s[..]);
            assert_eq!(c.heap_bytes(), if len <= INLINE_CAPACITY { 0 } else { len });
            assert_eq!(c.to_bytes(), Bytes::from(s.clone()));
        }
    }

    #[test]
    fn hashes_like_its_bytes() {
        use std::hash::BuildHasher;
        let h = foldhash::fast::FixedState::default();
        let c = CompactBytes::new(b"element:000000012345");
        assert_eq!(h.hash_one(&c), h.hash_one(&b"element:000000012345"[..]));
        let long = CompactBytes::new(&[7u8; 40]);
        assert_eq!(h.hash_one(&long), h.hash_one(&[7u8; 40][..]));
    }
}
