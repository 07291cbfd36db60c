//! The memcached command family: classic and meta commands over the shared
//! store (database 0, the same keys and values the RESP side sees).
//!
//! memcached's quirks are translated here and nowhere else: exptime 0 = never,
//! up to 30 days relative, beyond that a Unix time, negative = already expired;
//! 32-bit client flags; 64-bit CAS uniques shared with the RESP side.

use bytes::{Bytes, BytesMut};

use crate::protocol::memcache::{response, McRequest, StoreMode};
use crate::shared::Shared;
use crate::store::{unix_ms, Value};

/// The RESP database the memcached side works on.
pub const MEMCACHE_DB: usize = 0;

/// What the connection does after a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Close,
}

/// memcached `stats` counters (names as memcached's, for memcached_exporter).
/// Owned by this family; held in `Shared::memcache`.
#[derive(Default)]
pub struct McStats {
    pub cmd_get: std::sync::atomic::AtomicU64,
    pub cmd_set: std::sync::atomic::AtomicU64,
    pub get_hits: std::sync::atomic::AtomicU64,
    pub get_misses: std::sync::atomic::AtomicU64,
    pub total_items: std::sync::atomic::AtomicU64,
}

/// Per-connection state of a memcached client.
#[derive(Default)]
pub struct McSession {}

/// memcached's version string (`version`, `stats`).
pub const VERSION: &str = "1.6.18";

/// Execute one request, appending its reply (if any) to `out`.
pub fn execute(
    shared: &Shared,
    _session: &mut McSession,
    request: McRequest,
    out: &mut BytesMut,
) -> Flow {
    let now = unix_ms();
    match request {
        McRequest::Get { keys, cas } => {
            for key in keys {
                let slot = shared.store.slot(MEMCACHE_DB, &key, now);
                if let Some(e) = slot.peek() {
                    if let Value::Str(v) = &e.value {
                        response::value(out, &key, e.flags, v, cas.then_some(e.cas));
                    }
                }
            }
            response::end(out);
        }
        McRequest::Store {
            mode: StoreMode::Set,
            key,
            flags,
            exptime: _,
            data,
            noreply,
            ..
        } => {
            store_set(shared, &key, flags, data, now);
            if !noreply {
                response::stored(out);
            }
        }
        McRequest::Version => response::version(out, VERSION),
        McRequest::Quit => return Flow::Close,
        _ => response::error_line(out, "SERVER_ERROR not implemented"),
    }
    Flow::Continue
}

fn store_set(shared: &Shared, key: &Bytes, flags: u32, data: Bytes, now: u64) {
    shared
        .store
        .slot(MEMCACHE_DB, key, now)
        .insert(Value::Str(data), 0, flags);
}
