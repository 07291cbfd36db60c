//! Active expiry: the cron reclaims expired keys nobody reads.
//!
//! Each cycle walks the shards that hold keys with a TTL, drawing up to
//! `SAMPLES_PER_SHARD` random entries from each and removing those past their
//! deadline; a shard whose draws were more than a quarter expired is drawn from
//! again. The cycle stops when its time budget is spent (a fraction of the cron
//! period, as Redis's ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC) and resumes where it
//! stopped on the next tick, so its CPU share stays bounded.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use super::{Store, SHARDS_PER_DB};

const SAMPLES_PER_SHARD: usize = 20;

/// Where the next cycle resumes (database * SHARDS_PER_DB + shard).
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

impl Store {
    /// Run one active-expiry cycle for at most `budget`; returns keys expired.
    pub fn active_expire_cycle(&self, budget: Duration, now_ms: u64) -> usize {
        let started = Instant::now();
        let total = self.databases() * SHARDS_PER_DB;
        let mut expired = 0;
        let mut position = NEXT_SHARD.load(Relaxed) % total;
        for _ in 0..total {
            if started.elapsed() >= budget {
                break;
            }
            let (db, shard_no) = (position / SHARDS_PER_DB, position % SHARDS_PER_DB);
            position = (position + 1) % total;
            loop {
                let mut due = Vec::new();
                let mut drawn_volatile = 0;
                {
                    let shard = self.db(db).lock(shard_no);
                    if shard.volatile == 0 {
                        break;
                    }
                    for _ in 0..SAMPLES_PER_SHARD {
                        if let Some(e) = shard.map.sample() {
                            if e.expires_at_ms != 0 {
                                drawn_volatile += 1;
                                if e.is_expired(now_ms) {
                                    due.push(e.key().to_vec());
                                }
                            }
                        }
                    }
                }
                // Random draws may pick one key twice.
                due.sort_unstable();
                due.dedup();
                let found = due.len();
                for key in due {
                    // The slot expires it lazily (and notifies) if still due.
                    drop(self.slot(db, &key, now_ms));
                }
                expired += found;
                if drawn_volatile == 0 || found * 4 <= drawn_volatile || started.elapsed() >= budget
                {
                    break;
                }
            }
        }
        NEXT_SHARD.store(position, Relaxed);
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Value;

    #[test]
    fn cycle_reclaims_expired_keys_without_reads() {
        let store = Store::new(1);
        for i in 0..5000 {
            let ttl = if i % 2 == 0 { 1000 } else { 0 };
            store
                .slot(0, format!("k{i}").as_bytes(), 0)
                .insert(Value::Str("v".into()), ttl, 0);
        }
        let mut total = 0;
        for _ in 0..200 {
            total += store.active_expire_cycle(Duration::from_millis(50), 2000);
            if store.db(0).volatile_len() == 0 {
                break;
            }
        }
        assert_eq!(total, 2500);
        assert_eq!(store.db(0).len(), 2500);
        assert_eq!(store.expired_keys.load(Relaxed), 2500);
    }
}
