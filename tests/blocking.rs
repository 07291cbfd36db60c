//! Blocking list pops at the wire: FIFO wake-ups, timeouts, CLIENT UNBLOCK,
//! disconnects while blocked, and a many-producer, many-worker queue.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{multibulk, Frame, Raw, Server};

fn client_id(c: &mut Raw) -> i64 {
    c.send(b"CLIENT ID\r\n");
    match c.frame() {
        Frame::Int(n) => n,
        other => panic!("{other:?}"),
    }
}

/// Wait until INFO reports `n` blocked clients.
fn wait_blocked(c: &mut Raw, n: usize) {
    let started = Instant::now();
    loop {
        c.send(b"INFO clients\r\n");
        let info = c.frame().text();
        if info.contains(&format!("blocked_clients:{n}\r\n")) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{info}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn five_blocked_clients_are_served_in_the_order_they_blocked() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    let mut waiters: Vec<Raw> = Vec::new();
    for i in 0..5 {
        let mut w = server.raw();
        w.send(b"BLPOP jobs 0\r\n");
        wait_blocked(&mut control, i + 1);
        waiters.push(w);
    }
    // One element at a time, each to the next client in line.
    for (i, w) in waiters.iter_mut().enumerate() {
        control.cmd(&[b"RPUSH", b"jobs", format!("job{i}").as_bytes()]);
        assert_eq!(control.frame(), Frame::Int(1));
        assert_eq!(
            w.frame(),
            Frame::Array(vec![Frame::bulk("jobs"), Frame::bulk(&format!("job{i}"))]),
            "client {i}"
        );
    }
    wait_blocked(&mut control, 0);
    // Five elements in one push go to the five clients in order.
    let mut again: Vec<Raw> = Vec::new();
    for i in 0..5 {
        let mut w = server.raw();
        w.send(b"BRPOP q2 0\r\n");
        wait_blocked(&mut control, i + 1);
        again.push(w);
    }
    control.roundtrip(b"LPUSH q2 a b c d e\r\n", b":5\r\n");
    let got: Vec<String> = again
        .iter_mut()
        .map(|w| w.frame().items()[1].text())
        .collect();
    // BRPOP takes from the tail: the first in line gets "a", the next "b", ...
    assert_eq!(got, ["a", "b", "c", "d", "e"]);
    control.roundtrip(b"EXISTS q2\r\n", b":0\r\n");
}

#[test]
fn timeouts_answer_null_and_fractions_work() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let started = Instant::now();
    c.roundtrip(b"BLPOP none 0.1\r\n", b"*-1\r\n");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(90) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    c.roundtrip(b"BLMOVE none dst LEFT RIGHT 0.05\r\n", b"$-1\r\n");
    c.roundtrip(b"BLPOP k -1\r\n", b"-ERR timeout is negative\r\n");
    c.roundtrip(
        b"BLPOP k abc\r\n",
        b"-ERR timeout is not a float or out of range\r\n",
    );
    // Requests pipelined behind a blocked one run after it.
    c.roundtrip(b"BLPOP none 0.05\r\nPING\r\n", b"*-1\r\n+PONG\r\n");
    // Data present: no waiting at all.
    c.roundtrip(
        b"RPUSH k x\r\nBLPOP k 0\r\n",
        b":1\r\n*2\r\n$1\r\nk\r\n$1\r\nx\r\n",
    );
    // Inside MULTI a blocking pop does not block.
    c.roundtrip(
        b"MULTI\r\nBLPOP none 0\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n*1\r\n*-1\r\n",
    );
}

#[test]
fn client_unblock_timeout_and_error() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    let mut w = server.raw();
    let id = client_id(&mut w);
    w.send(b"BLPOP k 0\r\n");
    wait_blocked(&mut control, 1);
    control.roundtrip(format!("CLIENT UNBLOCK {id}\r\n").as_bytes(), b":1\r\n");
    w.expect(b"*-1\r\n");
    w.send(b"BRPOP k 0\r\n");
    wait_blocked(&mut control, 1);
    control.roundtrip(
        format!("CLIENT UNBLOCK {id} ERROR\r\n").as_bytes(),
        b":1\r\n",
    );
    w.expect(b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    control.roundtrip(format!("CLIENT UNBLOCK {id}\r\n").as_bytes(), b":0\r\n");
    control.roundtrip(
        b"CLIENT UNBLOCK 1 MAYBE\r\n",
        b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
    );
    w.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn a_pop_racing_a_disconnect_loses_nothing() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    for round in 0..50 {
        let mut gone = server.raw();
        gone.send(b"BLPOP race 0\r\n");
        wait_blocked(&mut control, 1);
        let mut stays = server.raw();
        stays.send(b"BLPOP race 0\r\n");
        wait_blocked(&mut control, 2);
        // Disconnect the first in line and push at the same moment.
        drop(gone);
        control.cmd(&[b"RPUSH", b"race", format!("v{round}").as_bytes()]);
        let _ = control.frame();
        // The element is either delivered to the remaining client or still in the list.
        stays
            .stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let got = stays.read_available(Duration::from_millis(300));
        if got.is_empty() {
            control.cmd(&[b"LPOP", b"race"]);
            assert_eq!(
                control.frame(),
                Frame::bulk(&format!("v{round}")),
                "round {round}: element lost"
            );
            drop(stays);
        } else {
            let text = String::from_utf8_lossy(&got).into_owned();
            assert!(text.contains(&format!("v{round}")), "round {round}: {text}");
        }
        wait_blocked(&mut control, 0);
        control.roundtrip(b"EXISTS race\r\n", b":0\r\n");
    }
}

#[test]
fn a_disconnected_waiter_leaves_nothing_behind() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    {
        let mut w = server.raw();
        w.send(b"BLPOP a b c 0\r\n");
        wait_blocked(&mut control, 1);
    }
    wait_blocked(&mut control, 0);
    control.send(b"INFO clients\r\n");
    let info = control.frame().text();
    assert!(info.contains("total_blocking_keys:0\r\n"), "{info}");
    control.roundtrip(b"RPUSH a x\r\nLLEN a\r\n", b":1\r\n:1\r\n");
}

#[test]
fn shutdown_releases_blocked_clients() {
    let mut server = Server::start(&[]);
    let mut w = server.raw();
    w.send(b"BLPOP k 0\r\n");
    let mut control = server.raw();
    wait_blocked(&mut control, 1);
    control.send(b"SHUTDOWN\r\n");
    w.expect_closed();
    assert_eq!(server.wait_exit(Duration::from_secs(6)), Some(0));
}

#[test]
fn four_producers_eight_workers_hundred_thousand_tasks() {
    const PRODUCERS: usize = 4;
    const WORKERS: usize = 8;
    const TASKS: usize = 100_000;
    let server = Server::start(&[]);
    let addr = server.addr;
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Raw::connect(addr);
                let mut seen = Vec::new();
                loop {
                    c.send(b"BRPOP tasks 2\r\n");
                    match c.frame() {
                        Frame::Array(items) => {
                            let task = items[1].text();
                            if task == "stop" {
                                return seen;
                            }
                            seen.push(task);
                        }
                        Frame::Null => continue,
                        other => panic!("{other:?}"),
                    }
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            std::thread::spawn(move || {
                let mut c = Raw::connect(addr);
                let per = TASKS / PRODUCERS;
                for chunk in (0..per).collect::<Vec<_>>().chunks(100) {
                    let mut req = Vec::new();
                    for i in chunk {
                        req.extend(multibulk(&[
                            b"LPUSH",
                            b"tasks",
                            format!("p{p}-{i}").as_bytes(),
                        ]));
                    }
                    c.send(&req);
                    for _ in chunk {
                        let _ = c.frame();
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let mut c = server.raw();
    let mut stops = Vec::new();
    for _ in 0..WORKERS {
        stops.extend(multibulk(&[b"LPUSH", b"tasks", b"stop"]));
    }
    c.send(&stops);
    let mut all = Vec::new();
    let mut per_worker = Vec::new();
    for w in workers {
        let seen = w.join().unwrap();
        per_worker.push(seen.len());
        all.extend(seen);
    }
    assert_eq!(all.len(), TASKS, "tasks received: {per_worker:?}");
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), TASKS, "a task was received twice");
    assert!(
        per_worker.iter().filter(|&&n| n > 0).count() >= 2,
        "load not spread: {per_worker:?}"
    );
}

/// The `cmdstat_<name>:calls=N` figure of INFO commandstats (0 when absent).
fn calls(c: &mut Raw, name: &str) -> u64 {
    c.send(b"INFO commandstats\r\n");
    let info = c.frame().text();
    let prefix = format!("cmdstat_{name}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

#[test]
fn a_blocked_command_counts_once_in_commandstats() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    // Served after waiting, with a wake-up that found nothing in between
    // (another client took the first element): still one call.
    let mut waiter = server.raw();
    waiter.send(b"BLPOP counted 0\r\n");
    wait_blocked(&mut control, 1);
    control.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    control.roundtrip(b"RPUSH counted a\r\n", b"+QUEUED\r\n");
    control.roundtrip(b"LPOP counted\r\n", b"+QUEUED\r\n");
    control.roundtrip(b"EXEC\r\n", b"*2\r\n:1\r\n$1\r\na\r\n");
    control.roundtrip(b"RPUSH counted b\r\n", b":1\r\n");
    assert_eq!(
        waiter.frame(),
        Frame::Array(vec![Frame::bulk("counted"), Frame::bulk("b")])
    );
    assert_eq!(calls(&mut control, "blpop"), 1);
    // Timed out: one more call, answered with the null array.
    waiter.send(b"BLPOP counted 0.05\r\n");
    waiter.expect(b"*-1\r\n");
    assert_eq!(calls(&mut control, "blpop"), 2);
    // Unblocked by CLIENT UNBLOCK ... ERROR: counted, as a failed call.
    let id = client_id(&mut waiter);
    waiter.send(b"BRPOPLPUSH counted elsewhere 0\r\n");
    wait_blocked(&mut control, 1);
    control.cmd(&[b"CLIENT", b"UNBLOCK", id.to_string().as_bytes(), b"ERROR"]);
    assert_eq!(control.frame(), Frame::Int(1));
    waiter.expect(b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    control.send(b"INFO commandstats\r\n");
    let info = control.frame().text();
    assert!(
        info.contains("cmdstat_brpoplpush:calls=1,") && info.contains("failed_calls=1\r\n"),
        "{info}"
    );
}

/// INFO clients' `blocked_clients` figure, read once.
fn blocked_now(c: &mut Raw) -> usize {
    c.send(b"INFO clients\r\n");
    let info = c.frame().text();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{info}"))
}

fn pair(key: &str, value: &str) -> Frame {
    Frame::Array(vec![Frame::bulk(key), Frame::bulk(value)])
}

#[test]
fn a_transaction_that_pushes_then_deletes_wakes_nobody() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    let mut w = server.raw();
    w.send(b"BLPOP k 0\r\n");
    wait_blocked(&mut control, 1);
    // LPUSH + DEL: the key is gone when the transaction ends.
    control.roundtrip(
        b"MULTI\r\nLPUSH k a\r\nDEL k\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n:1\r\n",
    );
    assert_eq!(blocked_now(&mut control), 1);
    // LPUSH + DEL + SET: the key is a string at the end; no WRONGTYPE for the waiter.
    control.roundtrip(
        b"MULTI\r\nLPUSH k a\r\nDEL k\r\nSET k foo\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n:1\r\n:1\r\n+OK\r\n",
    );
    assert_eq!(blocked_now(&mut control), 1);
    // LPUSH + DEL + SET outside a transaction: the same, one command at a time.
    control.roundtrip(b"DEL k\r\n", b":1\r\n");
    control.roundtrip(b"GET k\r\n", b"$-1\r\n");
    assert_eq!(blocked_now(&mut control), 1);
    // Nothing was delivered meanwhile; the next real push serves the waiter.
    assert!(w.read_available(Duration::from_millis(100)).is_empty());
    control.roundtrip(b"LPUSH k b\r\n", b":1\r\n");
    assert_eq!(w.frame(), pair("k", "b"));
    assert_eq!(blocked_now(&mut control), 0);
    control.roundtrip(b"EXISTS k\r\n", b":0\r\n");
}

#[test]
fn several_clients_blocked_in_blmpop_are_served_first_come_first_served() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    let mut waiters = Vec::new();
    for i in 0..3 {
        let mut w = server.raw();
        w.send(b"BLMPOP 0 2 l1 l2 LEFT COUNT 2\r\n");
        wait_blocked(&mut control, i + 1);
        waiters.push(w);
    }
    // The list is e d c b a: two each from the head, in the order they blocked.
    control.roundtrip(b"LPUSH l2 a b c d e\r\n", b":5\r\n");
    let expected: [&[u8]; 3] = [
        b"*2\r\n$2\r\nl2\r\n*2\r\n$1\r\ne\r\n$1\r\nd\r\n",
        b"*2\r\n$2\r\nl2\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n",
        b"*2\r\n$2\r\nl2\r\n*1\r\n$1\r\na\r\n",
    ];
    for (w, e) in waiters.iter_mut().zip(expected) {
        w.expect(e);
    }
    assert_eq!(blocked_now(&mut control), 0);
    control.roundtrip(b"EXISTS l1 l2\r\n", b":0\r\n");
    // RIGHT and a count larger than the list.
    let mut w = server.raw();
    w.send(b"BLMPOP 0 2 l1 l2 RIGHT COUNT 10\r\n");
    wait_blocked(&mut control, 1);
    control.roundtrip(b"RPUSH l1 x y\r\n", b":2\r\n");
    w.expect(b"*2\r\n$2\r\nl1\r\n*2\r\n$1\r\ny\r\n$1\r\nx\r\n");
}

#[test]
fn linked_blmove_clients_are_served_in_one_round() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    let mut a = server.raw();
    a.send(b"BLMOVE a b LEFT RIGHT 0\r\n");
    wait_blocked(&mut control, 1);
    let mut b = server.raw();
    b.send(b"BLMOVE b c LEFT RIGHT 0\r\n");
    wait_blocked(&mut control, 2);
    // The push's reply comes after both moves: both are answered, and the
    // element has travelled a -> b -> c by the time the pusher looks.
    control.roundtrip(b"LPUSH a x\r\n", b":1\r\n");
    assert_eq!(blocked_now(&mut control), 0);
    a.expect(b"$1\r\nx\r\n");
    b.expect(b"$1\r\nx\r\n");
    control.roundtrip(
        b"LRANGE a 0 -1\r\nLRANGE b 0 -1\r\nLRANGE c 0 -1\r\n",
        b"*0\r\n*0\r\n*1\r\n$1\r\nx\r\n",
    );
}

#[test]
fn circular_brpoplpush_stops_after_one_turn() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    let mut one = server.raw();
    one.send(b"BRPOPLPUSH list1 list2 0\r\n");
    wait_blocked(&mut control, 1);
    let mut two = server.raw();
    two.send(b"BRPOPLPUSH list2 list1 0\r\n");
    wait_blocked(&mut control, 2);
    control.roundtrip(b"RPUSH list1 foo\r\n", b":1\r\n");
    control.roundtrip(
        b"LRANGE list1 0 -1\r\nLRANGE list2 0 -1\r\n",
        b"*1\r\n$3\r\nfoo\r\n*0\r\n",
    );
    one.expect(b"$3\r\nfoo\r\n");
    two.expect(b"$3\r\nfoo\r\n");
    assert_eq!(blocked_now(&mut control), 0);
}

#[test]
fn self_referential_brpoplpush_rotates_the_list() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    let mut w = server.raw();
    w.send(b"BRPOPLPUSH blist blist 0\r\n");
    wait_blocked(&mut control, 1);
    control.roundtrip(b"RPUSH blist foo\r\n", b":1\r\n");
    w.expect(b"$3\r\nfoo\r\n");
    control.roundtrip(b"LRANGE blist 0 -1\r\n", b"*1\r\n$3\r\nfoo\r\n");
    // With data present it answers at once, rotating tail to head.
    control.roundtrip(b"RPUSH blist bar\r\n", b":2\r\n");
    w.roundtrip(b"BRPOPLPUSH blist blist 0\r\n", b"$3\r\nbar\r\n");
    control.roundtrip(
        b"LRANGE blist 0 -1\r\n",
        b"*2\r\n$3\r\nbar\r\n$3\r\nfoo\r\n",
    );
    assert_eq!(blocked_now(&mut control), 0);
}

#[test]
fn swapdb_wakes_a_client_blocked_in_the_other_db() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    let mut w = server.raw();
    w.roundtrip(b"SELECT 9\r\n", b"+OK\r\n");
    w.send(b"BLPOP k 0\r\n");
    wait_blocked(&mut control, 1);
    // db 0 gets the list; db 9 still has nothing.
    control.roundtrip(b"RPUSH k x y\r\n", b":2\r\n");
    assert_eq!(blocked_now(&mut control), 1);
    control.roundtrip(b"SWAPDB 0 9\r\n", b"+OK\r\n");
    assert_eq!(w.frame(), pair("k", "x"));
    assert_eq!(blocked_now(&mut control), 0);
    // The served pop came from the swapped-in list, now db 9's.
    control.roundtrip(
        b"EXISTS k\r\nSELECT 9\r\nLRANGE k 0 -1\r\n",
        b":0\r\n+OK\r\n*1\r\n$1\r\ny\r\n",
    );
    // A swap that brings a string wakes nobody and gives no WRONGTYPE.
    w.send(b"BLPOP s 0\r\n");
    wait_blocked(&mut control, 1);
    control.roundtrip(
        b"SELECT 0\r\nSET s str\r\nSWAPDB 0 9\r\n",
        b"+OK\r\n+OK\r\n+OK\r\n",
    );
    assert_eq!(blocked_now(&mut control), 1);
    control.roundtrip(b"SELECT 0\r\nDEL s\r\n", b"+OK\r\n:0\r\n");
    control.roundtrip(
        b"SELECT 9\r\nDEL s\r\nRPUSH s z\r\n",
        b"+OK\r\n:1\r\n:1\r\n",
    );
    assert_eq!(w.frame(), pair("s", "z"));
}

#[test]
fn rename_and_move_into_a_watched_name_wake_the_client() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    let mut w = server.raw();
    // RENAME src -> the name a client waits on.
    w.send(b"BLPOP dst 0\r\n");
    wait_blocked(&mut control, 1);
    control.roundtrip(b"RPUSH src a b\r\n", b":2\r\n");
    assert_eq!(blocked_now(&mut control), 1);
    control.roundtrip(b"RENAME src dst\r\n", b"+OK\r\n");
    assert_eq!(w.frame(), pair("dst", "a"));
    control.roundtrip(b"LRANGE dst 0 -1\r\n", b"*1\r\n$1\r\nb\r\n");
    // RENAME of a string into the name: no wake, no WRONGTYPE.
    w.send(b"BLPOP named 0\r\n");
    wait_blocked(&mut control, 1);
    control.roundtrip(b"SET str v\r\nRENAME str named\r\n", b"+OK\r\n+OK\r\n");
    assert_eq!(blocked_now(&mut control), 1);
    control.roundtrip(
        b"DEL named\r\nRPUSH other o\r\nRENAME other named\r\n",
        b":1\r\n:1\r\n+OK\r\n",
    );
    assert_eq!(w.frame(), pair("named", "o"));
    // MOVE from db 1 into the client's db 0.
    w.send(b"BRPOP moved 0\r\n");
    wait_blocked(&mut control, 1);
    control.roundtrip(
        b"SELECT 1\r\nRPUSH moved m n\r\nMOVE moved 0\r\n",
        b"+OK\r\n:2\r\n:1\r\n",
    );
    assert_eq!(w.frame(), pair("moved", "n"));
    control.roundtrip(
        b"SELECT 0\r\nLRANGE moved 0 -1\r\n",
        b"+OK\r\n*1\r\n$1\r\nm\r\n",
    );
    assert_eq!(blocked_now(&mut control), 0);
}

#[test]
fn info_blocked_clients_is_exact_before_during_and_after() {
    let server = Server::start(&[]);
    let mut control = server.raw();
    assert_eq!(blocked_now(&mut control), 0);
    let mut one = server.raw();
    one.send(b"BLPOP q 0\r\n");
    wait_blocked(&mut control, 1);
    let mut two = server.raw();
    two.send(b"BRPOP q other 0\r\n");
    wait_blocked(&mut control, 2);
    control.send(b"INFO clients\r\n");
    let info = control.frame().text();
    assert!(info.contains("total_blocking_keys:2\r\n"), "{info}");
    // One element: one client served, counted out before the push's reply.
    control.roundtrip(b"RPUSH q a\r\n", b":1\r\n");
    assert_eq!(blocked_now(&mut control), 1);
    assert_eq!(one.frame(), pair("q", "a"));
    // Served inside EXEC: counted out before EXEC's reply.
    control.roundtrip(
        b"MULTI\r\nRPUSH other b\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n*1\r\n:1\r\n",
    );
    assert_eq!(blocked_now(&mut control), 0);
    assert_eq!(two.frame(), pair("other", "b"));
    // A timeout leaves the count at zero again.
    one.roundtrip(b"BLPOP q 0.05\r\n", b"*-1\r\n");
    assert_eq!(blocked_now(&mut control), 0);
    control.send(b"INFO clients\r\n");
    let info = control.frame().text();
    assert!(info.contains("total_blocking_keys:0\r\n"), "{info}");
}
