//! The job-queue libraries people point at a Redis broker, run end to end on
//! herald: Celery 5 (Redis broker and result backend, a worker subprocess)
//! and RQ (a burst worker). Their programs are in `tests/queues/`, their
//! versions in `tests/queues/requirements.txt` (installed by `scripts/test`).
//!
//! Both libraries need more than data types: kombu (Celery's transport) runs
//! its unacked-restore mutex and binding refresh as Lua (EVALSHA), and RQ 3
//! keeps job results in a stream (XADD/XREVRANGE) and takes its scheduler
//! lock with a Lua script.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::python::{python, Script};
use common::Server;

fn queues_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("queues")
}

/// A redis:// URL for database 0 of `server`.
fn url(server: &Server) -> String {
    format!("redis://{}/0", server.addr)
}

fn run(py: &str, server: &Server, name: &str) -> Script {
    Script::spawn_in(
        py,
        &queues_dir(),
        name,
        &[],
        &[("HERALD_URL", &url(server))],
    )
}

/// The rest of the line starting with `label `.
fn field(lines: &[String], label: &str) -> String {
    let prefix = format!("{label} ");
    lines
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no `{label}` line in {lines:?}"))
        .to_string()
}

#[test]
fn celery_worker_runs_tasks_a_group_a_chord_and_a_countdown() {
    let Some(py) = python(&["celery", "redis", "packaging"]) else {
        return;
    };
    let mut server = Server::start(&[]);
    let server_url = url(&server);
    // A real worker process, one task at a time, no broadcast chatter.
    let worker = Script::spawn_module(
        &py,
        &queues_dir(),
        "celery",
        &[
            "-A",
            "celery_app",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        &[("HERALD_URL", &server_url)],
    );
    let lines = run(&py, &server, "celery_client.py").success(Duration::from_secs(120));
    let evens: Vec<String> = (0..20).map(|i| (2 * i).to_string()).collect();
    assert_eq!(
        field(&lines, "tasks"),
        format!("[{}]", evens.join(", ")),
        "worker log:\n{}",
        worker.transcript()
    );
    assert_eq!(field(&lines, "group"), "[1, 2, 3, 4, 5]");
    assert_eq!(field(&lines, "chord"), "20");
    // The countdown task ran, and not before its countdown.
    assert_eq!(field(&lines, "countdown"), "42 True");
    drop(worker);
    assert!(server.is_running(), "herald exited");
}

#[test]
fn rq_burst_worker_runs_jobs_and_records_the_failing_one() {
    let Some(py) = python(&["rq", "redis"]) else {
        return;
    };
    let server = Server::start(&[]);
    let lines = run(&py, &server, "rq_client.py").success(Duration::from_secs(120));
    assert_eq!(field(&lines, "queued"), "21");
    let squares: Vec<String> = (0..20).map(|i: i64| (i * i).to_string()).collect();
    assert_eq!(
        field(&lines, "results"),
        format!("[{}]", squares.join(", "))
    );
    assert_eq!(field(&lines, "failed"), "JobStatus.FAILED True");
    assert_eq!(field(&lines, "finished"), "20");
    assert_eq!(field(&lines, "left"), "0");
}

#[test]
fn rq_runs_a_job_scheduled_with_enqueue_in() {
    let Some(py) = python(&["rq", "redis"]) else {
        return;
    };
    let server = Server::start(&[]);
    let lines = run(&py, &server, "rq_scheduled.py").success(Duration::from_secs(60));
    assert_eq!(field(&lines, "scheduled"), "JobStatus.SCHEDULED");
    assert_eq!(field(&lines, "result"), "49");
}
