//! `maxmemory` eviction, sampled as Redis samples.
//!
//! Before a write that needs memory, the dispatcher calls `Store::make_room`.
//! While the bytes charged for all entries exceed `maxmemory`, it samples
//! `maxmemory-samples` keys spread over a few random shards (only keys with a
//! TTL for the volatile-* policies), and evicts the best candidate: longest idle
//! (LRU), least frequently used after decay (LFU), nearest expiry (TTL), or any
//! (random). Under `noeviction`, or when nothing is evictable, the write is
//! refused with the OOM error.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};

use bytes::Bytes;

use super::{Entry, Store, SHARDS_PER_DB};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictionPolicy {
    NoEviction,
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
    AllKeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl EvictionPolicy {
    pub const ALL: [EvictionPolicy; 8] = [
        EvictionPolicy::NoEviction,
        EvictionPolicy::AllKeysLru,
        EvictionPolicy::VolatileLru,
        EvictionPolicy::AllKeysLfu,
        EvictionPolicy::VolatileLfu,
        EvictionPolicy::AllKeysRandom,
        EvictionPolicy::VolatileRandom,
        EvictionPolicy::VolatileTtl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EvictionPolicy::NoEviction => "noeviction",
            EvictionPolicy::AllKeysLru => "allkeys-lru",
            EvictionPolicy::VolatileLru => "volatile-lru",
            EvictionPolicy::AllKeysLfu => "allkeys-lfu",
            EvictionPolicy::VolatileLfu => "volatile-lfu",
            EvictionPolicy::AllKeysRandom => "allkeys-random",
            EvictionPolicy::VolatileRandom => "volatile-random",
            EvictionPolicy::VolatileTtl => "volatile-ttl",
        }
    }

    pub fn parse(name: &str) -> Option<EvictionPolicy> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    fn volatile_only(self) -> bool {
        matches!(
            self,
            EvictionPolicy::VolatileLru
                | EvictionPolicy::VolatileLfu
                | EvictionPolicy::VolatileRandom
                | EvictionPolicy::VolatileTtl
        )
    }

    /// Lower is evicted first.
    fn score(self, e: &Entry, clock_ms: u64) -> u64 {
        match self {
            EvictionPolicy::AllKeysLru | EvictionPolicy::VolatileLru => {
                u64::MAX - e.idle_ms(clock_ms)
            }
            EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu => {
                e.lfu_decayed(clock_ms) as u64
            }
            EvictionPolicy::VolatileTtl => e.expires_at_ms,
            _ => 0,
        }
    }
}

/// Limits CONFIG SET may change at any time (read on every write).
pub struct MemoryLimits {
    /// Bytes; 0 = unlimited.
    pub maxmemory: AtomicU64,
    policy: AtomicU8,
    pub samples: AtomicU32,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        MemoryLimits {
            maxmemory: AtomicU64::new(0),
            policy: AtomicU8::new(0),
            samples: AtomicU32::new(5),
        }
    }
}

impl MemoryLimits {
    pub fn policy(&self) -> EvictionPolicy {
        EvictionPolicy::ALL[self.policy.load(Relaxed) as usize % EvictionPolicy::ALL.len()]
    }

    pub fn set_policy(&self, p: EvictionPolicy) {
        let i = EvictionPolicy::ALL
            .iter()
            .position(|x| *x == p)
            .unwrap_or(0);
        self.policy.store(i as u8, Relaxed);
    }
}

/// Shards sampled per eviction (keys are drawn across them).
const SHARDS_PER_SAMPLE: usize = 4;
/// Most keys evicted by one `make_room` call before giving up.
const MAX_EVICTIONS_PER_CALL: usize = 10_000;

impl Store {
    /// Whether a write may go ahead: true when under `maxmemory` (or unlimited),
    /// after evicting as the policy allows.
    pub fn make_room(&self) -> bool {
        let max = self.limits.maxmemory.load(Relaxed);
        if max == 0 || self.used_bytes() <= max {
            return true;
        }
        let policy = self.limits.policy();
        if policy == EvictionPolicy::NoEviction {
            return false;
        }
        for _ in 0..MAX_EVICTIONS_PER_CALL {
            if self.used_bytes() <= max {
                return true;
            }
            if !self.evict_one(policy) {
                return false;
            }
        }
        self.used_bytes() <= max
    }

    /// Sample and evict one key; false when nothing is evictable.
    fn evict_one(&self, policy: EvictionPolicy) -> bool {
        let samples = self.limits.samples.load(Relaxed).max(1) as usize;
        let clock = self.clock_ms();
        let volatile_only = policy.volatile_only();
        let mut best: Option<(u64, usize, usize, Bytes)> = None;
        let dbs = self.databases();
        let start_db = fastrand::usize(..dbs);
        for d in 0..dbs {
            let db_index = (start_db + d) % dbs;
            let db = self.db(db_index);
            let mut shards_tried = 0;
            let start_shard = fastrand::usize(..SHARDS_PER_DB);
            for s in 0..SHARDS_PER_DB {
                let shard_no = (start_shard + s) % SHARDS_PER_DB;
                let shard = db.lock(shard_no);
                let len = shard.map.len();
                if len == 0 || (volatile_only && shard.volatile == 0) {
                    continue;
                }
                let per_shard = samples.div_ceil(SHARDS_PER_SAMPLE);
                let mut consider = |e: &Entry| {
                    let score = policy.score(e, clock);
                    if best.as_ref().is_none_or(|b| score < b.0) {
                        best = Some((score, db_index, shard_no, Bytes::copy_from_slice(e.key())));
                    }
                };
                let mut drawn = 0;
                for _ in 0..per_shard * 4 {
                    if drawn == per_shard {
                        break;
                    }
                    let Some(e) = shard.map.sample() else {
                        continue;
                    };
                    if volatile_only && e.expires_at_ms == 0 {
                        continue;
                    }
                    drawn += 1;
                    consider(e);
                }
                if drawn == 0 && volatile_only {
                    // Few keys with a TTL among many without: random draws
                    // missed them, but the shard has some, so walk to them
                    // (else eviction would stop while evictable keys remain).
                    shard
                        .map
                        .iter()
                        .filter(|e| e.expires_at_ms != 0)
                        .take(per_shard)
                        .for_each(&mut consider);
                }
                shards_tried += 1;
                if shards_tried == SHARDS_PER_SAMPLE {
                    break;
                }
            }
            if best.is_some() {
                break;
            }
        }
        let Some((_, db_index, _, key)) = best else {
            return false;
        };
        let mut slot = self.slot(db_index, &key, super::unix_ms());
        if slot.remove().is_some() {
            self.notify_evicted(db_index, &key);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Value;

    fn fill(store: &Store, n: usize, ttl_every: usize) {
        for i in 0..n {
            let ttl = if ttl_every > 0 && i % ttl_every == 0 {
                u64::MAX / 2
            } else {
                0
            };
            store.slot(0, format!("key:{i}").as_bytes(), 0).insert(
                Value::Str(vec![b'x'; 100].into()),
                ttl,
                0,
            );
        }
    }

    #[test]
    fn noeviction_refuses() {
        let store = Store::new(1);
        fill(&store, 100, 0);
        store.limits.maxmemory.store(1000, Relaxed);
        assert!(!store.make_room());
        assert_eq!(store.db(0).len(), 100);
    }

    #[test]
    fn allkeys_lru_evicts_down_to_the_limit_keeping_recent_keys() {
        let store = Store::new(1);
        store.limits.set_policy(EvictionPolicy::AllKeysLru);
        fill(&store, 1000, 0);
        std::thread::sleep(std::time::Duration::from_millis(5));
        // Touch the last 10 keys so they are the most recent.
        for i in 990..1000 {
            store.slot(0, format!("key:{i}").as_bytes(), 0).get();
        }
        store
            .limits
            .maxmemory
            .store(store.used_bytes() / 2, Relaxed);
        assert!(store.make_room());
        assert!(store.used_bytes() <= store.limits.maxmemory.load(Relaxed));
        assert!(store.evicted_keys.load(Relaxed) >= 400);
        for i in 990..1000 {
            assert!(
                store.slot(0, format!("key:{i}").as_bytes(), 0).exists(),
                "recent key:{i} evicted"
            );
        }
    }

    #[test]
    fn volatile_policies_only_take_keys_with_ttl() {
        for policy in [
            EvictionPolicy::VolatileLru,
            EvictionPolicy::VolatileRandom,
            EvictionPolicy::VolatileTtl,
            EvictionPolicy::VolatileLfu,
        ] {
            let store = Store::new(1);
            store.limits.set_policy(policy);
            fill(&store, 100, 10);
            store.limits.maxmemory.store(1, Relaxed);
            assert!(!store.make_room(), "{policy:?}");
            assert_eq!(store.db(0).len(), 90, "{policy:?}");
            assert_eq!(store.db(0).volatile_len(), 0);
        }
    }

    #[test]
    fn policy_names_round_trip() {
        for p in EvictionPolicy::ALL {
            assert_eq!(EvictionPolicy::parse(p.name()), Some(p));
        }
        assert_eq!(EvictionPolicy::parse("nope"), None);
    }
}
