//! Lua scripting at the wire: EVAL/EVALSHA/_RO and SCRIPT, with exact replies
//! (checked against redis-server 7.0.15): Lua <-> RESP conversions, error
//! texts (compile, runtime, redis.call, sandbox), shebang flags, read-only
//! refusals, the script cache, atomicity against a concurrent client, -BUSY and
//! SCRIPT KILL, and redis-py's Lock (which runs EVALSHA scripts).

mod common;

use std::time::Duration;

use common::{multibulk, Frame, Raw, Server};

/// A reply as text: strings, errors and integers; "" for a null.
fn text(f: Frame) -> String {
    match f {
        Frame::Error(e) => e,
        Frame::Int(n) => n.to_string(),
        Frame::Null => String::new(),
        other => other.text(),
    }
}

fn eval(c: &mut Raw, script: &str, rest: &[&str], expected: &str) {
    let mut args: Vec<&[u8]> = vec![b"EVAL", script.as_bytes()];
    args.extend(rest.iter().map(|a| a.as_bytes()));
    c.send(&multibulk(&args));
    let got = c.read_n(expected.len());
    assert_eq!(String::from_utf8_lossy(&got), expected, "EVAL {script}");
}

fn cmd(c: &mut Raw, args: &[&str], expected: &str) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send(&multibulk(&args));
    let got = c.read_n(expected.len());
    assert_eq!(String::from_utf8_lossy(&got), expected, "{args:?}");
}

#[test]
fn lua_to_resp_conversions() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    for (script, expected) in [
        ("return 1", ":1\r\n"),
        ("return 3.99", ":3\r\n"),
        ("return -3.99", ":-3\r\n"),
        ("return 'hello'", "$5\r\nhello\r\n"),
        ("return true", ":1\r\n"),
        ("return false", "$-1\r\n"),
        ("return nil", "$-1\r\n"),
        (
            "return {1,2,3.99,'x',false,true,nil,5}",
            "*6\r\n:1\r\n:2\r\n:3\r\n$1\r\nx\r\n$-1\r\n:1\r\n",
        ),
        ("return {err='My Error'}", "-My Error\r\n"),
        ("return redis.error_reply('MY err')", "-MY err\r\n"),
        ("return redis.error_reply('nocode')", "-ERR nocode\r\n"),
        ("return {ok='FINE'}", "+FINE\r\n"),
        ("return redis.status_reply('FINE')", "+FINE\r\n"),
        ("return {double=3.14}", "$18\r\n3.1400000000000001\r\n"),
        ("return {}", "*0\r\n"),
        ("return {{1},{}}", "*2\r\n*1\r\n:1\r\n*0\r\n"),
        ("return tostring(123.456)", "$7\r\n123.456\r\n"),
    ] {
        eval(&mut c, script, &["0"], expected);
    }
    // RESP3 client, script in RESP3: booleans, doubles, maps, sets, big numbers.
    cmd(&mut c, &["HELLO", "3"], "%");
    let _ = c.read_available(Duration::from_millis(200));
    for (script, expected) in [
        ("redis.setresp(3); return true", "#t\r\n"),
        ("redis.setresp(3); return false", "#f\r\n"),
        ("return false", "_\r\n"),
        ("return {double=1.5}", ",1.5\r\n"),
        ("return {map={a=1}}", "%1\r\n$1\r\na\r\n:1\r\n"),
        ("return {set={a=true}}", "~1\r\n$1\r\na\r\n"),
        ("return {big_number='123'}", "(123\r\n"),
    ] {
        eval(&mut c, script, &["0"], expected);
    }
}

#[test]
fn resp_to_lua_conversions() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    cmd(&mut c, &["SET", "k", "v"], "+OK\r\n");
    cmd(&mut c, &["RPUSH", "l", "a", "b"], ":2\r\n");
    for (script, expected) in [
        ("return redis.call('get','k')", "$1\r\nv\r\n"),
        (
            "return type(redis.call('get','nokey'))",
            "$7\r\nboolean\r\n",
        ),
        ("return redis.call('incr','n')", ":1\r\n"),
        ("return type(redis.call('incr','n'))", "$6\r\nnumber\r\n"),
        (
            "return redis.call('lrange','l',0,-1)",
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
        ("return redis.call('set','x','y')", "+OK\r\n"),
        ("return redis.call('set','x','y')['ok']", "$2\r\nOK\r\n"),
        (
            "return redis.pcall('incr','k')",
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            "return redis.pcall('incr','k')['err']",
            "$43\r\nERR value is not an integer or out of range\r\n",
        ),
        // Numbers become %.17g arguments.
        (
            "redis.call('set','f',1.5); return redis.call('get','f')",
            "$3\r\n1.5\r\n",
        ),
        (
            "redis.call('set','f',0.1); return redis.call('get','f')",
            "$19\r\n0.10000000000000001\r\n",
        ),
        // SELECT inside the script does not move the caller.
        (
            "redis.call('select',9); return redis.call('get','k')",
            "$-1\r\n",
        ),
    ] {
        eval(&mut c, script, &["0"], expected);
    }
    cmd(&mut c, &["GET", "k"], "$1\r\nv\r\n");
    eval(
        &mut c,
        "return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}",
        &["2", "a", "b", "c", "d"],
        "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n",
    );
}

#[test]
fn error_texts() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    cmd(&mut c, &["SET", "s", "v"], "+OK\r\n");
    for (script, expected) in [
        ("return redis.call('nosuch')", "-ERR Unknown Redis command called from script script: 206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1.\r\n"),
        ("return redis.call('incr')", "-ERR Wrong number of args calling Redis command from script script: 5ec1df981d6970587b00ab8f88abcfbd2ca726e7, on @user_script:1.\r\n"),
        ("return redis.call('multi')", "-ERR This Redis command is not allowed from script script: c329a1a294be6bf95b44144f7502610661ae925a, on @user_script:1.\r\n"),
        ("return x", "-ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: 03c387736bb5cc009ff35151572cee04677aa374, on @user_script:1.\r\n"),
        ("error('foo')", "-ERR user_script:1: foo script: 3636b3c71d6a755d5b3f0a4d22850f935598f38d, on @user_script:1.\r\n"),
        ("retur 1", "-ERR Error compiling script (new function): user_script:1: '=' expected near '1'\r\n"),
        ("#!lua flags=bogus\nreturn 1", "-ERR Unexpected flag in script shebang: bogus\r\n"),
        ("#!python\nreturn 1", "-ERR Unexpected engine in script shebang: #!python\r\n"),
    ] {
        eval(&mut c, script, &["0"], expected);
    }
    for (script, expected) in [
        ("a = 1", "Attempt to modify a readonly table"),
        (
            "redis.call = function() end",
            "Attempt to modify a readonly table",
        ),
        ("cjson.encode = 1", "Attempt to modify a readonly table"),
        ("setmetatable(_G, {})", "Attempt to modify a readonly table"),
        ("print('x')", "nonexistent global variable 'print'"),
        ("loadfile('x')", "nonexistent global variable 'loadfile'"),
        ("os.exit()", "nonexistent global variable 'os'"),
        ("io.write()", "nonexistent global variable 'io'"),
    ] {
        c.send(&multibulk(&[b"EVAL", script.as_bytes(), b"0"]));
        let got = text(c.frame());
        assert!(got.contains(expected), "{script}: {got}");
    }
    cmd(
        &mut c,
        &["EVAL", "return 1", "-1"],
        "-ERR Number of keys can't be negative\r\n",
    );
    cmd(
        &mut c,
        &["EVAL", "return 1", "2", "a"],
        "-ERR Number of keys can't be greater than number of args\r\n",
    );
    cmd(
        &mut c,
        &["EVAL", "return 1", "x"],
        "-ERR value is not an integer or out of range\r\n",
    );
    cmd(
        &mut c,
        &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
        "-NOSCRIPT No matching script. Please use EVAL.\r\n",
    );
    cmd(
        &mut c,
        &["EVALSHA", "short", "0"],
        "-NOSCRIPT No matching script. Please use EVAL.\r\n",
    );
}

#[test]
fn read_only_scripts() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    eval(
        &mut c,
        "#!lua flags=no-writes\nreturn redis.call('set','a','b')",
        &["0"],
        "-ERR Write commands are not allowed from read-only scripts. script: 6acb400a50fe96e33eca4e0af6e9dcfb21193726, on @user_script:2.\r\n",
    );
    cmd(
        &mut c,
        &["EVAL_RO", "return redis.call('set','a','b')", "0"],
        "-ERR Write commands are not allowed from read-only scripts. script: ff967d0ae0e68b4f9e360fa91c54598bc25ad9b6, on @user_script:1.\r\n",
    );
    cmd(
        &mut c,
        &["EVAL_RO", "#!lua\nreturn 1", "0"],
        "-ERR Can not execute a script with write flag using *_ro command.\r\n",
    );
    cmd(
        &mut c,
        &["EVAL_RO", "return redis.call('get','a')", "0"],
        "$-1\r\n",
    );
    cmd(&mut c, &["EXISTS", "a"], ":0\r\n");
}

#[test]
fn script_cache() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    cmd(
        &mut c,
        &["SCRIPT", "EXISTS", sha, "0000"],
        "*2\r\n:0\r\n:0\r\n",
    );
    cmd(
        &mut c,
        &["SCRIPT", "LOAD", "return 1"],
        &format!("$40\r\n{sha}\r\n"),
    );
    cmd(
        &mut c,
        &["SCRIPT", "EXISTS", sha, &sha.to_uppercase()],
        "*2\r\n:1\r\n:1\r\n",
    );
    cmd(&mut c, &["EVALSHA", sha, "0"], ":1\r\n");
    cmd(&mut c, &["EVALSHA", &sha.to_uppercase(), "0"], ":1\r\n");
    cmd(&mut c, &["EVALSHA_RO", sha, "0"], ":1\r\n");
    cmd(
        &mut c,
        &["SCRIPT", "FLUSH", "foo"],
        "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n",
    );
    cmd(&mut c, &["SCRIPT", "FLUSH", "ASYNC"], "+OK\r\n");
    cmd(&mut c, &["SCRIPT", "EXISTS", sha], "*1\r\n:0\r\n");
    cmd(
        &mut c,
        &["EVALSHA", sha, "0"],
        "-NOSCRIPT No matching script. Please use EVAL.\r\n",
    );
    cmd(
        &mut c,
        &["SCRIPT", "KILL"],
        "-NOTBUSY No scripts in execution right now.\r\n",
    );
    // EVAL caches what it runs.
    cmd(&mut c, &["EVAL", "return 1", "0"], ":1\r\n");
    cmd(&mut c, &["EVALSHA", sha, "0"], ":1\r\n");
    // Libraries.
    eval(
        &mut c,
        "return redis.sha1hex('abc')",
        &["0"],
        "$40\r\na9993e364706816aba3e25717850c26c9cd0d89d\r\n",
    );
    eval(
        &mut c,
        "return cjson.encode({a={1,2,'x/y'}})",
        &["0"],
        "$18\r\n{\"a\":[1,2,\"x\\/y\"]}\r\n",
    );
    eval(
        &mut c,
        "return cjson.decode('[1,{\"a\":\"b\"}]')[2].a",
        &["0"],
        "$1\r\nb\r\n",
    );
    eval(
        &mut c,
        "return bit.tohex(255, -4)",
        &["0"],
        "$4\r\n00FF\r\n",
    );
    eval(
        &mut c,
        "return bit.band(0xff, 0x0f) + bit.bor(1, 2) + bit.lshift(1, 4)",
        &["0"],
        ":34\r\n",
    );
    eval(&mut c, "math.randomseed(7); local a = math.random(); math.randomseed(7); return a == math.random()", &["0"], ":1\r\n");
}

/// A script's commands are atomic: another client's INCRs never land between them.
#[test]
fn scripts_are_atomic() {
    let server = Server::start(&[]);
    let mut other = server.raw();
    let mut c = server.raw();
    other.cmd(&[b"SET", b"n", b"0"]);
    other.expect(b"+OK\r\n");
    let script = "redis.call('set','n',0); for i=1,20000 do redis.call('incr','n') end; return redis.call('get','n')";
    c.send(&multibulk(&[b"EVAL", script.as_bytes(), b"0"]));
    for _ in 0..200 {
        other.cmd(&[b"INCR", b"n"]);
    }
    let mut replies = Vec::new();
    for _ in 0..200 {
        replies.push(text(other.frame()));
    }
    assert_eq!(text(c.frame()), "20000");
    // Every INCR ran before (the script reset it) or after the script.
    let last: i64 = replies.last().unwrap().parse().unwrap();
    assert!(last == 200 || last > 20000, "{replies:?}");
}

/// WATCH sees keys a script changed; commandstats count the script's commands.
#[test]
fn watch_and_commandstats() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut other = server.raw();
    cmd(&mut c, &["WATCH", "w"], "+OK\r\n");
    cmd(
        &mut other,
        &["EVAL", "return redis.call('set','w','1')", "0"],
        "+OK\r\n",
    );
    cmd(&mut c, &["MULTI"], "+OK\r\n");
    cmd(&mut c, &["GET", "w"], "+QUEUED\r\n");
    cmd(&mut c, &["EXEC"], "*-1\r\n");
    cmd(&mut c, &["CONFIG", "RESETSTAT"], "+OK\r\n");
    cmd(
        &mut c,
        &[
            "EVAL",
            "redis.call('set','a','1'); return redis.call('get','a')",
            "0",
        ],
        "$1\r\n1\r\n",
    );
    c.cmd(&[b"INFO", b"commandstats"]);
    let info = text(c.frame());
    assert!(info.contains("cmdstat_set:calls=1"), "{info}");
    assert!(info.contains("cmdstat_get:calls=1"), "{info}");
    assert!(info.contains("cmdstat_eval:calls=1"), "{info}");
}

/// A script past busy-reply-threshold: others get -BUSY, SCRIPT KILL ends it.
#[test]
fn busy_and_script_kill() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut other = server.raw();
    cmd(
        &mut other,
        &["CONFIG", "SET", "busy-reply-threshold", "10"],
        "+OK\r\n",
    );
    c.send(&multibulk(&[b"EVAL", b"while true do end", b"0"]));
    std::thread::sleep(Duration::from_millis(300));
    cmd(
        &mut other,
        &["PING"],
        "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
    );
    cmd(&mut other, &["SCRIPT", "KILL"], "+OK\r\n");
    let got = text(c.frame());
    assert!(
        got.starts_with("ERR Script killed by user with SCRIPT KILL..."),
        "{got}"
    );
    cmd(&mut other, &["PING"], "+PONG\r\n");
    // pcall cannot catch the kill.
    c.send(&multibulk(&[
        b"EVAL",
        b"while true do pcall(function() while true do end end) end",
        b"0",
    ]));
    std::thread::sleep(Duration::from_millis(300));
    cmd(&mut other, &["SCRIPT", "KILL"], "+OK\r\n");
    assert!(text(c.frame()).contains("killed by user"));
    // A script that wrote cannot be killed.
    c.send(&multibulk(&[
        b"EVAL",
        b"redis.call('set','x','1'); local i = 0; while i < 30000000 do i = i + 1 end",
        b"0",
    ]));
    std::thread::sleep(Duration::from_millis(200));
    other.cmd(&[b"SCRIPT", b"KILL"]);
    assert!(text(other.frame()).starts_with("UNKILLABLE"));
    assert_eq!(text(c.frame()), "");
}

const BUSY_EVAL: &str =
    "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";

/// Regression: a client whose command arrived just as a script started
/// waited for the gate forever (its cached per-command clock never reached
/// busy-reply-threshold), holding a worker thread that was the one polling
/// the sockets and signals: new connections, SCRIPT KILL and SIGTERM all hung
/// (Redis's "Timedout ... SCRIPT KILL" tests, intermittently). Looped, with
/// the PING sent right behind the EVAL, on two worker threads.
#[test]
fn busy_reply_for_a_client_waiting_as_the_script_starts() {
    let server = Server::start(&["--threads", "2"]);
    let mut admin = server.raw();
    cmd(
        &mut admin,
        &["CONFIG", "SET", "lua-time-limit", "10"],
        "+OK\r\n",
    );
    for round in 0..12 {
        let mut runner = server.raw();
        let mut waiter = server.raw();
        let script: &[u8] = if round % 2 == 0 {
            b"local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end"
        } else {
            b"while true do end"
        };
        // The script, and a PING pipelined behind it on the same connection.
        let mut request = multibulk(&[b"EVAL", script, b"0"]);
        request.extend_from_slice(&multibulk(&[b"PING"]));
        runner.send(&request);
        // A PING right behind it: BUSY (or PONG if it ran before the script).
        waiter.send(&multibulk(&[b"PING"]));
        let first = text(waiter.frame());
        assert!(first == "PONG" || first.starts_with("BUSY"), "{first}");
        // A new connection is accepted and answered while the script runs.
        let mut late = server.raw();
        loop {
            late.send(&multibulk(&[b"PING"]));
            if text(late.frame()).starts_with("BUSY") {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        cmd(&mut late, &["SCRIPT", "KILL"], "+OK\r\n");
        let got = text(runner.frame());
        assert!(
            got.contains("Script killed by user with SCRIPT KILL..."),
            "{got}"
        );
        assert_eq!(text(runner.frame()), "PONG");
        cmd(&mut waiter, &["PING"], "+PONG\r\n");
        cmd(
            &mut late,
            &["SCRIPT", "KILL"],
            "-NOTBUSY No scripts in execution right now.\r\n",
        );
    }
}

/// A script that wrote cannot be killed; SHUTDOWN without NOSAVE is refused
/// with -BUSY, and SHUTDOWN NOSAVE (or SIGTERM) still stops the server.
#[test]
fn shutdown_stops_an_unkillable_script() {
    for how in ["nosave", "sigterm"] {
        let mut server = Server::start(&["--threads", "2"]);
        let mut runner = server.raw();
        let mut other = server.raw();
        cmd(
            &mut other,
            &["CONFIG", "SET", "busy-reply-threshold", "10"],
            "+OK\r\n",
        );
        runner.send(&multibulk(&[
            b"EVAL",
            b"redis.call('set','x','y'); while true do end",
            b"0",
        ]));
        loop {
            other.send(&multibulk(&[b"PING"]));
            if text(other.frame()).starts_with("BUSY") {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        other.cmd(&[b"SCRIPT", b"KILL"]);
        assert!(text(other.frame()).starts_with("UNKILLABLE Sorry the script"));
        cmd(&mut other, &["SHUTDOWN"], BUSY_EVAL);
        if how == "nosave" {
            other.send(&multibulk(&[b"SHUTDOWN", b"NOSAVE"]));
        } else {
            let pid = server.child.id().to_string();
            let status = std::process::Command::new("kill").arg(&pid).status();
            assert!(status.is_ok_and(|s| s.success()));
        }
        assert!(
            server.wait_exit(Duration::from_secs(10)).is_some(),
            "{how}: herald still runs"
        );
    }
}

/// A script that allocates without bound stops at the interpreter's memory
/// cap with Lua's error; the server and the next scripts carry on.
#[test]
fn runaway_allocation_stops_at_the_memory_cap() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    // 1 GiB by default; a small cap keeps the test quick.
    cmd(
        &mut c,
        &["CONFIG", "GET", "lua-memory-limit"],
        "*2\r\n$16\r\nlua-memory-limit\r\n$10\r\n1073741824\r\n",
    );
    cmd(
        &mut c,
        &["CONFIG", "SET", "lua-memory-limit", "32mb"],
        "+OK\r\n",
    );
    for script in [
        "local t = {} local i = 0 while true do i = i + 1 t[i] = {i, i, i, i, i, i, i, i} end",
        "local s = 'x' while true do s = s .. s end",
    ] {
        c.send(&multibulk(&[b"EVAL", script.as_bytes(), b"0"]));
        let got = text(c.frame());
        assert!(
            got.starts_with("ERR Error running script ") && got.ends_with(", not enough memory"),
            "{got}"
        );
        cmd(&mut c, &["PING"], "+PONG\r\n");
        eval(
            &mut c,
            "return #string.rep('y', 1000000)",
            &["0"],
            ":1000000\r\n",
        );
    }
    // The same cap holds for functions.
    cmd(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=hog\nredis.register_function('hog', function() local s = 'x' while true do s = s .. s end end)",
        ],
        "$3\r\nhog\r\n",
    );
    c.send(&multibulk(&[b"FCALL", b"hog", b"0"]));
    assert_eq!(
        text(c.frame()),
        "ERR Error running script hog, not enough memory"
    );
    cmd(&mut c, &["PING"], "+PONG\r\n");
}

/// redis.call takes as many arguments as `unpack` gives (Redis's suite:
/// 7999 values plus the command and key).
#[test]
fn redis_call_with_thousands_of_arguments() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    eval(
        &mut c,
        "local a = {} for i = 1, 7999 do a[i] = 1 end return redis.call('lpush', 'l', unpack(a))",
        &["0"],
        ":7999\r\n",
    );
    eval(
        &mut c,
        "return redis.pcall('set', 'k', nil, 'v')['err']",
        &["0"],
        "$63\r\nERR Lua redis lib command arguments must be strings or integers\r\n",
    );
}

/// cmsgpack and struct, as Redis's suite checks them (byte for byte), and
/// library errors carry the script position as Redis's luaL_error gives it.
#[test]
fn cmsgpack_struct_and_library_errors() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let hex = "local h = '' for i = 1, #e do h = h .. string.format('%02x', string.byte(e, i)) end return h";
    for (value, expected) in [
        ("0.1", "cb3fb999999999999a"),
        ("-1099511627776", "d3ffffff0000000000"),
        ("{1, 2, 3}", "93010203"),
        ("{a = true}", "81a161c3"),
        ("'abc'", "a3616263"),
    ] {
        let script = format!("local e = cmsgpack.pack({value}) {hex}");
        eval(
            &mut c,
            &script,
            &["0"],
            &format!("${}\r\n{expected}\r\n", expected.len()),
        );
    }
    // Circular tables encode 16 levels deep, then nil.
    eval(
        &mut c,
        "local a = {} a.x = a local e = cmsgpack.pack(a) return #e",
        &["0"],
        ":49\r\n",
    );
    eval(
        &mut c,
        "local s = cmsgpack.pack('a', {1, {k = 'v'}}, 300) local off, v = cmsgpack.unpack_limit(s, 1) local off2, t = cmsgpack.unpack_one(s, off) return {off, v, off2, t[2].k, (select(3, cmsgpack.unpack(s)))}",
        &["0"],
        "*5\r\n:2\r\n$1\r\na\r\n:9\r\n$1\r\nv\r\n:300\r\n",
    );
    eval(
        &mut c,
        "return {struct.unpack('>I2 bhi', struct.pack('>I2 bhi', 258, -1, -2, -3))}",
        &["0"],
        "*5\r\n:258\r\n:-1\r\n:-2\r\n:-3\r\n:10\r\n",
    );
    eval(&mut c, "return struct.size('!4 b i')", &["0"], ":8\r\n");
    for (script, expected) in [
        (
            "return bit.band('x')",
            "ERR user_script:1: bad argument #1 to 'band' (number expected, got string)",
        ),
        (
            "return cmsgpack.unpack(string.char(0xc1))",
            "ERR user_script:1: Bad data format in input.",
        ),
        (
            "return cmsgpack.unpack(string.char(0x92, 1))",
            "ERR user_script:1: Missing bytes in input.",
        ),
        (
            "return cmsgpack.pack()",
            "ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)",
        ),
        (
            "return struct.pack('z')",
            "ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'z')",
        ),
        (
            "return struct.pack('i')",
            "ERR user_script:1: bad argument #2 to 'pack' (number expected, got nil)",
        ),
        (
            "return struct.unpack('i', 'ab')",
            "ERR user_script:1: bad argument #2 to 'unpack' (data string too short)",
        ),
        (
            "return struct.size('s')",
            "ERR user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)",
        ),
        (
            "cmsgpack.pack = function() end",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        (
            "struct.pack = function() end",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
    ] {
        c.send(&multibulk(&[b"EVAL", script.as_bytes(), b"0"]));
        let got = text(c.frame());
        assert!(
            got.starts_with(&format!("{expected} script: ")),
            "{script}: {got}"
        );
    }
}

/// INFO errorstats counts errors by code, a script's error once.
#[test]
fn errorstats_count_script_errors_once() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let stats = |c: &mut Raw| {
        c.send(&multibulk(&[b"INFO", b"errorstats"]));
        text(c.frame())
    };
    eval(
        &mut c,
        "return redis.error_reply('MY_ERR_CODE custom msg')",
        &["0"],
        "-MY_ERR_CODE custom msg\r\n",
    );
    eval(&mut c, "return redis.error_reply('')", &["0"], "-ERR \r\n");
    // The SELECT error counted inside the script; the script's error that
    // carries it is not counted again.
    c.send(&multibulk(&[
        b"EVAL",
        b"return redis.call('select', 99)",
        b"0",
    ]));
    assert!(text(c.frame()).starts_with("ERR DB index is out of range"));
    eval(
        &mut c,
        "return redis.pcall('select', 99)",
        &["0"],
        "-ERR DB index is out of range\r\n",
    );
    let info = stats(&mut c);
    assert!(info.contains("errorstat_MY_ERR_CODE:count=1\r\n"), "{info}");
    assert!(info.contains("errorstat_ERR:count=3\r\n"), "{info}");
    c.send(&multibulk(&[b"INFO", b"stats"]));
    assert!(text(c.frame()).contains("total_error_replies:4\r\n"));
    cmd(&mut c, &["CONFIG", "RESETSTAT"], "+OK\r\n");
    assert_eq!(stats(&mut c), "# Errorstats\r\n");
}

/// SORT of a set with BY nosort from a script is sorted ALPHA (so the
/// result does not depend on hash order), as in Redis.
#[test]
fn sort_by_constant_in_a_script_is_ordered() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    cmd(&mut c, &["SADD", "s", "b", "aa", "c", "a"], ":4\r\n");
    eval(
        &mut c,
        "return redis.call('sort', KEYS[1], 'by', '_')",
        &["1", "s"],
        "*4\r\n$1\r\na\r\n$2\r\naa\r\n$1\r\nb\r\n$1\r\nc\r\n",
    );
}

/// redis-py's Lock runs Lua (EVALSHA, falling back to EVAL) for release and extend.
#[test]
fn redis_py_lock() {
    let py = std::env::var("HERALD_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let have_redis = std::process::Command::new(&py)
        .args(["-c", "import redis"])
        .status()
        .is_ok_and(|s| s.success());
    if !have_redis {
        eprintln!("skipped: no redis-py (set HERALD_PYTHON)");
        return;
    }
    let server = Server::start(&[]);
    let code = format!(
        "import redis\n\
         r = redis.Redis(port={})\n\
         lock = r.lock('res', timeout=10)\n\
         assert lock.acquire(blocking=False)\n\
         assert not r.lock('res').acquire(blocking=False)\n\
         assert lock.extend(5)\n\
         assert lock.locked() and lock.owned()\n\
         lock.release()\n\
         assert not lock.locked()\n\
         s = r.register_script('return {{KEYS[1], ARGV[1]}}')\n\
         assert s(keys=['k'], args=['v']) == [b'k', b'v']\n\
         r.script_flush()\n\
         assert s(keys=['k'], args=['v']) == [b'k', b'v']\n\
         print('ok')\n",
        server.port()
    );
    let out = std::process::Command::new(&py)
        .args(["-c", &code])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
