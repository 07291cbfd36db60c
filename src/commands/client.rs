//! Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET, CLIENT.

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use super::args::{parse_i64, text};
use super::{Command, Ctx, ReplyMode};
use crate::clients::ClientHandle;
use crate::commands::Shared;
use crate::error;
use crate::error::CommandResult;
use crate::flags;
use crate::protocol::resp::Protocol;

/// The Redis version herald answers as (HELLO, INFO redis_version): client
/// libraries gate features on it.
pub(crate) const REDIS_COMPAT_VERSION: &str = "7.4.0";

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "connection";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "ping",
        -1,
        flags![FAST, SUBSCRIBED_OK],
        "Returns the server's liveliness response.",
        ping,
    ),
    Command::row(
        GROUP,
        "echo",
        2,
        flags![FAST],
        "Returns the given string.",
        echo,
    ),
    Command::row(
        GROUP,
        "hello",
        -1,
        flags![NOSCRIPT, LOADING, STALE, FAST, NO_AUTH, ALLOW_BUSY],
        "Handshakes with the Redis server.",
        hello,
    ),
    Command::row(
        GROUP,
        "auth",
        -2,
        flags![NOSCRIPT, LOADING, STALE, FAST, NO_AUTH, ALLOW_BUSY],
        "Authenticates the connection.",
        auth,
    ),
    Command::row(
        GROUP,
        "select",
        2,
        flags![LOADING, STALE, FAST],
        "Changes the selected database.",
        select,
    ),
    Command::row(
        GROUP,
        "quit",
        -1,
        flags![
            ALLOW_BUSY,
            NOSCRIPT,
            LOADING,
            STALE,
            FAST,
            NO_AUTH,
            SUBSCRIBED_OK,
            RUNS_IN_MULTI
        ],
        "Closes the connection.",
        quit,
    ),
    Command::row(
        GROUP,
        "reset",
        1,
        flags![
            NOSCRIPT,
            LOADING,
            STALE,
            FAST,
            NO_AUTH,
            ALLOW_BUSY,
            SUBSCRIBED_OK,
            RUNS_IN_MULTI
        ],
        "Resets the connection.",
        reset,
    ),
    Command::row(
        GROUP,
        "client",
        -2,
        flags![],
        "A container for client connection commands.",
        container_without_subcommand,
    )
    .subcommands(CLIENT_SUBCOMMANDS),
];

static CLIENT_SUBCOMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "id",
        2,
        flags![NOSCRIPT, LOADING, STALE],
        "Returns the unique client ID of the connection.",
        client_id,
    ),
    Command::row(
        GROUP,
        "setname",
        3,
        flags![NOSCRIPT, LOADING, STALE],
        "Sets the connection name.",
        client_setname,
    ),
    Command::row(
        GROUP,
        "getname",
        2,
        flags![NOSCRIPT, LOADING, STALE],
        "Returns the name of the connection.",
        client_getname,
    ),
    Command::row(
        GROUP,
        "list",
        -2,
        flags![ADMIN, NOSCRIPT, LOADING, STALE],
        "Lists open connections.",
        client_list,
    ),
    Command::row(
        GROUP,
        "info",
        2,
        flags![NOSCRIPT, LOADING, STALE],
        "Returns information about the connection.",
        client_info,
    ),
    Command::row(
        GROUP,
        "kill",
        -3,
        flags![ADMIN, NOSCRIPT, LOADING, STALE],
        "Terminates open connections.",
        client_kill,
    ),
    Command::row(
        GROUP,
        "setinfo",
        4,
        flags![NOSCRIPT, LOADING, STALE],
        "Sets information specific to the client or connection.",
        client_setinfo,
    ),
    Command::row(
        GROUP,
        "reply",
        3,
        flags![NOSCRIPT, LOADING, STALE],
        "Instructs the server whether to reply to commands.",
        client_reply,
    ),
    Command::row(
        GROUP,
        "no-evict",
        3,
        flags![ADMIN, NOSCRIPT, LOADING, STALE],
        "Sets the client eviction mode of the connection.",
        client_on_off,
    ),
    Command::row(
        GROUP,
        "no-touch",
        3,
        flags![NOSCRIPT, LOADING, STALE],
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        client_on_off,
    ),
    Command::row(
        GROUP,
        "unblock",
        -3,
        flags![ADMIN, NOSCRIPT, LOADING, STALE],
        "Unblocks a client blocked by a blocking command from a different connection.",
        client_unblock,
    ),
];

/// Containers reached with no subcommand only when their arity allows it.
pub(crate) fn container_without_subcommand(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    Err(error::wrong_arity(&text(&args[0]).to_lowercase()).into())
}

/// PING [message]
fn ping(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if args.len() > 2 {
        return Err(error::wrong_arity("ping").into());
    }
    // RESP2 subscribers get a two-element array with a lower-case "pong" (pubsub.c).
    if ctx.session.in_resp2_subscribed_context(ctx.reply) {
        ctx.reply.array(2);
        ctx.reply.bulk(b"pong");
        ctx.reply.bulk(args.get(1).map(|a| &a[..]).unwrap_or(b""));
        return Ok(());
    }
    match args.get(1) {
        Some(msg) => ctx.reply.bulk(msg),
        None => ctx.reply.simple("PONG"),
    }
    Ok(())
}

/// ECHO message
fn echo(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    ctx.reply.bulk(&args[1]);
    Ok(())
}

/// Check a password for `user` against `requirepass`. With no password configured
/// the default user is "nopass": any password is accepted for it.
fn credentials_ok(shared: &Shared, user: &[u8], password: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match &shared.config.read().requirepass {
        None => true,
        Some(pass) => constant_time_eq(pass.as_bytes(), password),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, &x) in a.iter().enumerate() {
        diff |= (x ^ b.get(i).copied().unwrap_or(0)) as usize;
    }
    diff == 0
}

/// Client names and lib names may not contain spaces or non-printable bytes.
fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let mut protocol = None;
    if let Some(ver) = args.get(1) {
        match parse_i64(ver) {
            None => {
                return Err(error::BAD_PROTOCOL_VERSION.into());
            }
            Some(2) => protocol = Some(Protocol::Resp2),
            Some(3) => protocol = Some(Protocol::Resp3),
            Some(_) => {
                return Err(error::NOPROTO.into());
            }
        }
    }
    let mut credentials = None;
    let mut name = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if args[i].eq_ignore_ascii_case(b"auth") && more >= 2 {
            credentials = Some((&args[i + 1], &args[i + 2]));
            i += 3;
        } else if args[i].eq_ignore_ascii_case(b"setname") && more >= 1 {
            if !valid_client_name(&args[i + 1]) {
                return Err(error::BAD_CLIENT_NAME.into());
            }
            name = Some(args[i + 1].clone());
            i += 2;
        } else {
            return Err(error::hello_syntax(&args[i]).into());
        }
    }
    if let Some((user, pass)) = credentials {
        if !credentials_ok(ctx.shared, user, pass) {
            return Err(error::WRONGPASS.into());
        }
        ctx.session.authenticated = true;
    }
    if !ctx.session.authenticated {
        return Err(error::HELLO_NOAUTH.into());
    }
    if let Some(name) = name {
        ctx.session.client.names.lock().name = (!name.is_empty()).then_some(name);
    }
    if let Some(p) = protocol {
        ctx.session.set_protocol(ctx.reply, p);
    }
    let r = &mut *ctx.reply;
    r.map(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(REDIS_COMPAT_VERSION.as_bytes());
    r.bulk(b"proto");
    r.int(r.protocol().number());
    r.bulk(b"id");
    r.int(ctx.session.client.id as i64);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.array(0);
    Ok(())
}

/// AUTH [username] password
fn auth(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let (user, pass): (&[u8], &[u8]) = match args.len() {
        2 => (b"default", &args[1]),
        3 => (&args[1], &args[2]),
        _ => {
            return Err(error::SYNTAX.into());
        }
    };
    if args.len() == 2 && !ctx.shared.password_required() {
        return Err(error::AUTH_NOT_CONFIGURED.into());
    }
    if !credentials_ok(ctx.shared, user, pass) {
        return Err(error::WRONGPASS.into());
    }
    ctx.session.authenticated = true;
    ctx.reply.ok();
    Ok(())
}

/// SELECT index
fn select(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let Some(index) = parse_i64(&args[1]) else {
        return Err(error::NOT_INTEGER.into());
    };
    if index < 0 || index as usize >= ctx.shared.store.databases() {
        return Err(error::DB_INDEX_OUT_OF_RANGE.into());
    }
    ctx.session.select(index as usize);
    ctx.reply.ok();
    Ok(())
}

/// QUIT: answer +OK, then close once the reply is written.
fn quit(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    ctx.reply.ok();
    ctx.session.close_after_reply = true;
    Ok(())
}

/// RESET: back to a fresh connection's state (RESP2, db 0, no name, no
/// subscriptions, replies on, and unauthenticated again if a password is set).
fn reset(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    ctx.session.reset_state(ctx.shared);
    ctx.session.set_protocol(ctx.reply, Protocol::Resp2);
    ctx.session.authenticated = !ctx.shared.password_required();
    ctx.reply.simple("RESET");
    Ok(())
}

/// CLIENT ID
fn client_id(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    ctx.reply.int(ctx.session.client.id as i64);
    Ok(())
}

/// CLIENT SETNAME connection-name ("" removes the name)
fn client_setname(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if !valid_client_name(&args[2]) {
        return Err(error::BAD_CLIENT_NAME.into());
    }
    ctx.session.client.names.lock().name = (!args[2].is_empty()).then(|| args[2].clone());
    ctx.reply.ok();
    Ok(())
}

/// CLIENT GETNAME
fn client_getname(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    let name = ctx.session.client.names.lock().name.clone();
    match name {
        Some(n) => ctx.reply.bulk(&n),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// One CLIENT LIST / CLIENT INFO line, with Redis's field names and order.
pub(crate) fn client_line(shared: &Shared, c: &ClientHandle) -> String {
    use std::fmt::Write;
    let now = shared.uptime_ms();
    let names = c.names.lock().clone();
    let show = |b: &Option<Bytes>| b.as_ref().map(|v| text(v)).unwrap_or_default();
    let cmd = match c.last_command.load(Relaxed) {
        usize::MAX => "NULL".to_string(),
        i => shared.commands.entry(super::CommandId(i)).full_name.clone(),
    };
    let flags = if c.is_subscriber() { "P" } else { "N" };
    let queued = c.outbox.queued_bytes();
    let qbuf = c.query_buffer_bytes.load(Relaxed);
    let mut line = String::with_capacity(256);
    let _ = write!(
        line,
        "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi=-1 qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll={} omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        show(&names.name),
        c.created.elapsed().as_secs(),
        c.idle_ms(now) / 1000,
        flags,
        c.db.load(Relaxed),
        c.channels.load(Relaxed),
        c.patterns.load(Relaxed),
        c.shard_channels.load(Relaxed),
        qbuf,
        c.outbox.queued_frames(),
        queued,
        queued + qbuf + 16384,
        cmd,
        c.resp.load(Relaxed),
        show(&names.lib_name),
        show(&names.lib_ver),
    );
    line
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID client-id [client-id ...]]
fn client_list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let mut type_filter: Option<&'static str> = None;
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 2;
    while i < args.len() {
        if args[i].eq_ignore_ascii_case(b"type") && i + 1 < args.len() {
            let t = args[i + 1].to_ascii_lowercase();
            type_filter = Some(match &t[..] {
                b"normal" => "normal",
                b"pubsub" => "pubsub",
                b"master" | b"replica" | b"slave" => "replica",
                _ => {
                    return Err(error::unknown_client_type(&args[i + 1]).into());
                }
            });
            i += 2;
        } else if args[i].eq_ignore_ascii_case(b"id") && i + 1 < args.len() {
            let mut list = Vec::new();
            for a in &args[i + 1..] {
                match parse_i64(a) {
                    Some(id) if id > 0 => list.push(id as u64),
                    _ => {
                        return Err(error::INVALID_CLIENT_ID.into());
                    }
                }
            }
            ids = Some(list);
            i = args.len();
        } else {
            return Err(error::SYNTAX.into());
        }
    }
    let mut out = String::new();
    for c in ctx.shared.clients.snapshot() {
        if let Some(ids) = &ids {
            if !ids.contains(&c.id) {
                continue;
            }
        }
        match type_filter {
            Some("pubsub") if !c.is_subscriber() => continue,
            Some("normal") if c.is_subscriber() => continue,
            Some("replica") => continue,
            _ => {}
        }
        out.push_str(&client_line(ctx.shared, &c));
        out.push('\n');
    }
    ctx.reply.verbatim(out.as_bytes());
    Ok(())
}

/// CLIENT INFO
fn client_info(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    let mut line = client_line(ctx.shared, &ctx.session.client);
    line.push('\n');
    ctx.reply.verbatim(line.as_bytes());
    Ok(())
}

/// CLIENT KILL ip:port | CLIENT KILL <filter value> ... where filter is
/// ID, ADDR, LADDR, TYPE, USER, SKIPME or MAXAGE.
fn client_kill(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    struct Filter {
        id: Option<u64>,
        addr: Option<String>,
        laddr: Option<String>,
        kind: Option<&'static str>,
        user_matches: bool,
        skip_me: bool,
        max_age_secs: Option<u64>,
    }
    let old_form = args.len() == 3;
    let mut f = Filter {
        id: None,
        addr: None,
        laddr: None,
        kind: None,
        user_matches: true,
        skip_me: !old_form,
        max_age_secs: None,
    };
    if old_form {
        f.addr = Some(text(&args[2]));
    } else {
        if !args.len().is_multiple_of(2) {
            return Err(error::SYNTAX.into());
        }
        for pair in args[2..].chunks(2) {
            let (name, value) = (pair[0].to_ascii_lowercase(), &pair[1]);
            match &name[..] {
                b"id" => match parse_i64(value) {
                    Some(id) if id > 0 => f.id = Some(id as u64),
                    _ => {
                        return Err(error::CLIENT_ID_NOT_POSITIVE.into());
                    }
                },
                b"addr" => f.addr = Some(text(value)),
                b"laddr" => f.laddr = Some(text(value)),
                // herald has one user, `default`.
                b"user" => {
                    if &value[..] != b"default" {
                        return Err(error::no_such_user(value).into());
                    }
                    f.user_matches = true;
                }
                b"maxage" => match parse_i64(value) {
                    Some(s) if s >= 0 => f.max_age_secs = Some(s as u64),
                    _ => {
                        return Err(error::NOT_INTEGER.into());
                    }
                },
                b"type" => {
                    f.kind = Some(match &value.to_ascii_lowercase()[..] {
                        b"normal" => "normal",
                        b"pubsub" => "pubsub",
                        b"master" | b"replica" | b"slave" => "replica",
                        _ => {
                            return Err(error::unknown_client_type(value).into());
                        }
                    })
                }
                b"skipme" => match &value.to_ascii_lowercase()[..] {
                    b"yes" => f.skip_me = true,
                    b"no" => f.skip_me = false,
                    _ => {
                        return Err(error::SYNTAX.into());
                    }
                },
                _ => {
                    return Err(error::SYNTAX.into());
                }
            }
        }
    }
    let me = ctx.session.client.id;
    let mut killed = 0;
    for c in ctx.shared.clients.snapshot() {
        let matches = f.id.is_none_or(|id| c.id == id)
            && f.addr.as_ref().is_none_or(|a| c.addr.to_string() == *a)
            && f.laddr.as_ref().is_none_or(|a| c.laddr.to_string() == *a)
            && f.user_matches
            && f.max_age_secs
                .is_none_or(|age| c.created.elapsed().as_secs() >= age)
            && match f.kind {
                Some("pubsub") => c.is_subscriber(),
                Some("normal") => !c.is_subscriber(),
                Some(_) => false,
                None => true,
            };
        if !matches || (f.skip_me && c.id == me) {
            continue;
        }
        if c.id == me {
            // Our own connection: reply first, then close.
            ctx.session.close_after_reply = true;
        } else {
            c.close();
        }
        killed += 1;
    }
    if old_form {
        if killed == 0 {
            return Err(error::NO_SUCH_CLIENT.into());
        }
        ctx.reply.ok();
    } else {
        ctx.reply.int(killed);
    }
    Ok(())
}

/// CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>
fn client_setinfo(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let value = &args[3];
    let attr = args[2].to_ascii_lowercase();
    if !matches!(&attr[..], b"lib-name" | b"lib-ver") {
        return Err(error::unrecognized_option(&args[2]).into());
    }
    if !valid_client_name(value) {
        return Err(error::bad_client_info(&args[2]).into());
    }
    let value = (!value.is_empty()).then(|| value.clone());
    let mut names = ctx.session.client.names.lock();
    if &attr[..] == b"lib-name" {
        names.lib_name = value;
    } else {
        names.lib_ver = value;
    }
    drop(names);
    ctx.reply.ok();
    Ok(())
}

/// CLIENT REPLY ON|OFF|SKIP
fn client_reply(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    match &args[2].to_ascii_lowercase()[..] {
        b"on" => {
            ctx.session.reply_mode = ReplyMode::On;
            ctx.reply.ok();
        }
        // The dispatcher drops this command's own reply as well.
        b"off" => ctx.session.reply_mode = ReplyMode::Off,
        b"skip" => {
            if ctx.session.reply_mode != ReplyMode::Off {
                // Becomes SkipThis after this command, dropping the next reply.
                ctx.session.reply_mode = ReplyMode::SkipNext;
            }
        }
        _ => return Err(error::SYNTAX.into()),
    }
    Ok(())
}

/// CLIENT NO-EVICT|NO-TOUCH ON|OFF: accepted; herald does not evict clients.
fn client_on_off(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    match &args[2].to_ascii_lowercase()[..] {
        b"on" | b"off" => ctx.reply.ok(),
        _ => return Err(error::SYNTAX.into()),
    }
    Ok(())
}

/// CLIENT UNBLOCK client-id [TIMEOUT | ERROR]
fn client_unblock(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let how = match args.get(3).map(|a| a.to_ascii_lowercase()) {
        None => crate::blocking::Unblocked::Timeout,
        Some(a) if a == b"timeout" => crate::blocking::Unblocked::Timeout,
        Some(a) if a == b"error" => crate::blocking::Unblocked::Error,
        Some(_) => {
            return Err(error::UNBLOCK_REASON.into());
        }
    };
    if args.len() > 4 {
        return Err(error::SYNTAX.into());
    }
    let Some(id) = parse_i64(&args[2]) else {
        return Err(error::NOT_INTEGER.into());
    };
    let unblocked = id > 0 && ctx.shared.blocking.force_unblock(id as u64, how);
    ctx.reply.int(unblocked as i64);
    Ok(())
}
