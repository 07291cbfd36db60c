//! Set commands: membership, random members and pops, moves, the algebra of
//! several sets (SINTER, SUNION, SDIFF and their STORE forms, SINTERCARD) and
//! SSCAN. Semantics, replies and errors as Redis 7.0's `t_set.c`.
//!
//! A set is a `Value::Set(SetValue)`: an insertion-ordered `IndexSet` plus the
//! encoding Redis would report (`store::collections`). Rules every handler keeps:
//! - Encoding as Redis 7.0: a set is an intset while every member is an integer
//!   and it has at most `set-max-intset-entries` members (read from the config
//!   on every change), then a hash table for good (`SetValue::add`). An intset
//!   lists its members sorted by value (`SetValue::ordered`).
//! - A set is never empty: the command that removes the last member removes
//!   the key (and publishes the generic "del" event after its own).
//! - A command that changes nothing does not touch the entry, so its CAS, and
//!   so a WATCH on it, stay as they were (Redis signals only real changes).
//! - Commands over several keys lock all their shards at once
//!   (`Store::lock_keys`, ascending shard order) and look at one key at a
//!   time through it: they are atomic without holding every other command off.
//!   Each key's type is checked before anything changes.
//! - Changes report the difference in charged bytes (`update_with_charge`).

use bytes::Bytes;

use super::args::parse_i64;
use super::keys::parse_cursor;
use super::{Command, Ctx, Shared};
use crate::error;
use crate::error::{CommandError, CommandResult};
use crate::flags;
use crate::glob::glob_match;
use crate::keyspace_events::EventClass;
use crate::store::compact_bytes::CompactBytes;
use crate::store::{
    unix_ms, LockedKeys, SetValue, Slot, Value, ValueRef, ENTRY_OVERHEAD_BYTES,
    SET_MEMBER_OVERHEAD_BYTES,
};

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "set";

#[rustfmt::skip]
pub(crate) static COMMANDS: &[Command] = &[
    Command::row(GROUP, "sadd", -3, flags![WRITE, DENYOOM, FAST], "Add one or more members to a set", sadd).keys(1, 1, 1),
    Command::row(GROUP, "srem", -3, flags![WRITE, FAST], "Remove one or more members from a set", srem).keys(1, 1, 1),
    Command::row(GROUP, "scard", 2, flags![READONLY, FAST], "Get the number of members in a set", scard).keys(1, 1, 1),
    Command::row(GROUP, "sismember", 3, flags![READONLY, FAST], "Determine if a given value is a member of a set", sismember).keys(1, 1, 1),
    Command::row(GROUP, "smismember", -3, flags![READONLY, FAST], "Returns the membership associated with the given elements for a set", smismember).keys(1, 1, 1).since("6.2.0"),
    Command::row(GROUP, "smembers", 2, flags![READONLY], "Get all the members in a set", smembers).keys(1, 1, 1),
    Command::row(GROUP, "srandmember", -2, flags![READONLY], "Get one or multiple random members from a set", srandmember).keys(1, 1, 1),
    Command::row(GROUP, "spop", -2, flags![WRITE, FAST], "Remove and return one or multiple random members from a set", spop).keys(1, 1, 1),
    Command::row(GROUP, "smove", 4, flags![WRITE, FAST], "Move a member from one set to another", smove).keys(1, 2, 1),
    Command::row(GROUP, "sinter", -2, flags![READONLY], "Intersect multiple sets", sinter).keys(1, -1, 1),
    // SINTERCARD has movable keys (after numkeys): no fixed positions.
    Command::row(GROUP, "sintercard", -3, flags![READONLY], "Intersect multiple sets and return the cardinality of the result", sintercard).since("7.0.0"),
    Command::row(GROUP, "sinterstore", -3, flags![WRITE, DENYOOM], "Intersect multiple sets and store the resulting set in a key", sinterstore).keys(1, -1, 1),
    Command::row(GROUP, "sunion", -2, flags![READONLY], "Add multiple sets", sunion).keys(1, -1, 1),
    Command::row(GROUP, "sunionstore", -3, flags![WRITE, DENYOOM], "Add multiple sets and store the resulting set in a key", sunionstore).keys(1, -1, 1),
    Command::row(GROUP, "sdiff", -2, flags![READONLY], "Subtract multiple sets", sdiff).keys(1, -1, 1),
    Command::row(GROUP, "sdiffstore", -3, flags![WRITE, DENYOOM], "Subtract multiple sets and store the resulting set in a key", sdiffstore).keys(1, -1, 1),
    Command::row(GROUP, "sscan", -3, flags![READONLY], "Incrementally iterate Set elements", sscan).keys(1, 1, 1).since("2.8.0"),
];

/// Largest reply SRANDMEMBER with a negative count may build, in bytes. Redis
/// writes |count| members whatever it costs (a count near -2^63 runs it out of
/// memory); herald refuses such a count with "value is out of range" instead.
const MAX_RANDOM_REPLY_BYTES: u64 = 1 << 30;

/// SPOP rebuilds the set from what it leaves when that is at most a fifth of
/// what it pops (Redis SPOP_MOVE_STRATEGY_MUL): the rebuilt set takes the
/// encoding its members call for (an intset again, maybe).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

// ---------------------------------------------------------------------------
// Lookups and changes
// ---------------------------------------------------------------------------

/// The set at `slot`: None when the key is missing, WRONGTYPE when it holds
/// something else.
fn set_at<'s>(slot: &'s Slot<'_>) -> Result<Option<&'s SetValue>, &'static str> {
    match slot.peek().map(|e| e.value()) {
        None => Ok(None),
        Some(ValueRef::Set(s)) => Ok(Some(s)),
        Some(_) => Err(error::WRONGTYPE),
    }
}

/// Apply `f` to the set at `slot`; `f` returns its result and the change in
/// charged bytes. None when the key holds no set (the caller checked the type).
fn update_set<R>(slot: &mut Slot<'_>, f: impl FnOnce(&mut SetValue) -> (R, isize)) -> Option<R> {
    slot.update_with_charge(|e| match e.set_mut() {
        Some(s) => {
            let (r, delta) = f(s);
            (Some(r), delta)
        }
        None => (None, 0),
    })
    .flatten()
}

/// `set-max-intset-entries`, read once per command.
fn max_intset_entries(shared: &Shared) -> u64 {
    shared.config.read().set_max_intset_entries()
}

/// Write `members` as a set reply (`~` in RESP3, an array in RESP2).
fn reply_set_of<'a, M: AsRef<[u8]> + 'a>(
    ctx: &mut Ctx<'_>,
    members: impl ExactSizeIterator<Item = &'a M>,
) {
    ctx.reply.set(members.len());
    for m in members {
        ctx.reply.bulk(m.as_ref());
    }
}

/// An integer in `min..=max`; `msg` for anything else, not-an-integer
/// included (Redis `getRangeLongFromObjectOrReply` with a message).
fn int_in(arg: &[u8], min: i64, max: i64, msg: &'static str) -> Result<i64, &'static str> {
    parse_i64(arg)
        .filter(|n| (min..=max).contains(n))
        .ok_or(msg)
}

/// A count that must be >= 0 (`getPositiveLongFromObjectOrReply`).
fn positive_count(arg: &[u8]) -> Result<usize, &'static str> {
    let n = parse_i64(arg).ok_or(error::NOT_INTEGER)?;
    if n < 0 {
        return Err(error::NOT_POSITIVE);
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

// ---------------------------------------------------------------------------
// Single-key commands
// ---------------------------------------------------------------------------

/// SADD key member [member ...]
fn sadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (key, members) = (&args[1], &args[2..]);
    let max = max_intset_entries(ctx.shared);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, unix_ms());
    let added = match set_at(&slot)? {
        None => {
            // `insert` copies the members out of the request buffer.
            let set = SetValue::from_members(members.iter().cloned(), max);
            let added = set.len();
            slot.insert(Value::Set(set), 0, 0);
            added
        }
        Some(set) => {
            let new: Vec<&Bytes> = members.iter().filter(|m| !set.contains(m)).collect();
            if new.is_empty() {
                0
            } else {
                update_set(&mut slot, |s| {
                    let (mut added, mut delta) = (0, 0);
                    for m in new {
                        let (is_new, d) = s.add(Bytes::copy_from_slice(m), max);
                        added += is_new as usize;
                        delta += d;
                    }
                    (added, delta)
                })
                .unwrap_or(0)
            }
        }
    };
    drop(slot);
    if added > 0 {
        ctx.dirty(added as u64);
        ctx.notify(EventClass::SET, "sadd", key);
    }
    ctx.reply.int(added as i64);
    Ok(())
}

/// SREM key member [member ...]
fn srem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (key, members) = (&args[1], &args[2..]);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, unix_ms());
    let any = match set_at(&slot)? {
        None => false,
        Some(set) => members.iter().any(|m| set.contains(m)),
    };
    if !any {
        ctx.reply.int(0);
        return Ok(());
    }
    let (removed, left) = update_set(&mut slot, |s| {
        let (mut removed, mut delta) = (0, 0);
        for m in members {
            if let Some(d) = s.remove(m) {
                removed += 1;
                delta += d;
            }
        }
        ((removed, s.len()), delta)
    })
    .unwrap_or((0, 1));
    let emptied = left == 0;
    if emptied {
        slot.remove();
    }
    drop(slot);
    ctx.dirty(removed as u64);
    ctx.notify(EventClass::SET, "srem", key);
    if emptied {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
    ctx.reply.int(removed);
    Ok(())
}

/// SCARD key
fn scard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), &args[1], unix_ms());
    let hit = slot.get().is_some();
    let len = set_at(&slot).map(|s| s.map_or(0, SetValue::len));
    drop(slot);
    ctx.count_lookup(hit);
    ctx.reply.int(len? as i64);
    Ok(())
}

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), &args[1], unix_ms());
    let hit = slot.get().is_some();
    let found = set_at(&slot).map(|s| s.is_some_and(|s| s.contains(&args[2])));
    drop(slot);
    ctx.count_lookup(hit);
    ctx.reply.int(found? as i64);
    Ok(())
}

/// SMISMEMBER key member [member ...]: one 0/1 per member (a missing key is empty).
fn smismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), &args[1], unix_ms());
    let hit = slot.get().is_some();
    let set = match set_at(&slot) {
        Ok(set) => set,
        Err(e) => {
            drop(slot);
            ctx.count_lookup(hit);
            return Err(e.into());
        }
    };
    ctx.reply.array(args.len() - 2);
    for m in &args[2..] {
        ctx.reply.int(set.is_some_and(|s| s.contains(m)) as i64);
    }
    drop(slot);
    ctx.count_lookup(hit);
    Ok(())
}

/// SMEMBERS key: a set reply, written straight from the set under its lock.
fn smembers(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), &args[1], unix_ms());
    let hit = slot.get().is_some();
    let result = match set_at(&slot) {
        Ok(None) => {
            ctx.reply.set(0);
            Ok(())
        }
        Ok(Some(set)) => {
            reply_set_of(ctx, set.ordered().into_iter());
            Ok(())
        }
        Err(e) => Err(e.into()),
    };
    drop(slot);
    ctx.count_lookup(hit);
    result
}

/// SRANDMEMBER key [count]
///
/// No count: one member or null. count >= 0: up to `count` distinct members
/// (the whole set when it is no larger). count < 0: |count| members, repeats
/// allowed. An array either way, empty for a missing key.
fn srandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if args.len() > 3 {
        return Err(error::SYNTAX.into());
    }
    let count = match args.get(2) {
        None => None,
        Some(arg) => {
            let n = parse_i64(arg).ok_or(error::NOT_INTEGER)?;
            if n == i64::MIN {
                return Err(error::RANDOM_COUNT_OUT_OF_RANGE.into());
            }
            Some(n)
        }
    };
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), &args[1], unix_ms());
    let hit = slot.get().is_some();
    // The members' bytes, to estimate the reply of a negative count.
    let member_bytes = slot.peek().map_or(0, |e| {
        e.charged()
            .saturating_sub(e.key().len() + ENTRY_OVERHEAD_BYTES)
    });
    // A set is never empty; were one found, it would answer as a missing key.
    let found = set_at(&slot).map(|s| s.filter(|s| !s.is_empty()));
    let result = match (found, count) {
        (Err(e), _) => Err(e),
        (Ok(None), None) => {
            ctx.reply.null();
            Ok(())
        }
        (Ok(None), Some(_)) => {
            ctx.reply.array(0);
            Ok(())
        }
        (Ok(Some(set)), None) => {
            let i = fastrand::usize(..set.len());
            if let Some(m) = set.members.get_index(i) {
                ctx.reply.bulk(m);
            }
            Ok(())
        }
        (Ok(Some(set)), Some(n)) => reply_random_members(ctx, set, n, member_bytes),
    };
    drop(slot);
    ctx.count_lookup(hit);
    result.map_err(CommandError::from)
}

/// SRANDMEMBER's reply for a count `n` from a non-empty `set` whose members
/// are charged `member_bytes` (to estimate the reply of a negative count).
fn reply_random_members(
    ctx: &mut Ctx<'_>,
    set: &SetValue,
    n: i64,
    member_bytes: usize,
) -> Result<(), &'static str> {
    let len = set.len();
    let wanted = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
    if n < 0 {
        // Each member's data plus its bulk header and CRLFs (about 8 bytes).
        let data = (member_bytes / len).saturating_sub(SET_MEMBER_OVERHEAD_BYTES);
        let per_member = data as u64 + 8;
        if (wanted as u64).saturating_mul(per_member) > MAX_RANDOM_REPLY_BYTES {
            return Err(error::VALUE_OUT_OF_RANGE);
        }
        ctx.reply.array(wanted);
        for _ in 0..wanted {
            if let Some(m) = set.members.get_index(fastrand::usize(..len)) {
                ctx.reply.bulk(m);
            }
        }
        return Ok(());
    }
    if wanted >= len {
        ctx.reply.array(len);
        for m in set.ordered() {
            ctx.reply.bulk(m);
        }
        return Ok(());
    }
    let picked = sample_indexes(len, wanted);
    ctx.reply.array(picked.len());
    for i in picked {
        if let Some(m) = set.members.get_index(i) {
            ctx.reply.bulk(m);
        }
    }
    Ok(())
}

/// `k` distinct indexes of `0..len`, chosen uniformly (k < len), in random order.
fn sample_indexes(len: usize, k: usize) -> Vec<usize> {
    if k.saturating_mul(3) > len {
        // Many of them: a partial Fisher-Yates shuffle of every index.
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..k {
            let j = fastrand::usize(i..len);
            all.swap(i, j);
        }
        all.truncate(k);
        all
    } else {
        // Few: draw until k distinct ones came up.
        let mut seen = std::collections::HashSet::with_capacity(k);
        let mut out = Vec::with_capacity(k);
        while out.len() < k {
            let i = fastrand::usize(..len);
            if seen.insert(i) {
                out.push(i);
            }
        }
        out
    }
}

/// SPOP key [count]
///
/// No count: one random member or null. With one: a set reply of up to
/// `count` members (empty for a missing key or 0); popping every member
/// removes the key.
fn spop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if args.len() > 3 {
        return Err(error::SYNTAX.into());
    }
    let count = args.get(2).map(|a| positive_count(a)).transpose()?;
    let key = &args[1];
    let max = max_intset_entries(ctx.shared);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, unix_ms());
    let len = match (set_at(&slot)?, count) {
        (None, None) => {
            ctx.reply.null();
            return Ok(());
        }
        (None, Some(_)) | (Some(_), Some(0)) => {
            ctx.reply.set(0);
            return Ok(());
        }
        // A set is never empty; were one found, it would answer as a missing key.
        (Some(set), _) if set.is_empty() => {
            match count {
                None => ctx.reply.null(),
                Some(_) => ctx.reply.set(0),
            }
            return Ok(());
        }
        (Some(set), _) => set.len(),
    };
    let emptied = count.unwrap_or(1) >= len;
    if emptied {
        let Some(Value::Set(set)) = slot.remove().map(|e| e.into_value()) else {
            return Ok(());
        };
        drop(slot);
        match count {
            None => {
                if let Some(m) = set.members.first() {
                    ctx.reply.bulk(m);
                }
            }
            Some(_) => reply_set_of(ctx, set.ordered().into_iter()),
        }
    } else {
        let wanted = count.unwrap_or(1);
        let popped = update_set(&mut slot, |s| {
            let mut popped = Vec::with_capacity(wanted);
            let mut delta = 0;
            for _ in 0..wanted {
                let i = fastrand::usize(..s.len());
                if let Some((m, d)) = s.remove_index(i) {
                    popped.push(m);
                    delta += d;
                }
            }
            if s.len() * SPOP_MOVE_STRATEGY_MUL <= wanted {
                // Redis builds a new set of what stays: its encoding follows them.
                s.hashtable = !s.would_be_intset(max);
            }
            (popped, delta)
        })
        .unwrap_or_default();
        drop(slot);
        match count {
            None => match popped.first() {
                Some(m) => ctx.reply.bulk(m),
                None => ctx.reply.null(),
            },
            Some(_) => reply_set_of(ctx, popped.iter()),
        }
    }
    ctx.notify(EventClass::SET, "spop", key);
    if emptied {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
    Ok(())
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
///
/// An intset answers in one reply with cursor 0, as Redis's small encodings
/// do. A hash table is walked from its last position down: the cursor is the
/// number of positions still to visit. Removals move the last member into the
/// hole (`SetValue::remove`), and new members go at the end, so a member
/// present for the whole scan always stays among the positions still to
/// visit until it is returned: every such member is returned at least once.
fn sscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let Some(cursor) = parse_cursor(&args[2]) else {
        return Err(error::INVALID_CURSOR.into());
    };
    // As Redis: a missing key or a wrong type answers before the options are checked.
    let options = parse_scan_options(&args[3..]);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), &args[1], unix_ms());
    let hit = slot.get().is_some();
    let found = match set_at(&slot) {
        Ok(None) => Ok(None),
        Ok(Some(set)) => options.map(|(pattern, count)| {
            let keep = |m: &&CompactBytes| pattern.is_none_or(|p| glob_match(p, m));
            if set.is_intset() {
                Some((
                    0,
                    set.ordered()
                        .into_iter()
                        .filter(keep)
                        .map(CompactBytes::to_bytes)
                        .collect(),
                ))
            } else {
                let start = match usize::try_from(cursor) {
                    Ok(0) | Err(_) => set.len(),
                    Ok(c) => c.min(set.len()),
                };
                let end = start.saturating_sub(count);
                let members: Vec<Bytes> = (end..start)
                    .rev()
                    .filter_map(|i| set.members.get_index(i))
                    .filter(keep)
                    .map(CompactBytes::to_bytes)
                    .collect();
                Some((end as u64, members))
            }
        }),
        Err(e) => Err(e),
    };
    drop(slot);
    ctx.count_lookup(hit);
    let (next, members) = found?.unwrap_or_default();
    ctx.reply.array(2);
    ctx.reply.bulk(next.to_string().as_bytes());
    ctx.reply.array(members.len());
    for m in &members {
        ctx.reply.bulk(m);
    }
    Ok(())
}

/// SSCAN's `[MATCH pattern] [COUNT count]`: the pattern (None for `*`) and count.
fn parse_scan_options(options: &[Bytes]) -> Result<(Option<&[u8]>, usize), &'static str> {
    let (mut pattern, mut count) = (None, 10);
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
    Ok((pattern, count))
}

// ---------------------------------------------------------------------------
// SMOVE and the algebra of several sets
// ---------------------------------------------------------------------------

/// SMOVE source destination member
///
/// 1 when `member` moved (or, source = destination, is there), else 0. A
/// missing source answers 0 whatever the destination holds; otherwise either
/// key of another type fails the command before anything changes.
fn smove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    let max = max_intset_entries(ctx.shared);
    let (now, shared) = (unix_ms(), ctx.shared);
    let mut locked = shared.store.lock_keys(ctx.db(), [&src[..], &dst[..]]);
    let in_source = match set_at(&locked.slot(src, now))? {
        None => {
            ctx.reply.int(0);
            return Ok(());
        }
        Some(set) => set.contains(member),
    };
    let in_destination = set_at(&locked.slot(dst, now))?.map(|s| s.contains(member));
    if src == dst || !in_source {
        ctx.reply.int(in_source as i64);
        return Ok(());
    }
    let emptied = {
        let mut source = locked.slot(src, now);
        let left = update_set(&mut source, |s| {
            let delta = s.remove(member).unwrap_or(0);
            (s.len(), delta)
        });
        if left == Some(0) {
            source.remove();
        }
        left == Some(0)
    };
    let added = {
        let mut target = locked.slot(dst, now);
        match in_destination {
            None => {
                let set = SetValue::from_members([member.clone()], max);
                target.insert(Value::Set(set), 0, 0);
                true
            }
            // Already there: the destination is not touched (nor its WATCH).
            Some(true) => false,
            Some(false) => {
                update_set(&mut target, |s| s.add(Bytes::copy_from_slice(member), max));
                true
            }
        }
    };
    drop(locked);
    ctx.notify(EventClass::SET, "srem", src);
    if emptied {
        ctx.notify(EventClass::GENERIC, "del", src);
    }
    if added {
        ctx.notify(EventClass::SET, "sadd", dst);
    }
    ctx.reply.int(1);
    Ok(())
}

/// Which algebra a multi-key command computes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Inter,
    Union,
    Diff,
}

impl SetOp {
    /// The event the STORE form publishes on its destination.
    fn store_event(self) -> &'static str {
        match self {
            SetOp::Inter => "sinterstore",
            SetOp::Union => "sunionstore",
            SetOp::Diff => "sdiffstore",
        }
    }
}

/// The size of each of `keys` (None: missing), each lookup counted as a read.
/// WRONGTYPE if any of them holds another type, wherever it stands.
fn sizes(
    ctx: &Ctx<'_>,
    locked: &mut LockedKeys<'_>,
    keys: &[Bytes],
    now: u64,
) -> Result<Vec<Option<usize>>, &'static str> {
    let mut sizes = Vec::with_capacity(keys.len());
    let mut wrong_type = false;
    for key in keys {
        let mut slot = locked.slot(key, now);
        ctx.count_lookup(slot.get().is_some());
        match set_at(&slot) {
            Ok(s) => sizes.push(s.map(SetValue::len)),
            Err(_) => wrong_type = true,
        }
    }
    if wrong_type {
        return Err(error::WRONGTYPE);
    }
    Ok(sizes)
}

/// The members of the set at `key`, in listing order (an owned copy of the
/// handles: `Bytes` clones share the data); empty when it holds no set.
fn members_of(locked: &mut LockedKeys<'_>, key: &[u8], now: u64) -> Vec<Bytes> {
    let slot = locked.slot(key, now);
    match set_at(&slot) {
        Ok(Some(s)) => s
            .ordered()
            .into_iter()
            .map(CompactBytes::to_bytes)
            .collect(),
        _ => Vec::new(),
    }
}

/// Compute `op` over `keys` (missing keys are empty sets) with their shards
/// locked. The result is built as Redis builds it, so its encoding (and so
/// the order it lists in) is Redis's.
fn compute(
    ctx: &Ctx<'_>,
    locked: &mut LockedKeys<'_>,
    keys: &[Bytes],
    op: SetOp,
    max: u64,
    now: u64,
) -> Result<SetValue, &'static str> {
    let sizes = sizes(ctx, locked, keys, now)?;
    match op {
        SetOp::Inter => {
            if sizes.iter().any(Option::is_none) {
                return Ok(SetValue::default());
            }
            // Walk the smallest set; keep what every other one holds.
            let smallest = (0..keys.len()).min_by_key(|&i| sizes[i]).unwrap_or(0);
            let mut candidates = members_of(locked, &keys[smallest], now);
            for key in keys {
                if candidates.is_empty() {
                    break;
                }
                if *key == keys[smallest] {
                    continue;
                }
                let slot = locked.slot(key, now);
                if let Ok(Some(s)) = set_at(&slot) {
                    candidates.retain(|m| s.contains(m));
                }
            }
            Ok(SetValue::from_members(candidates, max))
        }
        SetOp::Union => {
            let mut out = SetValue::default();
            for key in keys {
                let slot = locked.slot(key, now);
                if let Ok(Some(s)) = set_at(&slot) {
                    for m in s.ordered() {
                        out.add(m.clone(), max);
                    }
                }
            }
            Ok(out)
        }
        SetOp::Diff => {
            let Some(first_len) = sizes[0] else {
                return Ok(SetValue::default());
            };
            if keys[1..].contains(&keys[0]) {
                return Ok(SetValue::default());
            }
            let mut out = SetValue::from_members(members_of(locked, &keys[0], now), u64::MAX);
            let first_would_be_intset = out.would_be_intset(max);
            for key in &keys[1..] {
                if out.is_empty() {
                    break;
                }
                let slot = locked.slot(key, now);
                let Ok(Some(s)) = set_at(&slot) else { continue };
                if s.len() < out.len() {
                    for m in s.members.iter() {
                        out.remove(m);
                    }
                } else {
                    out.members.retain(|m| !s.contains(m));
                }
            }
            // Redis subtracts member by member (result: survivors added to an
            // intset) or, when that is more work than adding the first set
            // whole and removing the others, the second way: the result then
            // has the encoding of the whole first set.
            let others: usize = sizes[1..].iter().flatten().sum();
            let algo_one_work = first_len.saturating_mul(sizes.iter().flatten().count()) / 2;
            let whole_first = algo_one_work > first_len.saturating_add(others);
            out.hashtable = if whole_first {
                !first_would_be_intset
            } else {
                !out.would_be_intset(max)
            };
            Ok(out)
        }
    }
}

/// SINTER / SUNION / SDIFF key [key ...]: the result as a set reply.
fn algebra_reply(ctx: &mut Ctx<'_>, keys: &[Bytes], op: SetOp) -> CommandResult {
    let (now, shared) = (unix_ms(), ctx.shared);
    let max = max_intset_entries(shared);
    let mut locked = shared
        .store
        .lock_keys(ctx.db(), keys.iter().map(|k| &k[..]));
    let result = compute(ctx, &mut locked, keys, op, max, now);
    drop(locked);
    let set = result?;
    reply_set_of(ctx, set.ordered().into_iter());
    Ok(())
}

/// SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...]
///
/// The destination is overwritten whatever it held (its TTL goes too), or
/// deleted when the result is empty. Replies with the result's size.
fn algebra_store(ctx: &mut Ctx<'_>, args: &[Bytes], op: SetOp) -> CommandResult {
    let (dst, keys) = (&args[1], &args[2..]);
    let (now, shared) = (unix_ms(), ctx.shared);
    let max = max_intset_entries(shared);
    let mut locked = shared
        .store
        .lock_keys(ctx.db(), args[1..].iter().map(|k| &k[..]));
    let set = compute(ctx, &mut locked, keys, op, max, now)?;
    let len = set.len();
    let mut target = locked.slot(dst, now);
    let deleted = if len == 0 {
        target.remove().is_some()
    } else {
        target.insert(Value::Set(set), 0, 0);
        false
    };
    drop(target);
    drop(locked);
    if len > 0 {
        ctx.notify(EventClass::SET, op.store_event(), dst);
    } else if deleted {
        ctx.notify(EventClass::GENERIC, "del", dst);
    }
    ctx.reply.int(len as i64);
    Ok(())
}

/// SINTER key [key ...]
fn sinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    algebra_reply(ctx, &args[1..], SetOp::Inter)
}

/// SUNION key [key ...]
fn sunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    algebra_reply(ctx, &args[1..], SetOp::Union)
}

/// SDIFF key [key ...]: the members of the first set in none of the others.
fn sdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    algebra_reply(ctx, &args[1..], SetOp::Diff)
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    algebra_store(ctx, args, SetOp::Inter)
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    algebra_store(ctx, args, SetOp::Union)
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    algebra_store(ctx, args, SetOp::Diff)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
///
/// The size of the intersection, counting stopped at `limit` (0: no limit).
fn sintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let numkeys = int_in(&args[1], 1, i64::MAX, error::NUMKEYS_NOT_POSITIVE)?;
    let numkeys = match usize::try_from(numkeys) {
        Ok(n) if n <= args.len() - 2 => n,
        _ => return Err(error::NUMKEYS_OVER_ARGS.into()),
    };
    let keys = &args[2..2 + numkeys];
    let mut limit = 0;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if args[i].eq_ignore_ascii_case(b"limit") && i + 1 < args.len() {
            i += 1;
            limit = int_in(&args[i], 0, i64::MAX, error::LIMIT_NEGATIVE)?;
        } else {
            return Err(error::SYNTAX.into());
        }
        i += 1;
    }
    let (now, shared) = (unix_ms(), ctx.shared);
    let mut locked = shared
        .store
        .lock_keys(ctx.db(), keys.iter().map(|k| &k[..]));
    // The encoding of the intersection does not matter here.
    let result = compute(ctx, &mut locked, keys, SetOp::Inter, u64::MAX, now);
    drop(locked);
    let len = result?.len() as i64;
    ctx.reply.int(if limit > 0 { len.min(limit) } else { len });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_distinct_and_in_range() {
        for (len, k) in [(10, 9), (10, 1), (100, 5), (100, 40), (2, 1)] {
            let picked = sample_indexes(len, k);
            assert_eq!(picked.len(), k);
            let distinct: std::collections::HashSet<_> = picked.iter().collect();
            assert_eq!(distinct.len(), k);
            assert!(picked.iter().all(|&i| i < len));
        }
    }

    #[test]
    fn scan_options_parse_like_redis() {
        let args = |v: &[&str]| {
            v.iter()
                .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                .collect::<Vec<_>>()
        };
        assert_eq!(parse_scan_options(&args(&[])), Ok((None, 10)));
        assert_eq!(
            parse_scan_options(&args(&["MATCH", "a*", "count", "3"])),
            Ok((Some(&b"a*"[..]), 3))
        );
        assert_eq!(parse_scan_options(&args(&["match", "*"])), Ok((None, 10)));
        assert_eq!(
            parse_scan_options(&args(&["count", "0"])),
            Err(error::SYNTAX)
        );
        assert_eq!(
            parse_scan_options(&args(&["count", "x"])),
            Err(error::NOT_INTEGER)
        );
        assert_eq!(parse_scan_options(&args(&["count"])), Err(error::SYNTAX));
        assert_eq!(
            parse_scan_options(&args(&["type", "set"])),
            Err(error::SYNTAX)
        );
    }
}
