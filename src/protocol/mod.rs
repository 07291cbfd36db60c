//! Wire protocols, pure: bytes in, typed values out. No tokio, no store.
//!
//! "Need more bytes" is `Ok(None)`; only corrupt input is an error.

pub mod memcache;
pub mod resp;
