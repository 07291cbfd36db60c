//! A stream value: its entries (`StreamLog`), the IDs and counters Redis keeps
//! beside them, and its consumer groups.

use std::collections::BTreeMap;

use bytes::Bytes;

pub use super::stream_log::{NodeLimits, StreamEntry, StreamId, StreamLog};

/// A stream key's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamValue {
    pub log: StreamLog,
    /// The greatest ID ever added (XADD must go above it), even if deleted.
    pub last_id: StreamId,
    /// The greatest ID deleted by XDEL or XTRIM (Redis 7's max-deleted-entry-id).
    pub max_deleted_id: StreamId,
    /// Entries ever added (Redis 7's entries-added).
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Bytes, ConsumerGroup>,
}

/// One consumer group (filled in by the consumer-group commands).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerGroup {
    pub last_id: StreamId,
}

impl StreamValue {
    /// Bytes charged to the keyspace.
    pub fn charged_bytes(&self) -> usize {
        self.log.charged_bytes() + self.groups.len() * 64
    }
}
