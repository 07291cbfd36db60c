//! List commands at the wire: exact replies for every command, option and
//! error (checked against redis-server 7), emptied lists disappearing,
//! WRONGTYPE both ways, keyspace events, memory accounting, and the blocking
//! pops' immediate and MULTI paths. (Blocked waits are in tests/blocking.rs.)

mod common;

use common::{Frame, Raw, Server};

fn connect() -> (Server, Raw) {
    let server = Server::start(&[]);
    let raw = server.raw();
    (server, raw)
}

const WRONGTYPE: &[u8] = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

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

/// The key no longer exists: EXISTS 0, TYPE none, and LPUSHX finds nothing.
fn assert_gone(c: &mut Raw, key: &str) {
    c.cmd(&[b"EXISTS", key.as_bytes()]);
    assert_eq!(c.frame(), Frame::Int(0), "EXISTS {key}");
    c.cmd(&[b"TYPE", key.as_bytes()]);
    assert_eq!(c.frame(), Frame::Simple("none".into()), "TYPE {key}");
    c.cmd(&[b"LPUSHX", key.as_bytes(), b"probe"]);
    assert_eq!(c.frame(), Frame::Int(0), "LPUSHX {key}");
}

fn dbsize(c: &mut Raw) -> i64 {
    c.send(b"DBSIZE\r\n");
    match c.frame() {
        Frame::Int(n) => n,
        other => panic!("{other:?}"),
    }
}

#[test]
fn pushes_answer_the_new_length_and_keep_order() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("RPUSH l a b c", ":3\r\n"),
            ("LPUSH l x y", ":5\r\n"),
            (
                "LRANGE l 0 -1",
                "*5\r\n$1\r\ny\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
            ),
            ("LLEN l", ":5\r\n"),
            ("LLEN nokey", ":0\r\n"),
            ("LPUSHX nokey a", ":0\r\n"),
            ("RPUSHX nokey a b", ":0\r\n"),
            ("LPUSHX l p q", ":7\r\n"),
            ("RPUSHX l z", ":8\r\n"),
            ("LRANGE l 0 1", "*2\r\n$1\r\nq\r\n$1\r\np\r\n"),
            ("LINDEX l -1", "$1\r\nz\r\n"),
            (
                "LPUSH l",
                "-ERR wrong number of arguments for 'lpush' command\r\n",
            ),
            (
                "RPUSHX l",
                "-ERR wrong number of arguments for 'rpushx' command\r\n",
            ),
            (
                "LLEN",
                "-ERR wrong number of arguments for 'llen' command\r\n",
            ),
            (
                "LLEN l x",
                "-ERR wrong number of arguments for 'llen' command\r\n",
            ),
        ],
    );
    assert_gone(&mut c, "nokey");
    // Binary-safe elements, including empty ones.
    c.cmd(&[b"RPUSH", b"bin", b"", b"a\r\nb", b"\x00\xff"]);
    assert_eq!(c.frame(), Frame::Int(3));
    c.cmd(&[b"LRANGE", b"bin", b"0", b"-1"]);
    assert_eq!(
        c.frame(),
        Frame::Array(vec![
            Frame::Bulk(b"".to_vec()),
            Frame::Bulk(b"a\r\nb".to_vec()),
            Frame::Bulk(b"\x00\xff".to_vec()),
        ])
    );
}

#[test]
fn pops_with_and_without_count() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("LPOP nokey", "$-1\r\n"),
            ("RPOP nokey", "$-1\r\n"),
            ("LPOP nokey 1", "*-1\r\n"),
            ("LPOP nokey 0", "*-1\r\n"),
            (
                "LPOP nokey abc",
                "-ERR value is out of range, must be positive\r\n",
            ),
            (
                "RPOP nokey -1",
                "-ERR value is out of range, must be positive\r\n",
            ),
            (
                "LPOP nokey 1 2",
                "-ERR wrong number of arguments for 'lpop' command\r\n",
            ),
            (
                "RPOP nokey 1 2",
                "-ERR wrong number of arguments for 'rpop' command\r\n",
            ),
            ("RPUSH l a b c d e", ":5\r\n"),
            ("LPOP l 0", "*0\r\n"),
            (
                "LPOP l -1",
                "-ERR value is out of range, must be positive\r\n",
            ),
            (
                "LPOP l 01",
                "-ERR value is out of range, must be positive\r\n",
            ),
            ("LPOP l", "$1\r\na\r\n"),
            ("RPOP l", "$1\r\ne\r\n"),
            ("RPOP l 2", "*2\r\n$1\r\nd\r\n$1\r\nc\r\n"),
            ("LPOP l 9223372036854775807", "*1\r\n$1\r\nb\r\n"),
            ("LPOP l", "$-1\r\n"),
            ("RPUSH l a b c", ":3\r\n"),
            ("LPOP l 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("RPOP l 5", "*1\r\n$1\r\nc\r\n"),
            ("LPOP l 1", "*-1\r\n"),
        ],
    );
    assert_gone(&mut c, "l");
    // RESP3 nulls.
    c.send(b"HELLO 3\r\n");
    let _hello = c.frame();
    table(
        &mut c,
        &[
            ("LPOP nokey", "_\r\n"),
            ("LPOP nokey 2", "_\r\n"),
            ("RPUSH l a", ":1\r\n"),
            ("RPOP l 0", "*0\r\n"),
        ],
    );
}

#[test]
fn lrange_and_lindex_follow_index_rules() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("RPUSH l a b c", ":3\r\n"),
            ("LRANGE l 0 -1", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
            ("LRANGE l -2 -1", "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"),
            (
                "LRANGE l -100 100",
                "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
            ),
            ("LRANGE l 1 1", "*1\r\n$1\r\nb\r\n"),
            ("LRANGE l 2 1", "*0\r\n"),
            ("LRANGE l 3 10", "*0\r\n"),
            ("LRANGE l 0 -4", "*0\r\n"),
            (
                "LRANGE l 9223372036854775807 -9223372036854775808",
                "*0\r\n",
            ),
            (
                "LRANGE l -9223372036854775808 9223372036854775807",
                "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
            ),
            (
                "LRANGE l abc 0",
                "-ERR value is not an integer or out of range\r\n",
            ),
            (
                "LRANGE l 0 1.5",
                "-ERR value is not an integer or out of range\r\n",
            ),
            (
                "LRANGE nokey abc 0",
                "-ERR value is not an integer or out of range\r\n",
            ),
            ("LRANGE nokey 0 -1", "*0\r\n"),
            ("LINDEX l 0", "$1\r\na\r\n"),
            ("LINDEX l -1", "$1\r\nc\r\n"),
            ("LINDEX l -3", "$1\r\na\r\n"),
            ("LINDEX l 3", "$-1\r\n"),
            ("LINDEX l -4", "$-1\r\n"),
            ("LINDEX l -9223372036854775808", "$-1\r\n"),
            (
                "LINDEX l abc",
                "-ERR value is not an integer or out of range\r\n",
            ),
            // The key is looked up first: a missing key answers null whatever the index.
            ("LINDEX nokey abc", "$-1\r\n"),
            ("LINDEX nokey 0", "$-1\r\n"),
        ],
    );
}

#[test]
fn lset_replaces_by_index() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("LSET nokey 0 x", "-ERR no such key\r\n"),
            ("LSET nokey abc x", "-ERR no such key\r\n"),
            ("RPUSH l a b c", ":3\r\n"),
            (
                "LSET l abc x",
                "-ERR value is not an integer or out of range\r\n",
            ),
            ("LSET l 3 x", "-ERR index out of range\r\n"),
            ("LSET l -4 x", "-ERR index out of range\r\n"),
            ("LSET l -3 first", "+OK\r\n"),
            ("LSET l 2 last", "+OK\r\n"),
            (
                "LRANGE l 0 -1",
                "*3\r\n$5\r\nfirst\r\n$1\r\nb\r\n$4\r\nlast\r\n",
            ),
        ],
    );
}

#[test]
fn linsert_before_and_after_the_first_pivot() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("LINSERT nokey BEFORE a x", ":0\r\n"),
            ("LINSERT nokey middle a x", "-ERR syntax error\r\n"),
            ("RPUSH l a b a", ":3\r\n"),
            ("LINSERT l middle a x", "-ERR syntax error\r\n"),
            ("LINSERT l BEFORE zz x", ":-1\r\n"),
            ("LINSERT l before a x", ":4\r\n"),
            ("LINSERT l AFTER a y", ":5\r\n"),
            ("LINSERT l after b z", ":6\r\n"),
            (
                "LRANGE l 0 -1",
                "*6\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\ny\r\n$1\r\nb\r\n$1\r\nz\r\n$1\r\na\r\n",
            ),
        ],
    );
    assert_gone(&mut c, "nokey");
}

#[test]
fn lrem_counts_from_either_end() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("LREM nokey 0 x", ":0\r\n"),
            (
                "LREM nokey abc x",
                "-ERR value is not an integer or out of range\r\n",
            ),
            ("RPUSH l x a x b x c x", ":7\r\n"),
            (
                "LREM l abc x",
                "-ERR value is not an integer or out of range\r\n",
            ),
            ("LREM l 0 nothere", ":0\r\n"),
            ("LREM l 2 x", ":2\r\n"),
            (
                "LRANGE l 0 -1",
                "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nx\r\n$1\r\nc\r\n$1\r\nx\r\n",
            ),
            ("LREM l -1 x", ":1\r\n"),
            (
                "LRANGE l 0 -1",
                "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nx\r\n$1\r\nc\r\n",
            ),
            ("RPUSH l x x", ":6\r\n"),
            ("LREM l 0 x", ":3\r\n"),
            ("LRANGE l 0 -1", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
            ("RPUSH m x y x", ":3\r\n"),
            ("LREM m -9223372036854775808 x", ":2\r\n"),
            ("LREM m 1 y", ":1\r\n"),
        ],
    );
    assert_gone(&mut c, "m");
}

#[test]
fn ltrim_keeps_a_range() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("LTRIM nokey 0 1", "+OK\r\n"),
            (
                "LTRIM nokey abc 1",
                "-ERR value is not an integer or out of range\r\n",
            ),
            ("RPUSH l a b c d e", ":5\r\n"),
            (
                "LTRIM l 0 abc",
                "-ERR value is not an integer or out of range\r\n",
            ),
            ("LTRIM l 1 -2", "+OK\r\n"),
            ("LRANGE l 0 -1", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
            ("LTRIM l -100 100", "+OK\r\n"),
            ("LLEN l", ":3\r\n"),
            ("LTRIM l -1 -1", "+OK\r\n"),
            ("LRANGE l 0 -1", "*1\r\n$1\r\nd\r\n"),
            ("LTRIM l 5 10", "+OK\r\n"),
        ],
    );
    assert_gone(&mut c, "l");
    table(
        &mut c,
        &[("RPUSH l a b", ":2\r\n"), ("LTRIM l 1 0", "+OK\r\n")],
    );
    assert_gone(&mut c, "l");
    assert_gone(&mut c, "nokey");
}

#[test]
fn lpos_ranks_counts_and_maxlen() {
    let (_s, mut c) = connect();
    let rank_zero = "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n";
    table(
        &mut c,
        &[
            ("LPOS nokey a", "$-1\r\n"),
            ("LPOS nokey a COUNT 1", "*0\r\n"),
            ("LPOS nokey a RANK 0", rank_zero),
            ("RPUSH l a b c a b c a", ":7\r\n"),
            ("LPOS l a", ":0\r\n"),
            ("LPOS l c", ":2\r\n"),
            ("LPOS l zz", "$-1\r\n"),
            ("LPOS l zz COUNT 1", "*0\r\n"),
            ("LPOS l a RANK 2", ":3\r\n"),
            ("LPOS l a rank -1", ":6\r\n"),
            ("LPOS l a RANK -3", ":0\r\n"),
            ("LPOS l a RANK 4", "$-1\r\n"),
            ("LPOS l a RANK 9223372036854775807", "$-1\r\n"),
            ("LPOS l a RANK -9223372036854775807", "$-1\r\n"),
            ("LPOS l a COUNT 0", "*3\r\n:0\r\n:3\r\n:6\r\n"),
            ("LPOS l a COUNT 2", "*2\r\n:0\r\n:3\r\n"),
            ("LPOS l a COUNT 2 RANK -1", "*2\r\n:6\r\n:3\r\n"),
            ("LPOS l a RANK 2 COUNT 0", "*2\r\n:3\r\n:6\r\n"),
            ("LPOS l a MAXLEN 3", ":0\r\n"),
            ("LPOS l a MAXLEN 3 RANK 2", "$-1\r\n"),
            ("LPOS l a MAXLEN 3 RANK 2 COUNT 0", "*0\r\n"),
            ("LPOS l a MAXLEN 4 COUNT 0", "*2\r\n:0\r\n:3\r\n"),
            ("LPOS l a RANK -1 MAXLEN 1 COUNT 0", "*1\r\n:6\r\n"),
            ("LPOS l a RANK 1 RANK 2", ":3\r\n"),
            ("LPOS l a RANK 0", rank_zero),
            ("LPOS l a RANK 0 COUNT x", rank_zero),
            ("LPOS l a COUNT x RANK 0", "-ERR COUNT can't be negative\r\n"),
            ("LPOS l a RANK abc", "-ERR value is not an integer or out of range\r\n"),
            (
                "LPOS l a RANK -9223372036854775808",
                "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
            ),
            ("LPOS l a COUNT -1", "-ERR COUNT can't be negative\r\n"),
            ("LPOS l a COUNT abc", "-ERR COUNT can't be negative\r\n"),
            ("LPOS l a MAXLEN -1", "-ERR MAXLEN can't be negative\r\n"),
            ("LPOS l a MAXLEN abc", "-ERR MAXLEN can't be negative\r\n"),
            ("LPOS l a COUNT", "-ERR syntax error\r\n"),
            ("LPOS l a FOO 1", "-ERR syntax error\r\n"),
            ("LPOS l", "-ERR wrong number of arguments for 'lpos' command\r\n"),
        ],
    );
}

#[test]
fn lmove_and_rpoplpush_move_between_ends() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("LMOVE nokey dst LEFT LEFT", "$-1\r\n"),
            ("RPOPLPUSH nokey dst", "$-1\r\n"),
            ("RPUSH src a b c d", ":4\r\n"),
            ("LMOVE src dst MIDDLE LEFT", "-ERR syntax error\r\n"),
            ("LMOVE src dst LEFT up", "-ERR syntax error\r\n"),
            ("LMOVE src dst left RIGHT", "$1\r\na\r\n"),
            ("LMOVE src dst RIGHT right", "$1\r\nd\r\n"),
            ("RPOPLPUSH src dst", "$1\r\nc\r\n"),
            ("LRANGE dst 0 -1", "*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n"),
            ("LMOVE src dst LEFT LEFT", "$1\r\nb\r\n"),
            ("LLEN dst", ":4\r\n"),
        ],
    );
    assert_gone(&mut c, "src");
    // Same key: a rotation; a one-element list stays.
    table(
        &mut c,
        &[
            ("RPUSH r 1 2 3", ":3\r\n"),
            ("LMOVE r r LEFT RIGHT", "$1\r\n1\r\n"),
            ("LRANGE r 0 -1", "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n1\r\n"),
            ("RPOPLPUSH r r", "$1\r\n1\r\n"),
            ("LRANGE r 0 -1", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            ("LMOVE r r LEFT LEFT", "$1\r\n1\r\n"),
            ("LRANGE r 0 -1", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            ("RPUSH one x", ":1\r\n"),
            ("LMOVE one one RIGHT LEFT", "$1\r\nx\r\n"),
            ("LRANGE one 0 -1", "*1\r\n$1\r\nx\r\n"),
            (
                "RPOPLPUSH one",
                "-ERR wrong number of arguments for 'rpoplpush' command\r\n",
            ),
            (
                "LMOVE one two LEFT",
                "-ERR wrong number of arguments for 'lmove' command\r\n",
            ),
        ],
    );
}

#[test]
fn lmove_type_errors_change_nothing() {
    let (_s, mut c) = connect();
    c.send(b"SET s v\r\n");
    c.expect(b"+OK\r\n");
    c.roundtrip(b"RPUSH l a\r\n", b":1\r\n");
    c.roundtrip(b"LMOVE s l LEFT LEFT\r\n", WRONGTYPE);
    c.roundtrip(b"LMOVE l s LEFT LEFT\r\n", WRONGTYPE);
    c.roundtrip(b"RPOPLPUSH l s\r\n", WRONGTYPE);
    c.roundtrip(b"LRANGE l 0 -1\r\n", b"*1\r\n$1\r\na\r\n");
    // A missing source answers null before the destination is looked at.
    c.roundtrip(b"LMOVE nokey s LEFT LEFT\r\n", b"$-1\r\n");
    c.roundtrip(b"GET s\r\n", b"$1\r\nv\r\n");
}

#[test]
fn lmpop_pops_from_the_first_non_empty_list() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            (
                "LMPOP 0 l LEFT",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            (
                "LMPOP -1 l LEFT",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            (
                "LMPOP abc l LEFT",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            ("LMPOP 9223372036854775807 l LEFT", "-ERR syntax error\r\n"),
            ("LMPOP 2 l LEFT", "-ERR syntax error\r\n"),
            ("LMPOP 1 l MIDDLE", "-ERR syntax error\r\n"),
            (
                "LMPOP 1 l LEFT COUNT 0",
                "-ERR count should be greater than 0\r\n",
            ),
            (
                "LMPOP 1 l LEFT COUNT -1",
                "-ERR count should be greater than 0\r\n",
            ),
            (
                "LMPOP 1 l LEFT COUNT abc",
                "-ERR count should be greater than 0\r\n",
            ),
            ("LMPOP 1 l LEFT COUNT", "-ERR syntax error\r\n"),
            ("LMPOP 1 l LEFT COUNT 1 COUNT 2", "-ERR syntax error\r\n"),
            ("LMPOP 1 l LEFT FOO", "-ERR syntax error\r\n"),
            (
                "LMPOP 1 l",
                "-ERR wrong number of arguments for 'lmpop' command\r\n",
            ),
            ("LMPOP 1 l LEFT", "*-1\r\n"),
            ("LMPOP 2 a b RIGHT", "*-1\r\n"),
            ("RPUSH b 1 2 3", ":3\r\n"),
            ("LMPOP 2 a b LEFT", "*2\r\n$1\r\nb\r\n*1\r\n$1\r\n1\r\n"),
            (
                "LMPOP 2 a b right COUNT 1",
                "*2\r\n$1\r\nb\r\n*1\r\n$1\r\n3\r\n",
            ),
            ("RPUSH a x y", ":2\r\n"),
            (
                "LMPOP 2 a b RIGHT COUNT 10",
                "*2\r\n$1\r\na\r\n*2\r\n$1\r\ny\r\n$1\r\nx\r\n",
            ),
            (
                "LMPOP 2 a b LEFT count 10",
                "*2\r\n$1\r\nb\r\n*1\r\n$1\r\n2\r\n",
            ),
            ("LMPOP 2 a b LEFT", "*-1\r\n"),
        ],
    );
    assert_gone(&mut c, "a");
    assert_gone(&mut c, "b");
    // A string before the first list is an error; after it, never looked at.
    table(
        &mut c,
        &[
            ("SET s v", "+OK\r\n"),
            ("RPUSH l a b", ":2\r\n"),
            ("LMPOP 2 s l LEFT", std::str::from_utf8(WRONGTYPE).unwrap()),
            (
                "LMPOP 2 nokey s LEFT",
                std::str::from_utf8(WRONGTYPE).unwrap(),
            ),
            ("LMPOP 2 l s LEFT", "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"),
        ],
    );
}

#[test]
fn blocking_commands_with_data_answer_at_once() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("RPUSH a 1 2 3", ":3\r\n"),
            ("BLPOP nokey a 0", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("BRPOP nokey a 1.5", "*2\r\n$1\r\na\r\n$1\r\n3\r\n"),
            ("BRPOPLPUSH a b 0", "$1\r\n2\r\n"),
            ("BLMOVE b c LEFT RIGHT 0.01", "$1\r\n2\r\n"),
            ("RPUSH c 3 4", ":3\r\n"),
            (
                "BLMPOP 0 2 nokey c RIGHT COUNT 2",
                "*2\r\n$1\r\nc\r\n*2\r\n$1\r\n4\r\n$1\r\n3\r\n",
            ),
            ("BLMPOP 0.5 1 c LEFT", "*2\r\n$1\r\nc\r\n*1\r\n$1\r\n2\r\n"),
            ("DBSIZE", ":0\r\n"),
            // The first key with data wins, in argument order.
            ("RPUSH x 1", ":1\r\n"),
            ("RPUSH y 2", ":1\r\n"),
            ("BLPOP y x 0", "*2\r\n$1\r\ny\r\n$1\r\n2\r\n"),
            ("BLPOP y x 0", "*2\r\n$1\r\nx\r\n$1\r\n1\r\n"),
        ],
    );
    for key in ["a", "b", "c", "x", "y"] {
        assert_gone(&mut c, key);
    }
    // WRONGTYPE when a string comes before any list with data.
    let wrongtype = std::str::from_utf8(WRONGTYPE).unwrap();
    table(
        &mut c,
        &[
            ("SET s v", "+OK\r\n"),
            ("BLPOP s 0", wrongtype),
            ("BRPOP nokey s 0", wrongtype),
            ("BLMOVE s d LEFT LEFT 0", wrongtype),
            ("BRPOPLPUSH s d 0", wrongtype),
            ("BLMPOP 0 2 nokey s LEFT", wrongtype),
            ("RPUSH l a b", ":2\r\n"),
            ("BLPOP l s 0", "*2\r\n$1\r\nl\r\n$1\r\na\r\n"),
            ("BLMOVE l s LEFT LEFT 0", wrongtype),
            ("LRANGE l 0 -1", "*1\r\n$1\r\nb\r\n"),
        ],
    );
}

#[test]
fn blocking_commands_inside_multi_answer_the_timeout_reply() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("MULTI", "+OK\r\n"),
            ("BLPOP nokey 0", "+QUEUED\r\n"),
            ("BRPOP nokey other 0", "+QUEUED\r\n"),
            ("BLMOVE nokey d LEFT LEFT 0", "+QUEUED\r\n"),
            ("BRPOPLPUSH nokey d 0", "+QUEUED\r\n"),
            ("BLMPOP 0 1 nokey LEFT", "+QUEUED\r\n"),
            ("RPUSH nokey v", "+QUEUED\r\n"),
            ("BLPOP nokey 0", "+QUEUED\r\n"),
            (
                "EXEC",
                "*7\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n:1\r\n*2\r\n$5\r\nnokey\r\n$1\r\nv\r\n",
            ),
        ],
    );
    assert_gone(&mut c, "nokey");
    assert_gone(&mut c, "d");
    // Argument errors are still found when the command runs.
    table(
        &mut c,
        &[
            ("MULTI", "+OK\r\n"),
            ("BLPOP nokey -1", "+QUEUED\r\n"),
            ("BLMPOP 0 0 nokey LEFT", "+QUEUED\r\n"),
            (
                "EXEC",
                "*2\r\n-ERR timeout is negative\r\n-ERR numkeys should be greater than 0\r\n",
            ),
        ],
    );
}

#[test]
fn timeouts_are_validated_before_anything_happens() {
    let (_s, mut c) = connect();
    let not_float = "-ERR timeout is not a float or out of range\r\n";
    let negative = "-ERR timeout is negative\r\n";
    let out_of_range = "-ERR timeout is out of range\r\n";
    c.cmd(&[b"BLPOP", b"l", b""]);
    c.expect(not_float.as_bytes());
    table(
        &mut c,
        &[
            ("RPUSH l a", ":1\r\n"),
            ("BLPOP l -1", negative),
            ("BLPOP l -0.5", negative),
            ("BLPOP l abc", not_float),
            ("BLPOP l 1x", not_float),
            ("BLPOP l nan", not_float),
            ("BLPOP l inf", out_of_range),
            ("BLPOP l 1e300", out_of_range),
            ("BLPOP l 9223372036854775807", out_of_range),
            ("BRPOP l abc", not_float),
            ("BRPOPLPUSH l d -1", negative),
            ("BLMOVE l d LEFT LEFT abc", not_float),
            // Ends are checked before the timeout.
            ("BLMOVE l d UP LEFT abc", "-ERR syntax error\r\n"),
            (
                "BLMOVE l d LEFT LEFT",
                "-ERR wrong number of arguments for 'blmove' command\r\n",
            ),
            ("BLMPOP -1 1 l LEFT", negative),
            ("BLMPOP abc 1 l LEFT", not_float),
            // ... and BLMPOP's other arguments too.
            (
                "BLMPOP abc 0 l LEFT",
                "-ERR numkeys should be greater than 0\r\n",
            ),
            ("BLMPOP abc 1 l MIDDLE", "-ERR syntax error\r\n"),
            (
                "BLMPOP abc 1 l LEFT COUNT 0",
                "-ERR count should be greater than 0\r\n",
            ),
            (
                "BLMPOP 0 1 l",
                "-ERR wrong number of arguments for 'blmpop' command\r\n",
            ),
            (
                "BLPOP l",
                "-ERR wrong number of arguments for 'blpop' command\r\n",
            ),
            // Nothing was popped by the failed calls.
            ("LRANGE l 0 -1", "*1\r\n$1\r\na\r\n"),
            // Fractions, exponents and signs are floats.
            ("BLPOP l 1e-3", "*2\r\n$1\r\nl\r\n$1\r\na\r\n"),
            ("RPUSH l b", ":1\r\n"),
            ("BRPOP l +.5", "*2\r\n$1\r\nl\r\n$1\r\nb\r\n"),
        ],
    );
}

#[test]
fn list_commands_on_a_string_and_string_commands_on_a_list() {
    let (_s, mut c) = connect();
    c.roundtrip(b"SET s v\r\n", b"+OK\r\n");
    for request in [
        "LPUSH s a",
        "RPUSH s a",
        "LPUSHX s a",
        "RPUSHX s a",
        "LPOP s",
        "RPOP s",
        "LPOP s 0",
        "LLEN s",
        "LRANGE s 0 -1",
        "LINDEX s 0",
        "LINDEX s abc",
        "LSET s 0 x",
        "LSET s abc x",
        "LINSERT s BEFORE a b",
        "LREM s 0 a",
        "LTRIM s 0 1",
        "LPOS s a",
        "LPOS s a COUNT 0",
        "LMOVE s d LEFT LEFT",
        "RPOPLPUSH s d",
        "LMPOP 1 s LEFT",
        "BLPOP s 0",
        "BRPOP s 0",
        "BLMOVE s d LEFT LEFT 0",
        "BRPOPLPUSH s d 0",
        "BLMPOP 0 1 s LEFT",
    ] {
        c.send(format!("{request}\r\n").as_bytes());
        c.expect(WRONGTYPE);
    }
    c.roundtrip(b"GET s\r\n", b"$1\r\nv\r\n");
    assert_gone(&mut c, "d");
    c.roundtrip(b"RPUSH l a\r\n", b":1\r\n");
    c.roundtrip(b"GET l\r\n", WRONGTYPE);
    // SET replaces a list whatever it held.
    c.roundtrip(b"SET l x\r\n", b"+OK\r\n");
    c.roundtrip(b"LLEN l\r\n", WRONGTYPE);
    c.roundtrip(b"GET l\r\n", b"$1\r\nx\r\n");
}

#[test]
fn every_way_of_emptying_a_list_removes_the_key() {
    let (_s, mut c) = connect();
    for (fill, empty) in [
        ("RPUSH k a", "LPOP k"),
        ("RPUSH k a b", "RPOP k 2"),
        ("RPUSH k a a", "LREM k 0 a"),
        ("RPUSH k a b", "LTRIM k 2 -1"),
        ("RPUSH k a", "LMOVE k other LEFT LEFT"),
        ("RPUSH k a", "RPOPLPUSH k other"),
        ("RPUSH k a b", "LMPOP 1 k LEFT COUNT 5"),
        ("RPUSH k a", "BLPOP k 0"),
        ("RPUSH k a", "BRPOP k 0"),
        ("RPUSH k a", "BLMOVE k other RIGHT LEFT 0"),
        ("RPUSH k a", "BRPOPLPUSH k other 0"),
        ("RPUSH k a b c", "BLMPOP 0 1 k RIGHT COUNT 3"),
    ] {
        c.send(format!("{fill}\r\n{empty}\r\n").as_bytes());
        let _filled = c.frame();
        let emptied = c.frame();
        assert!(
            !matches!(emptied, Frame::Error(_) | Frame::Null),
            "{empty}: {emptied:?}"
        );
        assert_gone(&mut c, "k");
        c.send(b"FLUSHALL\r\n");
        let _ = c.frame();
        assert_eq!(dbsize(&mut c), 0, "{empty}");
    }
}

#[test]
fn keyspace_events_name_each_change() {
    let (server, mut c) = connect();
    c.roundtrip(b"CONFIG SET notify-keyspace-events Elg\r\n", b"+OK\r\n");
    let mut sub = server.raw();
    sub.roundtrip(
        b"PSUBSCRIBE __keyevent@0__:*\r\n",
        b"*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n",
    );
    let script = [
        "RPUSH l a b c",
        "LPUSH l z",
        "LPUSHX nokey a",
        "LPOP l",
        "RPOP l 1",
        "LSET l 0 x",
        "LINSERT l BEFORE x w",
        "LINSERT l BEFORE nothere w",
        "LREM l 1 w",
        "LREM l 1 nothere",
        "LTRIM l 0 -1",
        "LMOVE l d LEFT RIGHT",
        "LMOVE d d LEFT RIGHT",
        "RPOPLPUSH l d",
        "LMPOP 1 d LEFT COUNT 5",
        "RPUSH q 1",
        "BLPOP q 0",
        "RPUSH q 2",
        "BLMOVE q q2 RIGHT LEFT 0",
        "BLMPOP 0 1 q2 LEFT",
    ];
    for request in script {
        c.send(format!("{request}\r\n").as_bytes());
        let _ = c.frame();
    }
    let expected = [
        ("rpush", "l"),
        ("lpush", "l"),
        ("lpop", "l"),
        ("rpop", "l"),
        ("lset", "l"),
        ("linsert", "l"),
        ("lrem", "l"),
        ("ltrim", "l"),
        ("rpush", "d"),
        ("lpop", "l"),
        ("rpush", "d"),
        ("lpop", "d"),
        ("lpush", "d"),
        ("rpop", "l"),
        ("del", "l"),
        ("lpop", "d"),
        ("del", "d"),
        ("rpush", "q"),
        ("lpop", "q"),
        ("del", "q"),
        ("rpush", "q"),
        ("lpush", "q2"),
        ("rpop", "q"),
        ("del", "q"),
        ("lpop", "q2"),
        ("del", "q2"),
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
fn dataset_bytes(c: &mut Raw) -> u64 {
    c.send(b"INFO memory\r\n");
    let info = c.frame().text();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory_dataset:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{info}"))
}

#[test]
fn memory_accounting_follows_every_change() {
    let (_s, mut c) = connect();
    // Charges per entry and per element, as the store documents them.
    const ENTRY: u64 = 64;
    const ELEMENT: u64 = 24;
    let expected = |key: &str, elements: &[&str]| {
        key.len() as u64
            + ENTRY
            + elements
                .iter()
                .map(|e| e.len() as u64 + ELEMENT)
                .sum::<u64>()
    };
    assert_eq!(dataset_bytes(&mut c), 0);
    let steps: &[(&str, &[&str])] = &[
        ("RPUSH list aa bbb c", &["aa", "bbb", "c"]),
        ("LPUSH list dddd", &["dddd", "aa", "bbb", "c"]),
        ("LPOP list", &["aa", "bbb", "c"]),
        ("RPOP list 2", &["aa"]),
        ("RPUSHX list eeeee ff", &["aa", "eeeee", "ff"]),
        ("LSET list 1 g", &["aa", "g", "ff"]),
        ("LINSERT list AFTER g hhhhhh", &["aa", "g", "hhhhhh", "ff"]),
        ("LREM list 0 g", &["aa", "hhhhhh", "ff"]),
        ("LTRIM list 1 -1", &["hhhhhh", "ff"]),
        ("LMOVE list list LEFT RIGHT", &["ff", "hhhhhh"]),
        ("LMPOP 1 list RIGHT", &["ff"]),
        ("RPUSH list i j", &["ff", "i", "j"]),
        ("BLMPOP 0 1 list LEFT COUNT 2", &["j"]),
    ];
    for (request, left) in steps {
        c.send(format!("{request}\r\n").as_bytes());
        let _ = c.frame();
        assert_eq!(
            dataset_bytes(&mut c),
            expected("list", left),
            "after {request}"
        );
    }
    // A move charges the destination and frees the source.
    c.roundtrip(b"RPOPLPUSH list other\r\n", b"$1\r\nj\r\n");
    assert_eq!(dataset_bytes(&mut c), expected("other", &["j"]));
    c.roundtrip(b"BLPOP other 0\r\n", b"*2\r\n$5\r\nother\r\n$1\r\nj\r\n");
    assert_eq!(dataset_bytes(&mut c), 0);
}

#[test]
fn watch_sees_list_changes_but_not_failed_ones() {
    let (server, mut c) = connect();
    let mut other = server.raw();
    c.roundtrip(b"RPUSH l a b\r\n", b":2\r\n");
    // Nothing changes: a missing pivot, nothing to remove, a wrong type.
    c.roundtrip(b"WATCH l\r\n", b"+OK\r\n");
    other.roundtrip(b"LINSERT l BEFORE nothere x\r\n", b":-1\r\n");
    other.roundtrip(b"LREM l 0 nothere\r\n", b":0\r\n");
    other.roundtrip(b"LPOP l 0\r\n", b"*0\r\n");
    c.roundtrip(
        b"MULTI\r\nLLEN l\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n*1\r\n:2\r\n",
    );
    // A push by another client aborts the transaction.
    c.roundtrip(b"WATCH l\r\n", b"+OK\r\n");
    other.roundtrip(b"RPUSH l c\r\n", b":3\r\n");
    c.roundtrip(b"MULTI\r\nLLEN l\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
    // So does a pop that empties the list.
    c.roundtrip(b"WATCH l\r\n", b"+OK\r\n");
    other.roundtrip(b"LPOP l 3\r\n", b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
    c.roundtrip(b"MULTI\r\nLLEN l\r\nEXEC\r\n", b"+OK\r\n+QUEUED\r\n*-1\r\n");
}

#[test]
fn command_info_rows() {
    let (_s, mut c) = connect();
    let info = |c: &mut Raw, name: &str| -> (i64, Vec<String>, (i64, i64, i64)) {
        c.cmd(&[b"COMMAND", b"INFO", name.as_bytes()]);
        let reply = c.frame();
        let row = reply.items()[0].items().to_vec();
        let int = |f: &Frame| match f {
            Frame::Int(n) => *n,
            other => panic!("{other:?}"),
        };
        let flags = row[2].items().iter().map(|f| f.text()).collect();
        (
            int(&row[1]),
            flags,
            (int(&row[3]), int(&row[4]), int(&row[5])),
        )
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        info(&mut c, "lpush"),
        (-3, s(&["write", "denyoom", "fast"]), (1, 1, 1))
    );
    assert_eq!(info(&mut c, "lrange"), (4, s(&["readonly"]), (1, 1, 1)));
    assert_eq!(
        info(&mut c, "lmove"),
        (5, s(&["write", "denyoom"]), (1, 2, 1))
    );
    assert_eq!(
        info(&mut c, "blpop"),
        (-3, s(&["write", "noscript", "blocking"]), (1, -2, 1))
    );
    assert_eq!(
        info(&mut c, "brpoplpush"),
        (
            4,
            s(&["write", "denyoom", "noscript", "blocking"]),
            (1, 2, 1)
        )
    );
    assert_eq!(
        info(&mut c, "blmpop"),
        // numkeys: movablekeys, as Redis 7.0 marks it.
        (-5, s(&["write", "blocking", "movablekeys"]), (0, 0, 0))
    );
}
