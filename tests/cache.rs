//! The cache at the wire: transactions, maxmemory (eviction and OOM), expiry,
//! and the statistics operators watch.

mod common;

use std::time::{Duration, Instant};

use common::{multibulk, Frame, Server};

fn info(c: &mut common::Raw, section: &str) -> String {
    c.send(format!("INFO {section}\r\n").as_bytes());
    match c.frame() {
        Frame::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    }
}

fn field(info: &str, name: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in {info}"))
}

#[test]
fn multi_exec_queues_and_runs_atomically() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    c.roundtrip(b"SET a 1\r\n", b"+QUEUED\r\n");
    c.roundtrip(b"GET a\r\n", b"+QUEUED\r\n");
    c.roundtrip(b"PING\r\n", b"+QUEUED\r\n");
    c.roundtrip(b"EXEC\r\n", b"*3\r\n+OK\r\n$1\r\n1\r\n+PONG\r\n");
    c.roundtrip(b"EXEC\r\n", b"-ERR EXEC without MULTI\r\n");
    c.roundtrip(b"DISCARD\r\n", b"-ERR DISCARD without MULTI\r\n");
    c.roundtrip(
        b"MULTI\r\nMULTI\r\n",
        b"+OK\r\n-ERR MULTI calls can not be nested\r\n",
    );
    c.roundtrip(
        b"WATCH a\r\n",
        b"-ERR WATCH inside MULTI is not allowed\r\n",
    );
    c.roundtrip(
        b"SET a 2\r\nDISCARD\r\nGET a\r\n",
        b"+QUEUED\r\n+OK\r\n$1\r\n1\r\n",
    );
    // Errors while queueing doom the transaction.
    c.roundtrip(b"MULTI\r\nSET a 3\r\nNOSUCH\r\nGET\r\n", b"+OK\r\n+QUEUED\r\n-ERR unknown command 'NOSUCH', with args beginning with: \r\n-ERR wrong number of arguments for 'get' command\r\n");
    c.roundtrip(
        b"EXEC\r\n",
        b"-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    c.roundtrip(b"GET a\r\n", b"$1\r\n1\r\n");
    // Runtime errors inside EXEC are replies, the rest still runs.
    c.roundtrip(
        b"MULTI\r\nSELECT 99\r\nSET a 4\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n-ERR DB index is out of range\r\n+OK\r\n",
    );
    // An empty transaction.
    c.roundtrip(b"MULTI\r\nEXEC\r\n", b"+OK\r\n*0\r\n");
}

#[test]
fn watch_aborts_on_changes_by_others_and_on_expiry() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut other = server.raw();
    c.roundtrip(b"SET w 1\r\nWATCH w\r\n", b"+OK\r\n+OK\r\n");
    other.roundtrip(b"SET w 2\r\n", b"+OK\r\n");
    c.roundtrip(
        b"MULTI\r\nSET w 3\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n*-1\r\n",
    );
    c.roundtrip(b"GET w\r\n", b"$1\r\n2\r\n");
    // Unchanged: runs. EXEC forgets the watch either way.
    c.roundtrip(
        b"WATCH w\r\nMULTI\r\nSET w 3\r\nEXEC\r\n",
        b"+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n",
    );
    // UNWATCH forgets.
    c.roundtrip(b"WATCH w\r\nUNWATCH\r\n", b"+OK\r\n+OK\r\n");
    other.roundtrip(b"SET w 9\r\n", b"+OK\r\n");
    c.roundtrip(
        b"MULTI\r\nGET w\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n*1\r\n$1\r\n9\r\n",
    );
    // A watched key that was absent and got created aborts too.
    c.roundtrip(b"WATCH fresh\r\n", b"+OK\r\n");
    other.roundtrip(b"SET fresh x\r\n", b"+OK\r\n");
    c.roundtrip(
        b"MULTI\r\nGET fresh\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n*-1\r\n",
    );
    // Deleting everything counts as a change.
    c.roundtrip(b"WATCH w\r\n", b"+OK\r\n");
    other.roundtrip(b"FLUSHALL\r\n", b"+OK\r\n");
    c.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
    // Expiry counts as a change (RESP3: the aborted EXEC is a null).
    c.roundtrip(b"HELLO 3\r\n", b"");
    let _ = c.frame();
    c.cmd(&[b"SET", b"t", b"v", b"PX", b"50"]);
    assert_eq!(c.frame(), Frame::Simple("OK".into()));
    c.roundtrip(b"WATCH t\r\n", b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(80));
    c.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n_\r\n");
}

/// MGET and MSET lock every shard their keys live in (not the whole server):
/// an MGET never sees half of an MSET, and sees single-key writes in the
/// order they happened (`a` is always written before `b`, so a >= b).
#[test]
fn mget_and_mset_are_atomic_across_shards() {
    let server = Server::start(&[]);
    let addr = server.addr;
    let keys: Vec<String> = (0..50).map(|k| format!("mkey{k}")).collect();
    let msetters: Vec<_> = (0..2)
        .map(|w| {
            let keys = keys.clone();
            std::thread::spawn(move || {
                let mut c = common::Raw::connect(addr);
                for round in 0..200 {
                    let value = format!("{w}-{round}");
                    let mut args: Vec<&[u8]> = vec![b"MSET"];
                    for k in &keys {
                        args.push(k.as_bytes());
                        args.push(value.as_bytes());
                    }
                    c.send(&multibulk(&args));
                    assert_eq!(c.frame(), Frame::Simple("OK".into()));
                }
            })
        })
        .collect();
    let ordered = std::thread::spawn(move || {
        let mut c = common::Raw::connect(addr);
        for i in 0..2000 {
            let i = i.to_string();
            let mut req = multibulk(&[b"SET", b"order_a", i.as_bytes()]);
            req.extend(multibulk(&[b"SET", b"order_b", i.as_bytes()]));
            c.send(&req);
            let _ = (c.frame(), c.frame());
        }
    });
    let mut reader = server.raw();
    let mut mget: Vec<&[u8]> = vec![b"MGET"];
    mget.extend(keys.iter().map(|k| k.as_bytes()));
    for _ in 0..300 {
        reader.send(&multibulk(&mget));
        let values = reader.frame();
        let first = values.items()[0].clone();
        assert!(
            values.items().iter().all(|v| *v == first),
            "MGET saw part of an MSET: {values:?}"
        );
        reader.send(&multibulk(&[b"MGET", b"order_a", b"order_b"]));
        let pair = reader.frame();
        let number = |f: &Frame| match f {
            Frame::Bulk(b) => String::from_utf8_lossy(b).parse::<i64>().unwrap(),
            _ => -1,
        };
        let (a, b) = (number(&pair.items()[0]), number(&pair.items()[1]));
        assert!(a >= b, "MGET order_a order_b = {a}, {b}: not one instant");
    }
    for w in msetters {
        w.join().unwrap();
    }
    ordered.join().unwrap();
}

#[test]
fn exec_is_atomic_with_respect_to_other_clients() {
    let server = Server::start(&[]);
    let addr = server.addr;
    // Each transaction sets 50 keys to its own value; a reader's MGET-like GETs
    // inside its own transaction must never see a mix.
    let writers: Vec<_> = (0..2)
        .map(|w| {
            std::thread::spawn(move || {
                let mut c = common::Raw::connect(addr);
                for round in 0..100 {
                    let mut req = b"MULTI\r\n".to_vec();
                    for k in 0..50 {
                        req.extend(multibulk(&[
                            b"SET",
                            format!("atom{k}").as_bytes(),
                            format!("{w}-{round}").as_bytes(),
                        ]));
                    }
                    req.extend_from_slice(b"EXEC\r\n");
                    c.send(&req);
                    for _ in 0..52 {
                        let _ = c.frame();
                    }
                }
            })
        })
        .collect();
    let mut reader = server.raw();
    for _ in 0..100 {
        let mut req = b"MULTI\r\n".to_vec();
        for k in 0..50 {
            req.extend(multibulk(&[b"GET", format!("atom{k}").as_bytes()]));
        }
        req.extend_from_slice(b"EXEC\r\n");
        reader.send(&req);
        for _ in 0..51 {
            let _ = reader.frame();
        }
        let values = reader.frame();
        let values: Vec<&Frame> = values.items().iter().collect();
        let first = values[0].clone();
        assert!(
            values.iter().all(|v| **v == first),
            "torn transaction: {values:?}"
        );
    }
    for w in writers {
        w.join().unwrap();
    }
}

#[test]
fn noeviction_refuses_writes_and_keeps_data() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"CONFIG SET maxmemory-policy noeviction\r\n", b"+OK\r\n");
    let value = vec![b'v'; 1000];
    for i in 0..200 {
        c.cmd(&[b"SET", format!("keep{i}").as_bytes(), &value]);
        c.expect(b"+OK\r\n");
    }
    // Now cap memory below what is stored: writes that need memory are refused.
    c.roundtrip(b"CONFIG SET maxmemory 100000\r\n", b"+OK\r\n");
    c.cmd(&[b"SET", b"more", &value]);
    c.expect(b"-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    // Reads, deletes-free commands and non-denyoom commands still work.
    c.roundtrip(
        b"GET keep0\r\n",
        format!("$1000\r\n{}\r\n", "v".repeat(1000)).as_bytes(),
    );
    c.roundtrip(b"DBSIZE\r\n", b":200\r\n");
    c.roundtrip(b"MULTI\r\nSET x y\r\nEXEC\r\n", b"+OK\r\n-OOM command not allowed when used memory > 'maxmemory'.\r\n-EXECABORT Transaction discarded because of previous errors.\r\n");
    let mem = info(&mut c, "memory");
    assert_eq!(field(&mem, "maxmemory"), 100000);
    assert!(mem.contains("maxmemory_policy:noeviction\r\n"), "{mem}");
    // Raising the limit at runtime takes effect at once.
    c.roundtrip(b"CONFIG SET maxmemory 0\r\n", b"+OK\r\n");
    c.cmd(&[b"SET", b"more", &value]);
    c.expect(b"+OK\r\n");
}

#[test]
fn allkeys_lru_evicts_and_counts() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"CONFIG SET maxmemory 1mb maxmemory-policy allkeys-lru\r\n",
        b"+OK\r\n",
    );
    let value = vec![b'v'; 1000];
    let mut req = Vec::new();
    for i in 0..5000 {
        req.extend(multibulk(&[b"SET", format!("k{i}").as_bytes(), &value]));
    }
    c.send(&req);
    c.expect(&b"+OK\r\n".repeat(5000));
    let stats = info(&mut c, "stats");
    let evicted = field(&stats, "evicted_keys");
    assert!(evicted > 3000, "evicted {evicted}");
    let mem = info(&mut c, "memory");
    // Room is made before each write (as Redis does), so one value of slack.
    assert!(
        field(&mem, "used_memory_dataset") <= 1024 * 1024 + 2048,
        "{mem}"
    );
    // The most recent keys are still there.
    for i in 4990..5000 {
        c.cmd(&[b"GET", format!("k{i}").as_bytes()]);
        c.expect(format!("$1000\r\n{}\r\n", "v".repeat(1000)).as_bytes());
    }
}

#[test]
fn active_expiry_reclaims_unread_keys() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut req = Vec::new();
    for i in 0..2000 {
        req.extend(multibulk(&[
            b"SET",
            format!("e{i}").as_bytes(),
            b"v",
            b"PX",
            b"30",
        ]));
    }
    c.send(&req);
    c.expect(&b"+OK\r\n".repeat(2000));
    let started = Instant::now();
    loop {
        let stats = info(&mut c, "stats");
        if field(&stats, "expired_keys") == 2000 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{stats}");
        std::thread::sleep(Duration::from_millis(50));
    }
    c.roundtrip(b"DBSIZE\r\n", b":0\r\n");
}

#[test]
fn one_gigabyte_through_64mb_with_allkeys_lru() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"CONFIG SET maxmemory 64mb maxmemory-policy allkeys-lru\r\n",
        b"+OK\r\n",
    );
    let value = vec![b'x'; 1024];
    let total_keys = 1024 * 1024; // 1 GiB of 1 KiB values
    let batch = 1000;
    let mut peak_rss = 0;
    for start in (0..total_keys).step_by(batch) {
        let mut req = Vec::with_capacity(batch * 1100);
        for i in start..start + batch {
            req.extend(multibulk(&[b"SET", format!("key:{i}").as_bytes(), &value]));
        }
        c.send(&req);
        c.expect(&b"+OK\r\n".repeat(batch));
        if start % (64 * batch) == 0 {
            peak_rss = peak_rss.max(server.rss_bytes());
        }
    }
    peak_rss = peak_rss.max(server.rss_bytes());
    assert!(
        peak_rss < 128 * 1024 * 1024,
        "RSS peaked at {peak_rss} bytes"
    );
    // Every recent key hits.
    for i in total_keys - 1000..total_keys {
        c.cmd(&[b"GET", format!("key:{i}").as_bytes()]);
        let got = c.frame();
        assert_eq!(got, Frame::Bulk(value.clone()), "recent key:{i} missing");
    }
    let stats = info(&mut c, "stats");
    assert!(field(&stats, "evicted_keys") > 900_000);
    eprintln!("peak RSS {} MB", peak_rss / (1024 * 1024));
}

#[test]
fn no_multi_commands_are_refused_while_queueing_and_doom_the_transaction() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    for cmd in ["SHUTDOWN", "SAVE", "shutdown nosave"] {
        c.roundtrip(
            b"DEL foo\r\nMULTI\r\nSET foo bar\r\n",
            b":0\r\n+OK\r\n+QUEUED\r\n",
        );
        c.roundtrip(
            format!("{cmd}\r\n").as_bytes(),
            b"-ERR Command not allowed inside a transaction\r\n",
        );
        c.roundtrip(
            b"EXEC\r\nGET foo\r\n",
            b"-EXECABORT Transaction discarded because of previous errors.\r\n$-1\r\n",
        );
    }
    // The server is still up; SAVE outside MULTI fails (no persistence).
    c.roundtrip(b"SAVE\r\n", b"-ERR\r\n");
    c.roundtrip(b"PING\r\n", b"+PONG\r\n");
    // COMMAND INFO shows Redis's flags: no_multi where Redis has it, not on
    // MULTI/EXEC/WATCH (which simply run at once inside a transaction).
    c.send(b"COMMAND INFO shutdown save multi\r\n");
    let info = c.frame();
    let flags: Vec<Vec<String>> = info
        .items()
        .iter()
        .map(|cmd| cmd.items()[2].items().iter().map(|f| f.text()).collect())
        .collect();
    assert_eq!(
        flags,
        [
            vec![
                "admin",
                "noscript",
                "loading",
                "stale",
                "no_multi",
                "allow_busy"
            ],
            vec!["admin", "noscript", "no_async_loading", "no_multi"],
            vec!["noscript", "loading", "stale", "fast", "allow_busy"],
        ]
    );
    // A config error inside EXEC is one reply among the others.
    c.roundtrip(
        b"MULTI\r\nSET foo bar\r\nCONFIG SET maxmemory bla\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n",
    );
    // FLUSHALL while this connection watches several keys.
    c.roundtrip(
        b"MSET a a b b\r\nWATCH b a\r\nFLUSHALL\r\nPING\r\n",
        b"+OK\r\n+OK\r\n+OK\r\n+PONG\r\n",
    );
    c.roundtrip(b"MULTI\r\nPING\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
}
