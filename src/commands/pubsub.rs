//! Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.
//!
//! Every (un)subscribe argument is confirmed by its own 3-element frame
//! `[kind, name, count]` (a push in RESP3). The count is channels + patterns for
//! SUBSCRIBE/PSUBSCRIBE and their UN- forms, shard channels only for the S- forms.
//! An UN- command with no arguments leaves everything of its kind; with nothing
//! to leave it still answers once, with a null name (pubsub.c).

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use super::{Command, Ctx, Flags, Session};
use crate::commands::client::container_without_subcommand;
use crate::commands::Shared;
use crate::error::CommandResult;
use crate::flags;
use crate::protocol::resp::Reply;
use crate::pubsub::ChannelKind;

const SUB_FLAGS: Flags = flags![PUBSUB, NOSCRIPT, LOADING, STALE, SUBSCRIBED_OK];

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "pubsub";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "subscribe",
        -2,
        SUB_FLAGS,
        "Listens for messages published to channels.",
        subscribe,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "unsubscribe",
        -1,
        SUB_FLAGS,
        "Stops listening to messages posted to channels.",
        unsubscribe,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "psubscribe",
        -2,
        SUB_FLAGS,
        "Listens for messages published to channels that match one or more patterns.",
        psubscribe,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "punsubscribe",
        -1,
        SUB_FLAGS,
        "Stops listening to messages published to channels that match one or more patterns.",
        punsubscribe,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "ssubscribe",
        -2,
        SUB_FLAGS,
        "Listens for messages published to shard channels.",
        ssubscribe,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "sunsubscribe",
        -1,
        SUB_FLAGS,
        "Stops listening to messages posted to shard channels.",
        sunsubscribe,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "publish",
        3,
        flags![PUBSUB, LOADING, STALE, FAST],
        "Posts a message to a channel.",
        publish,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "spublish",
        3,
        flags![PUBSUB, LOADING, STALE, FAST],
        "Post a message to a shard channel",
        spublish,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "pubsub",
        -2,
        flags![],
        "A container for Pub/Sub commands.",
        container_without_subcommand,
    )
    .since("2.0.0")
    .subcommands(PUBSUB_SUBCOMMANDS),
];

static PUBSUB_SUBCOMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "channels",
        -2,
        flags![PUBSUB, LOADING, STALE],
        "Returns the active channels.",
        pubsub_channels,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "numsub",
        -2,
        flags![PUBSUB, LOADING, STALE],
        "Returns a count of subscribers to channels.",
        pubsub_numsub,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "numpat",
        2,
        flags![PUBSUB, LOADING, STALE],
        "Returns a count of unique pattern subscriptions.",
        pubsub_numpat,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "shardchannels",
        -2,
        flags![PUBSUB, LOADING, STALE],
        "Returns the active shard channels.",
        pubsub_shardchannels,
    )
    .since("2.0.0"),
    Command::row(
        GROUP,
        "shardnumsub",
        -2,
        flags![PUBSUB, LOADING, STALE],
        "Returns the count of subscribers of shard channels.",
        pubsub_shardnumsub,
    )
    .since("2.0.0"),
];

/// Which of the three subscription kinds a command works on.
#[derive(Clone, Copy)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }

    fn set(
        self,
        session: &mut Session,
    ) -> &mut indexmap::IndexSet<Bytes, foldhash::fast::FixedState> {
        let s = &mut session.subscriptions;
        match self {
            Kind::Channel => &mut s.channels,
            Kind::Pattern => &mut s.patterns,
            Kind::Shard => &mut s.shard_channels,
        }
    }

    fn count(self, session: &Session) -> usize {
        match self {
            Kind::Shard => session.subscriptions.shard_channels.len(),
            _ => session.subscriptions.count(),
        }
    }
}

/// Mirror the session's subscription counts where CLIENT LIST and the
/// subscribed-context check read them.
fn publish_counts(session: &Session) {
    let c = &session.client;
    let s = &session.subscriptions;
    c.channels.store(s.channels.len() as u32, Relaxed);
    c.patterns.store(s.patterns.len() as u32, Relaxed);
    c.shard_channels
        .store(s.shard_channels.len() as u32, Relaxed);
}

fn confirm(reply: &mut Reply, word: &[u8], name: Option<&[u8]>, count: usize) {
    let start = reply.len();
    reply.push(3);
    reply.bulk(word);
    match name {
        Some(n) => reply.bulk(n),
        None => reply.null(),
    }
    reply.int(count as i64);
    reply.keep_pushed(start);
}

fn join(ctx: &mut Ctx<'_>, kind: Kind, names: &[Bytes]) {
    for name in names {
        if kind.set(ctx.session).insert(name.clone()) {
            let pubsub = &ctx.shared.pubsub;
            let client = &ctx.session.client;
            match kind {
                Kind::Channel => pubsub.subscribe(ChannelKind::Channel, name, client),
                Kind::Shard => pubsub.subscribe(ChannelKind::Shard, name, client),
                Kind::Pattern => pubsub.psubscribe(name, client),
            };
        }
        publish_counts(ctx.session);
        confirm(
            ctx.reply,
            kind.subscribe_word(),
            Some(name),
            kind.count(ctx.session),
        );
    }
}

fn leave_one(shared: &Shared, session: &mut Session, kind: Kind, name: &[u8]) {
    if kind.set(session).shift_remove(name) {
        let id = session.client.id;
        match kind {
            Kind::Channel => shared.pubsub.unsubscribe(ChannelKind::Channel, name, id),
            Kind::Shard => shared.pubsub.unsubscribe(ChannelKind::Shard, name, id),
            Kind::Pattern => shared.pubsub.punsubscribe(name, id),
        };
    }
    publish_counts(session);
}

fn leave(ctx: &mut Ctx<'_>, kind: Kind, names: &[Bytes]) {
    let names: Vec<Bytes> = if names.is_empty() {
        kind.set(ctx.session).iter().cloned().collect()
    } else {
        names.to_vec()
    };
    if names.is_empty() {
        confirm(
            ctx.reply,
            kind.unsubscribe_word(),
            None,
            kind.count(ctx.session),
        );
        return;
    }
    for name in &names {
        leave_one(ctx.shared, ctx.session, kind, name);
        confirm(
            ctx.reply,
            kind.unsubscribe_word(),
            Some(name),
            kind.count(ctx.session),
        );
    }
}

/// Leave every channel, pattern and shard channel without confirmations
/// (RESET, and a connection closing).
pub(crate) fn leave_all(shared: &Shared, session: &mut Session) {
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        let names: Vec<Bytes> = kind.set(session).iter().cloned().collect();
        for name in names {
            leave_one(shared, session, kind, &name);
        }
    }
}

/// SUBSCRIBE channel [channel ...]
fn subscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    join(ctx, Kind::Channel, &args[1..]);
    Ok(())
}

/// UNSUBSCRIBE [channel [channel ...]]
fn unsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    leave(ctx, Kind::Channel, &args[1..]);
    Ok(())
}

/// PSUBSCRIBE pattern [pattern ...]
fn psubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    join(ctx, Kind::Pattern, &args[1..]);
    Ok(())
}

/// PUNSUBSCRIBE [pattern [pattern ...]]
fn punsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    leave(ctx, Kind::Pattern, &args[1..]);
    Ok(())
}

/// SSUBSCRIBE shardchannel [shardchannel ...]
fn ssubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    join(ctx, Kind::Shard, &args[1..]);
    Ok(())
}

/// SUNSUBSCRIBE [shardchannel [shardchannel ...]]
fn sunsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    leave(ctx, Kind::Shard, &args[1..]);
    Ok(())
}

/// PUBLISH channel message: the number of deliveries.
fn publish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let n = ctx
        .shared
        .pubsub
        .publish(&args[1], &args[2], ctx.shared.uptime_ms());
    ctx.reply.int(n as i64);
    Ok(())
}

/// SPUBLISH shardchannel message
fn spublish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let n = ctx
        .shared
        .pubsub
        .spublish(&args[1], &args[2], ctx.shared.uptime_ms());
    ctx.reply.int(n as i64);
    Ok(())
}

fn list_channels(ctx: &mut Ctx<'_>, kind: ChannelKind, args: &[Bytes]) -> CommandResult {
    if args.len() > 3 {
        let name = match kind {
            ChannelKind::Channel => "pubsub|channels",
            ChannelKind::Shard => "pubsub|shardchannels",
        };
        return Err(crate::error::wrong_arity(name).into());
    }
    let names = ctx
        .shared
        .pubsub
        .channels(kind, args.get(2).map(|p| &p[..]));
    ctx.reply.array(names.len());
    for n in names {
        ctx.reply.bulk(&n);
    }
    Ok(())
}

fn count_subscribers(ctx: &mut Ctx<'_>, kind: ChannelKind, args: &[Bytes]) {
    ctx.reply.array((args.len() - 2) * 2);
    for ch in &args[2..] {
        ctx.reply.bulk(ch);
        ctx.reply.int(ctx.shared.pubsub.numsub(kind, ch) as i64);
    }
}

/// PUBSUB CHANNELS [pattern]
fn pubsub_channels(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    list_channels(ctx, ChannelKind::Channel, args)
}

/// PUBSUB SHARDCHANNELS [pattern]
fn pubsub_shardchannels(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    list_channels(ctx, ChannelKind::Shard, args)
}

/// PUBSUB NUMSUB [channel ...]: pattern subscribers are not counted.
fn pubsub_numsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    count_subscribers(ctx, ChannelKind::Channel, args);
    Ok(())
}

/// PUBSUB SHARDNUMSUB [shardchannel ...]
fn pubsub_shardnumsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    count_subscribers(ctx, ChannelKind::Shard, args);
    Ok(())
}

/// PUBSUB NUMPAT: distinct patterns, not pattern subscriptions.
fn pubsub_numpat(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    ctx.reply.int(ctx.shared.pubsub.numpat() as i64);
    Ok(())
}
