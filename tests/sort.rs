//! SORT and SORT_RO through the real binary: exact replies for lists and
//! sets, STORE and its events, COMMAND GETKEYS; and a differential run
//! against a real redis-server when one is installed.

mod common;

use common::{have, multibulk, Frame, Raw, Server};

fn call(c: &mut Raw, line: &str) -> Frame {
    let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    c.send(&multibulk(&args));
    c.frame()
}

fn bulks(items: &[&str]) -> Frame {
    Frame::Array(
        items
            .iter()
            .map(|s| Frame::Bulk(s.as_bytes().to_vec()))
            .collect(),
    )
}

fn err(text: &str) -> Frame {
    Frame::Error(text.to_string())
}

#[test]
fn lists_sorted_limited_and_projected() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    call(&mut c, "RPUSH l 3 1 2 10 -5 1.5");
    call(&mut c, "MSET w_3 30 w_1 10 w_2 20 w_10 5 w_-5 0 w_1.5 15");
    let table: &[(&str, Frame)] = &[
        ("SORT l", bulks(&["-5", "1", "1.5", "2", "3", "10"])),
        ("SORT l DESC", bulks(&["10", "3", "2", "1.5", "1", "-5"])),
        ("SORT l ALPHA", bulks(&["-5", "1", "1.5", "10", "2", "3"])),
        ("SORT l LIMIT 1 2", bulks(&["1", "1.5"])),
        ("SORT l LIMIT -10 2", bulks(&["-5", "1"])),
        ("SORT l LIMIT 4 100", bulks(&["3", "10"])),
        ("SORT l LIMIT 100 1", bulks(&[])),
        (
            "SORT l BY nosort",
            bulks(&["3", "1", "2", "10", "-5", "1.5"]),
        ),
        ("SORT l BY nosort DESC LIMIT 0 2", bulks(&["1.5", "-5"])),
        ("SORT l BY w_*", bulks(&["-5", "10", "1", "1.5", "2", "3"])),
        (
            "SORT l BY w_* GET # GET w_*",
            bulks(&[
                "-5", "0", "10", "5", "1", "10", "1.5", "15", "2", "20", "3", "30",
            ]),
        ),
        (
            "SORT_RO l BY nosort LIMIT 0 1 GET nostar",
            Frame::Array(vec![Frame::Null]),
        ),
        ("SORT nokey", bulks(&[])),
        ("SORT l LIMIT 1", err("ERR syntax error")),
        (
            "SORT l LIMIT a 1",
            err("ERR value is not an integer or out of range"),
        ),
        ("SORT l BOGUS", err("ERR syntax error")),
        ("SORT_RO l STORE x", err("ERR syntax error")),
        (
            "SORT",
            err("ERR wrong number of arguments for 'sort' command"),
        ),
    ];
    for (request, expected) in table {
        assert_eq!(&call(&mut c, request), expected, "{request}");
    }
    call(&mut c, "RPUSH bad 1 x");
    assert_eq!(
        call(&mut c, "SORT bad"),
        err("ERR One or more scores can't be converted into double")
    );
    call(&mut c, "SET str x");
    assert_eq!(
        call(&mut c, "SORT str"),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    // A BY key missing weighs 0, and ties compare the elements.
    call(&mut c, "RPUSH t b a c");
    call(&mut c, "SET k_c -1");
    assert_eq!(call(&mut c, "SORT t BY k_*"), bulks(&["c", "a", "b"]));
    // ALPHA: missing BY keys sort first, ties keep their order (stable, as glibc's qsort).
    assert_eq!(call(&mut c, "SORT t BY k_* ALPHA"), bulks(&["b", "a", "c"]));
    // A pattern ending in -> is a plain key, not a hash field.
    call(&mut c, "SET x:a-> 100");
    assert_eq!(
        call(&mut c, "SORT t BY nosort GET x:*->"),
        Frame::Array(vec![Frame::Null, Frame::Bulk(b"100".to_vec()), Frame::Null])
    );
}

#[test]
fn sets_sort_and_store_sorts_alpha() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    call(&mut c, "SADD s 5 3 9 1");
    assert_eq!(call(&mut c, "SORT s"), bulks(&["1", "3", "5", "9"]));
    assert_eq!(call(&mut c, "SORT s DESC LIMIT 0 2"), bulks(&["9", "5"]));
    call(&mut c, "SADD a zz b aa c");
    assert_eq!(call(&mut c, "SORT a BY _ STORE dst"), Frame::Int(4));
    assert_eq!(
        call(&mut c, "LRANGE dst 0 -1"),
        bulks(&["aa", "b", "c", "zz"])
    );
}

#[test]
fn store_replaces_deletes_and_publishes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(
        call(&mut c, "CONFIG SET notify-keyspace-events Eglnx"),
        Frame::Simple("OK".into())
    );
    call(&mut c, "RPUSH l 2 1");
    let mut sub = server.raw();
    sub.roundtrip(
        b"PSUBSCRIBE __keyevent@0__:*\r\n",
        b"*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n",
    );
    call(&mut c, "SET dst old");
    call(&mut c, "EXPIRE dst 100");
    assert_eq!(call(&mut c, "SORT l STORE dst"), Frame::Int(2));
    assert_eq!(call(&mut c, "LRANGE dst 0 -1"), bulks(&["1", "2"]));
    assert_eq!(call(&mut c, "TTL dst"), Frame::Int(-1));
    assert_eq!(
        call(&mut c, "SORT l GET # GET nokey_* STORE dst"),
        Frame::Int(4)
    );
    assert_eq!(call(&mut c, "LRANGE dst 0 -1"), bulks(&["1", "", "2", ""]));
    assert_eq!(call(&mut c, "SORT l LIMIT 5 5 STORE dst"), Frame::Int(0));
    assert_eq!(call(&mut c, "EXISTS dst"), Frame::Int(0));
    assert_eq!(call(&mut c, "SORT nokey STORE fresh"), Frame::Int(0));
    assert_eq!(call(&mut c, "EXISTS fresh"), Frame::Int(0));
    call(&mut c, "SORT l STORE fresh");
    call(&mut c, "SET done x");
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
    assert_eq!(
        seen,
        [
            "new dst",
            "expire dst",
            "sortstore dst",
            "sortstore dst",
            "del dst",
            "new fresh",
            "sortstore fresh",
        ]
    );
}

#[test]
fn command_getkeys_finds_the_store_key() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let table: &[(&str, Frame)] = &[
        ("COMMAND GETKEYS sort abc store def", bulks(&["abc", "def"])),
        (
            "COMMAND GETKEYS sort abc store a store b store def",
            bulks(&["abc", "def"]),
        ),
        (
            "COMMAND GETKEYS sort abc limit store 1 by store",
            bulks(&["abc"]),
        ),
        ("COMMAND GETKEYS sort_ro abc", bulks(&["abc"])),
        ("COMMAND GETKEYS mset a 1 b 2", bulks(&["a", "b"])),
        ("COMMAND GETKEYS pfmerge d s1 s2", bulks(&["d", "s1", "s2"])),
        (
            "COMMAND GETKEYS nosuch a",
            err("ERR Invalid command specified"),
        ),
        (
            "COMMAND GETKEYS ping x",
            err("ERR The command has no key arguments"),
        ),
        (
            "COMMAND GETKEYS get a b",
            err("ERR Invalid number of arguments specified for command"),
        ),
    ];
    for (request, expected) in table {
        assert_eq!(&call(&mut c, request), expected, "{request}");
    }
}

/// Kills the redis-server it holds when dropped, also when a test fails.
struct RedisServer(std::process::Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn same_replies_as_redis() {
    if !have("redis-server") {
        return;
    }
    let port = common::free_port();
    let Ok(child) = std::process::Command::new("redis-server")
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
    else {
        return;
    };
    let _redis = RedisServer(child);
    let mut theirs = None;
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            theirs = Some(Raw::connect(format!("127.0.0.1:{port}").parse().unwrap()));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut theirs = theirs.expect("redis-server did not start");
    let server = Server::start(&[]);
    let mut ours = server.raw();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let values = [
        "1", "2", "10", "-3", "1.5", "a", "b", "", "1e2", "0x10", "inf", "7",
    ];
    let mut setup = vec!["FLUSHALL".to_string()];
    for i in 0..8 {
        setup.push(format!("SET w_{} {}", values[i], values[next(12) as usize]));
    }
    for line in &setup {
        assert_eq!(call(&mut ours, line), call(&mut theirs, line), "{line}");
    }
    for step in 0..1500 {
        let line = match next(4) {
            0 => format!("RPUSH l{} {}", next(2), values[next(12) as usize]),
            1 => format!("LPOP l{}", next(2)),
            _ => {
                let mut line = format!("SORT l{}", next(2));
                for _ in 0..next(4) {
                    line.push_str(match next(9) {
                        0 => " DESC",
                        1 => " ALPHA",
                        2 => " BY w_*",
                        3 => " BY nosort",
                        4 => " GET #",
                        5 => " GET w_*",
                        6 => " LIMIT 1 3",
                        7 => " LIMIT -2 2",
                        _ => " STORE dst",
                    });
                }
                line
            }
        };
        let a = call(&mut ours, &line);
        let b = call(&mut theirs, &line);
        assert_eq!(a, b, "step {step}: {line}");
        if line.contains("STORE") {
            let get = "LRANGE dst 0 -1";
            assert_eq!(
                call(&mut ours, get),
                call(&mut theirs, get),
                "step {step}: {line}"
            );
        }
    }
}

#[test]
fn sorted_sets_sort_and_keep_score_order_unsorted() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    call(&mut c, "ZADD z 1 a 5 b 2 c 10 d 3 e");
    let table: &[(&str, Frame)] = &[
        ("SORT z ALPHA DESC", bulks(&["e", "d", "c", "b", "a"])),
        ("SORT z BY nosort", bulks(&["a", "c", "e", "b", "d"])),
        ("SORT z BY nosort DESC", bulks(&["d", "b", "e", "c", "a"])),
        ("SORT z BY nosort DESC LIMIT 0 2", bulks(&["d", "b"])),
        ("SORT z BY nosort LIMIT 5 10", bulks(&[])),
        (
            "SORT z BY nosort LIMIT -10 100",
            bulks(&["a", "c", "e", "b", "d"]),
        ),
    ];
    for (request, expected) in table {
        assert_eq!(&call(&mut c, request), expected, "{request}");
    }
}
