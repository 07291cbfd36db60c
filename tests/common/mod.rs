//! Test harness: start the real `herald` binary on a free port and talk to it.
#![allow(dead_code)]

pub mod python;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running herald process; killed (by its PID) when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// The memcached listener (every test server gets a free port for it).
    pub memcache_addr: SocketAddr,
    /// Everything the server logged so far.
    pub log: Arc<Mutex<String>>,
}

impl Server {
    /// Start herald with `--port 0` plus `extra` flags and wait for its ready line.
    pub fn start(extra: &[&str]) -> Server {
        Self::start_with(extra, &[])
    }

    pub fn start_with(extra: &[&str], env: &[(&str, &str)]) -> Server {
        // The free memcached port is chosen before herald binds it, so a
        // parallel test can take it in between: then try another one.
        let mut attempts = 0;
        loop {
            match Self::try_start_with(extra, env) {
                Ok(server) => return server,
                Err(log)
                    if attempts < 5
                        && !extra.contains(&"--memcache-port")
                        && log.contains("in use") =>
                {
                    attempts += 1;
                }
                Err(log) => panic!("herald did not start; log:\n{log}"),
            }
        }
    }

    fn try_start_with(extra: &[&str], env: &[(&str, &str)]) -> Result<Server, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
        cmd.args(["--port", "0"]);
        // Parallel tests must not fight over 11211: pick a free port unless the test chose.
        if !extra.contains(&"--memcache-port") {
            cmd.args(["--memcache-port", &free_port().to_string()]);
        }
        if !extra.contains(&"--log-format") {
            cmd.args(["--log-format", "text"]);
        }
        cmd.args(extra)
            .env_remove("HERALD_CONFIG")
            .env_remove("HERALD_REQUIREPASS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn herald");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                // Logged before anyone is told the server is ready, so the
                // ready line is always in `log_text()` once `start` returns.
                {
                    let mut l = log2.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
                // Text logs say resp_addr=IP:PORT, JSON logs "resp_addr":"IP:PORT".
                let found = line
                    .find("resp_addr=")
                    .map(|p| &line[p + 10..])
                    .or_else(|| line.find("\"resp_addr\":\"").map(|p| &line[p + 13..]));
                if let Some(rest) = found {
                    let addr = rest
                        .split(|c: char| c.is_whitespace() || c == '"')
                        .next()
                        .unwrap_or("")
                        .to_string();
                    let memcache = line
                        .find("memcache_addr=")
                        .map(|p| &line[p + 14..])
                        .or_else(|| line.find("\"memcache_addr\":\"").map(|p| &line[p + 17..]))
                        .and_then(|rest| {
                            rest.split(|c: char| c.is_whitespace() || c == '"' || c == ',')
                                .next()
                        })
                        .unwrap_or("")
                        .to_string();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send((addr, memcache));
                    }
                }
            }
        });
        let Ok((addr, memcache)) = rx.recv_timeout(Duration::from_secs(20)) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(log.lock().unwrap().clone());
        };
        let addr = addr.split(',').next().unwrap().parse().expect("addr");
        // "disabled" when the test turned the memcached port off.
        let memcache_addr = memcache
            .parse()
            .unwrap_or_else(|_| "127.0.0.1:0".parse().unwrap());
        Ok(Server {
            child,
            addr,
            memcache_addr,
            log,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.addr)
    }

    /// Resident set size in bytes, from /proc.
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    }

    /// Wait for the process to exit by itself; returns its exit code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw TCP client that asserts exact bytes or reads whole RESP frames.
pub struct Raw {
    pub stream: TcpStream,
    /// Bytes read from the socket but not consumed yet.
    pending: Vec<u8>,
}

/// One RESP2/RESP3 value as read off the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Null,
    Array(Vec<Frame>),
    Push(Vec<Frame>),
    Map(Vec<(Frame, Frame)>),
    Other(String),
}

impl Frame {
    /// A bulk (or simple) string's text; panics otherwise.
    pub fn text(&self) -> String {
        match self {
            Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            Frame::Simple(s) => s.clone(),
            other => panic!("not a string: {other:?}"),
        }
    }

    /// The elements of an array or push frame.
    pub fn items(&self) -> &[Frame] {
        match self {
            Frame::Array(v) | Frame::Push(v) => v,
            other => panic!("not an array: {other:?}"),
        }
    }

    pub fn bulk(s: &str) -> Frame {
        Frame::Bulk(s.as_bytes().to_vec())
    }
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Raw {
            stream,
            pending: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Read more from the socket into `pending`; false on EOF.
    fn fill(&mut self) -> std::io::Result<bool> {
        let mut buf = [0u8; 65536];
        let n = self.stream.read(&mut buf)?;
        self.pending.extend_from_slice(&buf[..n]);
        Ok(n > 0)
    }

    /// Read exactly `n` bytes (or fail on timeout/EOF).
    pub fn read_n(&mut self, n: usize) -> Vec<u8> {
        while self.pending.len() < n {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => panic!(
                    "connection closed after {} of {n} bytes: {:?}",
                    self.pending.len(),
                    String::from_utf8_lossy(&self.pending)
                ),
                Err(e) => panic!(
                    "read failed after {} of {n} bytes ({e}): {:?}",
                    self.pending.len(),
                    String::from_utf8_lossy(&self.pending)
                ),
            }
        }
        self.pending.drain(..n).collect()
    }

    fn line(&mut self) -> String {
        loop {
            if let Some(pos) = self.pending.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.pending.drain(..pos + 2).collect();
                return String::from_utf8_lossy(&line[..pos]).into_owned();
            }
            match self.fill() {
                Ok(true) => {}
                other => panic!(
                    "no complete line ({other:?}): {:?}",
                    String::from_utf8_lossy(&self.pending)
                ),
            }
        }
    }

    /// Read one complete RESP frame.
    pub fn frame(&mut self) -> Frame {
        let line = self.line();
        let (kind, rest) = line.split_at(1);
        let count = || {
            rest.parse::<i64>()
                .unwrap_or_else(|_| panic!("bad header {line:?}"))
        };
        match kind {
            "+" => Frame::Simple(rest.to_string()),
            "-" => Frame::Error(rest.to_string()),
            ":" => Frame::Int(count()),
            "_" => Frame::Null,
            "$" if count() < 0 => Frame::Null,
            "$" | "=" => {
                let data = self.read_n(count() as usize + 2);
                Frame::Bulk(data[..data.len() - 2].to_vec())
            }
            "*" if count() < 0 => Frame::Null,
            "*" | "~" => Frame::Array((0..count()).map(|_| self.frame()).collect()),
            ">" => Frame::Push((0..count()).map(|_| self.frame()).collect()),
            "%" => Frame::Map((0..count()).map(|_| (self.frame(), self.frame())).collect()),
            _ => Frame::Other(line.clone()),
        }
    }

    /// Read exactly as many bytes as `expected` and compare.
    pub fn expect(&mut self, expected: &[u8]) {
        let got = self.read_n(expected.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected),
            "unexpected reply"
        );
    }

    /// Send a request and compare the reply.
    pub fn roundtrip(&mut self, request: &[u8], expected: &[u8]) {
        self.send(request);
        self.expect(expected);
    }

    /// Send a command as a multibulk request.
    pub fn cmd(&mut self, args: &[&[u8]]) {
        self.send(&multibulk(args));
    }

    /// Assert the server closes the connection with nothing more to read.
    pub fn expect_closed(&mut self) {
        assert!(
            self.pending.is_empty(),
            "unread: {:?}",
            String::from_utf8_lossy(&self.pending)
        );
        let mut buf = [0u8; 256];
        match self.stream.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!(
                "expected close, got {:?}",
                String::from_utf8_lossy(&buf[..n])
            ),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("expected close, got error {e}"),
        }
    }

    /// Read whatever arrives until `idle` passes with nothing new.
    pub fn read_available(&mut self, idle: Duration) -> Vec<u8> {
        self.stream.set_read_timeout(Some(idle)).unwrap();
        let mut out = std::mem::take(&mut self.pending);
        let mut buf = [0u8; 65536];
        while let Ok(n) = self.stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        self.stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        out
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn multibulk(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// An async `redis` crate connection in RESP2 or RESP3.
pub async fn client(server: &Server, resp3: bool) -> redis::aio::MultiplexedConnection {
    let url = if resp3 {
        format!("redis://{}/?protocol=resp3", server.addr)
    } else {
        server.url()
    };
    redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect")
}

/// Whether a program is installed; when `HERALD_REQUIRE_ORACLES=1` (CI), a missing
/// one fails the test instead of skipping it.
pub fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        if std::env::var("HERALD_REQUIRE_ORACLES").as_deref() == Ok("1") {
            panic!("{program} is required (HERALD_REQUIRE_ORACLES=1) but not installed");
        }
        eprintln!("skipping: {program} not installed");
    }
    found
}

/// A real redis-server on a free port (the oracle of differential tests),
/// killed and reaped (by its PID) when dropped. Check `have("redis-server")`
/// first.
pub struct RedisServer {
    child: Child,
    pub addr: SocketAddr,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// With extra arguments, e.g. `["--set-max-intset-entries", "16"]`.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        let port = free_port();
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
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        // Owned by the guard at once, so it is killed on every path.
        let redis = RedisServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        // Up to 15 s: a loaded CI machine has taken over 5 s to start it.
        for _ in 0..750 {
            if TcpStream::connect(redis.addr).is_ok() {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start");
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.addr)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
