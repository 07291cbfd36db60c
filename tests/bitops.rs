//! Bit and LCS commands: exact replies and errors, and a differential run
//! against a real redis-server when one is installed.

mod common;

use common::{have, multibulk, Frame, Raw, Server};

fn call(c: &mut Raw, args: &[&str]) -> Frame {
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send(&multibulk(&refs));
    c.frame()
}

fn err(text: &str) -> Frame {
    Frame::Error(text.to_string())
}

#[test]
fn replies_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(call(&mut c, &["SETBIT", "k", "7", "1"]), Frame::Int(0));
    assert_eq!(call(&mut c, &["SETBIT", "k", "7", "0"]), Frame::Int(1));
    assert_eq!(call(&mut c, &["GETBIT", "k", "100"]), Frame::Int(0));
    assert_eq!(
        call(&mut c, &["SET", "s", "foobar"]),
        Frame::Simple("OK".into())
    );
    assert_eq!(call(&mut c, &["BITCOUNT", "s"]), Frame::Int(26));
    assert_eq!(call(&mut c, &["BITCOUNT", "s", "1", "1"]), Frame::Int(6));
    assert_eq!(
        call(&mut c, &["BITCOUNT", "s", "5", "30", "BIT"]),
        Frame::Int(17)
    );
    assert_eq!(call(&mut c, &["BITCOUNT", "nokey", "x"]), Frame::Int(0));
    assert_eq!(
        call(&mut c, &["BITCOUNT", "s", "0"]),
        err("ERR syntax error")
    );
    assert_eq!(call(&mut c, &["BITPOS", "s", "0"]), Frame::Int(0));
    assert_eq!(
        call(&mut c, &["BITPOS", "s", "1", "2", "-1", "BYTE"]),
        Frame::Int(17)
    );
    assert_eq!(
        call(&mut c, &["BITPOS", "s", "2"]),
        err("ERR The bit argument must be 1 or 0.")
    );
    assert_eq!(
        call(&mut c, &["BITOP", "NOT", "d", "s", "s"]),
        err("ERR BITOP NOT must be called with a single source key.")
    );
    assert_eq!(
        call(&mut c, &["BITOP", "AND", "d", "s", "nokey"]),
        Frame::Int(6)
    );
    assert_eq!(call(&mut c, &["GET", "d"]), Frame::Bulk(vec![0; 6]));
    assert_eq!(call(&mut c, &["BITOP", "OR", "d", "nokey"]), Frame::Int(0));
    assert_eq!(call(&mut c, &["EXISTS", "d"]), Frame::Int(0));
    assert_eq!(
        call(
            &mut c,
            &[
                "BITFIELD", "b", "SET", "i8", "0", "-1", "GET", "u8", "0", "OVERFLOW", "FAIL",
                "INCRBY", "u8", "#0", "1"
            ]
        ),
        Frame::Array(vec![Frame::Int(0), Frame::Int(255), Frame::Null])
    );
    assert_eq!(call(&mut c, &["BITFIELD", "b", "GET", "u64", "0"]), err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."));
    assert_eq!(
        call(&mut c, &["BITFIELD_RO", "b", "SET", "u8", "0", "1"]),
        err("ERR BITFIELD_RO only supports the GET subcommand")
    );
    assert_eq!(
        call(&mut c, &["SETBIT", "k", "4294967296", "1"]),
        err("ERR bit offset is not an integer or out of range")
    );
    assert_eq!(
        call(&mut c, &["SETBIT", "k", "0", "2"]),
        err("ERR bit is not an integer or out of range")
    );
    call(&mut c, &["RPUSH", "l", "x"]);
    assert!(
        matches!(call(&mut c, &["GETBIT", "l", "0"]), Frame::Error(e) if e.starts_with("WRONGTYPE"))
    );
    call(&mut c, &["SET", "a", "ohmytext"]);
    call(&mut c, &["SET", "b2", "mynewtext"]);
    assert_eq!(call(&mut c, &["LCS", "a", "b2"]), Frame::bulk("mytext"));
    assert_eq!(call(&mut c, &["LCS", "a", "b2", "LEN"]), Frame::Int(6));
    assert_eq!(
        call(&mut c, &["LCS", "a", "b2", "LEN", "IDX"]),
        err("ERR If you want both the length and indexes, please just use IDX.")
    );
    assert_eq!(
        call(&mut c, &["LCS", "a", "l"]),
        err("ERR The specified keys must contain string values")
    );
    c.roundtrip(
        &multibulk(&[b"LCS", b"a", b"b2", b"IDX", b"MINMATCHLEN", b"3", b"WITHMATCHLEN"]),
        b"*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n",
    );
    call(&mut c, &["HELLO", "3"]);
    c.roundtrip(
        &multibulk(&[b"LCS", b"a", b"b2", b"IDX", b"MINMATCHLEN", b"3"]),
        b"%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n",
    );
}

#[test]
fn random_bit_sequences_match_redis() {
    if !have("redis-server") {
        return;
    }
    let port = common::free_port();
    let mut redis = std::process::Command::new("redis-server")
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
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server");
    let mut theirs = None;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            theirs = Some(Raw::connect(format!("127.0.0.1:{port}").parse().unwrap()));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let server = Server::start(&[]);
    let mut ours = server.raw();
    let mut theirs = theirs.expect("redis-server did not start");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let keys = ["a", "b", "c"];
    let types = ["u1", "u8", "i8", "u63", "i64", "i5", "u3"];
    let ovf = ["WRAP", "SAT", "FAIL"];
    for _ in 0..3000 {
        let k = keys[next(3) as usize].to_string();
        let n = |r: u64, m: u64| r % m;
        let cmd: Vec<String> = match next(6) {
            0 => vec![
                "SETBIT".into(),
                k,
                next(200).to_string(),
                next(2).to_string(),
            ],
            1 => vec![
                "BITCOUNT".into(),
                k,
                (next(40) as i64 - 20).to_string(),
                (next(60) as i64 - 20).to_string(),
                ["BYTE", "BIT"][next(2) as usize].into(),
            ],
            2 => vec![
                "BITPOS".into(),
                k,
                next(2).to_string(),
                (next(40) as i64 - 20).to_string(),
                (next(200) as i64 - 20).to_string(),
                ["BYTE", "BIT"][next(2) as usize].into(),
            ],
            3 => vec![
                "BITOP".into(),
                ["AND", "OR", "XOR"][next(3) as usize].into(),
                k,
                keys[next(3) as usize].into(),
                keys[next(3) as usize].into(),
            ],
            _ => {
                let t = types[next(7) as usize];
                let v = (next(1 << 20) as i64 - (1 << 19)) * n(next(1000), 1000) as i64;
                vec![
                    "BITFIELD".into(),
                    k,
                    "OVERFLOW".into(),
                    ovf[next(3) as usize].into(),
                    ["SET", "INCRBY"][next(2) as usize].into(),
                    t.into(),
                    next(150).to_string(),
                    v.to_string(),
                    "GET".into(),
                    t.into(),
                    next(150).to_string(),
                ]
            }
        };
        let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let a = call(&mut ours, &refs);
        let b = call(&mut theirs, &refs);
        assert_eq!(a, b, "{}", cmd.join(" "));
    }
    let _ = redis.kill();
    let _ = redis.wait();
}
