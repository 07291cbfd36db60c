//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Between MULTI and EXEC the dispatcher queues commands (answering +QUEUED)
//! instead of running them; a command refused while queueing (unknown, wrong
//! arity, OOM...) dooms the transaction, and EXEC answers EXECABORT. EXEC runs
//! the queue holding the exclusive gate, so no other client's command
//! interleaves. WATCH remembers each key's CAS (or absence); EXEC aborts with a
//! null reply if any watched key changed since — modified by any client,
//! deleted, or expired — as every modification gives a key a new CAS.

use bytes::Bytes;

use super::session::Watched;
use super::{execute, Command, Ctx};
use crate::error::{self, CommandResult};
use crate::flags;
use crate::store::unix_ms;

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "transactions";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "multi",
        1,
        flags![NOSCRIPT, LOADING, STALE, FAST, RUNS_IN_MULTI, ALLOW_BUSY],
        "Starts a transaction.",
        multi,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "exec",
        1,
        flags![NOSCRIPT, LOADING, STALE, RUNS_IN_MULTI, EXCLUSIVE],
        "Executes all commands in a transaction.",
        exec,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "discard",
        1,
        flags![NOSCRIPT, LOADING, STALE, FAST, RUNS_IN_MULTI, ALLOW_BUSY],
        "Discards a transaction.",
        discard,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "watch",
        -2,
        flags![NOSCRIPT, LOADING, STALE, FAST, RUNS_IN_MULTI, ALLOW_BUSY],
        "Monitors changes to keys to determine the execution of a transaction.",
        watch,
    )
    .keys(1, -1, 1)
    .since("2.0.0"),
    Command::row(
        GROUP,
        "unwatch",
        1,
        flags![NOSCRIPT, LOADING, STALE, FAST, ALLOW_BUSY],
        "Forgets about watched keys of a transaction.",
        unwatch,
    )
    .since("2.0.0"),
];

/// MULTI
fn multi(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    if ctx.session.multi.is_some() {
        return Err(error::MULTI_NESTED.into());
    }
    ctx.session.multi = Some(Default::default());
    ctx.reply.ok();
    Ok(())
}

/// Whether any watched key changed since WATCH.
fn watched_changed(ctx: &Ctx<'_>) -> bool {
    let now = unix_ms();
    ctx.session.watched.iter().any(|w| {
        ctx.shared
            .store
            .slot(w.db, &w.key, now)
            .peek()
            .map(|e| e.cas)
            != w.cas
    })
}

/// EXEC: run the queue atomically; a null reply if a watched key changed.
fn exec(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    let Some(multi) = ctx.session.multi.take() else {
        return Err(error::EXEC_WITHOUT_MULTI.into());
    };
    let changed = watched_changed(ctx);
    ctx.session.watched.clear();
    if multi.dirty {
        return Err(error::EXECABORT.into());
    }
    if changed {
        ctx.reply.null_array();
        return Ok(());
    }
    ctx.reply.array(multi.queued.len());
    for (id, args) in &multi.queued {
        // No blocking inside EXEC: a blocking command answers as on timeout.
        execute(ctx.shared, ctx.session, ctx.reply, *id, args, false);
    }
    Ok(())
}

/// DISCARD
fn discard(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    if ctx.session.multi.take().is_none() {
        return Err(error::DISCARD_WITHOUT_MULTI.into());
    }
    ctx.session.watched.clear();
    ctx.reply.ok();
    Ok(())
}

/// WATCH key [key ...]
fn watch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if ctx.session.multi.is_some() {
        return Err(error::WATCH_INSIDE_MULTI.into());
    }
    let now = unix_ms();
    for key in &args[1..] {
        let db = ctx.session.db();
        if ctx
            .session
            .watched
            .iter()
            .any(|w| w.db == db && w.key == key)
        {
            continue;
        }
        let cas = ctx.shared.store.slot(db, key, now).peek().map(|e| e.cas);
        ctx.session.watched.push(Watched {
            db,
            key: key.clone(),
            cas,
        });
    }
    ctx.reply.ok();
    Ok(())
}

/// UNWATCH
fn unwatch(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    ctx.session.watched.clear();
    ctx.reply.ok();
    Ok(())
}
