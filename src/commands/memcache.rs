//! The memcached command family: classic and meta commands over the shared
//! store (database 0, the same keys and values the RESP side sees).
//!
//! memcached's quirks are translated here and nowhere else: exptime 0 = never,
//! up to 30 days relative, beyond that a Unix time, negative = already expired
//! (the item is "stored" and gone at once, as memcached does); 32-bit client
//! flags; 64-bit CAS uniques shared with the RESP side (a RESP write gives the
//! key a new CAS, so a later `cas` gets `EXISTS`). Replies follow memcached
//! 1.6.18 on the wire; the request syntax and its errors are the codec's
//! (`protocol::memcache`).
//!
//! What memcached does not count as a modification keeps the CAS here too: a
//! fetch (which sets the `h` "fetched" bit), `touch`, `gat`, `mg T`. Store,
//! append, incr/decr, `md I` and the RESP writes give a new one.
//!
//! Keys of another type (a RESP list) look like this from the memcached side:
//! reads (`get`, `gat`, `mg`, `me`) miss and change nothing; `set` (and `ms`
//! in set mode) replaces the list, as RESP `SET` does, and so does `replace`
//! (RESP `SET XX`); `add` is `NOT_STORED` (the key is taken); `append`/`prepend`
//! are `NOT_STORED` (there is no value to extend); `incr`/`decr`/`ma` answer
//! `CLIENT_ERROR cannot increment or decrement non-numeric value` (RESP's
//! WRONGTYPE); `touch` sets the TTL (RESP `EXPIRE`); `delete`/`md` delete the
//! key (RESP `DEL`); `mg N` does not vivify over it.
//!
//! Stale items and recache wins (`md I`, `ms I`, `mg N`/`R`, the `X`/`W`/`Z`
//! return flags) are kept in a small side table (`Markers`), valid only while
//! the key still has the CAS it had when marked: any write (from either
//! protocol) gives a new CAS and so clears them, as storing a new item does in
//! memcached.
//!
//! `flush_all <delay>` records a deadline; the first memcached request at or
//! after it removes every key of database 0 not written or read since the
//! deadline (memcached's `oldest_live` rule), and [`cron`] does the same for a
//! server that gets no memcached traffic. `flush_all` with no delay (or <= 0)
//! empties database 0 at once.
//!
//! Keyspace notifications as the RESP side sends them: `set` (set, add,
//! replace, cas, ms, `mg N`), `append` (append, prepend), `incrby` / `decrby`,
//! `del`, `expire` (touch, gat, `mg T`, `md I T`), `new` for a created key;
//! `expired` comes from the store when a negative exptime removes a key.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;

use crate::clients::ClientKind;
use crate::commands::notify::notify;
use crate::commands::Shared;
use crate::error::{
    MC_CACHEDUMP_NOT_ALLOWED, MC_NON_NUMERIC, MC_OUT_OF_MEMORY, MC_OUT_OF_MEMORY_STORING,
    MC_STATS_DETAIL_USAGE,
};
use crate::keyspace_events::EventClass;
use crate::protocol::memcache::request::parse_u64;
use crate::protocol::memcache::{
    response, ArithMode, McRequest, MetaCommand, MetaDebugView, MetaFlags, MetaItemView,
    MetaStatus, StoreMode,
};
use crate::store::{unix_ms, Entry, Meta, Slot, Value, ValueRef};

/// The RESP database the memcached side works on.
pub(crate) const MEMCACHE_DB: usize = 0;

/// memcached's version string (`version`, `stats`).
pub(crate) const VERSION: &str = "1.6.18";

/// exptimes up to this many seconds are relative; larger ones are Unix times
/// (memcached's `REALTIME_MAXDELTA`, 30 days).
const RELATIVE_EXPTIME_MAX_SECS: i64 = 60 * 60 * 24 * 30;

/// Side-table size above which markers of keys rewritten since are swept; after
/// a sweep the next one waits until the table has doubled.
const MARKERS_SWEEP_MIN: usize = 4096;

/// What the connection does after a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Close,
}

/// What the memcached side keeps beside the store: its `stats` counters (names
/// as memcached's, for memcached_exporter), the `verbosity` setting, a pending
/// delayed `flush_all`, and the flush markers items are checked against.
/// Owned by this family; held in `Shared::memcache`.
#[derive(Default)]
pub(crate) struct MemcacheState {
    pub(crate) cmd_get: AtomicU64,
    pub(crate) cmd_set: AtomicU64,
    pub(crate) cmd_flush: AtomicU64,
    pub(crate) cmd_touch: AtomicU64,
    pub(crate) cmd_meta: AtomicU64,
    pub(crate) get_hits: AtomicU64,
    pub(crate) get_misses: AtomicU64,
    pub(crate) get_flushed: AtomicU64,
    pub(crate) delete_hits: AtomicU64,
    pub(crate) delete_misses: AtomicU64,
    pub(crate) incr_hits: AtomicU64,
    pub(crate) incr_misses: AtomicU64,
    pub(crate) decr_hits: AtomicU64,
    pub(crate) decr_misses: AtomicU64,
    pub(crate) cas_hits: AtomicU64,
    pub(crate) cas_misses: AtomicU64,
    pub(crate) cas_badval: AtomicU64,
    pub(crate) touch_hits: AtomicU64,
    pub(crate) touch_misses: AtomicU64,
    pub(crate) store_no_memory: AtomicU64,
    pub(crate) total_items: AtomicU64,
    /// memcached connections that sent at least one request.
    pub(crate) total_connections: AtomicU64,
    /// `verbosity` level (reported by `stats settings`; herald logs through tracing).
    verbosity: AtomicU32,
    /// Unix ms of a pending `flush_all <delay>`; 0 = none (read on every request).
    flush_at_ms: AtomicU64,
    /// The pending flush itself; written under this lock only.
    flush: Mutex<Option<PendingFlush>>,
    markers: Markers,
}

impl MemcacheState {
    /// `stats reset`: the counters memcached resets.
    fn reset(&self) {
        for c in [
            &self.cmd_get,
            &self.cmd_set,
            &self.cmd_flush,
            &self.cmd_touch,
            &self.cmd_meta,
            &self.get_hits,
            &self.get_misses,
            &self.get_flushed,
            &self.delete_hits,
            &self.delete_misses,
            &self.incr_hits,
            &self.incr_misses,
            &self.decr_hits,
            &self.decr_misses,
            &self.cas_hits,
            &self.cas_misses,
            &self.cas_badval,
            &self.touch_hits,
            &self.touch_misses,
            &self.store_no_memory,
            &self.total_items,
            &self.total_connections,
        ] {
            c.store(0, Relaxed);
        }
    }
}

fn count(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

/// A `flush_all <delay>` waiting for its time.
#[derive(Clone, Copy, Debug)]
struct PendingFlush {
    at_unix_ms: u64,
    /// The same instant on the store's clock (`Entry::access_ms`).
    at_clock_ms: u64,
}

/// memcached's per-item `ITEM_STALE` / `ITEM_TOKEN_SENT` bits for the keys that
/// have them, each valid while the key keeps the CAS it was marked with.
///
/// Locking rule: `map` may be taken while holding one store shard lock, never
/// the other way round (the sweep collects under `map`, then visits slots with
/// `map` released).
#[derive(Default)]
struct Markers {
    map: Mutex<HashMap<Bytes, Marker>>,
    /// `map.len()`, read without the lock: the common case is an empty table.
    len: AtomicUsize,
    /// Sweep when `len` passes this (0 = `MARKERS_SWEEP_MIN`).
    sweep_at: AtomicUsize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Marker {
    cas: u64,
    stale: bool,
    win_sent: bool,
}

impl Markers {
    /// The marker of `key` if it still has `cas`.
    fn get(&self, key: &[u8], cas: u64) -> Marker {
        if self.len.load(Relaxed) == 0 {
            return Marker::default();
        }
        match self.map.lock().get(key) {
            Some(m) if m.cas == cas => *m,
            _ => Marker::default(),
        }
    }

    fn set(&self, key: &[u8], m: Marker) {
        if !m.stale && !m.win_sent {
            self.forget(key);
            return;
        }
        let mut map = self.map.lock();
        map.insert(Bytes::copy_from_slice(key), m);
        self.len.store(map.len(), Relaxed);
    }

    fn forget(&self, key: &[u8]) {
        if self.len.load(Relaxed) == 0 {
            return;
        }
        let mut map = self.map.lock();
        map.remove(key);
        self.len.store(map.len(), Relaxed);
    }

    fn clear(&self) {
        let mut map = self.map.lock();
        map.clear();
        self.len.store(0, Relaxed);
    }

    /// Sweep if the table has grown past its threshold.
    fn maybe_sweep(&self, shared: &Shared, now_ms: u64) {
        let at = self.sweep_at.load(Relaxed).max(MARKERS_SWEEP_MIN);
        if self.len.load(Relaxed) > at {
            self.sweep(shared, now_ms);
            let left = self.len.load(Relaxed);
            self.sweep_at
                .store((left * 2).max(MARKERS_SWEEP_MIN), Relaxed);
        }
    }

    /// Drop markers whose key has been rewritten or removed since (the store
    /// does not tell this family about RESP writes, so they are found here).
    fn sweep(&self, shared: &Shared, now_ms: u64) {
        let snapshot: Vec<(Bytes, u64)> = self
            .map
            .lock()
            .iter()
            .map(|(k, m)| (k.clone(), m.cas))
            .collect();
        let dead: Vec<(Bytes, u64)> = snapshot
            .into_iter()
            .filter(|(k, cas)| {
                let slot = shared.store.slot(MEMCACHE_DB, k, now_ms);
                slot.peek().is_none_or(|e| e.cas != *cas)
            })
            .collect();
        let mut map = self.map.lock();
        for (k, cas) in dead {
            if map.get(&k).is_some_and(|m| m.cas == cas) {
                map.remove(&k);
            }
        }
        self.len.store(map.len(), Relaxed);
    }
}

/// Per-connection state of a memcached client.
#[derive(Default)]
pub(crate) struct McSession {}

impl McSession {
    /// A new connection, counted in `total_connections`.
    pub(crate) fn connected(shared: &Shared) -> McSession {
        count(&shared.memcache.total_connections);
        McSession {}
    }
}

/// When an item expires, from a memcached exptime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expiry {
    Never,
    /// Unix ms.
    At(u64),
    /// Negative or in the past: stored and gone at once.
    Past,
}

impl Expiry {
    fn from_exptime(exptime: i64, now_ms: u64) -> Expiry {
        let at = match exptime {
            0 => return Expiry::Never,
            e if e < 0 => return Expiry::Past,
            e if e <= RELATIVE_EXPTIME_MAX_SECS => now_ms.saturating_add(e as u64 * 1000),
            e => (e as u64).saturating_mul(1000),
        };
        if at <= now_ms {
            Expiry::Past
        } else {
            Expiry::At(at)
        }
    }

    fn of_entry(expires_at_ms: u64) -> Expiry {
        if expires_at_ms == 0 {
            Expiry::Never
        } else {
            Expiry::At(expires_at_ms)
        }
    }

    /// `Entry::expires_at_ms` (a past instant for `Past`, removed right after).
    fn deadline_ms(self) -> u64 {
        match self {
            Expiry::Never => 0,
            Expiry::At(t) => t,
            Expiry::Past => 1,
        }
    }
}

/// Remaining TTL in whole seconds as memcached reports it: -1 = never; a live
/// item shows at least 1 (rounded up, as memcached's second clock does).
fn ttl_secs(expires_at_ms: u64, now_ms: u64) -> i64 {
    if expires_at_ms == 0 {
        -1
    } else {
        expires_at_ms.saturating_sub(now_ms).div_ceil(1000) as i64
    }
}

/// Rewrite the entry keeping its CAS: for what memcached does not count as a
/// modification (the fetched bit, a touch). `Slot::update` would give a new CAS.
fn rewrite_keep_cas(slot: &mut Slot<'_>, f: impl FnOnce(&mut Meta)) -> bool {
    slot.modify_meta(f).is_some()
}

/// Count an access (LRU clock) and set the fetched bit; the CAS stays.
fn bump(slot: &mut Slot<'_>, clock_ms: u64) {
    match slot.peek().map(|e| e.fetched) {
        Some(true) => {
            slot.get();
        }
        Some(false) => {
            rewrite_keep_cas(slot, |e| {
                e.touch(clock_ms);
                e.fetched = true;
            });
        }
        None => {}
    }
}

/// Set a new expiry keeping the CAS, counting it as an access (memcached's
/// touch bumps the item). `Past` removes the key. False when there is no key.
fn touch_entry(slot: &mut Slot<'_>, expiry: Expiry, clock_ms: u64) -> bool {
    if expiry == Expiry::Past {
        return slot.expire_now();
    }
    if matches!(slot.peek(), Some(e) if !matches!(e.value(), ValueRef::Str(_))) {
        // Not a memcached item (a RESP list): as RESP EXPIRE, without copying it.
        return slot.set_expiry(expiry.deadline_ms());
    }
    rewrite_keep_cas(slot, |e| {
        e.expires_at_ms = expiry.deadline_ms();
        e.touch(clock_ms);
        e.fetched = true;
    })
}

/// Execute one request, appending its reply (if any) to `out`.
///
/// Runs under the shared side of `Shared::exec_gate`, so a RESP MULTI/EXEC is
/// atomic with respect to memcached clients too.
pub(crate) fn execute(
    shared: &Shared,
    _session: &mut McSession,
    request: McRequest,
    out: &mut BytesMut,
) -> Flow {
    let stats = &shared.memcache;
    let now = unix_ms();
    let _gate = shared.exec_gate.read();
    apply_due_flush(shared, now);
    stats.markers.maybe_sweep(shared, now);
    match request {
        McRequest::Get { keys, cas } => get(shared, &keys, cas, None, out, now),
        McRequest::Gat { exptime, keys, cas } => {
            let expiry = Expiry::from_exptime(exptime, now);
            get(shared, &keys, cas, Some(expiry), out, now);
        }
        McRequest::Store {
            mode,
            key,
            flags,
            exptime,
            data,
            cas_unique,
            noreply,
        } => {
            let req = StoreRequest {
                mode,
                key: &key,
                data: &data,
                flags,
                expiry: Expiry::from_exptime(exptime, now),
                compare_cas: cas_unique,
                new_cas: None,
                invalidate: false,
            };
            let reply = store_command(shared, &req, mode == StoreMode::Set, now);
            if !noreply {
                match reply {
                    Ok(Outcome::Stored { .. }) => response::stored(out),
                    Ok(Outcome::NotStored) => response::not_stored(out),
                    Ok(Outcome::Exists) => response::exists(out),
                    Ok(Outcome::NotFound) => response::not_found(out),
                    Err(text) => response::error_line(out, text),
                }
            }
        }
        McRequest::Touch {
            key,
            exptime,
            noreply,
        } => touch(shared, &key, exptime, noreply, out, now),
        McRequest::Delete { key, noreply } => delete(shared, &key, noreply, out, now),
        McRequest::Incr {
            key,
            delta,
            noreply,
        } => incr_decr(shared, &key, true, delta, noreply, out, now),
        McRequest::Decr {
            key,
            delta,
            noreply,
        } => incr_decr(shared, &key, false, delta, noreply, out, now),
        McRequest::FlushAll { delay, noreply } => {
            flush_all(shared, delay, now);
            if !noreply {
                response::ok(out);
            }
        }
        McRequest::Stats { args } => stats_command(shared, &args, out, now),
        McRequest::Version => response::version(out, VERSION),
        McRequest::Verbosity { level, noreply } => {
            stats.verbosity.store(level, Relaxed);
            if !noreply {
                response::ok(out);
            }
        }
        McRequest::Quit => return Flow::Close,
        McRequest::MetaGet { key, flags } => {
            count(&stats.cmd_meta);
            meta_get(shared, &key, &flags, out, now);
        }
        McRequest::MetaSet {
            key,
            data,
            mode,
            flags,
        } => {
            count(&stats.cmd_meta);
            meta_set(shared, &key, &data, mode, &flags, out, now);
        }
        McRequest::MetaDelete { key, flags } => {
            count(&stats.cmd_meta);
            meta_delete(shared, &key, &flags, out, now);
        }
        McRequest::MetaArithmetic { key, mode, flags } => {
            count(&stats.cmd_meta);
            meta_arithmetic(shared, &key, mode, &flags, out, now);
        }
        McRequest::MetaNoop => response::meta_noop(out),
        McRequest::MetaDebug { key, base64 } => {
            count(&stats.cmd_meta);
            meta_debug(shared, &key, base64, out, now);
        }
    }
    Flow::Continue
}

/// Periodic work for the server's cron: apply a `flush_all <delay>` whose time
/// has come even when no memcached client is talking.
pub(crate) fn cron(shared: &Shared, now_ms: u64) {
    // A long script holds the gate: skip this tick rather than block the worker.
    let Some(_gate) = shared
        .exec_gate
        .try_read_for(std::time::Duration::from_millis(10))
    else {
        return;
    };
    apply_due_flush(shared, now_ms);
}

// ------------------------------------------------------------------ reads --

/// `get <key>*` / `gets <key>*`, and with `touch` `gat`/`gats <exptime> <key>*`.
fn get(
    shared: &Shared,
    keys: &[Bytes],
    with_cas: bool,
    touch: Option<Expiry>,
    out: &mut BytesMut,
    now: u64,
) {
    let stats = &shared.memcache;
    let clock = shared.store.clock_ms();
    for key in keys {
        let mut slot = shared.store.slot(MEMCACHE_DB, key, now);
        let hit = match slot.peek() {
            Some(e) => match e.value() {
                ValueRef::Str(v) => {
                    response::value(out, key, e.flags, v, with_cas.then_some(e.cas));
                    true
                }
                _ => false,
            },
            None => false,
        };
        match (touch, hit) {
            (None, true) => {
                count(&stats.get_hits);
                bump(&mut slot, clock);
            }
            (None, false) => count(&stats.get_misses),
            (Some(expiry), true) => {
                count(&stats.touch_hits);
                touch_entry(&mut slot, expiry, clock);
                drop(slot);
                if expiry != Expiry::Past {
                    notify(shared, MEMCACHE_DB, EventClass::GENERIC, "expire", key);
                }
            }
            (Some(_), false) => count(&stats.touch_misses),
        }
        count(if touch.is_some() {
            &stats.cmd_touch
        } else {
            &stats.cmd_get
        });
    }
    response::end(out);
}

/// `touch <key> <exptime> [noreply]`
fn touch(shared: &Shared, key: &[u8], exptime: i64, noreply: bool, out: &mut BytesMut, now: u64) {
    let stats = &shared.memcache;
    count(&stats.cmd_touch);
    let expiry = Expiry::from_exptime(exptime, now);
    let clock = shared.store.clock_ms();
    let touched = touch_entry(&mut shared.store.slot(MEMCACHE_DB, key, now), expiry, clock);
    if touched {
        count(&stats.touch_hits);
        if expiry != Expiry::Past {
            notify(shared, MEMCACHE_DB, EventClass::GENERIC, "expire", key);
        }
    } else {
        count(&stats.touch_misses);
    }
    if !noreply {
        if touched {
            response::touched(out);
        } else {
            response::not_found(out);
        }
    }
}

// ---------------------------------------------------------------- storage --

/// A storage request once each protocol's syntax is translated.
struct StoreRequest<'a> {
    mode: StoreMode,
    key: &'a [u8],
    data: &'a Bytes,
    flags: u32,
    expiry: Expiry,
    /// `Cas` mode: the unique that must match. append/prepend: checked when non-zero.
    compare_cas: Option<u64>,
    /// `ms E<cas>`: the CAS to give the stored item.
    new_cas: Option<u64>,
    /// `ms I`: a CAS lower than the item's is accepted and the item marked stale.
    invalidate: bool,
}

/// Outcome of a storage request (memcached's `store_item_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Stored { cas: u64 },
    NotStored,
    Exists,
    NotFound,
}

/// Make room, store, count, notify. `Err` is the `SERVER_ERROR` line to send.
/// When no room can be made the key's old value is dropped too (memcached does
/// so for `set` and every `ms`, so a failed write never leaves stale data).
fn store_command(
    shared: &Shared,
    req: &StoreRequest<'_>,
    unlink_on_oom: bool,
    now: u64,
) -> Result<Outcome, &'static str> {
    let stats = &shared.memcache;
    count(&stats.cmd_set);
    if !shared.store.make_room() {
        count(&stats.store_no_memory);
        if unlink_on_oom {
            shared.store.slot(MEMCACHE_DB, req.key, now).remove();
            stats.markers.forget(req.key);
        }
        return Err(MC_OUT_OF_MEMORY_STORING);
    }
    let item_size_max = shared.config.read().item_size_max as usize;
    let (outcome, created) = store_item(shared, req, item_size_max, now);
    match (req.mode, outcome) {
        (StoreMode::Cas, Outcome::Stored { .. }) => count(&stats.cas_hits),
        (StoreMode::Cas, Outcome::Exists) => count(&stats.cas_badval),
        (StoreMode::Cas, Outcome::NotFound) => count(&stats.cas_misses),
        _ => {}
    }
    if let Outcome::Stored { .. } = outcome {
        count(&stats.total_items);
        if req.expiry != Expiry::Past || matches!(req.mode, StoreMode::Append | StoreMode::Prepend)
        {
            if created {
                notify(shared, MEMCACHE_DB, EventClass::NEW_KEY, "new", req.key);
            }
            let event = match req.mode {
                StoreMode::Append | StoreMode::Prepend => "append",
                _ => "set",
            };
            notify(shared, MEMCACHE_DB, EventClass::STRING, event, req.key);
        }
    }
    Ok(outcome)
}

/// memcached's `do_store_item` over one slot; returns the outcome and whether
/// the key was created.
fn store_item(
    shared: &Shared,
    req: &StoreRequest<'_>,
    item_size_max: usize,
    now: u64,
) -> (Outcome, bool) {
    let store = &shared.store;
    let markers = &shared.memcache.markers;
    let mut slot = store.slot(MEMCACHE_DB, req.key, now);
    let old = slot.peek().map(|e| (e.cas, e.flags, e.expires_at_ms));
    let mut flags = req.flags;
    let mut expiry = req.expiry;
    let mut marker = Marker::default();
    let mut value: Option<Bytes> = None;
    match (req.mode, old) {
        (StoreMode::Add, Some(_)) => {
            // add only adds a missing item, but counts as an access (LRU bump)
            slot.get();
            return (Outcome::NotStored, false);
        }
        (StoreMode::Replace | StoreMode::Append | StoreMode::Prepend, None) => {
            return (Outcome::NotStored, false)
        }
        (StoreMode::Cas, None) => return (Outcome::NotFound, false),
        (StoreMode::Cas, Some((cas, _, expires))) => {
            let want = req.compare_cas.unwrap_or(0);
            if want != cas {
                if !(req.invalidate && want < cas) {
                    return (Outcome::Exists, false);
                }
                // A lower CAS with I: store, keep the TTL, mark stale.
                expiry = Expiry::of_entry(expires);
                marker = Marker {
                    stale: true,
                    win_sent: markers.get(req.key, cas).win_sent,
                    cas: 0,
                };
            }
        }
        (StoreMode::Append | StoreMode::Prepend, Some((cas, old_flags, expires))) => {
            if req.compare_cas.is_some_and(|c| c != 0 && c != cas) {
                return (Outcome::Exists, false);
            }
            let Some(ValueRef::Str(current)) = slot.peek().map(|e| e.value()) else {
                return (Outcome::NotStored, false);
            };
            if current.len() + req.data.len() > item_size_max {
                return (Outcome::NotStored, false);
            }
            let mut joined = BytesMut::with_capacity(current.len() + req.data.len());
            if req.mode == StoreMode::Append {
                joined.extend_from_slice(current);
                joined.extend_from_slice(req.data);
            } else {
                joined.extend_from_slice(req.data);
                joined.extend_from_slice(current);
            }
            value = Some(joined.freeze());
            // append/prepend keep the item's flags and TTL
            flags = old_flags;
            expiry = Expiry::of_entry(expires);
        }
        (StoreMode::Set | StoreMode::Add | StoreMode::Replace, _) => {}
    }
    let cas = req.new_cas.unwrap_or_else(|| store.next_cas());
    if expiry == Expiry::Past {
        // Stored and expired at once: whatever was there is gone.
        if old.is_some() {
            slot.expire_now();
        }
        markers.forget(req.key);
        return (Outcome::Stored { cas }, false);
    }
    let value = value.unwrap_or_else(|| Bytes::copy_from_slice(req.data));
    let entry = Entry::new(
        req.key,
        Value::Str(value),
        expiry.deadline_ms(),
        cas,
        flags,
        store.clock_ms(),
    );
    slot.put(entry);
    markers.set(req.key, Marker { cas, ..marker });
    (Outcome::Stored { cas }, old.is_none())
}

/// `delete <key> [0] [noreply]`
/// A `set` refused as too large: the key's old value goes, as memcached
/// unlinks it (a failed set must not leave stale data readable).
pub(crate) fn unlink_refused_set(shared: &Shared, key: &[u8]) {
    let now = crate::store::unix_ms();
    if shared.store.slot(MEMCACHE_DB, key, now).remove().is_some() {
        shared.memcache.markers.forget(key);
        notify(shared, MEMCACHE_DB, EventClass::GENERIC, "del", key);
    }
}

fn delete(shared: &Shared, key: &[u8], noreply: bool, out: &mut BytesMut, now: u64) {
    let stats = &shared.memcache;
    let removed = shared.store.slot(MEMCACHE_DB, key, now).remove().is_some();
    if removed {
        count(&stats.delete_hits);
        stats.markers.forget(key);
        notify(shared, MEMCACHE_DB, EventClass::GENERIC, "del", key);
    } else {
        count(&stats.delete_misses);
    }
    if !noreply {
        if removed {
            response::deleted(out);
        } else {
            response::not_found(out);
        }
    }
}

// ------------------------------------------------------------- arithmetic --

/// Outcome of incr/decr on one slot.
enum Arith {
    Done { value: u64 },
    NonNumeric,
    NotFound,
    Exists,
}

/// memcached's `do_add_delta`: u64, incr wraps, decr stops at 0. The value is
/// read as memcached's `strtoull` reads it (leading spaces, digits, anything
/// after a space ignored) and written back unpadded.
fn add_delta(
    slot: &mut Slot<'_>,
    incr: bool,
    delta: u64,
    compare_cas: Option<u64>,
    new_cas: Option<u64>,
) -> Arith {
    let Some(e) = slot.peek() else {
        return Arith::NotFound;
    };
    let ValueRef::Str(v) = e.value() else {
        return Arith::NonNumeric;
    };
    if v.is_empty() {
        return Arith::NonNumeric;
    }
    if compare_cas.is_some_and(|c| c != 0 && c != e.cas) {
        return Arith::Exists;
    }
    let Some(current) = parse_u64(v) else {
        return Arith::NonNumeric;
    };
    let value = if incr {
        current.wrapping_add(delta)
    } else {
        current.saturating_sub(delta)
    };
    let text = Bytes::copy_from_slice(itoa::Buffer::new().format(value).as_bytes());
    slot.update(|e| e.set_value(Value::Str(text)));
    if let Some(cas) = new_cas {
        rewrite_keep_cas(slot, |e| e.cas = cas);
    }
    Arith::Done { value }
}

/// `incr|decr <key> <delta> [noreply]`
fn incr_decr(
    shared: &Shared,
    key: &[u8],
    incr: bool,
    delta: u64,
    noreply: bool,
    out: &mut BytesMut,
    now: u64,
) {
    let stats = &shared.memcache;
    if !shared.store.make_room() {
        if !noreply {
            response::error_line(out, MC_OUT_OF_MEMORY);
        }
        return;
    }
    let outcome = add_delta(
        &mut shared.store.slot(MEMCACHE_DB, key, now),
        incr,
        delta,
        None,
        None,
    );
    let (hits, misses) = if incr {
        (&stats.incr_hits, &stats.incr_misses)
    } else {
        (&stats.decr_hits, &stats.decr_misses)
    };
    match outcome {
        Arith::Done { value } => {
            count(hits);
            notify_arith(shared, key, incr);
            if !noreply {
                response::number(out, value);
            }
        }
        Arith::NotFound => {
            count(misses);
            if !noreply {
                response::not_found(out);
            }
        }
        Arith::NonNumeric | Arith::Exists => {
            if !noreply {
                response::error_line(out, MC_NON_NUMERIC);
            }
        }
    }
}

fn notify_arith(shared: &Shared, key: &[u8], incr: bool) {
    let event = if incr { "incrby" } else { "decrby" };
    notify(shared, MEMCACHE_DB, EventClass::STRING, event, key);
}

// ------------------------------------------------------------- flush_all --

/// `flush_all [delay]`: at once, or record the deadline (a new flush_all
/// replaces a pending one, as memcached's `oldest_live` does).
fn flush_all(shared: &Shared, delay: Option<i64>, now: u64) {
    let stats = &shared.memcache;
    count(&stats.cmd_flush);
    let at = match delay.map(|d| Expiry::from_exptime(d, now)) {
        Some(Expiry::At(t)) => t,
        _ => now,
    };
    let mut pending = stats.flush.lock();
    if at <= now {
        *pending = None;
        stats.flush_at_ms.store(0, Relaxed);
        drop(pending);
        shared.store.flush_db(MEMCACHE_DB);
        stats.markers.clear();
    } else {
        let clock = shared.store.clock_ms();
        *pending = Some(PendingFlush {
            at_unix_ms: at,
            at_clock_ms: clock + (at - now),
        });
        stats.flush_at_ms.store(at, Relaxed);
    }
}

/// Carry out a pending `flush_all <delay>` whose time has come: remove every
/// key of database 0 not written or read since the deadline.
fn apply_due_flush(shared: &Shared, now: u64) {
    let stats = &shared.memcache;
    let at = stats.flush_at_ms.load(Relaxed);
    if at == 0 || now < at {
        return;
    }
    let due = {
        let mut pending = stats.flush.lock();
        match *pending {
            Some(p) if p.at_unix_ms <= now => {
                *pending = None;
                stats.flush_at_ms.store(0, Relaxed);
                Some(p)
            }
            _ => None,
        }
    };
    let Some(due) = due else { return };
    let clock = shared.store.clock_ms();
    let mut doomed = Vec::new();
    for shard in shared.store.db(MEMCACHE_DB).shards() {
        doomed.extend(
            shard
                .map
                .iter()
                .filter(|e| e.access_ms(clock) <= due.at_clock_ms)
                .map(|e| e.key().to_vec()),
        );
    }
    for key in doomed {
        let mut slot = shared.store.slot(MEMCACHE_DB, &key, now);
        if slot
            .peek()
            .is_some_and(|e| e.access_ms(clock) <= due.at_clock_ms)
        {
            slot.remove();
        }
    }
    stats.markers.clear();
}

// ------------------------------------------------------------------- meta --

/// Position of flag `f` in the request, for effects that depend on order.
fn flag_pos(flags: &MetaFlags, f: u8) -> Option<usize> {
    flags.list.iter().position(|m| m.flag == f)
}

/// Whether `T` was sent before flag `f` (memcached applies flags in order).
fn ttl_before(flags: &MetaFlags, f: u8) -> bool {
    matches!((flag_pos(flags, b'T'), flag_pos(flags, f)), (Some(t), Some(p)) if t < p)
}

/// `mg <key> <flags>*`
fn meta_get(shared: &Shared, key: &Bytes, f: &MetaFlags, out: &mut BytesMut, now: u64) {
    let stats = &shared.memcache;
    let store = &shared.store;
    let vivify = f.vivify_ttl.map(|t| Expiry::from_exptime(t, now));
    let new_ttl = f.ttl.map(|t| Expiry::from_exptime(t, now));
    // Room is made before the key's shard is locked (eviction locks shards).
    let room = vivify.is_none() || store.make_room();
    let clock = store.clock_ms();
    let mut slot = store.slot(MEMCACHE_DB, key, now);
    let mut created = false;
    if let (None, Some(expiry), true) = (slot.peek(), vivify, room) {
        // N: a miss creates an empty item and this client wins the recache.
        let cas = f.new_cas.unwrap_or_else(|| store.next_cas());
        slot.put(Entry::new(
            key,
            Value::Str(Bytes::new()),
            expiry.deadline_ms(),
            cas,
            0,
            clock,
        ));
        created = true;
    }
    let (touch_hit, touch_miss, cmd) = if new_ttl.is_some() {
        (&stats.touch_hits, &stats.touch_misses, &stats.cmd_touch)
    } else {
        (&stats.get_hits, &stats.get_misses, &stats.cmd_get)
    };
    count(cmd);
    let hit = match slot.peek() {
        Some(e) => e.str_bytes().map(|v| {
            (
                v,
                e.cas,
                e.flags,
                e.expires_at_ms,
                e.access_ms(clock),
                e.fetched,
            )
        }),
        None => None,
    };
    let Some((value, cas, flags, expires_at, access_ms, fetched)) = hit else {
        drop(slot);
        count(touch_miss);
        response::meta_reply(out, MetaCommand::Get, MetaStatus::Miss, f, key, None);
        return;
    };
    count(touch_hit);
    let marker = stats.markers.get(key, cas);
    // The expiry a flag sees: the new one if T came before it.
    let expiry_seen_by = |flag: u8| match new_ttl {
        Some(t) if ttl_before(f, flag) => t.deadline_ms(),
        _ => expires_at,
    };
    let mut won = created;
    if let Some(r) = f.recache_ttl {
        // R: win the recache when the remaining TTL is below the token.
        let limit = Expiry::from_exptime(r, now).deadline_ms();
        let exp = expiry_seen_by(b'R');
        won |= !marker.win_sent && !created && exp != 0 && exp < limit;
    }
    if marker.stale && !marker.win_sent {
        won = true;
    }
    let view = MetaItemView {
        flags,
        cas,
        size: value.len(),
        ttl_remaining: ttl_secs(expiry_seen_by(b't'), now),
        last_access_secs: clock.saturating_sub(access_ms) / 1000,
        hit_before: fetched,
        value: Some(value),
        won,
        stale: marker.stale,
        win_sent: marker.win_sent,
    };
    if won {
        stats.markers.set(
            key,
            Marker {
                cas,
                stale: marker.stale,
                win_sent: true,
            },
        );
    }
    match new_ttl {
        Some(Expiry::Past) => {
            slot.expire_now();
        }
        Some(expiry) => {
            let no_bump = f.no_bump;
            rewrite_keep_cas(&mut slot, |e| {
                e.expires_at_ms = expiry.deadline_ms();
                if !no_bump {
                    e.touch(clock);
                    e.fetched = true;
                }
            });
        }
        None if !f.no_bump => bump(&mut slot, clock),
        None => {}
    }
    if created && vivify == Some(Expiry::Past) && new_ttl.is_none() {
        slot.expire_now();
    }
    drop(slot);
    response::meta_reply(
        out,
        MetaCommand::Get,
        MetaStatus::Success,
        f,
        key,
        Some(&view),
    );
    if created {
        notify(shared, MEMCACHE_DB, EventClass::NEW_KEY, "new", key);
        notify(shared, MEMCACHE_DB, EventClass::STRING, "set", key);
    }
    if matches!(new_ttl, Some(Expiry::Never | Expiry::At(_))) {
        notify(shared, MEMCACHE_DB, EventClass::GENERIC, "expire", key);
    }
}

/// `ms <key> <datalen> <flags>*\r\n<data>\r\n`
fn meta_set(
    shared: &Shared,
    key: &Bytes,
    data: &Bytes,
    mode: StoreMode,
    f: &MetaFlags,
    out: &mut BytesMut,
    now: u64,
) {
    // With C, set and replace become a CAS store (add, append, prepend check it themselves).
    let mode = match (mode, f.compare_cas) {
        (StoreMode::Set | StoreMode::Replace, Some(_)) => StoreMode::Cas,
        (m, _) => m,
    };
    let req = StoreRequest {
        mode,
        key,
        data,
        flags: f.client_flags.unwrap_or(0),
        expiry: f
            .ttl
            .map_or(Expiry::Never, |t| Expiry::from_exptime(t, now)),
        compare_cas: f.compare_cas,
        new_cas: f.new_cas,
        invalidate: f.invalidate,
    };
    let outcome = match store_command(shared, &req, true, now) {
        Ok(o) => o,
        Err(text) => {
            response::error_line(out, text);
            return;
        }
    };
    let (status, view) = match outcome {
        Outcome::Stored { cas } => (
            MetaStatus::Success,
            Some(MetaItemView {
                cas,
                ..MetaItemView::default()
            }),
        ),
        Outcome::NotStored => (MetaStatus::NotStored, None),
        Outcome::Exists => (MetaStatus::Exists, None),
        Outcome::NotFound => (MetaStatus::NotFound, None),
    };
    response::meta_reply(out, MetaCommand::Set, status, f, key, view.as_ref());
}

/// `md <key> <flags>*`: delete; with I mark stale (new CAS, optional T) instead;
/// with x keep the item with an empty value.
fn meta_delete(shared: &Shared, key: &Bytes, f: &MetaFlags, out: &mut BytesMut, now: u64) {
    let stats = &shared.memcache;
    let mut slot = shared.store.slot(MEMCACHE_DB, key, now);
    let status = match slot.peek() {
        None => MetaStatus::NotFound,
        Some(e) if f.compare_cas.is_some_and(|c| c != e.cas) => MetaStatus::Exists,
        Some(_) => MetaStatus::Success,
    };
    let mut event = None;
    if status == MetaStatus::Success {
        count(&stats.delete_hits);
        if f.invalidate {
            let expiry = f.ttl.map(|t| Expiry::from_exptime(t, now));
            if expiry == Some(Expiry::Past) {
                slot.expire_now();
                stats.markers.forget(key);
            } else {
                slot.update(|e| {
                    if let Some(x) = expiry {
                        e.expires_at_ms = x.deadline_ms();
                    }
                });
                if let Some(cas) = f.new_cas {
                    rewrite_keep_cas(&mut slot, |e| e.cas = cas);
                }
                let cas = slot.peek().map_or(0, |e| e.cas);
                // Stale, and the next fetch may win the recache again.
                stats.markers.set(
                    key,
                    Marker {
                        cas,
                        stale: true,
                        win_sent: false,
                    },
                );
                event = expiry.map(|_| (EventClass::GENERIC, "expire"));
            }
        } else if f.remove_value {
            slot.update(|e| e.set_value(Value::Str(Bytes::new())));
            if let Some(cas) = f.new_cas {
                rewrite_keep_cas(&mut slot, |e| e.cas = cas);
            }
            stats.markers.forget(key);
            event = Some((EventClass::STRING, "set"));
        } else {
            slot.remove();
            stats.markers.forget(key);
            event = Some((EventClass::GENERIC, "del"));
        }
    } else {
        count(&stats.delete_misses);
    }
    drop(slot);
    if let Some((class, name)) = event {
        notify(shared, MEMCACHE_DB, class, name, key);
    }
    response::meta_reply(out, MetaCommand::Delete, status, f, key, None);
}

/// `ma <key> <flags>*`: incr (default) or decr by D (default 1); N creates a
/// missing key with J (default 0).
fn meta_arithmetic(
    shared: &Shared,
    key: &Bytes,
    mode: ArithMode,
    f: &MetaFlags,
    out: &mut BytesMut,
    now: u64,
) {
    let stats = &shared.memcache;
    let store = &shared.store;
    if !store.make_room() {
        response::error_line(out, MC_OUT_OF_MEMORY);
        return;
    }
    let incr = mode == ArithMode::Incr;
    let new_ttl = f.ttl.map(|t| Expiry::from_exptime(t, now));
    let vivify = f.vivify_ttl.map(|t| Expiry::from_exptime(t, now));
    let mut slot = store.slot(MEMCACHE_DB, key, now);
    let mut created = false;
    let outcome = match add_delta(
        &mut slot,
        incr,
        f.delta.unwrap_or(1),
        f.compare_cas,
        f.new_cas,
    ) {
        Arith::NotFound => match vivify {
            Some(expiry) => {
                let value = f.initial.unwrap_or(0);
                let text = Bytes::copy_from_slice(itoa::Buffer::new().format(value).as_bytes());
                let cas = f.new_cas.unwrap_or_else(|| store.next_cas());
                slot.put(Entry::new(
                    key,
                    Value::Str(text),
                    expiry.deadline_ms(),
                    cas,
                    0,
                    store.clock_ms(),
                ));
                created = true;
                Arith::Done { value }
            }
            None => Arith::NotFound,
        },
        other => other,
    };
    let (hits, misses) = if incr {
        (&stats.incr_hits, &stats.incr_misses)
    } else {
        (&stats.decr_hits, &stats.decr_misses)
    };
    let (status, view) = match outcome {
        Arith::Done { value } => {
            count(hits);
            if let Some(expiry) = new_ttl {
                // T applies on success, before t is read (memcached 1.6.18).
                if expiry != Expiry::Past {
                    let at = expiry.deadline_ms();
                    rewrite_keep_cas(&mut slot, |e| e.expires_at_ms = at);
                }
            }
            let (cas, expires_at) = slot.peek().map_or((0, 0), |e| (e.cas, e.expires_at_ms));
            let vivified_past = created && vivify == Some(Expiry::Past) && new_ttl.is_none();
            if new_ttl == Some(Expiry::Past) || vivified_past {
                slot.expire_now();
            }
            let view = MetaItemView {
                cas,
                ttl_remaining: ttl_secs(expires_at, now),
                value: Some(Bytes::copy_from_slice(
                    itoa::Buffer::new().format(value).as_bytes(),
                )),
                ..MetaItemView::default()
            };
            (MetaStatus::Success, Some(view))
        }
        Arith::NotFound => {
            count(misses);
            (MetaStatus::NotFound, None)
        }
        Arith::Exists => (MetaStatus::Exists, None),
        Arith::NonNumeric => {
            drop(slot);
            response::error_line(out, MC_NON_NUMERIC);
            return;
        }
    };
    drop(slot);
    if status == MetaStatus::Success {
        if created {
            notify(shared, MEMCACHE_DB, EventClass::NEW_KEY, "new", key);
        }
        notify_arith(shared, key, incr);
    }
    response::meta_reply(out, MetaCommand::Arithmetic, status, f, key, view.as_ref());
}

/// `me <key> [b]`: a debug dump of the item, without counting an access.
fn meta_debug(shared: &Shared, key: &Bytes, base64: bool, out: &mut BytesMut, now: u64) {
    let clock = shared.store.clock_ms();
    let slot = shared.store.slot(MEMCACHE_DB, key, now);
    match slot.peek() {
        Some(e) if matches!(e.value(), ValueRef::Str(_)) => {
            let view = MetaDebugView {
                // memcached prints current_time - exptime: minus the seconds left
                exp: match ttl_secs(e.expires_at_ms, now) {
                    -1 => -1,
                    left => -left,
                },
                la: e.idle_ms(clock) / 1000,
                cas: e.cas,
                fetched: e.fetched,
                cls: 1,
                size: e.charged(),
            };
            response::meta_debug(out, key, base64, &view);
        }
        _ => response::meta_header(out, response::EN, None, b""),
    }
}

// ------------------------------------------------------------------ stats --

/// `stats [settings|items|slabs|sizes|conns|detail ...|reset]`
fn stats_command(shared: &Shared, args: &[Bytes], out: &mut BytesMut, now: u64) {
    match args.first().map(|a| a.as_ref()) {
        None => general_stats(shared, out, now),
        Some(b"settings") => settings_stats(shared, out),
        Some(b"items") => item_stats(shared, out),
        Some(b"slabs") => slab_stats(shared, out),
        Some(b"sizes") => response::stat(out, "sizes_status", "disabled"),
        Some(b"conns") => conn_stats(shared, out),
        Some(b"reset") => {
            shared.memcache.reset();
            response::reset(out);
            return;
        }
        Some(b"detail") => {
            match args.get(1).map(|a| a.as_ref()) {
                Some(b"on") | Some(b"off") => response::ok(out),
                Some(b"dump") => response::end(out),
                _ => response::error_line(out, MC_STATS_DETAIL_USAGE),
            }
            return;
        }
        Some(b"cachedump") => {
            // `stats settings` says dump_enabled no
            response::error_line(out, MC_CACHEDUMP_NOT_ALLOWED);
            return;
        }
        Some(_) => {
            response::error_line(out, "ERROR");
            return;
        }
    }
    response::end(out);
}

/// Keys and charged bytes of database 0, and the longest idle time (ms).
fn keyspace_figures(shared: &Shared, with_age: bool) -> (u64, u64, u64) {
    let clock = shared.store.clock_ms();
    let (mut items, mut bytes, mut oldest) = (0u64, 0u64, 0u64);
    for shard in shared.store.db(MEMCACHE_DB).shards() {
        items += shard.map.len() as u64;
        bytes += shard.charged as u64;
        if with_age {
            for e in shard.map.iter() {
                oldest = oldest.max(e.idle_ms(clock));
            }
        }
    }
    (items, bytes, oldest)
}

fn memcache_connections(shared: &Shared) -> Vec<std::sync::Arc<crate::clients::ClientHandle>> {
    shared
        .clients
        .snapshot()
        .into_iter()
        .filter(|c| c.kind == ClientKind::Memcache)
        .collect()
}

fn worker_threads(shared: &Shared) -> usize {
    match shared.config.read().threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// `stats`: memcached's general statistics, in memcached's order.
fn general_stats(shared: &Shared, out: &mut BytesMut, now: u64) {
    let s = &shared.memcache;
    let n = |c: &AtomicU64| c.load(Relaxed);
    let conns = memcache_connections(shared).len() as u64;
    let (items, bytes, _) = keyspace_figures(shared, false);
    let (user, sys) = crate::stats::cpu_seconds();
    let maxclients = shared.config.read().maxclients as u64;
    response::stat_u64(out, "pid", u64::from(std::process::id()));
    response::stat_u64(out, "uptime", shared.started.elapsed().as_secs());
    response::stat_u64(out, "time", now / 1000);
    response::stat(out, "version", VERSION);
    response::stat(out, "libevent", "none");
    response::stat_u64(out, "pointer_size", usize::BITS.into());
    response::stat(out, "rusage_user", format!("{user:.6}"));
    response::stat(out, "rusage_system", format!("{sys:.6}"));
    response::stat_u64(out, "max_connections", maxclients);
    response::stat_u64(out, "curr_connections", conns);
    response::stat_u64(out, "total_connections", n(&s.total_connections));
    response::stat_u64(
        out,
        "rejected_connections",
        n(&shared.stats.rejected_connections),
    );
    response::stat_u64(out, "connection_structures", conns);
    let counters: [(&str, u64); 26] = [
        ("cmd_get", n(&s.cmd_get)),
        ("cmd_set", n(&s.cmd_set)),
        ("cmd_flush", n(&s.cmd_flush)),
        ("cmd_touch", n(&s.cmd_touch)),
        ("cmd_meta", n(&s.cmd_meta)),
        ("get_hits", n(&s.get_hits)),
        ("get_misses", n(&s.get_misses)),
        ("get_expired", 0),
        ("get_flushed", n(&s.get_flushed)),
        ("delete_misses", n(&s.delete_misses)),
        ("delete_hits", n(&s.delete_hits)),
        ("incr_misses", n(&s.incr_misses)),
        ("incr_hits", n(&s.incr_hits)),
        ("decr_misses", n(&s.decr_misses)),
        ("decr_hits", n(&s.decr_hits)),
        ("cas_misses", n(&s.cas_misses)),
        ("cas_hits", n(&s.cas_hits)),
        ("cas_badval", n(&s.cas_badval)),
        ("touch_hits", n(&s.touch_hits)),
        ("touch_misses", n(&s.touch_misses)),
        ("store_too_large", 0),
        ("store_no_memory", n(&s.store_no_memory)),
        ("auth_cmds", 0),
        ("auth_errors", 0),
        ("bytes_read", n(&shared.stats.total_net_input_bytes)),
        ("bytes_written", n(&shared.stats.total_net_output_bytes)),
    ];
    for (name, v) in counters {
        response::stat_u64(out, name, v);
    }
    response::stat_u64(out, "limit_maxbytes", n(&shared.store.limits.maxmemory));
    response::stat_u64(out, "accepting_conns", 1);
    response::stat_u64(out, "listen_disabled_num", 0);
    response::stat_u64(out, "threads", worker_threads(shared) as u64);
    response::stat_u64(out, "conn_yields", 0);
    response::stat_u64(out, "hash_power_level", 16);
    response::stat_u64(out, "hash_bytes", 524288);
    response::stat_u64(out, "hash_is_expanding", 0);
    response::stat_u64(out, "malloc_fails", 0);
    response::stat_u64(out, "bytes", bytes);
    response::stat_u64(out, "curr_items", items);
    response::stat_u64(out, "total_items", n(&s.total_items));
    response::stat_u64(out, "expired_unfetched", 0);
    response::stat_u64(out, "evicted_unfetched", 0);
    response::stat_u64(out, "evicted_active", 0);
    response::stat_u64(out, "evictions", n(&shared.store.evicted_keys));
    response::stat_u64(out, "reclaimed", n(&shared.store.expired_keys));
}

/// `stats settings`
fn settings_stats(shared: &Shared, out: &mut BytesMut) {
    let (maxclients, port, bind, item_size_max, policy) = {
        let c = shared.config.read();
        (
            c.maxclients,
            c.memcache_port,
            c.bind.join(","),
            c.item_size_max,
            c.maxmemory_policy,
        )
    };
    let evictions = if policy == crate::store::EvictionPolicy::NoEviction {
        "off"
    } else {
        "on"
    };
    let threads = worker_threads(shared) as u64;
    let oldest = shared.memcache.flush_at_ms.load(Relaxed) / 1000;
    response::stat_u64(out, "maxbytes", shared.store.limits.maxmemory.load(Relaxed));
    response::stat_u64(out, "maxconns", maxclients as u64);
    response::stat_u64(out, "tcpport", u64::from(port));
    response::stat_u64(out, "udpport", 0);
    response::stat(out, "inter", bind);
    response::stat_u64(
        out,
        "verbosity",
        shared.memcache.verbosity.load(Relaxed).into(),
    );
    response::stat_u64(out, "oldest", oldest);
    response::stat(out, "evictions", evictions);
    response::stat(out, "domain_socket", "NULL");
    response::stat(out, "umask", "700");
    response::stat(out, "shutdown_command", "no");
    response::stat(out, "growth_factor", "1.25");
    response::stat_u64(out, "chunk_size", 48);
    response::stat_u64(out, "num_threads", threads);
    response::stat_u64(out, "num_threads_per_udp", threads);
    response::stat(out, "stat_key_prefix", ":");
    response::stat(out, "detail_enabled", "no");
    response::stat_u64(out, "reqs_per_event", 20);
    response::stat(out, "cas_enabled", "yes");
    response::stat_u64(out, "tcp_backlog", 1024);
    response::stat(out, "binding_protocol", "ascii");
    response::stat(out, "auth_enabled_sasl", "no");
    response::stat(out, "auth_enabled_ascii", "no");
    response::stat_u64(out, "item_size_max", item_size_max);
    response::stat(out, "maxconns_fast", "yes");
    response::stat(out, "lru_crawler", "no");
    response::stat(out, "flush_enabled", "yes");
    response::stat(out, "dump_enabled", "no");
    response::stat(out, "hash_algorithm", "foldhash");
    response::stat(out, "lru_maintainer_thread", "no");
    response::stat_u64(out, "idle_timeout", shared.config.read().timeout_secs);
    response::stat(out, "ssl_enabled", "no");
}

/// `stats items`: herald has no slab classes; everything is reported as class 1.
fn item_stats(shared: &Shared, out: &mut BytesMut) {
    let s = &shared.memcache;
    let (items, _, oldest_ms) = keyspace_figures(shared, true);
    if items == 0 {
        return;
    }
    let figures: [(&str, u64); 12] = [
        ("number", items),
        ("age", oldest_ms / 1000),
        ("evicted", shared.store.evicted_keys.load(Relaxed)),
        ("evicted_nonzero", 0),
        ("evicted_time", 0),
        ("outofmemory", s.store_no_memory.load(Relaxed)),
        ("tailrepairs", 0),
        ("reclaimed", shared.store.expired_keys.load(Relaxed)),
        ("expired_unfetched", 0),
        ("evicted_unfetched", 0),
        ("evicted_active", 0),
        ("crawler_reclaimed", 0),
    ];
    for (name, v) in figures {
        response::stat_u64(out, format!("items:1:{name}"), v);
    }
}

/// `stats slabs`: one pseudo class holding every item, chunks sized to the
/// average item.
fn slab_stats(shared: &Shared, out: &mut BytesMut) {
    let s = &shared.memcache;
    let n = |c: &AtomicU64| c.load(Relaxed);
    let (items, bytes, _) = keyspace_figures(shared, false);
    if items > 0 {
        const PAGE_BYTES: u64 = 1024 * 1024;
        let chunk = bytes.div_ceil(items).max(1);
        let per_page = (PAGE_BYTES / chunk).max(1);
        let pages = items.div_ceil(per_page);
        let figures: [(&str, u64); 16] = [
            ("chunk_size", chunk),
            ("chunks_per_page", per_page),
            ("total_pages", pages),
            ("total_chunks", pages * per_page),
            ("used_chunks", items),
            ("free_chunks", pages * per_page - items),
            ("free_chunks_end", 0),
            ("mem_requested", bytes),
            ("get_hits", n(&s.get_hits)),
            ("cmd_set", n(&s.cmd_set)),
            ("delete_hits", n(&s.delete_hits)),
            ("incr_hits", n(&s.incr_hits)),
            ("decr_hits", n(&s.decr_hits)),
            ("cas_hits", n(&s.cas_hits)),
            ("cas_badval", n(&s.cas_badval)),
            ("touch_hits", n(&s.touch_hits)),
        ];
        for (name, v) in figures {
            response::stat_u64(out, format!("1:{name}"), v);
        }
    }
    response::stat_u64(out, "active_slabs", u64::from(items > 0));
    response::stat_u64(out, "total_malloced", bytes);
}

/// `stats conns`: one block per memcached connection, numbered by client id.
fn conn_stats(shared: &Shared, out: &mut BytesMut) {
    let now = shared.uptime_ms();
    let mut name = String::new();
    for c in memcache_connections(shared) {
        let mut stat = |field: &str, value: String| {
            name.clear();
            let _ = write!(name, "{}:{field}", c.id);
            response::stat(out, &name, value);
        };
        stat("addr", format!("tcp:{}", c.addr));
        stat("listen_addr", format!("tcp:{}", c.laddr));
        stat("state", "conn_parse_cmd".to_string());
        stat("secs_since_last_cmd", (c.idle_ms(now) / 1000).to_string());
    }
}
