//! Stream commands: XADD (with NOMKSTREAM and MAXLEN/MINID trimming), XLEN,
//! XRANGE, XREVRANGE, XDEL, XTRIM, XSETID, and the reads XREAD and
//! XREADGROUP (with BLOCK). Semantics, replies and errors as Redis 7.0's
//! `t_stream.c`; the consumer-group commands are in `stream_groups.rs`.
//!
//! A stream is a `Value::Stream(StreamValue)` (src/store/stream.rs): its
//! entries in a `StreamLog`, its last ID and counters, its groups. Rules
//! every handler keeps:
//! - Arguments are parsed whole before the key is touched (as Redis, with
//!   its order of errors: XDEL looks the key up before parsing its IDs).
//! - A stream is never removed for being empty (XADD MAXLEN 0 leaves an
//!   empty stream, as Redis).
//! - Changes go through `update_stream`, which measures the charge. Only
//!   XADD, XDEL and XTRIM count as modifying the key for WATCH (Redis calls
//!   signalModifiedKey there only); group changes keep the key's CAS.
//! - XADD (and anything else that gives a stream entries) signals blocked
//!   readers once the shard lock is released.
//! - Blocking (see crate::blocking): XREAD/XREADGROUP that find nothing and
//!   have BLOCK wait on every key they name; XREAD's `$` (and Redis 7.4's
//!   `+`, the last entry) is resolved to an ID then, and the command runs
//!   again with it. Served, the
//!   command reads only the ready key (COUNT 1000 when none was given).

use std::time::Duration;

use bytes::Bytes;

use super::args::parse_i64;
use super::{Blocking, BlockingResult, Command, Ctx};
use crate::blocking::TimeoutReply;
use crate::error::{self, CommandError, CommandResult};
use crate::flags;
use crate::keyspace_events::EventClass;
use crate::protocol::resp::Reply;
use crate::store::stream::{
    AppendError, HistoryEntry, NewId, NodeLimits, StreamEntry, StreamId, StreamValue, Trim,
};
use crate::store::{unix_ms, Slot, Value, ValueRef};

/// The group COMMAND INFO/DOCS report for this family (also how the blocking
/// machinery tells a stream waiter from a list one).
pub(crate) const GROUP: &str = "stream";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(GROUP, "xadd", -5, flags![WRITE, DENYOOM, FAST], "Appends a new entry to a stream", xadd).keys(1, 1, 1).since("5.0.0"),
    Command::row(GROUP, "xlen", 2, flags![READONLY, FAST], "Return the number of entries in a stream", xlen).keys(1, 1, 1).since("5.0.0"),
    Command::row(GROUP, "xrange", -4, flags![READONLY], "Return a range of elements in a stream, with IDs matching the specified IDs interval", xrange).keys(1, 1, 1).since("5.0.0"),
    Command::row(GROUP, "xrevrange", -4, flags![READONLY], "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", xrevrange).keys(1, 1, 1).since("5.0.0"),
    Command::row(GROUP, "xdel", -3, flags![WRITE, FAST], "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", xdel).keys(1, 1, 1).since("5.0.0"),
    Command::row(GROUP, "xtrim", -4, flags![WRITE], "Trims the stream to (approximately if '~' is passed) a certain size", xtrim).keys(1, 1, 1).since("5.0.0"),
    Command::row(GROUP, "xsetid", -3, flags![WRITE, DENYOOM, FAST], "An internal command for replicating stream values", xsetid).keys(1, 1, 1).since("5.0.0"),
    // XREAD and XREADGROUP have movable keys (after STREAMS): Redis's key specs.
    Command::blocking_row(GROUP, "xread", -4, flags![READONLY, BLOCKING], "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", xread).since("5.0.0"),
    Command::blocking_row(GROUP, "xreadgroup", -7, flags![WRITE, BLOCKING], "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", xreadgroup).since("5.0.0"),
];

/// Entries a served XREAD/XREADGROUP without COUNT returns at most
/// (Redis's XREAD_BLOCKED_DEFAULT_COUNT).
const BLOCKED_DEFAULT_COUNT: usize = 1000;
/// The longest ID argument Redis parses (its 128-byte buffer, less the NUL).
const MAX_ID_ARG_BYTES: usize = 127;

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

// ---------------------------------------------------------------------------
// IDs: parsing and printing
// ---------------------------------------------------------------------------

/// Redis's `string2ull`: a strict integer first (negatives refused), else
/// what `strtoull` takes whole (leading spaces, a sign, leading zeros).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut rest = s;
    while let [b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c, tail @ ..] = rest {
        rest = tail;
    }
    let (neg, digits) = match rest {
        [b'-', tail @ ..] => (true, tail),
        [b'+', tail @ ..] => (false, tail),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// A parsed ID argument: the ID, and whether the sequence was given (false
/// for `<ms>-*`, which only XADD accepts).
fn parse_id_generic(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_star: bool,
) -> Result<(StreamId, bool), CommandError> {
    let invalid = || CommandError::from(error::STREAM_INVALID_ID);
    if arg.len() > MAX_ID_ARG_BYTES || arg.contains(&0) {
        return Err(invalid());
    }
    match arg {
        b"-" | b"+" if strict => return Err(invalid()),
        b"-" => return Ok((StreamId::MIN, true)),
        b"+" => return Ok((StreamId::MAX, true)),
        _ => {}
    }
    let (ms_part, seq_part) = match memchr::memchr(b'-', arg) {
        Some(i) => (&arg[..i], Some(&arg[i + 1..])),
        None => (arg, None),
    };
    let ms = string2ull(ms_part).ok_or_else(invalid)?;
    match seq_part {
        None => Ok((StreamId::new(ms, missing_seq), true)),
        Some(b"*") if seq_star => Ok((StreamId::new(ms, 0), false)),
        Some(seq) => Ok((
            StreamId::new(ms, string2ull(seq).ok_or_else(invalid)?),
            true,
        )),
    }
}

/// An ID where `-` and `+` are not accepted (streamParseStrictIDOrReply).
pub(crate) fn parse_strict_id(arg: &[u8]) -> Result<StreamId, CommandError> {
    parse_id_generic(arg, 0, true, false).map(|(id, _)| id)
}

/// An ID where `-` and `+` mean the smallest and largest (streamParseIDOrReply).
pub(crate) fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CommandError> {
    parse_id_generic(arg, missing_seq, false, false).map(|(id, _)| id)
}

/// A range bound: `(` makes it exclusive (then `-`/`+` are refused). Returns
/// the ID and whether it is exclusive (streamParseIntervalIDOrReply).
fn parse_interval(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CommandError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let (id, _) = parse_id_generic(&arg[1..], missing_seq, true, false)?;
        Ok((id, true))
    } else {
        Ok((parse_id(arg, missing_seq)?, false))
    }
}

/// The inclusive ID range of `start end` (XRANGE's, XPENDING's): an
/// incomplete start takes sequence 0, an incomplete end the largest.
pub(crate) fn parse_range(start: &[u8], end: &[u8]) -> Result<(StreamId, StreamId), CommandError> {
    let (mut from, ex) = parse_interval(start, 0)?;
    if ex {
        from = from.next().ok_or(error::STREAM_INVALID_START)?;
    }
    let (mut to, ex) = parse_interval(end, u64::MAX)?;
    if ex {
        to = to.prev().ok_or(error::STREAM_INVALID_END)?;
    }
    Ok((from, to))
}

/// An XAUTOCLAIM-style start bound (`(` exclusive).
pub(crate) fn parse_start(arg: &[u8]) -> Result<StreamId, CommandError> {
    let (from, ex) = parse_interval(arg, 0)?;
    if ex {
        return Ok(from.next().ok_or(error::STREAM_INVALID_START)?);
    }
    Ok(from)
}

/// An ID as Redis prints it: `<ms>-<seq>`.
pub(crate) fn reply_id(reply: &mut Reply, id: StreamId) {
    let mut ms = itoa::Buffer::new();
    let mut seq = itoa::Buffer::new();
    let (ms, seq) = (ms.format(id.ms).as_bytes(), seq.format(id.seq).as_bytes());
    let mut buf = [0u8; 41];
    buf[..ms.len()].copy_from_slice(ms);
    buf[ms.len()] = b'-';
    buf[ms.len() + 1..ms.len() + 1 + seq.len()].copy_from_slice(seq);
    reply.bulk(&buf[..ms.len() + 1 + seq.len()]);
}

/// `[id, [field, value, ...]]`.
pub(crate) fn reply_entry(reply: &mut Reply, id: StreamId, fields: &[(Bytes, Bytes)]) {
    reply.array(2);
    reply_id(reply, id);
    reply.array(fields.len() * 2);
    for (f, v) in fields {
        reply.bulk(f);
        reply.bulk(v);
    }
}

/// An array of entries.
pub(crate) fn reply_entries(reply: &mut Reply, entries: &[StreamEntry]) {
    reply.array(entries.len());
    for e in entries {
        reply_entry(reply, e.id, &e.fields);
    }
}

/// A history read: entries deleted meanwhile show as `[id, nil]`.
fn reply_history(reply: &mut Reply, entries: &[HistoryEntry]) {
    reply.array(entries.len());
    for (id, fields) in entries {
        match fields {
            Some(fields) => reply_entry(reply, *id, fields),
            None => {
                reply.array(2);
                reply_id(reply, *id);
                reply.null_array();
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Store access
// ---------------------------------------------------------------------------

/// The stream at `slot`, without counting an access.
pub(crate) fn peek_stream<'s>(slot: &'s Slot<'_>) -> Result<Option<&'s StreamValue>, &'static str> {
    match slot.peek().map(|e| e.value()) {
        None => Ok(None),
        Some(ValueRef::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(error::WRONGTYPE),
    }
}

/// The stream at `slot` for a read (counts the access).
pub(crate) fn read_stream<'s>(
    slot: &'s mut Slot<'_>,
) -> Result<Option<&'s StreamValue>, &'static str> {
    match slot.get().map(|e| e.value()) {
        None => Ok(None),
        Some(ValueRef::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(error::WRONGTYPE),
    }
}

/// Change the stream at `slot`; `f` returns its result and whether the key
/// counts as modified (WATCH): if not, the key keeps its CAS. The charge is
/// measured around `f`. None when the key holds no stream.
pub(crate) fn update_stream<R>(
    slot: &mut Slot<'_>,
    f: impl FnOnce(&mut StreamValue) -> (R, bool),
) -> Option<R> {
    let cas = slot.peek().map(|e| e.cas)?;
    let (r, modified) = slot
        .update_with_charge(|e| match e.stream_mut() {
            Some(s) => {
                let before = s.charged_bytes() as isize;
                let (r, modified) = f(s);
                let after = s.charged_bytes() as isize;
                (Some((r, modified)), after - before)
            }
            None => (None, 0),
        })
        .flatten()?;
    if !modified {
        slot.modify_meta(|m| m.cas = cas);
    }
    Some(r)
}

/// `stream-node-max-bytes` and `stream-node-max-entries`, read once per command.
pub(crate) fn node_limits(ctx: &Ctx<'_>) -> NodeLimits {
    let config = ctx.shared.config.read();
    NodeLimits {
        max_bytes: usize::try_from(config.stream_node_max_bytes()).unwrap_or(usize::MAX),
        max_entries: usize::try_from(config.stream_node_max_entries()).unwrap_or(usize::MAX),
    }
}

// ---------------------------------------------------------------------------
// XADD XTRIM
// ---------------------------------------------------------------------------

/// What XADD and XTRIM were asked (streamParseAddOrTrimArgsOrReply).
struct AddTrimArgs {
    trim: Option<Trim>,
    approx: bool,
    /// Entries the trim may remove at most (0 = no limit).
    limit: usize,
    nomkstream: bool,
    /// XADD's ID: None for `*`.
    id: Option<NewId>,
    /// Where the ID is (XADD's fields follow it).
    id_pos: usize,
}

fn parse_add_or_trim(
    args: &[Bytes],
    xadd: bool,
    node_max_entries: usize,
) -> Result<AddTrimArgs, CommandError> {
    let mut p = AddTrimArgs {
        trim: None,
        approx: false,
        limit: 0,
        nomkstream: false,
        id: None,
        id_pos: args.len(),
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i];
        if xadd && opt[..] == *b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if p.trim.is_some() {
                return Err(error::STREAM_MAXLEN_MINID.into());
            }
            p.approx = false;
            let next = &args[i + 1][..];
            if more >= 2 && next == b"~" {
                p.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let value = &args[i + 1];
            p.trim = Some(if is(opt, "maxlen") {
                let n = parse_i64(value).ok_or(error::NOT_INTEGER)?;
                if n < 0 {
                    return Err(error::STREAM_MAXLEN_NEGATIVE.into());
                }
                Trim::MaxLen(usize::try_from(n).unwrap_or(usize::MAX))
            } else {
                Trim::MinId(parse_strict_id(value)?)
            });
            i += 1;
        } else if is(opt, "limit") && more > 0 {
            let n = parse_i64(&args[i + 1]).ok_or(error::NOT_INTEGER)?;
            if n < 0 {
                return Err(error::STREAM_LIMIT_NEGATIVE.into());
            }
            p.limit = usize::try_from(n).unwrap_or(usize::MAX);
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            p.nomkstream = true;
        } else if xadd {
            let (id, seq_given) = parse_id_generic(opt, 0, true, true)?;
            p.id = Some(if seq_given {
                NewId::Exact(id)
            } else {
                NewId::Ms(id.ms)
            });
            break;
        } else {
            return Err(error::SYNTAX.into());
        }
        i += 1;
    }
    p.id_pos = i;
    if p.limit != 0 && p.trim.is_none() {
        return Err(error::STREAM_LIMIT_NO_STRATEGY.into());
    }
    if !xadd && p.trim.is_none() {
        return Err(error::XTRIM_NO_STRATEGY.into());
    }
    if limit_given {
        if !p.approx {
            return Err(error::STREAM_LIMIT_NO_APPROX.into());
        }
    } else if p.approx {
        // At most 100 nodes' worth of work per call, as Redis.
        p.limit = node_max_entries.saturating_mul(100);
        if p.limit == 0 {
            p.limit = 10_000;
        }
        p.limit = p.limit.min(1_000_000);
    } else {
        p.limit = 0;
    }
    Ok(p)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
fn xadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let limits = node_limits(ctx);
    let p = parse_add_or_trim(args, true, limits.max_entries)?;
    let field_pos = p.id_pos + 1;
    if args.len() < field_pos + 2 || !(args.len() - field_pos).is_multiple_of(2) {
        return Err(error::wrong_arity("xadd").into());
    }
    if p.id == Some(NewId::Exact(StreamId::MIN)) {
        return Err(error::XADD_ID_ZERO.into());
    }
    let fields: Vec<(&[u8], &[u8])> = args[field_pos..]
        .chunks_exact(2)
        .map(|pair| (&pair[0][..], &pair[1][..]))
        .collect();
    let key = &args[1];
    let now = unix_ms();
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, now);
    let created = peek_stream(&slot)?.is_none();
    if created && p.nomkstream {
        drop(slot);
        ctx.reply.null();
        return Ok(());
    }
    let add = |s: &mut StreamValue| -> Result<(StreamId, usize), &'static str> {
        if s.last_id == StreamId::MAX {
            return Err(error::XADD_EXHAUSTED);
        }
        let id = s
            .append(p.id.unwrap_or(NewId::Auto), &fields, now, limits)
            .map_err(|e| match e {
                AppendError::NotGreater => error::XADD_ID_NOT_GREATER,
                AppendError::TooLarge => error::XADD_TOO_LARGE,
            })?;
        let trimmed = p.trim.map_or(0, |t| s.trim(t, p.approx, p.limit));
        Ok((id, trimmed))
    };
    let (id, trimmed) = if created {
        let mut s = StreamValue::default();
        let r = add(&mut s)?;
        slot.insert(Value::Stream(s), 0, 0);
        r
    } else {
        update_stream(&mut slot, |s| {
            let r = add(s);
            let ok = r.is_ok();
            (r, ok)
        })
        .unwrap_or(Err(error::WRONGTYPE))?
    };
    drop(slot);
    reply_id(ctx.reply, id);
    if created {
        ctx.notify(EventClass::NEW_KEY, "new", key);
    }
    ctx.notify(EventClass::STREAM, "xadd", key);
    if trimmed > 0 {
        ctx.notify(EventClass::STREAM, "xtrim", key);
    }
    ctx.shared.blocking.signal_ready(ctx.db(), key);
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn xtrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let limits = node_limits(ctx);
    let p = parse_add_or_trim(args, false, limits.max_entries)?;
    let Some(how) = p.trim else {
        return Err(error::XTRIM_NO_STRATEGY.into());
    };
    let key = &args[1];
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, unix_ms());
    if peek_stream(&slot)?.is_none() {
        drop(slot);
        ctx.reply.int(0);
        return Ok(());
    }
    let removed = update_stream(&mut slot, |s| {
        let n = s.trim(how, p.approx, p.limit);
        (n, n > 0)
    })
    .unwrap_or(0);
    drop(slot);
    if removed > 0 {
        ctx.notify(EventClass::STREAM, "xtrim", key);
        ctx.dirty(removed as u64);
    }
    ctx.reply.int(removed as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// XLEN XRANGE XREVRANGE XDEL XSETID
// ---------------------------------------------------------------------------

/// Read the stream at `key` (None when missing), counting the lookup.
fn with_stream<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&StreamValue>) -> R,
) -> Result<R, CommandError> {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, unix_ms());
    let hit = slot.exists();
    let r = read_stream(&mut slot).map(f);
    drop(slot);
    ctx.count_lookup(hit);
    Ok(r?)
}

/// XLEN key
fn xlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let n = with_stream(ctx, &args[1], |s| s.map_or(0, StreamValue::len))?;
    ctx.reply.int(n as i64);
    Ok(())
}

/// XRANGE key start end [COUNT count]
fn xrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    range_command(ctx, args, false)
}

/// XREVRANGE key end start [COUNT count]
fn xrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    range_command(ctx, args, true)
}

fn range_command(ctx: &mut Ctx<'_>, args: &[Bytes], rev: bool) -> CommandResult {
    let (start, end) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let (start, end) = parse_range(start, end)?;
    // -1: no COUNT; a negative COUNT is 0.
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if is(&args[j], "count") && j + 1 < args.len() {
            count = parse_i64(&args[j + 1]).ok_or(error::NOT_INTEGER)?.max(0);
            j += 2;
        } else {
            return Err(error::SYNTAX.into());
        }
    }
    let entries = with_stream(ctx, &args[1], |s| {
        s.map(|s| {
            if count == 0 {
                None
            } else {
                let limit = usize::try_from(count).ok();
                Some(s.log.range(start, end, rev, limit))
            }
        })
    })?;
    match entries {
        None => ctx.reply.array(0),
        Some(None) => ctx.reply.null_array(),
        Some(Some(entries)) => reply_entries(ctx.reply, &entries),
    }
    Ok(())
}

/// XDEL key id [id ...]
fn xdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let key = &args[1];
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, unix_ms());
    // As Redis: a missing key answers 0 before the IDs are looked at.
    if peek_stream(&slot)?.is_none() {
        drop(slot);
        ctx.reply.int(0);
        return Ok(());
    }
    let ids = args[2..]
        .iter()
        .map(|a| parse_strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let deleted = update_stream(&mut slot, |s| {
        let n = ids.iter().filter(|&&id| s.delete(id)).count();
        (n, n > 0)
    })
    .unwrap_or(0);
    drop(slot);
    if deleted > 0 {
        ctx.notify(EventClass::STREAM, "xdel", key);
        ctx.dirty(deleted as u64);
    }
    ctx.reply.int(deleted as i64);
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
fn xsetid(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let id = parse_strict_id(&args[2])?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if is(&args[i], "entriesadded") && more {
            let n = parse_i64(&args[i + 1]).ok_or(error::NOT_INTEGER)?;
            entries_added =
                Some(u64::try_from(n).map_err(|_| error::XSETID_ENTRIES_ADDED_NEGATIVE)?);
        } else if is(&args[i], "maxdeletedid") && more {
            max_deleted = parse_strict_id(&args[i + 1])?;
            if id < max_deleted {
                return Err(error::XSETID_SMALLER_THAN_MAX_DELETED.into());
            }
        } else {
            return Err(error::SYNTAX.into());
        }
        i += 2;
    }
    let key = &args[1];
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.db(), key, unix_ms());
    let Some(s) = peek_stream(&slot)? else {
        return Err(error::NO_SUCH_KEY.into());
    };
    if !s.is_empty() {
        if id < s.last_valid_id() {
            return Err(error::XSETID_SMALLER_THAN_TOP.into());
        }
        if entries_added.is_some_and(|n| (s.len() as u64) > n) {
            return Err(error::XSETID_ENTRIES_ADDED_SMALLER.into());
        }
    }
    update_stream(&mut slot, |s| {
        s.last_id = id;
        if let Some(n) = entries_added {
            s.entries_added = n;
        }
        if max_deleted != StreamId::MIN {
            s.max_deleted_id = max_deleted;
        }
        ((), false)
    });
    drop(slot);
    ctx.notify(EventClass::STREAM, "xsetid", key);
    ctx.reply.ok();
    Ok(())
}

// ---------------------------------------------------------------------------
// XREAD XREADGROUP
// ---------------------------------------------------------------------------

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
fn xread(ctx: &mut Ctx<'_>, args: &[Bytes]) -> BlockingResult {
    read_command(ctx, args, false)
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]
fn xreadgroup(ctx: &mut Ctx<'_>, args: &[Bytes]) -> BlockingResult {
    read_command(ctx, args, true)
}

/// What XREAD/XREADGROUP were asked.
struct ReadArgs<'a> {
    /// None: no BLOCK; Some(None): block forever.
    block: Option<Option<Duration>>,
    /// 0 = no limit.
    count: usize,
    group: Option<(&'a Bytes, &'a Bytes)>,
    noack: bool,
    /// Index of the first key, and how many streams.
    streams_at: usize,
    streams: usize,
}

fn parse_read<'a>(
    ctx: &Ctx<'_>,
    args: &'a [Bytes],
    xreadgroup: bool,
) -> Result<ReadArgs<'a>, CommandError> {
    let mut r = ReadArgs {
        block: None,
        count: 0,
        group: None,
        noack: false,
        streams_at: 0,
        streams: 0,
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let opt = &args[i];
        if is(opt, "block") && more > 0 {
            if ctx.in_script() {
                return Err(error::stream_block_in_script(&args[0]).into());
            }
            i += 1;
            let ms = parse_i64(&args[i]).ok_or(error::XREAD_TIMEOUT_NOT_INTEGER)?;
            if ms < 0 {
                return Err(error::TIMEOUT_NEGATIVE.into());
            }
            r.block = Some((ms > 0).then(|| Duration::from_millis(ms as u64)));
        } else if is(opt, "count") && more > 0 {
            i += 1;
            let n = parse_i64(&args[i]).ok_or(error::NOT_INTEGER)?;
            r.count = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
        } else if is(opt, "streams") && more > 0 {
            r.streams_at = i + 1;
            let n = args.len() - r.streams_at;
            if !n.is_multiple_of(2) {
                return Err(error::XREAD_UNBALANCED.into());
            }
            r.streams = n / 2;
            break;
        } else if is(opt, "group") && more >= 2 {
            if !xreadgroup {
                return Err(error::XREAD_GROUP_OPTION.into());
            }
            r.group = Some((&args[i + 1], &args[i + 2]));
            i += 2;
        } else if is(opt, "noack") {
            if !xreadgroup {
                return Err(error::XREAD_NOACK_OPTION.into());
            }
            r.noack = true;
        } else {
            return Err(error::SYNTAX.into());
        }
        i += 1;
    }
    if r.streams_at == 0 {
        return Err(error::SYNTAX.into());
    }
    if xreadgroup && r.group.is_none() {
        return Err(error::XREADGROUP_MISSING_GROUP.into());
    }
    Ok(r)
}

/// The ID a read asks entries after: `>` (a group's new entries) is kept as
/// the largest ID, as Redis does.
const NEW_ENTRIES: StreamId = StreamId::MAX;

/// What one stream gave a read.
enum Served {
    Entries(Vec<StreamEntry>),
    History(Vec<HistoryEntry>),
}

fn read_command(ctx: &mut Ctx<'_>, args: &[Bytes], xreadgroup: bool) -> BlockingResult {
    let r = parse_read(ctx, args, xreadgroup)?;
    let keys = &args[r.streams_at..r.streams_at + r.streams];
    let id_args = &args[r.streams_at + r.streams..];
    let serving = ctx.serving().cloned();
    // Served after blocking: only the ready key (its first mention).
    let wanted: Vec<usize> = match &serving {
        Some(key) => keys.iter().position(|k| k == key).into_iter().collect(),
        None => (0..r.streams).collect(),
    };
    let db = ctx.db();
    let now = unix_ms();
    let shared = ctx.shared;

    // 1. Check every key and resolve every ID before anything changes.
    let mut ids = vec![StreamId::MIN; r.streams];
    let mut rewritten: Option<Vec<Bytes>> = None;
    for &i in &wanted {
        let key = &keys[i];
        let mut slot = shared.store.slot(db, key, now);
        let hit = slot.exists();
        let stream = match read_stream(&mut slot) {
            Ok(s) => s,
            Err(e) if serving.is_some() && xreadgroup => {
                let _ = e;
                return Err(error::XREADGROUP_KEY_GONE.into());
            }
            Err(e) if serving.is_some() => {
                let _ = e;
                drop(slot);
                return ctx.block_on(keys, r.block.flatten(), TimeoutReply::NullArray);
            }
            Err(e) => return Err(e.into()),
        };
        if let Some((group, _)) = r.group {
            match stream {
                Some(s) if s.groups.contains_key(&group[..]) => {}
                None if serving.is_some() => return Err(error::XREADGROUP_KEY_GONE.into()),
                Some(_) if serving.is_some() => return Err(error::XREADGROUP_GROUP_GONE.into()),
                _ => return Err(error::nogroup_xreadgroup(key, group).into()),
            }
        }
        let id_arg = &id_args[i];
        ids[i] = if id_arg[..] == *b"$" || id_arg[..] == *b"+" {
            let dollar = id_arg[..] == *b"$";
            if xreadgroup {
                return Err(if dollar {
                    error::XREADGROUP_DOLLAR
                } else {
                    error::XREADGROUP_PLUS
                }
                .into());
            }
            // `$`: entries after the last ID; `+` (Redis 7.4): the last
            // entry, so entries after the ID before it.
            let after = match stream {
                None => StreamId::MIN,
                Some(s) if dollar => s.last_id,
                Some(s) => s.last_id.prev().ok_or(error::XREAD_PLUS_AT_ZERO)?,
            };
            // Served after blocking, the command runs with the ID it meant.
            let args = rewritten.get_or_insert_with(|| args.to_vec());
            let mut text = itoa::Buffer::new().format(after.ms).to_string();
            text.push('-');
            text.push_str(itoa::Buffer::new().format(after.seq));
            args[r.streams_at + r.streams + i] = Bytes::from(text);
            after
        } else if id_arg[..] == *b">" {
            if !xreadgroup {
                return Err(error::XREAD_GREATER.into());
            }
            NEW_ENTRIES
        } else {
            parse_strict_id(id_arg)?
        };
        drop(slot);
        if serving.is_none() {
            ctx.count_lookup(hit);
        }
    }

    // 2. Serve what can be served now.
    let count = match (r.count, &serving) {
        (0, Some(_)) => Some(BLOCKED_DEFAULT_COUNT),
        (0, None) => None,
        (n, _) => Some(n),
    };
    let mut served: Vec<(usize, Served)> = Vec::new();
    let mut created_consumers: Vec<usize> = Vec::new();
    for &i in &wanted {
        let key = &keys[i];
        let mut slot = shared.store.slot(db, key, now);
        let Ok(Some(s)) = peek_stream(&slot) else {
            continue;
        };
        let after = ids[i];
        match r.group {
            None => {
                if !s.is_empty() && s.last_valid_id() > after {
                    let from = after.next().unwrap_or(StreamId::MIN);
                    served.push((
                        i,
                        Served::Entries(s.log.range(from, StreamId::MAX, false, count)),
                    ));
                }
            }
            Some((group, consumer)) => {
                let Some(g) = s.groups.get(&group[..]) else {
                    continue;
                };
                let history = after != NEW_ENTRIES;
                let group_last = g.last_id;
                if !history && (s.is_empty() || s.last_valid_id() <= group_last) {
                    continue;
                }
                let noack = r.noack;
                let result = update_stream(&mut slot, |s| {
                    let created = s
                        .groups
                        .get_mut(&group[..])
                        .map(|g| g.touch_consumer(consumer, now));
                    let read = if history {
                        let start = after.next().unwrap_or(StreamId::MIN);
                        s.read_group_history(group, consumer, start, count, now)
                            .map(Served::History)
                    } else {
                        s.read_group_new(group, consumer, group_last, count, noack, now)
                            .map(Served::Entries)
                    };
                    ((created, read), false)
                });
                if let Some((created, Some(read))) = result {
                    if created == Some(true) {
                        created_consumers.push(i);
                    }
                    served.push((i, read));
                }
            }
        }
    }
    for &i in &created_consumers {
        ctx.notify(EventClass::STREAM, "xgroup-createconsumer", &keys[i]);
    }
    if r.group.is_some() && !served.is_empty() {
        ctx.dirty(served.len() as u64 + created_consumers.len() as u64);
    }

    if served.is_empty() {
        if serving.is_some() || r.block.is_some() {
            let timeout = r.block.flatten();
            return match rewritten {
                Some(args) => ctx.block_on_with_args(keys, timeout, TimeoutReply::NullArray, args),
                None => ctx.block_on(keys, timeout, TimeoutReply::NullArray),
            };
        }
        ctx.reply.null_array();
        return Ok(Blocking::Done);
    }
    let resp3 = ctx.reply.is_resp3();
    if resp3 {
        ctx.reply.map(served.len());
    } else {
        ctx.reply.array(served.len());
    }
    for (i, what) in &served {
        if !resp3 {
            ctx.reply.array(2);
        }
        ctx.reply.bulk(&keys[*i]);
        match what {
            Served::Entries(entries) => reply_entries(ctx.reply, entries),
            Served::History(entries) => reply_history(ctx.reply, entries),
        }
    }
    Ok(Blocking::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_redis_parses_them() {
        let id = |ms, seq| StreamId::new(ms, seq);
        assert_eq!(parse_id(b"5", 0).unwrap(), id(5, 0));
        assert_eq!(parse_id(b"5", u64::MAX).unwrap(), id(5, u64::MAX));
        assert_eq!(parse_id(b"5-3", 9).unwrap(), id(5, 3));
        assert_eq!(parse_id(b"-", 0).unwrap(), StreamId::MIN);
        assert_eq!(parse_id(b"+", 0).unwrap(), StreamId::MAX);
        assert!(parse_strict_id(b"-").is_err() && parse_strict_id(b"+").is_err());
        // strtoull's leniency, as Redis's string2ull falls back to it.
        assert_eq!(parse_id(b"007-+1", 0).unwrap(), id(7, 1));
        assert_eq!(parse_id(b" 7", 0).unwrap(), id(7, 0));
        for bad in [
            &b""[..],
            b"-1",
            b"1-",
            b"1-x",
            b"a",
            b"1-2-3",
            b"18446744073709551616",
            b"1-*",
        ] {
            assert!(
                parse_id(bad, 0).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            parse_id_generic(b"4-*", 0, true, true).unwrap(),
            (id(4, 0), false)
        );
        assert_eq!(
            parse_id(b"18446744073709551615-18446744073709551615", 0).unwrap(),
            StreamId::MAX
        );
        assert!(parse_id(&[b'1'; 128], 0).is_err());
    }

    #[test]
    fn ranges_take_exclusive_bounds() {
        let id = |ms, seq| StreamId::new(ms, seq);
        assert_eq!(
            parse_range(b"(1-0", b"(2-0").unwrap(),
            (id(1, 1), id(1, u64::MAX))
        );
        assert_eq!(
            parse_range(b"-", b"+").unwrap(),
            (StreamId::MIN, StreamId::MAX)
        );
        assert_eq!(
            parse_range(b"3", b"3").unwrap(),
            (id(3, 0), id(3, u64::MAX))
        );
        assert!(parse_range(b"(-", b"+").is_err());
        assert!(parse_range(b"-", b"(+").is_err());
        assert!(parse_range(b"(18446744073709551615-18446744073709551615", b"+").is_err());
        assert!(parse_range(b"-", b"(0-0").is_err());
    }
}
