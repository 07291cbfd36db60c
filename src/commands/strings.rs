//! String commands. (The full set, with TTL options, arrives with the cache.)

use bytes::Bytes;

use super::{Command, Ctx, Flags};
use crate::flags;
use crate::store::{unix_ms, Entry, Value};

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
    let db = ctx.shared.store.db(ctx.session.db);
    let now = unix_ms();
    let shard = db.shard(&args[1]);
    match shard.map.get(&args[1]) {
        Some(e) if !e.is_expired(now) => match &e.value {
            Value::Str(v) => ctx.reply.bulk(v),
        },
        _ => ctx.reply.null(),
    }
}

/// SET key value
fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    if args.len() != 3 {
        ctx.reply.error(crate::error::SYNTAX);
        return;
    }
    let cas = ctx.shared.store.next_cas();
    let db = ctx.shared.store.db(ctx.session.db);
    db.shard(&args[1]).map.insert(
        args[1].clone(),
        Entry {
            value: Value::Str(args[2].clone()),
            expires_at_ms: 0,
            cas,
            flags: 0,
        },
    );
    ctx.reply.ok();
}
