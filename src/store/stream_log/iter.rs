//! Borrowing views of the log: `EntryRef` (one entry, its fields read in
//! place) and `Range` (entries between two IDs, either direction).
//!
//! Forward iteration decodes each node once, front to back. Backward
//! iteration decodes a node front to back too (entries have no back links),
//! noting the entries in range, then hands them out last first.

use std::collections::btree_map;

use bytes::Bytes;

use super::node::{get_str, Node, RawEntry};
use super::{StreamEntry, StreamId};

/// One live entry, borrowed from the log.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    node: &'a Node,
    raw: RawEntry,
}

impl<'a> EntryRef<'a> {
    pub(super) fn new(node: &'a Node, raw: RawEntry) -> Self {
        EntryRef {
            id: raw.id,
            node,
            raw,
        }
    }

    /// Number of field-value pairs.
    pub fn field_count(self) -> usize {
        self.raw.nfields
    }

    /// The field-value pairs in insertion order.
    pub fn fields(self) -> Fields<'a> {
        Fields {
            buf: &self.node.buf,
            names: if self.raw.same_fields() {
                Some(0)
            } else {
                None
            },
            pos: self.raw.body,
            remaining: self.raw.nfields,
        }
    }

    /// An owned copy.
    pub fn to_entry(self) -> StreamEntry {
        StreamEntry {
            id: self.id,
            fields: self
                .fields()
                .map(|(f, v)| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)))
                .collect(),
        }
    }
}

impl std::fmt::Debug for EntryRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryRef")
            .field("id", &self.id)
            .field("fields", &self.field_count())
            .finish()
    }
}

/// The field-value pairs of one entry, read from the node's bytes.
pub struct Fields<'a> {
    buf: &'a [u8],
    /// Cursor in the master field names, for a SAME_FIELDS entry.
    names: Option<usize>,
    pos: usize,
    remaining: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let name = match &mut self.names {
            Some(names) => get_str(self.buf, names),
            None => get_str(self.buf, &mut self.pos),
        };
        let value = get_str(self.buf, &mut self.pos);
        Some((name, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Fields<'_> {}

/// Live entries with `start <= id <= end`, ascending or descending.
pub struct Range<'a> {
    nodes: btree_map::Range<'a, StreamId, Node>,
    /// The node being read and its master ID.
    current: Option<(StreamId, &'a Node)>,
    /// Forward: the next entry's offset in `current`.
    pos: usize,
    /// Backward: entries of `current` still to hand out, the last one first.
    pending: Vec<RawEntry>,
    start: StreamId,
    end: StreamId,
    rev: bool,
    done: bool,
}

impl<'a> Range<'a> {
    pub(super) fn new(
        nodes: &'a std::collections::BTreeMap<StreamId, Node>,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Self {
        // The node holding `start` is the last one whose master ID is <= start.
        let first_key = nodes.range(..=start).next_back().map_or(start, |(k, _)| *k);
        let done = start > end;
        let nodes = if done {
            // An empty range of the map (`range` refuses start > end).
            nodes.range(start..start)
        } else {
            nodes.range(first_key..=end)
        };
        Range {
            nodes,
            current: None,
            pos: 0,
            pending: Vec::new(),
            start,
            end,
            rev,
            done,
        }
    }

    fn next_forward(&mut self) -> Option<EntryRef<'a>> {
        loop {
            let (master, node) = match self.current {
                Some(cur) => cur,
                None => {
                    let (master, node) = self.nodes.next()?;
                    self.pos = node.entries_start as usize;
                    self.current = Some((*master, node));
                    (*master, node)
                }
            };
            if self.pos >= node.buf.len() {
                self.current = None;
                continue;
            }
            let (raw, next) = node.entry_at(master, self.pos);
            self.pos = next;
            if raw.id > self.end {
                self.done = true;
                return None;
            }
            if raw.deleted() || raw.id < self.start {
                continue;
            }
            return Some(EntryRef::new(node, raw));
        }
    }

    fn next_backward(&mut self) -> Option<EntryRef<'a>> {
        loop {
            if let Some((_, node)) = self.current {
                if let Some(raw) = self.pending.pop() {
                    return Some(EntryRef::new(node, raw));
                }
            }
            let (master, node) = self.nodes.next_back()?;
            self.current = Some((*master, node));
            let mut pos = node.entries_start as usize;
            while pos < node.buf.len() {
                let (raw, next) = node.entry_at(*master, pos);
                if raw.id > self.end {
                    break;
                }
                if !raw.deleted() && raw.id >= self.start {
                    self.pending.push(raw);
                }
                pos = next;
            }
        }
    }
}

impl<'a> Iterator for Range<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        if self.done {
            return None;
        }
        let next = if self.rev {
            self.next_backward()
        } else {
            self.next_forward()
        };
        if next.is_none() {
            self.done = true;
        }
        next
    }
}
