//! Consumer-group commands: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER,
//! DELCONSUMER, HELP), XACK, XPENDING, XCLAIM, XAUTOCLAIM, and XINFO
//! (STREAM [FULL], GROUPS, CONSUMERS, HELP). Semantics, replies and errors as
//! Redis 7.0's `t_stream.c`; reading through a group (XREADGROUP) is in
//! `streams.rs`, the group state in src/store/stream_groups.rs.
//!
//! Rules every handler keeps:
//! - Group changes keep the key's CAS (Redis does not signal them to WATCH),
//!   except XGROUP CREATE MKSTREAM, which makes a new key.
//! - A consumer named by XREADGROUP, XCLAIM or XAUTOCLAIM is created when it
//!   first gets something, with an `xgroup-createconsumer` event.
//! - An ID named in a PEL whose entry was deleted (XDEL, trimming) is
//!   dropped from the PEL when XCLAIM or XAUTOCLAIM comes across it.
//! - XGROUP DESTROY makes the key ready, so clients blocked in XREADGROUP on
//!   that group are answered with -NOGROUP (crate::blocking).

use bytes::Bytes;

use super::args::parse_i64;
use super::client::container_without_subcommand;
use super::streams::{
    parse_id, parse_range, parse_start, parse_strict_id, peek_stream, read_stream, reply_entries,
    reply_entry, reply_id, update_stream, GROUP,
};
use super::{Command, Ctx};
use crate::error::{self, CommandError, CommandResult};
use crate::flags;
use crate::keyspace_events::EventClass;
use crate::store::stream::{ConsumerGroup, StreamEntry, StreamId, StreamValue};
use crate::store::{unix_ms, Value};

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(GROUP, "xgroup", -2, flags![], "A container for consumer groups commands", container_without_subcommand).since("5.0.0").subcommands(XGROUP_SUBCOMMANDS),
    Command::row(GROUP, "xack", -4, flags![WRITE, FAST], "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", xack).keys(1, 1, 1).since("5.0.0"),
    Command::row(GROUP, "xpending", -3, flags![READONLY], "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", xpending).keys(1, 1, 1).since("5.0.0"),
    Command::row(GROUP, "xclaim", -6, flags![WRITE, FAST], "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", xclaim).keys(1, 1, 1).since("5.0.0"),
    Command::row(GROUP, "xautoclaim", -6, flags![WRITE, FAST], "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", xautoclaim).keys(1, 1, 1).since("6.2.0"),
    Command::row(GROUP, "xinfo", -2, flags![], "A container for stream introspection commands", container_without_subcommand).since("5.0.0").subcommands(XINFO_SUBCOMMANDS),
];

static XGROUP_SUBCOMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "create",
        -5,
        flags![WRITE, DENYOOM],
        "Create a consumer group.",
        xgroup,
    )
    .keys(2, 2, 1)
    .since("5.0.0"),
    Command::row(
        GROUP,
        "setid",
        -5,
        flags![WRITE],
        "Set a consumer group to an arbitrary last delivered ID value.",
        xgroup,
    )
    .keys(2, 2, 1)
    .since("5.0.0"),
    Command::row(
        GROUP,
        "destroy",
        4,
        flags![WRITE],
        "Destroy a consumer group.",
        xgroup,
    )
    .keys(2, 2, 1)
    .since("5.0.0"),
    Command::row(
        GROUP,
        "createconsumer",
        5,
        flags![WRITE, DENYOOM],
        "Create a consumer in a consumer group.",
        xgroup,
    )
    .keys(2, 2, 1)
    .since("6.2.0"),
    Command::row(
        GROUP,
        "delconsumer",
        5,
        flags![WRITE],
        "Delete a consumer from a consumer group.",
        xgroup,
    )
    .keys(2, 2, 1)
    .since("5.0.0"),
    Command::row(
        GROUP,
        "help",
        2,
        flags![LOADING, STALE],
        "Show helpful text about the different subcommands",
        xgroup_help,
    )
    .since("5.0.0"),
];

static XINFO_SUBCOMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "consumers",
        4,
        flags![READONLY],
        "List the consumers in a consumer group",
        xinfo_consumers,
    )
    .keys(2, 2, 1)
    .since("5.0.0"),
    Command::row(
        GROUP,
        "groups",
        3,
        flags![READONLY],
        "List the consumer groups of a stream",
        xinfo_groups,
    )
    .keys(2, 2, 1)
    .since("5.0.0"),
    Command::row(
        GROUP,
        "stream",
        -3,
        flags![READONLY],
        "Get information about a stream",
        xinfo_stream,
    )
    .keys(2, 2, 1)
    .since("5.0.0"),
    Command::row(
        GROUP,
        "help",
        2,
        flags![LOADING, STALE],
        "Show helpful text about the different subcommands",
        xinfo_help,
    )
    .since("5.0.0"),
];

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// Redis's addReplyHelp: the header, the lines, and HELP's own two lines.
fn reply_help(ctx: &mut Ctx<'_>, command: &str, lines: &[&str]) {
    ctx.reply.array(lines.len() + 3);
    ctx.reply.simple(&format!(
        "{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for line in lines {
        ctx.reply.simple(line);
    }
    ctx.reply.simple("HELP");
    ctx.reply.simple("    Prints this help.");
}

// ---------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

/// XGROUP HELP
fn xgroup_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    reply_help(ctx, "XGROUP", XGROUP_HELP);
    Ok(())
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]
/// XGROUP SETID key group id|$ [ENTRIESREAD n]
/// XGROUP DESTROY key group
/// XGROUP CREATECONSUMER key group consumer
/// XGROUP DELCONSUMER key group consumer
///
/// One handler, as Redis's xgroupCommand: the options, then the key and the
/// group are checked in the same order for every subcommand.
fn xgroup(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let sub = &args[1];
    let syntax = || CommandError::from(error::subcommand_syntax(sub, "xgroup"));
    let create = is(sub, "create");
    let setid = is(sub, "setid");
    let mut mkstream = false;
    let mut entries_read: Option<i64> = None;
    let mut i = 5;
    while i < args.len() {
        if create && is(&args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && is(&args[i], "entriesread") && i + 1 < args.len() {
            let n = parse_i64(&args[i + 1]).ok_or(error::NOT_INTEGER)?;
            if n < -1 {
                return Err(error::XGROUP_ENTRIES_READ.into());
            }
            entries_read = (n >= 0).then_some(n);
            i += 2;
        } else {
            return Err(syntax());
        }
    }
    let key = &args[2];
    let group = &args[3];
    let now = unix_ms();
    let shared = ctx.shared;
    let db = ctx.db();
    let mut slot = shared.store.slot(db, key, now);
    let stream = peek_stream(&slot)?;
    let group_exists = stream.is_some_and(|s| s.groups.contains_key(&group[..]));
    if !mkstream {
        if stream.is_none() {
            return Err(error::XGROUP_KEY_REQUIRED.into());
        }
        if !group_exists && (setid || is(sub, "createconsumer") || is(sub, "delconsumer")) {
            return Err(error::nogroup_for_key(group, key).into());
        }
    }
    if create && args.len() <= 8 {
        let id = if args[4][..] == *b"$" {
            stream.map_or(StreamId::MIN, |s| s.last_id)
        } else {
            parse_strict_id(&args[4])?
        };
        let created_key = stream.is_none();
        if group_exists {
            return Err(error::BUSYGROUP.into());
        }
        let new_group = ConsumerGroup::new(id, entries_read);
        let name = Bytes::copy_from_slice(group);
        if created_key {
            let mut s = StreamValue::default();
            s.groups.insert(name, new_group);
            slot.insert(Value::Stream(s), 0, 0);
        } else {
            update_stream(&mut slot, |s| (s.groups.insert(name, new_group), false));
        }
        drop(slot);
        if created_key {
            ctx.notify(EventClass::NEW_KEY, "new", key);
        }
        ctx.notify(EventClass::STREAM, "xgroup-create", key);
        ctx.reply.ok();
    } else if setid && (args.len() == 5 || args.len() == 7) {
        let id = if args[4][..] == *b"$" {
            stream.map_or(StreamId::MIN, |s| s.last_id)
        } else {
            parse_id(&args[4], 0)?
        };
        update_stream(&mut slot, |s| {
            if let Some(g) = s.groups.get_mut(&group[..]) {
                g.last_id = id;
                g.entries_read = entries_read;
            }
            ((), false)
        });
        drop(slot);
        ctx.notify(EventClass::STREAM, "xgroup-setid", key);
        ctx.reply.ok();
    } else if is(sub, "destroy") && args.len() == 4 {
        if !group_exists {
            drop(slot);
            ctx.reply.int(0);
            return Ok(());
        }
        update_stream(&mut slot, |s| (s.groups.remove(&group[..]), false));
        drop(slot);
        ctx.notify(EventClass::STREAM, "xgroup-destroy", key);
        // Clients blocked in XREADGROUP on this group get -NOGROUP.
        ctx.shared.blocking.signal_ready(db, key);
        ctx.reply.int(1);
    } else if is(sub, "createconsumer") && args.len() == 5 {
        let consumer = &args[4];
        let created = update_stream(&mut slot, |s| {
            let created = s
                .groups
                .get_mut(&group[..])
                .is_some_and(|g| g.create_consumer(consumer, now));
            (created, false)
        })
        .unwrap_or(false);
        drop(slot);
        if created {
            ctx.notify(EventClass::STREAM, "xgroup-createconsumer", key);
        }
        ctx.reply.int(i64::from(created));
    } else if is(sub, "delconsumer") && args.len() == 5 {
        let consumer = &args[4];
        let pending = update_stream(&mut slot, |s| {
            let pending = s
                .groups
                .get_mut(&group[..])
                .and_then(|g| g.delete_consumer(consumer));
            (pending, false)
        })
        .flatten();
        drop(slot);
        if pending.is_some() {
            ctx.notify(EventClass::STREAM, "xgroup-delconsumer", key);
        }
        ctx.reply.int(pending.unwrap_or(0) as i64);
    } else {
        return Err(syntax());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// XACK XPENDING
// ---------------------------------------------------------------------------

/// XACK key group id [id ...]
fn xack(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (key, group) = (&args[1], &args[2]);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, unix_ms());
    let has_group = read_stream(&mut slot)?.is_some_and(|s| s.groups.contains_key(&group[..]));
    // No key or group: nothing to acknowledge (before the IDs are parsed).
    if !has_group {
        drop(slot);
        ctx.reply.int(0);
        return Ok(());
    }
    let ids = args[3..]
        .iter()
        .map(|a| parse_strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let acked = update_stream(&mut slot, |s| {
        let n = s
            .groups
            .get_mut(&group[..])
            .map_or(0, |g| ids.iter().filter(|&&id| g.ack(id)).count());
        (n, false)
    })
    .unwrap_or(0);
    drop(slot);
    ctx.dirty(acked as u64);
    ctx.reply.int(acked as i64);
    Ok(())
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
fn xpending(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(error::SYNTAX.into());
    }
    let (key, group) = (&args[1], &args[2]);
    // The extended form: (min idle, start, end, count, consumer).
    let mut extended = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if is(&args[3], "idle") {
            min_idle = parse_i64(&args[4]).ok_or(error::NOT_INTEGER)?;
            if argc < 8 {
                return Err(error::SYNTAX.into());
            }
            at += 2;
        }
        let count = parse_i64(&args[at + 2]).ok_or(error::NOT_INTEGER)?.max(0);
        let (start, end) = parse_range(&args[at], &args[at + 1])?;
        let consumer = args.get(at + 3);
        extended = Some((min_idle, start, end, count as u64, consumer));
    }
    let now = unix_ms();
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, now);
    let Some(g) = read_stream(&mut slot)?.and_then(|s| s.groups.get(&group[..])) else {
        return Err(error::nogroup_key_or_group(key, group).into());
    };
    let reply = &mut *ctx.reply;
    match extended {
        None => {
            reply.array(4);
            reply.int(g.pel().len() as i64);
            match (g.pel().keys().next(), g.pel().keys().next_back()) {
                (Some(&first), Some(&last)) => {
                    reply_id(reply, first);
                    reply_id(reply, last);
                    let owners: Vec<(&Bytes, usize)> = g
                        .consumers()
                        .iter()
                        .map(|(name, c)| (name, c.pending().len()))
                        .filter(|&(_, n)| n > 0)
                        .collect();
                    reply.array(owners.len());
                    for (name, n) in owners {
                        reply.array(2);
                        reply.bulk(name);
                        reply.bulk(itoa::Buffer::new().format(n).as_bytes());
                    }
                }
                _ => {
                    reply.null();
                    reply.null();
                    reply.null_array();
                }
            }
        }
        Some((min_idle, start, end, count, consumer)) => {
            if start > end {
                reply.array(0);
                return Ok(());
            }
            let ids: Vec<StreamId> = match consumer {
                Some(name) => match g.consumer(name) {
                    Some(c) => c.pending().range(start..=end).copied().collect(),
                    None => Vec::new(),
                },
                None => g.pel().range(start..=end).map(|(id, _)| *id).collect(),
            };
            let mut rows = Vec::new();
            for id in ids {
                if rows.len() as u64 >= count {
                    break;
                }
                let Some(p) = g.pel().get(&id) else { continue };
                let idle = now as i64 - p.delivery_time_ms as i64;
                if min_idle != 0 && idle < min_idle {
                    continue;
                }
                rows.push((id, p.consumer.clone(), idle.max(0), p.delivery_count));
            }
            reply.array(rows.len());
            for (id, consumer, idle, deliveries) in rows {
                reply.array(4);
                reply_id(reply, id);
                reply.bulk(&consumer);
                reply.int(idle);
                reply.int(deliveries as i64);
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// XCLAIM XAUTOCLAIM
// ---------------------------------------------------------------------------

/// What a claim answers for one ID.
enum Claimed {
    Id(StreamId),
    Entry(StreamEntry),
}

fn reply_claimed(ctx: &mut Ctx<'_>, claimed: &[Claimed]) {
    ctx.reply.array(claimed.len());
    for c in claimed {
        match c {
            Claimed::Id(id) => reply_id(ctx.reply, *id),
            Claimed::Entry(e) => reply_entry(ctx.reply, e.id, &e.fields),
        }
    }
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
fn xclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (key, group, consumer) = (&args[1], &args[2], &args[3]);
    let now = unix_ms();
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, now);
    let has_group = read_stream(&mut slot)?.is_some_and(|s| s.groups.contains_key(&group[..]));
    if !has_group {
        return Err(error::nogroup_key_or_group(key, group).into());
    }
    let min_idle = parse_i64(&args[4]).ok_or(error::XCLAIM_MIN_IDLE)?.max(0);
    // IDs up to the first argument that is not one; options after.
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_strict_id(&args[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut delivery_time: Option<i64> = None;
    let mut retry_count: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = &args[j];
        if is(opt, "force") {
            force = true;
        } else if is(opt, "justid") {
            justid = true;
        } else if is(opt, "idle") && more {
            j += 1;
            let idle = parse_i64(&args[j]).ok_or(error::XCLAIM_IDLE)?;
            delivery_time = Some((now as i64).wrapping_sub(idle));
        } else if is(opt, "time") && more {
            j += 1;
            delivery_time = Some(parse_i64(&args[j]).ok_or(error::XCLAIM_TIME)?);
        } else if is(opt, "retrycount") && more {
            j += 1;
            retry_count = Some(parse_i64(&args[j]).ok_or(error::XCLAIM_RETRYCOUNT)?);
        } else if is(opt, "lastid") && more {
            j += 1;
            last_id = parse_strict_id(&args[j])?;
        } else {
            return Err(error::xclaim_unknown_option(opt).into());
        }
        j += 1;
    }
    // A bogus delivery time (negative, or in the future) is now, as Redis.
    let delivery_time = match delivery_time {
        Some(t) if t >= 0 && t <= now as i64 => t as u64,
        _ => now,
    };
    let retry_count = retry_count.and_then(|n| u64::try_from(n).ok());
    let result = update_stream(&mut slot, |s| {
        let mut claimed = Vec::new();
        let mut created = false;
        let log = &s.log;
        let Some(g) = s.groups.get_mut(&group[..]) else {
            return ((claimed, created), false);
        };
        if last_id > g.last_id {
            g.last_id = last_id;
        }
        for &id in &ids {
            let entry = log.get(id);
            let Some(entry) = entry else {
                // The entry is gone: so is its pending entry.
                g.ack(id);
                continue;
            };
            let current = match g.pel().get(&id) {
                Some(p) => {
                    let idle = now as i64 - p.delivery_time_ms as i64;
                    if min_idle != 0 && idle < min_idle {
                        continue;
                    }
                    p.delivery_count
                }
                // FORCE makes a pending entry (one delivery) for an entry
                // nobody owns; min-idle-time does not apply to it.
                None if force => 1,
                None => continue,
            };
            if g.consumer(consumer).is_none() {
                created = true;
            }
            g.touch_consumer(consumer, now);
            let count = match retry_count {
                Some(n) => n,
                None if justid => current,
                None => current + 1,
            };
            g.set_owner(id, consumer, delivery_time, count);
            claimed.push(if justid {
                Claimed::Id(id)
            } else {
                Claimed::Entry(entry)
            });
        }
        ((claimed, created), false)
    });
    drop(slot);
    let (claimed, created) = result.unwrap_or_default();
    if created {
        ctx.notify(EventClass::STREAM, "xgroup-createconsumer", key);
    }
    reply_claimed(ctx, &claimed);
    Ok(())
}

/// The largest XAUTOCLAIM COUNT (Redis: LONG_MAX / max(sizeof(streamID), attempts factor)).
const XAUTOCLAIM_MAX_COUNT: i64 = i64::MAX / 16;
/// PEL entries XAUTOCLAIM may look at per entry it may claim.
const XAUTOCLAIM_ATTEMPTS_FACTOR: u64 = 10;

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
fn xautoclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (key, group, consumer) = (&args[1], &args[2], &args[3]);
    let min_idle = parse_i64(&args[4])
        .ok_or(error::XAUTOCLAIM_MIN_IDLE)?
        .max(0);
    let start = parse_start(&args[5])?;
    let mut count: u64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        if is(&args[j], "count") && j + 1 < args.len() {
            count = parse_i64(&args[j + 1])
                .filter(|n| (1..=XAUTOCLAIM_MAX_COUNT).contains(n))
                .ok_or(error::XAUTOCLAIM_COUNT)? as u64;
            j += 1;
        } else if is(&args[j], "justid") {
            justid = true;
        } else {
            return Err(error::SYNTAX.into());
        }
        j += 1;
    }
    let now = unix_ms();
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, now);
    let has_group = read_stream(&mut slot)?.is_some_and(|s| s.groups.contains_key(&group[..]));
    if !has_group {
        return Err(error::nogroup_key_or_group(key, group).into());
    }
    let result = update_stream(&mut slot, |s| {
        let log = &s.log;
        let mut claimed = Vec::new();
        let mut deleted = Vec::new();
        let mut created = false;
        let mut cursor = StreamId::MIN;
        let Some(g) = s.groups.get_mut(&group[..]) else {
            return ((claimed, deleted, cursor, created), false);
        };
        let mut attempts = count.saturating_mul(XAUTOCLAIM_ATTEMPTS_FACTOR);
        let mut remaining = count;
        let mut next = g.pel().range(start..).next().map(|(id, _)| *id);
        while attempts > 0 && remaining > 0 {
            let Some(id) = next else { break };
            attempts -= 1;
            next = g
                .pel()
                .range((std::ops::Bound::Excluded(id), std::ops::Bound::Unbounded))
                .next()
                .map(|(id, _)| *id);
            let Some(entry) = log.get(id) else {
                g.ack(id);
                deleted.push(id);
                remaining -= 1;
                continue;
            };
            let Some(p) = g.pel().get(&id) else { continue };
            let idle = now as i64 - p.delivery_time_ms as i64;
            if min_idle != 0 && idle < min_idle {
                continue;
            }
            let current = p.delivery_count;
            if g.consumer(consumer).is_none() {
                created = true;
            }
            g.touch_consumer(consumer, now);
            let deliveries = if justid { current } else { current + 1 };
            g.set_owner(id, consumer, now, deliveries);
            claimed.push(if justid {
                Claimed::Id(id)
            } else {
                Claimed::Entry(entry)
            });
            remaining -= 1;
        }
        if let Some(id) = next {
            cursor = id;
        }
        ((claimed, deleted, cursor, created), false)
    });
    drop(slot);
    let Some((claimed, deleted, cursor, created)) = result else {
        return Err(error::nogroup_key_or_group(key, group).into());
    };
    if created {
        ctx.notify(EventClass::STREAM, "xgroup-createconsumer", key);
    }
    ctx.reply.array(3);
    reply_id(ctx.reply, cursor);
    reply_claimed(ctx, &claimed);
    ctx.reply.array(deleted.len());
    for id in deleted {
        reply_id(ctx.reply, id);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

/// XINFO HELP
fn xinfo_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    reply_help(ctx, "XINFO", XINFO_HELP);
    Ok(())
}

/// Run `f` on the stream at `args[2]` ("ERR no such key" when missing).
fn with_info_stream(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    f: impl FnOnce(&mut Ctx<'_>, &StreamValue, u64) -> CommandResult,
) -> CommandResult {
    let now = unix_ms();
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), &args[2], now);
    let hit = slot.exists();
    let stream = read_stream(&mut slot);
    ctx.count_lookup(hit);
    match stream? {
        Some(s) => f(ctx, s, now),
        None => Err(error::NO_SUCH_KEY.into()),
    }
}

/// A counter that may be unknown: an integer, or null.
fn reply_counter(ctx: &mut Ctx<'_>, n: Option<i64>) {
    match n {
        Some(n) => ctx.reply.int(n),
        None => ctx.reply.null(),
    }
}

/// XINFO CONSUMERS key group
fn xinfo_consumers(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    with_info_stream(ctx, args, |ctx, s, now| {
        let Some(g) = s.groups.get(&args[3][..]) else {
            return Err(error::nogroup_for_key(&args[3], &args[2]).into());
        };
        ctx.reply.array(g.consumers().len());
        for (name, c) in g.consumers() {
            ctx.reply.map(3);
            ctx.reply.bulk(b"name");
            ctx.reply.bulk(name);
            ctx.reply.bulk(b"pending");
            ctx.reply.int(c.pending().len() as i64);
            ctx.reply.bulk(b"idle");
            ctx.reply.int((now as i64 - c.seen_time_ms as i64).max(0));
        }
        Ok(())
    })
}

/// XINFO GROUPS key
fn xinfo_groups(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    with_info_stream(ctx, args, |ctx, s, _| {
        ctx.reply.array(s.groups.len());
        for (name, g) in &s.groups {
            ctx.reply.map(6);
            ctx.reply.bulk(b"name");
            ctx.reply.bulk(name);
            ctx.reply.bulk(b"consumers");
            ctx.reply.int(g.consumers().len() as i64);
            ctx.reply.bulk(b"pending");
            ctx.reply.int(g.pel().len() as i64);
            ctx.reply.bulk(b"last-delivered-id");
            reply_id(ctx.reply, g.last_id);
            ctx.reply.bulk(b"entries-read");
            reply_counter(ctx, g.entries_read);
            ctx.reply.bulk(b"lag");
            reply_counter(ctx, s.lag(g));
        }
        Ok(())
    })
}

/// Redis's rax node count for a stream of `keys` nodes, as measured on
/// redis-server 7.0 (herald has no radix tree: XINFO's radix-tree-nodes).
fn radix_tree_nodes(keys: usize) -> usize {
    match keys {
        0 => 1,
        1 => 2,
        n => 2 * n + 2,
    }
}

/// XINFO STREAM key [FULL [COUNT count]]
fn xinfo_stream(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let options = &args[3..];
    let syntax = || CommandError::from(error::subcommand_syntax(&args[1], "xinfo"));
    // FULL's COUNT: 10 by default, a negative one too; 0 = everything.
    let full = match options.len() {
        0 => None,
        1 | 3 if is(&options[0], "full") => {
            if options.len() == 3 {
                if !is(&options[1], "count") {
                    return Err(syntax());
                }
                let n = parse_i64(&options[2]).ok_or(error::NOT_INTEGER)?;
                Some(if n < 0 { 10 } else { n as u64 })
            } else {
                Some(10)
            }
        }
        _ => return Err(syntax()),
    };
    with_info_stream(ctx, args, |ctx, s, _| {
        ctx.reply.map(if full.is_some() { 9 } else { 10 });
        ctx.reply.bulk(b"length");
        ctx.reply.int(s.len() as i64);
        ctx.reply.bulk(b"radix-tree-keys");
        ctx.reply.int(s.log.node_count() as i64);
        ctx.reply.bulk(b"radix-tree-nodes");
        ctx.reply.int(radix_tree_nodes(s.log.node_count()) as i64);
        ctx.reply.bulk(b"last-generated-id");
        reply_id(ctx.reply, s.last_id);
        ctx.reply.bulk(b"max-deleted-entry-id");
        reply_id(ctx.reply, s.max_deleted_id);
        ctx.reply.bulk(b"entries-added");
        ctx.reply.int(s.entries_added as i64);
        ctx.reply.bulk(b"recorded-first-entry-id");
        reply_id(ctx.reply, s.first_id());
        let Some(count) = full else {
            ctx.reply.bulk(b"groups");
            ctx.reply.int(s.groups.len() as i64);
            for (label, rev) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
                ctx.reply.bulk(label);
                match s
                    .log
                    .range(StreamId::MIN, StreamId::MAX, rev, Some(1))
                    .first()
                {
                    Some(e) => reply_entry(ctx.reply, e.id, &e.fields),
                    None => ctx.reply.null(),
                }
            }
            return Ok(());
        };
        let limit = (count > 0).then_some(count as usize);
        let take = limit.unwrap_or(usize::MAX);
        ctx.reply.bulk(b"entries");
        reply_entries(
            ctx.reply,
            &s.log.range(StreamId::MIN, StreamId::MAX, false, limit),
        );
        ctx.reply.bulk(b"groups");
        ctx.reply.array(s.groups.len());
        for (name, g) in &s.groups {
            ctx.reply.map(7);
            ctx.reply.bulk(b"name");
            ctx.reply.bulk(name);
            ctx.reply.bulk(b"last-delivered-id");
            reply_id(ctx.reply, g.last_id);
            ctx.reply.bulk(b"entries-read");
            reply_counter(ctx, g.entries_read);
            ctx.reply.bulk(b"lag");
            reply_counter(ctx, s.lag(g));
            ctx.reply.bulk(b"pel-count");
            ctx.reply.int(g.pel().len() as i64);
            ctx.reply.bulk(b"pending");
            let pel: Vec<_> = g.pel().iter().take(take).collect();
            ctx.reply.array(pel.len());
            for (id, p) in pel {
                ctx.reply.array(4);
                reply_id(ctx.reply, *id);
                ctx.reply.bulk(&p.consumer);
                ctx.reply.int(p.delivery_time_ms as i64);
                ctx.reply.int(p.delivery_count as i64);
            }
            ctx.reply.bulk(b"consumers");
            ctx.reply.array(g.consumers().len());
            for (cname, c) in g.consumers() {
                ctx.reply.map(4);
                ctx.reply.bulk(b"name");
                ctx.reply.bulk(cname);
                ctx.reply.bulk(b"seen-time");
                ctx.reply.int(c.seen_time_ms as i64);
                ctx.reply.bulk(b"pel-count");
                ctx.reply.int(c.pending().len() as i64);
                ctx.reply.bulk(b"pending");
                let ids: Vec<_> = c.pending().iter().take(take).collect();
                ctx.reply.array(ids.len());
                for id in ids {
                    let (time, deliveries) = g
                        .pel()
                        .get(id)
                        .map_or((0, 0), |p| (p.delivery_time_ms, p.delivery_count));
                    ctx.reply.array(3);
                    reply_id(ctx.reply, *id);
                    ctx.reply.int(time as i64);
                    ctx.reply.int(deliveries as i64);
                }
            }
        }
        Ok(())
    })
}
