//! Functions: FCALL, FCALL_RO and FUNCTION LOAD|LIST|DELETE|FLUSH|DUMP|
//! RESTORE|STATS|KILL|HELP.
//!
//! Libraries live in `crate::scripting::functions` (their own interpreter,
//! inside the engine behind `Shared::scripting`); this file parses the
//! commands. FCALL runs as EVAL does (`scripting::run_prepared`: EXCLUSIVE,
//! the busy state, the script's client), with the function's declared flags.
//! FUNCTION STATS and KILL are allow-busy and run while a function holds the
//! engine, so they read only `Busy` and the library counts, never the engine.

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use super::args::parse_i64;
use super::client::container_without_subcommand;
use super::scripting::{check_numkeys, kill_running, run_prepared};
use super::{Command, Ctx};
use crate::error::{self, CommandResult};
use crate::flags;
use crate::scripting::functions::{RestorePolicy, ENGINE_NAME};

const GROUP: &str = "scripting";

const FUNCTION_NOT_FOUND: &str = "ERR Function not found";
const BAD_NUMKEYS: &str = "ERR Bad number of keys provided";
const LIBRARY_NOT_FOUND: &str = "ERR Library not found";
const CODE_MISSING: &str = "ERR Function code is missing";
const FLUSH_OPTION: &str = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option";
const RESTORE_POLICY: &str =
    "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.";
const NO_LIBRARY_NAME: &str = "ERR library name argument was not given";
const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "fcall",
        -3,
        flags![NOSCRIPT, STALE, EXCLUSIVE],
        "Invokes a function.",
        fcall,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "fcall_ro",
        -3,
        flags![NOSCRIPT, STALE, READONLY, EXCLUSIVE],
        "Invokes a read-only function.",
        fcall_ro,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "function",
        -2,
        flags![],
        "A container for function commands.",
        container_without_subcommand,
    )
    .since("7.0.0")
    .subcommands(FUNCTION_SUBCOMMANDS),
];

static FUNCTION_SUBCOMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "load",
        -3,
        flags![WRITE, DENYOOM, NOSCRIPT],
        "Creates a library.",
        function_load,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "delete",
        3,
        flags![WRITE, NOSCRIPT],
        "Deletes a library and its functions.",
        function_delete,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "flush",
        -2,
        flags![WRITE, NOSCRIPT],
        "Deletes all libraries and functions.",
        function_flush,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "list",
        -2,
        flags![NOSCRIPT],
        "Returns information about all libraries.",
        function_list,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "dump",
        2,
        flags![NOSCRIPT],
        "Dumps all libraries into a serialized binary payload.",
        function_dump,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "restore",
        -3,
        flags![WRITE, DENYOOM, NOSCRIPT],
        "Restores all libraries from a payload.",
        function_restore,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "stats",
        2,
        flags![NOSCRIPT, ALLOW_BUSY],
        "Returns information about a function during execution.",
        function_stats,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "kill",
        2,
        flags![NOSCRIPT, ALLOW_BUSY],
        "Terminates a function during execution.",
        function_kill,
    )
    .since("7.0.0"),
    Command::row(
        GROUP,
        "help",
        2,
        flags![LOADING, STALE],
        "Returns helpful text about the different subcommands.",
        function_help,
    )
    .since("7.0.0"),
];

/// FCALL function numkeys [key ...] [arg ...]
fn fcall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    run_function(ctx, args, false)
}

/// FCALL_RO function numkeys [key ...] [arg ...]
fn fcall_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    run_function(ctx, args, true)
}

/// Redis's fcallCommandGeneric: the function first, then numkeys.
fn run_function(ctx: &mut Ctx<'_>, args: &[Bytes], ro: bool) -> CommandResult {
    let shared = ctx.shared;
    let mut engine = shared.scripting.lock();
    let name = String::from_utf8_lossy(&args[1]).into_owned();
    let (Some(flags), Some(registered)) = (
        engine.functions.flags(&name),
        engine.functions.registered_name(&name),
    ) else {
        return Err(FUNCTION_NOT_FOUND.into());
    };
    let numkeys = parse_i64(&args[2]).ok_or(BAD_NUMKEYS)?;
    let numkeys = check_numkeys(numkeys, args.len())?;
    let keys = &args[3..3 + numkeys];
    let argv = &args[3 + numkeys..];
    run_prepared(
        ctx,
        &mut engine,
        flags,
        ro,
        Some(&registered),
        args,
        |engine, runner| engine.functions.call(&name, keys, argv, runner),
    )
}

/// FUNCTION LOAD [REPLACE] function-code
fn function_load(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let mut replace = false;
    let mut pos = 2;
    while pos < args.len() - 1 {
        if args[pos].eq_ignore_ascii_case(b"replace") {
            replace = true;
            pos += 1;
            continue;
        }
        return Err(format!(
            "ERR Unknown option given: {}",
            String::from_utf8_lossy(&args[pos])
        )
        .into());
    }
    if pos >= args.len() {
        return Err(CODE_MISSING.into());
    }
    let name = ctx
        .shared
        .scripting
        .lock()
        .functions
        .load(&args[pos], replace)
        .map_err(error::CommandError::from)?;
    ctx.dirty(1);
    ctx.reply.bulk(name.as_bytes());
    Ok(())
}

/// FUNCTION DELETE library-name
fn function_delete(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if !ctx.shared.scripting.lock().functions.delete(&args[2]) {
        return Err(LIBRARY_NOT_FOUND.into());
    }
    ctx.dirty(1);
    ctx.reply.ok();
    Ok(())
}

/// FUNCTION FLUSH [ASYNC|SYNC]
fn function_flush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if args.len() > 3 {
        return Err(subcommand_syntax(args).into());
    }
    if args.len() == 3
        && !args[2].eq_ignore_ascii_case(b"sync")
        && !args[2].eq_ignore_ascii_case(b"async")
    {
        return Err(FLUSH_OPTION.into());
    }
    ctx.shared.scripting.lock().functions.flush();
    ctx.dirty(1);
    ctx.reply.ok();
    Ok(())
}

/// FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]
fn function_list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let arg = &args[i];
        if !with_code && arg.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && arg.eq_ignore_ascii_case(b"libraryname") {
            if i >= args.len() - 1 {
                return Err(NO_LIBRARY_NAME.into());
            }
            i += 1;
            pattern = Some(&args[i]);
        } else {
            return Err(format!("ERR Unknown argument {}", String::from_utf8_lossy(arg)).into());
        }
        i += 1;
    }
    let engine = ctx.shared.scripting.lock();
    let libraries: Vec<_> = engine
        .functions
        .libraries()
        .filter(|l| pattern.is_none_or(|p| crate::glob::glob_match(p, l.name.as_bytes())))
        .collect();
    let reply = &mut *ctx.reply;
    reply.array(libraries.len());
    for library in libraries {
        reply.map(if with_code { 4 } else { 3 });
        reply.bulk(b"library_name");
        reply.bulk(library.name.as_bytes());
        reply.bulk(b"engine");
        reply.bulk(ENGINE_NAME.as_bytes());
        reply.bulk(b"functions");
        reply.array(library.functions.len());
        for f in &library.functions {
            reply.map(3);
            reply.bulk(b"name");
            reply.bulk(f.name.as_bytes());
            reply.bulk(b"description");
            match &f.description {
                Some(d) => reply.bulk(d),
                None => reply.null(),
            }
            reply.bulk(b"flags");
            let names = f.flags.names();
            reply.set(names.len());
            for name in names {
                reply.simple(name);
            }
        }
        if with_code {
            reply.bulk(b"library_code");
            reply.bulk(&library.code);
        }
    }
    Ok(())
}

/// FUNCTION DUMP
fn function_dump(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    let payload = ctx.shared.scripting.lock().functions.dump();
    ctx.reply.bulk(&payload);
    Ok(())
}

/// FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE]
fn function_restore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if args.len() > 4 {
        return Err(subcommand_syntax(args).into());
    }
    let policy = match args.get(3) {
        None => RestorePolicy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"append") => RestorePolicy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"replace") => RestorePolicy::Replace,
        Some(p) if p.eq_ignore_ascii_case(b"flush") => RestorePolicy::Flush,
        Some(_) => return Err(RESTORE_POLICY.into()),
    };
    ctx.shared
        .scripting
        .lock()
        .functions
        .restore(&args[2], policy)
        .map_err(error::CommandError::from)?;
    ctx.dirty(1);
    ctx.reply.ok();
    Ok(())
}

/// FUNCTION STATS: the running function (or nil) and the engine's counts.
/// During a busy EVAL script it answers -BUSY, as Redis does.
fn function_stats(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    let busy = &ctx.shared.script_busy;
    if busy.running() && !busy.function.load(Relaxed) {
        return Err(BUSY_EVAL.into());
    }
    let running = busy.running_function();
    let counts = ctx.shared.scripting_counts.clone();
    let reply = &mut *ctx.reply;
    reply.map(2);
    reply.bulk(b"running_script");
    match running {
        None => reply.null(),
        Some((name, command, duration_ms)) => {
            reply.map(3);
            reply.bulk(b"name");
            reply.bulk(name.as_bytes());
            reply.bulk(b"command");
            reply.array(command.len());
            for arg in &command {
                reply.bulk(arg);
            }
            reply.bulk(b"duration_ms");
            reply.int(duration_ms as i64);
        }
    }
    reply.bulk(b"engines");
    reply.map(1);
    reply.bulk(ENGINE_NAME.as_bytes());
    reply.map(2);
    reply.bulk(b"libraries_count");
    reply.int(counts.libraries.load(Relaxed) as i64);
    reply.bulk(b"functions_count");
    reply.int(counts.functions.load(Relaxed) as i64);
    Ok(())
}

/// FUNCTION KILL
fn function_kill(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    kill_running(ctx, true)
}

const FUNCTION_HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

/// FUNCTION HELP
fn function_help(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    ctx.reply.array(FUNCTION_HELP.len());
    for line in FUNCTION_HELP {
        ctx.reply.simple(line);
    }
    Ok(())
}

/// Redis's addReplySubcommandSyntaxError.
fn subcommand_syntax(args: &[Bytes]) -> String {
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&args[1]),
        String::from_utf8_lossy(&args[0]).to_ascii_uppercase()
    )
}

/// INFO memory's scripting fields, as Redis 7.0 lists them.
pub(crate) fn info_memory_fields(shared: &super::Shared, out: &mut String) {
    use std::fmt::Write;
    let engine = shared.scripting.lock();
    let (scripts, scripts_bytes) = engine.cached();
    let vm_eval = engine.memory_bytes();
    let vm_functions = engine.functions.memory_bytes();
    let libraries = engine.functions.libraries().count();
    let functions: usize = engine
        .functions
        .libraries()
        .map(|l| l.functions.len())
        .sum();
    let functions_bytes: usize = engine
        .functions
        .libraries()
        .map(|l| l.code.len() + l.name.len() + 64 * l.functions.len())
        .sum();
    drop(engine);
    let _ = write!(
        out,
        "used_memory_lua:{vm_eval}\r\nused_memory_vm_eval:{vm_eval}\r\nused_memory_lua_human:{}\r\nused_memory_scripts_eval:{scripts_bytes}\r\nnumber_of_cached_scripts:{scripts}\r\nnumber_of_functions:{functions}\r\nnumber_of_libraries:{libraries}\r\nused_memory_vm_functions:{vm_functions}\r\nused_memory_vm_total:{}\r\nused_memory_vm_total_human:{}\r\nused_memory_functions:{functions_bytes}\r\nused_memory_scripts:{}\r\nused_memory_scripts_human:{}\r\n",
        human(vm_eval),
        vm_eval + vm_functions,
        human(vm_eval + vm_functions),
        scripts_bytes + functions_bytes,
        human(scripts_bytes + functions_bytes),
    );
}

/// Redis's bytesToHuman.
fn human(n: usize) -> String {
    let d = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if n < 1024 * 1024 {
        format!("{:.2}K", d / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.2}M", d / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", d / (1024.0 * 1024.0 * 1024.0))
    }
}
