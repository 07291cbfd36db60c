//! COMMAND GETKEYS / GETKEYSANDFLAGS, key specs and `movablekeys` in COMMAND
//! INFO, COMMAND LIST FILTERBY, COMMAND COUNT, and CLUSTER without cluster
//! support: exact replies, as Redis 7.0 gives them.

mod common;

use common::{multibulk, Frame, Server};

fn request(line: &str) -> Vec<u8> {
    let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    multibulk(&args)
}

#[test]
fn getkeys_finds_keys_by_key_specs() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let cases: &[(&str, &[u8])] = &[
        ("COMMAND GETKEYS get key", b"*1\r\n$3\r\nkey\r\n"),
        ("COMMAND GETKEYS GET key", b"*1\r\n$3\r\nkey\r\n"),
        (
            "COMMAND GETKEYS lcs k1 k2",
            b"*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n",
        ),
        (
            "COMMAND GETKEYS mset a 1 b 2",
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
        // A range with step 2 over an odd tail stops at the last argument.
        (
            "COMMAND GETKEYS mset a 1 b",
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
        (
            "COMMAND GETKEYS blpop a b 0",
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
        (
            "COMMAND GETKEYS bitop and d a b",
            b"*3\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
        ("COMMAND GETKEYS object encoding k", b"*1\r\n$1\r\nk\r\n"),
        // numkeys commands.
        (
            "COMMAND GETKEYS lmpop 2 a b left",
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
        (
            "COMMAND GETKEYS lmpop 3 a b left",
            b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$4\r\nleft\r\n",
        ),
        (
            "COMMAND GETKEYS blmpop 0 2 a b left count 1",
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
        // Errors, in Redis's order of checks.
        (
            "COMMAND GETKEYS nosuch a",
            b"-ERR Invalid command specified\r\n",
        ),
        (
            "COMMAND GETKEYS client nosuch",
            b"-ERR Invalid command specified\r\n",
        ),
        (
            "COMMAND GETKEYS client list",
            b"-ERR The command has no key arguments\r\n",
        ),
        (
            "COMMAND GETKEYS config get x",
            b"-ERR The command has no key arguments\r\n",
        ),
        (
            "COMMAND GETKEYS publish ch m",
            b"-ERR The command has no key arguments\r\n",
        ),
        (
            "COMMAND GETKEYS get a b",
            b"-ERR Invalid number of arguments specified for command\r\n",
        ),
        (
            "COMMAND GETKEYS lmpop 0 a left",
            b"-ERR Invalid arguments specified for command\r\n",
        ),
        (
            "COMMAND GETKEYS lmpop 4 a b left",
            b"-ERR Invalid arguments specified for command\r\n",
        ),
        (
            "COMMAND GETKEYS lmpop x a left",
            b"-ERR Invalid arguments specified for command\r\n",
        ),
        (
            "COMMAND GETKEYS lmpop -1 a left",
            b"-ERR Invalid arguments specified for command\r\n",
        ),
        (
            "COMMAND GETKEYS get",
            b"-ERR wrong number of arguments for 'command|getkeys' command\r\n",
        ),
    ];
    for (req, expected) in cases {
        c.send(&request(req));
        c.expect(expected);
    }
}

#[test]
fn getkeysandflags_gives_each_keys_access_flags() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let cases: &[(&str, &[u8])] = &[
        ("COMMAND GETKEYSANDFLAGS set k1 v1", b"*1\r\n*2\r\n$2\r\nk1\r\n~2\r\n+OW\r\n+update\r\n"),
        // SET ... GET reads the old value too.
        ("COMMAND GETKEYSANDFLAGS set k v get", b"*1\r\n*2\r\n$1\r\nk\r\n~3\r\n+RW\r\n+access\r\n+update\r\n"),
        ("COMMAND GETKEYSANDFLAGS mset k1 v1 k2 v2", b"*2\r\n*2\r\n$2\r\nk1\r\n~2\r\n+OW\r\n+update\r\n*2\r\n$2\r\nk2\r\n~2\r\n+OW\r\n+update\r\n"),
        ("COMMAND GETKEYSANDFLAGS LMOVE k1 k2 left right", b"*2\r\n*2\r\n$2\r\nk1\r\n~3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$2\r\nk2\r\n~2\r\n+RW\r\n+insert\r\n"),
        ("COMMAND GETKEYSANDFLAGS get a", b"*1\r\n*2\r\n$1\r\na\r\n~2\r\n+RO\r\n+access\r\n"),
        ("COMMAND GETKEYSANDFLAGS del a", b"*1\r\n*2\r\n$1\r\na\r\n~2\r\n+RM\r\n+delete\r\n"),
        ("COMMAND GETKEYSANDFLAGS bitfield k get u8 0", b"*1\r\n*2\r\n$1\r\nk\r\n~2\r\n+RO\r\n+access\r\n"),
        ("COMMAND GETKEYSANDFLAGS bitfield k set u8 0 1", b"*1\r\n*2\r\n$1\r\nk\r\n~3\r\n+RW\r\n+access\r\n+update\r\n"),
    ];
    // RESP3, so the flag sets show as sets.
    c.send(b"HELLO 3\r\n");
    let _ = c.frame();
    for (req, expected) in cases {
        c.send(&request(req));
        c.expect(expected);
    }
}

#[test]
fn command_info_shows_key_specs_and_movablekeys() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    // LMPOP: numkeys, so movablekeys and a 0 0 0 legacy triple.
    c.roundtrip(
        b"COMMAND INFO lmpop\r\n",
        b"*1\r\n*10\r\n$5\r\nlmpop\r\n:-4\r\n*2\r\n+write\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n\
*3\r\n+@write\r\n+@list\r\n+@slow\r\n*0\r\n\
*1\r\n*6\r\n$5\r\nflags\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n\
$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\nspec\r\n*6\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n\
*0\r\n",
    );
    // GET: one plain range, not movable.
    c.roundtrip(
        b"COMMAND INFO get\r\n",
        b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n\
*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n\
$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n\
*0\r\n",
    );
    // Which commands are movable, as Redis marks them.
    for (name, movable) in [
        ("set", false),
        ("mset", false),
        ("lmove", false),
        ("blpop", false),
        ("bitfield", false),
        ("rename", false),
        ("lpop", false),
        ("lmpop", true),
        ("blmpop", true),
    ] {
        c.send(&request(&format!("COMMAND INFO {name}")));
        let info = c.frame();
        let flags: Vec<String> = info.items()[0].items()[2]
            .items()
            .iter()
            .map(Frame::text)
            .collect();
        assert_eq!(
            flags.contains(&"movablekeys".to_string()),
            movable,
            "{name}: {flags:?}"
        );
    }
}

#[test]
fn command_list_filters_and_count() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let list = |c: &mut common::Raw, req: &str| -> Vec<String> {
        c.send(&request(req));
        c.frame().items().iter().map(Frame::text).collect()
    };
    assert_eq!(list(&mut c, "COMMAND LIST FILTERBY PATTERN set"), ["set"]);
    let help = list(&mut c, "COMMAND LIST FILTERBY PATTERN cl*help");
    assert_eq!(help, ["client|help", "cluster|help"]);
    let config = list(&mut c, "COMMAND LIST FILTERBY PATTERN config|*re*");
    assert!(config.contains(&"config|rewrite".to_string()), "{config:?}");
    assert!(
        config.contains(&"config|resetstat".to_string()),
        "{config:?}"
    );
    assert!(!config.contains(&"config|get".to_string()), "{config:?}");
    assert!(list(&mut c, "COMMAND LIST FILTERBY PATTERN non_exists*").is_empty());
    let lists = list(&mut c, "COMMAND LIST FILTERBY ACLCAT list");
    assert!(lists.contains(&"blmpop".to_string()) && !lists.contains(&"set".to_string()));
    let blocking = list(&mut c, "COMMAND LIST FILTERBY ACLCAT blocking");
    for name in ["blpop", "brpop", "blmove", "brpoplpush", "blmpop"] {
        assert!(blocking.contains(&name.to_string()), "{blocking:?}");
    }
    assert!(!blocking.contains(&"lpop".to_string()));
    assert!(list(&mut c, "COMMAND LIST FILTERBY ACLCAT non_existing_category").is_empty());
    assert!(list(&mut c, "COMMAND LIST FILTERBY MODULE non_existing_module").is_empty());
    c.roundtrip(b"COMMAND LIST FILTERBY bad x\r\n", b"-ERR syntax error\r\n");
    c.roundtrip(b"COMMAND LIST bad\r\n", b"-ERR syntax error\r\n");
    // COMMAND COUNT: the number of top-level commands COMMAND lists.
    c.send(b"COMMAND COUNT\r\n");
    let Frame::Int(count) = c.frame() else {
        panic!()
    };
    c.send(b"COMMAND\r\n");
    assert_eq!(c.frame().items().len() as i64, count);
    let all = list(&mut c, "COMMAND LIST");
    assert!(all.contains(&"client|list".to_string()) && all.contains(&"monitor".to_string()));
}

#[test]
fn cluster_answers_as_a_redis_without_cluster_support() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    for req in [
        "CLUSTER INFO",
        "CLUSTER HELP",
        "CLUSTER KEYSLOT k",
        "CLUSTER SLOTS",
    ] {
        c.send(&request(req));
        c.expect(b"-ERR This instance has cluster support disabled\r\n");
    }
    c.roundtrip(
        b"CLUSTER foo\r\n",
        b"-ERR unknown subcommand 'foo'. Try CLUSTER HELP.\r\n",
    );
    c.roundtrip(
        b"CLUSTER\r\n",
        b"-ERR wrong number of arguments for 'cluster' command\r\n",
    );
}

#[test]
fn memory_usage_and_its_keys() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(b"SET mk hello\r\n", b"+OK\r\n");
    c.send(b"MEMORY USAGE mk\r\n");
    let Frame::Int(bytes) = c.frame() else {
        panic!()
    };
    assert!(bytes > 7, "{bytes}");
    c.send(b"MEMORY USAGE mk SAMPLES 0\r\n");
    assert_eq!(c.frame(), Frame::Int(bytes));
    let cases: &[(&str, &[u8])] = &[
        ("MEMORY USAGE nosuch", b"$-1\r\n"),
        (
            "MEMORY USAGE mk SAMPLES x",
            b"-ERR value is not an integer or out of range\r\n",
        ),
        ("MEMORY USAGE mk SAMPLES -1", b"-ERR syntax error\r\n"),
        ("MEMORY USAGE mk foo", b"-ERR syntax error\r\n"),
        (
            "MEMORY foo",
            b"-ERR unknown subcommand 'foo'. Try MEMORY HELP.\r\n",
        ),
        ("COMMAND GETKEYS memory usage key", b"*1\r\n$3\r\nkey\r\n"),
    ];
    for (req, expected) in cases {
        c.send(&request(req));
        c.expect(expected);
    }
}
