//! The registry of connected clients, and what other clients may see or do to one.
//!
//! A connection task owns its socket and its `Session`; everything another task
//! needs (CLIENT LIST, CLIENT KILL, a PUBLISH delivering a message) goes through the
//! client's shared `ClientHandle`: atomics for figures, a kill token, and the
//! outbox of pushed frames.
//!
//! Locking rule: `ClientRegistry::clients` is held only to insert, remove or
//! snapshot handles, never while calling into a handle's own locks.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::protocol::resp::Protocol;

/// Which protocol a client connected with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientKind {
    Resp,
    Memcache,
}

/// Names a client gave itself (CLIENT SETNAME, CLIENT SETINFO, HELLO SETNAME).
#[derive(Default, Clone)]
pub(crate) struct ClientNames {
    pub(crate) name: Option<Bytes>,
    pub(crate) lib_name: Option<Bytes>,
    pub(crate) lib_ver: Option<Bytes>,
}

/// Frames queued for a client by other clients (pub/sub messages), drained by the
/// client's own connection task with one write per batch.
#[derive(Default)]
pub(crate) struct Outbox {
    queue: Mutex<VecDeque<Bytes>>,
    /// Bytes queued and not yet written to the socket (the figure the output
    /// buffer limit is enforced on).
    queued_bytes: AtomicU64,
    /// Milliseconds since server start when the queue first went over the soft
    /// limit; 0 when it is under it.
    pub(crate) soft_limit_since_ms: AtomicU64,
    pub(crate) notify: Notify,
}

impl Outbox {
    /// Queue one frame; returns the queued byte count after it.
    ///
    /// Only the push that makes the queue non-empty wakes the connection task:
    /// the task drains until the queue is empty again before it waits, so later
    /// pushes are picked up without a wake-up each (fan-out to N subscribers
    /// costs N wake-ups per batch, not per message).
    pub(crate) fn push(&self, frame: Bytes) -> u64 {
        let len = frame.len() as u64;
        // Counted while the queue is locked: the draining task takes frames under
        // the same lock and subtracts them only after writing them, so the count
        // can never go below zero (counting after unlocking let a fast reader
        // subtract first and wrap it, which tripped the hard limit).
        let (was_empty, queued) = {
            let mut queue = self.queue.lock();
            let was_empty = queue.is_empty();
            queue.push_back(frame);
            (was_empty, self.queued_bytes.fetch_add(len, Relaxed) + len)
        };
        if was_empty {
            self.notify.notify_one();
        }
        queued
    }

    /// Move queued frames into `out`, stopping once about `max_bytes` have moved
    /// (at least one frame moves). The bytes stay counted as queued until the
    /// caller reports them written with `written`.
    pub(crate) fn drain_into(&self, out: &mut bytes::BytesMut, max_bytes: usize) -> u64 {
        let mut queue = self.queue.lock();
        let mut moved = 0u64;
        while let Some(frame) = queue.pop_front() {
            moved += frame.len() as u64;
            out.extend_from_slice(&frame);
            if moved as usize >= max_bytes {
                break;
            }
        }
        moved
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.lock().is_empty()
    }

    pub(crate) fn written(&self, bytes: u64) {
        self.queued_bytes.fetch_sub(bytes, Relaxed);
    }

    pub(crate) fn queued_bytes(&self) -> u64 {
        self.queued_bytes.load(Relaxed)
    }

    pub(crate) fn queued_frames(&self) -> usize {
        self.queue.lock().len()
    }
}

pub(crate) struct ClientHandle {
    pub(crate) id: u64,
    pub(crate) kind: ClientKind,
    pub(crate) addr: SocketAddr,
    pub(crate) laddr: SocketAddr,
    pub(crate) created: Instant,
    pub(crate) names: Mutex<ClientNames>,
    /// Selected database (RESP side).
    pub(crate) db: AtomicUsize,
    /// Negotiated RESP version (2 or 3).
    pub(crate) resp: AtomicU8,
    /// Milliseconds since server start of the last command.
    pub(crate) last_interaction_ms: AtomicU64,
    /// Index in the command table of the last command, usize::MAX before any.
    pub(crate) last_command: AtomicUsize,
    /// Subscription counts shown by CLIENT LIST (sub, psub, ssub).
    pub(crate) channels: AtomicU32,
    pub(crate) patterns: AtomicU32,
    pub(crate) shard_channels: AtomicU32,
    /// Bytes waiting in the read buffer (qbuf) as of the last read.
    pub(crate) query_buffer_bytes: AtomicU64,
    /// Cancelled to close the connection (CLIENT KILL, output buffer limit,
    /// timeout); a child of the shutdown token, so shutdown cancels it too and a
    /// connection waits on this one token only.
    pub(crate) kill: CancellationToken,
    /// Set by `close`: read on every delivery, where the token's own check
    /// (a mutex in tokio-util) would cost too much.
    closing: std::sync::atomic::AtomicBool,
    pub(crate) outbox: Outbox,
}

impl ClientHandle {
    /// Close this connection (CLIENT KILL, output buffer limit, idle timeout).
    pub(crate) fn close(&self) {
        self.closing.store(true, Relaxed);
        self.kill.cancel();
    }

    /// Whether `close` was called: nothing more should be queued for it.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Relaxed)
    }

    pub(crate) fn idle_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.last_interaction_ms.load(Relaxed))
    }

    /// The RESP version the client negotiated (HELLO), for encoding pushes.
    pub(crate) fn protocol(&self) -> Protocol {
        if self.resp.load(Relaxed) == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        }
    }

    pub(crate) fn is_subscriber(&self) -> bool {
        self.channels.load(Relaxed)
            + self.patterns.load(Relaxed)
            + self.shard_channels.load(Relaxed)
            > 0
    }
}

/// Every connected client by id.
pub(crate) struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<HashMap<u64, Arc<ClientHandle>>>,
}

impl Default for ClientRegistry {
    fn default() -> Self {
        ClientRegistry {
            next_id: AtomicU64::new(1),
            clients: Mutex::new(HashMap::new()),
        }
    }
}

impl ClientRegistry {
    /// Register a new connection unless `maxclients` are connected already.
    pub(crate) fn register(
        &self,
        kind: ClientKind,
        addr: SocketAddr,
        laddr: SocketAddr,
        now_ms: u64,
        maxclients: usize,
        kill: CancellationToken,
    ) -> Option<Arc<ClientHandle>> {
        let mut clients = self.clients.lock();
        if clients.len() >= maxclients {
            return None;
        }
        let id = self.next_id.fetch_add(1, Relaxed);
        let handle = Arc::new(ClientHandle {
            id,
            kind,
            addr,
            laddr,
            created: Instant::now(),
            names: Mutex::new(ClientNames::default()),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            last_interaction_ms: AtomicU64::new(now_ms),
            last_command: AtomicUsize::new(usize::MAX),
            channels: AtomicU32::new(0),
            patterns: AtomicU32::new(0),
            shard_channels: AtomicU32::new(0),
            query_buffer_bytes: AtomicU64::new(0),
            kill,
            closing: std::sync::atomic::AtomicBool::new(false),
            outbox: Outbox::default(),
        });
        clients.insert(id, handle.clone());
        Some(handle)
    }

    pub(crate) fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// A snapshot of every client, ordered by id.
    pub(crate) fn snapshot(&self) -> Vec<Arc<ClientHandle>> {
        let mut all: Vec<_> = self.clients.lock().values().cloned().collect();
        all.sort_by_key(|c| c.id);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_counts_bytes_until_written() {
        let outbox = Outbox::default();
        assert_eq!(outbox.push(Bytes::from_static(b"abc")), 3);
        assert_eq!(outbox.push(Bytes::from_static(b"de")), 5);
        let mut out = bytes::BytesMut::new();
        assert_eq!(outbox.drain_into(&mut out, usize::MAX), 5);
        assert_eq!(&out[..], b"abcde");
        assert_eq!(outbox.queued_bytes(), 5);
        outbox.written(5);
        assert_eq!(outbox.queued_bytes(), 0);
    }

    #[test]
    fn queued_count_never_wraps_under_a_racing_reader() {
        let outbox = std::sync::Arc::new(Outbox::default());
        let reader = {
            let outbox = outbox.clone();
            std::thread::spawn(move || {
                let mut out = bytes::BytesMut::new();
                for _ in 0..200_000 {
                    let moved = outbox.drain_into(&mut out, usize::MAX);
                    outbox.written(moved);
                    out.clear();
                }
            })
        };
        let frame = Bytes::from_static(b"0123456789");
        for _ in 0..200_000 {
            let queued = outbox.push(frame.clone());
            // Wrapped below zero, this would read as an enormous backlog.
            assert!(queued <= 200_000 * 10, "queued bytes wrapped: {queued}");
        }
        reader.join().unwrap();
        let moved = outbox.drain_into(&mut bytes::BytesMut::new(), usize::MAX);
        outbox.written(moved);
        assert_eq!(outbox.queued_bytes(), 0);
    }

    #[test]
    fn registry_enforces_maxclients() {
        let r = ClientRegistry::default();
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let first = r
            .register(ClientKind::Resp, a, a, 0, 2, CancellationToken::new())
            .unwrap();
        let second = r
            .register(ClientKind::Resp, a, a, 0, 2, CancellationToken::new())
            .unwrap();
        assert!(r
            .register(ClientKind::Resp, a, a, 0, 2, CancellationToken::new())
            .is_none());
        assert_eq!(second.id, first.id + 1);
        r.unregister(first.id);
        assert!(r
            .register(ClientKind::Resp, a, a, 0, 2, CancellationToken::new())
            .is_some());
    }
}
