//! Configuration, flags, limits and the process lifecycle: start-up line,
//! bad config exit code, maxclients, idle timeout, graceful shutdown.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::Server;

fn herald() -> Command {
    Command::new(env!("CARGO_BIN_EXE_herald"))
}

#[test]
fn startup_line_names_version_address_and_config_source() {
    let server = Server::start(&[]);
    let log = server.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("herald ready"))
        .expect(&log);
    assert!(
        line.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    assert!(
        line.contains(&format!("resp_addr=127.0.0.1:{}", server.port())),
        "{line}"
    );
    assert!(line.contains("config=embedded defaults"), "{line}");
}

#[test]
fn json_logs() {
    let server = Server::start(&["--log-format", "json"]);
    let log = server.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("herald ready"))
        .expect(&log);
    assert!(
        line.starts_with('{') && line.contains("\"resp_addr\":\"127.0.0.1:"),
        "{line}"
    );
}

#[test]
fn bad_config_value_exits_2_naming_the_key() {
    let dir = std::env::temp_dir().join(format!("herald-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "maxclients = \"lots\"\n",
            "invalid value for 'maxclients': argument couldn't be parsed into an integer",
        ),
        (
            "port = 70000\n",
            "invalid value for 'port': argument must be between 0 and 65535 inclusive",
        ),
        (
            "no-such-key = 1\n",
            "invalid value for 'no-such-key': unknown configuration key",
        ),
        (
            "databases = 0\n",
            "invalid value for 'databases': argument must be between 1 and",
        ),
        (
            "log-format = \"xml\"\n",
            "invalid value for 'log-format': argument must be one of: text, json",
        ),
        (
            "client-output-buffer-limit = \"1mb\"\n",
            "invalid value for 'client-output-buffer-limit'",
        ),
        ("port = [\n", "invalid value for '(file)'"),
    ];
    for (i, (toml, message)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad{i}.toml"));
        std::fs::write(&path, toml).unwrap();
        let out = herald().arg("--config").arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{toml}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{toml}: {err}");
    }
    let out = herald()
        .args(["--config", "/nonexistent/herald.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/herald.toml"));
    let out = herald().args(["--port", "notaport"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn precedence_defaults_file_flags() {
    let dir = std::env::temp_dir().join(format!("herald-prec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("herald.toml");
    std::fs::write(&path, "maxclients = 123\ntimeout = 40\ndatabases = 3\n").unwrap();
    let p = path.to_str().unwrap();
    let server = Server::start(&["--config", p, "--maxclients", "77"]);
    let mut c = server.raw();
    // flag beats file; file beats default; untouched keys keep defaults
    c.roundtrip(
        b"CONFIG GET maxclients timeout databases proto-max-bulk-len\r\n",
        b"*8\r\n$10\r\nmaxclients\r\n$2\r\n77\r\n$7\r\ntimeout\r\n$2\r\n40\r\n$9\r\ndatabases\r\n$1\r\n3\r\n$18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n",
    );
    let log = server.log_text();
    assert!(log.contains(&format!("config={p}")), "{log}");
}

#[test]
fn shipped_config_file_loads() {
    let server = Server::start(&[
        "--config",
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/herald.toml"),
    ]);
    let mut c = server.raw();
    c.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn maxclients_rejects_the_extra_client() {
    let server = Server::start(&["--maxclients", "2"]);
    let mut a = server.raw();
    let mut b = server.raw();
    a.roundtrip(b"PING\r\n", b"+PONG\r\n");
    b.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let mut c = server.raw();
    c.expect(b"-ERR max number of clients reached\r\n");
    c.expect_closed();
    drop(a);
    // Once the server has noticed the closed client, a new one is accepted.
    let started = Instant::now();
    let mut rejected = 1; // c, above
    let mut d = loop {
        let mut d = server.raw();
        d.send(b"PING\r\n");
        if d.read_n(5) == b"+PONG" {
            d.expect(b"\r\n");
            break d;
        }
        // Too early: this attempt was rejected too, and counted.
        rejected += 1;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the freed slot never came back"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    d.send(b"INFO stats\r\n");
    let stats = String::from_utf8(d.read_available(Duration::from_millis(200))).unwrap();
    assert!(
        stats.contains(&format!("rejected_connections:{rejected}\r\n")),
        "{stats}"
    );
}

#[test]
fn idle_clients_time_out() {
    let server = Server::start(&["--timeout", "1"]);
    let mut idle = server.raw();
    idle.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let started = Instant::now();
    idle.expect_closed();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
}

#[test]
fn shutdown_command_exits_zero() {
    let mut server = Server::start(&[]);
    let mut other = server.raw();
    other.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let mut c = server.raw();
    c.roundtrip(b"SHUTDOWN ABORT\r\n", b"-ERR No shutdown in progress.\r\n");
    c.roundtrip(b"SHUTDOWN BOGUS\r\n", b"-ERR syntax error\r\n");
    c.send(b"SHUTDOWN NOSAVE\r\n");
    c.expect_closed();
    other.expect_closed();
    assert_eq!(server.wait_exit(Duration::from_secs(5)), Some(0));
}

#[test]
fn sigterm_and_sigint_shut_down_gracefully() {
    for signal in ["-TERM", "-INT"] {
        let mut server = Server::start(&[]);
        let mut c = server.raw();
        // A pipeline answered in full before the signal arrives.
        let mut req = Vec::new();
        for _ in 0..1000 {
            req.extend_from_slice(b"PING\r\n");
        }
        c.send(&req);
        c.expect(&b"+PONG\r\n".repeat(1000));
        let started = Instant::now();
        let status = Command::new("kill")
            .args([signal, &server.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        c.expect_closed();
        assert_eq!(
            server.wait_exit(Duration::from_secs(6)),
            Some(0),
            "{signal}"
        );
        assert!(started.elapsed() < Duration::from_secs(6));
        assert!(server.log_text().contains("signal received, shutting down"));
    }
}

#[test]
fn ping_tool_for_health_checks() {
    let server = Server::start(&[]);
    let ok = herald()
        .args(["ping", "--port", &server.port().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    drop(server);
    // A listener that never answers (kept bound, so no other server can take the port).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let down = herald()
        .args(["ping", "--port", &port.to_string()])
        .status()
        .unwrap();
    assert_eq!(down.code(), Some(1));
}

#[test]
fn sigterm_shuts_down_even_when_stderr_is_gone() {
    use std::io::{BufRead, BufReader};
    let mut child = herald()
        .args(["--port", "0", "--memcache-port", "0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the ready line, then drop the only reader of herald's stderr,
    // as when a log collector dies: every later log write fails.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("herald ready") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "herald exited early"
        );
    }
    drop(stderr);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(6);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("herald ignored SIGTERM once its stderr was gone");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
