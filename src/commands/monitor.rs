//! MONITOR: stream every command the server executes to the clients that asked.
//!
//! Rules (Redis 7.0 `call()` and `replicationFeedMonitors`, checked against
//! redis-server 7.0.15):
//! - A command is shown once it has run (its handler was called), failed or
//!   not: `+<sec>.<usec> [<db> <ip>:<port>] "arg" "arg" ...`, with the database
//!   selected after it ran and each argument quoted as `sdscatrepr` quotes it
//!   (`\\ \" \n \r \t \a \b`, other bytes outside 0x20..0x7e as `\xhh`).
//! - Requests refused before running (unknown command, arity, NOAUTH, wrong
//!   context) are not shown, nor are commands queued by MULTI when queued: they
//!   are shown as EXEC runs them, before the EXEC line. An EXEC that answers
//!   EXECABORT is shown alone (after its MULTI).
//! - Admin commands (CONFIG, DEBUG, MONITOR, SHUTDOWN, ...) are never shown.
//!   AUTH's arguments and HELLO's AUTH username and password are shown as
//!   `"(redacted)"`.
//! - A blocking command is shown when it first runs (blocked or not), not again
//!   when it is served.
//! - A monitor is a client as Redis's: MONITOR again answers nothing, inside
//!   MULTI/EXEC it is an error, commands touching the keyspace are refused
//!   ("Replica can't interact with the keyspace"), RESET ends monitor mode and
//!   QUIT or a disconnect ends it with the connection.
//! - Only RESP commands are shown. memcached requests run through their own
//!   path (`commands::memcache`) and are deliberately not fed: a monitor line
//!   has no syntax for them, and Redis tools parsing MONITOR output expect RESP
//!   commands only.
//!
//! Lines go into each monitor's outbox (the pub/sub queue), so they reach it
//! in execution order with the monitor's next write.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use super::{Command, CommandResult, Ctx, Flags, Session, Shared};
use crate::clients::ClientHandle;
use crate::error;
use crate::flags;

const GROUP: &str = "server";

pub(crate) static COMMANDS: &[Command] = &[Command::row(
    GROUP,
    "monitor",
    1,
    flags![ADMIN, NOSCRIPT, LOADING, STALE],
    "Listen for all requests received by the server in real time",
    monitor,
)];

/// The clients in monitor mode.
///
/// Locking rule: `clients` is held only to add, remove or snapshot handles,
/// never while pushing into a handle's outbox.
#[derive(Default)]
pub(crate) struct Monitors {
    clients: Mutex<Vec<Arc<ClientHandle>>>,
    /// How many are registered: the one figure every command reads.
    count: AtomicUsize,
}

impl Monitors {
    fn add(&self, client: Arc<ClientHandle>) {
        let mut clients = self.clients.lock();
        clients.push(client);
        self.count.store(clients.len(), Relaxed);
    }

    /// Remove the client `id` (RESET); a closed connection is dropped by the
    /// next `feed` instead.
    pub(crate) fn remove(&self, id: u64) {
        let mut clients = self.clients.lock();
        clients.retain(|c| c.id != id);
        self.count.store(clients.len(), Relaxed);
    }

    fn snapshot(&self) -> Vec<Arc<ClientHandle>> {
        let mut clients = self.clients.lock();
        let before = clients.len();
        clients.retain(|c| !c.is_closing());
        if clients.len() != before {
            self.count.store(clients.len(), Relaxed);
        }
        clients.clone()
    }
}

/// MONITOR
fn monitor(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    if !ctx.may_block {
        // Inside EXEC: the client expects one reply per command.
        return Err(error::MONITOR_DENY_BLOCKING.into());
    }
    if ctx.session.monitor {
        // Already a monitor: Redis answers nothing.
        return Ok(());
    }
    ctx.session.monitor = true;
    ctx.shared.monitors.add(ctx.session.client.clone());
    ctx.reply.ok();
    Ok(())
}

/// Leave monitor mode (RESET).
pub(crate) fn leave(shared: &Shared, session: &mut Session) {
    if session.monitor {
        session.monitor = false;
        shared.monitors.remove(session.client.id);
    }
}

/// Show the command `args` that `session` just ran to every monitor.
pub(crate) fn feed(shared: &Shared, session: &Session, flags: Flags, args: &[Bytes]) {
    if shared.monitors.count.load(Relaxed) == 0 || flags.has(Flags::ADMIN) {
        return;
    }
    let monitors = shared.monitors.snapshot();
    if monitors.is_empty() {
        return;
    }
    let line = Bytes::from(format_line(session, args));
    for m in monitors {
        // A monitor that just ran QUIT gets nothing after its +OK (Redis
        // writes nothing more to a client closing after its reply).
        if session.close_after_reply && m.id == session.client.id {
            continue;
        }
        m.outbox.push(line.clone());
    }
}

/// Whether a command shows in MONITOR before it runs rather than after: the
/// script commands, whose own calls must follow them.
pub(crate) fn feeds_before_running(full_name: &str) -> bool {
    matches!(
        full_name,
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
    )
}

/// `+<sec>.<usec> [<db> <peer>] "arg" ...\r\n`; a command a script called
/// shows `lua` as its peer, as in Redis.
fn format_line(session: &Session, args: &[Bytes]) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut head = String::with_capacity(64);
    let _ = write!(
        head,
        "+{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        session.db(),
        if session.in_script {
            "lua".to_string()
        } else {
            session.client.addr.to_string()
        }
    );
    let mut out = head.into_bytes();
    let redacted = redacted_positions(args);
    for (i, arg) in args.iter().enumerate() {
        out.push(b' ');
        if redacted.contains(&i) {
            out.extend_from_slice(b"\"(redacted)\"");
        } else {
            quote(&mut out, arg);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The arguments Redis hides: AUTH's password (and username), HELLO's
/// `AUTH username password`.
fn redacted_positions(args: &[Bytes]) -> Vec<usize> {
    let name = &args[0];
    if name.eq_ignore_ascii_case(b"auth") {
        return match args.len() {
            2 => vec![1],
            3 => vec![1, 2],
            _ => Vec::new(),
        };
    }
    let mut hidden = Vec::new();
    if name.eq_ignore_ascii_case(b"hello") {
        // HELLO [protover [AUTH username password] [SETNAME name]]: options
        // are read in order; the scan stops where HELLO itself would fail.
        let mut j = 2;
        while j < args.len() {
            let more = args.len() - 1 - j;
            if args[j].eq_ignore_ascii_case(b"auth") && more >= 2 {
                hidden.extend([j + 1, j + 2]);
                j += 3;
            } else if args[j].eq_ignore_ascii_case(b"setname") && more >= 1 {
                j += 2;
            } else {
                break;
            }
        }
    }
    hidden
}

/// Append `arg` quoted as Redis's `sdscatrepr`.
pub(crate) fn quote(out: &mut Vec<u8>, arg: &[u8]) {
    out.push(b'"');
    for &b in arg {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => {
                let _ = write!(HexOut(out), "\\x{b:02x}");
            }
        }
    }
    out.push(b'"');
}

/// `fmt::Write` into a byte vector.
struct HexOut<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for HexOut<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_matches_sdscatrepr() {
        let mut out = Vec::new();
        quote(&mut out, b"a\x00b\r\n\"\\ \xc3\xa9\t\x07\x08\x7f~");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\x00b\r\n\"\\ \xc3\xa9\t\a\b\x7f~""#
        );
    }

    #[test]
    fn redaction() {
        let b = |v: &[&str]| {
            v.iter()
                .map(|s| Bytes::from(s.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(redacted_positions(&b(&["AUTH", "p"])), [1]);
        assert_eq!(redacted_positions(&b(&["auth", "u", "p"])), [1, 2]);
        assert!(redacted_positions(&b(&["auth", "u", "p", "x"])).is_empty());
        assert_eq!(
            redacted_positions(&b(&["HELLO", "2", "SETNAME", "n", "AUTH", "u", "p"])),
            [5, 6]
        );
        assert!(redacted_positions(&b(&["HELLO", "3", "AUTH", "u"])).is_empty());
    }
}
