//! Clients blocked on keys: lists (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP),
//! sorted sets (BZPOPMIN, BZPOPMAX, BZMPOP) and streams (XREAD, XREADGROUP).
//!
//! Protocol rules (Redis 7.0 `blocked.c`, `t_list.c`):
//! - A blocking command that finds data answers at once; otherwise the client
//!   waits until a key it waits on gets data, its timeout passes (null reply),
//!   it is unblocked (CLIENT UNBLOCK), or it disconnects.
//! - Blocked clients are served only once the command (or the whole
//!   MULTI/EXEC) that made a key ready has finished: `MULTI, LPUSH k, DEL k,
//!   EXEC` wakes nobody. A ready key that is then missing or not a list serves
//!   nobody (its clients stay blocked, no WRONGTYPE).
//! - Clients blocked on a key are served in the order they blocked, each from
//!   the key that became ready (not the first of its keys); serving stops when
//!   the list is empty. A client served by a move makes the destination ready,
//!   and it is served in the same round (linked and circular BLMOVE chains).
//! - Inside MULTI a blocking command does not block: it answers as on timeout.
//! - Streams (Redis 7.0 `serveClientsBlockedOnStreamKey`): every client
//!   blocked on a stream key is looked at, not only the first, since each
//!   waits for entries after its own ID. XREAD runs again with `$` replaced
//!   by the ID it stood for when it blocked (`BlockRequest::args`). A client
//!   blocked in XREADGROUP is answered with an error when its group is
//!   destroyed (XGROUP DESTROY makes the key ready) or the key stops holding
//!   a stream (deleted, overwritten, flushed, swapped away: the store
//!   records removed streams, `Store::take_removed_streams`, and the
//!   dispatcher makes those keys ready after each command).
//! - A blocked command counts once in commandstats, when it is answered.
//!
//! The life of a blocked command, in one place:
//! 1. Its handler (a `Handler::Blocking`), finding no data, returns
//!    `Blocking::Wait(BlockRequest)` instead of replying (`Ctx::block_on`).
//! 2. `dispatch`, still holding the execution gate, registers a `Waiter`
//!    (`block`): the command, its arguments, the client's protocol. It then
//!    looks at the keys once more, so a push that ran beside the handler is
//!    not missed.
//! 3. Every command that may give a key data calls `signal_ready`, which
//!    queues the key (once) if anyone waits on it. After the command, with the
//!    gate released, `dispatch` serves the queued keys under the exclusive
//!    gate (`commands::lists::serve_ready`): for each waiter of a key, oldest
//!    first, it `claim`s the waiter, runs its command again on the waiter's
//!    behalf, and either `finish`es it with the reply (it leaves every queue
//!    at once, so INFO blocked_clients is exact when the push answers) or
//!    `release`s it (no data: still blocked, same place in line).
//! 4. The blocked connection (`server::blocked::wait`) only waits for the
//!    outcome: a served reply, its timeout, CLIENT UNBLOCK, or its end.
//!
//! Locking rule: the registry locks are taken after, never while holding, a
//! shard lock, and are never held while a command runs.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::clients::ClientHandle;
use crate::protocol::resp::{Protocol, Reply};

/// What a blocked command waits for, returned by its handler.
#[derive(Clone, Debug)]
pub(crate) struct BlockRequest {
    pub(crate) db: usize,
    pub(crate) keys: Vec<Bytes>,
    /// None = wait forever (timeout 0).
    pub(crate) deadline: Option<Instant>,
    /// The command's answer when the timeout passes.
    pub(crate) on_timeout: TimeoutReply,
    /// The arguments to run the command with when it is served, if not the
    /// ones it came with (XREAD's `$` resolved to an ID).
    pub(crate) args: Option<Vec<Bytes>>,
}

/// A blocking command's timeout answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeoutReply {
    /// BLPOP, BRPOP, BLMPOP: a null array.
    NullArray,
    /// BLMOVE, BRPOPLPUSH: a null bulk string.
    NullBulk,
}

impl TimeoutReply {
    pub(crate) fn write(self, reply: &mut Reply) {
        match self {
            TimeoutReply::NullArray => reply.null_array(),
            TimeoutReply::NullBulk => reply.null(),
        }
    }
}

/// How CLIENT UNBLOCK ended a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unblocked {
    /// As if the timeout passed: the command's timeout reply.
    Timeout,
    /// `-UNBLOCKED client unblocked via CLIENT UNBLOCK`.
    Error,
}

/// How a wait ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Served: the command's reply (RESP in the client's protocol) and the
    /// error replies it holds (for INFO total_error_replies).
    Served {
        reply: Vec<u8>,
        errors: u64,
    },
    Unblocked(Unblocked),
    TimedOut,
    /// The connection ended.
    Gone,
}

enum State {
    Blocked,
    /// A server thread runs the command on the waiter's behalf; `gone` if the
    /// connection ended meanwhile.
    Serving {
        gone: bool,
    },
    Done(Option<Outcome>),
}

/// The connection's check that its peer is still there (a hung-up client
/// must not take data it can no longer receive).
pub(crate) type PeerAlive = Arc<dyn Fn() -> bool + Send + Sync>;

/// One blocked client, queued on each of its keys.
pub(crate) struct Waiter {
    pub(crate) client: Arc<ClientHandle>,
    /// The command's index in the command table, and its arguments.
    pub(crate) command: usize,
    pub(crate) args: Vec<Bytes>,
    pub(crate) request: BlockRequest,
    /// The protocol its reply is encoded in.
    pub(crate) protocol: Protocol,
    pub(crate) wake: Notify,
    peer_alive: OnceLock<PeerAlive>,
    state: Mutex<State>,
    /// When its request was read off the socket: queues are kept in this
    /// order, so clients are served in the order their requests arrived (as
    /// Redis's single thread would have run them), not in the order worker
    /// threads happened to register them.
    arrived: Instant,
}

impl Waiter {
    pub(crate) fn new(
        client: Arc<ClientHandle>,
        command: usize,
        args: Vec<Bytes>,
        mut request: BlockRequest,
        protocol: Protocol,
    ) -> Self {
        // A key named twice waits once (BLPOP k k 0).
        let mut seen = Vec::with_capacity(request.keys.len());
        request.keys.retain(|k| {
            let new = !seen.contains(k);
            if new {
                seen.push(k.clone());
            }
            new
        });
        Waiter {
            client,
            command,
            args,
            request,
            protocol,
            wake: Notify::new(),
            peer_alive: OnceLock::new(),
            state: Mutex::new(State::Blocked),
            arrived: Instant::now(),
        }
    }

    /// When the request was read (default: when the waiter was made).
    pub(crate) fn arrived_at(mut self, at: Instant) -> Self {
        self.arrived = at.min(self.arrived);
        self
    }

    /// Set by the connection when it starts waiting (until then the peer
    /// counts as there).
    pub(crate) fn set_peer_check(&self, alive: PeerAlive) {
        let _ = self.peer_alive.set(alive);
    }

    fn peer_alive(&self) -> bool {
        self.peer_alive.get().is_none_or(|alive| alive())
    }

    /// The outcome, once the wait has ended (taken: asked once).
    pub(crate) fn take_outcome(&self) -> Option<Outcome> {
        match &mut *self.state.lock() {
            State::Done(outcome) => outcome.take(),
            _ => None,
        }
    }
}

/// Waiters by (database, key), oldest first.
type Queues = HashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>;

#[derive(Default)]
pub(crate) struct BlockingRegistry {
    queues: Mutex<Queues>,
    by_client: Mutex<HashMap<u64, Arc<Waiter>>>,
    /// Keys made ready since the last serving round, in signal order, once each.
    ready: Mutex<Vec<(usize, Bytes)>>,
    any_ready: AtomicBool,
}

impl BlockingRegistry {
    /// Queue `waiter` on every key of its request.
    pub(crate) fn block(&self, waiter: Arc<Waiter>) -> Arc<Waiter> {
        let mut queues = self.queues.lock();
        for key in &waiter.request.keys {
            let queue = queues.entry((waiter.request.db, key.clone())).or_default();
            // After every waiter whose request arrived no later (almost
            // always the back).
            let at = queue
                .iter()
                .rposition(|w| w.arrived <= waiter.arrived)
                .map_or(0, |i| i + 1);
            queue.insert(at, waiter.clone());
        }
        drop(queues);
        self.by_client
            .lock()
            .insert(waiter.client.id, waiter.clone());
        waiter
    }

    /// Remove a waiter from every queue.
    fn unregister(&self, waiter: &Arc<Waiter>) {
        let mut queues = self.queues.lock();
        for key in &waiter.request.keys {
            let k = (waiter.request.db, key.clone());
            if let Some(q) = queues.get_mut(&k) {
                q.retain(|w| !Arc::ptr_eq(w, waiter));
                if q.is_empty() {
                    queues.remove(&k);
                }
            }
        }
        drop(queues);
        let mut by_client = self.by_client.lock();
        if by_client
            .get(&waiter.client.id)
            .is_some_and(|w| Arc::ptr_eq(w, waiter))
        {
            by_client.remove(&waiter.client.id);
        }
    }

    /// End a wait that is still blocked with `outcome`: the waiter leaves every
    /// queue and its connection is woken. False if the wait had already ended
    /// or is being served (the server thread finishes it then).
    pub(crate) fn finish(&self, waiter: &Arc<Waiter>, outcome: Outcome) -> bool {
        {
            let mut state = waiter.state.lock();
            match &mut *state {
                State::Blocked => *state = State::Done(Some(outcome)),
                State::Serving { gone } => {
                    if outcome == Outcome::Gone {
                        *gone = true;
                    }
                    return false;
                }
                State::Done(_) => return false,
            }
        }
        self.unregister(waiter);
        waiter.wake.notify_one();
        true
    }

    /// Take a blocked waiter to serve it; false if its wait has ended. A
    /// waiter whose peer hung up is finished as gone and not claimed.
    pub(crate) fn claim(&self, waiter: &Arc<Waiter>) -> bool {
        if !waiter.peer_alive() {
            self.finish(waiter, Outcome::Gone);
            return false;
        }
        let mut state = waiter.state.lock();
        if matches!(*state, State::Blocked) {
            *state = State::Serving { gone: false };
            true
        } else {
            false
        }
    }

    /// A claimed waiter was answered: it leaves every queue, its connection
    /// writes `reply`.
    pub(crate) fn served(&self, waiter: &Arc<Waiter>, reply: Vec<u8>, errors: u64) {
        *waiter.state.lock() = State::Done(Some(Outcome::Served { reply, errors }));
        self.unregister(waiter);
        waiter.wake.notify_one();
    }

    /// A claimed waiter found no data: blocked again, same place in line.
    pub(crate) fn release(&self, waiter: &Arc<Waiter>) {
        let gone = {
            let mut state = waiter.state.lock();
            let gone = matches!(*state, State::Serving { gone: true });
            *state = if gone {
                State::Done(Some(Outcome::Gone))
            } else {
                State::Blocked
            };
            gone
        };
        if gone {
            self.unregister(waiter);
        }
        // The connection may have timed out meanwhile: let it look again.
        waiter.wake.notify_one();
    }

    /// The waiters on `key`, oldest first (a snapshot).
    pub(crate) fn waiters(&self, db: usize, key: &[u8]) -> Vec<Arc<Waiter>> {
        let queues = self.queues.lock();
        queues
            .get(&(db, Bytes::copy_from_slice(key)))
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// CLIENT UNBLOCK: true if the client was blocked.
    pub(crate) fn force_unblock(&self, client_id: u64, how: Unblocked) -> bool {
        let Some(w) = self.by_client.lock().get(&client_id).cloned() else {
            return false;
        };
        self.finish(&w, Outcome::Unblocked(how))
    }

    /// Clients currently blocked (INFO blocked_clients).
    pub(crate) fn blocked_clients(&self) -> usize {
        self.by_client.lock().len()
    }

    /// Keys with at least one waiter (INFO total_blocking_keys).
    pub(crate) fn blocking_keys(&self) -> usize {
        self.queues.lock().len()
    }

    fn has_waiters(&self, db: usize, key: &[u8]) -> bool {
        let queues = self.queues.lock();
        !queues.is_empty() && queues.contains_key(&(db, Bytes::copy_from_slice(key)))
    }

    /// Called by every command that may give `key` in `db` list data (pushes,
    /// moves, RENAME, COPY, MOVE ...), after it released the shard lock. The
    /// key is served after the command (or its EXEC) ends.
    pub(crate) fn signal_ready(&self, db: usize, key: &[u8]) {
        if !self.has_waiters(db, key) {
            return;
        }
        let mut ready = self.ready.lock();
        if !ready.iter().any(|(d, k)| *d == db && k == key) {
            ready.push((db, Bytes::copy_from_slice(key)));
        }
        self.any_ready.store(true, Relaxed);
    }

    /// Every key waited on in `db` (SWAPDB, FLUSHDB of a swapped db).
    pub(crate) fn signal_db(&self, db: usize) {
        let keys: Vec<Bytes> = self
            .queues
            .lock()
            .keys()
            .filter(|(d, _)| *d == db)
            .map(|(_, k)| k.clone())
            .collect();
        for key in keys {
            self.signal_ready(db, &key);
        }
    }

    /// Whether some key waits to be served (cheap: one load).
    pub(crate) fn has_ready(&self) -> bool {
        self.any_ready.load(Relaxed)
    }

    /// The keys made ready so far, emptying the list (None when empty).
    pub(crate) fn take_ready(&self) -> Option<Vec<(usize, Bytes)>> {
        let mut ready = self.ready.lock();
        self.any_ready.store(false, Relaxed);
        if ready.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut *ready))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::{ClientKind, ClientRegistry};
    use std::time::Duration;

    #[test]
    fn waiters_are_queued_in_the_order_their_requests_arrived() {
        let clients = ClientRegistry::default();
        let blocking = BlockingRegistry::default();
        let addr = "127.0.0.1:1".parse().unwrap();
        let now = Instant::now();
        let waiter = |ago_ms: u64| {
            let client = clients
                .register(ClientKind::Resp, addr, addr, 0, 100, Default::default())
                .unwrap();
            let request = BlockRequest {
                db: 0,
                keys: vec![Bytes::from_static(b"k")],
                deadline: None,
                on_timeout: TimeoutReply::NullArray,
                args: None,
            };
            let at = now
                .checked_sub(Duration::from_millis(ago_ms))
                .unwrap_or(now);
            Arc::new(Waiter::new(client, 0, Vec::new(), request, Protocol::Resp2).arrived_at(at))
        };
        // Registered in the order 2nd, 3rd, 1st arrival.
        let (first, second, third) = (waiter(30), waiter(20), waiter(10));
        for w in [&second, &third, &first] {
            blocking.block(w.clone());
        }
        let ids: Vec<u64> = blocking
            .waiters(0, b"k")
            .iter()
            .map(|w| w.client.id)
            .collect();
        assert_eq!(ids, [first.client.id, second.client.id, third.client.id]);
    }
}
