//! State shared by every connection: configuration, command table, keyspace,
//! clients, counters, and the shutdown signal.

use std::net::SocketAddr;
use std::time::Instant;

use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;

use super::notify::{NotifyConfig, StoreEvents};
use super::CommandTable;
use crate::blocking::BlockingRegistry;
use crate::clients::ClientRegistry;
use crate::config::Config;
use crate::pubsub::PubSub;
use crate::stats::Stats;
use crate::store::Store;

pub struct Shared {
    /// Runtime configuration; CONFIG SET writes it. Read briefly, never across `.await`.
    pub config: RwLock<Config>,
    /// Where the config came from, for the start-up log and INFO.
    pub(crate) config_source: String,
    pub(crate) commands: CommandTable,
    pub store: Store,
    pub(crate) clients: ClientRegistry,
    pub(crate) pubsub: PubSub,
    pub(crate) notify: NotifyConfig,
    pub(crate) blocking: BlockingRegistry,
    pub(crate) monitors: super::monitor::Monitors,
    pub(crate) memcache: super::memcache::MemcacheState,
    pub(crate) stats: Stats,
    /// Every command runs holding this shared; EXEC and the multi-key commands
    /// flagged EXCLUSIVE hold it exclusively, so they are atomic with respect to
    /// every other client. Held only inside `dispatch`, never across `.await`.
    pub(crate) exec_gate: RwLock<()>,
    /// The Lua interpreter and script cache (EVAL runs holding the exec gate
    /// exclusively; SCRIPT LOAD/EXISTS lock only this).
    pub(crate) scripting: parking_lot::Mutex<crate::scripting::Engine>,
    /// The running script as other connections see it (-BUSY, SCRIPT KILL).
    pub(crate) script_busy: std::sync::Arc<crate::scripting::Busy>,
    /// CONFIG busy-reply-threshold (alias lua-time-limit), in ms: read by
    /// every EVAL/FCALL, so kept here rather than looked up by name.
    pub(crate) busy_reply_threshold_ms: std::sync::atomic::AtomicU64,
    /// Library and function counts (FUNCTION STATS reads them while a
    /// function holds the engine).
    pub(crate) scripting_counts: std::sync::Arc<crate::scripting::functions::Counts>,
    /// Cancelled to start graceful shutdown (signal or SHUTDOWN).
    pub shutdown: CancellationToken,
    pub(crate) started: Instant,
    /// 40 hex characters identifying this run (INFO run_id).
    pub(crate) run_id: String,
    /// Bound RESP addresses (known after binding, port 0 resolved).
    pub(crate) resp_addrs: RwLock<Vec<SocketAddr>>,
}

impl Shared {
    pub fn new(config: Config, config_source: String) -> std::sync::Arc<Self> {
        std::sync::Arc::new_cyclic(|weak| {
            let shared = Shared::build(config, config_source);
            let events = StoreEvents(weak.clone());
            shared.store.set_listener(std::sync::Arc::new(events));
            shared
        })
    }

    fn build(config: Config, config_source: String) -> Self {
        let store = Store::new(config.databases);
        let run_id: String = (0..40)
            .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
            .collect();
        let shutdown = CancellationToken::new();
        // A running script stops at its next hook once shutdown starts.
        let script_busy = std::sync::Arc::new(crate::scripting::Busy::new(shutdown.clone()));
        let engine = crate::scripting::Engine::with_busy(script_busy.clone());
        let scripting_counts = engine.functions.counts.clone();
        let shared = Shared {
            config: RwLock::new(config),
            config_source,
            commands: CommandTable::standard(),
            store,
            clients: ClientRegistry::default(),
            pubsub: PubSub::default(),
            notify: NotifyConfig::default(),
            blocking: Default::default(),
            monitors: Default::default(),
            memcache: Default::default(),
            stats: Stats::default(),
            exec_gate: RwLock::new(()),
            scripting: parking_lot::Mutex::new(engine),
            script_busy,
            busy_reply_threshold_ms: std::sync::atomic::AtomicU64::new(5000),
            scripting_counts,
            shutdown,
            started: Instant::now(),
            run_id,
            resp_addrs: RwLock::new(Vec::new()),
        };
        shared.config_changed();
        shared
    }

    /// Push settings read on hot paths into the atomics those paths use.
    /// Called at start and after every CONFIG SET.
    pub(crate) fn config_changed(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        let config = self.config.read();
        let memory = &self.store.limits;
        memory.maxmemory.store(config.maxmemory, Relaxed);
        memory.set_policy(config.maxmemory_policy);
        memory.samples.store(config.maxmemory_samples, Relaxed);
        self.notify
            .bits
            .store(config.notify_keyspace_events, Relaxed);
        let limit = config.pubsub_output_limit;
        self.pubsub
            .limits
            .hard_bytes
            .store(limit.hard_bytes, Relaxed);
        self.pubsub
            .limits
            .soft_bytes
            .store(limit.soft_bytes, Relaxed);
        self.pubsub
            .limits
            .soft_seconds
            .store(limit.soft_seconds, Relaxed);
        self.busy_reply_threshold_ms
            .store(config.busy_reply_threshold_ms(), Relaxed);
        let lua_limit = config.lua_memory_limit();
        // The config guard is dropped before the engine is locked (a script
        // holds the engine and reads the config).
        drop(config);
        self.scripting
            .lock()
            .set_memory_limit(usize::try_from(lua_limit).unwrap_or(usize::MAX));
    }

    /// Milliseconds since start: the coarse clock for idle times.
    pub(crate) fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub(crate) fn password_required(&self) -> bool {
        self.config.read().requirepass.is_some()
    }
}
