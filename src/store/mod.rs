//! The sharded keyspace shared by both protocols.
//!
//! Each logical database is split into `SHARDS_PER_DB` shards by a hash of the
//! key; each shard is a hash table (`table::KeyMap`) behind its own mutex, so
//! clients working on different keys rarely meet on one lock. An entry is one
//! allocation holding header, key and (small) value (`entry`); the table holds
//! 8-byte pointers to them, so a lookup touches the table and one entry.
//!
//! The API speaks domain words: a `Slot` is one key, locked, already expired
//! lazily if its time has passed; through it callers read, insert, update and
//! remove. Both the RESP and the memcached command families use it.
//!
//! Locking rule: a shard lock is held for one synchronous store call, never
//! across an `.await`. Most paths hold one shard at a time; the two that hold
//! several take them in one global order so no two callers can wait on each
//! other: `lock_keys` (MGET, MSET, MSETNX) locks the shards of its keys in
//! ascending shard index, and `swap_dbs` (SWAPDB) locks shard i of the lower
//! database, then shard i of the higher, one index at a time. Other multi-key
//! commands lock one shard at a time under the dispatcher's exclusive gate.
//! The keyspace listener is called with the shard lock held: it may publish
//! (pub/sub locks) but must not touch the store.

mod collections;
pub mod compact_bytes;
mod entry;
pub mod evict;
pub mod expire;
pub mod hyperloglog;
pub mod stream;
mod stream_groups;
mod stream_log;
mod table;
mod zset;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard};

pub use collections::{FieldMap, MemberSet, HASH_FIELD_OVERHEAD_BYTES, SET_MEMBER_OVERHEAD_BYTES};
pub use entry::{
    Entry, HashRef, HashValue, Meta, SetValue, Value, ValueRef, ENTRY_OVERHEAD_BYTES, LFU_INIT,
    LIST_ELEMENT_OVERHEAD_BYTES,
};
pub use evict::{EvictionPolicy, MemoryLimits};
pub use table::{key_hash, KeyMap};
pub use zset::{ZSetValue, ZSET_MEMBER_OVERHEAD_BYTES};

/// Shards per logical database (a power of two).
pub const SHARDS_PER_DB: usize = 64;

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
    shard_of(key_hash(key))
}

fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize & (SHARDS_PER_DB - 1)
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
    listener: OnceLock<Arc<dyn KeyspaceListener>>,
    /// Stream keys removed, or overwritten by another type, since the last
    /// `take_removed_streams` (clients blocked in XREADGROUP on them are
    /// told the key is gone). A leaf lock, taken under a shard lock.
    removed_streams: Mutex<Vec<(usize, Bytes)>>,
    any_removed_stream: AtomicBool,
}

/// One key of one database, its shard locked, expired lazily on the way in.
pub struct Slot<'a> {
    store: &'a Store,
    db: usize,
    shard: ShardRef<'a>,
    key: &'a [u8],
    hash: u64,
    now_ms: u64,
    /// The key's bucket in its shard (found once, kept current by every
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
            listener: OnceLock::new(),
            removed_streams: Mutex::new(Vec::new()),
            any_removed_stream: AtomicBool::new(false),
        }
    }

    /// Record that the stream at `key` in `db` is gone (deleted, expired,
    /// evicted, or overwritten).
    fn note_stream_removed(&self, db: usize, key: &[u8]) {
        self.removed_streams
            .lock()
            .push((db, Bytes::copy_from_slice(key)));
        self.any_removed_stream.store(true, Relaxed);
    }

    /// The stream keys removed since the last call (cheap when none: one load).
    pub fn take_removed_streams(&self) -> Vec<(usize, Bytes)> {
        if !self.any_removed_stream.load(Relaxed) {
            return Vec::new();
        }
        self.any_removed_stream.store(false, Relaxed);
        std::mem::take(&mut *self.removed_streams.lock())
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
        crate::clock::monotonic_ms()
    }

    fn charge(&self, delta: i64) {
        if delta != 0 {
            self.used_bytes.fetch_add(delta, Relaxed);
        }
    }

    /// Lock `key` in database `db`, expiring it first if its time has passed.
    pub fn slot<'a>(&'a self, db: usize, key: &'a [u8], now_ms: u64) -> Slot<'a> {
        let db = db.min(self.dbs.len() - 1);
        let hash = key_hash(key);
        let shard = ShardRef::Locked(self.dbs[db].lock(shard_of(hash)));
        Slot::new(self, db, shard, key, hash, now_ms)
    }

    /// Lock every shard that holds one of `keys` in database `db`, in
    /// ascending shard order (so two callers can never wait on each other),
    /// for commands that must see or change several keys at one instant
    /// (MGET, MSET, MSETNX). Every other path holds one shard at a time.
    pub fn lock_keys<'a, 'k>(
        &'a self,
        db: usize,
        keys: impl IntoIterator<Item = &'k [u8]>,
    ) -> LockedKeys<'a> {
        let db = db.min(self.dbs.len() - 1);
        let mut wanted = [false; SHARDS_PER_DB];
        for key in keys {
            wanted[shard_index(key)] = true;
        }
        // from_fn builds index 0 first: the locks are taken in ascending order.
        let guards = std::array::from_fn(|i| wanted[i].then(|| self.dbs[db].lock(i)));
        LockedKeys {
            store: self,
            db,
            guards,
        }
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
    /// `cursor`, calling `visit` for each live one; returns the next cursor (0 = done).
    ///
    /// The cursor is (bucket position, table epoch, started bit, shard). Each
    /// shard's buckets are walked from the last down to 0; entries stay in their
    /// buckets until the table rehashes, which changes its epoch, and a cursor
    /// from an older epoch walks its shard again from the top. So every key
    /// present for the whole scan is returned at least once; keys added during
    /// the scan may be missed. Like Redis, one step looks at no more than
    /// ten empty buckets per requested entry.
    pub fn scan(
        &self,
        db: usize,
        cursor: u64,
        count: usize,
        now_ms: u64,
        mut visit: impl FnMut(&Entry),
    ) -> u64 {
        const SHARD_BITS: u64 = SHARDS_PER_DB.trailing_zeros() as u64;
        const STARTED: u64 = 1 << SHARD_BITS;
        const EPOCH_SHIFT: u64 = SHARD_BITS + 1;
        const EPOCH_MASK: u64 = (1 << (32 - EPOCH_SHIFT)) - 1;
        let encode = |shard_no: usize, epoch: u32, pos: usize| {
            (pos as u64) << 32
                | (epoch as u64 & EPOCH_MASK) << EPOCH_SHIFT
                | STARTED
                | shard_no as u64
        };
        let count = count.max(1);
        let mut shard_no = (cursor & (STARTED - 1)) as usize;
        let mut resume = (cursor & STARTED != 0).then_some((
            (cursor >> EPOCH_SHIFT) & EPOCH_MASK,
            (cursor >> 32) as usize,
        ));
        let max_looked = count.saturating_mul(10);
        let (mut visited, mut looked) = (0, 0);
        let db = self.db(db);
        while shard_no < SHARDS_PER_DB {
            let shard = db.lock(shard_no);
            let buckets = shard.map.num_buckets();
            let epoch = shard.map.epoch();
            let mut pos = match resume.take() {
                Some((e, pos)) if e == epoch as u64 & EPOCH_MASK => pos.min(buckets),
                _ => buckets,
            };
            while pos > 0 && visited < count && looked < max_looked {
                pos -= 1;
                looked += 1;
                if let Some(e) = shard.map.get(pos) {
                    visited += 1;
                    if !e.is_expired(now_ms) {
                        visit(e);
                    }
                }
            }
            if pos > 0 {
                return encode(shard_no, epoch, pos);
            }
            drop(shard);
            shard_no += 1;
            if visited >= count || looked >= max_looked {
                return if shard_no < SHARDS_PER_DB {
                    shard_no as u64
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
            for _ in 0..shard.map.len().min(16) {
                if let Some(e) = shard.map.sample() {
                    if !e.is_expired(now_ms) {
                        return Some(Bytes::copy_from_slice(e.key()));
                    }
                }
            }
        }
        None
    }
}

/// A slot's shard: locked for it alone, or borrowed from a `LockedKeys`.
enum ShardRef<'a> {
    Locked(MutexGuard<'a, Shard>),
    Borrowed(&'a mut Shard),
}

impl std::ops::Deref for ShardRef<'_> {
    type Target = Shard;
    fn deref(&self) -> &Shard {
        match self {
            ShardRef::Locked(g) => g,
            ShardRef::Borrowed(s) => s,
        }
    }
}

impl std::ops::DerefMut for ShardRef<'_> {
    fn deref_mut(&mut self) -> &mut Shard {
        match self {
            ShardRef::Locked(g) => g,
            ShardRef::Borrowed(s) => s,
        }
    }
}

/// Several shards of one database held at once (`Store::lock_keys`).
pub struct LockedKeys<'a> {
    store: &'a Store,
    db: usize,
    /// The guard of each locked shard, by shard index.
    guards: [Option<MutexGuard<'a, Shard>>; SHARDS_PER_DB],
}

impl LockedKeys<'_> {
    /// One of the locked keys, as a `Slot` (expired lazily on the way in).
    /// The key must be one of those given to `lock_keys`: its shard is held.
    pub fn slot<'b>(&'b mut self, key: &'b [u8], now_ms: u64) -> Slot<'b> {
        let hash = key_hash(key);
        let Some(guard) = self.guards[shard_of(hash)].as_mut() else {
            panic!("LockedKeys::slot: key outside the locked shards (a caller bug)");
        };
        let shard = ShardRef::Borrowed(guard);
        Slot::new(self.store, self.db, shard, key, hash, now_ms)
    }
}

impl<'a> Slot<'a> {
    fn new(
        store: &'a Store,
        db: usize,
        shard: ShardRef<'a>,
        key: &'a [u8],
        hash: u64,
        now_ms: u64,
    ) -> Slot<'a> {
        let index = shard.map.find(hash, key);
        let mut slot = Slot {
            store,
            db,
            shard,
            key,
            hash,
            now_ms,
            index,
        };
        slot.expire_if_due();
        slot
    }

    fn entry_mut(&mut self) -> Option<&mut Entry> {
        let i = self.index?;
        self.shard.map.get_mut(i)
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
        let entry = self.shard.map.remove(i)?;
        if entry.is_stream() {
            self.store.note_stream_removed(self.db, self.key);
        }
        let charged = entry.charged();
        self.shard.charged -= charged;
        if entry.expires_at_ms != 0 {
            self.shard.volatile -= 1;
        }
        self.store.charge(-(charged as i64));
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
        self.shard.map.get(self.index?)
    }

    /// The entry, counting an access (LRU clock, LFU counter).
    pub fn get(&mut self) -> Option<&Entry> {
        let clock = self.store.clock_ms();
        let e = self.entry_mut()?;
        e.touch(clock);
        Some(e)
    }

    /// Store `value` under the key, replacing any entry; returns the new CAS.
    /// The value is copied out of whatever buffer it points into (see `Entry::new`).
    pub fn insert(&mut self, value: Value, expires_at_ms: u64, flags: u32) -> u64 {
        let cas = self.store.next_cas();
        let entry = Entry::new(
            self.key,
            value,
            expires_at_ms,
            cas,
            flags,
            self.store.clock_ms(),
        );
        self.put(entry);
        cas
    }

    /// Put a whole entry under this key, replacing any (RENAME, MOVE, COPY keep
    /// metadata); an entry made for another key is re-keyed. Charges it.
    pub fn put(&mut self, entry: Entry) {
        let entry = entry.with_key(self.key);
        self.remove_entry();
        let charged = entry.charged();
        self.shard.charged += charged;
        if entry.expires_at_ms != 0 {
            self.shard.volatile += 1;
        }
        self.store.charge(charged as i64);
        self.index = Some(self.shard.map.insert(self.hash, entry));
    }

    /// Modify the entry in place; the CAS changes and the charge is recomputed.
    /// Returns None when the key does not exist. Values the closure stores
    /// (`Entry::set_value`) must be owned, never a slice of a request.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        self.modify(|e| (f(e), 0))
    }

    /// Like `update`, for list changes whose charge difference the closure
    /// reports (pushes and pops return the bytes they added or removed): O(1)
    /// instead of re-measuring the whole list.
    pub fn update_with_charge<R>(&mut self, f: impl FnOnce(&mut Entry) -> (R, isize)) -> Option<R> {
        self.modify(f)
    }

    /// The bookkeeping of every in-place change: new CAS, access time, charge,
    /// TTL count.
    fn modify<R>(&mut self, f: impl FnOnce(&mut Entry) -> (R, isize)) -> Option<R> {
        let cas = self.store.next_cas();
        let clock = self.store.clock_ms();
        let i = self.index?;
        let shard = &mut *self.shard;
        let e = shard.map.get_mut(i)?;
        let had_ttl = e.expires_at_ms != 0;
        let before = e.charged();
        let was_stream = e.is_stream();
        let (r, list_delta) = f(e);
        if was_stream && !e.is_stream() {
            self.store.note_stream_removed(self.db, self.key);
        }
        e.add_collection_charge(list_delta);
        e.cas = cas;
        e.set_access(clock);
        let after = e.charged();
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
    /// The closure sees only the header: the value cannot change here.
    pub fn modify_meta<R>(&mut self, f: impl FnOnce(&mut Meta) -> R) -> Option<R> {
        let i = self.index?;
        let shard = &mut *self.shard;
        let e = shard.map.get_mut(i)?;
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

pub use crate::clock::unix_ms;

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
            .update(|e| e.set_value(s("abcdef")))
            .unwrap();
        let cas2 = store.slot(0, b"k", 0).peek().unwrap().cas;
        assert!(cas2 > cas1);
        assert_eq!(store.used_bytes(), (1 + 6 + ENTRY_OVERHEAD_BYTES) as u64);
        let flags = store.slot(0, b"k", 0).peek().unwrap().flags;
        assert_eq!(flags, 7);
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
            cursor = store.scan(0, cursor, 10, 0, |e| {
                seen.insert(e.key().to_vec());
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
    fn scan_returns_every_stable_key_while_tables_grow() {
        let store = Store::new(1);
        for i in 0..500 {
            store
                .slot(0, format!("k{i}").as_bytes(), 0)
                .insert(s("v"), 0, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let (mut cursor, mut added, mut steps) = (0, 0, 0);
        loop {
            steps += 1;
            cursor = store.scan(0, cursor, 5, 0, |e| {
                seen.insert(e.key().to_vec());
            });
            // Grow every table while the scan is under way: rehashes move entries.
            for _ in 0..if steps <= 100 { 40 } else { 0 } {
                store
                    .slot(0, format!("new{added}").as_bytes(), 0)
                    .insert(s("v"), 0, 0);
                added += 1;
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500 {
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
