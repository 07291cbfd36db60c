//! Lua ↔ RESP conversion fuzzed against real redis-server: proptest builds
//! random nested values (integers, floats, strings of arbitrary bytes,
//! booleans, nil holes, `{ok=}`/`{err=}` tables, RESP3 `{double=}`,
//! `{big_number=}`, `{verbatim_string=}`, `{map=}`, `{set=}` and tables that
//! only look like them), writes each as a Lua literal, `EVAL`s `return <it>`
//! on herald and on redis-server, and compares the reply bytes: from a RESP2
//! and a RESP3 (`HELLO 3`) connection, with and without `redis.setresp(3)`
//! (which changes how booleans convert).
//!
//! A second property goes the other way: random data stored with RPUSH, HSET
//! and ZADD, read inside a script with `redis.call` (RESP → Lua, under
//! `setresp` 2 and 3) and returned (Lua → RESP).
//!
//! Bounded and deterministic: 200 cases from a fixed seed unless
//! `PROPTEST_CASES` / `HERALD_FUZZ_SEED` say otherwise.

mod common;

use std::fmt::Write as _;

use common::{have, multibulk, Raw, RedisServer, Server};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// A value a script returns, as a Lua expression.
#[derive(Debug, Clone)]
enum Val {
    Int(i64),
    /// Finite, well inside ±2^63 (beyond it C's double → long long cast
    /// that Redis does is undefined).
    Float(f64),
    Str(Vec<u8>),
    Bool(bool),
    Nil,
    Ok(Vec<u8>),
    Err(Vec<u8>),
    /// `{double=x}`, infinities included.
    Double(f64),
    BigNumber(Vec<u8>),
    /// `{verbatim_string={format=f, string=s}}`.
    Verbatim(Vec<u8>, Vec<u8>),
    Array(Vec<Val>),
    Map(Vec<(Key, Val)>),
    Set(Vec<Key>),
    /// `{name=<value of the wrong type>}`: a table that only looks special.
    Decoy(&'static str, Box<Val>),
}

#[derive(Debug, Clone)]
enum Key {
    Int(i64),
    Str(Vec<u8>),
}

/// A Lua string literal for arbitrary bytes (`\ddd` escapes, 3 digits so a
/// following digit is not swallowed).
fn lua_str(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b == b' ' || b == b'_' {
            s.push(b as char);
        } else {
            let _ = write!(s, "\\{b:03}");
        }
    }
    s.push('"');
    s
}

fn lua_num(x: f64) -> String {
    if x.is_infinite() {
        if x > 0.0 { "(1/0)" } else { "(-1/0)" }.to_string()
    } else {
        // Rust's shortest round-trip decimal; Lua reads it back exactly.
        format!("({x})")
    }
}

fn lua_key(k: &Key) -> String {
    match k {
        Key::Int(i) => format!("[{i}]"),
        Key::Str(s) => format!("[{}]", lua_str(s)),
    }
}

fn lua(v: &Val) -> String {
    match v {
        Val::Int(i) => format!("({i})"),
        Val::Float(x) => lua_num(*x),
        Val::Str(s) => lua_str(s),
        Val::Bool(b) => b.to_string(),
        Val::Nil => "nil".to_string(),
        Val::Ok(s) => format!("{{ok={}}}", lua_str(s)),
        Val::Err(s) => format!("{{err={}}}", lua_str(s)),
        Val::Double(x) => format!("{{double={}}}", lua_num(*x)),
        Val::BigNumber(s) => format!("{{big_number={}}}", lua_str(s)),
        Val::Verbatim(f, s) => format!(
            "{{verbatim_string={{format={}, string={}}}}}",
            lua_str(f),
            lua_str(s)
        ),
        Val::Array(items) => {
            let parts: Vec<String> = items.iter().map(lua).collect();
            format!("{{{}}}", parts.join(", "))
        }
        Val::Map(pairs) => {
            let parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", lua_key(k), lua(v)))
                .collect();
            format!("{{map={{{}}}}}", parts.join(", "))
        }
        Val::Set(keys) => {
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}=true", lua_key(k)))
                .collect();
            format!("{{set={{{}}}}}", parts.join(", "))
        }
        Val::Decoy(name, v) => format!("{{{name}={}}}", lua(v)),
    }
}

/// Bytes biased towards the ones conversions treat specially.
fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(b"abcXYZ019 -+:.,".to_vec()),
            2 => prop::sample::select(b"\r\n\0\t\"\\%".to_vec()),
            1 => any::<u8>(),
        ],
        0..max,
    )
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1.0e15..1.0e15f64),
        (-1000.0..1000.0f64),
        (-100i64..100).prop_map(|i| i as f64 / 4.0),
        Just(-0.0),
    ]
}

fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => float(),
        1 => prop::sample::select(vec![
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.0e300,
            -2.5e-300,
            0.1,
            1.0 / 3.0,
            1.0e17,
            123456789012345678.0,
        ]),
    ]
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![(-3i64..10).prop_map(Key::Int), bytes(6).prop_map(Key::Str),]
}

fn leaf() -> impl Strategy<Value = Val> {
    prop_oneof![
        3 => prop_oneof![
            (-1000i64..1000),
            (-(1i64 << 53)..(1i64 << 53)),
        ]
        .prop_map(Val::Int),
        2 => float().prop_map(Val::Float),
        3 => bytes(12).prop_map(Val::Str),
        1 => any::<bool>().prop_map(Val::Bool),
        1 => Just(Val::Nil),
        1 => bytes(10).prop_map(Val::Ok),
        1 => bytes(10).prop_map(Val::Err),
        1 => double().prop_map(Val::Double),
        1 => bytes(8).prop_map(Val::BigNumber),
        1 => (bytes(5), bytes(8)).prop_map(|(f, s)| Val::Verbatim(f, s)),
        1 => (
            prop::sample::select(vec![
                "err", "ok", "double", "big_number", "map", "set", "verbatim_string",
            ]),
            prop_oneof![
                (-5i64..5).prop_map(Val::Int),
                bytes(4).prop_map(Val::Str),
                Just(Val::Bool(true)),
            ],
        )
            .prop_map(|(n, v)| Val::Decoy(n, Box::new(v))),
    ]
}

fn value() -> impl Strategy<Value = Val> {
    leaf().prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            3 => prop::collection::vec(inner.clone(), 0..6).prop_map(Val::Array),
            1 => prop::collection::vec((key(), inner), 0..5).prop_map(Val::Map),
            1 => prop::collection::vec(key(), 0..5).prop_map(Val::Set),
        ]
    })
}

/// One whole RESP2/RESP3 reply, as the exact bytes that came in.
fn reply(c: &mut Raw) -> Vec<u8> {
    let mut out = Vec::new();
    read_frame(c, &mut out);
    out
}

fn read_frame(c: &mut Raw, out: &mut Vec<u8>) {
    let start = out.len();
    loop {
        out.extend(c.read_n(1));
        if out.len() - start >= 2 && out.ends_with(b"\r\n") {
            break;
        }
    }
    let line = String::from_utf8_lossy(&out[start + 1..out.len() - 2]).into_owned();
    let n: i64 = line.parse().unwrap_or(0);
    match out[start] {
        b'$' | b'=' | b'!' if n >= 0 => out.extend(c.read_n(n as usize + 2)),
        b'*' | b'~' | b'>' => (0..n).for_each(|_| read_frame(c, out)),
        b'%' => (0..2 * n).for_each(|_| read_frame(c, out)),
        b'|' => {
            (0..2 * n).for_each(|_| read_frame(c, out));
            read_frame(c, out);
        }
        _ => {}
    }
}

/// The bytes with CR, LF and everything else unprintable escaped.
fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// A RESP2 and a RESP3 connection to each server.
struct Pair {
    herald: [Raw; 2],
    redis: [Raw; 2],
}

impl Pair {
    fn connect(server: &Server, redis: &RedisServer) -> Pair {
        let mut conns = [server.raw(), server.raw(), redis.raw(), redis.raw()];
        for c in conns.iter_mut().skip(1).step_by(2) {
            c.cmd(&[b"HELLO", b"3"]);
            reply(c);
        }
        let [h2, h3, r2, r3] = conns;
        Pair {
            herald: [h2, h3],
            redis: [r2, r3],
        }
    }

    /// Sends `args` on the RESP2 (`resp3` false) or RESP3 connection of
    /// both servers; fails the case if the replies differ.
    fn same(&mut self, resp3: bool, args: &[&[u8]]) -> Result<(), TestCaseError> {
        let i = usize::from(resp3);
        let request = multibulk(args);
        self.herald[i].send(&request);
        self.redis[i].send(&request);
        let (h, r) = (reply(&mut self.herald[i]), reply(&mut self.redis[i]));
        if h != r {
            let what: Vec<String> = args.iter().map(|a| show(a)).collect();
            return Err(TestCaseError::fail(format!(
                "RESP{} {}\n  herald: {}\n  redis:  {}",
                if resp3 { 3 } else { 2 },
                what.join(" "),
                show(&h),
                show(&r)
            )));
        }
        Ok(())
    }
}

fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("HERALD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(14);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    )
}

fn servers() -> Option<(Server, RedisServer)> {
    if !have("redis-server") {
        return None;
    }
    Some((Server::start(&[]), RedisServer::start()))
}

/// `v` without the differences already found, so the rest of the
/// conversion stays checked. Each is the scripting engine's to fix; minimal
/// cases (`EVAL <script> 0`, RESP2 and RESP3 alike):
/// - `return {ok="a\0b"}`: redis `+a` (status and error texts are C strings,
///   cut at the first NUL), herald `+a\0b`; `{err="a\0b"}` likewise `-a`.
/// - `return {err="x\r\n"}`: redis `-x` (CR/LF at the end are trimmed, inside
///   they become spaces), herald `-x  `.
/// - `return {ok="\200"}`: redis `+\xc8`, herald `+\xef\xbf\xbd` (non-UTF-8
///   bytes replaced by U+FFFD); the same for `{err=}`, `{big_number=}` and a
///   verbatim string's `format`.
/// - RESP3 `return {verbatim_string={format="a\0b", string="x"}}`: redis
///   `=5\r\na  :x` (the format is a C string, padded with spaces to 3),
///   herald `=5\r\na\0b:x`.
fn avoid_known(v: Val) -> Val {
    // Texts without NUL and non-ASCII bytes.
    let text =
        |s: Vec<u8>| -> Vec<u8> { s.into_iter().filter(|&b| b.is_ascii() && b != 0).collect() };
    match v {
        Val::Ok(s) => Val::Ok(text(s)),
        Val::Err(s) => {
            let mut s = text(s);
            while s.last().is_some_and(|b| *b == b'\r' || *b == b'\n') {
                s.pop();
            }
            Val::Err(s)
        }
        Val::BigNumber(s) => Val::BigNumber(text(s)),
        Val::Verbatim(f, s) => Val::Verbatim(text(f), s),
        Val::Array(items) => Val::Array(items.into_iter().map(avoid_known).collect()),
        Val::Map(pairs) => Val::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k, avoid_known(v)))
                .collect(),
        ),
        // A "decoy" holding a string is the real thing ({err="..."}).
        Val::Decoy(n, v) => match *v {
            Val::Str(s) => match avoid_known(Val::Err(s)) {
                Val::Err(s) => Val::Decoy(n, Box::new(Val::Str(s))),
                other => other,
            },
            v => Val::Decoy(n, Box::new(avoid_known(v))),
        },
        other => other,
    }
}

fn check_lua_values(avoid: bool) {
    let Some((server, redis)) = servers() else {
        return;
    };
    let pair = std::cell::RefCell::new(Pair::connect(&server, &redis));
    let result = runner().run(&value(), |v| {
        let v = if avoid { avoid_known(v) } else { v };
        let body = lua(&v);
        let mut pair = pair.borrow_mut();
        for setresp in ["", "redis.setresp(3) "] {
            let script = format!("{setresp}return {body}");
            for resp3 in [false, true] {
                pair.same(resp3, &[b"EVAL", script.as_bytes(), b"0"])?;
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn lua_values_convert_to_resp_like_redis() {
    check_lua_values(true);
}

#[test]
#[ignore = "Lua->RESP differences for the scripting engine (NUL-cut and CR/LF-trimmed ok/err texts, U+FFFD for non-UTF-8 ok/err/big_number/verbatim format): minimal cases on avoid_known"]
fn lua_values_convert_to_resp_like_redis_including_known_differences() {
    check_lua_values(false);
}

/// What the RESP → Lua property stores: a list, a small hash and a sorted set.
#[derive(Debug, Clone)]
struct Data {
    list: Vec<Vec<u8>>,
    hash: Vec<(Vec<u8>, Vec<u8>)>,
    zset: Vec<(f64, Vec<u8>)>,
}

fn data() -> impl Strategy<Value = Data> {
    (
        prop::collection::vec(bytes(10), 1..6),
        prop::collection::vec((bytes(5), bytes(8)), 1..6),
        prop::collection::vec((double(), bytes(6)), 1..6),
    )
        .prop_map(|(list, hash, zset)| Data { list, hash, zset })
}

/// Scripts that return what `redis.call` gave them, or a field of it.
const READERS: &[&str] = &[
    "return redis.call('LRANGE', KEYS[1], 0, -1)",
    "return redis.call('HGETALL', KEYS[2])",
    "return redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')",
    "return redis.call('ZSCORE', KEYS[3], redis.call('ZRANGE', KEYS[3], 0, 0)[1])",
    "return {redis.call('GET', 'fuzz:missing'), 1}",
    "return {type(redis.call('GET', 'fuzz:missing')), redis.call('EXISTS', KEYS[1])}",
    "return redis.pcall('INCR', KEYS[1])",
    "local r = redis.pcall('INCR', KEYS[1]) return {type(r), r.err}",
    "return redis.call('TYPE', KEYS[2])",
    "local t = redis.call('TYPE', KEYS[2]) return {type(t), t.ok}",
    "local z = redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES') \
     local out = {} for i, v in ipairs(z) do out[i] = type(v) end return out",
    "local m = redis.call('HGETALL', KEYS[2]) local n = 0 \
     for k, v in pairs(m) do n = n + 1 end return {type(m), n}",
];

#[test]
fn redis_replies_convert_to_lua_and_back_like_redis() {
    let Some((server, redis)) = servers() else {
        return;
    };
    let pair = std::cell::RefCell::new(Pair::connect(&server, &redis));
    let result = runner().run(&data(), |d| {
        let mut pair = pair.borrow_mut();
        pair.same(false, &[b"DEL", b"fuzz:l", b"fuzz:h", b"fuzz:z"])?;
        let mut rpush: Vec<&[u8]> = vec![b"RPUSH", b"fuzz:l"];
        rpush.extend(d.list.iter().map(|v| v.as_slice()));
        pair.same(false, &rpush)?;
        let mut hset: Vec<&[u8]> = vec![b"HSET", b"fuzz:h"];
        for (f, v) in &d.hash {
            hset.push(f);
            hset.push(v);
        }
        pair.same(false, &hset)?;
        let scores: Vec<String> = d.zset.iter().map(|(s, _)| format!("{s}")).collect();
        let mut zadd: Vec<&[u8]> = vec![b"ZADD", b"fuzz:z"];
        for ((_, m), s) in d.zset.iter().zip(&scores) {
            zadd.push(s.as_bytes());
            zadd.push(m);
        }
        pair.same(false, &zadd)?;
        for setresp in ["", "redis.setresp(3) "] {
            for reader in READERS {
                let script = format!("{setresp}{reader}");
                for resp3 in [false, true] {
                    pair.same(
                        resp3,
                        &[
                            b"EVAL",
                            script.as_bytes(),
                            b"3",
                            b"fuzz:l",
                            b"fuzz:h",
                            b"fuzz:z",
                        ],
                    )?;
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
