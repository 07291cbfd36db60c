//! PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET, CLIENT, and the dispatcher's
//! shared checks, with exact replies as redis-server 7 sends them.

mod common;

use common::Server;

#[test]
fn ping_and_echo() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"PING\r\n", b"+PONG\r\n");
    c.roundtrip(b"ping hello\r\n", b"$5\r\nhello\r\n");
    c.roundtrip(
        b"PING a b\r\n",
        b"-ERR wrong number of arguments for 'ping' command\r\n",
    );
    c.roundtrip(
        b"ECHO\r\n",
        b"-ERR wrong number of arguments for 'echo' command\r\n",
    );
    c.roundtrip(b"EcHo x\r\n", b"$1\r\nx\r\n");
}

#[test]
fn unknown_commands_and_arity() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"foo a\r\n",
        b"-ERR unknown command 'foo', with args beginning with: 'a' \r\n",
    );
    c.roundtrip(
        b"foo\r\n",
        b"-ERR unknown command 'foo', with args beginning with: \r\n",
    );
    c.roundtrip(
        b"GET\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    c.roundtrip(
        b"GET a b\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    // Arguments are shown until 128 bytes are used.
    let long = "x".repeat(200);
    c.send(format!("nope {long} more\r\n").as_bytes());
    c.expect(
        format!(
            "-ERR unknown command 'nope', with args beginning with: '{}' \r\n",
            "x".repeat(128)
        )
        .as_bytes(),
    );
}

#[test]
fn hello_negotiates_resp3_and_back() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"HELLO 3\r\n");
    let reply = c.read_available(std::time::Duration::from_millis(300));
    let text = String::from_utf8_lossy(&reply);
    assert!(text.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.4.0\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:"), "{text}");
    assert!(text.ends_with("$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"), "{text}");
    // RESP3 null and map shapes.
    c.roundtrip(b"GET nokey\r\n", b"_\r\n");
    c.roundtrip(
        b"CONFIG GET maxclients\r\n",
        b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n",
    );
    c.send(b"HELLO 2\r\n");
    let reply = c.read_available(std::time::Duration::from_millis(300));
    assert!(
        reply.starts_with(b"*14\r\n$6\r\nserver\r\n"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    c.roundtrip(b"GET nokey\r\n", b"$-1\r\n");
}

#[test]
fn hello_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"HELLO 4\r\n", b"-NOPROTO unsupported protocol version\r\n");
    c.roundtrip(b"HELLO 1\r\n", b"-NOPROTO unsupported protocol version\r\n");
    c.roundtrip(
        b"HELLO abc\r\n",
        b"-ERR Protocol version is not an integer or out of range\r\n",
    );
    c.roundtrip(
        b"HELLO 3 FOO\r\n",
        b"-ERR Syntax error in HELLO option 'FOO'\r\n",
    );
    c.roundtrip(
        b"HELLO 3 AUTH default\r\n",
        b"-ERR Syntax error in HELLO option 'AUTH'\r\n",
    );
    c.roundtrip(
        b"HELLO 2 AUTH foo x\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    c.roundtrip(
        b"HELLO 3 SETNAME \"a b\"\r\n",
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
    );
    // Still RESP2 after the failures.
    c.roundtrip(b"GET nokey\r\n", b"$-1\r\n");
}

#[test]
fn hello_setname_and_auth() {
    let server = Server::start(&["--requirepass", "pw"]);
    let mut c = server.raw();
    c.send(b"HELLO 3\r\n");
    c.expect(b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n");
    c.roundtrip(
        b"HELLO 3 AUTH default wrong\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    c.send(b"HELLO 3 AUTH default pw SETNAME worker-1\r\n");
    let reply = c.read_available(std::time::Duration::from_millis(300));
    assert!(reply.starts_with(b"%7\r\n"));
    c.roundtrip(b"CLIENT GETNAME\r\n", b"$8\r\nworker-1\r\n");
}

#[test]
fn auth_with_requirepass() {
    let server = Server::start(&["--requirepass", "s3cret"]);
    let mut c = server.raw();
    c.roundtrip(b"GET k\r\n", b"-NOAUTH Authentication required.\r\n");
    c.roundtrip(b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
    c.roundtrip(
        b"AUTH wrong\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    c.roundtrip(b"AUTH a b c\r\n", b"-ERR syntax error\r\n");
    c.roundtrip(b"AUTH s3cret\r\n", b"+OK\r\n");
    c.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let mut d = server.raw();
    d.roundtrip(
        b"AUTH other s3cret\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    d.roundtrip(b"AUTH default s3cret\r\n", b"+OK\r\n");
    d.roundtrip(b"PING\r\n", b"+PONG\r\n");
    // RESET logs the client out again.
    d.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    d.roundtrip(b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
}

#[test]
fn auth_without_password_configured() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"AUTH x\r\n", b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n");
    c.roundtrip(b"AUTH default anything\r\n", b"+OK\r\n");
    c.roundtrip(
        b"AUTH foo x\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
}

#[test]
fn requirepass_from_config_set_applies_to_new_connections() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"CONFIG SET requirepass newpw\r\n", b"+OK\r\n");
    let mut d = server.raw();
    d.roundtrip(b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
    d.roundtrip(b"AUTH newpw\r\n", b"+OK\r\n");
}

#[test]
fn select_keeps_databases_apart() {
    let server = Server::start(&["--databases", "4"]);
    let mut c = server.raw();
    c.roundtrip(b"SET k zero\r\n", b"+OK\r\n");
    c.roundtrip(b"SELECT 3\r\n", b"+OK\r\n");
    c.roundtrip(b"GET k\r\n", b"$-1\r\n");
    c.roundtrip(b"SET k three\r\n", b"+OK\r\n");
    c.roundtrip(b"DBSIZE\r\n", b":1\r\n");
    c.roundtrip(b"SELECT 4\r\n", b"-ERR DB index is out of range\r\n");
    c.roundtrip(b"SELECT -1\r\n", b"-ERR DB index is out of range\r\n");
    c.roundtrip(
        b"SELECT x\r\n",
        b"-ERR value is not an integer or out of range\r\n",
    );
    c.roundtrip(b"GET k\r\n", b"$5\r\nthree\r\n");
    c.roundtrip(b"SELECT 0\r\n", b"+OK\r\n");
    c.roundtrip(b"GET k\r\n", b"$4\r\nzero\r\n");
}

#[test]
fn quit_replies_then_closes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"QUIT\r\nPING\r\n", b"+OK\r\n");
    c.expect_closed();
}

#[test]
fn reset_restores_a_fresh_connection() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"HELLO 3 SETNAME n1\r\n");
    let _ = c.read_available(std::time::Duration::from_millis(200));
    c.roundtrip(b"SELECT 2\r\n", b"+OK\r\n");
    c.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    c.roundtrip(b"GET nokey\r\n", b"$-1\r\n");
    c.roundtrip(b"CLIENT GETNAME\r\n", b"$-1\r\n");
    c.send(b"CLIENT INFO\r\n");
    let info = String::from_utf8(c.read_available(std::time::Duration::from_millis(200))).unwrap();
    assert!(
        info.contains(" db=0 ") && info.contains(" resp=2 "),
        "{info}"
    );
}

#[test]
fn client_id_name_info_list() {
    let server = Server::start(&[]);
    let mut a = server.raw();
    let mut b = server.raw();
    a.send(b"CLIENT ID\r\n");
    let id_a: u64 = String::from_utf8(a.read_available(std::time::Duration::from_millis(200)))
        .unwrap()
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    b.roundtrip(b"CLIENT SETNAME bee\r\n", b"+OK\r\n");
    b.roundtrip(b"CLIENT GETNAME\r\n", b"$3\r\nbee\r\n");
    b.roundtrip(
        b"CLIENT SETNAME \"a b\"\r\n",
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
    );
    b.roundtrip(b"CLIENT SETINFO LIB-NAME mylib\r\n", b"+OK\r\n");
    b.roundtrip(b"CLIENT SETINFO LIB-VER 1.2\r\n", b"+OK\r\n");
    b.roundtrip(
        b"CLIENT SETINFO foo bar\r\n",
        b"-ERR Unrecognized option 'foo'\r\n",
    );
    a.send(b"CLIENT LIST\r\n");
    let list = String::from_utf8(a.read_available(std::time::Duration::from_millis(300))).unwrap();
    assert!(list.starts_with('$'), "{list}");
    let lines: Vec<&str> = list.lines().skip(1).filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].starts_with(&format!("id={id_a} addr=127.0.0.1:")),
        "{list}"
    );
    assert!(lines[0].contains(" cmd=client|list "), "{list}");
    assert!(
        lines[1].contains(" name=bee ") && lines[1].contains(" lib-name=mylib lib-ver=1.2"),
        "{list}"
    );
    a.send(format!("CLIENT LIST ID {id_a}\r\n").as_bytes());
    let one = String::from_utf8(a.read_available(std::time::Duration::from_millis(300))).unwrap();
    assert_eq!(
        one.lines().filter(|l| l.starts_with("id=")).count(),
        1,
        "{one}"
    );
    a.roundtrip(
        b"CLIENT LIST TYPE x\r\n",
        b"-ERR Unknown client type 'x'\r\n",
    );
    a.roundtrip(
        b"CLIENT FOO\r\n",
        b"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n",
    );
    a.roundtrip(
        b"CLIENT\r\n",
        b"-ERR wrong number of arguments for 'client' command\r\n",
    );
    a.roundtrip(
        b"CLIENT ID x\r\n",
        b"-ERR wrong number of arguments for 'client|id' command\r\n",
    );
}

#[test]
fn client_kill_forms() {
    let server = Server::start(&[]);
    let mut a = server.raw();
    let mut victim = server.raw();
    victim.roundtrip(b"CLIENT ID\r\n", b":");
    let id: u64 = {
        let rest = victim.read_available(std::time::Duration::from_millis(200));
        String::from_utf8(rest).unwrap().trim().parse().unwrap()
    };
    a.roundtrip(b"CLIENT KILL 1.2.3.4:5\r\n", b"-ERR No such client\r\n");
    a.roundtrip(
        b"CLIENT KILL ID 0\r\n",
        b"-ERR client-id should be greater than 0\r\n",
    );
    a.roundtrip(
        b"CLIENT KILL TYPE foo\r\n",
        b"-ERR Unknown client type 'foo'\r\n",
    );
    a.roundtrip(b"CLIENT KILL ID 99999\r\n", b":0\r\n");
    a.roundtrip(format!("CLIENT KILL ID {id}\r\n").as_bytes(), b":1\r\n");
    victim.expect_closed();
    // Old form by address.
    let mut v2 = server.raw();
    v2.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let addr = v2.stream.local_addr().unwrap();
    a.roundtrip(format!("CLIENT KILL {addr}\r\n").as_bytes(), b"+OK\r\n");
    v2.expect_closed();
    // SKIPME defaults to yes: killing by our own id kills nobody.
    a.send(b"CLIENT ID\r\n");
    let me: u64 = String::from_utf8(a.read_available(std::time::Duration::from_millis(200)))
        .unwrap()
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    a.roundtrip(format!("CLIENT KILL ID {me}\r\n").as_bytes(), b":0\r\n");
    a.roundtrip(
        format!("CLIENT KILL ID {me} SKIPME no\r\n").as_bytes(),
        b":1\r\n",
    );
    a.expect_closed();
}

#[test]
fn client_reply_off_and_skip() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"CLIENT REPLY SKIP\r\nPING\r\nPING 2\r\n", b"$1\r\n2\r\n");
    c.roundtrip(
        b"CLIENT REPLY OFF\r\nPING\r\nCLIENT REPLY ON\r\n",
        b"+OK\r\n",
    );
    c.roundtrip(b"CLIENT REPLY maybe\r\n", b"-ERR syntax error\r\n");
    c.roundtrip(b"CLIENT NO-EVICT x\r\n", b"-ERR syntax error\r\n");
    c.roundtrip(b"CLIENT NO-EVICT on\r\n", b"+OK\r\n");
}

#[test]
fn client_help_lists_subcommands() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"CLIENT HELP\r\n");
    let help = String::from_utf8(c.read_available(std::time::Duration::from_millis(200))).unwrap();
    assert!(
        help.starts_with(
            "*12\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ID\r\n"
        ),
        "{help}"
    );
}

#[test]
fn client_kill_unknown_user_and_qbuf_of_the_running_request() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"CLIENT KILL USER wrong_user\r\n",
        b"-ERR No such user 'wrong_user'\r\n",
    );
    c.roundtrip(b"CLIENT KILL USER default SKIPME yes\r\n", b":0\r\n");
    // qbuf counts the request being run, as Redis's (26 bytes here).
    c.send(b"*2\r\n$6\r\nclient\r\n$4\r\ninfo\r\n");
    let line = match c.frame() {
        common::Frame::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(line.contains(" qbuf=26 "), "{line}");
    c.roundtrip(
        b"CONFIG REWRITE\r\n",
        b"-ERR The server is running without a config file\r\n",
    );
}
