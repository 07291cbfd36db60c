//! The sharded keyspace shared by both protocols.
//!
//! Each logical database is split into `SHARDS_PER_DB` shards by a hash of the key;
//! each shard is an `IndexMap` behind its own mutex, so clients working on
//! different keys rarely meet on one lock. IndexMap gives O(1) random sampling
//! (eviction, active expiry, RANDOMKEY) and a SCAN cursor by position; entries are
//! only ever removed with `swap_remove`.
//!
//! Locking rule: a shard lock is held for the duration of one synchronous store
//! call, never across an `.await`, and never while taking another shard's lock
//! (multi-key operations lock shards one at a time, in shard order).

use std::hash::{BuildHasher, Hash, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use foldhash::fast::FixedState;
use indexmap::IndexMap;
use parking_lot::{Mutex, MutexGuard};

/// Shards per logical database (a power of two).
pub const SHARDS_PER_DB: usize = 64;

/// What a key holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(Bytes),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }
}

/// One key's entry: the value plus what the cache and memcached need.
#[derive(Clone, Debug)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0 = never.
    pub expires_at_ms: u64,
    /// memcached CAS unique; changes on every modification, from either protocol.
    pub cas: u64,
    /// memcached client flags; RESP writes leave 0.
    pub flags: u32,
}

impl Entry {
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms != 0 && self.expires_at_ms <= now_ms
    }
}

pub type KeyMap = IndexMap<Bytes, Entry, FixedState>;

/// One shard of one database.
#[derive(Default)]
pub struct Shard {
    pub map: KeyMap,
}

/// Pads a shard lock to its own cache line pair so neighbouring shards don't false-share.
#[repr(align(128))]
#[derive(Default)]
struct Padded(Mutex<Shard>);

pub struct Db {
    shards: Box<[Padded]>,
}

impl Default for Db {
    fn default() -> Self {
        Db {
            shards: (0..SHARDS_PER_DB).map(|_| Padded::default()).collect(),
        }
    }
}

fn shard_index(key: &[u8]) -> usize {
    let mut h = FixedState::with_seed(0x6865_7261_6c64).build_hasher();
    key.hash(&mut h);
    (h.finish() >> 32) as usize & (SHARDS_PER_DB - 1)
}

impl Db {
    /// Lock the shard holding `key`.
    pub fn shard(&self, key: &[u8]) -> MutexGuard<'_, Shard> {
        self.shards[shard_index(key)].0.lock()
    }

    pub fn shards(&self) -> impl Iterator<Item = MutexGuard<'_, Shard>> {
        self.shards.iter().map(|s| s.0.lock())
    }

    /// Keys in the database, counting those expired but not yet reclaimed (as Redis's DBSIZE).
    pub fn len(&self) -> usize {
        self.shards().map(|s| s.map.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys that carry a TTL.
    pub fn volatile_len(&self) -> usize {
        self.shards()
            .map(|s| s.map.values().filter(|e| e.expires_at_ms != 0).count())
            .sum()
    }

    pub fn clear(&self) {
        for mut shard in self.shards() {
            shard.map = KeyMap::default();
        }
    }
}

/// Every logical database.
pub struct Store {
    dbs: Box<[Db]>,
    next_cas: std::sync::atomic::AtomicU64,
}

impl Store {
    pub fn new(databases: usize) -> Self {
        Store {
            dbs: (0..databases.max(1)).map(|_| Db::default()).collect(),
            next_cas: std::sync::atomic::AtomicU64::new(1),
        }
    }

    pub fn db(&self, index: usize) -> &Db {
        &self.dbs[index.min(self.dbs.len() - 1)]
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// A fresh CAS unique.
    pub fn next_cas(&self) -> u64 {
        self.next_cas
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    pub fn flush_all(&self) {
        for db in self.dbs.iter() {
            db.clear();
        }
    }
}

/// Wall-clock Unix time in milliseconds.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spread_over_shards() {
        let mut used = std::collections::HashSet::new();
        for i in 0..1000 {
            used.insert(shard_index(format!("key:{i}").as_bytes()));
        }
        assert_eq!(used.len(), SHARDS_PER_DB);
    }

    #[test]
    fn databases_are_separate() {
        let store = Store::new(2);
        let entry = Entry {
            value: Value::Str(Bytes::from_static(b"v")),
            expires_at_ms: 0,
            cas: 1,
            flags: 0,
        };
        store
            .db(0)
            .shard(b"k")
            .map
            .insert(Bytes::from_static(b"k"), entry);
        assert_eq!(store.db(0).len(), 1);
        assert_eq!(store.db(1).len(), 0);
        store.flush_all();
        assert_eq!(store.db(0).len(), 0);
    }
}
