//! RESP at the wire: inline and multibulk requests, pipelining, and bad input.
//! Every bad input is answered as Redis answers it, closes where Redis closes,
//! and leaves other clients served.

mod common;

use std::time::{Duration, Instant};

use common::{multibulk, Server};

/// A second client still gets answers: the server survived whatever came before.
fn assert_still_serving(server: &mut Server) {
    assert!(
        server.is_running(),
        "server exited; log:\n{}",
        server.log_text()
    );
    let mut other = server.raw();
    other.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn inline_commands_with_quotes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"PING\r\n", b"+PONG\r\n");
    c.roundtrip(b"PING\n", b"+PONG\r\n");
    c.roundtrip(b"ECHO \"a b\\x41\\n\"\r\n", b"$5\r\na bA\n\r\n");
    c.roundtrip(b"ECHO 'it\\'s'\r\n", b"$4\r\nit's\r\n");
}

#[test]
fn inline_quote_errors_close_the_connection() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"ECHO \"unterminated\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    );
    c.expect_closed();
}

#[test]
fn empty_lines_and_non_positive_multibulk_counts_are_ignored() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"\r\n\r\n*0\r\n*-5\r\nPING\r\n", b"+PONG\r\n");
}

#[test]
fn ten_thousand_pipelined_commands_in_one_write() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut req = Vec::new();
    let mut expected = Vec::new();
    for i in 0..10_000 {
        let v = format!("v{i}");
        req.extend_from_slice(&multibulk(&[b"ECHO", v.as_bytes()]));
        expected.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
    }
    c.send(&req);
    c.expect(&expected);
}

#[test]
fn request_split_byte_by_byte() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    for b in multibulk(&[b"ECHO", b"split"]) {
        c.send(&[b]);
    }
    c.expect(b"$5\r\nsplit\r\n");
}

#[test]
fn negative_bulk_length_is_a_protocol_error() {
    let mut server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"*3\r\n$-7\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    c.expect_closed();
    assert_still_serving(&mut server);
}

#[test]
fn bulk_length_over_proto_max_bulk_len() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"*1\r\n$536870913\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    c.expect_closed();
}

#[test]
fn dollar_header_alone_is_an_inline_command() {
    let mut server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"$99999999999\r\n",
        b"-ERR unknown command '$99999999999', with args beginning with: \r\n",
    );
    c.roundtrip(b"PING\r\n", b"+PONG\r\n");
    assert_still_serving(&mut server);
}

#[test]
fn invalid_multibulk_length() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"*abc\r\n",
        b"-ERR Protocol error: invalid multibulk length\r\n",
    );
    c.expect_closed();
    let mut c = server.raw();
    c.roundtrip(
        b"*4294967296\r\n",
        b"-ERR Protocol error: invalid multibulk length\r\n",
    );
    c.expect_closed();
}

#[test]
fn deeply_nested_arrays_do_not_recurse() {
    let mut server = Server::start(&[]);
    let mut c = server.raw();
    c.send(&b"*1\r\n".repeat(100_000));
    c.expect(b"-ERR Protocol error: expected '$', got '*'\r\n");
    c.expect_closed();
    assert_still_serving(&mut server);
}

#[test]
fn one_mebibyte_inline_line_without_newline() {
    let mut server = Server::start(&[]);
    let mut c = server.raw();
    // The server stops reading at 64 KiB; the rest of our write may fail, which is fine.
    let _ = std::io::Write::write_all(&mut c.stream, &vec![b'a'; 1 << 20]);
    c.expect(b"-ERR Protocol error: too big inline request\r\n");
    assert_still_serving(&mut server);
}

#[test]
fn multibulk_header_without_crlf() {
    let mut server = Server::start(&[]);
    let mut c = server.raw();
    let mut req = b"*".to_vec();
    req.extend(std::iter::repeat_n(b'1', 70_000));
    let _ = std::io::Write::write_all(&mut c.stream, &req);
    c.expect(b"-ERR Protocol error: too big mbulk count string\r\n");
    c.expect_closed();
    let mut c = server.raw();
    let mut req = b"*1\r\n$".to_vec();
    req.extend(std::iter::repeat_n(b'1', 70_000));
    let _ = std::io::Write::write_all(&mut c.stream, &req);
    c.expect(b"-ERR Protocol error: too big bulk count string\r\n");
    c.expect_closed();
    assert_still_serving(&mut server);
}

#[test]
fn non_utf8_keys_values_and_names() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let key: &[u8] = b"\xff\xfe\x00key";
    let value: &[u8] = b"\x80\x81\r\n\x00";
    c.cmd(&[b"SET", key, value]);
    c.expect(b"+OK\r\n");
    c.cmd(&[b"GET", key]);
    let mut expected = b"$5\r\n".to_vec();
    expected.extend_from_slice(value);
    expected.extend_from_slice(b"\r\n");
    c.expect(&expected);
    c.cmd(&[b"ECHO", value]);
    c.expect(&expected);
    // An unknown binary command name is echoed lossily, with CR/LF blanked.
    c.cmd(&[b"\xffbad\r\n"]);
    c.expect(b"-ERR unknown command '\xffbad  ', with args beginning with: \r\n");
}

#[test]
fn random_bytes_never_break_the_server() {
    let mut server = Server::start(&[]);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..50 {
        let mut c = server.raw();
        let mut junk = Vec::with_capacity(4096);
        for _ in 0..4096 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            junk.push(seed as u8);
        }
        let _ = std::io::Write::write_all(&mut c.stream, &junk);
        // Whatever it answers, it must answer in bounded time or close.
        let _ = c.read_available(Duration::from_millis(20));
    }
    assert_still_serving(&mut server);
}

#[test]
fn disconnect_mid_frame_and_mid_pipeline() {
    let mut server = Server::start(&[]);
    {
        let mut c = server.raw();
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nonly-part");
    }
    {
        let mut c = server.raw();
        let mut req = Vec::new();
        for i in 0..10_000 {
            req.extend_from_slice(&multibulk(&[b"SET", format!("p{i}").as_bytes(), b"v"]));
        }
        c.send(&req[..req.len() / 2]);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_still_serving(&mut server);
    let mut c = server.raw();
    // The half-sent SET of "k" was never executed.
    c.roundtrip(&multibulk(&[b"GET", b"k"]), b"$-1\r\n");
}

#[test]
fn memory_stays_bounded_under_abuse() {
    let mut server = Server::start(&[]);
    std::thread::sleep(Duration::from_millis(200));
    let idle = server.rss_bytes();
    let started = Instant::now();
    for _ in 0..20 {
        let mut c = server.raw();
        let _ = std::io::Write::write_all(&mut c.stream, &vec![b'x'; 1 << 20]);
        let _ = c.read_available(Duration::from_millis(10));
        let mut c = server.raw();
        let _ = std::io::Write::write_all(&mut c.stream, &b"*1\r\n".repeat(50_000));
        let _ = c.read_available(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    let after = server.rss_bytes();
    assert!(
        after < idle + 64 * 1024 * 1024,
        "RSS grew from {idle} to {after} bytes in {:?}",
        started.elapsed()
    );
    assert_still_serving(&mut server);
}

#[test]
fn replies_computed_before_a_protocol_error_are_sent() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"PING\r\n*1\r\n$-2\r\n");
    c.expect(b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
    c.expect_closed();
}

/// Requests and a protocol error pipelined behind a blocked command wait for
/// it, and are answered in order after it.
#[test]
fn requests_and_errors_behind_a_blocked_command_wait_for_it() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"SET k v\r\nBLPOP q 0\r\nGET k\r\nPING\r\n*1\r\n$-2\r\n");
    c.expect(b"+OK\r\n");
    let mut other = server.raw();
    // Wait until the BLPOP is blocked, then feed it.
    for _ in 0..200 {
        other.send(b"INFO clients\r\n");
        if other.frame().text().contains("blocked_clients:1") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    other.roundtrip(b"RPUSH q x\r\n", b":1\r\n");
    c.expect(b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n$1\r\nv\r\n+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
    c.expect_closed();
}

#[test]
fn unauthenticated_limits_apply_before_auth() {
    let server = Server::start(&["--requirepass", "secret"]);
    let mut c = server.raw();
    c.roundtrip(
        b"*11\r\n",
        b"-ERR Protocol error: unauthenticated multibulk length\r\n",
    );
    c.expect_closed();
    let mut c = server.raw();
    c.roundtrip(
        b"*1\r\n$16385\r\n",
        b"-ERR Protocol error: unauthenticated bulk length\r\n",
    );
    c.expect_closed();
    // After AUTH in the same batch, big requests are fine.
    let mut c = server.raw();
    let big = vec![b'z'; 20_000];
    let mut req = multibulk(&[b"AUTH", b"secret"]);
    req.extend_from_slice(&multibulk(&[b"ECHO", &big]));
    c.send(&req);
    c.expect(b"+OK\r\n");
    let mut expected = b"$20000\r\n".to_vec();
    expected.extend_from_slice(&big);
    expected.extend_from_slice(b"\r\n");
    c.expect(&expected);
}
