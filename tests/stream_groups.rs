//! Consumer groups at the wire: exact replies for XGROUP, XREADGROUP,
//! XPENDING, XACK, XCLAIM, XAUTOCLAIM and XINFO (the tables were taken from
//! redis-server 7.0.15; times and idle counts are checked apart), lag and
//! entries-read as Redis 7 computes them, blocked XREADGROUP woken by XADD,
//! group destruction, key deletion and type changes, the crash-and-claim
//! example, and a concurrency run: 8 producers, 3 groups of 4 consumers,
//! 200,000 entries delivered exactly once per group and acknowledged.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

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

#[test]
fn xgroup_subcommands() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("XGROUP CREATE s g $", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
            ("XGROUP CREATE s g $ MKSTREAM", "+OK\r\n"),
            ("XGROUP CREATE s g $ MKSTREAM", "-BUSYGROUP Consumer Group name already exists\r\n"),
            ("XGROUP CREATE s g2 0 ENTRIESREAD 5", "+OK\r\n"),
            ("XGROUP CREATE s g3 0 ENTRIESREAD -2", "-ERR value for ENTRIESREAD must be positive or -1\r\n"),
            ("XGROUP CREATE s g3 0 ENTRIESREAD x", "-ERR value is not an integer or out of range\r\n"),
            ("XGROUP CREATE s g3 0 FOO", "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"),
            ("XGROUP CREATE s g3 bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XGROUP CREATE s g3 -", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XGROUP CREATE s g3 0 MKSTREAM MKSTREAM MKSTREAM MKSTREAM", "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"),
            ("XGROUP CREATE s", "-ERR wrong number of arguments for 'xgroup|create' command\r\n"),
            ("XGROUP CREATECONSUMER s g c6", ":1\r\n"),
            ("XGROUP CREATECONSUMER s g c6", ":0\r\n"),
            ("XGROUP CREATECONSUMER s g c7", ":1\r\n"),
            ("XGROUP CREATECONSUMER s nog c7", "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"),
            ("XGROUP CREATECONSUMER nokey g c7", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
            ("XGROUP DELCONSUMER s g c6", ":0\r\n"),
            ("XGROUP DELCONSUMER s g nobody", ":0\r\n"),
            ("XGROUP DELCONSUMER s nog c6", "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"),
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
            ("XGROUP SETID s g 0", "+OK\r\n"),
            ("XGROUP SETID s g $", "+OK\r\n"),
            ("XGROUP SETID s g -", "+OK\r\n"),
            ("XGROUP SETID s g 1 ENTRIESREAD 3", "+OK\r\n"),
            ("XGROUP SETID s g 1 ENTRIESREAD -1", "+OK\r\n"),
            ("XGROUP SETID s g 1 ENTRIESREAD", "-ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.\r\n"),
            ("XGROUP SETID s g 1 MKSTREAM", "-ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.\r\n"),
            ("XGROUP SETID s g bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XGROUP SETID s nog 1", "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"),
            ("XGROUP SETID nokey g 1", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
            ("XINFO GROUPS s", "*2\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:-3\r\n"),
            ("XGROUP DESTROY s g2", ":1\r\n"),
            ("XGROUP DESTROY s g2", ":0\r\n"),
            ("XGROUP DESTROY nokey g2", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
            ("XGROUP FOO s g", "-ERR unknown subcommand 'FOO'. Try XGROUP HELP.\r\n"),
            ("XGROUP", "-ERR wrong number of arguments for 'xgroup' command\r\n"),
            ("XGROUP HELP", "*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE <key> <groupname> <id|$> [option]\r\n+    Create a new consumer group. Options are:\r\n+    * MKSTREAM\r\n+      Create the empty stream if it does not exist.\r\n+    * ENTRIESREAD entries_read\r\n+      Set the group's entries_read counter (internal use).\r\n+CREATECONSUMER <key> <groupname> <consumer>\r\n+    Create a new consumer in the specified group.\r\n+DELCONSUMER <key> <groupname> <consumer>\r\n+    Remove the specified consumer.\r\n+DESTROY <key> <groupname>\r\n+    Remove the specified group.\r\n+SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]\r\n+    Set the current group ID and entries_read counter.\r\n+HELP\r\n+    Prints this help.\r\n"),
            ("XGROUP HELP x", "-ERR wrong number of arguments for 'xgroup|help' command\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:1\r\n"),
        ],
    );
}

#[test]
fn xreadgroup_xpending_and_xack() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
            ("XADD s 3-0 c 3", "$3\r\n3-0\r\n"),
            ("XADD s 4-0 d 4", "$3\r\n4-0\r\n"),
            ("XADD s 5-0 e 5", "$3\r\n5-0\r\n"),
            ("XGROUP CREATE s g 0", "+OK\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:5\r\n"),
            ("XREADGROUP GROUP g c1 COUNT 2 STREAMS s >", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREADGROUP GROUP g c2 COUNT 1 STREAMS s >", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:3\r\n$17\r\nlast-delivered-id\r\n$3\r\n3-0\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:2\r\n"),
            ("XREADGROUP GROUP g c1 STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREADGROUP GROUP g c1 COUNT 1 STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XREADGROUP GROUP g c1 STREAMS s 1-0", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XREADGROUP GROUP g c1 STREAMS s 2", "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n"),
            ("XREADGROUP GROUP g c9 STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n"),
            ("XREADGROUP GROUP g c1 STREAMS s $", "-ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.\r\n"),
            ("XREADGROUP GROUP nog c1 STREAMS s >", "-NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option\r\n"),
            ("XREADGROUP GROUP g c1 STREAMS nokey >", "-NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option\r\n"),
            ("XREADGROUP GROUP g c1 STREAMS s bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XREADGROUP GROUP g c1 STREAMS s s > >", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n"),
            ("XREADGROUP GROUP g c1 NOACK COUNT 1 STREAMS s >", "*-1\r\n"),
            ("XPENDING s g", "*4\r\n:5\r\n$3\r\n1-0\r\n$3\r\n5-0\r\n*2\r\n*2\r\n$2\r\nc1\r\n$1\r\n4\r\n*2\r\n$2\r\nc2\r\n$1\r\n1\r\n"),
            ("XREADGROUP GROUP g c1 STREAMS s >", "*-1\r\n"),
            ("XREADGROUP GROUP g c1 STREAMS s >", "*-1\r\n"),
            ("XREADGROUP GROUP g c1 BLOCK 10 STREAMS s >", "*-1\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:3\r\n$7\r\npending\r\n:5\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:0\r\n"),
            ("XPENDING s g", "*4\r\n:5\r\n$3\r\n1-0\r\n$3\r\n5-0\r\n*2\r\n*2\r\n$2\r\nc1\r\n$1\r\n4\r\n*2\r\n$2\r\nc2\r\n$1\r\n1\r\n"),
            ("XPENDING s g IDLE 1000000 - + 10", "*0\r\n"),
            ("XPENDING s g - + 0", "*0\r\n"),
            ("XPENDING s g 9 + 10", "*0\r\n"),
            ("XPENDING s g - + 10 nobody", "*0\r\n"),
            ("XPENDING s g IDLE x - + 10", "-ERR value is not an integer or out of range\r\n"),
            ("XPENDING s g IDLE 10 - +", "-ERR syntax error\r\n"),
            ("XPENDING s g - +", "-ERR syntax error\r\n"),
            ("XPENDING s g - + x", "-ERR value is not an integer or out of range\r\n"),
            ("XPENDING s g bad + 10", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XPENDING s g (- + 10", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XPENDING s nog", "-NOGROUP No such key 's' or consumer group 'nog'\r\n"),
            ("XPENDING nokey g", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
            ("XPENDING s g 1 2 3 4 5 6 7", "-ERR syntax error\r\n"),
            ("XACK s g 1-0 9-0 1-0", ":1\r\n"),
            ("XACK s g bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XACK s g 2-0 bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XACK s nog bad", ":0\r\n"),
            ("XACK nokey g bad", ":0\r\n"),
            ("XPENDING s g", "*4\r\n:4\r\n$3\r\n2-0\r\n$3\r\n5-0\r\n*2\r\n*2\r\n$2\r\nc1\r\n$1\r\n3\r\n*2\r\n$2\r\nc2\r\n$1\r\n1\r\n"),
            ("XDEL s 2-0", ":1\r\n"),
            ("XREADGROUP GROUP g c1 STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*3\r\n*2\r\n$3\r\n2-0\r\n*-1\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n"),
            ("XREADGROUP GROUP g c1 STREAMS s (1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:3\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:0\r\n"),
        ],
    );
}

#[test]
fn xclaim_and_xautoclaim() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
            ("XADD s 3-0 c 3", "$3\r\n3-0\r\n"),
            ("XADD s 4-0 d 4", "$3\r\n4-0\r\n"),
            ("XADD s 5-0 e 5", "$3\r\n5-0\r\n"),
            ("XGROUP CREATE s g 0", "+OK\r\n"),
            ("XREADGROUP GROUP g alice STREAMS s >", "*1\r\n*2\r\n$1\r\ns\r\n*5\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n"),
            ("XCLAIM s g bob 0 1-0", "*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XCLAIM s g bob 0 1-0 2-0 JUSTID", "*2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n"),
            ("XPENDING s g", "*4\r\n:5\r\n$3\r\n1-0\r\n$3\r\n5-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n3\r\n*2\r\n$3\r\nbob\r\n$1\r\n2\r\n"),
            ("XCLAIM s g bob 0 9-0 FORCE", "*0\r\n"),
            ("XCLAIM s g carol 0 2-0 RETRYCOUNT 7 JUSTID", "*1\r\n$3\r\n2-0\r\n"),
            ("XCLAIM s g carol 0 bad", "-ERR Unrecognized XCLAIM option 'bad'\r\n"),
            ("XCLAIM s g carol x 1-0", "-ERR Invalid min-idle-time argument for XCLAIM\r\n"),
            ("XCLAIM s g carol 0 1-0 IDLE x", "-ERR Invalid IDLE option argument for XCLAIM\r\n"),
            ("XCLAIM s g carol 0 1-0 TIME x", "-ERR Invalid TIME option argument for XCLAIM\r\n"),
            ("XCLAIM s g carol 0 1-0 RETRYCOUNT x", "-ERR Invalid RETRYCOUNT option argument for XCLAIM\r\n"),
            ("XCLAIM s g carol 0 1-0 LASTID bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XCLAIM s g carol 0 1-0 BOGUS", "-ERR Unrecognized XCLAIM option 'BOGUS'\r\n"),
            ("XCLAIM s g carol 0 1-0 IDLE", "-ERR Unrecognized XCLAIM option 'IDLE'\r\n"),
            ("XCLAIM s nog carol 0 1-0", "-NOGROUP No such key 's' or consumer group 'nog'\r\n"),
            ("XCLAIM nokey g carol 0 1-0", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
            ("XCLAIM s g carol 100000000 1-0 3-0", "*0\r\n"),
            ("XCLAIM s g carol 0 3-0 LASTID 9-0 JUSTID IDLE 100000000", "*1\r\n$3\r\n3-0\r\n"),
            ("XPENDING s g IDLE 99999999 - + 10 nobody", "*0\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:3\r\n$7\r\npending\r\n:5\r\n$17\r\nlast-delivered-id\r\n$3\r\n9-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:0\r\n"),
            ("XDEL s 4-0", ":1\r\n"),
            ("XCLAIM s g dave 0 4-0 5-0", "*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n"),
            ("XPENDING s g", "*4\r\n:4\r\n$3\r\n1-0\r\n$3\r\n5-0\r\n*3\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n*2\r\n$5\r\ncarol\r\n$1\r\n2\r\n*2\r\n$4\r\ndave\r\n$1\r\n1\r\n"),
            ("XACK s g 5-0", ":1\r\n"),
            ("XCLAIM s g erin 0 5-0 FORCE JUSTID", "*1\r\n$3\r\n5-0\r\n"),
            ("XCLAIM s g erin 0 5-0 FORCE", "*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n"),
            ("XPENDING s g", "*4\r\n:4\r\n$3\r\n1-0\r\n$3\r\n5-0\r\n*3\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n*2\r\n$5\r\ncarol\r\n$1\r\n2\r\n*2\r\n$4\r\nerin\r\n$1\r\n1\r\n"),
            ("XDEL s 3-0", ":1\r\n"),
            ("XAUTOCLAIM s g frank 0 0 COUNT 1", "*3\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*0\r\n"),
            ("XAUTOCLAIM s g frank 0 0", "*3\r\n$3\r\n0-0\r\n*3\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n*1\r\n$3\r\n3-0\r\n"),
            ("XAUTOCLAIM s g frank 0 0 JUSTID", "*3\r\n$3\r\n0-0\r\n*3\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n$3\r\n5-0\r\n*0\r\n"),
            ("XAUTOCLAIM s g frank 0 (1-0 JUSTID COUNT 1", "*3\r\n$3\r\n5-0\r\n*1\r\n$3\r\n2-0\r\n*0\r\n"),
            ("XAUTOCLAIM s g frank 100000000 0", "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"),
            ("XAUTOCLAIM s g frank 0 0 COUNT 0", "-ERR COUNT must be > 0\r\n"),
            ("XAUTOCLAIM s g frank 0 0 COUNT x", "-ERR COUNT must be > 0\r\n"),
            ("XAUTOCLAIM s g frank 0 0 COUNT 8070450532247928833", "-ERR COUNT must be > 0\r\n"),
            ("XAUTOCLAIM s g frank 0 0 FOO", "-ERR syntax error\r\n"),
            ("XAUTOCLAIM s g frank x 0", "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n"),
            ("XAUTOCLAIM s g frank 0 bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XAUTOCLAIM s g frank 0 (18446744073709551615-18446744073709551615", "-ERR invalid start ID for the interval\r\n"),
            ("XAUTOCLAIM s nog frank 0 0", "-NOGROUP No such key 's' or consumer group 'nog'\r\n"),
            ("XAUTOCLAIM nokey g frank 0 0", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
            ("XPENDING s g", "*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n5-0\r\n*1\r\n*2\r\n$5\r\nfrank\r\n$1\r\n3\r\n"),
            ("XGROUP DELCONSUMER s g frank", ":3\r\n"),
            ("XPENDING s g", "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"),
        ],
    );
}

#[test]
fn lag_and_entries_read() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("FLUSHALL", "+OK\r\n"),
            ("XGROUP CREATE x g1 0 MKSTREAM", "+OK\r\n"),
            ("XINFO GROUPS x", "*1\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n"),
            ("XADD x 1-0 data a", "$3\r\n1-0\r\n"),
            ("XDEL x 1-0", ":1\r\n"),
            ("XINFO GROUPS x", "*1\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n"),
            ("DEL x", ":1\r\n"),
            ("XADD x 1-0 data a", "$3\r\n1-0\r\n"),
            ("XADD x 2-0 data b", "$3\r\n2-0\r\n"),
            ("XADD x 3-0 data c", "$3\r\n3-0\r\n"),
            ("XADD x 4-0 data d", "$3\r\n4-0\r\n"),
            ("XADD x 5-0 data e", "$3\r\n5-0\r\n"),
            ("XDEL x 3-0", ":1\r\n"),
            ("XGROUP CREATE x g1 0", "+OK\r\n"),
            ("XGROUP CREATE x g2 0", "+OK\r\n"),
            ("XINFO GROUPS x", "*2\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n"),
            ("XREADGROUP GROUP g1 c11 COUNT 1 STREAMS x >", "*1\r\n*2\r\n$1\r\nx\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$4\r\ndata\r\n$1\r\na\r\n"),
            ("XINFO GROUPS x", "*2\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n"),
            ("XREADGROUP GROUP g1 c11 COUNT 2 STREAMS x >", "*1\r\n*2\r\n$1\r\nx\r\n*2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$4\r\ndata\r\n$1\r\nb\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$4\r\ndata\r\n$1\r\nd\r\n"),
            ("XINFO GROUPS x", "*2\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:3\r\n$17\r\nlast-delivered-id\r\n$3\r\n4-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n"),
            ("XREADGROUP GROUP g1 c11 COUNT 1 STREAMS x >", "*1\r\n*2\r\n$1\r\nx\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$4\r\ndata\r\n$1\r\ne\r\n"),
            ("XINFO GROUPS x", "*2\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n"),
            ("XADD x 6-0 data f", "$3\r\n6-0\r\n"),
            ("XINFO GROUPS x", "*2\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n"),
            ("XTRIM x MINID = 3-0", ":2\r\n"),
            ("XINFO GROUPS x", "*2\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:3\r\n"),
            ("XTRIM x MINID = 5-0", ":1\r\n"),
            ("XINFO GROUPS x", "*2\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:2\r\n"),
            ("XGROUP SETID x g2 5-0 ENTRIESREAD 3", "+OK\r\n"),
            ("XINFO GROUPS x", "*2\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:3\r\n"),
            ("XGROUP CREATE x g3 $ ENTRIESREAD 100", "+OK\r\n"),
            ("XINFO GROUPS x", "*3\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:3\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n6-0\r\n$12\r\nentries-read\r\n:100\r\n$3\r\nlag\r\n:-94\r\n"),
            ("XINFO STREAM x", "*20\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n6-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n3-0\r\n$13\r\nentries-added\r\n:6\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n5-0\r\n$6\r\ngroups\r\n:3\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$4\r\ndata\r\n$1\r\ne\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$4\r\ndata\r\n$1\r\nf\r\n"),
        ],
    );
}

#[test]
fn pending_entries_show_owner_idle_time_and_deliveries() {
    let (_s, mut c) = connect();
    table(
        &mut c,
        &[
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
            ("XGROUP CREATE s g 0", "+OK\r\n"),
        ],
    );
    c.send(b"XREADGROUP GROUP g alice STREAMS s >\r\n");
    c.frame();
    std::thread::sleep(Duration::from_millis(30));
    c.send(b"XPENDING s g - + 10\r\n");
    let rows = c.frame();
    assert_eq!(rows.items().len(), 2);
    for (row, id) in rows.items().iter().zip(["1-0", "2-0"]) {
        let f = row.items();
        assert_eq!(
            (f[0].text(), f[1].text()),
            (id.to_string(), "alice".to_string())
        );
        let Frame::Int(idle) = f[2] else {
            panic!("{row:?}")
        };
        assert!((30..10_000).contains(&idle), "{idle}");
        assert_eq!(f[3], Frame::Int(1));
    }
    // IDLE filters, the consumer filter picks one PEL.
    c.send(b"XPENDING s g IDLE 20 - + 10 alice\r\n");
    assert_eq!(c.frame().items().len(), 2);
    // XCLAIM IDLE/TIME set the delivery time; XINFO shows it.
    c.send(b"XCLAIM s g bob 0 1-0 TIME 1000 JUSTID\r\n");
    assert_eq!(c.frame(), Frame::Array(vec![Frame::bulk("1-0")]));
    c.send(b"XINFO STREAM s FULL\r\n");
    let info = c.frame();
    let text = format!("{info:?}");
    assert!(text.contains("Int(1000)"), "{text}");
    c.send(b"XINFO CONSUMERS s g\r\n");
    let consumers = c.frame();
    let names: Vec<String> = consumers
        .items()
        .iter()
        .map(|m| m.items()[1].text())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
}

// ---------------------------------------------------------------------------
// Blocking XREADGROUP
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
    let started = Instant::now();
    while blocked_clients(c) != n {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never {n} blocked"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A client blocked in `XREADGROUP GROUP g <consumer> BLOCK 0 STREAMS s >`.
fn block_reader(s: &Server, c: &mut Raw, consumer: &str, extra: &str) -> Raw {
    let before = blocked_clients(c);
    let mut r = s.raw();
    r.send(format!("XREADGROUP GROUP g {consumer} {extra} BLOCK 0 STREAMS s >\r\n").as_bytes());
    wait_blocked(c, before + 1);
    r
}

#[test]
fn blocked_readers_of_one_group_share_the_entries_in_order() {
    let (s, mut c) = connect();
    table(&mut c, &[("XGROUP CREATE s g $ MKSTREAM", "+OK\r\n")]);
    let mut first = block_reader(&s, &mut c, "c1", "");
    let mut second = block_reader(&s, &mut c, "c2", "NOACK");
    table(&mut c, &[("XADD s 1-0 f v", "$3\r\n1-0\r\n")]);
    first.expect(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    // The group moved past 1-0: the second reader still waits.
    assert_eq!(blocked_clients(&mut c), 1);
    table(&mut c, &[("XADD s 2-0 g w", "$3\r\n2-0\r\n")]);
    second.expect(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n");
    table(
        &mut c,
        &[
            // 1-0 pending for c1; 2-0 read with NOACK.
            ("XPENDING s g", "*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n*2\r\n$2\r\nc1\r\n$1\r\n1\r\n"),
            // A blocked reader's consumer is created when it gets entries.
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n:0\r\n"),
            // Inside MULTI it does not block; a history read never blocks.
            ("MULTI", "+OK\r\n"),
            ("XREADGROUP GROUP g c1 BLOCK 0 STREAMS s >", "+QUEUED\r\n"),
            ("EXEC", "*1\r\n*-1\r\n"),
            ("XREADGROUP GROUP g c3 BLOCK 0 STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n"),
            ("XREADGROUP GROUP g c3 BLOCK 10 STREAMS s >", "*-1\r\n"),
        ],
    );
}

#[test]
fn destroying_the_group_answers_nogroup() {
    let (s, mut c) = connect();
    table(&mut c, &[("XGROUP CREATE s g $ MKSTREAM", "+OK\r\n")]);
    let mut r = block_reader(&s, &mut c, "alice", "");
    table(&mut c, &[("XGROUP DESTROY s g", ":1\r\n")]);
    r.expect(b"-NOGROUP the consumer group this client was blocked on no longer exists\r\n");
    wait_blocked(&mut c, 0);
    // It counts as one failed call.
    c.send(b"INFO commandstats\r\n");
    let stats = c.frame().text();
    assert!(
        stats.contains("cmdstat_xreadgroup:calls=1,") && stats.contains("failed_calls=1"),
        "{stats}"
    );
}

#[test]
fn the_key_going_away_answers_unblocked() {
    let gone = "-UNBLOCKED the stream key no longer exists\r\n";
    for how in [
        &["DEL s"][..],
        &["SET s x"],
        &["MULTI", "DEL s", "SADD s e1", "EXEC"],
        &["FLUSHALL"],
        &["FLUSHDB"],
        &["SELECT 4", "LPUSH s e", "SWAPDB 0 4", "SELECT 0"],
    ] {
        let (s, mut c) = connect();
        table(
            &mut c,
            &[
                ("XADD s 1-0 f v", "$3\r\n1-0\r\n"),
                ("XGROUP CREATE s g $", "+OK\r\n"),
            ],
        );
        let mut r = block_reader(&s, &mut c, "alice", "");
        for cmd in how {
            c.send(format!("{cmd}\r\n").as_bytes());
            c.frame();
        }
        r.expect(gone.as_bytes());
        wait_blocked(&mut c, 0);
    }
}

#[test]
fn rename_serves_or_refuses_by_the_group_of_the_new_stream() {
    let (s, mut c) = connect();
    table(&mut c, &[("XGROUP CREATE s g $ MKSTREAM", "+OK\r\n")]);
    let mut r = block_reader(&s, &mut c, "alice", "");
    table(
        &mut c,
        &[
            ("XGROUP CREATE s2 g $ MKSTREAM", "+OK\r\n"),
            ("XADD s2 100 f1 v1", "$5\r\n100-0\r\n"),
            ("RENAME s2 s", "+OK\r\n"),
        ],
    );
    r.expect(b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$5\r\n100-0\r\n*2\r\n$2\r\nf1\r\n$2\r\nv1\r\n");
    let mut r = block_reader(&s, &mut c, "alice", "");
    table(
        &mut c,
        &[
            ("XADD s3 100 f1 v1", "$5\r\n100-0\r\n"),
            ("RENAME s3 s", "+OK\r\n"),
        ],
    );
    r.expect(b"-NOGROUP the consumer group this client was blocked on no longer exists\r\n");
}

// ---------------------------------------------------------------------------
// Concurrency: producers and consumer groups at once
// ---------------------------------------------------------------------------

/// A client with a buffered reader, for pipelines of thousands of replies.
struct Conn {
    reader: std::io::BufReader<std::net::TcpStream>,
    writer: std::net::TcpStream,
}

/// One reply, as much as this test needs of it.
#[derive(Debug)]
enum Reply {
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Reply>),
    Other(#[allow(dead_code)] String),
}

impl Conn {
    fn connect(server: &Server) -> Conn {
        let writer = std::net::TcpStream::connect(server.addr).unwrap();
        writer.set_nodelay(true).unwrap();
        writer
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        Conn {
            reader: std::io::BufReader::with_capacity(1 << 16, writer.try_clone().unwrap()),
            writer,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.writer.write_all(bytes).unwrap();
    }

    fn reply(&mut self) -> Reply {
        use std::io::{BufRead, Read};
        let mut line = String::new();
        if let Err(e) = self.reader.read_line(&mut line) {
            panic!("no reply ({e}) on {:?}", self.writer.local_addr());
        }
        let line = line.trim_end();
        let (kind, rest) = line.split_at(1);
        let n = || rest.parse::<i64>().unwrap();
        match kind {
            ":" => Reply::Int(n()),
            "$" if n() < 0 => Reply::Nil,
            "*" if n() < 0 => Reply::Nil,
            "$" => {
                let mut data = vec![0; n() as usize + 2];
                self.reader.read_exact(&mut data).unwrap();
                data.truncate(data.len() - 2);
                Reply::Bulk(data)
            }
            "*" => Reply::Array((0..n()).map(|_| self.reply()).collect()),
            _ => Reply::Other(line.to_string()),
        }
    }
}

fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[test]
fn eight_producers_three_groups_of_four_consumers_two_hundred_thousand_entries() {
    const PRODUCERS: usize = 8;
    const GROUPS: usize = 3;
    const CONSUMERS: usize = 4;
    const TOTAL: usize = 200_000;
    const PIPELINE: usize = 500;
    let server = Server::start(&[]);
    eprintln!("server on {}", server.addr);
    let mut c = server.raw();
    for g in 0..GROUPS {
        table(
            &mut c,
            &[(&format!("XGROUP CREATE s g{g} $ MKSTREAM"), "+OK\r\n")],
        );
    }
    let delivered: Vec<std::sync::atomic::AtomicUsize> =
        (0..GROUPS).map(|_| Default::default()).collect();
    let delivered = std::sync::Arc::new(delivered);
    let started = Instant::now();
    let mut consumers = Vec::new();
    for g in 0..GROUPS {
        for k in 0..CONSUMERS {
            let mut conn = Conn::connect(&server);
            let delivered = delivered.clone();
            consumers.push(std::thread::spawn(move || {
                let group = format!("g{g}");
                let name = format!("c{k}");
                let read = command(&[
                    b"XREADGROUP",
                    b"GROUP",
                    group.as_bytes(),
                    name.as_bytes(),
                    b"COUNT",
                    b"300",
                    b"BLOCK",
                    b"100",
                    b"STREAMS",
                    b"s",
                    b">",
                ]);
                let mut seen: Vec<Vec<u8>> = Vec::new();
                let mut to_ack: Vec<Vec<u8>> = Vec::new();
                while delivered[g].load(std::sync::atomic::Ordering::SeqCst) < TOTAL
                    || !to_ack.is_empty()
                {
                    // Acknowledge the last batch and ask for the next in one write.
                    let acks = to_ack.len();
                    if acks > 0 {
                        let mut args: Vec<&[u8]> = vec![b"XACK", b"s", group.as_bytes()];
                        args.extend(to_ack.iter().map(Vec::as_slice));
                        let mut out = command(&args);
                        out.extend_from_slice(&read);
                        conn.send(&out);
                        match conn.reply() {
                            Reply::Int(n) => assert_eq!(n as usize, acks),
                            other => panic!("{other:?}"),
                        }
                    } else {
                        conn.send(&read);
                    }
                    seen.append(&mut to_ack);
                    match conn.reply() {
                        Reply::Nil => {}
                        Reply::Array(streams) => {
                            let Reply::Array(pair) = &streams[0] else {
                                panic!()
                            };
                            let Reply::Array(entries) = &pair[1] else {
                                panic!()
                            };
                            for e in entries {
                                let Reply::Array(e) = e else { panic!("{e:?}") };
                                let Reply::Bulk(id) = &e[0] else { panic!() };
                                to_ack.push(id.clone());
                            }
                            delivered[g]
                                .fetch_add(entries.len(), std::sync::atomic::Ordering::SeqCst);
                        }
                        other => panic!("{other:?}"),
                    }
                    assert!(started.elapsed() < Duration::from_secs(120), "too slow");
                }
                (g, seen)
            }));
        }
    }
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let mut conn = Conn::connect(&server);
        producers.push(std::thread::spawn(move || {
            let per = TOTAL / PRODUCERS;
            let mut ids = Vec::with_capacity(per);
            for batch in 0..per / PIPELINE {
                let mut out = Vec::new();
                for i in 0..PIPELINE {
                    let n = (batch * PIPELINE + i).to_string();
                    out.extend(command(&[
                        b"XADD",
                        b"s",
                        b"*",
                        b"p",
                        p.to_string().as_bytes(),
                        b"n",
                        n.as_bytes(),
                    ]));
                }
                conn.send(&out);
                for _ in 0..PIPELINE {
                    match conn.reply() {
                        Reply::Bulk(id) => ids.push(id),
                        other => panic!("{other:?}"),
                    }
                }
            }
            ids
        }));
    }
    let mut produced = HashSet::new();
    for p in producers {
        for id in p.join().unwrap() {
            assert!(produced.insert(id), "an ID was given twice");
        }
    }
    assert_eq!(produced.len(), TOTAL);
    let mut per_group: Vec<Vec<Vec<u8>>> = vec![Vec::new(); GROUPS];
    for h in consumers {
        let (g, seen) = h.join().unwrap();
        per_group[g].extend(seen);
    }
    for (g, ids) in per_group.iter().enumerate() {
        let unique: HashSet<&Vec<u8>> = ids.iter().collect();
        assert_eq!(ids.len(), TOTAL, "group g{g} got {} deliveries", ids.len());
        assert_eq!(unique.len(), TOTAL, "group g{g} got an entry twice");
        assert!(unique.iter().all(|id| produced.contains(*id)));
        table(
            &mut c,
            &[(
                &format!("XPENDING s g{g}"),
                "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n",
            )],
        );
    }
    c.send(b"XINFO GROUPS s\r\n");
    for group in c.frame().items() {
        let f = group.items();
        assert_eq!(f[5], Frame::Int(0), "{group:?}");
        assert_eq!(f[9], Frame::Int(TOTAL as i64), "{group:?}");
        assert_eq!(f[11], Frame::Int(0), "{group:?}");
    }
    table(&mut c, &[("XLEN s", ":200000\r\n")]);
}
