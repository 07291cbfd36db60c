//! The network side: listeners, per-connection tasks, the periodic cron, and
//! graceful shutdown. Every `.await` in herald lives under this module.
//!
//! Shutdown: cancelling `Shared::shutdown` (signal or SHUTDOWN) stops the accept
//! loops; each connection finishes the write it is doing and closes; `run`
//! waits for them at most `shutdown-timeout` seconds, then returns.

pub mod blocked;
pub mod memcache;
pub mod resp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

use crate::clients::ClientKind;
use crate::commands::Shared;
use crate::error;
use crate::stats::Stats;

/// How often the cron runs (Redis's default `hz 10`).
const CRON_PERIOD_MS: u64 = 100;
/// Bytes asked of the kernel per read (both protocols).
const READ_CHUNK_BYTES: usize = 16 * 1024;
/// Most capacity reserved at once for a large bulk argument still arriving.
const MAX_RESERVE_BYTES: usize = 1024 * 1024;
/// An output buffer bigger than this after a write is released rather than kept.
const KEEP_OUTPUT_CAPACITY_BYTES: usize = 64 * 1024;

/// Why a RESP connection ended (for the debug log).
#[derive(Debug)]
pub(crate) enum Close {
    Eof,
    Quit,
    Protocol,
    Killed,
    Shutdown,
    Io,
}

/// Bind one listener per address of `bind` on `port`.
pub(crate) async fn bind_all(bind: &[String], port: u16) -> std::io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    let mut port = port;
    for addr in bind {
        let host = addr.trim_start_matches('[').trim_end_matches(']');
        let listener = TcpListener::bind((host, port)).await?;
        // With port 0 every further address reuses the port the first one got.
        port = listener.local_addr()?.port();
        listeners.push(listener);
    }
    Ok(listeners)
}

/// The bound sockets: RESP, and memcached unless `memcache-port` is 0.
pub struct Listeners {
    pub resp: Vec<TcpListener>,
    pub memcache: Vec<TcpListener>,
}

impl Listeners {
    /// Bind every address of `bind` for RESP on `port` and, when `memcache_port`
    /// is not 0, for memcached on it.
    pub async fn bind(
        bind: &[String],
        port: u16,
        memcache_port: u16,
    ) -> std::io::Result<Listeners> {
        let resp = bind_all(bind, port).await?;
        let memcache = if memcache_port == 0 {
            Vec::new()
        } else {
            bind_all(bind, memcache_port).await?
        };
        Ok(Listeners { resp, memcache })
    }

    pub fn resp_addrs(&self) -> Vec<SocketAddr> {
        self.resp
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    pub fn memcache_addrs(&self) -> Vec<SocketAddr> {
        self.memcache
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }
}

/// Serve on `listeners` until `shared.shutdown` is cancelled, then drain.
pub async fn run(shared: Arc<Shared>, listeners: Listeners) {
    let tracker = TaskTracker::new();
    *shared.resp_addrs.write() = listeners.resp_addrs();
    for listener in listeners.resp {
        tracker.spawn(accept_loop(
            shared.clone(),
            listener,
            ClientKind::Resp,
            tracker.clone(),
        ));
    }
    for listener in listeners.memcache {
        tracker.spawn(accept_loop(
            shared.clone(),
            listener,
            ClientKind::Memcache,
            tracker.clone(),
        ));
    }
    tracker.spawn(cron(shared.clone()));
    shared.shutdown.cancelled().await;
    tracker.close();
    let grace = Duration::from_secs(shared.config.read().shutdown_timeout_secs);
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!(
            remaining = tracker.len(),
            "shutdown timeout reached; closing remaining connections"
        );
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    kind: ClientKind,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        let (socket, addr) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        Stats::add(&shared.stats.total_connections_received, 1);
        let laddr = socket.local_addr().unwrap_or(addr);
        let maxclients = shared.config.read().maxclients;
        match shared.clients.register(
            kind,
            addr,
            laddr,
            shared.uptime_ms(),
            maxclients,
            shared.shutdown.child_token(),
        ) {
            Some(client) => {
                let shared = shared.clone();
                tracker.spawn(async move {
                    // Unregisters even if the task panics.
                    let _registered = Registered {
                        shared: shared.clone(),
                        id: client.id,
                    };
                    match kind {
                        ClientKind::Resp => resp::serve(socket, shared, client).await,
                        ClientKind::Memcache => memcache::serve(socket, shared, client).await,
                    }
                });
            }
            None => {
                Stats::add(&shared.stats.rejected_connections, 1);
                tracker.spawn(reject(socket, kind));
            }
        }
    }
}

/// Removes a client from the registry when its connection task ends, however it ends.
struct Registered {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.shared.clients.unregister(self.id);
    }
}

/// Over `maxclients`: say so and close, as Redis (and memcached) do.
async fn reject(mut socket: TcpStream, kind: ClientKind) {
    let msg = match kind {
        ClientKind::Resp => format!("-{}\r\n", error::MAX_CLIENTS),
        ClientKind::Memcache => format!("{}\r\n", error::MC_TOO_MANY_CONNECTIONS),
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.write_all(msg.as_bytes())).await;
    let _ = socket.shutdown().await;
}

/// Periodic housekeeping: idle-client timeouts, subscriber soft limits, active expiry.
async fn cron(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(CRON_PERIOD_MS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        close_idle_clients(&shared);
        check_subscriber_limits(&shared);
        // Active expiry gets a quarter of each period (Redis: 25% of a slow cycle).
        shared.store.active_expire_cycle(
            Duration::from_millis(CRON_PERIOD_MS / 4),
            crate::store::unix_ms(),
        );
        // A delayed memcached flush_all takes effect on time, for RESP readers too.
        crate::commands::memcache::cron(&shared, crate::store::unix_ms());
    }
}

/// Close subscribers that stayed over the soft output-buffer limit too long.
fn check_subscriber_limits(shared: &Shared) {
    let now = shared.uptime_ms();
    for c in shared.clients.snapshot() {
        if c.is_subscriber() || c.outbox.queued_bytes() > 0 {
            shared.pubsub.check_soft_limit(&c, now);
        }
    }
}

/// Close clients idle longer than `timeout` seconds. Subscribers are exempt, as in Redis.
fn close_idle_clients(shared: &Shared) {
    let timeout_secs = shared.config.read().timeout_secs;
    if timeout_secs == 0 {
        return;
    }
    let now = shared.uptime_ms();
    for c in shared.clients.snapshot() {
        if !c.is_subscriber() && c.idle_ms(now) > timeout_secs * 1000 {
            tracing::debug!(client = c.id, "closing idle client");
            c.close();
        }
    }
}

/// The address tests and the start-up log report for a listener.
pub fn describe(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// `herald ping`: connect, send PING, expect +PONG. Used as the container health check.
pub fn ping_tool(host: &str, port: u16) -> std::process::ExitCode {
    use std::io::{Read, Write};
    let attempt = || -> std::io::Result<bool> {
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))?
            .next()
            .ok_or_else(|| std::io::Error::other("no address"))?;
        let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        s.write_all(b"PING\r\n")?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf)?;
        // A password-protected server answers NOAUTH: it is up all the same.
        Ok(buf[..n].starts_with(b"+PONG") || buf[..n].starts_with(b"-NOAUTH"))
    };
    match attempt() {
        Ok(true) => std::process::ExitCode::SUCCESS,
        _ => std::process::ExitCode::FAILURE,
    }
}
