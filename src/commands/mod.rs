//! The command table and the dispatcher.
//!
//! Every command is a row (`Command`): name, arity in Redis convention (N exact,
//! -N at least N, the name counted), flags, key positions, and a plain synchronous
//! handler. Families live one per file and each exports a `COMMANDS` slice.
//! The checks every command shares — unknown command, arity, authentication,
//! RESP2 subscribed context — live once, in `dispatch`.

pub mod bits;
pub mod client;
pub mod dump;
pub mod functions;
pub mod hashes;
pub mod hyperloglog;
pub mod keys;
pub mod keyspecs;
pub mod lists;
pub mod long_double;
pub mod memcache;
pub mod monitor;
pub mod notify;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod session;
pub mod sets;
pub mod shared;
pub mod sort;
pub mod stream_groups;
pub mod streams;
pub mod strings;
pub mod transactions;
pub mod zsets;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use bytes::Bytes;

use crate::blocking::{BlockRequest, TimeoutReply, Waiter};
use crate::error::{self, CommandError, CommandResult};
use crate::keyspace_events::EventClass;
use crate::protocol::resp::Reply;
pub(crate) use session::{ReplyMode, Session};
pub use shared::Shared;

/// What a handler works with: the server, the calling connection, its output.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) session: &'a mut Session,
    pub(crate) reply: &'a mut Reply,
    /// False inside EXEC: a blocking command that finds no data answers as on
    /// timeout instead of waiting (Redis: blocking is refused in MULTI).
    may_block: bool,
    /// Set while a blocked client is served (`lists::serve_ready`): the key
    /// that became ready, the only one its command may take data from.
    serving: Option<Bytes>,
    /// Changes this command made, for INFO rdb_changes_since_last_save
    /// (`Ctx::dirty`); by default a write that published a keyspace event
    /// counts one.
    dirty: std::cell::Cell<Option<u64>>,
    notified: std::cell::Cell<bool>,
}

impl Ctx<'_> {
    /// The selected database.
    pub(crate) fn db(&self) -> usize {
        self.session.db()
    }

    /// Count a read hit or miss for INFO keyspace_hits / keyspace_misses.
    pub(crate) fn count_lookup(&self, hit: bool) {
        let s = &self.shared.stats;
        crate::stats::Stats::add(
            if hit {
                &s.keyspace_hits
            } else {
                &s.keyspace_misses
            },
            1,
        );
    }

    /// A blocking command found no data: wait on `keys` for up to `timeout`
    /// (None = forever), or, where blocking is not allowed (inside EXEC),
    /// answer `on_timeout` at once.
    pub(crate) fn block_on(
        &mut self,
        keys: &[Bytes],
        timeout: Option<std::time::Duration>,
        on_timeout: TimeoutReply,
    ) -> BlockingResult {
        if !self.may_block {
            on_timeout.write(self.reply);
            return Ok(Blocking::Done);
        }
        Ok(Blocking::Wait(BlockRequest {
            db: self.db(),
            keys: keys.to_vec(),
            deadline: timeout.map(|t| std::time::Instant::now() + t),
            on_timeout,
            args: None,
        }))
    }

    /// `block_on`, to be run again with `args` when served (XREAD with `$`
    /// resolved to the ID it means now).
    pub(crate) fn block_on_with_args(
        &mut self,
        keys: &[Bytes],
        timeout: Option<std::time::Duration>,
        on_timeout: TimeoutReply,
        args: Vec<Bytes>,
    ) -> BlockingResult {
        let mut result = self.block_on(keys, timeout, on_timeout)?;
        if let Blocking::Wait(request) = &mut result {
            request.args = Some(args);
        }
        Ok(result)
    }

    /// Whether the command runs inside a script (EVAL, FCALL).
    pub(crate) fn in_script(&self) -> bool {
        self.session.in_script
    }

    /// The ready key a blocked client is being served from, if it is.
    pub fn serving(&self) -> Option<&Bytes> {
        self.serving.as_ref()
    }

    /// Count `n` changes to the dataset for this command (Redis's
    /// `server.dirty += n`), replacing the default of one per command that
    /// changed something: DEL counts keys deleted, LPUSH elements pushed, ...
    pub(crate) fn dirty(&self, n: u64) {
        self.dirty.set(Some(self.dirty.get().unwrap_or(0) + n));
    }

    /// Publish a keyspace event for `key` in the selected database.
    pub(crate) fn notify(&self, class: EventClass, event: &str, key: &[u8]) {
        if class != EventClass::KEY_MISS && class != EventClass::NEW_KEY {
            self.notified.set(true);
        }
        notify::notify(self.shared, self.db(), class, event, key);
    }
}

/// How a blocking command ended its run: answered, or waiting for data.
pub(crate) enum Blocking {
    Done,
    Wait(BlockRequest),
}

/// What a blocking handler returns.
pub(crate) type BlockingResult = Result<Blocking, CommandError>;

/// A command's code. Blocking commands (BLPOP, ...) may instead of answering
/// ask to wait (`Blocking::Wait`); every other handler answers or fails.
#[derive(Clone, Copy)]
pub(crate) enum Handler {
    Plain(fn(&mut Ctx<'_>, &[Bytes]) -> CommandResult),
    Blocking(fn(&mut Ctx<'_>, &[Bytes]) -> BlockingResult),
}

/// Command flags, named as in Redis's COMMAND INFO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flags(pub u32);

impl Flags {
    pub(crate) const WRITE: Flags = Flags(1);
    pub(crate) const READONLY: Flags = Flags(1 << 1);
    pub(crate) const DENYOOM: Flags = Flags(1 << 2);
    pub(crate) const ADMIN: Flags = Flags(1 << 3);
    pub(crate) const PUBSUB: Flags = Flags(1 << 4);
    pub(crate) const NOSCRIPT: Flags = Flags(1 << 5);
    pub(crate) const BLOCKING: Flags = Flags(1 << 6);
    pub(crate) const LOADING: Flags = Flags(1 << 7);
    pub(crate) const STALE: Flags = Flags(1 << 8);
    pub(crate) const FAST: Flags = Flags(1 << 9);
    /// Runs before AUTH (AUTH, HELLO, QUIT, RESET).
    pub(crate) const NO_AUTH: Flags = Flags(1 << 10);
    /// Allowed in RESP2 subscribed context (PING, (P|S)(UN)SUBSCRIBE, QUIT, RESET).
    pub(crate) const SUBSCRIBED_OK: Flags = Flags(1 << 11);
    /// Redis's `no-multi`: refused while queueing a transaction ("Command not
    /// allowed inside a transaction", and EXEC then answers EXECABORT).
    pub(crate) const NO_MULTI: Flags = Flags(1 << 12);
    pub(crate) const ALLOW_BUSY: Flags = Flags(1 << 13);
    /// Runs with every other command held off (multi-key commands that must be
    /// atomic across shards: RENAME, COPY, MOVE, SWAPDB, FLUSH*, EXEC; MGET,
    /// MSET and MSETNX lock just their keys' shards instead: `Store::lock_keys`).
    pub(crate) const EXCLUSIVE: Flags = Flags(1 << 14);
    /// Runs at once inside MULTI instead of being queued: exactly what Redis's
    /// processCommand special-cases (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET).
    /// Not a Redis flag: COMMAND INFO does not show it.
    pub(crate) const RUNS_IN_MULTI: Flags = Flags(1 << 15);
    pub(crate) const NO_ASYNC_LOADING: Flags = Flags(1 << 16);

    const NAMES: &'static [(Flags, &'static str)] = &[
        (Flags::WRITE, "write"),
        (Flags::READONLY, "readonly"),
        (Flags::DENYOOM, "denyoom"),
        (Flags::ADMIN, "admin"),
        (Flags::PUBSUB, "pubsub"),
        (Flags::NOSCRIPT, "noscript"),
        (Flags::BLOCKING, "blocking"),
        (Flags::LOADING, "loading"),
        (Flags::STALE, "stale"),
        (Flags::FAST, "fast"),
        (Flags::NO_AUTH, "no_auth"),
        (Flags::NO_ASYNC_LOADING, "no_async_loading"),
        (Flags::NO_MULTI, "no_multi"),
        (Flags::ALLOW_BUSY, "allow_busy"),
    ];

    pub(crate) fn has(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .iter()
            .filter(move |(f, _)| self.has(*f))
            .map(|(_, n)| *n)
    }
}

/// Builds a flag set from a list: `flags![WRITE, DENYOOM, FAST]`.
#[macro_export]
macro_rules! flags {
    ($($f:ident),* $(,)?) => { $crate::commands::Flags(0 $(| $crate::commands::Flags::$f.0)*) };
}

/// One row of the command table.
pub(crate) struct Command {
    /// Lower-case name (`get`, or `setname` for a subcommand).
    pub(crate) name: &'static str,
    pub(crate) arity: i32,
    pub(crate) flags: Flags,
    /// First key, last key (-1 = last argument), step; 0,0,0 when no keys.
    pub(crate) keys: (i32, i32, i32),
    /// Redis command group (string, generic, connection, server, pubsub, list).
    pub(crate) group: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) since: &'static str,
    pub(crate) handler: Handler,
    /// For container commands (CLIENT, CONFIG, ...): their subcommands.
    pub(crate) subcommands: &'static [Command],
    /// Key specs when the row gives its own (`key_specs`); otherwise Redis's
    /// by name, or the `keys` triple (`keyspecs::specs_of`).
    pub(crate) key_specs: Option<&'static [keyspecs::KeySpec]>,
}

impl Command {
    /// One row of a family's table (name, arity, flags, summary, handler):
    /// no keys, since 1.0.0 and no subcommands until `keys`, `since` or
    /// `subcommands` say otherwise.
    pub(crate) const fn row(
        group: &'static str,
        name: &'static str,
        arity: i32,
        flags: Flags,
        summary: &'static str,
        handler: fn(&mut Ctx<'_>, &[Bytes]) -> CommandResult,
    ) -> Command {
        Command {
            name,
            arity,
            flags,
            keys: (0, 0, 0),
            group,
            summary,
            since: "1.0.0",
            handler: Handler::Plain(handler),
            subcommands: &[],
            key_specs: None,
        }
    }

    /// A row for a command that may block (flagged BLOCKING in COMMAND INFO).
    pub(crate) const fn blocking_row(
        group: &'static str,
        name: &'static str,
        arity: i32,
        flags: Flags,
        summary: &'static str,
        handler: fn(&mut Ctx<'_>, &[Bytes]) -> BlockingResult,
    ) -> Command {
        let mut row = Command::row(group, name, arity, flags, summary, |_, _| Ok(()));
        row.handler = Handler::Blocking(handler);
        row
    }

    /// Key positions: first, last (-1 = the last argument), step.
    pub(crate) const fn keys(mut self, first: i32, last: i32, step: i32) -> Command {
        self.keys = (first, last, step);
        self
    }

    /// Key specs for keys the `keys` triple cannot describe (numkeys,
    /// keywords; COMMAND INFO then shows `movablekeys`). Rows of commands
    /// Redis has need not give them: `keyspecs::COMMAND_META` has Redis's.
    #[allow(dead_code)]
    pub(crate) const fn key_specs(mut self, specs: &'static [keyspecs::KeySpec]) -> Command {
        self.key_specs = Some(specs);
        self
    }

    /// The Redis version that introduced the command.
    pub(crate) const fn since(mut self, version: &'static str) -> Command {
        self.since = version;
        self
    }

    /// A container's subcommands (CLIENT, CONFIG, OBJECT, ...).
    pub(crate) const fn subcommands(mut self, subcommands: &'static [Command]) -> Command {
        self.subcommands = subcommands;
        self
    }

    /// Check the arity rule: N means exactly N arguments including the name, -N at least N.
    pub(crate) fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }
}

/// Per-command counters for INFO commandstats.
#[derive(Default)]
pub(crate) struct CommandStats {
    pub(crate) calls: AtomicU64,
    pub(crate) usec: AtomicU64,
    pub(crate) rejected_calls: AtomicU64,
    pub(crate) failed_calls: AtomicU64,
}

/// Index of a command, or of a subcommand inside its container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CommandId(pub usize);

/// Every command, indexed by lower-case name, with its counters.
/// Subcommands get their own ids (and counters) under the name `container|sub`.
pub(crate) struct CommandTable {
    entries: Vec<TableEntry>,
    by_name: HashMap<&'static [u8], usize, foldhash::fast::FixedState>,
}

pub(crate) struct TableEntry {
    pub(crate) command: &'static Command,
    /// `get`, or `client|setname`.
    pub(crate) full_name: String,
    pub(crate) stats: CommandStats,
    /// For containers: (lower-case subcommand name, entry index).
    pub(crate) subs: Vec<(&'static str, usize)>,
}

/// Longest command name we look up; longer names are unknown.
const MAX_COMMAND_NAME_BYTES: usize = 32;

impl CommandTable {
    pub(crate) fn new(families: &[&'static [Command]]) -> Self {
        let mut table = CommandTable {
            entries: Vec::new(),
            by_name: HashMap::default(),
        };
        for family in families {
            for command in family.iter() {
                let index = table.entries.len();
                table.entries.push(TableEntry {
                    command,
                    full_name: command.name.to_string(),
                    stats: CommandStats::default(),
                    subs: Vec::new(),
                });
                let previous = table.by_name.insert(command.name.as_bytes(), index);
                debug_assert!(previous.is_none(), "duplicate command {}", command.name);
                for sub in command.subcommands {
                    let sub_index = table.entries.len();
                    table.entries.push(TableEntry {
                        command: sub,
                        full_name: format!("{}|{}", command.name, sub.name),
                        stats: CommandStats::default(),
                        subs: Vec::new(),
                    });
                    table.entries[index].subs.push((sub.name, sub_index));
                }
            }
        }
        table
    }

    /// The standard table of every family.
    pub(crate) fn standard() -> Self {
        CommandTable::new(&[
            client::COMMANDS,
            server::COMMANDS,
            keys::COMMANDS,
            pubsub::COMMANDS,
            strings::COMMANDS,
            transactions::COMMANDS,
            lists::COMMANDS,
            bits::COMMANDS,
            zsets::COMMANDS,
            monitor::COMMANDS,
            dump::COMMANDS,
            sets::COMMANDS,
            hashes::COMMANDS,
            hyperloglog::COMMANDS,
            sort::COMMANDS,
            scripting::COMMANDS,
            streams::COMMANDS,
            stream_groups::COMMANDS,
            functions::COMMANDS,
        ])
    }

    /// Case-insensitive lookup of a top-level command.
    pub(crate) fn lookup(&self, name: &[u8]) -> Option<CommandId> {
        if name.len() > MAX_COMMAND_NAME_BYTES {
            return None;
        }
        let mut lower = [0u8; MAX_COMMAND_NAME_BYTES];
        let lower = &mut lower[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.by_name.get(&*lower).map(|&i| CommandId(i))
    }

    fn lookup_sub(&self, container: CommandId, name: &[u8]) -> Option<CommandId> {
        self.entries[container.0]
            .subs
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|&(_, i)| CommandId(i))
    }

    pub(crate) fn entry(&self, id: CommandId) -> &TableEntry {
        &self.entries[id.0]
    }

    /// Top-level commands, in table order.
    pub(crate) fn top_level(&self) -> impl Iterator<Item = &TableEntry> {
        self.by_name_sorted().into_iter().map(|i| &self.entries[i])
    }

    fn by_name_sorted(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.by_name.values().copied().collect();
        v.sort();
        v
    }

    pub(crate) fn all_entries(&self) -> impl Iterator<Item = &TableEntry> {
        self.entries.iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Count one finished call of `id` for INFO commandstats.
    pub(crate) fn count_call(&self, id: CommandId, usec: u64, failed: bool) {
        let stats = &self.entries[id.0].stats;
        stats.calls.fetch_add(1, Relaxed);
        stats.usec.fetch_add(usec, Relaxed);
        if failed {
            stats.failed_calls.fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn reset_stats(&self) {
        for e in &self.entries {
            e.stats.calls.store(0, Relaxed);
            e.stats.usec.store(0, Relaxed);
            e.stats.rejected_calls.store(0, Relaxed);
            e.stats.failed_calls.store(0, Relaxed);
        }
    }
}

/// How a request resolved against the table.
enum Resolved {
    Run(CommandId),
    /// Answered already (a container's HELP).
    Answered,
    /// Refused before running; the id when the command was known.
    Refused(Option<CommandId>, CommandError),
}

/// Find the command (or subcommand) for `args` and check its arity.
fn resolve(table: &CommandTable, args: &[Bytes], reply: &mut Reply) -> Resolved {
    let Some(id) = table.lookup(&args[0]) else {
        return Resolved::Refused(None, error::unknown_command(&args[0], &args[1..]).into());
    };
    let entry = table.entry(id);
    if !entry.command.arity_ok(args.len()) {
        return Resolved::Refused(Some(id), error::wrong_arity(&entry.full_name).into());
    }
    // A container reached with no subcommand (COMMAND) runs its own handler.
    if entry.subs.is_empty() || args.len() < 2 {
        return Resolved::Run(id);
    }
    match table.lookup_sub(id, &args[1]) {
        Some(sub) => {
            let sub_entry = table.entry(sub);
            if sub_entry.command.arity_ok(args.len()) {
                Resolved::Run(sub)
            } else {
                Resolved::Refused(Some(sub), error::wrong_arity(&sub_entry.full_name).into())
            }
        }
        None if args[1].eq_ignore_ascii_case(b"help") => {
            let name = entry.command.name.to_ascii_uppercase();
            reply.array(entry.subs.len() + 1);
            reply.simple(&format!(
                "{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
            ));
            for (sub, _) in &entry.subs {
                reply.simple(&sub.to_ascii_uppercase());
            }
            Resolved::Answered
        }
        None => Resolved::Refused(
            Some(id),
            error::unknown_subcommand(&args[1], entry.command.name).into(),
        ),
    }
}

/// Execute one request and append its reply (if any) to `reply`. Returns the
/// wait of a blocking command that found no data: the connection then waits
/// (`server::blocked`) and the command has not answered yet.
///
/// Order of checks, as Redis's `processCommand`: unknown command, arity,
/// authentication, RESP2 subscribed context, then MULTI queueing; outside a
/// transaction, memory (evict, or -OOM for commands that need memory), then the
/// handler runs under the exclusive gate (see `Shared::exec_gate`).
pub(crate) fn dispatch(
    shared: &Shared,
    session: &mut Session,
    reply: &mut Reply,
    args: &[Bytes],
) -> Option<(CommandId, std::sync::Arc<Waiter>)> {
    let start_len = reply.len();
    let mut wait = None;
    match resolve(&shared.commands, args, reply) {
        Resolved::Answered => {}
        Resolved::Refused(id, err) => refuse(shared, session, reply, id, err),
        Resolved::Run(id) => {
            let flags = shared.commands.entry(id).command.flags;
            if !session.authenticated && !flags.has(Flags::NO_AUTH) {
                refuse(shared, session, reply, Some(id), error::NOAUTH.into());
            } else if session.in_resp2_subscribed_context(reply) && !flags.has(Flags::SUBSCRIBED_OK)
            {
                let name = String::from_utf8_lossy(&args[0]).to_lowercase();
                let err = error::not_allowed_subscribed(&name).into();
                refuse(shared, session, reply, Some(id), err);
            } else if session.monitor && (flags.has(Flags::WRITE) || flags.has(Flags::READONLY)) {
                refuse(
                    shared,
                    session,
                    reply,
                    Some(id),
                    error::REPLICA_KEYSPACE.into(),
                );
            } else if let Some(busy) = scripting::busy_refusal(shared, flags) {
                // As Redis's rejectCommand: EXEC refused aborts the transaction.
                if session.multi.is_some() && shared.commands.entry(id).full_name == "exec" {
                    session.multi = None;
                    session.watched.clear();
                    let err = format!("EXECABORT Transaction discarded because of: {busy}");
                    refuse(shared, session, reply, Some(id), err.into());
                } else {
                    refuse(shared, session, reply, Some(id), busy.into());
                }
            } else if session.multi.is_some() && flags.has(Flags::NO_MULTI) {
                let err = error::NOT_ALLOWED_IN_MULTI.into();
                refuse(shared, session, reply, Some(id), err);
            } else if session.multi.is_some() && !flags.has(Flags::RUNS_IN_MULTI) {
                if flags.has(Flags::DENYOOM) && !shared.store.make_room() {
                    refuse(shared, session, reply, Some(id), error::OOM.into());
                } else if let Some(multi) = session.multi.as_mut() {
                    multi.queued.push((id, args.to_vec()));
                    reply.simple("QUEUED");
                }
            } else {
                let _gate = if flags.has(Flags::ALLOW_BUSY) && scripting::script_running(shared) {
                    // The running script holds the gate (SCRIPT KILL, ...).
                    Gate::None
                } else {
                    match scripting::take_gate(shared, flags) {
                        Ok(gate) => gate,
                        Err(busy) => {
                            refuse(shared, session, reply, Some(id), busy.into());
                            finish_reply(session, reply, start_len);
                            return None;
                        }
                    }
                };
                let request = execute(shared, session, reply, id, args, true);
                // Blocking (see crate::blocking): the wait is registered while
                // the gate is held; the connection serves ready keys after
                // this command (`lists::serve_ready`).
                wait = request.map(|r| {
                    let waiter = lists::register_waiter(shared, session, reply, id, args, r);
                    (id, waiter)
                });
            }
        }
    }
    finish_reply(session, reply, start_len);
    wait
}

/// Held while a command runs: shared by ordinary commands, exclusive for
/// EXEC and the multi-key commands that must be atomic.
pub(crate) enum Gate<'a> {
    Shared(#[allow(dead_code)] parking_lot::RwLockReadGuard<'a, ()>),
    Exclusive(#[allow(dead_code)] parking_lot::RwLockWriteGuard<'a, ()>),
    /// An allow-busy command while a script runs (and holds the gate).
    None,
}

/// Refuse a request before it runs; inside MULTI this also dooms the transaction.
fn refuse(
    shared: &Shared,
    session: &mut Session,
    reply: &mut Reply,
    id: Option<CommandId>,
    err: CommandError,
) {
    if let Some(id) = id {
        shared
            .commands
            .entry(id)
            .stats
            .rejected_calls
            .fetch_add(1, Relaxed);
    }
    if let Some(multi) = session.multi.as_mut() {
        multi.dirty = true;
    }
    answer_error(shared, session, reply, &err);
}

/// Write an error reply and count it for INFO total_error_replies and
/// errorstats (unless the session says it was counted already).
pub(crate) fn answer_error(
    shared: &Shared,
    session: &mut Session,
    reply: &mut Reply,
    err: &CommandError,
) {
    if std::mem::take(&mut session.error_counted) {
        reply.error(err.text());
        return;
    }
    session.errors_replied += 1;
    shared.stats.count_error(err.text());
    reply.error(err.text());
}

/// Run a resolved command: make room under `maxmemory` (refusing commands that
/// need memory when none can be made), then the handler, counted in commandstats.
/// The caller holds the gate (EXEC runs its queue through here, with
/// `may_block` false).
///
/// A blocking command that asks to wait has not run yet as far as commandstats
/// go: it is counted once, by the run that answers it (served, timed out or
/// unblocked), as Redis counts it.
pub(crate) fn execute(
    shared: &Shared,
    session: &mut Session,
    reply: &mut Reply,
    id: CommandId,
    args: &[Bytes],
    may_block: bool,
) -> Option<BlockRequest> {
    execute_in(shared, session, reply, id, args, may_block, None)
}

/// `execute` for a blocked client being served from the ready key `key`
/// (`lists::serve_ready`).
pub(crate) fn execute_serving(
    shared: &Shared,
    session: &mut Session,
    reply: &mut Reply,
    id: CommandId,
    args: &[Bytes],
    key: &Bytes,
) -> Option<BlockRequest> {
    execute_in(shared, session, reply, id, args, true, Some(key.clone()))
}

fn execute_in(
    shared: &Shared,
    session: &mut Session,
    reply: &mut Reply,
    id: CommandId,
    args: &[Bytes],
    may_block: bool,
    serving: Option<Bytes>,
) -> Option<BlockRequest> {
    let entry = shared.commands.entry(id);
    let flags = entry.command.flags;
    if flags.has(Flags::WRITE) && !shared.store.make_room() && flags.has(Flags::DENYOOM) {
        entry.stats.rejected_calls.fetch_add(1, Relaxed);
        answer_error(shared, session, reply, &error::OOM.into());
        return None;
    }
    session.client.last_command.store(id.0, Relaxed);
    // Script commands show in MONITOR before they run, so the commands the
    // script calls appear after them (Redis's evalCommand feeds itself first).
    let feeds_first = monitor::feeds_before_running(&entry.full_name);
    if feeds_first && serving.is_none() {
        monitor::feed(shared, session, flags, args);
    }
    let started = crate::clock::command_start();
    let mut ctx = Ctx {
        shared,
        session,
        reply,
        may_block,
        serving,
        dirty: Default::default(),
        notified: Default::default(),
    };
    let result = match entry.command.handler {
        Handler::Plain(handler) => handler(&mut ctx, args),
        Handler::Blocking(handler) => match handler(&mut ctx, args) {
            Ok(Blocking::Done) => Ok(()),
            Ok(Blocking::Wait(request)) => {
                monitor::feed(shared, session, flags, args);
                return Some(request);
            }
            Err(e) => Err(e),
        },
    };
    // Streams this command removed: clients blocked in XREADGROUP on them
    // are answered after it (see crate::blocking).
    for (db, key) in shared.store.take_removed_streams() {
        shared.blocking.signal_ready(db, &key);
    }
    let dirty = ctx.dirty.get().unwrap_or(u64::from(ctx.notified.get()));
    if dirty > 0 {
        shared.stats.dirty.fetch_add(dirty, Relaxed);
    }
    // MONITOR shows a command once, when it first runs (not when a blocked
    // client is served).
    if ctx.serving.is_none() && !feeds_first {
        monitor::feed(shared, session, flags, args);
    }
    let usec = crate::clock::command_end()
        .saturating_duration_since(started)
        .as_micros() as u64;
    shared.commands.count_call(id, usec, result.is_err());
    if let Err(e) = result {
        answer_error(shared, session, reply, &e);
    }
    None
}

/// Apply CLIENT REPLY OFF|SKIP to what the command just appended.
pub(crate) fn finish_reply(session: &mut Session, reply: &mut Reply, start_len: usize) {
    match session.reply_mode {
        ReplyMode::On => reply.forget_pushed(),
        ReplyMode::Off => reply.truncate(start_len),
        ReplyMode::SkipNext => {
            reply.forget_pushed();
            session.reply_mode = ReplyMode::SkipThis;
        }
        ReplyMode::SkipThis => {
            reply.truncate(start_len);
            session.reply_mode = ReplyMode::On;
        }
    }
}

/// Argument helpers shared by every family.
pub mod args {

    /// Parse an integer argument as Redis's `string2ll`: optional '-', no '+', no spaces,
    /// no leading zeros, fits i64.
    pub(crate) fn parse_i64(arg: &[u8]) -> Option<i64> {
        if arg.is_empty() || arg.len() > 20 {
            return None;
        }
        let (neg, digits) = match arg[0] {
            b'-' => (true, &arg[1..]),
            _ => (false, arg),
        };
        if digits.is_empty() || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
            return None;
        }
        let mut v: i64 = 0;
        for &d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            let digit = (d - b'0') as i64;
            v = if neg {
                v.checked_mul(10)?.checked_sub(digit)?
            } else {
                v.checked_mul(10)?.checked_add(digit)?
            };
        }
        Some(v)
    }

    pub(crate) fn text(arg: &[u8]) -> String {
        String::from_utf8_lossy(arg).into_owned()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn string2ll_rules() {
            for (s, v) in [
                ("0", Some(0)),
                ("-1", Some(-1)),
                ("9223372036854775807", Some(i64::MAX)),
                ("-9223372036854775808", Some(i64::MIN)),
                ("9223372036854775808", None),
                ("+1", None),
                ("01", None),
                ("-0", None),
                (" 1", None),
                ("1a", None),
                ("", None),
                ("-", None),
            ] {
                assert_eq!(parse_i64(s.as_bytes()), v, "{s}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_subcommands_have_full_names() {
        let t = CommandTable::standard();
        let get = t.lookup(b"GeT").unwrap();
        assert_eq!(t.entry(get).full_name, "get");
        let client = t.lookup(b"client").unwrap();
        let setname = t.lookup_sub(client, b"SETNAME").unwrap();
        assert_eq!(t.entry(setname).full_name, "client|setname");
        assert!(t.lookup(b"nosuchcommand").is_none());
        assert!(t.lookup(&[b'a'; 100]).is_none());
    }

    #[test]
    fn arity_convention() {
        let t = CommandTable::standard();
        let get = t.entry(t.lookup(b"get").unwrap()).command;
        assert!(get.arity_ok(2) && !get.arity_ok(1) && !get.arity_ok(3));
        let ping = t.entry(t.lookup(b"ping").unwrap()).command;
        assert!(ping.arity_ok(1) && ping.arity_ok(2) && ping.arity_ok(3));
        let echo = t.entry(t.lookup(b"echo").unwrap()).command;
        assert!(echo.arity_ok(2) && !echo.arity_ok(1) && !echo.arity_ok(3));
    }

    #[test]
    fn unique_names_everywhere() {
        let t = CommandTable::standard();
        let mut seen = std::collections::HashSet::new();
        for e in t.all_entries() {
            assert!(
                seen.insert(e.full_name.clone()),
                "duplicate {}",
                e.full_name
            );
        }
    }
}
