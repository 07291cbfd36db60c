//! Consumer groups of a stream: the group's last delivered ID and read
//! counter, its pending entries list (PEL) and its consumers.
//!
//! Redis's model (t_stream.c, stream.h): every entry delivered to a consumer
//! without NOACK gets a pending entry (owner, last delivery time, delivery
//! count) in the group's PEL, and the same ID in its owner's own PEL, until
//! XACK removes both. An entry has one owner at a time: delivering it again
//! (after XGROUP SETID) or claiming it moves it. Both views are kept here
//! behind methods, so they cannot disagree: the group PEL maps ID to its
//! pending entry (which names the owner), each consumer keeps the set of
//! IDs it owns.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::stream_log::StreamId;

/// Bytes charged per group beyond its name (its maps and counters).
pub const GROUP_OVERHEAD_BYTES: usize = 96;
/// Bytes charged per consumer beyond its name.
pub const CONSUMER_OVERHEAD_BYTES: usize = 80;
/// Bytes charged per pending entry (the group PEL node and the owner's).
pub const PENDING_ENTRY_OVERHEAD_BYTES: usize = 96;

/// One delivered, not yet acknowledged entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEntry {
    /// The consumer it was last delivered to (a key of `consumers`).
    pub consumer: Bytes,
    /// Unix milliseconds of the last delivery (or what XCLAIM IDLE/TIME set).
    pub delivery_time_ms: u64,
    /// How many times it was delivered.
    pub delivery_count: u64,
}

/// One consumer of a group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumer {
    /// Unix milliseconds of the last time the consumer read or claimed.
    pub seen_time_ms: u64,
    /// The IDs it owns in the group PEL.
    pending: BTreeSet<StreamId>,
}

impl Consumer {
    /// The IDs it owns, ascending.
    pub fn pending(&self) -> &BTreeSet<StreamId> {
        &self.pending
    }
}

/// One consumer group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerGroup {
    /// Entries up to this ID were delivered; `>` reads after it.
    pub last_id: StreamId,
    /// Redis 7's entries-read: the logical read counter of `last_id`, or
    /// None when it is not known (SCG_INVALID_ENTRIES_READ).
    pub entries_read: Option<i64>,
    pel: BTreeMap<StreamId, PendingEntry>,
    consumers: BTreeMap<Bytes, Consumer>,
    /// Sum of the consumers' name lengths (for the charge).
    name_bytes: usize,
}

impl ConsumerGroup {
    pub fn new(last_id: StreamId, entries_read: Option<i64>) -> Self {
        ConsumerGroup {
            last_id,
            entries_read,
            ..Default::default()
        }
    }

    /// The group PEL, ascending by ID.
    pub fn pel(&self) -> &BTreeMap<StreamId, PendingEntry> {
        &self.pel
    }

    /// Consumers by name, ascending (byte order, as Redis's rax).
    pub fn consumers(&self) -> &BTreeMap<Bytes, Consumer> {
        &self.consumers
    }

    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        self.consumers.get(name)
    }

    /// Look a consumer up, refreshing its seen time (SLC_DEFAULT), or create
    /// it. True if it was created.
    pub fn touch_consumer(&mut self, name: &[u8], now_ms: u64) -> bool {
        if let Some(c) = self.consumers.get_mut(name) {
            c.seen_time_ms = now_ms;
            return false;
        }
        self.insert_consumer(name, now_ms);
        true
    }

    /// XGROUP CREATECONSUMER: false if it exists (its seen time is kept).
    pub fn create_consumer(&mut self, name: &[u8], now_ms: u64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.insert_consumer(name, now_ms);
        true
    }

    fn insert_consumer(&mut self, name: &[u8], now_ms: u64) {
        self.name_bytes += name.len();
        self.consumers.insert(
            Bytes::copy_from_slice(name),
            Consumer {
                seen_time_ms: now_ms,
                pending: BTreeSet::new(),
            },
        );
    }

    /// XGROUP DELCONSUMER: remove the consumer and its pending entries;
    /// returns how many it had, None if there was no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        self.name_bytes -= name.len();
        for id in &consumer.pending {
            self.pel.remove(id);
        }
        Some(consumer.pending.len())
    }

    /// XACK one ID: false if it was not pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(p) => {
                if let Some(c) = self.consumers.get_mut(&p.consumer) {
                    c.pending.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// A new delivery of `id` to `consumer`: a pending entry with one
    /// delivery at `now_ms`, moved from any previous owner.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now_ms: u64) {
        self.set_owner(id, consumer, now_ms, 1);
    }

    /// Give `id` to `consumer` (created if missing, seen at the delivery
    /// time), with this delivery time and count, creating the pending entry
    /// if there is none (XCLAIM FORCE) and moving it from any other owner.
    pub fn set_owner(
        &mut self,
        id: StreamId,
        consumer: &[u8],
        delivery_time_ms: u64,
        delivery_count: u64,
    ) {
        if !self.consumers.contains_key(consumer) {
            self.insert_consumer(consumer, delivery_time_ms);
        }
        let Some(owner) = self
            .consumers
            .get_key_value(consumer)
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        let previous = match self.pel.get_mut(&id) {
            Some(p) => {
                p.delivery_time_ms = delivery_time_ms;
                p.delivery_count = delivery_count;
                (p.consumer != owner).then(|| std::mem::replace(&mut p.consumer, owner.clone()))
            }
            None => {
                self.pel.insert(
                    id,
                    PendingEntry {
                        consumer: owner.clone(),
                        delivery_time_ms,
                        delivery_count,
                    },
                );
                None
            }
        };
        if let Some(prev) = previous {
            if let Some(c) = self.consumers.get_mut(&prev) {
                c.pending.remove(&id);
            }
        }
        if let Some(c) = self.consumers.get_mut(&owner) {
            c.pending.insert(id);
        }
    }

    /// A pending entry, for in-place changes of its delivery time and count.
    pub fn pending_mut(&mut self, id: StreamId) -> Option<&mut PendingEntry> {
        self.pel.get_mut(&id)
    }

    /// Bytes charged for the group (its name is the caller's to add).
    pub fn charged_bytes(&self) -> usize {
        GROUP_OVERHEAD_BYTES
            + self.name_bytes
            + self.consumers.len() * CONSUMER_OVERHEAD_BYTES
            + self.pel.len() * PENDING_ENTRY_OVERHEAD_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId::new(ms, 0)
    }

    #[test]
    fn group_and_consumer_pels_agree() {
        let mut g = ConsumerGroup::new(StreamId::MIN, Some(0));
        assert!(g.touch_consumer(b"alice", 10));
        assert!(!g.touch_consumer(b"alice", 11));
        assert_eq!(g.consumer(b"alice").unwrap().seen_time_ms, 11);
        g.deliver(id(1), b"alice", 20);
        g.deliver(id(2), b"alice", 20);
        assert!(g.create_consumer(b"bob", 30));
        assert!(!g.create_consumer(b"bob", 31));
        // Delivered again to bob: moves, one delivery.
        g.deliver(id(2), b"bob", 40);
        assert_eq!(g.pel()[&id(2)].consumer, "bob");
        assert_eq!(g.pel()[&id(2)].delivery_count, 1);
        assert_eq!(g.consumer(b"alice").unwrap().pending().len(), 1);
        assert_eq!(g.consumer(b"bob").unwrap().pending().len(), 1);
        // Claimed with a count, then counted in place.
        g.set_owner(id(1), b"bob", 50, 1);
        assert_eq!(g.pel()[&id(1)].delivery_time_ms, 50);
        g.pending_mut(id(1)).unwrap().delivery_count += 1;
        assert_eq!(g.pel()[&id(1)].delivery_count, 2);
        assert!(g.consumer(b"alice").unwrap().pending().is_empty());
        assert!(g.ack(id(1)));
        assert!(!g.ack(id(1)));
        assert_eq!(g.delete_consumer(b"bob"), Some(1));
        assert_eq!(g.delete_consumer(b"bob"), None);
        assert!(g.pel().is_empty());
        assert_eq!(
            g.charged_bytes(),
            GROUP_OVERHEAD_BYTES + 5 + CONSUMER_OVERHEAD_BYTES
        );
    }
}
