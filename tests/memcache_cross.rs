//! One keyspace, two protocols: what memcached clients write, RESP clients read
//! (database 0), and the reverse; client flags, CAS uniques and TTLs agree on
//! both sides; a RESP list looks to memcached as `commands::memcache` documents.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Frame, Raw, Server};

/// A minimal memcached client: send a request, read lines or exact bytes.
struct Mc {
    stream: TcpStream,
    pending: Vec<u8>,
}

impl Mc {
    fn connect(server: &Server) -> Mc {
        let stream = TcpStream::connect(server.memcache_addr).expect("connect memcached port");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        Mc {
            stream,
            pending: Vec::new(),
        }
    }

    fn fill(&mut self) {
        let mut buf = [0u8; 65536];
        let n = self.stream.read(&mut buf).expect("read");
        assert!(n > 0, "closed; unread {:?}", self.pending);
        self.pending.extend_from_slice(&buf[..n]);
    }

    fn line(&mut self) -> String {
        loop {
            if let Some(p) = self.pending.windows(2).position(|w| w == b"\r\n") {
                let l: Vec<u8> = self.pending.drain(..p + 2).collect();
                return String::from_utf8_lossy(&l[..p]).into_owned();
            }
            self.fill();
        }
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        while self.pending.len() < n {
            self.fill();
        }
        self.pending.drain(..n).collect()
    }

    /// Send `request` and compare the reply byte for byte.
    fn rt(&mut self, request: &[u8], expected: &[u8]) {
        self.stream.write_all(request).unwrap();
        let got = self.bytes(expected.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected),
            "reply to {:?}",
            String::from_utf8_lossy(request)
        );
    }

    /// `gets key` -> (flags, value, cas), or None on a miss.
    fn gets(&mut self, key: &str) -> Option<(u32, Vec<u8>, u64)> {
        self.stream
            .write_all(format!("gets {key}\r\n").as_bytes())
            .unwrap();
        let header = self.line();
        if header == "END" {
            return None;
        }
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts[0], "VALUE", "{header}");
        let len: usize = parts[3].parse().unwrap();
        let data = self.bytes(len + 2);
        assert_eq!(self.line(), "END");
        Some((
            parts[2].parse().unwrap(),
            data[..len].to_vec(),
            parts[4].parse().unwrap(),
        ))
    }

    /// `mg key <flags>` -> the reply line.
    fn mg(&mut self, key: &str, flags: &str) -> String {
        self.stream
            .write_all(format!("mg {key} {flags}\r\n").as_bytes())
            .unwrap();
        self.line()
    }
}

/// Send one RESP command and read its reply.
fn resp(c: &mut Raw, args: &[&[u8]]) -> Frame {
    c.cmd(args);
    c.frame()
}

fn ok() -> Frame {
    Frame::Simple("OK".into())
}

#[test]
fn memcached_writes_are_read_over_resp_and_the_reverse() {
    let server = Server::start(&[]);
    let mut r = server.raw();
    let mut m = Mc::connect(&server);
    m.rt(b"set greeting 0 0 5\r\nhello\r\n", b"STORED\r\n");
    assert_eq!(resp(&mut r, &[b"GET", b"greeting"]), Frame::bulk("hello"));
    m.rt(b"append greeting 0 0 1\r\n!\r\n", b"STORED\r\n");
    m.rt(b"ms meta 3 T0\r\nabc\r\n", b"HD\r\n");
    assert_eq!(
        resp(&mut r, &[b"MGET", b"greeting", b"meta"]),
        Frame::Array(vec![Frame::bulk("hello!"), Frame::bulk("abc")])
    );
    // binary-safe both ways
    m.rt(b"set bin 0 0 4\r\n\r\n\x00\xff\r\n", b"STORED\r\n");
    assert_eq!(
        resp(&mut r, &[b"GET", b"bin"]),
        Frame::Bulk(b"\r\n\x00\xff".to_vec())
    );
    assert_eq!(resp(&mut r, &[b"SET", b"fromresp", b"a\r\nb"]), ok());
    m.rt(
        b"get fromresp\r\n",
        b"VALUE fromresp 0 4\r\na\r\nb\r\nEND\r\n",
    );
    // numbers: memcached incr on a RESP value, RESP INCR on a memcached value
    assert_eq!(resp(&mut r, &[b"SET", b"n", b"10"]), ok());
    m.rt(b"incr n 5\r\n", b"15\r\n");
    assert_eq!(resp(&mut r, &[b"INCR", b"n"]), Frame::Int(16));
    m.rt(b"decr n 1\r\n", b"15\r\n");
    assert_eq!(resp(&mut r, &[b"GET", b"n"]), Frame::bulk("15"));
    // deletes
    m.rt(b"delete greeting\r\n", b"DELETED\r\n");
    assert_eq!(resp(&mut r, &[b"GET", b"greeting"]), Frame::Null);
    assert_eq!(resp(&mut r, &[b"GETDEL", b"meta"]), Frame::bulk("abc"));
    m.rt(b"get meta\r\n", b"END\r\n");
    // counted as items on the memcached side
    m.stream.write_all(b"stats\r\n").unwrap();
    let mut items = None;
    loop {
        let l = m.line();
        if l == "END" {
            break;
        }
        if let Some(v) = l.strip_prefix("STAT curr_items ") {
            items = Some(v.to_string());
        }
    }
    assert_eq!(items.as_deref(), Some("3"), "bin, fromresp, n");
}

#[test]
fn memcached_works_on_database_zero() {
    let server = Server::start(&[]);
    let mut r = server.raw();
    let mut m = Mc::connect(&server);
    assert_eq!(resp(&mut r, &[b"SELECT", b"3"]), ok());
    assert_eq!(resp(&mut r, &[b"SET", b"k", b"db3"]), ok());
    m.rt(b"get k\r\n", b"END\r\n");
    m.rt(b"set k 0 0 3\r\ndb0\r\n", b"STORED\r\n");
    assert_eq!(resp(&mut r, &[b"GET", b"k"]), Frame::bulk("db3"));
    // flush_all empties database 0 only
    m.rt(b"flush_all\r\n", b"OK\r\n");
    assert_eq!(resp(&mut r, &[b"GET", b"k"]), Frame::bulk("db3"));
    assert_eq!(resp(&mut r, &[b"SELECT", b"0"]), ok());
    assert_eq!(resp(&mut r, &[b"GET", b"k"]), Frame::Null);
}

#[test]
fn client_flags_are_kept_and_resp_writes_leave_zero() {
    let server = Server::start(&[]);
    let mut r = server.raw();
    let mut m = Mc::connect(&server);
    m.rt(b"set f 4294967295 0 1\r\nx\r\n", b"STORED\r\n");
    assert_eq!(resp(&mut r, &[b"GET", b"f"]), Frame::bulk("x"));
    m.rt(b"get f\r\n", b"VALUE f 4294967295 1\r\nx\r\nEND\r\n");
    // RESP in-place edits keep the flags (the item is the same item)
    assert_eq!(resp(&mut r, &[b"APPEND", b"f", b"y"]), Frame::Int(2));
    m.rt(b"get f\r\n", b"VALUE f 4294967295 2\r\nxy\r\nEND\r\n");
    // a RESP SET stores a new item: flags 0
    assert_eq!(resp(&mut r, &[b"SET", b"f", b"z"]), ok());
    m.rt(b"get f\r\n", b"VALUE f 0 1\r\nz\r\nEND\r\n");
    assert_eq!(m.mg("f", "f v"), "VA 1 f0");
    assert_eq!(m.line(), "z");
}

#[test]
fn cas_conflicts_across_protocols() {
    let server = Server::start(&[]);
    let mut r = server.raw();
    let mut m = Mc::connect(&server);
    m.rt(b"set k 0 0 2\r\nv1\r\n", b"STORED\r\n");
    let (_, _, cas) = m.gets("k").unwrap();
    // a RESP write in between: the memcached cas loses
    assert_eq!(resp(&mut r, &[b"SET", b"k", b"resp"]), ok());
    m.rt(
        format!("cas k 0 0 2 {cas}\r\nv2\r\n").as_bytes(),
        b"EXISTS\r\n",
    );
    assert_eq!(resp(&mut r, &[b"GET", b"k"]), Frame::bulk("resp"));
    let (_, value, cas2) = m.gets("k").unwrap();
    assert_eq!(value, b"resp");
    assert_ne!(cas2, cas);
    // the same for ms C, after a RESP INCR and after a RESP APPEND
    assert_eq!(resp(&mut r, &[b"SET", b"n", b"1"]), ok());
    let (_, _, ncas) = m.gets("n").unwrap();
    assert_eq!(resp(&mut r, &[b"INCR", b"n"]), Frame::Int(2));
    m.rt(format!("ms n 1 C{ncas}\r\n9\r\n").as_bytes(), b"EX\r\n");
    let (_, _, ncas) = m.gets("n").unwrap();
    assert_eq!(resp(&mut r, &[b"APPEND", b"n", b"0"]), Frame::Int(2));
    m.rt(format!("ma n C{ncas}\r\n").as_bytes(), b"EX\r\n");
    // with no write in between, cas wins and RESP sees the new value
    let (_, _, cas3) = m.gets("k").unwrap();
    m.rt(
        format!("cas k 0 0 2 {cas3}\r\nv3\r\n").as_bytes(),
        b"STORED\r\n",
    );
    assert_eq!(resp(&mut r, &[b"GET", b"k"]), Frame::bulk("v3"));
    // RESP reads do not change the CAS
    let (_, _, cas4) = m.gets("k").unwrap();
    assert_eq!(resp(&mut r, &[b"GET", b"k"]), Frame::bulk("v3"));
    m.rt(
        format!("cas k 0 0 2 {cas4}\r\nv4\r\n").as_bytes(),
        b"STORED\r\n",
    );
}

fn ttl(r: &mut Raw, key: &[u8]) -> i64 {
    match resp(r, &[b"TTL", key]) {
        Frame::Int(n) => n,
        other => panic!("TTL {}: {other:?}", String::from_utf8_lossy(key)),
    }
}

/// `mg key t` -> the t value.
fn mg_ttl(m: &mut Mc, key: &str) -> i64 {
    let line = m.mg(key, "t");
    line.strip_prefix("HD t")
        .unwrap_or_else(|| panic!("mg {key} t: {line}"))
        .parse()
        .unwrap()
}

#[test]
fn ttls_agree_on_both_sides() {
    let server = Server::start(&[]);
    let mut r = server.raw();
    let mut m = Mc::connect(&server);
    // memcached exptime -> RESP TTL
    m.rt(b"set k 0 100 1\r\nv\r\n", b"STORED\r\n");
    assert!((99..=100).contains(&ttl(&mut r, b"k")));
    m.rt(b"set never 0 0 1\r\nv\r\n", b"STORED\r\n");
    assert_eq!(ttl(&mut r, b"never"), -1);
    m.rt(b"touch never 50\r\n", b"TOUCHED\r\n");
    assert!((49..=50).contains(&ttl(&mut r, b"never")));
    // an absolute exptime
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    m.rt(
        format!("set abs 0 {} 1\r\nv\r\n", now + 3600).as_bytes(),
        b"STORED\r\n",
    );
    assert!((3598..=3600).contains(&ttl(&mut r, b"abs")));
    // RESP expiry -> memcached t
    assert_eq!(resp(&mut r, &[b"SET", b"rk", b"v", b"EX", b"100"]), ok());
    assert!((99..=100).contains(&mg_ttl(&mut m, "rk")));
    assert_eq!(resp(&mut r, &[b"SET", b"rk2", b"v"]), ok());
    assert_eq!(mg_ttl(&mut m, "rk2"), -1);
    assert_eq!(resp(&mut r, &[b"EXPIRE", b"rk2", b"30"]), Frame::Int(1));
    assert!((29..=30).contains(&mg_ttl(&mut m, "rk2")));
    assert_eq!(resp(&mut r, &[b"PERSIST", b"rk2"]), Frame::Int(1));
    assert_eq!(mg_ttl(&mut m, "rk2"), -1);
    // a negative memcached exptime removes the key for RESP too
    m.rt(b"set rk2 0 -1 1\r\nv\r\n", b"STORED\r\n");
    assert_eq!(resp(&mut r, &[b"EXISTS", b"rk2"]), Frame::Int(0));
    // a short TTL set on one side runs out on the other
    assert_eq!(resp(&mut r, &[b"SET", b"short", b"v", b"PX", b"300"]), ok());
    m.rt(b"set short2 0 1 1\r\nv\r\n", b"STORED\r\n");
    std::thread::sleep(Duration::from_millis(1100));
    m.rt(b"get short\r\n", b"END\r\n");
    assert_eq!(resp(&mut r, &[b"GET", b"short2"]), Frame::Null);
}

#[test]
fn a_resp_list_seen_from_memcached() {
    let server = Server::start(&[]);
    let mut r = server.raw();
    let mut m = Mc::connect(&server);
    assert_eq!(resp(&mut r, &[b"RPUSH", b"l", b"a", b"b"]), Frame::Int(2));
    m.rt(b"get l\r\n", b"END\r\n");
    m.rt(b"mg l v\r\n", b"EN\r\n");
    m.rt(b"mg l N30 v\r\n", b"EN\r\n");
    m.rt(b"me l\r\n", b"EN\r\n");
    m.rt(b"gat 100 l\r\n", b"END\r\n");
    m.rt(b"add l 0 0 1\r\nx\r\n", b"NOT_STORED\r\n");
    m.rt(b"append l 0 0 1\r\nx\r\n", b"NOT_STORED\r\n");
    m.rt(b"prepend l 0 0 1\r\nx\r\n", b"NOT_STORED\r\n");
    m.rt(
        b"incr l 1\r\n",
        b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
    );
    m.rt(
        b"ma l\r\n",
        b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
    );
    assert_eq!(resp(&mut r, &[b"LLEN", b"l"]), Frame::Int(2));
    m.rt(b"touch l 100\r\n", b"TOUCHED\r\n");
    assert_eq!(
        resp(&mut r, &[b"LRANGE", b"l", b"0", b"-1"]),
        Frame::Array(vec![Frame::bulk("a"), Frame::bulk("b")])
    );
    // set replaces it, as RESP SET does
    m.rt(b"set l 0 0 1\r\nx\r\n", b"STORED\r\n");
    assert_eq!(resp(&mut r, &[b"GET", b"l"]), Frame::bulk("x"));
    // delete removes any key
    assert_eq!(resp(&mut r, &[b"RPUSH", b"l2", b"a"]), Frame::Int(1));
    m.rt(b"delete l2\r\n", b"DELETED\r\n");
    assert_eq!(resp(&mut r, &[b"LLEN", b"l2"]), Frame::Int(0));
}

#[test]
fn memcached_writes_raise_keyspace_events() {
    let server = Server::start(&[]);
    let mut r = server.raw();
    assert_eq!(
        resp(
            &mut r,
            &[b"CONFIG", b"SET", b"notify-keyspace-events", b"KEAn"]
        ),
        ok()
    );
    let mut sub = server.raw();
    sub.cmd(&[b"PSUBSCRIBE", b"__keyevent@0__:*"]);
    let _ = sub.frame();
    let mut m = Mc::connect(&server);
    m.rt(b"set k 0 0 1\r\n1\r\n", b"STORED\r\n");
    m.rt(b"incr k 1\r\n", b"2\r\n");
    m.rt(b"touch k 100\r\n", b"TOUCHED\r\n");
    m.rt(b"delete k\r\n", b"DELETED\r\n");
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while events.len() < 5 && Instant::now() < deadline {
        let f = sub.frame();
        let items = f.items();
        // pmessage pattern channel payload
        let channel = items[2].text();
        let event = channel.rsplit(':').next().unwrap().to_string();
        assert_eq!(items[3].text(), "k");
        events.push(event);
    }
    assert_eq!(events, ["new", "set", "incrby", "expire", "del"]);
}
