//! Heap bytes per stream entry in herald's `StreamLog`, for comparison with
//! redis-server's `used_memory` growth over the same XADDs.
//!
//! Builds a log of N entries (default 1,000,000) the way
//! `redis-benchmark -P 50 XADD s '*' a 1 b 2 c 3` fills a Redis stream: `*` IDs
//! with about 500 entries per millisecond (what that load reaches on this
//! machine), default node limits (4096 bytes, 100 entries). Memory is
//! jemalloc's `stats.allocated` before and after, as Redis's `used_memory`
//! is jemalloc's allocated (usable) sizes. Also times push and a full forward
//! and backward read (figures only, nothing asserted).
//!
//! usage: cargo run --release --example stream_log_memory [-- N [PER_MS]]

use std::time::Instant;

use herald::store::stream::{NodeLimits, StreamId, StreamLog};
use tikv_jemalloc_ctl::{epoch, stats};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn allocated() -> usize {
    epoch::advance().expect("jemalloc epoch");
    stats::allocated::read().expect("jemalloc stats")
}

fn measure(name: &str, fields: &[(&[u8], &[u8])], n: usize, per_ms: u64) {
    let before = allocated();
    let mut log = StreamLog::default();
    let limits = NodeLimits::default();
    let start_ms = 1_700_000_000_000u64;
    let t = Instant::now();
    for i in 0..n as u64 {
        let id = StreamId::new(start_ms + i / per_ms, i % per_ms);
        log.push(id, fields, limits);
    }
    let push = t.elapsed();
    let after = allocated();
    let t = Instant::now();
    let mut bytes = 0usize;
    for e in log.iter() {
        for (f, v) in e.fields() {
            bytes += f.len() + v.len();
        }
    }
    let fwd = t.elapsed();
    let t = Instant::now();
    let mut count = 0usize;
    for e in log.iter_range(StreamId::MIN, StreamId::MAX, true) {
        count += e.field_count();
    }
    let rev = t.elapsed();
    // XRANGE - + COUNT 100 from spread-out starts, owned copies as `range` returns them.
    let t = Instant::now();
    let calls = 20_000u64;
    let mut got = 0usize;
    for i in 0..calls {
        let at = (i * 7919) % n as u64;
        let start = StreamId::new(start_ms + at / per_ms, at % per_ms);
        got += log.range(start, StreamId::MAX, false, Some(100)).len();
    }
    let range100 = t.elapsed();
    let per_entry = (after - before) as f64 / n as f64;
    println!(
        "{name}: entries={n} nodes={} heap_bytes={} bytes_per_entry={per_entry:.2} \
         charged_bytes_per_entry={:.2} push_ns={:.1} read_fwd_ns={:.1} read_rev_ns={:.1} \
         range_count100_ns_per_entry={:.1} (read {bytes} bytes, {count} fields, {got} ranged)",
        log.node_count(),
        after - before,
        log.charged_bytes() as f64 / n as f64,
        push.as_nanos() as f64 / n as f64,
        fwd.as_nanos() as f64 / n as f64,
        rev.as_nanos() as f64 / n as f64,
        range100.as_nanos() as f64 / got as f64,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let per_ms: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    measure(
        "a 1 b 2 c 3",
        &[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")],
        n,
        per_ms,
    );
    measure(
        "f1 v1 f2 v2 f3 v3",
        &[(b"f1", b"v1"), (b"f2", b"v2"), (b"f3", b"v3")],
        n,
        per_ms,
    );
}
