//! Stream commands at the wire: exact replies for every command, option and
//! error (the tables were taken from redis-server 7.0.15), RESP3 shapes,
//! wrong types touching nothing, keyspace events, the generic commands on
//! stream keys (TYPE, OBJECT ENCODING, COPY, RENAME, MOVE, expiry, WATCH,
//! MEMORY USAGE, SCAN TYPE), and blocking XREAD.

mod common;

use std::time::Duration;

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

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn xadd_ids_arguments_and_errors() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("XADD s 1-1 a b", "$3\r\n1-1\r\n"),
            ("XADD s 1-1 a b", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
            ("XADD s 1-0 a b", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
            ("XADD s 0-0 a b", "-ERR The ID specified in XADD must be greater than 0-0\r\n"),
            ("XADD s 1-* c d", "$3\r\n1-2\r\n"),
            ("XADD s 5 e f", "$3\r\n5-0\r\n"),
            ("XADD s 5-* e f", "$3\r\n5-1\r\n"),
            ("XADD s 7-0 one 1 two 2 three 3", "$3\r\n7-0\r\n"),
            ("XADD s 8-0 a", "-ERR wrong number of arguments for 'xadd' command\r\n"),
            ("XADD s", "-ERR wrong number of arguments for 'xadd' command\r\n"),
            ("XADD s 9-0", "-ERR wrong number of arguments for 'xadd' command\r\n"),
            ("XADD s NOMKSTREAM 9-0 a b", "$3\r\n9-0\r\n"),
            ("XADD nos NOMKSTREAM 9-0 a b", "$-1\r\n"),
            ("EXISTS nos", ":0\r\n"),
            ("XADD s foo a b", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XADD s 18446744073709551616-0 a b", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XADD s - a b", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XADD s + a b", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XADD s 1--1 a b", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XADD s 10-x a b", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XLEN s", ":6\r\n"),
            ("XRANGE s - +", "*6\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nc\r\n$1\r\nd\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\nf\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\ne\r\n$1\r\nf\r\n*2\r\n$3\r\n7-0\r\n*6\r\n$3\r\none\r\n$1\r\n1\r\n$3\r\ntwo\r\n$1\r\n2\r\n$5\r\nthree\r\n$1\r\n3\r\n*2\r\n$3\r\n9-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("XADD edge 18446744073709551615-18446744073709551615 a b", "$41\r\n18446744073709551615-18446744073709551615\r\n"),
            ("XADD edge * a b", "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"),
            ("XADD edge 1-* a b", "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"),
            ("XADD seq 1-18446744073709551615 a b", "$22\r\n1-18446744073709551615\r\n"),
            ("XADD seq 1-* a b", "-ERR Elements are too large to be stored\r\n"),
            ("XADD zero 0-* a b", "$3\r\n0-1\r\n"),
        ],
    );
}

#[test]
fn xadd_and_xtrim_trimming_options() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 2-0 a 2", "$3\r\n2-0\r\n"),
            ("XADD s 3-0 a 3", "$3\r\n3-0\r\n"),
            ("XADD s MAXLEN 2 4-0 a 4", "$3\r\n4-0\r\n"),
            ("XRANGE s - +", "*2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n"),
            ("XADD s MAXLEN = 1 5-0 a 5", "$3\r\n5-0\r\n"),
            ("XRANGE s - +", "*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n"),
            ("XADD s MAXLEN 0 6-0 a 6", "$3\r\n6-0\r\n"),
            ("XLEN s", ":0\r\n"),
            ("EXISTS s", ":1\r\n"),
            ("XADD s MINID 10 7-0 a 7", "$3\r\n7-0\r\n"),
            ("XLEN s", ":0\r\n"),
            ("XADD s 10-0 a 10", "$4\r\n10-0\r\n"),
            ("XADD s 11-0 a 11", "$4\r\n11-0\r\n"),
            ("XADD s MINID = 11 12-0 a 12", "$4\r\n12-0\r\n"),
            ("XRANGE s - +", "*2\r\n*2\r\n$4\r\n11-0\r\n*2\r\n$1\r\na\r\n$2\r\n11\r\n*2\r\n$4\r\n12-0\r\n*2\r\n$1\r\na\r\n$2\r\n12\r\n"),
            ("XADD s MAXLEN -1 13-0 a b", "-ERR The MAXLEN argument must be >= 0.\r\n"),
            ("XADD s MAXLEN abc 13-0 a b", "-ERR value is not an integer or out of range\r\n"),
            ("XADD s MINID - 13-0 a b", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XADD s MINID bad 13-0 a b", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XADD s MAXLEN 5 MINID 3 13-0 a b", "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"),
            ("XADD s MINID 3 MAXLEN 5 13-0 a b", "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"),
            ("XADD s LIMIT 5 13-0 a b", "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"),
            ("XADD s LIMIT 0 13-0 a b", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"),
            ("XADD s MAXLEN 5 LIMIT 5 14-0 a b", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"),
            ("XADD s MAXLEN ~ 5 LIMIT -1 14-0 a b", "-ERR The LIMIT argument must be >= 0.\r\n"),
            ("XADD s MAXLEN ~ 5 LIMIT x 14-0 a b", "-ERR value is not an integer or out of range\r\n"),
            ("XADD s MAXLEN ~ 5 LIMIT 0 14-0 a b", "$4\r\n14-0\r\n"),
            ("XADD s MAXLEN ~ 100 15-0 a b", "$4\r\n15-0\r\n"),
            ("XADD s MINID ~ 0 16-0 a b", "$4\r\n16-0\r\n"),
            ("XADD s MAXLEN", "-ERR wrong number of arguments for 'xadd' command\r\n"),
            ("XADD s MAXLEN ~", "-ERR wrong number of arguments for 'xadd' command\r\n"),
            ("XTRIM s", "-ERR wrong number of arguments for 'xtrim' command\r\n"),
            ("XTRIM s MAXLEN", "-ERR wrong number of arguments for 'xtrim' command\r\n"),
            ("XTRIM s MAXLEN 0 LIMIT 1", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"),
            ("XTRIM s FOO 1", "-ERR syntax error\r\n"),
            ("XTRIM s MAXLEN 1 MINID 1", "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"),
            ("XTRIM s MAXLEN 1 FOO", "-ERR syntax error\r\n"),
            ("XTRIM nokey MAXLEN 0", ":0\r\n"),
            ("XTRIM s MAXLEN = 2", ":3\r\n"),
            ("XRANGE s - +", "*2\r\n*2\r\n$4\r\n15-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$4\r\n16-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("XTRIM s MINID 16", ":1\r\n"),
            ("XRANGE s - +", "*1\r\n*2\r\n$4\r\n16-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("XTRIM s MAXLEN 0", ":1\r\n"),
            ("XLEN s", ":0\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$4\r\n16-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:13\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
        ],
    );
}

#[test]
fn xrange_and_xrevrange_bounds_and_count() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 1-1 a 2", "$3\r\n1-1\r\n"),
            ("XADD s 2-0 a 3", "$3\r\n2-0\r\n"),
            ("XADD s 3-5 a 4", "$3\r\n3-5\r\n"),
            ("XADD s 18446744073709551615-18446744073709551615 a 5", "$41\r\n18446744073709551615-18446744073709551615\r\n"),
            ("XRANGE s - +", "*5\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n*2\r\n$3\r\n3-5\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n*2\r\n$41\r\n18446744073709551615-18446744073709551615\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n"),
            ("XRANGE s - + COUNT 0", "*-1\r\n"),
            ("XRANGE s - + COUNT -5", "*-1\r\n"),
            ("XRANGE s - + COUNT 2", "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n"),
            ("XRANGE s - + COUNT 1 COUNT 3", "*3\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n"),
            ("XRANGE s - + COUNT", "-ERR syntax error\r\n"),
            ("XRANGE s - + FOO 1", "-ERR syntax error\r\n"),
            ("XRANGE s - + COUNT x", "-ERR value is not an integer or out of range\r\n"),
            ("XRANGE s (1-0 +", "*4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n*2\r\n$3\r\n3-5\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n*2\r\n$41\r\n18446744073709551615-18446744073709551615\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n"),
            ("XRANGE s (1-0 (2-0", "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n"),
            ("XRANGE s - (3-5", "*3\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n"),
            ("XRANGE s 1 1", "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n"),
            ("XRANGE s 3 +", "*2\r\n*2\r\n$3\r\n3-5\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n*2\r\n$41\r\n18446744073709551615-18446744073709551615\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n"),
            ("XRANGE s 2 1", "*0\r\n"),
            ("XRANGE s (- +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XRANGE s - (+", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XRANGE s ( +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XRANGE s (18446744073709551615-18446744073709551615 +", "-ERR invalid start ID for the interval\r\n"),
            ("XRANGE s - (0-0", "-ERR invalid end ID for the interval\r\n"),
            ("XRANGE s a +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XRANGE s - b", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XREVRANGE s + -", "*5\r\n*2\r\n$41\r\n18446744073709551615-18446744073709551615\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n*2\r\n$3\r\n3-5\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XREVRANGE s + - COUNT 2", "*2\r\n*2\r\n$41\r\n18446744073709551615-18446744073709551615\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n*2\r\n$3\r\n3-5\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n"),
            ("XREVRANGE s (3-5 -", "*3\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XREVRANGE s 2 1", "*3\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XREVRANGE s 1 -", "*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XRANGE nokey - +", "*0\r\n"),
            ("XREVRANGE nokey + -", "*0\r\n"),
            ("XLEN s", ":5\r\n"),
            ("XLEN nokey", ":0\r\n"),
        ],
    );
}

#[test]
fn xdel_and_xsetid_counters() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 2-0 a 2", "$3\r\n2-0\r\n"),
            ("XADD s 3-0 a 3", "$3\r\n3-0\r\n"),
            ("XDEL nokey 1-0", ":0\r\n"),
            ("XDEL nokey bad", ":0\r\n"),
            ("XDEL s bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XDEL s 1-0 bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XLEN s", ":3\r\n"),
            ("XDEL s 2-0 9-0 2-0", ":1\r\n"),
            ("XDEL s 2-0", ":0\r\n"),
            ("XRANGE s - +", "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n2-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n"),
            ("XDEL s 1-0 3-0", ":2\r\n"),
            ("XLEN s", ":0\r\n"),
            ("EXISTS s", ":1\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n3-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
            ("XADD s 3-0 a b", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
            ("XSETID s 100-0", "+OK\r\n"),
            ("XSETID s 100", "+OK\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$5\r\n100-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n3-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
            ("XADD s 50-0 a b", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
            ("XADD s 101-0 a b", "$5\r\n101-0\r\n"),
            ("XSETID s 100-0", "-ERR The ID specified in XSETID is smaller than the target stream top item\r\n"),
            ("XSETID s 101-0 ENTRIESADDED 0", "-ERR The entries_added specified in XSETID is smaller than the target stream length\r\n"),
            ("XSETID s 101-0 ENTRIESADDED -1", "-ERR entries_added must be positive\r\n"),
            ("XSETID s 101-0 ENTRIESADDED x", "-ERR value is not an integer or out of range\r\n"),
            ("XSETID s 101-0 MAXDELETEDID 200-0", "-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n"),
            ("XSETID s 101-0 MAXDELETEDID 50-0 ENTRIESADDED 50", "+OK\r\n"),
            ("XSETID s 101-0 MAXDELETEDID", "-ERR syntax error\r\n"),
            ("XSETID s 101-0 0", "-ERR syntax error\r\n"),
            ("XSETID s 101-0 0-0", "-ERR syntax error\r\n"),
            ("XSETID s 101-0 FOO", "-ERR syntax error\r\n"),
            ("XSETID s -", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XSETID s bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XSETID nokey 1-0", "-ERR no such key\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$5\r\n101-0\r\n$20\r\nmax-deleted-entry-id\r\n$4\r\n50-0\r\n$13\r\nentries-added\r\n:50\r\n$23\r\nrecorded-first-entry-id\r\n$5\r\n101-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$5\r\n101-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n$10\r\nlast-entry\r\n*2\r\n$5\r\n101-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("XDEL s 101-0", ":1\r\n"),
            ("XSETID s 1-0", "+OK\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n1-0\r\n$20\r\nmax-deleted-entry-id\r\n$5\r\n101-0\r\n$13\r\nentries-added\r\n:50\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
        ],
    );
}

#[test]
fn xread_without_blocking() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
            ("XADD t 1-0 c 3", "$3\r\n1-0\r\n"),
            ("XREAD STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREAD COUNT 1 STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XREAD COUNT 0 STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREAD COUNT -1 STREAMS s 1", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREAD STREAMS s t 0 0", "*2\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            ("XREAD STREAMS s t 1-0 1-0", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREAD STREAMS nokey s 0 0", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREAD STREAMS s $", "*-1\r\n"),
            ("XREAD STREAMS nokey $", "*-1\r\n"),
            ("XREAD STREAMS s 2-0", "*-1\r\n"),
            // Redis 7.4's `+`: the last entry (7.0 refused it as an invalid ID).
            ("XREAD STREAMS s +", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREAD STREAMS s nokey + +", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREAD STREAMS s -", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XREAD STREAMS s >", "-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.\r\n"),
            ("XREAD STREAMS s", "-ERR wrong number of arguments for 'xread' command\r\n"),
            ("XREAD STREAMS s s 0", "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n"),
            ("XREAD STREAMS s s 0 0", "*2\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREAD COUNT x STREAMS s 0", "-ERR value is not an integer or out of range\r\n"),
            ("XREAD BLOCK x STREAMS s 0", "-ERR timeout is not an integer or out of range\r\n"),
            ("XREAD BLOCK -1 STREAMS s 0", "-ERR timeout is negative\r\n"),
            ("XREAD BLOCK 100 STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREAD GROUP g c STREAMS s 0", "-ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.\r\n"),
            ("XREAD NOACK STREAMS s 0", "-ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.\r\n"),
            ("XREAD FOO STREAMS s 0", "-ERR syntax error\r\n"),
            ("XREAD COUNT 1", "-ERR wrong number of arguments for 'xread' command\r\n"),
            ("XREAD STREAMS s bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XREAD STREAMS nokey 0", "*-1\r\n"),
            ("SET str v", "+OK\r\n"),
            ("XREAD STREAMS str 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("XREAD STREAMS s str 0 bad", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("XREAD STREAMS s str bad 0", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XREADGROUP GROUP g c STREAMS s >", "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"),
            ("XREADGROUP COUNT 1 STREAMS s >", "-ERR wrong number of arguments for 'xreadgroup' command\r\n"),
            ("XREADGROUP STREAMS s > GROUP", "-ERR wrong number of arguments for 'xreadgroup' command\r\n"),
        ],
    );
}

#[test]
fn generic_commands_on_streams() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
            ("XGROUP CREATE s g 0", "+OK\r\n"),
            ("TYPE s", "+stream\r\n"),
            ("OBJECT ENCODING s", "$6\r\nstream\r\n"),
            ("COPY s s2", ":1\r\n"),
            ("XRANGE s2 - +", "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XINFO GROUPS s2", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:2\r\n"),
            ("RENAME s2 s3", "+OK\r\n"),
            ("XLEN s3", ":2\r\n"),
            ("EXISTS s2", ":0\r\n"),
            ("MOVE s3 1", ":1\r\n"),
            ("EXISTS s3", ":0\r\n"),
            ("SELECT 1", "+OK\r\n"),
            ("XLEN s3", ":2\r\n"),
            ("SELECT 0", "+OK\r\n"),
            ("SET plain x", "+OK\r\n"),
            ("SCAN 0 TYPE stream", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\ns\r\n"),
            ("EXPIRE s 100", ":1\r\n"),
            ("TTL s", ":100\r\n"),
            ("PERSIST s", ":1\r\n"),
            ("TTL s", ":-1\r\n"),
            ("RENAME s plain", "+OK\r\n"),
            ("TYPE plain", "+stream\r\n"),
            ("XLEN plain", ":2\r\n"),
            ("XADD plain 3-0 c 3", "$3\r\n3-0\r\n"),
            ("DEL plain", ":1\r\n"),
            ("EXISTS plain", ":0\r\n"),
        ],
    );
}

#[test]
fn resp3_shapes() {
    let (_s, mut c) = connect();
    c.send(b"HELLO 3\r\n");
    assert!(matches!(c.frame(), Frame::Map(_)));
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
            ("XADD t 1-0 c 3", "$3\r\n1-0\r\n"),
            ("XREAD STREAMS s t 0 0", "%2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            ("XREAD STREAMS s t 5 5", "_\r\n"),
            ("XRANGE s - + COUNT 0", "_\r\n"),
            ("XADD nos NOMKSTREAM 1-0 a b", "_\r\n"),
            ("XGROUP CREATE s g 0", "+OK\r\n"),
            ("XREADGROUP GROUP g c COUNT 1 STREAMS s >", "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XDEL s 1-0", ":1\r\n"),
            ("XREADGROUP GROUP g c STREAMS s 0", "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n_\r\n"),
            ("XINFO GROUPS s", "*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n"),
            ("XINFO STREAM t", "%10\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n1-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:1\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            ("XTRIM t MAXLEN 0", ":1\r\n"),
            ("XINFO STREAM t", "%10\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n1-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:1\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n_\r\n$10\r\nlast-entry\r\n_\r\n"),
            ("XPENDING t g", "-NOGROUP No such key 't' or consumer group 'g'\r\n"),
            ("XGROUP CREATE t g 0", "+OK\r\n"),
            ("XPENDING t g", "*4\r\n:0\r\n_\r\n_\r\n_\r\n"),
            ("XINFO STREAM t FULL", "%9\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n1-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:1\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$7\r\nentries\r\n*0\r\n$6\r\ngroups\r\n*1\r\n%7\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n"),
        ],
    );
}

#[test]
fn wrong_type_touches_nothing() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("SET str v", "+OK\r\n"),
            ("XADD str 1-0 a b", WRONGTYPE),
            ("XADD str NOMKSTREAM 1-0 a b", WRONGTYPE),
            ("XLEN str", WRONGTYPE),
            ("XRANGE str - +", WRONGTYPE),
            ("XREVRANGE str + -", WRONGTYPE),
            ("XDEL str 1-0", WRONGTYPE),
            ("XTRIM str MAXLEN 0", WRONGTYPE),
            ("XSETID str 1-0", WRONGTYPE),
            ("XREAD STREAMS str 0", WRONGTYPE),
            ("XREADGROUP GROUP g c STREAMS str >", WRONGTYPE),
            ("XGROUP CREATE str g $", WRONGTYPE),
            ("XGROUP CREATE str g $ MKSTREAM", WRONGTYPE),
            ("XGROUP SETID str g 0", WRONGTYPE),
            ("XGROUP DESTROY str g", WRONGTYPE),
            ("XGROUP CREATECONSUMER str g c", WRONGTYPE),
            ("XGROUP DELCONSUMER str g c", WRONGTYPE),
            ("XACK str g 1-0", WRONGTYPE),
            ("XPENDING str g", WRONGTYPE),
            ("XCLAIM str g c 0 1-0", WRONGTYPE),
            ("XAUTOCLAIM str g c 0 0", WRONGTYPE),
            ("XINFO STREAM str", WRONGTYPE),
            ("XINFO GROUPS str", WRONGTYPE),
            ("XINFO CONSUMERS str g", WRONGTYPE),
            ("GET str", "$1\r\nv\r\n"),
            ("TYPE str", "+string\r\n"),
        ],
    );
}

#[test]
fn memory_usage_grows_with_entries_and_watch_sees_writes_only() {
    let (s, mut c) = connect();
    table(&mut c, &[("XADD s 1-0 f v", "$3\r\n1-0\r\n")]);
    c.send(b"MEMORY USAGE s\r\n");
    let small = match c.frame() {
        Frame::Int(n) => n,
        other => panic!("{other:?}"),
    };
    for i in 2..200 {
        c.send(format!("XADD s {i}-0 field value-{i}\r\n").as_bytes());
        c.frame();
    }
    c.send(b"MEMORY USAGE s\r\n");
    let big = match c.frame() {
        Frame::Int(n) => n,
        other => panic!("{other:?}"),
    };
    assert!(big > small + 199 * 10, "{small} -> {big}");

    // WATCH: XADD, XDEL and XTRIM touch the key; group commands do not (Redis
    // signals modified keys only there).
    let mut other = s.raw();
    table(&mut other, &[("XGROUP CREATE s g 0", "+OK\r\n")]);
    table(
        &mut c,
        &[
            ("WATCH s", "+OK\r\n"),
            ("MULTI", "+OK\r\n"),
            ("XLEN s", "+QUEUED\r\n"),
        ],
    );
    other.send(b"XREADGROUP GROUP g c COUNT 1 STREAMS s >\r\n");
    other.frame();
    table(
        &mut other,
        &[
            ("XACK s g 1-0", ":1\r\n"),
            ("XGROUP CREATECONSUMER s g d", ":1\r\n"),
        ],
    );
    table(&mut c, &[("EXEC", "*1\r\n:199\r\n")]);
    table(
        &mut c,
        &[
            ("WATCH s", "+OK\r\n"),
            ("MULTI", "+OK\r\n"),
            ("XLEN s", "+QUEUED\r\n"),
        ],
    );
    table(&mut other, &[("XDEL s 1-0 2-0", ":2\r\n")]);
    table(&mut c, &[("EXEC", "*-1\r\n")]);
}

#[test]
fn keyspace_events_of_class_t() {
    let (s, mut c) = connect();
    table(
        &mut c,
        &[("CONFIG SET notify-keyspace-events Ktn", "+OK\r\n")],
    );
    let mut sub = s.raw();
    sub.send(b"PSUBSCRIBE __keyspace@0__:*\r\n");
    sub.frame();
    for cmd in [
        "XADD s 1-0 a b",
        "XADD s MAXLEN 1 2-0 a b",
        "XDEL s 2-0",
        "XDEL s 9-0",
        "XTRIM s MAXLEN 0",
        "XSETID s 5-0",
        "XGROUP CREATE s g 0",
        "XGROUP CREATE s2 g 0 MKSTREAM",
        "XGROUP SETID s g 0",
        "XGROUP CREATECONSUMER s g c",
        "XADD s 6-0 a b",
        "XREADGROUP GROUP g c2 STREAMS s >",
        "XCLAIM s g c3 0 6-0",
        "XAUTOCLAIM s g c4 0 0",
        "XACK s g 6-0",
        "XGROUP DELCONSUMER s g nobody",
        "XGROUP DELCONSUMER s g c",
        "XGROUP DESTROY s g",
        "XGROUP DESTROY s g",
    ] {
        c.send(format!("{cmd}\r\n").as_bytes());
        c.frame();
    }
    let expected = [
        ("s", "new"),
        ("s", "xadd"),
        ("s", "xadd"),
        ("s", "xtrim"),
        ("s", "xdel"),
        ("s", "xsetid"),
        ("s", "xgroup-create"),
        ("s2", "new"),
        ("s2", "xgroup-create"),
        ("s", "xgroup-setid"),
        ("s", "xgroup-createconsumer"),
        ("s", "xadd"),
        ("s", "xgroup-createconsumer"),
        ("s", "xgroup-createconsumer"),
        ("s", "xgroup-createconsumer"),
        ("s", "xgroup-delconsumer"),
        ("s", "xgroup-destroy"),
    ];
    for (key, event) in expected {
        let m = sub.frame();
        let items = m.items();
        assert_eq!(items[2].text(), format!("__keyspace@0__:{key}"), "{m:?}");
        assert_eq!(items[3].text(), event, "{m:?}");
    }
    c.send(b"PING\r\n");
    c.frame();
    assert!(sub.read_available(Duration::from_millis(100)).is_empty());
}

// ---------------------------------------------------------------------------
// Blocking XREAD
// ---------------------------------------------------------------------------

fn blocked_clients(c: &mut Raw) -> usize {
    c.send(b"INFO clients\r\n");
    let info = c.frame().text();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

fn wait_blocked(c: &mut Raw, n: usize) {
    let started = std::time::Instant::now();
    while blocked_clients(c) != n {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never {n} blocked"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn xread_block_waits_for_entries_after_dollar() {
    let (s, mut c) = connect();
    table(&mut c, &[("XADD s 1-0 old v", "$3\r\n1-0\r\n")]);
    let mut r = s.raw();
    r.send(b"XREAD BLOCK 0 STREAMS other s $ $\r\n");
    wait_blocked(&mut c, 1);
    table(&mut c, &[("XADD s 2-0 new v", "$3\r\n2-0\r\n")]);
    r.expect(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$3\r\nnew\r\n$1\r\nv\r\n");
    wait_blocked(&mut c, 0);

    // `+` on a stream whose last entry is there: served at once; on a
    // missing stream it waits for the first entry.
    r.send(b"XREAD BLOCK 0 STREAMS s +\r\n");
    r.expect(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$3\r\nnew\r\n$1\r\nv\r\n");
    r.send(b"XREAD BLOCK 0 STREAMS fresh +\r\n");
    wait_blocked(&mut c, 1);
    table(&mut c, &[("XADD fresh 7-0 f v", "$3\r\n7-0\r\n")]);
    r.expect(b"*1\r\n*2\r\n$5\r\nfresh\r\n*1\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    table(
        &mut c,
        &[
            ("XGROUP CREATE fresh g 0", "+OK\r\n"),
            ("XREADGROUP GROUP g c STREAMS fresh +", "-ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.\r\n"),
            ("XGROUP CREATE empty g $ MKSTREAM", "+OK\r\n"),
            ("XREAD STREAMS empty +", "-ERR the stream last element ID is 0-0\r\n"),
        ],
    );

    // An old ID is served at once even with BLOCK.
    r.send(b"XREAD BLOCK 0 STREAMS s 1-0\r\n");
    r.expect(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$3\r\nnew\r\n$1\r\nv\r\n");

    // A timeout answers a null array.
    r.send(b"XREAD BLOCK 30 STREAMS s $\r\n");
    r.expect(b"*-1\r\n");

    // A client blocked on two keys is answered with the key that got entries;
    // COUNT applies; a missing stream does not stop it.
    r.send(b"XREAD COUNT 1 BLOCK 0 STREAMS a b $ $\r\n");
    wait_blocked(&mut c, 1);
    table(
        &mut c,
        &[
            ("MULTI", "+OK\r\n"),
            ("XADD b 1-0 x 1", "+QUEUED\r\n"),
            ("XADD b 2-0 x 2", "+QUEUED\r\n"),
            ("EXEC", "*2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n"),
        ],
    );
    r.expect(b"*1\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n");
}

#[test]
fn xread_block_is_not_woken_by_an_entry_deleted_in_the_same_transaction() {
    let (s, mut c) = connect();
    let mut r = s.raw();
    r.send(b"XREAD BLOCK 0 STREAMS s $\r\n");
    wait_blocked(&mut c, 1);
    table(
        &mut c,
        &[
            ("MULTI", "+OK\r\n"),
            ("XADD s 1-0 old v", "+QUEUED\r\n"),
            ("DEL s", "+QUEUED\r\n"),
            ("LPUSH s x", "+QUEUED\r\n"),
            ("EXEC", "*3\r\n$3\r\n1-0\r\n:1\r\n:1\r\n"),
            ("DEL s", ":1\r\n"),
        ],
    );
    assert_eq!(blocked_clients(&mut c), 1);
    // After the stream was deleted its `$` (0-0 for a missing key) still
    // holds: a new stream's first entry is served.
    table(&mut c, &[("XADD s 5-0 new v", "$3\r\n5-0\r\n")]);
    r.expect(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$3\r\nnew\r\n$1\r\nv\r\n");
}

#[test]
fn every_reader_blocked_on_a_stream_gets_the_entry() {
    let (s, mut c) = connect();
    let mut readers: Vec<Raw> = (0..3).map(|_| s.raw()).collect();
    for (i, r) in readers.iter_mut().enumerate() {
        // Each waits for entries after its own ID.
        r.send(format!("XREAD BLOCK 0 STREAMS s 0-{i}\r\n").as_bytes());
    }
    wait_blocked(&mut c, 3);
    table(&mut c, &[("XADD s 0-2 f v", "$3\r\n0-2\r\n")]);
    let entry = b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n0-2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";
    readers[0].expect(entry);
    readers[1].expect(entry);
    // The third waits for entries after 0-2: still blocked.
    assert_eq!(blocked_clients(&mut c), 1);
    table(&mut c, &[("XADD s 0-3 g w", "$3\r\n0-3\r\n")]);
    readers[2]
        .expect(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n0-3\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n");
}

#[test]
fn xread_block_in_resp3_multi_and_scripts() {
    let (s, mut c) = connect();
    let mut r = s.raw();
    r.send(b"HELLO 3\r\n");
    r.frame();
    r.send(b"XREAD BLOCK 0 STREAMS s $\r\n");
    wait_blocked(&mut c, 1);
    table(&mut c, &[("XADD s 1-0 f v", "$3\r\n1-0\r\n")]);
    r.expect(b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    r.send(b"XREAD BLOCK 10 STREAMS s $\r\n");
    r.expect(b"_\r\n");
    table(
        &mut c,
        &[
            ("MULTI", "+OK\r\n"),
            ("XREAD BLOCK 0 STREAMS s $", "+QUEUED\r\n"),
            ("EXEC", "*1\r\n*-1\r\n"),
            (
                "EVAL \"return redis.call('xread','BLOCK','0','STREAMS','s','$')\" 0",
                "-ERR xread command is not allowed with BLOCK option from scripts script: ",
            ),
        ],
    );
}
