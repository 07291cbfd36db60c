//! A stream's entries, in ID order: the container behind `StreamValue`.
//!
//! This first version keeps each entry in a `BTreeMap`; the packed form
//! (Redis's radix tree of listpacks: blocks of entries, IDs delta-encoded
//! against the block's master ID, field names shared with the block's master
//! entry) replaces the inside without changing this API.

use std::collections::BTreeMap;

use bytes::Bytes;

/// A stream entry ID: milliseconds and a sequence number, ordered as a pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The next ID after this one, None after `MAX`.
    pub fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_add(1).map(|ms| StreamId { ms, seq: 0 }),
        }
    }

    /// The ID before this one, None before `MIN`.
    pub fn prev(self) -> Option<StreamId> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self
                .ms
                .checked_sub(1)
                .map(|ms| StreamId { ms, seq: u64::MAX }),
        }
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One entry, owned: its ID and its field-value pairs in insertion order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamEntry {
    pub id: StreamId,
    pub fields: Vec<(Bytes, Bytes)>,
}

/// How the log groups entries into nodes (Redis's `stream-node-max-bytes`
/// and `stream-node-max-entries`; 0 = no limit). Approximate trimming (`~`)
/// removes whole nodes only, so these decide what `XTRIM ~` leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

/// The entries of one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamLog {
    entries: BTreeMap<StreamId, Vec<(Bytes, Bytes)>>,
    data_bytes: usize,
}

/// Bytes charged per entry beyond its field and value bytes.
const ENTRY_OVERHEAD_BYTES: usize = 48;

impl StreamLog {
    /// Live entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first live entry's ID.
    pub fn first_id(&self) -> Option<StreamId> {
        self.entries.keys().next().copied()
    }

    /// The last live entry's ID.
    pub fn last_id(&self) -> Option<StreamId> {
        self.entries.keys().next_back().copied()
    }

    /// Append an entry. The caller guarantees `id` is greater than every ID
    /// ever appended (the stream's `last_id`).
    pub fn push(&mut self, id: StreamId, fields: &[(&[u8], &[u8])], _limits: NodeLimits) {
        let owned: Vec<(Bytes, Bytes)> = fields
            .iter()
            .map(|(f, v)| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)))
            .collect();
        self.data_bytes += entry_bytes(&owned);
        self.entries.insert(id, owned);
    }

    /// One entry by ID.
    pub fn get(&self, id: StreamId) -> Option<StreamEntry> {
        self.entries.get(&id).map(|fields| StreamEntry {
            id,
            fields: fields.clone(),
        })
    }

    /// Entries with `start <= id <= end`, ascending (or descending when
    /// `rev`), at most `count` of them (None = all).
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        count: Option<usize>,
    ) -> Vec<StreamEntry> {
        if start > end {
            return Vec::new();
        }
        let limit = count.unwrap_or(usize::MAX);
        let to_entry = |(id, fields): (&StreamId, &Vec<(Bytes, Bytes)>)| StreamEntry {
            id: *id,
            fields: fields.clone(),
        };
        let iter = self.entries.range(start..=end);
        if rev {
            iter.rev().take(limit).map(to_entry).collect()
        } else {
            iter.take(limit).map(to_entry).collect()
        }
    }

    /// Delete one entry; false if there was none with this ID.
    pub fn remove(&mut self, id: StreamId) -> bool {
        match self.entries.remove(&id) {
            Some(fields) => {
                self.data_bytes -= entry_bytes(&fields);
                true
            }
            None => false,
        }
    }

    /// XTRIM MAXLEN: delete the oldest entries until at most `maxlen` remain.
    /// `approx` removes whole nodes only; `limit` caps the entries removed
    /// (0 = no cap). Returns how many were removed.
    pub fn trim_maxlen(&mut self, maxlen: usize, _approx: bool, limit: usize) -> usize {
        let mut removed = 0;
        while self.entries.len() > maxlen && (limit == 0 || removed < limit) {
            if let Some((_, fields)) = self.entries.pop_first() {
                self.data_bytes -= entry_bytes(&fields);
                removed += 1;
            }
        }
        removed
    }

    /// XTRIM MINID: delete entries with IDs below `minid` (rules as `trim_maxlen`).
    pub fn trim_minid(&mut self, minid: StreamId, _approx: bool, limit: usize) -> usize {
        let mut removed = 0;
        while self.first_id().is_some_and(|id| id < minid) && (limit == 0 || removed < limit) {
            if let Some((_, fields)) = self.entries.pop_first() {
                self.data_bytes -= entry_bytes(&fields);
                removed += 1;
            }
        }
        removed
    }

    /// Nodes in the log (XINFO STREAM's radix-tree-keys).
    pub fn node_count(&self) -> usize {
        self.entries.len().div_ceil(100)
    }

    /// Bytes charged to the keyspace for the entries.
    pub fn charged_bytes(&self) -> usize {
        self.data_bytes
    }
}

fn entry_bytes(fields: &[(Bytes, Bytes)]) -> usize {
    ENTRY_OVERHEAD_BYTES + fields.iter().map(|(f, v)| f.len() + v.len()).sum::<usize>()
}
