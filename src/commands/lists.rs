//! List commands: pushes and pops at both ends, ranges, in-place edits, moves
//! between lists, and the blocking pops work queues are built on (BLPOP, BRPOP,
//! BLMOVE, BRPOPLPUSH, BLMPOP). Semantics, replies and errors as Redis's `t_list.c`.
//!
//! A list is a `Value::List(VecDeque<Bytes>)`: O(1) at both ends and by index.
//! Rules every handler keeps:
//! - A list is never empty: the command that removes the last element removes
//!   the key (and publishes the generic "del" event after its own).
//! - A command that adds elements calls `BlockingRegistry::signal_ready` once the shard
//!   lock is released, so blocked clients wake in the order they blocked.
//! - A blocking command that finds data answers exactly like its non-blocking
//!   twin. Otherwise it records a wait with `Ctx::block` and writes no reply (the
//!   connection runs it again when a key gets data), or, where it may not block
//!   (inside MULTI), gives its timeout reply at once.
//! - Moves and multi-key pops are EXCLUSIVE: the dispatcher holds every other
//!   command off, so they lock one key at a time (never two shard locks at once)
//!   and still look atomic.
//! - Pushes and pops tell the store how much the entry's charge changed, so
//!   memory accounting costs O(1), not a walk of the list.

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;

use std::sync::Arc;

use super::args::parse_i64;
use super::{execute_serving, Blocking, BlockingResult, Command, CommandId, Ctx, Session, Shared};
use crate::blocking::{BlockRequest, TimeoutReply, Waiter};
use crate::error;
use crate::error::{CommandError, CommandResult};
use crate::flags;
use crate::keyspace_events::EventClass;
use crate::protocol::resp::Reply;
use crate::store::{unix_ms, Slot, Value, ValueRef};

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "list";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(GROUP, "lpush", -3, flags![WRITE, DENYOOM, FAST], "Prepends one or more elements to a list. Creates the key if it doesn't exist.", lpush).keys(1, 1, 1),
    Command::row(GROUP, "rpush", -3, flags![WRITE, DENYOOM, FAST], "Appends one or more elements to a list. Creates the key if it doesn't exist.", rpush).keys(1, 1, 1),
    Command::row(GROUP, "lpushx", -3, flags![WRITE, DENYOOM, FAST], "Prepends one or more elements to a list only when the list exists.", lpushx).keys(1, 1, 1).since("2.2.0"),
    Command::row(GROUP, "rpushx", -3, flags![WRITE, DENYOOM, FAST], "Appends an element to a list only when the list exists.", rpushx).keys(1, 1, 1).since("2.2.0"),
    Command::row(GROUP, "lpop", -2, flags![WRITE, FAST], "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", lpop).keys(1, 1, 1),
    Command::row(GROUP, "rpop", -2, flags![WRITE, FAST], "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", rpop).keys(1, 1, 1),
    Command::row(GROUP, "llen", 2, flags![READONLY, FAST], "Returns the length of a list.", llen).keys(1, 1, 1),
    Command::row(GROUP, "lrange", 4, flags![READONLY], "Returns a range of elements from a list.", lrange).keys(1, 1, 1),
    Command::row(GROUP, "lindex", 3, flags![READONLY], "Returns an element from a list by its index.", lindex).keys(1, 1, 1),
    Command::row(GROUP, "lset", 4, flags![WRITE, DENYOOM], "Sets the value of an element in a list by its index.", lset).keys(1, 1, 1),
    Command::row(GROUP, "linsert", 5, flags![WRITE, DENYOOM], "Inserts an element before or after another element in a list.", linsert).keys(1, 1, 1).since("2.2.0"),
    Command::row(GROUP, "lrem", 4, flags![WRITE], "Removes elements from a list. Deletes the list if the last element was removed.", lrem).keys(1, 1, 1),
    Command::row(GROUP, "ltrim", 4, flags![WRITE], "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", ltrim).keys(1, 1, 1),
    Command::row(GROUP, "lpos", -3, flags![READONLY], "Returns the index of matching elements in a list.", lpos).keys(1, 1, 1).since("6.0.6"),
    Command::row(GROUP, "lmove", 5, flags![WRITE, DENYOOM, EXCLUSIVE], "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", lmove).keys(1, 2, 1).since("6.2.0"),
    Command::row(GROUP, "rpoplpush", 3, flags![WRITE, DENYOOM, EXCLUSIVE], "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", rpoplpush).keys(1, 2, 1).since("1.2.0"),
    // LMPOP and BLMPOP have movable keys (after numkeys): no fixed positions.
    Command::row(GROUP, "lmpop", -4, flags![WRITE, EXCLUSIVE], "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", lmpop).since("7.0.0"),
    Command::blocking_row(GROUP, "blpop", -3, flags![WRITE, NOSCRIPT, BLOCKING], "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", blpop).keys(1, -2, 1).since("2.0.0"),
    Command::blocking_row(GROUP, "brpop", -3, flags![WRITE, NOSCRIPT, BLOCKING], "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", brpop).keys(1, -2, 1).since("2.0.0"),
    Command::blocking_row(GROUP, "blmove", 6, flags![WRITE, DENYOOM, NOSCRIPT, BLOCKING, EXCLUSIVE], "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", blmove).keys(1, 2, 1).since("6.2.0"),
    Command::blocking_row(GROUP, "brpoplpush", 4, flags![WRITE, DENYOOM, NOSCRIPT, BLOCKING, EXCLUSIVE], "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", brpoplpush).keys(1, 2, 1).since("2.2.0"),
    Command::blocking_row(GROUP, "blmpop", -5, flags![WRITE, BLOCKING, EXCLUSIVE], "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", blmpop).since("7.0.0"),
];

// ---------------------------------------------------------------------------
// Ends, lengths, accounting
// ---------------------------------------------------------------------------

/// Which end of a list a command works on (Redis LEFT = head, RIGHT = tail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Left,
    Right,
}

impl End {
    /// `LEFT` or `RIGHT`, any case.
    fn parse(arg: &[u8]) -> Result<End, &'static str> {
        if arg.eq_ignore_ascii_case(b"left") {
            Ok(End::Left)
        } else if arg.eq_ignore_ascii_case(b"right") {
            Ok(End::Right)
        } else {
            Err(error::SYNTAX)
        }
    }

    fn push_event(self) -> &'static str {
        match self {
            End::Left => "lpush",
            End::Right => "rpush",
        }
    }

    fn pop_event(self) -> &'static str {
        match self {
            End::Left => "lpop",
            End::Right => "rpop",
        }
    }

    fn push(self, list: &mut VecDeque<Bytes>, value: Bytes) {
        match self {
            End::Left => list.push_front(value),
            End::Right => list.push_back(value),
        }
    }

    fn pop(self, list: &mut VecDeque<Bytes>) -> Option<Bytes> {
        match self {
            End::Left => list.pop_front(),
            End::Right => list.pop_back(),
        }
    }
}

/// The length of the list at `slot`: None when the key is missing,
/// WRONGTYPE when it holds something else.
fn list_len(slot: &Slot<'_>) -> Result<Option<usize>, &'static str> {
    match slot.peek().map(|e| e.value()) {
        None => Ok(None),
        Some(ValueRef::List(l)) => Ok(Some(l.len())),
        Some(_) => Err(error::WRONGTYPE),
    }
}

/// Bytes the store charges per list element beyond its data, read once from
/// `Value::charged_bytes` (`store::entry` keeps its constant private).
fn element_overhead_bytes() -> usize {
    static OVERHEAD_BYTES: OnceLock<usize> = OnceLock::new();
    *OVERHEAD_BYTES.get_or_init(|| Value::List(VecDeque::from([Bytes::new()])).charged_bytes())
}

/// Bytes charged for one element holding `data_len` bytes.
fn element_charge(data_len: usize) -> isize {
    (data_len + element_overhead_bytes()) as isize
}

/// Bytes charged for `elements`.
fn elements_charge<'a>(elements: impl IntoIterator<Item = &'a Bytes>) -> isize {
    elements.into_iter().map(|e| element_charge(e.len())).sum()
}

/// Apply `f` to the list at `slot`; `f` returns its result and the change in
/// charged bytes, so accounting is O(1) (`Slot::update_with_charge`) rather
/// than a walk of the list. None when the key holds no list. The caller has
/// checked the type: a change of CAS on a non-list never happens.
fn update_list<R>(
    slot: &mut Slot<'_>,
    f: impl FnOnce(&mut VecDeque<Bytes>) -> (R, isize),
) -> Option<R> {
    slot.update_with_charge(|e| match e.list_mut() {
        Some(l) => {
            let (r, delta) = f(l);
            (Some(r), delta)
        }
        None => (None, 0),
    })
    .flatten()
}

/// Redis's inclusive index range: negative indexes count from the tail, the
/// range is clamped to the list; None when it selects nothing.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// A list index (negative from the tail) as a position, if inside the list.
fn position(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { len as i64 + index } else { index };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn reply_elements(ctx: &mut Ctx<'_>, elements: &[Bytes]) {
    ctx.reply.array(elements.len());
    for e in elements {
        ctx.reply.bulk(e);
    }
}

// ---------------------------------------------------------------------------
// Argument parsing
// ---------------------------------------------------------------------------

/// An integer in `min..=max`; `msg` for anything else (Redis
/// `getRangeLongFromObjectOrReply` with a message).
fn int_in(arg: &[u8], min: i64, max: i64, msg: &'static str) -> Result<i64, &'static str> {
    parse_i64(arg)
        .filter(|n| (min..=max).contains(n))
        .ok_or(msg)
}

fn int_arg(arg: &[u8]) -> Result<i64, &'static str> {
    parse_i64(arg).ok_or(error::NOT_INTEGER)
}

/// Longest timeout text Redis parses (MAX_LONG_DOUBLE_CHARS).
const MAX_TIMEOUT_CHARS: usize = 5 * 1024;

/// A blocking timeout in seconds, fractional allowed; None = wait forever (0).
/// As Redis 7.2+: milliseconds rounded up, so 0.0001 waits 1 ms rather than forever.
pub(crate) fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>, &'static str> {
    let secs = std::str::from_utf8(arg)
        .ok()
        .filter(|s| s.len() < MAX_TIMEOUT_CHARS)
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|v| !v.is_nan())
        .ok_or(error::TIMEOUT_NOT_FLOAT)?;
    let ms = (secs * 1000.0).ceil();
    if ms > i64::MAX as f64 {
        return Err(error::TIMEOUT_OUT_OF_RANGE);
    }
    if ms < 0.0 {
        return Err(error::TIMEOUT_NEGATIVE);
    }
    let ms = ms as i64;
    if ms == 0 {
        return Ok(None);
    }
    // Redis stores the deadline as Unix milliseconds; it must not overflow.
    if ms > i64::MAX - unix_ms() as i64 {
        return Err(error::TIMEOUT_OUT_OF_RANGE);
    }
    Ok(Some(Duration::from_millis(ms as u64)))
}

/// `numkeys key [key ...] LEFT|RIGHT [COUNT count]` of LMPOP and BLMPOP, with
/// `args[0]` the numkeys argument. Returns the keys, the end and the count.
fn parse_mpop(args: &[Bytes]) -> Result<(&[Bytes], End, usize), &'static str> {
    let numkeys = int_in(&args[0], 1, i64::MAX, error::NUMKEYS_NOT_POSITIVE)? as u64;
    let where_at = match usize::try_from(numkeys).ok().and_then(|n| n.checked_add(1)) {
        Some(i) if i < args.len() => i,
        _ => return Err(error::SYNTAX),
    };
    let end = End::parse(&args[where_at])?;
    let mut count = None;
    let mut i = where_at + 1;
    while i < args.len() {
        if count.is_none() && args[i].eq_ignore_ascii_case(b"count") && i + 1 < args.len() {
            i += 1;
            count = Some(int_in(&args[i], 1, i64::MAX, error::COUNT_NOT_POSITIVE)?);
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    Ok((&args[1..where_at], end, count))
}

// ---------------------------------------------------------------------------
// The operations every command shares
// ---------------------------------------------------------------------------

/// Push `elements` (in argument order) at `end` of the list at `key`, creating
/// it unless `only_existing`. Returns the new length (0 when `only_existing` and
/// the key is missing). Notifies and signals blocked clients.
fn push(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    end: End,
    elements: &[Bytes],
    only_existing: bool,
) -> Result<usize, &'static str> {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let len = match list_len(&slot)? {
        None if only_existing => return Ok(0),
        None => {
            let mut list = VecDeque::with_capacity(elements.len());
            for e in elements {
                end.push(&mut list, e.clone());
            }
            // `insert` copies the elements out of the request buffer.
            slot.insert(Value::List(list), 0, 0);
            elements.len()
        }
        Some(_) => update_list(&mut slot, |l| {
            l.reserve(elements.len());
            for e in elements {
                end.push(l, Bytes::copy_from_slice(e));
            }
            (l.len(), elements_charge(elements))
        })
        .unwrap_or(0),
    };
    drop(slot);
    ctx.notify(EventClass::LIST, end.push_event(), key);
    // Redis counts one change per element pushed.
    ctx.dirty(elements.len() as u64);
    ctx.shared.blocking.signal_ready(ctx.session.db(), key);
    Ok(len)
}

/// Pop one element from `end` of the list of length `len` at `slot`, removing
/// the key when it empties. Returns the element and whether the key was removed.
fn pop_one(slot: &mut Slot<'_>, end: End, len: usize) -> Option<(Bytes, bool)> {
    if len <= 1 {
        let Value::List(mut l) = slot.remove()?.into_value() else {
            return None;
        };
        return l.pop_front().map(|v| (v, true));
    }
    let value = update_list(slot, |l| {
        let v = end.pop(l);
        let delta = v.as_ref().map_or(0, |v| -element_charge(v.len()));
        (v, delta)
    })
    .flatten()?;
    Some((value, false))
}

/// Pop up to `count` elements from `end` of the list of length `len` at `slot`,
/// in pop order, removing the key when it empties.
fn pop_many(slot: &mut Slot<'_>, end: End, count: usize, len: usize) -> Option<(Vec<Bytes>, bool)> {
    if count >= len {
        let Value::List(l) = slot.remove()?.into_value() else {
            return None;
        };
        let mut popped: Vec<Bytes> = l.into();
        if end == End::Right {
            popped.reverse();
        }
        return Some((popped, true));
    }
    let popped = update_list(slot, |l| {
        let n = count.min(l.len());
        let popped: Vec<Bytes> = match end {
            End::Left => l.drain(..n).collect(),
            End::Right => {
                let at = l.len() - n;
                l.drain(at..).rev().collect()
            }
        };
        let delta = -elements_charge(&popped);
        (popped, delta)
    })?;
    Some((popped, false))
}

/// Publish what a pop did to `key`: the pop event, then "del" if it emptied.
fn notify_popped(ctx: &Ctx<'_>, key: &[u8], end: End, removed: bool) {
    ctx.notify(EventClass::LIST, end.pop_event(), key);
    if removed {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
}

/// Pop one element from the first of `keys` holding a list (argument order).
/// Ok(None) when none does; WRONGTYPE when a non-list key comes first.
fn pop_first(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    end: End,
) -> Result<Option<(usize, Bytes)>, &'static str> {
    let shared = ctx.shared;
    for (i, key) in keys.iter().enumerate() {
        let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
        let Some(len) = list_len(&slot)? else {
            continue;
        };
        let Some((value, removed)) = pop_one(&mut slot, end, len) else {
            continue;
        };
        drop(slot);
        notify_popped(ctx, key, end, removed);
        return Ok(Some((i, value)));
    }
    Ok(None)
}

/// Pop up to `count` elements from the first of `keys` holding a list.
fn pop_first_many(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    end: End,
    count: usize,
) -> Result<Option<(usize, Vec<Bytes>)>, &'static str> {
    let shared = ctx.shared;
    for (i, key) in keys.iter().enumerate() {
        let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
        let Some(len) = list_len(&slot)? else {
            continue;
        };
        let Some((values, removed)) = pop_many(&mut slot, end, count, len) else {
            continue;
        };
        drop(slot);
        notify_popped(ctx, key, end, removed);
        ctx.dirty(values.len() as u64);
        return Ok(Some((i, values)));
    }
    Ok(None)
}

/// Move one element from `from` of `src` to `to` of `dst` (LMOVE and kin).
/// Ok(None) when `src` is missing. Type errors on either key change nothing.
///
/// Runs EXCLUSIVE, so the two keys are locked one after the other. A memcached
/// client (which does not take the gate) could still turn `dst` into a string
/// between the check and the push; then the element goes back where it was.
fn move_element(
    ctx: &mut Ctx<'_>,
    src: &Bytes,
    dst: &Bytes,
    from: End,
    to: End,
) -> Result<Option<Bytes>, &'static str> {
    let shared = ctx.shared;
    let db = ctx.session.db();
    let now = unix_ms();
    let mut source = shared.store.slot(db, src, now);
    if list_len(&source)?.is_none() {
        return Ok(None);
    }
    if src == dst {
        // Rotate in place: same key, same charge, TTL kept.
        let value = update_list(&mut source, |l| {
            let v = from.pop(l);
            if let Some(v) = &v {
                to.push(l, v.clone());
            }
            (v, 0)
        })
        .flatten();
        drop(source);
        let Some(value) = value else { return Ok(None) };
        ctx.notify(EventClass::LIST, to.push_event(), dst);
        ctx.notify(EventClass::LIST, from.pop_event(), src);
        shared.blocking.signal_ready(db, dst);
        return Ok(Some(value));
    }
    drop(source);
    // A destination of the wrong type fails the command before anything moves.
    list_len(&shared.store.slot(db, dst, now))?;
    let popped = {
        let mut source = shared.store.slot(db, src, now);
        match list_len(&source)? {
            Some(len) => pop_one(&mut source, from, len),
            None => None,
        }
    };
    let Some((value, removed)) = popped else {
        return Ok(None);
    };
    let mut target = shared.store.slot(db, dst, now);
    match list_len(&target) {
        Ok(None) => {
            target.insert(Value::List(VecDeque::from([value.clone()])), 0, 0);
        }
        Ok(Some(_)) => {
            update_list(&mut target, |l| {
                to.push(l, value.clone());
                ((), element_charge(value.len()))
            });
        }
        Err(_) => {
            drop(target);
            let _ = push(ctx, src, from, std::slice::from_ref(&value), false);
            return Err(error::WRONGTYPE);
        }
    }
    drop(target);
    ctx.notify(EventClass::LIST, to.push_event(), dst);
    notify_popped(ctx, src, from, removed);
    shared.blocking.signal_ready(db, dst);
    Ok(Some(value))
}

// ---------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------

/// LPUSH key element [element ...]
fn lpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    push_command(ctx, args, End::Left, false)
}

/// RPUSH key element [element ...]
fn rpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    push_command(ctx, args, End::Right, false)
}

/// LPUSHX key element [element ...]
fn lpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    push_command(ctx, args, End::Left, true)
}

/// RPUSHX key element [element ...]
fn rpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    push_command(ctx, args, End::Right, true)
}

fn push_command(ctx: &mut Ctx<'_>, args: &[Bytes], end: End, only_existing: bool) -> CommandResult {
    let len = push(ctx, &args[1], end, &args[2..], only_existing)?;
    ctx.reply.int(len as i64);
    Ok(())
}

/// LPOP key [count]
fn lpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    pop_command(ctx, args, End::Left)
}

/// RPOP key [count]
fn rpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    pop_command(ctx, args, End::Right)
}

/// Without a count: one element or a null bulk. With one: an array of up to
/// `count` elements, a null array when the key is missing, an empty array for 0.
fn pop_command(ctx: &mut Ctx<'_>, args: &[Bytes], end: End) -> CommandResult {
    if args.len() > 3 {
        let name = if end == End::Left { "lpop" } else { "rpop" };
        return Err(error::wrong_arity(name).into());
    }
    let count = match args.get(2) {
        None => None,
        Some(arg) => {
            let n = int_in(arg, 0, i64::MAX, error::NOT_POSITIVE)?;
            Some(usize::try_from(n).unwrap_or(usize::MAX))
        }
    };
    let key = &args[1];
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let len = match (list_len(&slot)?, count) {
        (None, None) => {
            ctx.reply.null();
            return Ok(());
        }
        (None, Some(_)) => {
            ctx.reply.null_array();
            return Ok(());
        }
        (Some(_), Some(0)) => {
            ctx.reply.array(0);
            return Ok(());
        }
        (Some(len), _) => len,
    };
    match count {
        None => {
            let popped = pop_one(&mut slot, end, len);
            drop(slot);
            match popped {
                Some((value, removed)) => {
                    ctx.reply.bulk(&value);
                    notify_popped(ctx, key, end, removed);
                }
                None => ctx.reply.null(),
            }
        }
        Some(count) => {
            let popped = pop_many(&mut slot, end, count, len);
            drop(slot);
            match popped {
                Some((values, removed)) => {
                    reply_elements(ctx, &values);
                    notify_popped(ctx, key, end, removed);
                    ctx.dirty(values.len() as u64);
                }
                None => ctx.reply.null_array(),
            }
        }
    }
    Ok(())
}

/// LLEN key
fn llen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), &args[1], unix_ms());
    let found = match slot.get().map(|e| e.value()) {
        None => Ok(0),
        Some(ValueRef::List(l)) => Ok(l.len()),
        Some(_) => Err(error::WRONGTYPE),
    };
    let hit = slot.exists();
    drop(slot);
    ctx.count_lookup(hit);
    match found {
        Ok(n) => ctx.reply.int(n as i64),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// LRANGE key start stop
fn lrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (start, stop) = match (int_arg(&args[2]), int_arg(&args[3])) {
        (Ok(start), Ok(stop)) => (start, stop),
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), &args[1], unix_ms());
    let hit = slot.exists();
    // Elements are written straight from the list, under the shard lock.
    match slot.get().map(|e| e.value()) {
        None => ctx.reply.array(0),
        Some(ValueRef::List(l)) => match clamp_range(start, stop, l.len()) {
            None => ctx.reply.array(0),
            Some((first, last)) => {
                ctx.reply.array(last - first + 1);
                for e in l.range(first..=last) {
                    ctx.reply.bulk(e);
                }
            }
        },
        Some(_) => return Err(error::WRONGTYPE.into()),
    }
    drop(slot);
    ctx.count_lookup(hit);
    Ok(())
}

/// LINDEX key index
///
/// As Redis, the key is looked up before the index is parsed: a missing key
/// answers null and a string WRONGTYPE whatever the index says.
fn lindex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), &args[1], unix_ms());
    let hit = slot.exists();
    match slot.get().map(|e| e.value()) {
        None => ctx.reply.null(),
        Some(ValueRef::List(l)) => match int_arg(&args[2]) {
            Ok(index) => match position(index, l.len()).and_then(|i| l.get(i)) {
                Some(v) => ctx.reply.bulk(v),
                None => ctx.reply.null(),
            },
            Err(e) => return Err(e.into()),
        },
        Some(_) => return Err(error::WRONGTYPE.into()),
    }
    drop(slot);
    ctx.count_lookup(hit);
    Ok(())
}

/// LSET key index element
///
/// Key checks (`no such key`, WRONGTYPE) come before the index is parsed, as in Redis.
fn lset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (key, element) = (&args[1], &args[3]);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let found = match slot.peek().map(|e| e.value()) {
        None => Err(error::NO_SUCH_KEY),
        Some(ValueRef::List(l)) => int_arg(&args[2]).and_then(|index| {
            position(index, l.len())
                .map(|at| (at, l[at].len()))
                .ok_or(error::INDEX_OUT_OF_RANGE)
        }),
        Some(_) => Err(error::WRONGTYPE),
    };
    let (at, old_len) = found?;
    update_list(&mut slot, |l| {
        if let Some(v) = l.get_mut(at) {
            *v = Bytes::copy_from_slice(element);
        }
        ((), element.len() as isize - old_len as isize)
    });
    drop(slot);
    ctx.reply.ok();
    ctx.notify(EventClass::LIST, "lset", key);
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element
fn linsert(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let after = if args[2].eq_ignore_ascii_case(b"after") {
        true
    } else if args[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(error::SYNTAX.into());
    };
    let (key, pivot, element) = (&args[1], &args[3], &args[4]);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let at = match slot.peek().map(|e| e.value()) {
        None => {
            ctx.reply.int(0);
            return Ok(());
        }
        Some(ValueRef::List(l)) => l.iter().position(|e| e == pivot),
        Some(_) => return Err(error::WRONGTYPE.into()),
    };
    // No pivot: nothing changes (and a WATCH on the key stays valid).
    let Some(at) = at else {
        ctx.reply.int(-1);
        return Ok(());
    };
    let len = update_list(&mut slot, |l| {
        l.insert(at + after as usize, Bytes::copy_from_slice(element));
        (l.len(), element_charge(element.len()))
    })
    .unwrap_or(0);
    drop(slot);
    ctx.reply.int(len as i64);
    ctx.notify(EventClass::LIST, "linsert", key);
    ctx.shared.blocking.signal_ready(ctx.session.db(), key);
    Ok(())
}

/// LREM key count element
///
/// count > 0: the first `count` matches from the head; < 0: from the tail; 0: all.
fn lrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let count = int_arg(&args[2])?;
    let (key, element) = (&args[1], &args[3]);
    let limit = match count.unsigned_abs() {
        0 => usize::MAX,
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let (matches, len) = match slot.peek().map(|e| e.value()) {
        None => {
            ctx.reply.int(0);
            return Ok(());
        }
        Some(ValueRef::List(l)) => (l.iter().filter(|e| *e == element).count(), l.len()),
        Some(_) => return Err(error::WRONGTYPE.into()),
    };
    let removed = matches.min(limit);
    if removed == 0 {
        ctx.reply.int(0);
        return Ok(());
    }
    let emptied = removed == len;
    if emptied {
        slot.remove();
    } else {
        let delta = -(removed as isize) * element_charge(element.len());
        update_list(&mut slot, |l| {
            let mut left = removed;
            let mut keep = |e: &Bytes| {
                if left > 0 && e == element {
                    left -= 1;
                    false
                } else {
                    true
                }
            };
            if count >= 0 {
                l.retain(|e| keep(e));
            } else {
                // Matches nearest the tail go first.
                l.make_contiguous().reverse();
                l.retain(|e| keep(e));
                l.make_contiguous().reverse();
            }
            ((), delta)
        });
    }
    drop(slot);
    ctx.reply.int(removed as i64);
    ctx.dirty(removed as u64);
    ctx.notify(EventClass::LIST, "lrem", key);
    if emptied {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
    Ok(())
}

/// LTRIM key start stop
fn ltrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (start, stop) = match (int_arg(&args[2]), int_arg(&args[3])) {
        (Ok(start), Ok(stop)) => (start, stop),
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let key = &args[1];
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let keep = match list_len(&slot) {
        Ok(None) => {
            ctx.reply.ok();
            return Ok(());
        }
        Ok(Some(len)) => clamp_range(start, stop, len),
        Err(e) => return Err(e.into()),
    };
    let emptied = keep.is_none();
    // Redis counts the elements trimmed from both ends.
    let len = list_len(&slot).ok().flatten().unwrap_or(0);
    ctx.dirty(keep.map_or(len, |(first, last)| len - (last + 1 - first)) as u64);
    match keep {
        None => {
            slot.remove();
        }
        // Even a trim that removes nothing counts as a change (as Redis: WATCH fails).
        Some((first, last)) => {
            update_list(&mut slot, |l| {
                let dropped =
                    elements_charge(l.range(last + 1..)) + elements_charge(l.range(..first));
                l.truncate(last + 1);
                l.drain(..first);
                ((), -dropped)
            });
        }
    }
    drop(slot);
    ctx.reply.ok();
    ctx.notify(EventClass::LIST, "ltrim", key);
    if emptied {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
///
/// RANK n: start from the n-th match (negative: from the tail). COUNT n: an
/// array of up to n positions (0 = all). MAXLEN n: compare at most n elements.
fn lpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (rank, count, maxlen) = parse_lpos(&args[3..])?;
    let element = &args[2];
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), &args[1], unix_ms());
    let hit = slot.exists();
    let found = match slot.get().map(|e| e.value()) {
        None => Ok(Vec::new()),
        Some(ValueRef::List(l)) => {
            let len = l.len();
            let scan = if maxlen == 0 { len } else { maxlen.min(len) };
            // Matches before the rank-th are passed over.
            let skip = usize::try_from(rank.unsigned_abs() - 1).unwrap_or(usize::MAX);
            let wanted = match count {
                None => 1,
                Some(0) => usize::MAX,
                Some(n) => n,
            };
            let hits = |(i, e): (usize, &Bytes)| (e == element).then_some(i);
            let positions: Vec<usize> = if rank > 0 {
                let it = l.iter().take(scan).enumerate().filter_map(hits);
                it.skip(skip).take(wanted).collect()
            } else {
                let it = l.iter().rev().take(scan).enumerate().filter_map(hits);
                it.skip(skip).take(wanted).map(|i| len - 1 - i).collect()
            };
            Ok(positions)
        }
        Some(_) => Err(error::WRONGTYPE),
    };
    drop(slot);
    ctx.count_lookup(hit);
    match (found, count) {
        (Err(e), _) => return Err(e.into()),
        (Ok(positions), Some(_)) => {
            ctx.reply.array(positions.len());
            for p in positions {
                ctx.reply.int(p as i64);
            }
        }
        (Ok(positions), None) => match positions.first() {
            Some(&p) => ctx.reply.int(p as i64),
            None => ctx.reply.null(),
        },
    }
    Ok(())
}

/// LPOS options: (rank, count, maxlen). Errors as Redis, in argument order.
fn parse_lpos(options: &[Bytes]) -> Result<(i64, Option<usize>, usize), &'static str> {
    let (mut rank, mut count, mut maxlen) = (1, None, 0);
    let mut i = 0;
    while i < options.len() {
        let (opt, more) = (&options[i], i + 1 < options.len());
        if opt.eq_ignore_ascii_case(b"rank") && more {
            i += 1;
            rank = int_arg(&options[i])?;
            if rank == i64::MIN {
                return Err(error::RANK_OUT_OF_RANGE);
            }
            if rank == 0 {
                return Err(error::RANK_ZERO);
            }
        } else if opt.eq_ignore_ascii_case(b"count") && more {
            i += 1;
            let n = int_in(&options[i], 0, i64::MAX, error::COUNT_NEGATIVE)?;
            count = Some(usize::try_from(n).unwrap_or(usize::MAX));
        } else if opt.eq_ignore_ascii_case(b"maxlen") && more {
            i += 1;
            let n = int_in(&options[i], 0, i64::MAX, error::MAXLEN_NEGATIVE)?;
            maxlen = usize::try_from(n).unwrap_or(usize::MAX);
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    Ok((rank, count, maxlen))
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (from, to) = (End::parse(&args[3])?, End::parse(&args[4])?);
    move_or_null(ctx, args, from, to, false)?;
    Ok(())
}

/// RPOPLPUSH source destination
fn rpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    move_or_null(ctx, args, End::Right, End::Left, false)?;
    Ok(())
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> BlockingResult {
    let (from, to) = (End::parse(&args[3])?, End::parse(&args[4])?);
    let timeout = parse_timeout(&args[5])?;
    if move_or_null(ctx, args, from, to, true)? {
        return Ok(Blocking::Done);
    }
    ctx.block_on(&args[1..2], timeout, TimeoutReply::NullBulk)
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> BlockingResult {
    let timeout = parse_timeout(&args[3])?;
    if move_or_null(ctx, args, End::Right, End::Left, true)? {
        return Ok(Blocking::Done);
    }
    ctx.block_on(&args[1..2], timeout, TimeoutReply::NullBulk)
}

/// Move an element from `args[1]` to `args[2]` and answer it (LMOVE and
/// friends). With the source empty: false, having answered null unless the
/// caller `blocks` (it then waits, or answers its own timeout reply).
fn move_or_null(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    from: End,
    to: End,
    blocks: bool,
) -> Result<bool, CommandError> {
    match move_element(ctx, &args[1], &args[2], from, to)? {
        Some(value) => {
            ctx.reply.bulk(&value);
            Ok(true)
        }
        None => {
            if !blocks {
                ctx.reply.null();
            }
            Ok(false)
        }
    }
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (keys, end, count) = parse_mpop(&args[1..])?;
    if !reply_popped_many(ctx, keys, end, count)? {
        ctx.reply.null_array();
    }
    Ok(())
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
///
/// The timeout is checked after the other arguments, as Redis does.
fn blmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> BlockingResult {
    let (keys, end, count) = parse_mpop(&args[2..])?;
    let timeout = parse_timeout(&args[1])?;
    let serving = ctx.serving().cloned();
    let from = serving.as_ref().map_or(keys, std::slice::from_ref);
    if reply_popped_many(ctx, from, end, count)? {
        return Ok(Blocking::Done);
    }
    ctx.block_on(keys, timeout, TimeoutReply::NullArray)
}

/// `[key, [element ...]]` from the first non-empty list; false (nothing
/// answered) when every list is empty.
fn reply_popped_many(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    end: End,
    count: usize,
) -> Result<bool, CommandError> {
    let Some((i, values)) = pop_first_many(ctx, keys, end, count)? else {
        return Ok(false);
    };
    ctx.reply.array(2);
    ctx.reply.bulk(&keys[i]);
    reply_elements(ctx, &values);
    Ok(true)
}

/// BLPOP key [key ...] timeout
fn blpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> BlockingResult {
    blocking_pop(ctx, args, End::Left)
}

/// BRPOP key [key ...] timeout
fn brpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> BlockingResult {
    blocking_pop(ctx, args, End::Right)
}

/// `[key, element]` from the first non-empty list, else block on every key.
fn blocking_pop(ctx: &mut Ctx<'_>, args: &[Bytes], end: End) -> BlockingResult {
    let keys = &args[1..args.len() - 1];
    let timeout = parse_timeout(&args[args.len() - 1])?;
    let serving = ctx.serving().cloned();
    let from = serving.as_ref().map_or(keys, std::slice::from_ref);
    let Some((i, value)) = pop_first(ctx, from, end)? else {
        return ctx.block_on(keys, timeout, TimeoutReply::NullArray);
    };
    ctx.reply.array(2);
    ctx.reply.bulk(&from[i]);
    ctx.reply.bulk(&value);
    Ok(Blocking::Done)
}

// ---------------------------------------------------------------------------
// Serving blocked clients (Redis `handleClientsBlockedOnKeys`; see crate::blocking)
// ---------------------------------------------------------------------------

/// Register the wait of a blocking command that found no data, while the
/// dispatcher still holds the gate. A push that ran beside the handler may
/// have missed the new waiter: keys that hold a list now are made ready.
pub(crate) fn register_waiter(
    shared: &Shared,
    session: &Session,
    reply: &Reply,
    id: CommandId,
    args: &[Bytes],
    mut request: BlockRequest,
) -> Arc<Waiter> {
    let args = request.args.take().unwrap_or_else(|| args.to_vec());
    let waiter = Waiter::new(
        session.client.clone(),
        id.0,
        args,
        request,
        reply.protocol(),
    )
    .arrived_at(session.read_at);
    let waiter = shared.blocking.block(Arc::new(waiter));
    let db = waiter.request.db;
    let wanted = wanted_type(shared, &waiter);
    for key in &waiter.request.keys {
        if key_type(shared, db, key) == Some(wanted) {
            shared.blocking.signal_ready(db, key);
        }
    }
    waiter
}

/// The type a blocked command takes data from (TYPE's name): "zset" for the
/// sorted-set family's BZPOPMIN/BZPOPMAX/BZMPOP, "stream" for XREAD and
/// XREADGROUP, "list" for this family's.
fn wanted_type(shared: &Shared, waiter: &Waiter) -> &'static str {
    let command = shared.commands.entry(CommandId(waiter.command)).command;
    if command.group == super::zsets::GROUP {
        "zset"
    } else if command.group == super::streams::GROUP {
        "stream"
    } else {
        "list"
    }
}

/// XREADGROUP waiters are run whatever the key holds: a key that no longer
/// holds a stream answers them with an error (Redis's
/// unblockDeletedStreamReadgroupClients).
fn runs_on_any_type(shared: &Shared, waiter: &Waiter) -> bool {
    shared.commands.entry(CommandId(waiter.command)).full_name == "xreadgroup"
}

/// The type of the value at `key` in `db` (expired keys have none).
fn key_type(shared: &Shared, db: usize, key: &[u8]) -> Option<&'static str> {
    let slot = shared.store.slot(db, key, unix_ms());
    slot.peek().map(|e| e.value().type_name())
}

/// Serve the clients blocked on every key made ready, after the command that
/// made them ready has ended; with every other command held off, so each
/// client is served as if right after it. Keys a served move makes ready are
/// served in the same round. The caller holds no gate: the connection loop
/// calls it after each command that made keys ready, before its reply is
/// written (so INFO blocked_clients is exact once the push has answered).
pub(crate) fn serve_ready(shared: &Shared) {
    let _gate = shared.exec_gate.write();
    while let Some(keys) = shared.blocking.take_ready() {
        for (db, key) in keys {
            serve_key(shared, db, &key);
        }
    }
}

/// Serve the clients blocked on `key`, oldest first, while it holds data.
/// A key that is missing serves nobody; one of another type than a client
/// waits for (a list for BZPOPMIN, a sorted set for BLPOP) passes it over:
/// its clients stay blocked (Redis 7.0).
///
/// Stream waiters each wait for entries after their own ID (or group), so
/// one that finds none does not stop the others; a key that is missing or
/// holds another type still answers XREADGROUP waiters (with an error).
fn serve_key(shared: &Shared, db: usize, key: &Bytes) {
    for waiter in shared.blocking.waiters(db, key) {
        let wanted = wanted_type(shared, &waiter);
        let held = key_type(shared, db, key);
        if held != Some(wanted) && !runs_on_any_type(shared, &waiter) {
            continue;
        }
        if !shared.blocking.claim(&waiter) {
            continue;
        }
        // The command runs again as the waiter: its client, database, protocol.
        let mut session = Session::new(waiter.client.clone(), true);
        let mut reply = Reply::new(waiter.protocol);
        let id = CommandId(waiter.command);
        match execute_serving(shared, &mut session, &mut reply, id, &waiter.args, key) {
            None => {
                let bytes = reply.as_bytes().to_vec();
                shared
                    .blocking
                    .served(&waiter, bytes, session.errors_replied);
            }
            // No data after all: still blocked, and nobody after it is
            // served (but the next stream waiter may want other entries).
            Some(_) => {
                shared.blocking.release(&waiter);
                if wanted != "stream" {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis_index_rules() {
        assert_eq!(clamp_range(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(3, 5, 3), None);
        assert_eq!(clamp_range(0, -4, 3), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(clamp_range(i64::MAX, i64::MIN, 3), None);
        assert_eq!(clamp_range(0, 0, 0), None);
        assert_eq!(position(-1, 3), Some(2));
        assert_eq!(position(-4, 3), None);
        assert_eq!(position(3, 3), None);
        assert_eq!(position(i64::MIN, 3), None);
    }

    #[test]
    fn timeouts_parse_like_redis() {
        assert_eq!(parse_timeout(b"0"), Ok(None));
        assert_eq!(parse_timeout(b"-0"), Ok(None));
        assert_eq!(parse_timeout(b"1.5"), Ok(Some(Duration::from_millis(1500))));
        assert_eq!(parse_timeout(b"0.0001"), Ok(Some(Duration::from_millis(1))));
        assert_eq!(parse_timeout(b"1e1"), Ok(Some(Duration::from_secs(10))));
        assert_eq!(parse_timeout(b"-1"), Err(error::TIMEOUT_NEGATIVE));
        assert_eq!(parse_timeout(b"-inf"), Err(error::TIMEOUT_NEGATIVE));
        assert_eq!(parse_timeout(b"inf"), Err(error::TIMEOUT_OUT_OF_RANGE));
        assert_eq!(parse_timeout(b"1e300"), Err(error::TIMEOUT_OUT_OF_RANGE));
        for bad in [&b"abc"[..], b"", b" 1", b"1 ", b"nan", b"\xff"] {
            assert_eq!(parse_timeout(bad), Err(error::TIMEOUT_NOT_FLOAT), "{bad:?}");
        }
    }

    #[test]
    fn element_overhead_matches_the_store() {
        let one = Value::List(VecDeque::from([Bytes::from_static(b"abc")]));
        assert_eq!(element_charge(3), one.charged_bytes() as isize);
    }
}
