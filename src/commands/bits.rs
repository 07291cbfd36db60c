//! Bit commands on strings, as Redis's `bitops.c`: SETBIT, GETBIT, BITCOUNT,
//! BITPOS, BITOP, BITFIELD, BITFIELD_RO; and LCS (`t_string.c`).
//!
//! Bit 0 is the most significant bit of the first byte; a string is read as
//! if zero-padded on the right. The pure routines (population count, first
//! bit, range conversion, bitfield get/set and overflow, the bit operations,
//! the LCS table walk) are plain functions over byte slices, tested below.
//!
//! Rules shared with `strings.rs`:
//! - Parse and check every argument that Redis checks before its lookup;
//!   lock one key (BITOP and LCS: their keys' shards, `Store::lock_keys`),
//!   act, unlock; then count the read, publish events and reply.
//! - Reads count keyspace hits/misses (and raise `keymiss`) where Redis's
//!   `lookupKeyRead` does: GETBIT, BITCOUNT, BITPOS, BITFIELD_RO, a BITFIELD
//!   with only GETs, BITOP's sources, LCS's two keys. SETBIT and a writing
//!   BITFIELD look up for write and are not counted.
//! - Bit offsets are bounded by `proto-max-bulk-len` (offset / 8 must be
//!   below it: `getBitOffsetFromArgument`); SETBIT and BITFIELD grow the
//!   string with zero bytes to reach the highest bit they write, keeping its
//!   TTL and flags, and change nothing (no new CAS, no event) when no bit
//!   changes. BITOP replaces its destination (TTL cleared), or deletes it
//!   when the result is empty.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};

use super::args::parse_i64;
use super::{Command, Ctx};
use crate::error::{self, CommandError, CommandResult};
use crate::flags;
use crate::keyspace_events::EventClass;
use crate::store::{unix_ms, Value, ValueRef};

/// The group COMMAND INFO/DOCS report for the bit commands (LCS is "string").
const BITMAP: &str = "bitmap";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(
        BITMAP,
        "setbit",
        4,
        flags![WRITE, DENYOOM],
        "Sets or clears the bit at offset in the string value stored at key",
        setbit,
    )
    .keys(1, 1, 1)
    .since("2.2.0"),
    Command::row(
        BITMAP,
        "getbit",
        3,
        flags![READONLY, FAST],
        "Returns the bit value at offset in the string value stored at key",
        getbit,
    )
    .keys(1, 1, 1)
    .since("2.2.0"),
    Command::row(
        BITMAP,
        "bitcount",
        -2,
        flags![READONLY],
        "Count set bits in a string",
        bitcount,
    )
    .keys(1, 1, 1)
    .since("2.6.0"),
    Command::row(
        BITMAP,
        "bitpos",
        -3,
        flags![READONLY],
        "Find first bit set or clear in a string",
        bitpos,
    )
    .keys(1, 1, 1)
    .since("2.8.7"),
    Command::row(
        BITMAP,
        "bitop",
        -4,
        flags![WRITE, DENYOOM],
        "Perform bitwise operations between strings",
        bitop,
    )
    .keys(2, -1, 1)
    .since("2.6.0"),
    Command::row(
        BITMAP,
        "bitfield",
        -2,
        flags![WRITE, DENYOOM],
        "Perform arbitrary bitfield integer operations on strings",
        bitfield,
    )
    .keys(1, 1, 1)
    .since("3.2.0"),
    Command::row(
        BITMAP,
        "bitfield_ro",
        -2,
        flags![READONLY, FAST],
        "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        bitfield_ro,
    )
    .keys(1, 1, 1)
    .since("6.0.0"),
    Command::row(
        "string",
        "lcs",
        -3,
        flags![READONLY],
        "Find longest common substring",
        lcs,
    )
    .keys(1, 2, 1)
    .since("7.0.0"),
];

// ---------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------

/// What a read lookup found, for counting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lookup {
    Missing,
    Str,
    WrongType,
}

/// Count a read for INFO keyspace_hits/misses; a miss also raises `keymiss`.
fn count_read(ctx: &Ctx<'_>, key: &[u8], found: Lookup) {
    let hit = found != Lookup::Missing;
    ctx.count_lookup(hit);
    if !hit {
        ctx.notify(EventClass::KEY_MISS, "keymiss", key);
    }
}

/// The `proto-max-bulk-len` limit, read before any key is locked.
fn max_string_len(ctx: &Ctx<'_>) -> u64 {
    ctx.shared.config.read().proto_max_bulk_len
}

/// Redis `getBitOffsetFromArgument`: a strict integer, >= 0, whose byte is
/// below `max_len`. With `hash_bits` (BITFIELD), `#n` means n * bits.
fn parse_bit_offset(arg: &[u8], max_len: u64, hash_bits: Option<u32>) -> Result<u64, CommandError> {
    let err = || CommandError::from(error::BIT_OFFSET_OUT_OF_RANGE);
    let (digits, multiplier) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) if bits > 0 => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let offset = parse_i64(digits)
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(err)?;
    if offset < 0 || (offset as u64 >> 3) >= max_len {
        return Err(err());
    }
    Ok(offset as u64)
}

/// `BIT` or `BYTE` (case-insensitive): whether the range counts bits.
fn parse_unit(arg: &[u8]) -> Result<bool, CommandError> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(error::SYNTAX.into())
    }
}

fn parse_int(arg: &[u8]) -> Result<i64, CommandError> {
    parse_i64(arg).ok_or_else(|| error::NOT_INTEGER.into())
}

/// Events for a bit write: `new` (class n) first when the key was created,
/// then `setbit` if any bit changed.
fn notify_setbit(ctx: &Ctx<'_>, key: &[u8], created: bool, changed: bool) {
    if created {
        ctx.notify(EventClass::NEW_KEY, "new", key);
    }
    if changed {
        ctx.notify(EventClass::STRING, "setbit", key);
    }
}

// ---------------------------------------------------------------------------
// Pure bit routines
// ---------------------------------------------------------------------------

/// Number of set bits (Redis `redisPopcount`).
fn popcount(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        n += u64::from_ne_bytes(word).count_ones() as u64;
    }
    n + chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>()
}

/// Position of the first bit equal to `bit` (Redis `redisBitpos`): for a
/// clear bit the string counts as zero-padded, so none found gives len * 8;
/// for a set bit none found gives -1.
fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    let skip: u8 = if bit { 0 } else { 0xff };
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0usize;
    for c in &mut chunks {
        if c.iter().any(|&b| b != skip) {
            break;
        }
        base += 8;
    }
    match bytes[base..].iter().position(|&b| b != skip) {
        Some(i) => {
            let b = bytes[base + i];
            let within = if bit {
                b.leading_zeros()
            } else {
                b.leading_ones()
            };
            ((base + i) as i64) * 8 + within as i64
        }
        None if bit => -1,
        None => bytes.len() as i64 * 8,
    }
}

/// A range given in bytes or bits, as BITCOUNT and BITPOS convert it:
/// negative indexes count from the end, then both are clamped; a bit range
/// becomes its byte range plus masks of the bits outside it in the first
/// and last byte. None when the range is empty.
struct ByteRange {
    start: usize,
    end: usize,
    first_mask: u8,
    last_mask: u8,
}

fn byte_range(len: usize, start: i64, end: i64, is_bit: bool) -> Option<ByteRange> {
    let total = if is_bit {
        (len as i64) << 3
    } else {
        len as i64
    };
    // |start|, |end| <= 2^63 and total < 2^43: the sums cannot overflow.
    let mut start = if start < 0 { total + start } else { start }.max(0);
    let mut end = if end < 0 { total + end } else { end }.max(0);
    if end >= total {
        end = total - 1;
    }
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if is_bit && start <= end {
        first_mask = !((1u32 << (8 - (start & 7))) - 1) as u8;
        last_mask = ((1u32 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    (start <= end).then_some(ByteRange {
        start: start as usize,
        end: end as usize,
        first_mask,
        last_mask,
    })
}

/// BITCOUNT over `v` with an optional (start, end, is_bit) range.
fn count_bits(v: &[u8], range: Option<(i64, i64, bool)>) -> i64 {
    let r = match range {
        None if v.is_empty() => return 0,
        None => ByteRange {
            start: 0,
            end: v.len() - 1,
            first_mask: 0,
            last_mask: 0,
        },
        Some((start, end, is_bit)) => match byte_range(v.len(), start, end, is_bit) {
            Some(r) => r,
            None => return 0,
        },
    };
    let mut n = popcount(&v[r.start..=r.end]) as i64;
    n -= (v[r.start] & r.first_mask).count_ones() as i64;
    n -= (v[r.end] & r.last_mask).count_ones() as i64;
    n
}

/// BITPOS over `v` from `start` to `end` (None: to the end of the string,
/// which then counts as zero-padded for a clear bit), in bytes or bits.
/// A port of Redis's `bitposCommand` after its argument parsing.
fn find_bit(v: &[u8], bit: bool, start: i64, end: Option<i64>, is_bit: bool) -> i64 {
    let len = v.len() as i64;
    let end_given = end.is_some();
    let end = end.unwrap_or(if is_bit { (len << 3) + 7 } else { len - 1 });
    let Some(r) = byte_range(v.len(), start, end, is_bit) else {
        return -1;
    };
    let (first_mask, last_mask) = (r.first_mask, r.last_mask);
    let mut start = r.start;
    let mut bytes = (r.end - r.start + 1) as i64;
    let mut pos: i64;
    'result: {
        if first_mask != 0 {
            let mut b = if bit {
                v[start] & !first_mask
            } else {
                v[start] | first_mask
            };
            if last_mask != 0 && bytes == 1 {
                b = if bit { b & !last_mask } else { b | last_mask };
            }
            pos = first_bit(&[b], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'result;
            }
            start += 1;
            bytes -= 1;
        }
        let whole = bytes - i64::from(last_mask != 0);
        if whole > 0 {
            pos = first_bit(&v[start..start + whole as usize], bit);
            if bytes == whole || (pos != -1 && pos != whole << 3) {
                break 'result;
            }
            start += whole as usize;
            bytes -= whole;
        }
        let b = if bit {
            v[r.end] & !last_mask
        } else {
            v[r.end] | last_mask
        };
        pos = first_bit(&[b], bit);
    }
    // With an explicit end the right of the range is not zero padding.
    if end_given && !bit && pos == bytes << 3 {
        return -1;
    }
    if pos != -1 {
        pos += (start as i64) << 3;
    }
    pos
}

/// Byte access for the bitfield routines: a string, or a string with
/// pending writes on top (`Overlay`).
trait Bits {
    fn byte(&self, i: usize) -> u8;
    fn set_byte(&mut self, i: usize, b: u8);
}

impl Bits for [u8] {
    fn byte(&self, i: usize) -> u8 {
        self.get(i).copied().unwrap_or(0)
    }
    fn set_byte(&mut self, i: usize, b: u8) {
        if let Some(x) = self.get_mut(i) {
            *x = b;
        }
    }
}

/// A string read as zero-padded, with the bytes BITFIELD writes kept apart
/// until the command knows whether anything changed.
struct Overlay<'a> {
    base: &'a [u8],
    writes: BTreeMap<usize, u8>,
}

impl Bits for Overlay<'_> {
    fn byte(&self, i: usize) -> u8 {
        match self.writes.get(&i) {
            Some(&b) => b,
            None => self.base.byte(i),
        }
    }
    fn set_byte(&mut self, i: usize, b: u8) {
        self.writes.insert(i, b);
    }
}

/// The `bits`-wide unsigned integer at bit `offset` (Redis `getUnsignedBitfield`).
fn get_unsigned<B: Bits + ?Sized>(p: &B, offset: u64, bits: u32) -> u64 {
    (0..bits as u64).fold(0, |value, j| {
        let o = offset + j;
        let bit = (p.byte((o >> 3) as usize) >> (7 - (o & 7))) & 1;
        (value << 1) | bit as u64
    })
}

/// The `bits`-wide two's complement integer at bit `offset`.
fn get_signed<B: Bits + ?Sized>(p: &B, offset: u64, bits: u32) -> i64 {
    let value = get_unsigned(p, offset, bits);
    if bits < 64 && value & (1 << (bits - 1)) != 0 {
        (value | (u64::MAX << bits)) as i64
    } else {
        value as i64
    }
}

/// Store the low `bits` bits of `value` at bit `offset` (Redis `setUnsignedBitfield`).
fn set_bits<B: Bits + ?Sized>(p: &mut B, offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let on = (value >> (bits as u64 - 1 - j)) & 1;
        let o = offset + j;
        let i = (o >> 3) as usize;
        let shift = 7 - (o & 7);
        let b = (p.byte(i) & !(1 << shift)) | ((on as u8) << shift);
        p.set_byte(i, b);
    }
}

/// BITFIELD OVERFLOW behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Redis `checkUnsignedBitfieldOverflow`: Ok if `value + incr` fits in
/// `bits` (1..=63) unsigned bits; else Err(the value to store instead), None
/// for FAIL.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Result<(), Option<u64>> {
    let max = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = 0u64.wrapping_sub(value) as i64;
    let limit = |sat: u64| match ow {
        Overflow::Wrap => Some(value.wrapping_add(incr as u64) & max),
        Overflow::Sat => Some(sat),
        Overflow::Fail => None,
    };
    if value > max || (incr > 0 && incr > max_incr) {
        Err(limit(max))
    } else if incr < 0 && incr < min_incr {
        Err(limit(0))
    } else {
        Ok(())
    }
}

/// Redis `checkSignedBitfieldOverflow`, for `bits` in 1..=64 (its wrapping
/// arithmetic kept as the C code computes it).
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Result<(), Option<i64>> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    let limit = |sat: i64| match ow {
        Overflow::Wrap => Some(wrapped()),
        Overflow::Sat => Some(sat),
        Overflow::Fail => None,
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        Err(limit(max))
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        Err(limit(min))
    } else {
        Ok(())
    }
}

/// One BITFIELD operation, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FieldOp {
    kind: FieldKind,
    signed: bool,
    bits: u32,
    offset: u64,
    /// SET's value or INCRBY's increment.
    value: i64,
    overflow: Overflow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldKind {
    Get,
    Set,
    IncrBy,
}

/// A bitfield type, as Redis's `getBitfieldTypeFromArgument`: `i1`..`i64`
/// or `u1`..`u63` (the number read as C reads it, up to a NUL byte).
fn parse_field_type(arg: &[u8]) -> Result<(bool, u32), CommandError> {
    let err = || CommandError::from(error::BITFIELD_TYPE);
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let digits = arg[1..].split(|&b| b == 0).next().unwrap_or_default();
    match parse_i64(digits) {
        Some(n) if n >= 1 && n <= if signed { 64 } else { 63 } => Ok((signed, n as u32)),
        _ => Err(err()),
    }
}

/// Parse BITFIELD's operations (everything after the key), in Redis's order
/// of checks. Returns the operations and, if any writes, the highest bit written.
fn parse_field_ops(
    args: &[Bytes],
    max_len: u64,
) -> Result<(Vec<FieldOp>, Option<u64>), CommandError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest: Option<u64> = None;
    let mut j = 0;
    while j < args.len() {
        let remaining = args.len() - j - 1;
        let sub = &args[j][..];
        let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
        let kind = if is("get") && remaining >= 2 {
            FieldKind::Get
        } else if is("set") && remaining >= 3 {
            FieldKind::Set
        } else if is("incrby") && remaining >= 3 {
            FieldKind::IncrBy
        } else if is("overflow") && remaining >= 1 {
            let name = &args[j + 1][..];
            overflow = if name.eq_ignore_ascii_case(b"wrap") {
                Overflow::Wrap
            } else if name.eq_ignore_ascii_case(b"sat") {
                Overflow::Sat
            } else if name.eq_ignore_ascii_case(b"fail") {
                Overflow::Fail
            } else {
                return Err(error::BITFIELD_OVERFLOW_TYPE.into());
            };
            j += 2;
            continue;
        } else {
            return Err(error::SYNTAX.into());
        };
        let (signed, bits) = parse_field_type(&args[j + 1])?;
        let offset = parse_bit_offset(&args[j + 2], max_len, Some(bits))?;
        let mut value = 0;
        if kind != FieldKind::Get {
            let last = offset + bits as u64 - 1;
            highest = Some(highest.map_or(last, |h| h.max(last)));
            value = parse_int(&args[j + 3])?;
        }
        ops.push(FieldOp {
            kind,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if kind == FieldKind::Get { 3 } else { 4 };
    }
    Ok((ops, highest))
}

/// Run BITFIELD's operations in order over `p`: each reply (None: an
/// overflow under FAIL, nothing written) and how many operations changed a
/// value (every write counts when `dirty`: the key was created or grown).
fn run_field_ops<B: Bits + ?Sized>(
    p: &mut B,
    ops: &[FieldOp],
    dirty: bool,
) -> (Vec<Option<i64>>, usize) {
    let mut replies = Vec::with_capacity(ops.len());
    let mut changes = 0;
    for op in ops {
        let FieldOp {
            offset,
            bits,
            value,
            ..
        } = *op;
        if op.kind == FieldKind::Get {
            replies.push(Some(if op.signed {
                get_signed(p, offset, bits)
            } else {
                get_unsigned(p, offset, bits) as i64
            }));
            continue;
        }
        let incr = op.kind == FieldKind::IncrBy;
        // (old, new, reply) as unsigned bit patterns; None on FAIL.
        let outcome = if op.signed {
            let old = get_signed(p, offset, bits);
            let (candidate, check) = if incr {
                (
                    old.wrapping_add(value),
                    signed_overflow(old, value, bits, op.overflow),
                )
            } else {
                (value, signed_overflow(value, 0, bits, op.overflow))
            };
            let new = match check {
                Ok(()) => Some(candidate),
                Err(limit) => limit,
            };
            new.map(|new| (old as u64, new as u64, if incr { new } else { old }))
        } else {
            let old = get_unsigned(p, offset, bits);
            let (candidate, check) = if incr {
                (
                    old.wrapping_add(value as u64),
                    unsigned_overflow(old, value, bits, op.overflow),
                )
            } else {
                (
                    value as u64,
                    unsigned_overflow(value as u64, 0, bits, op.overflow),
                )
            };
            let new = match check {
                Ok(()) => Some(candidate),
                Err(limit) => limit,
            };
            new.map(|new| (old, new, if incr { new as i64 } else { old as i64 }))
        };
        match outcome {
            Some((old, new, reply)) => {
                replies.push(Some(reply));
                set_bits(p, offset, bits, new);
                if dirty || old != new {
                    changes += 1;
                }
            }
            None => replies.push(None),
        }
    }
    (replies, changes)
}

/// BITOP operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// The BITOP result: as long as the longest source, shorter ones (and
/// missing keys, given as empty) read as zero-padded.
fn bit_op(op: BitOp, sources: &[Bytes]) -> Vec<u8> {
    let max = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; max];
    let Some((first, rest)) = sources.split_first() else {
        return out;
    };
    out[..first.len()].copy_from_slice(first);
    match op {
        BitOp::Not => out.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for s in rest {
                out[s.len()..].fill(0);
                out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o &= b);
            }
        }
        BitOp::Or => {
            for s in rest {
                out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o |= b);
            }
        }
        BitOp::Xor => {
            for s in rest {
                out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o ^= b);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// SETBIT, GETBIT, BITCOUNT, BITPOS
// ---------------------------------------------------------------------------

/// SETBIT key offset value
fn setbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let offset = parse_bit_offset(&args[2], max_string_len(ctx), None)?;
    let on = match parse_i64(&args[3]) {
        Some(n) if n & !1 == 0 => n == 1,
        _ => return Err(error::BIT_OUT_OF_RANGE.into()),
    };
    let key = &args[1];
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7));
    let set = |b: &mut u8| {
        if on {
            *b |= mask
        } else {
            *b &= !mask
        }
    };
    // (old bit, created, changed)
    let done = {
        let mut slot = ctx.shared.store.slot(ctx.db(), key, unix_ms());
        match slot.peek().map(|e| e.value()) {
            None => {
                let mut buf = BytesMut::zeroed(byte + 1);
                set(&mut buf[byte]);
                slot.insert(Value::Str(buf.freeze()), 0, 0);
                (false, true, true)
            }
            Some(ValueRef::Str(v)) => {
                let old = v.get(byte).is_some_and(|b| b & mask != 0);
                let changed = v.len() <= byte || old != on;
                if changed {
                    slot.update(|e| {
                        e.edit_str(|b| {
                            if b.len() <= byte {
                                b.resize(byte + 1, 0);
                            }
                            set(&mut b[byte]);
                        })
                    });
                }
                (old, false, changed)
            }
            Some(_) => return Err(error::WRONGTYPE.into()),
        }
    };
    let (old, created, changed) = done;
    notify_setbit(ctx, key, created, changed);
    ctx.reply.int(old as i64);
    Ok(())
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let offset = parse_bit_offset(&args[2], max_string_len(ctx), None)?;
    let key = &args[1];
    let (found, bit) = {
        let mut slot = ctx.shared.store.slot(ctx.db(), key, unix_ms());
        match slot.get().map(|e| e.value()) {
            None => (Lookup::Missing, false),
            Some(ValueRef::Str(v)) => {
                let b = v.byte((offset >> 3) as usize);
                (Lookup::Str, b & (1 << (7 - (offset & 7))) != 0)
            }
            Some(_) => (Lookup::WrongType, false),
        }
    };
    count_read(ctx, key, found);
    if found == Lookup::WrongType {
        return Err(error::WRONGTYPE.into());
    }
    ctx.reply.int(bit as i64);
    Ok(())
}

/// BITCOUNT key [start end [BYTE | BIT]]
///
/// As Redis, the key is looked up first: a missing key answers 0 whatever
/// the range arguments say, and WRONGTYPE comes before their errors.
fn bitcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let key = &args[1];
    let (found, result) = {
        let mut slot = ctx.shared.store.slot(ctx.db(), key, unix_ms());
        match slot.get().map(|e| e.value()) {
            None => (Lookup::Missing, Ok(0)),
            Some(ValueRef::Str(v)) => (Lookup::Str, bitcount_of(v, &args[2..])),
            Some(_) => (Lookup::WrongType, Err(error::WRONGTYPE.into())),
        }
    };
    count_read(ctx, key, found);
    ctx.reply.int(result?);
    Ok(())
}

/// BITCOUNT's answer for string `v` and the range arguments `rest`.
fn bitcount_of(v: &[u8], rest: &[Bytes]) -> Result<i64, CommandError> {
    match rest.len() {
        0 => Ok(count_bits(v, None)),
        2 | 3 => {
            let start = parse_int(&rest[0])?;
            let end = parse_int(&rest[1])?;
            if start < 0 && end < 0 && start > end {
                return Ok(0);
            }
            let is_bit = match rest.get(2) {
                Some(unit) => parse_unit(unit)?,
                None => false,
            };
            Ok(count_bits(v, Some((start, end, is_bit))))
        }
        _ => Err(error::SYNTAX.into()),
    }
}

/// BITPOS key bit [start [end [BYTE | BIT]]]
fn bitpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let bit = match parse_int(&args[2])? {
        0 => false,
        1 => true,
        _ => return Err(error::BIT_ARGUMENT.into()),
    };
    let key = &args[1];
    let (found, result) = {
        let mut slot = ctx.shared.store.slot(ctx.db(), key, unix_ms());
        match slot.get().map(|e| e.value()) {
            // A missing key is an endless run of zeros.
            None => (Lookup::Missing, Ok(if bit { -1 } else { 0 })),
            Some(ValueRef::Str(v)) => (Lookup::Str, bitpos_of(v, bit, &args[3..])),
            Some(_) => (Lookup::WrongType, Err(error::WRONGTYPE.into())),
        }
    };
    count_read(ctx, key, found);
    ctx.reply.int(result?);
    Ok(())
}

/// BITPOS's answer for string `v` and the range arguments `rest` (checked
/// in Redis's order: start, the unit, then end).
fn bitpos_of(v: &[u8], bit: bool, rest: &[Bytes]) -> Result<i64, CommandError> {
    if rest.is_empty() {
        // The whole string: start 0, end len - 1, end not "given".
        return Ok(find_bit(v, bit, 0, None, false));
    }
    if rest.len() > 3 {
        return Err(error::SYNTAX.into());
    }
    let start = parse_int(&rest[0])?;
    let is_bit = match rest.get(2) {
        Some(unit) => parse_unit(unit)?,
        None => false,
    };
    let end = match rest.get(1) {
        Some(end) => Some(parse_int(end)?),
        None => None,
    };
    Ok(find_bit(v, bit, start, end, is_bit))
}

// ---------------------------------------------------------------------------
// BITOP
// ---------------------------------------------------------------------------

/// BITOP <AND | OR | XOR | NOT> destkey key [key ...]
fn bitop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let name = &args[1][..];
    let op = if name.eq_ignore_ascii_case(b"and") {
        BitOp::And
    } else if name.eq_ignore_ascii_case(b"or") {
        BitOp::Or
    } else if name.eq_ignore_ascii_case(b"xor") {
        BitOp::Xor
    } else if name.eq_ignore_ascii_case(b"not") {
        BitOp::Not
    } else {
        return Err(error::SYNTAX.into());
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(error::BITOP_NOT_SINGLE_KEY.into());
    }
    let (dest, keys) = (&args[2], &args[3..]);
    let now_ms = unix_ms();
    let mut lookups = Vec::with_capacity(keys.len());
    /// What happened to the destination.
    enum Stored {
        Set { created: bool },
        Deleted,
        Nothing,
    }
    let outcome = {
        let mut locked = ctx.shared.store.lock_keys(
            ctx.db(),
            std::iter::once(&dest[..]).chain(keys.iter().map(|k| &k[..])),
        );
        let mut sources = Vec::with_capacity(keys.len());
        let mut wrong_type = false;
        for key in keys {
            let mut slot = locked.slot(key, now_ms);
            match slot.get() {
                None => {
                    lookups.push(Lookup::Missing);
                    sources.push(Bytes::new());
                }
                Some(e) => match e.str_bytes() {
                    Some(v) => {
                        lookups.push(Lookup::Str);
                        sources.push(v);
                    }
                    None => {
                        lookups.push(Lookup::WrongType);
                        wrong_type = true;
                        break;
                    }
                },
            }
        }
        if wrong_type {
            None
        } else {
            let result = bit_op(op, &sources);
            let len = result.len();
            let mut slot = locked.slot(dest, now_ms);
            let stored = if len > 0 {
                let created = !slot.exists();
                slot.insert(Value::Str(Bytes::from(result)), 0, 0);
                Stored::Set { created }
            } else if slot.remove().is_some() {
                Stored::Deleted
            } else {
                Stored::Nothing
            };
            Some((len, stored))
        }
    };
    for (key, found) in keys.iter().zip(&lookups) {
        count_read(ctx, key, *found);
    }
    let Some((len, stored)) = outcome else {
        return Err(error::WRONGTYPE.into());
    };
    match stored {
        Stored::Set { created } => {
            if created {
                ctx.notify(EventClass::NEW_KEY, "new", dest);
            }
            ctx.notify(EventClass::STRING, "set", dest);
        }
        Stored::Deleted => ctx.notify(EventClass::GENERIC, "del", dest),
        Stored::Nothing => {}
    }
    ctx.reply.int(len as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// BITFIELD, BITFIELD_RO
// ---------------------------------------------------------------------------

/// BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL]
/// SET type offset value | INCRBY type offset increment ...]
fn bitfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    bitfield_generic(ctx, args, false)
}

/// BITFIELD_RO key [GET type offset ...]
fn bitfield_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    bitfield_generic(ctx, args, true)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, args: &[Bytes], read_only: bool) -> CommandResult {
    let (ops, highest) = parse_field_ops(&args[2..], max_string_len(ctx))?;
    let key = &args[1];
    let now_ms = unix_ms();
    let replies = match highest {
        None => {
            // Only GETs: a read, counted.
            let (found, replies) = {
                let mut slot = ctx.shared.store.slot(ctx.db(), key, now_ms);
                match slot.get().map(|e| e.value()) {
                    None => (Lookup::Missing, run_field_ops(&mut [][..], &ops, false).0),
                    Some(ValueRef::Str(v)) => {
                        let mut view = Overlay {
                            base: v,
                            writes: BTreeMap::new(),
                        };
                        (Lookup::Str, run_field_ops(&mut view, &ops, false).0)
                    }
                    Some(_) => (Lookup::WrongType, Vec::new()),
                }
            };
            count_read(ctx, key, found);
            if found == Lookup::WrongType {
                return Err(error::WRONGTYPE.into());
            }
            replies
        }
        Some(_) if read_only => return Err(error::BITFIELD_RO_GET_ONLY.into()),
        Some(highest) => {
            let needed = (highest >> 3) as usize + 1;
            let (replies, created, changes) = {
                let mut slot = ctx.shared.store.slot(ctx.db(), key, now_ms);
                let (base, created) = match slot.peek().map(|e| e.value()) {
                    None => (&[][..], true),
                    Some(ValueRef::Str(v)) => (v, false),
                    Some(_) => return Err(error::WRONGTYPE.into()),
                };
                let grown = base.len() < needed;
                let mut view = Overlay {
                    base,
                    writes: BTreeMap::new(),
                };
                let (replies, changes) = run_field_ops(&mut view, &ops, created || grown);
                let writes = view.writes;
                let apply = |b: &mut [u8]| {
                    for (&i, &v) in &writes {
                        b.set_byte(i, v);
                    }
                };
                if created {
                    let mut buf = BytesMut::zeroed(needed);
                    apply(&mut buf);
                    slot.insert(Value::Str(buf.freeze()), 0, 0);
                } else if grown || changes > 0 {
                    slot.update(|e| {
                        e.edit_str(|b| {
                            if b.len() < needed {
                                b.resize(needed, 0);
                            }
                            apply(b);
                        })
                    });
                }
                (replies, created, changes)
            };
            notify_setbit(ctx, key, created, changes > 0);
            ctx.dirty(changes as u64);
            replies
        }
    };
    ctx.reply.array(replies.len());
    for r in replies {
        match r {
            Some(n) => ctx.reply.int(n),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------

/// One run of matching bytes: inclusive ranges in `a` and `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Match {
    a: (u32, u32),
    b: (u32, u32),
    len: u32,
}

/// The LCS of `a` and `b` as Redis's `lcsCommand` computes it (the dynamic
/// programming table, then the walk back): its length, and with `walk` the
/// string itself and the matching runs from the end backwards. Each string
/// must be shorter than u32::MAX - 1 and the table within `max_table` bytes.
fn compute_lcs(
    a: &[u8],
    b: &[u8],
    max_table: u64,
    walk: bool,
) -> Result<(u32, Vec<u8>, Vec<Match>), CommandError> {
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(error::LCS_TOO_LONG.into());
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > max_table {
        return Err(error::LCS_OVER_MAX_BULK.into());
    }
    let mut table: Vec<u32> = Vec::new();
    if table.try_reserve_exact(cells as usize).is_err() {
        return Err(error::LCS_ALLOC_FAILED.into());
    }
    table.resize(cells as usize, 0);
    let w = blen + 1;
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * w + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let total = table[alen * w + blen];
    let mut string = Vec::new();
    let mut matches = Vec::new();
    if !walk {
        return Ok((total, string, matches));
    }
    string.resize(total as usize, 0);
    let mut idx = total as usize;
    let (mut i, mut j) = (alen, blen);
    // No run in progress when a_start == alen (Redis's marker).
    let none = alen as u32;
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (none, 0u32, 0u32, 0u32);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            string[idx - 1] = a[i - 1];
            if a_start == none {
                a_start = (i - 1) as u32;
                a_end = a_start;
                b_start = (j - 1) as u32;
                b_end = b_start;
            } else if a_start == i as u32 && b_start == j as u32 {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * w + j] > table[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != none {
                emit = true;
            }
        }
        if emit {
            matches.push(Match {
                a: (a_start, a_end),
                b: (b_start, b_end),
                len: a_end.wrapping_sub(a_start).wrapping_add(1),
            });
            a_start = none;
        }
    }
    Ok((total, string, matches))
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
fn lcs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (ka, kb) = (&args[1], &args[2]);
    let now_ms = unix_ms();
    let read = |slot: &mut crate::store::Slot<'_>| match slot.get() {
        None => (Lookup::Missing, Some(Bytes::new())),
        Some(e) => match e.str_bytes() {
            Some(v) => (Lookup::Str, Some(v)),
            None => (Lookup::WrongType, None),
        },
    };
    let ((fa, a), (fb, b)) = {
        let mut locked = ctx.shared.store.lock_keys(ctx.db(), [&ka[..], &kb[..]]);
        let a = read(&mut locked.slot(ka, now_ms));
        let b = read(&mut locked.slot(kb, now_ms));
        (a, b)
    };
    count_read(ctx, ka, fa);
    count_read(ctx, kb, fb);
    let (Some(a), Some(b)) = (a, b) else {
        return Err(error::LCS_NOT_STRINGS.into());
    };
    let (mut len_only, mut idx, mut with_len) = (false, false, false);
    let mut min_len: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j][..];
        let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
        if is("IDX") {
            idx = true;
        } else if is("LEN") {
            len_only = true;
        } else if is("WITHMATCHLEN") {
            with_len = true;
        } else if is("MINMATCHLEN") && j + 1 < args.len() {
            min_len = parse_int(&args[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(error::SYNTAX.into());
        }
        j += 1;
    }
    if len_only && idx {
        return Err(error::LCS_LEN_AND_IDX.into());
    }
    let (total, string, matches) = compute_lcs(&a, &b, max_string_len(ctx), idx || !len_only)?;
    if idx {
        let shown: Vec<&Match> = matches
            .iter()
            .filter(|m| min_len == 0 || m.len as i64 >= min_len)
            .collect();
        ctx.reply.map(2);
        ctx.reply.bulk(b"matches");
        ctx.reply.array(shown.len());
        for m in shown {
            ctx.reply.array(2 + with_len as usize);
            ctx.reply.array(2);
            ctx.reply.int(m.a.0 as i64);
            ctx.reply.int(m.a.1 as i64);
            ctx.reply.array(2);
            ctx.reply.int(m.b.0 as i64);
            ctx.reply.int(m.b.1 as i64);
            if with_len {
                ctx.reply.int(m.len as i64);
            }
        }
        ctx.reply.bulk(b"len");
        ctx.reply.int(total as i64);
    } else if len_only {
        ctx.reply.int(total as i64);
    } else {
        ctx.reply.bulk(&string);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popcount_counts_every_byte() {
        assert_eq!(popcount(b""), 0);
        assert_eq!(popcount(b"foobar"), 26);
        let v: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let slow: u64 = v.iter().map(|b| b.count_ones() as u64).sum();
        assert_eq!(popcount(&v), slow);
    }

    #[test]
    fn first_bit_pads_with_zeros() {
        assert_eq!(first_bit(b"", true), -1);
        assert_eq!(first_bit(b"", false), 0);
        assert_eq!(first_bit(&[0xff, 0xf0, 0], false), 12);
        assert_eq!(first_bit(&[0xff; 20], false), 160);
        assert_eq!(first_bit(&[0; 20], true), -1);
        let mut v = vec![0u8; 19];
        v.push(1);
        assert_eq!(first_bit(&v, true), 159);
    }

    #[test]
    fn bitcount_ranges_in_bytes_and_bits() {
        let v = b"foobar";
        assert_eq!(count_bits(v, None), 26);
        assert_eq!(count_bits(v, Some((0, 0, false))), 4);
        assert_eq!(count_bits(v, Some((1, 1, false))), 6);
        assert_eq!(count_bits(v, Some((5, 30, true))), 17);
        assert_eq!(count_bits(v, Some((-1, -1, false))), 4);
        assert_eq!(count_bits(v, Some((100, 200, false))), 0);
        assert_eq!(count_bits(v, Some((i64::MIN, i64::MAX, false))), 26);
        assert_eq!(count_bits(v, Some((i64::MIN, i64::MAX, true))), 26);
        assert_eq!(count_bits(b"", Some((0, -1, true))), 0);
    }

    #[test]
    fn bitpos_ranges_as_redis() {
        let v = [0xffu8, 0xf0, 0x00];
        assert_eq!(find_bit(&v, false, 0, None, false), 12);
        assert_eq!(find_bit(&[0xff, 0xff, 0xff], false, 0, None, false), 24);
        assert_eq!(find_bit(&[0xff, 0xff, 0xff], false, 0, Some(-1), false), -1);
        assert_eq!(find_bit(&[0, 0xff, 0xf0], true, 2, Some(-1), false), 16);
        assert_eq!(find_bit(&[0, 0xff, 0xf0], true, 7, Some(15), true), 8);
        assert_eq!(find_bit(&[0, 0xff, 0xf0], true, 7, Some(7), true), -1);
        assert_eq!(find_bit(&[0x00, 0x01], true, 1, Some(14), true), -1);
        assert_eq!(find_bit(&[0x00, 0x01], true, 1, Some(15), true), 15);
        assert_eq!(find_bit(&[0xff, 0xfe], false, 3, None, true), 15);
        assert_eq!(find_bit(b"", true, 0, None, false), -1);
    }

    #[test]
    fn bitfields_read_and_write_across_bytes() {
        let mut buf = vec![0u8; 2];
        set_bits(&mut buf[..], 7, 5, 23);
        assert_eq!(buf, [0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&buf[..], 7, 5), 23);
        assert_eq!(get_signed(&buf[..], 7, 5), -9);
        assert_eq!(get_unsigned(&buf[..], 100, 8), 0);
        let mut wide = [0u8; 8];
        set_bits(&mut wide[..], 0, 64, i64::MIN as u64);
        assert_eq!(get_signed(&wide[..], 0, 64), i64::MIN);
        let mut o = Overlay {
            base: &[0xff],
            writes: BTreeMap::new(),
        };
        set_bits(&mut o, 4, 8, 0);
        assert_eq!(o.writes.len(), 2);
        assert_eq!(get_unsigned(&o, 0, 16), 0xf000);
    }

    #[test]
    fn overflow_rules() {
        use Overflow::*;
        assert_eq!(unsigned_overflow(250, 10, 8, Wrap), Err(Some(4)));
        assert_eq!(unsigned_overflow(250, 10, 8, Sat), Err(Some(255)));
        assert_eq!(unsigned_overflow(5, -10, 8, Sat), Err(Some(0)));
        assert_eq!(unsigned_overflow(5, -10, 8, Fail), Err(None));
        assert_eq!(unsigned_overflow(5, -5, 8, Fail), Ok(()));
        assert_eq!(unsigned_overflow(u64::MAX, 0, 8, Wrap), Err(Some(255)));
        assert_eq!(signed_overflow(127, 1, 8, Wrap), Err(Some(-128)));
        assert_eq!(signed_overflow(127, 1, 8, Sat), Err(Some(127)));
        assert_eq!(signed_overflow(-128, -1, 8, Sat), Err(Some(-128)));
        assert_eq!(signed_overflow(-128, -1, 8, Wrap), Err(Some(127)));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Wrap), Err(Some(i64::MIN)));
        assert_eq!(signed_overflow(i64::MIN, -1, 64, Sat), Err(Some(i64::MIN)));
        assert_eq!(signed_overflow(-100, 50, 8, Fail), Ok(()));
    }

    #[test]
    fn field_types_and_offsets() {
        assert_eq!(parse_field_type(b"i64").ok(), Some((true, 64)));
        assert_eq!(parse_field_type(b"u63").ok(), Some((false, 63)));
        for bad in [&b"u64"[..], b"i65", b"i0", b"x8", b"", b"u", b"U8", b"i+8"] {
            assert!(parse_field_type(bad).is_err(), "{bad:?}");
        }
        let max = 512 * 1024 * 1024;
        assert_eq!(parse_bit_offset(b"#3", max, Some(8)).ok(), Some(24));
        assert_eq!(parse_bit_offset(b"#3", max, None).ok(), None);
        assert_eq!(
            parse_bit_offset(b"4294967295", max, None).ok(),
            Some(4294967295)
        );
        assert!(parse_bit_offset(b"4294967296", max, None).is_err());
        assert!(parse_bit_offset(b"-1", max, None).is_err());
        assert!(parse_bit_offset(b"#9223372036854775807", max, Some(8)).is_err());
    }

    #[test]
    fn bit_ops_pad_with_zeros() {
        let s = |v: &[u8]| Bytes::copy_from_slice(v);
        let srcs = [s(&[0xff, 0x0f]), s(&[0xf0])];
        assert_eq!(bit_op(BitOp::And, &srcs), [0xf0, 0x00]);
        assert_eq!(bit_op(BitOp::Or, &srcs), [0xff, 0x0f]);
        assert_eq!(bit_op(BitOp::Xor, &srcs), [0x0f, 0x0f]);
        assert_eq!(bit_op(BitOp::Not, &srcs[..1]), [0x00, 0xf0]);
        assert_eq!(bit_op(BitOp::And, &[s(b""), s(b"")]), Vec::<u8>::new());
        assert_eq!(bit_op(BitOp::And, &[s(b"ab"), s(b"")]), [0, 0]);
    }

    #[test]
    fn lcs_string_and_matches() {
        let (len, s, m) = compute_lcs(b"ohmytext", b"mynewtext", 1 << 20, true).unwrap();
        assert_eq!((len, &s[..]), (6, &b"mytext"[..]));
        assert_eq!(
            m,
            [
                Match {
                    a: (4, 7),
                    b: (5, 8),
                    len: 4
                },
                Match {
                    a: (2, 3),
                    b: (0, 1),
                    len: 2
                }
            ]
        );
        assert_eq!(compute_lcs(b"", b"abc", 1 << 20, true).unwrap().0, 0);
        assert!(compute_lcs(b"abcdef", b"abcdef", 10, false).is_err());
    }
}
