//! DUMP and RESTORE: a key's value as Redis's serialized payload (an RDB value,
//! the RDB version and a CRC-64), so values move between herald and Redis in
//! both directions (`redis-cli --no-raw DUMP` on one, `RESTORE` on the other).
//! The format is `crate::rdb`'s; this file maps it to and from the store's
//! values and implements Redis's option rules and error order (`cluster.c`).

use std::collections::VecDeque;

use bytes::Bytes;

use super::args::parse_i64;
use super::{Command, Ctx};
use crate::error;
use crate::error::CommandResult;
use crate::flags;
use crate::keyspace_events::EventClass;
use crate::rdb::{self, RdbError, RdbValue};
use crate::store::{
    unix_ms, Entry, EvictionPolicy, HashValue, SetValue, Value, ValueRef, ZSetValue,
};

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "generic";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "dump",
        2,
        flags![READONLY],
        "Returns a serialized representation of the value stored at a key.",
        dump,
    )
    .keys(1, 1, 1)
    .since("2.6.0"),
    Command::row(
        GROUP,
        "restore",
        -4,
        flags![WRITE, DENYOOM],
        "Creates a key from the serialized representation of a value.",
        restore,
    )
    .keys(1, 1, 1)
    .since("2.6.0"),
];

/// A value as an RDB value (type byte and body), without the DUMP footer;
/// None for a stream (its RDB form, a radix tree of listpacks, is not written yet).
pub(crate) fn serialize(value: ValueRef<'_>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match value {
        ValueRef::Str(s) => rdb::write_str_value(&mut out, s),
        ValueRef::List(items) => rdb::write_list_value(&mut out, items.iter().map(|i| i.as_ref())),
        // A hash still in Redis's small encoding is written as Redis 7.0
        // writes it (one listpack), so the payloads are byte-identical.
        ValueRef::Hash(h) if !h.is_hashtable() => {
            rdb::write_hash_listpack_value(&mut out, h.iter())
        }
        ValueRef::Hash(h) => rdb::write_hash_value(&mut out, h.iter()),
        ValueRef::Set(s) => {
            // An intset stays an intset; a converted set is written plain.
            let max_intset = if s.is_intset() { usize::MAX } else { 0 };
            rdb::write_set_value(&mut out, s.members.iter().map(|m| m.as_ref()), max_intset)
        }
        // As Redis writes a skiplist: ZSET_2, from the highest member down.
        // (A listpack-encoded set is written the same way, not as Redis's
        // ZSET_LISTPACK: Redis loads both.)
        ValueRef::ZSet(z) => rdb::write_zset_value(&mut out, z.range(0, z.len(), true)),
        ValueRef::Stream(_) => return None,
    }
    Some(out)
}

/// The encoding limits a restored collection is judged by (the `*-max-*`
/// config parameters), read once per RESTORE.
struct EncodingLimits {
    hash_max_entries: usize,
    hash_max_value: usize,
    set_max_intset_entries: usize,
    zset_max_entries: usize,
    zset_max_value: usize,
}

impl EncodingLimits {
    fn from_config(ctx: &Ctx<'_>) -> Self {
        let config = ctx.shared.config.read();
        let param = |name: &str, default: usize| {
            crate::config::lookup_param(name)
                .and_then(|p| p.get(&config).parse::<usize>().ok())
                .unwrap_or(default)
        };
        EncodingLimits {
            hash_max_entries: param("hash-max-listpack-entries", 128),
            hash_max_value: param("hash-max-listpack-value", 64),
            set_max_intset_entries: param("set-max-intset-entries", 512),
            zset_max_entries: param("zset-max-listpack-entries", 128),
            zset_max_value: param("zset-max-listpack-value", 64),
        }
    }
}

/// A decoded RDB value as a store value, in the encoding Redis would give it
/// after loading (a small hash stays listpack, an all-integer set an intset).
fn to_value(decoded: RdbValue, limits: &EncodingLimits) -> Result<Value, &'static str> {
    Ok(match decoded {
        RdbValue::Str(s) => Value::Str(Bytes::from(s)),
        RdbValue::List(items) => {
            Value::List(items.into_iter().map(Bytes::from).collect::<VecDeque<_>>())
        }
        RdbValue::Hash(fields) => {
            let hashtable = fields.len() > limits.hash_max_entries
                || fields.iter().any(|(f, v)| {
                    f.len() > limits.hash_max_value || v.len() > limits.hash_max_value
                });
            Value::Hash(HashValue::from_pairs(fields, hashtable))
        }
        RdbValue::Set(members) => {
            let mut s = SetValue {
                hashtable: members.len() > limits.set_max_intset_entries
                    || members
                        .iter()
                        .any(|m| rdb::packed::canonical_i64(m).is_none()),
                ..SetValue::default()
            };
            for m in members {
                s.insert(Bytes::from(m));
            }
            Value::Set(s)
        }
        RdbValue::ZSet(members) => {
            let mut z = ZSetValue::default();
            z.skiplist = members.len() > limits.zset_max_entries
                || members.iter().any(|(m, _)| m.len() > limits.zset_max_value);
            for (m, score) in members {
                if score.is_nan() {
                    return Err(error::BAD_DATA_FORMAT);
                }
                z.insert(&m, score);
            }
            Value::ZSet(z)
        }
    })
}

/// DUMP key
fn dump(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let serialized = ctx
        .shared
        .store
        .slot(ctx.session.db(), &args[1], unix_ms())
        .get()
        .map(|e| serialize(e.value()));
    ctx.count_lookup(serialized.is_some());
    match serialized {
        Some(Some(value)) => ctx.reply.bulk(&rdb::seal_dump(value)),
        Some(None) => ctx
            .reply
            .error("ERR DUMP of stream values is not supported"),
        None => {
            ctx.notify(EventClass::KEY_MISS, "keymiss", &args[1]);
            ctx.reply.null();
        }
    }
    Ok(())
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
///
/// Checks run in Redis's order: options, then BUSYKEY, then the TTL, then the
/// payload's footer, then its body. A TTL already in the past stores nothing
/// (and with REPLACE deletes the old key), yet answers OK.
fn restore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle_secs, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut i = 4;
    while i < args.len() {
        let more = i + 1 < args.len();
        let opt = &args[i];
        if opt.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if opt.eq_ignore_ascii_case(b"absttl") {
            absttl = true;
        } else if opt.eq_ignore_ascii_case(b"idletime") && more && freq.is_none() {
            let v = parse_i64(&args[i + 1]).ok_or(error::NOT_INTEGER)?;
            if v < 0 {
                return Err(error::INVALID_IDLETIME.into());
            }
            idle_secs = Some(v);
            i += 1;
        } else if opt.eq_ignore_ascii_case(b"freq") && more && idle_secs.is_none() {
            let v = parse_i64(&args[i + 1]).ok_or(error::NOT_INTEGER)?;
            if !(0..=255).contains(&v) {
                return Err(error::INVALID_FREQ.into());
            }
            freq = Some(v);
            i += 1;
        } else {
            return Err(error::SYNTAX.into());
        }
        i += 1;
    }

    let shared = ctx.shared;
    let db = ctx.session.db();
    let key = &args[1];
    let now = unix_ms();
    if !replace && shared.store.slot(db, key, now).exists() {
        return Err(error::BUSYKEY.into());
    }
    let ttl = parse_i64(&args[2]).ok_or(error::NOT_INTEGER)?;
    if ttl < 0 {
        return Err(error::INVALID_TTL.into());
    }
    let body = rdb::open_dump(&args[3]).ok_or(error::DUMP_PAYLOAD)?;
    let decoded = rdb::read_value(body).map_err(|e| match e {
        RdbError::Corrupt | RdbError::EmptyKey | RdbError::UnsupportedType(_) => {
            error::BAD_DATA_FORMAT
        }
    })?;
    let value = to_value(decoded, &EncodingLimits::from_config(ctx))?;

    let expires_at_ms = match (ttl, absttl) {
        (0, _) => 0,
        (t, true) => t as u64,
        (t, false) => now.saturating_add(t as u64),
    };
    let lfu_policy = matches!(
        shared.store.limits.policy(),
        EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu
    );
    let clock = shared.store.clock_ms();
    let deleted;
    {
        let mut slot = shared.store.slot(db, key, now);
        deleted = replace && slot.remove().is_some();
        if expires_at_ms != 0 && expires_at_ms <= now {
            drop(slot);
            if deleted {
                ctx.notify(EventClass::GENERIC, "del", key);
            }
            ctx.reply.ok();
            return Ok(());
        }
        let mut entry = Entry::new(key, value, expires_at_ms, shared.store.next_cas(), 0, clock);
        // Redis's objectSetLRUOrLFU: FREQ counts under an LFU policy,
        // IDLETIME under any other.
        if lfu_policy {
            if let Some(f) = freq {
                entry.set_lfu_counter(f as u8);
            }
        } else if let Some(idle) = idle_secs {
            // The access clock is 32-bit milliseconds read with wrapping
            // arithmetic: an idle time up to ~49 days is exact, longer is capped.
            let idle_ms = u64::try_from(idle)
                .unwrap_or(0)
                .saturating_mul(1000)
                .min(u64::from(u32::MAX));
            entry.set_access(clock.wrapping_sub(idle_ms));
        }
        slot.put(entry);
    }
    ctx.notify(EventClass::GENERIC, "restore", key);
    shared.blocking.signal_ready(db, key);
    ctx.reply.ok();
    Ok(())
}
