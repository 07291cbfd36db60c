//! Sorted set commands at the wire: exact replies for every command, option and
//! error (checked against redis-server 7.0), scores printed as `%.17g`, RESP3
//! shapes, encodings and the zset-max-listpack-* limits, stores and
//! aggregates, emptied sets disappearing, keyspace events, blocking pops, and
//! a differential run of random commands against a real redis-server.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{have, Frame, Raw, Server};

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

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn zadd_options_and_replies() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("ZADD z 1 a 2 b 3 c", ":3\r\n"),
            ("ZADD z 1 a", ":0\r\n"),
            ("ZADD z CH 5 a 2 b 9 d", ":2\r\n"),
            ("ZADD z NX 100 a 4 e", ":1\r\n"),
            ("ZSCORE z a", "$1\r\n5\r\n"),
            ("ZADD z XX 7 a 8 nope", ":0\r\n"),
            ("ZSCORE z a", "$1\r\n7\r\n"),
            ("ZSCORE z nope", "$-1\r\n"),
            ("ZADD z GT CH 6 a 8 b", ":1\r\n"),
            ("ZADD z LT CH 6 a 9 b", ":1\r\n"),
            ("ZADD z INCR 1.5 a", "$3\r\n7.5\r\n"),
            ("ZADD z INCR NX 1 a", "$-1\r\n"),
            ("ZADD z INCR GT -1 a", "$-1\r\n"),
            ("ZINCRBY z 0.1 new", "$19\r\n0.10000000000000001\r\n"),
            ("ZADD z XX 1 missing", ":0\r\n"),
            ("ZADD nokey XX 1 a", ":0\r\n"),
            ("EXISTS nokey", ":0\r\n"),
            ("ZADD nokey XX INCR 1 a", "$-1\r\n"),
            ("ZCARD z", ":6\r\n"),
        ],
    );
}

#[test]
fn zadd_and_range_errors_are_redis_texts() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("ZADD z NX 1", "-ERR syntax error\r\n"),
            ("ZADD z NX 1 a 2", "-ERR syntax error\r\n"),
            (
                "ZADD z NX XX 1 a",
                "-ERR XX and NX options at the same time are not compatible\r\n",
            ),
            (
                "ZADD z GT LT 1 a",
                "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n",
            ),
            (
                "ZADD z NX GT 1 a",
                "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n",
            ),
            (
                "ZADD z INCR 1 a 2 b",
                "-ERR INCR option supports a single increment-element pair\r\n",
            ),
            ("ZADD z nan a", "-ERR value is not a valid float\r\n"),
            ("ZADD z 1 a x b", "-ERR value is not a valid float\r\n"),
            ("EXISTS z", ":0\r\n"),
            ("ZADD z +inf a", ":1\r\n"),
            (
                "ZINCRBY z -inf a",
                "-ERR resulting score is not a number (NaN)\r\n",
            ),
            ("ZSCORE z a", "$3\r\ninf\r\n"),
            ("ZRANGEBYSCORE z a 1", "-ERR min or max is not a float\r\n"),
            ("ZCOUNT z 1 (x", "-ERR min or max is not a float\r\n"),
            (
                "ZRANGEBYLEX z a b",
                "-ERR min or max not valid string range item\r\n",
            ),
            (
                "ZLEXCOUNT z [a +x",
                "-ERR min or max not valid string range item\r\n",
            ),
            (
                "ZRANGE z 0 1 LIMIT 0 1",
                "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n",
            ),
            (
                "ZRANGE z - + BYLEX WITHSCORES",
                "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n",
            ),
            ("ZRANGE z 0 1 BYSCORE BYLEX", "-ERR syntax error\r\n"),
            ("ZREVRANGE z 0 1 REV", "-ERR syntax error\r\n"),
            ("ZRANGE z a 1", "-ERR value is not an integer or out of range\r\n"),
            ("SET s x", "+OK\r\n"),
            ("ZADD s 1 a", WRONGTYPE),
            ("ZRANGE s 0 -1", WRONGTYPE),
            ("ZSCORE s a", WRONGTYPE),
            ("ZCARD s", WRONGTYPE),
            ("ZPOPMIN s", WRONGTYPE),
            ("ZUNIONSTORE d 1 s", WRONGTYPE),
            ("LPUSH l a", ":1\r\n"),
            ("ZRANGE l 0 -1", WRONGTYPE),
        ],
    );
}

#[test]
fn ranges_by_rank_score_and_lex() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("ZADD z -inf a 1 b 2 c 3 d 4 e 5 f +inf g", ":7\r\n"),
            ("ZRANGE z 0 1", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            (
                "ZRANGE z -2 -1 WITHSCORES",
                "*4\r\n$1\r\nf\r\n$1\r\n5\r\n$1\r\ng\r\n$3\r\ninf\r\n",
            ),
            ("ZRANGE z 5 100 REV", "*2\r\n$1\r\nb\r\n$1\r\na\r\n"),
            (
                "ZREVRANGE z 0 0 WITHSCORES",
                "*2\r\n$1\r\ng\r\n$3\r\ninf\r\n",
            ),
            ("ZRANGE z 3 1", "*0\r\n"),
            ("ZRANGEBYSCORE z (1 3", "*2\r\n$1\r\nc\r\n$1\r\nd\r\n"),
            ("ZRANGEBYSCORE z -inf (-inf", "*0\r\n"),
            (
                "ZRANGEBYSCORE z 1 +inf LIMIT 1 2",
                "*2\r\n$1\r\nc\r\n$1\r\nd\r\n",
            ),
            ("ZRANGEBYSCORE z 1 +inf LIMIT -1 2", "*0\r\n"),
            (
                "ZRANGEBYSCORE z 4 +inf LIMIT 1 -1",
                "*2\r\n$1\r\nf\r\n$1\r\ng\r\n",
            ),
            ("ZREVRANGEBYSCORE z 3 (1", "*2\r\n$1\r\nd\r\n$1\r\nc\r\n"),
            (
                "ZREVRANGEBYSCORE z +inf 0 LIMIT 1 2",
                "*2\r\n$1\r\nf\r\n$1\r\ne\r\n",
            ),
            ("ZRANGE z (1 3 BYSCORE REV", "*0\r\n"),
            ("ZRANGE z 3 (1 BYSCORE REV", "*2\r\n$1\r\nd\r\n$1\r\nc\r\n"),
            ("ZCOUNT z (1 3", ":2\r\n"),
            ("ZCOUNT z -inf +inf", ":7\r\n"),
            ("ZCOUNT missing 0 1", ":0\r\n"),
            ("ZRANK z c", ":2\r\n"),
            ("ZREVRANK z c", ":4\r\n"),
            ("ZRANK z nope", "$-1\r\n"),
            ("ZRANK z c WITHSCORE", "*2\r\n:2\r\n$1\r\n2\r\n"),
            (
                "ZMSCORE z a nope c",
                "*3\r\n$4\r\n-inf\r\n$-1\r\n$1\r\n2\r\n",
            ),
            ("ZMSCORE missing a", "*1\r\n$-1\r\n"),
            ("DEL z", ":1\r\n"),
            ("ZADD l 0 a 0 b 0 c 0 d 0 e", ":5\r\n"),
            ("ZRANGEBYLEX l - (c", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            (
                "ZRANGEBYLEX l [b [d LIMIT 1 5",
                "*2\r\n$1\r\nc\r\n$1\r\nd\r\n",
            ),
            ("ZREVRANGEBYLEX l + (c", "*2\r\n$1\r\ne\r\n$1\r\nd\r\n"),
            ("ZRANGE l [d + BYLEX", "*2\r\n$1\r\nd\r\n$1\r\ne\r\n"),
            ("ZLEXCOUNT l - +", ":5\r\n"),
            ("ZLEXCOUNT l (a [c", ":2\r\n"),
            ("ZLEXCOUNT l + -", ":0\r\n"),
        ],
    );
}

#[test]
fn resp3_scores_are_double_frames_and_pairs_nest() {
    let (_s, mut c) = connect();
    c.send(b"HELLO 3\r\n");
    c.frame();
    table(
        &mut c,
        &[
            ("ZADD z 1.5 a 2 b", ":2\r\n"),
            ("ZSCORE z a", ",1.5\r\n"),
            (
                "ZRANGE z 0 -1 WITHSCORES",
                "*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,2\r\n",
            ),
            ("ZINCRBY z 1 b", ",3\r\n"),
            ("ZSCORE z nope", "_\r\n"),
            ("ZPOPMIN z", "*2\r\n$1\r\na\r\n,1.5\r\n"),
            ("ZADD z 1 a", ":1\r\n"),
            ("ZPOPMAX z 1", "*1\r\n*2\r\n$1\r\nb\r\n,3\r\n"),
            (
                "ZMPOP 1 z MIN",
                "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n,1\r\n",
            ),
            ("ZMPOP 1 z MIN", "_\r\n"),
            ("ZADD z -inf x", ":1\r\n"),
            ("ZSCORE z x", ",-inf\r\n"),
        ],
    );
}

#[test]
fn encodings_follow_the_listpack_limits() {
    let (_s, mut c) = connect();
    let long = "x".repeat(65);
    table(
        &mut c,
        &[
            ("ZADD small 1 a", ":1\r\n"),
            ("OBJECT ENCODING small", "$8\r\nlistpack\r\n"),
            (&format!("ZADD small 2 {long}"), ":1\r\n"),
            ("OBJECT ENCODING small", "$8\r\nskiplist\r\n"),
            (&format!("ZREM small {long}"), ":1\r\n"),
            ("OBJECT ENCODING small", "$8\r\nskiplist\r\n"),
            ("TYPE small", "+zset\r\n"),
            ("CONFIG SET zset-max-ziplist-entries 2", "+OK\r\n"),
            ("ZADD two 1 a 2 b", ":2\r\n"),
            ("OBJECT ENCODING two", "$8\r\nlistpack\r\n"),
            ("ZADD two 3 c", ":1\r\n"),
            ("OBJECT ENCODING two", "$8\r\nskiplist\r\n"),
            // Stores size their result.
            ("ZRANGESTORE dst two 0 1", ":2\r\n"),
            ("OBJECT ENCODING dst", "$8\r\nlistpack\r\n"),
            ("ZUNIONSTORE u 1 two", ":3\r\n"),
            ("OBJECT ENCODING u", "$8\r\nskiplist\r\n"),
            ("CONFIG SET zset-max-listpack-entries 0", "+OK\r\n"),
            ("ZADD zero 1 a", ":1\r\n"),
            ("OBJECT ENCODING zero", "$8\r\nskiplist\r\n"),
        ],
    );
}

#[test]
fn removals_pops_and_emptied_keys() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d 5 e", ":5\r\n"),
            ("ZREM z a a nope", ":1\r\n"),
            ("ZREMRANGEBYRANK z 0 0", ":1\r\n"),
            ("ZREMRANGEBYSCORE z (3 4", ":1\r\n"),
            ("ZRANGE z 0 -1", "*2\r\n$1\r\nc\r\n$1\r\ne\r\n"),
            ("ZREMRANGEBYLEX z - +", ":2\r\n"),
            ("EXISTS z", ":0\r\n"),
            ("ZADD z 1 a 2 b 3 c", ":3\r\n"),
            ("ZPOPMIN z", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            (
                "ZPOPMAX z 5",
                "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            ("EXISTS z", ":0\r\n"),
            ("ZPOPMIN z", "*0\r\n"),
            (
                "ZPOPMIN z -1",
                "-ERR value is out of range, must be positive\r\n",
            ),
            ("ZPOPMIN z 1 2", "-ERR syntax error\r\n"),
            ("ZADD z 1 a", ":1\r\n"),
            ("ZPOPMIN z 0", "*0\r\n"),
            (
                "ZMPOP 2 none z MAX COUNT 10",
                "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
            ),
            ("ZMPOP 1 z MIN", "*-1\r\n"),
            ("ZMPOP 0 z MIN", "-ERR numkeys should be greater than 0\r\n"),
            ("ZMPOP 1 z MIDDLE", "-ERR syntax error\r\n"),
            (
                "ZMPOP 1 z MIN COUNT 0",
                "-ERR count should be greater than 0\r\n",
            ),
            ("ZMPOP 2 z MIN", "-ERR syntax error\r\n"),
        ],
    );
}

#[test]
fn union_inter_diff_with_weights_and_aggregates() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("ZADD a 1 x 2 y 3 z", ":3\r\n"),
            ("ZADD b 10 y 20 z 30 w", ":3\r\n"),
            ("ZUNION 2 a b WITHSCORES", "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"),
            ("ZINTER 2 a b WEIGHTS 2 1 AGGREGATE MAX WITHSCORES", "*4\r\n$1\r\ny\r\n$2\r\n10\r\n$1\r\nz\r\n$2\r\n20\r\n"),
            ("ZINTER 2 a b AGGREGATE MIN", "*2\r\n$1\r\ny\r\n$1\r\nz\r\n"),
            ("ZDIFF 2 a b WITHSCORES", "*2\r\n$1\r\nx\r\n$1\r\n1\r\n"),
            ("ZUNIONSTORE d 2 a b WEIGHTS 1 0", ":4\r\n"),
            ("ZRANGE d 0 -1 WITHSCORES", "*8\r\n$1\r\nw\r\n$1\r\n0\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"),
            ("ZINTERSTORE d 2 a missing", ":0\r\n"),
            ("EXISTS d", ":0\r\n"),
            ("ZDIFFSTORE d 1 a", ":3\r\n"),
            ("ZINTERCARD 2 a b", ":2\r\n"),
            ("ZINTERCARD 2 a b LIMIT 1", ":1\r\n"),
            ("ZINTERCARD 2 a b LIMIT -1", "-ERR LIMIT can't be negative\r\n"),
            ("ZINTERCARD 0 a", "-ERR at least 1 input key is needed for 'zintercard' command\r\n"),
            ("ZUNIONSTORE d 0 a", "-ERR at least 1 input key is needed for 'zunionstore' command\r\n"),
            ("ZUNION 3 a b", "-ERR syntax error\r\n"),
            ("ZUNIONSTORE d 2 a b WITHSCORES", "-ERR syntax error\r\n"),
            ("ZDIFF 2 a b WEIGHTS 1 1", "-ERR syntax error\r\n"),
            ("ZUNION 2 a b WEIGHTS 1 x", "-ERR weight value is not a float\r\n"),
            ("ZUNION 2 a b AGGREGATE AVG", "-ERR syntax error\r\n"),
            ("ZADD inf +inf m", ":1\r\n"),
            ("ZUNION 1 inf WEIGHTS 0 WITHSCORES", "*2\r\n$1\r\nm\r\n$1\r\n0\r\n"),
        ],
    );
}

#[test]
fn zrandmember_and_zscan() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("ZRANDMEMBER nokey", "$-1\r\n"),
            ("ZRANDMEMBER nokey 5", "*0\r\n"),
            ("ZADD z 1 a", ":1\r\n"),
            ("ZRANDMEMBER z", "$1\r\na\r\n"),
            ("ZRANDMEMBER z 0", "*0\r\n"),
            ("ZRANDMEMBER z 5 WITHSCORES", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("ZRANDMEMBER z -3", "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"),
            ("ZRANDMEMBER z 1 WITH", "-ERR syntax error\r\n"),
            ("ZRANDMEMBER z -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
            ("ZRANDMEMBER z -9223372036854770000 WITHSCORES", "-ERR value is out of range\r\n"),
            // Refused (Redis would try to build a reply of 10^12 members);
            // a missing key still answers empty.
            ("ZRANDMEMBER z -1000000000000", "-ERR value is out of range\r\n"),
            ("ZRANDMEMBER nokey -1000000000000", "*0\r\n"),
            ("ZSCAN z 0", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("ZSCAN z x", "-ERR invalid cursor\r\n"),
            ("ZSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
        ],
    );
    // A large set is walked with a cursor; every member comes back once.
    let mut args: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), b"big".to_vec()];
    for i in 0..300 {
        args.push(i.to_string().into_bytes());
        args.push(format!("m{i}").into_bytes());
    }
    let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
    c.cmd(&refs);
    assert_eq!(c.frame(), Frame::Int(300));
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        c.cmd(&[b"ZSCAN", b"big", cursor.as_bytes(), b"COUNT", b"50"]);
        let reply = c.frame();
        let items = reply.items();
        cursor = items[0].text();
        for pair in items[1].items().chunks(2) {
            assert!(seen.insert(pair[0].text()));
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 300);
}

#[test]
fn keyspace_events_use_the_z_class() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut sub = server.raw();
    c.roundtrip(b"CONFIG SET notify-keyspace-events Ez\r\n", b"+OK\r\n");
    sub.send(b"SUBSCRIBE __keyevent@0__:zadd __keyevent@0__:zpopmin __keyevent@0__:zincr\r\n");
    for _ in 0..3 {
        sub.frame();
    }
    table(
        &mut c,
        &[
            ("ZADD z 1 a", ":1\r\n"),
            ("ZADD z 1 a", ":0\r\n"),
            ("ZINCRBY z 1 a", "$1\r\n2\r\n"),
            ("ZPOPMIN z", "*2\r\n$1\r\na\r\n$1\r\n2\r\n"),
        ],
    );
    for event in ["zadd", "zincr", "zpopmin"] {
        let f = sub.frame();
        assert_eq!(f.items()[1].text(), format!("__keyevent@0__:{event}"));
        assert_eq!(f.items()[2].text(), "z");
    }
}

#[test]
fn blocking_pops_answer_at_once_wait_and_time_out() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("ZADD z 1 a 2 b", ":2\r\n"),
            (
                "BZPOPMIN none z 0",
                "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n",
            ),
            ("BZPOPMAX z 0", "*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("BZPOPMIN z 0.01", "*-1\r\n"),
            ("BZMPOP 0.01 1 z MIN", "*-1\r\n"),
            ("BZPOPMIN z -1", "-ERR timeout is negative\r\n"),
            ("MULTI", "+OK\r\n"),
            ("BZPOPMIN z 0", "+QUEUED\r\n"),
            ("EXEC", "*1\r\n*-1\r\n"),
        ],
    );
    // A blocked client is served by the next ZADD, from the key it waits on.
    let mut waiter = server.raw();
    waiter.send(b"BZPOPMAX a z 0\r\n");
    std::thread::sleep(Duration::from_millis(100));
    // A list on a waited key serves nobody.
    c.roundtrip(b"RPUSH a x\r\n", b":1\r\n");
    c.roundtrip(b"ZADD z 5 m 6 n\r\n", b":2\r\n");
    waiter.expect(b"*3\r\n$1\r\nz\r\n$1\r\nn\r\n$1\r\n6\r\n");
    let mut mpop = server.raw();
    mpop.send(b"BZMPOP 0 1 q MIN COUNT 5\r\n");
    std::thread::sleep(Duration::from_millis(100));
    c.roundtrip(b"ZADD q 1 a 2 b\r\n", b":2\r\n");
    mpop.expect(b"*2\r\n$1\r\nq\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
    c.roundtrip(b"EXISTS q\r\n", b":0\r\n");
}

#[test]
fn memory_is_charged_and_released() {
    let (_s, mut c) = connect();
    let used = |c: &mut Raw| -> i64 {
        c.send(b"MEMORY STATS\r\n");
        let _ = c.frame();
        c.send(b"INFO memory\r\n");
        let text = c.frame().text();
        text.lines()
            .find_map(|l| l.strip_prefix("used_memory_dataset:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let before = used(&mut c);
    let mut args: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), b"z".to_vec()];
    for i in 0..1000 {
        args.push(i.to_string().into_bytes());
        args.push(format!("member:{i}").into_bytes());
    }
    let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
    c.cmd(&refs);
    assert_eq!(c.frame(), Frame::Int(1000));
    let grown = used(&mut c);
    // Members' bytes plus per-member overhead, as the store charges them.
    assert!(grown - before >= 1000 * (10 + 24), "{before} -> {grown}");
    c.roundtrip(b"ZREMRANGEBYRANK z 0 -1\r\n", b":1000\r\n");
    assert_eq!(used(&mut c), before);
}

// ---------------------------------------------------------------------------
// Differential: random commands against a real redis-server
// ---------------------------------------------------------------------------

/// A redis-server on a free port, killed (by PID) when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Redis {
        let port = common::free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        let redis = Redis { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn random_command(rng: &mut Rng) -> Vec<String> {
    let keys = ["z1", "z2", "z3"];
    let members = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let scores = [
        "0", "1", "-1", "2.5", "0.1", "1e3", "+inf", "-inf", "3", "10",
    ];
    let bounds = [
        "-inf", "+inf", "0", "(0", "1", "(1", "2.5", "(3", "10", "(10",
    ];
    let lex = ["-", "+", "[a", "(a", "[c", "(d", "[h", "(e"];
    let ranks = ["0", "1", "-1", "-2", "2", "5", "-100", "100"];
    let key = rng.pick(&keys).to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match rng.below(22) {
        0..=3 => {
            let mut cmd = s(&["ZADD", &key]);
            for opt in ["NX", "XX", "GT", "LT", "CH"] {
                if rng.below(6) == 0 {
                    cmd.push(opt.into());
                }
            }
            for _ in 0..=rng.below(3) {
                cmd.push(rng.pick(&scores).into());
                cmd.push(rng.pick(&members).into());
            }
            cmd
        }
        4 => s(&["ZINCRBY", &key, rng.pick(&scores), rng.pick(&members)]),
        5 => s(&["ZREM", &key, rng.pick(&members), rng.pick(&members)]),
        6 => s(&[
            "ZRANGE",
            &key,
            rng.pick(&ranks),
            rng.pick(&ranks),
            "WITHSCORES",
        ]),
        7 => s(&[
            "ZRANGEBYSCORE",
            &key,
            rng.pick(&bounds),
            rng.pick(&bounds),
            "WITHSCORES",
            "LIMIT",
            rng.pick(&["0", "1", "-1"]),
            rng.pick(&["1", "2", "-1"]),
        ]),
        8 => s(&[
            "ZREVRANGEBYSCORE",
            &key,
            rng.pick(&bounds),
            rng.pick(&bounds),
        ]),
        9 => s(&["ZRANGEBYLEX", &key, rng.pick(&lex), rng.pick(&lex)]),
        10 => s(&[
            "ZREVRANGEBYLEX",
            &key,
            rng.pick(&lex),
            rng.pick(&lex),
            "LIMIT",
            "0",
            "2",
        ]),
        11 => s(&["ZCOUNT", &key, rng.pick(&bounds), rng.pick(&bounds)]),
        12 => s(&["ZRANK", &key, rng.pick(&members)]),
        13 => s(&["ZREVRANK", &key, rng.pick(&members)]),
        14 => s(&["ZSCORE", &key, rng.pick(&members)]),
        15 => s(&[
            rng.pick(&["ZPOPMIN", "ZPOPMAX"]),
            &key,
            rng.pick(&["1", "2"]),
        ]),
        16 => s(&["ZREMRANGEBYRANK", &key, rng.pick(&ranks), rng.pick(&ranks)]),
        17 => s(&[
            "ZREMRANGEBYSCORE",
            &key,
            rng.pick(&bounds),
            rng.pick(&bounds),
        ]),
        18 => s(&[
            rng.pick(&["ZUNIONSTORE", "ZINTERSTORE"]),
            rng.pick(&keys),
            "2",
            rng.pick(&keys),
            rng.pick(&keys),
            "WEIGHTS",
            rng.pick(&scores),
            "2",
            "AGGREGATE",
            rng.pick(&["SUM", "MIN", "MAX"]),
        ]),
        19 => s(&["ZDIFF", "2", rng.pick(&keys), rng.pick(&keys), "WITHSCORES"]),
        20 => s(&["ZMSCORE", &key, rng.pick(&members), rng.pick(&members)]),
        _ => s(&[
            "ZRANGE",
            &key,
            rng.pick(&bounds),
            rng.pick(&bounds),
            "BYSCORE",
            "REV",
            "WITHSCORES",
        ]),
    }
}

#[test]
fn random_command_sequences_match_redis() {
    if !have("redis-server") {
        return;
    }
    let redis = Redis::start();
    let server = Server::start(&[]);
    for seed in 1..=10u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut ours = server.raw();
        let mut theirs = Raw::connect(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        for c in [&mut ours, &mut theirs] {
            c.roundtrip(b"FLUSHALL\r\n", b"+OK\r\n");
        }
        let mut history: Vec<String> = Vec::new();
        for _ in 0..400 {
            let cmd = random_command(&mut rng);
            let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
            ours.cmd(&args);
            theirs.cmd(&args);
            let (a, b) = (ours.frame(), theirs.frame());
            history.push(cmd.join(" "));
            // Stores answer only a count: compare every key's contents too.
            let dump = |c: &mut Raw| -> Vec<Frame> {
                ["z1", "z2", "z3"]
                    .iter()
                    .map(|k| {
                        c.cmd(&[b"ZRANGE", k.as_bytes(), b"0", b"-1", b"WITHSCORES"]);
                        c.frame()
                    })
                    .collect()
            };
            assert_eq!(
                (a, dump(&mut ours)),
                (b, dump(&mut theirs)),
                "seed {seed}: `{}`; last commands:\n    {}",
                cmd.join(" "),
                history
                    .iter()
                    .rev()
                    .take(8)
                    .rev()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n    ")
            );
        }
    }
}

#[test]
fn watch_sees_only_real_changes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut other = server.raw();
    table(&mut c, &[("ZADD z 1 a", ":1\r\n"), ("WATCH z", "+OK\r\n")]);
    // Nothing changes: the watch holds.
    other.roundtrip(b"ZADD z NX 5 a\r\n", b":0\r\n");
    other.roundtrip(b"ZADD z 1 a\r\n", b":0\r\n");
    other.roundtrip(b"ZREM z nope\r\n", b":0\r\n");
    table(
        &mut c,
        &[
            ("MULTI", "+OK\r\n"),
            ("ZCARD z", "+QUEUED\r\n"),
            ("EXEC", "*1\r\n:1\r\n"),
        ],
    );
    // A changed score breaks it.
    table(&mut c, &[("WATCH z", "+OK\r\n")]);
    other.roundtrip(b"ZADD z 2 a\r\n", b":0\r\n");
    table(
        &mut c,
        &[
            ("MULTI", "+OK\r\n"),
            ("ZCARD z", "+QUEUED\r\n"),
            ("EXEC", "*-1\r\n"),
        ],
    );
}
