//! MONITOR at the wire: the Redis line format and quoting, what is shown and
//! what is not (refused requests, admin commands, memcached requests), MULTI/EXEC
//! as Redis 7.0 shows it, AUTH/HELLO redaction, and how monitor mode ends.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Raw, Server};

/// A client in monitor mode.
fn monitor(server: &Server) -> Raw {
    let mut m = server.raw();
    m.roundtrip(b"MONITOR\r\n", b"+OK\r\n");
    m
}

/// The next monitor line, split into the `[db peer]` part and the arguments
/// (the timestamp checked for its shape and dropped).
fn line(m: &mut Raw) -> (String, String) {
    let text = m.frame().text();
    let (stamp, rest) = text.split_once(' ').expect("timestamp");
    let (secs, micros) = stamp.split_once('.').expect("sec.usec");
    assert!(
        secs.len() >= 10 && secs.bytes().all(|b| b.is_ascii_digit()),
        "{text}"
    );
    assert!(
        micros.len() == 6 && micros.bytes().all(|b| b.is_ascii_digit()),
        "{text}"
    );
    let (source, args) = rest.split_once("] ").expect("[db peer]");
    (format!("{source}]"), args.to_string())
}

/// The arguments part of the next monitor lines.
fn next_args(m: &mut Raw, n: usize) -> Vec<String> {
    (0..n).map(|_| line(m).1).collect()
}

fn local_port(c: &Raw) -> u16 {
    c.stream.local_addr().unwrap().port()
}

#[test]
fn every_executed_command_is_shown_with_its_db_and_peer() {
    let server = Server::start(&[]);
    let mut m = monitor(&server);
    let mut c = server.raw();
    let port = local_port(&c);
    c.roundtrip(b"SET foo bar\r\nget foo\r\n", b"+OK\r\n$3\r\nbar\r\n");
    assert_eq!(
        line(&mut m),
        (
            format!("[0 127.0.0.1:{port}]"),
            r#""SET" "foo" "bar""#.into()
        )
    );
    assert_eq!(line(&mut m).1, r#""get" "foo""#);
    // The database is the one selected after the command ran.
    c.roundtrip(b"SELECT 3\r\nINCR n\r\n", b"+OK\r\n:1\r\n");
    assert_eq!(
        line(&mut m),
        (format!("[3 127.0.0.1:{port}]"), r#""SELECT" "3""#.into())
    );
    assert_eq!(line(&mut m).1, r#""INCR" "n""#);
    // A command that fails as it runs is shown; refused ones are not
    // (unknown, arity), nor are admin commands.
    c.send(b"INCR n x\r\nLPUSH n v\r\nnosuch\r\nGET\r\nCONFIG GET maxmemory\r\nDEBUG SLEEP 0\r\nPING\r\n");
    let _ = c.read_available(Duration::from_millis(200));
    assert_eq!(next_args(&mut m, 2), [r#""LPUSH" "n" "v""#, r#""PING""#]);
    // Arguments quoted as sdscatrepr does.
    c.cmd(&[b"SET", b"k", b"a\x00b\r\n\"\\ \xc3\xa9\t\x07\x08~"]);
    c.expect(b"+OK\r\n");
    assert_eq!(
        line(&mut m).1,
        r#""SET" "k" "a\x00b\r\n\"\\ \xc3\xa9\t\a\b~""#
    );
    // A blocking command is shown when it runs, once.
    c.roundtrip(b"BLPOP none 0.01\r\n", b"*-1\r\n");
    assert_eq!(line(&mut m).1, r#""BLPOP" "none" "0.01""#);
    // Two monitors both see a command; the monitor sees its own commands too.
    let mut m2 = monitor(&server);
    m2.roundtrip(b"PING\r\n", b"+PONG\r\n");
    assert_eq!(line(&mut m2).1, r#""PING""#);
    assert_eq!(line(&mut m).1, r#""PING""#);
    assert!(m.read_available(Duration::from_millis(100)).is_empty());
}

#[test]
fn multi_exec_is_shown_as_redis_7_shows_it() {
    let server = Server::start(&[]);
    let mut m = monitor(&server);
    let mut c = server.raw();
    c.roundtrip(
        b"MULTI\r\nSET foo bar\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n",
    );
    assert_eq!(
        next_args(&mut m, 3),
        [r#""MULTI""#, r#""SET" "foo" "bar""#, r#""EXEC""#]
    );
    // An aborted transaction: MULTI, then EXEC alone.
    c.send(b"MULTI\r\nsyntax error\r\nEXEC\r\n");
    let _ = c.read_available(Duration::from_millis(200));
    assert_eq!(next_args(&mut m, 2), [r#""MULTI""#, r#""EXEC""#]);
    // WATCH inside MULTI runs (and fails), so it is shown.
    c.roundtrip(
        b"MULTI\r\nWATCH x\r\nEXEC\r\n",
        b"+OK\r\n-ERR WATCH inside MULTI is not allowed\r\n*0\r\n",
    );
    assert_eq!(
        next_args(&mut m, 3),
        [r#""MULTI""#, r#""WATCH" "x""#, r#""EXEC""#]
    );
    // MONITOR queued and run by EXEC is refused.
    c.roundtrip(
        b"MULTI\r\nMONITOR\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n",
    );
    assert_eq!(next_args(&mut m, 2), [r#""MULTI""#, r#""EXEC""#]);
}

#[test]
fn auth_and_hello_credentials_are_redacted() {
    let server = Server::start(&[]);
    let mut m = monitor(&server);
    let mut c = server.raw();
    c.send(b"AUTH secret\r\nAUTH user secret\r\nAUTH a b c\r\nHELLO 2 AUTH user secret\r\nHELLO 2 SETNAME n AUTH user secret\r\n");
    let _ = c.read_available(Duration::from_millis(200));
    assert_eq!(
        next_args(&mut m, 5),
        [
            r#""AUTH" "(redacted)""#,
            r#""AUTH" "(redacted)" "(redacted)""#,
            r#""AUTH" "a" "b" "c""#,
            r#""HELLO" "2" "AUTH" "(redacted)" "(redacted)""#,
            r#""HELLO" "2" "SETNAME" "n" "AUTH" "(redacted)" "(redacted)""#,
        ]
    );
}

#[test]
fn monitor_mode_rules_and_its_end() {
    let server = Server::start(&[]);
    let mut m = monitor(&server);
    // MONITOR again answers nothing; keyspace commands are refused.
    m.send(b"MONITOR\r\nGET foo\r\nSET foo bar\r\n");
    m.expect(
        b"-ERR Replica can't interact with the keyspace\r\n-ERR Replica can't interact with the keyspace\r\n",
    );
    // RESET ends monitor mode: shown to other monitors, not to itself.
    let mut other = monitor(&server);
    m.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    assert_eq!(line(&mut other).1, r#""RESET""#);
    let mut c = server.raw();
    c.roundtrip(b"SET a 1\r\n", b"+OK\r\n");
    assert_eq!(line(&mut other).1, r#""SET" "a" "1""#);
    assert!(m.read_available(Duration::from_millis(100)).is_empty());
    m.roundtrip(b"GET a\r\n", b"$1\r\n1\r\n");
    assert_eq!(line(&mut other).1, r#""GET" "a""#);
    // QUIT is shown, and ends the monitor with its connection.
    other.roundtrip(b"QUIT\r\n", b"+OK\r\n");
    other.expect_closed();
    let mut last = monitor(&server);
    c.roundtrip(b"PING\r\n", b"+PONG\r\n");
    assert_eq!(line(&mut last).1, r#""PING""#);
}

#[test]
fn memcached_requests_are_not_shown() {
    let server = Server::start(&[]);
    let mut m = monitor(&server);
    let mut mc = TcpStream::connect(server.memcache_addr).unwrap();
    mc.write_all(b"set k 0 0 1\r\nx\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = mc.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"STORED\r\n");
    let mut c = server.raw();
    c.roundtrip(b"GET k\r\n", b"$1\r\nx\r\n");
    // The first line the monitor sees is the RESP GET.
    assert_eq!(line(&mut m).1, r#""GET" "k""#);
}

#[test]
fn a_script_is_shown_before_the_commands_it_calls_which_show_lua_as_peer() {
    let server = Server::start(&[]);
    let mut m = monitor(&server);
    let mut c = server.raw();
    let port = local_port(&c);
    c.roundtrip(
        b"EVAL \"redis.call('set',KEYS[1],ARGV[1]) return redis.call('get',KEYS[1])\" 1 foo bar\r\n",
        b"$3\r\nbar\r\n",
    );
    assert_eq!(
        line(&mut m),
        (
            format!("[0 127.0.0.1:{port}]"),
            r#""EVAL" "redis.call('set',KEYS[1],ARGV[1]) return redis.call('get',KEYS[1])" "1" "foo" "bar""#.into()
        )
    );
    assert_eq!(
        line(&mut m),
        ("[0 lua]".into(), r#""set" "foo" "bar""#.into())
    );
    assert_eq!(line(&mut m), ("[0 lua]".into(), r#""get" "foo""#.into()));
}
