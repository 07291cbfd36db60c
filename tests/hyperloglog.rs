//! HyperLogLog commands through the real binary: exact replies and errors,
//! the value as a string (GET, SET, APPEND, SETRANGE), the cached
//! cardinality, hll-sparse-max-bytes, events and WATCH; and a differential
//! run against a real redis-server when one is installed, comparing the raw
//! bytes of every value and every count.

mod common;

use common::{have, multibulk, Frame, Raw, Server};

fn call(c: &mut Raw, args: &[&str]) -> Frame {
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send(&multibulk(&refs));
    c.frame()
}

fn call_bytes(c: &mut Raw, args: &[&[u8]]) -> Frame {
    c.send(&multibulk(args));
    c.frame()
}

fn int(n: i64) -> Frame {
    Frame::Int(n)
}

fn ok() -> Frame {
    Frame::Simple("OK".into())
}

fn err(text: &str) -> Frame {
    Frame::Error(text.to_string())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
/// What redis-server 7.0.15 holds after `PFADD abc a b c` and `PFCOUNT abc`.
const REDIS_ABC_COUNTED: &str = "48594c4c01000000030000000000000060f38050b1844bfb80425a";

#[test]
fn replies_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let table: &[(&[&str], Frame)] = &[
        (&["PFADD", "hll"], int(1)),
        (&["EXISTS", "hll"], int(1)),
        (&["PFCOUNT", "hll"], int(0)),
        (&["PFADD", "hll"], int(0)),
        (&["PFADD", "hll", "a", "b", "c"], int(1)),
        (&["PFADD", "hll", "a", "b", "c"], int(0)),
        (&["PFADD", "hll", ""], int(1)),
        (&["PFCOUNT", "hll"], int(4)),
        (&["PFCOUNT", "nokey"], int(0)),
        (&["PFCOUNT", "nokey", "other"], int(0)),
        (&["TYPE", "hll"], Frame::Simple("string".into())),
        (
            &["PFADD"],
            err("ERR wrong number of arguments for 'pfadd' command"),
        ),
        (
            &["PFCOUNT"],
            err("ERR wrong number of arguments for 'pfcount' command"),
        ),
        (
            &["PFMERGE"],
            err("ERR wrong number of arguments for 'pfmerge' command"),
        ),
        (&["SET", "str", "bar"], ok()),
        (&["PFADD", "str", "1"], err(NOT_HLL)),
        (&["PFCOUNT", "str"], err(NOT_HLL)),
        (&["PFCOUNT", "hll", "str"], err(NOT_HLL)),
        (&["PFMERGE", "hll", "str"], err(NOT_HLL)),
        (&["PFMERGE", "str", "hll"], err(NOT_HLL)),
        (&["RPUSH", "list", "x"], int(1)),
        (&["PFADD", "list", "1"], err(WRONGTYPE)),
        (&["PFCOUNT", "list"], err(WRONGTYPE)),
        (&["PFMERGE", "list", "hll"], err(WRONGTYPE)),
        (&["PFMERGE", "hll", "list"], err(WRONGTYPE)),
        // PFMERGE: the destination counts as a source; it may not exist.
        (&["PFADD", "h1", "a", "b", "c"], int(1)),
        (&["PFADD", "h2", "b", "c", "d"], int(1)),
        (&["PFADD", "h3", "c", "d", "e"], int(1)),
        (&["PFMERGE", "union", "h1", "h2", "h3"], ok()),
        (&["PFCOUNT", "union"], int(5)),
        (&["PFCOUNT", "h1", "h2", "h3"], int(5)),
        (&["PFMERGE", "h1", "h2"], ok()),
        (&["PFCOUNT", "h1"], int(4)),
        (&["PFMERGE", "alone"], ok()),
        (&["PFCOUNT", "alone"], int(0)),
        // PFDEBUG looks the key up before the subcommand.
        (
            &["PFDEBUG", "encoding", "nokey"],
            err("ERR The specified key does not exist"),
        ),
        (
            &["PFDEBUG", "nosuch", "nokey"],
            err("ERR The specified key does not exist"),
        ),
        (&["PFDEBUG", "encoding", "str"], err(NOT_HLL)),
        (
            &["PFDEBUG", "nosuch", "hll"],
            err("ERR Unknown PFDEBUG subcommand 'nosuch'"),
        ),
        (
            &["PFDEBUG", "encoding", "hll"],
            Frame::Simple("sparse".into()),
        ),
        (&["PFDEBUG", "todense", "hll"], int(1)),
        (&["PFDEBUG", "todense", "hll"], int(0)),
        (
            &["PFDEBUG", "ENCODING", "hll"],
            Frame::Simple("dense".into()),
        ),
        (
            &["PFDEBUG", "decode", "hll"],
            err("ERR HLL encoding is not sparse"),
        ),
        (&["STRLEN", "hll"], int(12304)),
        (&["PFCOUNT", "hll"], int(4)),
        (
            &["PFDEBUG", "wrong", "hll", "x"],
            err("ERR wrong number of arguments for 'pfdebug' command"),
        ),
        (&["PFSELFTEST"], ok()),
    ];
    for (request, expected) in table {
        assert_eq!(&call(&mut c, request), expected, "{}", request.join(" "));
    }
    assert_eq!(
        call(&mut c, &["PFDEBUG", "decode", "alone"]),
        Frame::Bulk(b"Z:16384".to_vec())
    );
    match call(&mut c, &["PFDEBUG", "getreg", "h2"]) {
        Frame::Array(regs) => {
            assert_eq!(regs.len(), 16384);
            let set = regs.iter().filter(|r| **r != Frame::Int(0)).count();
            assert_eq!(set, 3);
        }
        other => panic!("GETREG answered {other:?}"),
    }
    // GETREG converts a sparse value to dense, as Redis does.
    assert_eq!(
        call(&mut c, &["PFDEBUG", "encoding", "h2"]),
        Frame::Simple("dense".into())
    );
}

#[test]
fn values_are_strings_in_redis_format() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    call(&mut c, &["PFADD", "abc", "a", "b", "c"]);
    assert_eq!(call(&mut c, &["PFCOUNT", "abc"]), int(3));
    assert_eq!(
        call(&mut c, &["GET", "abc"]),
        Frame::Bulk(hex(REDIS_ABC_COUNTED))
    );
    // Bytes made by Redis are a usable HLL.
    let raw = hex(REDIS_ABC_COUNTED);
    assert_eq!(call_bytes(&mut c, &[b"SET", b"copy", &raw]), ok());
    assert_eq!(call(&mut c, &["PFCOUNT", "copy"]), int(3));
    assert_eq!(call(&mut c, &["PFADD", "copy", "a"]), int(0));
    assert_eq!(call(&mut c, &["PFADD", "copy", "z"]), int(1));
    assert_eq!(call(&mut c, &["PFCOUNT", "copy", "abc"]), int(4));
}

#[test]
fn cached_cardinality_is_invalidated_and_refilled() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let flag = |c: &mut Raw| call(c, &["GETRANGE", "hll", "15", "15"]);
    call(&mut c, &["PFADD", "hll", "a", "b", "c"]);
    assert_eq!(flag(&mut c), Frame::Bulk(vec![0x80]));
    assert_eq!(call(&mut c, &["PFCOUNT", "hll"]), int(3));
    assert_eq!(flag(&mut c), Frame::Bulk(vec![0]));
    assert_eq!(call(&mut c, &["PFADD", "hll", "a", "b", "c"]), int(0));
    assert_eq!(flag(&mut c), Frame::Bulk(vec![0]));
    assert_eq!(call(&mut c, &["PFADD", "hll", "1", "2", "3"]), int(1));
    assert_eq!(flag(&mut c), Frame::Bulk(vec![0x80]));
    // A multi-key PFCOUNT caches nothing.
    assert_eq!(call(&mut c, &["PFCOUNT", "hll", "nokey"]), int(6));
    assert_eq!(flag(&mut c), Frame::Bulk(vec![0x80]));
    // The cache is believed: a forged count is answered as is.
    call_bytes(
        &mut c,
        &[b"SETRANGE", b"hll", b"8", &[42, 0, 0, 0, 0, 0, 0, 0]],
    );
    assert_eq!(call(&mut c, &["PFCOUNT", "hll"]), int(42));
}

#[test]
fn corruption_is_detected() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let fresh = |c: &mut Raw| {
        call(c, &["DEL", "hll"]);
        call(c, &["PFADD", "hll", "a", "b", "c"]);
    };
    fresh(&mut c);
    call(&mut c, &["APPEND", "hll", "hello"]);
    assert_eq!(call(&mut c, &["PFCOUNT", "hll"]), err(CORRUPT));
    assert_eq!(call(&mut c, &["PFCOUNT", "hll", "x"]), err(CORRUPT));
    assert_eq!(call(&mut c, &["PFMERGE", "x", "hll"]), err(CORRUPT));
    assert_eq!(call(&mut c, &["EXISTS", "x"]), int(0));
    assert_eq!(call(&mut c, &["PFDEBUG", "todense", "hll"]), err(CORRUPT));
    for (offset, bytes) in [
        ("0", &b"0123"[..]),
        ("4", b"x"),
        ("4", b"\x00"),
        ("4", b"\x02"),
    ] {
        fresh(&mut c);
        call_bytes(&mut c, &[b"SETRANGE", b"hll", offset.as_bytes(), bytes]);
        assert_eq!(call(&mut c, &["PFCOUNT", "hll"]), err(NOT_HLL), "{offset}");
        assert_eq!(
            call(&mut c, &["PFADD", "hll", "q"]),
            err(NOT_HLL),
            "{offset}"
        );
    }
    call(&mut c, &["SET", "short", "HYLL"]);
    assert_eq!(call(&mut c, &["PFCOUNT", "short"]), err(NOT_HLL));
    // Random damage never takes the server down.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..200 {
        call(&mut c, &["DEL", "hll"]);
        let items: Vec<String> = (0..next(400)).map(|i| format!("{round}-{i}")).collect();
        let mut args: Vec<&str> = vec!["PFADD", "hll"];
        args.extend(items.iter().map(String::as_str));
        call(&mut c, &args);
        let len = match call(&mut c, &["STRLEN", "hll"]) {
            Frame::Int(n) => n as u64,
            other => panic!("{other:?}"),
        };
        let pos = next(len).to_string();
        call_bytes(
            &mut c,
            &[b"SETRANGE", b"hll", pos.as_bytes(), &[next(256) as u8]],
        );
        call(&mut c, &["PFCOUNT", "hll"]);
        call(&mut c, &["PFADD", "hll", "more", "elements"]);
    }
    assert_eq!(call(&mut c, &["PING"]), Frame::Simple("PONG".into()));
}

#[test]
fn sparse_max_bytes_takes_effect() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(
        call(&mut c, &["CONFIG", "GET", "hll-sparse-max-bytes"]),
        Frame::Array(vec![
            Frame::Bulk(b"hll-sparse-max-bytes".to_vec()),
            Frame::Bulk(b"3000".to_vec())
        ])
    );
    let items: Vec<String> = (0..100).map(|i| format!("e{i}")).collect();
    let mut args: Vec<&str> = vec!["PFADD", "k"];
    args.extend(items.iter().map(String::as_str));
    call(&mut c, &args);
    assert_eq!(
        call(&mut c, &["PFDEBUG", "encoding", "k"]),
        Frame::Simple("sparse".into())
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "hll-sparse-max-bytes", "100"]),
        ok()
    );
    args[1] = "k2";
    call(&mut c, &args);
    assert_eq!(
        call(&mut c, &["PFDEBUG", "encoding", "k2"]),
        Frame::Simple("dense".into())
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "hll-sparse-max-bytes", "1kb"]),
        ok()
    );
    assert_eq!(
        call(&mut c, &["CONFIG", "GET", "hll-sparse-max-bytes"]),
        Frame::Array(vec![
            Frame::Bulk(b"hll-sparse-max-bytes".to_vec()),
            Frame::Bulk(b"1024".to_vec())
        ])
    );
}

#[test]
fn events_and_watch() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(
        call(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "E$n"]),
        ok()
    );
    let mut sub = server.raw();
    sub.roundtrip(
        b"PSUBSCRIBE __keyevent@0__:*\r\n",
        b"*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n",
    );
    for request in [
        &["PFADD", "a", "x"][..],
        &["PFADD", "a", "x"],
        &["PFCOUNT", "a"],
        &["PFMERGE", "b", "a"],
        &["PFMERGE", "b", "a"],
        &["PFADD", "done"],
    ] {
        call(&mut c, request);
    }
    let mut seen = Vec::new();
    loop {
        let Frame::Array(items) = sub.frame() else {
            panic!("not a message")
        };
        let (Frame::Bulk(channel), Frame::Bulk(key)) = (&items[2], &items[3]) else {
            panic!("bad message {items:?}")
        };
        let event = String::from_utf8_lossy(channel).replace("__keyevent@0__:", "");
        let key = String::from_utf8_lossy(key).to_string();
        if key == "done" {
            break;
        }
        seen.push(format!("{event} {key}"));
    }
    assert_eq!(seen, ["new a", "pfadd a", "new b", "pfadd b", "pfadd b"]);

    // A PFADD that raises no register is no change for WATCH.
    let run = |c: &mut Raw, elements: &[&str]| {
        let mut other = server.raw();
        call(c, &["WATCH", "a"]);
        let mut args = vec!["PFADD", "a"];
        args.extend_from_slice(elements);
        call(&mut other, &args);
        call(c, &["MULTI"]);
        call(c, &["PING"]);
        call(c, &["EXEC"])
    };
    assert_eq!(
        run(&mut c, &["x"]),
        Frame::Array(vec![Frame::Simple("PONG".into())])
    );
    assert_eq!(run(&mut c, &["y"]), Frame::Null);
}

/// Kills the redis-server it holds when dropped, also when a test fails.
struct RedisServer(std::process::Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis() -> Option<(RedisServer, Raw)> {
    if !have("redis-server") {
        return None;
    }
    let port = common::free_port();
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--bind", "127.0.0.1"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let guard = RedisServer(child);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let raw = Raw::connect(format!("127.0.0.1:{port}").parse().unwrap());
            return Some((guard, raw));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

#[test]
fn same_bytes_and_counts_as_redis() {
    let Some((_redis, mut theirs)) = start_redis() else {
        return;
    };
    let server = Server::start(&[]);
    let mut ours = server.raw();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let keys = ["h0", "h1", "h2", "h3"];
    for step in 0..1500 {
        let key = keys[next(4) as usize];
        let cmd: Vec<String> = match next(10) {
            // Mostly PFADDs of a few elements from a shared pool (repeats
            // included), sometimes a big batch that makes the value dense.
            0..=4 => {
                let n = if next(30) == 0 { 1500 } else { next(12) };
                let mut cmd = vec!["PFADD".to_string(), key.to_string()];
                cmd.extend((0..n).map(|_| format!("el:{}", next(20_000))));
                cmd
            }
            5 => vec!["PFCOUNT".into(), key.into()],
            6 => {
                let mut cmd = vec!["PFCOUNT".to_string()];
                cmd.extend((0..2 + next(3)).map(|_| keys[next(4) as usize].to_string()));
                cmd
            }
            7 => {
                let mut cmd = vec!["PFMERGE".to_string(), format!("m{}", next(3))];
                cmd.extend((0..1 + next(3)).map(|_| keys[next(4) as usize].to_string()));
                cmd
            }
            8 => vec!["PFDEBUG".into(), "ENCODING".into(), key.into()],
            _ => {
                if next(20) == 0 {
                    vec!["DEL".into(), key.into()]
                } else {
                    vec![
                        "CONFIG".into(),
                        "SET".into(),
                        "hll-sparse-max-bytes".into(),
                        ["3000", "200", "1000", "10000"][next(4) as usize].into(),
                    ]
                }
            }
        };
        let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let a = call(&mut ours, &refs);
        let b = call(&mut theirs, &refs);
        assert_eq!(
            a,
            b,
            "step {step}: {}",
            cmd.join(" ").chars().take(200).collect::<String>()
        );
        // After every change, the stored bytes themselves.
        for k in keys
            .iter()
            .map(|k| k.to_string())
            .chain((0..3).map(|i| format!("m{i}")))
        {
            if cmd[0] != "PFCOUNT" && cmd.get(1) != Some(&k) {
                continue;
            }
            let a = call(&mut ours, &["GET", &k]);
            let b = call(&mut theirs, &["GET", &k]);
            assert!(a == b, "step {step}: bytes of {k} differ after {}", cmd[0]);
        }
    }
}
