//! Differential test of `herald::glob` against a real `redis-server`:
//! `KEYS <pattern>` (which runs Redis's `stringmatchlen` over every key) must
//! return exactly the keys that `glob_match` accepts.
//!
//! Skipped (with a message) when `redis-server` is not on PATH, unless
//! `HERALD_REQUIRE_ORACLES=1`, in which case a missing server is a failure.

use herald::glob::{glob_match, literal_prefix};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NUM_KEYS: usize = 300;
const NUM_PATTERNS: usize = 6000;
/// Small alphabet full of glob metacharacters plus two non-UTF-8 bytes.
const ALPHABET: &[u8] = b"abc-\\[]^*?\xff\x80";

// ---------------------------------------------------------------- helpers --

/// xorshift64: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick(&mut self, from: &[u8]) -> u8 {
        from[self.below(from.len())]
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Kills and reaps the server however the test exits.
struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Debug, PartialEq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

/// Minimal RESP2 client.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(port: u16) -> std::io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Client {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
        })
    }

    fn call(&mut self, args: &[&[u8]]) -> Reply {
        let mut buf = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            buf.extend_from_slice(a);
            buf.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&buf).expect("write to redis");
        self.read_reply()
    }

    fn read_line(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        self.reader
            .read_until(b'\n', &mut line)
            .expect("read from redis");
        assert!(line.ends_with(b"\r\n"), "truncated RESP line {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    fn read_reply(&mut self) -> Reply {
        let line = self.read_line();
        let (kind, rest) = line.split_first().expect("empty RESP line");
        let text = String::from_utf8_lossy(rest).into_owned();
        let num = || text.parse::<i64>().expect("RESP length/integer");
        match kind {
            b'+' => Reply::Simple(text),
            b'-' => Reply::Error(text),
            b':' => Reply::Int(num()),
            b'$' if num() < 0 => Reply::Bulk(None),
            b'$' => {
                let mut data = vec![0; num() as usize + 2];
                self.reader.read_exact(&mut data).expect("read bulk");
                data.truncate(data.len() - 2);
                Reply::Bulk(Some(data))
            }
            b'*' if num() < 0 => Reply::Array(None),
            b'*' => Reply::Array(Some((0..num()).map(|_| self.read_reply()).collect())),
            _ => panic!("unexpected RESP reply {line:?}"),
        }
    }

    fn keys(&mut self, pattern: &[u8]) -> BTreeSet<Vec<u8>> {
        match self.call(&[b"KEYS", pattern]) {
            Reply::Array(Some(items)) => items
                .into_iter()
                .map(|r| match r {
                    Reply::Bulk(Some(k)) => k,
                    other => panic!("KEYS returned non-bulk element {other:?}"),
                })
                .collect(),
            other => panic!("KEYS {:?} returned {other:?}", show(pattern)),
        }
    }

    fn expect_ok(&mut self, args: &[&[u8]]) {
        let reply = self.call(args);
        assert_eq!(reply, Reply::Simple("OK".into()), "command {:?}", args[0]);
    }
}

fn show(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

fn start_server(binary: &PathBuf) -> (ServerGuard, Client) {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind ephemeral port");
        l.local_addr().unwrap().port()
    };
    let child = Command::new(binary)
        .args(["--port", &port.to_string()])
        .args(["--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    let mut guard = ServerGuard(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut client) = Client::connect(port) {
            if client.call(&[b"PING"]) == Reply::Simple("PONG".into()) {
                return (guard, client);
            }
        }
        if let Ok(Some(status)) = guard.0.try_wait() {
            panic!("redis-server exited early with {status} (port {port} taken?)");
        }
        assert!(
            Instant::now() < deadline,
            "redis-server did not come up on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What herald would answer for `KEYS pattern`. Like Redis's `keysCommand`,
/// the lone `*` pattern short-circuits to "all keys" without matching (which
/// matters for the empty key: `stringmatchlen("*", "")` is false).
fn herald_keys(keys: &BTreeSet<Vec<u8>>, pattern: &[u8]) -> BTreeSet<Vec<u8>> {
    if pattern == b"*" {
        return keys.clone();
    }
    keys.iter()
        .filter(|k| glob_match(pattern, k))
        .cloned()
        .collect()
}

/// Compares one pattern; returns a description of any disagreement.
fn compare(client: &mut Client, keys: &BTreeSet<Vec<u8>>, pattern: &[u8]) -> Option<String> {
    let redis = client.keys(pattern);
    let ours = herald_keys(keys, pattern);
    let mut problems = Vec::new();
    if redis != ours {
        let only_redis: Vec<_> = redis.difference(&ours).map(|k| show(k)).collect();
        let only_ours: Vec<_> = ours.difference(&redis).map(|k| show(k)).collect();
        problems.push(format!(
            "glob_match mismatch: matched only by redis {only_redis:?}, only by herald {only_ours:?}"
        ));
    }
    // literal_prefix must be conservative with respect to the real thing.
    let (prefix, literal) = literal_prefix(pattern);
    if pattern != b"*" {
        for k in &redis {
            if !k.starts_with(&prefix) {
                problems.push(format!(
                    "redis matched {:?} which lacks literal_prefix {:?}",
                    show(k),
                    show(&prefix)
                ));
            }
            if literal && *k != prefix {
                problems.push(format!(
                    "literal pattern (prefix {:?}) matched other key {:?}",
                    show(&prefix),
                    show(k)
                ));
            }
        }
    }
    if problems.is_empty() {
        None
    } else {
        Some(format!(
            "pattern {:?}: {}",
            show(pattern),
            problems.join("; ")
        ))
    }
}

fn random_word(rng: &mut Rng, max_len: usize) -> Vec<u8> {
    let len = rng.below(max_len + 1);
    (0..len).map(|_| rng.pick(ALPHABET)).collect()
}

/// Half purely random patterns, half derived from an existing key (so that
/// plenty of patterns actually match something).
fn random_pattern(rng: &mut Rng, keys: &[Vec<u8>]) -> Vec<u8> {
    if rng.below(2) == 0 {
        return random_word(rng, 11);
    }
    let key = &keys[rng.below(keys.len())];
    let mut p = Vec::new();
    for &b in key {
        match rng.below(10) {
            0 => p.push(b'?'),
            1 => p.push(b'*'),
            2 => {}
            3 => {
                p.push(b'\\');
                p.push(b);
            }
            4 => {
                p.push(b'[');
                p.push(b);
                p.push(rng.pick(ALPHABET));
                if rng.below(4) != 0 {
                    p.push(b']');
                }
            }
            5 => {
                p.push(b'[');
                p.push(rng.pick(ALPHABET));
                p.push(b'-');
                p.push(rng.pick(ALPHABET));
                p.push(b']');
            }
            _ => p.push(b),
        }
        if rng.below(8) == 0 {
            p.push(rng.pick(ALPHABET));
        }
    }
    p.truncate(12);
    p
}

// ------------------------------------------------------------------- test --

#[test]
fn keys_matches_redis_server() {
    let Some(binary) = find_on_path("redis-server") else {
        if std::env::var("HERALD_REQUIRE_ORACLES").as_deref() == Ok("1") {
            panic!("redis-server not found on PATH but HERALD_REQUIRE_ORACLES=1");
        }
        println!("skipping: redis-server not installed");
        return;
    };
    let (_guard, mut client) = start_server(&binary);

    // Fixed key set: the empty key plus random words (1..=9 bytes).
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut keys: BTreeSet<Vec<u8>> = BTreeSet::new();
    keys.insert(Vec::new());
    while keys.len() < NUM_KEYS {
        let mut k = random_word(&mut rng, 8);
        k.push(rng.pick(ALPHABET));
        keys.insert(k);
    }
    let mut mset: Vec<&[u8]> = vec![b"MSET"];
    for k in &keys {
        mset.push(k);
        mset.push(b"v");
    }
    client.expect_ok(&mset);
    assert_eq!(client.call(&[b"DBSIZE"]), Reply::Int(NUM_KEYS as i64));

    let key_list: Vec<Vec<u8>> = keys.iter().cloned().collect();
    let mut failures = Vec::new();
    let mut compared = 0usize;
    let mut nonempty = 0usize;
    let mut seen = BTreeSet::new();

    // Hand-picked edge cases first, then random ones.
    let fixed: &[&[u8]] = &[
        b"",
        b"*",
        b"**",
        b"?",
        b"*?",
        b"[",
        b"[^",
        b"[]",
        b"[^]",
        b"[]]",
        b"\\",
        b"a\\",
        b"[a-",
        b"[a-]",
        b"[a\\",
        b"[\\",
        b"[\\]]",
        b"[c-a]",
        b"[^a-c]*",
        b"[a-\xff]",
        b"[\x80-\xff]*",
        b"[\xff-a]?",
        b"*\\*",
        b"*[*?]*",
    ];
    let mut patterns: Vec<Vec<u8>> = fixed.iter().map(|p| p.to_vec()).collect();
    seen.extend(patterns.iter().cloned());
    while patterns.len() < NUM_PATTERNS {
        let p = random_pattern(&mut rng, &key_list);
        if seen.insert(p.clone()) {
            patterns.push(p);
        }
    }

    for pattern in &patterns {
        compared += 1;
        if !herald_keys(&keys, pattern).is_empty() {
            nonempty += 1;
        }
        if let Some(f) = compare(&mut client, &keys, pattern) {
            eprintln!("{f}");
            failures.push(f);
        }
    }

    // The 7.4 nesting limit (also backported to patched 6.2/7.0/7.2 builds):
    // 1000 nested `*` still match, 1001 do not. Separate DB, long keys.
    client.expect_ok(&[b"SELECT", b"1"]);
    let mut deep_keys = BTreeSet::new();
    for n in [999usize, 1000, 1001, 1002] {
        deep_keys.insert(b"a".repeat(n));
    }
    for k in &deep_keys {
        client.expect_ok(&[b"SET", k, b"v"]);
    }
    for n in [999usize, 1000, 1001, 2000] {
        let pattern = b"*a".repeat(n);
        compared += 1;
        if let Some(f) = compare(&mut client, &deep_keys, &pattern) {
            let f = format!("nesting depth {n}: {f}");
            eprintln!("{f}");
            failures.push(f);
        }
    }

    println!(
        "compared {compared} distinct patterns against redis-server \
         ({nonempty} of the {NUM_PATTERNS} fixed/random ones matched at least one key)"
    );
    assert!(compared >= 5000, "only {compared} distinct patterns");
    assert!(
        failures.is_empty(),
        "{} mismatches vs redis-server (first: {})",
        failures.len(),
        failures[0]
    );
}
