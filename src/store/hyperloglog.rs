//! HyperLogLog as Redis keeps it: a plain string value, byte for byte the
//! format of Redis's `hyperloglog.c`, so a value read with GET (or moved with
//! DUMP/RESTORE) means the same to herald and to Redis.
//!
//! ```text
//! [ "HYLL" | encoding (0 dense, 1 sparse) | 3 unused | cached cardinality, 8 bytes LE ][ registers ]
//! ```
//!
//! - 16384 registers (the low 14 bits of an element's 64-bit MurmurHash64A
//!   pick one); a register keeps the longest "0...01" run seen in the other
//!   50 bits, counting the final 1 (so 1..=51).
//! - Dense: 6 bits per register, packed from the least significant bit of
//!   each byte up, 12288 bytes.
//! - Sparse: run-length opcodes, `00xxxxxx` ZERO (1..64 zero registers),
//!   `01xxxxxx yyyyyyyy` XZERO (1..16384 zero registers), `1vvvvvxx` VAL
//!   (1..4 registers of value 1..32). A value new HLLs start in; it becomes
//!   dense for good when a register needs a value above 32 or the string
//!   would grow past `hll-sparse-max-bytes`.
//! - The cached cardinality is valid while the top bit of its last byte is
//!   clear; every change sets that bit, PFCOUNT of one key refills it.
//! - The estimate is Otmar Ertl's improved estimator ("New cardinality
//!   estimation algorithms for HyperLogLog sketches", arXiv:1702.01284) over
//!   the histogram of register values, as Redis 5+ computes it, in the same
//!   floating-point operations so the counts are identical.
//!
//! The sparse update (split a run, then merge equal neighbours within five
//! opcodes) follows Redis's steps exactly: the bytes it leaves are what
//! Redis leaves, not merely an equivalent encoding. Everything here is pure:
//! bytes in, bytes out; reading a corrupted value never panics (a byte past
//! the end reads as 0, as the C code reads the string's terminator).

use bytes::BytesMut;

/// Header: magic, encoding, 3 unused bytes, cached cardinality.
pub const HEADER_BYTES: usize = 16;
/// Index bits taken from the hash.
const INDEX_BITS: u32 = 14;
/// Hash bits left for the run length (64 - 14).
const RUN_BITS: u32 = 64 - INDEX_BITS;
/// Number of registers.
pub const REGISTERS: usize = 1 << INDEX_BITS;
const INDEX_MASK: u64 = REGISTERS as u64 - 1;
/// Bits per dense register.
const REGISTER_BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << REGISTER_BITS) - 1;
/// Whole size of a dense HLL: header + 12288 bytes of registers.
pub const DENSE_BYTES: usize = HEADER_BYTES + (REGISTERS * REGISTER_BITS).div_ceil(8);
const MAGIC: &[u8; 4] = b"HYLL";
const ENCODING_DENSE: u8 = 0;
const ENCODING_SPARSE: u8 = 1;
/// Byte of the header holding the "cache invalid" bit (its top bit).
const CACHE_FLAG_BYTE: usize = 15;
const CACHE_INVALID: u8 = 0x80;
/// Redis's seed for hashing elements.
const HASH_SEED: u64 = 0xadc8_3b19;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;

/// 0.5 / ln 2: the estimator's constant for an unbounded number of registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

impl Encoding {
    /// The name PFDEBUG ENCODING answers.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

/// The string is not a HyperLogLog: too short, wrong magic, unknown
/// encoding, or a dense one of the wrong length (Redis: WRONGTYPE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotHll;

/// A sparse HyperLogLog whose opcodes do not cover exactly the 16384
/// registers (Redis: INVALIDOBJ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrupt;

/// Redis's `isHLLObjectOrReply` header checks; the encoding when they pass.
pub fn check(value: &[u8]) -> Result<Encoding, NotHll> {
    if value.len() < HEADER_BYTES || &value[..4] != MAGIC {
        return Err(NotHll);
    }
    match value[4] {
        ENCODING_DENSE if value.len() == DENSE_BYTES => Ok(Encoding::Dense),
        ENCODING_SPARSE => Ok(Encoding::Sparse),
        _ => Err(NotHll),
    }
}

/// A new, empty HLL: sparse, one XZERO covering every register, a valid
/// cached cardinality of 0.
pub fn new_sparse() -> BytesMut {
    let mut v = BytesMut::with_capacity(HEADER_BYTES + 2);
    v.extend_from_slice(MAGIC);
    v.extend_from_slice(&[ENCODING_SPARSE, 0, 0, 0]);
    v.extend_from_slice(&[0; 8]);
    let mut run = REGISTERS;
    while run > 0 {
        let n = run.min(SPARSE_XZERO_MAX_LEN);
        v.extend_from_slice(&xzero(n));
        run -= n;
    }
    v
}

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

/// MurmurHash2, 64-bit version (Austin Appleby's MurmurHash64A), reading
/// words little-endian whatever the machine, as Redis's copy does.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut k = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element lands in and the run it scores there: the low 14
/// bits of its hash pick the register; the count is the position of the
/// lowest set bit of the remaining 50 (1-based; 51 when they are all zero).
pub fn hash_element(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, HASH_SEED);
    let index = (hash & INDEX_MASK) as usize;
    let rest = (hash >> INDEX_BITS) | (1u64 << RUN_BITS);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------
// Dense registers
// ---------------------------------------------------------------------------

/// Register `i` of a dense register array (12288 bytes).
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * REGISTER_BITS / 8;
    let shift = (i * REGISTER_BITS) & 7;
    let b0 = regs.get(byte).copied().unwrap_or(0) as u16;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u16;
    (((b0 >> shift) | (b1 << (8 - shift))) as u8) & REGISTER_MAX
}

/// Set register `i` of a dense register array to `v` (at most 63).
fn dense_set(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * REGISTER_BITS / 8;
    let shift = (i * REGISTER_BITS) & 7;
    let v = (v & REGISTER_MAX) as u16;
    let mask = (REGISTER_MAX as u16) << shift;
    if let Some(b) = regs.get_mut(byte) {
        *b = (*b & !(mask as u8)) | ((v << shift) as u8);
    }
    // The bits that spill into the next byte (none for the last register).
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = (*b & !((mask >> 8) as u8)) | ((v << shift) >> 8) as u8;
    }
}

/// Raise register `i` to `count` if it is lower; whether it changed.
fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if dense_get(regs, i) < count {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

// ---------------------------------------------------------------------------
// Sparse opcodes
// ---------------------------------------------------------------------------

/// One sparse opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// `len` zero registers, one byte (len 1..=64).
    Zero(usize),
    /// `len` zero registers, two bytes (len 1..=16384).
    XZero(usize),
    /// `len` registers (1..=4) of `value` (1..=32), one byte.
    Val(u8, usize),
}

impl Op {
    /// Registers it covers.
    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }

    /// Bytes it takes.
    fn bytes(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }
}

fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}

fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}

fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}

fn val_len(b: u8) -> usize {
    (b & 0x3) as usize + 1
}

fn val(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len as u8 - 1)
}

fn zero(len: usize) -> u8 {
    (len - 1) as u8
}

fn xzero(len: usize) -> [u8; 2] {
    let l = len - 1;
    [0x40 | (l >> 8) as u8, (l & 0xff) as u8]
}

/// The opcode at byte `p` (a missing second XZERO byte reads as 0).
fn op_at(hll: &[u8], p: usize) -> Op {
    let b = hll[p];
    if is_zero(b) {
        Op::Zero((b & 0x3f) as usize + 1)
    } else if is_xzero(b) {
        let low = hll.get(p + 1).copied().unwrap_or(0) as usize;
        Op::XZero((((b & 0x3f) as usize) << 8 | low) + 1)
    } else {
        Op::Val(val_value(b), val_len(b))
    }
}

/// The opcodes of a sparse HLL, with their byte positions.
fn ops(hll: &[u8]) -> impl Iterator<Item = (usize, Op)> + '_ {
    let mut p = HEADER_BYTES;
    std::iter::from_fn(move || {
        if p >= hll.len() {
            return None;
        }
        let op = op_at(hll, p);
        let at = p;
        p += op.bytes();
        Some((at, op))
    })
}

/// Where register `index` is in a sparse HLL: (byte of its opcode, the
/// opcode, first register it covers, byte of the previous opcode).
fn sparse_find(hll: &[u8], index: usize) -> Result<(usize, Op, usize, Option<usize>), Corrupt> {
    let mut first = 0;
    let mut prev = None;
    for (p, op) in ops(hll) {
        if index < first + op.span() {
            return Ok((p, op, first, prev));
        }
        prev = Some(p);
        first += op.span();
    }
    Err(Corrupt)
}

// ---------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------

/// Whether adding an element scoring `count` in register `index` would change
/// the HLL (it is validated by `check`). A corrupted sparse value answers
/// true, so the caller goes on to the update that reports it.
pub fn would_raise(hll: &[u8], index: usize, count: u8) -> bool {
    match check(hll) {
        Ok(Encoding::Dense) => dense_get(&hll[HEADER_BYTES..], index) < count,
        Ok(Encoding::Sparse) => match sparse_find(hll, index) {
            Ok((_, Op::Val(v, _), _, _)) => v < count,
            _ => true,
        },
        Err(NotHll) => true,
    }
}

/// Add one element (Redis `hllAdd`): whether a register changed. A sparse
/// HLL may become dense on the way. The caller invalidates the cache.
pub fn add(hll: &mut BytesMut, element: &[u8], sparse_max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = hash_element(element);
    raise(hll, index, count, sparse_max_bytes)
}

/// Raise register `index` to at least `count` in either encoding.
pub fn raise(
    hll: &mut BytesMut,
    index: usize,
    count: u8,
    sparse_max_bytes: usize,
) -> Result<bool, Corrupt> {
    match check(hll) {
        Ok(Encoding::Dense) => Ok(dense_raise(&mut hll[HEADER_BYTES..], index, count)),
        Ok(Encoding::Sparse) => sparse_raise(hll, index, count, sparse_max_bytes),
        Err(NotHll) => Err(Corrupt),
    }
}

/// Redis `hllSparseSet`: raise register `index` to `count` in place.
///
/// The opcode covering the register is split into at most three (zeros or
/// the old value before, the new VAL, zeros or the old value after), written
/// in its place; then equal adjacent VALs are merged, scanning five opcodes
/// from the one before the change. If the value does not fit a VAL (> 32) or
/// the string would grow past `sparse_max_bytes`, the HLL becomes dense.
fn sparse_raise(
    hll: &mut BytesMut,
    index: usize,
    count: u8,
    sparse_max_bytes: usize,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(hll, index, count);
    }
    let (p, op, first, prev) = sparse_find(hll, index)?;
    match op {
        Op::Val(v, _) if v >= count => return Ok(false),
        // A run of one register: rewrite the opcode in place.
        Op::Val(_, 1) | Op::Zero(1) => hll[p] = val(count, 1),
        _ => {
            let last = first + op.span() - 1;
            let mut seq = [0u8; 5];
            let mut n = 0;
            let put_zeros = |seq: &mut [u8; 5], n: &mut usize, len: usize| {
                if len > SPARSE_ZERO_MAX_LEN {
                    seq[*n..*n + 2].copy_from_slice(&xzero(len));
                    *n += 2;
                } else {
                    seq[*n] = zero(len);
                    *n += 1;
                }
            };
            match op {
                Op::Val(old, _) => {
                    if index != first {
                        seq[n] = val(old, index - first);
                        n += 1;
                    }
                    seq[n] = val(count, 1);
                    n += 1;
                    if index != last {
                        seq[n] = val(old, last - index);
                        n += 1;
                    }
                }
                Op::Zero(_) | Op::XZero(_) => {
                    if index != first {
                        put_zeros(&mut seq, &mut n, index - first);
                    }
                    seq[n] = val(count, 1);
                    n += 1;
                    if index != last {
                        put_zeros(&mut seq, &mut n, last - index);
                    }
                }
            }
            let old_len = hll.len();
            let delta = n as isize - op.bytes() as isize;
            if delta > 0 && old_len + delta as usize > sparse_max_bytes {
                return promote(hll, index, count);
            }
            // Replace the opcode by the sequence, moving the tail.
            let next = (p + op.bytes()).min(old_len);
            let tail_len = old_len - next;
            let seq_end = p + n;
            if seq_end + tail_len > old_len {
                hll.resize(seq_end + tail_len, 0);
            }
            hll.copy_within(next..next + tail_len, seq_end);
            hll[p..seq_end].copy_from_slice(&seq[..n]);
            // (The length only differs from seq_end + tail_len for a
            // truncated XZERO at the very end: Redis's length arithmetic.)
            hll.resize(old_len.saturating_add_signed(delta), 0);
        }
    }
    merge_adjacent_vals(hll, prev.unwrap_or(HEADER_BYTES));
    invalidate_cache(hll);
    Ok(true)
}

/// Merge adjacent VAL opcodes of the same value whose lengths fit one VAL,
/// looking at up to five opcodes from byte `p` (Redis's step 4).
fn merge_adjacent_vals(hll: &mut BytesMut, mut p: usize) {
    let mut budget = 5;
    while p < hll.len() && budget > 0 {
        budget -= 1;
        let b = hll[p];
        if is_xzero(b) {
            p += 2;
            continue;
        }
        if is_zero(b) {
            p += 1;
            continue;
        }
        if let Some(&next) = hll.get(p + 1) {
            if is_val(next) && val_value(b) == val_value(next) {
                let len = val_len(b) + val_len(next);
                if len <= SPARSE_VAL_MAX_LEN {
                    hll[p + 1] = val(val_value(b), len);
                    let end = hll.len();
                    hll.copy_within(p + 1..end, p);
                    hll.truncate(end - 1);
                    // Try the merged opcode against the next one too.
                    continue;
                }
            }
        }
        p += 1;
    }
}

/// Convert to dense, then raise the register (Redis's `promote:` path).
fn promote(hll: &mut BytesMut, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(hll)?;
    dense_raise(&mut hll[HEADER_BYTES..], index, count);
    Ok(true)
}

/// Convert a sparse HLL to dense (Redis `hllSparseToDense`), keeping the
/// header (cached cardinality included); whether it was sparse. A corrupted
/// sparse value is left as it was.
pub fn to_dense(hll: &mut BytesMut) -> Result<bool, Corrupt> {
    if hll.get(4) != Some(&ENCODING_SPARSE) {
        return Ok(false);
    }
    let mut dense = BytesMut::zeroed(DENSE_BYTES);
    dense[..HEADER_BYTES].copy_from_slice(&hll[..HEADER_BYTES]);
    dense[4] = ENCODING_DENSE;
    let mut idx = 0;
    for (_, op) in ops(hll) {
        match op {
            Op::Zero(n) | Op::XZero(n) => idx += n,
            Op::Val(v, n) => {
                if idx + n > REGISTERS {
                    break;
                }
                for i in idx..idx + n {
                    dense_set(&mut dense[HEADER_BYTES..], i, v);
                }
                idx += n;
            }
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    *hll = dense;
    Ok(true)
}

// ---------------------------------------------------------------------------
// The cached cardinality
// ---------------------------------------------------------------------------

/// The cached cardinality, if valid.
pub fn cached_cardinality(hll: &[u8]) -> Option<u64> {
    let card: [u8; 8] = hll.get(8..HEADER_BYTES)?.try_into().ok()?;
    (card[7] & CACHE_INVALID == 0).then(|| u64::from_le_bytes(card))
}

/// Store a freshly computed cardinality (valid from now on).
pub fn store_cardinality(hll: &mut [u8], card: u64) {
    if let Some(c) = hll.get_mut(8..HEADER_BYTES) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

/// Mark the cached cardinality stale (after any register change).
pub fn invalidate_cache(hll: &mut [u8]) {
    if let Some(b) = hll.get_mut(CACHE_FLAG_BYTE) {
        *b |= CACHE_INVALID;
    }
}

// ---------------------------------------------------------------------------
// Counting and merging
// ---------------------------------------------------------------------------

/// How many registers hold each value (0..=63).
type Histogram = [u64; 64];

/// The estimate for an HLL (validated by `check`), from its registers (not
/// the cache). A sparse value that does not cover 16384 registers is Corrupt.
pub fn cardinality(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histo: Histogram = [0; 64];
    match check(hll) {
        Ok(Encoding::Dense) => {
            let regs = &hll[HEADER_BYTES..];
            for i in 0..REGISTERS {
                histo[dense_get(regs, i) as usize] += 1;
            }
        }
        Ok(Encoding::Sparse) => {
            let mut idx = 0;
            for (_, op) in ops(hll) {
                match op {
                    Op::Zero(n) | Op::XZero(n) => histo[0] += n as u64,
                    Op::Val(v, n) => histo[v as usize] += n as u64,
                }
                idx += op.span();
            }
            if idx != REGISTERS {
                return Err(Corrupt);
            }
        }
        Err(NotHll) => return Err(Corrupt),
    }
    Ok(estimate(&histo))
}

/// Raise `max[i]` to register i of `hll` (validated by `check`): the
/// registers of a union (PFCOUNT of several keys, PFMERGE).
pub fn merge_into(max: &mut [u8; REGISTERS], hll: &[u8]) -> Result<(), Corrupt> {
    match check(hll) {
        Ok(Encoding::Dense) => {
            let regs = &hll[HEADER_BYTES..];
            for (i, m) in max.iter_mut().enumerate() {
                *m = (*m).max(dense_get(regs, i));
            }
            Ok(())
        }
        Ok(Encoding::Sparse) => {
            let mut idx = 0;
            for (_, op) in ops(hll) {
                match op {
                    Op::Zero(n) | Op::XZero(n) => idx += n,
                    Op::Val(v, n) => {
                        if idx + n > REGISTERS {
                            break;
                        }
                        for m in &mut max[idx..idx + n] {
                            *m = (*m).max(v);
                        }
                        idx += n;
                    }
                }
            }
            if idx == REGISTERS {
                Ok(())
            } else {
                Err(Corrupt)
            }
        }
        Err(NotHll) => Err(Corrupt),
    }
}

/// The estimate for plain registers (one byte each).
pub fn count_registers(regs: &[u8; REGISTERS]) -> u64 {
    let mut histo: Histogram = [0; 64];
    for &r in regs.iter() {
        histo[(r & 63) as usize] += 1;
    }
    estimate(&histo)
}

/// Every register, one byte each (PFDEBUG GETREG), for a validated HLL.
pub fn registers(hll: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut max = [0u8; REGISTERS];
    merge_into(&mut max, hll)?;
    Ok(max.to_vec())
}

/// The opcodes of a sparse HLL as text (PFDEBUG DECODE): `z:N` ZERO,
/// `Z:N` XZERO, `v:VALUE,N` VAL, separated by spaces.
pub fn decode_sparse(hll: &[u8]) -> String {
    let words: Vec<String> = ops(hll)
        .map(|(_, op)| match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        })
        .collect();
    words.join(" ")
}

/// Ertl's estimator over the register histogram (Redis `hllCount`).
fn estimate(histo: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let q = RUN_BITS as usize;
    let mut z = m * tau((m - histo[q + 1] as f64) / m);
    for j in (1..=q).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// Upper bound on the series' terms: they converge in well under 100 for
/// every input a histogram can give; the cap only guards against a NaN.
const SERIES_MAX_TERMS: usize = 10_000;

/// Ertl's sigma: x + sum over k >= 1 of x^(2^k) * 2^(k-1).
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    for _ in 0..SERIES_MAX_TERMS {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            break;
        }
    }
    z
}

/// Ertl's tau: (1 - x - sum over k >= 1 of (1 - x^(2^-k))^2 * 2^-k) / 3.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    for _ in 0..SERIES_MAX_TERMS {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if before == z {
            break;
        }
    }
    z / 3.0
}

// ---------------------------------------------------------------------------
// Self test (PFSELFTEST)
// ---------------------------------------------------------------------------

/// Redis's PFSELFTEST checks, smaller: dense registers keep what is written
/// without touching their neighbours; a sparse and a dense HLL fed the same
/// elements agree on every count; the error stays within six standard
/// errors. The message says what failed.
pub fn self_test(sparse_max_bytes: usize) -> Result<(), String> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ (std::process::id() as u64);
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut regs = vec![0u8; DENSE_BYTES - HEADER_BYTES];
    let mut expect = vec![0u8; REGISTERS];
    for _ in 0..20 {
        for (i, e) in expect.iter_mut().enumerate() {
            *e = (next() & REGISTER_MAX as u64) as u8;
            dense_set(&mut regs, i, *e);
        }
        for (i, &e) in expect.iter().enumerate() {
            let got = dense_get(&regs, i);
            if got != e {
                return Err(format!(
                    "TESTFAILED Register {i} should be {e} but is {got}"
                ));
            }
        }
    }
    let mut dense = new_sparse();
    to_dense(&mut dense).map_err(|_| "TESTFAILED conversion failed".to_string())?;
    let mut sparse = new_sparse();
    let relative_error = 1.04 / (REGISTERS as f64).sqrt();
    let base = next();
    let mut checkpoint = 1u64;
    for j in 1..=100_000u64 {
        let element = (j ^ base).to_le_bytes();
        let failed = |_| "TESTFAILED corrupted HLL".to_string();
        add(&mut dense, &element, sparse_max_bytes).map_err(failed)?;
        add(&mut sparse, &element, sparse_max_bytes).map_err(failed)?;
        if j != checkpoint {
            continue;
        }
        if j < sparse_max_bytes as u64 / 2 && check(&sparse) != Ok(Encoding::Sparse) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let (d, s) = (cardinality(&dense), cardinality(&sparse));
        if d != s {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let estimate = d.unwrap_or(0);
        let max_error = if j == 10 {
            1
        } else {
            (relative_error * 6.0 * j as f64).ceil() as u64
        };
        if estimate.abs_diff(j) > max_error {
            return Err(format!(
                "TESTFAILED Too big error. card:{j} abserr:{}",
                estimate.abs_diff(j)
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values redis-server 7.0.15 answered to GET (recorded with redis-cli),
    // after `PFADD empty`, `PFADD abc a b c`, then `PFCOUNT abc`.
    const REDIS_EMPTY: &str = "48594c4c0100000000000000000000807fff";
    const REDIS_ABC: &str = "48594c4c01000000000000000000008060f38050b1844bfb80425a";
    const REDIS_ABC_COUNTED: &str = "48594c4c01000000030000000000000060f38050b1844bfb80425a";
    /// `PFADD e200 e0 e1 ... e199` (one command), then `PFCOUNT e200` (200).
    const REDIS_E200: &[&str] = &[
        "48594c4c01000000c800000000000000368421801980409f8408a40e88409084406c9c0190018812883884409480411c",
        "8817884055800080407a80411d8812804075800d842a8040638440768c404684414880098040d5800980409480407e90",
        "40738040628440a280408384405d84148040cb8407840d8040f080405e80068427844081803c844047840780404e8040",
        "8f84039404844043840c842684406e80407380404084409d84198019802a8441028c088441298010801c884060801080",
        "404b8c4052881b8040b080406e8040bc802b8c40f58040618c1a840380407e80408080404580088440fd80405a804066",
        "84409f8040468c108c018401841e8811802384407d8440de84406280308812844065840784198040de84404684408b88",
        "14802988008402800a8840578041a79011842e844070801f840180189440f98440848c168421813c881d801380368410",
        "804089844044804147800380228040b88440bb88404684168040c684404980048440e680404380388c405c8040558440",
        "9980268005800380405480409e88404c882e8840448040b080198408841f880380405b841b803f804044804055800d88",
        "128440d380405988408b800290407e800784407b801d841d8040af8418840f844045803384404f80288440a784407680",
        "40578419844048800e9022840a80406a840d8039801380409a8828804046844044",
    ];
    /// `PFADD d5000 d0 ... d4999` then `PFCOUNT d5000` (5037): dense, 12304
    /// bytes with this FNV-1a 64 digest.
    const REDIS_D5000_FNV: u64 = 0x78600a6ea1202bc8;
    const REDIS_D5000_COUNT: u64 = 5037;
    /// `PFMERGE m abc e200` then `PFCOUNT m` (203): sparse, 519 bytes.
    const REDIS_MERGED_FNV: u64 = 0x0847f0f52efde12a;
    const REDIS_MERGED_LEN: usize = 519;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf29ce484222325, |h, &b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        })
    }

    /// PFADD as the command does it: add each element, invalidate on change.
    fn pfadd<'a>(hll: &mut BytesMut, elements: impl IntoIterator<Item = &'a [u8]>) -> bool {
        let mut changed = false;
        for e in elements {
            changed |= add(hll, e, 3000).unwrap();
        }
        if changed {
            invalidate_cache(hll);
        }
        changed
    }

    /// PFCOUNT of one key: the cache, or a fresh count stored in it.
    fn pfcount(hll: &mut BytesMut) -> u64 {
        if let Some(c) = cached_cardinality(hll) {
            return c;
        }
        let c = cardinality(hll).unwrap();
        store_cardinality(hll, c);
        c
    }

    fn numbered(prefix: &str, n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("{prefix}{i}").into_bytes())
            .collect()
    }

    #[test]
    fn new_hll_is_byte_identical_to_redis() {
        let mut h = new_sparse();
        invalidate_cache(&mut h); // PFADD of a new key counts as a change
        assert_eq!(&h[..], &hex(REDIS_EMPTY)[..]);
    }

    #[test]
    fn sparse_adds_are_byte_identical_to_redis() {
        let mut h = new_sparse();
        pfadd(&mut h, [&b"a"[..], b"b", b"c"]);
        assert_eq!(&h[..], &hex(REDIS_ABC)[..]);
        assert_eq!(pfcount(&mut h), 3);
        assert_eq!(&h[..], &hex(REDIS_ABC_COUNTED)[..]);
        // Adding the same elements again changes nothing, the cache stays valid.
        assert!(!pfadd(&mut h, [&b"a"[..], b"b", b"c"]));
        assert_eq!(&h[..], &hex(REDIS_ABC_COUNTED)[..]);

        let mut h = new_sparse();
        let elements = numbered("e", 200);
        pfadd(&mut h, elements.iter().map(|e| &e[..]));
        assert_eq!(pfcount(&mut h), 200);
        assert_eq!(hex(&REDIS_E200.concat()), &h[..]);
    }

    #[test]
    fn promotion_to_dense_is_byte_identical_to_redis() {
        let mut h = new_sparse();
        let elements = numbered("d", 5000);
        pfadd(&mut h, elements.iter().map(|e| &e[..]));
        assert_eq!(check(&h), Ok(Encoding::Dense));
        assert_eq!(h.len(), DENSE_BYTES);
        assert_eq!(pfcount(&mut h), REDIS_D5000_COUNT);
        assert_eq!(fnv1a(&h), REDIS_D5000_FNV);
    }

    #[test]
    fn merge_into_sparse_is_byte_identical_to_redis() {
        let mut abc = new_sparse();
        pfadd(&mut abc, [&b"a"[..], b"b", b"c"]);
        let e200 = hex(&REDIS_E200.concat());
        let mut max = [0u8; REGISTERS];
        merge_into(&mut max, &abc).unwrap();
        merge_into(&mut max, &e200).unwrap();
        // PFMERGE into a new key: registers raised one by one, in order.
        let mut m = new_sparse();
        for (i, &v) in max.iter().enumerate().filter(|(_, &v)| v > 0) {
            raise(&mut m, i, v, 3000).unwrap();
        }
        invalidate_cache(&mut m);
        assert_eq!(pfcount(&mut m), 203);
        assert_eq!(m.len(), REDIS_MERGED_LEN);
        assert_eq!(fnv1a(&m), REDIS_MERGED_FNV);
        assert_eq!(count_registers(&max), 203);
    }

    #[test]
    fn murmur_and_patterns() {
        // Every count is in 1..=51 and indexes stay in range.
        for e in numbered("x", 2000) {
            let (i, c) = hash_element(&e);
            assert!(i < REGISTERS && (1..=51).contains(&c));
        }
        // Tails of every length hash differently.
        let hashes: std::collections::HashSet<u64> = (0..17)
            .map(|n| murmur64a(&b"0123456789abcdefg"[..n], HASH_SEED))
            .collect();
        assert_eq!(hashes.len(), 17);
    }

    #[test]
    fn dense_registers_do_not_touch_neighbours() {
        let mut regs = vec![0u8; DENSE_BYTES - HEADER_BYTES];
        for i in 0..REGISTERS {
            dense_set(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8, "register {i}");
        }
        dense_set(&mut regs, REGISTERS - 1, 63);
        assert_eq!(
            dense_get(&regs, REGISTERS - 2),
            ((REGISTERS - 2) % 64) as u8
        );
    }

    #[test]
    fn sparse_and_dense_agree() {
        for n in [0, 1, 7, 100, 900, 2500] {
            let mut sparse = new_sparse();
            let mut dense = new_sparse();
            to_dense(&mut dense).unwrap();
            let elements = numbered("s", n);
            pfadd(&mut sparse, elements.iter().map(|e| &e[..]));
            pfadd(&mut dense, elements.iter().map(|e| &e[..]));
            assert_eq!(cardinality(&sparse), cardinality(&dense), "n = {n}");
            assert_eq!(registers(&sparse), registers(&dense));
        }
    }

    #[test]
    fn values_above_32_promote() {
        let mut h = new_sparse();
        assert!(raise(&mut h, 5, 33, 3000).unwrap());
        assert_eq!(check(&h), Ok(Encoding::Dense));
        assert_eq!(registers(&h).unwrap()[5], 33);
    }

    #[test]
    fn sparse_max_bytes_promotes() {
        let mut h = new_sparse();
        let elements = numbered("p", 100);
        for e in &elements {
            add(&mut h, e, 100).unwrap();
        }
        assert_eq!(check(&h), Ok(Encoding::Dense));
    }

    #[test]
    fn header_checks() {
        let good = hex(REDIS_ABC);
        assert_eq!(check(&good), Ok(Encoding::Sparse));
        assert_eq!(check(&good[..15]), Err(NotHll));
        let mut bad = good.clone();
        bad[0] = b'0';
        assert_eq!(check(&bad), Err(NotHll));
        let mut bad = good.clone();
        bad[4] = b'x';
        assert_eq!(check(&bad), Err(NotHll));
        let mut bad = good.clone();
        bad[4] = 0; // dense, but of the wrong length
        assert_eq!(check(&bad), Err(NotHll));
        let mut tail = good.clone();
        tail.extend_from_slice(b"hello");
        assert_eq!(cardinality(&tail), Err(Corrupt));
    }

    #[test]
    fn decode_lists_opcodes() {
        assert_eq!(decode_sparse(&hex(REDIS_EMPTY)), "Z:16384");
        let d = decode_sparse(&hex(REDIS_ABC));
        assert!(d.starts_with("Z:") && d.matches("v:").count() == 3, "{d}");
    }

    #[test]
    fn corrupted_values_never_panic() {
        let mut seed = 12345u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = hex(&REDIS_E200.concat());
        for _ in 0..3000 {
            let mut v = BytesMut::from(&base[..]);
            for _ in 0..(1 + rnd() % 5) {
                let pos = (rnd() as usize) % v.len();
                v[pos] = rnd() as u8;
            }
            if rnd() % 4 == 0 {
                let cut = HEADER_BYTES + (rnd() as usize) % (v.len() - HEADER_BYTES);
                v.truncate(cut);
            }
            if check(&v).is_err() {
                continue;
            }
            let _ = cardinality(&v);
            let _ = registers(&v);
            let _ = decode_sparse(&v);
            for e in numbered("z", 20) {
                let _ = add(&mut v, &e, 3000);
            }
            let mut w = v.clone();
            let _ = to_dense(&mut w);
        }
    }

    #[test]
    fn self_test_passes() {
        assert_eq!(self_test(3000), Ok(()));
    }
}
