//! One key's entry: its key, value and the metadata the cache and memcached
//! need, in ONE allocation.
//!
//! Layout of the allocation (the map holds only the 8-byte pointer):
//!
//! ```text
//! [ Header: 35 bytes, packed ][ key bytes ][ value part ]
//! ```
//!
//! The value part is the string itself for strings up to `INLINE_MAX_BYTES`
//! (the common cache case: a lookup touches one allocation, and 1M small
//! keys cost one jemalloc size class each), a `Bytes` for longer strings (so
//! commands that keep a value past the lock, like GETDEL or memcached's meta
//! get, take a reference-counted clone instead of a copy, and APPEND grows it
//! amortized), a boxed collection (list, set) with its running charge, or a
//! hash, which is 16 bytes and keeps its own charge (`collections::HashValue`).
//!
//! The header is packed because every byte counts at a million keys: key
//! "key:123456" + a 16-byte value + 35 header bytes = 61 bytes, one 64-byte
//! size class. Packed fields are read and written by value (`e.cas`,
//! `e.expires_at_ms = t`); never take a reference to one (the compiler refuses).
//! A `Bytes` or collection box in the value part starts at the next 8-byte boundary.

use std::alloc::{self, Layout};
use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};

use bytes::{Bytes, BytesMut};

pub use super::collections::{HashRef, HashValue, SetValue};
pub use super::stream::StreamValue;
pub use super::zset::ZSetValue;

/// Bytes charged per entry beyond key and value: the map slot, the entry
/// header and allocator rounding (measured: RSS / keys for small values).
pub const ENTRY_OVERHEAD_BYTES: usize = 64;
/// Bytes charged per list element beyond its data (use with
/// `Slot::update_with_charge`: an element of n bytes charges n + this).
pub const LIST_ELEMENT_OVERHEAD_BYTES: usize = 24;
/// Strings up to this length live inside the entry's allocation.
pub const INLINE_MAX_BYTES: usize = 256;

/// LFU counter of a new key (Redis LFU_INIT_VAL).
pub const LFU_INIT: u8 = 5;

/// What a key holds, owned: what callers build to store and get back when
/// they take an entry apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(Bytes),
    List(VecDeque<Bytes>),
    Hash(HashValue),
    Set(SetValue),
    ZSet(ZSetValue),
    Stream(StreamValue),
}

/// What a key holds, borrowed from its entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueRef<'a> {
    Str(&'a [u8]),
    List(&'a VecDeque<Bytes>),
    Hash(HashRef<'a>),
    Set(&'a SetValue),
    ZSet(&'a ZSetValue),
    Stream(&'a StreamValue),
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Str(b) => ValueRef::Str(b),
            Value::List(l) => ValueRef::List(l),
            Value::Hash(h) => ValueRef::Hash(h.as_ref()),
            Value::Set(s) => ValueRef::Set(s),
            Value::ZSet(z) => ValueRef::ZSet(z),
            Value::Stream(x) => ValueRef::Stream(x),
        }
    }

    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        self.as_ref().type_name()
    }

    /// Bytes charged for the value (lists: data plus per-element overhead).
    pub fn charged_bytes(&self) -> usize {
        self.as_ref().charged_bytes()
    }
}

impl<'a> ValueRef<'a> {
    /// The name TYPE reports.
    pub fn type_name(self) -> &'static str {
        match self {
            ValueRef::Str(_) => "string",
            ValueRef::List(_) => "list",
            ValueRef::Hash(_) => "hash",
            ValueRef::Set(_) => "set",
            ValueRef::ZSet(_) => "zset",
            ValueRef::Stream(_) => "stream",
        }
    }

    /// Bytes charged for the value (lists: data plus per-element overhead).
    pub fn charged_bytes(self) -> usize {
        match self {
            ValueRef::Str(b) => b.len(),
            ValueRef::List(items) => items
                .iter()
                .map(|i| i.len() + LIST_ELEMENT_OVERHEAD_BYTES)
                .sum(),
            ValueRef::Hash(h) => h.charged_bytes(),
            ValueRef::Set(s) => s.charged_bytes(),
            ValueRef::ZSet(z) => z.charged_bytes(),
            ValueRef::Stream(x) => x.charged_bytes(),
        }
    }

    /// An owned copy.
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Str(s) => Value::Str(Bytes::copy_from_slice(s)),
            ValueRef::List(l) => Value::List(l.clone()),
            ValueRef::Hash(h) => Value::Hash(h.to_owned()),
            ValueRef::Set(s) => Value::Set(s.clone()),
            ValueRef::ZSet(z) => Value::ZSet(z.clone()),
            ValueRef::Stream(x) => Value::Stream(x.clone()),
        }
    }

    /// The string, if this is one.
    pub fn as_str(self) -> Option<&'a [u8]> {
        match self {
            ValueRef::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// An entry's metadata. `cas`, `expires_at_ms`, `flags` and `fetched` are
/// the callers' to read and set (through `Deref`/`DerefMut` on `Entry`); the
/// access clock and LFU counter change through methods. Nothing here says
/// where the key and value are, so no change to it can break an entry.
#[derive(Clone, Copy)]
#[repr(C, packed)]
pub struct Meta {
    /// memcached CAS unique; a new one on every modification, from either protocol.
    pub cas: u64,
    /// Absolute expiry in Unix milliseconds; 0 = never.
    pub expires_at_ms: u64,
    /// memcached client flags; RESP writes leave 0.
    pub flags: u32,
    /// Last access on the store's millisecond clock, truncated to 32 bits:
    /// idle times are computed with wrapping arithmetic and so are exact up to
    /// 49 days (Redis's 24-bit LRU clock wraps after 194 days of seconds).
    access_ms: u32,
    /// Logarithmic access counter (Redis LFU: starts at 5, saturates at 255).
    lfu_counter: u8,
    /// memcached `h` flag: fetched since it was stored.
    pub fetched: bool,
}

/// The front of every entry: its metadata, then where key and value are
/// (the store's alone: callers only ever see the `Meta`).
#[repr(C, packed)]
struct Header {
    meta: Meta,
    kind: u8,
    key_len: u32,
    /// Length of an inline string; a collection's charged bytes are kept in its box.
    inline_len: u32,
}

impl Meta {
    pub fn is_expired(&self, now_ms: u64) -> bool {
        let at = self.expires_at_ms;
        at != 0 && at <= now_ms
    }

    /// Milliseconds since the last access, on the store's clock.
    pub fn idle_ms(&self, clock_ms: u64) -> u64 {
        (clock_ms as u32).wrapping_sub(self.access_ms) as u64
    }

    /// When the entry was last accessed, on the store's clock.
    pub fn access_ms(&self, clock_ms: u64) -> u64 {
        clock_ms.saturating_sub(self.idle_ms(clock_ms))
    }

    /// Set the LRU clock without counting an LFU access.
    pub fn set_access(&mut self, clock_ms: u64) {
        self.access_ms = clock_ms as u32;
    }

    /// Record an access: LRU clock and Redis's probabilistic LFU increment
    /// (lfu-log-factor 10).
    pub fn touch(&mut self, clock_ms: u64) {
        self.access_ms = clock_ms as u32;
        let counter = self.lfu_counter;
        if counter < 255 {
            let base = (counter.saturating_sub(LFU_INIT)) as f64;
            let p = 1.0 / (base * 10.0 + 1.0);
            if fastrand::f64() < p {
                self.lfu_counter = counter + 1;
            }
        }
    }

    /// Set the LFU counter as is (RESTORE ... FREQ).
    pub fn set_lfu_counter(&mut self, counter: u8) {
        self.lfu_counter = counter;
    }

    /// The LFU counter after decay: one point per minute idle (lfu-decay-time 1).
    pub fn lfu_decayed(&self, clock_ms: u64) -> u8 {
        let idle_minutes = self.idle_ms(clock_ms) / 60_000;
        self.lfu_counter.saturating_sub(idle_minutes.min(255) as u8)
    }
}

const HEADER_BYTES: usize = std::mem::size_of::<Header>();
const _: () = assert!(HEADER_BYTES == 35);

const KIND_INLINE: u8 = 0;
const KIND_SHARED: u8 = 1;
const KIND_LIST: u8 = 2;
const KIND_HASH: u8 = 3;
const KIND_SET: u8 = 4;
const KIND_ZSET: u8 = 5;
const KIND_STREAM: u8 = 6;
/// A listpack hash whose packed buffer lives in the entry itself, right
/// after the key, like an inline string: a 5-field hash is one allocation.
/// Hash tables (and packed buffers too long for `inline_len`) are KIND_HASH.
const KIND_PACKED_HASH: u8 = 7;

/// Whether `Entry::build` copies the value's bytes: `Borrowed` for data that
/// may be a slice of a connection's read buffer (storing that slice would pin
/// the whole buffer as long as the key lives), `Owned` for data built fresh or
/// taken from another entry.
#[derive(Clone, Copy)]
enum Source {
    Borrowed,
    Owned,
}

/// A list value with its running charge (kept current by `update_with_charge`).
struct ListBox {
    items: VecDeque<Bytes>,
    charged: usize,
}

/// A set value with its running charge (as `ListBox`).
struct SetBox {
    set: SetValue,
    charged: usize,
}

/// A sorted set value with its running charge (as `ListBox`).
struct ZSetBox {
    zset: ZSetValue,
    charged: usize,
}

/// A stream value with its running charge (as `ListBox`).
struct StreamBox {
    stream: StreamValue,
    charged: usize,
}

/// One key's allocation, owned. The map stores these by value (8 bytes each).
pub struct Entry {
    ptr: NonNull<Header>,
}

// SAFETY: an Entry owns its allocation exclusively (like a Box); the Bytes
// and collections inside are Send + Sync.
unsafe impl Send for Entry {}
unsafe impl Sync for Entry {}

/// Where the value part starts: right after the key for an inline string;
/// for a `Bytes` or a collection box, at the next 8-byte boundary, so the store can
/// use ordinary aligned references to them (a `Bytes` must be cloned in place:
/// its clone may rewrite its own fields).
fn value_offset(kind: u8, key_len: usize) -> usize {
    let end = HEADER_BYTES + key_len;
    match kind {
        KIND_INLINE | KIND_PACKED_HASH => end,
        _ => end.next_multiple_of(8),
    }
}

/// The allocation's layout for a kind (inline strings: their length).
fn layout_for(key_len: usize, kind: u8, inline_len: usize) -> Layout {
    let part = match kind {
        KIND_INLINE | KIND_PACKED_HASH => inline_len,
        KIND_SHARED => std::mem::size_of::<Bytes>(),
        KIND_LIST => std::mem::size_of::<Box<ListBox>>(),
        // A hash lives in the entry itself (16 bytes; it keeps its own charge).
        KIND_HASH => std::mem::size_of::<HashValue>(),
        KIND_ZSET => std::mem::size_of::<Box<ZSetBox>>(),
        KIND_STREAM => std::mem::size_of::<Box<StreamBox>>(),
        _ => std::mem::size_of::<Box<SetBox>>(),
    };
    let size = value_offset(kind, key_len) + part;
    Layout::from_size_align(size, 8)
        .unwrap_or_else(|_| alloc::handle_alloc_error(Layout::new::<u64>()))
}

/// A header with the metadata of `h` (kind and lengths are `build`'s to set).
fn copy_meta(h: &Header) -> Header {
    Header {
        meta: h.meta,
        kind: KIND_INLINE,
        key_len: 0,
        inline_len: 0,
    }
}

impl Entry {
    /// A new entry for `key`. Strings are copied (inline, or into a `Bytes` of
    /// their own), never kept as a slice of the caller's buffer: a slice of a
    /// connection's read buffer would pin the whole buffer as long as the key lives.
    pub fn new(
        key: &[u8],
        value: Value,
        expires_at_ms: u64,
        cas: u64,
        flags: u32,
        clock_ms: u64,
    ) -> Entry {
        let header = Header {
            meta: Meta {
                cas,
                expires_at_ms,
                flags,
                access_ms: clock_ms as u32,
                lfu_counter: LFU_INIT,
                fetched: false,
            },
            kind: KIND_INLINE,
            key_len: 0,
            inline_len: 0,
        };
        Entry::build(header, key, value, Source::Borrowed)
    }

    /// Allocate and fill an entry (the header's kind and lengths are set here).
    fn build(mut header: Header, key: &[u8], value: Value, source: Source) -> Entry {
        // `proto-max-bulk-len` is capped at u32::MAX, so a client cannot get here
        // with a longer key; a truncated length would break the layout.
        assert!(u32::try_from(key.len()).is_ok(), "key longer than 4 GiB");
        header.key_len = key.len() as u32;
        (header.kind, header.inline_len) = match &value {
            Value::Str(s) if s.len() <= INLINE_MAX_BYTES => (KIND_INLINE, s.len() as u32),
            Value::Str(_) => (KIND_SHARED, 0),
            Value::List(_) => (KIND_LIST, 0),
            Value::Hash(h) => match h.packed_bytes().map(|b| u32::try_from(b.len())) {
                Some(Ok(len)) => (KIND_PACKED_HASH, len),
                _ => (KIND_HASH, 0),
            },
            Value::Set(_) => (KIND_SET, 0),
            Value::ZSet(_) => (KIND_ZSET, 0),
            Value::Stream(_) => (KIND_STREAM, 0),
        };
        let layout = layout_for(key.len(), header.kind, header.inline_len as usize);
        // SAFETY: the layout is non-empty (the header alone is 35 bytes) and
        // 8-aligned; header, key and value part are written inside it before
        // the entry is used (the value part at its aligned offset).
        let kind = header.kind;
        unsafe {
            let raw = alloc::alloc(layout);
            let Some(ptr) = NonNull::new(raw as *mut Header) else {
                alloc::handle_alloc_error(layout)
            };
            let value_at = raw.add(value_offset(header.kind, key.len()));
            ptr::write(ptr.as_ptr(), header);
            ptr::copy_nonoverlapping(key.as_ptr(), raw.add(HEADER_BYTES), key.len());
            match value {
                Value::Str(s) if s.len() <= INLINE_MAX_BYTES => {
                    ptr::copy_nonoverlapping(s.as_ptr(), value_at, s.len());
                }
                Value::Str(s) => {
                    let s = match source {
                        Source::Borrowed => Bytes::copy_from_slice(&s),
                        Source::Owned => s,
                    };
                    ptr::write(value_at as *mut Bytes, s);
                }
                Value::List(items) => {
                    let items: VecDeque<Bytes> = match source {
                        Source::Borrowed => {
                            items.iter().map(|i| Bytes::copy_from_slice(i)).collect()
                        }
                        Source::Owned => items,
                    };
                    let charged = ValueRef::List(&items).charged_bytes();
                    ptr::write(
                        value_at as *mut Box<ListBox>,
                        Box::new(ListBox { items, charged }),
                    );
                }
                Value::Hash(hash) if kind == KIND_PACKED_HASH => {
                    let buf = hash.packed_bytes().unwrap_or_default();
                    ptr::copy_nonoverlapping(buf.as_ptr(), value_at, buf.len());
                }
                Value::Hash(hash) => {
                    let hash = match source {
                        Source::Borrowed => hash.detached(),
                        Source::Owned => hash,
                    };
                    ptr::write(value_at as *mut HashValue, hash);
                }
                Value::Set(set) => {
                    // Members are always copied into the set (`CompactBytes`).
                    let charged = set.charged_bytes();
                    ptr::write(
                        value_at as *mut Box<SetBox>,
                        Box::new(SetBox { set, charged }),
                    );
                }
                // Members were copied into the set's own nodes when added.
                Value::ZSet(zset) => {
                    let charged = zset.charged_bytes();
                    ptr::write(
                        value_at as *mut Box<ZSetBox>,
                        Box::new(ZSetBox { zset, charged }),
                    );
                }
                // Entries were copied into the log when added.
                Value::Stream(stream) => {
                    let charged = stream.charged_bytes();
                    ptr::write(
                        value_at as *mut Box<StreamBox>,
                        Box::new(StreamBox { stream, charged }),
                    );
                }
            }
            Entry { ptr }
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: ptr points at a live, initialised header we own.
        unsafe { self.ptr.as_ref() }
    }

    fn header_mut(&mut self) -> &mut Header {
        // SAFETY: as `header`; &mut self is exclusive.
        unsafe { self.ptr.as_mut() }
    }

    fn key_len(&self) -> usize {
        self.header().key_len as usize
    }

    fn value_at(&self) -> *mut u8 {
        let offset = value_offset(self.header().kind, self.key_len());
        // SAFETY: the value part lies inside the allocation, at this offset.
        unsafe { (self.ptr.as_ptr() as *mut u8).add(offset) }
    }

    pub fn key(&self) -> &[u8] {
        // SAFETY: key_len bytes of key follow the header.
        unsafe {
            std::slice::from_raw_parts(
                (self.ptr.as_ptr() as *const u8).add(HEADER_BYTES),
                self.key_len(),
            )
        }
    }

    /// The long string's `Bytes`, for a KIND_SHARED entry.
    fn shared(&self) -> Option<&Bytes> {
        // SAFETY: a KIND_SHARED entry holds an initialised, 8-aligned Bytes at
        // value_at, owned by the entry and living as long as it.
        (self.header().kind == KIND_SHARED).then(|| unsafe { &*(self.value_at() as *const Bytes) })
    }

    fn shared_mut(&mut self) -> Option<&mut Bytes> {
        // SAFETY: as `shared`; &mut self is exclusive.
        (self.header().kind == KIND_SHARED)
            .then(|| unsafe { &mut *(self.value_at() as *mut Bytes) })
    }

    fn list_box(&self) -> Option<&ListBox> {
        // SAFETY: a KIND_LIST entry holds an initialised, 8-aligned Box<ListBox>.
        (self.header().kind == KIND_LIST)
            .then(|| unsafe { &**(self.value_at() as *const Box<ListBox>) })
    }

    fn list_box_mut(&mut self) -> Option<&mut ListBox> {
        // SAFETY: as `list_box`; &mut self is exclusive.
        (self.header().kind == KIND_LIST)
            .then(|| unsafe { &mut **(self.value_at() as *mut Box<ListBox>) })
    }

    fn hash_ref(&self) -> Option<HashRef<'_>> {
        match self.header().kind {
            // SAFETY: a KIND_HASH entry holds an initialised, 8-aligned HashValue.
            KIND_HASH => Some(unsafe { &*(self.value_at() as *const HashValue) }.as_ref()),
            // SAFETY: a KIND_PACKED_HASH entry has inline_len bytes of packed
            // buffer right after the key.
            KIND_PACKED_HASH => Some(HashRef::packed(unsafe {
                std::slice::from_raw_parts(self.value_at(), self.header().inline_len as usize)
            })),
            _ => None,
        }
    }

    fn hash_ref_mut(&mut self) -> Option<&mut HashValue> {
        // SAFETY: as `hash_ref`; &mut self is exclusive.
        (self.header().kind == KIND_HASH)
            .then(|| unsafe { &mut *(self.value_at() as *mut HashValue) })
    }

    fn set_box(&self) -> Option<&SetBox> {
        // SAFETY: a KIND_SET entry holds an initialised, 8-aligned Box<SetBox>.
        (self.header().kind == KIND_SET)
            .then(|| unsafe { &**(self.value_at() as *const Box<SetBox>) })
    }

    fn set_box_mut(&mut self) -> Option<&mut SetBox> {
        // SAFETY: as `set_box`; &mut self is exclusive.
        (self.header().kind == KIND_SET)
            .then(|| unsafe { &mut **(self.value_at() as *mut Box<SetBox>) })
    }

    fn zset_box(&self) -> Option<&ZSetBox> {
        // SAFETY: a KIND_ZSET entry holds an initialised, 8-aligned Box<ZSetBox>.
        (self.header().kind == KIND_ZSET)
            .then(|| unsafe { &**(self.value_at() as *const Box<ZSetBox>) })
    }

    fn zset_box_mut(&mut self) -> Option<&mut ZSetBox> {
        // SAFETY: as `zset_box`; &mut self is exclusive.
        (self.header().kind == KIND_ZSET)
            .then(|| unsafe { &mut **(self.value_at() as *mut Box<ZSetBox>) })
    }

    fn stream_box(&self) -> Option<&StreamBox> {
        // SAFETY: a KIND_STREAM entry holds an initialised, 8-aligned Box<StreamBox>.
        (self.header().kind == KIND_STREAM)
            .then(|| unsafe { &**(self.value_at() as *const Box<StreamBox>) })
    }

    fn stream_box_mut(&mut self) -> Option<&mut StreamBox> {
        // SAFETY: as `stream_box`; &mut self is exclusive.
        (self.header().kind == KIND_STREAM)
            .then(|| unsafe { &mut **(self.value_at() as *mut Box<StreamBox>) })
    }

    /// The value, borrowed.
    pub fn value(&self) -> ValueRef<'_> {
        if let Some(b) = self.shared() {
            return ValueRef::Str(b);
        }
        if let Some(l) = self.list_box() {
            return ValueRef::List(&l.items);
        }
        if let Some(h) = self.hash_ref() {
            return ValueRef::Hash(h);
        }
        if let Some(s) = self.set_box() {
            return ValueRef::Set(&s.set);
        }
        if let Some(z) = self.zset_box() {
            return ValueRef::ZSet(&z.zset);
        }
        if let Some(x) = self.stream_box() {
            return ValueRef::Stream(&x.stream);
        }
        let len = self.header().inline_len as usize;
        // SAFETY: an inline entry has len bytes of string right after the key.
        ValueRef::Str(unsafe { std::slice::from_raw_parts(self.value_at(), len) })
    }

    /// The string as `Bytes`: a reference-counted clone for long strings, a
    /// copy for inline ones. None for a list.
    pub fn str_bytes(&self) -> Option<Bytes> {
        match self.shared() {
            Some(b) => Some(b.clone()),
            None => self.value().as_str().map(Bytes::copy_from_slice),
        }
    }

    /// The list, for in-place changes (with `Slot::update_with_charge`).
    pub fn list_mut(&mut self) -> Option<&mut VecDeque<Bytes>> {
        self.list_box_mut().map(|l| &mut l.items)
    }

    /// The hash, for changes (with `Slot::update_with_charge`): a hash table
    /// in place; a listpack kept in the entry is copied out and written back
    /// when the guard drops (its buffer is rebuilt on every change anyway).
    pub fn hash_mut(&mut self) -> Option<HashMut<'_>> {
        if self.header().kind == KIND_PACKED_HASH {
            let hash = self.hash_ref()?.to_owned();
            return Some(HashMut::Packed { entry: self, hash });
        }
        self.hash_ref_mut().map(HashMut::Table)
    }

    /// The set, for in-place changes (with `Slot::update_with_charge`).
    pub fn set_mut(&mut self) -> Option<&mut SetValue> {
        self.set_box_mut().map(|s| &mut s.set)
    }

    /// The sorted set, for in-place changes (with `Slot::update_with_charge`).
    pub fn zset_mut(&mut self) -> Option<&mut ZSetValue> {
        self.zset_box_mut().map(|z| &mut z.zset)
    }

    /// Whether the value is a stream.
    pub fn is_stream(&self) -> bool {
        self.header().kind == KIND_STREAM
    }

    /// The stream, for in-place changes (with `Slot::update_with_charge`).
    pub fn stream_mut(&mut self) -> Option<&mut StreamValue> {
        self.stream_box_mut().map(|x| &mut x.stream)
    }

    /// Bytes charged for this entry: key + value + overhead.
    pub fn charged(&self) -> usize {
        let value = if let Some(l) = self.list_box() {
            l.charged
        } else if let Some(h) = self.hash_ref() {
            h.charged_bytes()
        } else if let Some(s) = self.set_box() {
            s.charged
        } else if let Some(z) = self.zset_box() {
            z.charged
        } else if let Some(x) = self.stream_box() {
            x.charged
        } else {
            self.value().as_str().map_or(0, <[u8]>::len)
        };
        self.key_len() + value + ENTRY_OVERHEAD_BYTES
    }

    /// A collection's running charge moves by `delta` (its caller measured the change).
    pub(super) fn add_collection_charge(&mut self, delta: isize) {
        let charged = match self.header().kind {
            KIND_LIST => self.list_box_mut().map(|l| &mut l.charged),
            // A hash keeps its own charge: the delta is already in it.
            KIND_SET => self.set_box_mut().map(|s| &mut s.charged),
            KIND_ZSET => self.zset_box_mut().map(|z| &mut z.charged),
            KIND_STREAM => self.stream_box_mut().map(|x| &mut x.charged),
            _ => None,
        };
        if let Some(c) = charged {
            *c = c.saturating_add_signed(delta);
        }
    }

    /// Take the entry apart: its value, owned (lists and long strings move out).
    pub fn into_value(mut self) -> Value {
        if let Some(b) = self.shared_mut() {
            return Value::Str(std::mem::take(b));
        }
        if let Some(l) = self.list_box_mut() {
            return Value::List(std::mem::take(&mut l.items));
        }
        if let Some(h) = self.hash_ref_mut() {
            return Value::Hash(std::mem::take(h));
        }
        if let Some(h) = self.hash_ref() {
            return Value::Hash(h.to_owned());
        }
        if let Some(s) = self.set_box_mut() {
            return Value::Set(std::mem::take(&mut s.set));
        }
        if let Some(z) = self.zset_box_mut() {
            return Value::ZSet(std::mem::take(&mut z.zset));
        }
        if let Some(x) = self.stream_box_mut() {
            return Value::Stream(std::mem::take(&mut x.stream));
        }
        Value::Str(Bytes::copy_from_slice(
            self.value().as_str().unwrap_or_default(),
        ))
    }

    /// Replace the value, keeping the key and metadata. The value must be owned
    /// (built fresh or `Bytes::copy_from_slice` of an argument), never a slice
    /// of a request: it is kept as it is. Reuses the allocation when the
    /// representation stays the same and, for inline strings, the length too.
    pub fn set_value(&mut self, value: Value) {
        let inline_len = self.header().inline_len as usize;
        match (self.header().kind, value) {
            (KIND_INLINE, Value::Str(s)) if s.len() == inline_len => {
                // SAFETY: same length, inline: overwrite the bytes in place.
                unsafe { ptr::copy_nonoverlapping(s.as_ptr(), self.value_at(), s.len()) };
            }
            (KIND_SHARED, Value::Str(s)) if s.len() > INLINE_MAX_BYTES => {
                if let Some(b) = self.shared_mut() {
                    *b = s;
                }
            }
            (KIND_LIST, Value::List(items)) => {
                if let Some(l) = self.list_box_mut() {
                    l.charged = ValueRef::List(&items).charged_bytes();
                    l.items = items;
                }
            }
            (KIND_HASH, Value::Hash(hash)) if hash.is_hashtable() => {
                if let Some(h) = self.hash_ref_mut() {
                    *h = hash;
                }
            }
            (KIND_PACKED_HASH, Value::Hash(hash))
                if hash
                    .packed_bytes()
                    .is_some_and(|b| u32::try_from(b.len()).is_ok()) =>
            {
                self.set_packed_hash(hash.packed_bytes().unwrap_or_default());
            }
            (KIND_SET, Value::Set(set)) => {
                if let Some(s) = self.set_box_mut() {
                    s.charged = set.charged_bytes();
                    s.set = set;
                }
            }
            (KIND_ZSET, Value::ZSet(zset)) => {
                if let Some(z) = self.zset_box_mut() {
                    z.charged = zset.charged_bytes();
                    z.zset = zset;
                }
            }
            (KIND_STREAM, Value::Stream(stream)) => {
                if let Some(x) = self.stream_box_mut() {
                    x.charged = stream.charged_bytes();
                    x.stream = stream;
                }
            }
            (_, value) => {
                let fresh =
                    Entry::build(copy_meta(self.header()), self.key(), value, Source::Owned);
                // The old allocation is dropped here; the new one takes its place.
                *self = fresh;
            }
        }
    }

    /// Put a new packed buffer in a KIND_PACKED_HASH entry: the allocation is
    /// resized (in place when the allocator's size class allows) and the
    /// header and key stay where they are.
    fn set_packed_hash(&mut self, buf: &[u8]) {
        let old_len = self.header().inline_len as usize;
        if buf.len() != old_len {
            let old = layout_for(self.key_len(), KIND_PACKED_HASH, old_len);
            let new = layout_for(self.key_len(), KIND_PACKED_HASH, buf.len());
            // SAFETY: the allocation was made with `old`; realloc keeps its
            // first min(old, new) bytes (header and key come first, and the
            // value part is rewritten below) and the alignment.
            unsafe {
                let raw = alloc::realloc(self.ptr.as_ptr() as *mut u8, old, new.size());
                let Some(ptr) = NonNull::new(raw as *mut Header) else {
                    alloc::handle_alloc_error(new)
                };
                self.ptr = ptr;
            }
            self.header_mut().inline_len = buf.len() as u32;
        }
        // SAFETY: the value part has room for exactly buf.len() bytes.
        unsafe { ptr::copy_nonoverlapping(buf.as_ptr(), self.value_at(), buf.len()) };
    }

    /// Change a string in place through a `BytesMut`: the buffer of a long
    /// string is reused when no reader holds a clone (so repeated APPENDs grow
    /// it amortized), else copied once. None for a list (nothing changes).
    pub fn edit_str<R>(&mut self, f: impl FnOnce(&mut BytesMut) -> R) -> Option<R> {
        let mut buf = match self.shared_mut() {
            // Take the entry's own reference out so try_into_mut can see
            // whether it is the only one.
            Some(b) => std::mem::take(b)
                .try_into_mut()
                .unwrap_or_else(|shared| BytesMut::from(&shared[..])),
            None => BytesMut::from(self.value().as_str()?),
        };
        let r = f(&mut buf);
        let value = if buf.len() <= INLINE_MAX_BYTES {
            Value::Str(Bytes::copy_from_slice(&buf))
        } else {
            Value::Str(buf.freeze())
        };
        self.set_value(value);
        Some(r)
    }

    /// The same entry under another key (RENAME, MOVE): metadata and value move over.
    pub fn with_key(self, key: &[u8]) -> Entry {
        if self.key() == key {
            return self;
        }
        let header = copy_meta(self.header());
        Entry::build(header, key, self.into_value(), Source::Owned)
    }
}

impl Deref for Entry {
    type Target = Meta;
    fn deref(&self) -> &Meta {
        &self.header().meta
    }
}

impl DerefMut for Entry {
    fn deref_mut(&mut self) -> &mut Meta {
        &mut self.header_mut().meta
    }
}

impl Clone for Entry {
    fn clone(&self) -> Entry {
        Entry::build(
            copy_meta(self.header()),
            self.key(),
            self.value().to_value(),
            Source::Owned,
        )
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (cas, expires_at_ms, flags) = (self.cas, self.expires_at_ms, self.flags);
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("value", &self.value())
            .field("cas", &cas)
            .field("expires_at_ms", &expires_at_ms)
            .field("flags", &flags)
            .finish()
    }
}

/// A hash being changed (`Entry::hash_mut`).
pub enum HashMut<'a> {
    /// A hash table, changed where it is.
    Table(&'a mut HashValue),
    /// A listpack copied out of its entry, written back on drop.
    Packed {
        entry: &'a mut Entry,
        hash: HashValue,
    },
}

impl Deref for HashMut<'_> {
    type Target = HashValue;
    fn deref(&self) -> &HashValue {
        match self {
            HashMut::Table(h) => h,
            HashMut::Packed { hash, .. } => hash,
        }
    }
}

impl DerefMut for HashMut<'_> {
    fn deref_mut(&mut self) -> &mut HashValue {
        match self {
            HashMut::Table(h) => h,
            HashMut::Packed { hash, .. } => hash,
        }
    }
}

impl Drop for HashMut<'_> {
    fn drop(&mut self) {
        if let HashMut::Packed { entry, hash } = self {
            entry.set_value(Value::Hash(std::mem::take(hash)));
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let layout = layout_for(
            self.key_len(),
            self.header().kind,
            self.header().inline_len as usize,
        );
        // SAFETY: we own the allocation: drop what its value part owns, then
        // free it with the layout it was allocated with.
        unsafe {
            match self.header().kind {
                KIND_SHARED => ptr::drop_in_place(self.value_at() as *mut Bytes),
                KIND_LIST => ptr::drop_in_place(self.value_at() as *mut Box<ListBox>),
                KIND_HASH => ptr::drop_in_place(self.value_at() as *mut HashValue),
                KIND_SET => ptr::drop_in_place(self.value_at() as *mut Box<SetBox>),
                KIND_ZSET => ptr::drop_in_place(self.value_at() as *mut Box<ZSetBox>),
                KIND_STREAM => ptr::drop_in_place(self.value_at() as *mut Box<StreamBox>),
                _ => {}
            }
            alloc::dealloc(self.ptr.as_ptr() as *mut u8, layout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[u8]) -> Value {
        Value::Str(Bytes::copy_from_slice(v))
    }

    #[test]
    fn inline_shared_and_collections_round_trip() {
        let long = vec![b'x'; INLINE_MAX_BYTES + 1];
        for value in [
            s(b""),
            s(b"0123456789abcdef"),
            s(&long),
            Value::List(VecDeque::from([
                Bytes::from_static(b"a"),
                Bytes::from_static(b"bc"),
            ])),
            Value::Hash(HashValue::from_pairs(
                [("f1", "v1"), ("f2", "value two")],
                false,
            )),
            Value::Hash(HashValue::from_pairs([("f1", "v1")], true)),
            Value::Hash(HashValue::default()),
            Value::Set(SetValue {
                members: [&b"1"[..], b"x"].into_iter().map(Into::into).collect(),
                hashtable: true,
            }),
        ] {
            let e = Entry::new(b"key:1", value.clone(), 42, 7, 9, 1000);
            assert_eq!(e.key(), b"key:1");
            assert_eq!(e.value(), value.as_ref());
            let (cas, exp, flags) = (e.cas, e.expires_at_ms, e.flags);
            assert_eq!((cas, exp, flags), (7, 42, 9));
            assert_eq!(
                e.charged(),
                5 + value.charged_bytes() + ENTRY_OVERHEAD_BYTES
            );
            assert_eq!(e.clone().into_value(), value);
            let renamed = e.with_key(b"other");
            assert_eq!(renamed.key(), b"other");
            assert_eq!(renamed.value(), value.as_ref());
        }
    }

    #[test]
    fn small_hash_lives_in_the_entry_and_moves_out_when_converted() {
        let mut e = Entry::new(b"h:1", Value::Hash(HashValue::default()), 0, 1, 0, 0);
        assert_eq!(e.header().kind, KIND_PACKED_HASH);
        for i in 0..50 {
            let (new, _) = e.hash_mut().unwrap().insert(format!("f{i}"), "v".repeat(i));
            assert!(new);
            assert_eq!(e.key(), b"h:1", "the key survives every resize");
        }
        let h = match e.value() {
            ValueRef::Hash(h) => h,
            other => panic!("{other:?}"),
        };
        assert_eq!(h.len(), 50);
        assert_eq!(h.get(b"f49"), Some("v".repeat(49).as_bytes()));
        assert!(!h.is_hashtable());
        // Shrinking reallocates too.
        for i in 0..49 {
            e.hash_mut()
                .unwrap()
                .remove(format!("f{i}").as_bytes())
                .unwrap();
        }
        assert_eq!(e.header().inline_len as usize, 1 + (1 + 3) + (1 + 49));
        // Converted: the table is boxed in a KIND_HASH entry, for good.
        e.hash_mut().unwrap().convert_to_hashtable();
        assert_eq!(e.header().kind, KIND_HASH);
        e.hash_mut().unwrap().insert("g", "w");
        assert_eq!(e.header().kind, KIND_HASH);
        let mut pairs: Vec<_> = match e.value() {
            ValueRef::Hash(h) => h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
            other => panic!("{other:?}"),
        };
        pairs.sort();
        assert_eq!(
            pairs,
            [
                (b"f49".to_vec(), "v".repeat(49).into_bytes()),
                (b"g".to_vec(), b"w".to_vec())
            ]
        );
    }

    #[test]
    fn five_field_hash_is_one_allocation_of_80_bytes() {
        // The memory benchmark's shape: "h:123456" and f1 v1 .. f5 123456.
        let h = HashValue::from_pairs(
            [
                ("f1", "v1"),
                ("f2", "v2"),
                ("f3", "v3"),
                ("f4", "v4"),
                ("f5", "123456"),
            ],
            false,
        );
        let e = Entry::new(b"h:123456", Value::Hash(h), 0, 1, 0, 0);
        assert!(layout_for(8, KIND_PACKED_HASH, e.header().inline_len as usize).size() <= 80);
    }

    #[test]
    fn small_entry_fits_one_64_byte_class() {
        // The memory-per-key benchmark's shape: "key:123456" and 16 bytes.
        const { assert!(HEADER_BYTES + 10 + 16 <= 64) };
    }

    #[test]
    fn set_value_and_edit_str_switch_representations() {
        let mut e = Entry::new(b"k", s(b"12"), 0, 1, 0, 0);
        e.set_value(s(b"13"));
        assert_eq!(e.value(), ValueRef::Str(b"13"));
        for _ in 0..300 {
            e.edit_str(|b| b.extend_from_slice(b"x")).unwrap();
        }
        assert_eq!(e.value().as_str().unwrap().len(), 302);
        let held = e.str_bytes().unwrap();
        e.edit_str(|b| b.truncate(3)).unwrap();
        assert_eq!(e.value(), ValueRef::Str(b"13x"));
        assert_eq!(
            held.len(),
            302,
            "a reader's clone is not changed by a later edit"
        );
        e.set_value(Value::List(VecDeque::from([Bytes::from_static(b"q")])));
        assert_eq!(e.list_mut().map(|l| l.len()), Some(1));
        assert!(e.edit_str(|_| ()).is_none());
        e.set_value(Value::Hash(HashValue::default()));
        assert!(e.list_mut().is_none() && e.set_mut().is_none());
        e.hash_mut()
            .unwrap()
            .insert(Bytes::from_static(b"f"), Bytes::from_static(b"v"));
        assert_eq!(e.value().type_name(), "hash");
        e.set_value(Value::Set(SetValue::default()));
        assert!(e.hash_mut().is_none());
        e.set_mut().unwrap().insert(Bytes::from_static(b"m"));
        assert_eq!(e.value().type_name(), "set");
        assert!(e.str_bytes().is_none());
    }

    #[test]
    fn collection_charges_follow_reported_deltas() {
        let mut e = Entry::new(b"h", Value::Hash(HashValue::default()), 0, 1, 0, 0);
        let base = e.charged();
        // An empty hash may charge a fixed overhead of its own.
        let empty = HashValue::default().charged_bytes();
        let (new, delta) = e
            .hash_mut()
            .unwrap()
            .insert(Bytes::from_static(b"field"), Bytes::from_static(b"value"));
        assert!(new);
        e.add_collection_charge(delta);
        assert_eq!(e.charged(), base - empty + e.value().charged_bytes());
        let (_, delta) = e.hash_mut().unwrap().remove(b"field").unwrap();
        e.add_collection_charge(delta);
        assert_eq!(e.charged(), base);
        let mut s = Entry::new(b"s", Value::Set(SetValue::default()), 0, 1, 0, 0);
        let base = s.charged();
        let (_, delta) = s.set_mut().unwrap().insert(Bytes::from_static(b"abc"));
        s.add_collection_charge(delta);
        assert_eq!(s.charged(), base + s.value().charged_bytes());
    }

    #[test]
    fn idle_time_wraps_like_an_lru_clock() {
        let mut e = Entry::new(b"k", s(b"v"), 0, 1, 0, u32::MAX as u64 - 5);
        assert_eq!(e.idle_ms(u32::MAX as u64 + 10), 15);
        e.touch(100);
        assert_eq!(e.idle_ms(160), 60);
        assert_eq!(e.access_ms(160), 100);
    }
}
