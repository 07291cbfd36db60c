//! Configuration: built-in defaults < TOML file < command-line flags.
//!
//! Every setting is a row of `PARAMS` (name as in `redis.conf`, getter, setter,
//! whether CONFIG SET may change it at runtime). The TOML file, CONFIG GET and
//! CONFIG SET all go through those rows, so a setting is parsed and printed in
//! one place. The documented file `config/herald.toml` is embedded in the binary
//! and is what `herald` runs on with no arguments; a test checks that it equals
//! `Config::default()`.

use std::fmt;
use std::path::Path;

use crate::keyspace_events as notify;
use crate::store::EvictionPolicy;

/// The documented default configuration, embedded in the binary.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../config/herald.toml");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// `client-output-buffer-limit pubsub <hard> <soft> <seconds>`: a subscriber whose
/// queued bytes pass `hard_bytes`, or stay above `soft_bytes` for more than
/// `soft_seconds`, is disconnected. 0 disables a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputBufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Addresses the RESP (and memcached) listeners bind.
    pub bind: Vec<String>,
    /// RESP port; 0 picks a free port (tests).
    pub port: u16,
    /// memcached text-protocol port; 0 disables the memcached listener.
    pub memcache_port: u16,
    /// Largest value the memcached side stores, in bytes.
    pub item_size_max: u64,
    /// Number of logical databases (SELECT 0..databases-1).
    pub databases: usize,
    /// Connections accepted at once, over every listener.
    pub maxclients: usize,
    /// Password of the default user; None when no password is required.
    pub requirepass: Option<String>,
    /// Close a client idle for this many seconds (0 = never). Subscribers are exempt.
    pub timeout_secs: u64,
    /// Largest bulk string a request may carry, in bytes.
    pub proto_max_bulk_len: u64,
    /// Slow-subscriber protection.
    pub pubsub_output_limit: OutputBufferLimit,
    /// Tokio worker threads; 0 = one per core.
    pub threads: usize,
    /// Tracing filter (`error`, `warn`, `info`, `debug`, `trace` or a directive list).
    pub log_level: String,
    pub log_format: LogFormat,
    /// How long graceful shutdown waits for connections to finish, in seconds.
    pub shutdown_timeout_secs: u64,
    /// Bytes the keyspace may use (0 = unlimited).
    pub maxmemory: u64,
    pub maxmemory_policy: EvictionPolicy,
    /// Keys sampled per eviction.
    pub maxmemory_samples: u32,
    /// Enabled keyspace notification classes (bits of `notify-keyspace-events`).
    pub notify_keyspace_events: u32,
    /// Values of the Redis parameters herald accepts, stores and returns but
    /// does not act on (`COMPAT_PARAMS`, same order).
    pub compat: Vec<String>,
    /// A sparse HyperLogLog longer than this (header included) becomes dense.
    pub hll_sparse_max_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: vec!["127.0.0.1".into()],
            port: 6379,
            memcache_port: 11211,
            item_size_max: 1024 * 1024,
            databases: 16,
            maxclients: 10000,
            requirepass: None,
            timeout_secs: 0,
            proto_max_bulk_len: 512 * 1024 * 1024,
            pubsub_output_limit: OutputBufferLimit {
                hard_bytes: 32 * 1024 * 1024,
                soft_bytes: 8 * 1024 * 1024,
                soft_seconds: 60,
            },
            threads: 0,
            log_level: "info".into(),
            log_format: LogFormat::Text,
            shutdown_timeout_secs: 5,
            maxmemory: 0,
            maxmemory_policy: EvictionPolicy::NoEviction,
            maxmemory_samples: 5,
            notify_keyspace_events: 0,
            compat: COMPAT_PARAMS
                .iter()
                .map(|p| p.default.to_string())
                .collect(),
            hll_sparse_max_bytes: 3000,
        }
    }
}

/// A setting that could not be applied: which key, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid value for '{}': {}", self.key, self.reason)
    }
}

type Getter = fn(&Config) -> String;
type Setter = fn(&mut Config, &str) -> Result<(), String>;

/// One configuration parameter.
pub struct Param {
    pub name: &'static str,
    pub get: Getter,
    pub set: Setter,
    /// CONFIG SET may change it while running.
    pub mutable: bool,
}

const NOT_INTEGER: &str = "argument couldn't be parsed into an integer";

fn parse_u64(v: &str) -> Result<u64, String> {
    v.trim().parse::<u64>().map_err(|_| NOT_INTEGER.to_string())
}

fn parse_bounded(v: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = parse_u64(v)?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// Redis `memtoll`: `1k` = 1000, `1kb` = 1024, `1m`, `1mb`, `1g`, `1gb`, case-insensitive.
pub fn parse_size(v: &str) -> Result<u64, String> {
    let v = v.trim().to_ascii_lowercase();
    let digits_end = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(digits_end);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return Err("argument must be a memory value".into()),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| "argument must be a memory value".to_string())?;
    n.checked_mul(mul)
        .ok_or_else(|| "argument must be a memory value".to_string())
}

fn set_output_limit(c: &mut Config, v: &str) -> Result<(), String> {
    // Accepts "pubsub 32mb 8mb 60" (any number of class groups, as Redis does) or,
    // in the TOML file, just the pubsub triple "32mb 8mb 60".
    let words: Vec<&str> = v.split_whitespace().collect();
    let groups: Vec<&[&str]> = if words.len() == 3 && words[0].parse::<u64>().is_ok()
        || words.len() == 3 && parse_size(words[0]).is_ok()
    {
        vec![&words[..]]
    } else if !words.is_empty() && words.len().is_multiple_of(4) {
        words.chunks(4).collect()
    } else {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    };
    let mut limit = c.pubsub_output_limit;
    for g in groups {
        let (class, nums) = if g.len() == 4 {
            (g[0], &g[1..])
        } else {
            ("pubsub", g)
        };
        let hard = parse_size(nums[0])?;
        let soft = parse_size(nums[1])?;
        let secs = parse_u64(nums[2])?;
        match class.to_ascii_lowercase().as_str() {
            "pubsub" => {
                limit = OutputBufferLimit {
                    hard_bytes: hard,
                    soft_bytes: soft,
                    soft_seconds: secs,
                }
            }
            // Accepted for compatibility with redis.conf; herald enforces the pubsub class.
            "normal" | "replica" | "slave" => {}
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        }
    }
    c.pubsub_output_limit = limit;
    Ok(())
}

/// Every parameter, in CONFIG GET order.
pub static PARAMS: &[Param] = &[
    Param {
        name: "bind",
        get: |c| c.bind.join(" "),
        set: |c, v| {
            let addrs: Vec<String> = v.split_whitespace().map(String::from).collect();
            if addrs.is_empty() {
                return Err("at least one address is needed".into());
            }
            c.bind = addrs;
            Ok(())
        },
        mutable: false,
    },
    Param {
        name: "port",
        get: |c| c.port.to_string(),
        set: |c, v| {
            c.port = parse_bounded(v, 0, 65535)? as u16;
            Ok(())
        },
        mutable: false,
    },
    Param {
        name: "memcache-port",
        get: |c| c.memcache_port.to_string(),
        set: |c, v| {
            c.memcache_port = parse_bounded(v, 0, 65535)? as u16;
            Ok(())
        },
        mutable: false,
    },
    Param {
        name: "item-size-max",
        get: |c| c.item_size_max.to_string(),
        set: |c, v| {
            let n = parse_size(v)?;
            if !(1024..=1024 * 1024 * 1024).contains(&n) {
                return Err("argument must be between 1kb and 1gb".into());
            }
            c.item_size_max = n;
            Ok(())
        },
        mutable: true,
    },
    Param {
        name: "databases",
        get: |c| c.databases.to_string(),
        set: |c, v| {
            c.databases = parse_bounded(v, 1, i32::MAX as u64)? as usize;
            Ok(())
        },
        mutable: false,
    },
    Param {
        name: "maxclients",
        get: |c| c.maxclients.to_string(),
        set: |c, v| {
            c.maxclients = parse_bounded(v, 1, u32::MAX as u64)? as usize;
            Ok(())
        },
        mutable: true,
    },
    Param {
        name: "requirepass",
        get: |c| c.requirepass.clone().unwrap_or_default(),
        set: |c, v| {
            c.requirepass = if v.is_empty() {
                None
            } else {
                Some(v.to_string())
            };
            Ok(())
        },
        mutable: true,
    },
    Param {
        name: "timeout",
        get: |c| c.timeout_secs.to_string(),
        set: |c, v| {
            c.timeout_secs = parse_bounded(v, 0, i32::MAX as u64)?;
            Ok(())
        },
        mutable: true,
    },
    Param {
        name: "proto-max-bulk-len",
        get: |c| c.proto_max_bulk_len.to_string(),
        set: |c, v| {
            let n = parse_size(v)?;
            if n < 1024 * 1024 {
                return Err("argument must be a memory value of at least 1mb".into());
            }
            // Entries store key lengths in 32 bits (store::entry), and a key is
            // one bulk string: so no bulk string may be longer.
            if n > u32::MAX as u64 {
                return Err("argument must be a memory value of at most 4294967295 bytes".into());
            }
            c.proto_max_bulk_len = n;
            Ok(())
        },
        mutable: true,
    },
    Param {
        name: "client-output-buffer-limit",
        get: |c| {
            let l = c.pubsub_output_limit;
            format!(
                "normal 0 0 0 slave 268435456 67108864 60 pubsub {} {} {}",
                l.hard_bytes, l.soft_bytes, l.soft_seconds
            )
        },
        set: set_output_limit,
        mutable: true,
    },
    Param {
        name: "io-threads",
        get: |c| c.threads.to_string(),
        set: |c, v| {
            c.threads = parse_bounded(v, 0, 1024)? as usize;
            Ok(())
        },
        mutable: false,
    },
    Param {
        name: "loglevel",
        get: |c| c.log_level.clone(),
        set: |c, v| {
            if v.trim().is_empty() {
                return Err("argument must not be empty".into());
            }
            c.log_level = v.trim().to_string();
            Ok(())
        },
        mutable: false,
    },
    Param {
        name: "log-format",
        get: |c| match c.log_format {
            LogFormat::Text => "text".into(),
            LogFormat::Json => "json".into(),
        },
        set: |c, v| {
            c.log_format = match v.to_ascii_lowercase().as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return Err("argument must be one of: text, json".into()),
            };
            Ok(())
        },
        mutable: false,
    },
    Param {
        name: "shutdown-timeout",
        get: |c| c.shutdown_timeout_secs.to_string(),
        set: |c, v| {
            c.shutdown_timeout_secs = parse_bounded(v, 0, 3600)?;
            Ok(())
        },
        mutable: true,
    },
    Param {
        name: "maxmemory",
        get: |c| c.maxmemory.to_string(),
        set: |c, v| {
            c.maxmemory = parse_size(v)?;
            Ok(())
        },
        mutable: true,
    },
    Param {
        name: "maxmemory-policy",
        get: |c| c.maxmemory_policy.name().to_string(),
        set: |c, v| {
            c.maxmemory_policy = EvictionPolicy::parse(v.trim()).ok_or("argument(s) must be one of the following: volatile-lru, allkeys-lru, volatile-lfu, allkeys-lfu, volatile-random, allkeys-random, volatile-ttl, noeviction")?;
            Ok(())
        },
        mutable: true,
    },
    Param {
        name: "maxmemory-samples",
        get: |c| c.maxmemory_samples.to_string(),
        set: |c, v| {
            c.maxmemory_samples = parse_bounded(v, 1, 64)? as u32;
            Ok(())
        },
        mutable: true,
    },
    Param {
        name: "notify-keyspace-events",
        get: |c| notify::render_flags(c.notify_keyspace_events),
        set: |c, v| {
            c.notify_keyspace_events = notify::parse_flags(v)?;
            Ok(())
        },
        mutable: true,
    },
    Param {
        name: "hll-sparse-max-bytes",
        get: |c| c.hll_sparse_max_bytes.to_string(),
        set: |c, v| {
            // Redis: a memory value from 0 to LONG_MAX.
            let n = parse_size(v)?;
            if n > i64::MAX as u64 {
                return Err(format!(
                    "argument must be between 0 and {} inclusive",
                    i64::MAX
                ));
            }
            c.hll_sparse_max_bytes = n;
            Ok(())
        },
        mutable: true,
    },
];

/// How a stored-only Redis parameter's value is checked and normalised, as
/// Redis's config.c types do.
pub enum Kind {
    /// An integer within bounds.
    Int(i64, i64),
    /// A memory value (1k, 1mb ...) within bounds, returned in bytes.
    Memory(i64, i64),
    /// A memory value or a percentage up to 100% (maxmemory-clients).
    MemoryOrPercent,
    Bool,
    Enum(&'static [&'static str]),
    /// `save`: pairs of seconds and changes, or "".
    Save,
    /// Any string.
    Text,
}

/// A Redis parameter herald accepts, stores and returns with Redis's default,
/// and that has no effect in herald (see config/herald.toml), except
/// `zset-max-listpack-*` (`Config::zset_max_listpack_entries`),
/// `set-max-intset-entries` (`Config::set_max_intset_entries`) and
/// `stream-node-max-*` (`Config::stream_node_max_bytes`).
pub struct CompatParam {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub default: &'static str,
    pub kind: Kind,
    pub mutable: bool,
    /// Only CONFIG GET of its exact name shows it (Redis's HIDDEN_CONFIG).
    pub hidden: bool,
}

const fn compat(name: &'static str, default: &'static str, kind: Kind) -> CompatParam {
    CompatParam {
        name,
        alias: None,
        default,
        kind,
        mutable: true,
        hidden: false,
    }
}

const fn aliased(
    name: &'static str,
    alias: &'static str,
    default: &'static str,
    kind: Kind,
) -> CompatParam {
    CompatParam {
        name,
        alias: Some(alias),
        default,
        kind,
        mutable: true,
        hidden: false,
    }
}

const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;
const LONG_MAX: i64 = i64::MAX;

/// Every stored-only parameter, in CONFIG GET order (after `PARAMS`).
pub static COMPAT_PARAMS: &[CompatParam] = &[
    compat("list-compress-depth", "0", Kind::Int(0, INT_MAX)),
    aliased(
        "list-max-listpack-size",
        "list-max-ziplist-size",
        "-2",
        Kind::Int(INT_MIN, INT_MAX),
    ),
    aliased(
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        "512",
        Kind::Int(0, LONG_MAX),
    ),
    aliased(
        "hash-max-listpack-value",
        "hash-max-ziplist-value",
        "64",
        Kind::Memory(0, LONG_MAX),
    ),
    compat("set-max-intset-entries", "512", Kind::Int(0, LONG_MAX)),
    aliased(
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
        "128",
        Kind::Int(0, LONG_MAX),
    ),
    aliased(
        "zset-max-listpack-value",
        "zset-max-ziplist-value",
        "64",
        Kind::Memory(0, LONG_MAX),
    ),
    compat("stream-node-max-bytes", "4096", Kind::Memory(0, LONG_MAX)),
    compat("stream-node-max-entries", "100", Kind::Int(0, LONG_MAX)),
    // herald keeps no RDB file: "" as Redis started with `--save ''`.
    compat("save", "", Kind::Save),
    compat("appendonly", "no", Kind::Bool),
    compat(
        "appendfsync",
        "everysec",
        Kind::Enum(&["always", "everysec", "no"]),
    ),
    aliased(
        "busy-reply-threshold",
        "lua-time-limit",
        "5000",
        Kind::Int(0, LONG_MAX),
    ),
    compat("lfu-log-factor", "10", Kind::Int(0, INT_MAX)),
    compat("lfu-decay-time", "1", Kind::Int(0, INT_MAX)),
    compat("hz", "10", Kind::Int(0, INT_MAX)),
    compat("active-expire-effort", "1", Kind::Int(1, 10)),
    compat("activerehashing", "yes", Kind::Bool),
    compat("lazyfree-lazy-eviction", "no", Kind::Bool),
    compat("lazyfree-lazy-expire", "no", Kind::Bool),
    compat("lazyfree-lazy-server-del", "no", Kind::Bool),
    compat("lazyfree-lazy-user-del", "no", Kind::Bool),
    compat("lazyfree-lazy-user-flush", "no", Kind::Bool),
    compat("slowlog-log-slower-than", "10000", Kind::Int(-1, LONG_MAX)),
    compat("slowlog-max-len", "128", Kind::Int(0, LONG_MAX)),
    compat("latency-monitor-threshold", "0", Kind::Int(0, LONG_MAX)),
    compat("repl-backlog-size", "1048576", Kind::Memory(1, LONG_MAX)),
    compat("maxmemory-clients", "0", Kind::MemoryOrPercent),
    compat(
        "client-query-buffer-limit",
        "1073741824",
        Kind::Memory(1024 * 1024, LONG_MAX),
    ),
    CompatParam {
        mutable: false,
        ..compat("daemonize", "no", Kind::Bool)
    },
    CompatParam {
        mutable: false,
        ..aliased("replicaof", "slaveof", "", Kind::Text)
    },
    CompatParam {
        mutable: false,
        ..compat("appendfilename", "appendonly.aof", Kind::Text)
    },
    CompatParam {
        hidden: true,
        ..compat("key-load-delay", "0", Kind::Int(INT_MIN, INT_MAX))
    },
    // herald's own: the memory one Lua interpreter may hold (Redis has no
    // cap); a script past it fails with "not enough memory".
    CompatParam {
        hidden: true,
        ..compat(
            "lua-memory-limit",
            "1073741824",
            Kind::Memory(1 << 20, LONG_MAX),
        )
    },
];

/// The compatibility parameters that do take effect for hashes and sorted
/// sets (src/commands/hashes.rs and zsets.rs read them on every write, as Redis does).
impl Config {
    /// `hash-max-listpack-entries` (alias `hash-max-ziplist-entries`): a hash
    /// with more fields is converted, for good, to a hash table.
    pub fn hash_max_listpack_entries(&self) -> u64 {
        self.compat_number("hash-max-listpack-entries", 512)
    }

    /// `hash-max-listpack-value` (alias `hash-max-ziplist-value`): a field or
    /// value longer than this many bytes converts its hash to a hash table.
    pub fn hash_max_listpack_value(&self) -> u64 {
        self.compat_number("hash-max-listpack-value", 64)
    }

    /// `lua-memory-limit` (hidden, herald's own): bytes each Lua
    /// interpreter may allocate (src/scripting).
    pub fn lua_memory_limit(&self) -> u64 {
        self.compat_number("lua-memory-limit", 1 << 30)
    }

    /// `busy-reply-threshold` (alias `lua-time-limit`): ms a script runs
    /// before other clients get -BUSY.
    pub fn busy_reply_threshold_ms(&self) -> u64 {
        self.compat_number("busy-reply-threshold", 5000)
    }

    /// A non-negative integer compatibility parameter (stored normalised).
    fn compat_number(&self, name: &str, default: u64) -> u64 {
        COMPAT_PARAMS
            .iter()
            .position(|p| p.name == name)
            .and_then(|i| self.compat.get(i))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// `zset-max-listpack-entries`: the most members a sorted set keeps in
    /// Redis's listpack encoding before it is converted, for good, to a
    /// skiplist (OBJECT ENCODING). A compatibility parameter that does take
    /// effect: src/commands/zsets.rs reads it when a set grows.
    pub fn zset_max_listpack_entries(&self) -> u64 {
        self.compat_number("zset-max-listpack-entries", 128)
    }

    /// `zset-max-listpack-value`: the longest member (bytes) a listpack-encoded
    /// sorted set takes before it is converted to a skiplist.
    pub fn zset_max_listpack_value(&self) -> u64 {
        self.compat_number("zset-max-listpack-value", 64)
    }

    /// `stream-node-max-bytes`: the most bytes a stream node (Redis's
    /// listpack) holds before XADD starts a new one (0 = no limit). Read by
    /// src/commands/streams.rs on every XADD; it decides what `~` trims.
    pub fn stream_node_max_bytes(&self) -> u64 {
        self.compat_number("stream-node-max-bytes", 4096)
    }

    /// `stream-node-max-entries`: the most entries a stream node holds (0 =
    /// no limit); also sets the default LIMIT of `~` trimming (100 nodes).
    pub fn stream_node_max_entries(&self) -> u64 {
        self.compat_number("stream-node-max-entries", 100)
    }
}

fn parse_i64_bounded(v: &str, min: i64, max: i64) -> Result<i64, String> {
    let n: i64 = v.trim().parse().map_err(|_| NOT_INTEGER.to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

impl Config {
    /// `set-max-intset-entries`: the most members an all-integer set keeps in
    /// Redis's intset encoding (OBJECT ENCODING, SMEMBERS order) before it is
    /// converted, for good, to a hash table. A compatibility parameter that
    /// does take effect: src/commands/sets.rs reads it on every change.
    pub fn set_max_intset_entries(&self) -> u64 {
        COMPAT_PARAMS
            .iter()
            .position(|p| p.name == "set-max-intset-entries")
            .and_then(|i| self.compat.get(i))
            .and_then(|v| v.parse().ok())
            .unwrap_or(512)
    }
}

impl Kind {
    /// Check `v` and return it as CONFIG GET shows it.
    fn normalise(&self, v: &str) -> Result<String, String> {
        match self {
            Kind::Int(min, max) => Ok(parse_i64_bounded(v, *min, *max)?.to_string()),
            Kind::Memory(min, max) => {
                let n = parse_size(v)?;
                let n =
                    i64::try_from(n).map_err(|_| "argument must be a memory value".to_string())?;
                if n < *min || n > *max {
                    return Err(format!(
                        "argument must be between {min} and {max} inclusive"
                    ));
                }
                Ok(n.to_string())
            }
            Kind::MemoryOrPercent => match v.strip_suffix('%') {
                Some(p) => {
                    let n: i64 = p
                        .parse()
                        .map_err(|_| "argument must be a memory or percent value".to_string())?;
                    if !(0..=100).contains(&n) {
                        return Err("percentage argument must be less or equal to 100".into());
                    }
                    Ok(format!("{n}%"))
                }
                None => Ok(parse_size(v)
                    .map_err(|_| "argument must be a memory or percent value".to_string())?
                    .to_string()),
            },
            Kind::Bool => match v.to_ascii_lowercase().as_str() {
                "yes" => Ok("yes".into()),
                "no" => Ok("no".into()),
                _ => Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Enum(names) => {
                let lower = v.to_ascii_lowercase();
                if names.contains(&lower.as_str()) {
                    Ok(lower)
                } else {
                    Err(format!(
                        "argument(s) must be one of the following: {}",
                        names.join(", ")
                    ))
                }
            }
            Kind::Save => {
                let words: Vec<&str> = v.split_whitespace().collect();
                if !words.len().is_multiple_of(2) {
                    return Err("Invalid save parameters".into());
                }
                let mut out = Vec::new();
                for w in &words {
                    let n: i64 = w
                        .parse()
                        .map_err(|_| "Invalid save parameters".to_string())?;
                    if n < 0 {
                        return Err("Invalid save parameters".into());
                    }
                    out.push(n.to_string());
                }
                Ok(out.join(" "))
            }
            Kind::Text => Ok(v.to_string()),
        }
    }
}

/// A parameter of either table, as CONFIG GET/SET and the TOML file see it.
#[derive(Clone, Copy)]
pub enum ParamRef {
    Herald(&'static Param),
    Compat(usize),
}

impl ParamRef {
    pub fn name(self) -> &'static str {
        match self {
            ParamRef::Herald(p) => p.name,
            ParamRef::Compat(i) => COMPAT_PARAMS[i].name,
        }
    }

    pub fn mutable(self) -> bool {
        match self {
            ParamRef::Herald(p) => p.mutable,
            ParamRef::Compat(i) => COMPAT_PARAMS[i].mutable,
        }
    }

    pub fn get(self, c: &Config) -> String {
        match self {
            ParamRef::Herald(p) => (p.get)(c),
            ParamRef::Compat(i) => c.compat.get(i).cloned().unwrap_or_default(),
        }
    }

    pub fn set(self, c: &mut Config, v: &str) -> Result<(), String> {
        match self {
            ParamRef::Herald(p) => (p.set)(c, v),
            ParamRef::Compat(i) => {
                let v = COMPAT_PARAMS[i].kind.normalise(v)?;
                if let Some(slot) = c.compat.get_mut(i) {
                    *slot = v;
                }
                Ok(())
            }
        }
    }
}

/// Look a parameter up by name or alias, case-insensitively (hidden ones too).
pub fn lookup_param(name: &str) -> Option<ParamRef> {
    if let Some(p) = find_param(name) {
        return Some(ParamRef::Herald(p));
    }
    let lower = name.to_ascii_lowercase();
    COMPAT_PARAMS
        .iter()
        .position(|p| p.name == lower || p.alias == Some(lower.as_str()))
        .map(ParamRef::Compat)
}

/// Every (name, parameter) CONFIG GET lists for patterns, names and aliases
/// both, hidden parameters left out.
pub fn listed_params() -> impl Iterator<Item = (&'static str, ParamRef)> {
    let herald = PARAMS.iter().map(|p| (p.name, ParamRef::Herald(p)));
    let compat = COMPAT_PARAMS
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.hidden)
        .flat_map(|(i, p)| {
            std::iter::once((p.name, ParamRef::Compat(i)))
                .chain(p.alias.map(|a| (a, ParamRef::Compat(i))))
        });
    herald.chain(compat)
}

/// The hidden parameter named exactly `name`, with its name.
pub fn hidden_param(name: &str) -> Option<(&'static str, ParamRef)> {
    let lower = name.to_ascii_lowercase();
    COMPAT_PARAMS
        .iter()
        .position(|p| p.hidden && p.name == lower)
        .map(|i| (COMPAT_PARAMS[i].name, ParamRef::Compat(i)))
}

pub fn find_param(name: &str) -> Option<&'static Param> {
    // TOML keys may use the flag spelling too (log-level for loglevel, threads for io-threads).
    let name = match name.to_ascii_lowercase().as_str() {
        "log-level" => "loglevel".to_string(),
        "threads" => "io-threads".to_string(),
        other => other.to_string(),
    };
    PARAMS.iter().find(|p| p.name == name)
}

impl Config {
    /// Apply one `name = value` setting (file or CONFIG SET).
    pub fn apply(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let param = lookup_param(name).ok_or_else(|| ConfigError {
            key: name.to_string(),
            reason: "unknown configuration key".into(),
        })?;
        param.set(self, value).map_err(|reason| ConfigError {
            key: name.to_string(),
            reason,
        })
    }

    /// Overlay the settings of a TOML document on `self`.
    pub fn apply_toml(&mut self, text: &str) -> Result<(), ConfigError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError {
            key: "(file)".into(),
            reason: e.to_string(),
        })?;
        for (key, value) in table {
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => if b { "yes" } else { "no" }.to_string(),
                toml::Value::Array(items) => items
                    .into_iter()
                    .map(|i| match i {
                        toml::Value::String(s) => Ok(s),
                        other => Err(ConfigError {
                            key: key.clone(),
                            reason: format!("expected a list of strings, found {other}"),
                        }),
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .join(" "),
                other => {
                    return Err(ConfigError {
                        key,
                        reason: format!("unsupported value {other}"),
                    })
                }
            };
            self.apply(&key, &text)?;
        }
        Ok(())
    }

    /// The embedded defaults, overlaid with the file at `path` if given.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
                key: "--config".into(),
                reason: format!("cannot read {}: {e}", path.display()),
            })?;
            config.apply_toml(&text)?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::field_reassign_with_default)]
    fn documented_file_equals_code_defaults() {
        let mut from_file = Config::default();
        // Start from values that differ from every default, so a key missing from
        // the file is caught too.
        from_file.port = 1;
        from_file.memcache_port = 1;
        from_file.item_size_max = 1;
        from_file.databases = 1;
        from_file.maxclients = 1;
        from_file.requirepass = Some("x".into());
        from_file.timeout_secs = 1;
        from_file.proto_max_bulk_len = 1;
        from_file.pubsub_output_limit.hard_bytes = 1;
        from_file.threads = 1;
        from_file.log_level = "x".into();
        from_file.log_format = LogFormat::Json;
        from_file.shutdown_timeout_secs = 1;
        from_file.bind = vec!["x".into()];
        from_file.maxmemory = 1;
        from_file.maxmemory_policy = EvictionPolicy::AllKeysLru;
        from_file.maxmemory_samples = 1;
        from_file.notify_keyspace_events = 1;
        from_file.hll_sparse_max_bytes = 1;
        for v in &mut from_file.compat {
            *v = "x".into();
        }
        from_file.apply_toml(DEFAULT_CONFIG_TOML).unwrap();
        assert_eq!(from_file, Config::default());
    }

    #[test]
    fn every_param_round_trips_through_its_getter() {
        let mut c = Config::default();
        for p in PARAMS {
            let v = (p.get)(&c);
            (p.set)(&mut c, &v).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        }
        for (i, p) in COMPAT_PARAMS.iter().enumerate() {
            let r = ParamRef::Compat(i);
            r.set(&mut c, &r.get(&Config::default()))
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
        }
        assert_eq!(c, Config::default());
    }

    #[test]
    fn compat_params_check_and_normalise_as_redis() {
        let mut c = Config::default();
        for (name, value, shown) in [
            ("list-max-ziplist-size", "-3", "-3"),
            ("hash-max-listpack-value", "1kb", "1024"),
            ("appendonly", "YES", "yes"),
            ("appendfsync", "Always", "always"),
            ("lua-time-limit", "10", "10"),
            ("maxmemory-clients", "50%", "50%"),
            ("save", "3000 5", "3000 5"),
        ] {
            c.apply(name, value).unwrap();
            assert_eq!(lookup_param(name).unwrap().get(&c), shown, "{name}");
        }
        assert_eq!(lookup_param("busy-reply-threshold").unwrap().get(&c), "10");
        for (name, value, reason) in [
            (
                "list-compress-depth",
                "-1",
                "argument must be between 0 and 2147483647 inclusive",
            ),
            ("appendonly", "maybe", "argument must be 'yes' or 'no'"),
            (
                "maxmemory-clients",
                "200%",
                "percentage argument must be less or equal to 100",
            ),
            ("save", "1", "Invalid save parameters"),
        ] {
            assert_eq!(c.apply(name, value).unwrap_err().reason, reason, "{name}");
        }
    }

    #[test]
    fn sizes_as_redis_memtoll() {
        assert_eq!(parse_size("32mb"), Ok(32 * 1024 * 1024));
        assert_eq!(parse_size("1k"), Ok(1000));
        assert_eq!(parse_size("1GB"), Ok(1 << 30));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("12x").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn bad_values_name_the_key() {
        let mut c = Config::default();
        let e = c.apply_toml("port = 70000").unwrap_err();
        assert_eq!(e.key, "port");
        assert!(e.reason.contains("between 0 and 65535"), "{}", e.reason);
        let e = c.apply_toml("nosuchkey = 1").unwrap_err();
        assert_eq!(e.key, "nosuchkey");
        let e = c.apply_toml("maxclients = \"many\"").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for 'maxclients': argument couldn't be parsed into an integer"
        );
    }

    #[test]
    fn output_buffer_limit_forms() {
        let mut c = Config::default();
        c.apply("client-output-buffer-limit", "pubsub 1mb 512kb 10")
            .unwrap();
        assert_eq!(
            c.pubsub_output_limit,
            OutputBufferLimit {
                hard_bytes: 1 << 20,
                soft_bytes: 512 * 1024,
                soft_seconds: 10
            }
        );
        c.apply("client-output-buffer-limit", "normal 0 0 0 pubsub 0 0 0")
            .unwrap();
        assert_eq!(c.pubsub_output_limit.hard_bytes, 0);
        assert!(c.apply("client-output-buffer-limit", "pubsub 1 2").is_err());
    }
}
