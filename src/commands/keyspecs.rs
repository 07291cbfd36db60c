//! Key specifications and ACL categories: where a command's keys are in its
//! arguments and how it uses them (COMMAND GETKEYS, GETKEYSANDFLAGS, the key
//! specs and `movablekeys` of COMMAND INFO), and the ACL categories COMMAND
//! INFO and COMMAND LIST FILTERBY ACLCAT report.
//!
//! Rules (Redis 7.0 `db.c` getKeysUsingKeySpecs, `server.c`):
//! - A key spec is a begin search (an argument index, or the argument after a
//!   keyword) and a find-keys rule: a range (last key relative to the first, or
//!   counted from the end when negative; a step; a limit dividing the rest) or
//!   a key count (numkeys at an offset, keys after it).
//! - A spec that runs past the arguments, a numkeys that is not an integer or
//!   is negative, or a spec that yields no key makes the whole extraction fail
//!   (GETKEYS then answers "Invalid arguments specified for command"), except
//!   for commands whose keys are optional (EVAL: an empty list).
//! - A command is `movablekeys` when its legacy (first, last, step) triple
//!   cannot describe its keys: a spec that is not an index+range, a range with
//!   a step other than 1, or ranges that do not follow one another.
//! - ACL categories: those the command declares (its family: @string, @list,
//!   @keyspace, ...) plus those implied by its flags (@write, @read, @admin and
//!   @dangerous, @pubsub, @fast or else @slow, @blocking), in Redis's order.
//!
//! Where the specs come from, in order: a row's own `.key_specs(..)`, the
//! `COMMAND_META` table below (by full name, so rows added by any family get
//! Redis's specs without repeating them), or the row's `.keys(first, last,
//! step)` triple as one range spec.

use bytes::Bytes;

use super::{Command, Flags, TableEntry};

/// One key specification.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeySpec {
    /// Redis's key flags as COMMAND prints them: RO|RW|OW|RM, access, update,
    /// insert, delete, not_key, incomplete, variable_flags.
    pub(crate) flags: &'static [&'static str],
    pub(crate) begin: Begin,
    pub(crate) find: Find,
}

/// Where a spec's search starts.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::enum_variant_names)] // glob-imported by the generated table
pub(crate) enum Begin {
    /// At this argument index (the name is index 0).
    Index(i32),
    /// After this keyword, searched from `startfrom` (negative: from the end, backwards).
    Keyword(&'static str, i32),
    BeginUnknown,
}

/// How a spec finds its keys from where the search started.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::enum_variant_names)]
pub(crate) enum Find {
    /// (lastkey, step, limit)
    Range(i32, i32, i32),
    /// (keynumidx, firstkey, step)
    Keynum(i32, i32, i32),
    FindUnknown,
}

use Begin::*;
use Find::*;

/// Redis's facts about one command.
pub(crate) struct CommandMeta {
    /// Full lower-case name: `get`, `object|encoding`.
    pub(crate) name: &'static str,
    /// Declared ACL categories, lower case, without '@'.
    pub(crate) acl: &'static [&'static str],
    pub(crate) specs: &'static [KeySpec],
    /// GETKEYS (Redis has a key-extraction function) | NO_MANDATORY.
    pub(crate) extra: u8,
    /// Command tips (COMMAND INFO, lower case).
    pub(crate) tips: &'static [&'static str],
}

const GETKEYS: u8 = 1;
const NO_MANDATORY: u8 = 2;

const fn ks(flags: &'static [&'static str], begin: Begin, find: Find) -> KeySpec {
    KeySpec { flags, begin, find }
}

const fn m(
    name: &'static str,
    acl: &'static [&'static str],
    specs: &'static [KeySpec],
    extra: u8,
    tips: &'static [&'static str],
) -> CommandMeta {
    CommandMeta {
        name,
        acl,
        specs,
        extra,
        tips,
    }
}

/// Redis's facts about the command named `full_name`, if Redis has it.
pub(crate) fn meta(full_name: &str) -> Option<&'static CommandMeta> {
    COMMAND_META
        .binary_search_by(|m| m.name.cmp(full_name))
        .ok()
        .map(|i| &COMMAND_META[i])
}

/// Flags for keys described only by a row's `.keys(..)` triple.
const READ_KEY: &[&str] = &["RO", "access"];
const WRITE_KEY: &[&str] = &["RW", "access", "update"];

/// The key specs of a table entry (see the module comment for the order).
pub(crate) fn specs_of(e: &TableEntry) -> Vec<KeySpec> {
    if let Some(specs) = e.command.key_specs {
        return specs.to_vec();
    }
    if let Some(m) = meta(&e.full_name) {
        return m.specs.to_vec();
    }
    let (first, last, step) = e.command.keys;
    if first <= 0 {
        return Vec::new();
    }
    let flags = if e.command.flags.has(Flags::WRITE) {
        WRITE_KEY
    } else {
        READ_KEY
    };
    let lastkey = if last < 0 { last } else { last - first };
    vec![ks(flags, Index(first), Range(lastkey, step, 0))]
}

/// Whether the command's keys are movable (not described by the legacy triple).
pub(crate) fn movable(specs: &[KeySpec]) -> bool {
    if specs.len() == 1 {
        return !matches!(
            specs[0],
            KeySpec {
                begin: Index(_),
                find: Range(..),
                ..
            }
        ) || specs[0].flags.contains(&"incomplete");
    }
    let mut prev_last: i32 = 0;
    let mut movable = false;
    for s in specs {
        match (s.begin, s.find) {
            (Index(pos), Range(lastkey, step, _)) => {
                if step != 1 || (prev_last != 0 && prev_last != pos - 1) {
                    movable = true;
                    continue;
                }
                if s.flags.contains(&"incomplete") {
                    movable = true;
                }
                let abs = if lastkey >= 0 { lastkey + pos } else { lastkey };
                // Unsigned comparison, as Redis: a negative lastkey is the largest.
                prev_last = if (abs as u32) > (prev_last as u32) {
                    abs
                } else {
                    prev_last
                };
            }
            _ => movable = true,
        }
    }
    movable
}

/// Why key extraction failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KeysError {
    /// Arguments that do not fit the specs (or yield no key).
    Invalid,
}

/// The keys of `args` (the command name first) with their flags.
pub(crate) fn extract(
    e: &TableEntry,
    args: &[Bytes],
) -> Result<Vec<(usize, &'static [&'static str])>, KeysError> {
    let specs = specs_of(e);
    let no_mandatory = meta(&e.full_name).is_some_and(|m| m.extra & NO_MANDATORY != 0);
    // Commands whose key flags depend on their options.
    if let Some(keys) = variable_flags(&e.full_name, args) {
        return Ok(keys);
    }
    match by_specs(&specs, args) {
        Some(keys) if !keys.is_empty() => Ok(keys),
        _ if e.full_name == "sort" || e.full_name == "sort_ro" => Ok(sort_keys(args)),
        _ if no_mandatory => Ok(Vec::new()),
        _ => Err(KeysError::Invalid),
    }
}

/// Redis's getKeysUsingKeySpecs: None when a spec does not fit.
fn by_specs(specs: &[KeySpec], args: &[Bytes]) -> Option<Vec<(usize, &'static [&'static str])>> {
    let argc = args.len() as i64;
    let mut keys = Vec::new();
    for s in specs {
        if s.flags.contains(&"not_key") {
            continue;
        }
        let first: i64 = match s.begin {
            Index(pos) => pos as i64,
            Keyword(word, startfrom) => {
                let found = keyword_position(args, word, startfrom);
                match found {
                    Some(i) => i as i64 + 1,
                    None => continue,
                }
            }
            BeginUnknown => return None,
        };
        let (first, last, step) = match s.find {
            Range(lastkey, step, limit) => {
                let last = if lastkey >= 0 {
                    first + lastkey as i64
                } else if limit == 0 {
                    argc + lastkey as i64
                } else {
                    first + ((argc - first) / limit as i64 + lastkey as i64)
                };
                (first, last, step as i64)
            }
            Keynum(keynumidx, firstkey, step) => {
                let at = first + keynumidx as i64;
                if keynumidx as i64 >= argc || at >= argc {
                    return None;
                }
                let numkeys = super::args::parse_i64(&args[at as usize])?;
                if numkeys < 0 {
                    return None;
                }
                let first = first + firstkey as i64;
                (first, first + numkeys - 1, step as i64)
            }
            FindUnknown => return None,
        };
        if last >= argc || last < first || first >= argc || step <= 0 {
            return None;
        }
        let mut i = first;
        while i <= last {
            keys.push((i as usize, s.flags));
            i += step;
        }
        if s.flags.contains(&"incomplete") {
            return None;
        }
    }
    Some(keys)
}

fn keyword_position(args: &[Bytes], word: &str, startfrom: i32) -> Option<usize> {
    let argc = args.len() as i64;
    let start = if startfrom > 0 {
        startfrom as i64
    } else {
        argc + startfrom as i64
    };
    let end = if startfrom > 0 { argc - 1 } else { 1 };
    let mut i = start;
    loop {
        if i >= argc || i < 1 {
            return None;
        }
        if args[i as usize].eq_ignore_ascii_case(word.as_bytes()) {
            return Some(i as usize);
        }
        if i == end {
            return None;
        }
        i += if start <= end { 1 } else { -1 };
    }
}

/// SET and BITFIELD: the key's flags depend on the options.
fn variable_flags(name: &str, args: &[Bytes]) -> Option<Vec<(usize, &'static [&'static str])>> {
    match name {
        "set" if args.len() >= 3 => {
            let get = args[3..].iter().any(|a| a.eq_ignore_ascii_case(b"get"));
            let flags: &'static [&'static str] = if get {
                &["RW", "access", "update"]
            } else {
                &["OW", "update"]
            };
            Some(vec![(1, flags)])
        }
        "bitfield" if args.len() >= 2 => {
            let writes = args[2..]
                .iter()
                .any(|a| a.eq_ignore_ascii_case(b"set") || a.eq_ignore_ascii_case(b"incrby"));
            let flags: &'static [&'static str] = if writes {
                &["RW", "access", "update"]
            } else {
                &["RO", "access"]
            };
            Some(vec![(1, flags)])
        }
        _ => None,
    }
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [STORE dest]:
/// the key, and the last STORE destination.
fn sort_keys(args: &[Bytes]) -> Vec<(usize, &'static [&'static str])> {
    let mut keys: Vec<(usize, &'static [&'static str])> = vec![(1, &["RO", "access"])];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if a.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
            store = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    if let Some(s) = store {
        keys.push((s, &["OW", "update"]));
    }
    keys
}

/// Redis's ACL categories in its order.
const CATEGORY_ORDER: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The ACL categories of a command, without '@', in Redis's order.
pub(crate) fn acl_categories(e: &TableEntry) -> Vec<&'static str> {
    let c: &Command = e.command;
    let mut cats: Vec<&'static str> = match meta(&e.full_name) {
        Some(m) => m.acl.to_vec(),
        None => group_category(c.group).into_iter().collect(),
    };
    let f = c.flags;
    if f.has(Flags::WRITE) {
        cats.push("write");
    }
    if f.has(Flags::READONLY) && !cats.contains(&"scripting") {
        cats.push("read");
    }
    if f.has(Flags::ADMIN) {
        cats.extend(["admin", "dangerous"]);
    }
    if f.has(Flags::PUBSUB) {
        cats.push("pubsub");
    }
    if f.has(Flags::FAST) {
        cats.push("fast");
    }
    if f.has(Flags::BLOCKING) {
        cats.push("blocking");
    }
    if !cats.contains(&"fast") {
        cats.push("slow");
    }
    CATEGORY_ORDER
        .iter()
        .copied()
        .filter(|c| cats.contains(c))
        .collect()
}

/// The category a family's commands declare when Redis has no row for them.
fn group_category(group: &str) -> Option<&'static str> {
    Some(match group {
        "generic" => "keyspace",
        "string" => "string",
        "list" => "list",
        "hash" => "hash",
        "set" => "set",
        "sorted_set" | "sortedset" => "sortedset",
        "bitmap" => "bitmap",
        "hyperloglog" => "hyperloglog",
        "geo" => "geo",
        "stream" => "stream",
        "connection" => "connection",
        "transactions" => "transaction",
        "scripting" => "scripting",
        _ => return None,
    })
}

// The table, generated by tools/gen_keyspecs.py.
include!("keyspecs_table.rs");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        for w in COMMAND_META.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
        assert!(meta("lmpop").is_some() && meta("object|encoding").is_some());
    }

    #[test]
    fn movable_keys_as_redis_computes_them() {
        for (name, expected) in [
            ("set", false),
            ("get", false),
            ("mset", false),
            ("lmove", false),
            ("blpop", false),
            ("rename", false),
            ("lmpop", true),
            ("zunionstore", true),
            ("sort", true),
            ("eval", true),
            ("migrate", true),
            ("georadius", true),
            ("georadius_ro", false),
            ("xread", true),
            ("bitfield", false),
        ] {
            let m = meta(name).unwrap();
            assert_eq!(movable(m.specs), expected, "{name}");
        }
    }
}
