//! The Python example programs in `examples/python/`, run against herald.
//!
//! Python is `$HERALD_PYTHON` if set, else `python3`. A test whose Python
//! modules (redis, memcache, pymemcache: `examples/python/requirements.txt`)
//! cannot be imported is skipped with a message, unless
//! `HERALD_REQUIRE_ORACLES=1`, in which case that is a failure.
//!
//! The scripts run with `python -u` so their output arrives line by line.

mod common;

use common::python::{python, skip, Script};
use common::Server;
use std::collections::HashSet;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers --

fn script_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("python")
        .join(name)
}

/// An example script from `examples/python/`, run in that directory.
fn spawn(py: &str, name: &str, args: &[&str]) -> Script {
    Script::spawn_in(py, &script_path(""), name, args, &[])
}

/// Run a script to completion, expecting exit status 0; returns its stdout lines.
fn run_ok(py: &str, name: &str, args: &[&str], within: Duration) -> Vec<String> {
    spawn(py, name, args).success(within)
}

fn last_line(lines: &[String]) -> &str {
    lines.last().map(String::as_str).unwrap_or("")
}

/// herald on a fixed port (the tutorial programs use the default, 6379), which
/// the shared harness cannot do: it always passes `--port 0`.
struct FixedPortHerald {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl FixedPortHerald {
    fn start(port: u16) -> FixedPortHerald {
        let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["--port", &port.to_string(), "--log-format", "text"])
            .env_remove("HERALD_CONFIG")
            .env_remove("HERALD_REQUIREPASS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn herald");
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let l = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                l.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut herald = FixedPortHerald { child, log };
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = herald.child.try_wait() {
                panic!(
                    "herald on port {port} exited with {status}; log:\n{}",
                    herald.log.lock().unwrap()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                panic!(
                    "herald did not accept connections on port {port}; log:\n{}",
                    herald.log.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // What answered must be our herald, not a server that took the port meanwhile.
        std::thread::sleep(Duration::from_millis(100));
        if let Ok(Some(status)) = herald.child.try_wait() {
            panic!(
                "herald on port {port} exited with {status}; log:\n{}",
                herald.log.lock().unwrap()
            );
        }
        herald
    }
}

impl Drop for FixedPortHerald {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether nothing listens on `port` on loopback (IPv4 or IPv6).
fn port_free(port: u16) -> bool {
    if TcpListener::bind(("127.0.0.1", port)).is_err() {
        return false;
    }
    let v6: SocketAddr = (std::net::Ipv6Addr::LOCALHOST, port).into();
    TcpStream::connect_timeout(&v6, Duration::from_millis(200)).is_err()
}

/// `memcache_addr=IP:PORT` from herald's ready line.
fn memcache_addr(server: &Server) -> String {
    // The harness returns as soon as it has seen resp_addr=, possibly just
    // before it has appended that line to the log: wait for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (log, pos) = loop {
        let log = server.log_text();
        if let Some(pos) = log.find("memcache_addr=") {
            break (log, pos);
        }
        if Instant::now() > deadline {
            panic!("no memcache_addr= in herald's log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let value = log[pos + "memcache_addr=".len()..]
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_matches('"');
    let first = value.split(',').next().unwrap_or("");
    let addr: SocketAddr = first
        .parse()
        .unwrap_or_else(|_| panic!("bad memcache_addr {value:?} in herald's log:\n{log}"));
    addr.to_string()
}

/// "Publish: catA wears a hatB" (also "Publish: message 3 : catA wears a hatB",
/// as the tutorial's sample output has it) -> ("catA", "hatB").
fn parse_publish(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("Publish: ")?;
    let rest = match rest.strip_prefix("message ") {
        Some(r) => r.split_once(" : ")?.1,
        None => rest,
    };
    let (cat, hat) = rest.split_once(" wears a ")?;
    Some((cat.trim().to_string(), hat.trim().to_string()))
}

/// "Subscribe: b'catA' wears a b'hatB'" -> ("catA", "hatB").
fn parse_subscribe(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("Subscribe: ")?;
    let (cat, hat) = rest.split_once(" wears a ")?;
    let unbytes = |s: &str| -> Option<String> {
        Some(s.trim().strip_prefix("b'")?.strip_suffix('\'')?.to_string())
    };
    Some((unbytes(cat)?, unbytes(hat)?))
}

// ------------------------------------------------------------- pub/sub ----

/// The tutorial's redis_pub.py / redis_sub.py, unchanged: they use redis-py's
/// default address, so herald runs on 6379 for this test.
#[test]
fn tutorial_redis_pub_sub_unchanged() {
    let Some(py) = python(&["redis"]) else { return };
    if !port_free(6379) {
        skip("port 6379 is in use; the unchanged tutorial programs need it");
        return;
    }
    let _herald = FixedPortHerald::start(6379);

    let sub = spawn(&py, "redis_sub.py", &[]);
    // It prints each subscribe confirmation, sleeping 1 s after each.
    for _ in 0..2 {
        sub.wait_for("subscribe confirmation", Duration::from_secs(15), |l| {
            l.contains("'type': 'subscribe'")
        });
    }

    let published: Vec<(String, String)> =
        run_ok(&py, "redis_pub.py", &[], Duration::from_secs(30))
            .iter()
            .filter_map(|l| parse_publish(l))
            .collect();
    assert_eq!(published.len(), 10, "redis_pub.py prints 10 messages");
    let expected: Vec<(String, String)> = published
        .into_iter()
        .filter(|(cat, _)| cat == "catA" || cat == "catC")
        .collect();

    // The subscriber sleeps 1 s per message it handles.
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while received.len() < expected.len() && Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        match sub.next_line(left) {
            Some(line) => received.extend(parse_subscribe(&line)),
            None => break,
        }
    }
    // Anything more would be a message it should not have got.
    while let Some(line) = sub.next_line(Duration::from_millis(1500)) {
        received.extend(parse_subscribe(&line));
    }
    assert_eq!(
        received,
        expected,
        "redis_sub.py output:\n{}",
        sub.transcript()
    );
}

/// "Received: 10001 45 30" -> "10001 45 30".
fn received(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("Received: "))
        .map(str::to_string)
        .collect()
}

/// The ZeroMQ weather example's topic-prefix filter as PSUBSCRIBE: one
/// subscriber to exactly zipcode 10001 ("10001*"), one to 10000..10009 ("1000*").
#[test]
fn weather_topic_prefix() {
    let Some(py) = python(&["redis"]) else { return };
    let server = Server::start(&[]);
    let port = server.port().to_string();

    let nyc = spawn(&py, "weather_sub.py", &["--port", &port, "--count", "5"]);
    let wide = spawn(
        &py,
        "weather_sub.py",
        &["1000", "--port", &port, "--count", "20"],
    );
    for sub in [&nyc, &wide] {
        sub.wait_for("\"Collecting updates\"", Duration::from_secs(20), |l| {
            l.starts_with("Collecting updates")
        });
    }

    let publisher = run_ok(
        &py,
        "weather_pub.py",
        &["--port", &port, "--count", "5000"],
        Duration::from_secs(120),
    );
    // Updates that reached at least one subscriber, in publishing order.
    let delivered: Vec<String> = publisher
        .iter()
        .filter_map(|l| l.strip_prefix("Delivered: "))
        .map(|l| l.split(" (to ").next().unwrap().to_string())
        .collect();
    assert!(
        last_line(&publisher).starts_with("Published 5000 updates"),
        "publisher output:\n{}",
        publisher.join("\n")
    );

    let nyc_lines = nyc.success(Duration::from_secs(30));
    let wide_lines = wide.success(Duration::from_secs(30));
    let nyc_got = received(&nyc_lines);
    let wide_got = received(&wide_lines);

    // Every delivered update matched one of the two prefixes.
    for update in &delivered {
        assert!(update.starts_with("1000"), "delivered {update:?}");
    }
    // "10001*" got exactly the first five updates for zipcode 10001.
    let nyc_expected: Vec<String> = delivered
        .iter()
        .filter(|u| u.starts_with("10001 "))
        .take(5)
        .cloned()
        .collect();
    assert_eq!(
        nyc_got,
        nyc_expected,
        "10001 subscriber:\n{}",
        nyc_lines.join("\n")
    );
    // "1000*" got the first twenty updates anyone got, from several zipcodes.
    assert_eq!(
        wide_got,
        delivered.iter().take(20).cloned().collect::<Vec<_>>(),
        "1000 subscriber:\n{}",
        wide_lines.join("\n")
    );
    let zipcodes: HashSet<&str> = wide_got
        .iter()
        .map(|u| u.split(' ').next().unwrap())
        .collect();
    assert!(zipcodes.len() > 1, "one zipcode only: {zipcodes:?}");

    // The average is over the temperatures received (Python's %d truncates).
    let temps: Vec<i64> = nyc_got
        .iter()
        .map(|u| u.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    let average = (temps.iter().sum::<i64>() as f64 / temps.len() as f64).trunc() as i64;
    assert_eq!(
        last_line(&nyc_lines),
        format!("Average temperature for zipcode '10001' was {average}F")
    );
}

// ---------------------------------------------------- lists (work queues) --

/// Ventilator -> 3 workers -> sink over lists with BRPOP: every task done
/// exactly once, by all three workers, faster than one worker would.
#[test]
fn pipeline_work_queue() {
    let Some(py) = python(&["redis"]) else { return };
    let server = Server::start(&[]);
    let port = server.port().to_string();

    let sink = spawn(&py, "pipeline_sink.py", &["--port", &port]);
    sink.wait_for("sink ready", Duration::from_secs(20), |l| {
        l.starts_with("Waiting for the batch")
    });
    let workers: Vec<Script> = (1..=3)
        .map(|i| {
            let name = format!("worker-{i}");
            spawn(
                &py,
                "pipeline_worker.py",
                &["--port", &port, "--name", &name, "--idle-timeout", "20"],
            )
        })
        .collect();
    for w in &workers {
        w.wait_for("worker ready", Duration::from_secs(20), |l| {
            l.contains("waiting for tasks")
        });
    }

    let ventilator = run_ok(
        &py,
        "pipeline_ventilator.py",
        &["--port", &port, "--tasks", "100", "--workers", "3"],
        Duration::from_secs(30),
    );
    assert!(
        ventilator
            .iter()
            .any(|l| l.starts_with("Total expected cost:")),
        "{ventilator:?}"
    );

    let sink = sink.success(Duration::from_secs(60));
    let mut done_by = std::collections::BTreeMap::<String, usize>::new();
    let mut tasks = Vec::new();
    for line in &sink {
        if let Some(rest) = line.strip_prefix("task ") {
            let (id, worker) = rest.split_once(" done by ").unwrap();
            tasks.push(id.trim().parse::<usize>().unwrap());
            *done_by.entry(worker.to_string()).or_default() += 1;
        }
    }
    tasks.sort_unstable();
    assert_eq!(
        tasks,
        (0..100).collect::<Vec<_>>(),
        "every task exactly once"
    );
    assert_eq!(done_by.len(), 3, "all three workers worked: {done_by:?}");
    for (worker, n) in &done_by {
        assert!(*n >= 10, "{worker} did only {n} of 100 tasks: {done_by:?}");
    }
    assert!(
        last_line(&sink).starts_with("OK: 100 tasks each done exactly once by 3 workers"),
        "{}",
        sink.join("\n")
    );
    let number_after = |prefix: &str| -> u64 {
        sink.iter()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{}", sink.join("\n")))
    };
    let expected = number_after("Total expected cost: ");
    let elapsed = number_after("Total elapsed time: ");
    assert!(
        elapsed < expected,
        "3 workers took {elapsed} ms for {expected} ms of work"
    );

    let mut total = 0;
    for w in workers {
        let lines = w.success(Duration::from_secs(30));
        let last = last_line(&lines).to_string();
        assert!(last.ends_with("(STOP received)"), "{last}");
        total += last
            .split(" done: ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("{last}"));
    }
    assert_eq!(total, 100);
}

/// Request/reply over lists: a unique reply key per request, BRPOP with a timeout.
#[test]
fn reqrep_round_trip() {
    let Some(py) = python(&["redis"]) else { return };
    let server = Server::start(&[]);
    let port = server.port().to_string();

    let rep = spawn(
        &py,
        "reqrep_server.py",
        &["--port", &port, "--max-requests", "5", "--work-ms", "10"],
    );
    rep.wait_for("server ready", Duration::from_secs(20), |l| {
        l.starts_with("Waiting for requests")
    });
    let client = run_ok(
        &py,
        "reqrep_client.py",
        &["--port", &port, "--requests", "5"],
        Duration::from_secs(60),
    );
    for n in 1..=5 {
        let line = format!("Sent message #{n}, received stop saying: message #{n}");
        assert!(
            client.contains(&line),
            "{line:?} missing:\n{}",
            client.join("\n")
        );
    }
    assert_eq!(last_line(&client), "Sent 5 requests, received 5 replies");
    let rep = rep.success(Duration::from_secs(30));
    assert_eq!(last_line(&rep), "Server done: answered 5 requests");

    // With no server on the queue the client times out and withdraws its request.
    let (code, lines) = spawn(
        &py,
        "reqrep_client.py",
        &[
            "--port",
            &port,
            "--queue",
            "nobody",
            "--requests",
            "1",
            "--timeout",
            "1",
        ],
    )
    .finish(Duration::from_secs(30));
    assert_eq!(code, 1, "{lines:?}");
    assert!(
        lines.iter().any(|l| l.ends_with("(request withdrawn)")),
        "{lines:?}"
    );
    let mut raw = server.raw();
    raw.roundtrip(&common::multibulk(&[b"LLEN", b"nobody"]), b":0\r\n");
}

/// BLMOVE into a processing list, LREM when done, recovery after a crash.
#[test]
fn reliable_worker_recovers() {
    let Some(py) = python(&["redis"]) else { return };
    let server = Server::start(&[]);
    let port = server.port().to_string();
    let lines = run_ok(
        &py,
        "reliable_worker.py",
        &["--port", &port, "demo", "--tasks", "20"],
        Duration::from_secs(90),
    );
    assert_eq!(
        last_line(&lines),
        "OK: 20 tasks done exactly once; 1 recovered from crashed worker 'crashy'",
        "{}",
        lines.join("\n")
    );
}

/// A stream work queue: XREADGROUP + XACK, a worker killed mid-task, its
/// pending task claimed by another worker with XAUTOCLAIM.
#[test]
fn reliable_queue_claims_the_task_of_a_crashed_worker() {
    let Some(py) = python(&["redis"]) else { return };
    let server = Server::start(&[]);
    let port = server.port().to_string();
    let lines = run_ok(
        &py,
        "reliable_queue.py",
        &["--port", &port, "demo", "--tasks", "20"],
        Duration::from_secs(90),
    );
    assert_eq!(
        last_line(&lines),
        "OK: 20 tasks done exactly once; 1 claimed from crashed worker 'crashy' with XAUTOCLAIM",
        "{}",
        lines.join("\n")
    );
}

/// Pi from PSUBSCRIBE prefixes + request/reply + a tally list, all at once.
#[test]
fn pi_montecarlo_estimate() {
    let Some(py) = python(&["redis"]) else { return };
    let server = Server::start(&[]);
    let port = server.port().to_string();
    let lines = run_ok(
        &py,
        "pi_montecarlo.py",
        &["--port", &port, "--points", "1000", "--duration", "60"],
        Duration::from_secs(120),
    );
    let last = last_line(&lines);
    let estimate: f64 = last
        .strip_prefix("pi is approximately ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", lines.join("\n")));
    assert!(last.contains("from 1000 points"), "{last}");
    // The estimate's standard deviation with 1000 points is about 0.05.
    assert!(
        (estimate - std::f64::consts::PI).abs() < 0.35,
        "estimate {estimate}"
    );
}

// ------------------------------------------------------------- memcached --

/// python-memcached's fetch_square demo: ints round-trip through the flags,
/// and the rounds have fewer misses as the cache fills.
#[test]
fn memcache_fetch_square() {
    let Some(py) = python(&["memcache"]) else {
        return;
    };
    let server = Server::start(&[]);
    let addr = memcache_addr(&server);
    let lines = run_ok(
        &py,
        "memcache_fetch_square.py",
        &["--server", &addr, "--requests", "1000", "--keys", "2000"],
        Duration::from_secs(120),
    );
    let timings = lines
        .iter()
        .skip_while(|l| !l.ends_with("successive runs:"))
        .nth(1)
        .unwrap_or_else(|| panic!("{}", lines.join("\n")));
    assert_eq!(timings.split_whitespace().count(), 10, "{timings}");
    assert!(
        last_line(&lines).starts_with("OK: misses went from"),
        "{}",
        lines.join("\n")
    );
}

/// pymemcache's HashClient over three herald memcached ports: every server
/// holds some of the 10,000 keys, each key is on exactly one.
#[test]
fn pymemcache_sharding() {
    let Some(py) = python(&["pymemcache"]) else {
        return;
    };
    let servers: Vec<Server> = (0..3).map(|_| Server::start(&[])).collect();
    let list = servers
        .iter()
        .map(memcache_addr)
        .collect::<Vec<_>>()
        .join(",");
    let lines = run_ok(
        &py,
        "pymemcache_sharding.py",
        &["--servers", &list],
        Duration::from_secs(120),
    );
    let held: Vec<usize> = lines
        .iter()
        .filter_map(|l| l.split_once(" holds "))
        .map(|(_, r)| r.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(held.len(), 3, "{}", lines.join("\n"));
    assert!(held.iter().all(|&n| n > 0), "{held:?}");
    assert_eq!(held.iter().sum::<usize>(), 10_000);
    assert_eq!(
        last_line(&lines),
        "OK: 10000 keys spread over 3 servers, each key on exactly one"
    );
}
