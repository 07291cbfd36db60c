//! Server commands: COMMAND, INFO, CONFIG, DBSIZE, FLUSHDB, FLUSHALL, TIME, ROLE, SHUTDOWN.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use super::args::text;
use super::client::{container_without_subcommand, REDIS_COMPAT_VERSION};
use super::{keyspecs, Command, Ctx, TableEntry};
use crate::commands::Shared;
use crate::config::{hidden_param, listed_params, lookup_param, Config, ParamRef};
use crate::error;
use crate::error::CommandResult;
use crate::flags;
use crate::glob::glob_match_nocase;
use crate::protocol::resp::Reply;

/// The group COMMAND INFO/DOCS report for this family.
const GROUP: &str = "server";

pub(crate) static COMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "command",
        -1,
        flags![LOADING, STALE],
        "Returns detailed information about all commands.",
        command_all,
    )
    .subcommands(COMMAND_SUBCOMMANDS),
    Command::row(
        GROUP,
        "info",
        -1,
        flags![LOADING, STALE],
        "Returns information and statistics about the server.",
        info,
    ),
    Command::row(
        GROUP,
        "config",
        -2,
        flags![],
        "A container for server configuration commands.",
        container_without_subcommand,
    )
    .subcommands(CONFIG_SUBCOMMANDS),
    Command::row(
        "cluster",
        "cluster",
        -2,
        flags![],
        "A container for cluster commands.",
        container_without_subcommand,
    )
    .since("3.0.0")
    .subcommands(CLUSTER_SUBCOMMANDS),
    Command::row(
        "server",
        "dbsize",
        1,
        flags![READONLY, FAST],
        "Returns the number of keys in the database.",
        dbsize,
    ),
    Command::row(
        GROUP,
        "flushdb",
        -1,
        flags![WRITE],
        "Removes all keys from the current database.",
        flushdb,
    ),
    Command::row(
        GROUP,
        "flushall",
        -1,
        flags![WRITE],
        "Removes all keys from all databases.",
        flushall,
    ),
    Command::row(
        GROUP,
        "time",
        1,
        flags![LOADING, STALE, FAST],
        "Returns the server time.",
        time,
    ),
    Command::row(
        GROUP,
        "role",
        1,
        flags![NOSCRIPT, LOADING, STALE, FAST],
        "Returns the replication role.",
        role,
    ),
    Command::row(
        GROUP,
        "shutdown",
        -1,
        flags![ADMIN, NOSCRIPT, LOADING, STALE, NO_MULTI, ALLOW_BUSY],
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        shutdown,
    ),
    Command::row(
        GROUP,
        "save",
        1,
        flags![NO_ASYNC_LOADING, ADMIN, NOSCRIPT, NO_MULTI],
        "Synchronously saves the database(s) to disk.",
        save,
    ),
];

static COMMAND_SUBCOMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "count",
        2,
        flags![LOADING, STALE],
        "Returns a count of commands.",
        command_count,
    ),
    Command::row(
        GROUP,
        "info",
        -2,
        flags![LOADING, STALE],
        "Returns information about one, multiple or all commands.",
        command_info,
    ),
    Command::row(
        GROUP,
        "docs",
        -2,
        flags![LOADING, STALE],
        "Returns documentary information about one, multiple or all commands.",
        command_docs,
    ),
    Command::row(
        GROUP,
        "list",
        -2,
        flags![LOADING, STALE],
        "Returns a list of command names.",
        command_list,
    ),
    Command::row(
        GROUP,
        "getkeys",
        -4,
        flags![LOADING, STALE],
        "Extracts the key names from an arbitrary command.",
        command_getkeys,
    ),
    Command::row(
        GROUP,
        "getkeysandflags",
        -4,
        flags![LOADING, STALE],
        "Extracts the key names and access flags for an arbitrary command.",
        command_getkeysandflags,
    ),
];

/// CLUSTER's subcommands: herald runs without cluster support, so each answers
/// as a Redis with `cluster-enabled no` does.
#[rustfmt::skip]
static CLUSTER_SUBCOMMANDS: &[Command] = &[
    Command::row("cluster", "help", 2, flags![LOADING, STALE], "Show helpful text about the different subcommands", cluster_disabled).since("5.0.0"),
    Command::row("cluster", "info", 2, flags![STALE], "Provides info about Redis Cluster node state", cluster_disabled).since("3.0.0"),
    Command::row("cluster", "nodes", 2, flags![STALE], "Get Cluster config for the node", cluster_disabled).since("3.0.0"),
    Command::row("cluster", "slots", 2, flags![STALE], "Get array of Cluster slot to node mappings", cluster_disabled).since("3.0.0"),
    Command::row("cluster", "shards", 2, flags![STALE], "Get array of cluster slots to node mappings", cluster_disabled).since("7.0.0"),
    Command::row("cluster", "myid", 2, flags![STALE], "Return the node id", cluster_disabled).since("3.0.0"),
    Command::row("cluster", "keyslot", 3, flags![STALE], "Returns the hash slot of the specified key", cluster_disabled).since("3.0.0"),
    Command::row("cluster", "countkeysinslot", 3, flags![STALE], "Return the number of local keys in the specified hash slot", cluster_disabled).since("3.0.0"),
    Command::row("cluster", "getkeysinslot", 4, flags![STALE], "Return local key names in the specified hash slot", cluster_disabled).since("3.0.0"),
    Command::row("cluster", "links", 2, flags![STALE], "Returns a list of all TCP links to and from peer nodes in cluster", cluster_disabled).since("7.0.0"),
    Command::row("cluster", "reset", -2, flags![ADMIN, STALE, NOSCRIPT], "Reset a Redis Cluster node", cluster_disabled).since("3.0.0"),
];

/// CLUSTER <subcommand>: cluster support is disabled.
fn cluster_disabled(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    Err(error::CLUSTER_DISABLED.into())
}

static CONFIG_SUBCOMMANDS: &[Command] = &[
    Command::row(
        GROUP,
        "get",
        -3,
        flags![ADMIN, NOSCRIPT, LOADING, STALE],
        "Returns the effective values of configuration parameters.",
        config_get,
    ),
    Command::row(
        GROUP,
        "set",
        -4,
        flags![ADMIN, NOSCRIPT, LOADING, STALE],
        "Sets configuration parameters in-flight.",
        config_set,
    ),
    Command::row(
        GROUP,
        "rewrite",
        2,
        flags![ADMIN, NOSCRIPT, LOADING, STALE],
        "Persists the effective configuration to file.",
        config_rewrite,
    ),
    Command::row(
        GROUP,
        "resetstat",
        2,
        flags![ADMIN, NOSCRIPT, LOADING, STALE],
        "Resets the server's statistics.",
        config_resetstat,
    ),
];

/// One COMMAND INFO entry: name, arity, flags, first key, last key, step,
/// ACL categories, tips, key specs, subcommands.
fn command_info_entry(r: &mut Reply, table: &super::CommandTable, e: &TableEntry) {
    let c = e.command;
    let specs = keyspecs::specs_of(e);
    r.array(10);
    r.bulk(e.full_name.as_bytes());
    r.int(c.arity as i64);
    let mut names: Vec<&str> = c.flags.names().collect();
    if keyspecs::movable(&specs) {
        // Redis lists movablekeys after no_multi, before allow_busy.
        let at = names
            .iter()
            .position(|n| *n == "allow_busy")
            .unwrap_or(names.len());
        names.insert(at, "movablekeys");
    }
    r.set(names.len());
    for n in names {
        r.simple(n);
    }
    r.int(c.keys.0 as i64);
    r.int(c.keys.1 as i64);
    r.int(c.keys.2 as i64);
    let cats = keyspecs::acl_categories(e);
    r.set(cats.len());
    for cat in cats {
        r.simple(&format!("@{cat}"));
    }
    let tips = keyspecs::meta(&e.full_name).map_or(&[][..], |m| m.tips);
    r.set(tips.len());
    for tip in tips {
        r.bulk(tip.as_bytes());
    }
    r.array(specs.len());
    for spec in &specs {
        key_spec_entry(r, spec);
    }
    r.array(e.subs.len());
    for &(_, i) in &e.subs {
        command_info_entry(r, table, table.entry(super::CommandId(i)));
    }
}

/// One key spec as COMMAND INFO shows it: flags, begin_search, find_keys.
fn key_spec_entry(r: &mut Reply, spec: &keyspecs::KeySpec) {
    use keyspecs::{Begin, Find};
    r.map(3);
    r.bulk(b"flags");
    r.set(spec.flags.len());
    for f in spec.flags {
        r.simple(f);
    }
    r.bulk(b"begin_search");
    r.map(2);
    r.bulk(b"type");
    match spec.begin {
        Begin::Index(pos) => {
            r.bulk(b"index");
            r.bulk(b"spec");
            r.map(1);
            r.bulk(b"index");
            r.int(pos as i64);
        }
        Begin::Keyword(word, startfrom) => {
            r.bulk(b"keyword");
            r.bulk(b"spec");
            r.map(2);
            r.bulk(b"keyword");
            r.bulk(word.as_bytes());
            r.bulk(b"startfrom");
            r.int(startfrom as i64);
        }
        Begin::BeginUnknown => {
            r.bulk(b"unknown");
            r.bulk(b"spec");
            r.map(0);
        }
    }
    r.bulk(b"find_keys");
    r.map(2);
    r.bulk(b"type");
    let (kind, fields): (&[u8], [(&[u8], i32); 3]) = match spec.find {
        Find::Range(lastkey, step, limit) => (
            b"range",
            [(b"lastkey", lastkey), (b"keystep", step), (b"limit", limit)],
        ),
        Find::Keynum(keynumidx, firstkey, step) => (
            b"keynum",
            [
                (b"keynumidx", keynumidx),
                (b"firstkey", firstkey),
                (b"keystep", step),
            ],
        ),
        Find::FindUnknown => {
            r.bulk(b"unknown");
            r.bulk(b"spec");
            r.map(0);
            return;
        }
    };
    r.bulk(kind);
    r.bulk(b"spec");
    r.map(3);
    for (name, value) in fields {
        r.bulk(name);
        r.int(value as i64);
    }
}

/// COMMAND GETKEYS command [arg ...]
fn command_getkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    getkeys(ctx, args, false)
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
fn command_getkeysandflags(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    getkeys(ctx, args, true)
}

/// The keys (and their flags) of the command in `args[2..]`, as Redis's
/// getKeysSubcommandImpl: the command (or subcommand) must exist, have keys
/// and fit its arity, then its key specs must fit its arguments.
fn getkeys(ctx: &mut Ctx<'_>, args: &[Bytes], with_flags: bool) -> CommandResult {
    let table = &ctx.shared.commands;
    let target = &args[2..];
    let Some(e) = lookup_for_getkeys(table, target) else {
        return Err(error::GETKEYS_INVALID_COMMAND.into());
    };
    let specs = keyspecs::specs_of(e);
    if specs.iter().all(|s| s.flags.contains(&"not_key")) {
        return Err(error::GETKEYS_NO_KEYS.into());
    }
    if !e.command.arity_ok(target.len()) {
        return Err(error::GETKEYS_WRONG_ARITY.into());
    }
    let keys = keyspecs::extract(e, target)
        .map_err(|_| crate::error::CommandError::from(error::GETKEYS_INVALID_ARGUMENTS))?;
    ctx.reply.array(keys.len());
    for (pos, flags) in keys {
        if with_flags {
            ctx.reply.array(2);
            ctx.reply.bulk(&target[pos]);
            ctx.reply.set(flags.len());
            for f in flags {
                ctx.reply.simple(f);
            }
        } else {
            ctx.reply.bulk(&target[pos]);
        }
    }
    Ok(())
}

/// Redis's lookupCommand for GETKEYS: a container with an argument must name
/// one of its subcommands.
fn lookup_for_getkeys<'t>(
    table: &'t super::CommandTable,
    target: &[Bytes],
) -> Option<&'t TableEntry> {
    let top = table.entry(table.lookup(&target[0])?);
    if top.subs.is_empty() || target.len() < 2 {
        return Some(top);
    }
    top.subs
        .iter()
        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(&target[1]))
        .map(|&(_, i)| table.entry(super::CommandId(i)))
}

/// COMMAND: information about every command.
fn command_all(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    let table = &ctx.shared.commands;
    ctx.reply.array(table.len());
    for e in table.top_level() {
        command_info_entry(ctx.reply, table, e);
    }
    Ok(())
}

/// COMMAND COUNT
fn command_count(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    ctx.reply.int(ctx.shared.commands.len() as i64);
    Ok(())
}

/// Resolve `name` or `container|sub` to a table entry.
fn find_entry<'t>(table: &'t super::CommandTable, name: &[u8]) -> Option<&'t TableEntry> {
    let name = text(name).to_lowercase();
    table.all_entries().find(|e| e.full_name == name)
}

/// COMMAND INFO [command-name ...]: null for unknown names.
fn command_info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let table = &ctx.shared.commands;
    if args.len() == 2 {
        return command_all(ctx, args);
    }
    ctx.reply.array(args.len() - 2);
    for name in &args[2..] {
        match find_entry(table, name) {
            Some(e) => command_info_entry(ctx.reply, table, e),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

fn command_doc_entry(r: &mut Reply, table: &super::CommandTable, e: &TableEntry) {
    let c = e.command;
    let has_subs = !e.subs.is_empty();
    r.map(3 + has_subs as usize);
    r.bulk(b"summary");
    r.bulk(c.summary.as_bytes());
    r.bulk(b"since");
    r.bulk(c.since.as_bytes());
    r.bulk(b"group");
    r.bulk(c.group.as_bytes());
    if has_subs {
        r.bulk(b"subcommands");
        r.map(e.subs.len());
        for &(_, i) in &e.subs {
            let sub = table.entry(super::CommandId(i));
            r.bulk(sub.full_name.as_bytes());
            command_doc_entry(r, table, sub);
        }
    }
}

/// COMMAND DOCS [command-name ...]: a map of name to summary, since, group.
fn command_docs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let table = &ctx.shared.commands;
    let entries: Vec<&TableEntry> = if args.len() == 2 {
        table.top_level().collect()
    } else {
        args[2..]
            .iter()
            .filter_map(|n| find_entry(table, n))
            .collect()
    };
    ctx.reply.map(entries.len());
    for e in entries {
        ctx.reply.bulk(e.full_name.as_bytes());
        command_doc_entry(ctx.reply, table, e);
    }
    Ok(())
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
///
/// Every command and subcommand by full name (`config|get`); each container's
/// HELP counts as a subcommand (`client|help`), as in Redis's table.
fn command_list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let table = &ctx.shared.commands;
    enum Filter {
        All,
        Module,
        AclCat(String),
        Pattern(Bytes),
    }
    let filter = match args.len() {
        2 => Filter::All,
        5 if args[2].eq_ignore_ascii_case(b"filterby") => match &args[3].to_ascii_lowercase()[..] {
            b"module" => Filter::Module,
            b"aclcat" => Filter::AclCat(text(&args[4]).to_lowercase()),
            b"pattern" => Filter::Pattern(args[4].clone()),
            _ => return Err(error::SYNTAX.into()),
        },
        _ => return Err(error::SYNTAX.into()),
    };
    let mut names: Vec<String> = Vec::new();
    for e in table.all_entries() {
        let keep = match &filter {
            Filter::All => true,
            Filter::Module => false,
            Filter::AclCat(cat) => keyspecs::acl_categories(e).contains(&cat.as_str()),
            Filter::Pattern(p) => glob_match_nocase(p, e.full_name.as_bytes()),
        };
        if keep {
            names.push(e.full_name.clone());
        }
        // The implicit HELP subcommand of a container without its own.
        if !e.subs.is_empty() && !e.subs.iter().any(|(n, _)| *n == "help") {
            let help = format!("{}|help", e.full_name);
            let keep = match &filter {
                Filter::All => true,
                Filter::Module => false,
                // HELP is @slow (and @connection for CLIENT, ... : not modelled).
                Filter::AclCat(cat) => cat == "slow",
                Filter::Pattern(p) => glob_match_nocase(p, help.as_bytes()),
            };
            if keep {
                names.push(help);
            }
        }
    }
    ctx.reply.array(names.len());
    for n in names {
        ctx.reply.bulk(n.as_bytes());
    }
    Ok(())
}

/// Memory figures from jemalloc and the kernel.
pub(crate) struct MemoryFigures {
    pub(crate) used: u64,
    pub(crate) rss: u64,
    pub(crate) peak_rss: u64,
}

pub(crate) fn memory_figures() -> MemoryFigures {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    let used = stats::allocated::read().unwrap_or(0) as u64;
    let (rss, peak_rss) = process_rss();
    MemoryFigures {
        used,
        rss: if rss > 0 {
            rss
        } else {
            stats::resident::read().unwrap_or(0) as u64
        },
        peak_rss,
    }
}

/// Resident set size and its peak, in bytes, from /proc/self/status.
fn process_rss() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (0, 0);
    };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / 1024.0 / 1024.0)
    } else {
        format!("{:.2}G", n / 1024.0 / 1024.0 / 1024.0)
    }
}

/// A section renderer: appends the section's `field:value` lines.
type InfoRender = fn(&Shared, &Config, &mut String);

/// Every INFO section, in INFO's order: name, title, renderer, and whether
/// plain INFO (`default`) shows it; `all` shows every one.
const INFO_SECTIONS: &[(&str, &str, InfoRender, bool)] = &[
    ("server", "Server", info_server, true),
    ("clients", "Clients", info_clients, true),
    ("memory", "Memory", info_memory, true),
    ("persistence", "Persistence", info_persistence, true),
    ("stats", "Stats", info_stats, true),
    ("replication", "Replication", info_replication, true),
    ("cpu", "CPU", info_cpu, true),
    ("commandstats", "Commandstats", info_commandstats, false),
    ("errorstats", "Errorstats", info_errorstats, false),
    ("cluster", "Cluster", info_cluster, true),
    ("keyspace", "Keyspace", info_keyspace, true),
];

/// The sections INFO `default` (or `all`, when `default_only` is false) shows.
fn section_names(default_only: bool) -> impl Iterator<Item = String> {
    INFO_SECTIONS
        .iter()
        .filter(move |(.., default)| *default || !default_only)
        .map(|(name, ..)| name.to_string())
}

/// Render one INFO section; unknown sections render nothing, as in Redis.
pub(crate) fn info_section(shared: &Shared, section: &str, out: &mut String) {
    let Some((_, title, render, _)) = INFO_SECTIONS.iter().find(|(name, ..)| *name == section)
    else {
        return;
    };
    if !out.is_empty() {
        out.push_str("\r\n");
    }
    let _ = write!(out, "# {title}\r\n");
    let config = shared.config.read().clone();
    render(shared, &config, out);
}

fn info_server(shared: &Shared, config: &Config, out: &mut String) {
    let uptime = shared.started.elapsed().as_secs();
    let port = shared
        .resp_addrs
        .read()
        .first()
        .map(|a| a.port())
        .unwrap_or(config.port);
    let _ = write!(
        out,
        "redis_version:{REDIS_COMPAT_VERSION}\r\nherald_version:{}\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:{}\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:10\r\nio_threads_active:{}\r\nexecutable:{}\r\nconfig_file:{}\r\n",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        usize::BITS,
        std::process::id(),
        shared.run_id,
        port,
        crate::store::unix_ms() * 1000,
        uptime,
        uptime / 86400,
        config.threads,
        std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
        shared.config_source,
    );
}

fn info_clients(shared: &Shared, config: &Config, out: &mut String) {
    let clients = shared.clients.snapshot();
    let pubsub = clients.iter().filter(|c| c.is_subscriber()).count();
    let max_out = clients
        .iter()
        .map(|c| c.outbox.queued_bytes())
        .max()
        .unwrap_or(0);
    let max_in = clients
        .iter()
        .map(|c| c.query_buffer_bytes.load(Relaxed))
        .max()
        .unwrap_or(0);
    let _ = write!(
        out,
        "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{}\r\nclient_recent_max_output_buffer:{}\r\nblocked_clients:{}\r\ntracking_clients:0\r\npubsub_clients:{}\r\nwatching_clients:0\r\nclients_in_timeout_table:0\r\ntotal_watched_keys:0\r\ntotal_blocking_keys:{}\r\n",
        clients.len(),
        config.maxclients,
        max_in,
        max_out,
        shared.blocking.blocked_clients(),
        pubsub,
        shared.blocking.blocking_keys(),
    );
}

fn info_memory(shared: &Shared, config: &Config, out: &mut String) {
    let m = memory_figures();
    let ratio = if m.used > 0 {
        m.rss as f64 / m.used as f64
    } else {
        0.0
    };
    let _ = write!(
        out,
        "used_memory:{}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{}\r\nused_memory_peak_human:{}\r\nused_memory_dataset:{}\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmem_fragmentation_ratio:{:.2}\r\nmem_allocator:jemalloc\r\n",
        m.used,
        human_bytes(m.used),
        m.rss,
        human_bytes(m.rss),
        m.peak_rss,
        human_bytes(m.peak_rss),
        shared.store.used_bytes(),
        config.maxmemory,
        human_bytes(config.maxmemory),
        config.maxmemory_policy.name(),
        ratio,
    );
    super::functions::info_memory_fields(shared, out);
}

fn info_persistence(shared: &Shared, _config: &Config, out: &mut String) {
    let dirty = shared.stats.dirty.load(Relaxed);
    let _ = write!(
        out,
        "loading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:{dirty}\r\n"
    );
    out.push_str("rdb_bgsave_in_progress:0\r\nrdb_last_bgsave_status:ok\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\n");
}

fn info_stats(shared: &Shared, _config: &Config, out: &mut String) {
    let s = &shared.stats;
    let _ = write!(
        out,
        "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsub_shardchannels:{}\r\ntotal_error_replies:{}\r\nclient_output_buffer_limit_disconnections:{}\r\n",
        s.total_connections_received.load(Relaxed),
        s.total_commands_processed.load(Relaxed),
        s.total_net_input_bytes.load(Relaxed),
        s.total_net_output_bytes.load(Relaxed),
        s.rejected_connections.load(Relaxed),
        shared.store.expired_keys.load(Relaxed),
        shared.store.evicted_keys.load(Relaxed),
        s.keyspace_hits.load(Relaxed),
        s.keyspace_misses.load(Relaxed),
        shared.pubsub.channel_count(crate::pubsub::ChannelKind::Channel),
        shared.pubsub.numpat(),
        shared.pubsub.channel_count(crate::pubsub::ChannelKind::Shard),
        s.total_error_replies.load(Relaxed),
        shared.pubsub.limit_disconnections.load(Relaxed),
    );
}

fn info_replication(_shared: &Shared, _config: &Config, out: &mut String) {
    out.push_str("role:master\r\nconnected_slaves:0\r\nmaster_repl_offset:0\r\n");
}

fn info_cpu(_shared: &Shared, _config: &Config, out: &mut String) {
    let (user, sys) = crate::stats::cpu_seconds();
    let _ = write!(out, "used_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\n");
}

fn info_cluster(_shared: &Shared, _config: &Config, out: &mut String) {
    out.push_str("cluster_enabled:0\r\n");
}

fn info_commandstats(shared: &Shared, _config: &Config, out: &mut String) {
    for e in shared.commands.all_entries() {
        let calls = e.stats.calls.load(Relaxed);
        let rejected = e.stats.rejected_calls.load(Relaxed);
        if calls == 0 && rejected == 0 {
            continue;
        }
        let usec = e.stats.usec.load(Relaxed);
        let per_call = if calls > 0 {
            usec as f64 / calls as f64
        } else {
            0.0
        };
        let _ =
            write!(
            out,
            "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
            e.full_name, calls, usec, per_call, rejected, e.stats.failed_calls.load(Relaxed),
        );
    }
}

/// Error replies by code: `errorstat_<CODE>:count=<n>`.
fn info_errorstats(shared: &Shared, _config: &Config, out: &mut String) {
    for (code, count) in shared.stats.error_codes.lock().iter() {
        let _ = write!(
            out,
            "errorstat_{}:count={count}\r\n",
            String::from_utf8_lossy(code)
        );
    }
}

fn info_keyspace(shared: &Shared, _config: &Config, out: &mut String) {
    for i in 0..shared.store.databases() {
        let db = shared.store.db(i);
        let (keys, expires, avg_ttl) = db_keyspace_figures(db, crate::store::unix_ms());
        if keys > 0 {
            let _ = write!(
                out,
                "db{i}:keys={keys},expires={expires},avg_ttl={avg_ttl}\r\n"
            );
        }
    }
}

/// Keys, keys with a TTL, and the average remaining TTL in ms of those
/// (estimated from up to 32 entries per shard, as Redis estimates it by sampling).
fn db_keyspace_figures(db: &crate::store::Db, now_ms: u64) -> (usize, usize, u64) {
    let (mut keys, mut expires, mut ttl_sum, mut ttl_n) = (0usize, 0usize, 0u64, 0u64);
    for shard in db.shards() {
        keys += shard.map.len();
        expires += shard.volatile;
        if shard.volatile > 0 {
            for e in shard.map.iter().filter(|e| e.expires_at_ms != 0).take(32) {
                ttl_sum += e.expires_at_ms.saturating_sub(now_ms);
                ttl_n += 1;
            }
        }
    }
    (keys, expires, ttl_sum.checked_div(ttl_n).unwrap_or(0))
}

/// INFO [section [section ...]]
fn info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let mut sections: Vec<String> = Vec::new();
    for a in &args[1..] {
        let name = text(a).to_lowercase();
        match name.as_str() {
            "all" | "everything" => sections.extend(section_names(false)),
            "default" => sections.extend(section_names(true)),
            _ => sections.push(name),
        }
    }
    if sections.is_empty() {
        sections.extend(section_names(true));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = String::new();
    for s in sections {
        if seen.insert(s.clone()) {
            info_section(ctx.shared, &s, &mut out);
        }
    }
    ctx.reply.verbatim(out.as_bytes());
    Ok(())
}

/// CONFIG GET parameter [parameter ...]: glob patterns on names; a map of name to value.
fn config_get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let config = ctx.shared.config.read().clone();
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let add = |name: &'static str, p: ParamRef, pairs: &mut Vec<(&str, String)>| {
        if !pairs.iter().any(|(n, _)| *n == name) {
            pairs.push((name, p.get(&config)));
        }
    };
    for pattern in &args[2..] {
        for (name, p) in listed_params() {
            if glob_match_nocase(pattern, name.as_bytes()) {
                add(name, p, &mut pairs);
            }
        }
        // Hidden parameters answer only to their exact name.
        if let Some((name, p)) = hidden_param(&text(pattern)) {
            add(name, p, &mut pairs);
        }
    }
    ctx.reply.map(pairs.len());
    for (name, value) in pairs {
        ctx.reply.bulk(name.as_bytes());
        ctx.reply.bulk(value.as_bytes());
    }
    Ok(())
}

/// CONFIG SET parameter value [parameter value ...]: all or nothing, checked
/// as Redis's configSetCommand: every name first (the first unknown one, an
/// immutable one, a duplicate), then each value in order; on any error no
/// value changes.
fn config_set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if !args.len().is_multiple_of(2) {
        return Err(error::SYNTAX.into());
    }
    let current = ctx.shared.config.read().clone();
    let mut found: Vec<(String, ParamRef, String)> = Vec::new();
    let mut refused: Option<(String, &str)> = None;
    for pair in args[2..].chunks(2) {
        let name = text(&pair[0]);
        let value = text(&pair[1]);
        let Some(param) = lookup_param(&name) else {
            if refused.is_some() {
                continue;
            }
            return Err(error::config_set_unknown(&name).into());
        };
        if refused.is_some() {
            continue;
        }
        // herald's own fixed parameters accept their current value (a no-op).
        let unchanged = matches!(param, ParamRef::Herald(_)) && param.get(&current) == value;
        if !param.mutable() && !unchanged {
            refused = Some((
                name.clone(),
                if param.name() == "port" {
                    error::CONFIG_PORT_FIXED
                } else {
                    "can't set immutable config"
                },
            ));
        } else if found.iter().any(|(n, _, _)| n.eq_ignore_ascii_case(&name)) {
            // As Redis 7.0: a name and its alias are not duplicates of each other.
            refused = Some((name.clone(), "duplicate parameter"));
        }
        found.push((name, param, value));
    }
    if let Some((name, reason)) = refused {
        return Err(error::config_set_failed(&name, reason).into());
    }
    let mut candidate = current.clone();
    for (name, param, value) in &found {
        if !param.mutable() {
            continue;
        }
        if let Err(reason) = param.set(&mut candidate, value) {
            return Err(error::config_set_failed(name, &reason).into());
        }
    }
    *ctx.shared.config.write() = candidate;
    ctx.shared.config_changed();
    ctx.reply.ok();
    Ok(())
}

/// CONFIG REWRITE: herald never rewrites its configuration file.
fn config_rewrite(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    if ctx.shared.config_source == "embedded defaults" {
        Err(error::NO_CONFIG_FILE.into())
    } else {
        Err(error::CONFIG_REWRITE_UNSUPPORTED.into())
    }
}

/// CONFIG RESETSTAT
fn config_resetstat(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    ctx.shared.stats.reset();
    ctx.shared.pubsub.limit_disconnections.store(0, Relaxed);
    ctx.shared.store.expired_keys.store(0, Relaxed);
    ctx.shared.store.evicted_keys.store(0, Relaxed);
    ctx.shared.commands.reset_stats();
    ctx.reply.ok();
    Ok(())
}

/// DBSIZE
fn dbsize(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    ctx.reply
        .int(ctx.shared.store.db(ctx.session.db()).len() as i64);
    Ok(())
}

/// Parse the optional ASYNC|SYNC of FLUSHDB / FLUSHALL (both flush at once here).
fn flush_mode_ok(args: &[Bytes]) -> bool {
    match args.len() {
        1 => true,
        2 => args[1].eq_ignore_ascii_case(b"async") || args[1].eq_ignore_ascii_case(b"sync"),
        _ => false,
    }
}

/// FLUSHDB [ASYNC|SYNC]
fn flushdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if !flush_mode_ok(args) {
        return Err(error::SYNTAX.into());
    }
    let store = &ctx.shared.store;
    ctx.dirty(store.db(ctx.session.db()).len() as u64);
    store.flush_db(ctx.session.db());
    // Clients blocked in XREADGROUP on a flushed stream are told it is gone.
    ctx.shared.blocking.signal_db(ctx.session.db());
    ctx.reply.ok();
    Ok(())
}

/// FLUSHALL [ASYNC|SYNC]
fn flushall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    if !flush_mode_ok(args) {
        return Err(error::SYNTAX.into());
    }
    let store = &ctx.shared.store;
    ctx.dirty(
        (0..store.databases())
            .map(|db| store.db(db).len() as u64)
            .sum(),
    );
    store.flush_all();
    // Clients blocked in XREADGROUP on a flushed stream are told it is gone.
    for db in 0..store.databases() {
        ctx.shared.blocking.signal_db(db);
    }
    ctx.reply.ok();
    Ok(())
}

/// TIME: [unix seconds, microseconds] as bulk strings.
fn time(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.reply.array(2);
    ctx.reply.bulk(now.as_secs().to_string().as_bytes());
    ctx.reply.bulk(now.subsec_micros().to_string().as_bytes());
    Ok(())
}

/// ROLE: herald is always a master with no replicas.
fn role(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    ctx.reply.array(3);
    ctx.reply.bulk(b"master");
    ctx.reply.int(0);
    ctx.reply.array(0);
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: graceful shutdown; no reply on success.
/// SAVE: herald has no persistence, so the save fails as Redis's does when it
/// cannot write its RDB file.
fn save(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> CommandResult {
    Err(error::SAVE_FAILED.into())
}

fn shutdown(ctx: &mut Ctx<'_>, args: &[Bytes]) -> CommandResult {
    let mut nosave = false;
    for a in &args[1..] {
        let a = a.to_ascii_lowercase();
        match &a[..] {
            b"nosave" => nosave = true,
            b"save" | b"now" | b"force" => {}
            b"abort" => {
                return Err(error::NO_SHUTDOWN_IN_PROGRESS.into());
            }
            _ => {
                return Err(error::SYNTAX.into());
            }
        }
    }
    // During a busy script only SHUTDOWN NOSAVE may stop the server (Redis's
    // shutdownCommand); the script then stops at its next hook.
    if !nosave {
        if let Some(busy) = super::scripting::busy_refusal(ctx.shared, super::Flags(0)) {
            return Err(busy.into());
        }
    }
    tracing::warn!(
        client = ctx.session.client.id,
        "SHUTDOWN requested by client"
    );
    ctx.session.close_after_reply = true;
    ctx.shared.shutdown.cancel();
    Ok(())
}
