//! String commands, as Redis's `t_string.c`: GET, SET and its variants (SETNX,
//! SETEX, PSETEX, GETSET), MGET, MSET, MSETNX, GETDEL, GETEX, APPEND, STRLEN,
//! GETRANGE (and SUBSTR), SETRANGE, INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT.
//!
//! Every handler follows one shape: parse and check all arguments; lock the key
//! (one `Slot` at a time), act, and drop the lock; then count the read, publish
//! keyspace events and reply. Rules shared by the family:
//! - A key holding another type answers WRONGTYPE; only SET (without GET),
//!   SETEX, PSETEX and MSET overwrite it, and MGET reads it as nil.
//! - Commands that replace the value store flags 0 and clear the TTL unless
//!   told otherwise (KEEPTTL, EX...). Commands that change a string in place
//!   (APPEND, SETRANGE, the INCR family) keep its TTL and memcached flags.
//! - Reads count keyspace hits and misses (and raise `keymiss`) exactly where
//!   Redis's `lookupKeyRead` does: GET, MGET, GETEX, GETDEL, GETSET, SET ... GET,
//!   STRLEN, GETRANGE. The write commands' lookups are not counted.

use bytes::{Bytes, BytesMut};

use super::args::parse_i64;
use super::notify::EventClass;
use super::{Command, Ctx};
use crate::error;
use crate::flags;
use crate::store::{unix_ms, Slot, Value, ValueRef};

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "string";

pub static COMMANDS: &[Command] = &[
    Command::row(GROUP, "get", 2, flags![READONLY, FAST], "Returns the string value of a key.", get).keys(1, 1, 1),
    Command::row(GROUP, "set", -3, flags![WRITE, DENYOOM], "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", set).keys(1, 1, 1),
    Command::row(GROUP, "setnx", 3, flags![WRITE, DENYOOM, FAST], "Set the string value of a key only when the key doesn't exist.", setnx).keys(1, 1, 1),
    Command::row(GROUP, "setex", 4, flags![WRITE, DENYOOM], "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", setex).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "psetex", 4, flags![WRITE, DENYOOM], "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", psetex).keys(1, 1, 1).since("2.6.0"),
    Command::row(GROUP, "getset", 3, flags![WRITE, DENYOOM, FAST], "Returns the previous string value of a key after setting it to a new value.", getset).keys(1, 1, 1),
    Command::row(GROUP, "mget", -2, flags![READONLY, FAST], "Atomically returns the string values of one or more keys.", mget).keys(1, -1, 1),
    Command::row(GROUP, "mset", -3, flags![WRITE, DENYOOM], "Atomically creates or modifies the string values of one or more keys.", mset).keys(1, -1, 2).since("1.0.1"),
    Command::row(GROUP, "msetnx", -3, flags![WRITE, DENYOOM], "Atomically modifies the string values of one or more keys only when all keys don't exist.", msetnx).keys(1, -1, 2).since("1.0.1"),
    Command::row(GROUP, "getdel", 2, flags![WRITE, FAST], "Returns the string value of a key after deleting the key.", getdel).keys(1, 1, 1).since("6.2.0"),
    Command::row(GROUP, "getex", -2, flags![WRITE, FAST], "Returns the string value of a key after setting its expiration time.", getex).keys(1, 1, 1).since("6.2.0"),
    Command::row(GROUP, "append", 3, flags![WRITE, DENYOOM, FAST], "Appends a string to the value of a key. Creates the key if it doesn't exist.", append).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "strlen", 2, flags![READONLY, FAST], "Returns the length of a string value.", strlen).keys(1, 1, 1).since("2.2.0"),
    Command::row(GROUP, "getrange", 4, flags![READONLY], "Returns a substring of the string stored at a key.", getrange).keys(1, 1, 1).since("2.4.0"),
    Command::row(GROUP, "substr", 4, flags![READONLY], "Returns a substring from a string value.", getrange).keys(1, 1, 1),
    Command::row(GROUP, "setrange", 4, flags![WRITE, DENYOOM], "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", setrange).keys(1, 1, 1).since("2.2.0"),
    Command::row(GROUP, "incr", 2, flags![WRITE, DENYOOM, FAST], "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", incr).keys(1, 1, 1),
    Command::row(GROUP, "decr", 2, flags![WRITE, DENYOOM, FAST], "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", decr).keys(1, 1, 1),
    Command::row(GROUP, "incrby", 3, flags![WRITE, DENYOOM, FAST], "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", incrby).keys(1, 1, 1),
    Command::row(GROUP, "decrby", 3, flags![WRITE, DENYOOM, FAST], "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", decrby).keys(1, 1, 1),
    Command::row(GROUP, "incrbyfloat", 3, flags![WRITE, DENYOOM, FAST], "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", incrbyfloat).keys(1, 1, 1).since("2.6.0"),
];

// ---------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------

/// Lock `key` in the caller's database as of `now_ms`, the one clock reading
/// a command makes (relative expiry times count from it too).
fn lock<'k>(ctx: &Ctx<'k>, key: &'k [u8], now_ms: u64) -> Slot<'k> {
    ctx.shared.store.slot(ctx.session.db, key, now_ms)
}

/// What a read of a key found (Redis `lookupKeyRead` + `checkType`).
enum Found {
    Missing,
    Str(Bytes),
    WrongType,
}

impl Found {
    /// Read the key's string, counting an access to the entry.
    fn read(slot: &mut Slot<'_>) -> Found {
        match slot.get() {
            Some(e) => e.str_bytes().map_or(Found::WrongType, Found::Str),
            None => Found::Missing,
        }
    }

    /// Read the key's string straight into the reply (no copy of the value
    /// but the one into the output buffer); nil for a missing key and, when
    /// `wrong_type_is_nil` (MGET), for a key of another type. Counts the read.
    fn reply_read(ctx: &mut Ctx<'_>, slot: &mut Slot<'_>, key: &[u8], wrong_type_is_nil: bool) {
        let found = match slot.get().map(|e| e.value()) {
            Some(ValueRef::Str(v)) => {
                ctx.reply.bulk(v);
                None
            }
            Some(_) => Some(Found::WrongType),
            None => Some(Found::Missing),
        };
        match found {
            None => ctx.count_lookup(true),
            Some(found) => {
                count_read(ctx, key, &found);
                match found {
                    Found::WrongType if !wrong_type_is_nil => ctx.reply.error(error::WRONGTYPE),
                    _ => ctx.reply.null(),
                }
            }
        }
    }
}

/// Count a read for INFO keyspace_hits/misses; a miss also raises `keymiss`.
fn count_read(ctx: &Ctx<'_>, key: &[u8], found: &Found) {
    let hit = !matches!(found, Found::Missing);
    ctx.count_lookup(hit);
    if !hit {
        ctx.notify(EventClass::KEY_MISS, "keymiss", key);
    }
}

/// Events for a string write: `new` (class n) first when the key was created,
/// then `event` in the string class.
fn notify_write(ctx: &Ctx<'_>, key: &[u8], created: bool, event: &str) {
    if created {
        ctx.notify(EventClass::NEW_KEY, "new", key);
    }
    ctx.notify(EventClass::STRING, event, key);
}

/// Answer a read: the string, nil, or WRONGTYPE.
fn reply_found(ctx: &mut Ctx<'_>, found: &Found) {
    match found {
        Found::Str(v) => ctx.reply.bulk(v),
        Found::Missing => ctx.reply.null(),
        Found::WrongType => ctx.reply.error(error::WRONGTYPE),
    }
}

/// The `proto-max-bulk-len` limit, read before any key is locked.
fn max_string_len(ctx: &Ctx<'_>) -> u64 {
    ctx.shared.config.read().proto_max_bulk_len
}

/// Redis `checkStringLength`: the length `size + append`, if it is within `max`.
fn checked_len(max: u64, size: usize, append: usize) -> Option<usize> {
    size.checked_add(append)
        .filter(|&total| total as u64 <= max)
}

// ---------------------------------------------------------------------------
// SET options and expiry times
// ---------------------------------------------------------------------------

/// A SET-family condition on the key's existence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Condition {
    #[default]
    Always,
    /// NX
    IfAbsent,
    /// XX
    IfPresent,
}

/// An expiry option and its (not yet checked) argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expiry<'a> {
    Ex(&'a [u8]),
    Px(&'a [u8]),
    ExAt(&'a [u8]),
    PxAt(&'a [u8]),
}

impl Expiry<'_> {
    /// The absolute expiry in Unix ms, as Redis's `getExpireMillisecondsOrReply`:
    /// a strict integer, > 0, not overflowing once scaled to ms and made absolute.
    fn deadline_ms(self, now_ms: u64, command: &str) -> Result<u64, String> {
        let (arg, seconds, relative) = match self {
            Expiry::Ex(a) => (a, true, true),
            Expiry::Px(a) => (a, false, true),
            Expiry::ExAt(a) => (a, true, false),
            Expiry::PxAt(a) => (a, false, false),
        };
        let n = parse_i64(arg).ok_or_else(|| error::NOT_INTEGER.to_string())?;
        let invalid = || error::invalid_expire_time(command);
        if n <= 0 || (seconds && n > i64::MAX / 1000) {
            return Err(invalid());
        }
        let ms = if seconds { n * 1000 } else { n };
        let ms = if relative {
            ms.checked_add(now_ms as i64).ok_or_else(invalid)?
        } else {
            ms
        };
        Ok(ms as u64)
    }

    fn is_absolute(self) -> bool {
        matches!(self, Expiry::ExAt(_) | Expiry::PxAt(_))
    }

    fn same_kind(self, other: Expiry<'_>) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

/// Which command's options are being parsed: SET takes NX, XX, GET and
/// KEEPTTL; GETEX takes PERSIST; both take EX, PX, EXAT and PXAT.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OptionsOf {
    Set,
    GetEx,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct StringOptions<'a> {
    condition: Condition,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expiry: Option<Expiry<'a>>,
}

/// Parse SET/GETEX options as Redis's `parseExtendedStringArgumentsOrReply`:
/// an option repeated is accepted (a repeated expiry: the last wins), two that
/// conflict (NX and XX, two kinds of expiry, an expiry with KEEPTTL or PERSIST)
/// or anything unknown is a syntax error. Expiry values are checked later.
fn parse_options(args: &[Bytes], of: OptionsOf) -> Result<StringOptions<'_>, ()> {
    let set = of == OptionsOf::Set;
    let mut o = StringOptions::default();
    let mut i = 0;
    while i < args.len() {
        let opt = &args[i][..];
        let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
        // An expiry may follow only an expiry of its own kind.
        let expiry = expiry_option(opt, args.get(i + 1))
            .filter(|e| !o.keep_ttl && !o.persist && o.expiry.is_none_or(|x| x.same_kind(*e)));
        if is("NX") && set && o.condition != Condition::IfPresent {
            o.condition = Condition::IfAbsent;
        } else if is("XX") && set && o.condition != Condition::IfAbsent {
            o.condition = Condition::IfPresent;
        } else if is("GET") && set {
            o.get = true;
        } else if is("KEEPTTL") && set && o.expiry.is_none() {
            o.keep_ttl = true;
        } else if is("PERSIST") && !set && o.expiry.is_none() {
            o.persist = true;
        } else if let Some(e) = expiry {
            o.expiry = Some(e);
            i += 1;
        } else {
            return Err(());
        }
        i += 1;
    }
    Ok(o)
}

/// `opt` as EX, PX, EXAT or PXAT with its value `next`; None if it is none of
/// them or has no value.
fn expiry_option<'a>(opt: &[u8], next: Option<&'a Bytes>) -> Option<Expiry<'a>> {
    let value = &next?[..];
    let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
    if is("EX") {
        Some(Expiry::Ex(value))
    } else if is("PX") {
        Some(Expiry::Px(value))
    } else if is("EXAT") {
        Some(Expiry::ExAt(value))
    } else if is("PXAT") {
        Some(Expiry::PxAt(value))
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// GET, SET and friends
// ---------------------------------------------------------------------------

/// GET key
fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let key = &args[1];
    Found::reply_read(ctx, &mut lock(ctx, key, unix_ms()), key, false);
}

/// A SET-family write after parsing (Redis `setGenericCommand`).
struct SetRequest<'a> {
    key: &'a [u8],
    value: &'a Bytes,
    condition: Condition,
    /// Read the old value first (SET ... GET, GETSET).
    get: bool,
    keep_ttl: bool,
    /// Absolute expiry in Unix ms.
    expires_at_ms: Option<u64>,
    now_ms: u64,
}

/// What a SET-family write did.
struct SetDone {
    /// The old value, when `get` asked for it; WRONGTYPE stops the write.
    old: Option<Found>,
    /// Some(created) if the value was stored.
    stored: Option<bool>,
}

/// Store `req.value` under its conditions; then count the read, publish
/// `new`/`set`/`expire`, and reap the key at once if its deadline has passed.
fn set_generic(ctx: &Ctx<'_>, req: &SetRequest<'_>) -> SetDone {
    let done = {
        let mut slot = lock(ctx, req.key, req.now_ms);
        let old = req.get.then(|| Found::read(&mut slot));
        if matches!(old, Some(Found::WrongType)) {
            SetDone { old, stored: None }
        } else {
            let existed = slot.exists();
            let allowed = match req.condition {
                Condition::Always => true,
                Condition::IfAbsent => !existed,
                Condition::IfPresent => existed,
            };
            if allowed {
                let expires_at_ms = match req.expires_at_ms {
                    Some(t) => t,
                    None if req.keep_ttl => slot.peek().map_or(0, |e| e.expires_at_ms),
                    None => 0,
                };
                slot.insert(Value::Str(req.value.clone()), expires_at_ms, 0);
            }
            SetDone {
                old,
                stored: allowed.then_some(!existed),
            }
        }
    };
    if let Some(old) = &done.old {
        count_read(ctx, req.key, old);
    }
    if let Some(created) = done.stored {
        notify_write(ctx, req.key, created, "set");
        if let Some(deadline) = req.expires_at_ms {
            ctx.notify(EventClass::GENERIC, "expire", req.key);
            if deadline <= req.now_ms {
                // EXAT/PXAT in the past: the key is stored already expired, as in
                // Redis; locking it again expires it now (raising `expired`) unless
                // another client replaced it meanwhile.
                drop(lock(ctx, req.key, req.now_ms));
            }
        }
    }
    done
}

/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
/// EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let Ok(opts) = parse_options(&args[3..], OptionsOf::Set) else {
        ctx.reply.error(error::SYNTAX);
        return;
    };
    let now_ms = unix_ms();
    let expires_at_ms = match opts.expiry.map(|e| e.deadline_ms(now_ms, "set")) {
        Some(Err(msg)) => return ctx.reply.error(&msg),
        Some(Ok(t)) => Some(t),
        None => None,
    };
    let done = set_generic(
        ctx,
        &SetRequest {
            key: &args[1],
            value: &args[2],
            condition: opts.condition,
            get: opts.get,
            keep_ttl: opts.keep_ttl,
            expires_at_ms,
            now_ms,
        },
    );
    match (&done.old, done.stored) {
        (Some(old), _) => reply_found(ctx, old),
        (None, Some(_)) => ctx.reply.ok(),
        (None, None) => ctx.reply.null(),
    }
}

/// SETNX key value
fn setnx(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let done = set_generic(
        ctx,
        &SetRequest {
            key: &args[1],
            value: &args[2],
            condition: Condition::IfAbsent,
            get: false,
            keep_ttl: false,
            expires_at_ms: None,
            now_ms: unix_ms(),
        },
    );
    ctx.reply.int(done.stored.is_some() as i64);
}

/// SETEX key seconds value
fn setex(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    set_with_expiry(ctx, args, Expiry::Ex(&args[2]), "setex");
}

/// PSETEX key milliseconds value
fn psetex(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    set_with_expiry(ctx, args, Expiry::Px(&args[2]), "psetex");
}

/// SETEX and PSETEX: a plain SET with a relative expiry, checked first.
fn set_with_expiry(ctx: &mut Ctx<'_>, args: &[Bytes], expiry: Expiry<'_>, command: &str) {
    let now_ms = unix_ms();
    let expires_at_ms = match expiry.deadline_ms(now_ms, command) {
        Ok(t) => t,
        Err(msg) => return ctx.reply.error(&msg),
    };
    set_generic(
        ctx,
        &SetRequest {
            key: &args[1],
            value: &args[3],
            condition: Condition::Always,
            get: false,
            keep_ttl: false,
            expires_at_ms: Some(expires_at_ms),
            now_ms,
        },
    );
    ctx.reply.ok();
}

/// GETSET key value
fn getset(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let done = set_generic(
        ctx,
        &SetRequest {
            key: &args[1],
            value: &args[2],
            condition: Condition::Always,
            get: true,
            keep_ttl: false,
            expires_at_ms: None,
            now_ms: unix_ms(),
        },
    );
    if let Some(old) = &done.old {
        reply_found(ctx, old);
    }
}

/// MGET key [key ...]
fn mget(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let now_ms = unix_ms();
    let keys = &args[1..];
    // One instant for every key, as Redis's MGET: all their shards stay locked
    // while the values are read.
    let mut locked = ctx
        .shared
        .store
        .lock_keys(ctx.session.db, keys.iter().map(|k| &k[..]));
    ctx.reply.array(keys.len());
    for key in keys {
        Found::reply_read(ctx, &mut locked.slot(key, now_ms), key, true);
    }
}

/// MSET key value [key value ...]
fn mset(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    if args.len().is_multiple_of(2) {
        ctx.reply.error(&error::wrong_arity("mset"));
        return;
    }
    store_pairs(ctx, &args[1..], false);
    ctx.reply.ok();
}

/// MSETNX key value [key value ...]
fn msetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    if args.len().is_multiple_of(2) {
        ctx.reply.error(&error::wrong_arity("msetnx"));
        return;
    }
    let stored = store_pairs(ctx, &args[1..], true);
    ctx.reply.int(stored as i64);
}

/// Store each (key, value) pair in order, flags 0 and no TTL, with its
/// events; with `only_new` (MSETNX) nothing is stored if any key exists.
/// Every shard involved stays locked from the check to the last write (and
/// its events), so no client sees some of the keys updated and others not
/// (Redis's guarantee). Returns whether the pairs were stored.
fn store_pairs(ctx: &Ctx<'_>, pairs: &[Bytes], only_new: bool) -> bool {
    let now_ms = unix_ms();
    let mut locked = ctx
        .shared
        .store
        .lock_keys(ctx.session.db, pairs.chunks_exact(2).map(|p| &p[0][..]));
    if only_new
        && pairs
            .chunks_exact(2)
            .any(|pair| locked.slot(&pair[0], now_ms).exists())
    {
        return false;
    }
    for pair in pairs.chunks_exact(2) {
        let created = {
            let mut slot = locked.slot(&pair[0], now_ms);
            let created = !slot.exists();
            slot.insert(Value::Str(pair[1].clone()), 0, 0);
            created
        };
        // Under the shard locks, which the store's locking rule allows:
        // publishing an event never touches the store.
        notify_write(ctx, &pair[0], created, "set");
    }
    true
}

/// GETDEL key
fn getdel(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let key = &args[1];
    let found = {
        let mut slot = lock(ctx, key, unix_ms());
        let found = Found::read(&mut slot);
        if let Found::Str(_) = found {
            slot.remove();
        }
        found
    };
    count_read(ctx, key, &found);
    if let Found::Str(_) = found {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
    reply_found(ctx, &found);
}

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | PERSIST]
fn getex(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let Ok(opts) = parse_options(&args[2..], OptionsOf::GetEx) else {
        ctx.reply.error(error::SYNTAX);
        return;
    };
    let key = &args[1];
    let now_ms = unix_ms();
    // As Redis, a bad expiry is reported only for an existing string key.
    let deadline = opts.expiry.map(|e| e.deadline_ms(now_ms, "getex"));
    /// What GETEX did to the key's TTL.
    enum Change {
        None,
        Deleted,
        Expire,
        Persist,
    }
    let (found, change) = {
        let mut slot = lock(ctx, key, now_ms);
        let found = Found::read(&mut slot);
        let change = match (&found, &deadline) {
            (Found::Str(_), Some(Ok(t))) => {
                let past = opts.expiry.is_some_and(|e| e.is_absolute()) && *t <= now_ms;
                if past {
                    slot.remove();
                    Change::Deleted
                } else {
                    slot.set_expiry(*t);
                    Change::Expire
                }
            }
            (Found::Str(_), None) if opts.persist => {
                if slot.peek().is_some_and(|e| e.expires_at_ms != 0) {
                    slot.set_expiry(0);
                    Change::Persist
                } else {
                    Change::None
                }
            }
            _ => Change::None,
        };
        (found, change)
    };
    count_read(ctx, key, &found);
    if let (Found::Str(_), Some(Err(msg))) = (&found, &deadline) {
        ctx.reply.error(msg);
        return;
    }
    match change {
        Change::None => {}
        Change::Deleted => ctx.notify(EventClass::GENERIC, "del", key),
        Change::Expire => ctx.notify(EventClass::GENERIC, "expire", key),
        Change::Persist => ctx.notify(EventClass::GENERIC, "persist", key),
    }
    reply_found(ctx, &found);
}

// ---------------------------------------------------------------------------
// Lengths and ranges
// ---------------------------------------------------------------------------

/// APPEND key value
fn append(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let (key, tail) = (&args[1], &args[2]);
    let max = max_string_len(ctx);
    enum Appended {
        Len { len: usize, created: bool },
        WrongType,
        TooLong,
    }
    let appended = {
        let mut slot = lock(ctx, key, unix_ms());
        match slot.peek().map(|e| e.value()) {
            None => {
                slot.insert(Value::Str(tail.clone()), 0, 0);
                Appended::Len {
                    len: tail.len(),
                    created: true,
                }
            }
            Some(ValueRef::Str(v)) if checked_len(max, v.len(), tail.len()).is_none() => {
                Appended::TooLong
            }
            Some(ValueRef::Str(_)) => {
                let len = slot
                    .update(|e| {
                        e.edit_str(|b| {
                            b.extend_from_slice(tail);
                            b.len()
                        })
                    })
                    .flatten()
                    .unwrap_or(0);
                Appended::Len {
                    len,
                    created: false,
                }
            }
            Some(_) => Appended::WrongType,
        }
    };
    match appended {
        Appended::Len { len, created } => {
            notify_write(ctx, key, created, "append");
            ctx.reply.int(len as i64);
        }
        Appended::WrongType => ctx.reply.error(error::WRONGTYPE),
        Appended::TooLong => ctx.reply.error(error::STRING_TOO_LONG),
    }
}

/// STRLEN key
fn strlen(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let key = &args[1];
    let found = Found::read(&mut lock(ctx, key, unix_ms()));
    count_read(ctx, key, &found);
    match found {
        Found::Str(v) => ctx.reply.int(v.len() as i64),
        Found::Missing => ctx.reply.int(0),
        Found::WrongType => ctx.reply.error(error::WRONGTYPE),
    }
}

/// GETRANGE key start end (and its old name SUBSTR)
fn getrange(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let (Some(start), Some(end)) = (parse_i64(&args[2]), parse_i64(&args[3])) else {
        ctx.reply.error(error::NOT_INTEGER);
        return;
    };
    let key = &args[1];
    let found = Found::read(&mut lock(ctx, key, unix_ms()));
    count_read(ctx, key, &found);
    match found {
        Found::Str(v) => ctx.reply.bulk(substring(&v, start, end)),
        Found::Missing => ctx.reply.bulk(b""),
        Found::WrongType => ctx.reply.error(error::WRONGTYPE),
    }
}

/// The bytes of `v` from `start` to `end` inclusive; negative indexes count
/// from the end; out-of-range indexes are clamped (Redis `getrangeCommand`).
fn substring(v: &[u8], start: i64, end: i64) -> &[u8] {
    if start < 0 && end < 0 && start > end {
        return &[];
    }
    // |index| <= 2^63 and len < 2^63: the sums cannot overflow.
    let len = v.len() as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if start > end || len == 0 {
        return &[];
    }
    &v[start as usize..=end as usize]
}

/// SETRANGE key offset value
fn setrange(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let Some(offset) = parse_i64(&args[2]) else {
        ctx.reply.error(error::NOT_INTEGER);
        return;
    };
    if offset < 0 {
        ctx.reply.error(error::OFFSET_OUT_OF_RANGE);
        return;
    }
    let (key, patch) = (&args[1], &args[3]);
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    // Where the patch ends, if that is within proto-max-bulk-len.
    let end = checked_len(max_string_len(ctx), start, patch.len());
    enum Written {
        /// The new length; `changed` = Some(created) if anything was written.
        Len {
            len: usize,
            changed: Option<bool>,
        },
        WrongType,
        TooLong,
    }
    let written = {
        let mut slot = lock(ctx, key, unix_ms());
        match (slot.peek().map(|e| e.value()), end) {
            // An empty patch writes nothing (and creates no key).
            (None, _) if patch.is_empty() => Written::Len {
                len: 0,
                changed: None,
            },
            (Some(ValueRef::Str(v)), _) if patch.is_empty() => Written::Len {
                len: v.len(),
                changed: None,
            },
            (None | Some(ValueRef::Str(_)), None) => Written::TooLong,
            (None, Some(end)) => {
                let mut buf = BytesMut::zeroed(end);
                buf[start..end].copy_from_slice(patch);
                slot.insert(Value::Str(buf.freeze()), 0, 0);
                Written::Len {
                    len: end,
                    changed: Some(true),
                }
            }
            (Some(ValueRef::Str(_)), Some(end)) => {
                let len = slot
                    .update(|e| {
                        e.edit_str(|b| {
                            if b.len() < end {
                                b.resize(end, 0);
                            }
                            b[start..end].copy_from_slice(patch);
                            b.len()
                        })
                    })
                    .flatten()
                    .unwrap_or(0);
                Written::Len {
                    len,
                    changed: Some(false),
                }
            }
            (Some(_), _) => Written::WrongType,
        }
    };
    match written {
        Written::Len { len, changed } => {
            if let Some(created) = changed {
                notify_write(ctx, key, created, "setrange");
            }
            ctx.reply.int(len as i64);
        }
        Written::WrongType => ctx.reply.error(error::WRONGTYPE),
        Written::TooLong => ctx.reply.error(error::STRING_TOO_LONG),
    }
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

/// INCR key
fn incr(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    incr_by(ctx, &args[1], 1);
}

/// DECR key
fn decr(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    incr_by(ctx, &args[1], -1);
}

/// INCRBY key increment
fn incrby(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    match parse_i64(&args[2]) {
        Some(n) => incr_by(ctx, &args[1], n),
        None => ctx.reply.error(error::NOT_INTEGER),
    }
}

/// DECRBY key decrement
fn decrby(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    match parse_i64(&args[2]) {
        Some(i64::MIN) => ctx.reply.error(error::DECREMENT_OVERFLOW),
        Some(n) => incr_by(ctx, &args[1], -n),
        None => ctx.reply.error(error::NOT_INTEGER),
    }
}

/// Store `new` as the key's value: in place (keeping TTL and flags) when the
/// key exists, else as a new key with flags 0 and no TTL.
fn store_number(slot: &mut Slot<'_>, created: bool, new: &[u8]) {
    let value = Value::Str(Bytes::copy_from_slice(new));
    if created {
        slot.insert(value, 0, 0);
    } else {
        slot.update(|e| e.set_value(value));
    }
}

/// The INCR family: add `delta` to the integer the key holds (0 if missing).
fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], delta: i64) {
    let result = {
        let mut slot = lock(ctx, key, unix_ms());
        let current = match slot.peek().map(|e| e.value()) {
            None => Ok((0, true)),
            Some(ValueRef::Str(v)) => parse_i64(v).map(|n| (n, false)).ok_or(error::NOT_INTEGER),
            Some(_) => Err(error::WRONGTYPE),
        };
        current.and_then(|(n, created)| {
            let n = n.checked_add(delta).ok_or(error::OVERFLOW)?;
            store_number(&mut slot, created, itoa::Buffer::new().format(n).as_bytes());
            Ok((n, created))
        })
    };
    match result {
        Ok((n, created)) => {
            notify_write(ctx, key, created, "incrby");
            ctx.reply.int(n);
        }
        Err(msg) => ctx.reply.error(msg),
    }
}

/// INCRBYFLOAT key increment
fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let key = &args[1];
    let increment = long_double::LongDouble::parse(&args[2]);
    let result = {
        let mut slot = lock(ctx, key, unix_ms());
        let current = match slot.peek().map(|e| e.value()) {
            None => Ok((long_double::LongDouble::ZERO, true)),
            Some(ValueRef::Str(v)) => long_double::LongDouble::parse(v)
                .map(|n| (n, false))
                .ok_or(error::NOT_FLOAT),
            Some(_) => Err(error::WRONGTYPE),
        };
        current.and_then(|(n, created)| {
            let increment = increment.ok_or(error::NOT_FLOAT)?;
            let sum = n.add(increment).ok_or(error::NAN_OR_INFINITY)?;
            let text = sum.to_human_string();
            store_number(&mut slot, created, text.as_bytes());
            Ok((text, created))
        })
    };
    match result {
        Ok((text, created)) => {
            notify_write(ctx, key, created, "incrbyfloat");
            ctx.reply.bulk(text.as_bytes());
        }
        Err(msg) => ctx.reply.error(msg),
    }
}

/// Redis computes INCRBYFLOAT in C `long double`: on x86-64 Linux the x87
/// 80-bit extended format (64-bit significand, 15-bit exponent). Replies
/// depend on that precision ("10.5" + "0.1" gives "10.6" there, but
/// "10.59999999999999964" in f64), so this module emulates it exactly:
/// parsing as glibc `strtold` plus Redis's `string2ld` checks, addition
/// rounded to nearest-even, and printing as `%.17Lf` with trailing zeros
/// trimmed (Redis `ld2string`, LD_STR_HUMAN).
///
/// Method: every finite value is `mant * 2^exp`. Parsing and addition compute
/// the exact result as a big integer times a power of two (a decimal fraction
/// is divided out to 68 quotient bits plus a sticky bit), then round once to
/// 64 significant bits. Numbers are at most 5119 characters and the format's
/// range is about 1e-4951..1e4932, so the big integers stay under ~35k bits.
mod long_double {
    use std::cmp::Ordering;

    /// Exponent of the last significand bit of the smallest subnormal (2^-16445).
    const EXP_MIN: i64 = -16445;
    /// Exponent of the last significand bit of the largest finite value, (2^64-1)·2^16320.
    const EXP_MAX: i64 = 16320;
    /// Redis refuses numbers of this many characters or more (MAX_LONG_DOUBLE_CHARS).
    const MAX_CHARS: usize = 5 * 1024;
    /// Ten to the number of decimals `%.17Lf` prints.
    const TEN_POW_17: u128 = 100_000_000_000_000_000;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum LongDouble {
        /// (-1)^neg · mant · 2^exp; mant 0 is zero. Normal values have the top
        /// significand bit set; subnormals have exp == EXP_MIN.
        Finite {
            neg: bool,
            mant: u64,
            exp: i64,
        },
        Infinite {
            neg: bool,
        },
    }

    impl LongDouble {
        pub const ZERO: LongDouble = LongDouble::Finite {
            neg: false,
            mant: 0,
            exp: 0,
        };

        /// Parse as Redis's `string2ld`: the whole text must be a number
        /// `strtold` accepts (decimal or hex, `inf`/`infinity`), no leading
        /// space, no NaN, not overflowing and not underflowing to zero.
        pub fn parse(s: &[u8]) -> Option<LongDouble> {
            if s.is_empty() || s.len() >= MAX_CHARS {
                return None;
            }
            let (neg, body) = match s[0] {
                b'-' => (true, &s[1..]),
                b'+' => (false, &s[1..]),
                _ => (false, s),
            };
            if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
                return Some(LongDouble::Infinite { neg });
            }
            let hex = body.len() > 2 && body[0] == b'0' && body[1] | 0x20 == b'x';
            let value = if hex {
                parse_hex(&body[2..], neg)?
            } else {
                parse_decimal(body, neg)?
            };
            match value {
                LongDouble::Infinite { .. } => None,
                v => Some(v),
            }
        }

        /// The sum rounded to nearest-even; None for NaN or an infinite result.
        pub fn add(self, other: LongDouble) -> Option<LongDouble> {
            let (
                LongDouble::Finite {
                    neg: na,
                    mant: ma,
                    exp: ea,
                },
                LongDouble::Finite {
                    neg: nb,
                    mant: mb,
                    exp: eb,
                },
            ) = (self, other)
            else {
                return None;
            };
            if ma == 0 && mb == 0 {
                return Some(zero(na && nb));
            }
            if mb == 0 {
                return Some(self);
            }
            if ma == 0 {
                return Some(other);
            }
            let e = ea.min(eb);
            let a = Big::from_u128(ma as u128).shl((ea - e) as u64);
            let b = Big::from_u128(mb as u128).shl((eb - e) as u64);
            let (neg, sum) = if na == nb {
                (na, a.add(&b))
            } else {
                match a.cmp(&b) {
                    Ordering::Greater => (na, a.sub(&b)),
                    Ordering::Less => (nb, b.sub(&a)),
                    Ordering::Equal => return Some(zero(false)),
                }
            };
            match round(&sum, e, neg) {
                LongDouble::Infinite { .. } => None,
                v => Some(v),
            }
        }

        /// `%.17Lf` with trailing zeros and a bare point removed, "-0" as "0".
        pub fn to_human_string(self) -> String {
            let (neg, mant, exp) = match self {
                LongDouble::Infinite { neg } => return if neg { "-inf" } else { "inf" }.into(),
                LongDouble::Finite { neg, mant, exp } => (neg, mant, exp),
            };
            let (int_part, decimals) = if exp >= 0 {
                (Big::from_u128(mant as u128).shl(exp as u64).to_decimal(), 0)
            } else {
                // mant·10^17 < 2^121; round its quotient by 2^-exp to nearest-even.
                let scaled = mant as u128 * TEN_POW_17;
                let shift = exp.unsigned_abs();
                let q = if shift >= 128 {
                    0
                } else {
                    let q = scaled >> shift;
                    let rem = scaled & ((1u128 << shift) - 1);
                    let half = 1u128 << (shift - 1);
                    q + (rem > half || (rem == half && q & 1 == 1)) as u128
                };
                ((q / TEN_POW_17).to_string(), q % TEN_POW_17)
            };
            let mut out = String::with_capacity(int_part.len() + 19);
            if neg {
                out.push('-');
            }
            out.push_str(&int_part);
            if decimals != 0 {
                let digits = format!(".{decimals:017}");
                out.push_str(digits.trim_end_matches('0'));
            }
            if out == "-0" {
                out.remove(0);
            }
            out
        }
    }

    fn zero(neg: bool) -> LongDouble {
        LongDouble::Finite {
            neg,
            mant: 0,
            exp: 0,
        }
    }

    /// Digits of an exponent, saturating far beyond any meaningful value.
    fn exponent(s: &[u8]) -> Option<(i64, usize)> {
        let (neg, start) = match s.first() {
            Some(b'-') => (true, 1),
            Some(b'+') => (false, 1),
            _ => (false, 0),
        };
        let digits = s[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let n = s[start..start + digits]
            .iter()
            .fold(0i64, |n, d| (n * 10 + (d - b'0') as i64).min(1_000_000_000));
        Some((if neg { -n } else { n }, start + digits))
    }

    /// `digits[.digits][(e|E)[sign]digits]`, the whole of `s`.
    fn parse_decimal(s: &[u8], neg: bool) -> Option<LongDouble> {
        let int_len = s.iter().take_while(|c| c.is_ascii_digit()).count();
        let (frac, mut i) = match s.get(int_len) {
            Some(b'.') => {
                let n = s[int_len + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                (&s[int_len + 1..int_len + 1 + n], int_len + 1 + n)
            }
            _ => (&s[..0], int_len),
        };
        if int_len + frac.len() == 0 {
            return None;
        }
        let mut exp10 = -(frac.len() as i64);
        if matches!(s.get(i), Some(b'e' | b'E')) {
            let (e, used) = exponent(&s[i + 1..])?;
            exp10 += e;
            i += 1 + used;
        }
        if i != s.len() {
            return None;
        }
        // value = digits · 10^exp10, with leading and trailing zeros dropped.
        let all: Vec<u8> = s[..int_len].iter().chain(frac).copied().collect();
        let first = all.iter().position(|&d| d != b'0');
        let Some(first) = first else {
            return Some(zero(neg));
        };
        let last = all.iter().rposition(|&d| d != b'0').unwrap_or(first);
        let digits = &all[first..=last];
        exp10 += (all.len() - 1 - last) as i64;
        // digits·10^exp10 lies in [10^(n-1+exp10), 10^(n+exp10)); the extended
        // range is about [3.6e-4951, 1.19e4932].
        let n = digits.len() as i64;
        if n - 1 + exp10 > 4932 {
            return None;
        }
        if n + exp10 < -4952 {
            return None;
        }
        let mut d = Big::default();
        for chunk in digits.chunks(9) {
            let v = chunk.iter().fold(0u32, |v, c| v * 10 + (c - b'0') as u32);
            d.mul_add_small(10u32.pow(chunk.len() as u32), v);
        }
        let v = if exp10 >= 0 {
            d.mul_pow10(exp10 as u64);
            round(&d, 0, neg)
        } else {
            let mut m = Big::from_u128(1);
            m.mul_pow10(exp10.unsigned_abs());
            let (q, e) = divide(&d, &m);
            round(&q, e, neg)
        };
        underflow_is_error(v)
    }

    /// `hexdigits[.hexdigits][(p|P)[sign]digits]` (after `0x`), the whole of `s`.
    fn parse_hex(s: &[u8], neg: bool) -> Option<LongDouble> {
        let mut h = Big::default();
        let mut exp2: i64 = 0;
        let mut seen = false;
        let mut i = 0;
        let mut in_fraction = false;
        while i < s.len() {
            match s[i] {
                b'.' if !in_fraction => in_fraction = true,
                c if c.is_ascii_hexdigit() => {
                    let v = (c as char).to_digit(16).unwrap_or(0);
                    h.mul_add_small(16, v);
                    seen = true;
                    if in_fraction {
                        exp2 -= 4;
                    }
                }
                _ => break,
            }
            i += 1;
        }
        if !seen {
            return None;
        }
        if matches!(s.get(i), Some(b'p' | b'P')) {
            let (e, used) = exponent(&s[i + 1..])?;
            exp2 += e;
            i += 1 + used;
        }
        if i != s.len() {
            return None;
        }
        if h.is_zero() {
            return Some(zero(neg));
        }
        // h·2^exp2 lies in [2^(bits-1+exp2), 2^(bits+exp2)).
        let bits = h.bits() as i64;
        if bits - 1 + exp2 > EXP_MAX + 64 || bits + exp2 < EXP_MIN - 1 {
            return None;
        }
        underflow_is_error(round(&h, exp2, neg))
    }

    /// A nonzero number that rounded to zero underflowed: strtold's ERANGE.
    fn underflow_is_error(v: LongDouble) -> Option<LongDouble> {
        match v {
            LongDouble::Finite { mant: 0, .. } => None,
            v => Some(v),
        }
    }

    /// d/m as a big integer q times 2^e, close enough to round correctly:
    /// 66 to 68 quotient bits, then one sticky bit set if the division was inexact.
    fn divide(d: &Big, m: &Big) -> (Big, i64) {
        let s = m.bits() as i64 - d.bits() as i64 + 67;
        let (mut num, den) = if s >= 0 {
            (d.shl(s as u64), m.clone())
        } else {
            (d.clone(), m.shl(s.unsigned_abs()))
        };
        // num < den·2^68: binary long division, one quotient bit per step.
        let mut q: u128 = 0;
        let mut t = den.shl(68);
        for bit in (0..=68).rev() {
            if num.cmp(&t) != Ordering::Less {
                num = num.sub(&t);
                q |= 1 << bit;
            }
            t.shr1();
        }
        let sticky = !num.is_zero() as u128;
        (Big::from_u128(q << 1 | sticky), -s - 1)
    }

    /// Round n·2^e to the extended format, nearest-even; Infinite on overflow,
    /// zero on underflow.
    fn round(n: &Big, e: i64, neg: bool) -> LongDouble {
        if n.is_zero() {
            return zero(neg);
        }
        let len = n.bits() as i64;
        let mut lsb = (e + len - 64).max(EXP_MIN);
        let shift = lsb - e;
        let mant = if shift <= 0 {
            // n has at most 64 - |shift| bits here.
            (n.low_u64()) << shift.unsigned_abs()
        } else {
            let shift = shift as u64;
            let mut q = n.bits_from(shift) as u128;
            let half = n.bit(shift - 1);
            if half && (q & 1 == 1 || n.any_below(shift - 1)) {
                q += 1;
            }
            if q >> 64 != 0 {
                q >>= 1;
                lsb += 1;
            }
            q as u64
        };
        if mant == 0 {
            return zero(neg);
        }
        if lsb > EXP_MAX {
            return LongDouble::Infinite { neg };
        }
        LongDouble::Finite {
            neg,
            mant,
            exp: lsb,
        }
    }

    /// An unsigned big integer: little-endian 32-bit limbs, no zero limb on top.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    struct Big(Vec<u32>);

    impl Big {
        fn from_u128(mut v: u128) -> Big {
            let mut limbs = Vec::new();
            while v != 0 {
                limbs.push(v as u32);
                v >>= 32;
            }
            Big(limbs)
        }

        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }

        fn is_zero(&self) -> bool {
            self.0.is_empty()
        }

        fn bits(&self) -> u64 {
            match self.0.last() {
                None => 0,
                Some(top) => (self.0.len() as u64 - 1) * 32 + (32 - top.leading_zeros()) as u64,
            }
        }

        fn bit(&self, i: u64) -> bool {
            let limb = usize::try_from(i / 32).unwrap_or(usize::MAX);
            self.0.get(limb).is_some_and(|l| l >> (i % 32) & 1 == 1)
        }

        /// Whether any bit below position `i` is set.
        fn any_below(&self, i: u64) -> bool {
            let full = usize::try_from(i / 32).unwrap_or(usize::MAX);
            let partial = (i % 32) as u32;
            self.0.iter().take(full).any(|&l| l != 0)
                || (partial != 0
                    && self
                        .0
                        .get(full)
                        .is_some_and(|&l| l & ((1u32 << partial) - 1) != 0))
        }

        fn low_u64(&self) -> u64 {
            let limb = |i: usize| self.0.get(i).copied().unwrap_or(0) as u64;
            limb(0) | limb(1) << 32
        }

        /// The 64 bits from position `from` up.
        fn bits_from(&self, from: u64) -> u64 {
            (0..64).fold(0, |v, k| v | (self.bit(from + k) as u64) << k)
        }

        /// self = self·m + a
        fn mul_add_small(&mut self, m: u32, a: u32) {
            let mut carry = a as u64;
            for limb in &mut self.0 {
                let t = *limb as u64 * m as u64 + carry;
                *limb = t as u32;
                carry = t >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
        }

        fn mul_pow10(&mut self, mut n: u64) {
            while n >= 9 {
                self.mul_add_small(1_000_000_000, 0);
                n -= 9;
            }
            self.mul_add_small(10u32.pow(n as u32), 0);
        }

        fn shl(&self, n: u64) -> Big {
            if self.is_zero() {
                return Big::default();
            }
            let (limbs, bits) = ((n / 32) as usize, (n % 32) as u32);
            let mut out = vec![0u32; limbs];
            out.reserve(self.0.len() + 1);
            let mut carry = 0u32;
            for &l in &self.0 {
                if bits == 0 {
                    out.push(l);
                } else {
                    out.push(l << bits | carry);
                    carry = l >> (32 - bits);
                }
            }
            if carry != 0 {
                out.push(carry);
            }
            Big(out)
        }

        fn shr1(&mut self) {
            let mut carry = 0u32;
            for limb in self.0.iter_mut().rev() {
                let next = *limb & 1;
                *limb = *limb >> 1 | carry << 31;
                carry = next;
            }
            self.trim();
        }

        fn add(&self, other: &Big) -> Big {
            let (long, short) = if self.0.len() >= other.0.len() {
                (self, other)
            } else {
                (other, self)
            };
            let mut out = Vec::with_capacity(long.0.len() + 1);
            let mut carry = 0u64;
            for (i, &l) in long.0.iter().enumerate() {
                let t = l as u64 + short.0.get(i).copied().unwrap_or(0) as u64 + carry;
                out.push(t as u32);
                carry = t >> 32;
            }
            if carry != 0 {
                out.push(carry as u32);
            }
            Big(out)
        }

        /// self - other, for self >= other.
        fn sub(&self, other: &Big) -> Big {
            let mut out = Vec::with_capacity(self.0.len());
            let mut borrow = 0i64;
            for (i, &l) in self.0.iter().enumerate() {
                let mut t = l as i64 - other.0.get(i).copied().unwrap_or(0) as i64 - borrow;
                borrow = (t < 0) as i64;
                if t < 0 {
                    t += 1 << 32;
                }
                out.push(t as u32);
            }
            let mut out = Big(out);
            out.trim();
            out
        }

        fn cmp(&self, other: &Big) -> Ordering {
            self.0
                .len()
                .cmp(&other.0.len())
                .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
        }

        fn to_decimal(&self) -> String {
            let mut rest = self.clone();
            let mut chunks = Vec::new();
            while !rest.is_zero() {
                let mut rem = 0u64;
                for limb in rest.0.iter_mut().rev() {
                    let t = rem << 32 | *limb as u64;
                    *limb = (t / 1_000_000_000) as u32;
                    rem = t % 1_000_000_000;
                }
                rest.trim();
                chunks.push(rem as u32);
            }
            let mut out = chunks
                .pop()
                .map_or_else(|| "0".to_string(), |c| c.to_string());
            for c in chunks.iter().rev() {
                out.push_str(&format!("{c:09}"));
            }
            out
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn incr(a: &str, b: &str) -> Result<String, &'static str> {
            let a = LongDouble::parse(a.as_bytes()).ok_or("a")?;
            let b = LongDouble::parse(b.as_bytes()).ok_or("b")?;
            Ok(a.add(b).ok_or("naninf")?.to_human_string())
        }

        /// Expected results from a C oracle: glibc `strtold`, x87 `long double`
        /// addition and `%.17Lf`, as Redis 7 on x86-64 Linux answers INCRBYFLOAT.
        /// (Checked against it on ~400k random and edge-case inputs too.)
        #[test]
        fn matches_x87_long_double() {
            let big_1e300 = "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144";
            let max_neg = format!(
                "-{}",
                Big::from_u128(u64::MAX as u128)
                    .shl(EXP_MAX as u64)
                    .to_decimal()
            );
            assert!(
                max_neg.starts_with("-11897314953572317650212638530309702051690633222946242004403")
            );
            let cases: &[(&str, &str, Result<&str, &str>)] = &[
                ("10.5", "0.1", Ok("10.6")),
                ("3.0e3", "0", Ok("3000")),
                ("5.0e17", "0", Ok("500000000000000000")),
                ("0", "1e300", Ok(big_1e300)),
                ("0.1", "0.2", Ok("0.3")),
                ("0.1", "0", Ok("0.1")),
                ("0.3", "-0.3", Ok("0")),
                // A tie in the 18th decimal rounds to even.
                ("0", "0.000003814697265625", Ok("0.00000381469726562")),
                ("0", "0x1p-3", Ok("0.125")),
                ("0.125", "3", Ok("3.125")),
                ("1e-20", "0", Ok("0")),
                ("-1e-20", "0", Ok("0")),
                ("-0", "-0", Ok("0")),
                ("5.", ".5", Ok("5.5")),
                ("+1", "-2.5E+1", Ok("-24")),
                ("0", "0e-99999", Ok("0")),
                ("9223372036854775807", "1", Ok("9223372036854775808")),
                (
                    "123456789012345678901234567890",
                    "1",
                    Ok("123456789012345678899921813504"),
                ),
                ("0", "-1.18973149535723176502e+4932", Ok(&max_neg)),
                ("0", "3.6451995318824746025e-4951", Ok("0")),
                ("inf", "1", Err("naninf")),
                ("1", "-Infinity", Err("naninf")),
                ("1e4932", "1e4932", Err("naninf")),
                ("nan", "1", Err("a")),
                ("1", " 1", Err("b")),
                ("1", "1 ", Err("b")),
                ("1", "1e", Err("b")),
                ("1", "", Err("b")),
                ("1", ".", Err("b")),
                ("1", "0x", Err("b")),
                ("1", "0x.p1", Err("b")),
                ("1", "1e5000", Err("b")),
                ("1", "1e-5000", Err("b")),
                ("1", "infin", Err("b")),
            ];
            for (a, b, expected) in cases {
                assert_eq!(incr(a, b), expected.map(String::from), "{a} + {b}");
            }
        }

        #[test]
        fn subnormals_round_trip() {
            let min = LongDouble::parse(b"3.6451995318824746025e-4951").unwrap();
            assert_eq!(
                min,
                LongDouble::Finite {
                    neg: false,
                    mant: 1,
                    exp: EXP_MIN
                }
            );
            // Half the smallest subnormal is a tie: it rounds to even, zero, so ERANGE.
            assert_eq!(LongDouble::parse(b"1.8225997659412373e-4951"), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str], of: OptionsOf) -> Result<StringOptions<'static>, ()> {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::from(a.to_string())).collect();
        let args: &'static [Bytes] = Box::leak(args.into_boxed_slice());
        parse_options(args, of)
    }

    #[test]
    fn set_options_follow_redis_conflict_rules() {
        use OptionsOf::*;
        for ok in [
            &["NX"][..],
            &["nx", "NX"],
            &["XX", "GET", "get"],
            &["EX", "1", "EX", "2"],
            &["KEEPTTL", "keepttl", "NX"],
            &["PXAT", "5", "GET", "XX"],
        ] {
            assert!(opts(ok, Set).is_ok(), "{ok:?}");
        }
        for bad in [
            &["NX", "XX"][..],
            &["EX", "1", "PX", "1"],
            &["EX", "1", "KEEPTTL"],
            &["KEEPTTL", "EXAT", "1"],
            &["EX"],
            &["PERSIST"],
            &["FOO"],
        ] {
            assert!(opts(bad, Set).is_err(), "{bad:?}");
        }
        assert_eq!(
            opts(&["EX", "1", "EX", "2"], Set).unwrap().expiry,
            Some(Expiry::Ex(b"2"))
        );
        assert!(opts(&["PERSIST", "persist"], GetEx).is_ok());
        for bad in [
            &["NX"][..],
            &["GET"],
            &["KEEPTTL"],
            &["PERSIST", "EX", "1"],
            &["EX", "1", "PERSIST"],
        ] {
            assert!(opts(bad, GetEx).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn expiry_deadlines() {
        let now = 1_700_000_000_000;
        assert_eq!(Expiry::Ex(b"10").deadline_ms(now, "set"), Ok(now + 10_000));
        assert_eq!(Expiry::Px(b"10").deadline_ms(now, "set"), Ok(now + 10));
        assert_eq!(Expiry::ExAt(b"10").deadline_ms(now, "set"), Ok(10_000));
        assert_eq!(
            Expiry::PxAt(b"9223372036854775807").deadline_ms(now, "set"),
            Ok(i64::MAX as u64)
        );
        let invalid = Err("ERR invalid expire time in 'setex' command".to_string());
        for arg in ["0", "-1", "9223372036854775", "9223372036854774"] {
            assert_eq!(
                Expiry::Ex(arg.as_bytes()).deadline_ms(now, "setex"),
                invalid
            );
        }
        assert_eq!(
            Expiry::Px(b"1x").deadline_ms(now, "set"),
            Err(error::NOT_INTEGER.to_string())
        );
    }

    #[test]
    fn substring_clamps_like_getrange() {
        let s = b"Hello World";
        for (start, end, expected) in [
            (0, 4, "Hello"),
            (-5, -1, "World"),
            (-1, -5, ""),
            (5, 3, ""),
            (0, -100, "H"),
            (-100, -50, "H"),
            (-100, 2, "Hel"),
            (100, 200, ""),
            (0, i64::MAX, "Hello World"),
            (i64::MIN, i64::MAX, "Hello World"),
            (i64::MIN, i64::MIN, "H"),
        ] {
            assert_eq!(
                substring(s, start, end),
                expected.as_bytes(),
                "{start} {end}"
            );
        }
        assert_eq!(substring(b"", 0, -1), b"");
        assert_eq!(substring(b"", 0, 0), b"");
    }
}
