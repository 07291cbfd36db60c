//! One key's entry: its value and the metadata the cache and memcached need.

use std::collections::VecDeque;

use bytes::Bytes;

/// Bytes charged per entry beyond key and value: the map slot, the entry
/// header and allocator rounding (measured: RSS / keys for small values).
pub const ENTRY_OVERHEAD_BYTES: usize = 64;
/// Bytes charged per list element beyond its data (use with
/// `Slot::update_with_charge`: an element of n bytes charges n + this).
pub const LIST_ELEMENT_OVERHEAD_BYTES: usize = 24;

/// What a key holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(Bytes),
    List(VecDeque<Bytes>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
        }
    }

    /// The value with its own allocations. Arguments arrive as zero-copy slices
    /// of a connection's read buffer; storing such a slice would pin the whole
    /// buffer for as long as the key lives, so the store keeps copies.
    pub fn detached(self) -> Value {
        match self {
            Value::Str(b) => Value::Str(Bytes::copy_from_slice(&b)),
            Value::List(items) => Value::List(
                items
                    .into_iter()
                    .map(|i| Bytes::copy_from_slice(&i))
                    .collect(),
            ),
        }
    }

    /// Bytes charged for the value (lists: data plus per-element overhead).
    pub fn charged_bytes(&self) -> usize {
        match self {
            Value::Str(b) => b.len(),
            Value::List(items) => items
                .iter()
                .map(|i| i.len() + LIST_ELEMENT_OVERHEAD_BYTES)
                .sum(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0 = never.
    pub expires_at_ms: u64,
    /// memcached CAS unique; a new one on every modification, from either protocol.
    pub cas: u64,
    /// memcached client flags; RESP writes leave 0.
    pub flags: u32,
    /// Last access, in milliseconds since server start (LRU clock, OBJECT IDLETIME).
    pub access_ms: u64,
    /// Logarithmic access counter (Redis LFU: starts at 5, saturates at 255).
    pub lfu_counter: u8,
    /// memcached `h` flag: fetched since it was stored.
    pub fetched: bool,
    /// Bytes charged for this entry (key + value + overhead), kept current by the store.
    pub charged: usize,
}

/// LFU counter of a new key (Redis LFU_INIT_VAL).
pub const LFU_INIT: u8 = 5;

impl Entry {
    pub fn new(value: Value, expires_at_ms: u64, cas: u64, flags: u32, clock_ms: u64) -> Entry {
        Entry {
            value,
            expires_at_ms,
            cas,
            flags,
            access_ms: clock_ms,
            lfu_counter: LFU_INIT,
            fetched: false,
            charged: 0,
        }
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms != 0 && self.expires_at_ms <= now_ms
    }

    pub fn charge_for(key: &[u8], value: &Value) -> usize {
        key.len() + value.charged_bytes() + ENTRY_OVERHEAD_BYTES
    }

    /// Record an access: LRU clock and Redis's probabilistic LFU increment
    /// (lfu-log-factor 10).
    pub fn touch(&mut self, clock_ms: u64) {
        self.access_ms = clock_ms;
        if self.lfu_counter < 255 {
            let base = (self.lfu_counter.saturating_sub(LFU_INIT)) as f64;
            let p = 1.0 / (base * 10.0 + 1.0);
            if fastrand::f64() < p {
                self.lfu_counter += 1;
            }
        }
    }

    /// The LFU counter after decay: one point per minute idle (lfu-decay-time 1).
    pub fn lfu_decayed(&self, clock_ms: u64) -> u8 {
        let idle_minutes = clock_ms.saturating_sub(self.access_ms) / 60_000;
        self.lfu_counter.saturating_sub(idle_minutes.min(255) as u8)
    }
}
