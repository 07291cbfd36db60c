//! Lua scripting engine (EVAL/EVALSHA): one Lua 5.1 interpreter, as Redis
//! embeds, with the script cache, the `redis` API, the Redis libraries (bit,
//! cjson) and the sandbox (read-only globals, no io/os/loadfile/dofile).
//!
//! This module knows nothing of commands, sessions or the store: a script runs
//! its `redis.call`s through a `Runner` that the command layer supplies, and
//! gets each reply back as RESP bytes (parsed by `resp::parse`). What the
//! script returns comes out as a `ScriptReply` tree for the caller to encode.
//!
//! Sandbox, as Redis 7.0 presents it: globals are read-only ("Attempt to modify
//! a readonly table"), reading an unknown global fails ("Script attempted to
//! access nonexistent global variable"), and the library tables are read-only
//! too. Stock Lua 5.1 has no read-only tables (Redis patches its Lua), so each
//! protected table is an empty proxy whose metatable reads through to the real
//! table and refuses writes; `rawset`, `setmetatable` and `getmetatable` are
//! wrapped so they cannot reach behind a proxy.

mod bit;
mod cjson;
mod cmsgpack;
pub mod functions;
mod lua_struct;
mod raw;
pub mod resp;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use bytes::Bytes;
use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};

pub use resp::RespValue;

/// What a script's `redis.call` needs from the server.
pub trait Runner {
    /// Run one command with RESP version `resp` (2 or 3); its reply, errors
    /// included (`RespValue::Error`, the text after `-`).
    fn call(&mut self, args: Vec<Bytes>, resp: u8) -> RespValue;
    /// Whether `args` names a known command (redis.acl_check_cmd).
    fn command_exists(&mut self, args: &[Bytes]) -> bool;
    /// redis.log at a Redis level (0 debug .. 3 warning).
    fn log(&mut self, level: u8, text: &str);
}

/// `#!lua flags=...` of a script.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    /// No shebang: the pre-7.0 behaviour (flags decided per command).
    pub compat: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
}

/// Script flag names, in Redis's `scripts_flags_def` order (bit i = name i).
pub const FLAG_NAMES: [&str; 5] = [
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

impl ScriptFlags {
    /// Flags from a bit set over `FLAG_NAMES` (never compat: functions and
    /// shebang scripts declare their flags).
    pub fn from_bits(bits: u32) -> ScriptFlags {
        ScriptFlags {
            compat: false,
            no_writes: bits & 1 != 0,
            allow_oom: bits & 2 != 0,
            allow_stale: bits & 4 != 0,
            no_cluster: bits & 8 != 0,
            allow_cross_slot_keys: bits & 16 != 0,
        }
    }

    /// The names of the flags set, in `FLAG_NAMES` order (FUNCTION LIST).
    pub fn names(&self) -> Vec<&'static str> {
        let set = [
            self.no_writes,
            self.allow_oom,
            self.allow_stale,
            self.no_cluster,
            self.allow_cross_slot_keys,
        ];
        FLAG_NAMES
            .iter()
            .zip(set)
            .filter(|(_, on)| *on)
            .map(|(name, _)| *name)
            .collect()
    }

    fn set(&mut self, name: &str) -> bool {
        match name {
            "no-writes" => self.no_writes = true,
            "allow-oom" => self.allow_oom = true,
            "allow-stale" => self.allow_stale = true,
            "no-cluster" => self.no_cluster = true,
            "allow-cross-slot-keys" => self.allow_cross_slot_keys = true,
            _ => return false,
        }
        true
    }
}

/// Parse the shebang line, if any (Redis's evalExtractShebangFlags): the
/// flags and the length to skip (the newline is kept so line numbers stay
/// right). The line is split as `sdssplitargs` does (quotes allowed).
pub fn shebang_flags(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((
            ScriptFlags {
                compat: true,
                ..Default::default()
            },
            0,
        ));
    }
    let Some(end) = memchr::memchr(b'\n', body) else {
        return Err("ERR Invalid script shebang".into());
    };
    let parts = match crate::protocol::resp::request::split_line_args(&body[..end]) {
        Some(parts) if !parts.is_empty() => parts,
        _ => return Err("ERR Invalid engine in script shebang".into()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        ));
    }
    let mut flags = ScriptFlags::default();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!(
                "ERR Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            ));
        };
        // "flags=" alone has no flags (sdssplitlen of an empty string gives
        // no parts); "a,,b" has an empty one, which is unknown.
        if list.is_empty() {
            continue;
        }
        for flag in list.split(|&b| b == b',') {
            let name = String::from_utf8_lossy(flag);
            if !flags.set(&name) {
                return Err(format!("ERR Unexpected flag in script shebang: {name}"));
            }
        }
    }
    Ok((flags, end))
}

/// Library and function names: letters, digits and underscores, at least one.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Redis's text for a bad library or function name.
pub const NAME_FORMAT: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// The SHA1 of `body`, lower-case hex (script names, redis.sha1hex).
pub fn sha1hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// What a script answered, to be encoded for its caller.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptReply {
    Bulk(Vec<u8>),
    Int(i64),
    /// A Lua boolean: RESP2 scripts answer true as 1 and false as null;
    /// after redis.setresp(3), as a RESP3 boolean.
    Bool(bool),
    Nil,
    Status(String),
    /// The full error text after `-`; `counted` when a redis.call already
    /// counted it (Redis's ignore_error_stats_update).
    Error {
        text: String,
        counted: bool,
    },
    Double(f64),
    BigNumber(String),
    Verbatim {
        format: String,
        text: Vec<u8>,
    },
    Array(Vec<ScriptReply>),
    Map(Vec<(ScriptReply, ScriptReply)>),
    Set(Vec<ScriptReply>),
}

/// The end of one script run.
pub struct Outcome {
    pub reply: ScriptReply,
    /// The RESP version the script ended with (redis.setresp).
    pub resp: u8,
}

/// The running script as other connections see it: whether one runs (and
/// since when), the busy threshold, and SCRIPT KILL's request.
///
/// Times here read the real monotonic clock, never `crate::clock`'s cached
/// per-command time: a client waiting for the gate behind a script sits in
/// one command, and a cached "now" would never reach the threshold (it then
/// waited forever instead of answering -BUSY).
pub struct Busy {
    /// Milliseconds since `origin()` (plus one) the running script started;
    /// 0 when none runs.
    started_ms: AtomicU64,
    /// busy-reply-threshold (ms) for the running script; 0 = never busy.
    threshold_ms: AtomicU64,
    /// The script wrote to the dataset: SCRIPT KILL answers UNKILLABLE.
    pub dirty: std::sync::atomic::AtomicBool,
    /// SCRIPT KILL / FUNCTION KILL asked the script to stop.
    pub kill: std::sync::atomic::AtomicBool,
    /// Whether the running script is a function (FCALL): the -BUSY text and
    /// which of SCRIPT KILL / FUNCTION KILL may stop it.
    pub function: std::sync::atomic::AtomicBool,
    /// The running function's name and FCALL arguments.
    running: parking_lot::Mutex<Option<(String, Vec<Bytes>)>>,
    /// Server shutdown (SHUTDOWN NOSAVE, SIGTERM): stops any script, dirty
    /// or not, at its next hook, so the server can exit.
    shutdown: tokio_util::sync::CancellationToken,
    /// When (in `now_ms()` time) the running script next hands its worker
    /// thread's other tasks to another thread (`release_worker`).
    release_at_ms: AtomicU64,
}

impl Default for Busy {
    fn default() -> Self {
        Busy::new(tokio_util::sync::CancellationToken::new())
    }
}

/// How long a script runs before its worker thread's runtime moves to
/// another thread (`Busy::release_worker`), and how often it tries again.
const RELEASE_WORKER_AFTER_MS: u64 = 10;
const RELEASE_WORKER_RETRY_MS: u64 = 20;

/// Whether this thread is a worker of a multi-thread runtime (where
/// `block_in_place` may be called).
pub fn can_block_in_place() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

/// The origin of `Busy`'s clock.
fn origin() -> std::time::Instant {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(std::time::Instant::now)
}

fn now_ms() -> u64 {
    since_origin_ms(std::time::Instant::now())
}

fn since_origin_ms(at: std::time::Instant) -> u64 {
    at.saturating_duration_since(origin()).as_millis() as u64 + 1
}

impl Busy {
    pub fn new(shutdown: tokio_util::sync::CancellationToken) -> Busy {
        Busy {
            started_ms: AtomicU64::new(0),
            threshold_ms: AtomicU64::new(0),
            dirty: Default::default(),
            kill: Default::default(),
            function: Default::default(),
            running: Default::default(),
            shutdown,
            release_at_ms: AtomicU64::new(0),
        }
    }

    /// A script starts: clear the previous one's kill and dirty marks
    /// before it becomes visible as running.
    /// `function`: the function's name and the FCALL that runs it (FUNCTION
    /// STATS shows them); None for an EVAL script.
    pub fn begin(&self, threshold_ms: u64, function: Option<(String, Vec<Bytes>)>) {
        self.kill.store(false, Relaxed);
        self.dirty.store(false, Relaxed);
        self.function.store(function.is_some(), Relaxed);
        *self.running.lock() = function;
        self.threshold_ms.store(threshold_ms, Relaxed);
        // The script starts when its command did: `command_start` is the
        // previous command's end, read already (no clock call per EVAL).
        let now = since_origin_ms(crate::clock::command_start());
        self.release_at_ms
            .store(now + RELEASE_WORKER_AFTER_MS, Relaxed);
        self.started_ms.store(now, Relaxed);
    }

    /// Called from the running script's hook: once the script has run for
    /// RELEASE_WORKER_AFTER_MS, move this worker thread's runtime (its queued
    /// connections, the I/O and timer drivers it may be polling) to another
    /// thread, so they answer -BUSY, SCRIPT KILL and SIGTERM while the script
    /// goes on here.
    ///
    /// Short scripts (nearly all) never get here: handing the runtime off on
    /// every EVAL cost a thread wake-up per call, and EVALSHA ran at 0.15x
    /// redis-server. `block_in_place` hands the core to a new thread and
    /// takes it back when its closure returns if that thread has not picked
    /// it up yet, so the closure sleeps a little, and the hook tries again
    /// every RELEASE_WORKER_RETRY_MS (once the core is gone the call is cheap).
    pub fn release_worker(&self) {
        let now = now_ms();
        if self.started_ms.load(Relaxed) == 0 || now < self.release_at_ms.load(Relaxed) {
            return;
        }
        self.release_at_ms
            .store(now + RELEASE_WORKER_RETRY_MS, Relaxed);
        if can_block_in_place() {
            tokio::task::block_in_place(|| {
                std::thread::sleep(std::time::Duration::from_micros(200))
            });
        }
    }

    /// The script ended.
    pub fn end(&self) {
        self.started_ms.store(0, Relaxed);
        *self.running.lock() = None;
    }

    /// The running function, its FCALL and how long it has run (FUNCTION
    /// STATS); None when no function runs.
    pub fn running_function(&self) -> Option<(String, Vec<Bytes>, u64)> {
        let started = self.started_ms.load(Relaxed);
        if started == 0 {
            return None;
        }
        let (name, command) = self.running.lock().clone()?;
        Some((name, command, now_ms().saturating_sub(started)))
    }

    /// Whether a script runs now.
    pub fn running(&self) -> bool {
        self.started_ms.load(Relaxed) != 0
    }

    /// Whether a script has run longer than the threshold (-BUSY for others).
    /// A threshold of 0 never makes a script busy (Redis then installs no
    /// hook at all).
    pub fn is_busy(&self) -> bool {
        let started = self.started_ms.load(Relaxed);
        let threshold = self.threshold_ms.load(Relaxed);
        started != 0 && threshold != 0 && now_ms().saturating_sub(started) >= threshold
    }

    /// Whether the running script must stop: killed, or the server stops.
    pub fn interrupted(&self) -> bool {
        self.kill.load(Relaxed) || self.shutdown.is_cancelled()
    }

    fn stop_reason(&self) -> &'static str {
        if self.kill.load(Relaxed) {
            "Script killed by user with SCRIPT KILL..."
        } else {
            "Script interrupted: the server is shutting down"
        }
    }
}

/// A cached script.
struct Script {
    function: Function,
    flags: ScriptFlags,
}

/// Deepest reply a script may return before Redis's "reached lua stack limit".
const MAX_REPLY_DEPTH: usize = 200;

/// Memory one interpreter may hold by default, in bytes (CONFIG
/// `lua-memory-limit`). Redis has no such cap (a runaway script grows until
/// maxmemory or the OOM killer); herald stops the script with Lua's "not
/// enough memory" error instead, and the server lives.
pub const SCRIPT_MEMORY_LIMIT_BYTES: usize = 1 << 30;

/// Which interpreter a `Vm` is: EVAL's (KEYS and ARGV are globals) or
/// FUNCTION's (libraries register functions; KEYS and ARGV are arguments).
#[derive(Clone, Copy, PartialEq, Eq)]
enum VmKind {
    Eval,
    Functions,
}

/// One Lua interpreter with Redis's sandbox and `redis` API. Two exist, as in
/// Redis: one for EVAL scripts, one for FUNCTION libraries.
struct Vm {
    lua: Lua,
    kind: VmKind,
    /// Hidden table the API wrappers read: `call`/`acl`/`log` are set per
    /// run, `register` while a library loads.
    run_ctx: Table,
    /// The real globals table behind the read-only proxy (KEYS and ARGV).
    globals: Table,
    /// `run(f, ...)`: f's results, xpcall-style, through the error handler.
    protected_call: Function,
    /// Functions VM: `load_library(chunk)` runs a library's top level with
    /// the load-time globals; nil or the error text.
    load_library: Option<Function>,
    resp: Arc<AtomicU8>,
    busy: Arc<Busy>,
    /// The runner of the script running now, for the API callbacks.
    runner: Arc<RunnerSlot>,
    /// The memory cap (lua-memory-limit), in force only while Lua code runs
    /// (`MemoryCap`).
    memory_limit: Arc<AtomicUsize>,
    /// Runs since the last garbage-collection step.
    runs_since_gc: std::cell::Cell<u32>,
}

/// The runner of the script that runs now, reached by the `redis.call`,
/// `redis.acl_check_cmd` and `redis.log` callbacks. The callbacks are created
/// once per interpreter: creating them per run (an mlua scope) cost more
/// than the script. `Vm::run` fills the slot for the length of one run.
#[derive(Default)]
struct RunnerSlot(parking_lot::Mutex<Option<RunnerPtr>>);

#[derive(Clone, Copy)]
struct RunnerPtr(std::ptr::NonNull<dyn Runner + 'static>);

// SAFETY: a RunnerPtr is dereferenced only by `RunnerSlot::with`, on the
// thread running the script, while `Vm::run` (which holds the `&mut dyn
// Runner` it was made from, and empties the slot before returning) is on
// that thread's stack.
unsafe impl Send for RunnerPtr {}

impl RunnerSlot {
    /// Run `f` with the running script's runner; None when no script runs
    /// (a library's top level calling redis.call), or when a callback is
    /// already using it.
    fn with<R>(&self, f: impl FnOnce(&mut dyn Runner) -> R) -> Option<R> {
        struct Restore<'a>(&'a RunnerSlot, RunnerPtr);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                *self.0 .0.lock() = Some(self.1);
            }
        }
        let ptr = self.0.lock().take()?;
        let _restore = Restore(self, ptr);
        // SAFETY: see RunnerPtr; taking it out of the slot makes this the
        // only reference for the call.
        Some(f(unsafe { &mut *ptr.0.as_ptr() }))
    }

    /// Fill the slot with `runner` until the guard drops.
    fn fill<'a>(&'a self, runner: &'a mut dyn Runner) -> impl Drop + 'a {
        struct Clear<'a>(&'a RunnerSlot);
        impl Drop for Clear<'_> {
            fn drop(&mut self) {
                *self.0 .0.lock() = None;
            }
        }
        let ptr: std::ptr::NonNull<dyn Runner + 'a> = std::ptr::NonNull::from(runner);
        // SAFETY: only the trait object's lifetime bound is erased; `Clear`
        // empties the slot before `runner`'s borrow ends.
        let ptr: std::ptr::NonNull<dyn Runner + 'static> = unsafe { std::mem::transmute(ptr) };
        *self.0.lock() = Some(RunnerPtr(ptr));
        Clear(self)
    }
}

/// The interpreter's memory cap, set while Lua code runs and lifted while
/// Rust calls into the Lua API.
///
/// Under a cap, mlua runs every API call that may allocate in protected mode,
/// which on Lua 5.1 allocates two C closures per call (and the collector then
/// frees them): setting up one EVALSHA that way cost 7.5 times
/// redis-server's instructions. So `MemoryCap::on` sets the cap around the
/// script's own code, and a callback (redis.call) lifts it with
/// `MemoryCap::off` for its API calls. Lua itself checks the cap on every
/// allocation, so a runaway script still stops with "not enough memory".
struct MemoryCap<'a> {
    lua: &'a Lua,
    restore: usize,
}

impl<'a> MemoryCap<'a> {
    fn set(lua: &'a Lua, now: usize, restore: usize) -> MemoryCap<'a> {
        let _ = lua.set_memory_limit(now);
        MemoryCap { lua, restore }
    }

    /// The cap `limit` until the guard drops.
    fn on(lua: &'a Lua, limit: &AtomicUsize) -> MemoryCap<'a> {
        MemoryCap::set(lua, limit.load(Relaxed), 0)
    }

    /// No cap until the guard drops (inside a callback: the cap comes back).
    fn off(lua: &'a Lua, limit: &AtomicUsize) -> MemoryCap<'a> {
        MemoryCap::set(lua, 0, limit.load(Relaxed))
    }
}

impl Drop for MemoryCap<'_> {
    fn drop(&mut self) {
        let _ = self.lua.set_memory_limit(self.restore);
    }
}

/// How many runs pass between two explicit garbage-collection steps, as
/// Redis's LUA_GC_CYCLE_PERIOD (a step after every run cost more than a
/// small script; Lua's own incremental steps on allocation go on).
const GC_PERIOD_RUNS: u32 = 50;

/// What one FUNCTION LOAD registered (`redis.register_function`).
pub(crate) struct Registered {
    pub name: String,
    pub description: Option<Vec<u8>>,
    pub flags: ScriptFlags,
    pub function: Function,
}

impl Vm {
    fn new(kind: VmKind, busy: Arc<Busy>) -> mlua::Result<Vm> {
        let libs = StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG;
        // SAFETY: the debug library is loaded only to build the error handler
        // and removed from the globals before any script runs.
        let lua = unsafe { Lua::unsafe_new_with(libs, LuaOptions::new()) };
        let globals = lua.globals();
        for name in [
            "dofile", "loadfile", "print", "module", "require", "package",
        ] {
            globals.raw_set(name, Value::Nil)?;
        }
        let resp = Arc::new(AtomicU8::new(2));
        let runner = Arc::new(RunnerSlot::default());
        let memory_limit = Arc::new(AtomicUsize::new(SCRIPT_MEMORY_LIMIT_BYTES));
        let run_ctx = lua.create_table()?;
        let rust = lua.create_table()?;
        install_rust_api(&lua, &rust, resp.clone())?;
        let (call, pcall) = raw::call_functions(
            &lua,
            Arc::new(raw::CallApi {
                runner: runner.clone(),
                resp: resp.clone(),
                memory_limit: memory_limit.clone(),
            }),
        )?;
        rust.raw_set("call", call)?;
        rust.raw_set("pcall", pcall)?;
        let b = busy.clone();
        rust.raw_set(
            "killed",
            lua.create_function(move |_, ()| Ok(b.interrupted()))?,
        )?;
        rust.raw_set("bit", bit::library(&lua)?)?;
        rust.raw_set("cjson", cjson::library(&lua)?)?;
        rust.raw_set("cmsgpack", cmsgpack::library(&lua)?)?;
        rust.raw_set("struct", lua_struct::library(&lua)?)?;
        rust.raw_set("version", crate_version())?;
        rust.raw_set("version_num", version_num())?;
        let kind_name = match kind {
            VmKind::Eval => "eval",
            VmKind::Functions => "functions",
        };
        let setup: Function = lua.load(SANDBOX_LUA).set_name("=herald").into_function()?;
        let (protected_call, proxy, load_library): (Function, Table, Option<Function>) =
            setup.call((run_ctx.clone(), rust, kind_name))?;
        lua.set_globals(proxy)?;
        install_runner_api(&lua, &run_ctx, &runner)?;
        let globals = run_ctx.raw_get("globals")?;
        let vm = Vm {
            lua,
            kind,
            run_ctx,
            globals,
            protected_call,
            load_library,
            resp,
            busy,
            runner,
            memory_limit,
            runs_since_gc: Default::default(),
        };
        vm.install_run_hook();
        Ok(vm)
    }

    /// The hook every run has (set once; FUNCTION LOAD sets its own for a
    /// library's top level, then puts this one back): SCRIPT KILL and
    /// shutdown stop the script, and a long script hands its worker thread's
    /// other connections to another thread.
    fn install_run_hook(&self) {
        let busy = self.busy.clone();
        let _ = self.lua.set_hook(
            mlua::HookTriggers::new().every_nth_instruction(100_000),
            move |_, _| {
                if busy.interrupted() {
                    return Err(mlua::Error::runtime(busy.stop_reason()));
                }
                busy.release_worker();
                Ok(mlua::VmState::Continue)
            },
        );
    }

    fn set_memory_limit(&mut self, bytes: usize) {
        self.memory_limit.store(bytes, Relaxed);
    }

    /// Compile `source` as chunk `name` ("@user_script", "@user_function").
    fn compile(&self, source: &[u8], name: &str) -> Result<Function, String> {
        self.lua
            .load(source)
            .set_name(name)
            .into_function()
            .map_err(|e| lua_error_text(&e))
    }

    /// Run a library's top level (FUNCTION LOAD): the functions it registered,
    /// or Redis's error text after "Error registering functions: ".
    /// `timeout` stops a top level that runs too long ("FUNCTION LOAD timeout").
    fn register_library(
        &self,
        chunk: Function,
        timeout: Option<std::time::Duration>,
    ) -> Result<Vec<Registered>, String> {
        let Some(load_library) = &self.load_library else {
            return Err("ERR no library loader".into());
        };
        let started = std::time::Instant::now();
        let _ = self.lua.set_hook(
            mlua::HookTriggers::new().every_nth_instruction(100_000),
            move |_, _| match timeout {
                Some(limit) if started.elapsed() > limit => {
                    Err(mlua::Error::runtime("FUNCTION LOAD timeout"))
                }
                _ => Ok(mlua::VmState::Continue),
            },
        );
        let registered = std::cell::RefCell::new(Vec::<Registered>::new());
        let outcome = self.lua.scope(|scope| {
            let register = scope.create_function(
                |_,
                 (name, callback, description, flags): (
                    mlua::LuaString,
                    Function,
                    Option<mlua::LuaString>,
                    u32,
                )| {
                    let name = name.as_bytes().to_vec();
                    if !valid_name(&name) {
                        return Ok(Some(NAME_FORMAT.to_string()));
                    }
                    let name = String::from_utf8_lossy(&name).into_owned();
                    let mut list = registered.borrow_mut();
                    if list.iter().any(|r| r.name == name) {
                        return Ok(Some("Function already exists in the library".to_string()));
                    }
                    list.push(Registered {
                        name,
                        description: description.map(|d| d.as_bytes().to_vec()),
                        flags: ScriptFlags::from_bits(flags),
                        function: callback,
                    });
                    Ok(None)
                },
            )?;
            self.run_ctx.raw_set("register", register)?;
            let error: Option<mlua::LuaString> = {
                let _cap = MemoryCap::on(&self.lua, &self.memory_limit);
                load_library.call(chunk)?
            };
            self.run_ctx.raw_set("register", Value::Nil)?;
            Ok(error.map(|e| e.to_string_lossy()))
        });
        let _ = self.run_ctx.raw_set("register", Value::Nil);
        self.install_run_hook();
        let _ = self.lua.gc_step();
        match outcome {
            Ok(None) => Ok(registered.into_inner()),
            Ok(Some(error)) => Err(error),
            Err(e) => Err(format!("ERR {}", lua_error_text(&e))),
        }
    }

    /// Run `function` with KEYS and ARGV (globals for EVAL, arguments for
    /// functions). `label` names it in error texts (the SHA1 or the function
    /// name).
    fn run(
        &self,
        function: &Function,
        label: &str,
        keys: &[Bytes],
        argv: &[Bytes],
        runner: &mut dyn Runner,
    ) -> Outcome {
        self.resp.store(2, Relaxed);
        let reply = match self.run_inner(function, label, keys, argv, runner) {
            Ok(reply) => reply,
            Err(e) => ScriptReply::Error {
                text: format!(
                    "ERR Error running script {label}, {}",
                    lua_error_text(&e).chars().take(100).collect::<String>()
                ),
                counted: false,
            },
        };
        // A script that ran into the memory cap leaves garbage at the cap:
        // collect it all, so the next script starts with room.
        if self.lua.used_memory() > self.memory_limit.load(Relaxed) / 2 {
            let _ = self.lua.gc_collect();
            self.runs_since_gc.set(0);
        } else {
            let runs = self.runs_since_gc.get() + 1;
            if runs >= GC_PERIOD_RUNS {
                let _ = self.lua.gc_step();
                self.runs_since_gc.set(0);
            } else {
                self.runs_since_gc.set(runs);
            }
        }
        Outcome {
            reply,
            resp: self.resp.load(Relaxed),
        }
    }

    fn run_inner(
        &self,
        function: &Function,
        label: &str,
        keys: &[Bytes],
        argv: &[Bytes],
        runner: &mut dyn Runner,
    ) -> mlua::Result<ScriptReply> {
        use mlua::ffi;
        self.lua.exec_raw_lua(|lua| {
            // SAFETY: the stack is this interpreter's, its lock held by
            // exec_raw_lua; the run leaves it as it found it.
            unsafe {
                let state = lua.state();
                let top = ffi::lua_gettop(state);
                if ffi::lua_checkstack(state, 8) == 0 {
                    return Err(mlua::Error::runtime("stack overflow"));
                }
                lua.push(&self.protected_call)?;
                lua.push(function)?;
                let nargs = if self.kind == VmKind::Eval {
                    lua.push(&self.globals)?;
                    raw::push_bytes(state, b"KEYS");
                    raw::push_string_array(state, keys);
                    ffi::lua_rawset(state, -3);
                    raw::push_bytes(state, b"ARGV");
                    raw::push_string_array(state, argv);
                    ffi::lua_rawset(state, -3);
                    ffi::lua_pop(state, 1);
                    1
                } else {
                    raw::push_string_array(state, keys);
                    raw::push_string_array(state, argv);
                    3
                };
                let status = {
                    let _runner = self.runner.fill(runner);
                    let _cap = MemoryCap::on(&self.lua, &self.memory_limit);
                    ffi::lua_pcall(state, nargs, 2, 0)
                };
                let reply = if status != 0 {
                    let text = if ffi::lua_type(state, -1) == ffi::LUA_TSTRING {
                        let mut len = 0usize;
                        let p = ffi::lua_tolstring(state, -1, &mut len);
                        String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, len))
                            .into_owned()
                    } else {
                        "unknown error".to_string()
                    };
                    Err(mlua::Error::runtime(text))
                } else {
                    let value = ffi::lua_gettop(state);
                    if ffi::lua_toboolean(state, value - 1) != 0 {
                        Ok(raw::reply_at(state, value, self.resp.load(Relaxed), 0))
                    } else {
                        Ok(raw::error_reply_at(state, value, label))
                    }
                };
                ffi::lua_settop(state, top);
                reply
            }
        })
    }
}

/// The interpreters and what they hold: EVAL's script cache, and the
/// FUNCTION libraries (with their own interpreter). Owned behind a mutex by
/// the server; EVAL and FCALL run holding the exclusive gate, so one script
/// runs at a time.
pub struct Engine {
    eval: Vm,
    /// By lowercase SHA1 hex; foldhash: one lookup per EVALSHA, and the
    /// keys are hashes of the script bodies already.
    scripts: HashMap<String, Script, foldhash::fast::RandomState>,
    scripts_bytes: usize,
    pub functions: functions::Functions,
    pub busy: Arc<Busy>,
}

impl Engine {
    pub fn new() -> Engine {
        Engine::with_busy(Arc::new(Busy::default()))
    }

    /// An engine whose running scripts report to `busy` (shared with the
    /// server, which also keeps it across SCRIPT FLUSH).
    pub fn with_busy(busy: Arc<Busy>) -> Engine {
        Engine {
            eval: Vm::new(VmKind::Eval, busy.clone())
                .expect("the Lua sandbox builds from fixed code"),
            scripts: HashMap::default(),
            scripts_bytes: 0,
            functions: functions::Functions::new(busy.clone()),
            busy,
        }
    }

    /// Each interpreter's memory cap (CONFIG lua-memory-limit).
    pub fn set_memory_limit(&mut self, bytes: usize) {
        self.eval.set_memory_limit(bytes);
        self.functions.set_memory_limit(bytes);
    }

    /// SCRIPT FLUSH: a fresh EVAL interpreter, no scripts (functions stay).
    pub fn reset(&mut self) {
        let limit = self.eval.memory_limit.load(Relaxed);
        self.eval = Vm::new(VmKind::Eval, self.busy.clone())
            .expect("the Lua sandbox builds from fixed code");
        self.eval.set_memory_limit(limit);
        self.scripts.clear();
        self.scripts_bytes = 0;
    }

    pub fn exists(&self, sha: &str) -> bool {
        self.scripts.contains_key(sha)
    }

    pub fn flags(&self, sha: &str) -> Option<ScriptFlags> {
        self.scripts.get(sha).map(|s| s.flags)
    }

    /// Number of cached scripts and their bytes (INFO).
    pub fn cached(&self) -> (usize, usize) {
        (self.scripts.len(), self.scripts_bytes)
    }

    /// Memory the EVAL interpreter uses, in bytes (INFO used_memory_lua).
    pub fn memory_bytes(&self) -> usize {
        self.eval.lua.used_memory()
    }

    /// Compile and cache `body` (EVAL, SCRIPT LOAD): its SHA1, or the error
    /// text Redis answers (shebang or compile error).
    pub fn load(&mut self, body: &[u8]) -> Result<String, String> {
        let sha = sha1hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, skip) = shebang_flags(body)?;
        let function = self
            .eval
            .compile(&body[skip..], "@user_script")
            .map_err(|e| format!("ERR Error compiling script (new function): {e}"))?;
        self.scripts_bytes += body.len() + 40;
        self.scripts.insert(sha.clone(), Script { function, flags });
        Ok(sha)
    }

    /// Run the cached script `sha` with KEYS and ARGV. The caller checked it
    /// exists; a missing one answers NOSCRIPT anyway.
    pub fn run(
        &mut self,
        sha: &str,
        keys: &[Bytes],
        argv: &[Bytes],
        runner: &mut dyn Runner,
    ) -> Outcome {
        let Some(script) = self.scripts.get(sha) else {
            return Outcome {
                reply: ScriptReply::Error {
                    text: "NOSCRIPT No matching script. Please use EVAL.".into(),
                    counted: false,
                },
                resp: 2,
            };
        };
        let function = script.function.clone();
        self.eval.run(&function, sha, keys, argv, runner)
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// The version scripts see as REDIS_VERSION.
fn crate_version() -> &'static str {
    "7.0.15"
}

/// REDIS_VERSION_NUM: major << 16 | minor << 8 | patch.
fn version_num() -> f64 {
    let mut parts = crate_version()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    ((a << 16) | (b << 8) | c) as f64
}

/// The message of a Lua error, without mlua's traceback decoration.
fn lua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_error_text(cause),
        other => other.to_string(),
    }
}

/// `acl` and `log` in the run context: redis.acl_check_cmd (a count and a
/// table of the arguments: a Lua-side `{...}`) and redis.log, reaching the
/// running script's runner through `slot`. (redis.call and redis.pcall are
/// C functions: src/scripting/raw.rs.)
fn install_runner_api(lua: &Lua, run_ctx: &Table, slot: &Arc<RunnerSlot>) -> mlua::Result<()> {
    let s = slot.clone();
    let acl = lua.create_function(move |_, (n, args): (usize, Table)| {
        let args = match command_args(n, &args) {
            Ok(a) => a,
            Err(text) => return Ok((Value::Nil, Some(text))),
        };
        match s.with(|runner| runner.command_exists(&args)) {
            Some(true) => Ok((Value::Boolean(true), None)),
            Some(false) => Ok((
                Value::Nil,
                Some("ERR Invalid command passed to redis.acl_check_cmd()".to_string()),
            )),
            None => Ok((
                Value::Nil,
                Some("redis.acl_check_cmd can only be called inside a script invocation".into()),
            )),
        }
    })?;
    let s = slot.clone();
    let log = lua.create_function(move |_, (level, text): (u8, mlua::LuaString)| {
        s.with(|runner| runner.log(level, &text.to_string_lossy()));
        Ok(())
    })?;
    run_ctx.raw_set("acl", acl)?;
    run_ctx.raw_set("log", log)?;
    Ok(())
}

/// Arguments of redis.acl_check_cmd: `n` values of `args` (1-based), strings as
/// they are, numbers as `%.17g`.
fn command_args(n: usize, args: &Table) -> Result<Vec<Bytes>, String> {
    if n == 0 {
        return Err("Please specify at least one argument for this redis lib call".into());
    }
    let mut out = Vec::with_capacity(n.min(1 << 16));
    for i in 1..=n {
        match args.raw_get::<Value>(i) {
            Ok(Value::String(s)) => out.push(Bytes::copy_from_slice(&s.as_bytes())),
            Ok(Value::Number(n)) => out.push(Bytes::from(format_g17(n))),
            Ok(Value::Integer(n)) => out.push(Bytes::from(n.to_string())),
            _ => return Err("Lua redis lib command arguments must be strings or integers".into()),
        }
    }
    Ok(out)
}

/// An error table `{err = "CODE msg"}` from a text that may start with `-`
/// (Redis's luaPushErrorBuff): no code means ERR; trailing CR/LF trimmed.
pub(crate) fn error_table(lua: &Lua, text: &str, counted: bool) -> mlua::Result<Value> {
    let full = error_text(text);
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(full.as_bytes())?)?;
    if counted {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(Value::Table(t))
}

fn error_text(text: &str) -> String {
    let (code, msg) = match text.strip_prefix('-') {
        Some(rest) => match rest.split_once(' ') {
            Some((code, msg)) => (code, msg),
            None => ("ERR", rest),
        },
        None => ("ERR", text),
    };
    format!("{code} {}", msg.trim_matches(|c| c == '\r' || c == '\n'))
}

/// `(long long)` of a Lua number: truncation toward zero.
pub(crate) fn lua_number_to_i64(n: f64) -> i64 {
    if n.is_nan() {
        i64::MIN
    } else {
        n as i64
    }
}

/// C's `%.17g`: how Redis turns a Lua number into a command argument.
pub fn format_g17(d: f64) -> String {
    format_g(d, 17)
}

/// C's `%.14g`: Lua 5.1's own number format (tostring).
pub fn format_g14(d: f64) -> String {
    format_g(d, 14)
}

/// C's `%.<precision>g` (one implementation: `crate::printf`).
pub(crate) fn format_g(d: f64, precision: usize) -> String {
    crate::printf::g(d, precision)
}

/// Redis's redisLrand48 (a 48-bit linear congruential generator, as POSIX
/// lrand48): math.random gives the same sequence for the same seed everywhere.
struct Rand48(AtomicU64);

impl Rand48 {
    const A: u64 = 0x5DEECE66D;
    const C: u64 = 0xB;
    const MASK: u64 = (1 << 48) - 1;

    fn seed(&self, seed: i32) {
        self.0.store(
            (((seed as u32) as u64) << 16 | 0x330E) & Self::MASK,
            Relaxed,
        );
    }

    /// 31 random bits.
    fn next(&self) -> u32 {
        let x = (self
            .0
            .load(Relaxed)
            .wrapping_mul(Self::A)
            .wrapping_add(Self::C))
            & Self::MASK;
        self.0.store(x, Relaxed);
        (x >> 17) as u32
    }
}

/// The Rust side of the API, handed to the Lua setup code in a table.
fn install_rust_api(lua: &Lua, api: &Table, resp: Arc<AtomicU8>) -> mlua::Result<()> {
    api.raw_set(
        "sha1hex",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return Ok((
                    Some(error_table(lua, "wrong number of arguments", false)?),
                    Value::Nil,
                ));
            }
            let bytes = match &args[0] {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Number(n) => format_g14(*n).into_bytes(),
                Value::Integer(n) => n.to_string().into_bytes(),
                _ => Vec::new(),
            };
            Ok((None, Value::String(lua.create_string(sha1hex(&bytes))?)))
        })?,
    )?;
    api.raw_set(
        "error_table",
        lua.create_function(|lua, text: mlua::LuaString| {
            error_table(lua, &text.to_string_lossy(), false)
        })?,
    )?;
    let setresp_state = resp.clone();
    api.raw_set(
        "setresp",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Ok(Some(error_table(
                    lua,
                    "redis.setresp() requires one argument.",
                    false,
                )?));
            }
            let n = match &args[0] {
                Value::Number(n) => *n as i64,
                Value::Integer(n) => *n,
                Value::String(s) => s
                    .to_str()
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .map(|f| f as i64)
                    .unwrap_or(0),
                _ => 0,
            };
            if n != 2 && n != 3 {
                return Ok(Some(error_table(
                    lua,
                    "RESP version must be 2 or 3.",
                    false,
                )?));
            }
            setresp_state.store(n as u8, Relaxed);
            Ok(None)
        })?,
    )?;
    api.raw_set(
        "cwrap",
        lua.create_function(|lua, f: Function| {
            // SAFETY: pushes one C closure over the function argument.
            unsafe {
                lua.exec_raw::<Function>(f, |state| {
                    mlua::ffi::lua_pushcclosure(state, raise_first, 1);
                })
            }
        })?,
    )?;
    let rng = Arc::new(Rand48(AtomicU64::new(0)));
    rng.seed(fastrand::i32(..));
    let r = rng.clone();
    api.raw_set(
        "random",
        lua.create_function(move |_, ()| {
            const MAX: u32 = i32::MAX as u32;
            Ok((r.next() % MAX) as f64 / MAX as f64)
        })?,
    )?;
    let r = rng.clone();
    api.raw_set(
        "randomseed",
        lua.create_function(move |_, seed: f64| {
            r.seed(seed as i64 as i32);
            Ok(())
        })?,
    )?;
    Ok(())
}

/// The C closure behind every API function that can fail: calls its upvalue,
/// which returns `(error or nil, results...)`, and raises the error or
/// returns the results. A C function, so a script's `return redis.call(..)`
/// keeps the script's frame (Lua 5.1 replaces frames only for Lua tail calls)
/// and the error names the script's line; and the error value can be the
/// `{err=...}` table itself, which an mlua callback cannot raise.
unsafe extern "C-unwind" fn raise_first(state: *mut mlua::ffi::lua_State) -> std::os::raw::c_int {
    use mlua::ffi;
    let n = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, n, ffi::LUA_MULTRET);
    if ffi::lua_gettop(state) == 0 {
        return 0;
    }
    if ffi::lua_type(state, 1) != ffi::LUA_TNIL {
        ffi::lua_settop(state, 1);
        // A library's text error gets its caller's position, as luaL_error
        // gives it in Redis ("user_script:1: bad argument #1 to 'band' ...").
        if ffi::lua_type(state, 1) == ffi::LUA_TSTRING {
            ffi::luaL_where(state, 1);
            ffi::lua_insert(state, 1);
            ffi::lua_concat(state, 2);
        }
        ffi::lua_error(state);
    }
    ffi::lua_remove(state, 1);
    ffi::lua_gettop(state)
}

/// The Lua half of the sandbox: builds the `redis` table, the protected
/// globals and the error handler. Called once with the run context and the
/// Rust API; returns the protected runner and the proxy globals.
const SANDBOX_LUA: &str = r#"
local ctx, rust, kind = ...
local G = _G
local getinfo = debug.getinfo
G.debug = nil
local error, type, tostring, select, rawget, rawpcall, xpcall, next =
      error, type, tostring, select, rawget, pcall, xpcall, next
local rawsetmetatable, rawgetmetatable, rawrawset = setmetatable, getmetatable, rawset
local floor = math.floor
local lower = string.lower
ctx.globals = G


local protected = rawsetmetatable({}, {__mode = 'k'})
local function readonly() error("Attempt to modify a readonly table", 2) end
local function protect(t)
  local mt = {__index = t, __newindex = readonly}
  local proxy = rawsetmetatable({}, mt)
  local mtproxy = rawsetmetatable({}, {__index = mt, __newindex = readonly})
  protected[proxy] = mtproxy
  protected[mtproxy] = mtproxy
  return proxy
end
-- A read-only table whose missing keys are errors (Redis's error metatable).
local function strict(t)
  local mt = {
    __index = function(_, k)
      local v = t[k]
      if v == nil then
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
      end
      return v
    end,
    __newindex = readonly,
  }
  local proxy = rawsetmetatable({}, mt)
  local mtproxy = rawsetmetatable({}, {__index = mt, __newindex = readonly})
  protected[proxy] = mtproxy
  protected[mtproxy] = mtproxy
  return proxy
end

local cwrap = rust.cwrap
local E = rust.error_table
local redis = {}
-- Each API function below returns (error or nil, results...); cwrap raises.
-- Arguments reach Rust as a count and a table: `{...}` grows the Lua stack
-- as needed, where thousands of C-function arguments would not fit.
-- redis.call and redis.pcall are C functions reading their arguments off
-- the stack, as Redis's are (src/scripting/raw.rs).
redis.call = rust.call
redis.pcall = rust.pcall
redis.sha1hex = cwrap(rust.sha1hex)
redis.error_reply = function(...)
  if select('#', ...) ~= 1 or type((...)) ~= 'string' then
    return E("wrong number or type of arguments")
  end
  local e = ...
  if e:sub(1, 1) ~= '-' then e = '-' .. e end
  return E(e)
end
redis.status_reply = function(...)
  if select('#', ...) ~= 1 or type((...)) ~= 'string' then
    return E("wrong number or type of arguments")
  end
  return {ok = (...)}
end
redis.setresp = cwrap(rust.setresp)
redis.set_repl = cwrap(function(...)
  if select('#', ...) ~= 1 then return E("redis.set_repl() requires two arguments.") end
  local flags = tonumber((...)) or 0
  if flags < 0 or flags > 3 or flags ~= floor(flags) then
    return E("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
  end
end)
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.acl_check_cmd = cwrap(function(...)
  local f = ctx.acl
  if not f then return E("redis.acl_check_cmd can only be called inside a script invocation") end
  local v, err = f(select('#', ...), {...})
  if err then return E(err) end
  return nil, v
end)
redis.log = cwrap(function(...)
  local n = select('#', ...)
  if n < 2 then return E("redis.log() requires two arguments or more.") end
  local level = ...
  if tonumber(level) == nil then
    return E("First argument must be a number (log level).")
  end
  level = tonumber(level)
  if level < 0 or level > 3 then return E("Invalid debug level.") end
  local parts = {}
  for i = 2, n do
    local v = select(i, ...)
    if type(v) == 'string' or type(v) == 'number' then parts[#parts + 1] = tostring(v) end
  end
  local f = ctx.log
  if f then f(floor(level), table.concat(parts, ' ')) end
end)
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION = rust.version
redis.REDIS_VERSION_NUM = rust.version_num

-- pcall as Redis 7 has it: an error table with `err` comes back as its text.
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = ...
  -- SCRIPT KILL cannot be caught: the script ends.
  if rust.killed() then error(e, 0) end
  if type(e) == 'table' then
    local msg = rawget(e, 'err')
    if type(msg) == 'string' or type(msg) == 'number' then e = msg end
  end
  return false, e
end
G.pcall = function(...) return pcall_result(rawpcall(...)) end
local function xpcall_result(ok, ...)
  if not ok and rust.killed() then error((...), 0) end
  return ok, ...
end
G.xpcall = function(f, h) return xpcall_result(xpcall(f, h)) end

G.math.random = function(...)
  local r = rust.random()
  local n = select('#', ...)
  if n == 0 then return r end
  local u = ...
  if n == 1 then
    u = floor(tonumber(u) or error("bad argument #1 to 'random' (number expected, got " .. type(u) .. ")", 0))
    if u < 1 then error("bad argument #1 to 'random' (interval is empty)", 0) end
    return floor(r * u) + 1
  elseif n == 2 then
    local l, u2 = ...
    l = floor(tonumber(l) or error("bad argument #1 to 'random' (number expected, got " .. type(l) .. ")", 0))
    u2 = floor(tonumber(u2) or error("bad argument #2 to 'random' (number expected, got " .. type(u2) .. ")", 0))
    if l > u2 then error("bad argument #2 to 'random' (interval is empty)", 0) end
    return floor(r * (u2 - l + 1)) + l
  end
  error("wrong number of arguments", 0)
end
G.math.randomseed = function(seed) rust.randomseed(tonumber(seed) or 0) end

-- Wrap each Rust library function so its errors are raised from Lua.
local function wrap_library(lib)
  local out = {}
  for name, f in G.pairs(lib) do
    if type(f) == 'function' then
      out[name] = cwrap(f)
    else
      out[name] = f
    end
  end
  return out
end
G.bit = wrap_library(rust.bit)
G.cjson = wrap_library(rust.cjson)
G.cmsgpack = wrap_library(rust.cmsgpack)
G.struct = wrap_library(rust.struct)

-- No precompiled (binary) chunks: only source text loads, as in Redis.
local rawloadstring = loadstring
G.loadstring = function(s, name)
  if type(s) == 'string' and s:byte(1) == 27 then return nil, 'binary chunks are not allowed' end
  return rawloadstring(s, name)
end

G.rawset = function(t, k, v)
  if protected[t] then readonly() end
  return rawrawset(t, k, v)
end
G.setmetatable = function(t, mt)
  if protected[t] then readonly() end
  return rawsetmetatable(t, mt)
end
G.getmetatable = function(t)
  local p = protected[t]
  if p then return p end
  return rawgetmetatable(t)
end

-- The error handler: an error as {err=..., source=..., line=...} naming the
-- script line that failed (C functions and this file's wrappers skipped).
local function error_value(err)
  if type(err) ~= 'table' then
    local text = tostring(err)
    if type(err) == 'userdata' then
      text = text:match('^[^\n]*') or text
      text = text:gsub('^runtime error: ', '')
    end
    err = {err = 'ERR ' .. text}
  end
  return err
end
local function handler(err)
  local level = 2
  local i = getinfo(level, 'Sl')
  while i and (i.what == 'C' or i.source == '=herald') do
    level = level + 1
    i = getinfo(level, 'Sl')
  end
  err = error_value(err)
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

-- run(f): an EVAL script; run(f, keys, args): a function.
local function run(f, ...)
  if select('#', ...) == 0 then return xpcall(f, handler) end
  local keys, args = ...
  return xpcall(function() return f(keys, args) end, handler)
end

G.redis = redis
for _, name in G.ipairs({'redis', 'string', 'math', 'table', 'bit', 'cjson', 'cmsgpack', 'struct', 'coroutine'}) do
  if G[name] ~= nil then G[name] = protect(G[name]) end
end

-- FUNCTION libraries: while a library's top level runs, the globals are only
-- `redis` with register_function, log and the version (Redis's library API);
-- missing names are errors. The functions it registers run later with the
-- full globals, through the same proxy.
local load_globals = nil
local load_library = nil
if kind == 'functions' then
  local flag_bits = {['no-writes'] = 1, ['allow-oom'] = 2, ['allow-stale'] = 4,
                     ['no-cluster'] = 8, ['allow-cross-slot-keys'] = 16}
  local function is_string(v) return type(v) == 'string' or type(v) == 'number' end
  local function read_flags(t)
    local seen, bits, j = {}, 0, 1
    while true do
      local v = t[j]
      if v == nil then break end
      if not is_string(v) then return nil end
      local b = flag_bits[lower(tostring(v))]
      if not b then return nil end
      if not seen[b] then seen[b] = true; bits = bits + b end
      j = j + 1
    end
    return bits
  end
  local lib = {}
  lib.register_function = cwrap(function(...)
    local register = ctx.register
    if not register then
      return E("redis.register_function can only be called on FUNCTION LOAD command")
    end
    local n = select('#', ...)
    if n < 1 or n > 2 then return E("wrong number of arguments to redis.register_function") end
    local name, callback, desc, flags = nil, nil, nil, 0
    if n == 1 then
      local t = ...
      if type(t) ~= 'table' then
        return E("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
      end
      for k, v in next, t do
        if not is_string(k) then
          return E("named argument key given to redis.register_function is not a string")
        end
        local key = lower(tostring(k))
        if key == 'function_name' then
          if not is_string(v) then
            return E("function_name argument given to redis.register_function must be a string")
          end
          name = tostring(v)
        elseif key == 'description' then
          if not is_string(v) then
            return E("description argument given to redis.register_function must be a string")
          end
          desc = tostring(v)
        elseif key == 'callback' then
          if type(v) ~= 'function' then
            return E("callback argument given to redis.register_function must be a function")
          end
          callback = v
        elseif key == 'flags' then
          if type(v) ~= 'table' then
            return E("flags argument to redis.register_function must be a table representing function flags")
          end
          flags = read_flags(v)
          if not flags then return E("unknown flag given") end
        else
          return E("unknown argument given to redis.register_function")
        end
      end
      if name == nil then return E("redis.register_function must get a function name argument") end
      if callback == nil then return E("redis.register_function must get a callback argument") end
    else
      local a, b = ...
      if not is_string(a) then return E("first argument to redis.register_function must be a string") end
      if type(b) ~= 'function' then return E("second argument to redis.register_function must be a function") end
      name, callback = tostring(a), b
    end
    local err = register(name, callback, desc, flags)
    if err then return E(err) end
  end)
  lib.log = redis.log
  lib.LOG_DEBUG, lib.LOG_VERBOSE, lib.LOG_NOTICE, lib.LOG_WARNING = 0, 1, 2, 3
  lib.REDIS_VERSION = rust.version
  lib.REDIS_VERSION_NUM = rust.version_num
  load_globals = {redis = strict(lib)}
  local function load_error(e)
    if type(e) == 'table' then
      local msg = rawget(e, 'err')
      if type(msg) == 'string' then return msg end
    end
    return error_value(e).err
  end
  load_library = function(chunk)
    local ok, e = rawpcall(chunk)
    if ok then return nil end
    return load_error(e)
  end
end

-- The globals scripts see: an empty proxy (writes refused) reading through
-- to G, or to load_globals while a library loads. Both are tables (`__index`
-- chains through tables without a Lua call, so `redis.call` costs one table
-- lookup per name), and only a missing name reaches `missing`.
local function missing(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local proxy = {}
G._G = proxy
local gmt = {__index = G, __newindex = readonly}
rawsetmetatable(proxy, gmt)
protected[proxy] = rawsetmetatable({}, {__index = gmt, __newindex = readonly})
if load_library then
  rawsetmetatable(load_globals, {__index = missing})
  local load = load_library
  load_library = function(chunk)
    gmt.__index = load_globals
    local e = load(chunk)
    gmt.__index = G
    return e
  end
end
rawsetmetatable(G, {__index = missing})
return run, proxy, load_library
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_g() {
        for (d, s17, s14) in [
            (3.3, "3.2999999999999998", "3.3"),
            (1.0, "1", "1"),
            (0.1, "0.10000000000000001", "0.1"),
            (1e20, "1e+20", "1e+20"),
            (
                123456789012345678.0,
                "1.2345678901234568e+17",
                "1.2345678901235e+17",
            ),
            (0.0001, "0.0001", "0.0001"),
            (0.00001, "1.0000000000000001e-05", "1e-05"),
            (-2.5, "-2.5", "-2.5"),
        ] {
            assert_eq!(format_g17(d), s17, "{d}");
            assert_eq!(format_g14(d), s14, "{d}");
        }
    }

    #[test]
    fn shebang() {
        assert!(shebang_flags(b"return 1").unwrap().0.compat);
        let (f, n) = shebang_flags(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert!(f.no_writes && f.allow_oom && !f.compat);
        assert_eq!(n, 31);
        assert_eq!(
            shebang_flags(b"#!lua flags=bad\n").unwrap_err(),
            "ERR Unexpected flag in script shebang: bad"
        );
        assert_eq!(
            shebang_flags(b"#!python\n").unwrap_err(),
            "ERR Unexpected engine in script shebang: #!python"
        );
        assert_eq!(
            shebang_flags(b"#!lua").unwrap_err(),
            "ERR Invalid script shebang"
        );
    }
}
