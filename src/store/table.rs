//! The hash table of one shard: entries by key, found by bucket index.
//!
//! A `hashbrown::HashTable<Entry>` holds one 8-byte pointer per bucket (plus a
//! control byte); the key lives in the entry's own allocation. Bucket indexes
//! stay put until the table is rehashed (it grows, shrinks, or reclaims
//! tombstones in place), which gives both things IndexMap used to:
//!
//! - O(1) random draws (eviction, active expiry, RANDOMKEY): pick random
//!   buckets until one is full; the table is shrunk when it gets sparse, so
//!   draws rarely miss.
//! - A SCAN position: the cursor carries the bucket index and the table's
//!   `epoch`, a number that changes whenever a rehash may have moved entries.
//!   A cursor from an older epoch restarts its shard: keys are returned again
//!   (allowed) but never skipped.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::Entry;

/// The hash of a key: its shard comes from bits 32.., its bucket from the low
/// bits and hashbrown's tag from the top 7, so one hash serves both.
pub fn key_hash(key: &[u8]) -> u64 {
    FixedState::with_seed(0x6865_7261_6c64).hash_one(key)
}

/// Epochs are unique across every table of the process, so a cursor can never
/// mistake another table (a flushed or swapped shard) for the one it walked.
static NEXT_EPOCH: AtomicU32 = AtomicU32::new(1);

fn new_epoch() -> u32 {
    NEXT_EPOCH.fetch_add(1, Relaxed)
}

/// Tables smaller than this are never shrunk.
const MIN_SHRINK_BUCKETS: usize = 128;
/// Random bucket draws before `sample` falls back to a walk.
const SAMPLE_DRAWS: usize = 32;

pub struct KeyMap {
    table: HashTable<Entry>,
    epoch: u32,
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap {
            table: HashTable::new(),
            epoch: new_epoch(),
        }
    }
}

fn rehash(e: &Entry) -> u64 {
    key_hash(e.key())
}

impl KeyMap {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Buckets in the table: valid positions are `0..num_buckets()`.
    pub fn num_buckets(&self) -> usize {
        self.table.num_buckets()
    }

    /// Changes whenever entries may have moved to other buckets.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The bucket holding `key` (whose hash is `hash`).
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
        self.table.find_bucket_index(hash, |e| e.key() == key)
    }

    /// The entry in bucket `index`, if the bucket is full.
    pub fn get(&self, index: usize) -> Option<&Entry> {
        self.table.get_bucket(index)
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut Entry> {
        self.table.get_bucket_mut(index)
    }

    /// Add an entry whose key is not in the table; returns its bucket.
    pub fn insert(&mut self, hash: u64, entry: Entry) -> usize {
        // hashbrown rehashes (grows, or reclaims tombstones in place) only when
        // no growth is left; that may move every entry.
        if self.table.len() == self.table.capacity() {
            self.epoch = new_epoch();
        }
        self.table.insert_unique(hash, entry, rehash).bucket_index()
    }

    /// Take the entry out of bucket `index`; shrinks the table when it has
    /// become sparse (which moves entries: a new epoch).
    pub fn remove(&mut self, index: usize) -> Option<Entry> {
        let (entry, _) = self.table.get_bucket_entry(index).ok()?.remove();
        let buckets = self.table.num_buckets();
        if buckets > MIN_SHRINK_BUCKETS && self.table.len() * 8 < buckets {
            self.table.shrink_to(self.table.len() * 2, rehash);
            self.epoch = new_epoch();
        }
        Some(entry)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.table.iter()
    }

    /// A random entry (uniform enough for sampling), if any.
    pub fn sample(&self) -> Option<&Entry> {
        if self.table.is_empty() {
            return None;
        }
        let buckets = self.table.num_buckets();
        for _ in 0..SAMPLE_DRAWS {
            if let Some(e) = self.table.get_bucket(fastrand::usize(..buckets)) {
                return Some(e);
            }
        }
        let start = fastrand::usize(..buckets);
        (0..buckets).find_map(|i| self.table.get_bucket((start + i) % buckets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Value;
    use bytes::Bytes;

    fn entry(key: &str) -> Entry {
        Entry::new(
            key.as_bytes(),
            Value::Str(Bytes::from_static(b"v")),
            0,
            0,
            0,
            0,
        )
    }

    #[test]
    fn insert_find_remove_and_epochs() {
        let mut map = KeyMap::default();
        let first_epoch = map.epoch();
        let mut at = Vec::new();
        for i in 0..1000 {
            let key = format!("k{i}");
            at.push(map.insert(key_hash(key.as_bytes()), entry(&key)));
        }
        assert_ne!(map.epoch(), first_epoch, "growth is a new epoch");
        for i in 0..1000 {
            let key = format!("k{i}");
            let index = map.find(key_hash(key.as_bytes()), key.as_bytes()).unwrap();
            assert_eq!(map.get(index).unwrap().key(), key.as_bytes());
        }
        let before = map.epoch();
        for i in 0..1000 {
            let key = format!("k{i}");
            let index = map.find(key_hash(key.as_bytes()), key.as_bytes()).unwrap();
            assert_eq!(map.remove(index).unwrap().key(), key.as_bytes());
        }
        assert!(map.is_empty());
        assert_ne!(map.epoch(), before, "shrinking is a new epoch");
        assert!(map.num_buckets() <= MIN_SHRINK_BUCKETS);
    }

    #[test]
    fn samples_find_entries_in_sparse_tables() {
        let mut map = KeyMap::default();
        for i in 0..100 {
            let key = format!("k{i}");
            map.insert(key_hash(key.as_bytes()), entry(&key));
        }
        let keep = map.find(key_hash(b"k7"), b"k7").unwrap();
        for i in (0..100).filter(|&i| i != 7) {
            let key = format!("k{i}");
            let index = map.find(key_hash(key.as_bytes()), key.as_bytes()).unwrap();
            map.remove(index);
        }
        assert!(map.get(keep).is_some() || map.find(key_hash(b"k7"), b"k7").is_some());
        for _ in 0..100 {
            assert_eq!(map.sample().unwrap().key(), b"k7");
        }
    }
}
