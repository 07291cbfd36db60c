//! Set commands at the wire: exact replies for every command, option and
//! error (checked against redis-server 7.0), the intset/hashtable encoding
//! and set-max-intset-entries, RESP3 set replies, emptied sets disappearing,
//! STORE forms overwriting or deleting their destination, WRONGTYPE before
//! any change, keyspace events, WATCH, memory accounting, SSCAN's guarantee
//! under removals, and a differential run against a real redis-server.

mod common;

use std::time::Duration;

use common::{have, multibulk, Frame, Raw, Server};

fn connect() -> (Server, Raw) {
    let server = Server::start(&[]);
    let raw = server.raw();
    (server, raw)
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// Every (request, reply) pair in order, each request inline.
fn table(c: &mut Raw, rows: &[(&str, &str)]) {
    for (request, expected) in rows {
        c.send(format!("{request}\r\n").as_bytes());
        let got = c.read_n(expected.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            *expected,
            "reply to {request:?}"
        );
    }
}

/// Send an inline request and read its reply frame.
fn call(c: &mut Raw, request: &str) -> Frame {
    c.send(format!("{request}\r\n").as_bytes());
    c.frame()
}

/// The members of an array reply, sorted (hash-table order is arbitrary).
fn sorted(frame: Frame) -> Vec<String> {
    let mut v: Vec<String> = frame.items().iter().map(Frame::text).collect();
    v.sort();
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn encoding(c: &mut Raw, key: &str) -> String {
    call(c, &format!("OBJECT ENCODING {key}")).text()
}

#[test]
fn membership_commands() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("SADD s foo", ":1\r\n"),
            ("SADD s bar bar foo", ":1\r\n"),
            ("SCARD s", ":2\r\n"),
            ("SCARD nokey", ":0\r\n"),
            ("SISMEMBER s foo", ":1\r\n"),
            ("SISMEMBER s nope", ":0\r\n"),
            ("SISMEMBER nokey foo", ":0\r\n"),
            ("SMISMEMBER s foo nope bar", "*3\r\n:1\r\n:0\r\n:1\r\n"),
            ("SMISMEMBER nokey a b", "*2\r\n:0\r\n:0\r\n"),
            (
                "SMISMEMBER s",
                "-ERR wrong number of arguments for 'smismember' command\r\n",
            ),
            (
                "SADD s",
                "-ERR wrong number of arguments for 'sadd' command\r\n",
            ),
            ("SREM s nope", ":0\r\n"),
            ("SREM nokey a", ":0\r\n"),
            ("SREM s foo nope foo", ":1\r\n"),
            ("SMEMBERS s", "*1\r\n$3\r\nbar\r\n"),
            ("SMEMBERS nokey", "*0\r\n"),
            ("SREM s bar", ":1\r\n"),
            ("EXISTS s", ":0\r\n"),
            ("SET str x", "+OK\r\n"),
            ("SADD str a", WRONGTYPE),
            ("SREM str a", WRONGTYPE),
            ("SCARD str", WRONGTYPE),
            ("SISMEMBER str a", WRONGTYPE),
            ("SMISMEMBER str a", WRONGTYPE),
            ("SMEMBERS str", WRONGTYPE),
            ("SRANDMEMBER str", WRONGTYPE),
            ("SPOP str", WRONGTYPE),
            ("SPOP str 0", WRONGTYPE),
            ("SSCAN str 0", WRONGTYPE),
            ("TYPE str", "+string\r\n"),
        ],
    );
    // A set emptied by SREM is gone (and answers as missing).
    table(
        &mut c,
        &[
            ("SADD t 1 2 3", ":3\r\n"),
            ("SREM t 1 2 3 4 5", ":3\r\n"),
            ("TYPE t", "+none\r\n"),
        ],
    );
}

#[test]
fn encodings_follow_redis_7_0() {
    let (_s, mut c) = connect();
    call(&mut c, "SADD ints 17 3 -5");
    assert_eq!(encoding(&mut c, "ints"), "intset");
    // An intset lists its members sorted by value.
    c.roundtrip(
        b"SMEMBERS ints\r\n",
        b"*3\r\n$2\r\n-5\r\n$1\r\n3\r\n$2\r\n17\r\n",
    );
    call(&mut c, "SADD ints a");
    assert_eq!(encoding(&mut c, "ints"), "hashtable");
    call(&mut c, "SREM ints a");
    assert_eq!(
        encoding(&mut c, "ints"),
        "hashtable",
        "never converted back"
    );
    // Not integers as string2ll reads them.
    for member in ["01", "+1", "-0", "1.0", "213244124402402314402033402"] {
        call(&mut c, "DEL x");
        call(&mut c, &format!("SADD x {member}"));
        assert_eq!(encoding(&mut c, "x"), "hashtable", "{member}");
    }
    call(&mut c, "SADD big -9223372036854775808 9223372036854775807");
    assert_eq!(encoding(&mut c, "big"), "intset");
    // The limit, and CONFIG SET changing it at runtime.
    let members: Vec<String> = (0..512).map(|i| i.to_string()).collect();
    call(&mut c, &format!("SADD lim {}", members.join(" ")));
    assert_eq!(encoding(&mut c, "lim"), "intset");
    call(&mut c, "SADD lim 512");
    assert_eq!(encoding(&mut c, "lim"), "hashtable");
    c.roundtrip(b"CONFIG SET set-max-intset-entries 2\r\n", b"+OK\r\n");
    call(&mut c, "SADD small 1 2");
    assert_eq!(encoding(&mut c, "small"), "intset");
    call(&mut c, "SADD small 3");
    assert_eq!(encoding(&mut c, "small"), "hashtable");
    c.roundtrip(
        b"CONFIG GET set-max-intset-entries\r\n",
        b"*2\r\n$22\r\nset-max-intset-entries\r\n$1\r\n2\r\n",
    );
    c.roundtrip(b"CONFIG SET set-max-intset-entries 0\r\n", b"+OK\r\n");
    call(&mut c, "SADD zero 1");
    assert_eq!(encoding(&mut c, "zero"), "hashtable");
}

#[test]
fn resp3_replies_sets() {
    let (_s, mut c) = connect();
    let _ = call(&mut c, "HELLO 3");
    table(
        &mut c,
        &[
            ("SADD s 2 1", ":2\r\n"),
            ("SMEMBERS s", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SMEMBERS nokey", "~0\r\n"),
            ("SINTER s s", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SUNION s nokey", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SDIFF s nokey", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SINTER s nokey", "~0\r\n"),
            ("SMISMEMBER s 1 3", "*2\r\n:1\r\n:0\r\n"),
            ("SPOP nokey 2", "~0\r\n"),
            ("SPOP s 0", "~0\r\n"),
            ("SPOP nokey", "_\r\n"),
            ("SRANDMEMBER nokey", "_\r\n"),
            ("SRANDMEMBER nokey 3", "*0\r\n"),
            ("SPOP s 5", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("EXISTS s", ":0\r\n"),
        ],
    );
}

#[test]
fn spop_and_srandmember() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("SPOP nokey", "$-1\r\n"),
            ("SPOP nokey 3", "*0\r\n"),
            ("SPOP nokey 0", "*0\r\n"),
            ("SPOP nokey -1", "-ERR value is out of range, must be positive\r\n"),
            ("SPOP nokey x", "-ERR value is not an integer or out of range\r\n"),
            ("SPOP nokey 1 2", "-ERR syntax error\r\n"),
            ("SRANDMEMBER nokey", "$-1\r\n"),
            ("SRANDMEMBER nokey 5", "*0\r\n"),
            ("SRANDMEMBER nokey -5", "*0\r\n"),
            ("SRANDMEMBER nokey x", "-ERR value is not an integer or out of range\r\n"),
            (
                "SRANDMEMBER nokey -9223372036854775808",
                "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
            ),
            ("SRANDMEMBER nokey 1 2", "-ERR syntax error\r\n"),
            ("SADD s a", ":1\r\n"),
            ("SRANDMEMBER s", "$1\r\na\r\n"),
            ("SRANDMEMBER s 0", "*0\r\n"),
            ("SRANDMEMBER s -3", "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"),
            ("SRANDMEMBER s 9223372036854775807", "*1\r\n$1\r\na\r\n"),
            // A reply that could not fit in memory is refused (Redis would try).
            ("SRANDMEMBER s -9223372036854775807", "-ERR value is out of range\r\n"),
            ("SPOP s", "$1\r\na\r\n"),
            ("EXISTS s", ":0\r\n"),
        ],
    );
    let all: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
    call(&mut c, &format!("SADD s {}", all.join(" ")));
    // Distinct members for a positive count, repeats for a negative one.
    for n in [1, 5, 15, 19, 20, 50] {
        let got = sorted(call(&mut c, &format!("SRANDMEMBER s {n}")));
        let mut distinct = got.clone();
        distinct.dedup();
        assert_eq!(got.len(), n.min(20));
        assert_eq!(distinct.len(), got.len(), "SRANDMEMBER s {n}: {got:?}");
        assert!(got.iter().all(|m| all.contains(m)));
    }
    assert_eq!(call(&mut c, "SRANDMEMBER s -100").items().len(), 100);
    // Pops: each member once, the set shrinking and finally gone.
    let mut popped = Vec::new();
    for n in [2, 0, 11] {
        popped.extend(sorted(call(&mut c, &format!("SPOP s {n}"))));
    }
    popped.push(call(&mut c, "SPOP s").text());
    assert_eq!(call(&mut c, "SCARD s"), Frame::Int(6));
    popped.extend(sorted(call(&mut c, "SPOP s 100")));
    popped.sort_by_key(|m| m.parse::<i64>().unwrap_or(0));
    assert_eq!(popped, all);
    assert_eq!(call(&mut c, "EXISTS s"), Frame::Int(0));
}

#[test]
fn spop_that_leaves_few_takes_their_encoding() {
    // Redis rebuilds the set from what SPOP leaves when that is small.
    let (_s, mut c) = connect();
    call(&mut c, "SADD s 1 2 3 4 5 6 7 8 9 10 a");
    assert_eq!(encoding(&mut c, "s"), "hashtable");
    loop {
        call(&mut c, "DEL s");
        call(&mut c, "SADD s 1 2 3 4 5 6 7 8 9 10 a");
        let popped = sorted(call(&mut c, "SPOP s 10"));
        if popped.contains(&"a".to_string()) {
            assert_eq!(encoding(&mut c, "s"), "intset");
            break;
        }
        assert_eq!(encoding(&mut c, "s"), "hashtable");
    }
}

#[test]
fn smove() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("SADD src 1 a b", ":3\r\n"),
            ("SADD ints 2 3", ":2\r\n"),
            ("SMOVE src ints 1", ":1\r\n"),
            ("OBJECT ENCODING ints", "$6\r\nintset\r\n"),
            ("SMOVE src ints a", ":1\r\n"),
            ("OBJECT ENCODING ints", "$9\r\nhashtable\r\n"),
            ("SMOVE src ints nope", ":0\r\n"),
            ("SMOVE nokey ints a", ":0\r\n"),
            ("SMOVE src src b", ":1\r\n"),
            ("SMOVE src src nope", ":0\r\n"),
            ("SMOVE src fresh b", ":1\r\n"),
            ("EXISTS src", ":0\r\n"),
            ("SMEMBERS fresh", "*1\r\n$1\r\nb\r\n"),
            ("OBJECT ENCODING fresh", "$9\r\nhashtable\r\n"),
            ("SMOVE ints fresh2 2", ":1\r\n"),
            ("OBJECT ENCODING fresh2", "$6\r\nintset\r\n"),
            ("SET str x", "+OK\r\n"),
            ("SMOVE str fresh b", WRONGTYPE),
            ("SMOVE fresh str b", WRONGTYPE),
            // A missing source answers 0 before the destination's type is looked at.
            ("SMOVE nokey str b", ":0\r\n"),
            ("SMEMBERS fresh", "*1\r\n$1\r\nb\r\n"),
            ("GET str", "$1\r\nx\r\n"),
        ],
    );
}

#[test]
fn algebra_replies() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("SADD a 1 2 3 4", ":4\r\n"),
            ("SADD b 3 4 5", ":3\r\n"),
            ("SADD c 4 x", ":2\r\n"),
            ("SINTER a b", "*2\r\n$1\r\n3\r\n$1\r\n4\r\n"),
            ("SINTER a b c", "*1\r\n$1\r\n4\r\n"),
            ("SINTER a nokey", "*0\r\n"),
            (
                "SUNION a b",
                "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n",
            ),
            ("SDIFF a b", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SDIFF a b c", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SDIFF a a", "*0\r\n"),
            ("SDIFF nokey a", "*0\r\n"),
            (
                "SDIFF a nokey",
                "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n",
            ),
            ("SINTERCARD 2 a b", ":2\r\n"),
            ("SINTERCARD 2 a b LIMIT 1", ":1\r\n"),
            ("SINTERCARD 2 a b limit 0", ":2\r\n"),
            ("SINTERCARD 1 nokey", ":0\r\n"),
            ("SINTERCARD 1 nokey LIMIT 10", ":0\r\n"),
            (
                "SINTERCARD 0 a",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            (
                "SINTERCARD x a",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            (
                "SINTERCARD 3 a b",
                "-ERR Number of keys can't be greater than number of args\r\n",
            ),
            ("SINTERCARD 1 a b", "-ERR syntax error\r\n"),
            ("SINTERCARD 1 a LIMIT", "-ERR syntax error\r\n"),
            (
                "SINTERCARD 1 a LIMIT -1",
                "-ERR LIMIT can't be negative\r\n",
            ),
            ("SINTERCARD 1 a LIMIT x", "-ERR LIMIT can't be negative\r\n"),
            (
                "SINTERCARD 1",
                "-ERR wrong number of arguments for 'sintercard' command\r\n",
            ),
            ("SET str x", "+OK\r\n"),
            // WRONGTYPE wherever the wrong key stands, even after a missing one.
            ("SINTER nokey str", WRONGTYPE),
            ("SINTER str a", WRONGTYPE),
            ("SUNION a str", WRONGTYPE),
            ("SDIFF nokey str", WRONGTYPE),
            ("SDIFF a str", WRONGTYPE),
            ("SINTERCARD 2 nokey str", WRONGTYPE),
        ],
    );
    let sunion = sorted(call(&mut c, "SUNION a b c"));
    assert_eq!(sunion, strings(&["1", "2", "3", "4", "5", "x"]));
}

#[test]
fn store_forms_overwrite_or_delete_the_destination() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("SADD a 1 2 3", ":3\r\n"),
            ("SADD b 2 3 x", ":3\r\n"),
            ("SET dst old EX 100", "+OK\r\n"),
            ("SINTERSTORE dst a b", ":2\r\n"),
            ("TYPE dst", "+set\r\n"),
            ("TTL dst", ":-1\r\n"),
            ("SMEMBERS dst", "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            ("OBJECT ENCODING dst", "$6\r\nintset\r\n"),
            ("SUNIONSTORE dst a b", ":4\r\n"),
            ("OBJECT ENCODING dst", "$9\r\nhashtable\r\n"),
            ("SDIFFSTORE dst a b", ":1\r\n"),
            ("SMEMBERS dst", "*1\r\n$1\r\n1\r\n"),
            ("OBJECT ENCODING dst", "$6\r\nintset\r\n"),
            // A store onto one of its own sources.
            ("SUNIONSTORE a a b", ":4\r\n"),
            ("SCARD a", ":4\r\n"),
            // An empty result deletes the destination, whatever it held.
            ("SINTERSTORE dst a nokey", ":0\r\n"),
            ("EXISTS dst", ":0\r\n"),
            ("SET dst x", "+OK\r\n"),
            ("SUNIONSTORE dst nokey1 nokey2", ":0\r\n"),
            ("EXISTS dst", ":0\r\n"),
            ("SET dst x", "+OK\r\n"),
            ("SDIFFSTORE dst b b", ":0\r\n"),
            ("EXISTS dst", ":0\r\n"),
            // A type error anywhere changes nothing.
            ("SADD dst keep", ":1\r\n"),
            ("SET str x", "+OK\r\n"),
            ("SINTERSTORE dst nokey str", WRONGTYPE),
            ("SUNIONSTORE dst a str", WRONGTYPE),
            ("SDIFFSTORE dst a str", WRONGTYPE),
            ("SMEMBERS dst", "*1\r\n$4\r\nkeep\r\n"),
            ("SDIFFSTORE fresh str", WRONGTYPE),
            ("EXISTS fresh", ":0\r\n"),
            (
                "SINTERSTORE dst",
                "-ERR wrong number of arguments for 'sinterstore' command\r\n",
            ),
        ],
    );
}

#[test]
fn sscan() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("SSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
            // A missing key answers before the options are looked at, as in Redis.
            ("SSCAN nokey 0 COUNT 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
            ("SSCAN nokey x", "-ERR invalid cursor\r\n"),
            ("SADD ints 3 1 2", ":3\r\n"),
            (
                "SSCAN ints 0",
                "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
            ),
            // Small encodings answer whole, with cursor 0, whatever COUNT says.
            (
                "SSCAN ints 0 COUNT 1",
                "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
            ),
            ("SSCAN ints 0 MATCH 2", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n2\r\n"),
            ("SSCAN ints 0 COUNT 0", "-ERR syntax error\r\n"),
            (
                "SSCAN ints 0 COUNT x",
                "-ERR value is not an integer or out of range\r\n",
            ),
            ("SSCAN ints 0 COUNT", "-ERR syntax error\r\n"),
            ("SSCAN ints 0 TYPE set", "-ERR syntax error\r\n"),
            ("SADD mixed 1 a", ":2\r\n"),
            (
                "SSCAN mixed 0 MATCH *a* COUNT 100",
                "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n",
            ),
        ],
    );
    // A hash table in steps of COUNT, every member once.
    let members: Vec<String> = (0..100).map(|i| format!("m:{i}")).collect();
    call(&mut c, &format!("SADD big {}", members.join(" ")));
    let (mut cursor, mut seen, mut calls) = ("0".to_string(), Vec::new(), 0);
    loop {
        let reply = call(&mut c, &format!("SSCAN big {cursor} COUNT 7"));
        let [next, items] = reply.items() else {
            panic!("{reply:?}")
        };
        cursor = next.text();
        assert!(items.items().len() <= 7);
        seen.extend(items.items().iter().map(Frame::text));
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    assert!(calls > 1);
    seen.sort();
    let mut all = members.clone();
    all.sort();
    assert_eq!(seen, all);
}

#[test]
fn sscan_returns_members_present_throughout_despite_removals() {
    let (_s, mut c) = connect();
    for round in 0..20 {
        call(&mut c, "DEL s");
        call(&mut c, "SADD s x");
        let n = 150 + round * 37;
        let members: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        call(&mut c, &format!("SADD s {}", members.join(" ")));
        let removed: Vec<String> = (100..n).map(|i| i.to_string()).collect();
        let (mut cursor, mut seen, mut step) = ("0".to_string(), Vec::new(), 0);
        loop {
            let reply = call(&mut c, &format!("SSCAN s {cursor}"));
            cursor = reply.items()[0].text();
            seen.extend(reply.items()[1].items().iter().map(Frame::text));
            step += 1;
            if step == 1 + round % 5 {
                call(&mut c, &format!("SREM s {}", removed.join(" ")));
            }
            if step % 3 == 0 {
                call(&mut c, &format!("SADD s new{step}"));
            }
            if cursor == "0" {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(&i.to_string()), "round {round}: {i} missing");
        }
    }
}

#[test]
fn keyspace_events_name_each_change() {
    let (server, mut c) = connect();
    c.roundtrip(b"CONFIG SET notify-keyspace-events Esg\r\n", b"+OK\r\n");
    let mut sub = server.raw();
    sub.roundtrip(
        b"PSUBSCRIBE __keyevent@0__:*\r\n",
        b"*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n",
    );
    let script = [
        "SADD s a b c",
        "SADD s a",
        "SREM s nope",
        "SREM s a",
        "SPOP s 0",
        "SPOP s 1",
        "SMOVE s d nope",
        "SADD d x",
        "SMOVE s d x",
        "SADD s m",
        "SMOVE s d m",
        "SPOP s",
        "SADD s y",
        "SINTERSTORE i s s",
        "SUNIONSTORE u s d",
        "SDIFFSTORE df u s",
        "SINTERSTORE i s nokey",
        "SINTERSTORE i2 s nokey",
        "SPOP u 10",
    ];
    for request in script {
        let _ = call(&mut c, request);
    }
    let expected = [
        ("sadd", "s"),
        ("srem", "s"),
        ("spop", "s"),
        ("sadd", "d"),
        ("sadd", "s"),
        ("srem", "s"),
        ("sadd", "d"),
        ("spop", "s"),
        ("del", "s"),
        ("sadd", "s"),
        ("sinterstore", "i"),
        ("sunionstore", "u"),
        ("sdiffstore", "df"),
        ("del", "i"),
        ("spop", "u"),
        ("del", "u"),
    ];
    for (event, key) in expected {
        let channel = format!("__keyevent@0__:{event}");
        assert_eq!(
            sub.frame(),
            Frame::Array(vec![
                Frame::bulk("pmessage"),
                Frame::bulk("__keyevent@0__:*"),
                Frame::bulk(&channel),
                Frame::bulk(key),
            ]),
            "expected {event} {key}"
        );
    }
    assert!(sub.read_available(Duration::from_millis(100)).is_empty());
}

#[test]
fn smove_into_a_set_holding_the_member_keeps_a_watch_valid() {
    let (server, mut c) = connect();
    let mut other = server.raw();
    c.roundtrip(b"SADD src a b\r\nSADD dst a\r\n", b":2\r\n:1\r\n");
    c.roundtrip(b"WATCH dst\r\n", b"+OK\r\n");
    other.roundtrip(b"SMOVE src dst a\r\n", b":1\r\n");
    other.roundtrip(b"SADD dst a\r\n", b":0\r\n");
    other.roundtrip(b"SREM dst nope\r\n", b":0\r\n");
    c.roundtrip(
        b"MULTI\r\nSCARD dst\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n*1\r\n:1\r\n",
    );
    c.roundtrip(b"WATCH src\r\n", b"+OK\r\n");
    other.roundtrip(b"SMOVE src dst b\r\n", b":1\r\n");
    c.roundtrip(
        b"MULTI\r\nSCARD src\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n*-1\r\n",
    );
}

/// `used_memory_dataset` from INFO memory.
fn dataset_bytes(c: &mut Raw) -> u64 {
    let info = call(c, "INFO memory").text();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory_dataset:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{info}"))
}

#[test]
fn memory_accounting_follows_every_change() {
    let (_s, mut c) = connect();
    // Charges per entry and per member, as the store documents them.
    const ENTRY: u64 = 64;
    const MEMBER: u64 = 24;
    let expected = |keys: &[(&str, &[&str])]| -> u64 {
        keys.iter()
            .map(|(k, members)| {
                k.len() as u64
                    + ENTRY
                    + members.iter().map(|m| m.len() as u64 + MEMBER).sum::<u64>()
            })
            .sum()
    };
    assert_eq!(dataset_bytes(&mut c), 0);
    type Keys<'a> = &'a [(&'a str, &'a [&'a str])];
    let steps: &[(&str, Keys)] = &[
        ("SADD s aa bbb c", &[("s", &["aa", "bbb", "c"])]),
        ("SADD s dddd aa", &[("s", &["aa", "bbb", "c", "dddd"])]),
        ("SREM s bbb nope", &[("s", &["aa", "c", "dddd"])]),
        ("SMOVE s t dddd", &[("s", &["aa", "c"]), ("t", &["dddd"])]),
        (
            "SUNIONSTORE u s t",
            &[
                ("s", &["aa", "c"]),
                ("t", &["dddd"]),
                ("u", &["aa", "c", "dddd"]),
            ],
        ),
        ("DEL u t", &[("s", &["aa", "c"])]),
        ("SREM s aa c", &[]),
    ];
    for (request, keys) in steps {
        let _ = call(&mut c, request);
        assert_eq!(dataset_bytes(&mut c), expected(keys), "after {request}");
    }
    call(&mut c, "SADD p 1 2 3 4 5");
    call(&mut c, "SPOP p 2");
    call(&mut c, "SPOP p");
    assert_eq!(call(&mut c, "SCARD p"), Frame::Int(2));
    assert_eq!(dataset_bytes(&mut c), 1 + ENTRY + 2 * (1 + MEMBER));
    call(&mut c, "SPOP p 2");
    assert_eq!(dataset_bytes(&mut c), 0);
}

#[test]
fn generic_commands_see_sets() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("SADD s 1 2", ":2\r\n"),
            ("SADD h a", ":1\r\n"),
            ("TYPE s", "+set\r\n"),
            ("SET str x", "+OK\r\n"),
        ],
    );
    let keys = sorted(call(&mut c, "SCAN 0 TYPE set COUNT 100").items()[1].clone());
    assert_eq!(keys, strings(&["h", "s"]));
    table(
        &mut c,
        &[
            ("COPY s s2", ":1\r\n"),
            ("OBJECT ENCODING s2", "$6\r\nintset\r\n"),
            ("COPY h h2", ":1\r\n"),
            ("OBJECT ENCODING h2", "$9\r\nhashtable\r\n"),
            ("SADD s2 3", ":1\r\n"),
            ("SCARD s", ":2\r\n"),
            ("RENAME s2 s3", "+OK\r\n"),
            ("SMEMBERS s3", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            ("MOVE s3 1", ":1\r\n"),
            ("SELECT 1", "+OK\r\n"),
            ("SCARD s3", ":3\r\n"),
        ],
    );
}

// ---------------------------------------------------------------------------
// Differential: the same random sequence against a real redis-server
// ---------------------------------------------------------------------------

/// xorshift64: the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn pick(&mut self, from: &[&str]) -> String {
        from[self.below(from.len() as u64) as usize].to_string()
    }
}

/// A reply with the order of hash-table members taken out of it: arrays sorted.
fn normalised(frame: Frame) -> Frame {
    match frame {
        Frame::Array(items) => {
            let mut items: Vec<Frame> = items.into_iter().map(normalised).collect();
            items.sort_by_key(|f| format!("{f:?}"));
            Frame::Array(items)
        }
        other => other,
    }
}

#[test]
fn random_sequences_match_redis() {
    if !have("redis-server") {
        eprintln!("redis-server not installed: skipped");
        return;
    }
    let redis = common::RedisServer::start_with(&["--set-max-intset-entries", "16"]);
    let mut theirs = redis.raw();
    let server = Server::start(&[]);
    let mut ours = server.raw();
    ours.roundtrip(b"CONFIG SET set-max-intset-entries 16\r\n", b"+OK\r\n");
    let mut rng = Rng(0x5e75_0001);
    let keys = ["a", "b", "c", "str"];
    let members = ["1", "2", "3", "17", "-4", "x", "y", "01", "100", "z"];
    for c in [&mut theirs, &mut ours] {
        c.roundtrip(b"SET str v\r\n", b"+OK\r\n");
    }
    for step in 0..3000 {
        let mut args: Vec<String> = Vec::new();
        let op = rng.below(16);
        // SRANDMEMBER's replies are random: compared by size only. (SPOP is
        // left out: different pops would make the two keyspaces differ.)
        let mut size_only = false;
        match op {
            0..=3 => {
                args.extend(["SADD".into(), rng.pick(&keys)]);
                for _ in 0..=rng.below(4) {
                    args.push(rng.pick(&members));
                }
            }
            4 | 5 => {
                args.extend(["SREM".into(), rng.pick(&keys)]);
                for _ in 0..=rng.below(3) {
                    args.push(rng.pick(&members));
                }
            }
            6 => args.extend([
                "SMOVE".into(),
                rng.pick(&keys),
                rng.pick(&keys),
                rng.pick(&members),
            ]),
            7 | 8 => {
                let names = [
                    "SINTER",
                    "SUNION",
                    "SDIFF",
                    "SINTERSTORE",
                    "SUNIONSTORE",
                    "SDIFFSTORE",
                ];
                args.push(rng.pick(&names));
                for _ in 0..=rng.below(3) {
                    args.push(rng.pick(&keys));
                }
            }
            9 => args.extend(["OBJECT".into(), "ENCODING".into(), rng.pick(&keys)]),
            10 => args.extend(["SMEMBERS".into(), rng.pick(&keys)]),
            11 => args.extend([
                "SSCAN".into(),
                rng.pick(&keys),
                "0".into(),
                "COUNT".into(),
                "1000".into(),
            ]),
            12 => {
                args.extend(["SRANDMEMBER".into(), rng.pick(&keys)]);
                args.push((rng.below(9) as i64 - 4).to_string());
                size_only = true;
            }
            13 => {
                let (a, b) = (rng.pick(&keys), rng.pick(&keys));
                args.extend([
                    "SINTERCARD".into(),
                    "2".into(),
                    a,
                    b,
                    "LIMIT".into(),
                    rng.below(3).to_string(),
                ]);
            }
            14 => args.extend([
                "SMISMEMBER".into(),
                rng.pick(&keys),
                rng.pick(&members),
                rng.pick(&members),
            ]),
            _ => args.extend(["SCARD".into(), rng.pick(&keys)]),
        }
        let parts: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let request = multibulk(&parts);
        theirs.send(&request);
        ours.send(&request);
        let (want, got) = (theirs.frame(), ours.frame());
        if size_only {
            let size = |f: &Frame| match f {
                Frame::Array(v) => format!("array of {}", v.len()),
                Frame::Bulk(_) => "bulk".to_string(),
                other => format!("{other:?}"),
            };
            assert_eq!(size(&got), size(&want), "step {step}: {args:?}");
        } else {
            assert_eq!(normalised(got), normalised(want), "step {step}: {args:?}");
        }
    }
}
