//! Clients blocked on list keys (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP).
//!
//! Protocol rules (Redis `blocked.c`, `t_list.c`):
//! - A blocking command that finds data answers at once; otherwise the client
//!   waits until a key it waits on gets data, its timeout passes (null reply),
//!   it is unblocked (CLIENT UNBLOCK), or it disconnects.
//! - Clients blocked on a key are served in the order they blocked: a push
//!   wakes the longest-waiting client first, one per element pushed.
//! - Inside MULTI a blocking command does not block: it answers as on timeout.
//!
//! Mechanism: the command handler, finding nothing, records a `BlockRequest` in
//! the session instead of replying. The connection then registers a `Waiter`
//! on every key and awaits it; `signal_ready` (called by every command that
//! adds to a list) wakes the longest-waiting client, and the woken connection
//! runs the same command again. A waiter that leaves the queue (served, timed
//! out, gone) passes the wake-up on to the next waiter while data remains.
//!
//! Locking rule: the registry lock is taken after, never while holding, a shard lock.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::shared::Shared;

/// What a blocked command waits for, recorded by its handler.
#[derive(Clone, Debug)]
pub struct BlockRequest {
    pub db: usize,
    pub keys: Vec<Bytes>,
    /// None = wait forever (timeout 0).
    pub deadline: Option<Instant>,
}

/// How CLIENT UNBLOCK ended a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unblocked {
    /// As if the timeout passed: the command's timeout reply.
    Timeout,
    /// `-UNBLOCKED client unblocked via CLIENT UNBLOCK`.
    Error,
}

/// One blocked client, queued on each of its keys.
pub struct Waiter {
    pub client_id: u64,
    pub wake: Notify,
    /// Set while a wake-up is on its way (so one push wakes one waiter).
    woken: AtomicBool,
    /// 0 = still blocked, 1 = CLIENT UNBLOCK TIMEOUT, 2 = CLIENT UNBLOCK ERROR.
    unblocked: AtomicU8,
}

impl Waiter {
    pub fn unblocked(&self) -> Option<Unblocked> {
        match self.unblocked.load(Relaxed) {
            1 => Some(Unblocked::Timeout),
            2 => Some(Unblocked::Error),
            _ => None,
        }
    }

    /// Back to sleep after a wake-up that found no data.
    pub fn rearm(&self) {
        self.woken.store(false, Relaxed);
    }
}

/// Waiters by (database, key), oldest first.
/// Waiters by (database, key), oldest first.
type Queues = HashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>;

#[derive(Default)]
pub struct BlockingRegistry {
    queues: Mutex<Queues>,
    by_client: Mutex<HashMap<u64, Arc<Waiter>>>,
}

impl BlockingRegistry {
    /// Queue a new waiter for `client_id` on every key of `request`.
    pub fn block(&self, client_id: u64, request: &BlockRequest) -> Arc<Waiter> {
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
        waiter
    }

    /// Remove a waiter from every queue (served, timed out, unblocked, gone).
    pub fn unblock(&self, waiter: &Arc<Waiter>, request: &BlockRequest) {
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
    pub fn wake(&self, db: usize, key: &[u8], count: usize) {
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
    pub fn force_unblock(&self, client_id: u64, how: Unblocked) -> bool {
        let Some(w) = self.by_client.lock().get(&client_id).cloned() else {
            return false;
        };
        w.unblocked
            .store(if how == Unblocked::Timeout { 1 } else { 2 }, Relaxed);
        w.wake.notify_one();
        true
    }

    /// Clients currently blocked (INFO blocked_clients).
    pub fn blocked_clients(&self) -> usize {
        self.by_client.lock().len()
    }

    /// Keys with at least one waiter (INFO total_blocking_keys).
    pub fn blocking_keys(&self) -> usize {
        self.queues.lock().len()
    }

    fn has_waiters(&self, db: usize, key: &[u8]) -> bool {
        let queues = self.queues.lock();
        !queues.is_empty() && queues.contains_key(&(db, Bytes::copy_from_slice(key)))
    }
}

/// Called by every command that adds elements to list `key` in `db` (after it
/// released the shard lock).
///
/// Only the longest-waiting client is woken, whatever `_count` was: if several
/// were woken at once, whichever task ran first would win, and a 5-element
/// push would not reach the five waiters in the order they blocked. The served
/// client passes the wake-up on while data remains, so each element still
/// reaches a waiter, in order.
pub fn signal_ready(shared: &Shared, db: usize, key: &[u8], _count: usize) {
    if shared.blocking.has_waiters(db, key) {
        shared.blocking.wake(db, key, 1);
    }
}
