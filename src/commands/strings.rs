//! String commands. (The full set, with TTL options, arrives with the cache.)

use bytes::Bytes;

use super::{Command, Ctx, Flags};
use crate::flags;
use crate::store::{unix_ms, Value};

const fn cmd(
    name: &'static str,
    arity: i32,
    flags: Flags,
    keys: (i32, i32, i32),
    summary: &'static str,
    handler: super::Handler,
) -> Command {
    Command {
        name,
        arity,
        flags,
        keys,
        group: "string",
        summary,
        since: "1.0.0",
        handler,
        subcommands: &[],
    }
}

pub static COMMANDS: &[Command] = &[
    cmd(
        "get",
        2,
        flags![READONLY, FAST],
        (1, 1, 1),
        "Returns the string value of a key.",
        get,
    ),
    cmd(
        "set",
        -3,
        flags![WRITE, DENYOOM],
        (1, 1, 1),
        "Sets the string value of a key, ignoring its type.",
        set,
    ),
];

/// GET key
fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    let mut slot = ctx.shared.store.slot(ctx.session.db, &args[1], unix_ms());
    match slot.get().map(|e| &e.value) {
        Some(Value::Str(v)) => ctx.reply.bulk(v),
        Some(_) => ctx.reply.error(crate::error::WRONGTYPE),
        None => ctx.reply.null(),
    }
}

/// SET key value
fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    if args.len() != 3 {
        ctx.reply.error(crate::error::SYNTAX);
        return;
    }
    let mut slot = ctx.shared.store.slot(ctx.session.db, &args[1], unix_ms());
    slot.insert(Value::Str(args[2].clone()), 0, 0);
    ctx.reply.ok();
}
