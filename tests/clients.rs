//! Real clients: the `redis` crate in RESP2 and RESP3, redis-cli, redis-benchmark.

mod common;

use std::process::Command;

use common::{client, have, Server};

#[tokio::test]
async fn redis_crate_resp2() {
    let server = Server::start(&[]);
    let mut con = client(&server, false).await;
    let pong: String = redis::cmd("PING").query_async(&mut con).await.unwrap();
    assert_eq!(pong, "PONG");
    let () = redis::cmd("SET")
        .arg("greeting")
        .arg(b"\xffhello")
        .query_async(&mut con)
        .await
        .unwrap();
    let v: Vec<u8> = redis::cmd("GET")
        .arg("greeting")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(v, b"\xffhello");
    let missing: Option<String> = redis::cmd("GET")
        .arg("nope")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(missing, None);
    let echo: String = redis::cmd("ECHO")
        .arg("hi")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(echo, "hi");
    let err = redis::cmd("GET")
        .query_async::<String>(&mut con)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("wrong number of arguments for 'get' command"),
        "{err}"
    );
    let config: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("databases")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(config, vec!["databases".to_string(), "16".to_string()]);
    let id: i64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(&mut con)
        .await
        .unwrap();
    assert!(id > 0);
}

#[tokio::test]
async fn redis_crate_resp3() {
    let server = Server::start(&[]);
    let mut con = client(&server, true).await;
    let info: String = redis::cmd("CLIENT")
        .arg("INFO")
        .query_async(&mut con)
        .await
        .unwrap();
    assert!(info.contains(" resp=3 "), "{info}");
    // The crate announced itself with CLIENT SETINFO on connect.
    assert!(info.contains("lib-name=redis-rs"), "{info}");
    let missing: Option<String> = redis::cmd("GET")
        .arg("nope")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(missing, None);
    let config: std::collections::HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxclients")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(config.get("maxclients").map(String::as_str), Some("10000"));
    let hello: redis::Value = redis::cmd("HELLO")
        .arg(3)
        .query_async(&mut con)
        .await
        .unwrap();
    match hello {
        redis::Value::Map(pairs) => {
            let keys: Vec<String> = pairs
                .iter()
                .map(|(k, _)| redis::from_redis_value_ref::<String>(k).unwrap())
                .collect();
            assert_eq!(
                keys,
                ["server", "version", "proto", "id", "mode", "role", "modules"]
            );
        }
        other => panic!("HELLO 3 should be a map, got {other:?}"),
    }
}

#[tokio::test]
async fn redis_crate_pipeline() {
    let server = Server::start(&[]);
    let mut con = client(&server, false).await;
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        pipe.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
    }
    pipe.cmd("DBSIZE");
    let (n,): (i64,) = pipe.query_async(&mut con).await.unwrap();
    assert_eq!(n, 1000);
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", out);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn redis_cli_ping_info_hello() {
    if !have("redis-cli") {
        return;
    }
    let server = Server::start(&[]);
    assert_eq!(redis_cli(server.port(), &["ping"]), "PONG\n");
    let info = redis_cli(server.port(), &["info", "server"]);
    assert!(
        info.starts_with("# Server\r\nredis_version:7.4.0\r\n"),
        "{info}"
    );
    let hello = redis_cli(server.port(), &["hello", "3"]);
    // Not a terminal: redis-cli prints raw values, one per line.
    assert!(
        hello.starts_with("server redis\nversion 7.4.0\nproto 3\nid "),
        "{hello}"
    );
    assert_eq!(redis_cli(server.port(), &["set", "cli", "v"]), "OK\n");
    assert_eq!(redis_cli(server.port(), &["get", "cli"]), "v\n");
    assert_eq!(
        redis_cli(server.port(), &["nosuch"]).trim_end(),
        "ERR unknown command 'nosuch', with args beginning with:"
    );
}

#[test]
fn redis_benchmark_ping_completes() {
    if !have("redis-benchmark") {
        return;
    }
    let server = Server::start(&[]);
    let out = Command::new("redis-benchmark")
        .args([
            "-p",
            &server.port().to_string(),
            "-t",
            "ping_inline,ping_mbulk",
            "-n",
            "20000",
            "-c",
            "10",
            "-q",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("PING_INLINE: ") && text.contains("PING_MBULK: "),
        "{text}"
    );
    assert!(text.contains("requests per second"), "{text}");
}
