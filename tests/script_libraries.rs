//! The libraries that build their critical sections out of Lua scripts
//! (EVALSHA after SCRIPT LOAD, EVAL), run end to end on herald: Dramatiq's
//! RedisBroker (a worker subprocess), the `limits` rate limiters,
//! channels-redis (Django Channels' layer) and redis-py's `Lock`. Their
//! programs are in `tests/queues/`, their versions pinned in
//! `tests/queues/requirements.txt`.
//!
//! Each program prints what it observed and the test asserts it exactly.
//! Every test runs its program twice, on herald and on a real redis-server
//! (when installed), so the expected lines are checked against the
//! reference and a failure on herald is herald's.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::python::{python, Script};
use common::{have, RedisServer, Server};

fn queues_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("queues")
}

/// Where a program runs: herald, and real redis-server as the oracle.
enum Target {
    Herald(Server),
    Redis(RedisServer),
}

impl Target {
    /// herald, then redis-server if it is installed.
    fn both() -> Vec<Target> {
        let mut targets = vec![Target::Herald(Server::start(&[]))];
        if have("redis-server") {
            targets.push(Target::Redis(RedisServer::start()));
        }
        targets
    }

    fn name(&self) -> &'static str {
        match self {
            Target::Herald(_) => "herald",
            Target::Redis(_) => "redis-server",
        }
    }

    /// A redis:// URL for database 0.
    fn url(&self) -> String {
        let addr = match self {
            Target::Herald(s) => s.addr,
            Target::Redis(r) => r.addr,
        };
        format!("redis://{addr}/0")
    }

    /// Panics if herald has exited (a crash the program may not notice).
    fn check_alive(&mut self) {
        if let Target::Herald(s) = self {
            assert!(s.is_running(), "herald exited; log:\n{}", s.log_text());
        }
    }
}

/// Runs `tests/queues/name` against `target` and returns its stdout lines.
fn run(py: &str, target: &Target, name: &str, within: Duration) -> Vec<String> {
    Script::spawn_in(
        py,
        &queues_dir(),
        name,
        &[],
        &[("HERALD_URL", &target.url())],
    )
    .success(within)
}

/// Asserts that `lines` are exactly `expected`, naming the target.
fn assert_lines(target: &Target, lines: &[String], expected: &[&str]) {
    let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    assert_eq!(lines, expected, "on {}", target.name());
}

#[test]
fn dramatiq_worker_runs_twenty_messages_and_a_delayed_one_once_each() {
    let Some(py) = python(&["dramatiq", "redis"]) else {
        return;
    };
    for mut target in Target::both() {
        let url = target.url();
        // A real worker: the `dramatiq` CLI, one process with two threads.
        let worker = Script::spawn_module(
            &py,
            &queues_dir(),
            "dramatiq",
            &["dramatiq_app", "--processes", "1", "--threads", "2"],
            &[("HERALD_URL", &url)],
        );
        let lines = run(&py, &target, "dramatiq_client.py", Duration::from_secs(60));
        let ones = vec!["1"; 20].join(", ");
        assert_lines(
            &target,
            &lines,
            &[
                "sent 21",
                &format!("runs [{ones}] 1 21"),
                "delayed_on_time True",
            ],
        );
        // SIGTERM is the worker's graceful stop: it finishes and exits 0.
        let transcript = worker.transcript();
        let (code, _) = worker.terminate(Duration::from_secs(30));
        assert_eq!(code, 0, "worker on {}:\n{transcript}", target.name());
        target.check_alive();
    }
}

#[test]
fn limits_fixed_moving_and_sliding_windows_allow_exactly_the_limit() {
    let Some(py) = python(&["limits", "redis"]) else {
        return;
    };
    for mut target in Target::both() {
        let lines = run(&py, &target, "limits_client.py", Duration::from_secs(30));
        // Seven hits at 5/minute: five allowed, then refused; another key is
        // untouched; costs 2, 2, 2, 1: the fixed window counts the refused
        // hit (its INCRBY already happened), the moving and sliding windows
        // do not, so their last 1 still fits.
        let five_then_no = "[True, True, True, True, True, False, False]";
        assert_lines(
            &target,
            &lines,
            &[
                &format!("fixed {five_then_no} True 0 False [True, True, False, False]"),
                "fixed_cleared True 4",
                &format!("moving {five_then_no} True 0 False [True, True, False, True]"),
                "moving_cleared True 4",
                &format!("sliding {five_then_no} True 0 False [True, True, False, True]"),
                "sliding_cleared True 4",
            ],
        );
        target.check_alive();
    }
}

#[test]
fn channels_redis_layers_send_receive_and_group_send() {
    let Some(py) = python(&["channels_redis", "channels", "redis"]) else {
        return;
    };
    for mut target in Target::both() {
        let lines = run(&py, &target, "channels_client.py", Duration::from_secs(30));
        assert_lines(
            &target,
            &lines,
            &[
                "core_receive {'type': 'hello', 'text': 'one'} {'type': 'hello', 'text': 'two'}",
                "core_group {'type': 'chat', 'n': 1} {'type': 'chat', 'n': 1}",
                "core_discard {'type': 'chat', 'n': 2} True",
                "pubsub_send {'type': 'direct', 'n': 0}",
                "pubsub_group {'type': 'chat', 'n': 1} {'type': 'chat', 'n': 1}",
            ],
        );
        target.check_alive();
    }
}

#[test]
fn redis_py_lock_contention_release_timeout_extend_reacquire() {
    let Some(py) = python(&["redis"]) else {
        return;
    };
    for mut target in Target::both() {
        let lines = run(&py, &target, "lock_client.py", Duration::from_secs(30));
        assert_lines(
            &target,
            &lines,
            &[
                // acquire a, acquire b, a owned, b owned, locked
                "contend True False True False True",
                "after_release False True True",
                "extend True True",
                "foreign_release LockNotOwnedError",
                "foreign_extend LockNotOwnedError",
                "blocking True True",
                "timeout True False",
                "expired False True False True",
                "stale_extend LockNotOwnedError",
                "stale_release LockNotOwnedError",
                "done 0",
            ],
        );
        target.check_alive();
    }
}
