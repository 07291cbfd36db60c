//! memcached text and meta protocol: a pure codec (no I/O, no store).
//!
//! * [`McParser::parse`] turns bytes into typed [`McRequest`]s (or an [`McError`] carrying the
//!   exact reply line, whether memcached would suppress it under `noreply`, and whether the
//!   connection must close).
//! * [`response`] appends replies to a `BytesMut`.
//!
//! Behaviour follows memcached 1.6.18 as observed on the wire, including:
//! * tokens are split on spaces only; a line ends at `\n` with an optional `\r` stripped;
//! * a wrong token count is `ERROR` (even for known commands) and a storage header error does
//!   not swallow the data block, which is then read as a command line (usually `ERROR`);
//! * a too-large value is rejected with `SERVER_ERROR object too large for cache` and its
//!   block (declared length + 2 bytes, whatever they are) is swallowed; a block not followed
//!   by `\r\n` is `CLIENT_ERROR bad data chunk` after consuming declared length + 2 bytes;
//! * a classic command ending in `noreply` gets no reply at all, errors included
//!   ([`McError::noreply`]); meta errors are always sent;
//! * meta flag errors use memcached's texts (`md`/`ma` collapse them into
//!   `invalid or duplicate flag`).
//!
//! Deliberate differences from memcached 1.6.18:
//! * keys with control characters (bytes < 0x20 or 0x7f) are rejected with
//!   `CLIENT_ERROR bad command line format` (memcached accepts them);
//! * numbers that memcached silently truncates to 32 bits are handled in 64 bits (exptime,
//!   TTLs) or rejected (flags > u32::MAX, data length > i32::MAX - 2);
//! * the value limit is the value length (`item_size_max`), memcached counts its item
//!   header too, so it rejects a value of exactly 1 MiB;
//! * line-length limits do not depend on how bytes were chunked: a non-multiget line longer
//!   than 2048 bytes is always refused (memcached accepts it when it arrives in one read), and
//!   `gat`/`gats` may be long like `get`/`gets`; the refusal sends `CLIENT_ERROR line too
//!   long` before closing (memcached closes silently);
//! * `E` (all meta) and `x` (md) flags from newer memcached are accepted;
//! * a 0x80 first byte gets `CLIENT_ERROR binary protocol not supported` and a close.

mod base64;
pub mod request;
pub mod response;

pub use request::{
    ArithMode, McError, McErrorKind, McLimits, McParser, McRequest, MetaFlag, MetaFlags, StoreMode,
    KEY_MAX_LENGTH, LINE_MAX, OPAQUE_MAX,
};
pub use response::{MetaCommand, MetaDebugView, MetaItemView, MetaStatus};

/// Base64 helpers (as used for `b` keys), exposed for the server's `me`/`k` handling.
pub fn base64_encode(src: &[u8]) -> Vec<u8> {
    base64::encode(src)
}

/// Decodes like memcached (lenient about non-alphabet bytes); `None` on failure.
pub fn base64_decode(src: &[u8]) -> Option<Vec<u8>> {
    base64::decode(src)
}

#[cfg(test)]
mod tests;
