//! Differential test: the same random command sequence against herald and a
//! real redis-server, replies compared exactly (TTL readings within a tolerance).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{have, multibulk, Frame, Raw, Server};

/// A redis-server on a free port, killed (by PID) when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
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
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        // Owned by the guard at once, so it is killed and reaped on every path.
        let redis = Redis { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const KEYS: &[&str] = &["a", "b", "c", "n", "f", "\u{e9}t\u{e9}", "k:1", "k:2"];
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-7",
    "42",
    "9223372036854775807",
    "-9223372036854775808",
    "3.5",
    "abc",
    "hello world",
    "10e2",
    " 5",
    "0x10",
];

/// One random command (as argument strings).
fn random_command(r: &mut Rng) -> Vec<String> {
    let k = || 0;
    let _ = k;
    let key = r.pick(KEYS).to_string();
    let key2 = r.pick(KEYS).to_string();
    // Now and then a long value: entries keep strings up to 256 bytes inline
    // and longer ones apart, and APPEND/SETRANGE cross that line both ways.
    let val = match r.below(8) {
        0 => "v".repeat(r.below(400) as usize),
        _ => r.pick(VALUES).to_string(),
    };
    let small = (r.below(40) as i64 - 10).to_string();
    let cmd: Vec<String> = match r.below(34) {
        0 => vec!["SET".into(), key, val],
        1 => vec!["GET".into(), key],
        2 => vec!["DEL".into(), key, key2],
        3 => vec!["EXISTS".into(), key, key2, r.pick(KEYS).into()],
        4 => vec!["INCR".into(), key],
        5 => vec!["DECRBY".into(), key, small],
        6 => vec!["INCRBY".into(), key, val],
        7 => vec!["APPEND".into(), key, val],
        8 => vec!["STRLEN".into(), key],
        9 => vec![
            "GETRANGE".into(),
            key,
            small.clone(),
            (r.below(20) as i64 - 5).to_string(),
        ],
        10 => vec!["SETRANGE".into(), key, r.below(300).to_string(), val],
        11 => vec!["MSET".into(), key, val, key2, r.pick(VALUES).into()],
        12 => vec!["MGET".into(), key, key2, "nokey".into()],
        13 => vec!["SETNX".into(), key, val],
        14 => vec!["GETSET".into(), key, val],
        15 => vec!["GETDEL".into(), key],
        16 => vec!["TYPE".into(), key],
        17 => vec!["RENAME".into(), key, key2],
        18 => vec!["RENAMENX".into(), key, key2],
        // Seconds apart, so GT/LT compare deadlines that differ by more than
        // the milliseconds between two commands (equal ones make the answer
        // depend on whether the clock ticked in between, on both servers).
        19 => vec![
            "EXPIRE".into(),
            key,
            (100 + r.below(1000)).to_string(),
            r.pick(&["", "NX", "XX", "GT", "LT"]).into(),
        ],
        20 => vec!["PERSIST".into(), key],
        21 => vec!["TTL".into(), key],
        // 100000: long enough (even as PX milliseconds) never to expire mid-test.
        22 => vec![
            "SET".into(),
            key,
            val,
            r.pick(&["NX", "XX", "GET", "KEEPTTL", "EX", "PX"]).into(),
            "100000".into(),
        ],
        23 => vec![
            "INCRBYFLOAT".into(),
            key,
            r.pick(&["1.5", "-0.25", "10", "abc", "1e3"]).into(),
        ],
        24 => vec!["MSETNX".into(), key, val, key2, "x".into()],
        25 => vec!["COPY".into(), key, key2, r.pick(&["", "REPLACE"]).into()],
        26 => vec!["DBSIZE".into()],
        27 => vec!["GETEX".into(), key, r.pick(&["", "PERSIST", "EX"]).into()],
        28 => vec!["DECR".into(), key],
        29 => vec![
            "SETEX".into(),
            key,
            r.pick(&["10", "0", "-1", "x"]).into(),
            val,
        ],
        30 => vec!["TOUCH".into(), key, key2],
        31 => vec!["UNLINK".into(), key],
        32 => vec!["EXPIRETIME".into(), key],
        _ => vec!["PTTL".into(), key],
    };
    // Drop empty option slots, but keep empty values in the positions that need them.
    let mut out: Vec<String> = Vec::new();
    for (i, a) in cmd.into_iter().enumerate() {
        if a.is_empty() && i >= 3 && matches!(out[0].as_str(), "EXPIRE" | "COPY" | "GETEX") {
            continue;
        }
        out.push(a);
    }
    // EX/PX need their number; GETEX EX needs one too.
    if out[0] == "GETEX" && out.last().map(String::as_str) == Some("EX") {
        out.push("100".into());
    }
    out
}

fn send(c: &mut Raw, args: &[String]) -> Frame {
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send(&multibulk(&refs));
    c.frame()
}

/// Replies that legitimately differ: remaining TTLs (time passes) and expiry timestamps.
fn same(cmd: &str, a: &Frame, b: &Frame) -> bool {
    match (cmd, a, b) {
        ("TTL", Frame::Int(x), Frame::Int(y)) => (x - y).abs() <= 1,
        ("PTTL", Frame::Int(x), Frame::Int(y)) => (x - y).abs() <= 1000,
        ("EXPIRETIME", Frame::Int(x), Frame::Int(y)) => (x - y).abs() <= 2,
        _ => a == b,
    }
}

#[test]
fn random_command_sequences_match_redis() {
    if !have("redis-server") {
        return;
    }
    let redis = Redis::start();
    let server = Server::start(&[]);
    for seed in 1..=20u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut ours = server.raw();
        let mut theirs = Raw::connect(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        for c in [&mut ours, &mut theirs] {
            c.roundtrip(b"FLUSHALL\r\n", b"+OK\r\n");
        }
        let mut history: Vec<String> = Vec::new();
        for _ in 0..500 {
            let cmd = random_command(&mut rng);
            let a = send(&mut ours, &cmd);
            let b = send(&mut theirs, &cmd);
            history.push(cmd.join(" "));
            assert!(
                same(&cmd[0], &a, &b),
                "seed {seed}: `{}`\n  herald: {a:?}\n  redis:  {b:?}\n  last commands:\n    {}",
                cmd.join(" "),
                history
                    .iter()
                    .rev()
                    .take(8)
                    .rev()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n    ")
            );
        }
    }
}
