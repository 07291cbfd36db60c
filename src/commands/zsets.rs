//! Sorted set commands: adds with conditions, scores and ranks, ranges by rank,
//! score and lex (and their stores and removals), pops at both ends (with the
//! blocking BZPOPMIN, BZPOPMAX, BZMPOP), union/intersection/difference with
//! weights and aggregates, random members and ZSCAN. Semantics, replies and
//! errors as Redis 7.0's `t_zset.c`.
//!
//! A sorted set is a `Value::ZSet(ZSetValue)` (src/store/zset.rs): O(1) score
//! lookup, O(log n) insert, delete, rank and range. Rules every handler keeps:
//! - Scores print as Redis 7.0 prints doubles: `%.17g`, `inf`, `-inf`
//!   (`reply_score`; RESP3 double frames).
//! - A sorted set is never empty: the command that removes the last member
//!   removes the key (and publishes "del" after its own event).
//! - Encoding policy (OBJECT ENCODING): a set is "listpack" while it has at
//!   most `zset-max-listpack-entries` members, none longer than
//!   `zset-max-listpack-value`; past that it is "skiplist" for good. Values
//!   built whole (ZUNIONSTORE, ZRANGESTORE, ...) are sized to their result.
//! - Multi-key commands are EXCLUSIVE and lock one key at a time (as lists).
//! - A command that gives a key members signals blocked clients
//!   (`BlockingRegistry::signal_ready`) once its shard lock is released.

use std::collections::HashMap;

use bytes::{BufMut, Bytes};

use super::args::parse_i64;
use super::lists::parse_timeout;
use super::{Blocking, BlockingResult, Command, Ctx};
use crate::blocking::TimeoutReply;
use crate::error::{self, CommandError, CommandResult};
use crate::flags;
use crate::glob::glob_match;
use crate::keyspace_events::EventClass;
use crate::store::{unix_ms, Slot, Value, ValueRef, ZSetValue};

/// The group COMMAND INFO/DOCS report for this family (also how the blocking
/// machinery tells a sorted-set waiter from a list one).
pub(crate) const GROUP: &str = "sorted-set";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(GROUP, "zadd", -4, flags![WRITE, DENYOOM, FAST], "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", zadd).keys(1, 1, 1).since("1.2.0"),
    Command::row(GROUP, "zincrby", 4, flags![WRITE, DENYOOM, FAST], "Increments the score of a member in a sorted set.", zincrby).keys(1, 1, 1).since("1.2.0"),
    Command::row(GROUP, "zrem", -3, flags![WRITE, FAST], "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", zrem).keys(1, 1, 1).since("1.2.0"),
    Command::row(GROUP, "zcard", 2, flags![READONLY, FAST], "Returns the number of members in a sorted set.", zcard).keys(1, 1, 1).since("1.2.0"),
    Command::row(GROUP, "zscore", 3, flags![READONLY, FAST], "Returns the score of a member in a sorted set.", zscore).keys(1, 1, 1).since("1.2.0"),
    Command::row(GROUP, "zmscore", -3, flags![READONLY, FAST], "Returns the score of one or more members in a sorted set.", zmscore).keys(1, 1, 1).since("6.2.0"),
    Command::row(GROUP, "zrank", -3, flags![READONLY, FAST], "Returns the index of a member in a sorted set ordered by ascending scores.", zrank).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "zrevrank", -3, flags![READONLY, FAST], "Returns the index of a member in a sorted set ordered by descending scores.", zrevrank).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "zcount", 4, flags![READONLY, FAST], "Returns the count of members in a sorted set that have scores within a range.", zcount).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "zlexcount", 4, flags![READONLY, FAST], "Returns the number of members in a sorted set within a lexicographical range.", zlexcount).keys(1, 1, 1).since("2.8.9"),
    Command::row(GROUP, "zrange", -4, flags![READONLY], "Returns members in a sorted set within a range of indexes.", zrange).keys(1, 1, 1).since("1.2.0"),
    Command::row(GROUP, "zrangestore", -5, flags![WRITE, DENYOOM, EXCLUSIVE], "Stores a range of members from sorted set in a key.", zrangestore).keys(1, 2, 1).since("6.2.0"),
    Command::row(GROUP, "zrevrange", -4, flags![READONLY], "Returns members in a sorted set within a range of indexes in reverse order.", zrevrange).keys(1, 1, 1).since("1.2.0"),
    Command::row(GROUP, "zrangebyscore", -4, flags![READONLY], "Returns members in a sorted set within a range of scores.", zrangebyscore).keys(1, 1, 1).since("1.0.5"),
    Command::row(GROUP, "zrevrangebyscore", -4, flags![READONLY], "Returns members in a sorted set within a range of scores in reverse order.", zrevrangebyscore).keys(1, 1, 1).since("2.2.0"),
    Command::row(GROUP, "zrangebylex", -4, flags![READONLY], "Returns members in a sorted set within a lexicographical range.", zrangebylex).keys(1, 1, 1).since("2.8.9"),
    Command::row(GROUP, "zrevrangebylex", -4, flags![READONLY], "Returns members in a sorted set within a lexicographical range in reverse order.", zrevrangebylex).keys(1, 1, 1).since("2.8.9"),
    Command::row(GROUP, "zremrangebyrank", 4, flags![WRITE], "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", zremrangebyrank).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "zremrangebyscore", 4, flags![WRITE], "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", zremrangebyscore).keys(1, 1, 1).since("1.2.0"),
    Command::row(GROUP, "zremrangebylex", 4, flags![WRITE], "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", zremrangebylex).keys(1, 1, 1).since("2.8.9"),
    Command::row(GROUP, "zpopmin", -2, flags![WRITE, FAST], "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", zpopmin).keys(1, 1, 1).since("5.0.0"),
    Command::row(GROUP, "zpopmax", -2, flags![WRITE, FAST], "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", zpopmax).keys(1, 1, 1).since("5.0.0"),
    // ZMPOP, BZMPOP and the set operations have movable keys (after numkeys).
    Command::row(GROUP, "zmpop", -4, flags![WRITE, EXCLUSIVE], "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", zmpop).since("7.0.0"),
    Command::blocking_row(GROUP, "bzpopmin", -3, flags![WRITE, NOSCRIPT, BLOCKING, FAST], "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", bzpopmin).keys(1, -2, 1).since("5.0.0"),
    Command::blocking_row(GROUP, "bzpopmax", -3, flags![WRITE, NOSCRIPT, BLOCKING, FAST], "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", bzpopmax).keys(1, -2, 1).since("5.0.0"),
    Command::blocking_row(GROUP, "bzmpop", -5, flags![WRITE, BLOCKING, EXCLUSIVE], "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", bzmpop).since("7.0.0"),
    Command::row(GROUP, "zunion", -3, flags![READONLY, EXCLUSIVE], "Returns the union of multiple sorted sets.", zunion).since("6.2.0"),
    Command::row(GROUP, "zinter", -3, flags![READONLY, EXCLUSIVE], "Returns the intersect of multiple sorted sets.", zinter).since("6.2.0"),
    Command::row(GROUP, "zdiff", -3, flags![READONLY, EXCLUSIVE], "Returns the difference between multiple sorted sets.", zdiff).since("6.2.0"),
    Command::row(GROUP, "zunionstore", -4, flags![WRITE, DENYOOM, EXCLUSIVE], "Stores the union of multiple sorted sets in a key.", zunionstore).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "zinterstore", -4, flags![WRITE, DENYOOM, EXCLUSIVE], "Stores the intersect of multiple sorted sets in a key.", zinterstore).keys(1, 1, 1).since("2.0.0"),
    Command::row(GROUP, "zdiffstore", -4, flags![WRITE, DENYOOM, EXCLUSIVE], "Stores the difference of multiple sorted sets in a key.", zdiffstore).keys(1, 1, 1).since("6.2.0"),
    Command::row(GROUP, "zintercard", -3, flags![READONLY, EXCLUSIVE], "Returns the number of members of the intersect of multiple sorted sets.", zintercard).since("7.0.0"),
    Command::row(GROUP, "zrandmember", -2, flags![READONLY], "Returns one or more random members from a sorted set.", zrandmember).keys(1, 1, 1).since("6.2.0"),
    Command::row(GROUP, "zscan", -3, flags![READONLY], "Iterates over members and scores of a sorted set.", zscan).keys(1, 1, 1).since("2.8.0"),
];

// ---------------------------------------------------------------------------
// Scores: parsing and printing
// ---------------------------------------------------------------------------

/// A double as C's `printf("%.17g")` prints it (Redis 7.0's `addReplyDouble`),
/// with infinities as `inf` / `-inf`.
pub(crate) fn format_score(d: f64) -> String {
    crate::printf::g(d, 17)
}

/// Answer a score: a bulk string in RESP2, a double frame in RESP3.
fn reply_score(ctx: &mut Ctx<'_>, score: f64) {
    let text = format_score(score);
    if ctx.reply.is_resp3() {
        ctx.reply.append_frames(|buf| {
            buf.put_u8(b',');
            buf.put_slice(text.as_bytes());
            buf.put_slice(b"\r\n");
        });
    } else {
        ctx.reply.bulk(text.as_bytes());
    }
}

/// C's `isspace`.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The number C's `strtod` reads from all of `text` (no leading white space
/// here), or None. Overflow gives ±inf and underflow 0 (the callers decide).
fn strtod_all(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_whitespace()) {
        return None;
    }
    // Rust accepts "1_0"? No; but it does accept no hex, as strtod would.
    s.parse::<f64>().ok()
}

/// Whether `text` spells an infinity (`inf`, `+infinity`, ...), as opposed to
/// a finite number that overflowed.
fn spells_infinity(text: &[u8]) -> bool {
    let t = text
        .strip_prefix(b"+")
        .or_else(|| text.strip_prefix(b"-"))
        .unwrap_or(text);
    t.eq_ignore_ascii_case(b"inf") || t.eq_ignore_ascii_case(b"infinity")
}

/// Whether the mantissa of `text` has a non-zero digit (so a 0 result is an underflow).
fn has_nonzero_digit(text: &[u8]) -> bool {
    text.iter()
        .take_while(|&&b| b != b'e' && b != b'E')
        .any(|&b| (b'1'..=b'9').contains(&b))
}

/// A score or weight argument as Redis's `getDoubleFromObject`: the whole
/// argument a number, no white space, not NaN, no overflow or underflow.
fn parse_double(arg: &[u8]) -> Option<f64> {
    let v = strtod_all(arg)?;
    if v.is_nan() {
        return None;
    }
    if v.is_infinite() && !spells_infinity(arg) {
        return None;
    }
    if v == 0.0 && has_nonzero_digit(arg) {
        return None;
    }
    Some(v)
}

fn score_arg(arg: &[u8]) -> Result<f64, &'static str> {
    parse_double(arg).ok_or(error::NOT_FLOAT)
}

/// A score range: `min` to `max`, each exclusive when given as `(x`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct ScoreRange {
    min: f64,
    min_ex: bool,
    max: f64,
    max_ex: bool,
}

/// One end of a score range as Redis's `zslParseRange`: `(` for exclusive,
/// then what C's `strtod` reads (leading white space allowed, an empty text is
/// 0, overflow is ±inf), nothing after it, not NaN.
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (text, exclusive) = match arg.strip_prefix(b"(") {
        Some(rest) => (rest, true),
        None => (arg, false),
    };
    let start = text
        .iter()
        .position(|&b| !is_c_space(b))
        .unwrap_or(text.len());
    let text = &text[start..];
    let v = if text.is_empty() {
        0.0
    } else {
        strtod_all(text)?
    };
    if v.is_nan() {
        return None;
    }
    Some((v, exclusive))
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, &'static str> {
    match (parse_score_bound(min), parse_score_bound(max)) {
        (Some((min, min_ex)), Some((max, max_ex))) => Ok(ScoreRange {
            min,
            min_ex,
            max,
            max_ex,
        }),
        _ => Err(error::ZSET_MIN_MAX_NOT_FLOAT),
    }
}

/// One end of a lexicographic range: `-`, `+`, `[member` or `(member`.
#[derive(Clone, Debug, PartialEq)]
enum LexBound {
    MinusInf,
    PlusInf,
    Inclusive(Bytes),
    Exclusive(Bytes),
}

fn parse_lex_bound(arg: &Bytes) -> Option<LexBound> {
    match arg.first()? {
        b'+' if arg.len() == 1 => Some(LexBound::PlusInf),
        b'-' if arg.len() == 1 => Some(LexBound::MinusInf),
        b'[' => Some(LexBound::Inclusive(arg.slice(1..))),
        b'(' => Some(LexBound::Exclusive(arg.slice(1..))),
        _ => None,
    }
}

#[derive(Clone, Debug, PartialEq)]
struct LexRange {
    min: LexBound,
    max: LexBound,
}

impl LexRange {
    fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::MinusInf => true,
            LexBound::PlusInf => false,
            LexBound::Inclusive(x) => m >= &x[..],
            LexBound::Exclusive(x) => m > &x[..],
        }
    }

    fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::MinusInf => false,
            LexBound::PlusInf => true,
            LexBound::Inclusive(x) => m <= &x[..],
            LexBound::Exclusive(x) => m < &x[..],
        }
    }
}

fn parse_lex_range(min: &Bytes, max: &Bytes) -> Result<LexRange, &'static str> {
    match (parse_lex_bound(min), parse_lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(error::ZSET_NOT_STRING_RANGE),
    }
}

/// Ranks `start..end` of the members inside a score range.
fn score_ranks(z: &ZSetValue, r: &ScoreRange) -> (usize, usize) {
    let start = z.count_while(|s, _| s < r.min || (r.min_ex && s == r.min));
    let end = z.count_while(|s, _| s < r.max || (!r.max_ex && s == r.max));
    (start, end.max(start))
}

/// Ranks `start..end` of the members inside a lexicographic range.
///
/// Lex ranges assume every score is equal; when they are not, Redis's answer
/// depends on the encoding, and herald follows it: a listpack is scanned
/// from its first member (the run starts at the first member >= min and
/// lasts while members are <= max), a skiplist is walked by its levels (the
/// rank of the first member >= min to that of the last <= max). On sets of
/// equal scores both are the same contiguous run.
fn lex_ranks(z: &ZSetValue, r: &LexRange) -> (usize, usize) {
    if z.skiplist {
        let start = z.count_while(|_, m| !r.gte_min(m));
        let end = z.count_while(|_, m| r.lte_max(m));
        return (start, end.max(start));
    }
    if !lex_may_match(z, r) {
        return (0, 0);
    }
    let mut it = z.iter().enumerate().skip_while(|(_, (m, _))| !r.gte_min(m));
    let Some((first, (m, _))) = it.next() else {
        return (0, 0);
    };
    if !r.lte_max(m) {
        return (0, 0);
    }
    let run = 1 + it.take_while(|(_, (m, _))| r.lte_max(m)).count();
    (first, first + run)
}

/// Redis `zslIsInLexRange`: min <= max, the last member >= min and the first <= max.
fn lex_may_match(z: &ZSetValue, r: &LexRange) -> bool {
    let value = |b: &LexBound| match b {
        LexBound::Inclusive(x) | LexBound::Exclusive(x) => Some(x.clone()),
        _ => None,
    };
    let ordered = match (&r.min, &r.max) {
        (LexBound::PlusInf, _) | (_, LexBound::MinusInf) => false,
        (LexBound::MinusInf, _) | (_, LexBound::PlusInf) => true,
        (min, max) => match (value(min), value(max)) {
            (Some(a), Some(b)) => {
                let exclusive =
                    matches!(min, LexBound::Exclusive(_)) || matches!(max, LexBound::Exclusive(_));
                a < b || (a == b && !exclusive)
            }
            _ => true,
        },
    };
    let len = z.len();
    ordered
        && z.get_by_rank(len.wrapping_sub(1))
            .is_some_and(|(m, _)| r.gte_min(m))
        && z.get_by_rank(0).is_some_and(|(m, _)| r.lte_max(m))
}

/// A lex range with LIMIT, in reply order, as Redis walks a listpack: from
/// the first member in range (the last, reversed), skip `offset` members
/// unchecked, then take members while they are inside the range's far end.
fn lex_select_listpack(
    z: &ZSetValue,
    r: &LexRange,
    rev: bool,
    offset: usize,
    limit: Option<usize>,
) -> Pairs {
    if !lex_may_match(z, r) {
        return Vec::new();
    }
    let all: Vec<(&[u8], f64)> = z.iter().collect();
    let take = limit.unwrap_or(usize::MAX);
    if rev {
        let Some(last) = all.iter().rposition(|(m, _)| r.lte_max(m)) else {
            return Vec::new();
        };
        if !r.gte_min(all[last].0) || offset > last {
            return Vec::new();
        }
        owned(
            all[..=last - offset]
                .iter()
                .rev()
                .copied()
                .take_while(|(m, _)| r.gte_min(m))
                .take(take),
        )
    } else {
        let Some(first) = all.iter().position(|(m, _)| r.gte_min(m)) else {
            return Vec::new();
        };
        if !r.lte_max(all[first].0) {
            return Vec::new();
        }
        owned(
            all.iter()
                .skip(first.saturating_add(offset))
                .copied()
                .take_while(|(m, _)| r.lte_max(m))
                .take(take),
        )
    }
}

/// Redis's inclusive rank range: negative ranks count from the end, clamped;
/// None when it selects nothing. Returns `start..end` (end exclusive).
fn clamp_ranks(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize + 1))
}

// ---------------------------------------------------------------------------
// Store access and encoding policy
// ---------------------------------------------------------------------------

/// `zset-max-listpack-entries` and `-value`, read once per command.
#[derive(Clone, Copy)]
struct Limits {
    entries: usize,
    value: usize,
}

fn limits(ctx: &Ctx<'_>) -> Limits {
    let config = ctx.shared.config.read();
    Limits {
        entries: usize::try_from(config.zset_max_listpack_entries()).unwrap_or(usize::MAX),
        value: usize::try_from(config.zset_max_listpack_value()).unwrap_or(usize::MAX),
    }
}

/// A value built whole (stores): a skiplist when its size says so.
fn size_encoding(z: &mut ZSetValue, limits: Limits) {
    z.skiplist = z.len() > limits.entries || z.max_member_len() > limits.value;
}

/// Before adding a member of `member_len` bytes: convert once past the limits.
fn grow_encoding(z: &mut ZSetValue, member_len: usize, limits: Limits) {
    if !z.skiplist && (z.len() + 1 > limits.entries || member_len > limits.value) {
        z.skiplist = true;
    }
}

/// The score as the set keeps it: a listpack stores scores as text, where
/// -0 becomes 0 (Redis 7.0); a skiplist keeps the double as it is.
fn stored(z: &ZSetValue, score: f64) -> f64 {
    if !z.skiplist && score == 0.0 {
        0.0
    } else {
        score
    }
}

/// The sorted set at `slot`, without counting an access.
fn peek_zset<'s>(slot: &'s Slot<'_>) -> Result<Option<&'s ZSetValue>, &'static str> {
    match slot.peek().map(|e| e.value()) {
        None => Ok(None),
        Some(ValueRef::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(error::WRONGTYPE),
    }
}

/// The sorted set at `slot` for a read command (counts the access).
fn read_zset<'s>(slot: &'s mut Slot<'_>) -> Result<Option<&'s ZSetValue>, &'static str> {
    match slot.get().map(|e| e.value()) {
        None => Ok(None),
        Some(ValueRef::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(error::WRONGTYPE),
    }
}

/// Apply `f` to the sorted set at `slot`; `f` returns its result and the
/// change in charged bytes. None when the key holds no sorted set.
fn update_zset<R>(slot: &mut Slot<'_>, f: impl FnOnce(&mut ZSetValue) -> (R, isize)) -> Option<R> {
    slot.update_with_charge(|e| match e.zset_mut() {
        Some(z) => {
            let (r, delta) = f(z);
            (Some(r), delta)
        }
        None => (None, 0),
    })
    .flatten()
}

/// Members and scores, owned (what leaves a shard lock).
type Pairs = Vec<(Bytes, f64)>;

fn owned<'a>(it: impl Iterator<Item = (&'a [u8], f64)>) -> Pairs {
    it.map(|(m, s)| (Bytes::copy_from_slice(m), s)).collect()
}

/// Answer members (with scores: flat pairs in RESP2, [member, score] arrays in RESP3).
fn reply_pairs(ctx: &mut Ctx<'_>, pairs: &[(Bytes, f64)], with_scores: bool) {
    let resp3 = ctx.reply.is_resp3();
    if with_scores && !resp3 {
        ctx.reply.array(pairs.len() * 2);
    } else {
        ctx.reply.array(pairs.len());
    }
    for (m, s) in pairs {
        if with_scores && resp3 {
            ctx.reply.array(2);
        }
        ctx.reply.bulk(m);
        if with_scores {
            reply_score(ctx, *s);
        }
    }
}

fn int_arg(arg: &[u8]) -> Result<i64, &'static str> {
    parse_i64(arg).ok_or(error::NOT_INTEGER)
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

// ---------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// What adding one member did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Added {
    New,
    Updated,
    /// Processed, score unchanged.
    Same,
    /// Skipped by NX, XX, GT or LT.
    Nop,
}

/// Redis `zsetAdd` on a set, for a score already checked not to make NaN.
/// Returns what happened, the member's score afterwards and the charge change.
fn add_one(
    z: &mut ZSetValue,
    member: &[u8],
    score: f64,
    f: AddFlags,
    limits: Limits,
) -> (Added, f64, isize) {
    // The common case, a plain ZADD to a skiplist: one probe of the table.
    if z.skiplist && !(f.nx || f.xx || f.gt || f.lt || f.incr) {
        return match z.insert(member, score) {
            (None, delta) => (Added::New, score, delta),
            (Some(old), delta) if old != score => (Added::Updated, score, delta),
            (Some(_), delta) => (Added::Same, score, delta),
        };
    }
    match z.score(member) {
        Some(current) => {
            if f.nx {
                return (Added::Nop, current, 0);
            }
            let new = if f.incr { score + current } else { score };
            if (f.lt && new >= current) || (f.gt && new <= current) {
                return (Added::Nop, current, 0);
            }
            if new == current {
                return (Added::Same, new, 0);
            }
            let (_, delta) = z.insert(member, stored(z, new));
            (Added::Updated, new, delta)
        }
        None if f.xx => (Added::Nop, score, 0),
        None => {
            grow_encoding(z, member.len(), limits);
            let (_, delta) = z.insert(member, stored(z, score));
            (Added::New, score, delta)
        }
    }
}

/// What each pair would do to `z` when none of them changes it; None when
/// some would add or update a member.
fn unchanged_outcomes(
    z: &ZSetValue,
    pairs: &[(f64, &Bytes)],
    f: AddFlags,
) -> Option<Vec<(Added, f64)>> {
    let mut out = Vec::with_capacity(pairs.len());
    for (score, member) in pairs {
        let outcome = match z.score(member) {
            None if f.xx => (Added::Nop, *score),
            None => return None,
            Some(current) if f.nx => (Added::Nop, current),
            Some(current) => {
                let new = if f.incr { score + current } else { *score };
                if (f.lt && new >= current) || (f.gt && new <= current) {
                    (Added::Nop, current)
                } else if new == current {
                    (Added::Same, new)
                } else {
                    return None;
                }
            }
        };
        out.push(outcome);
    }
    Some(out)
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
fn zadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    zadd_generic(ctx, args, false)
}

/// ZINCRBY key increment member
fn zincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    zadd_generic(ctx, args, true)
}

fn zadd_generic(ctx: &mut Ctx<'_>, args: &[Bytes], incr: bool) -> CommandResult {
    let mut f = AddFlags {
        incr,
        ..AddFlags::default()
    };
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is(a, "nx") {
            f.nx = true;
        } else if is(a, "xx") {
            f.xx = true;
        } else if is(a, "ch") {
            f.ch = true;
        } else if is(a, "incr") {
            f.incr = true;
        } else if is(a, "gt") {
            f.gt = true;
        } else if is(a, "lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(error::SYNTAX.into());
    }
    if f.nx && f.xx {
        return Err(error::ZADD_NX_XX.into());
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(error::ZADD_GT_LT_NX.into());
    }
    if f.incr && rest.len() > 2 {
        return Err(error::ZADD_INCR_PAIR.into());
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for pair in rest.chunks_exact(2) {
        pairs.push((score_arg(&pair[0])?, &pair[1]));
    }
    let limits = limits(ctx);
    let key = &args[1];
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    // INCR may make NaN (inf + -inf): refuse before anything changes.
    let existing = peek_zset(&slot)?;
    if f.incr {
        if let (Some(z), Some((inc, member))) = (existing, pairs.first()) {
            if z.score(member).is_some_and(|cur| (cur + inc).is_nan()) && !f.nx {
                return Err(error::ZSET_NAN.into());
            }
        }
    }
    let (mut added, mut updated, mut processed, mut last) = (0i64, 0i64, 0i64, 0.0);
    let mut tally = |outcome: Added, score: f64| {
        match outcome {
            Added::New => added += 1,
            Added::Updated => updated += 1,
            _ => {}
        }
        if outcome != Added::Nop {
            processed += 1;
            last = score;
        }
    };
    // When nothing would change, the set is not touched (its CAS stays, so a
    // WATCH on it holds, as in Redis).
    let unchanged = existing.and_then(|z| unchanged_outcomes(z, &pairs, f));
    let created = existing.is_none();
    if let Some(outcomes) = unchanged {
        for (outcome, score) in outcomes {
            tally(outcome, score);
        }
    } else if created {
        if !f.xx {
            let mut z = ZSetValue::default();
            z.skiplist = limits.entries == 0 || pairs[0].1.len() > limits.value;
            for (score, member) in &pairs {
                let (outcome, score, _) = add_one(&mut z, member, *score, f, limits);
                tally(outcome, score);
            }
            if !z.is_empty() {
                slot.insert(Value::ZSet(z), 0, 0);
            }
        }
    } else {
        update_zset(&mut slot, |z| {
            let mut delta = 0;
            for (score, member) in &pairs {
                let (outcome, score, d) = add_one(z, member, *score, f, limits);
                tally(outcome, score);
                delta += d;
            }
            ((), delta)
        });
    }
    drop(slot);
    if f.incr {
        if processed > 0 {
            reply_score(ctx, last);
        } else {
            ctx.reply.null();
        }
    } else {
        ctx.reply.int(if f.ch { added + updated } else { added });
    }
    if added > 0 || updated > 0 {
        ctx.dirty((added + updated) as u64);
        ctx.notify(EventClass::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if added > 0 {
        ctx.shared.blocking.signal_ready(ctx.session.db(), key);
    }
    Ok(())
}

/// ZREM key member [member ...]
fn zrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let key = &args[1];
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let Some(z) = peek_zset(&slot)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    // A member named twice is removed once.
    let mut seen = std::collections::HashSet::new();
    let deleted = args[2..]
        .iter()
        .filter(|m| z.contains(m) && seen.insert(&m[..]))
        .count();
    let emptied = deleted > 0 && deleted == z.len();
    if emptied {
        slot.remove();
    } else if deleted > 0 {
        update_zset(&mut slot, |z| {
            let delta = args[2..]
                .iter()
                .filter_map(|m| z.remove(m))
                .map(|(_, d)| d)
                .sum();
            ((), delta)
        });
    }
    drop(slot);
    ctx.reply.int(deleted as i64);
    if deleted > 0 {
        ctx.dirty(deleted as u64);
        ctx.notify(EventClass::ZSET, "zrem", key);
        if emptied {
            ctx.notify(EventClass::GENERIC, "del", key);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Reads: ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT
// ---------------------------------------------------------------------------

/// Run `f` on the sorted set at `key` (None when missing) for a read command.
fn with_zset<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(Option<&ZSetValue>) -> R,
) -> Result<R, CommandError> {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let hit = slot.exists();
    let r = read_zset(&mut slot).map(f);
    drop(slot);
    ctx.count_lookup(hit);
    Ok(r?)
}

/// ZCARD key
fn zcard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let n = with_zset(ctx, &args[1], |z| z.map_or(0, ZSetValue::len))?;
    ctx.reply.int(n as i64);
    Ok(())
}

/// ZSCORE key member
fn zscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    match with_zset(ctx, &args[1], |z| z.and_then(|z| z.score(&args[2])))? {
        Some(s) => reply_score(ctx, s),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// ZMSCORE key member [member ...]
fn zmscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let members = &args[2..];
    let scores: Vec<Option<f64>> = with_zset(ctx, &args[1], |z| {
        members.iter().map(|m| z.and_then(|z| z.score(m))).collect()
    })?;
    ctx.reply.array(scores.len());
    for s in scores {
        match s {
            Some(s) => reply_score(ctx, s),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// ZRANK key member [WITHSCORE]
fn zrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    rank_generic(ctx, args, false)
}

/// ZREVRANK key member [WITHSCORE]
fn zrevrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    rank_generic(ctx, args, true)
}

fn rank_generic(ctx: &mut Ctx<'_>, args: &[Bytes], rev: bool) -> CommandResult {
    let with_score = match args.len() {
        3 => false,
        4 if is(&args[3], "withscore") => true,
        _ => return Err(error::SYNTAX.into()),
    };
    let member = &args[2];
    let found = with_zset(ctx, &args[1], |z| {
        let z = z?;
        let rank = z.rank(member)?;
        let score = z.score(member)?;
        Some((if rev { z.len() - 1 - rank } else { rank }, score))
    })?;
    match (found, with_score) {
        (Some((rank, _)), false) => ctx.reply.int(rank as i64),
        (Some((rank, score)), true) => {
            ctx.reply.array(2);
            ctx.reply.int(rank as i64);
            reply_score(ctx, score);
        }
        (None, false) => ctx.reply.null(),
        (None, true) => ctx.reply.null_array(),
    }
    Ok(())
}

/// ZCOUNT key min max
fn zcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let range = parse_score_range(&args[2], &args[3])?;
    let n = with_zset(ctx, &args[1], |z| {
        z.map_or(0, |z| {
            let (a, b) = score_ranks(z, &range);
            b - a
        })
    })?;
    ctx.reply.int(n as i64);
    Ok(())
}

/// ZLEXCOUNT key min max
fn zlexcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let range = parse_lex_range(&args[2], &args[3])?;
    let n = with_zset(ctx, &args[1], |z| {
        z.map_or(0, |z| {
            let (a, b) = lex_ranks(z, &range);
            b - a
        })
    })?;
    ctx.reply.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// Ranges: ZRANGE and its older forms, ZRANGESTORE
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum RangeBy {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// A parsed ZRANGE request.
#[derive(Clone, Debug, PartialEq)]
struct RangeRequest {
    by: RangeBy,
    rev: bool,
    with_scores: bool,
    offset: i64,
    /// Negative = no limit.
    limit: i64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Redis `zrangeGenericCommand`'s parsing: `args` starts at `<min> <max>`,
/// then options. `kind`/`rev` are preset by the older commands (None = auto).
fn parse_range(
    args: &[Bytes],
    store: bool,
    mut kind: Kind,
    mut rev: Option<bool>,
) -> Result<RangeRequest, &'static str> {
    let (mut with_scores, mut offset, mut limit) = (false, 0, -1);
    let mut j = 2;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if !store && is(a, "withscores") {
            with_scores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = int_arg(&args[j + 1])?;
            limit = int_arg(&args[j + 2])?;
            j += 2;
        } else if rev.is_none() && is(a, "rev") {
            rev = Some(true);
        } else if kind == Kind::Auto && is(a, "bylex") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && is(a, "byscore") {
            kind = Kind::Score;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    if limit != -1 && kind == Kind::Rank {
        return Err(error::ZRANGE_LIMIT_NEEDS_BY);
    }
    if with_scores && kind == Kind::Lex {
        return Err(error::ZRANGE_WITHSCORES_BYLEX);
    }
    let (min, max) = if rev && kind != Kind::Rank {
        (&args[1], &args[0])
    } else {
        (&args[0], &args[1])
    };
    let by = match kind {
        Kind::Score => RangeBy::Score(parse_score_range(min, max)?),
        Kind::Lex => RangeBy::Lex(parse_lex_range(min, max)?),
        _ => RangeBy::Rank(int_arg(min)?, int_arg(max)?),
    };
    Ok(RangeRequest {
        by,
        rev,
        with_scores,
        offset,
        limit,
    })
}

/// The members a range request selects, in reply order.
fn select(z: &ZSetValue, r: &RangeRequest) -> Pairs {
    let len = z.len();
    match &r.by {
        RangeBy::Rank(start, end) => match clamp_ranks(*start, *end, len) {
            None => Vec::new(),
            Some((a, b)) if r.rev => owned(z.range(len - b, len - a, true)),
            Some((a, b)) => owned(z.range(a, b, false)),
        },
        RangeBy::Lex(l) if !z.skiplist => {
            if r.offset < 0 {
                return Vec::new();
            }
            let offset = usize::try_from(r.offset).unwrap_or(usize::MAX);
            lex_select_listpack(z, l, r.rev, offset, usize::try_from(r.limit).ok())
        }
        RangeBy::Score(_) | RangeBy::Lex(_) => {
            let (start, end) = match &r.by {
                RangeBy::Score(s) => score_ranks(z, s),
                RangeBy::Lex(l) => lex_ranks(z, l),
                RangeBy::Rank(..) => (0, 0),
            };
            if r.offset < 0 || start >= end {
                return Vec::new();
            }
            let offset = usize::try_from(r.offset).unwrap_or(usize::MAX);
            let span = end - start;
            if offset >= span {
                return Vec::new();
            }
            let take = match usize::try_from(r.limit) {
                Ok(n) => n.min(span - offset),
                Err(_) => span - offset,
            };
            if r.rev {
                let top = end - offset;
                owned(z.range(top - take, top, true))
            } else {
                let first = start + offset;
                owned(z.range(first, first + take, false))
            }
        }
    }
}

fn range_reply(ctx: &mut Ctx<'_>, args: &[Bytes], kind: Kind, rev: Option<bool>) -> CommandResult {
    let request = parse_range(&args[2..], false, kind, rev)?;
    let pairs = with_zset(ctx, &args[1], |z| z.map(|z| select(z, &request)))?;
    reply_pairs(ctx, &pairs.unwrap_or_default(), request.with_scores);
    Ok(())
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    range_reply(ctx, args, Kind::Auto, None)
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    range_reply(ctx, args, Kind::Rank, Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    range_reply(ctx, args, Kind::Score, Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    range_reply(ctx, args, Kind::Score, Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    range_reply(ctx, args, Kind::Lex, Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    range_reply(ctx, args, Kind::Lex, Some(true))
}

/// Store `pairs` as a fresh sorted set at `dst` (sized encoding) and answer
/// its size; an empty result deletes `dst`. `event` is the store's event.
fn store_result(ctx: &mut Ctx<'_>, dst: &Bytes, pairs: Pairs, event: &str) {
    let limits = limits(ctx);
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), dst, unix_ms());
    if pairs.is_empty() {
        let removed = slot.remove().is_some();
        drop(slot);
        ctx.reply.int(0);
        if removed {
            ctx.notify(EventClass::GENERIC, "del", dst);
        }
        return;
    }
    let mut z = ZSetValue::default();
    let longest = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
    z.skiplist = pairs.len() > limits.entries || longest > limits.value;
    for (m, s) in &pairs {
        z.insert(m, stored(&z, *s));
    }
    // Duplicates (none from the set operations) would have made it smaller.
    if z.skiplist {
        size_encoding(&mut z, limits);
    }
    let len = z.len();
    slot.insert(Value::ZSet(z), 0, 0);
    drop(slot);
    ctx.reply.int(len as i64);
    ctx.notify(EventClass::ZSET, event, dst);
    ctx.shared.blocking.signal_ready(ctx.session.db(), dst);
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let request = parse_range(&args[3..], true, Kind::Auto, None)?;
    let pairs = with_zset(ctx, &args[2], |z| z.map(|z| select(z, &request)))?;
    store_result(ctx, &args[1], pairs.unwrap_or_default(), "zrangestore");
    Ok(())
}

// ---------------------------------------------------------------------------
// ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX
// ---------------------------------------------------------------------------

/// Remove the members of ranks `a..b` chosen by `ranks` from the set at `key`.
fn remove_ranks(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    event: &str,
    ranks: impl FnOnce(&ZSetValue) -> Option<(usize, usize)>,
) -> CommandResult {
    let shared = ctx.shared;
    let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
    let Some(z) = peek_zset(&slot)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let len = z.len();
    let (a, b) = match ranks(z) {
        Some((a, b)) if a < b => (a, b),
        _ => {
            ctx.reply.int(0);
            return Ok(());
        }
    };
    let removed = b - a;
    let emptied = removed == len;
    if emptied {
        slot.remove();
    } else {
        let doomed: Vec<Bytes> = z
            .range(a, b, false)
            .map(|(m, _)| Bytes::copy_from_slice(m))
            .collect();
        update_zset(&mut slot, |z| {
            let delta = doomed
                .iter()
                .filter_map(|m| z.remove(m))
                .map(|(_, d)| d)
                .sum();
            ((), delta)
        });
    }
    drop(slot);
    ctx.reply.int(removed as i64);
    ctx.notify(EventClass::ZSET, event, key);
    if emptied {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
    Ok(())
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (start, stop) = (int_arg(&args[2])?, int_arg(&args[3])?);
    remove_ranks(ctx, &args[1], "zremrangebyrank", |z| {
        clamp_ranks(start, stop, z.len())
    })
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let range = parse_score_range(&args[2], &args[3])?;
    remove_ranks(ctx, &args[1], "zremrangebyscore", |z| {
        Some(score_ranks(z, &range))
    })
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let range = parse_lex_range(&args[2], &args[3])?;
    remove_ranks(ctx, &args[1], "zremrangebylex", |z| {
        Some(lex_ranks(z, &range))
    })
}

// ---------------------------------------------------------------------------
// Pops: ZPOPMIN ZPOPMAX ZMPOP and the blocking BZPOPMIN BZPOPMAX BZMPOP
// ---------------------------------------------------------------------------

/// Pop up to `count` members from the low (`max` false) or high end of the
/// first of `keys` holding a sorted set. Ok(None) when none does; WRONGTYPE
/// when a key of another type comes first. Notifies.
fn pop_first(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    max: bool,
    count: usize,
) -> Result<Option<(usize, Pairs)>, &'static str> {
    let shared = ctx.shared;
    for (i, key) in keys.iter().enumerate() {
        let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
        let Some(z) = peek_zset(&slot)? else {
            continue;
        };
        let len = z.len();
        let n = count.min(len);
        let popped = if max {
            owned(z.range(len - n, len, true))
        } else {
            owned(z.range(0, n, false))
        };
        let emptied = n == len;
        if emptied {
            slot.remove();
        } else {
            update_zset(&mut slot, |z| {
                let delta = popped
                    .iter()
                    .filter_map(|(m, _)| z.remove(m))
                    .map(|(_, d)| d)
                    .sum();
                ((), delta)
            });
        }
        drop(slot);
        ctx.notify(
            EventClass::ZSET,
            if max { "zpopmax" } else { "zpopmin" },
            key,
        );
        if emptied {
            ctx.notify(EventClass::GENERIC, "del", key);
        }
        return Ok(Some((i, popped)));
    }
    Ok(None)
}

/// ZPOPMIN key [count]
fn zpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    zpop(ctx, args, false)
}

/// ZPOPMAX key [count]
fn zpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    zpop(ctx, args, true)
}

fn zpop(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> CommandResult {
    if args.len() > 3 {
        return Err(error::SYNTAX.into());
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => Some(
            parse_i64(a)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(error::NOT_POSITIVE)?,
        ),
    };
    if count == Some(0) {
        // Still a type check of the key, then an empty array.
        with_zset(ctx, &args[1], |_| ())?;
        ctx.reply.array(0);
        return Ok(());
    }
    let popped = pop_first(ctx, &args[1..2], max, count.unwrap_or(1))?;
    let pairs = popped.map(|(_, p)| p).unwrap_or_default();
    // RESP3 with a count: [member, score] pairs; otherwise one flat array.
    let nested = ctx.reply.is_resp3() && count.is_some();
    if nested {
        reply_pairs(ctx, &pairs, true);
    } else {
        ctx.reply.array(pairs.len() * 2);
        for (m, s) in &pairs {
            ctx.reply.bulk(m);
            reply_score(ctx, *s);
        }
    }
    Ok(())
}

/// `numkeys key [key ...] MIN|MAX [COUNT count]` of ZMPOP and BZMPOP, with
/// `args[0]` the numkeys argument. Returns the keys, MAX?, and the count.
fn parse_mpop(args: &[Bytes]) -> Result<(&[Bytes], bool, usize), &'static str> {
    // Redis answers these range errors for non-integers too.
    let numkeys = parse_i64(&args[0])
        .filter(|&n| n >= 1)
        .ok_or(error::NUMKEYS_NOT_POSITIVE)?;
    let where_at = match usize::try_from(numkeys).ok().and_then(|n| n.checked_add(1)) {
        Some(i) if i < args.len() => i,
        _ => return Err(error::SYNTAX),
    };
    let max = if is(&args[where_at], "min") {
        false
    } else if is(&args[where_at], "max") {
        true
    } else {
        return Err(error::SYNTAX);
    };
    let mut count = None;
    let mut i = where_at + 1;
    while i < args.len() {
        if count.is_none() && is(&args[i], "count") && i + 1 < args.len() {
            i += 1;
            let n = parse_i64(&args[i])
                .filter(|&n| n >= 1)
                .ok_or(error::COUNT_NOT_POSITIVE)?;
            count = Some(n);
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    Ok((&args[1..where_at], max, count))
}

/// `[key, [[member, score] ...]]` (ZMPOP, BZMPOP).
fn reply_mpop(ctx: &mut Ctx<'_>, key: &Bytes, pairs: &[(Bytes, f64)]) {
    ctx.reply.array(2);
    ctx.reply.bulk(key);
    ctx.reply.array(pairs.len());
    for (m, s) in pairs {
        ctx.reply.array(2);
        ctx.reply.bulk(m);
        reply_score(ctx, *s);
    }
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn zmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (keys, max, count) = parse_mpop(&args[1..])?;
    match pop_first(ctx, keys, max, count)? {
        Some((i, pairs)) => reply_mpop(ctx, &keys[i], &pairs),
        None => ctx.reply.null_array(),
    }
    Ok(())
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
fn bzmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> BlockingResult {
    let (keys, max, count) = parse_mpop(&args[2..])?;
    let timeout = parse_timeout(&args[1])?;
    let serving = ctx.serving().cloned();
    let from = serving.as_ref().map_or(keys, std::slice::from_ref);
    match pop_first(ctx, from, max, count)? {
        Some((i, pairs)) => {
            reply_mpop(ctx, &from[i], &pairs);
            Ok(Blocking::Done)
        }
        None => ctx.block_on(keys, timeout, TimeoutReply::NullArray),
    }
}

/// BZPOPMIN key [key ...] timeout
fn bzpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> BlockingResult {
    blocking_pop(ctx, args, false)
}

/// BZPOPMAX key [key ...] timeout
fn bzpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> BlockingResult {
    blocking_pop(ctx, args, true)
}

/// `[key, member, score]` from the first non-empty set, else block on every key.
fn blocking_pop(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> BlockingResult {
    let keys = &args[1..args.len() - 1];
    let timeout = parse_timeout(&args[args.len() - 1])?;
    let serving = ctx.serving().cloned();
    let from = serving.as_ref().map_or(keys, std::slice::from_ref);
    let Some((i, pairs)) = pop_first(ctx, from, max, 1)? else {
        return ctx.block_on(keys, timeout, TimeoutReply::NullArray);
    };
    ctx.reply.array(3);
    ctx.reply.bulk(&from[i]);
    if let Some((m, s)) = pairs.first() {
        ctx.reply.bulk(m);
        reply_score(ctx, *s);
    }
    Ok(Blocking::Done)
}

// ---------------------------------------------------------------------------
// ZUNION ZINTER ZDIFF (+STORE), ZINTERCARD
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, target: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if value < *target {
                    *target = value;
                }
            }
            Aggregate::Max => {
                if value > *target {
                    *target = value;
                }
            }
        }
    }
}

/// One input of a set operation: its key and size (0 when missing).
struct Source<'a> {
    key: &'a Bytes,
    len: usize,
    weight: f64,
}

/// A parsed set operation.
struct SetOpRequest<'a> {
    sources: Vec<Source<'a>>,
    aggregate: Aggregate,
    with_scores: bool,
    limit: usize,
}

/// Parse `numkeys key [key ...] [options]` (`args[0]` is numkeys) as Redis's
/// `zunionInterDiffGenericCommand`: numkeys, then the keys' types (WRONGTYPE
/// before any option error), then WEIGHTS / AGGREGATE / WITHSCORES / LIMIT
/// as the command allows.
fn parse_setop<'a>(
    ctx: &mut Ctx<'_>,
    name: &str,
    args: &'a [Bytes],
    op: SetOp,
    store: bool,
    card_only: bool,
) -> Result<SetOpRequest<'a>, CommandError> {
    let numkeys = parse_i64(&args[0]).ok_or(error::NOT_INTEGER)?;
    if numkeys < 1 {
        return Err(error::at_least_one_input_key(name).into());
    }
    let numkeys = match usize::try_from(numkeys) {
        Ok(n) if n < args.len() => n,
        _ => return Err(error::SYNTAX.into()),
    };
    let mut sources = Vec::with_capacity(numkeys);
    for key in &args[1..=numkeys] {
        let shared = ctx.shared;
        let mut slot = shared.store.slot(ctx.session.db(), key, unix_ms());
        let len = match slot.get().map(|e| e.value()) {
            None => 0,
            Some(ValueRef::ZSet(z)) => z.len(),
            Some(ValueRef::Set(s)) => s.len(),
            Some(_) => return Err(error::WRONGTYPE.into()),
        };
        sources.push(Source {
            key,
            len,
            weight: 1.0,
        });
    }
    let (mut aggregate, mut with_scores, mut limit) = (Aggregate::Sum, false, 0usize);
    let mut j = numkeys + 1;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if op != SetOp::Diff && !card_only && remaining > numkeys && is(a, "weights") {
            for (i, source) in sources.iter_mut().enumerate() {
                source.weight = parse_double(&args[j + 1 + i]).ok_or(error::WEIGHT_NOT_FLOAT)?;
            }
            j += 1 + numkeys;
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is(a, "aggregate") {
            let v = &args[j + 1];
            aggregate = if is(v, "sum") {
                Aggregate::Sum
            } else if is(v, "min") {
                Aggregate::Min
            } else if is(v, "max") {
                Aggregate::Max
            } else {
                return Err(error::SYNTAX.into());
            };
            j += 2;
        } else if !store && !card_only && is(a, "withscores") {
            with_scores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is(a, "limit") {
            let n = parse_i64(&args[j + 1]).filter(|&n| n >= 0);
            limit = n
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(error::LIMIT_NEGATIVE)?;
            j += 2;
        } else {
            return Err(error::SYNTAX.into());
        }
    }
    Ok(SetOpRequest {
        sources,
        aggregate,
        with_scores,
        limit,
    })
}

/// The members and scores of the set or sorted set at `key` (weighted; NaN as 0).
fn source_pairs(ctx: &Ctx<'_>, key: &[u8], weight: f64) -> Pairs {
    let slot = ctx.shared.store.slot(ctx.session.db(), key, unix_ms());
    let weigh = |s: f64| {
        let v = weight * s;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    match slot.peek().map(|e| e.value()) {
        Some(ValueRef::ZSet(z)) => z
            .iter()
            .map(|(m, s)| (Bytes::copy_from_slice(m), weigh(s)))
            .collect(),
        Some(ValueRef::Set(s)) => s
            .members
            .iter()
            .map(|m| (m.to_bytes(), weigh(1.0)))
            .collect(),
        _ => Vec::new(),
    }
}

/// For each of `members`, its score in the set or sorted set at `key` (sets: 1).
fn lookup_scores(ctx: &Ctx<'_>, key: &[u8], members: &[(Bytes, f64)]) -> Vec<Option<f64>> {
    let slot = ctx.shared.store.slot(ctx.session.db(), key, unix_ms());
    match slot.peek().map(|e| e.value()) {
        Some(ValueRef::ZSet(z)) => members.iter().map(|(m, _)| z.score(m)).collect(),
        Some(ValueRef::Set(s)) => members
            .iter()
            .map(|(m, _)| s.contains(m).then_some(1.0))
            .collect(),
        _ => vec![None; members.len()],
    }
}

/// Compute a set operation: its result in no particular order.
fn compute_setop(ctx: &Ctx<'_>, op: SetOp, req: &mut SetOpRequest<'_>) -> Pairs {
    match op {
        SetOp::Inter => {
            // Smallest first: the candidates are its members.
            req.sources.sort_by_key(|s| s.len);
            if req.sources.first().is_none_or(|s| s.len == 0) {
                return Vec::new();
            }
            let mut candidates = source_pairs(ctx, req.sources[0].key, req.sources[0].weight);
            for source in &req.sources[1..] {
                let found = lookup_scores(ctx, source.key, &candidates);
                let mut kept = Vec::with_capacity(candidates.len());
                for ((m, mut score), other) in candidates.into_iter().zip(found) {
                    // Unlike the first source's, these products are not
                    // cleared of NaN (Redis): a SUM then makes 0, MIN/MAX keep.
                    if let Some(v) = other {
                        req.aggregate.apply(&mut score, v * source.weight);
                        kept.push((m, score));
                    }
                }
                candidates = kept;
                if candidates.is_empty() {
                    break;
                }
            }
            candidates
        }
        SetOp::Union => {
            req.sources.sort_by_key(|s| s.len);
            let mut acc: HashMap<Bytes, f64> = HashMap::new();
            let mut order: Vec<Bytes> = Vec::new();
            for source in &req.sources {
                if source.len == 0 {
                    continue;
                }
                for (m, s) in source_pairs(ctx, source.key, source.weight) {
                    match acc.get_mut(&m) {
                        Some(t) => req.aggregate.apply(t, s),
                        None => {
                            acc.insert(m.clone(), s);
                            order.push(m);
                        }
                    }
                }
            }
            order
                .into_iter()
                .filter_map(|m| acc.get(&m).copied().map(|s| (m, s)))
                .collect()
        }
        SetOp::Diff => {
            let first = &req.sources[0];
            if first.len == 0 {
                return Vec::new();
            }
            let mut candidates = source_pairs(ctx, first.key, 1.0);
            for source in &req.sources[1..] {
                if source.len == 0 {
                    continue;
                }
                let found = lookup_scores(ctx, source.key, &candidates);
                candidates = candidates
                    .into_iter()
                    .zip(found)
                    .filter(|(_, f)| f.is_none())
                    .map(|(p, _)| p)
                    .collect();
                if candidates.is_empty() {
                    break;
                }
            }
            candidates
        }
    }
}

/// Sort a result in the set order (score, then member).
fn sorted(mut pairs: Pairs) -> Pairs {
    pairs.sort_by(|a, b| match a.1.partial_cmp(&b.1) {
        Some(std::cmp::Ordering::Equal) | None => a.0.cmp(&b.0),
        Some(o) => o,
    });
    pairs
}

fn setop_reply(ctx: &mut Ctx<'_>, args: &[Bytes], op: SetOp, name: &str) -> CommandResult {
    let mut req = parse_setop(ctx, name, &args[1..], op, false, false)?;
    let pairs = sorted(compute_setop(ctx, op, &mut req));
    reply_pairs(ctx, &pairs, req.with_scores);
    Ok(())
}

fn setop_store(ctx: &mut Ctx<'_>, args: &[Bytes], op: SetOp, name: &str) -> CommandResult {
    let mut req = parse_setop(ctx, name, &args[2..], op, true, false)?;
    let pairs = compute_setop(ctx, op, &mut req);
    store_result(ctx, &args[1], pairs, name);
    Ok(())
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    setop_reply(ctx, args, SetOp::Union, "zunion")
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    setop_reply(ctx, args, SetOp::Inter, "zinter")
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    setop_reply(ctx, args, SetOp::Diff, "zdiff")
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
fn zunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    setop_store(ctx, args, SetOp::Union, "zunionstore")
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
fn zinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    setop_store(ctx, args, SetOp::Inter, "zinterstore")
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn zdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    setop_store(ctx, args, SetOp::Diff, "zdiffstore")
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let mut req = parse_setop(ctx, "zintercard", &args[1..], SetOp::Inter, false, true)?;
    let n = compute_setop(ctx, SetOp::Inter, &mut req).len();
    let n = if req.limit > 0 { n.min(req.limit) } else { n };
    ctx.reply.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------

/// ZRANDMEMBER key [count [WITHSCORES]]
/// Largest reply ZRANDMEMBER with a negative count may build, in bytes.
const MAX_RANDOM_REPLY_BYTES: u64 = 1 << 30;
/// The least a member costs in a reply: `$0\r\n\r\n` plus its copy's header.
const MIN_REPLY_BYTES_PER_MEMBER: u64 = 16;

fn zrandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if args.len() == 2 {
        let picked = with_zset(ctx, &args[1], |z| {
            z.and_then(|z| z.get_by_rank(fastrand::usize(..z.len())))
                .map(|(m, _)| Bytes::copy_from_slice(m))
        })?;
        match picked {
            Some(m) => ctx.reply.bulk(&m),
            None => ctx.reply.null(),
        }
        return Ok(());
    }
    let count = parse_i64(&args[2]).ok_or(error::NOT_INTEGER)?;
    if count == i64::MIN {
        return Err(error::ZRANDMEMBER_COUNT_RANGE.into());
    }
    let with_scores = match args.len() {
        3 => false,
        4 if is(&args[3], "withscores") => true,
        _ => return Err(error::SYNTAX.into()),
    };
    if with_scores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(error::VALUE_OUT_OF_RANGE.into());
    }
    let pairs = with_zset(ctx, &args[1], |z| {
        let Some(z) = z else {
            return Some(Vec::new());
        };
        let len = z.len();
        let wanted = count.unsigned_abs();
        // Redis writes |count| members whatever it costs (a count near -2^62
        // runs it out of memory); herald refuses a reply that would pass 1 GiB
        // even at the smallest member, as HRANDFIELD and SRANDMEMBER do.
        if count < 0 && wanted > MAX_RANDOM_REPLY_BYTES / MIN_REPLY_BYTES_PER_MEMBER {
            return None;
        }
        let pick = |rank: usize| {
            z.get_by_rank(rank)
                .map(|(m, s)| (Bytes::copy_from_slice(m), s))
        };
        Some(if count < 0 {
            // With repetitions, in random order.
            (0..wanted)
                .filter_map(|_| pick(fastrand::usize(..len)))
                .collect()
        } else if wanted as usize >= len {
            owned(z.iter())
        } else {
            let wanted = wanted as usize;
            let mut ranks: Vec<usize> = if wanted * 3 > len {
                let mut all: Vec<usize> = (0..len).collect();
                fastrand::shuffle(&mut all);
                all.truncate(wanted);
                all
            } else {
                let mut chosen = std::collections::HashSet::with_capacity(wanted);
                while chosen.len() < wanted {
                    chosen.insert(fastrand::usize(..len));
                }
                chosen.into_iter().collect()
            };
            fastrand::shuffle(&mut ranks);
            ranks.into_iter().filter_map(pick).collect()
        })
    })?
    .ok_or(error::VALUE_OUT_OF_RANGE)?;
    reply_pairs(ctx, &pairs, with_scores);
    Ok(())
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
///
/// A listpack-encoded set is returned whole in one call (cursor 0), as Redis
/// does. A larger one is walked in rank order; the cursor is the next rank.
fn zscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let Some(cursor) = super::keys::parse_cursor(&args[2]) else {
        return Err(error::INVALID_CURSOR.into());
    };
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < args.len() {
        let Some(value) = args.get(i + 1) else {
            return Err(error::SYNTAX.into());
        };
        if is(&args[i], "count") {
            match parse_i64(value) {
                Some(n) if n >= 1 => count = usize::try_from(n).unwrap_or(usize::MAX),
                Some(_) => return Err(error::SYNTAX.into()),
                None => return Err(error::NOT_INTEGER.into()),
            }
        } else if is(&args[i], "match") {
            pattern = (&value[..] != b"*").then_some(&value[..]);
        } else {
            return Err(error::SYNTAX.into());
        }
        i += 2;
    }
    let (next, pairs) = with_zset(ctx, &args[1], |z| {
        let Some(z) = z else {
            return (0, Vec::new());
        };
        let start = usize::try_from(cursor).unwrap_or(usize::MAX).min(z.len());
        let end = if z.skiplist {
            start.saturating_add(count).min(z.len())
        } else {
            z.len()
        };
        let next = if end >= z.len() { 0 } else { end as u64 };
        let pairs: Pairs = z
            .range(start, end, false)
            .filter(|(m, _)| pattern.is_none_or(|p| glob_match(p, m)))
            .map(|(m, s)| (Bytes::copy_from_slice(m), s))
            .collect();
        (next, pairs)
    })?;
    ctx.reply.array(2);
    ctx.reply.bulk(next.to_string().as_bytes());
    ctx.reply.array(pairs.len() * 2);
    for (m, s) in &pairs {
        ctx.reply.bulk(m);
        ctx.reply.bulk(format_score(*s).as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_print_as_printf_17g() {
        for (d, s) in [
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.1, "0.10000000000000001"),
            (1.1, "1.1000000000000001"),
            (1e17, "1e+17"),
            (1e16, "10000000000000000"),
            (123456789.0, "123456789"),
            (-42.0, "-42"),
            (9007199254740991.0, "9007199254740991"),
            (-9007199254740992.0, "-9007199254740992"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "4.9406564584124654e-324"),
            (-0.0, "-0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(format_score(d), s, "{d:e}");
        }
    }

    #[test]
    fn doubles_parse_as_redis() {
        assert_eq!(parse_double(b"1.5"), Some(1.5));
        assert_eq!(parse_double(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_double(b"-Infinity"), Some(f64::NEG_INFINITY));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"abc",
            b"1e400",
            b"1e-400",
            b"1.5x",
        ] {
            assert_eq!(parse_double(bad), None, "{bad:?}");
        }
        assert_eq!(parse_score_bound(b"(1"), Some((1.0, true)));
        assert_eq!(parse_score_bound(b" 2"), Some((2.0, false)));
        assert_eq!(parse_score_bound(b""), Some((0.0, false)));
        assert_eq!(parse_score_bound(b"1e400"), Some((f64::INFINITY, false)));
        assert_eq!(parse_score_bound(b"(nan"), None);
        assert_eq!(parse_score_bound(b"1x"), None);
    }

    #[test]
    fn rank_ranges_clamp_like_redis() {
        assert_eq!(clamp_ranks(0, -1, 3), Some((0, 3)));
        assert_eq!(clamp_ranks(-100, 100, 3), Some((0, 3)));
        assert_eq!(clamp_ranks(2, 1, 3), None);
        assert_eq!(clamp_ranks(3, 5, 3), None);
        assert_eq!(clamp_ranks(i64::MIN, i64::MAX, 3), Some((0, 3)));
    }
}
