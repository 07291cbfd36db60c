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
use super::long_double::LongDouble;
use super::{Command, Ctx};
use crate::error;
use crate::error::CommandResult;
use crate::flags;
use crate::keyspace_events::EventClass;
use crate::store::{unix_ms, Slot, Value, ValueRef};

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "string";

pub(crate) static COMMANDS: &[Command] = &[
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
    ctx.shared.store.slot(ctx.session.db(), key, now_ms)
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
    fn reply_read(
        ctx: &mut Ctx<'_>,
        slot: &mut Slot<'_>,
        key: &[u8],
        wrong_type_is_nil: bool,
    ) -> CommandResult {
        let found = match slot.get().map(|e| e.value()) {
            Some(ValueRef::Str(v)) => {
                ctx.reply.bulk(v);
                ctx.count_lookup(true);
                return Ok(());
            }
            Some(_) => Found::WrongType,
            None => Found::Missing,
        };
        count_read(ctx, key, &found);
        match found {
            Found::WrongType if !wrong_type_is_nil => Err(error::WRONGTYPE.into()),
            _ => {
                ctx.reply.null();
                Ok(())
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
fn reply_found(ctx: &mut Ctx<'_>, found: &Found) -> CommandResult {
    match found {
        Found::Str(v) => ctx.reply.bulk(v),
        Found::Missing => ctx.reply.null(),
        Found::WrongType => return Err(error::WRONGTYPE.into()),
    }
    Ok(())
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
fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let key = &args[1];
    Found::reply_read(ctx, &mut lock(ctx, key, unix_ms()), key, false)?;
    Ok(())
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
fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let Ok(opts) = parse_options(&args[3..], OptionsOf::Set) else {
        return Err(error::SYNTAX.into());
    };
    let now_ms = unix_ms();
    let expires_at_ms = match opts.expiry.map(|e| e.deadline_ms(now_ms, "set")) {
        Some(Err(msg)) => return Err(msg.into()),
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
        (Some(old), _) => reply_found(ctx, old)?,
        (None, Some(_)) => ctx.reply.ok(),
        (None, None) => ctx.reply.null(),
    }
    Ok(())
}

/// SETNX key value
fn setnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
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
    Ok(())
}

/// SETEX key seconds value
fn setex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    set_with_expiry(ctx, args, Expiry::Ex(&args[2]), "setex")?;
    Ok(())
}

/// PSETEX key milliseconds value
fn psetex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    set_with_expiry(ctx, args, Expiry::Px(&args[2]), "psetex")?;
    Ok(())
}

/// SETEX and PSETEX: a plain SET with a relative expiry, checked first.
fn set_with_expiry(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    expiry: Expiry<'_>,
    command: &str,
) -> CommandResult {
    let now_ms = unix_ms();
    let expires_at_ms = expiry.deadline_ms(now_ms, command)?;
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
    Ok(())
}

/// GETSET key value
fn getset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
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
        reply_found(ctx, old)?;
    }
    Ok(())
}

/// MGET key [key ...]
fn mget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let now_ms = unix_ms();
    let keys = &args[1..];
    // One instant for every key, as Redis's MGET: all their shards stay locked
    // while the values are read.
    let mut locked = ctx
        .shared
        .store
        .lock_keys(ctx.session.db(), keys.iter().map(|k| &k[..]));
    ctx.reply.array(keys.len());
    for key in keys {
        Found::reply_read(ctx, &mut locked.slot(key, now_ms), key, true)?;
    }
    Ok(())
}

/// MSET key value [key value ...]
fn mset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if args.len().is_multiple_of(2) {
        return Err(error::wrong_arity("mset").into());
    }
    store_pairs(ctx, &args[1..], false);
    ctx.reply.ok();
    Ok(())
}

/// MSETNX key value [key value ...]
fn msetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if args.len().is_multiple_of(2) {
        return Err(error::wrong_arity("msetnx").into());
    }
    let stored = store_pairs(ctx, &args[1..], true);
    ctx.reply.int(stored as i64);
    Ok(())
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
        .lock_keys(ctx.session.db(), pairs.chunks_exact(2).map(|p| &p[0][..]));
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
    ctx.dirty(pairs.len() as u64 / 2);
    true
}

/// GETDEL key
fn getdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
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
    reply_found(ctx, &found)?;
    Ok(())
}

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | PERSIST]
fn getex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let Ok(opts) = parse_options(&args[2..], OptionsOf::GetEx) else {
        return Err(error::SYNTAX.into());
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
        return Err(msg.clone().into());
    }
    match change {
        Change::None => {}
        Change::Deleted => ctx.notify(EventClass::GENERIC, "del", key),
        Change::Expire => ctx.notify(EventClass::GENERIC, "expire", key),
        Change::Persist => ctx.notify(EventClass::GENERIC, "persist", key),
    }
    reply_found(ctx, &found)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Lengths and ranges
// ---------------------------------------------------------------------------

/// APPEND key value
fn append(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
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
        Appended::WrongType => return Err(error::WRONGTYPE.into()),
        Appended::TooLong => return Err(error::STRING_TOO_LONG.into()),
    }
    Ok(())
}

/// STRLEN key
fn strlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let key = &args[1];
    let found = Found::read(&mut lock(ctx, key, unix_ms()));
    count_read(ctx, key, &found);
    match found {
        Found::Str(v) => ctx.reply.int(v.len() as i64),
        Found::Missing => ctx.reply.int(0),
        Found::WrongType => return Err(error::WRONGTYPE.into()),
    }
    Ok(())
}

/// GETRANGE key start end (and its old name SUBSTR)
fn getrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (Some(start), Some(end)) = (parse_i64(&args[2]), parse_i64(&args[3])) else {
        return Err(error::NOT_INTEGER.into());
    };
    let key = &args[1];
    let found = Found::read(&mut lock(ctx, key, unix_ms()));
    count_read(ctx, key, &found);
    match found {
        Found::Str(v) => ctx.reply.bulk(substring(&v, start, end)),
        Found::Missing => ctx.reply.bulk(b""),
        Found::WrongType => return Err(error::WRONGTYPE.into()),
    }
    Ok(())
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
fn setrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let Some(offset) = parse_i64(&args[2]) else {
        return Err(error::NOT_INTEGER.into());
    };
    if offset < 0 {
        return Err(error::OFFSET_OUT_OF_RANGE.into());
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
        Written::WrongType => return Err(error::WRONGTYPE.into()),
        Written::TooLong => return Err(error::STRING_TOO_LONG.into()),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

/// INCR key
fn incr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    incr_by(ctx, &args[1], 1)?;
    Ok(())
}

/// DECR key
fn decr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    incr_by(ctx, &args[1], -1)?;
    Ok(())
}

/// INCRBY key increment
fn incrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    match parse_i64(&args[2]) {
        Some(n) => incr_by(ctx, &args[1], n)?,
        None => return Err(error::NOT_INTEGER.into()),
    }
    Ok(())
}

/// DECRBY key decrement
fn decrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    match parse_i64(&args[2]) {
        Some(i64::MIN) => return Err(error::DECREMENT_OVERFLOW.into()),
        Some(n) => incr_by(ctx, &args[1], -n)?,
        None => return Err(error::NOT_INTEGER.into()),
    }
    Ok(())
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
fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], delta: i64) -> CommandResult {
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
    let (n, created) = result?;
    notify_write(ctx, key, created, "incrby");
    ctx.reply.int(n);
    Ok(())
}

/// INCRBYFLOAT key increment
fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let key = &args[1];
    let increment = LongDouble::parse(&args[2]);
    let result = {
        let mut slot = lock(ctx, key, unix_ms());
        let current = match slot.peek().map(|e| e.value()) {
            None => Ok((LongDouble::ZERO, true)),
            Some(ValueRef::Str(v)) => LongDouble::parse(v)
                .map(|n| (n, false))
                .ok_or(error::NOT_FLOAT),
            Some(_) => Err(error::WRONGTYPE),
        };
        current.and_then(|(n, created)| {
            let increment = increment.ok_or(error::NOT_FLOAT)?;
            let sum = n.checked_add(increment).ok_or(error::NAN_OR_INFINITY)?;
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
        Err(msg) => return Err(msg.into()),
    }
    Ok(())
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
