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
use crate::flags;
use crate::store::unix_ms;

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "transactions";

pub static COMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "multi",
        1,
        flags![NOSCRIPT, LOADING, STALE, FAST, NO_MULTI, ALLOW_BUSY],
        "Starts a transaction.",
        multi,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "exec",
        1,
        flags![NOSCRIPT, LOADING, STALE, NO_MULTI, EXCLUSIVE],
        "Executes all commands in a transaction.",
        exec,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "discard",
        1,
        flags![NOSCRIPT, LOADING, STALE, FAST, NO_MULTI, ALLOW_BUSY],
        "Discards a transaction.",
        discard,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "watch",
        -2,
        flags![NOSCRIPT, LOADING, STALE, FAST, NO_MULTI, ALLOW_BUSY],
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
fn multi(ctx: &mut Ctx<'_>, _args: &[Bytes]) {
    if ctx.session.multi.is_some() {
        ctx.reply.error("ERR MULTI calls can not be nested");
        return;
    }
    ctx.session.multi = Some(Default::default());
    ctx.reply.ok();
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
fn exec(ctx: &mut Ctx<'_>, _args: &[Bytes]) {
    let Some(multi) = ctx.session.multi.take() else {
        ctx.reply.error(crate::error::EXEC_WITHOUT_MULTI);
        return;
    };
    let changed = watched_changed(ctx);
    ctx.session.watched.clear();
    if multi.dirty {
        ctx.reply
            .error("EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    if changed {
        ctx.reply.null_array();
        return;
    }
    ctx.reply.array(multi.queued.len());
    ctx.session.in_exec = true;
    for (id, args) in &multi.queued {
        execute(ctx.shared, ctx.session, ctx.reply, *id, args);
    }
    ctx.session.in_exec = false;
}

/// DISCARD
fn discard(ctx: &mut Ctx<'_>, _args: &[Bytes]) {
    if ctx.session.multi.take().is_none() {
        ctx.reply.error("ERR DISCARD without MULTI");
        return;
    }
    ctx.session.watched.clear();
    ctx.reply.ok();
}

/// WATCH key [key ...]
fn watch(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    if ctx.session.multi.is_some() {
        ctx.reply.error("ERR WATCH inside MULTI is not allowed");
        return;
    }
    let now = unix_ms();
    for key in &args[1..] {
        let db = ctx.session.db;
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
}

/// UNWATCH
fn unwatch(ctx: &mut Ctx<'_>, _args: &[Bytes]) {
    ctx.session.watched.clear();
    ctx.reply.ok();
}
