//! `streams`: a consumer-group work queue under load.
//!
//! N producers XADD to one stream at pipeline depth P; M consumers of one
//! group loop `XREADGROUP GROUP g cK COUNT n BLOCK ms STREAMS s >` and
//! acknowledge what they got with one `XACK s g id ...`, sent in the same
//! write as their next XREADGROUP. Counts deliveries per second and checks
//! that every entry was delivered exactly once and acknowledged: entry i
//! carries one field `m` whose value is `i` in decimal, padded with `x` to
//! `--payload` bytes; consumers mark a shared bitmap. At the end the stream
//! must hold `--messages` entries and the group's PEL must be empty.
//!
//! Bounded by `--messages` and `--timeout-secs`: it stops by itself. With
//! `--prefill` the producers finish before the consumers start, so the two
//! halves can be measured (and profiled) apart.

use super::*;

#[derive(Args, Debug, Clone)]
pub(crate) struct StreamsArgs {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value_t = 6379)]
    port: u16,
    /// Stream key (deleted first).
    #[arg(long, default_value = "bench:stream")]
    stream: String,
    /// Consumer group name.
    #[arg(long, default_value = "bench:group")]
    group: String,
    /// Producer connections.
    #[arg(long, default_value_t = 1)]
    producers: u32,
    /// XADD commands in flight per producer.
    #[arg(long, default_value_t = 16)]
    pipeline: usize,
    /// Consumer connections (one consumer `cK` each, one group).
    #[arg(long, default_value_t = 4)]
    consumers: u32,
    /// XREADGROUP COUNT.
    #[arg(long, default_value_t = 100)]
    count: usize,
    /// XREADGROUP BLOCK milliseconds.
    #[arg(long, default_value_t = 100)]
    block_ms: u64,
    /// Entries to add (over all producers) and to deliver.
    #[arg(long, default_value_t = 200_000)]
    messages: u64,
    /// Bytes of the field value (at least 20).
    #[arg(long, default_value_t = 20)]
    payload: usize,
    /// Add every entry before the consumers start.
    #[arg(long, default_value_t = false)]
    prefill: bool,
    /// Hard limit for the whole run.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

/// What all tasks share.
struct Shared {
    a: StreamsArgs,
    epoch: Instant,
    /// One bit per entry: delivered.
    seen: Vec<AtomicU64>,
    delivered: AtomicU64,
    duplicates: AtomicU64,
    bad: AtomicU64,
    acked: AtomicU64,
    added: AtomicU64,
    first_add_ns: AtomicU64,
    last_add_ns: AtomicU64,
    last_delivery_ns: AtomicU64,
    /// Consumers stop when set (every entry delivered, or an error).
    done: AtomicU64,
}

impl Shared {
    fn is_done(&self) -> bool {
        self.done.load(Ordering::Relaxed) != 0
    }
}

/// Read one complete reply into an owned tree-free form: returns its length
/// in `buf` when complete (None: more bytes needed).
fn reply_len(buf: &[u8], pos: usize) -> Res<Option<usize>> {
    let Some((v, mut next)) = parse_val(buf, pos)? else {
        return Ok(None);
    };
    if let Val::Array(n) = v {
        for _ in 0..n {
            match reply_len(buf, next)? {
                None => return Ok(None),
                Some(end) => next = end,
            }
        }
    }
    Ok(Some(next))
}

/// The value at `pos` of a complete reply (parse_val cannot need more).
fn val_at(buf: &[u8], pos: usize) -> Res<(Val<'_>, usize)> {
    parse_val(buf, pos)?.ok_or_else(|| "truncated reply".into())
}

fn expect_array(buf: &[u8], pos: usize, n: Option<usize>, what: &str) -> Res<(usize, usize)> {
    match val_at(buf, pos)? {
        (Val::Array(k), next) if n.is_none_or(|n| n == k) => Ok((k, next)),
        (other, _) => Err(format!("{what}: unexpected {other:?}").into()),
    }
}

fn expect_bulk<'a>(buf: &'a [u8], pos: usize, what: &str) -> Res<(&'a [u8], usize)> {
    match val_at(buf, pos)? {
        (Val::Bulk(b), next) => Ok((b, next)),
        (other, _) => Err(format!("{what}: unexpected {other:?}").into()),
    }
}

/// The entry index at the start of a payload.
fn entry_index(value: &[u8]) -> Option<u64> {
    let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 {
        return None;
    }
    std::str::from_utf8(&value[..digits]).ok()?.parse().ok()
}

/// Parse one complete XREADGROUP reply at the start of `buf`: marks the
/// entries seen and appends their IDs as XACK arguments to `ack`. Returns
/// how many entries it held.
fn take_entries(sh: &Shared, buf: &[u8], ack: &mut Vec<u8>) -> Res<u64> {
    let (head, pos) = val_at(buf, 0)?;
    match head {
        Val::Nil => return Ok(0),
        Val::Array(1) => {}
        other => return Err(format!("XREADGROUP: unexpected reply {other:?}").into()),
    }
    let (_, pos) = expect_array(buf, pos, Some(2), "XREADGROUP stream")?;
    let (key, pos) = expect_bulk(buf, pos, "XREADGROUP key")?;
    if key != sh.a.stream.as_bytes() {
        return Err(format!("XREADGROUP: reply for key {}", show(key)).into());
    }
    let (n, mut pos) = expect_array(buf, pos, None, "XREADGROUP entries")?;
    for _ in 0..n {
        let (_, p) = expect_array(buf, pos, Some(2), "entry")?;
        let (id, p) = expect_bulk(buf, p, "entry ID")?;
        push_bulk(ack, id);
        let (_, p) = expect_array(buf, p, Some(2), "entry fields")?;
        let (_, p) = expect_bulk(buf, p, "field")?;
        let (value, p) = expect_bulk(buf, p, "value")?;
        pos = p;
        match entry_index(value) {
            Some(i) if i < sh.a.messages => {
                let bit = 1u64 << (i % 64);
                let old = sh.seen[(i / 64) as usize].fetch_or(bit, Ordering::Relaxed);
                if old & bit != 0 {
                    sh.duplicates.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {
                sh.bad.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    Ok(n as u64)
}

/// Wait for one complete reply; returns its length at the start of rbuf.
async fn next_reply(conn: &mut Conn) -> Res<usize> {
    loop {
        if let Some(len) = reply_len(&conn.rbuf, 0)? {
            return Ok(len);
        }
        conn.fill().await?;
    }
}

async fn consumer(k: u32, mut conn: Conn, sh: Arc<Shared>) -> Res<()> {
    let a = &sh.a;
    let name = format!("c{k}");
    let count = a.count.to_string();
    let block = a.block_ms.to_string();
    let mut read_cmd = Vec::new();
    encode_cmd(
        &mut read_cmd,
        &[
            b"XREADGROUP",
            b"GROUP",
            a.group.as_bytes(),
            name.as_bytes(),
            b"COUNT",
            count.as_bytes(),
            b"BLOCK",
            block.as_bytes(),
            b"STREAMS",
            a.stream.as_bytes(),
            b">",
        ],
    );
    let mut ack_head = Vec::new();
    push_bulk(&mut ack_head, b"XACK");
    push_bulk(&mut ack_head, a.stream.as_bytes());
    push_bulk(&mut ack_head, a.group.as_bytes());
    let mut ack_ids = Vec::new();
    conn.wbuf.extend_from_slice(&read_cmd);
    conn.flush_wbuf().await?;
    let mut acks_due: Vec<u64> = Vec::new();
    loop {
        // The XACK replies come first (sent before the XREADGROUP).
        for want in acks_due.drain(..) {
            let len = next_reply(&mut conn).await?;
            match parse_val(&conn.rbuf, 0)? {
                Some((Val::Int(n), _)) if n as u64 == want => {}
                other => {
                    return Err(format!("XACK of {want}: unexpected reply {other:?}").into());
                }
            }
            sh.acked.fetch_add(want, Ordering::Relaxed);
            conn.rbuf.advance(len);
        }
        let len = next_reply(&mut conn).await?;
        ack_ids.clear();
        let n = take_entries(&sh, &conn.rbuf[..len], &mut ack_ids)?;
        conn.rbuf.advance(len);
        if n > 0 {
            sh.last_delivery_ns
                .fetch_max(now_ns(sh.epoch), Ordering::Relaxed);
            let total = sh.delivered.fetch_add(n, Ordering::Relaxed) + n;
            if total >= a.messages {
                sh.done.store(1, Ordering::Relaxed);
            }
            let w = &mut conn.wbuf;
            w.push(b'*');
            w.extend_from_slice((3 + n).to_string().as_bytes());
            w.extend_from_slice(b"\r\n");
            w.extend_from_slice(&ack_head);
            w.extend_from_slice(&ack_ids);
            acks_due.push(n);
        }
        let stop = sh.is_done();
        if !stop {
            conn.wbuf.extend_from_slice(&read_cmd);
        }
        conn.flush_wbuf().await?;
        if stop {
            for want in acks_due.drain(..) {
                let len = next_reply(&mut conn).await?;
                match parse_val(&conn.rbuf, 0)? {
                    Some((Val::Int(n), _)) if n as u64 == want => {}
                    other => {
                        return Err(format!("XACK of {want}: unexpected reply {other:?}").into());
                    }
                }
                sh.acked.fetch_add(want, Ordering::Relaxed);
                conn.rbuf.advance(len);
            }
            return Ok(());
        }
    }
}

async fn producer(first: u64, count: u64, mut conn: Conn, sh: Arc<Shared>) -> Res<()> {
    let a = &sh.a;
    let mut prefix = Vec::new();
    prefix.extend_from_slice(b"*5\r\n$4\r\nXADD\r\n");
    push_bulk(&mut prefix, a.stream.as_bytes());
    prefix.extend_from_slice(b"$1\r\n*\r\n$1\r\nm\r\n");
    prefix.extend_from_slice(format!("${}\r\n", a.payload).as_bytes());
    let (mut sent, mut acked) = (0u64, 0u64);
    let mut digits = itoa::Buffer::new();
    while acked < count {
        if sent < count && sent - acked < a.pipeline as u64 {
            while sent < count && sent - acked < a.pipeline as u64 {
                let text = digits.format(first + sent).as_bytes();
                let w = &mut conn.wbuf;
                w.extend_from_slice(&prefix);
                w.extend_from_slice(text);
                w.resize(w.len() + a.payload - text.len(), b'x');
                w.extend_from_slice(b"\r\n");
                sent += 1;
            }
            sh.first_add_ns
                .fetch_min(now_ns(sh.epoch), Ordering::Relaxed);
            conn.flush_wbuf().await?;
        }
        loop {
            let mut pos = 0;
            let mut got = 0;
            while let Some((reply, used)) = parse_reply(&conn.rbuf[pos..])? {
                match reply.head {
                    Val::Bulk(_) => {}
                    other => return Err(format!("XADD: unexpected reply {other:?}").into()),
                }
                pos += used;
                got += 1;
            }
            conn.rbuf.advance(pos);
            if got > 0 {
                acked += got;
                sh.added.fetch_add(got, Ordering::Relaxed);
                sh.last_add_ns
                    .fetch_max(now_ns(sh.epoch), Ordering::Relaxed);
                break;
            }
            conn.fill().await?;
        }
    }
    Ok(())
}

/// Send one command on `conn` and return its reply's bytes.
async fn call(conn: &mut Conn, args: &[&[u8]]) -> Res<Vec<u8>> {
    encode_cmd(&mut conn.wbuf, args);
    conn.flush_wbuf().await?;
    let len = next_reply(conn).await?;
    let out = conn.rbuf[..len].to_vec();
    conn.rbuf.advance(len);
    Ok(out)
}

async fn join_all(
    hs: Vec<JoinHandle<Res<()>>>,
    deadline: tokio::time::Instant,
    what: &str,
    errors: &mut Vec<String>,
) -> bool {
    let mut timed_out = false;
    for mut h in hs {
        if timed_out {
            h.abort();
            continue;
        }
        match tokio::time::timeout_at(deadline, &mut h).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => errors.push(format!("{what}: {e}")),
            Ok(Err(e)) => errors.push(format!("{what} task: {e}")),
            Err(_) => {
                timed_out = true;
                h.abort();
            }
        }
    }
    timed_out
}

pub(crate) async fn run_streams(a: StreamsArgs) -> Res<bool> {
    if a.payload < 20 {
        return Err("--payload must be at least 20".into());
    }
    if a.producers == 0 || a.consumers == 0 || a.pipeline == 0 || a.count == 0 {
        return Err("--producers, --consumers, --pipeline and --count must be at least 1".into());
    }
    let epoch = Instant::now();
    let deadline = tokio::time::Instant::from_std(epoch + Duration::from_secs(a.timeout_secs));
    let words = a.messages.div_ceil(64) as usize;
    let sh = Arc::new(Shared {
        seen: (0..words).map(|_| AtomicU64::new(0)).collect(),
        a,
        epoch,
        delivered: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        bad: AtomicU64::new(0),
        acked: AtomicU64::new(0),
        added: AtomicU64::new(0),
        first_add_ns: AtomicU64::new(u64::MAX),
        last_add_ns: AtomicU64::new(0),
        last_delivery_ns: AtomicU64::new(0),
        done: AtomicU64::new(0),
    });
    let a = &sh.a;
    let mut errors: Vec<String> = Vec::new();
    let mut timed_out = false;
    let mut consume_start = 0u64;
    let mut length_ok = false;
    let mut pel_ok = false;

    let run = async {
        let mut admin = Conn::connect(&a.host, a.port).await?;
        call(&mut admin, &[b"DEL", a.stream.as_bytes()]).await?;
        let r = call(
            &mut admin,
            &[
                b"XGROUP",
                b"CREATE",
                a.stream.as_bytes(),
                a.group.as_bytes(),
                b"$",
                b"MKSTREAM",
            ],
        )
        .await?;
        if r != b"+OK\r\n" {
            return Err(format!("XGROUP CREATE: {}", show(&r)).into());
        }
        let mut prod_conns = Vec::new();
        for _ in 0..a.producers {
            prod_conns.push(Conn::connect(&a.host, a.port).await?);
        }
        let mut cons_conns = Vec::new();
        for _ in 0..a.consumers {
            cons_conns.push(Conn::connect(&a.host, a.port).await?);
        }
        Ok::<_, BoxErr>((admin, prod_conns, cons_conns))
    };
    let (mut admin, prod_conns, cons_conns) = match tokio::time::timeout_at(deadline, run).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err("timed out setting up".into()),
    };
    let spawn_producers = |conns: Vec<Conn>| -> Vec<JoinHandle<Res<()>>> {
        let n = a.producers as u64;
        let mut first = 0;
        conns
            .into_iter()
            .enumerate()
            .map(|(p, conn)| {
                let count = a.messages / n + u64::from((p as u64) < a.messages % n);
                let h = tokio::spawn(producer(first, count, conn, sh.clone()));
                first += count;
                h
            })
            .collect()
    };
    let spawn_consumers = |conns: Vec<Conn>| -> Vec<JoinHandle<Res<()>>> {
        conns
            .into_iter()
            .enumerate()
            .map(|(k, conn)| tokio::spawn(consumer(k as u32, conn, sh.clone())))
            .collect()
    };
    let (prods, cons) = if a.prefill {
        let prods = spawn_producers(prod_conns);
        timed_out |= join_all(prods, deadline, "producer", &mut errors).await;
        consume_start = now_ns(epoch);
        (Vec::new(), spawn_consumers(cons_conns))
    } else {
        let cons = spawn_consumers(cons_conns);
        (spawn_producers(prod_conns), cons)
    };
    if !timed_out && errors.is_empty() {
        timed_out |= join_all(prods, deadline, "producer", &mut errors).await;
    }
    if !errors.is_empty() || timed_out {
        sh.done.store(1, Ordering::Relaxed);
    }
    // Consumers stop once everything is delivered (at most one BLOCK later).
    timed_out |= join_all(cons, deadline, "consumer", &mut errors).await;

    if !timed_out {
        let check = async {
            let len = call(&mut admin, &[b"XLEN", a.stream.as_bytes()]).await?;
            let pending = call(
                &mut admin,
                &[b"XPENDING", a.stream.as_bytes(), a.group.as_bytes()],
            )
            .await?;
            Ok::<_, BoxErr>((len, pending))
        };
        match tokio::time::timeout_at(deadline, check).await {
            Ok(Ok((len, pending))) => {
                length_ok = len == format!(":{}\r\n", a.messages).into_bytes();
                pel_ok = pending.starts_with(b"*4\r\n:0\r\n");
                if !length_ok {
                    errors.push(format!("XLEN: {}", show(&len)));
                }
                if !pel_ok {
                    errors.push(format!("XPENDING: {}", show(&pending)));
                }
            }
            Ok(Err(e)) => errors.push(format!("check: {e}")),
            Err(_) => timed_out = true,
        }
    }

    let seen: u64 = sh
        .seen
        .iter()
        .map(|w| u64::from(w.load(Ordering::Relaxed).count_ones()))
        .sum();
    let added = sh.added.load(Ordering::Relaxed);
    let delivered = sh.delivered.load(Ordering::Relaxed);
    let duplicates = sh.duplicates.load(Ordering::Relaxed);
    let bad = sh.bad.load(Ordering::Relaxed);
    let acked = sh.acked.load(Ordering::Relaxed);
    let missing = a.messages - seen;
    let first_add = match sh.first_add_ns.load(Ordering::Relaxed) {
        u64::MAX => 0,
        t => t,
    };
    let last_add = sh.last_add_ns.load(Ordering::Relaxed);
    let last_delivery = sh.last_delivery_ns.load(Ordering::Relaxed);
    let secs = |from: u64, to: u64| (to.saturating_sub(from)).max(1) as f64 / 1e9;
    let from = if a.prefill { consume_start } else { first_add };
    let ok = errors.is_empty()
        && !timed_out
        && added == a.messages
        && delivered == a.messages
        && missing == 0
        && duplicates == 0
        && bad == 0
        && acked == a.messages
        && length_ok
        && pel_ok;
    for e in errors.iter().take(10) {
        eprintln!("herald-bench: {e}");
    }
    println!(
        "streams producers={} pipeline={} consumers={} count={} block_ms={} payload={} \
         prefill={} messages={} added={} xadd_per_s={:.0} delivered={} deliveries_per_s={:.0} \
         acked={} missing={} duplicates={} bad={} errors={} timed_out={} elapsed_s={:.3} ok={}",
        a.producers,
        a.pipeline,
        a.consumers,
        a.count,
        a.block_ms,
        a.payload,
        a.prefill,
        a.messages,
        added,
        added as f64 / secs(first_add, last_add),
        delivered,
        delivered as f64 / secs(from, last_delivery),
        acked,
        missing,
        duplicates,
        bad,
        errors.len(),
        timed_out,
        secs(first_add.min(from), last_delivery.max(last_add)),
        ok
    );
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xreadgroup_reply_parses() {
        let reply = b"*1\r\n*2\r\n$1\r\ns\r\n*2\r\n\
            *2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nm\r\n$4\r\n0xxx\r\n\
            *2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nm\r\n$4\r\n1xxx\r\n";
        assert_eq!(reply_len(reply, 0).unwrap(), Some(reply.len()));
        assert_eq!(reply_len(&reply[..reply.len() - 3], 0).unwrap(), None);
        let sh = Shared {
            a: StreamsArgs {
                host: String::new(),
                port: 0,
                stream: "s".into(),
                group: "g".into(),
                producers: 1,
                pipeline: 1,
                consumers: 1,
                count: 1,
                block_ms: 1,
                messages: 2,
                payload: 20,
                prefill: false,
                timeout_secs: 1,
            },
            epoch: Instant::now(),
            seen: vec![AtomicU64::new(0)],
            delivered: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            bad: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            added: AtomicU64::new(0),
            first_add_ns: AtomicU64::new(0),
            last_add_ns: AtomicU64::new(0),
            last_delivery_ns: AtomicU64::new(0),
            done: AtomicU64::new(0),
        };
        let mut ack = Vec::new();
        assert_eq!(take_entries(&sh, reply, &mut ack).unwrap(), 2);
        assert_eq!(ack, b"$3\r\n1-0\r\n$3\r\n1-1\r\n");
        assert_eq!(sh.seen[0].load(Ordering::Relaxed), 0b11);
        assert_eq!(take_entries(&sh, b"*-1\r\n", &mut ack).unwrap(), 0);
        // Delivered again: a duplicate.
        take_entries(&sh, reply, &mut ack).unwrap();
        assert_eq!(sh.duplicates.load(Ordering::Relaxed), 2);
    }
}
