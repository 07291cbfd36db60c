//! COMMAND, INFO, CONFIG, DBSIZE, FLUSHDB, FLUSHALL, TIME, ROLE at the wire.

mod common;

use std::time::Duration;

use common::Server;

fn read_text(c: &mut common::Raw) -> String {
    String::from_utf8(c.read_available(Duration::from_millis(300))).unwrap()
}

#[test]
fn command_count_info_docs_list() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"COMMAND COUNT\r\n");
    let count: i64 = read_text(&mut c)
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    assert!(count >= 15, "{count}");
    c.roundtrip(
        b"COMMAND INFO get nosuch\r\n",
        // Byte for byte what redis-server 7.0.15 answers.
        b"*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n$-1\r\n",
    );
    c.roundtrip(
        b"COMMAND DOCS echo\r\n",
        b"*2\r\n$4\r\necho\r\n*6\r\n$7\r\nsummary\r\n$25\r\nReturns the given string.\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n",
    );
    c.send(b"COMMAND LIST\r\n");
    let list = read_text(&mut c);
    for name in [
        "$4\r\nping\r\n",
        "$14\r\nclient|setname\r\n",
        "$10\r\nconfig|get\r\n",
    ] {
        assert!(list.contains(name), "{name} missing from {list}");
    }
    c.roundtrip(
        b"COMMAND LIST FILTERBY PATTERN cl*|k*\r\n",
        b"*2\r\n$11\r\nclient|kill\r\n$15\r\ncluster|keyslot\r\n",
    );
    c.roundtrip(
        b"COMMAND FOO\r\n",
        b"-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n",
    );
    c.send(b"COMMAND\r\n");
    let all = read_text(&mut c);
    assert!(all.starts_with(&format!("*{count}\r\n")), "{}", &all[..40]);
}

#[test]
fn info_sections_use_redis_field_names() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"SET k v\r\n", b"+OK\r\n");
    c.send(b"INFO\r\n");
    let info = read_text(&mut c);
    for field in [
        "# Server\r\n",
        "redis_version:7.4.0\r\n",
        "redis_mode:standalone\r\n",
        "process_id:",
        &format!("tcp_port:{}\r\n", server.port()),
        "uptime_in_seconds:",
        "# Clients\r\n",
        "connected_clients:1\r\n",
        "maxclients:10000\r\n",
        "# Memory\r\n",
        "used_memory:",
        "used_memory_rss:",
        "mem_fragmentation_ratio:",
        "mem_allocator:jemalloc\r\n",
        "# Stats\r\n",
        "total_connections_received:1\r\n",
        "total_commands_processed:",
        "keyspace_hits:",
        "# Keyspace\r\n",
        "db0:keys=1,expires=0,avg_ttl=0\r\n",
    ] {
        assert!(info.contains(field), "INFO lacks {field:?}:\n{info}");
    }
    assert!(
        !info.contains("# Commandstats"),
        "commandstats is not a default section"
    );
    c.send(b"INFO commandstats\r\n");
    let stats = read_text(&mut c);
    assert!(stats.contains("cmdstat_set:calls=1,usec="), "{stats}");
    assert!(stats.contains("rejected_calls=0,failed_calls=0"), "{stats}");
    c.send(b"INFO server clients\r\n");
    let two = read_text(&mut c);
    assert!(
        two.contains("# Server") && two.contains("# Clients") && !two.contains("# Memory"),
        "{two}"
    );
    c.roundtrip(b"INFO nosuchsection\r\n", b"$0\r\n\r\n");
}

#[test]
fn used_memory_is_real() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"INFO memory\r\n");
    let info = read_text(&mut c);
    let field = |name: &str| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {info}"))
    };
    let used = field("used_memory:");
    let rss = field("used_memory_rss:");
    assert!(used > 100_000, "used_memory {used}");
    assert!(rss > used / 2, "rss {rss} used {used}");
}

#[test]
fn commandstats_count_rejected_and_failed() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"GET\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    c.roundtrip(b"SELECT 99\r\n", b"-ERR DB index is out of range\r\n");
    c.send(b"INFO commandstats\r\n");
    let stats = read_text(&mut c);
    assert!(
        stats.contains(
            "cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"
        ),
        "{stats}"
    );
    assert!(
        stats.contains("cmdstat_select:calls=1,")
            && stats.contains("rejected_calls=0,failed_calls=1"),
        "{stats}"
    );
    c.roundtrip(b"CONFIG RESETSTAT\r\n", b"+OK\r\n");
    c.send(b"INFO commandstats\r\n");
    let after = read_text(&mut c);
    assert!(!after.contains("cmdstat_get"), "{after}");
}

#[test]
fn config_get_set() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"CONFIG GET save appendonly\r\n",
        b"*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n",
    );
    c.roundtrip(
        b"CONFIG GET maxc*\r\n",
        b"*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n",
    );
    c.roundtrip(b"CONFIG GET nosuch\r\n", b"*0\r\n");
    c.roundtrip(b"CONFIG SET maxclients 50 timeout 30\r\n", b"+OK\r\n");
    c.roundtrip(
        b"CONFIG GET maxclients timeout\r\n",
        b"*4\r\n$10\r\nmaxclients\r\n$2\r\n50\r\n$7\r\ntimeout\r\n$2\r\n30\r\n",
    );
    c.roundtrip(
        b"CONFIG SET foo bar\r\n",
        b"-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n",
    );
    c.roundtrip(b"CONFIG SET port 1\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port: herald does not move its listener at runtime\r\n");
    c.roundtrip(b"CONFIG SET maxclients abc\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n");
    // Entries keep key lengths in 32 bits: no bulk string may be longer.
    c.roundtrip(b"CONFIG SET proto-max-bulk-len 4gb\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value of at most 4294967295 bytes\r\n");
    c.roundtrip(b"CONFIG SET proto-max-bulk-len 4294967295\r\n", b"+OK\r\n");
    c.roundtrip(b"CONFIG SET proto-max-bulk-len 512mb\r\n", b"+OK\r\n");
    c.roundtrip(
        b"CONFIG SET maxclients\r\n",
        b"-ERR wrong number of arguments for 'config|set' command\r\n",
    );
    c.roundtrip(
        b"CONFIG SET maxclients 1 timeout\r\n",
        b"-ERR syntax error\r\n",
    );
    // All or nothing: a bad second pair leaves the first unchanged.
    c.roundtrip(b"CONFIG SET maxclients 7 timeout x\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer\r\n");
    c.roundtrip(
        b"CONFIG GET maxclients\r\n",
        b"*2\r\n$10\r\nmaxclients\r\n$2\r\n50\r\n",
    );
    c.roundtrip(
        b"CONFIG SET client-output-buffer-limit \"pubsub 1mb 512kb 10\"\r\n",
        b"+OK\r\n",
    );
    c.roundtrip(
        b"CONFIG GET client-output-buffer-limit\r\n",
        b"*2\r\n$26\r\nclient-output-buffer-limit\r\n$65\r\nnormal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 10\r\n",
    );
    c.roundtrip(
        b"CONFIG GET\r\n",
        b"-ERR wrong number of arguments for 'config|get' command\r\n",
    );
}

#[test]
fn dbsize_flushdb_flushall() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"SET a 1\r\nSET b 2\r\nSELECT 1\r\nSET c 3\r\nSELECT 0\r\n",
        b"+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n",
    );
    c.roundtrip(b"DBSIZE\r\n", b":2\r\n");
    c.roundtrip(b"FLUSHDB foo\r\n", b"-ERR syntax error\r\n");
    c.roundtrip(b"FLUSHDB ASYNC\r\n", b"+OK\r\n");
    c.roundtrip(b"DBSIZE\r\n", b":0\r\n");
    c.roundtrip(b"SELECT 1\r\nDBSIZE\r\n", b"+OK\r\n:1\r\n");
    c.roundtrip(b"FLUSHALL SYNC\r\n", b"+OK\r\n");
    c.roundtrip(b"DBSIZE\r\n", b":0\r\n");
}

#[test]
fn time_and_role() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"ROLE\r\n", b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
    c.roundtrip(
        b"TIME x\r\n",
        b"-ERR wrong number of arguments for 'time' command\r\n",
    );
    c.send(b"TIME\r\n");
    let t = read_text(&mut c);
    let parts: Vec<&str> = t.split("\r\n").collect();
    let secs: u64 = parts[2].parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2, "{t}");
    let usec: u64 = parts[4].parse().unwrap();
    assert!(usec < 1_000_000);
}

#[test]
fn config_set_several_atomic_with_redis_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"CONFIG SET maxmemory 10000001 repl-backlog-size 10000002 save \"3000 5\"\r\n",
        b"+OK\r\n",
    );
    c.roundtrip(
        b"CONFIG GET maxmemory repl-backlog-size save\r\n",
        b"*6\r\n$9\r\nmaxmemory\r\n$8\r\n10000001\r\n$17\r\nrepl-backlog-size\r\n$8\r\n10000002\r\n$4\r\nsave\r\n$6\r\n3000 5\r\n",
    );
    // A bad value anywhere: nothing changes, the first bad one is named.
    c.roundtrip(
        b"CONFIG SET maxmemory 5 maxmemory-clients 200% client-query-buffer-limit invalid\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100\r\n",
    );
    c.roundtrip(
        b"CONFIG GET maxmemory\r\n",
        b"*2\r\n$9\r\nmaxmemory\r\n$8\r\n10000001\r\n",
    );
    // Duplicates.
    c.roundtrip(
        b"CONFIG SET maxmemory 1 maxmemory 2\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter\r\n",
    );
    // As Redis 7.0, a name and its alias are not duplicates (the last one wins).
    c.roundtrip(
        b"CONFIG SET lua-time-limit 1 busy-reply-threshold 2\r\nCONFIG GET lua-time-limit\r\n",
        b"+OK\r\n*2\r\n$14\r\nlua-time-limit\r\n$1\r\n2\r\n",
    );
    c.roundtrip(
        b"CONFIG SET daemonize yes\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n",
    );
    c.roundtrip(
        b"CONFIG SET nosuch 1 maxmemory 1\r\n",
        b"-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
    );
    // herald's fixed settings take their current value (CONFIG GET * then SET back).
    c.roundtrip(b"CONFIG SET databases 16 bind 127.0.0.1\r\n", b"+OK\r\n");
    // Aliases and names both match a pattern; hidden ones only their exact name.
    c.roundtrip(
        b"CONFIG GET *of\r\n",
        b"*4\r\n$9\r\nreplicaof\r\n$0\r\n\r\n$7\r\nslaveof\r\n$0\r\n\r\n",
    );
    c.roundtrip(b"CONFIG GET key-load*\r\n", b"*0\r\n");
    c.roundtrip(
        b"CONFIG GET key-load-delay\r\n",
        b"*2\r\n$14\r\nkey-load-delay\r\n$1\r\n0\r\n",
    );
    c.roundtrip(
        b"CONFIG SET list-max-ziplist-size -3 appendfsync ALWAYS\r\nCONFIG GET list-max-listpack-size appendfsync\r\n",
        b"+OK\r\n*4\r\n$22\r\nlist-max-listpack-size\r\n$2\r\n-3\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n",
    );
}
