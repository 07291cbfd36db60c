//! FUNCTION and FCALL at the wire, exact replies (checked against
//! redis-server 7.0.15): every FUNCTION subcommand and its errors, library
//! registration (positional and named, flags), the load-time sandbox,
//! FCALL/FCALL_RO flag rules, DUMP/RESTORE policies (and Redis's own
//! payloads), STATS and KILL of a busy function, MONITOR and INFO; and a
//! side-by-side run of the same requests against a real redis-server.

mod common;

use std::time::Duration;

use common::{have, multibulk, Frame, Raw, RedisServer, Server};

fn send(c: &mut Raw, args: &[&[u8]]) {
    c.send(&multibulk(args));
}

/// Send `args` and expect exactly `expected`.
fn cmd(c: &mut Raw, args: &[&str], expected: &str) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    send(c, &args);
    let got = c.read_n(expected.len());
    assert_eq!(String::from_utf8_lossy(&got), expected, "{args:?}");
}

/// An error reply's text (no `-`), or the text of any other frame.
fn text(f: Frame) -> String {
    match f {
        Frame::Error(e) => e,
        Frame::Int(n) => n.to_string(),
        Frame::Null => String::new(),
        other => other.text(),
    }
}

fn reply(c: &mut Raw, args: &[&str]) -> String {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    send(c, &args);
    text(c.frame())
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

fn err(s: &str) -> String {
    format!("-{s}\r\n")
}

const HELLO_LIB: &str =
    "#!lua name=test\nredis.register_function('test', function(KEYS, ARGV) return 'hello' end)";

#[test]
fn load_call_delete_and_their_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    cmd(&mut c, &["FUNCTION", "LOAD", HELLO_LIB], &bulk("test"));
    cmd(&mut c, &["FCALL", "test", "0"], &bulk("hello"));
    // Function names are case-insensitive.
    cmd(&mut c, &["FCALL", "TEST", "0"], &bulk("hello"));
    for (args, expected) in [
        (
            vec!["FUNCTION", "LOAD", HELLO_LIB],
            "ERR Library 'test' already exists",
        ),
        (
            vec!["FUNCTION", "LOAD", "foo", "bar", HELLO_LIB],
            "ERR Unknown option given: foo",
        ),
        // The last argument is the code, even when it reads REPLACE.
        (
            vec!["FUNCTION", "LOAD", "REPLACE"],
            "ERR Missing library metadata",
        ),
        (
            vec!["FUNCTION", "LOAD", "return 1"],
            "ERR Missing library metadata",
        ),
        (
            vec!["FUNCTION", "LOAD", "#!lua name=x"],
            "ERR Invalid library metadata",
        ),
        (
            vec!["FUNCTION", "LOAD", "#!lua\nreturn 1"],
            "ERR Library name was not given",
        ),
        (
            vec!["FUNCTION", "LOAD", "#!lua name=a name=b\nreturn 1"],
            "ERR Invalid metadata value, name argument was given multiple times",
        ),
        (
            vec!["FUNCTION", "LOAD", "#!lua name=a foo=bar\nreturn 1"],
            "ERR Invalid metadata value given: foo=bar",
        ),
        (
            vec!["FUNCTION", "LOAD", "#!lua name=bad-name\nreturn 1"],
            "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        ),
        (
            vec!["FUNCTION", "LOAD", "#!bad_engine name=x\nreturn 1"],
            "ERR Engine 'bad_engine' not found",
        ),
        (
            vec!["FUNCTION", "LOAD", "#! name=x\nreturn 1"],
            "ERR Engine '' not found",
        ),
        (
            vec!["FUNCTION", "LOAD", "REPLACE", "#!lua name=test\nbad script"],
            "ERR Error compiling function: user_function:2: '=' expected near 'script'",
        ),
        (
            vec!["FUNCTION", "LOAD", "#!lua name=lib2\nreturn 1"],
            "ERR No functions registered",
        ),
        (
            vec![
                "FUNCTION",
                "LOAD",
                "#!lua name=lib2\nredis.register_function('test', function() return 1 end)",
            ],
            "ERR Function test already exists",
        ),
        (vec!["FCALL", "nosuch", "0"], "ERR Function not found"),
        (vec!["FCALL", "test", "bad"], "ERR Bad number of keys provided"),
        (
            vec!["FCALL", "test", "10", "a"],
            "ERR Number of keys can't be greater than number of args",
        ),
        (
            vec!["FCALL", "test", "-1", "a"],
            "ERR Number of keys can't be negative",
        ),
        (vec!["FUNCTION", "DELETE", "nosuch"], "ERR Library not found"),
        (
            vec!["FUNCTION", "KILL"],
            "NOTBUSY No scripts in execution right now.",
        ),
        (
            vec!["FUNCTION", "bad_subcommand"],
            "ERR unknown subcommand 'bad_subcommand'. Try FUNCTION HELP.",
        ),
        (
            vec!["FUNCTION", "FLUSH", "bad_arg"],
            "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
        ),
        (
            vec!["function", "flush", "sync", "extra"],
            "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.",
        ),
        (
            vec!["function", "restore", "a", "b", "c"],
            "ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.",
        ),
        (
            vec!["FUNCTION", "RESTORE", "bad_payload"],
            "ERR DUMP payload version or checksum are wrong",
        ),
        (
            vec!["FUNCTION", "LIST", "bad_argument"],
            "ERR Unknown argument bad_argument",
        ),
        (
            vec!["FUNCTION", "LIST", "LIBRARYNAME"],
            "ERR library name argument was not given",
        ),
        (
            vec!["FUNCTION", "LIST", "WITHCODE", "WITHCODE"],
            "ERR Unknown argument WITHCODE",
        ),
        (
            vec!["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "a", "LIBRARYNAME", "a"],
            "ERR Unknown argument LIBRARYNAME",
        ),
        (
            vec!["FUNCTION", "DUMP", "x"],
            "ERR wrong number of arguments for 'function|dump' command",
        ),
        (
            vec!["FUNCTION", "DELETE"],
            "ERR wrong number of arguments for 'function|delete' command",
        ),
        (
            vec!["FCALL", "test"],
            "ERR wrong number of arguments for 'fcall' command",
        ),
    ] {
        cmd(&mut c, &args, &err(expected));
    }
    // A failed REPLACE keeps the old library.
    cmd(&mut c, &["FCALL", "test", "0"], &bulk("hello"));
    cmd(&mut c, &["FUNCTION", "DELETE", "test"], "+OK\r\n");
    cmd(
        &mut c,
        &["FCALL", "test", "0"],
        &err("ERR Function not found"),
    );
    cmd(&mut c, &["FUNCTION", "LIST"], "*0\r\n");
    // The library name may be quoted (sdssplitargs).
    cmd(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=\"foo\"\nredis.register_function('foo', function() return 1 end)",
        ],
        &bulk("foo"),
    );
    // KEYS and ARGV are the function's arguments.
    cmd(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=kv\nredis.register_function('kv', function(keys, args) return {keys[1], args[1], #keys, #args} end)",
        ],
        &bulk("kv"),
    );
    cmd(
        &mut c,
        &["FCALL", "kv", "1", "key", "a1", "a2"],
        "*4\r\n$3\r\nkey\r\n$2\r\na1\r\n:1\r\n:2\r\n",
    );
    // FLUSHALL does not touch functions.
    cmd(&mut c, &["FLUSHALL"], "+OK\r\n");
    cmd(&mut c, &["FCALL", "foo", "0"], ":1\r\n");
    cmd(&mut c, &["FUNCTION", "FLUSH", "ASYNC"], "+OK\r\n");
    cmd(&mut c, &["FUNCTION", "LIST"], "*0\r\n");
}

#[test]
fn list_stats_and_help() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let code = "#!lua name=mylib\nredis.register_function{function_name='f1', callback=function() return 1 end, flags={'no-writes','allow-stale'}, description='first'}\nredis.register_function('f2', function(keys, args) return keys[1] end)";
    cmd(&mut c, &["FUNCTION", "LOAD", code], &bulk("mylib"));
    let listing = "*1\r\n*6\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*2\r\n\
                   *6\r\n$4\r\nname\r\n$2\r\nf1\r\n$11\r\ndescription\r\n$5\r\nfirst\r\n$5\r\nflags\r\n*2\r\n+no-writes\r\n+allow-stale\r\n\
                   *6\r\n$4\r\nname\r\n$2\r\nf2\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n";
    cmd(&mut c, &["FUNCTION", "LIST"], listing);
    cmd(&mut c, &["FUNCTION", "LIST", "LIBRARYNAME", "my*"], listing);
    cmd(
        &mut c,
        &["FUNCTION", "LIST", "LIBRARYNAME", "other*"],
        "*0\r\n",
    );
    send(&mut c, &[b"FUNCTION", b"LIST", b"WITHCODE"]);
    let with_code = c.frame();
    let library = with_code.items()[0].items();
    assert_eq!(library.len(), 8);
    assert_eq!(library[6].text(), "library_code");
    assert_eq!(library[7].text(), code);
    cmd(
        &mut c,
        &["FUNCTION", "STATS"],
        "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n",
    );
    // RESP3: maps, a set of flags, a null.
    cmd(&mut c, &["HELLO", "3"], "%");
    let _ = c.read_available(Duration::from_millis(200));
    cmd(
        &mut c,
        &["FUNCTION", "STATS"],
        "%2\r\n$14\r\nrunning_script\r\n_\r\n$7\r\nengines\r\n%1\r\n$3\r\nLUA\r\n%2\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n",
    );
    cmd(
        &mut c,
        &["FUNCTION", "LIST", "LIBRARYNAME", "mylib"],
        "*1\r\n%3\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*2\r\n\
         %3\r\n$4\r\nname\r\n$2\r\nf1\r\n$11\r\ndescription\r\n$5\r\nfirst\r\n$5\r\nflags\r\n~2\r\n+no-writes\r\n+allow-stale\r\n\
         %3\r\n$4\r\nname\r\n$2\r\nf2\r\n$11\r\ndescription\r\n_\r\n$5\r\nflags\r\n~0\r\n",
    );
    cmd(&mut c, &["HELLO", "2"], "*");
    let _ = c.read_available(Duration::from_millis(200));
    send(&mut c, &[b"FUNCTION", b"HELP"]);
    let help = c.frame();
    let lines = help.items();
    assert_eq!(
        lines[0].text(),
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(
        lines.last().map(|l| l.text()),
        Some("    Prints this help.".into())
    );
    assert_eq!(lines.len(), 40);
    cmd(&mut c, &["FUNCTION", "DELETE", "mylib"], "+OK\r\n");
    cmd(
        &mut c,
        &["FUNCTION", "STATS"],
        "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:0\r\n$15\r\nfunctions_count\r\n:0\r\n",
    );
    // INFO's scripting fields.
    cmd(&mut c, &["FUNCTION", "LOAD", HELLO_LIB], &bulk("test"));
    cmd(
        &mut c,
        &["SCRIPT", "LOAD", "return 1"],
        &bulk("e0e1f9fabfc9d4800c877a703b823ac0578ff8db"),
    );
    let info = reply(&mut c, &["INFO", "memory"]);
    for field in [
        "number_of_cached_scripts:1\r\n",
        "number_of_functions:1\r\n",
        "number_of_libraries:1\r\n",
        "used_memory_vm_functions:",
        "used_memory_vm_eval:",
        "used_memory_scripts_eval:",
    ] {
        assert!(info.contains(field), "{field} in {info}");
    }
    // SCRIPT FLUSH keeps functions; FUNCTION FLUSH keeps scripts.
    cmd(&mut c, &["SCRIPT", "FLUSH"], "+OK\r\n");
    cmd(&mut c, &["FCALL", "test", "0"], &bulk("hello"));
    cmd(
        &mut c,
        &["SCRIPT", "LOAD", "return 1"],
        &bulk("e0e1f9fabfc9d4800c877a703b823ac0578ff8db"),
    );
    cmd(&mut c, &["FUNCTION", "FLUSH"], "+OK\r\n");
    cmd(
        &mut c,
        &["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
        ":1\r\n",
    );
}

/// redis.register_function's argument errors, and the load-time sandbox:
/// only `redis` (register_function, log, the version) exists while a
/// library's top level runs.
#[test]
fn registration_errors_and_load_sandbox() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let load = |c: &mut Raw, body: &str| {
        reply(
            c,
            &[
                "FUNCTION",
                "LOAD",
                "REPLACE",
                &format!("#!lua name=lib\n{body}"),
            ],
        )
    };
    for (body, expected) in [
        ("redis.register_function('f1', 'x')", "ERR Error registering functions: ERR second argument to redis.register_function must be a function"),
        ("redis.register_function()", "ERR Error registering functions: ERR wrong number of arguments to redis.register_function"),
        ("redis.register_function('f1', function() end, {}, 'd', 'x')", "ERR Error registering functions: ERR wrong number of arguments to redis.register_function"),
        ("redis.register_function('f1')", "ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."),
        ("redis.register_function(nil, function() end)", "ERR Error registering functions: ERR first argument to redis.register_function must be a string"),
        ("redis.register_function('a-b', function() end)", "ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("redis.register_function('', function() end)", "ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("redis.register_function('f', function() end)\nredis.register_function('f', function() end)", "ERR Error registering functions: ERR Function already exists in the library"),
        ("redis.register_function{function_name=function() end, callback=function() end}", "ERR Error registering functions: ERR function_name argument given to redis.register_function must be a string"),
        ("redis.register_function{function_name='f', callback='bad'}", "ERR Error registering functions: ERR callback argument given to redis.register_function must be a function"),
        ("redis.register_function{function_name='f', callback=function() end, description=function() end}", "ERR Error registering functions: ERR description argument given to redis.register_function must be a string"),
        ("redis.register_function{function_name='f', callback=function() end, some_unknown='x'}", "ERR Error registering functions: ERR unknown argument given to redis.register_function"),
        ("redis.register_function{callback=function() end}", "ERR Error registering functions: ERR redis.register_function must get a function name argument"),
        ("redis.register_function{function_name='f'}", "ERR Error registering functions: ERR redis.register_function must get a callback argument"),
        ("redis.register_function{function_name='f', callback=function() end, flags='bad'}", "ERR Error registering functions: ERR flags argument to redis.register_function must be a table representing function flags"),
        ("redis.register_function{function_name='f', callback=function() end, flags={'unknown'}}", "ERR Error registering functions: ERR unknown flag given"),
        ("redis.register_function{function_name='f', callback=function() end, flags={function() end}}", "ERR Error registering functions: ERR unknown flag given"),
        ("return redis.call('ping')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"),
        ("return redis.setresp(3)", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'setresp'"),
        ("return math.random()", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'math'"),
        ("mt = getmetatable(_G)", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'getmetatable'"),
        ("a = 1", "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"),
        ("local a = 1 while 1 do a = a + 1 end", "ERR Error registering functions: ERR FUNCTION LOAD timeout"),
    ] {
        assert_eq!(load(&mut c, body), expected, "{body}");
    }
    // Named arguments with flags; flag names are case-insensitive.
    assert_eq!(
        load(&mut c, "redis.log(redis.LOG_NOTICE, 'loading', redis.REDIS_VERSION)\nredis.register_function{function_name='f', callback=function() return 'ok' end, flags={'NO-WRITES'}}"),
        "lib"
    );
    cmd(&mut c, &["FCALL_RO", "f", "0"], &bulk("ok"));
    // Inside a function the full API is there, and register_function is not.
    assert_eq!(
        load(&mut c, "redis.register_function('f', function() redis.register_function('g', function() end) end)"),
        "lib"
    );
    assert_eq!(
        reply(&mut c, &["FCALL", "f", "0"]),
        "ERR user_function:2: attempt to call field 'register_function' (a nil value) script: f, on @user_function:2."
    );
    // The load-time `redis` captured in a function stays read-only and cannot register.
    assert_eq!(
        load(&mut c, "local lib = redis\nlib.register_function('f1', function() lib.redis = redis return 1 end)\nlib.register_function('f2', function() lib.register_function('f3', function() end) end)"),
        "lib"
    );
    assert_eq!(
        reply(&mut c, &["FCALL", "f1", "0"]),
        "ERR user_function:3: Attempt to modify a readonly table script: f1, on @user_function:3."
    );
    assert_eq!(
        reply(&mut c, &["FCALL", "f2", "0"]),
        "ERR redis.register_function can only be called on FUNCTION LOAD command script: f2, on @user_function:4."
    );
    // Runtime errors name the function.
    assert_eq!(
        load(
            &mut c,
            "redis.register_function('boom', function() return redis.call('nosuch') end)"
        ),
        "lib"
    );
    assert_eq!(
        reply(&mut c, &["FCALL", "boom", "0"]),
        "ERR Unknown Redis command called from script script: boom, on @user_function:2."
    );
}

#[test]
fn fcall_flags() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let load = |c: &mut Raw, body: &str| {
        reply(
            c,
            &[
                "FUNCTION",
                "LOAD",
                "REPLACE",
                &format!("#!lua name=lib\n{body}"),
            ],
        )
    };
    // No flags: a write function, refused by FCALL_RO.
    load(
        &mut c,
        "redis.register_function('w', function() return redis.call('set', 'x', '1') end)",
    );
    cmd(
        &mut c,
        &["FCALL_RO", "w", "0"],
        &err("ERR Can not execute a script with write flag using *_ro command."),
    );
    cmd(&mut c, &["FCALL", "w", "1", "x"], "+OK\r\n");
    // no-writes: writes refused inside, reads fine, FCALL_RO allowed.
    load(&mut c, "redis.register_function{function_name='w', callback=function() return redis.call('set', 'x', '1') end, flags={'no-writes'}}\nredis.register_function{function_name='r', callback=function() return redis.call('get', 'x') end, flags={'no-writes'}}");
    cmd(
        &mut c,
        &["FCALL", "w", "0"],
        &err("ERR Write commands are not allowed from read-only scripts. script: w, on @user_function:2."),
    );
    cmd(&mut c, &["FCALL_RO", "r", "0"], &bulk("1"));
    cmd(&mut c, &["FCALL", "r", "0"], &bulk("1"));
    // COMMAND GETKEYS finds FCALL's keys.
    cmd(
        &mut c,
        &["COMMAND", "GETKEYS", "FCALL", "r", "2", "k1", "k2", "arg"],
        "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n",
    );
    // The version API.
    load(&mut c, "local v = redis.REDIS_VERSION_NUM\nredis.register_function('v', function() return string.format('%d.%d.%d', bit.band(bit.rshift(v, 16), 255), bit.band(bit.rshift(v, 8), 255), bit.band(v, 255)) == redis.REDIS_VERSION end)");
    cmd(&mut c, &["FCALL", "v", "0"], ":1\r\n");
}

#[test]
fn dump_and_restore() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let lib1 = "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)\nredis.register_function('f3', function() return 3 end)";
    cmd(&mut c, &["FUNCTION", "LOAD", lib1], &bulk("lib1"));
    send(&mut c, &[b"FUNCTION", b"DUMP"]);
    let Frame::Bulk(payload) = c.frame() else {
        panic!("DUMP answers a bulk string");
    };
    // Redis's layout: RDB_OPCODE_FUNCTION2, the code as an RDB string, then
    // the RDB version (10) and a CRC64.
    assert_eq!(payload[0], 245);
    assert_eq!(&payload[payload.len() - 10..payload.len() - 8], &[10, 0]);
    let restore = |c: &mut Raw, policy: Option<&str>| {
        let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", &payload];
        if let Some(p) = policy {
            args.push(p.as_bytes());
        }
        send(c, &args);
        text(c.frame())
    };
    // APPEND (the default) refuses an existing library.
    assert_eq!(restore(&mut c, None), "ERR Library lib1 already exists");
    assert_eq!(
        restore(&mut c, Some("bad")),
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
    );
    cmd(&mut c, &["FUNCTION", "FLUSH"], "+OK\r\n");
    assert_eq!(restore(&mut c, None), "OK");
    cmd(&mut c, &["FCALL", "f3", "0"], ":3\r\n");
    // Another library holds f3: APPEND and REPLACE both fail, nothing changes.
    cmd(&mut c, &["FUNCTION", "FLUSH"], "+OK\r\n");
    cmd(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib2\nredis.register_function('f3', function() return 33 end)",
        ],
        &bulk("lib2"),
    );
    cmd(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib1\nredis.register_function('f6', function() return 6 end)",
        ],
        &bulk("lib1"),
    );
    assert_eq!(
        restore(&mut c, Some("APPEND")),
        "ERR Library lib1 already exists"
    );
    assert_eq!(
        restore(&mut c, Some("REPLACE")),
        "ERR Function f3 already exists"
    );
    cmd(&mut c, &["FCALL", "f3", "0"], ":33\r\n");
    cmd(&mut c, &["FCALL", "f6", "0"], ":6\r\n");
    // FLUSH replaces everything.
    assert_eq!(restore(&mut c, Some("FLUSH")), "OK");
    cmd(&mut c, &["FCALL", "f3", "0"], ":3\r\n");
    cmd(
        &mut c,
        &["FCALL", "f6", "0"],
        &err("ERR Function not found"),
    );
    // REPLACE swaps a library of the same name.
    cmd(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "REPLACE",
            "#!lua name=lib1\nredis.register_function('f1', function() return 11 end)",
        ],
        &bulk("lib1"),
    );
    assert_eq!(restore(&mut c, Some("REPLACE")), "OK");
    cmd(&mut c, &["FCALL", "f1", "0"], ":1\r\n");
    // A damaged payload changes nothing.
    let mut bad = payload.clone();
    bad[3] ^= 0xff;
    send(&mut c, &[b"FUNCTION", b"RESTORE", &bad]);
    assert_eq!(
        text(c.frame()),
        "ERR DUMP payload version or checksum are wrong"
    );
    cmd(&mut c, &["FCALL", "f1", "0"], ":1\r\n");
    // An empty dump restores to nothing.
    cmd(&mut c, &["FUNCTION", "FLUSH"], "+OK\r\n");
    send(&mut c, &[b"FUNCTION", b"DUMP"]);
    let Frame::Bulk(empty) = c.frame() else {
        panic!("DUMP answers a bulk string");
    };
    assert_eq!(empty.len(), 10);
    send(&mut c, &[b"FUNCTION", b"RESTORE", &empty]);
    assert_eq!(text(c.frame()), "OK");
}

/// Payloads move between herald and redis-server in both directions, Redis's
/// LZF-compressed code strings included.
#[test]
fn dump_payloads_interchange_with_redis() {
    if !have("redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let server = Server::start(&[]);
    let mut r = redis.raw();
    let mut h = server.raw();
    let mut code = String::from("#!lua name=biglib\n");
    for i in 0..20 {
        code.push_str(&format!(
            "redis.register_function('f{i}', function() return {i} end) -- padding padding padding\n"
        ));
    }
    for c in [&mut r, &mut h] {
        cmd(c, &["FUNCTION", "LOAD", &code], &bulk("biglib"));
    }
    let dump = |c: &mut Raw| {
        send(c, &[b"FUNCTION", b"DUMP"]);
        match c.frame() {
            Frame::Bulk(b) => b,
            other => panic!("{other:?}"),
        }
    };
    let from_redis = dump(&mut r);
    let from_herald = dump(&mut h);
    for (c, payload) in [(&mut h, &from_redis), (&mut r, &from_herald)] {
        send(c, &[b"FUNCTION", b"RESTORE", payload, b"FLUSH"]);
        assert_eq!(text(c.frame()), "OK");
        cmd(c, &["FCALL", "f7", "0"], ":7\r\n");
    }
}

/// A busy function: -BUSY names FUNCTION KILL, SCRIPT KILL refuses it,
/// FUNCTION STATS shows it, FUNCTION KILL stops it.
#[test]
fn busy_function_stats_and_kill() {
    let server = Server::start(&["--threads", "2"]);
    let mut runner = server.raw();
    let mut other = server.raw();
    cmd(
        &mut other,
        &["CONFIG", "SET", "busy-reply-threshold", "10"],
        "+OK\r\n",
    );
    cmd(
        &mut other,
        &["FUNCTION", "LOAD", "#!lua name=spin\nredis.register_function('spin', function() local a = 1 while true do a = a + 1 end end)"],
        &bulk("spin"),
    );
    send(&mut runner, &[b"FCALL", b"spin", b"0"]);
    let busy =
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
    loop {
        let got = reply(&mut other, &["PING"]);
        if got != "PONG" {
            assert_eq!(got, busy);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(reply(&mut other, &["SCRIPT", "KILL"]), busy);
    send(&mut other, &[b"FUNCTION", b"STATS"]);
    let stats = other.frame();
    let items = stats.items();
    assert_eq!(items[0].text(), "running_script");
    let running = items[1].items();
    assert_eq!(running[0].text(), "name");
    assert_eq!(running[1].text(), "spin");
    assert_eq!(running[2].text(), "command");
    let command: Vec<String> = running[3].items().iter().map(|f| f.text()).collect();
    assert_eq!(command, ["FCALL", "spin", "0"]);
    assert_eq!(running[4].text(), "duration_ms");
    assert!(matches!(running[5], Frame::Int(ms) if ms >= 10));
    cmd(&mut other, &["FUNCTION", "KILL"], "+OK\r\n");
    assert_eq!(
        text(runner.frame()),
        "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2."
    );
    cmd(&mut other, &["PING"], "+PONG\r\n");
    // FUNCTION KILL does not stop an EVAL script; FUNCTION STATS is BUSY then.
    send(
        &mut runner,
        &[b"EVAL", b"local a = 1 while true do a = a + 1 end", b"0"],
    );
    let eval_busy =
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    loop {
        let got = reply(&mut other, &["PING"]);
        if got != "PONG" {
            assert_eq!(got, eval_busy);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(reply(&mut other, &["FUNCTION", "KILL"]), eval_busy);
    assert_eq!(reply(&mut other, &["FUNCTION", "STATS"]), eval_busy);
    cmd(&mut other, &["SCRIPT", "KILL"], "+OK\r\n");
    assert!(text(runner.frame()).contains("Script killed by user"));
}

#[test]
fn monitor_shows_fcall_then_its_commands() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut monitor = server.raw();
    cmd(
        &mut c,
        &["FUNCTION", "LOAD", "#!lua name=test\nredis.register_function('test', function() return redis.call('set', 'foo', 'bar') end)"],
        &bulk("test"),
    );
    cmd(&mut monitor, &["MONITOR"], "+OK\r\n");
    cmd(&mut c, &["FCALL", "test", "0"], "+OK\r\n");
    let first = text(monitor.frame());
    assert!(first.ends_with("\"FCALL\" \"test\" \"0\""), "{first}");
    let second = text(monitor.frame());
    assert!(
        second.contains("[0 lua] \"set\" \"foo\" \"bar\""),
        "{second}"
    );
}

/// The same requests against herald and a real redis-server: replies equal
/// byte for byte.
#[test]
fn same_replies_as_redis_server() {
    if !have("redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let server = Server::start(&[]);
    let mut r = redis.raw();
    let mut h = server.raw();
    let requests: Vec<Vec<&str>> = vec![
        vec!["FUNCTION", "FLUSH"],
        vec!["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function{function_name='f1', callback=function(k, a) return {k[1], a[1], redis.call('incr', k[1])} end, description='d', flags={'allow-oom', 'allow-cross-slot-keys', 'no-cluster'}}"],
        vec!["FCALL", "f1", "1", "n", "a"],
        vec!["FCALL", "F1", "1", "n", "a"],
        vec!["FUNCTION", "LIST"],
        vec!["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "l*"],
        vec!["FUNCTION", "STATS"],
        vec!["FUNCTION", "LOAD", "#!lua name=lib\nreturn 1"],
        vec!["FUNCTION", "LOAD", "REPLACE", "#!lua name=lib\nreturn 1"],
        vec!["FUNCTION", "LOAD", "REPLACE", "#!lua name=lib\nerror('x')"],
        vec!["FUNCTION", "LOAD", "REPLACE", "#!lua name=lib\nlocal t = {} t[nil] = 1"],
        vec!["FUNCTION", "LOAD", "REPLACE", "#!lua name=lib\nredis.register_function('e', function() return redis.error_reply('MY err') end)\nredis.register_function('s', function() return redis.status_reply('FINE') end)\nredis.register_function('t', function() return {1, 2.5, 'x', false, {err='E1 inner'}} end)\nredis.register_function('p', function() return redis.pcall('incr', 'str') end)\nredis.register_function('z', function() return cmsgpack.unpack(cmsgpack.pack({1, 2, {a=1}}))[3].a end)"],
        vec!["SET", "str", "abc"],
        vec!["FCALL", "e", "0"],
        vec!["FCALL", "s", "0"],
        vec!["FCALL", "t", "0"],
        vec!["FCALL", "p", "0"],
        vec!["FCALL", "z", "0"],
        vec!["FCALL_RO", "e", "0"],
        vec!["FUNCTION", "DELETE", "lib"],
        vec!["FUNCTION", "DELETE", "lib"],
        vec!["FUNCTION", "RESTORE", "x"],
        vec!["FUNCTION", "LIST"],
        vec!["FCALL", "e", "x"],
        vec!["FUNCTION", "KILL"],
        vec!["FUNCTION", "STATS"],
    ];
    for request in requests {
        let args: Vec<&[u8]> = request.iter().map(|a| a.as_bytes()).collect();
        send(&mut r, &args);
        send(&mut h, &args);
        let expected = r.frame();
        let got = h.frame();
        assert_eq!(got, expected, "{request:?}");
    }
}
