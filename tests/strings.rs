//! The string family at the wire: every command and option, exact replies and
//! error texts (as Redis 7 sends them), RESP2 and RESP3, expiry, keyspace
//! events and statistics, and what the store keeps (TTL, memcached flags).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{Frame, Raw, Server};
use herald::commands::Shared;
use herald::store::{unix_ms, Value};

/// Send each command (words split on single spaces) and compare its reply byte for byte.
fn table(c: &mut Raw, rows: &[(&str, &str)]) {
    for (command, expected) in rows {
        let words: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
        c.cmd(&words);
        let got = c.read_n(expected.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            *expected,
            "reply to {command:?}"
        );
    }
}

/// Send one command given as raw arguments and compare its reply.
fn check(c: &mut Raw, args: &[&[u8]], expected: &[u8]) {
    c.cmd(args);
    let got = c.read_n(expected.len());
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected),
        "reply to {args:?}"
    );
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const NOT_INTEGER: &str = "-ERR value is not an integer or out of range\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";

fn arity(name: &str) -> String {
    format!("-ERR wrong number of arguments for '{name}' command\r\n")
}

fn info_field(c: &mut Raw, name: &str) -> u64 {
    c.send(b"INFO stats\r\n");
    let text = c.frame().text();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in {text}"))
}

#[test]
fn get_and_set_basics() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("GET k", "$-1\r\n"),
            ("SET k v", "+OK\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("SET k longer-value", "+OK\r\n"),
            ("get k", "$12\r\nlonger-value\r\n"),
            ("GET", arity("get").as_str()),
            ("GET a b", arity("get").as_str()),
            ("SET k", arity("set").as_str()),
        ],
    );
    // Empty and binary keys and values, byte for byte.
    check(&mut c, &[b"SET", b"empty", b""], b"+OK\r\n");
    check(&mut c, &[b"GET", b"empty"], b"$0\r\n\r\n");
    check(&mut c, &[b"SET", b"", b"empty key"], b"+OK\r\n");
    check(&mut c, &[b"GET", b""], b"$9\r\nempty key\r\n");
    let key: &[u8] = b"bin\x00\r\n\xff";
    let value: &[u8] = b"\x00\x01\r\n\xfe\xff end";
    check(&mut c, &[b"SET", key, value], b"+OK\r\n");
    check(
        &mut c,
        &[b"GET", key],
        b"$10\r\n\x00\x01\r\n\xfe\xff end\r\n",
    );
    check(&mut c, &[b"STRLEN", key], b":10\r\n");
    check(
        &mut c,
        &[b"MGET", key, b"bin"],
        b"*2\r\n$10\r\n\x00\x01\r\n\xfe\xff end\r\n$-1\r\n",
    );
    // A large value survives intact.
    let big = vec![b'x'; 1 << 20];
    check(&mut c, &[b"SET", b"big", &big], b"+OK\r\n");
    c.cmd(&[b"GET", b"big"]);
    assert_eq!(c.frame(), Frame::Bulk(big));
}

#[test]
fn set_option_parsing_matches_redis() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let invalid_set = "-ERR invalid expire time in 'set' command\r\n";
    table(
        &mut c,
        &[
            // Conflicts and unknown or incomplete options.
            ("SET k v NX XX", SYNTAX),
            ("SET k v XX NX", SYNTAX),
            ("SET k v EX 10 PX 10", SYNTAX),
            ("SET k v PXAT 10 EXAT 10", SYNTAX),
            ("SET k v KEEPTTL EX 10", SYNTAX),
            ("SET k v EX 10 KEEPTTL", SYNTAX),
            ("SET k v EX", SYNTAX),
            ("SET k v PERSIST", SYNTAX),
            ("SET k v FOO", SYNTAX),
            ("SET k v NXX", SYNTAX),
            ("SET k v EX 10 FOO", SYNTAX),
            // Nothing was written by any of them.
            ("GET k", "$-1\r\n"),
            // Repeats are fine; for an expiry the last one counts.
            ("SET k v NX NX", "+OK\r\n"),
            ("SET k v2 xx Xx", "+OK\r\n"),
            ("SET k v3 EX 10 EX 20 GET get", "$2\r\nv2\r\n"),
            ("SET k v4 KEEPTTL KEEPTTL", "+OK\r\n"),
            // Expiry values: syntax first, then integer, then range.
            ("SET k v EX abc", NOT_INTEGER),
            ("SET k v EX 01", NOT_INTEGER),
            ("SET k v EX 1.5", NOT_INTEGER),
            ("SET k v PX 9223372036854775808", NOT_INTEGER),
            ("SET k v EX 0", invalid_set),
            ("SET k v EX -1", invalid_set),
            ("SET k v PX 0", invalid_set),
            ("SET k v EXAT 0", invalid_set),
            ("SET k v PXAT -5", invalid_set),
            ("SET k v EX 9223372036854775807", invalid_set),
            ("SET k v EX 9223372036854775", invalid_set),
            // Fits once scaled to ms, overflows once `now` is added.
            ("SET k v EX 9223372036854774", invalid_set),
            ("SET k v PX 9223372036854775807", invalid_set),
            ("SET k v GET EX 0", invalid_set),
            ("SET k v EXAT abc GET", NOT_INTEGER),
            ("GET k", "$2\r\nv4\r\n"),
            // Far-future absolute times are fine.
            ("SET k v5 PXAT 9223372036854775807", "+OK\r\n"),
            ("SET k v6 EXAT 9223372036854775", "+OK\r\n"),
            ("GET k", "$2\r\nv6\r\n"),
        ],
    );
}

#[test]
fn set_conditions_and_get() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("SET k v NX", "+OK\r\n"),
            ("SET k other NX", "$-1\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("SET missing v XX", "$-1\r\n"),
            ("GET missing", "$-1\r\n"),
            ("SET k v2 XX", "+OK\r\n"),
            ("GET k", "$2\r\nv2\r\n"),
            // GET returns the old value whether or not the write happens.
            ("SET k v3 GET", "$2\r\nv2\r\n"),
            ("SET k v4 NX GET", "$2\r\nv3\r\n"),
            ("GET k", "$2\r\nv3\r\n"),
            ("SET fresh v GET", "$-1\r\n"),
            ("GET fresh", "$1\r\nv\r\n"),
            ("SET nope v XX GET", "$-1\r\n"),
            ("GET nope", "$-1\r\n"),
            ("SET fresh2 v NX GET", "$-1\r\n"),
            ("GET fresh2", "$1\r\nv\r\n"),
            // SETNX, GETSET.
            ("SETNX n 1", ":1\r\n"),
            ("SETNX n 2", ":0\r\n"),
            ("GET n", "$1\r\n1\r\n"),
            ("SETNX n", arity("setnx").as_str()),
            ("GETSET n 3", "$1\r\n1\r\n"),
            ("GETSET unset 3", "$-1\r\n"),
            ("GET unset", "$1\r\n3\r\n"),
            ("GETSET n", arity("getset").as_str()),
        ],
    );
}

#[test]
fn setex_psetex() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("SETEX k 100 v", "+OK\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("PSETEX k 100000 w", "+OK\r\n"),
            ("GET k", "$1\r\nw\r\n"),
            ("SETEX k abc v", NOT_INTEGER),
            (
                "SETEX k 0 v",
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                "SETEX k -3 v",
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                "SETEX k 9223372036854775807 v",
                "-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                "PSETEX k 0 v",
                "-ERR invalid expire time in 'psetex' command\r\n",
            ),
            ("PSETEX k 1x v", NOT_INTEGER),
            ("GET k", "$1\r\nw\r\n"),
            ("SETEX k 10", arity("setex").as_str()),
            ("PSETEX k 10 v extra", arity("psetex").as_str()),
        ],
    );
}

#[test]
fn mget_mset_msetnx() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("MSET a 1 b 2", "+OK\r\n"),
            (
                "MGET a b nokey a",
                "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$1\r\n1\r\n",
            ),
            ("MSET a 1 b", arity("mset").as_str()),
            ("MSET a", arity("mset").as_str()),
            ("MGET", arity("mget").as_str()),
            // Later pairs win.
            ("MSET d 1 d 2", "+OK\r\n"),
            ("GET d", "$1\r\n2\r\n"),
            // MSETNX: all or nothing.
            ("MSETNX a 9 c 3", ":0\r\n"),
            ("GET c", "$-1\r\n"),
            ("GET a", "$1\r\n1\r\n"),
            ("MSETNX c 3 e 4", ":1\r\n"),
            ("MGET c e", "*2\r\n$1\r\n3\r\n$1\r\n4\r\n"),
            ("MSETNX x 1 x 2", ":1\r\n"),
            ("GET x", "$1\r\n2\r\n"),
            ("MSETNX y 1 z", arity("msetnx").as_str()),
            ("MSETNX y", arity("msetnx").as_str()),
            ("GET y", "$-1\r\n"),
        ],
    );
}

#[test]
fn getdel_and_getex() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let invalid = "-ERR invalid expire time in 'getex' command\r\n";
    table(
        &mut c,
        &[
            ("SET k v", "+OK\r\n"),
            ("GETDEL k", "$1\r\nv\r\n"),
            ("GETDEL k", "$-1\r\n"),
            ("GET k", "$-1\r\n"),
            ("GETDEL", arity("getdel").as_str()),
            ("GETDEL a b", arity("getdel").as_str()),
            // GETEX: options are checked for syntax first, even on a missing key.
            ("GETEX nokey FOO", SYNTAX),
            ("GETEX nokey NX", SYNTAX),
            ("GETEX nokey GET", SYNTAX),
            ("GETEX nokey KEEPTTL", SYNTAX),
            ("GETEX nokey PERSIST EX 1", SYNTAX),
            ("GETEX nokey EX 1 PERSIST", SYNTAX),
            ("GETEX nokey EX 1 PX 1", SYNTAX),
            ("GETEX nokey EX", SYNTAX),
            // ...but the expiry value only for an existing key.
            ("GETEX nokey EX abc", "$-1\r\n"),
            ("GETEX nokey", "$-1\r\n"),
            ("SET k v", "+OK\r\n"),
            ("GETEX k EX abc", NOT_INTEGER),
            ("GETEX k EX 0", invalid),
            ("GETEX k PXAT -1", invalid),
            ("GETEX k EX 9223372036854775807", invalid),
            ("GETEX k", "$1\r\nv\r\n"),
            ("GETEX k EX 100", "$1\r\nv\r\n"),
            ("GETEX k PX 100000 PX 500000", "$1\r\nv\r\n"),
            ("GETEX k PERSIST persist", "$1\r\nv\r\n"),
            ("GETEX k PXAT 9223372036854775807", "$1\r\nv\r\n"),
            // An absolute time in the past deletes the key after replying.
            ("GETEX k EXAT 1", "$1\r\nv\r\n"),
            ("GET k", "$-1\r\n"),
            ("GETEX", arity("getex").as_str()),
        ],
    );
}

#[test]
fn expiry_through_set_setex_getex_and_in_place_writes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    // Set everything up, sleep once past the short TTLs, then check.
    table(
        &mut c,
        &[
            ("SET px v PX 500", "+OK\r\n"),
            ("SET ex_gone v EXAT 1", "+OK\r\n"),
            ("SET pxat_gone v PXAT 1", "+OK\r\n"),
            ("PSETEX psetex 500 v", "+OK\r\n"),
            // SET without KEEPTTL clears the TTL; with it, keeps it.
            ("SET cleared v PX 500", "+OK\r\n"),
            ("SET cleared v2", "+OK\r\n"),
            ("SET kept v PX 500", "+OK\r\n"),
            ("SET kept v2 KEEPTTL", "+OK\r\n"),
            ("SET getset v PX 500", "+OK\r\n"),
            ("GETSET getset v2", "$1\r\nv\r\n"),
            // GETEX sets and removes TTLs.
            ("SET persisted v PX 500", "+OK\r\n"),
            ("GETEX persisted PERSIST", "$1\r\nv\r\n"),
            ("SET getex v", "+OK\r\n"),
            ("GETEX getex PX 500", "$1\r\nv\r\n"),
            // In-place writes keep the TTL.
            ("SET counter 1 PX 500", "+OK\r\n"),
            ("INCR counter", ":2\r\n"),
            ("SET float 1 PX 500", "+OK\r\n"),
            ("INCRBYFLOAT float 1", "$1\r\n2\r\n"),
            ("SET appended a PX 500", "+OK\r\n"),
            ("APPEND appended b", ":2\r\n"),
            ("SET ranged abc PX 500", "+OK\r\n"),
            ("SETRANGE ranged 1 x", ":3\r\n"),
            // A key stored already expired is gone at once.
            ("GET ex_gone", "$-1\r\n"),
            ("GET pxat_gone", "$-1\r\n"),
        ],
    );
    std::thread::sleep(Duration::from_millis(600));
    table(
        &mut c,
        &[
            ("GET px", "$-1\r\n"),
            ("GET psetex", "$-1\r\n"),
            ("GET cleared", "$2\r\nv2\r\n"),
            ("GET kept", "$-1\r\n"),
            ("GET getset", "$2\r\nv2\r\n"),
            ("GET persisted", "$1\r\nv\r\n"),
            ("GET getex", "$-1\r\n"),
            ("GET counter", "$-1\r\n"),
            ("GET float", "$-1\r\n"),
            ("GET appended", "$-1\r\n"),
            ("GET ranged", "$-1\r\n"),
        ],
    );
}

#[test]
fn set_with_a_past_deadline_leaves_nothing_behind() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("SET k v EXAT 1", "+OK\r\n"),
            ("DBSIZE", ":0\r\n"),
            ("SET k v PXAT 1 GET", "$-1\r\n"),
            ("SET k v", "+OK\r\n"),
            ("SET k v2 PXAT 1 GET", "$1\r\nv\r\n"),
            ("DBSIZE", ":0\r\n"),
        ],
    );
    assert_eq!(info_field(&mut c, "expired_keys"), 3);
}

#[test]
fn append_strlen_getrange_setrange() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[
            ("APPEND s Hello", ":5\r\n"),
            ("APPEND s World", ":10\r\n"),
            ("GET s", "$10\r\nHelloWorld\r\n"),
            ("STRLEN s", ":10\r\n"),
            ("STRLEN nokey", ":0\r\n"),
            ("APPEND s", arity("append").as_str()),
            ("STRLEN", arity("strlen").as_str()),
            ("SET s", arity("set").as_str()),
            ("SET s Hello-World", "+OK\r\n"),
            ("GETRANGE s 0 4", "$5\r\nHello\r\n"),
            ("GETRANGE s -5 -1", "$5\r\nWorld\r\n"),
            ("GETRANGE s -1 -5", "$0\r\n\r\n"),
            ("GETRANGE s 5 3", "$0\r\n\r\n"),
            ("GETRANGE s 0 -100", "$1\r\nH\r\n"),
            ("GETRANGE s -100 -50", "$1\r\nH\r\n"),
            ("GETRANGE s -100 2", "$3\r\nHel\r\n"),
            ("GETRANGE s 100 200", "$0\r\n\r\n"),
            ("GETRANGE s 0 9223372036854775807", "$11\r\nHello-World\r\n"),
            (
                "GETRANGE s -9223372036854775808 9223372036854775807",
                "$11\r\nHello-World\r\n",
            ),
            ("GETRANGE s a 1", NOT_INTEGER),
            ("GETRANGE s 1 a", NOT_INTEGER),
            ("GETRANGE s 0 9223372036854775808", NOT_INTEGER),
            ("GETRANGE nokey 0 1", "$0\r\n\r\n"),
            ("GETRANGE nokey a 1", NOT_INTEGER),
            ("GETRANGE s 0", arity("getrange").as_str()),
            ("SUBSTR s 0 4", "$5\r\nHello\r\n"),
            ("SUBSTR s 0", arity("substr").as_str()),
            // SETRANGE.
            ("SETRANGE s -1 x", "-ERR offset is out of range\r\n"),
            ("SETRANGE s a x", NOT_INTEGER),
            ("SETRANGE s 9223372036854775808 x", NOT_INTEGER),
            ("SETRANGE s 6 Redis", ":11\r\n"),
            ("GET s", "$11\r\nHello-Redis\r\n"),
            ("SETRANGE s 9 xyz", ":12\r\n"),
            ("GET s", "$12\r\nHello-Redxyz\r\n"),
            ("SETRANGE new 3 abc", ":6\r\n"),
            ("GET new", "$6\r\n\0\0\0abc\r\n"),
            ("SETRANGE s 20 !", ":21\r\n"),
            ("GET s", "$21\r\nHello-Redxyz\0\0\0\0\0\0\0\0!\r\n"),
            ("SETRANGE s 1", arity("setrange").as_str()),
        ],
    );
    // An empty patch changes nothing and creates nothing.
    check(&mut c, &[b"SETRANGE", b"s", b"3", b""], b":21\r\n");
    check(&mut c, &[b"SETRANGE", b"absent", b"5", b""], b":0\r\n");
    check(&mut c, &[b"GET", b"absent"], b"$-1\r\n");
    check(&mut c, &[b"APPEND", b"s", b""], b":21\r\n");
    check(&mut c, &[b"GETRANGE", b"empty", b"0", b"-1"], b"$0\r\n\r\n");
    check(&mut c, &[b"SET", b"empty", b""], b"+OK\r\n");
    check(&mut c, &[b"GETRANGE", b"empty", b"0", b"-1"], b"$0\r\n\r\n");
    check(&mut c, &[b"GETRANGE", b"empty", b"0", b"0"], b"$0\r\n\r\n");
}

#[test]
fn string_length_limit_is_proto_max_bulk_len() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let too_long = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
    table(
        &mut c,
        &[
            // The default (512 MB) bounds the offset without allocating anything.
            ("SETRANGE k 536870912 x", too_long),
            ("SETRANGE k 9223372036854775807 x", too_long),
            ("SETRANGE k 536870912 ", ":0\r\n"),
            ("CONFIG SET proto-max-bulk-len 1mb", "+OK\r\n"),
            ("SETRANGE k 1048576 x", too_long),
            ("SETRANGE k 1048575 x", ":1048576\r\n"),
            ("SETRANGE k 1048576 x", too_long),
            ("SETRANGE k 0 y", ":1048576\r\n"),
            ("APPEND k z", too_long),
            ("STRLEN k", ":1048576\r\n"),
            // The same bounds for an existing key.
            ("SET a abc", "+OK\r\n"),
            ("SETRANGE a 1048576 x", too_long),
            ("SETRANGE a 1048572 x", ":1048573\r\n"),
            ("APPEND a zzz", ":1048576\r\n"),
            ("APPEND a z", too_long),
            ("STRLEN a", ":1048576\r\n"),
        ],
    );
}

#[test]
fn incr_decr_family() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let overflow = "-ERR increment or decrement would overflow\r\n";
    table(
        &mut c,
        &[
            ("INCR n", ":1\r\n"),
            ("INCRBY n 10", ":11\r\n"),
            ("DECR n", ":10\r\n"),
            ("DECRBY n 15", ":-5\r\n"),
            ("INCRBY n -5", ":-10\r\n"),
            ("GET n", "$3\r\n-10\r\n"),
            ("DECR fresh", ":-1\r\n"),
            // The increment must be a strict integer.
            ("INCRBY n abc", NOT_INTEGER),
            ("INCRBY n 01", NOT_INTEGER),
            ("INCRBY n +1", NOT_INTEGER),
            ("INCRBY n 1.0", NOT_INTEGER),
            ("INCRBY n 9223372036854775808", NOT_INTEGER),
            ("DECRBY n x", NOT_INTEGER),
            // So must the value.
            ("SET s abc", "+OK\r\n"),
            ("INCR s", NOT_INTEGER),
            ("SET s -0", "+OK\r\n"),
            ("INCR s", NOT_INTEGER),
            ("SET s 1.5", "+OK\r\n"),
            ("DECR s", NOT_INTEGER),
            ("SET s 99999999999999999999", "+OK\r\n"),
            ("INCR s", NOT_INTEGER),
            // Overflow at both ends.
            ("SET m 9223372036854775807", "+OK\r\n"),
            ("INCR m", overflow),
            ("INCRBY m 9223372036854775807", overflow),
            ("DECRBY m -1", overflow),
            ("SET m -9223372036854775808", "+OK\r\n"),
            ("DECR m", overflow),
            ("INCRBY m -1", overflow),
            ("DECRBY m -9223372036854775807", ":-1\r\n"),
            (
                "DECRBY m -9223372036854775808",
                "-ERR decrement would overflow\r\n",
            ),
            ("GET m", "$2\r\n-1\r\n"),
            // Values written by INCR read back as strings.
            ("APPEND m 5", ":3\r\n"),
            ("INCR m", ":-14\r\n"),
            ("INCR", arity("incr").as_str()),
            ("INCRBY n", arity("incrby").as_str()),
            ("DECRBY n 1 2", arity("decrby").as_str()),
            ("DECR a b", arity("decr").as_str()),
        ],
    );
}

#[test]
fn incrbyfloat_follows_long_double_rules() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let not_float = "-ERR value is not a valid float\r\n";
    let nan_inf = "-ERR increment would produce NaN or Infinity\r\n";
    table(
        &mut c,
        &[
            ("SET f 10.5", "+OK\r\n"),
            ("INCRBYFLOAT f 0.1", "$4\r\n10.6\r\n"),
            ("INCRBYFLOAT f -5", "$3\r\n5.6\r\n"),
            ("INCRBYFLOAT f 2.0e2", "$21\r\n205.60000000000000001\r\n"),
            ("SET f 3.0e3", "+OK\r\n"),
            ("INCRBYFLOAT f 0", "$4\r\n3000\r\n"),
            ("SET f 5.0e17", "+OK\r\n"),
            ("INCRBYFLOAT f 0", "$18\r\n500000000000000000\r\n"),
            ("INCRBYFLOAT g 0.1", "$3\r\n0.1\r\n"),
            ("INCRBYFLOAT g 0.2", "$3\r\n0.3\r\n"),
            ("INCRBYFLOAT g -0.3", "$1\r\n0\r\n"),
            ("INCRBYFLOAT g 0x1p-3", "$5\r\n0.125\r\n"),
            ("INCRBYFLOAT g 1e-20", "$5\r\n0.125\r\n"),
            ("INCRBYFLOAT h -1e-20", "$1\r\n0\r\n"),
            ("INCRBYFLOAT h 1.5e-17", "$19\r\n0.00000000000000002\r\n"),
            ("SET i 9223372036854775807", "+OK\r\n"),
            ("INCRBYFLOAT i 1", "$19\r\n9223372036854775808\r\n"),
            // Bad numbers, on either side.
            ("INCRBYFLOAT f abc", not_float),
            ("INCRBYFLOAT f nan", not_float),
            ("INCRBYFLOAT f 1e", not_float),
            ("INCRBYFLOAT f 1e5000", not_float),
            ("INCRBYFLOAT f 1e-5000", not_float),
            ("INCRBYFLOAT nokey abc", not_float),
            ("SET s abc", "+OK\r\n"),
            ("INCRBYFLOAT s 1", not_float),
            ("GET nokey", "$-1\r\n"),
            ("INCRBYFLOAT f inf", nan_inf),
            ("INCRBYFLOAT f -Infinity", nan_inf),
            ("SET big 1e4932", "+OK\r\n"),
            ("INCRBYFLOAT big 1e4932", nan_inf),
            ("INCRBYFLOAT f", arity("incrbyfloat").as_str()),
        ],
    );
    check(&mut c, &[b"INCRBYFLOAT", b"f", b" 1"], not_float.as_bytes());
    check(&mut c, &[b"INCRBYFLOAT", b"f", b"1 "], not_float.as_bytes());
    check(&mut c, &[b"INCRBYFLOAT", b"f", b""], not_float.as_bytes());
    // Large results print every integer digit, as %.17Lf does.
    c.cmd(&[b"INCRBYFLOAT", b"large", b"1e300"]);
    let text = c.frame().text();
    assert_eq!(text.len(), 301);
    assert!(
        text.starts_with("10000000000000000000089973240795591938705"),
        "{text}"
    );
}

#[test]
fn resp3_nulls_and_types() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"HELLO 3\r\n");
    let _ = c.frame();
    table(
        &mut c,
        &[
            ("GET nokey", "_\r\n"),
            ("MGET nokey a", "*2\r\n_\r\n_\r\n"),
            ("SET a 1 XX", "_\r\n"),
            ("SET a 1 GET", "_\r\n"),
            ("SET a 2 NX GET", "$1\r\n1\r\n"),
            ("MGET nokey a", "*2\r\n_\r\n$1\r\n1\r\n"),
            ("GETDEL nokey", "_\r\n"),
            ("GETEX nokey", "_\r\n"),
            ("GETSET nokey v", "_\r\n"),
            ("GETRANGE none 0 1", "$0\r\n\r\n"),
            ("INCRBYFLOAT fl 1.5", "$3\r\n1.5\r\n"),
            ("INCR n", ":1\r\n"),
        ],
    );
}

#[test]
fn command_table_rows() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    /// name, arity, flags, first key, last key, step (Redis 7's COMMAND INFO).
    type Row = (&'static str, i64, &'static [&'static str], i64, i64, i64);
    let rows: &[Row] = &[
        ("get", 2, &["readonly", "fast"], 1, 1, 1),
        ("set", -3, &["write", "denyoom"], 1, 1, 1),
        ("setnx", 3, &["write", "denyoom", "fast"], 1, 1, 1),
        ("setex", 4, &["write", "denyoom"], 1, 1, 1),
        ("psetex", 4, &["write", "denyoom"], 1, 1, 1),
        ("getset", 3, &["write", "denyoom", "fast"], 1, 1, 1),
        ("mget", -2, &["readonly", "fast"], 1, -1, 1),
        ("mset", -3, &["write", "denyoom"], 1, -1, 2),
        ("msetnx", -3, &["write", "denyoom"], 1, -1, 2),
        ("getdel", 2, &["write", "fast"], 1, 1, 1),
        ("getex", -2, &["write", "fast"], 1, 1, 1),
        ("append", 3, &["write", "denyoom", "fast"], 1, 1, 1),
        ("strlen", 2, &["readonly", "fast"], 1, 1, 1),
        ("getrange", 4, &["readonly"], 1, 1, 1),
        ("substr", 4, &["readonly"], 1, 1, 1),
        ("setrange", 4, &["write", "denyoom"], 1, 1, 1),
        ("incr", 2, &["write", "denyoom", "fast"], 1, 1, 1),
        ("decr", 2, &["write", "denyoom", "fast"], 1, 1, 1),
        ("incrby", 3, &["write", "denyoom", "fast"], 1, 1, 1),
        ("decrby", 3, &["write", "denyoom", "fast"], 1, 1, 1),
        ("incrbyfloat", 3, &["write", "denyoom", "fast"], 1, 1, 1),
    ];
    for &(name, arity, flags, first, last, step) in rows {
        c.cmd(&[b"COMMAND", b"INFO", name.as_bytes()]);
        let reply = c.frame();
        let info = reply.items()[0].items();
        assert_eq!(info[0], Frame::bulk(name));
        assert_eq!(info[1], Frame::Int(arity), "{name}");
        let got: Vec<String> = info[2].items().iter().map(Frame::text).collect();
        assert_eq!(got, flags, "{name}");
        assert_eq!(
            &info[3..6],
            &[Frame::Int(first), Frame::Int(last), Frame::Int(step)],
            "{name}"
        );
    }
}

#[test]
fn denyoom_writes_are_refused_at_maxmemory() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    table(
        &mut c,
        &[
            ("SET k 10", "+OK\r\n"),
            ("SET other v", "+OK\r\n"),
            ("CONFIG SET maxmemory 1", "+OK\r\n"),
            ("SET k v", oom),
            ("SETNX x v", oom),
            ("MSET x v", oom),
            ("INCR k", oom),
            ("APPEND k v", oom),
            // Reads and writes that free or keep memory still run.
            ("GET k", "$2\r\n10\r\n"),
            ("GETEX k PERSIST", "$2\r\n10\r\n"),
            ("GETDEL other", "$1\r\nv\r\n"),
            ("CONFIG SET maxmemory 0", "+OK\r\n"),
            ("INCR k", ":11\r\n"),
        ],
    );
}

#[test]
fn reads_count_keyspace_hits_and_misses() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(&mut c, &[("SET s v", "+OK\r\n")]);
    // (command, hits, misses) as Redis counts them.
    let rows: &[(&str, u64, u64)] = &[
        ("GET s", 1, 0),
        ("GET nokey", 0, 1),
        ("MGET s nokey nokey", 1, 2),
        ("STRLEN nokey", 0, 1),
        ("GETRANGE s 0 1", 1, 0),
        ("GETEX s", 1, 0),
        ("SET s v GET", 1, 0),
        ("SET t v GET", 0, 1),
        ("GETSET s v", 1, 0),
        ("GETDEL nokey", 0, 1),
        ("INCR n", 0, 0),
        ("APPEND s x", 0, 0),
        ("SETRANGE s 0 x", 0, 0),
        ("SETNX s v", 0, 0),
        ("MSETNX s v", 0, 0),
        ("INCRBYFLOAT f 1", 0, 0),
        ("SET s v", 0, 0),
    ];
    for &(command, hits, misses) in rows {
        let (h0, m0) = (
            info_field(&mut c, "keyspace_hits"),
            info_field(&mut c, "keyspace_misses"),
        );
        let words: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
        c.cmd(&words);
        let _ = c.frame();
        let (h1, m1) = (
            info_field(&mut c, "keyspace_hits"),
            info_field(&mut c, "keyspace_misses"),
        );
        assert_eq!((h1 - h0, m1 - m0), (hits, misses), "{command}");
    }
}

/// Read the next `pmessage` on a `__keyevent@0__:*` pattern: (event, key).
fn next_event(sub: &mut Raw) -> (String, String) {
    let frame = sub.frame();
    let items = frame.items();
    assert_eq!(items[0], Frame::bulk("pmessage"), "{frame:?}");
    let channel = items[2].text();
    let event = channel
        .strip_prefix("__keyevent@0__:")
        .unwrap_or_else(|| panic!("{channel}"));
    (event.to_string(), items[3].text())
}

#[test]
fn keyspace_events_match_redis() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[("CONFIG SET notify-keyspace-events KEA", "+OK\r\n")],
    );
    let mut events = server.raw();
    events.roundtrip(
        b"PSUBSCRIBE __keyevent@0__:*\r\n",
        b"*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n",
    );
    let mut keyspace = server.raw();
    keyspace.roundtrip(
        b"SUBSCRIBE __keyspace@0__:k\r\n",
        b"*3\r\n$9\r\nsubscribe\r\n$16\r\n__keyspace@0__:k\r\n:1\r\n",
    );
    let commands = [
        "SET k v",
        "SET k v NX",
        "SET k v2 PX 100000",
        "GETEX k PERSIST",
        "GETEX k PERSIST",
        "GETEX k EX 100",
        "GETEX k",
        "SET k v EXAT 1",
        "SET k 1",
        "INCR k",
        "INCRBYFLOAT k 1.5",
        "APPEND k x",
        "SETRANGE k 0 y",
        "GETDEL k",
        "GETSET k v",
        "GETEX k PXAT 1",
        "MSET a 1 b 2",
        "MSETNX a 1 c 2",
        "SETEX e 10 v",
        "SETNX f v",
        "SETRANGE g 0 ",
        "INCRBY h 5",
        "DECR h",
        "GET nokey",
        "SET end x",
    ];
    for command in commands {
        let words: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
        c.cmd(&words);
        let _ = c.frame();
    }
    let expected = [
        ("set", "k"),
        ("set", "k"),
        ("expire", "k"),
        ("persist", "k"),
        ("expire", "k"),
        ("set", "k"),
        ("expire", "k"),
        ("expired", "k"),
        ("set", "k"),
        ("incrby", "k"),
        ("incrbyfloat", "k"),
        ("append", "k"),
        ("setrange", "k"),
        ("del", "k"),
        ("set", "k"),
        ("del", "k"),
        ("set", "a"),
        ("set", "b"),
        ("set", "e"),
        ("expire", "e"),
        ("set", "f"),
        ("incrby", "h"),
        ("incrby", "h"),
        ("set", "end"),
    ];
    for (event, key) in expected {
        assert_eq!(next_event(&mut events), (event.into(), key.into()));
    }
    // The same changes of `k`, seen on its keyspace channel.
    for event in [
        "set",
        "set",
        "expire",
        "persist",
        "expire",
        "set",
        "expire",
        "expired",
        "set",
        "incrby",
        "incrbyfloat",
        "append",
        "setrange",
        "del",
        "set",
        "del",
    ] {
        let frame = keyspace.frame();
        assert_eq!(
            frame.items(),
            &[
                Frame::bulk("message"),
                Frame::bulk("__keyspace@0__:k"),
                Frame::bulk(event)
            ]
        );
    }
}

#[test]
fn new_key_and_keymiss_events() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    table(
        &mut c,
        &[("CONFIG SET notify-keyspace-events KEnm$", "+OK\r\n")],
    );
    let mut events = server.raw();
    events.roundtrip(
        b"PSUBSCRIBE __keyevent@0__:*\r\n",
        b"*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n",
    );
    for command in [
        "GET a",
        "SET a 1",
        "SET a 2",
        "MGET a b",
        "SET c v GET",
        "INCR d",
        "APPEND d 1",
        "SET end x",
    ] {
        let words: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
        c.cmd(&words);
        let _ = c.frame();
    }
    for (event, key) in [
        ("keymiss", "a"),
        ("new", "a"),
        ("set", "a"),
        ("set", "a"),
        ("keymiss", "b"),
        ("keymiss", "c"),
        ("new", "c"),
        ("set", "c"),
        ("new", "d"),
        ("incrby", "d"),
        ("append", "d"),
        ("new", "end"),
        ("set", "end"),
    ] {
        assert_eq!(next_event(&mut events), (event.into(), key.into()));
    }
}

#[test]
fn mset_is_atomic_for_readers() {
    let server = Server::start(&[]);
    let addr = server.addr;
    // 16 keys spread over the shards; every MSET gives them all one new value.
    let keys: Vec<String> = (0..16).map(|k| format!("atomic:{k}")).collect();
    let writer_keys = keys.clone();
    let writer = std::thread::spawn(move || {
        let mut c = Raw::connect(addr);
        for i in 0..3000 {
            let v = i.to_string();
            let mut args: Vec<&[u8]> = vec![b"MSET"];
            for k in &writer_keys {
                args.push(k.as_bytes());
                args.push(v.as_bytes());
            }
            check(&mut c, &args, b"+OK\r\n");
        }
    });
    let mut reader = server.raw();
    let mut mget: Vec<&[u8]> = vec![b"MGET"];
    mget.extend(keys.iter().map(|k| k.as_bytes()));
    while !writer.is_finished() {
        reader.cmd(&mget);
        let reply = reader.frame();
        let values = reply.items();
        assert!(
            values.iter().all(|v| *v == values[0]),
            "a reader saw a partial MSET: {values:?}"
        );
    }
    writer.join().unwrap();
}

/// A server in this process, so tests can put values in the store that no
/// command of this family creates (lists) and read what the store keeps
/// (TTLs to the millisecond, memcached flags).
struct InProcess {
    shared: Arc<Shared>,
    addr: SocketAddr,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcess {
    fn start() -> InProcess {
        let config = herald::config::Config {
            memcache_port: 0,
            ..Default::default()
        };
        let shared = Shared::new(config, "test".into());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listeners = runtime
            .block_on(herald::server::Listeners::bind(
                &["127.0.0.1".to_string()],
                0,
                0,
            ))
            .expect("bind");
        let addr = listeners.resp_addrs()[0];
        let serving = shared.clone();
        let thread = std::thread::spawn(move || {
            runtime.block_on(herald::server::run(serving, listeners));
        });
        InProcess {
            shared,
            addr,
            thread: Some(thread),
        }
    }

    fn raw(&self) -> Raw {
        Raw::connect(self.addr)
    }

    fn put(&self, key: &[u8], value: Value, expires_at_ms: u64, flags: u32) {
        self.shared
            .store
            .slot(0, key, unix_ms())
            .insert(value, expires_at_ms, flags);
    }

    /// (expires_at_ms, flags) of a key, if present.
    fn meta(&self, key: &[u8]) -> Option<(u64, u32)> {
        self.shared
            .store
            .slot(0, key, unix_ms())
            .peek()
            .map(|e| (e.expires_at_ms, e.flags))
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|i| Bytes::from(i.to_string())).collect())
}

#[test]
fn other_types_answer_wrongtype() {
    let server = InProcess::start();
    let mut c = server.raw();
    server.put(b"l", list(&["a"]), 0, 0);
    table(
        &mut c,
        &[
            ("GET l", WRONGTYPE),
            ("GETSET l v", WRONGTYPE),
            ("GETDEL l", WRONGTYPE),
            ("GETEX l", WRONGTYPE),
            ("GETEX l EX 10", WRONGTYPE),
            // The expiry value is checked after the type.
            ("GETEX l EX abc", WRONGTYPE),
            ("SET l v GET", WRONGTYPE),
            ("SET l v NX GET", WRONGTYPE),
            ("APPEND l x", WRONGTYPE),
            ("STRLEN l", WRONGTYPE),
            ("GETRANGE l 0 1", WRONGTYPE),
            ("GETRANGE l a 1", NOT_INTEGER),
            ("SETRANGE l 0 x", WRONGTYPE),
            ("SETRANGE l 536870912 x", WRONGTYPE),
            ("SETRANGE l -1 x", "-ERR offset is out of range\r\n"),
            ("INCR l", WRONGTYPE),
            ("DECRBY l 2", WRONGTYPE),
            ("INCRBY l abc", NOT_INTEGER),
            ("INCRBYFLOAT l 1", WRONGTYPE),
            ("INCRBYFLOAT l abc", WRONGTYPE),
            // Wrong-type keys exist for NX, MSETNX and SETNX; MGET reads them as nil.
            ("SET l v NX", "$-1\r\n"),
            ("SETNX l v", ":0\r\n"),
            ("MSETNX l v fresh v", ":0\r\n"),
            ("MGET l fresh", "*2\r\n$-1\r\n$-1\r\n"),
        ],
    );
    check(
        &mut c,
        &[b"SETRANGE", b"l", b"0", b""],
        WRONGTYPE.as_bytes(),
    );
    assert!(matches!(
        server
            .shared
            .store
            .slot(0, b"l", unix_ms())
            .peek()
            .map(|e| e.value().type_name()),
        Some("list")
    ));
    // SET, SETEX, GETSET's siblings and MSET overwrite any type.
    for (command, key) in [
        ("SET l v", "l"),
        ("SETEX l2 100 v", "l2"),
        ("MSET l3 v", "l3"),
        ("SET l4 v XX", "l4"),
    ] {
        server.put(key.as_bytes(), list(&["a"]), 0, 0);
        table(&mut c, &[(command, "+OK\r\n")]);
        table(&mut c, &[(format!("GET {key}").as_str(), "$1\r\nv\r\n")]);
    }
}

#[test]
fn in_place_writes_keep_ttl_and_flags_replacements_reset_them() {
    let server = InProcess::start();
    let mut c = server.raw();
    let far = unix_ms() + 3_600_000;
    for key in [
        "append",
        "setrange",
        "incr",
        "incrbyfloat",
        "keepttl",
        "set",
        "getset",
        "mset",
    ] {
        server.put(
            key.as_bytes(),
            Value::Str(Bytes::from_static(b"1")),
            far,
            42,
        );
    }
    table(
        &mut c,
        &[
            ("APPEND append 2", ":2\r\n"),
            ("SETRANGE setrange 0 2", ":1\r\n"),
            ("INCR incr", ":2\r\n"),
            ("INCRBYFLOAT incrbyfloat 1", "$1\r\n2\r\n"),
            ("SET keepttl v KEEPTTL", "+OK\r\n"),
            ("SET set v", "+OK\r\n"),
            ("GETSET getset v", "$1\r\n1\r\n"),
            ("MSET mset v", "+OK\r\n"),
        ],
    );
    for key in ["append", "setrange", "incr", "incrbyfloat"] {
        assert_eq!(server.meta(key.as_bytes()), Some((far, 42)), "{key}");
    }
    assert_eq!(server.meta(b"keepttl"), Some((far, 0)));
    for key in ["set", "getset", "mset"] {
        assert_eq!(server.meta(key.as_bytes()), Some((0, 0)), "{key}");
    }
    // Keys these commands create get flags 0 and no TTL.
    table(
        &mut c,
        &[
            ("APPEND a2 x", ":1\r\n"),
            ("SETRANGE s2 1 x", ":2\r\n"),
            ("INCR i2", ":1\r\n"),
            ("INCRBYFLOAT f2 1", "$1\r\n1\r\n"),
        ],
    );
    for key in ["a2", "s2", "i2", "f2"] {
        assert_eq!(server.meta(key.as_bytes()), Some((0, 0)), "{key}");
    }
}

#[test]
fn expiry_times_are_absolute_unix_ms() {
    let server = InProcess::start();
    let mut c = server.raw();
    let before = unix_ms();
    table(
        &mut c,
        &[
            ("SET ex v EX 100", "+OK\r\n"),
            ("SET px v PX 5000", "+OK\r\n"),
            ("SET exat v EXAT 4102444800", "+OK\r\n"),
            ("SET pxat v PXAT 4102444800123", "+OK\r\n"),
            ("SETEX setex 7 v", "+OK\r\n"),
            ("PSETEX psetex 700 v", "+OK\r\n"),
            ("SET getex v", "+OK\r\n"),
            ("GETEX getex EX 9", "$1\r\nv\r\n"),
            ("SET persist v EX 9", "+OK\r\n"),
            ("GETEX persist PERSIST", "$1\r\nv\r\n"),
        ],
    );
    let after = unix_ms();
    let within = |key: &str, ms: u64| {
        let (at, _) = server.meta(key.as_bytes()).expect(key);
        assert!(
            (before + ms..=after + ms).contains(&at),
            "{key}: {at} not within {}..={}",
            before + ms,
            after + ms
        );
    };
    within("ex", 100_000);
    within("px", 5000);
    within("setex", 7000);
    within("psetex", 700);
    within("getex", 9000);
    assert_eq!(server.meta(b"exat"), Some((4_102_444_800_000, 0)));
    assert_eq!(server.meta(b"pxat"), Some((4_102_444_800_123, 0)));
    assert_eq!(server.meta(b"persist"), Some((0, 0)));
}
