//! Per-connection state of a RESP client, owned by its connection task.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use crate::clients::ClientHandle;
use crate::protocol::resp::{Protocol, Reply};

/// CLIENT REPLY: ON, OFF, or SKIP (the next command's reply is dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplyMode {
    On,
    Off,
    /// Set by CLIENT REPLY SKIP: the command after it is not answered.
    SkipNext,
    SkipThis,
}

/// What this connection is subscribed to, in subscription order.
#[derive(Default)]
pub(crate) struct Subscriptions {
    pub(crate) channels: indexmap::IndexSet<bytes::Bytes, foldhash::fast::FixedState>,
    pub(crate) patterns: indexmap::IndexSet<bytes::Bytes, foldhash::fast::FixedState>,
    pub(crate) shard_channels: indexmap::IndexSet<bytes::Bytes, foldhash::fast::FixedState>,
}

impl Subscriptions {
    /// The count SUBSCRIBE/PSUBSCRIBE confirmations carry: channels + patterns.
    pub(crate) fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }
}

/// Commands queued by MULTI.
#[derive(Default)]
pub(crate) struct MultiState {
    pub(crate) queued: Vec<(super::CommandId, Vec<bytes::Bytes>)>,
    /// A command was refused while queueing: EXEC will answer EXECABORT.
    pub(crate) dirty: bool,
}

/// A key under WATCH, with the CAS it had (None = absent) when watched.
pub(crate) struct Watched {
    pub(crate) db: usize,
    pub(crate) key: bytes::Bytes,
    pub(crate) cas: Option<u64>,
}

/// Per-connection state of a RESP client.
///
/// The selected database and the protocol version live in the client's shared
/// handle (other tasks read them: CLIENT LIST, PUBLISH); `select` and
/// `set_protocol` are their only writers.
pub(crate) struct Session {
    pub(crate) client: Arc<ClientHandle>,
    /// False until AUTH/HELLO AUTH succeeds when `requirepass` is set.
    pub(crate) authenticated: bool,
    pub(crate) reply_mode: ReplyMode,
    /// Set by QUIT and SHUTDOWN: write what is queued, then close.
    pub(crate) close_after_reply: bool,
    /// Error replies sent, for INFO total_error_replies (flushed per batch).
    pub(crate) errors_replied: u64,
    /// The next error reply was counted already (a script's error that a
    /// redis.call counted): INFO does not count it again.
    pub(crate) error_counted: bool,
    pub(crate) subscriptions: Subscriptions,
    /// Some between MULTI and EXEC/DISCARD.
    pub(crate) multi: Option<MultiState>,
    pub(crate) watched: Vec<Watched>,
    /// In MONITOR mode (`commands::monitor`).
    pub(crate) monitor: bool,
    /// This session runs the commands of a script (`redis.call`); MONITOR
    /// shows them with `lua` as the peer.
    pub(crate) in_script: bool,
    /// When the requests being run were read off the socket (set by the
    /// connection; a blocked client's pipelined requests count from when it
    /// was answered). Orders blocked clients by arrival.
    pub(crate) read_at: std::time::Instant,
}

impl Session {
    pub(crate) fn new(client: Arc<ClientHandle>, authenticated: bool) -> Self {
        Session::read_at(client, authenticated, std::time::Instant::now())
    }

    /// A session whose requests were read at `read_at` (a script's client:
    /// its caller's time, without another clock call per script).
    pub(crate) fn read_at(
        client: Arc<ClientHandle>,
        authenticated: bool,
        read_at: std::time::Instant,
    ) -> Self {
        Session {
            client,
            authenticated,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            errors_replied: 0,
            error_counted: false,
            subscriptions: Subscriptions::default(),
            multi: None,
            watched: Vec::new(),
            monitor: false,
            in_script: false,
            read_at,
        }
    }

    /// The selected logical database.
    pub(crate) fn db(&self) -> usize {
        self.client.db.load(Relaxed)
    }

    /// SELECT (and RESET): the database later commands use.
    pub(crate) fn select(&mut self, db: usize) {
        self.client.db.store(db, Relaxed);
    }

    /// HELLO (and RESET): encode replies in `protocol`, and let publishers know.
    pub(crate) fn set_protocol(&mut self, reply: &mut Reply, protocol: Protocol) {
        self.client.resp.store(protocol.number() as u8, Relaxed);
        reply.set_protocol(protocol);
    }

    /// RESET: back to a fresh connection's state (the caller handles protocol and auth).
    pub(crate) fn reset_state(&mut self, shared: &super::Shared) {
        super::pubsub::leave_all(shared, self);
        super::monitor::leave(shared, self);
        self.multi = None;
        self.watched.clear();
        self.select(0);
        self.reply_mode = ReplyMode::On;
        self.client.names.lock().name = None;
    }

    /// RESP2 clients with any subscription may only run (P|S)(UN)SUBSCRIBE, PING, QUIT, RESET.
    pub(crate) fn in_resp2_subscribed_context(&self, reply: &Reply) -> bool {
        !reply.is_resp3() && self.client.is_subscriber()
    }
}
