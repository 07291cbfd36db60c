//! A stream value: its entries (`StreamLog`), the IDs and counters Redis keeps
//! beside them, and its consumer groups (`stream_groups`).
//!
//! What is computed here rather than stored, because Redis keeps it equal to
//! a fact of the log: the recorded first entry ID (the first live entry, 0-0
//! when empty) and the last valid ID (the last live entry).
//!
//! Redis 7's read counters (t_stream.c): `entries_added` counts every XADD
//! ever; a group's `entries_read` is the logical position of its last
//! delivered ID when it can be known, and `lag` is their difference. Where
//! deletions ("tombstones") lie after a group's position the counter cannot
//! be known and both are reported as null (`estimate_distance`).
//!
//! Everything here is built on `StreamLog`'s public API only (its inside is
//! packed nodes, owned separately).

use std::collections::BTreeMap;

use bytes::Bytes;

pub use super::stream_groups::{Consumer, ConsumerGroup, PendingEntry};
pub use super::stream_log::{NodeLimits, StreamEntry, StreamId, StreamLog};

/// Bytes charged for a stream beyond its entries and groups.
pub const STREAM_OVERHEAD_BYTES: usize = 64;
/// The most field and value bytes one entry may hold (Redis's
/// STREAM_LISTPACK_MAX_SIZE).
pub const MAX_ENTRY_BYTES: usize = 1 << 30;

/// A stream key's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamValue {
    pub log: StreamLog,
    /// The greatest ID ever added (XADD must go above it), even if deleted.
    pub last_id: StreamId,
    /// The greatest ID deleted by XDEL (Redis 7's max-deleted-entry-id;
    /// trimming leaves it alone).
    pub max_deleted_id: StreamId,
    /// Entries ever added (Redis 7's entries-added).
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Bytes, ConsumerGroup>,
}

/// The ID an XADD asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewId {
    /// `*`: the current time, or after the last ID.
    Auto,
    /// `<ms>-*`: this time, the sequence after the last ID's if it has it.
    Ms(u64),
    /// `<ms>-<seq>`.
    Exact(StreamId),
}

/// Why an append failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not above the last ID.
    NotGreater,
    /// The fields are too large, or `<ms>-*` ran out of sequence numbers
    /// (Redis answers both "Elements are too large to be stored").
    TooLarge,
}

/// How XADD/XTRIM trim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    MaxLen(usize),
    MinId(StreamId),
}

/// One entry delivered by a history read of a consumer group: its fields,
/// or None when the entry was deleted but is still pending.
pub type HistoryEntry = (StreamId, Option<Vec<(Bytes, Bytes)>>);

impl StreamValue {
    /// Live entries.
    pub fn len(&self) -> usize {
        self.log.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    /// Redis's recorded first entry ID: the first live entry, 0-0 when empty.
    pub fn first_id(&self) -> StreamId {
        self.log.first_id().unwrap_or(StreamId::MIN)
    }

    /// The last live entry's ID (Redis's streamLastValidID), 0-0 when empty.
    pub fn last_valid_id(&self) -> StreamId {
        self.log.last_id().unwrap_or(StreamId::MIN)
    }

    /// Add an entry with the ID asked for; returns the ID used.
    pub fn append(
        &mut self,
        id: NewId,
        fields: &[(&[u8], &[u8])],
        now_ms: u64,
        limits: NodeLimits,
    ) -> Result<StreamId, AppendError> {
        let last = self.last_id;
        let id = match id {
            NewId::Auto if now_ms > last.ms => StreamId::new(now_ms, 0),
            // At the very last ID this wraps to 0-0 and fails below, as Redis.
            NewId::Auto => last.next().unwrap_or(StreamId::MIN),
            NewId::Ms(ms) if ms == last.ms => {
                if last.seq == u64::MAX {
                    return Err(AppendError::TooLarge);
                }
                StreamId::new(ms, last.seq + 1)
            }
            NewId::Ms(ms) => StreamId::new(ms, 0),
            NewId::Exact(id) => id,
        };
        if id <= last {
            return Err(AppendError::NotGreater);
        }
        let bytes: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        if bytes > MAX_ENTRY_BYTES {
            return Err(AppendError::TooLarge);
        }
        self.log.push(id, fields, limits);
        self.last_id = id;
        self.entries_added += 1;
        Ok(id)
    }

    /// XDEL one ID: false if there was no such entry.
    pub fn delete(&mut self, id: StreamId) -> bool {
        if !self.log.remove(id) {
            return false;
        }
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        true
    }

    /// Trim by length or minimum ID; `approx` removes whole nodes only and
    /// `limit` caps the entries removed (0 = none). Returns how many went.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: usize) -> usize {
        match how {
            Trim::MaxLen(n) => self.log.trim_maxlen(n, approx, limit),
            Trim::MinId(id) => self.log.trim_minid(id, approx, limit),
        }
    }

    /// Whether a deleted entry may lie in `start..=end` (streamRangeHasTombstones).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        let max_deleted = self.max_deleted_id;
        if self.is_empty() || max_deleted == StreamId::MIN {
            return false;
        }
        if self.first_id() > max_deleted {
            return false;
        }
        start <= max_deleted && max_deleted <= end
    }

    /// The logical read counter of `id` (its distance from the first entry
    /// ever added), when it can be known (streamEstimateDistanceFromFirstEverEntry).
    pub fn estimate_distance(&self, id: StreamId) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.is_empty() && id <= self.last_id {
            return Some(added);
        }
        if id == self.last_id {
            return Some(added);
        }
        if id > self.last_id {
            return None;
        }
        let first = self.first_id();
        if self.max_deleted_id == StreamId::MIN || self.max_deleted_id < first {
            let len = self.len() as i64;
            if id < first {
                return Some(added.wrapping_sub(len));
            }
            if id == first {
                return Some(added.wrapping_sub(len).wrapping_add(1));
            }
        }
        None
    }

    /// A group's lag: entries not yet delivered to it, when it can be known
    /// (streamReplyWithCGLag).
    pub fn lag(&self, group: &ConsumerGroup) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if let Some(read) = group.entries_read {
            if !self.range_has_tombstones(group.last_id, StreamId::MAX) {
                return Some(added.wrapping_sub(read));
            }
        }
        self.estimate_distance(group.last_id)
            .map(|read| added.wrapping_sub(read))
    }

    /// Deliver the entries after `after` to `consumer` of `group` (a `>`
    /// read): at most `count` (None = all), moving the group's last ID and
    /// read counter and, unless `noack`, adding them to the PELs. None when
    /// there is no such group.
    pub fn read_group_new(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        after: StreamId,
        count: Option<usize>,
        noack: bool,
        now_ms: u64,
    ) -> Option<Vec<StreamEntry>> {
        let Some(start) = after.next() else {
            return self.groups.contains_key(group).then(Vec::new);
        };
        let entries = self.log.range(start, StreamId::MAX, false, count);
        // The counter rules read the stream while the group changes: the
        // group is taken out meanwhile.
        let (name, mut g) = self.groups.remove_entry(group)?;
        for e in &entries {
            if e.id > g.last_id {
                if g.entries_read.is_some() && !self.range_has_tombstones(e.id, StreamId::MAX) {
                    g.entries_read = g.entries_read.map(|n| n.wrapping_add(1));
                } else if self.entries_added != 0 {
                    g.entries_read = self.estimate_distance(e.id);
                }
                g.last_id = e.id;
            }
            if !noack {
                g.deliver(e.id, consumer, now_ms);
            }
        }
        self.groups.insert(name, g);
        Some(entries)
    }

    /// A history read: `consumer`'s own pending entries from `start`, at most
    /// `count`; each read counts a delivery (entries deleted meanwhile come
    /// back without fields and are not counted). None when there is no such
    /// group; an unknown consumer reads nothing.
    pub fn read_group_history(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        start: StreamId,
        count: Option<usize>,
        now_ms: u64,
    ) -> Option<Vec<HistoryEntry>> {
        let g = self.groups.get_mut(group)?;
        let ids: Vec<StreamId> = match g.consumer(consumer) {
            Some(c) => c
                .pending()
                .range(start..)
                .take(count.unwrap_or(usize::MAX))
                .copied()
                .collect(),
            None => Vec::new(),
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.log.get(id) {
                Some(e) => {
                    if let Some(p) = g.pending_mut(id) {
                        p.delivery_time_ms = now_ms;
                        p.delivery_count += 1;
                    }
                    out.push((id, Some(e.fields)));
                }
                None => out.push((id, None)),
            }
        }
        Some(out)
    }

    /// Bytes charged to the keyspace.
    pub fn charged_bytes(&self) -> usize {
        STREAM_OVERHEAD_BYTES
            + self.log.charged_bytes()
            + self
                .groups
                .iter()
                .map(|(name, g)| name.len() + g.charged_bytes())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    fn add(s: &mut StreamValue, ms: u64) {
        s.append(
            NewId::Exact(id(ms, 0)),
            &[(b"f", b"v")],
            0,
            NodeLimits::default(),
        )
        .unwrap();
    }

    #[test]
    fn ids_are_generated_as_redis_does() {
        let mut s = StreamValue::default();
        let l = NodeLimits::default();
        assert_eq!(s.append(NewId::Auto, &[], 100, l), Ok(id(100, 0)));
        // The clock went back: the sequence goes on.
        assert_eq!(s.append(NewId::Auto, &[], 50, l), Ok(id(100, 1)));
        assert_eq!(s.append(NewId::Ms(100), &[], 0, l), Ok(id(100, 2)));
        assert_eq!(s.append(NewId::Ms(200), &[], 0, l), Ok(id(200, 0)));
        assert_eq!(
            s.append(NewId::Ms(42), &[], 0, l),
            Err(AppendError::NotGreater)
        );
        assert_eq!(
            s.append(NewId::Exact(id(200, 0)), &[], 0, l),
            Err(AppendError::NotGreater)
        );
        let mut t = StreamValue::default();
        t.append(NewId::Exact(id(1, u64::MAX)), &[], 0, l).unwrap();
        assert_eq!(
            t.append(NewId::Ms(1), &[], 0, l),
            Err(AppendError::TooLarge)
        );
        assert_eq!(t.entries_added, 1);
        assert_eq!(s.entries_added, 4);
    }

    #[test]
    fn lag_and_entries_read_follow_redis() {
        let mut s = StreamValue::default();
        for ms in 1..=5 {
            add(&mut s, ms);
        }
        s.groups.insert(
            Bytes::from_static(b"g"),
            ConsumerGroup::new(StreamId::MIN, None),
        );
        assert_eq!(s.lag(&s.groups[&b"g"[..]]), Some(5));
        s.read_group_new(b"g", b"c", StreamId::MIN, Some(1), false, 0)
            .unwrap();
        assert_eq!(s.groups[&b"g"[..]].entries_read, Some(1));
        assert_eq!(s.lag(&s.groups[&b"g"[..]]), Some(4));
        // A deletion ahead of the group: unknown until it is passed.
        let mut t = s.clone();
        assert!(t.delete(id(3, 0)));
        assert_eq!(t.lag(&t.groups[&b"g"[..]]), None);
        t.read_group_new(b"g", b"c", id(1, 0), None, true, 0)
            .unwrap();
        assert_eq!(t.groups[&b"g"[..]].entries_read, Some(5));
        assert_eq!(t.lag(&t.groups[&b"g"[..]]), Some(0));
        assert_eq!(t.estimate_distance(id(9, 0)), None);
    }

    #[test]
    fn history_reads_count_deliveries_and_show_deleted_entries() {
        let mut s = StreamValue::default();
        add(&mut s, 1);
        add(&mut s, 2);
        s.groups.insert(
            Bytes::from_static(b"g"),
            ConsumerGroup::new(StreamId::MIN, Some(0)),
        );
        s.groups.get_mut(&b"g"[..]).unwrap().touch_consumer(b"c", 0);
        s.read_group_new(b"g", b"c", StreamId::MIN, None, false, 10)
            .unwrap();
        s.delete(id(1, 0));
        let h = s
            .read_group_history(b"g", b"c", StreamId::MIN, None, 20)
            .unwrap();
        assert_eq!(h.len(), 2);
        assert!(h[0].1.is_none() && h[1].1.is_some());
        let g = &s.groups[&b"g"[..]];
        assert_eq!(g.pel()[&id(1, 0)].delivery_count, 1);
        assert_eq!(g.pel()[&id(2, 0)].delivery_count, 2);
        assert_eq!(g.pel()[&id(2, 0)].delivery_time_ms, 20);
        assert_eq!(
            s.read_group_history(b"g", b"nobody", StreamId::MIN, None, 0),
            Some(vec![])
        );
    }
}
