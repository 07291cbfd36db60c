//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX, COPY, MOVE,
//! SWAPDB, KEYS, SCAN, RANDOMKEY, TOUCH, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL,
//! PTTL, EXPIRETIME, PEXPIRETIME, PERSIST and OBJECT.
//!
//! Replies, error texts and keyspace events are Redis 7.4's (`db.c`, `expire.c`,
//! `object.c`). Lookups follow Redis's `lookupKey` flags:
//!
//! | lookup | commands | hits/misses | `keymiss` event | access time |
//! | --- | --- | --- | --- | --- |
//! | read | TOUCH, COPY's source | counted | raised | updated |
//! | read, NOTOUCH | EXISTS, TYPE, TTL/PTTL/(P)EXPIRETIME | counted | raised | kept |
//! | read, NOTOUCH, NONOTIFY | OBJECT *, SCAN ... TYPE | counted | none | kept |
//! | write | DEL, UNLINK, RENAME*, MOVE, COPY's target, EXPIRE*, PERSIST | no | none | kept |
//!
//! RENAME, RENAMENX, COPY, MOVE and SWAPDB lock one key (or shard) after another;
//! their EXCLUSIVE flag keeps every other client's command out meanwhile, so
//! they are atomic. Every handler parses all its arguments before it changes
//! anything.

use bytes::Bytes;

use super::args::parse_i64;
use super::client::container_without_subcommand;
use super::notify::notify;
use super::{Command, Ctx};
use crate::commands::Shared;
use crate::error;
use crate::error::CommandResult;
use crate::flags;
use crate::glob::glob_match;
use crate::keyspace_events::EventClass;
use crate::store::{unix_ms, Entry, EvictionPolicy, ValueRef};

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "generic";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(GROUP, "del", -2, flags![WRITE], "Deletes one or more keys.", del).keys(1, -1, 1),
    Command::row(GROUP, "unlink", -2, flags![WRITE, FAST], "Asynchronously deletes one or more keys.", del).keys(1, -1, 1).since("4.0.0"),
    Command::row(GROUP, "exists", -2, flags![READONLY, FAST], "Determines whether one or more keys exist.", exists).keys(1, -1, 1),
    Command::row(GROUP, "type", 2, flags![READONLY, FAST], "Determines the type of value stored at a key.", type_).keys(1, 1, 1),
    Command::row(GROUP, "rename", 3, flags![WRITE, EXCLUSIVE], "Renames a key and overwrites the destination.", rename).keys(1, 2, 1),
    Command::row(GROUP, "renamenx", 3, flags![WRITE, FAST, EXCLUSIVE], "Renames a key only when the target key name doesn't exist.", renamenx).keys(1, 2, 1),
    Command::row(GROUP, "copy", -3, flags![WRITE, DENYOOM, EXCLUSIVE], "Copies the value of a key to a new key.", copy).keys(1, 2, 1).since("6.2.0"),
    Command::row(GROUP, "move", 3, flags![WRITE, FAST, EXCLUSIVE], "Moves a key to another database.", move_).keys(1, 1, 1),
    Command::row("server", "swapdb", 3, flags![WRITE, FAST, EXCLUSIVE], "Swaps two Redis databases.", swapdb).since("4.0.0"),
    Command::row(GROUP, "keys", 2, flags![READONLY], "Returns all key names that match a pattern.", keys),
    Command::row(GROUP, "scan", -2, flags![READONLY], "Iterates over the key names in the database.", scan).since("2.8.0"),
    Command::row(GROUP, "randomkey", 1, flags![READONLY], "Returns a random key name from the database.", randomkey),
    Command::row(GROUP, "touch", -2, flags![READONLY, FAST], "Returns the number of existing keys out of those specified after updating the time they were last accessed.", touch).keys(1, -1, 1).since("3.2.1"),
    Command::row(GROUP, "expire", -3, flags![WRITE, FAST], "Sets the expiration time of a key in seconds.", expire).keys(1, 1, 1),
    Command::row(GROUP, "pexpire", -3, flags![WRITE, FAST], "Sets the expiration time of a key in milliseconds.", pexpire).keys(1, 1, 1).since("2.6.0"),
    Command::row(GROUP, "expireat", -3, flags![WRITE, FAST], "Sets the expiration time of a key to a Unix timestamp.", expireat).keys(1, 1, 1).since("1.2.0"),
    Command::row(GROUP, "pexpireat", -3, flags![WRITE, FAST], "Sets the expiration time of a key to a Unix milliseconds timestamp.", pexpireat).keys(1, 1, 1).since("2.6.0"),
    Command::row(GROUP, "ttl", 2, flags![READONLY, FAST], "Returns the expiration time in seconds of a key.", ttl).keys(1, 1, 1),
    Command::row(GROUP, "pttl", 2, flags![READONLY, FAST], "Returns the expiration time in milliseconds of a key.", pttl).keys(1, 1, 1).since("2.6.0"),
    Command::row(GROUP, "expiretime", 2, flags![READONLY, FAST], "Returns the expiration time of a key as a Unix timestamp.", expiretime).keys(1, 1, 1).since("7.0.0"),
    Command::row(GROUP, "pexpiretime", 2, flags![READONLY, FAST], "Returns the expiration time of a key as a Unix milliseconds timestamp.", pexpiretime).keys(1, 1, 1).since("7.0.0"),
    Command::row(GROUP, "persist", 2, flags![WRITE, FAST], "Removes the expiration time of a key.", persist).keys(1, 1, 1).since("2.2.0"),
    Command::row(GROUP, "object", -2, flags![], "A container for object introspection commands.", container_without_subcommand).since("2.2.3").subcommands(OBJECT_SUBCOMMANDS),
    Command::row("server", "memory", -2, flags![], "A container for memory diagnostics commands.", container_without_subcommand).since("4.0.0").subcommands(MEMORY_SUBCOMMANDS),
];

/// MEMORY's subcommands (only USAGE: what herald charges for one key).
static MEMORY_SUBCOMMANDS: &[Command] = &[Command::row(
    "server",
    "usage",
    -3,
    flags![READONLY],
    "Estimates the memory usage of a key.",
    memory_usage,
)
.keys(2, 2, 1)
.since("4.0.0")];

/// MEMORY USAGE key [SAMPLES count]: the bytes herald charges for the key
/// (key, value and per-entry overhead, exact rather than sampled), or nil.
fn memory_usage(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let mut i = 3;
    while i < args.len() {
        if args[i].eq_ignore_ascii_case(b"samples") && i + 1 < args.len() {
            let samples = parse_i64(&args[i + 1]).ok_or(error::NOT_INTEGER)?;
            if samples < 0 {
                return Err(error::SYNTAX.into());
            }
            i += 2;
        } else {
            return Err(error::SYNTAX.into());
        }
    }
    let charged = ctx
        .shared
        .store
        .slot(ctx.session.db(), &args[2], unix_ms())
        .peek()
        .map(Entry::charged);
    match charged {
        Some(n) => ctx.reply.int(n as i64),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// OBJECT's subcommands; the key is the third argument (`OBJECT ENCODING key`).
static OBJECT_SUBCOMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "encoding",
        3,
        flags![READONLY],
        "Returns the internal encoding of a Redis object.",
        object_encoding,
    )
    .keys(2, 2, 1)
    .since("2.2.3"),
    Command::row(
        GROUP,
        "freq",
        3,
        flags![READONLY],
        "Returns the logarithmic access frequency counter of a Redis object.",
        object_freq,
    )
    .keys(2, 2, 1)
    .since("4.0.0"),
    Command::row(
        GROUP,
        "idletime",
        3,
        flags![READONLY],
        "Returns the time since the last access to a Redis object.",
        object_idletime,
    )
    .keys(2, 2, 1)
    .since("2.2.3"),
    Command::row(
        GROUP,
        "refcount",
        3,
        flags![READONLY],
        "Returns the reference count of a value of a key.",
        object_refcount,
    )
    .keys(2, 2, 1)
    .since("2.2.3"),
    Command::row(
        GROUP,
        "help",
        2,
        flags![LOADING, STALE],
        "Returns helpful text about the different subcommands.",
        object_help,
    )
    .since("6.2.0"),
];

/// Count a read lookup (keyspace_hits / keyspace_misses) and raise `keymiss`
/// on a miss, as Redis's `lookupKeyRead` does.
fn read_lookup(ctx: &Ctx<'_>, key: &[u8], hit: bool) {
    ctx.count_lookup(hit);
    if !hit {
        ctx.notify(EventClass::KEY_MISS, "keymiss", key);
    }
}

/// A database index argument, as Redis's `getIntFromObjectOrReply` followed by
/// `selectDb`: an integer, within C `int`, naming an existing database.
fn parse_db_index(arg: &[u8], databases: usize) -> Result<usize, &'static str> {
    let n = parse_i64(arg).ok_or(error::NOT_INTEGER)?;
    let n = i32::try_from(n).map_err(|_| error::INT_OUT_OF_RANGE)?;
    usize::try_from(n)
        .ok()
        .filter(|&db| db < databases)
        .ok_or(error::DB_INDEX_OUT_OF_RANGE)
}

/// DEL key [key ...] (and UNLINK key [key ...]; values are freed at once either way)
fn del(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let now = unix_ms();
    let mut removed = 0;
    for key in &args[1..] {
        let gone = shared
            .store
            .slot(ctx.session.db(), key, now)
            .remove()
            .is_some();
        if gone {
            removed += 1;
            ctx.notify(EventClass::GENERIC, "del", key);
        }
    }
    ctx.dirty(removed as u64);
    ctx.reply.int(removed);
    Ok(())
}

/// EXISTS key [key ...]: a key named twice counts twice.
fn exists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let now = unix_ms();
    let mut found = 0;
    for key in &args[1..] {
        let hit = shared.store.slot(ctx.session.db(), key, now).exists();
        read_lookup(ctx, key, hit);
        found += i64::from(hit);
    }
    ctx.reply.int(found);
    Ok(())
}

/// TYPE key
fn type_(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let name = ctx
        .shared
        .store
        .slot(ctx.session.db(), &args[1], unix_ms())
        .peek()
        .map(|e| e.value().type_name());
    read_lookup(ctx, &args[1], name.is_some());
    ctx.reply.simple(name.unwrap_or("none"));
    Ok(())
}

/// RENAME key newkey
fn rename(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    rename_generic(ctx, args, false)
}

/// RENAMENX key newkey
fn renamenx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    rename_generic(ctx, args, true)
}

/// RENAME and RENAMENX: the entry moves whole (value, TTL, access time) under a
/// fresh CAS. An existing target is replaced without a `del` event, as in Redis.
fn rename_generic(ctx: &mut Ctx<'_>, args: &[Bytes], nx: bool) -> CommandResult {
    let (src, dst) = (&args[1], &args[2]);
    let (shared, db, now) = (ctx.shared, ctx.session.db(), unix_ms());
    if !shared.store.slot(db, src, now).exists() {
        return Err(error::NO_SUCH_KEY.into());
    }
    if src == dst {
        if nx {
            ctx.reply.int(0);
        } else {
            ctx.reply.ok();
        }
        return Ok(());
    }
    if nx && shared.store.slot(db, dst, now).exists() {
        ctx.reply.int(0);
        return Ok(());
    }
    // Active expiry does not take the gate, so the source may have gone since.
    let Some(mut entry) = shared.store.slot(db, src, now).remove() else {
        return Err(error::NO_SUCH_KEY.into());
    };
    entry.cas = shared.store.next_cas();
    shared.store.slot(db, dst, now).put(entry);
    ctx.notify(EventClass::NEW_KEY, "new", dst);
    ctx.notify(EventClass::GENERIC, "rename_from", src);
    ctx.notify(EventClass::GENERIC, "rename_to", dst);
    // Blocking: a list renamed into place serves clients blocked on it.
    shared.blocking.signal_ready(db, dst);
    if nx {
        ctx.reply.int(1);
    } else {
        ctx.reply.ok();
    }
    Ok(())
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let src_db = ctx.session.db();
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if args[i].eq_ignore_ascii_case(b"replace") {
            replace = true;
            i += 1;
        } else if args[i].eq_ignore_ascii_case(b"db") && i + 1 < args.len() {
            // Checked as it is parsed: `COPY a b DB 99 junk` is an index error.
            match parse_db_index(&args[i + 1], shared.store.databases()) {
                Ok(db) => dst_db = db,
                Err(e) => {
                    return Err(e.into());
                }
            }
            i += 2;
        } else {
            return Err(error::SYNTAX.into());
        }
    }
    let (src, dst) = (&args[1], &args[2]);
    if src_db == dst_db && src == dst {
        return Err(error::SAME_OBJECT.into());
    }
    let now = unix_ms();
    let source = shared
        .store
        .slot(src_db, src, now)
        .get()
        .map(|e| (e.value().to_value(), e.expires_at_ms, e.flags));
    read_lookup(ctx, src, source.is_some());
    let Some((value, expires_at_ms, flags)) = source else {
        ctx.reply.int(0);
        return Ok(());
    };
    {
        let mut target = shared.store.slot(dst_db, dst, now);
        if target.exists() && !replace {
            drop(target);
            ctx.reply.int(0);
            return Ok(());
        }
        // A new object: fresh CAS, access time and LFU counter; same value and TTL.
        let cas = shared.store.next_cas();
        target.put(Entry::new(
            dst,
            value,
            expires_at_ms,
            cas,
            flags,
            shared.store.clock_ms(),
        ));
    }
    notify(shared, dst_db, EventClass::NEW_KEY, "new", dst);
    notify(shared, dst_db, EventClass::GENERIC, "copy_to", dst);
    ctx.dirty(1);
    // Blocking: a list copied into place serves clients blocked on it.
    shared.blocking.signal_ready(dst_db, dst);
    ctx.reply.int(1);
    Ok(())
}

/// MOVE key db
fn move_(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let src_db = ctx.session.db();
    let dst_db = match parse_db_index(&args[2], shared.store.databases()) {
        Ok(db) => db,
        Err(e) => {
            return Err(e.into());
        }
    };
    if dst_db == src_db {
        return Err(error::SAME_OBJECT.into());
    }
    let key = &args[1];
    let now = unix_ms();
    let movable = shared.store.slot(src_db, key, now).exists()
        && !shared.store.slot(dst_db, key, now).exists();
    let entry = if movable {
        shared.store.slot(src_db, key, now).remove()
    } else {
        None
    };
    let Some(mut entry) = entry else {
        ctx.reply.int(0);
        return Ok(());
    };
    entry.cas = shared.store.next_cas();
    shared.store.slot(dst_db, key, now).put(entry);
    notify(shared, dst_db, EventClass::NEW_KEY, "new", key);
    notify(shared, src_db, EventClass::GENERIC, "move_from", key);
    notify(shared, dst_db, EventClass::GENERIC, "move_to", key);
    ctx.dirty(1);
    // Blocking: a list moved into place serves clients blocked on it.
    shared.blocking.signal_ready(dst_db, key);
    ctx.reply.int(1);
    Ok(())
}

/// SWAPDB index1 index2
fn swapdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    // getIntFromObjectOrReply with a message: one text for "not an int" and "not an i32".
    let index = |arg: &[u8]| parse_i64(arg).and_then(|n| i32::try_from(n).ok());
    let Some(first) = index(&args[1]) else {
        return Err(error::INVALID_FIRST_DB.into());
    };
    let Some(second) = index(&args[2]) else {
        return Err(error::INVALID_SECOND_DB.into());
    };
    let databases = ctx.shared.store.databases();
    let valid = |i: i32| usize::try_from(i).ok().filter(|&db| db < databases);
    match (valid(first), valid(second)) {
        (Some(a), Some(b)) => {
            // WATCHed keys see the swap: every entry carries its own CAS.
            ctx.shared.store.swap_dbs(a, b);
            // Blocking: clients blocked in either db see the other's keys.
            ctx.shared.blocking.signal_db(a);
            ctx.shared.blocking.signal_db(b);
            ctx.dirty(1);
            ctx.reply.ok();
        }
        _ => return Err(error::DB_INDEX_OUT_OF_RANGE.into()),
    }
    Ok(())
}

/// Every live key of database `db`. One `Store::scan` call walks all shards,
/// each under its own lock from end to end, so no key is seen twice; patterns
/// are matched afterwards, with no lock held.
fn all_keys(shared: &Shared, db: usize, now: u64) -> Vec<Bytes> {
    let mut keys = Vec::with_capacity(shared.store.db(db).len());
    shared.store.scan(db, 0, usize::MAX, now, |e| {
        keys.push(Bytes::copy_from_slice(e.key()))
    });
    keys
}

/// KEYS pattern
fn keys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let pattern = &args[1][..];
    let mut keys = all_keys(ctx.shared, ctx.session.db(), unix_ms());
    // `*` alone matches every key, even the empty one (which glob `*` would not).
    if pattern != b"*" {
        keys.retain(|k| glob_match(pattern, k));
    }
    ctx.reply.array(keys.len());
    for k in &keys {
        ctx.reply.bulk(k);
    }
    Ok(())
}

/// A SCAN cursor as Redis 7.4's `string2ull`: a `string2ll` integer must not be
/// negative; anything else goes through C `strtoull` (leading white space and a
/// sign allowed, "-N" wrapping as in C, nothing after the digits, no overflow).
/// The argument is read as a C string, up to its first NUL.
pub(crate) fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let s = arg.split(|&b| b == 0).next().unwrap_or_default();
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let is_c_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = s.iter().position(|b| !is_c_space(b)).unwrap_or(s.len());
    let rest = &s[start..];
    let (negative, digits) = match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// The cursor is the store's (see `Store::scan`): every key present for the
/// whole iteration is returned at least once. COUNT is the number of entries
/// visited per call, so a call may return fewer keys, or none, before the end.
fn scan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let Some(cursor) = parse_cursor(&args[1]) else {
        return Err(error::INVALID_CURSOR.into());
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let (option, value) = match args.get(i + 1) {
            Some(value) => (&args[i], &value[..]),
            None => {
                return Err(error::SYNTAX.into());
            }
        };
        if option.eq_ignore_ascii_case(b"count") {
            match parse_i64(value) {
                Some(n) if n >= 1 => count = n,
                Some(_) => {
                    return Err(error::SYNTAX.into());
                }
                None => {
                    return Err(error::NOT_INTEGER.into());
                }
            }
        } else if option.eq_ignore_ascii_case(b"match") {
            // Exactly `*` disables matching (and so also returns the empty key).
            pattern = (value != b"*").then_some(value);
        } else if option.eq_ignore_ascii_case(b"type") {
            type_name = Some(value);
        } else {
            return Err(error::SYNTAX.into());
        }
        i += 2;
    }
    let mut visited: Vec<(Bytes, &'static str)> = Vec::new();
    let next = ctx.shared.store.scan(
        ctx.session.db(),
        cursor,
        usize::try_from(count).unwrap_or(usize::MAX),
        unix_ms(),
        |e| visited.push((Bytes::copy_from_slice(e.key()), e.value().type_name())),
    );
    let mut keys = Vec::with_capacity(visited.len());
    for (key, kind) in visited {
        if pattern.is_some_and(|p| !glob_match(p, &key)) {
            continue;
        }
        if let Some(wanted) = type_name {
            // Redis 7.4 checks the type with a (counted) lookup of each key.
            ctx.count_lookup(true);
            if !wanted.eq_ignore_ascii_case(kind.as_bytes()) {
                continue;
            }
        }
        keys.push(key);
    }
    ctx.reply.array(2);
    ctx.reply.bulk(next.to_string().as_bytes());
    ctx.reply.array(keys.len());
    for k in &keys {
        ctx.reply.bulk(k);
    }
    Ok(())
}

/// RANDOMKEY
fn randomkey(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    let (store, db, now) = (&ctx.shared.store, ctx.session.db(), unix_ms());
    // `random_key` samples a bounded number of entries per shard; if all it met
    // had expired while live keys remain, fall back to one uniform pass.
    let key = match store.random_key(db, now) {
        Some(key) => Some(key),
        None if !store.db(db).is_empty() => any_live_key(ctx.shared, db, now),
        None => None,
    };
    match key {
        Some(k) => ctx.reply.bulk(&k),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// One live key chosen uniformly (reservoir sampling over a full pass).
fn any_live_key(shared: &Shared, db: usize, now: u64) -> Option<Bytes> {
    let mut seen = 0u64;
    let mut chosen = None;
    shared.store.scan(db, 0, usize::MAX, now, |e| {
        seen += 1;
        if fastrand::u64(..seen) == 0 {
            chosen = Some(Bytes::copy_from_slice(e.key()));
        }
    });
    chosen
}

/// TOUCH key [key ...]: counts existing keys and updates their access time.
fn touch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let now = unix_ms();
    let mut touched = 0;
    for key in &args[1..] {
        let hit = shared
            .store
            .slot(ctx.session.db(), key, now)
            .get()
            .is_some();
        read_lookup(ctx, key, hit);
        touched += i64::from(hit);
    }
    ctx.reply.int(touched);
    Ok(())
}

/// EXPIRE key seconds [NX | XX | GT | LT]
fn expire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, "expire", Unit::Seconds, Base::Now)
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
fn pexpire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, "pexpire", Unit::Millis, Base::Now)
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
fn expireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, "expireat", Unit::Seconds, Base::UnixEpoch)
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
fn pexpireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, "pexpireat", Unit::Millis, Base::UnixEpoch)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// What the time argument counts from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    Now,
    UnixEpoch,
}

/// The EXPIRE family (Redis `expireGenericCommand`): options first, then the
/// time, converted to an absolute Unix time in milliseconds (overflow is an
/// error). NX/XX/GT/LT compare with the current expiry, a key without one
/// counting as infinite. A deadline not in the future deletes the key at once
/// (reply 1, event `del`, not counted as expired), as Redis 7.4 does.
fn expire_generic(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    name: &str,
    unit: Unit,
    base: Base,
) -> CommandResult {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for option in &args[3..] {
        match &option.to_ascii_lowercase()[..] {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"gt" => gt = true,
            b"lt" => lt = true,
            _ => {
                return Err(error::unsupported_option(option).into());
            }
        }
    }
    if nx && (xx || gt || lt) {
        return Err(error::EXPIRE_NX_CONFLICT.into());
    }
    if gt && lt {
        return Err(error::EXPIRE_GT_LT_CONFLICT.into());
    }
    let Some(time) = parse_i64(&args[2]) else {
        return Err(error::NOT_INTEGER.into());
    };
    let now = unix_ms();
    let now_ms = i64::try_from(now).unwrap_or(i64::MAX);
    let millis = match unit {
        Unit::Seconds => time.checked_mul(1000),
        Unit::Millis => Some(time),
    };
    let base_ms = match base {
        Base::Now => now_ms,
        Base::UnixEpoch => 0,
    };
    let Some(when) = millis.and_then(|ms| ms.checked_add(base_ms)) else {
        return Err(error::invalid_expire_time(name).into());
    };
    let key = &args[1];
    let mut slot = ctx.shared.store.slot(ctx.session.db(), key, now);
    let Some(current) = slot.peek().map(|e| e.expires_at_ms) else {
        drop(slot);
        ctx.reply.int(0);
        return Ok(());
    };
    let current = (current != 0).then(|| i64::try_from(current).unwrap_or(i64::MAX));
    let refused = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|cur| when <= cur))
        || (lt && current.is_some_and(|cur| when >= cur));
    if refused {
        drop(slot);
        ctx.reply.int(0);
        return Ok(());
    }
    let event = if when <= now_ms {
        slot.remove();
        "del"
    } else {
        // `when` > now > 0 here, so it converts without loss.
        slot.set_expiry(when as u64);
        "expire"
    };
    drop(slot);
    ctx.notify(EventClass::GENERIC, event, key);
    ctx.reply.int(1);
    Ok(())
}

/// TTL key
fn ttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, args, Unit::Seconds, Base::Now);
    Ok(())
}

/// PTTL key
fn pttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, args, Unit::Millis, Base::Now);
    Ok(())
}

/// EXPIRETIME key
fn expiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, args, Unit::Seconds, Base::UnixEpoch);
    Ok(())
}

/// PEXPIRETIME key
fn pexpiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, args, Unit::Millis, Base::UnixEpoch);
    Ok(())
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 when the key is missing, -1 when it
/// has no expiry; seconds are rounded to the nearest (`(ms + 500) / 1000`).
fn ttl_generic(ctx: &mut Ctx<'_>, args: &[Bytes], unit: Unit, base: Base) {
    let now = unix_ms();
    let expires_at = ctx
        .shared
        .store
        .slot(ctx.session.db(), &args[1], now)
        .peek()
        .map(|e| e.expires_at_ms);
    read_lookup(ctx, &args[1], expires_at.is_some());
    let answer = match expires_at {
        None => -2,
        Some(0) => -1,
        Some(at) => {
            let ms = match base {
                Base::Now => i128::from(at) - i128::from(now),
                Base::UnixEpoch => i128::from(at),
            }
            .max(0);
            let value = match unit {
                Unit::Millis => ms,
                Unit::Seconds => (ms + 500) / 1000,
            };
            i64::try_from(value).unwrap_or(i64::MAX)
        }
    };
    ctx.reply.int(answer);
}

/// PERSIST key
fn persist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let key = &args[1];
    let removed = {
        let mut slot = ctx.shared.store.slot(ctx.session.db(), key, unix_ms());
        let has_ttl = slot.peek().is_some_and(|e| e.expires_at_ms != 0);
        has_ttl && slot.set_expiry(0)
    };
    if removed {
        ctx.notify(EventClass::GENERIC, "persist", key);
    }
    ctx.reply.int(i64::from(removed));
    Ok(())
}

/// OBJECT's lookup (LOOKUP_NOTOUCH | LOOKUP_NONOTIFY): counted as a hit or
/// miss, access time kept, no `keymiss`; a missing key is answered with nil.
fn object_lookup<R>(ctx: &mut Ctx<'_>, key: &[u8], read: impl FnOnce(&Entry) -> R) -> Option<R> {
    let found = ctx
        .shared
        .store
        .slot(ctx.session.db(), key, unix_ms())
        .peek()
        .map(read);
    ctx.count_lookup(found.is_some());
    if found.is_none() {
        ctx.reply.null();
    }
    found
}

fn lfu_policy(ctx: &Ctx<'_>) -> bool {
    matches!(
        ctx.shared.store.limits.policy(),
        EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu
    )
}

/// OBJECT ENCODING key
fn object_encoding(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if let Some(encoding) = object_lookup(ctx, &args[2], |e| encoding(e.value())) {
        ctx.reply.bulk(encoding.as_bytes());
    }
    Ok(())
}

/// OBJECT FREQ key: the LFU counter after decay; only under an LFU policy.
fn object_freq(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let clock = ctx.shared.store.clock_ms();
    let Some(freq) = object_lookup(ctx, &args[2], |e| e.lfu_decayed(clock)) else {
        return Ok(());
    };
    if !lfu_policy(ctx) {
        return Err(error::LFU_NOT_SELECTED.into());
    }
    ctx.reply.int(i64::from(freq));
    Ok(())
}

/// OBJECT IDLETIME key: seconds since the last access; not under an LFU policy.
fn object_idletime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let clock = ctx.shared.store.clock_ms();
    let Some(idle_ms) = object_lookup(ctx, &args[2], |e| e.idle_ms(clock)) else {
        return Ok(());
    };
    if lfu_policy(ctx) {
        return Err(error::LFU_SELECTED.into());
    }
    ctx.reply
        .int(i64::try_from(idle_ms / 1000).unwrap_or(i64::MAX));
    Ok(())
}

/// Redis keeps one shared object for each integer below this (OBJ_SHARED_INTEGERS).
const SHARED_INTEGERS: i64 = 10_000;
/// The refcount Redis reports for a shared object (OBJ_SHARED_REFCOUNT = INT_MAX).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// OBJECT REFCOUNT key: 1, or INT_MAX for the small integers Redis shares
/// (0..9999 stored while sharing is allowed: no `maxmemory`, or a policy that
/// is neither LRU nor LFU, since those need a per-object access clock).
fn object_refcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let small_int = |v: ValueRef<'_>| match v {
        ValueRef::Str(s) => parse_i64(s).is_some_and(|n| (0..SHARED_INTEGERS).contains(&n)),
        _ => false,
    };
    let Some(is_small_int) = object_lookup(ctx, &args[2], |e| small_int(e.value())) else {
        return Ok(());
    };
    let limits = &ctx.shared.store.limits;
    let sharing = limits.maxmemory.load(std::sync::atomic::Ordering::Relaxed) == 0
        || !matches!(
            limits.policy(),
            EvictionPolicy::AllKeysLru
                | EvictionPolicy::VolatileLru
                | EvictionPolicy::AllKeysLfu
                | EvictionPolicy::VolatileLfu
        );
    ctx.reply.int(if is_small_int && sharing {
        SHARED_REFCOUNT
    } else {
        1
    });
    Ok(())
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// OBJECT HELP
fn object_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    ctx.reply.array(OBJECT_HELP.len());
    for line in OBJECT_HELP {
        ctx.reply.simple(line);
    }
    Ok(())
}

/// Longest string Redis stores embedded in its object header (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
const EMBSTR_MAX_BYTES: usize = 44;
/// The encoding Redis 7.0 would report for `value`. Strings as `tryObjectEncoding`
/// leaves a SET value: `int` when it reads as an i64 in `string2l` form, else
/// `embstr` up to 44 bytes, else `raw`. Lists are always `quicklist` in 7.0
/// (7.2 added single-listpack lists, whatever `list-max-listpack-size` says).
/// Redis also remembers history herald does not (an APPENDed string stays
/// `raw`): herald answers from the current contents.
fn encoding(value: ValueRef<'_>) -> &'static str {
    match value {
        ValueRef::Str(s) if parse_i64(s).is_some() => "int",
        ValueRef::Str(s) if s.len() <= EMBSTR_MAX_BYTES => "embstr",
        ValueRef::Str(_) => "raw",
        ValueRef::List(_) => "quicklist",
        // Redis 7.0: converted for good once past hash-max-listpack-* / set-max-intset-entries.
        ValueRef::Hash(h) if h.is_hashtable() => "hashtable",
        ValueRef::Hash(_) => "listpack",
        ValueRef::Set(s) if s.hashtable => "hashtable",
        ValueRef::Set(_) => "intset",
        ValueRef::ZSet(z) if z.skiplist => "skiplist",
        ValueRef::ZSet(_) => "listpack",
        ValueRef::Stream(_) => "stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Value;

    #[test]
    fn cursor_parses_like_string2ull() {
        for (arg, want) in [
            (&b"0"[..], Some(0)),
            (b"42", Some(42)),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"-1", None),
            (b"-0", Some(0)),
            (b"+5", Some(5)),
            (b"007", Some(7)),
            (b" 5", Some(5)),
            (b"\x0b5", Some(5)),
            (b"5 ", None),
            (b"", None),
            (b" ", None),
            (b"+", None),
            (b"abc", None),
            (b"0x10", None),
            (b"5\x00junk", Some(5)),
            (b"-9223372036854775809", Some(9_223_372_036_854_775_807)),
        ] {
            assert_eq!(
                parse_cursor(arg),
                want,
                "{:?}",
                String::from_utf8_lossy(arg)
            );
        }
    }

    #[test]
    fn string_encodings() {
        let enc = |s: &str| encoding(ValueRef::Str(s.as_bytes()));
        assert_eq!(enc("0"), "int");
        assert_eq!(enc("-9223372036854775808"), "int");
        assert_eq!(enc("12345678901234567890"), "embstr");
        assert_eq!(enc("007"), "embstr");
        assert_eq!(enc(""), "embstr");
        assert_eq!(enc(&"x".repeat(44)), "embstr");
        assert_eq!(enc(&"x".repeat(45)), "raw");
    }

    #[test]
    fn lists_are_quicklists_as_in_redis_7_0() {
        let list = |n: usize, len: usize| {
            Value::List((0..n).map(|_| Bytes::from(vec![b'x'; len])).collect())
        };
        assert_eq!(encoding(list(1, 1).as_ref()), "quicklist");
        assert_eq!(encoding(list(1, 9000).as_ref()), "quicklist");
    }
}
