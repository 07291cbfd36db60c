//! The generic key family at the wire: DEL, UNLINK, EXISTS, TYPE, RENAME(NX),
//! COPY, MOVE, SWAPDB, KEYS, SCAN, RANDOMKEY, TOUCH, the EXPIRE and TTL families,
//! PERSIST, OBJECT. Replies and error texts are checked against Redis 7.4's.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{multibulk, Frame, Raw, Server};

fn ok() -> Frame {
    Frame::Simple("OK".into())
}

fn int(n: i64) -> Frame {
    Frame::Int(n)
}

fn err(text: &str) -> Frame {
    Frame::Error(text.into())
}

fn bulk(s: &str) -> Frame {
    Frame::bulk(s)
}

/// Send `line`, split on single spaces, as a multibulk request; return the reply.
fn call(c: &mut Raw, line: &str) -> Frame {
    let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    c.cmd(&args);
    c.frame()
}

/// Run a table of (request, expected reply) in order.
fn table(c: &mut Raw, rows: &[(&str, Frame)]) {
    for (line, want) in rows {
        assert_eq!(&call(c, line), want, "{line}");
    }
}

fn call_int(c: &mut Raw, line: &str) -> i64 {
    match call(c, line) {
        Frame::Int(n) => n,
        other => panic!("{line}: {other:?}"),
    }
}

/// The keys of a SCAN/KEYS array reply, as a set of strings.
fn key_set(frame: &Frame) -> HashSet<String> {
    frame.items().iter().map(Frame::text).collect()
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// One `name:value` field of INFO.
fn info_field(c: &mut Raw, section: &str, name: &str) -> i64 {
    let info = call(c, &format!("INFO {section}")).text();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} missing from INFO {section}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn del_unlink_exists_type() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("SET a 1", ok()),
            ("SET b 2", ok()),
            ("SET c 3", ok()),
            // EXISTS counts a key named twice twice.
            ("EXISTS a a b nokey", int(3)),
            ("EXISTS nokey", int(0)),
            ("TYPE a", Frame::Simple("string".into())),
            ("TYPE nokey", Frame::Simple("none".into())),
            ("DEL a nokey a", int(1)),
            ("DEL a", int(0)),
            ("UNLINK b c nokey", int(2)),
            ("EXISTS a b c", int(0)),
            (
                "DEL",
                err("ERR wrong number of arguments for 'del' command"),
            ),
            (
                "UNLINK",
                err("ERR wrong number of arguments for 'unlink' command"),
            ),
            (
                "EXISTS",
                err("ERR wrong number of arguments for 'exists' command"),
            ),
            (
                "TYPE a b",
                err("ERR wrong number of arguments for 'type' command"),
            ),
        ],
    );
    // TYPE answers a simple string, EXISTS an integer.
    c.roundtrip(b"SET k v\r\nTYPE k\r\n", b"+OK\r\n+string\r\n");
    c.roundtrip(b"EXISTS k\r\n", b":1\r\n");
}

#[test]
fn lists_have_a_type_and_encoding() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(call(&mut c, "RPUSH l a b 1 2 300"), int(5));
    table(
        &mut c,
        &[
            ("TYPE l", Frame::Simple("list".into())),
            // Redis 7.0 lists are always quicklists.
            ("OBJECT ENCODING l", bulk("quicklist")),
            ("OBJECT REFCOUNT l", int(1)),
        ],
    );
    // Large elements too.
    let big = "x".repeat(9000);
    c.cmd(&[b"RPUSH", b"big", big.as_bytes()]);
    assert_eq!(c.frame(), int(1));
    assert_eq!(call(&mut c, "OBJECT ENCODING big"), bulk("quicklist"));
    // SCAN TYPE, COPY and RENAME work on lists too.
    assert_eq!(
        key_set(&call(&mut c, "SCAN 0 COUNT 1000 TYPE list").items()[1]).len(),
        2
    );
    assert_eq!(call(&mut c, "COPY l l2"), int(1));
    assert_eq!(call(&mut c, "TYPE l2"), Frame::Simple("list".into()));
}

#[test]
fn rename_and_renamenx() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("RENAME nokey x", err("ERR no such key")),
            ("RENAMENX nokey x", err("ERR no such key")),
            ("RENAME nokey nokey", err("ERR no such key")),
            ("SET a 1", ok()),
            ("RENAME a a", ok()),
            ("RENAMENX a a", int(0)),
            ("RENAME a b", ok()),
            ("EXISTS a", int(0)),
            ("GET b", bulk("1")),
            // The TTL travels with the value.
            ("PEXPIRE b 100000", int(1)),
            ("SET c 3", ok()),
            ("RENAMENX b c", int(0)),
            ("GET b", bulk("1")),
            ("RENAME b c", ok()),
            ("GET c", bulk("1")),
            ("EXISTS b", int(0)),
            ("RENAMENX c d", int(1)),
            ("GET d", bulk("1")),
            (
                "RENAME d",
                err("ERR wrong number of arguments for 'rename' command"),
            ),
            (
                "RENAMENX d e f",
                err("ERR wrong number of arguments for 'renamenx' command"),
            ),
        ],
    );
    let pttl = call_int(&mut c, "PTTL d");
    assert!((90_000..=100_000).contains(&pttl), "{pttl}");
    // A renamed key over an existing one with a TTL takes the source's (no) TTL.
    table(
        &mut c,
        &[
            ("SET e 1", ok()),
            ("SET f 2", ok()),
            ("EXPIRE f 100", int(1)),
            ("RENAME e f", ok()),
            ("TTL f", int(-1)),
        ],
    );
}

#[test]
fn copy_between_keys_and_databases() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("SET a hello", ok()),
            ("PEXPIRE a 100000", int(1)),
            (
                "COPY a a",
                err("ERR source and destination objects are the same"),
            ),
            (
                "COPY a a DB 0",
                err("ERR source and destination objects are the same"),
            ),
            (
                "COPY nokey nokey",
                err("ERR source and destination objects are the same"),
            ),
            ("COPY nokey b", int(0)),
            ("COPY a b", int(1)),
            ("GET b", bulk("hello")),
            // The copy is a separate value.
            ("SET a changed", ok()),
            ("GET b", bulk("hello")),
            ("COPY a b", int(0)),
            ("COPY a b REPLACE", int(1)),
            ("GET b", bulk("changed")),
            ("COPY a b replace REPLACE", int(1)),
            ("COPY a a DB 1", int(1)),
            ("COPY a x db 1", int(1)),
            ("COPY a x DB 1", int(0)),
            (
                "COPY a b DB x",
                err("ERR value is not an integer or out of range"),
            ),
            ("COPY a b DB 99", err("ERR DB index is out of range")),
            ("COPY a b DB -1", err("ERR DB index is out of range")),
            (
                "COPY a b DB 2147483648",
                err("ERR value is out of range, value must between -2147483648 and 2147483647"),
            ),
            // Options are checked in order: the index error comes first here...
            ("COPY a b DB 99 junk", err("ERR DB index is out of range")),
            // ...and the syntax error here.
            ("COPY a b junk DB 99", err("ERR syntax error")),
            ("COPY a b DB", err("ERR syntax error")),
            ("COPY a b foo", err("ERR syntax error")),
            (
                "COPY a",
                err("ERR wrong number of arguments for 'copy' command"),
            ),
            ("SELECT 1", ok()),
            ("GET a", bulk("changed")),
            ("GET x", bulk("changed")),
            ("SELECT 0", ok()),
        ],
    );
    // The TTL is copied; SET cleared the source's, so copy b from a fresh one.
    table(
        &mut c,
        &[
            ("SET t v", ok()),
            ("PEXPIRE t 100000", int(1)),
            ("COPY t t2", int(1)),
        ],
    );
    let pttl = call_int(&mut c, "PTTL t2");
    assert!((90_000..=100_000).contains(&pttl), "{pttl}");
}

#[test]
fn move_between_databases() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("SET a 1", ok()),
            ("EXPIRE a 100", int(1)),
            (
                "MOVE a x",
                err("ERR value is not an integer or out of range"),
            ),
            ("MOVE a 99", err("ERR DB index is out of range")),
            ("MOVE a -1", err("ERR DB index is out of range")),
            (
                "MOVE a 2147483648",
                err("ERR value is out of range, value must between -2147483648 and 2147483647"),
            ),
            (
                "MOVE a 0",
                err("ERR source and destination objects are the same"),
            ),
            // The same-database check comes before the key is looked at.
            (
                "MOVE nokey 0",
                err("ERR source and destination objects are the same"),
            ),
            ("MOVE nokey 1", int(0)),
            ("MOVE a 1", int(1)),
            ("EXISTS a", int(0)),
            ("SET a 2", ok()),
            // Already in the target database: nothing moves.
            ("MOVE a 1", int(0)),
            ("GET a", bulk("2")),
            ("SELECT 1", ok()),
            ("GET a", bulk("1")),
            ("TTL a", int(100)),
            (
                "MOVE a",
                err("ERR wrong number of arguments for 'move' command"),
            ),
        ],
    );
}

#[test]
fn swapdb_swaps_and_checks_indexes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("SWAPDB x 1", err("ERR invalid first DB index")),
            ("SWAPDB 0 x", err("ERR invalid second DB index")),
            // Both are parsed before the range check.
            ("SWAPDB 99 x", err("ERR invalid second DB index")),
            ("SWAPDB 2147483648 0", err("ERR invalid first DB index")),
            ("SWAPDB 0 99", err("ERR DB index is out of range")),
            ("SWAPDB -1 0", err("ERR DB index is out of range")),
            ("SWAPDB 0 0", ok()),
            ("SET in0 zero", ok()),
            ("SWAPDB 0 1", ok()),
            ("EXISTS in0", int(0)),
            ("SELECT 1", ok()),
            ("GET in0", bulk("zero")),
            ("SELECT 0", ok()),
            ("SWAPDB 1 0", ok()),
            ("GET in0", bulk("zero")),
        ],
    );
    // A transaction watching a key in a swapped database fails, as in Redis.
    let mut other = server.raw();
    table(
        &mut c,
        &[
            ("WATCH in0", ok()),
            ("MULTI", ok()),
            ("GET in0", Frame::Simple("QUEUED".into())),
        ],
    );
    assert_eq!(call(&mut other, "SWAPDB 0 1"), ok());
    assert_eq!(call(&mut c, "EXEC"), Frame::Null);
}

#[test]
fn keys_matches_globs_and_skips_expired() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    for k in ["one", "two", "three", "k:1", "k:2", "h?llo", ""] {
        c.cmd(&[b"SET", k.as_bytes(), b"v"]);
        assert_eq!(c.frame(), ok());
    }
    let keys = |c: &mut Raw, pattern: &str| {
        c.cmd(&[b"KEYS", pattern.as_bytes()]);
        key_set(&c.frame())
    };
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
    assert_eq!(
        keys(&mut c, "*"),
        set(&["one", "two", "three", "k:1", "k:2", "h?llo", ""])
    );
    assert_eq!(keys(&mut c, "t*"), set(&["two", "three"]));
    assert_eq!(keys(&mut c, "k:[12]"), set(&["k:1", "k:2"]));
    assert_eq!(keys(&mut c, "?n?"), set(&["one"]));
    assert_eq!(keys(&mut c, "h\\?llo"), set(&["h?llo"]));
    assert_eq!(keys(&mut c, "*o"), set(&["two", "h?llo"]));
    assert_eq!(keys(&mut c, "nomatch*"), set(&[]));
    // Expired keys are not listed, even before anything reclaims them.
    assert_eq!(call(&mut c, "PEXPIRE one 1"), int(1));
    std::thread::sleep(Duration::from_millis(5));
    assert!(!keys(&mut c, "*").contains("one"));
    c.roundtrip(b"KEYS nomatch\r\n", b"*0\r\n");
    c.roundtrip(b"KEYS k:1\r\n", b"*1\r\n$3\r\nk:1\r\n");
}

#[test]
fn scan_cursor_options_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("SCAN x", err("ERR invalid cursor")),
            ("SCAN -1", err("ERR invalid cursor")),
            ("SCAN 18446744073709551616", err("ERR invalid cursor")),
            ("SCAN 1x", err("ERR invalid cursor")),
            // The cursor is checked before the options.
            ("SCAN x COUNT 0", err("ERR invalid cursor")),
            ("SCAN 0 COUNT 0", err("ERR syntax error")),
            ("SCAN 0 COUNT -5", err("ERR syntax error")),
            (
                "SCAN 0 COUNT x",
                err("ERR value is not an integer or out of range"),
            ),
            ("SCAN 0 COUNT", err("ERR syntax error")),
            ("SCAN 0 MATCH", err("ERR syntax error")),
            ("SCAN 0 TYPE", err("ERR syntax error")),
            ("SCAN 0 FOO bar", err("ERR syntax error")),
            (
                "SCAN",
                err("ERR wrong number of arguments for 'scan' command"),
            ),
        ],
    );
    // An empty database: cursor 0 and no keys, exactly.
    c.roundtrip(b"SCAN 0\r\n", b"*2\r\n$1\r\n0\r\n*0\r\n");
    // Forms strtoull accepts are valid cursors (Redis 7.4 string2ull).
    c.roundtrip(b"SCAN +0\r\n", b"*2\r\n$1\r\n0\r\n*0\r\n");
    c.roundtrip(b"SCAN 18446744073709551615\r\n", b"*2\r\n$1\r\n0\r\n*0\r\n");

    for i in 0..300 {
        c.send(&multibulk(&[b"SET", format!("key:{i}").as_bytes(), b"v"]));
    }
    c.send(&multibulk(&[b"RPUSH", b"alist", b"x"]));
    for _ in 0..300 {
        assert_eq!(c.frame(), ok());
    }
    assert_eq!(c.frame(), int(1));
    // A full iteration with each option returns exactly the matching keys.
    let full = |c: &mut Raw, options: &str| {
        let mut cursor = "0".to_string();
        let mut seen = HashSet::new();
        let mut calls = 0;
        loop {
            let reply = call(c, &format!("SCAN {cursor}{options}"));
            let items = reply.items();
            assert_eq!(items.len(), 2, "{reply:?}");
            cursor = items[0].text();
            seen.extend(key_set(&items[1]));
            calls += 1;
            if cursor == "0" {
                return (seen, calls);
            }
        }
    };
    let (all, _) = full(&mut c, "");
    assert_eq!(all.len(), 301);
    let (matched, _) = full(&mut c, " MATCH key:1?");
    assert_eq!(matched.len(), 10);
    assert!(matched.contains("key:17"));
    let (lists, _) = full(&mut c, " TYPE LIST COUNT 7");
    assert_eq!(lists, HashSet::from(["alist".to_string()]));
    let (strings, _) = full(&mut c, " type string match key:2*");
    assert_eq!(strings.len(), 111);
    let (unknown, _) = full(&mut c, " TYPE nosuchtype");
    assert!(unknown.is_empty());
    // A large COUNT finishes in one call; the last option of a kind wins.
    let (everything, calls) = full(&mut c, " COUNT 5 COUNT 100000 MATCH nope MATCH *");
    assert_eq!((everything.len(), calls), (301, 1));
}

/// The at-least-once guarantee under load: while one connection SCANs 10,000
/// keys, another deletes half of them and adds new ones. Every key never
/// deleted must come back at least once.
#[test]
fn scan_returns_every_stable_key_under_concurrent_deletes() {
    const KEYS: usize = 10_000;
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut load = Vec::new();
    for i in 0..KEYS {
        load.extend(multibulk(&[b"SET", format!("k{i}").as_bytes(), b"v"]));
    }
    c.send(&load);
    for _ in 0..KEYS {
        assert_eq!(c.frame(), ok());
    }

    let scanning = Arc::new(AtomicBool::new(true));
    let mut writer = server.raw();
    let flag = scanning.clone();
    let deleter = std::thread::spawn(move || {
        let mut deleted = 0;
        // Odd keys go, in small pipelined batches, with new keys added between.
        for (round, chunk) in (1..KEYS)
            .step_by(2)
            .collect::<Vec<_>>()
            .chunks(25)
            .enumerate()
        {
            let mut batch = Vec::new();
            for i in chunk {
                batch.extend(multibulk(&[b"DEL", format!("k{i}").as_bytes()]));
            }
            batch.extend(multibulk(&[b"SET", format!("new{round}").as_bytes(), b"v"]));
            writer.send(&batch);
            for _ in chunk {
                assert_eq!(writer.frame(), int(1));
            }
            assert_eq!(writer.frame(), ok());
            deleted += chunk.len();
            if !flag.load(Ordering::Relaxed) {
                break;
            }
        }
        deleted
    });

    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = call(&mut c, &format!("SCAN {cursor} COUNT 20"));
        cursor = reply.items()[0].text();
        seen.extend(key_set(&reply.items()[1]));
        if cursor == "0" {
            break;
        }
    }
    scanning.store(false, Ordering::Relaxed);
    let deleted = deleter.join().unwrap();
    assert!(deleted > 0);
    for i in (0..KEYS).step_by(2) {
        assert!(seen.contains(&format!("k{i}")), "k{i} was never returned");
    }
    assert!(seen
        .iter()
        .all(|k| k.starts_with('k') || k.starts_with("new")));
}

#[test]
fn randomkey_nil_and_live_keys_only() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"RANDOMKEY\r\n", b"$-1\r\n");
    assert_eq!(
        call(&mut c, "RANDOMKEY x"),
        err("ERR wrong number of arguments for 'randomkey' command")
    );
    table(&mut c, &[("SET only v", ok()), ("RANDOMKEY", bulk("only"))]);
    // Only expired keys left: nil.
    for i in 0..50 {
        let key = format!("gone{i}");
        c.cmd(&[b"SET", key.as_bytes(), b"v"]);
        assert_eq!(c.frame(), ok());
        c.cmd(&[b"PEXPIRE", key.as_bytes(), b"1"]);
        assert_eq!(c.frame(), int(1));
    }
    assert_eq!(call(&mut c, "DEL only"), int(1));
    std::thread::sleep(Duration::from_millis(5));
    c.roundtrip(b"RANDOMKEY\r\n", b"$-1\r\n");
    table(&mut c, &[("SET a 1", ok()), ("SET b 2", ok())]);
    let mut got = HashSet::new();
    for _ in 0..200 {
        got.insert(call(&mut c, "RANDOMKEY").text());
    }
    assert_eq!(got, HashSet::from(["a".to_string(), "b".to_string()]));
}

#[test]
fn expire_options_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("EXPIRE nokey 10", int(0)),
            ("SET a v", ok()),
            ("EXPIRE a 10 foo", err("ERR Unsupported option foo")),
            // Options are parsed before the time.
            ("EXPIRE a x foo", err("ERR Unsupported option foo")),
            (
                "EXPIRE a x",
                err("ERR value is not an integer or out of range"),
            ),
            (
                "EXPIRE nokey x",
                err("ERR value is not an integer or out of range"),
            ),
            (
                "EXPIRE a 10 NX XX",
                err("ERR NX and XX, GT or LT options at the same time are not compatible"),
            ),
            (
                "EXPIRE a 10 nx gt",
                err("ERR NX and XX, GT or LT options at the same time are not compatible"),
            ),
            (
                "EXPIRE a 10 NX LT",
                err("ERR NX and XX, GT or LT options at the same time are not compatible"),
            ),
            (
                "EXPIRE a 10 GT LT",
                err("ERR GT and LT options at the same time are not compatible"),
            ),
            (
                "EXPIRE nokey 10 gt lt",
                err("ERR GT and LT options at the same time are not compatible"),
            ),
            (
                "EXPIRE a 9223372036854775",
                err("ERR invalid expire time in 'expire' command"),
            ),
            (
                "EXPIRE a -9223372036854776",
                err("ERR invalid expire time in 'expire' command"),
            ),
            (
                "PEXPIRE a 9223372036854775807",
                err("ERR invalid expire time in 'pexpire' command"),
            ),
            (
                "EXPIREAT a 9223372036854776",
                err("ERR invalid expire time in 'expireat' command"),
            ),
            (
                "EXPIRE a",
                err("ERR wrong number of arguments for 'expire' command"),
            ),
            // No TTL yet: XX and GT refuse, LT and NX set.
            ("EXPIRE a 100 XX", int(0)),
            ("EXPIRE a 100 GT", int(0)),
            ("TTL a", int(-1)),
            ("EXPIRE a 100 LT", int(1)),
            ("TTL a", int(100)),
            ("PERSIST a", int(1)),
            ("EXPIRE a 100 NX", int(1)),
            ("EXPIRE a 200 NX", int(0)),
            ("EXPIRE a 200 XX", int(1)),
            ("TTL a", int(200)),
            ("EXPIRE a 100 GT", int(0)),
            ("EXPIRE a 300 gt", int(1)),
            ("EXPIRE a 400 LT", int(0)),
            ("EXPIRE a 50 lt", int(1)),
            ("EXPIRE a 60 XX GT", int(1)),
            ("TTL a", int(60)),
            ("EXPIRE a 70 XX LT", int(0)),
            ("PERSIST a", int(1)),
            ("PERSIST a", int(0)),
            ("PERSIST nokey", int(0)),
            ("TTL a", int(-1)),
            ("PTTL a", int(-1)),
            ("EXPIRETIME a", int(-1)),
            ("PEXPIRETIME a", int(-1)),
            ("TTL nokey", int(-2)),
            ("PTTL nokey", int(-2)),
            ("EXPIRETIME nokey", int(-2)),
            ("PEXPIRETIME nokey", int(-2)),
        ],
    );
    // The option echoed in the error stops at a NUL byte, as C's %s does.
    c.cmd(&[b"EXPIRE", b"a", b"10", b"\xff\x00z"]);
    c.expect(b"-ERR Unsupported option \xff\r\n");
}

#[test]
fn expire_deadlines_ttl_readings_and_deletion() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    // Absolute times read back exactly; seconds are rounded to the nearest.
    let at = unix_ms() + 1_000_000;
    table(
        &mut c,
        &[
            ("SET a v", ok()),
            (&format!("PEXPIREAT a {at}"), int(1)),
            ("PEXPIRETIME a", int(at)),
            ("EXPIRETIME a", int((at + 500) / 1000)),
            (&format!("EXPIREAT a {}", at / 1000), int(1)),
            ("PEXPIRETIME a", int(at / 1000 * 1000)),
            ("PEXPIREAT a 9223372036854775807", int(1)),
            ("PEXPIRETIME a", int(i64::MAX)),
            ("EXPIRETIME a", int(9223372036854776)),
        ],
    );
    let pttl = call_int(&mut c, "PTTL a");
    assert!(pttl > 9_000_000_000_000_000_000, "{pttl}");
    // Relative TTLs: PTTL within bounds, TTL rounded.
    // (1800 ms reads as 2 s, 1200 ms as 1 s, with slack for a slow machine.)
    assert_eq!(call(&mut c, "PEXPIRE a 1800"), int(1));
    let pttl = call_int(&mut c, "PTTL a");
    assert!((1300..=1800).contains(&pttl), "{pttl}");
    assert_eq!(call(&mut c, "TTL a"), int(2));
    assert_eq!(call(&mut c, "PEXPIRE a 1200"), int(1));
    assert_eq!(call(&mut c, "TTL a"), int(1));
    assert_eq!(call(&mut c, "EXPIRE a 100"), int(1));
    let pttl = call_int(&mut c, "PTTL a");
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");

    // A short TTL runs out.
    assert_eq!(call(&mut c, "PEXPIRE a 30"), int(1));
    std::thread::sleep(Duration::from_millis(60));
    table(&mut c, &[("PTTL a", int(-2)), ("EXISTS a", int(0))]);

    // A deadline in the past, or a non-positive TTL, deletes at once and
    // replies 1 — and does not count as an expired key.
    let expired_before = info_field(&mut c, "stats", "expired_keys");
    table(
        &mut c,
        &[
            ("SET b v", ok()),
            ("PEXPIREAT b 1", int(1)),
            ("EXISTS b", int(0)),
            ("SET b v", ok()),
            ("EXPIRE b 0", int(1)),
            ("EXISTS b", int(0)),
            ("SET b v", ok()),
            ("PEXPIRE b -100", int(1)),
            ("EXISTS b", int(0)),
            ("SET b v", ok()),
            (&format!("EXPIREAT b {}", unix_ms() / 1000 - 10), int(1)),
            ("EXISTS b", int(0)),
            ("PEXPIREAT b 1", int(0)),
            // GT refuses a past time on a key without TTL; LT deletes.
            ("SET b v", ok()),
            ("PEXPIREAT b 1 GT", int(0)),
            ("PEXPIREAT b 1 LT", int(1)),
            ("EXISTS b", int(0)),
        ],
    );
    assert_eq!(info_field(&mut c, "stats", "expired_keys"), expired_before);
}

#[test]
fn touch_updates_access_time_and_object_idletime_does_not() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("SET a v", ok()),
            ("SET b v", ok()),
            ("TOUCH a b nokey a", int(3)),
            ("TOUCH nokey", int(0)),
            (
                "TOUCH",
                err("ERR wrong number of arguments for 'touch' command"),
            ),
            ("OBJECT IDLETIME a", int(0)),
        ],
    );
    std::thread::sleep(Duration::from_millis(1100));
    // Reading the idle time, the type, the TTL or existence leaves it alone...
    table(
        &mut c,
        &[
            ("OBJECT IDLETIME a", int(1)),
            ("TYPE a", Frame::Simple("string".into())),
            ("TTL a", int(-1)),
            ("EXISTS a", int(1)),
            ("OBJECT ENCODING a", bulk("embstr")),
            ("OBJECT IDLETIME a", int(1)),
            // ...TOUCH resets it.
            ("TOUCH a", int(1)),
            ("OBJECT IDLETIME a", int(0)),
            ("OBJECT IDLETIME b", int(1)),
        ],
    );
}

#[test]
fn object_subcommands() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let long = "x".repeat(45);
    let embstr = "x".repeat(44);
    for (value, encoding, refcount) in [
        ("0", "int", 2147483647),
        ("9999", "int", 2147483647),
        ("10000", "int", 1),
        ("-1", "int", 1),
        ("9223372036854775807", "int", 1),
        ("12345678901234567890", "embstr", 1),
        ("007", "embstr", 1),
        ("-0", "embstr", 1),
        ("+1", "embstr", 1),
        (" 1", "embstr", 1),
        ("", "embstr", 1),
        (embstr.as_str(), "embstr", 1),
        (long.as_str(), "raw", 1),
    ] {
        c.cmd(&[b"SET", b"k", value.as_bytes()]);
        assert_eq!(c.frame(), ok());
        assert_eq!(
            call(&mut c, "OBJECT ENCODING k"),
            bulk(encoding),
            "{value:?}"
        );
        assert_eq!(
            call(&mut c, "OBJECT REFCOUNT k"),
            int(refcount),
            "{value:?}"
        );
    }
    c.roundtrip(b"OBJECT ENCODING k\r\n", b"$3\r\nraw\r\n");
    let lfu_off = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    let lfu_on = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    table(
        &mut c,
        &[
            ("OBJECT FREQ k", err(lfu_off)),
            // A missing key is nil, before any policy check.
            ("OBJECT FREQ nokey", Frame::Null),
            ("OBJECT IDLETIME nokey", Frame::Null),
            ("OBJECT ENCODING nokey", Frame::Null),
            ("OBJECT REFCOUNT nokey", Frame::Null),
            ("CONFIG SET maxmemory-policy allkeys-lfu", ok()),
            ("SET fresh value", ok()),
            ("OBJECT FREQ fresh", int(5)),
            ("OBJECT IDLETIME fresh", err(lfu_on)),
            ("CONFIG SET maxmemory-policy volatile-lfu", ok()),
            ("OBJECT IDLETIME fresh", err(lfu_on)),
            ("CONFIG SET maxmemory-policy noeviction", ok()),
            ("OBJECT IDLETIME fresh", int(0)),
            // Small integers are not shared under an LRU/LFU policy with maxmemory.
            ("SET small 5", ok()),
            ("OBJECT REFCOUNT small", int(2147483647)),
            ("CONFIG SET maxmemory 100mb", ok()),
            ("OBJECT REFCOUNT small", int(2147483647)),
            ("CONFIG SET maxmemory-policy allkeys-lru", ok()),
            ("OBJECT REFCOUNT small", int(1)),
            ("CONFIG SET maxmemory 0", ok()),
            ("OBJECT REFCOUNT small", int(2147483647)),
            (
                "OBJECT foo k",
                err("ERR unknown subcommand 'foo'. Try OBJECT HELP."),
            ),
            (
                "OBJECT",
                err("ERR wrong number of arguments for 'object' command"),
            ),
            (
                "OBJECT ENCODING",
                err("ERR wrong number of arguments for 'object|encoding' command"),
            ),
            (
                "OBJECT FREQ a b",
                err("ERR wrong number of arguments for 'object|freq' command"),
            ),
            (
                "OBJECT HELP x",
                err("ERR wrong number of arguments for 'object|help' command"),
            ),
        ],
    );
    c.roundtrip(
        b"OBJECT HELP\r\n",
        b"*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n+    Return the kind of internal representation used in order to store the value\r\n+    associated with a <key>.\r\n+FREQ <key>\r\n+    Return the access frequency index of the <key>. The returned integer is\r\n+    proportional to the logarithm of the recent access frequency of the key.\r\n+IDLETIME <key>\r\n+    Return the idle time of the <key>, that is the approximated number of\r\n+    seconds elapsed since the last access to the key.\r\n+REFCOUNT <key>\r\n+    Return the number of references of the value associated with the specified\r\n+    <key>.\r\n+HELP\r\n+    Prints this help.\r\n",
    );
}

#[test]
fn binary_keys() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let k1: &[u8] = b"bin\x00\r\n\xff1";
    let k2: &[u8] = b"bin\x00\r\n\xff2";
    let send = |c: &mut Raw, args: &[&[u8]]| {
        c.cmd(args);
        c.frame()
    };
    assert_eq!(send(&mut c, &[b"SET", k1, b"v"]), ok());
    assert_eq!(send(&mut c, &[b"EXISTS", k1, k2]), int(1));
    assert_eq!(send(&mut c, &[b"TYPE", k1]), Frame::Simple("string".into()));
    assert_eq!(send(&mut c, &[b"RENAME", k1, k2]), ok());
    assert_eq!(send(&mut c, &[b"COPY", k2, k1]), int(1));
    assert_eq!(send(&mut c, &[b"PEXPIRE", k1, b"100000"]), int(1));
    let keys = send(&mut c, &[b"KEYS", b"bin\x00*"]);
    let mut got: Vec<Vec<u8>> = keys
        .items()
        .iter()
        .map(|f| match f {
            Frame::Bulk(b) => b.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    got.sort();
    assert_eq!(got, vec![k1.to_vec(), k2.to_vec()]);
    let scan = send(
        &mut c,
        &[b"SCAN", b"0", b"MATCH", b"*\xff2", b"COUNT", b"1000"],
    );
    assert_eq!(
        scan.items()[1],
        Frame::Array(vec![Frame::Bulk(k2.to_vec())])
    );
    assert_eq!(send(&mut c, &[b"MOVE", k2, b"1"]), int(1));
    assert_eq!(send(&mut c, &[b"DEL", k1, k2]), int(1));
    assert_eq!(send(&mut c, &[b"KEYS", b"*"]), Frame::Array(vec![]));
}

#[test]
fn resp3_replies() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"HELLO 3\r\n");
    assert!(matches!(c.frame(), Frame::Map(_)));
    c.roundtrip(b"RANDOMKEY\r\n", b"_\r\n");
    c.roundtrip(b"OBJECT ENCODING nokey\r\n", b"_\r\n");
    c.roundtrip(b"SET k 12\r\n", b"+OK\r\n");
    c.roundtrip(b"TYPE k\r\n", b"+string\r\n");
    c.roundtrip(b"TTL k\r\n", b":-1\r\n");
    c.roundtrip(b"OBJECT ENCODING k\r\n", b"$3\r\nint\r\n");
    c.roundtrip(b"SCAN 0\r\n", b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n");
    c.roundtrip(b"KEYS *\r\n", b"*1\r\n$1\r\nk\r\n");
    c.roundtrip(b"RANDOMKEY\r\n", b"$1\r\nk\r\n");
    c.roundtrip(b"RENAME k j\r\n", b"+OK\r\n");
    c.roundtrip(b"RENAME k j\r\n", b"-ERR no such key\r\n");
}

/// INFO keyspace_hits / keyspace_misses count the lookups Redis 7.4 counts
/// (checked against redis-server): reads yes, writes and KEYS/RANDOMKEY no.
#[test]
fn keyspace_hits_and_misses_match_redis() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    for (line, hits, misses) in [
        ("EXISTS a b", 1, 1),
        ("TYPE a", 1, 0),
        ("TYPE b", 0, 1),
        ("TTL a", 1, 0),
        ("TTL b", 0, 1),
        ("PTTL a", 1, 0),
        ("EXPIRETIME a", 1, 0),
        ("PEXPIRETIME b", 0, 1),
        ("TOUCH a b", 1, 1),
        ("OBJECT ENCODING a", 1, 0),
        ("OBJECT ENCODING b", 0, 1),
        ("OBJECT REFCOUNT a", 1, 0),
        ("OBJECT IDLETIME a", 1, 0),
        ("COPY a c", 1, 0),
        ("COPY zz c2", 0, 1),
        ("MOVE c 1", 0, 0),
        ("RENAME a d", 0, 0),
        ("RENAMENX d e", 0, 0),
        ("RANDOMKEY", 0, 0),
        ("KEYS *", 0, 0),
        ("SCAN 0", 0, 0),
        ("SCAN 0 TYPE string", 1, 0),
        ("PERSIST e", 0, 0),
        ("EXPIRE e 100", 0, 0),
        ("DEL e", 0, 0),
    ] {
        assert_eq!(call(&mut c, "FLUSHALL"), ok());
        assert_eq!(call(&mut c, "SET a 1"), ok());
        assert_eq!(call(&mut c, "CONFIG RESETSTAT"), ok());
        call(&mut c, line);
        let got = (
            info_field(&mut c, "stats", "keyspace_hits"),
            info_field(&mut c, "stats", "keyspace_misses"),
        );
        assert_eq!(got, (hits, misses), "{line}");
    }
}

/// `pmessage` frames until the one on `sentinel`, as (channel, payload).
fn events_until(sub: &mut Raw, sentinel: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        let f = sub.frame();
        let items = f.items();
        let (channel, payload) = match items[0].text().as_str() {
            "pmessage" => (items[2].text(), items[3].text()),
            "message" => (items[1].text(), items[2].text()),
            other => panic!("unexpected {other}: {f:?}"),
        };
        if channel == sentinel {
            return out;
        }
        out.push((channel, payload));
    }
}

#[test]
fn keyspace_notifications() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut sub = server.raw();
    assert_eq!(call(&mut c, "CONFIG SET notify-keyspace-events KEA"), ok());
    sub.send(b"PSUBSCRIBE __key*__:* done\r\n");
    sub.frame();
    sub.frame();
    table(
        &mut c,
        &[
            ("SET a 1", ok()),
            ("EXPIRE a 100", int(1)),
            ("PERSIST a", int(1)),
            ("PERSIST a", int(0)),
            ("RENAME a b", ok()),
            ("RENAMENX b b", int(0)),
            ("COPY b c", int(1)),
            ("MOVE c 1", int(1)),
            ("DEL b nokey", int(1)),
            ("SET d 1", ok()),
            ("PEXPIRE d 1", int(1)),
        ],
    );
    std::thread::sleep(Duration::from_millis(10));
    table(
        &mut c,
        &[
            ("EXISTS d", int(0)),
            ("SET e 1", ok()),
            ("EXPIRE e -1", int(1)),
            ("UNLINK nokey", int(0)),
            ("PUBLISH done x", int(1)),
        ],
    );
    // Keep only this family's events (string commands may raise their own).
    let mine = [
        "del",
        "expire",
        "expired",
        "persist",
        "rename_from",
        "rename_to",
        "copy_to",
        "move_from",
        "move_to",
    ];
    let got: Vec<(String, String)> = events_until(&mut sub, "done")
        .into_iter()
        .filter(|(channel, payload)| {
            mine.contains(&payload.as_str())
                || mine.iter().any(|e| channel.ends_with(&format!("__:{e}")))
        })
        .collect();
    let pair = |db: u8, key: &str, event: &str| {
        [
            (format!("__keyspace@{db}__:{key}"), event.to_string()),
            (format!("__keyevent@{db}__:{event}"), key.to_string()),
        ]
    };
    let want: Vec<(String, String)> = [
        pair(0, "a", "expire"),
        pair(0, "a", "persist"),
        pair(0, "a", "rename_from"),
        pair(0, "b", "rename_to"),
        pair(0, "c", "copy_to"),
        pair(0, "c", "move_from"),
        pair(1, "c", "move_to"),
        pair(0, "b", "del"),
        pair(0, "d", "expire"),
        pair(0, "d", "expired"),
        pair(0, "e", "del"),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert_eq!(got, want);
}

/// `keymiss` (class m) for read lookups that miss, none for OBJECT; `new`
/// (class n) for keys RENAME, COPY and MOVE create.
#[test]
fn keymiss_and_new_key_events() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut sub = server.raw();
    assert_eq!(call(&mut c, "CONFIG SET notify-keyspace-events Emn"), ok());
    sub.send(b"PSUBSCRIBE __keyevent@*__:keymiss __keyevent@*__:new done\r\n");
    for _ in 0..3 {
        sub.frame();
    }
    table(
        &mut c,
        &[
            ("EXISTS m1", int(0)),
            ("TYPE m2", Frame::Simple("none".into())),
            ("TTL m3", int(-2)),
            ("TOUCH m4", int(0)),
            ("COPY m5 x", int(0)),
            ("OBJECT ENCODING m6", Frame::Null),
            ("DEL m7", int(0)),
            ("EXPIRE m8 10", int(0)),
            ("SET src v", ok()),
            ("RENAME src dst", ok()),
            ("COPY dst dst2", int(1)),
            ("MOVE dst2 3", int(1)),
            ("PUBLISH done x", int(1)),
        ],
    );
    let got: Vec<(String, String)> = events_until(&mut sub, "done")
        .into_iter()
        .filter(|(_, key)| key != "src")
        .collect();
    let ev =
        |db: u8, event: &str, key: &str| (format!("__keyevent@{db}__:{event}"), key.to_string());
    assert_eq!(
        got,
        vec![
            ev(0, "keymiss", "m1"),
            ev(0, "keymiss", "m2"),
            ev(0, "keymiss", "m3"),
            ev(0, "keymiss", "m4"),
            ev(0, "keymiss", "m5"),
            ev(0, "new", "dst"),
            ev(0, "new", "dst2"),
            ev(3, "new", "dst2"),
        ]
    );
}

/// RENAME, COPY and MOVE run alone: a reader never sees a key in both or
/// neither place while another client renames it back and forth.
#[test]
fn rename_is_atomic_for_other_clients() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(call(&mut c, "SET x v"), ok());
    let mut renamer = server.raw();
    let worker = std::thread::spawn(move || {
        for _ in 0..300 {
            renamer.send(b"RENAME x y\r\nRENAME y x\r\n");
            renamer.expect(b"+OK\r\n+OK\r\n");
        }
    });
    let mut checks = 0;
    while !worker.is_finished() || checks < 100 {
        c.send(b"EXISTS x y\r\n");
        c.expect(b":1\r\n");
        checks += 1;
    }
    worker.join().unwrap();
}

#[test]
fn command_table_rows() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    // (name, arity, flags, first key, last key, step)
    for (name, arity, flags, first, last, step) in [
        ("del", -2, vec!["write"], 1, -1, 1),
        ("unlink", -2, vec!["write", "fast"], 1, -1, 1),
        ("exists", -2, vec!["readonly", "fast"], 1, -1, 1),
        ("type", 2, vec!["readonly", "fast"], 1, 1, 1),
        ("rename", 3, vec!["write"], 1, 2, 1),
        ("renamenx", 3, vec!["write", "fast"], 1, 2, 1),
        ("copy", -3, vec!["write", "denyoom"], 1, 2, 1),
        ("move", 3, vec!["write", "fast"], 1, 1, 1),
        ("swapdb", 3, vec!["write", "fast"], 0, 0, 0),
        ("keys", 2, vec!["readonly"], 0, 0, 0),
        ("scan", -2, vec!["readonly"], 0, 0, 0),
        ("randomkey", 1, vec!["readonly"], 0, 0, 0),
        ("touch", -2, vec!["readonly", "fast"], 1, -1, 1),
        ("expire", -3, vec!["write", "fast"], 1, 1, 1),
        ("pexpireat", -3, vec!["write", "fast"], 1, 1, 1),
        ("pttl", 2, vec!["readonly", "fast"], 1, 1, 1),
        ("expiretime", 2, vec!["readonly", "fast"], 1, 1, 1),
        ("persist", 2, vec!["write", "fast"], 1, 1, 1),
        ("object", -2, vec![], 0, 0, 0),
    ] {
        let info = call(&mut c, &format!("COMMAND INFO {name}"));
        let row = info.items()[0].items();
        assert_eq!(row[0], bulk(name));
        assert_eq!(row[1], int(arity), "{name}");
        let got: Vec<String> = row[2].items().iter().map(Frame::text).collect();
        assert_eq!(got, flags, "{name}");
        assert_eq!(
            (&row[3], &row[4], &row[5]),
            (&int(first), &int(last), &int(step)),
            "{name}"
        );
    }
    let info = call(&mut c, "COMMAND INFO object");
    let subs: Vec<String> = info.items()[0].items()[9]
        .items()
        .iter()
        .map(|s| s.items()[0].text())
        .collect();
    for sub in [
        "object|encoding",
        "object|freq",
        "object|idletime",
        "object|refcount",
        "object|help",
    ] {
        assert!(subs.contains(&sub.to_string()), "{sub} in {subs:?}");
    }
}
