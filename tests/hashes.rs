//! Hash commands at the wire: exact replies for every command, option and
//! error (tables recorded from redis-server 7.0.15), RESP3 shapes, the
//! listpack -> hashtable conversion and its limits, HRANDFIELD's counts,
//! HSCAN's guarantee, keyspace events, memory accounting, WATCH, and hashes
//! in the generic key commands (TYPE, SCAN TYPE, COPY, MOVE, RENAME, expiry).

mod common;

use std::collections::{HashMap, HashSet};

use common::{Frame, Raw, Server};

fn connect() -> (Server, Raw) {
    let server = Server::start(&[]);
    let raw = server.raw();
    (server, raw)
}

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

fn send(c: &mut Raw, request: &str) -> Frame {
    c.send(format!("{request}\r\n").as_bytes());
    c.frame()
}

fn texts(frame: &Frame) -> Vec<String> {
    frame.items().iter().map(Frame::text).collect()
}

fn int(frame: Frame) -> i64 {
    match frame {
        Frame::Int(n) => n,
        other => panic!("not an integer: {other:?}"),
    }
}

#[test]
fn reads_and_writes_answer_as_redis() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("HSET h f1 v1 f2 v2", ":2\r\n"),
            ("HSET h f1 x f3 v3", ":1\r\n"),
            ("HGET h f1", "$1\r\nx\r\n"),
            ("HGET h nofield", "$-1\r\n"),
            ("HGET nokey f", "$-1\r\n"),
            ("HMGET h f1 nofield f3", "*3\r\n$1\r\nx\r\n$-1\r\n$2\r\nv3\r\n"),
            ("HMGET nokey a b", "*2\r\n$-1\r\n$-1\r\n"),
            ("HLEN h", ":3\r\n"),
            ("HLEN nokey", ":0\r\n"),
            ("HSTRLEN h f3", ":2\r\n"),
            ("HSTRLEN h nofield", ":0\r\n"),
            ("HSTRLEN nokey f", ":0\r\n"),
            ("HEXISTS h f2", ":1\r\n"),
            ("HEXISTS h nofield", ":0\r\n"),
            ("HEXISTS nokey f", ":0\r\n"),
            ("HKEYS h", "*3\r\n$2\r\nf1\r\n$2\r\nf2\r\n$2\r\nf3\r\n"),
            ("HVALS h", "*3\r\n$1\r\nx\r\n$2\r\nv2\r\n$2\r\nv3\r\n"),
            ("HGETALL h", "*6\r\n$2\r\nf1\r\n$1\r\nx\r\n$2\r\nf2\r\n$2\r\nv2\r\n$2\r\nf3\r\n$2\r\nv3\r\n"),
            ("HKEYS nokey", "*0\r\n"),
            ("HVALS nokey", "*0\r\n"),
            ("HGETALL nokey", "*0\r\n"),
            ("HSETNX h f1 y", ":0\r\n"),
            ("HSETNX h f4 v4", ":1\r\n"),
            ("HSETNX new a b", ":1\r\n"),
            ("HMSET h f5 v5 f1 z", "+OK\r\n"),
            ("HGETALL h", "*10\r\n$2\r\nf1\r\n$1\r\nz\r\n$2\r\nf2\r\n$2\r\nv2\r\n$2\r\nf3\r\n$2\r\nv3\r\n$2\r\nf4\r\n$2\r\nv4\r\n$2\r\nf5\r\n$2\r\nv5\r\n"),
            ("HDEL h f2 nofield f2", ":1\r\n"),
            ("HDEL h nofield", ":0\r\n"),
            ("HDEL nokey f", ":0\r\n"),
            ("HKEYS h", "*4\r\n$2\r\nf1\r\n$2\r\nf3\r\n$2\r\nf4\r\n$2\r\nf5\r\n"),
            ("HSET h a", "-ERR wrong number of arguments for 'hset' command\r\n"),
            ("HMSET h a b c", "-ERR wrong number of arguments for 'hmset' command\r\n"),
            ("HSET h", "-ERR wrong number of arguments for 'hset' command\r\n"),
            ("HSETNX h a", "-ERR wrong number of arguments for 'hsetnx' command\r\n"),
            ("HDEL h", "-ERR wrong number of arguments for 'hdel' command\r\n"),
            ("HGET h", "-ERR wrong number of arguments for 'hget' command\r\n"),
            ("HMGET h", "-ERR wrong number of arguments for 'hmget' command\r\n"),
            ("HLEN", "-ERR wrong number of arguments for 'hlen' command\r\n"),
            ("TYPE h", "+hash\r\n"),
            ("OBJECT ENCODING h", "$8\r\nlistpack\r\n"),
            ("HDEL new a", ":1\r\n"),
            ("EXISTS new", ":0\r\n"),
            ("HDEL h f1 f3 f4 f5 zz", ":4\r\n"),
            ("EXISTS h", ":0\r\n"),
        ],
    );
}

#[test]
fn increments_parse_overflow_and_format_as_redis() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("HINCRBY h n 5", ":5\r\n"),
            ("HINCRBY h n -7", ":-2\r\n"),
            (
                "HINCRBY h n 9223372036854775807",
                ":9223372036854775805\r\n",
            ),
            (
                "HSET h big 9223372036854775807 neg -9223372036854775808 sp \" 1\" lz 01 s abc",
                ":5\r\n",
            ),
            (
                "HINCRBY h big 1",
                "-ERR increment or decrement would overflow\r\n",
            ),
            (
                "HINCRBY h neg -1",
                "-ERR increment or decrement would overflow\r\n",
            ),
            ("HINCRBY h big 0", ":9223372036854775807\r\n"),
            ("HINCRBY h sp 1", "-ERR hash value is not an integer\r\n"),
            ("HINCRBY h lz 1", "-ERR hash value is not an integer\r\n"),
            ("HINCRBY h s 1", "-ERR hash value is not an integer\r\n"),
            (
                "HINCRBY h n x",
                "-ERR value is not an integer or out of range\r\n",
            ),
            (
                "HINCRBY h n 1.5",
                "-ERR value is not an integer or out of range\r\n",
            ),
            (
                "HINCRBY h n 9223372036854775808",
                "-ERR value is not an integer or out of range\r\n",
            ),
            ("HINCRBYFLOAT h f 10.5", "$4\r\n10.5\r\n"),
            ("HINCRBYFLOAT h f 0.1", "$4\r\n10.6\r\n"),
            ("HINCRBYFLOAT h f -10.6", "$1\r\n0\r\n"),
            ("HINCRBYFLOAT h f 1.23", "$4\r\n1.23\r\n"),
            ("HINCRBYFLOAT h f 0.77", "$1\r\n2\r\n"),
            ("HINCRBYFLOAT h f -0.1", "$3\r\n1.9\r\n"),
            ("HINCRBYFLOAT h f 1e3", "$22\r\n1001.90000000000000002\r\n"),
            (
                "HINCRBYFLOAT h f abc",
                "-ERR value is not a valid float\r\n",
            ),
            ("HINCRBYFLOAT h f +inf", "-ERR value is NaN or Infinity\r\n"),
            ("HINCRBYFLOAT h f -inf", "-ERR value is NaN or Infinity\r\n"),
            (
                "HINCRBYFLOAT h f nan",
                "-ERR value is not a valid float\r\n",
            ),
            ("HINCRBYFLOAT h s 1", "-ERR hash value is not a float\r\n"),
            ("HINCRBYFLOAT h sp 1", "-ERR hash value is not a float\r\n"),
            ("HINCRBYFLOAT h n 2.5", "$21\r\n9223372036854775807.5\r\n"),
            ("HSET h huge 1e4932", ":1\r\n"),
            (
                "HINCRBYFLOAT h huge 1e4932",
                "-ERR increment would produce NaN or Infinity\r\n",
            ),
            ("HGET h f", "$22\r\n1001.90000000000000002\r\n"),
            ("HINCRBYFLOAT nokey x 5.0e3", "$4\r\n5000\r\n"),
            ("HINCRBYFLOAT nokey2 x 0x10", "$2\r\n16\r\n"),
            ("SET str v", "+OK\r\n"),
            (
                "HINCRBY str f 1",
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            (
                "HINCRBYFLOAT str f 1",
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            (
                "HINCRBY str f x",
                "-ERR value is not an integer or out of range\r\n",
            ),
            (
                "HINCRBYFLOAT str f x",
                "-ERR value is not a valid float\r\n",
            ),
            (
                "HINCRBYFLOAT str f inf",
                "-ERR value is NaN or Infinity\r\n",
            ),
        ],
    );
}

#[test]
fn options_errors_wrongtype_and_encodings_as_redis() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("HSET h a 1 b 2 c 3", ":3\r\n"),
            ("HRANDFIELD h 0", "*0\r\n"),
            ("HRANDFIELD h 0 WITHVALUES", "*0\r\n"),
            ("HRANDFIELD nokey", "$-1\r\n"),
            ("HRANDFIELD nokey 5", "*0\r\n"),
            ("HRANDFIELD nokey 5 withvalues", "*0\r\n"),
            ("HRANDFIELD nokey -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
            ("HRANDFIELD h -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
            ("HRANDFIELD h 9223372036854775807 withvalues", "-ERR value is out of range\r\n"),
            ("HRANDFIELD h -4611686018427387904 withvalues", "-ERR value is out of range\r\n"),
            ("HRANDFIELD h 4611686018427387904 withvalues", "-ERR value is out of range\r\n"),
            ("HRANDFIELD h 1.5", "-ERR value is not an integer or out of range\r\n"),
            ("HRANDFIELD h 3 withvalue", "-ERR syntax error\r\n"),
            ("HRANDFIELD h 3 withvalues extra", "-ERR syntax error\r\n"),
            ("HRANDFIELD h x withvalues", "-ERR value is not an integer or out of range\r\n"),
            ("HRANDFIELD nokey x", "-ERR value is not an integer or out of range\r\n"),
            ("HRANDFIELD nokey 3 junk", "-ERR syntax error\r\n"),
            ("HRANDFIELD h 10 WITHVALUES", "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            ("HSCAN h 0", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            ("HSCAN h 0 MATCH b*", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("HSCAN h 0 MATCH * COUNT 1", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            ("HSCAN h 0 COUNT 0", "-ERR syntax error\r\n"),
            ("HSCAN h 0 COUNT x", "-ERR value is not an integer or out of range\r\n"),
            ("HSCAN h 0 COUNT", "-ERR syntax error\r\n"),
            ("HSCAN h 0 TYPE hash", "-ERR syntax error\r\n"),
            ("HSCAN h x", "-ERR invalid cursor\r\n"),
            ("HSCAN nokey 0 COUNT 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
            ("HSCAN nokey x", "-ERR invalid cursor\r\n"),
            ("HSET s \"\" empty", ":1\r\n"),
            ("HSCAN s 0 MATCH *", "*2\r\n$1\r\n0\r\n*2\r\n$0\r\n\r\n$5\r\nempty\r\n"),
            ("HSCAN s 0 MATCH \"\"", "*2\r\n$1\r\n0\r\n*2\r\n$0\r\n\r\n$5\r\nempty\r\n"),
            ("SET str v", "+OK\r\n"),
            ("HSCAN str 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HSCAN str 0 COUNT 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HSET str a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HSETNX str a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HGET str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HMGET str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HDEL str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HLEN str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HSTRLEN str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HEXISTS str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HKEYS str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HVALS str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HGETALL str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HRANDFIELD str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HRANDFIELD str 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HRANDFIELD str x", "-ERR value is not an integer or out of range\r\n"),
            ("HMSET str a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("CONFIG SET hash-max-ziplist-entries 2", "+OK\r\n"),
            ("CONFIG GET hash-max-listpack-entries", "*2\r\n$25\r\nhash-max-listpack-entries\r\n$1\r\n2\r\n"),
            ("HSET e a 1 b 2", ":2\r\n"),
            ("OBJECT ENCODING e", "$8\r\nlistpack\r\n"),
            ("HSET e c 3", ":1\r\n"),
            ("OBJECT ENCODING e", "$9\r\nhashtable\r\n"),
            ("HDEL e a b", ":2\r\n"),
            ("OBJECT ENCODING e", "$9\r\nhashtable\r\n"),
            ("CONFIG SET hash-max-ziplist-entries 512", "+OK\r\n"),
            ("CONFIG SET hash-max-listpack-value 3", "+OK\r\n"),
            ("HSET v abc 123", ":1\r\n"),
            ("OBJECT ENCODING v", "$8\r\nlistpack\r\n"),
            ("HSET v abcd 1", ":1\r\n"),
            ("OBJECT ENCODING v", "$9\r\nhashtable\r\n"),
            ("HSET w a 1 b 2 c 1234", ":3\r\n"),
            ("OBJECT ENCODING w", "$9\r\nhashtable\r\n"),
            ("HINCRBY x n 999", ":999\r\n"),
            ("OBJECT ENCODING x", "$8\r\nlistpack\r\n"),
            ("HINCRBY x n 1", ":1000\r\n"),
            ("OBJECT ENCODING x", "$9\r\nhashtable\r\n"),
            ("HSETNX y abcd 1", ":1\r\n"),
            ("OBJECT ENCODING y", "$9\r\nhashtable\r\n"),
            ("CONFIG SET hash-max-listpack-value 64", "+OK\r\n"),
            ("CONFIG SET hash-max-listpack-entries 0", "+OK\r\n"),
            ("HSET z a 1", ":1\r\n"),
            ("OBJECT ENCODING z", "$9\r\nhashtable\r\n"),
            ("CONFIG SET hash-max-listpack-entries 512", "+OK\r\n"),
        ],
    );
}

#[test]
fn resp3_shapes() {
    let (_s, mut c) = connect();
    c.roundtrip(b"HSET h a 1 b 2\r\n", b":2\r\n");
    let _ = send(&mut c, "HELLO 3");
    table(
        &mut c,
        &[
            (
                "HGETALL h",
                "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            ("HGETALL nokey", "%0\r\n"),
            ("HKEYS nokey", "*0\r\n"),
            ("HGET h nofield", "_\r\n"),
            ("HMGET h a nofield", "*2\r\n$1\r\n1\r\n_\r\n"),
            ("HRANDFIELD nokey", "_\r\n"),
            ("HRANDFIELD nokey 3 WITHVALUES", "*0\r\n"),
            ("HRANDFIELD h 0 WITHVALUES", "*0\r\n"),
            (
                "HRANDFIELD h 5 WITHVALUES",
                "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            ("HSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
        ],
    );
    // Negative counts: |count| [field, value] pairs; without values, flat.
    let pairs = send(&mut c, "HRANDFIELD h -5 WITHVALUES");
    assert_eq!(pairs.items().len(), 5);
    for pair in pairs.items() {
        let fv = texts(pair);
        assert!(fv == ["a", "1"] || fv == ["b", "2"], "{fv:?}");
    }
    let fields = send(&mut c, "HRANDFIELD h -5");
    assert!(texts(&fields).iter().all(|f| f == "a" || f == "b"));
    let one = send(&mut c, "HRANDFIELD h 1 WITHVALUES");
    assert_eq!(one.items().len(), 1);
    assert_eq!(one.items()[0].items().len(), 2);
}

/// A hash of `n` fields `f0..` with values `v0..` (a hash table past 512).
fn fill(c: &mut Raw, key: &str, n: usize) {
    let mut request = format!("HSET {key}");
    for i in 0..n {
        request.push_str(&format!(" f{i} v{i}"));
    }
    assert_eq!(send(c, &request), Frame::Int(n as i64));
}

#[test]
fn hrandfield_counts_over_both_encodings() {
    let (_s, mut c) = connect();
    fill(&mut c, "small", 10);
    fill(&mut c, "big", 600);
    assert_eq!(send(&mut c, "OBJECT ENCODING small").text(), "listpack");
    assert_eq!(send(&mut c, "OBJECT ENCODING big").text(), "hashtable");
    for (key, len) in [("small", 10usize), ("big", 600)] {
        let value_of = |f: &str| format!("v{}", &f[1..]);
        // Positive: distinct fields, at most the hash; every size path.
        for count in [1, 2, len / 3, len / 2, len - 1, len, len + 5] {
            let got = texts(&send(&mut c, &format!("HRANDFIELD {key} {count}")));
            assert_eq!(got.len(), count.min(len), "{key} {count}");
            let distinct: HashSet<&String> = got.iter().collect();
            assert_eq!(distinct.len(), got.len(), "{key} {count} repeats");
            let flat = texts(&send(
                &mut c,
                &format!("HRANDFIELD {key} {count} WITHVALUES"),
            ));
            assert_eq!(flat.len(), 2 * count.min(len));
            for fv in flat.chunks(2) {
                assert_eq!(fv[1], value_of(&fv[0]));
            }
        }
        // Negative: exactly |count|, repeats allowed, and every field shows up.
        let got = texts(&send(&mut c, &format!("HRANDFIELD {key} -5000")));
        assert_eq!(got.len(), 5000);
        let seen: HashSet<&String> = got.iter().collect();
        assert!(seen.len() > len * 9 / 10, "{key}: {} of {len}", seen.len());
        let flat = texts(&send(&mut c, &format!("HRANDFIELD {key} -7 WITHVALUES")));
        assert_eq!(flat.len(), 14);
        for fv in flat.chunks(2) {
            assert_eq!(fv[1], value_of(&fv[0]));
        }
        let one = send(&mut c, &format!("HRANDFIELD {key}")).text();
        assert!(one.starts_with('f'));
    }
    // A count whose reply could not be built is refused, and the server lives on.
    table(
        &mut c,
        &[
            (
                "HRANDFIELD small -9223372036854775807",
                "-ERR value is out of range\r\n",
            ),
            (
                "HRANDFIELD small -4611686018427387903 WITHVALUES",
                "-ERR value is out of range\r\n",
            ),
            ("HLEN small", ":10\r\n"),
        ],
    );
}

#[test]
fn hscan_returns_every_stable_field_of_a_hash_table() {
    let (_s, mut c) = connect();
    fill(&mut c, "h", 1000);
    assert_eq!(send(&mut c, "OBJECT ENCODING h").text(), "hashtable");
    let mut seen: HashMap<String, String> = HashMap::new();
    let (mut cursor, mut round) = ("0".to_string(), 0);
    loop {
        let reply = send(&mut c, &format!("HSCAN h {cursor} COUNT 25"));
        let items = reply.items();
        cursor = items[0].text();
        let fv = texts(&items[1]);
        assert!(fv.len() <= 50, "about COUNT fields per call");
        for pair in fv.chunks(2) {
            seen.insert(pair[0].clone(), pair[1].clone());
        }
        // Change the hash while the scan is under way: delete odd fields,
        // add new ones.
        let _ = send(&mut c, &format!("HDEL h f{}", 2 * round + 1));
        let _ = send(&mut c, &format!("HSET h new{round} x"));
        round += 1;
        if cursor == "0" {
            break;
        }
    }
    for i in (0..1000).filter(|i| i % 2 == 0 || *i > 2 * round + 1) {
        assert_eq!(
            seen.get(&format!("f{i}")),
            Some(&format!("v{i}")),
            "f{i} missed"
        );
    }
    // MATCH filters fields (and drops their values).
    let reply = send(&mut c, "HSCAN h 0 MATCH f99? COUNT 100000");
    let mut fields: Vec<String> = texts(&reply.items()[1]).into_iter().step_by(2).collect();
    fields.sort();
    let expected: Vec<String> = (990..1000).map(|i| format!("f{i}")).collect();
    assert_eq!(
        fields,
        expected,
        "only f1, f3 ... f{} were deleted",
        2 * round - 1
    );
}

#[test]
fn conversion_limits_follow_config_set_and_never_go_back() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            (
                "CONFIG GET hash-max-listpack-entries",
                "*2\r\n$25\r\nhash-max-listpack-entries\r\n$3\r\n512\r\n",
            ),
            (
                "CONFIG GET hash-max-ziplist-value",
                "*2\r\n$22\r\nhash-max-ziplist-value\r\n$2\r\n64\r\n",
            ),
        ],
    );
    fill(&mut c, "h", 512);
    assert_eq!(send(&mut c, "OBJECT ENCODING h").text(), "listpack");
    let _ = send(&mut c, "HSET h one more");
    assert_eq!(send(&mut c, "OBJECT ENCODING h").text(), "hashtable");
    let _ = send(&mut c, "HDEL h one f1 f2 f3");
    assert_eq!(send(&mut c, "OBJECT ENCODING h").text(), "hashtable");
    // A 65-byte value converts at once, before the write.
    let long = "x".repeat(65);
    let _ = send(&mut c, &format!("HSET v a 1 b {long}"));
    assert_eq!(send(&mut c, "OBJECT ENCODING v").text(), "hashtable");
    assert_eq!(send(&mut c, "HGET v b").text(), long);
    // HINCRBYFLOAT: the new value's length counts (Redis's hashTypeSet check).
    table(
        &mut c,
        &[
            ("CONFIG SET hash-max-listpack-value 8", "+OK\r\n"),
            ("HSET s tmp 0", ":1\r\n"),
            ("HINCRBYFLOAT s tmp 0.000005", "$8\r\n0.000005\r\n"),
            ("OBJECT ENCODING s", "$8\r\nlistpack\r\n"),
            ("HINCRBYFLOAT s tmp 0.0000005", "$9\r\n0.0000055\r\n"),
            ("OBJECT ENCODING s", "$9\r\nhashtable\r\n"),
            ("CONFIG SET hash-max-ziplist-entries 1", "+OK\r\n"),
            ("HSETNX n a 1", ":1\r\n"),
            ("OBJECT ENCODING n", "$8\r\nlistpack\r\n"),
            ("HSETNX n b 1", ":1\r\n"),
            ("OBJECT ENCODING n", "$9\r\nhashtable\r\n"),
        ],
    );
}

#[test]
fn keyspace_events_name_each_change() {
    let (server, mut c) = connect();
    c.roundtrip(b"CONFIG SET notify-keyspace-events Egh\r\n", b"+OK\r\n");
    let mut sub = server.raw();
    sub.roundtrip(
        b"PSUBSCRIBE __keyevent@0__:*\r\n",
        b"*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n",
    );
    let script = [
        "HSET h a 1",
        "HMSET h b 2",
        "HSETNX h a 9",
        "HSETNX h c 3",
        "HINCRBY h n 1",
        "HINCRBY h a x",
        "HINCRBYFLOAT h n 0.5",
        "HDEL h nothere",
        "HDEL h a b",
        "HGET h c",
        "HDEL h c n",
    ];
    for request in script {
        let _ = send(&mut c, request);
    }
    let expected = [
        ("hset", "h"),
        ("hset", "h"),
        ("hset", "h"),
        ("hincrby", "h"),
        ("hincrbyfloat", "h"),
        ("hdel", "h"),
        ("hdel", "h"),
        ("del", "h"),
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
    assert!(sub
        .read_available(std::time::Duration::from_millis(100))
        .is_empty());
}

/// `used_memory_dataset` from INFO memory.
fn dataset_bytes(c: &mut Raw) -> i64 {
    let info = send(c, "INFO memory").text();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory_dataset:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{info}"))
}

#[test]
fn memory_accounting_follows_every_change() {
    let (_s, mut c) = connect();
    assert_eq!(dataset_bytes(&mut c), 0);
    let long = "y".repeat(100);
    let steps = [
        "HSET h a 1 bb 22".to_string(),
        "HSET h a 111111 ccc 3".into(),
        "HSETNX h d 4".into(),
        "HINCRBY h a 5".into(),
        "HINCRBYFLOAT h d 0.25".into(),
        "HDEL h bb".into(),
        format!("HSET h long {long}"),
        "HSET h a 2".into(),
        "HDEL h long ccc".into(),
        "HINCRBY h z 1".into(),
    ];
    for step in &steps {
        let _ = send(&mut c, step);
        // The running charge equals a fresh measure of the same hash (a COPY
        // is charged from scratch) and is what INFO counts.
        let _ = send(&mut c, "COPY h g REPLACE");
        let running = int(send(&mut c, "MEMORY USAGE h"));
        let fresh = int(send(&mut c, "MEMORY USAGE g"));
        assert_eq!(running, fresh, "after {step}");
        assert_eq!(dataset_bytes(&mut c), running + fresh, "after {step}");
        let _ = send(&mut c, "DEL g");
    }
    // A hash grows by about its data: 1000 fields of 20 bytes, under 100 KB.
    fill(&mut c, "big", 1000);
    let big = int(send(&mut c, "MEMORY USAGE big"));
    assert!((20_000..100_000).contains(&big), "{big}");
    let _ = send(&mut c, "HDEL h a d z");
    let _ = send(&mut c, "UNLINK big");
    assert_eq!(dataset_bytes(&mut c), 0);
    assert_eq!(send(&mut c, "MEMORY USAGE nokey"), Frame::Null);
}

#[test]
fn watch_sees_hash_changes_but_not_failed_ones() {
    let (server, mut c) = connect();
    let mut other = server.raw();
    c.roundtrip(b"HSET h a 1 s x\r\n", b":2\r\n");
    // Nothing changes: an existing field for HSETNX, missing fields, a bad increment.
    c.roundtrip(b"WATCH h\r\n", b"+OK\r\n");
    other.roundtrip(b"HSETNX h a 2\r\n", b":0\r\n");
    other.roundtrip(b"HDEL h nothere\r\n", b":0\r\n");
    other.roundtrip(
        b"HINCRBY h s 1\r\n",
        b"-ERR hash value is not an integer\r\n",
    );
    other.roundtrip(b"HGET h a\r\n", b"$1\r\n1\r\n");
    c.roundtrip(
        b"MULTI\r\nHLEN h\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n*1\r\n:2\r\n",
    );
    for change in ["HSET h a 1", "HINCRBY h a 1", "HDEL h s", "HDEL h a"] {
        c.roundtrip(b"WATCH h\r\n", b"+OK\r\n");
        let _ = send(&mut other, change);
        c.roundtrip(b"MULTI\r\nHLEN h\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
    }
}

#[test]
fn generic_key_commands_carry_hashes() {
    let (_s, mut c) = connect();
    fill(&mut c, "big", 600);
    table(
        &mut c,
        &[
            ("HSET h a 1 b 2", ":2\r\n"),
            ("SET s x", "+OK\r\n"),
            ("TYPE h", "+hash\r\n"),
        ],
    );
    let mut keys = texts(&send(&mut c, "SCAN 0 TYPE hash COUNT 1000").items()[1]);
    keys.sort();
    assert_eq!(keys, ["big", "h"]);
    table(
        &mut c,
        &[
            ("COPY h h2", ":1\r\n"),
            ("HSET h2 c 3", ":1\r\n"),
            (
                "HGETALL h",
                "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            (
                "HGETALL h2",
                "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
            ),
            ("COPY big big2", ":1\r\n"),
            ("OBJECT ENCODING big2", "$9\r\nhashtable\r\n"),
            ("HLEN big2", ":600\r\n"),
            ("RENAME h2 h3", "+OK\r\n"),
            ("HGET h3 c", "$1\r\n3\r\n"),
            ("EXISTS h2", ":0\r\n"),
            ("MOVE h3 1", ":1\r\n"),
            ("SELECT 1", "+OK\r\n"),
            (
                "HGETALL h3",
                "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
            ),
            ("SELECT 0", "+OK\r\n"),
            ("PEXPIRE h 1", ":1\r\n"),
        ],
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    table(
        &mut c,
        &[
            ("HGET h a", "$-1\r\n"),
            ("HLEN h", ":0\r\n"),
            ("HSET h x 1", ":1\r\n"),
            ("TTL h", ":-1\r\n"),
            (
                "HSET s a b",
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            (
                "GET h",
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            (
                "LPUSH h x",
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
        ],
    );
}

#[test]
fn binary_fields_and_values_round_trip() {
    let (_s, mut c) = connect();
    let field: &[u8] = b"f\x00\r\n\xff";
    let value: &[u8] = b"\x00\x01\r\nv";
    let empty: &[u8] = b"";
    let long = vec![b'z'; 70_000];
    c.cmd(&[b"HSET", b"h", field, value, empty, empty, b"long", &long]);
    assert_eq!(c.frame(), Frame::Int(3));
    c.cmd(&[b"HGET", b"h", field]);
    assert_eq!(c.frame(), Frame::Bulk(value.to_vec()));
    c.cmd(&[b"HGET", b"h", empty]);
    assert_eq!(c.frame(), Frame::Bulk(Vec::new()));
    c.cmd(&[b"HSTRLEN", b"h", b"long"]);
    assert_eq!(c.frame(), Frame::Int(70_000));
    c.cmd(&[b"HEXISTS", b"h", empty]);
    assert_eq!(c.frame(), Frame::Int(1));
}

#[test]
fn command_info_rows() {
    let (_s, mut c) = connect();
    let reply = send(
        &mut c,
        "COMMAND INFO hset hgetall hrandfield hscan hincrbyfloat",
    );
    let rows = reply.items();
    assert_eq!(rows.len(), 5);
    let arity: Vec<i64> = rows.iter().map(|r| int(r.items()[1].clone())).collect();
    assert_eq!(arity, [-4, 2, -2, -3, 4]);
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

/// A reply without the order a hash table gives its fields: arrays sorted
/// (HGETALL's flat field-value list sorted as pairs, so pairs stay paired).
fn without_order(frame: Frame, pairs: bool) -> Frame {
    match frame {
        Frame::Array(items) if pairs => {
            let mut chunks: Vec<Vec<Frame>> = items.chunks(2).map(<[Frame]>::to_vec).collect();
            chunks.sort_by_key(|c| format!("{c:?}"));
            Frame::Array(chunks.into_iter().flatten().collect())
        }
        Frame::Array(mut items) => {
            items.sort_by_key(|f| format!("{f:?}"));
            Frame::Array(items)
        }
        other => other,
    }
}

#[test]
fn random_sequences_match_redis() {
    if !common::have("redis-server") {
        eprintln!("redis-server not installed: skipped");
        return;
    }
    // Small limits, so both conversions to a hash table happen often.
    let limits = [
        "--hash-max-listpack-entries",
        "6",
        "--hash-max-listpack-value",
        "12",
    ];
    let redis = common::RedisServer::start_with(&limits);
    let mut theirs = redis.raw();
    let server = Server::start(&[]);
    let mut ours = server.raw();
    ours.roundtrip(
        b"CONFIG SET hash-max-listpack-entries 6 hash-max-listpack-value 12\r\n",
        b"+OK\r\n",
    );
    let mut rng = Rng(0x4a54_0001);
    let keys = ["h1", "h2", "h3", "str"];
    let fields = ["a", "b", "c", "d", "e", "f", "g", "n", "long-field-name-x"];
    let values = [
        "1",
        "-7",
        "x",
        "",
        "3.5",
        "99999999999",
        "a-value-longer-than-12",
    ];
    for c in [&mut theirs, &mut ours] {
        c.roundtrip(b"SET str v\r\n", b"+OK\r\n");
    }
    for step in 0..4000 {
        let mut args: Vec<String> = Vec::new();
        // HRANDFIELD's replies are random: compared by size only.
        let (mut size_only, mut pairs) = (false, false);
        match rng.below(20) {
            0..=4 => {
                args.extend(["HSET".into(), rng.pick(&keys)]);
                for _ in 0..=rng.below(3) {
                    args.push(rng.pick(&fields));
                    args.push(rng.pick(&values));
                }
            }
            5 => args.extend([
                "HSETNX".into(),
                rng.pick(&keys),
                rng.pick(&fields),
                rng.pick(&values),
            ]),
            6 | 7 => {
                args.extend(["HDEL".into(), rng.pick(&keys)]);
                for _ in 0..=rng.below(3) {
                    args.push(rng.pick(&fields));
                }
            }
            8 => args.extend(["HGET".into(), rng.pick(&keys), rng.pick(&fields)]),
            9 => {
                args.extend(["HMGET".into(), rng.pick(&keys)]);
                for _ in 0..=rng.below(3) {
                    args.push(rng.pick(&fields));
                }
            }
            10 => args.extend(["HLEN".into(), rng.pick(&keys)]),
            11 => args.extend(["HSTRLEN".into(), rng.pick(&keys), rng.pick(&fields)]),
            12 => args.extend(["HEXISTS".into(), rng.pick(&keys), rng.pick(&fields)]),
            13 => args.extend([
                "HINCRBY".into(),
                rng.pick(&keys),
                rng.pick(&fields),
                rng.pick(&["1", "-3", "x", "9223372036854775807"]),
            ]),
            14 => args.extend([
                "HINCRBYFLOAT".into(),
                rng.pick(&keys),
                rng.pick(&fields),
                rng.pick(&["1.5", "-0.25", "x", "1e3"]),
            ]),
            15 => args.extend([rng.pick(&["HKEYS", "HVALS"]), rng.pick(&keys)]),
            16 => {
                pairs = true;
                args.extend(["HGETALL".into(), rng.pick(&keys)]);
            }
            17 => args.extend(["OBJECT".into(), "ENCODING".into(), rng.pick(&keys)]),
            18 => {
                size_only = true;
                args.extend([
                    "HRANDFIELD".into(),
                    rng.pick(&keys),
                    rng.pick(&["2", "-3", "10"]),
                ]);
            }
            _ => args.extend([rng.pick(&["DEL", "TYPE", "EXISTS"]), rng.pick(&keys)]),
        }
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        theirs.cmd(&argv);
        ours.cmd(&argv);
        let (want, got) = (theirs.frame(), ours.frame());
        if size_only {
            let len = |f: &Frame| match f {
                Frame::Array(items) => Some(items.len()),
                _ => None,
            };
            assert_eq!(len(&got), len(&want), "step {step}: {args:?}");
        } else {
            assert_eq!(
                without_order(got, pairs),
                without_order(want, pairs),
                "step {step}: {args:?}"
            );
        }
    }
}
