//! Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT LOAD|EXISTS|FLUSH|KILL.
//!
//! The interpreter and the script cache live in `crate::scripting::Engine`
//! (behind `Shared::scripting`); this file parses the commands and gives the
//! engine a `Runner` that executes each `redis.call` through `execute`, the
//! same path a client's command takes (flags, OOM, commandstats, keyspace
//! events, WATCH invalidation through the keys' CAS). EVAL runs EXCLUSIVE:
//! it holds the exec gate exclusively, so no other command of any protocol
//! runs between a script's calls, as Redis's single thread guarantees.

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use super::args::parse_i64;
use super::client::container_without_subcommand;
use super::{execute, Command, CommandId, Ctx, Flags, Session};
use crate::error::{self, CommandResult};
use crate::flags;
use crate::protocol::resp::{Protocol, Reply};
use crate::scripting::{self, Outcome, RespValue, Runner, ScriptReply};

const GROUP: &str = "scripting";

const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";
const KEYS_OVER_ARGS: &str = "ERR Number of keys can't be greater than number of args";
const KEYS_NEGATIVE: &str = "ERR Number of keys can't be negative";
const WRITE_FLAG_RO: &str = "ERR Can not execute a script with write flag using *_ro command.";
const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
const BUSY: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
const FLUSH_SYNTAX: &str = "ERR SCRIPT FLUSH only support SYNC|ASYNC option";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "eval",
        -3,
        flags![NOSCRIPT, STALE, EXCLUSIVE],
        "Executes a server-side Lua script.",
        eval,
    )
    .since("2.6.0"),
    Command::row(
        GROUP,
        "evalsha",
        -3,
        flags![NOSCRIPT, STALE, EXCLUSIVE],
        "Executes a server-side Lua script by SHA1 digest.",
        evalsha,
    )
    .since("2.6.0"),
    Command::row(
        GROUP,
        "eval_ro",
        -3,
        flags![NOSCRIPT, STALE, READONLY, EXCLUSIVE],
        "Executes a read-only server-side Lua script.",
        eval_ro,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "evalsha_ro",
        -3,
        flags![NOSCRIPT, STALE, READONLY, EXCLUSIVE],
        "Executes a read-only server-side Lua script by SHA1 digest.",
        evalsha_ro,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "script",
        -2,
        flags![],
        "A container for Lua scripts management commands.",
        container_without_subcommand,
    )
    .since("2.6.0")
    .subcommands(SCRIPT_SUBCOMMANDS),
];

static SCRIPT_SUBCOMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "load",
        3,
        flags![NOSCRIPT, STALE, EXCLUSIVE],
        "Loads a server-side Lua script to the script cache.",
        script_load,
    )
    .since("2.6.0"),
    Command::row(
        GROUP,
        "exists",
        -3,
        flags![NOSCRIPT],
        "Determines whether server-side Lua scripts exist in the script cache.",
        script_exists,
    )
    .since("2.6.0"),
    Command::row(
        GROUP,
        "flush",
        -2,
        flags![NOSCRIPT, EXCLUSIVE],
        "Removes all server-side Lua scripts from the script cache.",
        script_flush,
    )
    .since("2.6.0"),
    Command::row(
        GROUP,
        "kill",
        2,
        flags![NOSCRIPT, ALLOW_BUSY],
        "Terminates a server-side Lua script during execution.",
        script_kill,
    )
    .since("2.6.0"),
];

/// EVAL script numkeys [key ...] [arg ...]
fn eval(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    run_script(ctx, args, false, false)
}

/// EVALSHA sha1 numkeys [key ...] [arg ...]
fn evalsha(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    run_script(ctx, args, true, false)
}

/// EVAL_RO script numkeys [key ...] [arg ...]
fn eval_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    run_script(ctx, args, false, true)
}

/// EVALSHA_RO sha1 numkeys [key ...] [arg ...]
fn evalsha_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    run_script(ctx, args, true, true)
}

fn run_script(ctx: &mut Ctx<'_>, args: &[Bytes], by_sha: bool, ro: bool) -> CommandResult {
    let numkeys = parse_i64(&args[2]).ok_or(error::NOT_INTEGER)?;
    let numkeys = check_numkeys(numkeys, args.len())?;
    let shared = ctx.shared;
    let mut engine = shared.scripting.lock();
    // Lowercased on the stack: the cache is keyed by lowercase hex.
    let mut hex = [0u8; 40];
    let loaded;
    let sha: &str = if by_sha {
        if args[1].len() != 40 {
            return Err(NOSCRIPT.into());
        }
        hex.copy_from_slice(&args[1]);
        hex.make_ascii_lowercase();
        std::str::from_utf8(&hex).map_err(|_| error::CommandError::from(NOSCRIPT))?
    } else {
        loaded = engine.load(&args[1]).map_err(error::CommandError::from)?;
        &loaded
    };
    let Some(flags) = engine.flags(sha) else {
        return Err(NOSCRIPT.into());
    };
    let keys = &args[3..3 + numkeys];
    let argv = &args[3 + numkeys..];
    run_prepared(ctx, &mut engine, flags, ro, None, args, |engine, runner| {
        engine.run(sha, keys, argv, runner)
    })
}

/// Redis's numkeys checks (EVAL and FCALL): the key count as an index.
pub(crate) fn check_numkeys(numkeys: i64, argc: usize) -> Result<usize, error::CommandError> {
    if numkeys > (argc - 3) as i64 {
        return Err(KEYS_OVER_ARGS.into());
    }
    if numkeys < 0 {
        return Err(KEYS_NEGATIVE.into());
    }
    Ok(numkeys as usize)
}

/// Run a script (EVAL) or a function (FCALL, `function` is its name) whose
/// flags are known: Redis's scriptPrepareForRun checks, the busy state
/// others see, the script's own client, and the reply.
pub(crate) fn run_prepared(
    ctx: &mut Ctx<'_>,
    engine: &mut scripting::Engine,
    flags: scripting::ScriptFlags,
    ro: bool,
    function: Option<&str>,
    args: &[Bytes],
    call: impl FnOnce(&mut scripting::Engine, &mut dyn Runner) -> Outcome,
) -> CommandResult {
    let shared = ctx.shared;
    if !flags.compat {
        if !flags.no_writes && ro {
            return Err(WRITE_FLAG_RO.into());
        }
        if !flags.allow_oom && !flags.no_writes && !shared.store.make_room() {
            return Err(error::OOM.into());
        }
    }
    let threshold = shared.busy_reply_threshold_ms.load(Relaxed);
    let busy = engine.busy.clone();
    busy.begin(
        threshold,
        function.map(|name| (name.to_string(), args.to_vec())),
    );
    let caller_db = ctx.session.db();
    let last_command = ctx.session.client.last_command.load(Relaxed);
    let mut runner = ScriptClient {
        shared,
        session: Session {
            in_script: true,
            ..Session::read_at(ctx.session.client.clone(), true, ctx.session.read_at)
        },
        read_only: ro || (!flags.compat && flags.no_writes),
        busy: busy.clone(),
        errors: 0,
        reply: Reply::with_capacity(Protocol::Resp2, 512),
    };
    // A long script hands the connections queued on this worker thread to
    // another one from its hook (Busy::release_worker), so they can answer
    // -BUSY or SCRIPT KILL.
    let Outcome { reply, resp: _ } = call(engine, &mut runner);
    busy.end();
    ctx.session.select(caller_db);
    ctx.session.client.last_command.store(last_command, Relaxed);
    ctx.session.errors_replied += runner.errors;
    if let ScriptReply::Error { text, counted } = reply {
        // An error a redis.call already counted is not counted again.
        ctx.session.error_counted = counted;
        return Err(text.into());
    }
    write_reply(ctx.reply, &reply);
    Ok(())
}

/// Encode what the script returned for its caller.
pub(crate) fn write_reply(reply: &mut Reply, value: &ScriptReply) {
    match value {
        ScriptReply::Bulk(b) => reply.bulk(b),
        ScriptReply::Int(n) => reply.int(*n),
        ScriptReply::Bool(b) => reply.boolean(*b),
        ScriptReply::Nil => reply.null(),
        ScriptReply::Status(s) => reply.simple(s),
        ScriptReply::Error { text, .. } => reply.error(text.as_bytes()),
        // Redis 7.0 writes doubles with %.17g (3.14 is 3.1400000000000001).
        ScriptReply::Double(d) => {
            let text = scripting::format_g17(*d);
            if reply.is_resp3() {
                reply.append_frames(|buf| {
                    buf.extend_from_slice(b",");
                    buf.extend_from_slice(text.as_bytes());
                    buf.extend_from_slice(b"\r\n");
                });
            } else {
                reply.bulk(text.as_bytes());
            }
        }
        ScriptReply::BigNumber(n) => {
            if reply.is_resp3() {
                reply.append_frames(|buf| {
                    buf.extend_from_slice(b"(");
                    buf.extend_from_slice(n.as_bytes());
                    buf.extend_from_slice(b"\r\n");
                });
            } else {
                reply.bulk(n.as_bytes());
            }
        }
        ScriptReply::Verbatim { format, text } => {
            if reply.is_resp3() {
                let mut body = format.as_bytes().to_vec();
                body.resize(3, b' ');
                body.push(b':');
                body.extend_from_slice(text);
                reply.append_frames(|buf| {
                    buf.extend_from_slice(format!("={}\r\n", body.len()).as_bytes());
                    buf.extend_from_slice(&body);
                    buf.extend_from_slice(b"\r\n");
                });
            } else {
                reply.bulk(text);
            }
        }
        ScriptReply::Array(items) => {
            reply.array(items.len());
            for item in items {
                write_reply(reply, item);
            }
        }
        ScriptReply::Map(pairs) => {
            reply.map(pairs.len());
            for (k, v) in pairs {
                write_reply(reply, k);
                write_reply(reply, v);
            }
        }
        ScriptReply::Set(items) => {
            reply.set(items.len());
            for item in items {
                write_reply(reply, item);
            }
        }
    }
}

/// The script's client: runs each redis.call as a command of its own session
/// (the caller's client handle, its database restored after the script).
struct ScriptClient<'a> {
    shared: &'a super::Shared,
    session: Session,
    read_only: bool,
    busy: std::sync::Arc<scripting::Busy>,
    /// Error replies redis.call produced, for INFO total_error_replies.
    errors: u64,
    /// Where each redis.call's command writes its reply.
    reply: Reply,
}

/// The reply buffer a script keeps between its calls, at most.
const REPLY_KEEP_BYTES: usize = 64 * 1024;

/// Commands Redis flags `may-replicate`: refused in read-only scripts too.
const MAY_REPLICATE: &[&str] = &["publish", "spublish", "pfcount"];

impl ScriptClient<'_> {
    /// Find the command for `args` as Redis's lookupCommand: a container's
    /// subcommand by the second argument.
    fn resolve(&self, args: &[Bytes]) -> Result<CommandId, &'static str> {
        let table = &self.shared.commands;
        let Some(id) = table.lookup(&args[0]) else {
            return Err("ERR Unknown Redis command called from script");
        };
        let mut id = id;
        if !table.entry(id).subs.is_empty() && args.len() >= 2 {
            match table.lookup_sub(id, &args[1]) {
                Some(sub) => id = sub,
                None => return Err("ERR Unknown Redis command called from script"),
            }
        }
        if !table.entry(id).command.arity_ok(args.len()) {
            return Err("ERR Wrong number of args calling Redis command from script");
        }
        Ok(id)
    }

    fn refuse(&mut self, id: Option<CommandId>, text: &str) -> RespValue {
        if let Some(id) = id {
            self.shared
                .commands
                .entry(id)
                .stats
                .rejected_calls
                .fetch_add(1, Relaxed);
        }
        self.errors += 1;
        RespValue::Error(text.as_bytes().to_vec())
    }
}

impl Runner for ScriptClient<'_> {
    fn call(&mut self, args: Vec<Bytes>, resp: u8) -> RespValue {
        let id = match self.resolve(&args) {
            Ok(id) => id,
            Err(text) => return self.refuse(None, text),
        };
        let entry = self.shared.commands.entry(id);
        let flags = entry.command.flags;
        if flags.has(Flags::NOSCRIPT) {
            return self.refuse(
                Some(id),
                "ERR This Redis command is not allowed from script",
            );
        }
        let top_name = entry.full_name.split('|').next().unwrap_or_default();
        if self.read_only && (flags.has(Flags::WRITE) || MAY_REPLICATE.contains(&top_name)) {
            return self.refuse(
                Some(id),
                "ERR Write commands are not allowed from read-only scripts.",
            );
        }
        let protocol = if resp == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        if flags.has(Flags::WRITE) {
            self.busy.dirty.store(true, Relaxed);
        }
        // One reply buffer for all of the script's calls.
        self.reply.clear(REPLY_KEEP_BYTES);
        self.reply.set_protocol(protocol);
        let before = self.session.errors_replied;
        // No blocking inside a script: a blocking command answers as on timeout.
        execute(
            self.shared,
            &mut self.session,
            &mut self.reply,
            id,
            &args,
            false,
        );
        self.errors += self.session.errors_replied - before;
        scripting::resp::parse(self.reply.as_bytes())
    }

    fn command_exists(&mut self, args: &[Bytes]) -> bool {
        self.resolve(args).is_ok()
    }

    fn log(&mut self, level: u8, text: &str) {
        match level {
            0 => tracing::debug!(target: "script", "{text}"),
            1 => tracing::debug!(target: "script", "{text}"),
            2 => tracing::info!(target: "script", "{text}"),
            _ => tracing::warn!(target: "script", "{text}"),
        }
    }
}

/// SCRIPT LOAD script
fn script_load(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let sha = ctx
        .shared
        .scripting
        .lock()
        .load(&args[2])
        .map_err(error::CommandError::from)?;
    ctx.reply.bulk(sha.as_bytes());
    Ok(())
}

/// SCRIPT EXISTS sha1 [sha1 ...]
fn script_exists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let engine = ctx.shared.scripting.lock();
    ctx.reply.array(args.len() - 2);
    for sha in &args[2..] {
        let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
        ctx.reply.int(engine.exists(&sha) as i64);
    }
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC]
fn script_flush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let ok = match args.len() {
        2 => true,
        3 => args[2].eq_ignore_ascii_case(b"sync") || args[2].eq_ignore_ascii_case(b"async"),
        _ => false,
    };
    if !ok {
        return Err(FLUSH_SYNTAX.into());
    }
    ctx.shared.scripting.lock().reset();
    ctx.reply.ok();
    Ok(())
}

/// SCRIPT KILL: ask the running script to stop (its hook checks every
/// 100000 instructions); refused once it has written.
fn script_kill(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    kill_running(ctx, false)
}

/// SCRIPT KILL (`function` false) or FUNCTION KILL: Redis's scriptKill.
pub(crate) fn kill_running(ctx: &mut Ctx<'_>, function: bool) -> CommandResult {
    let busy = &ctx.shared.script_busy;
    if !busy.running() {
        return Err(NOTBUSY.into());
    }
    if busy.dirty.load(Relaxed) {
        return Err(UNKILLABLE.into());
    }
    let running_function = busy.function.load(Relaxed);
    if running_function != function {
        return Err(busy_text(running_function).into());
    }
    busy.kill.store(true, Relaxed);
    ctx.reply.ok();
    Ok(())
}

/// The -BUSY text: names the kill command that stops the running script.
fn busy_text(function: bool) -> &'static str {
    if function {
        BUSY_FUNCTION
    } else {
        BUSY
    }
}

/// Whether a command must answer -BUSY: a script has run past
/// busy-reply-threshold and the command is not flagged allow-busy.
pub(crate) fn busy_refusal(shared: &super::Shared, flags: Flags) -> Option<&'static str> {
    let busy = &shared.script_busy;
    if !flags.has(Flags::ALLOW_BUSY) && busy.is_busy() {
        Some(busy_text(busy.function.load(Relaxed)))
    } else {
        None
    }
}

/// Whether a script runs now (allow-busy commands then skip the exec gate,
/// which the script holds).
pub(crate) fn script_running(shared: &super::Shared) -> bool {
    shared.script_busy.running()
}

/// Take the exec gate for a command (exclusive for EXCLUSIVE ones). While a
/// script holds it, wait in slices and answer -BUSY once the script has run
/// past busy-reply-threshold, as Redis answers clients during a slow script.
///
/// Waiting blocks this thread, so a wait behind a script moves to
/// `block_in_place`: the worker's other connections, and the I/O and signal
/// drivers it may be the one to poll, go on on another thread. (A worker
/// parked in this loop once left nobody polling them: new connections,
/// SCRIPT KILL and SIGTERM all went unanswered.)
pub(crate) fn take_gate(
    shared: &super::Shared,
    flags: Flags,
) -> Result<super::Gate<'_>, &'static str> {
    if let Some(gate) = try_gate(shared, flags, std::time::Duration::ZERO) {
        return Ok(gate);
    }
    let slice = std::time::Duration::from_millis(5);
    loop {
        if let Some(gate) = try_gate(shared, flags, slice) {
            return Ok(gate);
        }
        if let Some(busy) = busy_refusal(shared, flags) {
            return Err(busy);
        }
        if script_running(shared) && can_block_in_place() {
            return tokio::task::block_in_place(|| loop {
                if let Some(gate) = try_gate(shared, flags, slice) {
                    return Ok(gate);
                }
                if let Some(busy) = busy_refusal(shared, flags) {
                    return Err(busy);
                }
            });
        }
    }
}

fn try_gate(
    shared: &super::Shared,
    flags: Flags,
    wait: std::time::Duration,
) -> Option<super::Gate<'_>> {
    if flags.has(Flags::EXCLUSIVE) {
        shared
            .exec_gate
            .try_write_for(wait)
            .map(super::Gate::Exclusive)
    } else {
        shared.exec_gate.try_read_for(wait).map(super::Gate::Shared)
    }
}

use crate::scripting::can_block_in_place;
