//! Pub/sub at the wire, RESP2 and RESP3: confirmations, message shapes, delivery
//! counts and order, subscribed-context rules, PUBSUB introspection, limits.

mod common;

use std::time::Duration;

use common::{multibulk, Frame, Raw, Server};

fn b(s: &str) -> Frame {
    Frame::bulk(s)
}

/// `[kind, name, count]` as RESP2 array or RESP3 push.
fn conf(resp3: bool, kind: &str, name: Option<&str>, count: i64) -> Frame {
    let items = vec![
        b(kind),
        name.map(b).unwrap_or(Frame::Null),
        Frame::Int(count),
    ];
    if resp3 {
        Frame::Push(items)
    } else {
        Frame::Array(items)
    }
}

fn msg(resp3: bool, parts: &[&str]) -> Frame {
    let items = parts.iter().map(|p| b(p)).collect();
    if resp3 {
        Frame::Push(items)
    } else {
        Frame::Array(items)
    }
}

fn connect(server: &Server, resp3: bool) -> Raw {
    let mut c = server.raw();
    if resp3 {
        c.send(b"HELLO 3\r\n");
        let hello = c.frame();
        assert!(matches!(hello, Frame::Map(_)), "{hello:?}");
    }
    c
}

fn publish(c: &mut Raw, channel: &str, payload: &str) -> i64 {
    c.cmd(&[b"PUBLISH", channel.as_bytes(), payload.as_bytes()]);
    match c.frame() {
        Frame::Int(n) => n,
        other => panic!("PUBLISH replied {other:?}"),
    }
}

#[test]
fn subscribe_confirmations_and_counts() {
    for resp3 in [false, true] {
        let server = Server::start(&[]);
        let mut c = connect(&server, resp3);
        c.send(b"SUBSCRIBE a b\r\n");
        assert_eq!(c.frame(), conf(resp3, "subscribe", Some("a"), 1));
        assert_eq!(c.frame(), conf(resp3, "subscribe", Some("b"), 2));
        // Again: confirmed, count unchanged.
        c.send(b"SUBSCRIBE a\r\n");
        assert_eq!(c.frame(), conf(resp3, "subscribe", Some("a"), 2));
        c.send(b"PSUBSCRIBE p*\r\n");
        assert_eq!(c.frame(), conf(resp3, "psubscribe", Some("p*"), 3));
        // Shard channels count on their own.
        c.send(b"SSUBSCRIBE s1\r\n");
        assert_eq!(c.frame(), conf(resp3, "ssubscribe", Some("s1"), 1));
        c.send(b"UNSUBSCRIBE nope\r\n");
        assert_eq!(c.frame(), conf(resp3, "unsubscribe", Some("nope"), 3));
        c.send(b"UNSUBSCRIBE\r\n");
        assert_eq!(c.frame(), conf(resp3, "unsubscribe", Some("a"), 2));
        assert_eq!(c.frame(), conf(resp3, "unsubscribe", Some("b"), 1));
        c.send(b"UNSUBSCRIBE\r\n");
        assert_eq!(c.frame(), conf(resp3, "unsubscribe", None, 1));
        c.send(b"PUNSUBSCRIBE\r\n");
        assert_eq!(c.frame(), conf(resp3, "punsubscribe", Some("p*"), 0));
        c.send(b"SUNSUBSCRIBE\r\n");
        assert_eq!(c.frame(), conf(resp3, "sunsubscribe", Some("s1"), 0));
        c.send(b"SUNSUBSCRIBE\r\n");
        assert_eq!(c.frame(), conf(resp3, "sunsubscribe", None, 0));
        // Out of pub/sub mode: ordinary commands again.
        c.roundtrip(b"PING\r\n", b"+PONG\r\n");
    }
}

#[test]
fn unsubscribe_when_never_subscribed_answers_with_null_channel() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"UNSUBSCRIBE\r\n",
        b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n",
    );
    c.roundtrip(
        b"PUNSUBSCRIBE\r\n",
        b"*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n",
    );
    c.roundtrip(b"HELLO 3\r\n", b"");
    let _ = c.frame();
    c.roundtrip(
        b"SUNSUBSCRIBE\r\n",
        b">3\r\n$12\r\nsunsubscribe\r\n_\r\n:0\r\n",
    );
}

#[test]
fn resp2_subscribed_context_rules() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.roundtrip(
        b"SUBSCRIBE a\r\n",
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n",
    );
    c.roundtrip(
        b"GET x\r\n",
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    c.roundtrip(b"PING\r\n", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    c.roundtrip(b"PING x\r\n", b"*2\r\n$4\r\npong\r\n$1\r\nx\r\n");
    c.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    // RESET left subscribed state.
    c.roundtrip(b"GET x\r\n", b"$-1\r\n");
    let mut p = server.raw();
    assert_eq!(publish(&mut p, "a", "m"), 0);
    c.roundtrip(
        b"SUBSCRIBE a\r\nQUIT\r\n",
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n+OK\r\n",
    );
    c.expect_closed();
}

#[test]
fn resp3_allows_every_command_while_subscribed() {
    let server = Server::start(&[]);
    let mut c = connect(&server, true);
    c.send(b"SUBSCRIBE a\r\n");
    assert_eq!(c.frame(), conf(true, "subscribe", Some("a"), 1));
    c.roundtrip(
        b"SET k v\r\nGET k\r\nPING\r\n",
        b"+OK\r\n$1\r\nv\r\n+PONG\r\n",
    );
    // A RESP3 client publishing to its own channel gets the reply, then the push.
    c.send(b"PUBLISH a self\r\n");
    assert_eq!(c.frame(), Frame::Int(1));
    assert_eq!(c.frame(), msg(true, &["message", "a", "self"]));
}

#[test]
fn message_shapes_and_delivery_counts() {
    for resp3 in [false, true] {
        let server = Server::start(&[]);
        let mut s = connect(&server, resp3);
        s.send(b"SUBSCRIBE news.tech\r\nPSUBSCRIBE news.* *tech\r\n");
        for _ in 0..3 {
            let _ = s.frame();
        }
        let mut p = server.raw();
        // One channel subscription and two matching patterns: three deliveries.
        assert_eq!(publish(&mut p, "news.tech", "hello"), 3);
        // Exact-channel message first, then the pattern messages (pattern first).
        assert_eq!(s.frame(), msg(resp3, &["message", "news.tech", "hello"]));
        let mut pm = [s.frame(), s.frame()];
        pm.sort_by_key(|f| f.items()[1].text());
        assert_eq!(
            pm[0],
            msg(resp3, &["pmessage", "*tech", "news.tech", "hello"])
        );
        assert_eq!(
            pm[1],
            msg(resp3, &["pmessage", "news.*", "news.tech", "hello"])
        );
        assert_eq!(publish(&mut p, "news.sport", "x"), 1);
        assert_eq!(
            s.frame(),
            msg(resp3, &["pmessage", "news.*", "news.sport", "x"])
        );
        assert_eq!(publish(&mut p, "other", "x"), 0);
        // Binary payloads pass through untouched.
        p.cmd(&[b"PUBLISH", b"news.tech", b"\x00\xff\r\n"]);
        assert_eq!(p.frame(), Frame::Int(3));
        let first = s.frame();
        assert_eq!(first.items()[2], Frame::Bulk(b"\x00\xff\r\n".to_vec()));
    }
}

#[test]
fn shard_channels_ignore_patterns() {
    let server = Server::start(&[]);
    let mut s = server.raw();
    s.send(b"SSUBSCRIBE orders\r\nPSUBSCRIBE *\r\n");
    assert_eq!(s.frame(), conf(false, "ssubscribe", Some("orders"), 1));
    assert_eq!(s.frame(), conf(false, "psubscribe", Some("*"), 1));
    let mut p = server.raw();
    p.roundtrip(b"SPUBLISH orders o1\r\n", b":1\r\n");
    assert_eq!(s.frame(), msg(false, &["smessage", "orders", "o1"]));
    // PUBLISH does not reach shard subscribers, only the pattern.
    assert_eq!(publish(&mut p, "orders", "o2"), 1);
    assert_eq!(s.frame(), msg(false, &["pmessage", "*", "orders", "o2"]));
    p.roundtrip(b"SPUBLISH nobody x\r\n", b":0\r\n");
}

#[test]
fn pubsub_introspection() {
    let server = Server::start(&[]);
    let mut s1 = server.raw();
    let mut s2 = server.raw();
    s1.send(b"SUBSCRIBE news sport\r\nPSUBSCRIBE n*\r\nSSUBSCRIBE shard1\r\n");
    for _ in 0..4 {
        let _ = s1.frame();
    }
    s2.send(b"SUBSCRIBE news\r\nPSUBSCRIBE n* s*\r\n");
    for _ in 0..3 {
        let _ = s2.frame();
    }
    let mut c = server.raw();
    c.cmd(&[b"PUBSUB", b"CHANNELS"]);
    let mut names: Vec<String> = c.frame().items().iter().map(|f| f.text()).collect();
    names.sort();
    assert_eq!(names, ["news", "sport"]);
    c.roundtrip(b"PUBSUB CHANNELS n*\r\n", b"*1\r\n$4\r\nnews\r\n");
    c.roundtrip(
        b"PUBSUB NUMSUB news sport none\r\n",
        b"*6\r\n$4\r\nnews\r\n:2\r\n$5\r\nsport\r\n:1\r\n$4\r\nnone\r\n:0\r\n",
    );
    c.roundtrip(b"PUBSUB NUMSUB\r\n", b"*0\r\n");
    // Distinct patterns, not subscriptions.
    c.roundtrip(b"PUBSUB NUMPAT\r\n", b":2\r\n");
    c.roundtrip(b"PUBSUB SHARDCHANNELS\r\n", b"*1\r\n$6\r\nshard1\r\n");
    c.roundtrip(
        b"PUBSUB SHARDNUMSUB shard1\r\n",
        b"*2\r\n$6\r\nshard1\r\n:1\r\n",
    );
    c.roundtrip(
        b"PUBSUB NUMPAT x\r\n",
        b"-ERR wrong number of arguments for 'pubsub|numpat' command\r\n",
    );
    c.roundtrip(
        b"PUBSUB FOO\r\n",
        b"-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n",
    );
    c.send(b"INFO stats\r\n");
    let info = String::from_utf8(c.read_available(Duration::from_millis(200))).unwrap();
    assert!(
        info.contains("pubsub_channels:2\r\npubsub_patterns:2\r\npubsub_shardchannels:1\r\n"),
        "{info}"
    );
    c.send(b"CLIENT LIST TYPE pubsub\r\n");
    let list = String::from_utf8(c.read_available(Duration::from_millis(200))).unwrap();
    assert!(
        list.contains(" flags=P db=0 sub=2 psub=1 ssub=1 "),
        "{list}"
    );
    assert!(
        list.contains(" flags=P db=0 sub=1 psub=2 ssub=0 "),
        "{list}"
    );
    // A subscriber that disconnects leaves nothing behind.
    drop(s1);
    drop(s2);
    std::thread::sleep(Duration::from_millis(200));
    c.roundtrip(
        b"PUBSUB NUMSUB news\r\nPUBSUB NUMPAT\r\nPUBSUB CHANNELS\r\n",
        b"*2\r\n$4\r\nnews\r\n:0\r\n:0\r\n*0\r\n",
    );
}

#[test]
fn pubsub_ignores_the_selected_database() {
    let server = Server::start(&[]);
    let mut s = server.raw();
    s.roundtrip(b"SELECT 1\r\n", b"+OK\r\n");
    s.send(b"SUBSCRIBE c\r\n");
    let _ = s.frame();
    let mut p = server.raw();
    p.roundtrip(b"SELECT 10\r\n", b"+OK\r\n");
    assert_eq!(publish(&mut p, "c", "cross-db"), 1);
    assert_eq!(s.frame(), msg(false, &["message", "c", "cross-db"]));
}

#[test]
fn glob_patterns_follow_redis_rules() {
    let server = Server::start(&[]);
    let mut s = server.raw();
    s.send(&multibulk(&[
        b"PSUBSCRIBE",
        b"h?llo",
        b"h[^e]y",
        b"a\\*b",
        b"[a-c]z",
    ]));
    for _ in 0..4 {
        let _ = s.frame();
    }
    let mut p = server.raw();
    for (channel, expected) in [
        ("hello", 1),
        ("hallo", 1),
        ("hay", 1),
        ("hey", 0),
        ("a*b", 1),
        ("axb", 0),
        ("bz", 1),
        ("dz", 0),
    ] {
        assert_eq!(publish(&mut p, channel, "m"), expected, "{channel}");
    }
}

#[tokio::test]
async fn redis_crate_pubsub_resp2() {
    use futures_util::StreamExt;
    let server = Server::start(&[]);
    let client = redis::Client::open(server.url()).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.subscribe("orders").await.unwrap();
    pubsub.psubscribe("audit.*").await.unwrap();
    let mut con = common::client(&server, false).await;
    let n: i64 = redis::cmd("PUBLISH")
        .arg("orders")
        .arg("o-1")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let n: i64 = redis::cmd("PUBLISH")
        .arg("audit.login")
        .arg("alice")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let mut stream = pubsub.on_message();
    let m1 = stream.next().await.unwrap();
    assert_eq!(
        (m1.get_channel_name(), m1.get_payload::<String>().unwrap()),
        ("orders", "o-1".to_string())
    );
    let m2 = stream.next().await.unwrap();
    assert_eq!(m2.get_pattern::<String>().unwrap(), "audit.*");
    assert_eq!(
        (m2.get_channel_name(), m2.get_payload::<String>().unwrap()),
        ("audit.login", "alice".to_string())
    );
}

#[tokio::test]
async fn redis_crate_pubsub_resp3_push() {
    let server = Server::start(&[]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = redis::Client::open(format!("redis://{}/?protocol=resp3", server.addr)).unwrap();
    let config = redis::AsyncConnectionConfig::new().set_push_sender(tx);
    let mut con = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap();
    con.subscribe("events").await.unwrap();
    // Still usable for ordinary commands while subscribed (RESP3).
    let () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query_async(&mut con)
        .await
        .unwrap();
    let mut publisher = common::client(&server, false).await;
    let n: i64 = redis::cmd("PUBLISH")
        .arg("events")
        .arg("e1")
        .query_async(&mut publisher)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let push = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("push")
            .expect("open");
        if push.kind == redis::PushKind::Message {
            assert_eq!(
                push.data,
                vec![
                    redis::Value::BulkString(b"events".to_vec()),
                    redis::Value::BulkString(b"e1".to_vec())
                ]
            );
            break;
        }
    }
}

#[test]
fn client_reply_off_and_skip_still_deliver_pubsub_frames() {
    let server = Server::start(&[]);
    let mut other = server.raw();
    for resp3 in [false, true] {
        let mut c = connect(&server, resp3);
        // OFF: the confirmation and the messages arrive; the +OK of CLIENT
        // REPLY and every ordinary reply do not.
        c.send(b"CLIENT REPLY OFF\r\nSUBSCRIBE ch\r\nPSUBSCRIBE c*\r\nSSUBSCRIBE sh\r\n");
        assert_eq!(c.frame(), conf(resp3, "subscribe", Some("ch"), 1));
        assert_eq!(c.frame(), conf(resp3, "psubscribe", Some("c*"), 2));
        assert_eq!(c.frame(), conf(resp3, "ssubscribe", Some("sh"), 1));
        assert_eq!(publish(&mut other, "ch", "hi"), 2);
        assert_eq!(c.frame(), msg(resp3, &["message", "ch", "hi"]));
        assert_eq!(c.frame(), msg(resp3, &["pmessage", "c*", "ch", "hi"]));
        c.send(b"UNSUBSCRIBE ch\r\nPUNSUBSCRIBE c*\r\nSUNSUBSCRIBE sh\r\n");
        assert_eq!(c.frame(), conf(resp3, "unsubscribe", Some("ch"), 1));
        assert_eq!(c.frame(), conf(resp3, "punsubscribe", Some("c*"), 0));
        assert_eq!(c.frame(), conf(resp3, "sunsubscribe", Some("sh"), 0));
        // SKIP: the skipped command's confirmation still arrives, then replies resume.
        c.send(b"CLIENT REPLY ON\r\n");
        assert_eq!(c.frame(), Frame::Simple("OK".into()));
        c.send(b"CLIENT REPLY SKIP\r\nPSUBSCRIBE x*\r\nPUNSUBSCRIBE x*\r\n");
        assert_eq!(c.frame(), conf(resp3, "psubscribe", Some("x*"), 1));
        assert_eq!(c.frame(), conf(resp3, "punsubscribe", Some("x*"), 0));
        c.roundtrip(b"PING\r\n", b"+PONG\r\n");
    }
}
