//! Python programs the tests run: the interpreter (`$HERALD_PYTHON`, else
//! `python3`), skipping a test whose modules are missing (a failure under
//! `HERALD_REQUIRE_ORACLES=1`), and a running script whose output the test reads.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn require_oracles() -> bool {
    std::env::var("HERALD_REQUIRE_ORACLES").as_deref() == Ok("1")
}

/// Skip (return `false`, with a message) or, under `HERALD_REQUIRE_ORACLES=1`, fail.
pub fn skip(why: &str) -> bool {
    if require_oracles() {
        panic!("{why} (HERALD_REQUIRE_ORACLES=1)");
    }
    eprintln!("skipping: {why}");
    false
}

/// The Python interpreter, if it can import all of `modules`.
pub fn python(modules: &[&str]) -> Option<String> {
    let py = std::env::var("HERALD_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let code = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let ok = Command::new(&py)
        .args(["-c", &code])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        Some(py)
    } else {
        skip(&format!(
            "`{py} -c '{code}'` failed; pip install -r examples/python/requirements.txt \
             or point HERALD_PYTHON at a Python that has them"
        ));
        None
    }
}

/// A running Python script; killed (by its PID) when dropped.
pub struct Script {
    name: String,
    child: Child,
    /// stdout lines, as they arrive.
    lines: Receiver<String>,
    /// Everything printed so far, stdout and stderr.
    transcript: Arc<Mutex<String>>,
}

impl Script {
    /// Runs `dir/name` with `args` (unbuffered, `dir` as working directory
    /// and `env` added to the environment).
    pub fn spawn_in(
        py: &str,
        dir: &Path,
        name: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Script {
        let script = dir.join(name);
        let mut argv: Vec<&std::ffi::OsStr> = vec![script.as_os_str()];
        argv.extend(args.iter().map(std::ffi::OsStr::new));
        Script::spawn_argv(py, dir, name, &argv, env)
    }

    /// Runs `python -m module args` in `dir` (a library's own entry point,
    /// such as `celery worker`).
    pub fn spawn_module(
        py: &str,
        dir: &Path,
        module: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Script {
        let mut argv: Vec<&std::ffi::OsStr> = vec!["-m".as_ref(), module.as_ref()];
        argv.extend(args.iter().map(std::ffi::OsStr::new));
        Script::spawn_argv(py, dir, module, &argv, env)
    }

    fn spawn_argv(
        py: &str,
        dir: &Path,
        name: &str,
        argv: &[&std::ffi::OsStr],
        env: &[(&str, &str)],
    ) -> Script {
        let mut child = Command::new(py)
            .arg("-u")
            .args(argv)
            .current_dir(dir)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {py} {name}: {e}"));
        let transcript = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        let t = transcript.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                {
                    let mut t = t.lock().unwrap();
                    t.push_str(&line);
                    t.push('\n');
                }
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let t = transcript.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                t.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Script {
            name: name.to_string(),
            child,
            lines,
            transcript,
        }
    }

    pub fn transcript(&self) -> String {
        self.transcript.lock().unwrap().clone()
    }

    /// The next stdout line within `within`, or `None` at timeout or end of output.
    pub fn next_line(&self, within: Duration) -> Option<String> {
        self.lines.recv_timeout(within).ok()
    }

    /// Read stdout until a line satisfies `pred`; panics after `within`.
    pub fn wait_for(&self, what: &str, within: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if pred(&line) => return line,
                Ok(_) => {}
                Err(e) => panic!(
                    "{}: no {what} within {within:?} ({e:?}); output:\n{}",
                    self.name,
                    self.transcript()
                ),
            }
        }
    }

    /// Wait for the script to exit; returns (exit code, stdout lines not yet read).
    pub fn finish(mut self, within: Duration) -> (i32, Vec<String>) {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() > deadline {
                panic!(
                    "{} still running after {within:?}; output:\n{}",
                    self.name,
                    self.transcript()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader thread ends at EOF, which follows the exit.
        let mut rest = Vec::new();
        while let Some(line) = self.next_line(Duration::from_secs(5)) {
            rest.push(line);
        }
        (status.code().unwrap_or(-1), rest)
    }

    /// Ask the program to stop (SIGTERM, a library's graceful shutdown) and
    /// wait for it; returns (exit code, stdout lines not yet read).
    pub fn terminate(self, within: Duration) -> (i32, Vec<String>) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.finish(within)
    }

    /// Wait for a zero exit status and return all of stdout's remaining lines.
    pub fn success(self, within: Duration) -> Vec<String> {
        let transcript = self.transcript.clone();
        let name = self.name.clone();
        let (code, lines) = self.finish(within);
        assert_eq!(
            code,
            0,
            "{name} exited with {code}; output:\n{}",
            transcript.lock().unwrap()
        );
        lines
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
