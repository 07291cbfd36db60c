//! One node of the log: a master entry and a run of entries packed in one
//! byte buffer (Redis's listpack, in an encoding of our own).
//!
//! Layout of `Node::buf`:
//!
//! ```text
//! master fields:  [len field]...            (`master_fields` of them)
//! entry:          head [ms-delta] seq-part [nfields] [len field] [len value]...
//! ```
//!
//! - `len` is a LEB128 varint, the bytes follow.
//! - `head` is one byte: bit 0 DELETED, bit 1 SAME_FIELDS, bits 2..8 the ms
//!   delta against the master ID when below 63, else 63 and the delta minus 63
//!   follows as a varint.
//! - `seq-part` (varint) is `seq - master.seq` when the ms delta is 0, else the
//!   entry's own seq (new milliseconds usually start at 0).
//! - SAME_FIELDS entries (field names equal to the master's, in order) store
//!   values only; the others store `nfields` and each name before its value.
//!
//! Deletion sets DELETED in `head` in place (its size never changes); the
//! entry keeps its bytes until the whole node goes, as in Redis.
//!
//! Beside the bytes each node keeps the size Redis's listpack would have for
//! the same entries (`lp_base` + the two counters), so `stream-node-max-bytes`
//! splits nodes where Redis splits them, and `~` trims leave what Redis leaves.

use super::StreamId;

pub(super) const FLAG_DELETED: u8 = 1;
pub(super) const FLAG_SAME_FIELDS: u8 = 2;
/// `head >> 2` value meaning "the ms delta follows as a varint".
const MS_DELTA_ESCAPE: u64 = 63;

/// Redis's cap on a listpack (`STREAM_LISTPACK_MAX_SIZE`), used when
/// `stream-node-max-bytes` is 0 or above it.
pub(super) const LISTPACK_MAX_BYTES: usize = 1 << 30;

#[derive(Clone, Debug)]
pub(super) struct Node {
    pub buf: Vec<u8>,
    /// Offset of the newest entry (deleted or not).
    pub last_off: usize,
    /// Redis's listpack size for this node, without the live and deleted
    /// counters of the master entry (their size varies with their value).
    pub lp_base: usize,
    /// Offset of the first entry: the master fields end here.
    pub entries_start: u32,
    /// Number of master field names.
    pub master_fields: u32,
    /// Entries not deleted.
    pub live: u32,
    /// Entries flagged deleted.
    pub deleted: u32,
}

/// One decoded entry header.
#[derive(Clone, Copy, Debug)]
pub(super) struct RawEntry {
    pub id: StreamId,
    pub head: u8,
    /// Field count.
    pub nfields: usize,
    /// Where the values (SAME_FIELDS) or name-value pairs start.
    pub body: usize,
}

impl RawEntry {
    pub fn deleted(&self) -> bool {
        self.head & FLAG_DELETED != 0
    }

    pub fn same_fields(&self) -> bool {
        self.head & FLAG_SAME_FIELDS != 0
    }
}

impl Node {
    /// A node whose master entry is the first entry, `id` with `fields`.
    pub fn new(id: StreamId, fields: &[(&[u8], &[u8])], capacity_hint: usize) -> Node {
        let master_len: usize = fields.iter().map(|(f, _)| encoded_str_len(f)).sum();
        let entry_len = encoded_entry_len(id, id, fields, true);
        let mut buf = Vec::with_capacity(capacity_hint.max(master_len + entry_len));
        for (f, _) in fields {
            put_str(&mut buf, f);
        }
        let entries_start = buf.len();
        // Listpack header (6) and terminator (1), then the master entry:
        // count and deleted (charged apart), num-fields, the names, a 0.
        let lp_master = 7
            + lp_int_len(fields.len() as i64)
            + fields.iter().map(|(f, _)| lp_str_len(f)).sum::<usize>()
            + lp_int_len(0);
        let mut node = Node {
            buf,
            last_off: entries_start,
            lp_base: lp_master,
            entries_start: entries_start as u32,
            master_fields: fields.len() as u32,
            live: 0,
            deleted: 0,
        };
        node.append(id, id, fields, true);
        node
    }

    /// The listpack size Redis would have for this node (`lpBytes`).
    pub fn lp_bytes(&self) -> usize {
        self.lp_base + lp_int_len(self.live as i64) + lp_int_len(self.deleted as i64)
    }

    /// Entries stored, deleted ones included (what `stream-node-max-entries`
    /// counts).
    pub fn slots(&self) -> usize {
        self.live as usize + self.deleted as usize
    }

    /// True when `fields` names the master fields, in order.
    pub fn has_master_fields(&self, fields: &[(&[u8], &[u8])]) -> bool {
        if fields.len() != self.master_fields as usize {
            return false;
        }
        let mut pos = 0;
        fields
            .iter()
            .all(|(f, _)| get_str(&self.buf, &mut pos) == *f)
    }

    /// Append an entry (the caller decided it belongs here and checked
    /// `same` with `has_master_fields`).
    pub fn append(
        &mut self,
        master: StreamId,
        id: StreamId,
        fields: &[(&[u8], &[u8])],
        same: bool,
    ) {
        self.buf
            .reserve(encoded_entry_len(master, id, fields, same));
        let off = self.buf.len();
        let (ms_delta, seq_part) = id_parts(master, id);
        let flags = if same { FLAG_SAME_FIELDS } else { 0 };
        if ms_delta < MS_DELTA_ESCAPE {
            self.buf.push(flags | ((ms_delta as u8) << 2));
        } else {
            self.buf.push(flags | ((MS_DELTA_ESCAPE as u8) << 2));
            put_varint(&mut self.buf, ms_delta - MS_DELTA_ESCAPE);
        }
        put_varint(&mut self.buf, seq_part);
        if !same {
            put_varint(&mut self.buf, fields.len() as u64);
        }
        for (f, v) in fields {
            if !same {
                put_str(&mut self.buf, f);
            }
            put_str(&mut self.buf, v);
        }
        self.last_off = off;
        self.live += 1;
        self.lp_base += lp_entry_len(master, id, fields, same);
    }

    /// Decode the entry at `off`; returns it and the next entry's offset.
    pub fn entry_at(&self, master: StreamId, off: usize) -> (RawEntry, usize) {
        let buf = &self.buf[..];
        let head = buf[off];
        let mut pos = off + 1;
        let mut ms_delta = u64::from(head >> 2);
        if ms_delta == MS_DELTA_ESCAPE {
            ms_delta = MS_DELTA_ESCAPE + get_varint(buf, &mut pos);
        }
        let seq_part = get_varint(buf, &mut pos);
        let id = if ms_delta == 0 {
            StreamId::new(master.ms, master.seq.wrapping_add(seq_part))
        } else {
            StreamId::new(master.ms.wrapping_add(ms_delta), seq_part)
        };
        let (nfields, items) = if head & FLAG_SAME_FIELDS != 0 {
            let n = self.master_fields as usize;
            (n, n)
        } else {
            let n = get_varint(buf, &mut pos) as usize;
            (n, 2 * n)
        };
        let body = pos;
        for _ in 0..items {
            let len = get_varint(buf, &mut pos) as usize;
            pos += len;
        }
        (
            RawEntry {
                id,
                head,
                nfields,
                body,
            },
            pos,
        )
    }

    /// The newest entry's ID (deleted or not), as Redis's
    /// `lpGetEdgeStreamID(lp, 0, ...)` reads it.
    pub fn last_entry_id(&self, master: StreamId) -> StreamId {
        self.entry_at(master, self.last_off).0.id
    }

    /// Flag the entry at `off` deleted and move it from `live` to `deleted`.
    /// The caller checked it was live.
    pub fn mark_deleted(&mut self, off: usize) {
        self.buf[off] |= FLAG_DELETED;
        self.live -= 1;
        self.deleted += 1;
    }
}

/// An entry ID as stored: the ms delta against the master, and the seq
/// (against the master's when the ms is the same). Wrapping, so any ID
/// round-trips even if a caller broke the ascending-ID contract.
fn id_parts(master: StreamId, id: StreamId) -> (u64, u64) {
    let ms_delta = id.ms.wrapping_sub(master.ms);
    if ms_delta == 0 {
        (0, id.seq.wrapping_sub(master.seq))
    } else {
        (ms_delta, id.seq)
    }
}

/// Bytes `append` writes for an entry.
fn encoded_entry_len(
    master: StreamId,
    id: StreamId,
    fields: &[(&[u8], &[u8])],
    same: bool,
) -> usize {
    let (ms_delta, seq_part) = id_parts(master, id);
    let mut n = 1 + varint_len(seq_part);
    if ms_delta >= MS_DELTA_ESCAPE {
        n += varint_len(ms_delta - MS_DELTA_ESCAPE);
    }
    if !same {
        n += varint_len(fields.len() as u64);
    }
    for (f, v) in fields {
        if !same {
            n += encoded_str_len(f);
        }
        n += encoded_str_len(v);
    }
    n
}

/// Listpack bytes Redis spends on one entry (`streamAppendItem`): flags, the
/// two ID deltas, [num-fields, names], values, lp-count.
fn lp_entry_len(master: StreamId, id: StreamId, fields: &[(&[u8], &[u8])], same: bool) -> usize {
    let flags = if same { FLAG_SAME_FIELDS } else { 0 };
    let mut n = lp_int_len(i64::from(flags))
        + lp_int_len(id.ms.wrapping_sub(master.ms) as i64)
        + lp_int_len(id.seq.wrapping_sub(master.seq) as i64);
    let mut lp_count = fields.len() + 3;
    if !same {
        n += lp_int_len(fields.len() as i64);
        n += fields.iter().map(|(f, _)| lp_str_len(f)).sum::<usize>();
        lp_count += fields.len() + 1;
    }
    n += fields.iter().map(|(_, v)| lp_str_len(v)).sum::<usize>();
    n + lp_int_len(lp_count as i64)
}

/// Size of a listpack integer element: encoding (1..9 bytes) + backlen (1).
pub(super) fn lp_int_len(v: i64) -> usize {
    let enc = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    };
    enc + 1
}

/// Size of a listpack element holding `s`: an integer when `s` is one in
/// canonical form (as `lpStringToInt64` accepts), else a string.
pub(super) fn lp_str_len(s: &[u8]) -> usize {
    if let Some(v) = lp_string_to_i64(s) {
        return lp_int_len(v);
    }
    let len = s.len();
    let enc = if len < 64 {
        1 + len
    } else if len < 4096 {
        2 + len
    } else {
        5 + len
    };
    enc + lp_backlen_len(enc)
}

fn lp_backlen_len(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// `lpStringToInt64`: a decimal integer without leading zeros, '+' or
/// spaces, "-0" refused, fitting i64, under 21 bytes.
pub(super) fn lp_string_to_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        if v > 1 << 63 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

pub(super) fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn encoded_str_len(s: &[u8]) -> usize {
    varint_len(s.len() as u64) + s.len()
}

pub(super) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn put_str(buf: &mut Vec<u8>, s: &[u8]) {
    put_varint(buf, s.len() as u64);
    buf.extend_from_slice(s);
}

#[inline]
pub(super) fn get_varint(buf: &[u8], pos: &mut usize) -> u64 {
    let b = buf[*pos];
    *pos += 1;
    if b < 0x80 {
        return u64::from(b);
    }
    let mut v = u64::from(b & 0x7f);
    let mut shift = 7;
    loop {
        let b = buf[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// The length-prefixed string at `pos`; moves `pos` past it.
#[inline]
pub(super) fn get_str<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let len = get_varint(buf, pos) as usize;
    let s = &buf[*pos..*pos + len];
    *pos += len;
    s
}
