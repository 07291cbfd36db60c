//! herald: a pub/sub broker and cache speaking RESP2/RESP3 (and the memcached
//! text protocol) over one shared keyspace.
//!
//! Module map:
//! - `clock`      wall and LRU clocks, read once per command inside a batch
//! - `config`     defaults < TOML file < CLI flags; the CONFIG GET/SET registry
//! - `error`      the catalogue of wire error strings
//! - `protocol`   pure codecs: RESP request parser and reply encoder
//! - `printf`     numbers as C's printf %g prints them (scores, Lua doubles)
//! - `rdb`        pure codec of Redis's RDB value format (DUMP/RESTORE payloads)
//! - `commands`   the command table, dispatcher, `Shared` (the handlers' server
//!   state) and one file per command family
//! - `store`      the sharded keyspace shared by both protocols
//! - `blocking`   clients blocked on list keys (BLPOP ...), woken in FIFO order
//! - `clients`    connected clients as other clients see them (CLIENT LIST/KILL, pushes)
//! - `pubsub`     channel/pattern registry, encode-once fan-out, slow-subscriber limits
//! - `glob`       Redis glob matching (KEYS, PSUBSCRIBE, CONFIG GET, ...)
//! - `keyspace_events` the `notify-keyspace-events` flag codec
//! - `scripting`  the Lua 5.1 interpreter, script cache and sandbox (EVAL)
//! - `server`     listeners, connection tasks, cron, shutdown: every `.await`
//! - `stats`      server-wide counters (INFO stats)

pub mod blocking;
pub mod clients;
pub mod clock;
pub mod commands;
pub mod config;
pub mod error;
pub mod glob;
pub mod keyspace_events;
pub mod printf;
pub mod protocol;
pub mod pubsub;
pub mod rdb;
pub mod scripting;
pub mod server;
pub mod stats;
pub mod store;
