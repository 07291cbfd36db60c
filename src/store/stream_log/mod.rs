//! A stream's entries, in ID order: the container behind `StreamValue`,
//! packed as Redis packs them.
//!
//! Entries live in nodes (Redis's radix tree of listpacks): a `BTreeMap`
//! keyed by each node's master ID (its first entry's ID), each node one byte
//! buffer holding the master field names and a run of entries, IDs
//! delta-encoded against the master ID and field names left out when they
//! equal the master's (see `node.rs` for the bytes).
//!
//! The rules follow `t_stream.c`:
//! - `push` appends to the last node unless its listpack size (as Redis would
//!   encode it) plus the new entry's field and value bytes reaches
//!   `max_bytes`, or it holds `max_entries` entries, deleted ones included;
//!   then a new node starts (`streamAppendItem`).
//! - `remove` flags the entry deleted in place; a node left with no live
//!   entry goes (`streamIteratorRemoveEntry`).
//! - Trimming (`streamTrim`) walks nodes from the oldest: a node goes whole
//!   when that keeps the stream at or above MAXLEN (or its newest entry is
//!   below MINID); else exact trimming flags entries inside it and stops,
//!   approximate trimming just stops. `limit` stops before a node whose live
//!   entries would take the count removed past it.
//!   Like Redis, a node emptied by an exact MINID trim stays (its deleted
//!   entries still count toward `max_entries` for the next `push`).

mod iter;
mod node;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use bytes::Bytes;

// Named by `StreamValue`'s users through `store::stream` when they need to.
#[allow(unused_imports)]
pub use iter::{EntryRef, Fields, Range};
use node::{Node, LISTPACK_MAX_BYTES};

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
#[derive(Default)]
pub struct StreamLog {
    nodes: BTreeMap<StreamId, Node>,
    /// Live entries.
    len: usize,
    /// Running total for `charged_bytes`.
    charged: usize,
    /// Bytes to reserve for a new node: the size the previous one reached.
    node_capacity_hint: usize,
}

/// Heap bytes charged per node beyond its buffer: the map slot (key and
/// `Node`, 72 bytes) at the fill of a B-tree grown by appends (about half of
/// its 11 slots), plus the inner levels; measured 150-155 with jemalloc
/// (examples/stream_log_memory.rs).
const NODE_OVERHEAD_BYTES: usize = 152;

/// Cap on the bytes reserved up front for a new node (Redis's
/// STREAM_LISTPACK_MAX_PRE_ALLOCATE), so one outsized node does not make every
/// new tail reserve its size.
const NODE_PREALLOC_MAX_BYTES: usize = 4096;

/// The jemalloc size class holding `n` bytes (4 classes per doubling, 16-byte
/// quantum): what a buffer of capacity `n` really takes.
fn alloc_size(n: usize) -> usize {
    match n {
        0 => 0,
        1..=8 => 8,
        9..=16 => 16,
        _ => {
            let log2 = usize::BITS - 1 - (n - 1).leading_zeros();
            let spacing = (1usize << (log2 - 2)).max(16);
            n.div_ceil(spacing) * spacing
        }
    }
}

/// Bytes charged for one node.
fn node_charge(node: &Node) -> usize {
    alloc_size(node.buf.capacity()) + NODE_OVERHEAD_BYTES
}

/// How a trim picks what goes.
#[derive(Clone, Copy)]
enum TrimTo {
    MaxLen(usize),
    MinId(StreamId),
}

impl StreamLog {
    /// Live entries.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first live entry's ID.
    pub fn first_id(&self) -> Option<StreamId> {
        self.first_entry_ref().map(|e| e.id)
    }

    /// The last live entry's ID.
    pub fn last_id(&self) -> Option<StreamId> {
        self.last_entry_ref().map(|e| e.id)
    }

    /// The first live entry.
    pub fn first_entry(&self) -> Option<StreamEntry> {
        self.first_entry_ref().map(|e| e.to_entry())
    }

    /// The last live entry.
    pub fn last_entry(&self) -> Option<StreamEntry> {
        self.last_entry_ref().map(|e| e.to_entry())
    }

    /// The first live entry, borrowed.
    pub fn first_entry_ref(&self) -> Option<EntryRef<'_>> {
        self.iter().next()
    }

    /// The last live entry, borrowed.
    pub fn last_entry_ref(&self) -> Option<EntryRef<'_>> {
        for (master, node) in self.nodes.iter().rev() {
            if node.live == 0 {
                continue;
            }
            let (raw, _) = node.entry_at(*master, node.last_off);
            if !raw.deleted() {
                return Some(EntryRef::new(node, raw));
            }
            // The newest entries were deleted: the last live one is found
            // reading the node from its start.
            let mut last = None;
            let mut pos = node.entries_start as usize;
            while pos < node.buf.len() {
                let (raw, next) = node.entry_at(*master, pos);
                if !raw.deleted() {
                    last = Some(raw);
                }
                pos = next;
            }
            return last.map(|raw| EntryRef::new(node, raw));
        }
        None
    }

    /// Append an entry. The caller guarantees `id` is greater than every ID
    /// ever appended (the stream's `last_id`).
    pub fn push(&mut self, id: StreamId, fields: &[(&[u8], &[u8])], limits: NodeLimits) {
        let data_bytes: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        let max_bytes = match limits.max_bytes {
            0 => LISTPACK_MAX_BYTES,
            n => n.min(LISTPACK_MAX_BYTES),
        };
        if let Some(mut last) = self.nodes.last_entry() {
            let node = last.get_mut();
            let full = node.lp_bytes() + data_bytes >= max_bytes
                || (limits.max_entries != 0 && node.slots() >= limits.max_entries);
            if !full {
                let master = *last.key();
                let node = last.get_mut();
                let same = node.has_master_fields(fields);
                let before = node_charge(node);
                node.append(master, id, fields, same);
                self.charged = self.charged + node_charge(node) - before;
                self.len += 1;
                return;
            }
            // The node is sealed: give back its spare capacity (Redis's
            // lpShrinkToFit), and size the next one like it.
            let before = node_charge(node);
            node.buf.shrink_to_fit();
            self.charged = self.charged - before + node_charge(node);
            self.node_capacity_hint = node.buf.len().min(NODE_PREALLOC_MAX_BYTES);
        }
        let node = Node::new(id, fields, self.node_capacity_hint);
        self.charged += node_charge(&node);
        self.nodes.insert(id, node);
        self.len += 1;
    }

    /// One entry by ID.
    pub fn get(&self, id: StreamId) -> Option<StreamEntry> {
        owned_entries(self.get_ref(id)).pop()
    }

    /// One entry by ID, borrowed.
    pub fn get_ref(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.iter_range(id, id, false).next()
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
        let limit = count.unwrap_or(usize::MAX);
        owned_entries(self.iter_range(start, end, rev).take(limit))
    }

    /// Entries with `start <= id <= end`, ascending (or descending when
    /// `rev`), borrowed and decoded as the iterator advances.
    pub fn iter_range(&self, start: StreamId, end: StreamId, rev: bool) -> Range<'_> {
        Range::new(&self.nodes, start, end, rev)
    }

    /// All live entries, ascending.
    pub fn iter(&self) -> Range<'_> {
        self.iter_range(StreamId::MIN, StreamId::MAX, false)
    }

    /// Delete one entry; false if there was none with this ID.
    pub fn remove(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let mut pos = node.entries_start as usize;
        while pos < node.buf.len() {
            let (raw, next) = node.entry_at(master, pos);
            if raw.id > id {
                return false;
            }
            if raw.id == id {
                if raw.deleted() {
                    return false;
                }
                self.len -= 1;
                if node.live == 1 {
                    self.remove_node(master);
                } else {
                    node.mark_deleted(pos);
                }
                return true;
            }
            pos = next;
        }
        false
    }

    /// XTRIM MAXLEN: delete the oldest entries until at most `maxlen` remain.
    /// `approx` removes whole nodes only; `limit` caps the entries removed
    /// (0 = no cap). Returns how many were removed.
    pub fn trim_maxlen(&mut self, maxlen: usize, approx: bool, limit: usize) -> usize {
        self.trim(TrimTo::MaxLen(maxlen), approx, limit)
    }

    /// XTRIM MINID: delete entries with IDs below `minid` (rules as `trim_maxlen`).
    pub fn trim_minid(&mut self, minid: StreamId, approx: bool, limit: usize) -> usize {
        self.trim(TrimTo::MinId(minid), approx, limit)
    }

    /// `streamTrim`; see the module comment.
    fn trim(&mut self, to: TrimTo, approx: bool, limit: usize) -> usize {
        let mut removed = 0;
        while let Some(mut first) = self.nodes.first_entry() {
            if let TrimTo::MaxLen(maxlen) = to {
                if self.len <= maxlen {
                    break;
                }
            }
            let master = *first.key();
            let node = first.get_mut();
            let entries = node.live as usize;
            if limit != 0 && removed + entries > limit {
                break;
            }
            let whole = match to {
                TrimTo::MaxLen(maxlen) => self.len - entries >= maxlen,
                TrimTo::MinId(minid) => node.last_entry_id(master) < minid,
            };
            if whole {
                self.charged -= node_charge(&first.remove());
                self.len -= entries;
                removed += entries;
                continue;
            }
            if approx {
                break;
            }
            // Flag entries inside this node, then stop: the rest is kept.
            let mut pos = node.entries_start as usize;
            while pos < node.buf.len() {
                let (raw, next) = node.entry_at(master, pos);
                let stop = match to {
                    TrimTo::MaxLen(maxlen) => self.len <= maxlen,
                    TrimTo::MinId(minid) => raw.id >= minid,
                };
                if stop {
                    break;
                }
                if !raw.deleted() {
                    node.mark_deleted(pos);
                    self.len -= 1;
                    removed += 1;
                }
                pos = next;
            }
            break;
        }
        removed
    }

    fn remove_node(&mut self, master: StreamId) {
        if let Some(node) = self.nodes.remove(&master) {
            self.charged -= node_charge(&node);
        }
    }

    /// Nodes in the log (XINFO STREAM's radix-tree-keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Bytes charged to the keyspace for the entries: the node buffers'
    /// allocations plus a per-node overhead (a running count, O(1)).
    pub fn charged_bytes(&self) -> usize {
        self.charged
    }
}

/// Owned copies of `entries`. Every name and value is copied once into one
/// buffer and handed out as slices of it, so a range costs about one
/// allocation per entry (its field vector) rather than two per field. The
/// slices keep the whole buffer alive: results are for replies, not storage.
fn owned_entries<'a>(entries: impl IntoIterator<Item = EntryRef<'a>>) -> Vec<StreamEntry> {
    let mut arena = Vec::new();
    // Per entry its ID and field count; per name and value its end offset.
    let mut heads: Vec<(StreamId, usize)> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    for e in entries {
        heads.push((e.id, e.field_count()));
        for (f, v) in e.fields() {
            arena.extend_from_slice(f);
            ends.push(arena.len());
            arena.extend_from_slice(v);
            ends.push(arena.len());
        }
    }
    let arena = Bytes::from(arena);
    let mut ends = ends.into_iter();
    let mut pos = 0;
    let mut next = || {
        let from = pos;
        pos = ends.next().unwrap_or(from);
        arena.slice(from..pos)
    };
    heads
        .into_iter()
        .map(|(id, n)| StreamEntry {
            id,
            fields: (0..n).map(|_| (next(), next())).collect(),
        })
        .collect()
}

impl Clone for StreamLog {
    fn clone(&self) -> Self {
        let nodes = self.nodes.clone();
        let charged = nodes.values().map(node_charge).sum();
        StreamLog {
            nodes,
            len: self.len,
            charged,
            node_capacity_hint: self.node_capacity_hint,
        }
    }
}

/// Two logs are equal when they hold the same live entries, however packed.
impl PartialEq for StreamLog {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self.iter().zip(other.iter()).all(|(a, b)| {
                a.id == b.id && a.field_count() == b.field_count() && a.fields().eq(b.fields())
            })
    }
}

impl Eq for StreamLog {}

impl std::fmt::Debug for StreamLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamLog")
            .field("len", &self.len)
            .field("nodes", &self.nodes.len())
            .field("first_id", &self.first_id())
            .field("last_id", &self.last_id())
            .finish()
    }
}
