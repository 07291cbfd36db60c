//! Pub/sub under load: many publishers and subscribers with per-publisher order
//! checked exactly, and a stalled subscriber that must not grow the server.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Read one RESP line (without CRLF).
async fn line(r: &mut BufReader<TcpStream>) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = r.read_u8().await.expect("read");
        if b == b'\n' && out.last() == Some(&b'\r') {
            out.pop();
            return out;
        }
        out.push(b);
    }
}

/// Read one array of bulk strings (message frames, confirmations as text).
async fn array(r: &mut BufReader<TcpStream>) -> Vec<Vec<u8>> {
    let header = line(r).await;
    assert_eq!(header[0], b'*', "{:?}", String::from_utf8_lossy(&header));
    let n: usize = std::str::from_utf8(&header[1..]).unwrap().parse().unwrap();
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        let h = line(r).await;
        match h[0] {
            b'$' => {
                let len: usize = std::str::from_utf8(&h[1..]).unwrap().parse().unwrap();
                let mut data = vec![0u8; len + 2];
                r.read_exact(&mut data).await.unwrap();
                data.truncate(len);
                items.push(data);
            }
            b':' => items.push(h[1..].to_vec()),
            _ => panic!("unexpected {:?}", String::from_utf8_lossy(&h)),
        }
    }
    items
}

fn cmd(args: &[&[u8]]) -> Vec<u8> {
    common::multibulk(args)
}

const PUBLISHERS: usize = 8;
const SUBSCRIBERS: usize = 200;
const CHANNELS: usize = 20;
const MESSAGES_PER_PUBLISHER: usize = 500;
/// Patterns subscribed by the last 40 subscribers (8 each); each matches some channels.
const PATTERNS: [&str; 5] = ["ch:1*", "ch:?", "ch:[2-3]*", "ch:*5", "ch:1[0-4]"];

fn channel(i: usize) -> String {
    format!("ch:{i}")
}

/// What a subscriber listens to: a channel or a pattern.
fn subscription(s: usize) -> (bool, String) {
    if s < 160 {
        (false, channel(s % CHANNELS))
    } else {
        (true, PATTERNS[s % PATTERNS.len()].to_string())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_gets_every_message_in_publisher_order() {
    let server = Server::start(&[]);
    let addr = server.addr;

    // Subscribe everyone and wait for every confirmation before publishing.
    let mut subs = Vec::new();
    for s in 0..SUBSCRIBERS {
        let (is_pattern, name) = subscription(s);
        let mut stream = BufReader::new(TcpStream::connect(addr).await.unwrap());
        let verb: &[u8] = if is_pattern {
            b"PSUBSCRIBE"
        } else {
            b"SUBSCRIBE"
        };
        stream
            .get_mut()
            .write_all(&cmd(&[verb, name.as_bytes()]))
            .await
            .unwrap();
        let confirmation = array(&mut stream).await;
        assert_eq!(confirmation[1], name.as_bytes());
        subs.push((s, is_pattern, name, stream));
    }

    // Expected per subscriber: for each publisher, the ordered list of its seqs.
    let mut expected: Vec<HashMap<usize, Vec<usize>>> = vec![HashMap::new(); SUBSCRIBERS];
    for p in 0..PUBLISHERS {
        for seq in 0..MESSAGES_PER_PUBLISHER {
            let ch = channel((p + seq) % CHANNELS);
            for (s, is_pattern, name, _) in &subs {
                let hit = if *is_pattern {
                    herald::glob::glob_match(name.as_bytes(), ch.as_bytes())
                } else {
                    *name == ch
                };
                if hit {
                    expected[*s].entry(p).or_default().push(seq);
                }
            }
        }
    }

    let readers: Vec<_> = subs
        .into_iter()
        .map(|(s, _, _, mut stream)| {
            let want: usize = expected[s].values().map(Vec::len).sum();
            tokio::spawn(async move {
                let mut got: HashMap<usize, Vec<usize>> = HashMap::new();
                for _ in 0..want {
                    let frame = array(&mut stream).await;
                    let payload = String::from_utf8(frame.last().unwrap().clone()).unwrap();
                    let (p, seq) = payload.split_once(':').unwrap();
                    got.entry(p.parse().unwrap())
                        .or_default()
                        .push(seq.parse().unwrap());
                }
                (s, got)
            })
        })
        .collect();

    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            tokio::spawn(async move {
                let mut stream = BufReader::new(TcpStream::connect(addr).await.unwrap());
                let mut deliveries = 0i64;
                // Pipelined in bursts of 50, as real publishers do.
                for chunk in (0..MESSAGES_PER_PUBLISHER).collect::<Vec<_>>().chunks(50) {
                    let mut req = Vec::new();
                    for &seq in chunk {
                        let ch = channel((p + seq) % CHANNELS);
                        req.extend(cmd(&[
                            b"PUBLISH",
                            ch.as_bytes(),
                            format!("{p}:{seq}").as_bytes(),
                        ]));
                    }
                    stream.get_mut().write_all(&req).await.unwrap();
                    for _ in chunk {
                        let reply = line(&mut stream).await;
                        deliveries += std::str::from_utf8(&reply[1..])
                            .unwrap()
                            .parse::<i64>()
                            .unwrap();
                    }
                }
                deliveries
            })
        })
        .collect();

    let mut total_deliveries = 0;
    for p in publishers {
        match p.await {
            Ok(n) => total_deliveries += n,
            Err(e) => panic!("publisher failed: {e}; server log:\n{}", server.log_text()),
        }
    }
    let expected_total: usize = expected.iter().flat_map(|m| m.values()).map(Vec::len).sum();
    assert_eq!(
        total_deliveries as usize, expected_total,
        "PUBLISH replies must add up to deliveries"
    );
    let results = tokio::time::timeout(
        Duration::from_secs(60),
        futures_util::future::join_all(readers),
    )
    .await
    .expect("subscribers did not receive everything in time");
    for r in results {
        let (s, got) = r.unwrap();
        assert_eq!(got, expected[s], "subscriber {s} got a different sequence");
    }
}

#[test]
fn stalled_subscriber_is_cut_off_and_memory_stays_bounded() {
    let server = Server::start(&[]);
    std::thread::sleep(Duration::from_millis(300));
    let idle_rss = server.rss_bytes();

    // A subscriber that never reads.
    let mut stalled = server.raw();
    stalled.send(b"SUBSCRIBE firehose\r\n");
    stalled.expect(b"*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n");
    stalled
        .stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();

    // A healthy subscriber that reads everything.
    let mut healthy = server.raw();
    healthy.send(b"SUBSCRIBE firehose\r\n");
    healthy.expect(b"*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n");
    let payload = vec![b'x'; 64 * 1024];
    let messages: usize = 500 * 1024 * 1024 / payload.len(); // 500 MB in all
    let frame_len = format!(
        "*3\r\n$7\r\nmessage\r\n$8\r\nfirehose\r\n${}\r\n",
        payload.len()
    )
    .len()
        + payload.len()
        + 2;
    let mut healthy_stream = healthy.stream.try_clone().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0usize;
        let want = messages * frame_len;
        while total < want {
            match std::io::Read::read(&mut healthy_stream, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
        total / frame_len
    });

    let mut publisher = server.raw();
    let mut peak_rss = 0;
    let started = Instant::now();
    let request = common::multibulk(&[b"PUBLISH", b"firehose", &payload]);
    for i in 0..messages {
        publisher.send(&request);
        let reply = publisher.read_n(4);
        assert!(
            reply == b":2\r\n" || reply == b":1\r\n",
            "{:?}",
            String::from_utf8_lossy(&reply)
        );
        if i % 256 == 0 {
            peak_rss = peak_rss.max(server.rss_bytes());
        }
    }
    let received = reader.join().unwrap();
    assert_eq!(
        received, messages,
        "the healthy subscriber must receive everything"
    );
    assert!(
        peak_rss < idle_rss + 100 * 1024 * 1024,
        "RSS went from {idle_rss} to {peak_rss} bytes while publishing 500 MB"
    );
    // The stalled subscriber was disconnected: what it can still read ends in EOF.
    let mut sink = vec![0u8; 1 << 20];
    loop {
        match std::io::Read::read(&mut stalled.stream, &mut sink) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("stalled subscriber was not disconnected: {e}"),
        }
    }
    let mut c = server.raw();
    c.send(b"INFO stats\r\n");
    let info = String::from_utf8(c.read_available(Duration::from_millis(200))).unwrap();
    assert!(
        info.contains("client_output_buffer_limit_disconnections:1\r\n"),
        "{info}"
    );
    assert!(server
        .log_text()
        .contains("subscriber closed for overcoming of output buffer limits"));
    eprintln!(
        "published 500 MB in {:?}; idle RSS {idle_rss}, peak {peak_rss}",
        started.elapsed()
    );
}
