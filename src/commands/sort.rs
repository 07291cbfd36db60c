//! SORT and SORT_RO, as Redis's `sort.c`.
//!
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
//! [ASC|DESC] [ALPHA] [STORE destination]`
//!
//! - The elements of a list or a set (sorted sets plug in here when they
//!   too: one arm in `load`) are sorted by their numeric value, or by bytes
//!   with ALPHA; `BY pattern` sorts by the value of another key: the first
//!   `*` of the pattern is replaced by the element, and `key->field` reads a
//!   hash field. A BY pattern without `*` means "don't sort": lists keep
//!   their order (DESC reverses it), sets their native order (but STORE sorts
//!   a set ALPHA, so what is stored does not depend on hash order).
//! - Numeric sorting reads values as C `strtod` does (the whole string, no
//!   overflow, no NaN), else "One or more scores can't be converted into
//!   double"; a missing BY key weighs 0 (ALPHA: sorts first). Equal weights
//!   fall back to comparing the elements' bytes.
//! - The sort is stable (glibc's qsort is a merge sort, so Redis's ties come
//!   out in the same order).
//! - `GET #` is the element itself; a GET pattern without `*`, a missing key,
//!   a key of the wrong type or a missing field answers nil (STORE: "").
//! - STORE replaces the destination with a list (TTL cleared) and publishes
//!   `sortstore`, or deletes it when the result is empty; SORT_RO has no STORE.
//! - Pattern keys are arbitrary keys of the database, unknown before the
//!   sort: SORT runs EXCLUSIVE (every other command held off), so its many
//!   lookups, one shard lock at a time, see one consistent keyspace. Each
//!   pattern lookup counts as a read (keyspace hits/misses, `keymiss`).

use std::cmp::Ordering;
use std::collections::VecDeque;

use bytes::Bytes;

use super::args::parse_i64;
use super::{Command, Ctx};
use crate::error::{self, CommandError, CommandResult};
use crate::flags;
use crate::keyspace_events::EventClass;
use crate::store::compact_bytes::CompactBytes;
use crate::store::{unix_ms, Value, ValueRef};

const GROUP: &str = "generic";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "sort",
        -2,
        flags![WRITE, DENYOOM, EXCLUSIVE],
        "Sort the elements in a list, set or sorted set",
        sort,
    )
    .keys(1, 1, 1),
    Command::row(
        GROUP,
        "sort_ro",
        -2,
        flags![READONLY, EXCLUSIVE],
        "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        sort_ro,
    )
    .keys(1, 1, 1)
    .since("7.0.0"),
];

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]
fn sort(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    sort_generic(ctx, args, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
fn sort_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    sort_generic(ctx, args, true)
}

/// The options, parsed in order as Redis does (the last BY and STORE win).
struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<&'a Bytes>,
    by: Option<&'a [u8]>,
    /// A BY pattern without `*` was given.
    dont_sort: bool,
    gets: Vec<&'a [u8]>,
}

fn parse_options(args: &[Bytes], read_only: bool) -> Result<Options<'_>, CommandError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        store: None,
        by: None,
        dont_sort: false,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < args.len() {
        let word = &args[j][..];
        let left = args.len() - j - 1;
        if word.eq_ignore_ascii_case(b"asc") {
            o.desc = false;
        } else if word.eq_ignore_ascii_case(b"desc") {
            o.desc = true;
        } else if word.eq_ignore_ascii_case(b"alpha") {
            o.alpha = true;
        } else if word.eq_ignore_ascii_case(b"limit") && left >= 2 {
            let int = |a: &[u8]| parse_i64(a).ok_or(CommandError::from(error::NOT_INTEGER));
            o.limit_start = int(&args[j + 1])?;
            o.limit_count = int(&args[j + 2])?;
            j += 2;
        } else if !read_only && word.eq_ignore_ascii_case(b"store") && left >= 1 {
            o.store = Some(&args[j + 1]);
            j += 1;
        } else if word.eq_ignore_ascii_case(b"by") && left >= 1 {
            o.by = Some(&args[j + 1]);
            if !args[j + 1].contains(&b'*') {
                o.dont_sort = true;
            }
            j += 1;
        } else if word.eq_ignore_ascii_case(b"get") && left >= 1 {
            o.gets.push(&args[j + 1]);
            j += 1;
        } else {
            return Err(error::SYNTAX.into());
        }
        j += 1;
    }
    Ok(o)
}

/// What the sorted key holds, loaded.
enum Loaded {
    /// A list (or a missing key): its elements in order.
    List(Vec<Bytes>),
    /// A set: its members in their native order.
    Set(Vec<Bytes>),
}

/// The elements of the key to sort, or WRONGTYPE. New sortable types (sorted
/// sets) add an arm here.
fn load(value: Option<ValueRef<'_>>) -> Result<Loaded, CommandError> {
    match value {
        None => Ok(Loaded::List(Vec::new())),
        Some(ValueRef::List(items)) => Ok(Loaded::List(items.iter().cloned().collect())),
        Some(ValueRef::Set(set)) => Ok(Loaded::Set(
            set.ordered()
                .into_iter()
                .map(CompactBytes::to_bytes)
                .collect(),
        )),
        // A sorted set in score order: BY nosort keeps it (DESC reverses).
        Some(ValueRef::ZSet(z)) => Ok(Loaded::List(
            z.iter().map(|(m, _)| Bytes::copy_from_slice(m)).collect(),
        )),
        Some(_) => Err(error::WRONGTYPE.into()),
    }
}

/// One element with what it is sorted by.
struct Item {
    element: Bytes,
    score: f64,
    /// ALPHA with BY: the value of the BY key (None sorts first).
    by_value: Option<Bytes>,
}

fn sort_generic(ctx: &mut Ctx<'_>, args: &[Bytes], read_only: bool) -> CommandResult {
    let mut o = parse_options(args, read_only)?;
    let key = &args[1];
    let now_ms = unix_ms();
    let (hit, loaded) = {
        let mut slot = ctx.shared.store.slot(ctx.db(), key, now_ms);
        let value = slot.get().map(|e| e.value());
        (value.is_some(), load(value))
    };
    count_read(ctx, key, hit);
    let loaded = loaded?;
    let is_set = matches!(loaded, Loaded::Set(_));
    let elements = match loaded {
        Loaded::List(v) | Loaded::Set(v) => v,
    };
    // A set stored (or returned to a script) without sorting would depend on
    // hash order: sort it ALPHA, as Redis does for replication's sake.
    if o.dont_sort && is_set && (o.store.is_some() || ctx.session.in_script) {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }

    // LIMIT, clamped to the length as Redis does (end < start: nothing).
    let len = elements.len() as i64;
    let mut start = o.limit_start.max(0).min(len);
    let count = o.limit_count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);

    let mut elements = elements;
    if o.dont_sort && !is_set && o.desc {
        // A list not sorted comes out in its own order, from the tail for DESC.
        elements.reverse();
    }
    let mut items: Vec<Item> = elements
        .into_iter()
        .map(|element| Item {
            element,
            score: 0.0,
            by_value: None,
        })
        .collect();

    let mut not_a_double = false;
    if !o.dont_sort {
        for item in &mut items {
            let weight = match o.by {
                Some(pattern) => match lookup_by_pattern(ctx, pattern, &item.element, now_ms) {
                    Some(v) => v,
                    None => continue,
                },
                None => item.element.clone(),
            };
            if o.alpha {
                if o.by.is_some() {
                    item.by_value = Some(weight);
                }
            } else {
                match strtod(&weight) {
                    Some(score) => item.score = score,
                    None => not_a_double = true,
                }
            }
        }
        if !not_a_double {
            let (alpha, by, desc) = (o.alpha, o.by.is_some(), o.desc);
            items.sort_by(|a, b| {
                let cmp = compare(a, b, alpha, by);
                if desc {
                    cmp.reverse()
                } else {
                    cmp
                }
            });
        }
    }
    if not_a_double {
        return Err(error::SORT_NOT_A_DOUBLE.into());
    }

    let selected: &[Item] = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let per_item = o.gets.len().max(1);
    let output_len = per_item * selected.len();
    match o.store {
        None => {
            ctx.reply.array(output_len);
            for item in selected {
                if o.gets.is_empty() {
                    ctx.reply.bulk(&item.element);
                }
                for pattern in &o.gets {
                    match lookup_by_pattern(ctx, pattern, &item.element, now_ms) {
                        Some(v) => ctx.reply.bulk(&v),
                        None => ctx.reply.null(),
                    }
                }
            }
        }
        Some(dest) => {
            let mut list = VecDeque::with_capacity(output_len);
            for item in selected {
                if o.gets.is_empty() {
                    list.push_back(item.element.clone());
                }
                for pattern in &o.gets {
                    let v = lookup_by_pattern(ctx, pattern, &item.element, now_ms);
                    list.push_back(v.unwrap_or_default());
                }
            }
            store_result(ctx, dest, list, now_ms);
            ctx.reply.int(output_len as i64);
        }
    }
    Ok(())
}

/// Replace `dest` with the result list, or delete it when the result is empty.
fn store_result(ctx: &mut Ctx<'_>, dest: &Bytes, list: VecDeque<Bytes>, now_ms: u64) {
    let db = ctx.db();
    if list.is_empty() {
        let removed = ctx.shared.store.slot(db, dest, now_ms).remove().is_some();
        if removed {
            ctx.notify(EventClass::GENERIC, "del", dest);
        }
        return;
    }
    let created = {
        let mut slot = ctx.shared.store.slot(db, dest, now_ms);
        let created = !slot.exists();
        slot.insert(Value::List(list), 0, 0);
        created
    };
    if created {
        ctx.notify(EventClass::NEW_KEY, "new", dest);
    }
    ctx.notify(EventClass::LIST, "sortstore", dest);
    ctx.shared.blocking.signal_ready(db, dest);
}

/// Redis `sortCompare`.
fn compare(a: &Item, b: &Item, alpha: bool, by: bool) -> Ordering {
    if !alpha {
        return match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => a.element.cmp(&b.element),
            Some(o) => o,
        };
    }
    if by {
        // A missing BY value sorts first.
        a.by_value.cmp(&b.by_value)
    } else {
        a.element.cmp(&b.element)
    }
}

/// Count one read lookup (INFO keyspace_hits/misses; a miss raises `keymiss`).
fn count_read(ctx: &Ctx<'_>, key: &[u8], hit: bool) {
    ctx.count_lookup(hit);
    if !hit {
        ctx.notify(EventClass::KEY_MISS, "keymiss", key);
    }
}

/// Where a pattern's parts are: the key to read and, for `key->field`, the field.
#[derive(Debug, PartialEq, Eq)]
struct PatternKey {
    key: Vec<u8>,
    field: Option<Vec<u8>>,
}

/// Redis `lookupKeyByPattern`'s substitution: None when the pattern has no
/// `*` (nothing to look up). The first `*` is replaced by `element`; a `->`
/// after it followed by at least one byte names a hash field.
fn substitute(pattern: &[u8], element: &[u8]) -> Option<PatternKey> {
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&i| i + 2 < after.len());
    let (middle, field) = match arrow {
        Some(i) => (&after[..i], Some(after[i + 2..].to_vec())),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(middle);
    Some(PatternKey { key, field })
}

/// The value a BY or GET pattern gives for `element`: `#` is the element;
/// otherwise a string key's value or a hash field, None if missing or of
/// another type.
fn lookup_by_pattern(ctx: &Ctx<'_>, pattern: &[u8], element: &Bytes, now_ms: u64) -> Option<Bytes> {
    if pattern == b"#" {
        return Some(element.clone());
    }
    let target = substitute(pattern, element)?;
    let (hit, value) = {
        let mut slot = ctx.shared.store.slot(ctx.db(), &target.key, now_ms);
        match slot.get() {
            None => (false, None),
            Some(e) => {
                let v = match (&target.field, e.value()) {
                    (Some(field), ValueRef::Hash(h)) => h.get(field).map(Bytes::copy_from_slice),
                    (None, ValueRef::Str(_)) => e.str_bytes(),
                    _ => None,
                };
                (true, v)
            }
        }
    };
    count_read(ctx, &target.key, hit);
    value
}

/// A weight as C `strtod` reads it for SORT: the whole string (leading
/// white space allowed; reading stops at a NUL byte), decimal or hex, `inf`;
/// None for anything else, NaN, or a value out of range (ERANGE: overflow to
/// infinity or underflow). An empty string is 0, as strtod converts nothing
/// and leaves the end at the terminator.
fn strtod(bytes: &[u8]) -> Option<f64> {
    let bytes = bytes.split(|&b| b == 0).next().unwrap_or_default();
    if bytes.is_empty() {
        return Some(0.0);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, unsigned) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let lower = unsigned.to_ascii_lowercase();
    let magnitude = if lower == "inf" || lower == "infinity" {
        f64::INFINITY
    } else if let Some(hex) = lower.strip_prefix("0x") {
        parse_hex_float(hex)?
    } else {
        // Rust's parser takes what strtod's decimal form takes, and also
        // "nan"/"inf" spellings already handled or refused below.
        if !unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        {
            return None;
        }
        let v: f64 = unsigned.parse().ok()?;
        if v.is_infinite() {
            return None; // overflow
        }
        let has_nonzero_digit = unsigned
            .split(['e', 'E'])
            .next()
            .is_some_and(|m| m.bytes().any(|b| (b'1'..=b'9').contains(&b)));
        if (v == 0.0 && has_nonzero_digit) || (v != 0.0 && v.abs() < f64::MIN_POSITIVE) {
            return None; // underflow
        }
        v
    };
    if magnitude.is_nan() {
        return None;
    }
    Some(if negative { -magnitude } else { magnitude })
}

/// The digits of a hex float after `0x`: `h[.h][p[+-]d]`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mantissa, exponent) = match s.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int_part.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let v = v * 2f64.powi(exponent);
    (v.is_finite()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_substitute_the_first_star() {
        let k = |key: &str, field: Option<&str>| {
            Some(PatternKey {
                key: key.as_bytes().to_vec(),
                field: field.map(|f| f.as_bytes().to_vec()),
            })
        };
        assert_eq!(substitute(b"weight_*", b"3"), k("weight_3", None));
        assert_eq!(substitute(b"w_*_x*", b"3"), k("w_3_x*", None));
        assert_eq!(
            substitute(b"wobj_*->weight", b"3"),
            k("wobj_3", Some("weight"))
        );
        assert_eq!(substitute(b"x:*->", b"a"), k("x:a->", None));
        assert_eq!(substitute(b"a->b*c", b"1"), k("a->b1c", None));
        assert_eq!(substitute(b"*->f->g", b"1"), k("1", Some("f->g")));
        assert_eq!(substitute(b"nostar", b"1"), None);
    }

    #[test]
    fn weights_read_as_strtod() {
        for (text, v) in [
            ("1", Some(1.0)),
            ("-2.5", Some(-2.5)),
            ("  7", Some(7.0)),
            ("1e3", Some(1000.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("", Some(0.0)),
            ("inf", Some(f64::INFINITY)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
            ("0x10", Some(16.0)),
            ("0x1p4", Some(16.0)),
            ("3\0junk", Some(3.0)),
            ("not-a-double", None),
            ("nan", None),
            ("1e400", None),
            ("1e-400", None),
            ("1 ", None),
            (" ", None),
            ("1e", None),
            ("0", Some(0.0)),
            ("0e10", Some(0.0)),
        ] {
            assert_eq!(strtod(text.as_bytes()), v, "{text:?}");
        }
    }
}
