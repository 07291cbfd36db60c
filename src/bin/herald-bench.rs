//! herald-bench: load generator for herald.
//!
//! * `pubsub`   — Redis (RESP2) PUBLISH/SUBSCRIBE fan-out: throughput, latency,
//!   per-publisher ordering and delivery-count checks.
//! * `memcache` — memcached text protocol get/set mix.
//! * `streams`  — XADD producers and an XREADGROUP + XACK consumer group
//!   (`herald_bench/streams.rs`): deliveries/s, exactly-once check.
//!
//! Speaks the protocols over raw tokio `TcpStream`s (no client crates) and prints
//! one machine-readable `key=value` summary line per run. Exits non-zero when a
//! correctness check fails (lost/duplicated/reordered messages, bad replies,
//! connection errors, timeout).
//!
//! Channel/pattern mapping (pubsub): channel index `c` is named `bench:ch:{c}:m`;
//! with `--patterns` the subscriber of channel `c` uses `PSUBSCRIBE bench:ch:{c}:*`,
//! which matches exactly that one channel (`bench:ch:1:*` does not match
//! `bench:ch:10:m`).
//!
//! Payload layout (little endian, `--payload` bytes, at least 16):
//! `publisher id: u32 | sequence: u32 | send time: u64 ns since run epoch | b'x' padding`.
//! The epoch is a single `Instant` shared by all tasks of the process.

use bytes::{Buf, BytesMut};
use clap::{Args, Parser, Subcommand};
use std::collections::VecDeque;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

#[path = "herald_bench/streams.rs"]
mod streams;

type BoxErr = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxErr>;

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

#[derive(Parser, Debug)]
#[command(
    name = "herald-bench",
    about = "Load generator for herald: Redis pub/sub fan-out and memcached get/set"
)]
struct Cli {
    /// Tokio worker threads (run the generator pinned, e.g. `taskset -c 1`).
    #[arg(long, default_value_t = 1, global = true)]
    threads: usize,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// PUBLISH/SUBSCRIBE fan-out benchmark (RESP2).
    Pubsub(PubsubArgs),
    /// memcached text protocol get/set benchmark.
    Memcache(MemcacheArgs),
    /// Stream consumer-group work queue: XADD producers, XREADGROUP + XACK consumers.
    Streams(streams::StreamsArgs),
}

#[derive(Args, Debug, Clone)]
struct PubsubArgs {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value_t = 6379)]
    port: u16,
    /// Publisher connections.
    #[arg(long, default_value_t = 1)]
    publishers: u32,
    /// Subscriber connections; subscriber i listens on channel i % channels.
    #[arg(long, default_value_t = 100)]
    subscribers: u32,
    /// Number of channels; publishers spread messages round-robin over them.
    #[arg(long, default_value_t = 1)]
    channels: u32,
    /// Message payload size in bytes (>= 16).
    #[arg(long, default_value_t = 64)]
    payload: usize,
    /// Total PUBLISH commands over all publishers.
    #[arg(long, default_value_t = 100_000)]
    messages: u64,
    /// PUBLISH commands in flight per publisher connection.
    #[arg(long, default_value_t = 16)]
    pipeline: usize,
    /// Subscribers use PSUBSCRIBE `bench:ch:{c}:*` instead of SUBSCRIBE `bench:ch:{c}:m`.
    #[arg(long, default_value_t = false)]
    patterns: bool,
    /// Hard limit for the whole run.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
    /// Max time to wait for straggling deliveries after the last PUBLISH reply.
    #[arg(long, default_value_t = 5)]
    grace_secs: u64,
}

#[derive(Args, Debug, Clone)]
struct MemcacheArgs {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value_t = 11211)]
    port: u16,
    #[arg(long, default_value_t = 50)]
    connections: u32,
    /// Key space size; every key is prefilled with a SET before measuring.
    #[arg(long, default_value_t = 100_000)]
    keys: u64,
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    #[arg(long, default_value_t = 10)]
    ratio_get: u32,
    #[arg(long, default_value_t = 1)]
    ratio_set: u32,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 1)]
    pipeline: usize,
    /// Total measured requests over all connections.
    #[arg(long, default_value_t = 200_000)]
    requests: u64,
    /// Hard limit for the whole run (prefill included).
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = match cli.cmd {
        Cmd::Pubsub(a) => rt.block_on(run_pubsub(a)),
        Cmd::Memcache(a) => rt.block_on(run_memcache(a)),
        Cmd::Streams(a) => rt.block_on(streams::run_streams(a)),
    };
    // Do not wait for tasks still blocked on sockets (e.g. after a timeout).
    rt.shutdown_background();
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("herald-bench: error: {e}");
            ExitCode::from(2)
        }
    }
}

// ---------------------------------------------------------------------------
// Latency histogram: log-linear, 32 linear sub-buckets per power of two
// (~3% relative precision), values in nanoseconds.
// ---------------------------------------------------------------------------

const SUB_BITS: u32 = 5;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB;

#[derive(Clone)]
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Histogram {
    fn new() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }

    #[inline]
    fn index(v: u64) -> usize {
        if v < (2 * SUB) as u64 {
            v as usize
        } else {
            let msb = 63 - v.leading_zeros();
            let shift = msb - SUB_BITS;
            ((shift as usize) << SUB_BITS) + (v >> shift) as usize
        }
    }

    /// Midpoint of the bucket's value range.
    fn value_of(idx: usize) -> u64 {
        if idx < 2 * SUB {
            idx as u64
        } else {
            let shift = (idx >> SUB_BITS) - 1;
            let m = (idx - (shift << SUB_BITS)) as u64;
            let lo = m << shift;
            let hi = ((m + 1) << shift) - 1;
            lo + (hi - lo) / 2
        }
    }

    #[inline]
    fn record(&mut self, v: u64) {
        self.counts[Self::index(v)] += 1;
        self.total += 1;
        if v > self.max {
            self.max = v;
        }
    }

    fn merge(&mut self, o: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += *b;
        }
        self.total += o.total;
        self.max = self.max.max(o.max);
    }

    /// Quantile in nanoseconds (0 when empty).
    fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let target = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut acc = 0;
        for (i, c) in self.counts.iter().enumerate() {
            acc += c;
            if acc >= target {
                return Self::value_of(i).min(self.max);
            }
        }
        self.max
    }

    fn summary(&self) -> String {
        let us = |ns: u64| ns as f64 / 1000.0;
        format!(
            "p50_us={:.1} p90_us={:.1} p99_us={:.1} p999_us={:.1} max_us={:.1}",
            us(self.quantile(0.50)),
            us(self.quantile(0.90)),
            us(self.quantile(0.99)),
            us(self.quantile(0.999)),
            us(self.max)
        )
    }
}

// ---------------------------------------------------------------------------
// Connection with a read buffer
// ---------------------------------------------------------------------------

struct Conn {
    stream: TcpStream,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
}

impl Conn {
    async fn connect(host: &str, port: u16) -> Res<Conn> {
        let stream = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("connect {host}:{port}: {e}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            rbuf: BytesMut::with_capacity(64 * 1024),
            wbuf: Vec::with_capacity(16 * 1024),
        })
    }

    /// Read more bytes into `rbuf`; error on EOF.
    async fn fill(&mut self) -> Res<()> {
        if self.rbuf.capacity() - self.rbuf.len() < 16 * 1024 {
            self.rbuf.reserve(64 * 1024);
        }
        let n = self.stream.read_buf(&mut self.rbuf).await?;
        if n == 0 {
            return Err("connection closed by server".into());
        }
        Ok(())
    }

    async fn flush_wbuf(&mut self) -> Res<()> {
        if !self.wbuf.is_empty() {
            self.stream.write_all(&self.wbuf).await?;
            self.wbuf.clear();
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Minimal RESP2 reply parser (zero copy, no allocation). Supports scalar
// replies and flat arrays of up to MAX_ITEMS scalars — all that SUBSCRIBE,
// PSUBSCRIBE, PUBLISH and PING produce.
// ---------------------------------------------------------------------------

const MAX_ITEMS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Val<'a> {
    Simple(&'a [u8]),
    Error(&'a [u8]),
    Int(i64),
    Bulk(&'a [u8]),
    Nil,
    Array(usize),
}

struct Reply<'a> {
    head: Val<'a>,
    items: [Val<'a>; MAX_ITEMS],
}

impl<'a> Reply<'a> {
    fn array(&self) -> Option<&[Val<'a>]> {
        match self.head {
            Val::Array(n) => Some(&self.items[..n]),
            _ => None,
        }
    }
}

fn parse_int(s: &[u8]) -> Res<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 18 {
        return Err(format!("bad integer {:?}", String::from_utf8_lossy(s)).into());
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(format!("bad integer {:?}", String::from_utf8_lossy(s)).into());
        }
        v = v * 10 + (d - b'0') as i64;
    }
    Ok(if neg { -v } else { v })
}

/// Line starting at `pos` (without CRLF) and the position after the CRLF.
#[inline]
fn line_at(buf: &[u8], pos: usize) -> Res<Option<(&[u8], usize)>> {
    match memchr::memchr(b'\n', &buf[pos..]) {
        None => Ok(None),
        Some(i) => {
            let end = pos + i;
            if end == pos || buf[end - 1] != b'\r' {
                return Err("protocol error: line not terminated by CRLF".into());
            }
            Ok(Some((&buf[pos..end - 1], end + 1)))
        }
    }
}

#[inline]
fn parse_val(buf: &[u8], pos: usize) -> Res<Option<(Val<'_>, usize)>> {
    if pos >= buf.len() {
        return Ok(None);
    }
    let Some((line, next)) = line_at(buf, pos + 1)? else {
        return Ok(None);
    };
    let v = match buf[pos] {
        b'+' => Val::Simple(line),
        b'-' => Val::Error(line),
        b':' => Val::Int(parse_int(line)?),
        b'$' => {
            let n = parse_int(line)?;
            if n < 0 {
                Val::Nil
            } else {
                let n = n as usize;
                if buf.len() < next + n + 2 {
                    return Ok(None);
                }
                if &buf[next + n..next + n + 2] != b"\r\n" {
                    return Err("protocol error: bulk string not terminated by CRLF".into());
                }
                return Ok(Some((Val::Bulk(&buf[next..next + n]), next + n + 2)));
            }
        }
        b'*' => {
            let n = parse_int(line)?;
            if n < 0 {
                Val::Nil
            } else {
                Val::Array(n as usize)
            }
        }
        t => {
            return Err(format!("protocol error: unexpected type byte 0x{t:02x}").into());
        }
    };
    Ok(Some((v, next)))
}

/// Parse one complete reply from `buf`; `None` if more bytes are needed.
#[inline]
fn parse_reply(buf: &[u8]) -> Res<Option<(Reply<'_>, usize)>> {
    let Some((head, mut pos)) = parse_val(buf, 0)? else {
        return Ok(None);
    };
    let mut items = [Val::Nil; MAX_ITEMS];
    if let Val::Array(n) = head {
        if n > MAX_ITEMS {
            return Err(format!("unsupported array reply of {n} elements").into());
        }
        for item in items.iter_mut().take(n) {
            let Some((v, next)) = parse_val(buf, pos)? else {
                return Ok(None);
            };
            if matches!(v, Val::Array(_)) {
                return Err("unsupported nested array reply".into());
            }
            *item = v;
            pos = next;
        }
    }
    Ok(Some((Reply { head, items }, pos)))
}

fn push_bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

fn encode_cmd(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.push(b'*');
    out.extend_from_slice(args.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        push_bulk(out, a);
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(120)]).into_owned()
}

// ---------------------------------------------------------------------------
// pubsub
// ---------------------------------------------------------------------------

fn channel_name(c: u32) -> String {
    format!("bench:ch:{c}:m")
}

fn pattern_name(c: u32) -> String {
    format!("bench:ch:{c}:*")
}

#[inline]
fn now_ns(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64
}

/// Publisher progress shared by all publishers; updated per reply batch so it
/// survives a timeout.
struct PubShared {
    published: AtomicU64,
    receivers_sum: AtomicU64,
    first_tx_ns: AtomicU64,
    last_reply_ns: AtomicU64,
}

#[derive(Default)]
struct SubCounters {
    deliveries: u64,
    /// Sequence number not greater than the previous one from the same publisher.
    order_errors: u64,
    /// Sequence numbers skipped (messages lost) for a publisher.
    lost: u64,
    /// Malformed / misrouted / unexpected frames.
    bad: u64,
    last_rx_ns: u64,
}

struct SubStats {
    counters: SubCounters,
    hist: Histogram,
}

async fn subscriber(
    idx: u32,
    a: Arc<PubsubArgs>,
    epoch: Instant,
    ready: mpsc::Sender<Res<()>>,
    mut stop: watch::Receiver<bool>,
    delivered: Arc<AtomicU64>,
) -> SubStats {
    let c = idx % a.channels;
    let channel = channel_name(c);
    let pattern = pattern_name(c);
    let mut st = SubStats {
        counters: SubCounters::default(),
        hist: Histogram::new(),
    };
    let mut conn = match subscribe(&a, &channel, &pattern).await {
        Ok(conn) => {
            let _ = ready.send(Ok(())).await;
            conn
        }
        Err(e) => {
            let _ = ready
                .send(Err(format!("subscriber {idx}: {e}").into()))
                .await;
            return st;
        }
    };
    drop(ready);

    // last[p] = last sequence number seen from publisher p (-1 = none yet).
    let mut last = vec![-1i64; a.publishers as usize];
    let payload_len = a.payload;
    let (npub, nch) = (a.publishers as i64, a.channels as i64);

    loop {
        if conn.rbuf.capacity() - conn.rbuf.len() < 16 * 1024 {
            conn.rbuf.reserve(64 * 1024);
        }
        let n = tokio::select! {
            biased;
            _ = stop.changed() => break,
            r = conn.stream.read_buf(&mut conn.rbuf) => r,
        };
        match n {
            Ok(0) => {
                eprintln!("subscriber {idx}: connection closed by server");
                st.counters.bad += 1;
                break;
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("subscriber {idx}: read error: {e}");
                st.counters.bad += 1;
                break;
            }
        }
        let now = now_ns(epoch);
        let buf = &conn.rbuf[..];
        let mut pos = 0;
        let mut batch = 0u64;
        let mut fatal = false;
        loop {
            let (reply, used) = match parse_reply(&buf[pos..]) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    eprintln!("subscriber {idx}: {e}");
                    fatal = true;
                    break;
                }
            };
            pos += used;
            let payload = match reply.array() {
                Some([Val::Bulk(b"message"), Val::Bulk(ch), Val::Bulk(p)])
                    if !a.patterns && *ch == channel.as_bytes() =>
                {
                    *p
                }
                Some([Val::Bulk(b"pmessage"), Val::Bulk(pat), Val::Bulk(ch), Val::Bulk(p)])
                    if a.patterns && *pat == pattern.as_bytes() && *ch == channel.as_bytes() =>
                {
                    *p
                }
                _ => {
                    if st.counters.bad < 5 {
                        eprintln!("subscriber {idx}: unexpected frame {:?}", reply.head);
                    }
                    st.counters.bad += 1;
                    continue;
                }
            };
            batch += 1;
            if payload.len() != payload_len {
                st.counters.bad += 1;
                continue;
            }
            let p = u32::from_le_bytes(payload[0..4].try_into().unwrap()) as i64;
            let seq = u32::from_le_bytes(payload[4..8].try_into().unwrap()) as i64;
            let ts = u64::from_le_bytes(payload[8..16].try_into().unwrap());
            if p >= npub {
                st.counters.bad += 1;
                continue;
            }
            // Publisher p sends its k-th message to channel (p + k) % C.
            if (p + seq) % nch != c as i64 {
                st.counters.bad += 1;
                continue;
            }
            let l = &mut last[p as usize];
            if seq <= *l {
                st.counters.order_errors += 1;
            } else {
                let expected = if *l < 0 {
                    (c as i64 - p).rem_euclid(nch)
                } else {
                    *l + nch
                };
                if seq > expected {
                    st.counters.lost += ((seq - expected) / nch) as u64;
                }
                *l = seq;
            }
            st.hist.record(now.saturating_sub(ts));
        }
        conn.rbuf.advance(pos);
        if batch > 0 {
            st.counters.deliveries += batch;
            st.counters.last_rx_ns = now;
            delivered.fetch_add(batch, Ordering::Relaxed);
        }
        if fatal {
            st.counters.bad += 1;
            break;
        }
    }
    st
}

async fn subscribe(a: &PubsubArgs, channel: &str, pattern: &str) -> Res<Conn> {
    let mut conn = Conn::connect(&a.host, a.port).await?;
    let (cmd, target): (&[u8], &str) = if a.patterns {
        (b"PSUBSCRIBE", pattern)
    } else {
        (b"SUBSCRIBE", channel)
    };
    encode_cmd(&mut conn.wbuf, &[cmd, target.as_bytes()]);
    conn.flush_wbuf().await?;
    loop {
        if let Some((reply, used)) = parse_reply(&conn.rbuf)? {
            let ok = match reply.array() {
                Some([Val::Bulk(kind), Val::Bulk(name), Val::Int(1)]) => {
                    kind.eq_ignore_ascii_case(cmd) && *name == target.as_bytes()
                }
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "unexpected subscribe confirmation {:?}",
                    show(&conn.rbuf[..used])
                )
                .into());
            }
            conn.rbuf.advance(used);
            if !conn.rbuf.is_empty() {
                return Err("unexpected data after subscribe confirmation".into());
            }
            return Ok(conn);
        }
        conn.fill().await?;
    }
}

async fn publisher(
    p: u32,
    count: u64,
    mut conn: Conn,
    a: Arc<PubsubArgs>,
    epoch: Instant,
    st: Arc<PubShared>,
) -> Res<()> {
    let nch = a.channels as u64;
    // Per channel: "*3 $7 PUBLISH $len channel $plen" — the payload follows.
    let prefixes: Vec<Vec<u8>> = (0..a.channels)
        .map(|c| {
            let mut v = Vec::new();
            v.extend_from_slice(b"*3\r\n$7\r\nPUBLISH\r\n");
            push_bulk(&mut v, channel_name(c).as_bytes());
            v.extend_from_slice(format!("${}\r\n", a.payload).as_bytes());
            v
        })
        .collect();
    let pad = vec![b'x'; a.payload - 16];
    let (mut sent, mut acked) = (0u64, 0u64);
    let mut first = true;
    while acked < count {
        if sent < count && sent - acked < a.pipeline as u64 {
            let ts = now_ns(epoch);
            while sent < count && sent - acked < a.pipeline as u64 {
                let ch = ((p as u64 + sent) % nch) as usize;
                let w = &mut conn.wbuf;
                w.extend_from_slice(&prefixes[ch]);
                w.extend_from_slice(&p.to_le_bytes());
                w.extend_from_slice(&(sent as u32).to_le_bytes());
                w.extend_from_slice(&ts.to_le_bytes());
                w.extend_from_slice(&pad);
                w.extend_from_slice(b"\r\n");
                sent += 1;
            }
            conn.flush_wbuf().await?;
            if first {
                st.first_tx_ns.fetch_min(ts, Ordering::Relaxed);
                first = false;
            }
        }
        // Wait for at least one reply, consume all complete ones.
        loop {
            let mut pos = 0;
            let mut got = 0;
            let mut receivers = 0;
            while let Some((reply, used)) = parse_reply(&conn.rbuf[pos..])? {
                match reply.head {
                    Val::Int(n) if n >= 0 => receivers += n as u64,
                    other => {
                        return Err(
                            format!("publisher {p}: unexpected PUBLISH reply {other:?}").into()
                        )
                    }
                }
                pos += used;
                got += 1;
            }
            conn.rbuf.advance(pos);
            if got > 0 {
                acked += got;
                st.receivers_sum.fetch_add(receivers, Ordering::Relaxed);
                st.published.fetch_add(got, Ordering::Relaxed);
                st.last_reply_ns.fetch_max(now_ns(epoch), Ordering::Relaxed);
                break;
            }
            conn.fill().await?;
        }
    }
    Ok(())
}

async fn run_pubsub(a: PubsubArgs) -> Res<bool> {
    if a.payload < 16 {
        return Err("--payload must be at least 16".into());
    }
    if a.publishers == 0 || a.channels == 0 || a.pipeline == 0 {
        return Err("--publishers, --channels and --pipeline must be at least 1".into());
    }
    if a.messages > u32::MAX as u64 {
        return Err("--messages too large".into());
    }
    let a = Arc::new(a);
    let epoch = Instant::now();
    let deadline = tokio::time::Instant::from_std(epoch + Duration::from_secs(a.timeout_secs));
    let delivered = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = mpsc::channel::<Res<()>>(a.subscribers.max(1) as usize);
    let mut errors: Vec<String> = Vec::new();
    let mut timed_out = false;

    // 1. Subscribers: connect, subscribe, wait for every confirmation.
    let subs: Vec<JoinHandle<SubStats>> = (0..a.subscribers)
        .map(|i| {
            tokio::spawn(subscriber(
                i,
                a.clone(),
                epoch,
                ready_tx.clone(),
                stop_rx.clone(),
                delivered.clone(),
            ))
        })
        .collect();
    drop(ready_tx);
    let mut confirmed = 0;
    while confirmed < a.subscribers {
        match tokio::time::timeout_at(deadline, ready_rx.recv()).await {
            Ok(Some(Ok(()))) => confirmed += 1,
            Ok(Some(Err(e))) => {
                errors.push(e.to_string());
                break;
            }
            Ok(None) => break,
            Err(_) => {
                timed_out = true;
                break;
            }
        }
    }

    // 2. Publishers.
    let pubs = Arc::new(PubShared {
        published: AtomicU64::new(0),
        receivers_sum: AtomicU64::new(0),
        first_tx_ns: AtomicU64::new(u64::MAX),
        last_reply_ns: AtomicU64::new(0),
    });
    if errors.is_empty() && !timed_out {
        let mut handles = Vec::new();
        let mut conns = Vec::new();
        for _ in 0..a.publishers {
            match tokio::time::timeout_at(deadline, Conn::connect(&a.host, a.port)).await {
                Ok(Ok(c)) => conns.push(c),
                Ok(Err(e)) => errors.push(format!("publisher connect: {e}")),
                Err(_) => timed_out = true,
            }
        }
        if errors.is_empty() && !timed_out {
            let n = a.publishers as u64;
            for (p, conn) in conns.into_iter().enumerate() {
                let count = a.messages / n + u64::from((p as u64) < a.messages % n);
                handles.push(tokio::spawn(publisher(
                    p as u32,
                    count,
                    conn,
                    a.clone(),
                    epoch,
                    pubs.clone(),
                )));
            }
        }
        for mut h in handles {
            if timed_out {
                h.abort();
                continue;
            }
            match tokio::time::timeout_at(deadline, &mut h).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => errors.push(e.to_string()),
                Ok(Err(e)) => errors.push(format!("publisher task: {e}")),
                Err(_) => {
                    timed_out = true;
                    h.abort();
                }
            }
        }
    }
    let published = pubs.published.load(Ordering::Relaxed);
    let expected = pubs.receivers_sum.load(Ordering::Relaxed);

    // 3. Wait for stragglers, then stop subscribers.
    if errors.is_empty() && !timed_out {
        let grace = tokio::time::Instant::now() + Duration::from_secs(a.grace_secs);
        let until = grace.min(deadline);
        while delivered.load(Ordering::Relaxed) < expected && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Short settle period to catch duplicate/excess deliveries.
        let settle = (tokio::time::Instant::now() + Duration::from_millis(50)).min(deadline);
        tokio::time::sleep_until(settle).await;
    }
    let _ = stop_tx.send(true);
    let mut total = SubCounters::default();
    let mut hist = Histogram::new();
    let join_deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    for mut h in subs {
        match tokio::time::timeout_at(join_deadline, &mut h).await {
            Ok(Ok(s)) => {
                total.deliveries += s.counters.deliveries;
                total.order_errors += s.counters.order_errors;
                total.lost += s.counters.lost;
                total.bad += s.counters.bad;
                total.last_rx_ns = total.last_rx_ns.max(s.counters.last_rx_ns);
                hist.merge(&s.hist);
            }
            Ok(Err(e)) => errors.push(format!("subscriber task: {e}")),
            Err(_) => {
                h.abort();
                errors.push("subscriber did not stop".into());
            }
        }
    }

    let first_tx = match pubs.first_tx_ns.load(Ordering::Relaxed) {
        u64::MAX => 0,
        t => t,
    };
    let last_reply = pubs.last_reply_ns.load(Ordering::Relaxed);
    let secs = |from: u64, to: u64| (to.saturating_sub(from)).max(1) as f64 / 1e9;
    let publish_per_s = published as f64 / secs(first_tx, last_reply);
    let deliveries_per_s = total.deliveries as f64 / secs(first_tx, total.last_rx_ns.max(first_tx));
    let ok = errors.is_empty()
        && !timed_out
        && published == a.messages
        && total.deliveries == expected
        && total.order_errors == 0
        && total.lost == 0
        && total.bad == 0;
    for e in &errors {
        eprintln!("herald-bench: {e}");
    }
    println!(
        "pubsub publishers={} subscribers={} channels={} payload={} patterns={} pipeline={} \
         messages={} published={} publish_per_s={:.0} deliveries_per_s={:.0} {} \
         deliveries={} expected={} order_errors={} lost={} bad={} errors={} timed_out={} \
         elapsed_s={:.3} ok={}",
        a.publishers,
        a.subscribers,
        a.channels,
        a.payload,
        a.patterns,
        a.pipeline,
        a.messages,
        published,
        publish_per_s,
        deliveries_per_s,
        hist.summary(),
        total.deliveries,
        expected,
        total.order_errors,
        total.lost,
        total.bad,
        errors.len(),
        timed_out,
        secs(first_tx, total.last_rx_ns.max(last_reply)),
        ok
    );
    Ok(ok)
}

// ---------------------------------------------------------------------------
// memcache
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum McOp {
    Get,
    Set,
}

struct McStats {
    hist: Histogram,
    gets: u64,
    sets: u64,
    hits: u64,
    misses: u64,
}

impl McStats {
    fn new() -> Self {
        McStats {
            hist: Histogram::new(),
            gets: 0,
            sets: 0,
            hits: 0,
            misses: 0,
        }
    }
}

fn mc_key(k: u64) -> String {
    format!("bench:{k}")
}

enum McReply {
    Hit,
    Miss,
    Stored,
}

/// Parse one reply to `op` on `key`; `None` if incomplete. Anything that is
/// not exactly the expected shape is an error (the stream is then out of sync).
fn parse_mc(buf: &[u8], op: McOp, key: &[u8], vsize: usize) -> Res<Option<(McReply, usize)>> {
    let Some((line, next)) = line_at(buf, 0)? else {
        return Ok(None);
    };
    match op {
        McOp::Set if line == b"STORED" => Ok(Some((McReply::Stored, next))),
        McOp::Get if line == b"END" => Ok(Some((McReply::Miss, next))),
        McOp::Get if line.starts_with(b"VALUE ") => {
            let mut parts = line[6..].split(|&b| b == b' ');
            let (k, _flags, n) = (parts.next(), parts.next(), parts.next());
            let n = n.map(parse_int).transpose()?;
            if k != Some(key) || n != Some(vsize as i64) || parts.next().is_some() {
                return Err(format!("unexpected get reply header {:?}", show(line)).into());
            }
            let end = next + vsize;
            if buf.len() < end + 7 {
                return Ok(None);
            }
            if &buf[end..end + 7] != b"\r\nEND\r\n" {
                return Err("get reply: data not followed by CRLF END CRLF".into());
            }
            Ok(Some((McReply::Hit, end + 7)))
        }
        _ => Err(format!("unexpected reply {:?}", show(line)).into()),
    }
}

/// Run `n` operations on one connection with up to `pipeline` in flight.
/// `next_op` yields (op, key index). Latency (ns) is recorded into `stats.hist`.
async fn mc_drive(
    conn: &mut Conn,
    n: u64,
    pipeline: usize,
    vsize: usize,
    epoch: Instant,
    stats: &mut McStats,
    mut next_op: impl FnMut() -> (McOp, u64),
) -> Res<()> {
    let value = vec![b'v'; vsize];
    let mut inflight: VecDeque<(McOp, Vec<u8>, u64)> = VecDeque::with_capacity(pipeline);
    let mut issued = 0u64;
    let mut done = 0u64;
    while done < n {
        if issued < n && inflight.len() < pipeline {
            let ts = now_ns(epoch);
            while issued < n && inflight.len() < pipeline {
                let (op, k) = next_op();
                let key = mc_key(k).into_bytes();
                let w = &mut conn.wbuf;
                match op {
                    McOp::Get => {
                        w.extend_from_slice(b"get ");
                        w.extend_from_slice(&key);
                        w.extend_from_slice(b"\r\n");
                    }
                    McOp::Set => {
                        w.extend_from_slice(b"set ");
                        w.extend_from_slice(&key);
                        w.extend_from_slice(format!(" 0 0 {vsize}\r\n").as_bytes());
                        w.extend_from_slice(&value);
                        w.extend_from_slice(b"\r\n");
                    }
                }
                inflight.push_back((op, key, ts));
                issued += 1;
            }
            conn.flush_wbuf().await?;
        }
        loop {
            let now = now_ns(epoch);
            let mut pos = 0;
            let mut got = 0;
            while let Some((op, key, ts)) = inflight.front() {
                let Some((r, used)) = parse_mc(&conn.rbuf[pos..], *op, key, vsize)? else {
                    break;
                };
                match r {
                    McReply::Hit => {
                        stats.gets += 1;
                        stats.hits += 1
                    }
                    McReply::Miss => {
                        stats.gets += 1;
                        stats.misses += 1
                    }
                    McReply::Stored => stats.sets += 1,
                }
                stats.hist.record(now.saturating_sub(*ts));
                inflight.pop_front();
                pos += used;
                got += 1;
            }
            conn.rbuf.advance(pos);
            if got > 0 {
                done += got;
                break;
            }
            conn.fill().await?;
        }
    }
    if !conn.rbuf.is_empty() {
        return Err(format!("unexpected extra reply data {:?}", show(&conn.rbuf)).into());
    }
    Ok(())
}

async fn run_memcache(a: MemcacheArgs) -> Res<bool> {
    if a.connections == 0 || a.pipeline == 0 || a.keys == 0 {
        return Err("--connections, --pipeline and --keys must be at least 1".into());
    }
    if a.ratio_get + a.ratio_set == 0 {
        return Err("--ratio-get + --ratio-set must be positive".into());
    }
    let epoch = Instant::now();
    let deadline = tokio::time::Instant::from_std(epoch + Duration::from_secs(a.timeout_secs));
    let a = Arc::new(a);
    let nconn = a.connections as u64;

    let work = async {
        let mut conns = Vec::new();
        for _ in 0..a.connections {
            conns.push(Conn::connect(&a.host, a.port).await?);
        }
        // Prefill: connection j sets keys j, j+N, j+2N, ... with 64 in flight.
        let mut hs = Vec::new();
        for (j, mut conn) in conns.into_iter().enumerate() {
            let a = a.clone();
            hs.push(tokio::spawn(async move {
                let j = j as u64;
                let n = a.keys / nconn + u64::from(j < a.keys % nconn);
                let mut k = j;
                let mut st = McStats::new();
                mc_drive(&mut conn, n, 64, a.value_size, epoch, &mut st, || {
                    let key = k;
                    k += nconn;
                    (McOp::Set, key)
                })
                .await
                .map_err(|e| -> BoxErr { format!("prefill: {e}").into() })?;
                Ok::<_, BoxErr>(conn)
            }));
        }
        let mut conns = Vec::new();
        for h in hs {
            conns.push(h.await??);
        }
        // Measured phase.
        let t0 = now_ns(epoch);
        let mut hs = Vec::new();
        for (j, mut conn) in conns.into_iter().enumerate() {
            let a = a.clone();
            hs.push(tokio::spawn(async move {
                let j64 = j as u64;
                let n = a.requests / nconn + u64::from(j64 < a.requests % nconn);
                let mut rng = fastrand::Rng::with_seed(0x9e37_79b9 ^ j64);
                let mut st = McStats::new();
                let total = a.ratio_get + a.ratio_set;
                let r = mc_drive(
                    &mut conn,
                    n,
                    a.pipeline,
                    a.value_size,
                    epoch,
                    &mut st,
                    || {
                        let op = if rng.u32(0..total) < a.ratio_get {
                            McOp::Get
                        } else {
                            McOp::Set
                        };
                        (op, rng.u64(0..a.keys))
                    },
                )
                .await;
                (r, st, now_ns(epoch))
            }));
        }
        Ok::<_, BoxErr>((t0, hs))
    };

    let mut errors: Vec<String> = Vec::new();
    let mut timed_out = false;
    let mut st = McStats::new();
    let mut t0 = 0;
    let mut t1 = 0;
    match tokio::time::timeout_at(deadline, work).await {
        Err(_) => timed_out = true,
        Ok(Err(e)) => errors.push(e.to_string()),
        Ok(Ok((start, hs))) => {
            t0 = start;
            for mut h in hs {
                if timed_out {
                    h.abort();
                    continue;
                }
                match tokio::time::timeout_at(deadline, &mut h).await {
                    Err(_) => {
                        timed_out = true;
                        h.abort();
                    }
                    Ok(Err(e)) => errors.push(format!("task: {e}")),
                    Ok(Ok((r, s, end))) => {
                        if let Err(e) = r {
                            errors.push(e.to_string());
                        }
                        st.hist.merge(&s.hist);
                        st.gets += s.gets;
                        st.sets += s.sets;
                        st.hits += s.hits;
                        st.misses += s.misses;
                        t1 = t1.max(end);
                    }
                }
            }
        }
    }
    for e in errors.iter().take(10) {
        eprintln!("herald-bench: {e}");
    }
    let done = st.gets + st.sets;
    let secs = (t1.saturating_sub(t0)).max(1) as f64 / 1e9;
    let ok = errors.is_empty() && !timed_out && done == a.requests;
    println!(
        "memcache connections={} keys={} value_size={} ratio_get={} ratio_set={} pipeline={} \
         requests={} ops_per_s={:.0} {} gets={} sets={} hits={} misses={} errors={} \
         timed_out={} elapsed_s={:.3} ok={}",
        a.connections,
        a.keys,
        a.value_size,
        a.ratio_get,
        a.ratio_set,
        a.pipeline,
        a.requests,
        done as f64 / secs,
        st.hist.summary(),
        st.gets,
        st.sets,
        st.hits,
        st.misses,
        errors.len(),
        timed_out,
        secs,
        ok
    );
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_contiguous_and_monotonic() {
        let mut prev = 0;
        for v in 0..100_000u64 {
            let i = Histogram::index(v);
            assert!(i == prev || i == prev + 1, "v={v} i={i} prev={prev}");
            prev = i;
            let mid = Histogram::value_of(i);
            assert!((mid as f64 - v as f64).abs() <= v as f64 / 32.0 + 1.0);
        }
        assert!(Histogram::index(u64::MAX) < BUCKETS);
        let mut h = Histogram::new();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 500_000.0).abs() < 20_000.0, "{p50}");
    }

    #[test]
    fn resp_parse() {
        let buf = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n:5\r\n";
        let (r, used) = parse_reply(buf).unwrap().unwrap();
        assert_eq!(
            r.array().unwrap(),
            &[Val::Bulk(b"message"), Val::Bulk(b"ch"), Val::Bulk(b"abc")]
        );
        let (r2, used2) = parse_reply(&buf[used..]).unwrap().unwrap();
        assert_eq!(r2.head, Val::Int(5));
        assert_eq!(used + used2, buf.len());
        for cut in 0..used {
            assert!(parse_reply(&buf[..cut]).unwrap().is_none(), "cut={cut}");
        }
        assert!(parse_reply(b"?x\r\n").is_err());
    }

    #[test]
    fn memcache_parse() {
        let b = b"VALUE k 0 3\r\nabc\r\nEND\r\n";
        assert!(matches!(
            parse_mc(b, McOp::Get, b"k", 3).unwrap(),
            Some((McReply::Hit, 23))
        ));
        assert!(parse_mc(&b[..20], McOp::Get, b"k", 3).unwrap().is_none());
        assert!(parse_mc(b"END\r\n", McOp::Set, b"k", 3).is_err());
        assert!(matches!(
            parse_mc(b"STORED\r\n", McOp::Set, b"k", 3).unwrap(),
            Some((McReply::Stored, 8))
        ));
    }
}
