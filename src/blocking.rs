//! Clients blocked on list keys (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP).
//!
//! Protocol rules (Redis `blocked.c`, `t_list.c`):
//! - A blocking command that finds data answers at once; otherwise the client
//!   waits until a key it waits on gets data, its timeout passes (null reply),
//!   it is unblocked (CLIENT UNBLOCK), or it disconnects.
//! - Clients blocked on a key are served in the order they blocked: a push
//!   wakes the longest-waiting client first, one per element pushed.
//! - Inside MULTI a blocking command does not block: it answers as on timeout.
//! - A blocked command counts once in commandstats, when it is answered.
//!
//! The life of a blocked command, in one place:
//! 1. Its handler (a `Handler::Blocking`), finding no data, returns
//!    `Blocking::Wait(BlockRequest)` instead of replying (`Ctx::block_on`).
//! 2. `dispatch` hands that request back to the connection loop, which calls
//!    `server::blocked::wait` — the one function that waits and retries.
//! 3. `wait` registers a `Waiter` on every key here (`block`) and awaits it.
//!    Every command that adds to a list calls `signal_ready`, which wakes the
//!    longest-waiting client; the woken connection runs the same command again
//!    (`commands::execute`), which either answers or asks to wait once more.
//! 4. On timeout `wait` writes the request's `on_timeout` reply; on CLIENT
//!    UNBLOCK ERROR, `-UNBLOCKED`. However the wait ends, `leave` takes the
//!    waiter out of the queues and passes the wake-up on to the next waiter
//!    while the keys still hold data.
//!
//! Locking rule: the registry locks are taken after, never while holding, a
//! shard lock; `leave` takes a shard lock only after releasing them.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::protocol::resp::Reply;
use crate::store::Store;

/// What a blocked command waits for, returned by its handler.
#[derive(Clone, Debug)]
pub(crate) struct BlockRequest {
    pub(crate) db: usize,
    pub(crate) keys: Vec<Bytes>,
    /// None = wait forever (timeout 0).
    pub(crate) deadline: Option<Instant>,
    /// The command's answer when the timeout passes.
    pub(crate) on_timeout: TimeoutReply,
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

/// One blocked client, queued on each of its keys.
pub(crate) struct Waiter {
    pub(crate) client_id: u64,
    pub(crate) wake: Notify,
    /// Set while a wake-up is on its way (so one push wakes one waiter).
    woken: AtomicBool,
    /// 0 = still blocked, 1 = CLIENT UNBLOCK TIMEOUT, 2 = CLIENT UNBLOCK ERROR.
    unblocked: AtomicU8,
}

impl Waiter {
    pub(crate) fn unblocked(&self) -> Option<Unblocked> {
        match self.unblocked.load(Relaxed) {
            1 => Some(Unblocked::Timeout),
            2 => Some(Unblocked::Error),
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
}

impl BlockingRegistry {
    /// Queue a new waiter for `client_id` on every key of `request`.
    ///
    /// Data pushed between the handler finding none and this call signalled
    /// nobody, so the keys are looked at once more with the waiter in line.
    pub(crate) fn block(
        &self,
        client_id: u64,
        request: &BlockRequest,
        store: &Store,
    ) -> Arc<Waiter> {
        let waiter = Arc::new(Waiter {
            client_id,
            wake: Notify::new(),
            woken: AtomicBool::new(false),
            unblocked: AtomicU8::new(0),
        });
        let mut queues = self.queues.lock();
        for key in &request.keys {
            queues
                .entry((request.db, key.clone()))
                .or_default()
                .push_back(waiter.clone());
        }
        drop(queues);
        self.by_client.lock().insert(client_id, waiter.clone());
        self.wake_where_data(request, store);
        waiter
    }

    /// Back to sleep after a wake-up that found no data. A push that came
    /// while the waiter was still marked woken skipped it: look again.
    pub(crate) fn rearm(&self, waiter: &Waiter, request: &BlockRequest, store: &Store) {
        waiter.woken.store(false, Relaxed);
        self.wake_where_data(request, store);
    }

    /// Remove a waiter from every queue (served, timed out, unblocked, gone).
    fn unblock(&self, waiter: &Arc<Waiter>, request: &BlockRequest) {
        let mut queues = self.queues.lock();
        for key in &request.keys {
            let k = (request.db, key.clone());
            if let Some(q) = queues.get_mut(&k) {
                q.retain(|w| !Arc::ptr_eq(w, waiter));
                if q.is_empty() {
                    queues.remove(&k);
                }
            }
        }
        drop(queues);
        self.by_client.lock().remove(&waiter.client_id);
    }

    /// Wake up to `count` sleeping waiters on `key`, oldest first.
    pub(crate) fn wake(&self, db: usize, key: &[u8], count: usize) {
        if count == 0 {
            return;
        }
        let queues = self.queues.lock();
        let Some(q) = queues.get(&(db, Bytes::copy_from_slice(key))) else {
            return;
        };
        let mut left = count;
        for w in q.iter() {
            if left == 0 {
                break;
            }
            if !w.woken.swap(true, Relaxed) {
                w.wake.notify_one();
                left -= 1;
            }
        }
    }

    /// CLIENT UNBLOCK: true if the client was blocked.
    pub(crate) fn force_unblock(&self, client_id: u64, how: Unblocked) -> bool {
        let Some(w) = self.by_client.lock().get(&client_id).cloned() else {
            return false;
        };
        w.unblocked
            .store(if how == Unblocked::Timeout { 1 } else { 2 }, Relaxed);
        w.wake.notify_one();
        true
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

    /// Called by every command that adds elements to list `key` in `db`, after
    /// it released the shard lock.
    ///
    /// Only the longest-waiting client is woken, however many elements were
    /// added: if several were woken at once, whichever task ran first would
    /// win, and a 5-element push would not reach the five waiters in the order
    /// they blocked. The served client passes the wake-up on (`leave`) while
    /// data remains, so each element still reaches a waiter, in order.
    pub(crate) fn signal_ready(&self, db: usize, key: &[u8]) {
        if self.has_waiters(db, key) {
            self.wake(db, key, 1);
        }
    }

    /// A wait ended (served, timed out, unblocked, disconnected): take the
    /// waiter out of every queue, then hand the wake-up on for each key that
    /// still holds data, so it reaches the next client in line.
    pub(crate) fn leave(&self, waiter: &Arc<Waiter>, request: &BlockRequest, store: &Store) {
        self.unblock(waiter, request);
        self.wake_where_data(request, store);
    }

    /// Wake the longest waiter of each of `request`'s keys that holds data.
    fn wake_where_data(&self, request: &BlockRequest, store: &Store) {
        for key in &request.keys {
            let has_data = store
                .slot(request.db, key, crate::store::unix_ms())
                .peek()
                .is_some();
            if has_data {
                self.wake(request.db, key, 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Value;

    fn request(key: &'static [u8]) -> BlockRequest {
        BlockRequest {
            db: 0,
            keys: vec![Bytes::from_static(key)],
            deadline: None,
            on_timeout: TimeoutReply::NullArray,
        }
    }

    fn list() -> Value {
        Value::List(VecDeque::from([Bytes::from_static(b"x")]))
    }

    #[test]
    fn data_pushed_before_the_waiter_joined_still_wakes_it() {
        // The push came after the handler found nothing but before `block`:
        // nobody was queued to signal, so `block` must look itself.
        let (registry, store) = (BlockingRegistry::default(), Store::new(1));
        store.slot(0, b"q", 0).insert(list(), 0, 0);
        let waiter = registry.block(1, &request(b"q"), &store);
        assert!(waiter.woken.load(Relaxed));
        let idle = registry.block(2, &request(b"empty"), &store);
        assert!(!idle.woken.load(Relaxed));
    }

    #[test]
    fn a_push_during_a_fruitless_retry_is_not_lost() {
        let (registry, store) = (BlockingRegistry::default(), Store::new(1));
        let req = request(b"q");
        let waiter = registry.block(1, &req, &store);
        registry.signal_ready(0, b"q");
        assert!(waiter.woken.load(Relaxed));
        // The retry found nothing; meanwhile a push skipped the (still woken) waiter.
        store.slot(0, b"q", 0).insert(list(), 0, 0);
        registry.signal_ready(0, b"q");
        registry.rearm(&waiter, &req, &store);
        assert!(waiter.woken.load(Relaxed), "the data must wake it again");
        registry.leave(&waiter, &req, &store);
        assert_eq!(registry.blocked_clients(), 0);
    }
}
