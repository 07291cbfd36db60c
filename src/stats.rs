//! Server-wide counters, named as Redis's INFO fields so dashboards work unchanged.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) total_connections_received: AtomicU64,
    pub(crate) total_commands_processed: AtomicU64,
    pub(crate) rejected_connections: AtomicU64,
    pub(crate) total_net_input_bytes: AtomicU64,
    pub(crate) total_net_output_bytes: AtomicU64,
    pub(crate) keyspace_hits: AtomicU64,
    pub(crate) keyspace_misses: AtomicU64,
    pub(crate) total_error_replies: AtomicU64,
    /// Changes to the dataset (Redis's `server.dirty`): INFO
    /// rdb_changes_since_last_save. herald never saves, so it only grows.
    pub(crate) dirty: AtomicU64,
    /// Error replies by code (INFO errorstats), in code order as Redis's rax.
    pub(crate) error_codes: parking_lot::Mutex<std::collections::BTreeMap<Vec<u8>, u64>>,
}

impl Stats {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// Count an error reply under its code (Redis's afterErrorReply): the
    /// first word when a space comes within 32 bytes, else ERR.
    pub(crate) fn count_error(&self, text: &[u8]) {
        let head = &text[..text.len().min(31)];
        let code = match memchr::memchr(b' ', head) {
            Some(end) => &text[..end],
            None => b"ERR",
        };
        *self.error_codes.lock().entry(code.to_vec()).or_insert(0) += 1;
    }

    /// CONFIG RESETSTAT.
    pub(crate) fn reset(&self) {
        self.error_codes.lock().clear();
        for c in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.rejected_connections,
            &self.total_net_input_bytes,
            &self.total_net_output_bytes,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.total_error_replies,
        ] {
            c.store(0, Relaxed);
        }
    }
}

/// User and system CPU seconds this process has used (INFO cpu, memcached
/// `rusage_user`/`rusage_system`), from `/proc/self/stat`; zeros elsewhere.
pub(crate) fn cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    (ticks(11), ticks(12))
}
