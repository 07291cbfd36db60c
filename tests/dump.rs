//! DUMP and RESTORE at the wire: payloads byte-identical to Redis 7.0's for
//! the encodings both write, RESTORE's option rules and error order, TTLs,
//! and values moved between herald and a real redis-server in both directions.

mod common;

use common::{have, Frame, Raw, RedisServer, Server};

fn ok() -> Frame {
    Frame::Simple("OK".into())
}

fn err(text: &str) -> Frame {
    Frame::Error(text.into())
}

fn int(n: i64) -> Frame {
    Frame::Int(n)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn call(c: &mut Raw, args: &[&[u8]]) -> Frame {
    c.cmd(args);
    c.frame()
}

/// A space-separated request (no binary arguments).
fn line(c: &mut Raw, text: &str) -> Frame {
    let args: Vec<&[u8]> = text.split(' ').map(str::as_bytes).collect();
    call(c, &args)
}

fn dump(c: &mut Raw, key: &str) -> Vec<u8> {
    match call(c, &[b"DUMP", key.as_bytes()]) {
        Frame::Bulk(b) => b,
        other => panic!("DUMP {key}: {other:?}"),
    }
}

fn restore(c: &mut Raw, key: &str, ttl: &str, payload: &[u8], opts: &[&str]) -> Frame {
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload];
    args.extend(opts.iter().map(|o| o.as_bytes()));
    call(c, &args)
}

/// Payloads redis-server 7.0.15 gives for: `SET foo bar`, `SET n 12345`,
/// `RPUSH l a 1 -1 1000`, `HSET h f v n 12`, `SADD si 3 1 2`, `SADD ss a`.
const REDIS_STRING: &str = "0003626172 0a00 e6be4960ee66fd17";
const REDIS_INT: &str = "00c13930 0a00 9d94ea2793fc08b9";
const REDIS_LIST: &str = "120102121200000004008161020101dfff02c3e802ff 0a00 84367e387823a028";
const REDIS_HASH: &str = "1012120000000400816602817602816e020c01ff 0a00 01369481d35b8974";
const REDIS_INTSET: &str = "0b0e020000000300000001000200030 00a00 a5025ce26d6e4d1b";
const REDIS_SET: &str = "02010161 0a00 6296e97e44d21a6d";

fn payload(spaced: &str) -> Vec<u8> {
    unhex(&spaced.replace(' ', ""))
}

#[test]
fn dump_of_strings_and_lists_is_byte_identical_to_redis() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"SET foo bar\r\n", b"+OK\r\n");
    c.roundtrip(b"SET n 12345\r\n", b"+OK\r\n");
    c.roundtrip(b"RPUSH l a 1 -1 1000\r\n", b":4\r\n");
    assert_eq!(dump(&mut c, "foo"), payload(REDIS_STRING));
    assert_eq!(dump(&mut c, "n"), payload(REDIS_INT));
    assert_eq!(dump(&mut c, "l"), payload(REDIS_LIST));
    c.roundtrip(b"DUMP missing\r\n", b"$-1\r\n");
}

#[test]
fn restore_reads_redis_payloads_of_every_collection_type() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    assert_eq!(restore(&mut c, "l", "0", &payload(REDIS_LIST), &[]), ok());
    assert_eq!(
        line(&mut c, "LRANGE l 0 -1"),
        Frame::Array(
            ["a", "1", "-1", "1000"]
                .iter()
                .map(|s| Frame::bulk(s))
                .collect()
        )
    );
    for (key, p, kind, encoding) in [
        ("h", REDIS_HASH, "hash", "listpack"),
        ("si", REDIS_INTSET, "set", "intset"),
        ("ss", REDIS_SET, "set", "hashtable"),
        ("s", REDIS_STRING, "string", "embstr"),
        ("n", REDIS_INT, "string", "int"),
    ] {
        assert_eq!(restore(&mut c, key, "0", &payload(p), &[]), ok(), "{key}");
        assert_eq!(
            line(&mut c, &format!("TYPE {key}")),
            Frame::Simple(kind.into()),
            "{key}"
        );
        assert_eq!(
            line(&mut c, &format!("OBJECT ENCODING {key}")),
            Frame::bulk(encoding),
            "{key}"
        );
        // What herald dumps back is what Redis dumped.
        assert_eq!(dump(&mut c, key), payload(p), "{key}");
    }
    assert_eq!(line(&mut c, "GET n"), Frame::bulk("12345"));
}

#[test]
fn restore_options_ttl_and_error_order() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let p = payload(REDIS_STRING);
    // Options first, then BUSYKEY, then the TTL, then the payload.
    c.roundtrip(b"SET k old\r\n", b"+OK\r\n");
    for (opts, want) in [
        (&["bogus"][..], "ERR syntax error"),
        (&["IDLETIME"][..], "ERR syntax error"),
        (
            &["IDLETIME", "x"][..],
            "ERR value is not an integer or out of range",
        ),
        (
            &["IDLETIME", "-1"][..],
            "ERR Invalid IDLETIME value, must be >= 0",
        ),
        (
            &["FREQ", "256"][..],
            "ERR Invalid FREQ value, must be >= 0 and <= 255",
        ),
        (&["IDLETIME", "1", "FREQ", "1"][..], "ERR syntax error"),
        (&[][..], "BUSYKEY Target key name already exists."),
    ] {
        assert_eq!(restore(&mut c, "k", "0", &p, opts), err(want), "{opts:?}");
    }
    assert_eq!(
        restore(&mut c, "k", "-1", &p, &["REPLACE"]),
        err("ERR Invalid TTL value, must be >= 0")
    );
    assert_eq!(
        restore(&mut c, "k", "x", &p, &["REPLACE"]),
        err("ERR value is not an integer or out of range")
    );
    let mut flipped = p.clone();
    flipped[2] ^= 1;
    assert_eq!(
        restore(&mut c, "k", "0", &flipped, &["REPLACE"]),
        err("ERR DUMP payload version or checksum are wrong")
    );
    assert_eq!(
        restore(&mut c, "k", "0", b"short", &["REPLACE"]),
        err("ERR DUMP payload version or checksum are wrong")
    );
    // A well-sealed payload whose body is nonsense (a list of 2^32 elements).
    let mut bogus = unhex("0180ffffffff00");
    bogus.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64_jones(&bogus);
    bogus.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(
        restore(&mut c, "k", "0", &bogus, &["REPLACE"]),
        err("ERR Bad data format")
    );
    // None of that touched the key.
    assert_eq!(line(&mut c, "GET k"), Frame::bulk("old"));

    // REPLACE, a relative TTL, an absolute one, one in the past.
    assert_eq!(restore(&mut c, "k", "100000", &p, &["REPLACE"]), ok());
    assert_eq!(line(&mut c, "GET k"), Frame::bulk("bar"));
    let Frame::Int(pttl) = line(&mut c, "PTTL k") else {
        panic!()
    };
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 50_000;
    assert_eq!(
        restore(&mut c, "k2", &at.to_string(), &p, &["ABSTTL"]),
        ok()
    );
    assert_eq!(line(&mut c, "PEXPIRETIME k2"), int(at as i64));
    assert_eq!(restore(&mut c, "k", "1", &p, &["REPLACE", "ABSTTL"]), ok());
    assert_eq!(line(&mut c, "EXISTS k"), int(0));
    // IDLETIME sets the access clock (no LFU policy here).
    assert_eq!(
        restore(&mut c, "idle", "0", &p, &["IDLETIME", "1000"]),
        ok()
    );
    let Frame::Int(idle) = line(&mut c, "OBJECT IDLETIME idle") else {
        panic!()
    };
    assert!((1000..1010).contains(&idle), "{idle}");
    // The server is still fine after all of it.
    c.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn restore_wakes_a_client_blocked_on_the_key() {
    let server = Server::start(&[]);
    let mut blocked = server.raw();
    blocked.send(b"BLPOP q 5\r\n");
    let mut c = server.raw();
    for _ in 0..100 {
        if let Frame::Bulk(info) = line(&mut c, "INFO clients") {
            if String::from_utf8_lossy(&info).contains("blocked_clients:1") {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(restore(&mut c, "q", "0", &payload(REDIS_LIST), &[]), ok());
    assert_eq!(
        blocked.frame(),
        Frame::Array(vec![Frame::bulk("q"), Frame::bulk("a")])
    );
    assert_eq!(line(&mut c, "LLEN q"), int(3));
}

/// CRC-64/Jones, as the DUMP footer needs (kept here so the test does not
/// trust the server's own implementation).
fn crc64_jones(data: &[u8]) -> u64 {
    let mut crc: u64 = 0;
    for &b in data {
        crc ^= u64::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x95ac_9329_ac4b_c9b5
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[test]
fn values_move_between_herald_and_redis_both_ways() {
    if !have("redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let mut r = redis.raw();
    let server = Server::start(&[]);
    let mut h = server.raw();
    // Values of many shapes: integers of every width, long strings (which
    // Redis LZF-compresses), long lists (several quicklist nodes).
    let long = "x".repeat(5000);
    let values: Vec<String> = [
        "0",
        "-1",
        "127",
        "128",
        "-32769",
        "2147483648",
        "9223372036854775807",
        "007",
        "",
        "hello",
        &long,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (i, v) in values.iter().enumerate() {
        for c in [&mut r, &mut h] {
            assert_eq!(
                call(c, &[b"SET", format!("s{i}").as_bytes(), v.as_bytes()]),
                ok()
            );
        }
    }
    let mut push: Vec<Vec<u8>> = vec![b"RPUSH".to_vec(), b"list".to_vec()];
    for i in 0..3000 {
        push.push(if i % 3 == 0 {
            i.to_string().into_bytes()
        } else {
            format!("element-{i}-{}", "y".repeat(i % 40)).into_bytes()
        });
    }
    let push_args: Vec<&[u8]> = push.iter().map(|a| a.as_slice()).collect();
    for c in [&mut r, &mut h] {
        assert_eq!(call(c, &push_args), int(3000));
    }
    let mut keys: Vec<String> = (0..values.len()).map(|i| format!("s{i}")).collect();
    keys.push("list".into());
    for key in &keys {
        // Redis -> herald and herald -> Redis; each side reads back its own content.
        let from_redis = dump(&mut r, key);
        let from_herald = dump(&mut h, key);
        assert_eq!(
            restore(&mut h, &format!("{key}:r"), "0", &from_redis, &[]),
            ok(),
            "{key}"
        );
        assert_eq!(
            restore(&mut r, &format!("{key}:h"), "0", &from_herald, &[]),
            ok(),
            "{key}"
        );
        let read = if key == "list" { "LRANGE" } else { "GET" };
        let read_args = |k: &str| -> Vec<Vec<u8>> {
            let mut a = vec![read.as_bytes().to_vec(), k.as_bytes().to_vec()];
            if read == "LRANGE" {
                a.extend([b"0".to_vec(), b"-1".to_vec()]);
            }
            a
        };
        let get = |c: &mut Raw, k: &str| {
            let a = read_args(k);
            let refs: Vec<&[u8]> = a.iter().map(|x| x.as_slice()).collect();
            call(c, &refs)
        };
        let original = get(&mut r, key);
        assert_eq!(
            get(&mut h, &format!("{key}:r")),
            original,
            "{key} redis->herald"
        );
        assert_eq!(
            get(&mut r, &format!("{key}:h")),
            original,
            "{key} herald->redis"
        );
        if read == "GET" {
            assert_eq!(
                line(&mut h, &format!("OBJECT ENCODING {key}:r")),
                line(&mut r, &format!("OBJECT ENCODING {key}")),
                "{key}"
            );
        }
    }
}
