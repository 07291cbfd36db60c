//! Hash commands: fields and values under one key. Semantics, replies and
//! errors as Redis 7.0's `t_hash.c` (and `db.c` `scanGenericCommand` for HSCAN).
//!
//! A hash is a `Value::Hash(HashValue)`, in one of Redis's two encodings:
//! a listpack (a packed buffer, fields in insertion order) while it is small,
//! a hash table once it is not (`store::collections`). The policy is Redis
//! 7.0's, with the limits read from the config on every write:
//! - before a write, a field or value longer than `hash-max-listpack-value`
//!   converts the hash (HSET checks every argument first, as Redis's
//!   `hashTypeTryConversion`; HINCRBY* the field and the new value);
//! - after each field is added, more than `hash-max-listpack-entries` fields
//!   converts it;
//! - nothing converts a hash table back.
//!
//! Rules every handler keeps:
//! - Arguments are parsed before the key is touched, in Redis's order (so
//!   HINCRBY with a bad increment fails before WRONGTYPE, HGET does not).
//! - A hash is never empty: HDEL removing the last field removes the key and
//!   publishes `del` after `hdel`.
//! - Writes go through `Slot::update_with_charge` with the exact charge
//!   change, so accounting is O(1) per field and WATCH sees the new CAS; a
//!   command that changes nothing (HSETNX on an existing field, HDEL of
//!   missing fields, a failed HINCRBY) leaves the entry, and its CAS, alone.

use bytes::Bytes;

use super::args::parse_i64;
use super::keys::parse_cursor;
use super::long_double::LongDouble;
use super::{Command, Ctx};
use crate::error;
use crate::error::CommandResult;
use crate::flags;
use crate::glob::glob_match;
use crate::keyspace_events::EventClass;
use crate::store::{unix_ms, HashRef, HashValue, Slot, Value, ValueRef};

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "hash";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(GROUP, "hset", -4, flags![WRITE, DENYOOM, FAST], "Creates or modifies the value of a field in a hash.", hset).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hsetnx", 4, flags![WRITE, DENYOOM, FAST], "Sets the value of a field in a hash only when the field doesn't exist.", hsetnx).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hmset", -4, flags![WRITE, DENYOOM, FAST], "Sets the values of multiple fields.", hmset).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hget", 3, flags![READONLY, FAST], "Returns the value of a field in a hash.", hget).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hmget", -3, flags![READONLY, FAST], "Returns the values of all fields in a hash.", hmget).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hdel", -3, flags![WRITE, FAST], "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", hdel).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hlen", 2, flags![READONLY, FAST], "Returns the number of fields in a hash.", hlen).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hstrlen", 3, flags![READONLY, FAST], "Returns the length of the value of a field.", hstrlen).keys(1, 1, 1).since("3.2.0"),
    Command::row(GROUP, "hexists", 3, flags![READONLY, FAST], "Determines whether a field exists in a hash.", hexists).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hkeys", 2, flags![READONLY], "Returns all fields in a hash.", hkeys).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hvals", 2, flags![READONLY], "Returns all values in a hash.", hvals).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hgetall", 2, flags![READONLY], "Returns all fields and values in a hash.", hgetall).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hincrby", 4, flags![WRITE, DENYOOM, FAST], "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", hincrby).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "hincrbyfloat", 4, flags![WRITE, DENYOOM, FAST], "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", hincrbyfloat).keys(1, 1, 1).since("2.6.0"),
    Command::row(GROUP, "hrandfield", -2, flags![READONLY], "Returns one or more random fields from a hash.", hrandfield).keys(1, 1, 1).since("6.2.0"),
    Command::row(GROUP, "hscan", -3, flags![READONLY], "Iterates over fields and values of a hash.", hscan).keys(1, 1, 1).since("2.8.0"),
];

/// Largest reply HRANDFIELD with a negative count may build, in bytes. Redis
/// writes |count| fields whatever it costs (a count near -2^63 runs it out of
/// memory); herald refuses such a count with "value is out of range" instead.
const MAX_RANDOM_REPLY_BYTES: u64 = 1 << 30;

/// HRANDFIELD with a count of at least a third of the hash builds the answer
/// by removing random fields from a copy (Redis HRANDFIELD_SUB_STRATEGY_MUL).
const SUB_STRATEGY_MUL: usize = 3;

// ---------------------------------------------------------------------------
// Lookups, encodings, changes
// ---------------------------------------------------------------------------

/// The listpack limits, read from the config where a hash is written.
#[derive(Clone, Copy)]
struct Limits {
    /// More fields than this: a hash table (`hash-max-listpack-entries`).
    entries: usize,
    /// A field or value longer than this: a hash table (`hash-max-listpack-value`).
    value_bytes: usize,
}

fn limits(ctx: &Ctx<'_>) -> Limits {
    let config = ctx.shared.config.read();
    let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    Limits {
        entries: to_usize(config.hash_max_listpack_entries()),
        value_bytes: to_usize(config.hash_max_listpack_value()),
    }
}

/// The hash at `slot`: None when the key is missing, WRONGTYPE when it holds
/// something else.
fn hash_at<'s>(slot: &'s Slot<'_>) -> Result<Option<HashRef<'s>>, &'static str> {
    match slot.peek().map(|e| e.value()) {
        None => Ok(None),
        Some(ValueRef::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(error::WRONGTYPE),
    }
}

/// A read lookup (`lookupKeyRead`): the hash, the access counted (LRU/LFU,
/// keyspace hits and misses). WRONGTYPE for another type.
fn read_hash<'s>(
    ctx: &Ctx<'_>,
    slot: &'s mut Slot<'_>,
) -> Result<Option<HashRef<'s>>, &'static str> {
    ctx.count_lookup(slot.exists());
    match slot.get().map(|e| e.value()) {
        None => Ok(None),
        Some(ValueRef::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(error::WRONGTYPE),
    }
}

/// Change the hash at `slot` in place, creating it (a listpack) when the key
/// is missing. `f` returns its result and the change in charged bytes. The
/// caller has checked the type (`hash_at`).
fn upsert<R>(slot: &mut Slot<'_>, f: impl FnOnce(&mut HashValue) -> (R, isize)) -> Option<R> {
    if slot.exists() {
        return slot
            .update_with_charge(|e| match e.hash_mut() {
                Some(mut h) => {
                    let (r, delta) = f(&mut h);
                    (Some(r), delta)
                }
                None => (None, 0),
            })
            .flatten();
    }
    let mut h = HashValue::default();
    let (r, _) = f(&mut h);
    slot.insert(Value::Hash(h), 0, 0);
    Some(r)
}

/// Convert a listpack to a hash table if any of `args` is longer than the
/// value limit (Redis `hashTypeTryConversion`); the charge change.
fn convert_for_lengths<'a>(
    h: &mut HashValue,
    args: impl IntoIterator<Item = &'a [u8]>,
    limits: Limits,
) -> isize {
    if !h.is_hashtable() && args.into_iter().any(|a| a.len() > limits.value_bytes) {
        h.convert_to_hashtable()
    } else {
        0
    }
}

/// Set one field, converting as Redis's `hashTypeSet` does: before, for a
/// long field or value; after, for too many fields. Returns whether the field
/// is new and the charge change.
fn set_field(h: &mut HashValue, field: &[u8], value: &[u8], limits: Limits) -> (bool, isize) {
    let mut delta = convert_for_lengths(h, [field, value], limits);
    let (added, d) = h.insert(field, value);
    delta += d;
    if !h.is_hashtable() && h.len() > limits.entries {
        delta += h.convert_to_hashtable();
    }
    (added, delta)
}

// ---------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------

/// HSET key field value [field value ...]
fn hset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let added = set_pairs(ctx, args, "hset")?;
    ctx.reply.int(added as i64);
    Ok(())
}

/// HMSET key field value [field value ...] (HSET answering OK)
fn hmset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    set_pairs(ctx, args, "hmset")?;
    ctx.reply.ok();
    Ok(())
}

/// HSET and HMSET: set every pair; returns how many fields are new.
fn set_pairs(ctx: &mut Ctx<'_>, args: &[Bytes], name: &str) -> Result<usize, error::CommandError> {
    if args.len() % 2 == 1 {
        return Err(error::wrong_arity(name).into());
    }
    let key = &args[1];
    let pairs = &args[2..];
    let limits = limits(ctx);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    hash_at(&slot)?;
    let added = upsert(&mut slot, |h| {
        let mut delta = convert_for_lengths(h, pairs.iter().map(|a| &a[..]), limits);
        let mut added = 0;
        for pair in pairs.chunks_exact(2) {
            let (new, d) = set_field(h, &pair[0], &pair[1], limits);
            added += usize::from(new);
            delta += d;
        }
        (added, delta)
    })
    .unwrap_or(0);
    drop(slot);
    // Redis counts every pair given as a change, new or not.
    ctx.dirty(((args.len() - 2) / 2) as u64);
    ctx.notify(EventClass::HASH, "hset", key);
    Ok(added)
}

/// HSETNX key field value
fn hsetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (key, field, value) = (&args[1], &args[2], &args[3]);
    let limits = limits(ctx);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    if hash_at(&slot)?.is_some_and(|h| h.contains(field)) {
        ctx.reply.int(0);
        return Ok(());
    }
    upsert(&mut slot, |h| ((), set_field(h, field, value, limits).1));
    drop(slot);
    ctx.reply.int(1);
    ctx.notify(EventClass::HASH, "hset", key);
    Ok(())
}

/// HDEL key field [field ...]
fn hdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let key = &args[1];
    let fields = &args[2..];
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let (present, len) = match hash_at(&slot)? {
        None => {
            ctx.reply.int(0);
            return Ok(());
        }
        // Fields named twice count once: the first removes it.
        Some(h) => {
            let mut present: Vec<&Bytes> = fields.iter().filter(|f| h.contains(f)).collect();
            present.sort();
            present.dedup();
            (present, h.len())
        }
    };
    let deleted = present.len();
    if deleted == 0 {
        ctx.reply.int(0);
        return Ok(());
    }
    let emptied = deleted == len;
    if emptied {
        slot.remove();
    } else {
        slot.update_with_charge(|e| {
            let mut delta = 0;
            if let Some(mut h) = e.hash_mut() {
                for f in &present {
                    delta += h.remove(f).map_or(0, |(_, d)| d);
                }
            }
            ((), delta)
        });
    }
    drop(slot);
    ctx.reply.int(deleted as i64);
    ctx.dirty(deleted as u64);
    ctx.notify(EventClass::HASH, "hdel", key);
    if emptied {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
    Ok(())
}

/// HINCRBY key field increment
fn hincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let incr = parse_i64(&args[3]).ok_or(error::NOT_INTEGER)?;
    let (key, field) = (&args[1], &args[2]);
    let limits = limits(ctx);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let current = match hash_at(&slot)?.and_then(|h| h.get(field)) {
        None => 0,
        Some(v) => parse_i64(v).ok_or(error::HASH_NOT_INTEGER)?,
    };
    let value = current.checked_add(incr).ok_or(error::OVERFLOW)?;
    let text = itoa::Buffer::new().format(value).as_bytes().to_vec();
    upsert(&mut slot, |h| ((), set_field(h, field, &text, limits).1));
    drop(slot);
    ctx.reply.int(value);
    ctx.notify(EventClass::HASH, "hincrby", key);
    Ok(())
}

/// HINCRBYFLOAT key field increment
///
/// In C `long double` and printed as Redis's `ld2string` (src/commands/long_double.rs).
fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let incr = LongDouble::parse(&args[3]).ok_or(error::NOT_FLOAT)?;
    if matches!(incr, LongDouble::Infinite { .. }) {
        return Err(error::HASH_INCR_NAN_OR_INFINITY.into());
    }
    let (key, field) = (&args[1], &args[2]);
    let limits = limits(ctx);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let current = match hash_at(&slot)?.and_then(|h| h.get(field)) {
        None => LongDouble::ZERO,
        Some(v) => LongDouble::parse(v).ok_or(error::HASH_NOT_FLOAT)?,
    };
    let sum = current.checked_add(incr).ok_or(error::NAN_OR_INFINITY)?;
    let text = sum.to_human_string();
    upsert(&mut slot, |h| {
        ((), set_field(h, field, text.as_bytes(), limits).1)
    });
    drop(slot);
    ctx.reply.bulk(text.as_bytes());
    ctx.notify(EventClass::HASH, "hincrbyfloat", key);
    Ok(())
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

/// HGET key field
fn hget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), &args[1], unix_ms());
    match read_hash(ctx, &mut slot)?.and_then(|h| h.get(&args[2])) {
        Some(v) => ctx.reply.bulk(v),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// HMGET key field [field ...]: a null for each missing field (a missing key
/// is an empty hash).
fn hmget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), &args[1], unix_ms());
    let h = read_hash(ctx, &mut slot)?;
    ctx.reply.array(args.len() - 2);
    for field in &args[2..] {
        match h.and_then(|h| h.get(field)) {
            Some(v) => ctx.reply.bulk(v),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// HLEN key
fn hlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), &args[1], unix_ms());
    let n = read_hash(ctx, &mut slot)?.map_or(0, HashRef::len);
    ctx.reply.int(n as i64);
    Ok(())
}

/// HSTRLEN key field
fn hstrlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), &args[1], unix_ms());
    let n = read_hash(ctx, &mut slot)?
        .and_then(|h| h.get(&args[2]))
        .map_or(0, <[u8]>::len);
    ctx.reply.int(n as i64);
    Ok(())
}

/// HEXISTS key field
fn hexists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), &args[1], unix_ms());
    let found = read_hash(ctx, &mut slot)?.is_some_and(|h| h.contains(&args[2]));
    ctx.reply.int(i64::from(found));
    Ok(())
}

/// What HKEYS, HVALS and HGETALL list of each field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    Fields,
    Values,
    Both,
}

/// HKEYS key
fn hkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    list_all(ctx, &args[1], Listing::Fields)
}

/// HVALS key
fn hvals(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    list_all(ctx, &args[1], Listing::Values)
}

/// HGETALL key: a map in RESP3, a flat field/value array in RESP2.
fn hgetall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    list_all(ctx, &args[1], Listing::Both)
}

/// Every field, value or both, written straight from the hash under the lock.
fn list_all(ctx: &mut Ctx<'_>, key: &[u8], what: Listing) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let h = read_hash(ctx, &mut slot)?;
    let len = h.map_or(0, HashRef::len);
    match what {
        Listing::Both => ctx.reply.map(len),
        _ => ctx.reply.array(len),
    }
    for (f, v) in h.into_iter().flat_map(HashRef::iter) {
        if what != Listing::Values {
            ctx.reply.bulk(f);
        }
        if what != Listing::Fields {
            ctx.reply.bulk(v);
        }
    }
    Ok(())
}

/// HRANDFIELD key [count [WITHVALUES]]
///
/// Without a count: one random field, or null. A count n ≥ 0 answers up to n
/// distinct fields; n < 0 answers |n| fields, repeats allowed. WITHVALUES
/// adds each value: after its field in RESP2, as `[field, value]` pairs in
/// RESP3. The count is parsed before the key is looked up, as in Redis.
fn hrandfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let count = match args.get(2) {
        None => None,
        Some(arg) => {
            let n = parse_i64(arg).ok_or(error::NOT_INTEGER)?;
            if n < -i64::MAX {
                return Err(error::HASH_COUNT_OUT_OF_RANGE.into());
            }
            let with_values = match args.get(3) {
                None => false,
                Some(opt) if args.len() == 4 && opt.eq_ignore_ascii_case(b"withvalues") => true,
                Some(_) => return Err(error::SYNTAX.into()),
            };
            if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
                return Err(error::HASH_VALUE_OUT_OF_RANGE.into());
            }
            Some((n, with_values))
        }
    };
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), &args[1], unix_ms());
    let h = read_hash(ctx, &mut slot)?;
    let Some((n, with_values)) = count else {
        let h = h.filter(|h| !h.is_empty());
        match h.and_then(|h| h.get_index(fastrand::usize(..h.len()))) {
            Some((f, _)) => ctx.reply.bulk(f),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let Some(h) = h.filter(|h| n != 0 && !h.is_empty()) else {
        ctx.reply.array(0);
        return Ok(());
    };
    random_fields(ctx, h, n, with_values)
}

/// HRANDFIELD's answer with a count (not 0) for the non-empty hash `h`.
fn random_fields(ctx: &mut Ctx<'_>, h: HashRef<'_>, n: i64, with_values: bool) -> CommandResult {
    let len = h.len();
    let wanted = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
    let resp3 = ctx.reply.is_resp3();
    let reply_len = |count: usize| {
        if with_values && !resp3 {
            count * 2
        } else {
            count
        }
    };
    let answer = |ctx: &mut Ctx<'_>, (f, v): (&[u8], &[u8])| {
        if with_values && resp3 {
            ctx.reply.array(2);
        }
        ctx.reply.bulk(f);
        if with_values {
            ctx.reply.bulk(v);
        }
    };
    if n < 0 || wanted == 1 {
        // Repeats allowed: each pick from the whole hash.
        let per_field = (h.charged_bytes() / len).max(1) as u64;
        if (wanted as u64).saturating_mul(per_field) > MAX_RANDOM_REPLY_BYTES {
            return Err(error::HASH_VALUE_OUT_OF_RANGE.into());
        }
        ctx.reply.array(reply_len(wanted));
        if h.is_hashtable() {
            for _ in 0..wanted {
                if let Some(pair) = h.get_index(fastrand::usize(..len)) {
                    answer(ctx, pair);
                }
            }
        } else {
            // A listpack is scanned, not indexed: pick positions, then walk once
            // per batch (in random order, as the picks were made).
            let pairs: Vec<(&[u8], &[u8])> = h.iter().collect();
            for _ in 0..wanted {
                answer(ctx, pairs[fastrand::usize(..len)]);
            }
        }
        return Ok(());
    }
    if wanted >= len {
        ctx.reply.array(reply_len(len));
        for pair in h.iter() {
            answer(ctx, pair);
        }
        return Ok(());
    }
    ctx.reply.array(reply_len(wanted));
    let pairs: Vec<(&[u8], &[u8])> = h.iter().collect();
    if wanted * SUB_STRATEGY_MUL > len {
        // Remove random fields from the whole until `wanted` remain.
        let mut keep: Vec<usize> = (0..len).collect();
        while keep.len() > wanted {
            keep.swap_remove(fastrand::usize(..keep.len()));
        }
        for i in keep {
            answer(ctx, pairs[i]);
        }
    } else {
        // Few of many: distinct random positions (a partial shuffle).
        let mut order: Vec<usize> = (0..len).collect();
        for i in 0..wanted {
            let j = fastrand::usize(i..len);
            order.swap(i, j);
            answer(ctx, pairs[order[i]]);
        }
    }
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
///
/// As Redis 7.0: the cursor is checked first, then the key (a missing key
/// answers `0` and nothing, whatever the options), then the options. A
/// listpack answers everything at once with cursor 0. A hash table is walked
/// from its last position down, about COUNT fields per call; the cursor is
/// the number of positions still to visit. A removal moves the last field
/// into the hole (already visited, or to be visited again), and a new field
/// goes last, so every field present for the whole scan is returned at least
/// once.
fn hscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let cursor = parse_cursor(&args[2]).ok_or(error::INVALID_CURSOR)?;
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), &args[1], unix_ms());
    let Some(h) = read_hash(ctx, &mut slot)? else {
        ctx.reply.array(2);
        ctx.reply.bulk(b"0");
        ctx.reply.array(0);
        return Ok(());
    };
    let (count, pattern) = parse_scan_options(&args[3..])?;
    let matches = |f: &[u8]| pattern.is_none_or(|p| glob_match(p, f));
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = if h.is_hashtable() {
        let mut pos = usize::try_from(cursor).unwrap_or(usize::MAX).min(h.len());
        if cursor == 0 {
            pos = h.len();
        }
        let mut visited = 0;
        while pos > 0 && visited < count {
            pos -= 1;
            visited += 1;
            if let Some((f, v)) = h.get_index(pos) {
                if matches(f) {
                    found.push((f, v));
                }
            }
        }
        pos
    } else {
        found.extend(h.iter().filter(|(f, _)| matches(f)));
        0
    };
    ctx.reply.array(2);
    ctx.reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.reply.array(found.len() * 2);
    for (f, v) in found {
        ctx.reply.bulk(f);
        ctx.reply.bulk(v);
    }
    Ok(())
}

/// HSCAN's `[MATCH pattern] [COUNT count]`, any order, the last of each kind
/// winning: (count, pattern). `MATCH *` matches everything (no pattern).
fn parse_scan_options(options: &[Bytes]) -> Result<(usize, Option<&[u8]>), &'static str> {
    let (mut count, mut pattern) = (10usize, None);
    let mut i = 0;
    while i < options.len() {
        let Some(value) = options.get(i + 1) else {
            return Err(error::SYNTAX);
        };
        if options[i].eq_ignore_ascii_case(b"count") {
            let n = parse_i64(value).ok_or(error::NOT_INTEGER)?;
            if n < 1 {
                return Err(error::SYNTAX);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if options[i].eq_ignore_ascii_case(b"match") {
            pattern = (&value[..] != b"*").then_some(&value[..]);
        } else {
            return Err(error::SYNTAX);
        }
        i += 2;
    }
    Ok((count, pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn scan_options_parse_like_redis() {
        assert_eq!(parse_scan_options(&[]), Ok((10, None)));
        let opts = [b("COUNT"), b("100"), b("match"), b("f*")];
        assert_eq!(parse_scan_options(&opts), Ok((100, Some(&b"f*"[..]))));
        assert_eq!(parse_scan_options(&[b("match"), b("*")]), Ok((10, None)));
        assert_eq!(
            parse_scan_options(&[b("count"), b("0")]),
            Err(error::SYNTAX)
        );
        assert_eq!(
            parse_scan_options(&[b("count"), b("x")]),
            Err(error::NOT_INTEGER)
        );
        assert_eq!(parse_scan_options(&[b("count")]), Err(error::SYNTAX));
        assert_eq!(
            parse_scan_options(&[b("type"), b("hash")]),
            Err(error::SYNTAX)
        );
    }

    #[test]
    fn conversion_follows_the_limits() {
        let limits = Limits {
            entries: 2,
            value_bytes: 3,
        };
        let mut h = HashValue::default();
        set_field(&mut h, b"a", b"123", limits);
        set_field(&mut h, b"b", b"1", limits);
        assert!(!h.is_hashtable());
        set_field(&mut h, b"c", b"1", limits);
        assert!(h.is_hashtable(), "three fields > 2");
        let mut h = HashValue::default();
        set_field(&mut h, b"a", b"1234", limits);
        assert!(h.is_hashtable(), "a value of 4 bytes > 3");
        let mut h = HashValue::default();
        let delta = set_field(&mut h, b"abcd", b"", limits).1;
        assert!(h.is_hashtable(), "a field of 4 bytes > 3");
        assert_eq!(
            h.charged_bytes() as isize,
            HashValue::default().charged_bytes() as isize + delta
        );
    }
}
