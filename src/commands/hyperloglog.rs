//! HyperLogLog commands, as Redis's `hyperloglog.c`: PFADD, PFCOUNT,
//! PFMERGE, and the debugging pair PFDEBUG, PFSELFTEST.
//!
//! An HLL is an ordinary string value in Redis's own format
//! (`store::hyperloglog`): GET returns its bytes, SET of such bytes makes a
//! usable HLL, and APPEND/SETRANGE may corrupt it, which these commands
//! detect: a bad header is `-WRONGTYPE Key is not a valid HyperLogLog string
//! value.`, sparse opcodes that do not cover the registers `-INVALIDOBJ`.
//!
//! Rules:
//! - PFADD and PFMERGE change a value only when a register rises (a PFADD
//!   that raises nothing leaves the value, its CAS and WATCH alone and
//!   publishes nothing); both invalidate the cached cardinality and publish
//!   `pfadd` (class `$`), after `new` when they created the key.
//! - PFCOUNT of one key answers from the cache when it is valid, else counts
//!   and stores the count in the value (a change, as in Redis: WATCH sees it).
//!   PFCOUNT of several keys counts their union and caches nothing.
//! - PFCOUNT and PFMERGE's sources are reads (keyspace hits/misses, `keymiss`);
//!   PFMERGE looks up its destination as one of its sources first (Redis 7.0),
//!   so a destination of another type is refused before anything changes.
//! - `hll-sparse-max-bytes` (CONFIG SET) is the size past which a sparse
//!   value becomes dense.

use bytes::{Bytes, BytesMut};

use super::{Command, Ctx};
use crate::error::{self, CommandError, CommandResult};
use crate::flags;
use crate::keyspace_events::EventClass;
use crate::store::hyperloglog::{self as hll, Encoding, REGISTERS};
use crate::store::{unix_ms, Value, ValueRef};

const GROUP: &str = "hyperloglog";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "pfadd",
        -2,
        flags![WRITE, DENYOOM, FAST],
        "Adds the specified elements to the specified HyperLogLog.",
        pfadd,
    )
    .keys(1, 1, 1)
    .since("2.8.9"),
    Command::row(
        GROUP,
        "pfcount",
        -2,
        flags![READONLY],
        "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        pfcount,
    )
    .keys(1, -1, 1)
    .since("2.8.9"),
    Command::row(
        GROUP,
        "pfmerge",
        -2,
        flags![WRITE, DENYOOM],
        "Merge N different HyperLogLogs into a single one.",
        pfmerge,
    )
    .keys(1, -1, 1)
    .since("2.8.9"),
    Command::row(
        GROUP,
        "pfdebug",
        3,
        flags![WRITE, DENYOOM, ADMIN],
        "Internal commands for debugging HyperLogLog values",
        pfdebug,
    )
    .keys(2, 2, 1)
    .since("2.8.9"),
    Command::row(
        GROUP,
        "pfselftest",
        1,
        flags![ADMIN],
        "An internal command for testing HyperLogLog values",
        pfselftest,
    )
    .since("2.8.9"),
];

/// `hll-sparse-max-bytes`, read before any key is locked.
fn sparse_max_bytes(ctx: &Ctx<'_>) -> usize {
    usize::try_from(ctx.shared.config.read().hll_sparse_max_bytes).unwrap_or(usize::MAX)
}

/// The string at a key as an HLL: its encoding, or the error Redis's
/// `isHLLObjectOrReply` answers.
fn check_hll(value: ValueRef<'_>) -> Result<Encoding, CommandError> {
    match value {
        ValueRef::Str(s) => hll::check(s).map_err(|_| error::HLL_WRONGTYPE.into()),
        _ => Err(error::WRONGTYPE.into()),
    }
}

fn corrupt(_: hll::Corrupt) -> CommandError {
    error::HLL_CORRUPT.into()
}

/// Count one read lookup (INFO keyspace_hits/misses; a miss raises `keymiss`).
fn count_read(ctx: &Ctx<'_>, key: &[u8], hit: bool) {
    ctx.count_lookup(hit);
    if !hit {
        ctx.notify(EventClass::KEY_MISS, "keymiss", key);
    }
}

/// Raise registers (index, count) in order; whether any rose. Stops at the
/// first corrupted opcode, keeping what was done before it (as Redis).
fn raise_all(
    value: &mut BytesMut,
    hashed: &[(usize, u8)],
    sparse_max: usize,
) -> Result<bool, hll::Corrupt> {
    let mut raised = false;
    for &(index, count) in hashed {
        raised |= hll::raise(value, index, count, sparse_max)?;
    }
    Ok(raised)
}

/// PFADD key [element ...]
fn pfadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let key = &args[1];
    let hashed: Vec<(usize, u8)> = args[2..].iter().map(|e| hll::hash_element(e)).collect();
    let sparse_max = sparse_max_bytes(ctx);
    // (created, updated, the INVALIDOBJ met on the way)
    let (created, updated, failed) = {
        let mut slot = ctx.shared.store.slot(ctx.db(), key, unix_ms());
        match slot.peek().map(|e| e.value()) {
            None => {
                let mut value = hll::new_sparse();
                // A fresh HLL cannot be corrupt.
                let _ = raise_all(&mut value, &hashed, sparse_max);
                hll::invalidate_cache(&mut value);
                slot.insert(Value::Str(value.freeze()), 0, 0);
                (true, true, None)
            }
            Some(v) => {
                check_hll(v)?;
                let bytes = v.as_str().unwrap_or_default();
                if !hashed.iter().any(|&(i, c)| hll::would_raise(bytes, i, c)) {
                    (false, false, None)
                } else {
                    let outcome = slot
                        .update(|e| {
                            e.edit_str(|value| {
                                let outcome = raise_all(value, &hashed, sparse_max);
                                if outcome == Ok(true) {
                                    hll::invalidate_cache(value);
                                }
                                outcome
                            })
                        })
                        .flatten()
                        .unwrap_or(Ok(false));
                    match outcome {
                        Ok(updated) => (false, updated, None),
                        Err(c) => (false, false, Some(corrupt(c))),
                    }
                }
            }
        }
    };
    if created {
        ctx.notify(EventClass::NEW_KEY, "new", key);
    }
    if let Some(err) = failed {
        return Err(err);
    }
    if updated {
        ctx.notify(EventClass::STRING, "pfadd", key);
    }
    ctx.reply.int(updated as i64);
    Ok(())
}

/// PFCOUNT key [key ...]
fn pfcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if args.len() > 2 {
        return pfcount_union(ctx, &args[1..]);
    }
    let key = &args[1];
    let (hit, count) = {
        let mut slot = ctx.shared.store.slot(ctx.db(), key, unix_ms());
        match slot.get().map(|e| count_one(e.value())) {
            None => (false, Ok(0)),
            Some(Ok((card, true))) => {
                slot.update(|e| e.edit_str(|v| hll::store_cardinality(v, card)));
                (true, Ok(card))
            }
            Some(counted) => (true, counted.map(|(card, _)| card)),
        }
    };
    count_read(ctx, key, hit);
    ctx.reply.int(count? as i64);
    Ok(())
}

/// The cardinality of one HLL: its valid cache (false), or a fresh count
/// (true) the caller stores in it.
fn count_one(value: ValueRef<'_>) -> Result<(u64, bool), CommandError> {
    check_hll(value)?;
    let bytes = value.as_str().unwrap_or_default();
    match hll::cached_cardinality(bytes) {
        Some(card) => Ok((card, false)),
        None => Ok((hll::cardinality(bytes).map_err(corrupt)?, true)),
    }
}

/// PFCOUNT of several keys: the union's count (missing keys are empty HLLs).
fn pfcount_union(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> CommandResult {
    let now_ms = unix_ms();
    let mut max = Box::new([0u8; REGISTERS]);
    let mut lookups = Vec::with_capacity(keys.len());
    let merged = {
        let mut locked = ctx
            .shared
            .store
            .lock_keys(ctx.db(), keys.iter().map(|k| &k[..]));
        keys.iter().try_for_each(|key| {
            let mut slot = locked.slot(key, now_ms);
            let found = slot.get().map(|e| e.value());
            lookups.push(found.is_some());
            match found {
                None => Ok(()),
                Some(v) => {
                    check_hll(v)?;
                    hll::merge_into(&mut max, v.as_str().unwrap_or_default()).map_err(corrupt)
                }
            }
        })
    };
    for (key, &hit) in keys.iter().zip(&lookups) {
        count_read(ctx, key, hit);
    }
    merged?;
    ctx.reply.int(hll::count_registers(&max) as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]
///
/// The union of the sources' and the destination's registers is written into
/// the destination, created if missing (dense if any input was dense).
fn pfmerge(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let dest = &args[1];
    let sparse_max = sparse_max_bytes(ctx);
    let now_ms = unix_ms();
    let mut max = Box::new([0u8; REGISTERS]);
    let mut lookups = Vec::with_capacity(args.len() - 1);
    let mut use_dense = false;
    let outcome: Result<bool, CommandError> = {
        let mut locked = ctx
            .shared
            .store
            .lock_keys(ctx.db(), args[1..].iter().map(|k| &k[..]));
        let merged = args[1..].iter().try_for_each(|key| {
            let mut slot = locked.slot(key, now_ms);
            let found = slot.get().map(|e| e.value());
            lookups.push(found.is_some());
            match found {
                None => Ok(()),
                Some(v) => {
                    use_dense |= check_hll(v)? == Encoding::Dense;
                    hll::merge_into(&mut max, v.as_str().unwrap_or_default()).map_err(corrupt)
                }
            }
        });
        merged.and_then(|()| {
            let write = |value: &mut BytesMut| -> Result<(), hll::Corrupt> {
                if use_dense {
                    hll::to_dense(value)?;
                }
                for (index, &count) in max.iter().enumerate().filter(|(_, &c)| c > 0) {
                    // The destination was checked as a source: it is valid.
                    let _ = hll::raise(value, index, count, sparse_max);
                }
                hll::invalidate_cache(value);
                Ok(())
            };
            let mut slot = locked.slot(dest, now_ms);
            if slot.exists() {
                slot.update(|e| e.edit_str(write))
                    .flatten()
                    .unwrap_or(Ok(()))
                    .map_err(corrupt)?;
                Ok(false)
            } else {
                let mut value = hll::new_sparse();
                let written = write(&mut value);
                slot.insert(Value::Str(value.freeze()), 0, 0);
                written.map_err(corrupt)?;
                Ok(true)
            }
        })
    };
    for (key, &hit) in args[1..].iter().zip(&lookups) {
        count_read(ctx, key, hit);
    }
    let created = outcome?;
    if created {
        ctx.notify(EventClass::NEW_KEY, "new", dest);
    }
    ctx.reply.ok();
    ctx.notify(EventClass::STRING, "pfadd", dest);
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
///
/// As Redis, the key is looked up and checked before the subcommand is:
/// a missing key is an error whatever the subcommand says.
fn pfdebug(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (sub, key) = (&args[1], &args[2]);
    let mut slot = ctx.shared.store.slot(ctx.db(), key, unix_ms());
    let Some(entry) = slot.peek() else {
        return Err(error::PFDEBUG_NO_SUCH_KEY.into());
    };
    let encoding = check_hll(entry.value())?;
    let value_of = |slot: &crate::store::Slot<'_>| {
        slot.peek()
            .and_then(|e| e.value().as_str().map(<[u8]>::to_vec))
            .unwrap_or_default()
    };
    let to_dense = |slot: &mut crate::store::Slot<'_>| -> Result<bool, CommandError> {
        if encoding != Encoding::Sparse {
            return Ok(false);
        }
        slot.update(|e| e.edit_str(hll::to_dense))
            .flatten()
            .unwrap_or(Ok(false))
            .map_err(corrupt)
    };
    if sub.eq_ignore_ascii_case(b"getreg") {
        to_dense(&mut slot)?;
        let registers = hll::registers(&value_of(&slot)).map_err(corrupt)?;
        ctx.reply.array(registers.len());
        for r in registers {
            ctx.reply.int(r as i64);
        }
    } else if sub.eq_ignore_ascii_case(b"decode") {
        if encoding != Encoding::Sparse {
            return Err(error::HLL_NOT_SPARSE.into());
        }
        let text = hll::decode_sparse(&value_of(&slot));
        ctx.reply.bulk(text.as_bytes());
    } else if sub.eq_ignore_ascii_case(b"encoding") {
        ctx.reply.simple(encoding.name());
    } else if sub.eq_ignore_ascii_case(b"todense") {
        let converted = to_dense(&mut slot)?;
        ctx.reply.int(converted as i64);
    } else {
        return Err(error::unknown_pfdebug_subcommand(sub).into());
    }
    Ok(())
}

/// PFSELFTEST: the data structure's internal checks (`hll::self_test`).
fn pfselftest(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    let sparse_max = sparse_max_bytes(ctx);
    hll::self_test(sparse_max).map_err(CommandError::from)?;
    ctx.reply.ok();
    Ok(())
}
