//! The sharded keyspace shared by both protocols.
//!
//! Each logical database is split into `SHARDS_PER_DB` shards by a hash of the
//! key; each shard is an `IndexMap` behind its own mutex, so clients working on
//! different keys rarely meet on one lock. IndexMap gives O(1) random sampling
//! (eviction, active expiry, RANDOMKEY) and a SCAN cursor by position; entries
//! are only ever removed with `swap_remove`.
//!
//! The API speaks domain words: a `Slot` is one key, locked, already expired
//! lazily if its time has passed; through it callers read, insert, update and
//! remove. Both the RESP and the memcached command families use it.
//!
//! Locking rule: a shard lock is held for one synchronous store call, never
//! across an `.await`, and never while taking another shard's lock (multi-key
//! commands lock one shard at a time, or run under the dispatcher's exclusive
//! gate). The keyspace listener is called with the shard lock held: it may
//! publish (pub/sub locks) but must not touch the store.

mod entry;
pub mod evict;
pub mod expire;

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use foldhash::fast::FixedState;
use indexmap::IndexMap;
use parking_lot::{Mutex, MutexGuard};

pub use entry::{Entry, Value, ENTRY_OVERHEAD_BYTES, LFU_INIT, LIST_ELEMENT_OVERHEAD_BYTES};
pub use evict::{EvictionPolicy, MemoryLimits};

/// Shards per logical database (a power of two).
pub const SHARDS_PER_DB: usize = 64;

pub type KeyMap = IndexMap<Bytes, Entry, FixedState>;

/// Told about keys the store removes by itself (for keyspace notifications).
pub trait KeyspaceListener: Send + Sync {
    fn expired(&self, db: usize, key: &[u8]);
    fn evicted(&self, db: usize, key: &[u8]);
}

/// One shard of one database.
#[derive(Default)]
pub struct Shard {
    pub map: KeyMap,
    /// Keys in this shard with a TTL.
    pub volatile: usize,
    /// Bytes charged for this shard's entries.
    pub charged: usize,
}

/// Pads a shard lock to its own cache lines so neighbouring shards don't false-share.
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

pub fn shard_index(key: &[u8]) -> usize {
    let h = FixedState::with_seed(0x6865_7261_6c64).hash_one(key);
    (h >> 32) as usize & (SHARDS_PER_DB - 1)
}

impl Db {
    fn lock(&self, index: usize) -> MutexGuard<'_, Shard> {
        self.shards[index].0.lock()
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
        self.shards().map(|s| s.volatile).sum()
    }
}

/// Every logical database plus what is shared across them.
pub struct Store {
    dbs: Box<[Db]>,
    next_cas: AtomicU64,
    /// Bytes charged for every entry of every database.
    used_bytes: AtomicI64,
    pub expired_keys: AtomicU64,
    pub evicted_keys: AtomicU64,
    pub limits: MemoryLimits,
    started: Instant,
    listener: OnceLock<Arc<dyn KeyspaceListener>>,
}

/// One key of one database, its shard locked, expired lazily on the way in.
pub struct Slot<'a> {
    store: &'a Store,
    db: usize,
    shard: MutexGuard<'a, Shard>,
    key: &'a [u8],
    now_ms: u64,
    /// Where the key sits in its shard (found once, kept current by every
    /// method that inserts or removes), so one command hashes and probes once.
    index: Option<usize>,
}

impl Store {
    pub fn new(databases: usize) -> Self {
        Store {
            dbs: (0..databases.max(1)).map(|_| Db::default()).collect(),
            next_cas: AtomicU64::new(1),
            used_bytes: AtomicI64::new(0),
            expired_keys: AtomicU64::new(0),
            evicted_keys: AtomicU64::new(0),
            limits: MemoryLimits::default(),
            started: Instant::now(),
            listener: OnceLock::new(),
        }
    }

    pub fn set_listener(&self, listener: Arc<dyn KeyspaceListener>) {
        let _ = self.listener.set(listener);
    }

    pub fn db(&self, index: usize) -> &Db {
        &self.dbs[index.min(self.dbs.len() - 1)]
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// A fresh CAS unique.
    pub fn next_cas(&self) -> u64 {
        self.next_cas.fetch_add(1, Relaxed)
    }

    /// Bytes charged for every entry.
    pub fn used_bytes(&self) -> u64 {
        self.used_bytes.load(Relaxed).max(0) as u64
    }

    /// Milliseconds since the store was created (LRU clock).
    pub fn clock_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn charge(&self, delta: i64) {
        if delta != 0 {
            self.used_bytes.fetch_add(delta, Relaxed);
        }
    }

    /// Lock `key` in database `db`, expiring it first if its time has passed.
    pub fn slot<'a>(&'a self, db: usize, key: &'a [u8], now_ms: u64) -> Slot<'a> {
        let db = db.min(self.dbs.len() - 1);
        let shard = self.dbs[db].lock(shard_index(key));
        let index = shard.map.get_index_of(key);
        let mut slot = Slot {
            store: self,
            db,
            shard,
            key,
            now_ms,
            index,
        };
        slot.expire_if_due();
        slot
    }

    /// Remove every key of one database.
    pub fn flush_db(&self, db: usize) {
        for mut shard in self.db(db).shards() {
            self.charge(-(shard.charged as i64));
            *shard = Shard::default();
        }
    }

    pub fn flush_all(&self) {
        for db in 0..self.dbs.len() {
            self.flush_db(db);
        }
    }

    /// SWAPDB: exchange the contents of two databases, shard by shard.
    pub fn swap_dbs(&self, a: usize, b: usize) {
        if a == b {
            return;
        }
        for i in 0..SHARDS_PER_DB {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            let mut first = self.dbs[lo].lock(i);
            let mut second = self.dbs[hi].lock(i);
            std::mem::swap(&mut *first, &mut *second);
        }
    }

    fn notify_expired(&self, db: usize, key: &[u8]) {
        self.expired_keys.fetch_add(1, Relaxed);
        if let Some(l) = self.listener.get() {
            l.expired(db, key);
        }
    }

    fn notify_evicted(&self, db: usize, key: &[u8]) {
        self.evicted_keys.fetch_add(1, Relaxed);
        if let Some(l) = self.listener.get() {
            l.evicted(db, key);
        }
    }

    /// SCAN one step over database `db`: visit about `count` entries starting at
    /// `cursor`, calling `visit` for each live key; returns the next cursor (0 = done).
    ///
    /// Each shard is walked from its last index down to 0. `swap_remove` only
    /// moves the last entry into a lower slot, so a key present for the whole
    /// scan is never moved from the unvisited part into the visited part: every
    /// such key is returned at least once. Keys added during the scan may be missed.
    pub fn scan(
        &self,
        db: usize,
        cursor: u64,
        count: usize,
        now_ms: u64,
        mut visit: impl FnMut(&Bytes, &Entry),
    ) -> u64 {
        const STARTED: u64 = 1 << 39;
        const POS_MASK: u64 = STARTED - 1;
        let mut shard_no = (cursor >> 40) as usize;
        let mut resume_at = (cursor & STARTED != 0).then_some((cursor & POS_MASK) as usize);
        let mut visited = 0;
        let db = self.db(db);
        while shard_no < SHARDS_PER_DB {
            let shard = db.lock(shard_no);
            let mut pos = resume_at.take().unwrap_or(usize::MAX).min(shard.map.len());
            while pos > 0 && visited < count.max(1) {
                pos -= 1;
                visited += 1;
                if let Some((k, e)) = shard.map.get_index(pos) {
                    if !e.is_expired(now_ms) {
                        visit(k, e);
                    }
                }
            }
            if pos > 0 {
                return (shard_no as u64) << 40 | STARTED | pos as u64;
            }
            drop(shard);
            shard_no += 1;
            if visited >= count.max(1) {
                return if shard_no < SHARDS_PER_DB {
                    (shard_no as u64) << 40
                } else {
                    0
                };
            }
        }
        0
    }

    /// A random live key of database `db` (RANDOMKEY), if any.
    pub fn random_key(&self, db: usize, now_ms: u64) -> Option<Bytes> {
        let d = self.db(db);
        let start = fastrand::usize(..SHARDS_PER_DB);
        for i in 0..SHARDS_PER_DB {
            let shard = d.lock((start + i) % SHARDS_PER_DB);
            let len = shard.map.len();
            for _ in 0..len.min(16) {
                if let Some((k, e)) = shard.map.get_index(fastrand::usize(..len)) {
                    if !e.is_expired(now_ms) {
                        return Some(k.clone());
                    }
                }
            }
        }
        None
    }
}

impl<'a> Slot<'a> {
    fn entry_mut(&mut self) -> Option<&mut Entry> {
        let i = self.index?;
        self.shard.map.get_index_mut(i).map(|(_, e)| e)
    }

    fn expire_if_due(&mut self) {
        let due = matches!(self.peek(), Some(e) if e.is_expired(self.now_ms));
        if due {
            self.remove_entry();
            self.store.notify_expired(self.db, self.key);
        }
    }

    fn remove_entry(&mut self) -> Option<Entry> {
        let i = self.index.take()?;
        let (_, entry) = self.shard.map.swap_remove_index(i)?;
        self.shard.charged -= entry.charged;
        if entry.expires_at_ms != 0 {
            self.shard.volatile -= 1;
        }
        self.store.charge(-(entry.charged as i64));
        Some(entry)
    }

    pub fn db(&self) -> usize {
        self.db
    }

    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    pub fn exists(&self) -> bool {
        self.index.is_some()
    }

    /// The entry, without counting an access.
    pub fn peek(&self) -> Option<&Entry> {
        self.shard.map.get_index(self.index?).map(|(_, e)| e)
    }

    /// The entry, counting an access (LRU clock, LFU counter).
    pub fn get(&mut self) -> Option<&Entry> {
        let clock = self.store.clock_ms();
        let e = self.entry_mut()?;
        e.touch(clock);
        Some(e)
    }

    /// Store `value` under the key, replacing any entry; returns the new CAS.
    /// The value is copied out of whatever buffer it points into (`Value::detached`).
    pub fn insert(&mut self, value: Value, expires_at_ms: u64, flags: u32) -> u64 {
        let cas = self.store.next_cas();
        let mut entry = Entry::new(
            value.detached(),
            expires_at_ms,
            cas,
            flags,
            self.store.clock_ms(),
        );
        entry.charged = Entry::charge_for(self.key, &entry.value);
        self.put(entry);
        cas
    }

    /// Put a whole entry (RENAME, MOVE, COPY keep metadata); charges it.
    pub fn put(&mut self, entry: Entry) {
        self.put_owned(Bytes::copy_from_slice(self.key), entry);
    }

    /// Like `put`, reusing an owned key (no copy).
    pub fn put_owned(&mut self, key: Bytes, mut entry: Entry) {
        debug_assert_eq!(&key[..], self.key);
        self.remove_entry();
        entry.charged = Entry::charge_for(&key, &entry.value);
        self.shard.charged += entry.charged;
        if entry.expires_at_ms != 0 {
            self.shard.volatile += 1;
        }
        self.store.charge(entry.charged as i64);
        let (i, _) = self.shard.map.insert_full(key, entry);
        self.index = Some(i);
    }

    /// Modify the entry in place; the CAS changes and the charge is recomputed.
    /// Returns None when the key does not exist. Data the closure stores must be
    /// owned (built fresh, or `Bytes::copy_from_slice` of an argument), never a
    /// slice of a request: see `Value::detached`.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        self.modify(|e| (f(e), None))
    }

    /// Like `update`, for changes whose charge difference the closure reports
    /// (list pushes and pops return the bytes they added or removed): O(1)
    /// instead of re-measuring the whole value.
    pub fn update_with_charge<R>(&mut self, f: impl FnOnce(&mut Entry) -> (R, isize)) -> Option<R> {
        self.modify(|e| {
            let (r, delta) = f(e);
            (r, Some(delta))
        })
    }

    /// The bookkeeping of every in-place change: new CAS, access time, charge
    /// (the closure's delta, or re-measured when it gives none), TTL count.
    fn modify<R>(&mut self, f: impl FnOnce(&mut Entry) -> (R, Option<isize>)) -> Option<R> {
        let cas = self.store.next_cas();
        let clock = self.store.clock_ms();
        let key_len = self.key.len();
        let i = self.index?;
        let shard = &mut *self.shard;
        let (_, e) = shard.map.get_index_mut(i)?;
        let had_ttl = e.expires_at_ms != 0;
        let before = e.charged;
        let (r, delta) = f(e);
        e.cas = cas;
        e.access_ms = clock;
        e.charged = match delta {
            Some(d) => (before as isize + d).max(0) as usize,
            None => key_len + e.value.charged_bytes() + ENTRY_OVERHEAD_BYTES,
        };
        let after = e.charged;
        let has_ttl = e.expires_at_ms != 0;
        shard.charged = shard.charged + after - before;
        match (had_ttl, has_ttl) {
            (false, true) => shard.volatile += 1,
            (true, false) => shard.volatile -= 1,
            _ => {}
        }
        self.store.charge(after as i64 - before as i64);
        Some(r)
    }

    /// Change an entry's metadata (expiry, fetched bit, LRU clock, or an explicit
    /// CAS) keeping its CAS unless the closure sets one: for memcached's touch,
    /// gat and fetch bookkeeping, which memcached does not count as a change.
    /// The closure must not change the value (its charge is not re-measured).
    pub fn modify_meta<R>(&mut self, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        let i = self.index?;
        let shard = &mut *self.shard;
        let (_, e) = shard.map.get_index_mut(i)?;
        let had_ttl = e.expires_at_ms != 0;
        let r = f(e);
        match (had_ttl, e.expires_at_ms != 0) {
            (false, true) => shard.volatile += 1,
            (true, false) => shard.volatile -= 1,
            _ => {}
        }
        Some(r)
    }

    /// Set or clear (0) the expiry without changing the value; false if no key.
    pub fn set_expiry(&mut self, expires_at_ms: u64) -> bool {
        self.update(|e| e.expires_at_ms = expires_at_ms).is_some()
    }

    /// Remove the key; returns its entry.
    pub fn remove(&mut self) -> Option<Entry> {
        self.remove_entry()
    }

    /// Remove the key as expired (a negative TTL or a past deadline was given).
    pub fn expire_now(&mut self) -> bool {
        if self.remove_entry().is_some() {
            self.store.notify_expired(self.db, self.key);
            true
        } else {
            false
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

    fn s(v: &str) -> Value {
        Value::Str(Bytes::copy_from_slice(v.as_bytes()))
    }

    #[test]
    fn keys_spread_over_shards() {
        let mut used = std::collections::HashSet::new();
        for i in 0..1000 {
            used.insert(shard_index(format!("key:{i}").as_bytes()));
        }
        assert_eq!(used.len(), SHARDS_PER_DB);
    }

    #[test]
    fn insert_update_remove_keep_accounts() {
        let store = Store::new(2);
        let cas1 = store.slot(0, b"k", 0).insert(s("abc"), 0, 7);
        assert_eq!(store.used_bytes(), (1 + 3 + ENTRY_OVERHEAD_BYTES) as u64);
        store
            .slot(0, b"k", 0)
            .update(|e| e.value = s("abcdef"))
            .unwrap();
        let cas2 = store.slot(0, b"k", 0).peek().unwrap().cas;
        assert!(cas2 > cas1);
        assert_eq!(store.used_bytes(), (1 + 6 + ENTRY_OVERHEAD_BYTES) as u64);
        assert_eq!(store.slot(0, b"k", 0).peek().unwrap().flags, 7);
        assert_eq!(store.db(1).len(), 0);
        assert!(store.slot(0, b"k", 0).remove().is_some());
        assert_eq!(store.used_bytes(), 0);
    }

    #[test]
    fn lazy_expiry_counts_and_frees() {
        let store = Store::new(1);
        store.slot(0, b"t", 1000).insert(s("v"), 1500, 0);
        assert_eq!(store.db(0).volatile_len(), 1);
        assert!(store.slot(0, b"t", 1499).exists());
        assert!(!store.slot(0, b"t", 1500).exists());
        assert_eq!(store.expired_keys.load(Relaxed), 1);
        assert_eq!(store.db(0).volatile_len(), 0);
        assert_eq!(store.used_bytes(), 0);
    }

    #[test]
    fn scan_returns_every_stable_key_despite_deletions() {
        let store = Store::new(1);
        for i in 0..2000 {
            store
                .slot(0, format!("k{i}").as_bytes(), 0)
                .insert(s("v"), 0, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = store.scan(0, cursor, 10, 0, |k, _| {
                seen.insert(k.clone());
            });
            // Delete some keys (odd ones) while scanning.
            for j in (round * 7..round * 7 + 7).filter(|j| j % 2 == 1) {
                store.slot(0, format!("k{j}").as_bytes(), 0).remove();
            }
            round += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in (0..2000).filter(|i| i % 2 == 0 || *i >= round * 7) {
            assert!(seen.contains(format!("k{i}").as_bytes()), "k{i} missed");
        }
    }

    #[test]
    fn swap_and_flush() {
        let store = Store::new(2);
        store.slot(0, b"a", 0).insert(s("1"), 0, 0);
        store.swap_dbs(0, 1);
        assert!(!store.slot(0, b"a", 0).exists());
        assert!(store.slot(1, b"a", 0).exists());
        store.flush_all();
        assert_eq!(store.used_bytes(), 0);
    }
}
