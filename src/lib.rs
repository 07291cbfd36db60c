//! herald: a pub/sub broker and cache speaking RESP2/RESP3 (and the memcached
//! text protocol) over one shared keyspace.
//!
//! Module map:
//! - `clock`      wall and LRU clocks, read once per command inside a batch
//! - `config`     defaults < TOML file < CLI flags; the CONFIG GET/SET registry
//! - `error`      the catalogue of wire error strings
//! - `protocol`   pure codecs: RESP request parser and reply encoder
//! - `commands`   the command table, dispatcher and one file per command family
//! - `store`      the sharded keyspace shared by both protocols
//! - `blocking`   clients blocked on list keys (BLPOP ...), woken in FIFO order
//! - `clients`    connected clients as other clients see them (CLIENT LIST/KILL, pushes)
//! - `pubsub`     channel/pattern registry, encode-once fan-out, slow-subscriber limits
//! - `glob`       Redis glob matching (KEYS, PSUBSCRIBE, CONFIG GET, ...)
//! - `server`     listeners, connection tasks, cron, shutdown: every `.await`
//! - `shared`     state shared by all connections; `stats` its counters

pub mod blocking;
pub mod clients;
pub mod clock;
pub mod commands;
pub mod config;
pub mod error;
pub mod glob;
pub mod protocol;
pub mod pubsub;
pub mod server;
pub mod shared;
pub mod stats;
pub mod store;
