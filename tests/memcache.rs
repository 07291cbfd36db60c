//! The memcached text and meta protocol at the wire: (request bytes, exact
//! reply bytes) tables for every command, flag and error, run against the real
//! binary's memcached port. Replies are memcached 1.6.18's except where the
//! module docs of `commands::memcache` and `protocol::memcache` say otherwise
//! (CAS values differ, incr/decr never pad, `E` and `x` are accepted).
//!
//! Every table runs on a fresh connection and ends with `mn`: the `MN` must be
//! the next thing read, so a reply too many (or a `noreply` that answered) fails.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Frame, Server};

/// A raw memcached client that compares exact bytes.
struct Mc {
    stream: TcpStream,
    pending: Vec<u8>,
}

/// How long a read waits for bytes that should come.
const REPLY_WAIT: Duration = Duration::from_secs(5);

fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.len() > 400 {
        format!("{}...({} bytes)", &s[..400], b.len())
    } else {
        s.into_owned()
    }
}

impl Mc {
    fn connect(server: &Server) -> Mc {
        let stream = TcpStream::connect(server.memcache_addr).expect("connect memcached port");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Mc {
            stream,
            pending: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Read until `n` bytes are buffered, the peer closes, or `REPLY_WAIT` passes.
    fn fill_to(&mut self, n: usize) -> bool {
        let deadline = Instant::now() + REPLY_WAIT;
        let mut buf = vec![0u8; 65536];
        while self.pending.len() < n && Instant::now() < deadline {
            match self.stream.read(&mut buf) {
                Ok(0) => return false,
                Ok(k) => self.pending.extend_from_slice(&buf[..k]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return false,
            }
        }
        true
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        self.fill_to(n);
        let n = n.min(self.pending.len());
        self.pending.drain(..n).collect()
    }

    fn expect(&mut self, expected: &[u8], ctx: &str) {
        let got = self.take(expected.len());
        assert!(
            got == expected,
            "{ctx}\n  expected: {:?}\n       got: {:?}",
            show(expected),
            show(&got)
        );
    }

    fn rt(&mut self, request: &[u8], expected: &[u8]) {
        self.send(request);
        let ctx = format!("request {:?}", show(request));
        self.expect(expected, &ctx);
    }

    /// `mn` answers `MN`: nothing else is pending.
    fn sync(&mut self, ctx: &str) {
        self.send(b"mn\r\n");
        self.expect(b"MN\r\n", &format!("{ctx}: sync (a reply too many?)"));
    }

    fn line(&mut self) -> String {
        loop {
            if let Some(p) = self.pending.windows(2).position(|w| w == b"\r\n") {
                let l: Vec<u8> = self.pending.drain(..p + 2).collect();
                return String::from_utf8_lossy(&l[..p]).into_owned();
            }
            let want = self.pending.len() + 1;
            assert!(
                self.fill_to(want) && self.pending.len() >= want,
                "no complete line: {:?}",
                show(&self.pending)
            );
        }
    }

    /// The CAS `gets` reports for `key`.
    fn cas_of(&mut self, key: &str) -> u64 {
        self.send(format!("gets {key}\r\n").as_bytes());
        let header = self.line();
        let cas = header
            .split(' ')
            .nth(4)
            .unwrap_or_else(|| panic!("no cas in {header:?}"))
            .parse()
            .unwrap();
        let len: usize = header.split(' ').nth(3).unwrap().parse().unwrap();
        self.take(len + 2);
        assert_eq!(self.line(), "END");
        cas
    }

    fn expect_closed(&mut self) {
        assert!(self.pending.is_empty(), "unread: {:?}", show(&self.pending));
        self.stream
            .set_read_timeout(Some(REPLY_WAIT))
            .expect("timeout");
        let mut buf = [0u8; 256];
        match self.stream.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("expected close, got {:?}", show(&buf[..n])),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("expected close, got error {e}"),
        }
    }
}

/// Run one (request, expected reply) table on a fresh connection.
fn table(server: &Server, name: &str, steps: &[(&[u8], &[u8])]) {
    let mut c = Mc::connect(server);
    for (i, (req, exp)) in steps.iter().enumerate() {
        c.send(req);
        c.expect(exp, &format!("table {name}, step {i}: {:?}", show(req)));
    }
    c.sync(name);
}

/// Like `table` with owned steps (built with `format!`).
fn table_owned(server: &Server, name: &str, steps: &[(Vec<u8>, Vec<u8>)]) {
    let borrowed: Vec<(&[u8], &[u8])> = steps
        .iter()
        .map(|(a, b)| (a.as_slice(), b.as_slice()))
        .collect();
    table(server, name, &borrowed);
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ------------------------------------------------------------ classic --

#[test]
fn storage_commands() {
    let server = Server::start(&[]);
    let key250 = "k".repeat(250);
    let key251 = "k".repeat(251);
    table(
        &server,
        "storage",
        &[
            (b"set a 5 0 2\r\nhi\r\n", b"STORED\r\n"),
            (b"get a\r\n", b"VALUE a 5 2\r\nhi\r\nEND\r\n"),
            (b"add a 0 0 1\r\nx\r\n", b"NOT_STORED\r\n"),
            (b"get a\r\n", b"VALUE a 5 2\r\nhi\r\nEND\r\n"),
            (b"add b 7 0 1\r\nb\r\n", b"STORED\r\n"),
            (b"replace c 0 0 1\r\nx\r\n", b"NOT_STORED\r\n"),
            (b"get c\r\n", b"END\r\n"),
            (b"replace a 9 0 3\r\nnew\r\n", b"STORED\r\n"),
            (b"get a\r\n", b"VALUE a 9 3\r\nnew\r\nEND\r\n"),
            // append/prepend ignore the flags and exptime they are sent
            (b"append a 1 -1 2\r\n++\r\n", b"STORED\r\n"),
            (b"prepend a 1 -1 2\r\n--\r\n", b"STORED\r\n"),
            (b"get a\r\n", b"VALUE a 9 7\r\n--new++\r\nEND\r\n"),
            (b"append nokey 0 0 1\r\nx\r\n", b"NOT_STORED\r\n"),
            (b"prepend nokey 0 0 1\r\nx\r\n", b"NOT_STORED\r\n"),
            (
                b"get a nokey b\r\n",
                b"VALUE a 9 7\r\n--new++\r\nVALUE b 7 1\r\nb\r\nEND\r\n",
            ),
            (b"get nokey\r\n", b"END\r\n"),
            (b"set empty 0 0 0\r\n\r\n", b"STORED\r\n"),
            (b"get empty\r\n", b"VALUE empty 0 0\r\n\r\nEND\r\n"),
            // data is taken by length: CR LF inside a value is data
            (b"set bin 0 0 4\r\n\r\n\r\n\r\n", b"STORED\r\n"),
            (b"get bin\r\n", b"VALUE bin 0 4\r\n\r\n\r\n\r\nEND\r\n"),
            (b"set bin 0 0 3\r\n\x00\xff\x80\r\n", b"STORED\r\n"),
            (b"get bin\r\n", b"VALUE bin 0 3\r\n\x00\xff\x80\r\nEND\r\n"),
            // 32-bit client flags
            (b"set f 4294967295 0 1\r\nx\r\n", b"STORED\r\n"),
            (b"get f\r\n", b"VALUE f 4294967295 1\r\nx\r\nEND\r\n"),
            // a bad header does not swallow the data line, which is then a command
            (
                b"set f 4294967296 0 1\r\nx\r\n",
                b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
            ),
            (
                b"set f 0 abc 1\r\nx\r\n",
                b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
            ),
            (
                b"set f 0 0 -1\r\n",
                b"CLIENT_ERROR bad command line format\r\n",
            ),
            (b"set f 0 0\r\n", b"ERROR\r\n"),
            (b"set f 0 0 1 noreply extra\r\n", b"ERROR\r\n"),
            (
                b"set f 0 0 1\r\nxyz\r\n",
                b"CLIENT_ERROR bad data chunk\r\nERROR\r\n",
            ),
            (b"get f\r\n", b"VALUE f 4294967295 1\r\nx\r\nEND\r\n"),
            (
                b"set a\x01b 0 0 1\r\nx\r\n",
                b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
            ),
        ],
    );
    table_owned(
        &server,
        "key length",
        &[
            (
                format!("set {key250} 0 0 1\r\nx\r\n").into_bytes(),
                b"STORED\r\n".to_vec(),
            ),
            (
                format!("get {key250}\r\n").into_bytes(),
                format!("VALUE {key250} 0 1\r\nx\r\nEND\r\n").into_bytes(),
            ),
            (
                format!("set {key251} 0 0 1\r\nx\r\n").into_bytes(),
                b"CLIENT_ERROR bad command line format\r\nERROR\r\n".to_vec(),
            ),
            (
                format!("get {key251}\r\n").into_bytes(),
                b"CLIENT_ERROR bad command line format\r\n".to_vec(),
            ),
            (
                format!("delete {key251}\r\n").into_bytes(),
                b"CLIENT_ERROR bad command line format\r\n".to_vec(),
            ),
        ],
    );
}

#[test]
fn cas_command_and_what_changes_the_cas() {
    let server = Server::start(&[]);
    let mut c = Mc::connect(&server);
    c.rt(b"set k 3 0 1\r\na\r\n", b"STORED\r\n");
    let cas = c.cas_of("k");
    // reading and touching are not modifications
    c.rt(b"get k\r\n", b"VALUE k 3 1\r\na\r\nEND\r\n");
    c.rt(b"touch k 100\r\n", b"TOUCHED\r\n");
    c.rt(b"gat 200 k\r\n", b"VALUE k 3 1\r\na\r\nEND\r\n");
    assert_eq!(c.cas_of("k"), cas);
    c.rt(
        format!("cas k 4 0 1 {}\r\nb\r\n", cas + 1000).as_bytes(),
        b"EXISTS\r\n",
    );
    c.rt(
        format!("cas k 4 0 1 {cas}\r\nb\r\n").as_bytes(),
        b"STORED\r\n",
    );
    c.rt(b"get k\r\n", b"VALUE k 4 1\r\nb\r\nEND\r\n");
    let cas2 = c.cas_of("k");
    assert_ne!(cas2, cas);
    // the old unique is spent
    c.rt(
        format!("cas k 0 0 1 {cas}\r\nc\r\n").as_bytes(),
        b"EXISTS\r\n",
    );
    c.rt(b"cas nokey 0 0 1 1\r\nc\r\n", b"NOT_FOUND\r\n");
    c.rt(
        b"cas k 0 0 1 abc\r\nx\r\n",
        b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
    );
    c.rt(b"cas k 0 0 1\r\n", b"ERROR\r\n");
    // every write gives a new CAS
    c.rt(b"append k 0 0 1\r\n!\r\n", b"STORED\r\n");
    let cas3 = c.cas_of("k");
    assert!(cas3 > cas2);
    c.rt(b"set n 0 0 1\r\n1\r\n", b"STORED\r\n");
    let n1 = c.cas_of("n");
    c.rt(b"incr n 1\r\n", b"2\r\n");
    assert!(c.cas_of("n") > n1);
    // noreply: stored silently, and a mismatch is silent too
    let cas4 = c.cas_of("k");
    c.send(format!("cas k 0 0 1 {cas4} noreply\r\nz\r\n").as_bytes());
    c.send(format!("cas k 0 0 1 {cas4} noreply\r\ny\r\n").as_bytes());
    c.rt(b"get k\r\n", b"VALUE k 0 1\r\nz\r\nEND\r\n");
    c.sync("cas");
}

#[test]
fn touch_gat_and_gats() {
    let server = Server::start(&[]);
    let mut c = Mc::connect(&server);
    c.rt(b"set k 1 0 1\r\nv\r\n", b"STORED\r\n");
    let cas = c.cas_of("k");
    table_owned(
        &server,
        "touch",
        &[
            (b"touch k 100\r\n".to_vec(), b"TOUCHED\r\n".to_vec()),
            (b"mg k t\r\n".to_vec(), b"HD t100\r\n".to_vec()),
            (b"touch nokey 100\r\n".to_vec(), b"NOT_FOUND\r\n".to_vec()),
            (
                b"touch k abc\r\n".to_vec(),
                b"CLIENT_ERROR invalid exptime argument\r\n".to_vec(),
            ),
            (b"touch k\r\n".to_vec(), b"ERROR\r\n".to_vec()),
            (
                b"gat 50 k nokey\r\n".to_vec(),
                b"VALUE k 1 1\r\nv\r\nEND\r\n".to_vec(),
            ),
            (b"mg k t\r\n".to_vec(), b"HD t50\r\n".to_vec()),
            (
                b"gats 0 k\r\n".to_vec(),
                format!("VALUE k 1 1 {cas}\r\nv\r\nEND\r\n").into_bytes(),
            ),
            (b"mg k t\r\n".to_vec(), b"HD t-1\r\n".to_vec()),
            (b"gat 10 nokey\r\n".to_vec(), b"END\r\n".to_vec()),
            (
                b"gat abc k\r\n".to_vec(),
                b"CLIENT_ERROR invalid exptime argument\r\n".to_vec(),
            ),
            (b"gat 10\r\n".to_vec(), b"END\r\n".to_vec()),
            // a negative exptime returns the item one last time, then it is gone
            (
                b"gat -1 k\r\n".to_vec(),
                b"VALUE k 1 1\r\nv\r\nEND\r\n".to_vec(),
            ),
            (b"get k\r\n".to_vec(), b"END\r\n".to_vec()),
            (b"set k 0 0 1\r\nv\r\n".to_vec(), b"STORED\r\n".to_vec()),
            (b"touch k -1\r\n".to_vec(), b"TOUCHED\r\n".to_vec()),
            (b"get k\r\n".to_vec(), b"END\r\n".to_vec()),
        ],
    );
}

#[test]
fn delete_including_the_legacy_zero() {
    let server = Server::start(&[]);
    table(
        &server,
        "delete",
        &[
            (b"set k 0 0 1\r\nv\r\n", b"STORED\r\n"),
            (b"delete k\r\n", b"DELETED\r\n"),
            (b"delete k\r\n", b"NOT_FOUND\r\n"),
            (b"get k\r\n", b"END\r\n"),
            (b"set k 0 0 1\r\nv\r\n", b"STORED\r\n"),
            (b"delete k 0\r\n", b"DELETED\r\n"),
            (b"set k 0 0 1\r\nv\r\n", b"STORED\r\n"),
            (b"delete k 0 noreply\r\n", b""),
            (b"get k\r\n", b"END\r\n"),
            (
                b"delete k 1\r\n",
                b"CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n",
            ),
            (
                b"delete k 0 0\r\n",
                b"CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n",
            ),
            (b"delete k noreply\r\n", b""),
            (b"delete\r\n", b"ERROR\r\n"),
            (b"delete a b c d\r\n", b"ERROR\r\n"),
        ],
    );
}

#[test]
fn incr_and_decr() {
    let server = Server::start(&[]);
    table(
        &server,
        "incr/decr",
        &[
            (b"set n 5 0 2\r\n10\r\n", b"STORED\r\n"),
            (b"incr n 5\r\n", b"15\r\n"),
            (b"decr n 6\r\n", b"9\r\n"),
            // no padding: the value is "9", not "9 " as memcached leaves it
            (b"get n\r\n", b"VALUE n 5 1\r\n9\r\nEND\r\n"),
            (b"decr n 100\r\n", b"0\r\n"),
            (
                b"incr n 18446744073709551615\r\n",
                b"18446744073709551615\r\n",
            ),
            (b"incr n 2\r\n", b"1\r\n"),
            (b"get n\r\n", b"VALUE n 5 1\r\n1\r\nEND\r\n"),
            (b"incr n 0\r\n", b"1\r\n"),
            (b"incr nokey 1\r\n", b"NOT_FOUND\r\n"),
            (b"decr nokey 1\r\n", b"NOT_FOUND\r\n"),
            (
                b"incr n abc\r\n",
                b"CLIENT_ERROR invalid numeric delta argument\r\n",
            ),
            (
                b"incr n -1\r\n",
                b"CLIENT_ERROR invalid numeric delta argument\r\n",
            ),
            (
                b"incr n 18446744073709551616\r\n",
                b"CLIENT_ERROR invalid numeric delta argument\r\n",
            ),
            (b"incr n\r\n", b"ERROR\r\n"),
            // values are read as memcached's strtoull reads them
            (b"set s 0 0 4\r\n 12 \r\n", b"STORED\r\n"),
            (b"incr s 1\r\n", b"13\r\n"),
            (b"get s\r\n", b"VALUE s 0 2\r\n13\r\nEND\r\n"),
            (b"set t 0 0 6\r\n12 abc\r\n", b"STORED\r\n"),
            (b"incr t 1\r\n", b"13\r\n"),
            (b"set u 0 0 3\r\n-12\r\n", b"STORED\r\n"),
            (
                b"incr u 1\r\n",
                b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
            ),
            (b"set u 0 0 3\r\n12a\r\n", b"STORED\r\n"),
            (
                b"decr u 1\r\n",
                b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
            ),
            (b"set u 0 0 0\r\n\r\n", b"STORED\r\n"),
            (
                b"incr u 1\r\n",
                b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
            ),
            (b"set u 0 0 20\r\n18446744073709551616\r\n", b"STORED\r\n"),
            (
                b"incr u 1\r\n",
                b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
            ),
            (b"set big 0 0 20\r\n18446744073709551615\r\n", b"STORED\r\n"),
            (b"incr big 1\r\n", b"0\r\n"),
            // flags and TTL survive
            (b"set ttl 77 100 1\r\n1\r\n", b"STORED\r\n"),
            (b"incr ttl 1\r\n", b"2\r\n"),
            (b"mg ttl f t v\r\n", b"VA 1 f77 t100\r\n2\r\n"),
        ],
    );
}

#[test]
fn flush_all_now_and_later() {
    let server = Server::start(&[]);
    table(
        &server,
        "flush_all",
        &[
            (b"set a 0 0 1\r\n1\r\n", b"STORED\r\n"),
            (b"flush_all\r\n", b"OK\r\n"),
            (b"get a\r\n", b"END\r\n"),
            (b"set a 0 0 1\r\n1\r\n", b"STORED\r\n"),
            (b"flush_all noreply\r\n", b""),
            (b"get a\r\n", b"END\r\n"),
            (b"set a 0 0 1\r\n1\r\n", b"STORED\r\n"),
            (b"flush_all 0\r\n", b"OK\r\n"),
            (b"get a\r\n", b"END\r\n"),
            (b"set a 0 0 1\r\n1\r\n", b"STORED\r\n"),
            (b"flush_all -1\r\n", b"OK\r\n"),
            (b"get a\r\n", b"END\r\n"),
            (
                b"flush_all x\r\n",
                b"CLIENT_ERROR invalid exptime argument\r\n",
            ),
            (b"flush_all 1 2 3\r\n", b"ERROR\r\n"),
        ],
    );
    // With a delay: everything stored before the deadline goes at the deadline.
    let mut c = Mc::connect(&server);
    c.rt(b"set a 0 0 1\r\n1\r\n", b"STORED\r\n");
    c.rt(b"flush_all 1\r\n", b"OK\r\n");
    c.rt(b"set b 0 0 1\r\n2\r\n", b"STORED\r\n");
    c.rt(
        b"get a b\r\n",
        b"VALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nEND\r\n",
    );
    std::thread::sleep(Duration::from_millis(1300));
    c.rt(b"get a b\r\n", b"END\r\n");
    c.rt(b"set c 0 0 1\r\n3\r\n", b"STORED\r\n");
    c.rt(b"get c\r\n", b"VALUE c 0 1\r\n3\r\nEND\r\n");
    // A later flush_all replaces a pending one.
    c.rt(b"flush_all 1\r\n", b"OK\r\n");
    c.rt(b"flush_all 100\r\n", b"OK\r\n");
    std::thread::sleep(Duration::from_millis(1300));
    c.rt(b"get c\r\n", b"VALUE c 0 1\r\n3\r\nEND\r\n");
    c.sync("flush_all delay");
}

#[test]
fn version_verbosity_quit_and_unknown_commands() {
    let server = Server::start(&[]);
    table(
        &server,
        "misc",
        &[
            (b"version\r\n", b"VERSION 1.6.18\r\n"),
            (b"verbosity 1\r\n", b"OK\r\n"),
            (b"verbosity 1 noreply\r\n", b""),
            (
                b"verbosity x\r\n",
                b"CLIENT_ERROR bad command line format\r\n",
            ),
            (b"verbosity\r\n", b"ERROR\r\n"),
            (b"bogus\r\n", b"ERROR\r\n"),
            (b"GET a\r\n", b"ERROR\r\n"),
            (b"get\r\n", b"ERROR\r\n"),
            (b"\r\n", b"ERROR\r\n"),
            (b"incr a 1 2 3\r\n", b"ERROR\r\n"),
            // lines end at \n; a lone \n is fine
            (b"version\n", b"VERSION 1.6.18\r\n"),
        ],
    );
    let mut c = Mc::connect(&server);
    c.send(b"set q 0 0 1\r\nv\r\nget q\r\nquit\r\nget q\r\n");
    c.expect(b"STORED\r\nVALUE q 0 1\r\nv\r\nEND\r\n", "before quit");
    c.expect_closed();
    // An HTTP request line closes the connection silently.
    let mut c = Mc::connect(&server);
    c.send(b"HEAD / HTTP/1.0\r\n");
    c.expect_closed();
}

#[test]
fn noreply_on_every_command_that_allows_it() {
    let server = Server::start(&[]);
    table(
        &server,
        "noreply",
        &[
            (b"set a 0 0 1 noreply\r\n1\r\n", b""),
            (b"add a 0 0 1 noreply\r\n2\r\n", b""),
            (b"add b 0 0 1 noreply\r\n2\r\n", b""),
            (b"replace a 0 0 1 noreply\r\n3\r\n", b""),
            (b"replace zz 0 0 1 noreply\r\n3\r\n", b""),
            (b"append a 0 0 1 noreply\r\n4\r\n", b""),
            (b"prepend a 0 0 1 noreply\r\n5\r\n", b""),
            (
                b"get a b zz\r\n",
                b"VALUE a 0 3\r\n534\r\nVALUE b 0 1\r\n2\r\nEND\r\n",
            ),
            (b"cas a 0 0 1 1 noreply\r\n6\r\n", b""),
            (b"cas zz 0 0 1 1 noreply\r\n6\r\n", b""),
            (b"incr a 1 noreply\r\n", b""),
            (b"decr a 2 noreply\r\n", b""),
            (b"get a\r\n", b"VALUE a 0 3\r\n533\r\nEND\r\n"),
            (b"incr zz 1 noreply\r\n", b""),
            (b"touch a 100 noreply\r\n", b""),
            (b"touch zz 100 noreply\r\n", b""),
            (b"mg a t\r\n", b"HD t100\r\n"),
            (b"delete b noreply\r\n", b""),
            (b"delete b noreply\r\n", b""),
            (b"verbosity 0 noreply\r\n", b""),
            // errors under noreply are silent too (memcached 1.6.18)
            (b"set t 0 0 1 noreply\r\nx\r\n", b""),
            (b"incr t 1 noreply\r\n", b""),
            (b"incr t abc noreply\r\n", b""),
            (b"touch t abc noreply\r\n", b""),
            (b"set t 0 abc 1 noreply\r\n", b""),
            (b"delete t 5 noreply\r\n", b""),
            // ... except a wrong token count, found before noreply is looked at
            (b"incr noreply\r\n", b"ERROR\r\n"),
            (b"incr t noreply\r\n", b""),
            // a bad data chunk under noreply: silent, then the leftover CRLF is a line
            (b"set t 0 0 1 noreply\r\nxyz\r\n", b"ERROR\r\n"),
            (b"flush_all noreply\r\n", b""),
            (b"get a t\r\n", b"END\r\n"),
        ],
    );
}

#[test]
fn too_large_values_are_refused_and_swallowed() {
    let server = Server::start(&[]);
    let mut c = Mc::connect(&server);
    let max = 1024 * 1024;
    let mut req = format!("set big 0 0 {}\r\n", max + 1).into_bytes();
    req.extend(std::iter::repeat_n(b'x', max + 1));
    req.extend_from_slice(b"\r\nget big\r\n");
    c.send(&req);
    c.expect(
        b"SERVER_ERROR object too large for cache\r\nEND\r\n",
        "too large",
    );
    // noreply: nothing at all, and still in sync
    let mut req = format!("set big 0 0 {} noreply\r\n", max + 10).into_bytes();
    req.extend(std::iter::repeat_n(b'y', max + 10));
    req.extend_from_slice(b"\r\n");
    c.send(&req);
    c.sync("too large noreply");
    // ms is refused the same way (meta errors are always sent)
    let mut req = format!("ms big {} T0\r\n", max + 1).into_bytes();
    req.extend(std::iter::repeat_n(b'z', max + 1));
    req.extend_from_slice(b"\r\nmg big v\r\n");
    c.send(&req);
    c.expect(
        b"SERVER_ERROR object too large for cache\r\nEN\r\n",
        "ms too large",
    );
    // exactly item-size-max is accepted
    let mut req = format!("set big 0 0 {max}\r\n").into_bytes();
    req.extend(std::iter::repeat_n(b'w', max));
    req.extend_from_slice(b"\r\n");
    c.rt(&req, b"STORED\r\n");
    c.rt(b"mg big s\r\n", format!("HD s{max}\r\n").as_bytes());
    // append past the limit: NOT_STORED, the value is unchanged
    c.rt(b"append big 0 0 1\r\nw\r\n", b"NOT_STORED\r\n");
    c.rt(b"mg big s\r\n", format!("HD s{max}\r\n").as_bytes());
    c.sync("too large");
}

#[test]
fn item_size_max_follows_the_config() {
    let server = Server::start(&[]);
    let mut resp = server.raw();
    resp.cmd(&[b"CONFIG", b"SET", b"item-size-max", b"1024"]);
    assert_eq!(resp.frame(), Frame::Simple("OK".into()));
    let mut c = Mc::connect(&server);
    let mut req = b"set k 0 0 1025\r\n".to_vec();
    req.extend(std::iter::repeat_n(b'x', 1025));
    req.extend_from_slice(b"\r\n");
    c.rt(&req, b"SERVER_ERROR object too large for cache\r\n");
    let mut req = b"set k 0 0 1024\r\n".to_vec();
    req.extend(std::iter::repeat_n(b'x', 1024));
    req.extend_from_slice(b"\r\n");
    c.rt(&req, b"STORED\r\n");
    c.sync("item-size-max");
}

#[test]
fn binary_protocol_is_refused_and_the_connection_closed() {
    let server = Server::start(&[]);
    let mut c = Mc::connect(&server);
    // a binary GET request header
    let mut req = vec![0x80, 0x00, 0x00, 0x01];
    req.extend_from_slice(&[0; 20]);
    req.push(b'k');
    c.send(&req);
    c.expect(b"CLIENT_ERROR binary protocol not supported\r\n", "binary");
    c.expect_closed();
    // others are still served
    table(
        &server,
        "after binary",
        &[(b"version\r\n", b"VERSION 1.6.18\r\n")],
    );
}

#[test]
fn long_lines_close_but_long_multigets_do_not() {
    let server = Server::start(&[]);
    let mut c = Mc::connect(&server);
    let mut line = b"set ".to_vec();
    line.extend(std::iter::repeat_n(b'a', 3000));
    c.send(&line);
    c.expect(b"CLIENT_ERROR line too long\r\n", "long line");
    c.expect_closed();
    // a get line of 5,000+ bytes (2,001 keys) is fine
    let mut c = Mc::connect(&server);
    c.rt(b"set k 0 0 1\r\nv\r\n", b"STORED\r\n");
    let mut get = b"get".to_vec();
    for i in 0..2000 {
        get.extend_from_slice(format!(" m{i}").as_bytes());
    }
    get.extend_from_slice(b" k\r\n");
    assert!(get.len() > 5000);
    c.rt(&get, b"VALUE k 0 1\r\nv\r\nEND\r\n");
    c.sync("long get");
}

// --------------------------------------------------------------- expiry --

#[test]
fn exptime_negative_relative_and_absolute() {
    let server = Server::start(&[]);
    let now = unix_secs();
    table_owned(
        &server,
        "exptime",
        &[
            // negative: stored, and gone at once (taking the old value with it)
            (b"set k 0 0 1\r\nv\r\n".to_vec(), b"STORED\r\n".to_vec()),
            (b"set k 0 -1 1\r\nx\r\n".to_vec(), b"STORED\r\n".to_vec()),
            (b"get k\r\n".to_vec(), b"END\r\n".to_vec()),
            (b"add k 0 -1 1\r\nx\r\n".to_vec(), b"STORED\r\n".to_vec()),
            (b"get k\r\n".to_vec(), b"END\r\n".to_vec()),
            (b"set k 0 0 1\r\nv\r\n".to_vec(), b"STORED\r\n".to_vec()),
            (
                b"add k 0 -1 1\r\nx\r\n".to_vec(),
                b"NOT_STORED\r\n".to_vec(),
            ),
            (
                b"get k\r\n".to_vec(),
                b"VALUE k 0 1\r\nv\r\nEND\r\n".to_vec(),
            ),
            (
                b"replace k 0 -5 1\r\nx\r\n".to_vec(),
                b"STORED\r\n".to_vec(),
            ),
            (b"get k\r\n".to_vec(), b"END\r\n".to_vec()),
            (b"ms k 1 T-1\r\nx\r\n".to_vec(), b"HD\r\n".to_vec()),
            (b"mg k v\r\n".to_vec(), b"EN\r\n".to_vec()),
            // relative: up to 30 days
            (b"set r 0 100 1\r\nv\r\n".to_vec(), b"STORED\r\n".to_vec()),
            (b"mg r t\r\n".to_vec(), b"HD t100\r\n".to_vec()),
            (
                b"set r 0 2592000 1\r\nv\r\n".to_vec(),
                b"STORED\r\n".to_vec(),
            ),
            (b"mg r t\r\n".to_vec(), b"HD t2592000\r\n".to_vec()),
            // beyond 30 days: a Unix time
            (
                format!("set a 0 {} 1\r\nv\r\n", now + 100).into_bytes(),
                b"STORED\r\n".to_vec(),
            ),
            (
                b"get a\r\n".to_vec(),
                b"VALUE a 0 1\r\nv\r\nEND\r\n".to_vec(),
            ),
            (
                format!("set p 0 {} 1\r\nv\r\n", now - 100).into_bytes(),
                b"STORED\r\n".to_vec(),
            ),
            (b"get p\r\n".to_vec(), b"END\r\n".to_vec()),
            (
                b"set p 0 2592001 1\r\nv\r\n".to_vec(),
                b"STORED\r\n".to_vec(),
            ),
            (b"get p\r\n".to_vec(), b"END\r\n".to_vec()),
        ],
    );
    let mut c = Mc::connect(&server);
    c.send(b"mg a t\r\n");
    let line = c.line();
    let t: u64 = line.strip_prefix("HD t").unwrap().parse().unwrap();
    assert!((98..=101).contains(&t), "{line}");
    // a short relative TTL runs out
    c.rt(b"set short 0 1 1\r\nv\r\n", b"STORED\r\n");
    c.rt(b"get short\r\n", b"VALUE short 0 1\r\nv\r\nEND\r\n");
    std::thread::sleep(Duration::from_millis(1100));
    c.rt(b"get short\r\n", b"END\r\n");
    c.rt(b"ms short 1 T1\r\nv\r\n", b"HD\r\n");
    std::thread::sleep(Duration::from_millis(1100));
    c.rt(b"mg short v\r\n", b"EN\r\n");
    c.sync("short ttl");
}

// ------------------------------------------------------------------ meta --

#[test]
fn meta_get_flags() {
    let server = Server::start(&[]);
    table(
        &server,
        "mg",
        &[
            (b"ms k 2 T100 F5\r\nhi\r\n", b"HD\r\n"),
            (
                b"mg k s v t f k O1 h q\r\n",
                b"VA 2 s2 t100 f5 kk O1 h0\r\nhi\r\n",
            ),
            // h reports the state before this request; u leaves it alone
            (b"mg k h\r\n", b"HD h1\r\n"),
            (b"ms k2 1\r\nx\r\n", b"HD\r\n"),
            (b"mg k2 u h\r\n", b"HD h0\r\n"),
            (b"mg k2 h\r\n", b"HD h0\r\n"),
            (b"mg k2 h l\r\n", b"HD h1 l0\r\n"),
            (b"mg k\r\n", b"HD\r\n"),
            (b"mg k v\r\n", b"VA 2\r\nhi\r\n"),
            (b"mg k k v\r\n", b"VA 2 kk\r\nhi\r\n"),
            // misses: EN with O and k only; q hides it
            (b"mg miss\r\n", b"EN\r\n"),
            (b"mg miss v s t k O9\r\n", b"EN kmiss O9\r\n"),
            (b"mg miss q k\r\n", b""),
            // T updates the TTL; t before T shows the old one
            (b"mg k t T50\r\n", b"HD t100\r\n"),
            (b"mg k T20 t\r\n", b"HD t20\r\n"),
            (b"mg k t\r\n", b"HD t20\r\n"),
            (b"mg k T0 t\r\n", b"HD t-1\r\n"),
            // base64 keys
            (b"ms Zm9v 1 b\r\nx\r\n", b"HD\r\n"),
            (b"mg foo v\r\n", b"VA 1\r\nx\r\n"),
            (b"mg Zm9v b k v\r\n", b"VA 1 kZm9v b\r\nx\r\n"),
            (b"mg AAEC b k s\r\n", b"EN kAAEC b\r\n"),
            // P and L (proxy hints) are accepted and ignored
            (b"mg k Pfoo L1 v\r\n", b"VA 2\r\nhi\r\n"),
        ],
    );
}

#[test]
fn meta_get_cas_and_size() {
    let server = Server::start(&[]);
    let mut c = Mc::connect(&server);
    c.rt(b"set k 0 0 3\r\nabc\r\n", b"STORED\r\n");
    let cas = c.cas_of("k");
    c.rt(b"mg k c s\r\n", format!("HD c{cas} s3\r\n").as_bytes());
    c.rt(b"mg k T30 c\r\n", format!("HD c{cas}\r\n").as_bytes());
    c.sync("mg c");
}

#[test]
fn meta_set_modes_and_flags() {
    let server = Server::start(&[]);
    table(
        &server,
        "ms",
        &[
            (b"ms k 2\r\nhi\r\n", b"HD\r\n"),
            (b"get k\r\n", b"VALUE k 0 2\r\nhi\r\nEND\r\n"),
            (b"ms k 2 F7 T100 q\r\nho\r\n", b""),
            (b"mg k f t v\r\n", b"VA 2 f7 t100\r\nho\r\n"),
            (b"ms k 2 MS k O1\r\nhe\r\n", b"HD kk O1\r\n"),
            // E = add
            (b"ms k 1 ME O2\r\nx\r\n", b"NS O2\r\n"),
            (b"ms e 1 ME\r\nx\r\n", b"HD\r\n"),
            // A = append, P = prepend
            (b"ms e 1 MA\r\ny\r\n", b"HD\r\n"),
            (b"ms e 1 MP\r\nw\r\n", b"HD\r\n"),
            (b"mg e v\r\n", b"VA 3\r\nwxy\r\n"),
            (b"ms zz 1 MA\r\nx\r\n", b"NS\r\n"),
            (b"ms zz 1 MP q\r\nx\r\n", b"NS\r\n"),
            // R = replace
            (b"ms zz 1 MR\r\nx\r\n", b"NS\r\n"),
            (b"ms e 1 MR q\r\nz\r\n", b""),
            (b"mg e v\r\n", b"VA 1\r\nz\r\n"),
            // C on a missing key: NF for set, NS for append
            (b"ms zz 1 C999 c k\r\nq\r\n", b"NF c0 kzz\r\n"),
            (b"ms zz 1 C999 MA\r\nq\r\n", b"NS\r\n"),
            (b"ms e 1 C999 c\r\nq\r\n", b"EX c0\r\n"),
            (b"ms e 1 C999 MA\r\nq\r\n", b"EX\r\n"),
            // ms data is taken by length too
            (b"ms d 2\r\n\r\n\r\n", b"HD\r\n"),
            (b"mg d v s\r\n", b"VA 2 s2\r\n\r\n\r\n"),
            // errors, always sent; a bad ms still swallows its data block
            (
                b"ms k 1 MZ\r\nx\r\n",
                b"CLIENT_ERROR invalid mode for ms M token\r\n",
            ),
            (b"ms k 1 zz\r\nx\r\n", b"CLIENT_ERROR invalid flag\r\n"),
            (b"ms k 1 F1 F2\r\nx\r\n", b"CLIENT_ERROR duplicate flag\r\n"),
            (
                b"ms k 1 Fx\r\nx\r\n",
                b"CLIENT_ERROR bad command line format\r\n",
            ),
            (
                b"ms k 1 MEE\r\nx\r\n",
                b"CLIENT_ERROR incorrect length for M token\r\n",
            ),
            (
                b"ms k abc\r\nx\r\n",
                b"CLIENT_ERROR bad command line format\r\nERROR\r\n",
            ),
            (b"ms k\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (
                b"ms bin 1 b\r\nx\r\n",
                b"CLIENT_ERROR error decoding key\r\n",
            ),
            (
                b"ms k 1 q T-1 Mq\r\nx\r\n",
                b"CLIENT_ERROR invalid mode for ms M token\r\n",
            ),
            (b"mg k v\r\n", b"VA 2\r\nhe\r\n"),
        ],
    );
    // c returns the new CAS; C compares; E sets it explicitly
    let mut c = Mc::connect(&server);
    c.send(b"ms c 1 c\r\nx\r\n");
    let line = c.line();
    let cas: u64 = line.strip_prefix("HD c").unwrap().parse().unwrap();
    assert_eq!(c.cas_of("c"), cas);
    c.rt(
        format!("ms c 1 C{} c\r\ny\r\n", cas + 1).as_bytes(),
        b"EX c0\r\n",
    );
    c.send(format!("ms c 1 C{cas} c\r\ny\r\n").as_bytes());
    let cas2: u64 = c.line().strip_prefix("HD c").unwrap().parse().unwrap();
    assert!(cas2 > cas);
    c.rt(b"ms c 1 E12345 c\r\nz\r\n", b"HD c12345\r\n");
    c.rt(b"gets c\r\n", b"VALUE c 0 1 12345\r\nz\r\nEND\r\n");
    c.rt(b"ms c 1 C12345 MA\r\n!\r\n", b"HD\r\n");
    c.rt(b"get c\r\n", b"VALUE c 0 2\r\nz!\r\nEND\r\n");
    c.sync("ms cas");
}

#[test]
fn meta_delete() {
    let server = Server::start(&[]);
    table(
        &server,
        "md",
        &[
            (b"ms k 1\r\nx\r\n", b"HD\r\n"),
            (b"md k O3 k\r\n", b"HD O3 kk\r\n"),
            (b"md k\r\n", b"NF\r\n"),
            (b"md k q O4\r\n", b"NF O4\r\n"),
            (b"ms k 1\r\nx\r\n", b"HD\r\n"),
            (b"md k q\r\n", b""),
            (b"mg k\r\n", b"EN\r\n"),
            (b"ms k 1\r\nx\r\n", b"HD\r\n"),
            (b"md k C1\r\n", b"EX\r\n"),
            (b"mg k v\r\n", b"VA 1\r\nx\r\n"),
            // x keeps the item with an empty value (flags and TTL stay)
            (b"ms k 1 F4 T100\r\nx\r\n", b"HD\r\n"),
            (b"md k x\r\n", b"HD\r\n"),
            (b"mg k v f t\r\n", b"VA 0 f4 t100\r\n\r\n"),
            (b"ms Zm9v 1 b\r\nx\r\n", b"HD\r\n"),
            (b"md Zm9v b k\r\n", b"HD kZm9v b\r\n"),
            (
                b"md k zz\r\n",
                b"CLIENT_ERROR invalid or duplicate flag\r\n",
            ),
            (
                b"md k q q\r\n",
                b"CLIENT_ERROR invalid or duplicate flag\r\n",
            ),
            (b"md\r\n", b"ERROR\r\n"),
        ],
    );
}

#[test]
fn meta_arithmetic() {
    let server = Server::start(&[]);
    table(
        &server,
        "ma",
        &[
            (b"ma cnt\r\n", b"NF\r\n"),
            (b"ma cnt q O1 k\r\n", b"NF O1 kcnt\r\n"),
            (b"ma cnt N0 J10 v\r\n", b"VA 2\r\n10\r\n"),
            (b"ma cnt v\r\n", b"VA 2\r\n11\r\n"),
            (b"ma cnt\r\n", b"HD\r\n"),
            (b"ma cnt MD D100 v t k O9\r\n", b"VA 1 t-1 kcnt O9\r\n0\r\n"),
            (b"ma cnt q D5\r\n", b""),
            (b"ma cnt q v\r\n", b""),
            (b"ma cnt v M+\r\n", b"VA 1\r\n7\r\n"),
            (b"ma cnt v M-\r\n", b"VA 1\r\n6\r\n"),
            (b"ma cnt v MI D18446744073709551615\r\n", b"VA 1\r\n5\r\n"),
            (b"ma cnt T100 t v\r\n", b"VA 1 t100\r\n6\r\n"),
            (b"ma cnt t T50 v\r\n", b"VA 1 t50\r\n7\r\n"),
            (b"ma c2 N50 J5 t v\r\n", b"VA 1 t50\r\n5\r\n"),
            (b"ma nn N0 MD v\r\n", b"VA 1\r\n0\r\n"),
            (b"ma cnt C1\r\n", b"EX\r\n"),
            (b"ms txt 1\r\nx\r\n", b"HD\r\n"),
            (
                b"ma txt\r\n",
                b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
            ),
            (
                b"ma txt q\r\n",
                b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
            ),
            (
                b"ma cnt MZ\r\n",
                b"CLIENT_ERROR invalid mode for ma M token\r\n",
            ),
            (
                b"ma cnt Dabc\r\n",
                b"CLIENT_ERROR invalid or duplicate flag\r\n",
            ),
            (
                b"ma cnt Jx N0\r\n",
                b"CLIENT_ERROR invalid or duplicate flag\r\n",
            ),
            (b"get cnt\r\n", b"VALUE cnt 0 1\r\n7\r\nEND\r\n"),
        ],
    );
    let mut c = Mc::connect(&server);
    c.rt(b"set n 0 0 1\r\n1\r\n", b"STORED\r\n");
    let cas = c.cas_of("n");
    c.rt(format!("ma n C{} v\r\n", cas + 1).as_bytes(), b"EX\r\n");
    c.send(format!("ma n C{cas} v c\r\n").as_bytes());
    let line = c.line();
    let new_cas: u64 = line.strip_prefix("VA 1 c").unwrap().parse().unwrap();
    assert!(new_cas > cas, "{line}");
    assert_eq!(c.line(), "2");
    c.rt(b"ma n E777 c v\r\n", b"VA 1 c777\r\n3\r\n");
    c.sync("ma cas");
}

#[test]
fn meta_noop_and_debug() {
    let server = Server::start(&[]);
    table(
        &server,
        "mn/me",
        &[
            (b"mn\r\n", b"MN\r\n"),
            (b"mn extra\r\n", b"MN\r\n"),
            (b"me nope\r\n", b"EN\r\n"),
            (b"me\r\n", b"CLIENT_ERROR bad command line format\r\n"),
            (b"mx k\r\n", b"ERROR\r\n"),
        ],
    );
    let mut c = Mc::connect(&server);
    c.rt(b"set k 0 100 1\r\nv\r\n", b"STORED\r\n");
    let cas = c.cas_of("k");
    // gets fetched it
    c.send(b"me k\r\n");
    let line = c.line();
    let prefix = format!("ME k exp=-100 la=0 cas={cas} fetch=yes cls=1 size=");
    assert!(line.starts_with(&prefix), "{line}");
    c.rt(b"set k 0 0 1\r\nv\r\n", b"STORED\r\n");
    c.send(b"me k\r\n");
    assert!(c.line().contains(" exp=-1 la=0 "));
    c.send(b"me k\r\n");
    assert!(c.line().contains(" fetch=no "), "me does not fetch");
    c.rt(b"ms Zm9v 1 b\r\nx\r\n", b"HD\r\n");
    c.send(b"me Zm9v b\r\n");
    assert!(c.line().starts_with("ME Zm9v exp=-1 "));
    c.sync("me");
}

#[test]
fn meta_errors_are_always_sent() {
    let server = Server::start(&[]);
    let opaque33 = format!("mg k O{}\r\n", "x".repeat(32));
    table_owned(
        &server,
        "meta errors",
        &[
            (b"mg\r\n".to_vec(), b"ERROR\r\n".to_vec()),
            (
                b"mg k zz\r\n".to_vec(),
                b"CLIENT_ERROR invalid flag\r\n".to_vec(),
            ),
            (
                b"mg k v v\r\n".to_vec(),
                b"CLIENT_ERROR duplicate flag\r\n".to_vec(),
            ),
            (
                b"mg k q v v\r\n".to_vec(),
                b"CLIENT_ERROR duplicate flag\r\n".to_vec(),
            ),
            (
                opaque33.into_bytes(),
                b"CLIENT_ERROR opaque token too long\r\n".to_vec(),
            ),
            (
                b"mg k Tabc\r\n".to_vec(),
                b"CLIENT_ERROR bad token in command line format\r\n".to_vec(),
            ),
            (
                b"mg k Nx\r\n".to_vec(),
                b"CLIENT_ERROR bad token in command line format\r\n".to_vec(),
            ),
            (
                b"mg abc b\r\n".to_vec(),
                b"CLIENT_ERROR error decoding key\r\n".to_vec(),
            ),
            (
                format!("mg {} v\r\n", "k".repeat(251)).into_bytes(),
                b"CLIENT_ERROR bad command line format\r\n".to_vec(),
            ),
            (
                format!("mg k{}\r\n", " v".repeat(20)).into_bytes(),
                b"CLIENT_ERROR options flags are too long\r\n".to_vec(),
            ),
        ],
    );
}

/// Stale items and recache wins: `md I`, `ms I`, `mg N` / `R` and the
/// `W` / `X` / `Z` return flags.
#[test]
fn meta_stale_and_recache() {
    let server = Server::start(&[]);
    table(
        &server,
        "stale/win",
        &[
            // invalidate: stale, and the first fetch wins the recache
            (b"ms k 2 T100\r\nhi\r\n", b"HD\r\n"),
            (b"md k I T30\r\n", b"HD\r\n"),
            (b"mg k v t\r\n", b"VA 2 t30 X W\r\nhi\r\n"),
            (b"mg k v\r\n", b"VA 2 Z X\r\nhi\r\n"),
            // classic get does not care
            (b"get k\r\n", b"VALUE k 0 2\r\nhi\r\nEND\r\n"),
            // a CAS mismatch changes nothing
            (b"cas k 0 0 1 1\r\nz\r\n", b"EXISTS\r\n"),
            (b"mg k\r\n", b"HD Z X\r\n"),
            // a plain store clears it
            (b"ms k 3\r\nnew\r\n", b"HD\r\n"),
            (b"mg k v\r\n", b"VA 3\r\nnew\r\n"),
            // md I with a CAS that does not match
            (b"md k C1 I\r\n", b"EX\r\n"),
            (b"mg k\r\n", b"HD\r\n"),
            (b"md k I q\r\n", b""),
            (b"mg k\r\n", b"HD X W\r\n"),
            // md I T-1 removes it
            (b"md k I T-1\r\n", b"HD\r\n"),
            (b"mg k\r\n", b"EN\r\n"),
            // N: vivify on miss; the first client wins, later ones see Z
            (b"mg viv N30 v t s f\r\n", b"VA 0 t30 s0 f0 W\r\n\r\n"),
            (b"mg viv N30 v t\r\n", b"VA 0 t30 Z\r\n\r\n"),
            (b"mg viv v\r\n", b"VA 0 Z\r\n\r\n"),
            (b"ms viv 1 F3\r\nx\r\n", b"HD\r\n"),
            (b"mg viv v f t\r\n", b"VA 1 f3 t-1\r\nx\r\n"),
            (b"mg viv N30 v\r\n", b"VA 1\r\nx\r\n"),
            (b"mg gone N-1 v\r\n", b"VA 0 W\r\n\r\n"),
            (b"mg gone v\r\n", b"EN\r\n"),
            // R: win when the TTL left is below the token
            (b"ms r 1 T10\r\nx\r\n", b"HD\r\n"),
            (b"mg r R5 v\r\n", b"VA 1\r\nx\r\n"),
            (b"mg r R30 v t\r\n", b"VA 1 t10 W\r\nx\r\n"),
            (b"mg r R30 v t\r\n", b"VA 1 t10 Z\r\nx\r\n"),
            (b"ms r2 1\r\nx\r\n", b"HD\r\n"),
            (b"mg r2 R30 v\r\n", b"VA 1\r\nx\r\n"),
        ],
    );
    // ms I with a lower CAS: stored, marked stale, TTL kept
    let mut c = Mc::connect(&server);
    c.rt(b"ms s 1 T100\r\nx\r\n", b"HD\r\n");
    c.rt(b"md s I\r\n", b"HD\r\n");
    c.rt(b"mg s v\r\n", b"VA 1 X W\r\nx\r\n");
    c.rt(b"ms s 3 C1 I\r\nnew\r\n", b"HD\r\n");
    c.rt(b"mg s v t\r\n", b"VA 3 t100 Z X\r\nnew\r\n");
    // without I a lower CAS is just a mismatch
    c.rt(b"ms s 3 C1\r\nnew\r\n", b"EX\r\n");
    c.sync("ms I");
}

#[test]
fn quiet_mode_pipeline_ends_with_mn() {
    let server = Server::start(&[]);
    let mut c = Mc::connect(&server);
    let mut req = Vec::new();
    let mut expected = Vec::new();
    for i in 0..50 {
        req.extend_from_slice(
            format!("ms q{i} {} q T0\r\nv{i}\r\n", 1 + i.to_string().len()).as_bytes(),
        );
    }
    // quiet ms: nothing, except the one that fails
    req.extend_from_slice(b"ms q0 1 ME q O99\r\nx\r\n");
    expected.extend_from_slice(b"NS O99\r\n");
    for i in 0..100 {
        req.extend_from_slice(format!("mg q{i} v q k\r\n").as_bytes());
        if i < 50 {
            let v = format!("v{i}");
            expected.extend_from_slice(format!("VA {} kq{i}\r\n{v}\r\n", v.len()).as_bytes());
        }
    }
    for i in 0..60 {
        req.extend_from_slice(format!("md q{i} q\r\n").as_bytes());
        if i >= 50 {
            expected.extend_from_slice(b"NF\r\n");
        }
    }
    req.extend_from_slice(b"mn\r\n");
    expected.extend_from_slice(b"MN\r\n");
    c.send(&req);
    c.expect(&expected, "quiet pipeline");
    c.sync("quiet pipeline");
}

#[test]
fn pipelined_mixed_commands_in_one_write() {
    let server = Server::start(&[]);
    let steps: &[(&[u8], &[u8])] = &[
        (b"set a 1 0 1\r\n1\r\n", b"STORED\r\n"),
        (b"ms b 1 F2\r\n2\r\n", b"HD\r\n"),
        (
            b"get a b\r\n",
            b"VALUE a 1 1\r\n1\r\nVALUE b 2 1\r\n2\r\nEND\r\n",
        ),
        (b"incr a 9\r\n", b"10\r\n"),
        (b"ma b v\r\n", b"VA 1\r\n3\r\n"),
        (b"bogus\r\n", b"ERROR\r\n"),
        (b"mg a v f\r\n", b"VA 2 f1\r\n10\r\n"),
        (b"delete a\r\n", b"DELETED\r\n"),
        (b"md b\r\n", b"HD\r\n"),
        (b"get a b\r\n", b"END\r\n"),
        (b"version\r\n", b"VERSION 1.6.18\r\n"),
    ];
    let mut c = Mc::connect(&server);
    let req: Vec<u8> = steps.iter().flat_map(|(r, _)| r.to_vec()).collect();
    let exp: Vec<u8> = steps.iter().flat_map(|(_, e)| e.to_vec()).collect();
    c.send(&req);
    c.expect(&exp, "pipelined");
    // and byte by byte
    for b in &req {
        c.send(&[*b]);
    }
    c.expect(&exp, "byte by byte");
    c.sync("pipelined");
}

#[test]
fn multiget_of_1000_keys() {
    let server = Server::start(&[]);
    let mut c = Mc::connect(&server);
    let mut sets = Vec::new();
    for i in 0..1000 {
        if i % 3 != 0 {
            sets.extend_from_slice(
                format!(
                    "set key:{i} {i} 0 {}\r\nvalue-{i}\r\n",
                    6 + i.to_string().len()
                )
                .as_bytes(),
            );
        }
    }
    c.send(&sets);
    c.expect(&b"STORED\r\n".repeat(666), "sets");
    let mut get = b"gets".to_vec();
    let mut expected = Vec::new();
    for i in 0..1000 {
        get.extend_from_slice(format!(" key:{i}").as_bytes());
    }
    get.extend_from_slice(b"\r\n");
    c.send(&get);
    for i in 0..1000 {
        if i % 3 != 0 {
            let header = c.line();
            let parts: Vec<&str> = header.split(' ').collect();
            assert_eq!(
                &parts[..4],
                &[
                    "VALUE",
                    &format!("key:{i}"),
                    &i.to_string(),
                    &(6 + i.to_string().len()).to_string()
                ]
            );
            assert!(parts[4].parse::<u64>().is_ok());
            assert_eq!(c.line(), format!("value-{i}"));
        }
    }
    assert_eq!(c.line(), "END");
    // and plain get, compared whole
    get.drain(..4);
    let mut req = b"get".to_vec();
    req.extend_from_slice(&get);
    for i in 0..1000 {
        if i % 3 != 0 {
            expected.extend_from_slice(
                format!(
                    "VALUE key:{i} {i} {}\r\nvalue-{i}\r\n",
                    6 + i.to_string().len()
                )
                .as_bytes(),
            );
        }
    }
    expected.extend_from_slice(b"END\r\n");
    c.rt(&req, &expected);
    c.sync("multiget");
}

// ---------------------------------------------------------------- memory --

#[test]
fn out_of_memory_under_noeviction() {
    let server = Server::start(&[]);
    let mut resp = server.raw();
    let mut c = Mc::connect(&server);
    c.rt(b"set keep 0 0 1\r\nk\r\n", b"STORED\r\n");
    c.rt(b"set old 0 0 1\r\no\r\n", b"STORED\r\n");
    c.rt(b"set n 0 0 1\r\n1\r\n", b"STORED\r\n");
    resp.cmd(&[b"CONFIG", b"SET", b"maxmemory-policy", b"noeviction"]);
    assert_eq!(resp.frame(), Frame::Simple("OK".into()));
    resp.cmd(&[b"CONFIG", b"SET", b"maxmemory", b"1"]);
    assert_eq!(resp.frame(), Frame::Simple("OK".into()));
    table(
        &server,
        "oom",
        &[
            (
                b"set new 0 0 1\r\nx\r\n",
                b"SERVER_ERROR out of memory storing object\r\n",
            ),
            (b"get new\r\n", b"END\r\n"),
            // a refused set drops the old value (memcached: no stale data)
            (
                b"set old 0 0 1\r\nx\r\n",
                b"SERVER_ERROR out of memory storing object\r\n",
            ),
            (b"get old\r\n", b"END\r\n"),
            (
                b"add keep 0 0 1\r\nx\r\n",
                b"SERVER_ERROR out of memory storing object\r\n",
            ),
            (
                b"ms new 1\r\nx\r\n",
                b"SERVER_ERROR out of memory storing object\r\n",
            ),
            (
                b"ms new 1 q\r\nx\r\n",
                b"SERVER_ERROR out of memory storing object\r\n",
            ),
            (b"incr n 1\r\n", b"SERVER_ERROR out of memory\r\n"),
            (b"ma n\r\n", b"SERVER_ERROR out of memory\r\n"),
            (b"set new 0 0 1 noreply\r\nx\r\n", b""),
            // reads, deletes and touches still work
            (b"get keep\r\n", b"VALUE keep 0 1\r\nk\r\nEND\r\n"),
            (b"touch keep 100\r\n", b"TOUCHED\r\n"),
        ],
    );
    let mut c = Mc::connect(&server);
    c.send(b"stats\r\n");
    let mut no_memory = None;
    loop {
        let l = c.line();
        if l == "END" {
            break;
        }
        if let Some(v) = l.strip_prefix("STAT store_no_memory ") {
            no_memory = Some(v.parse::<u64>().unwrap());
        }
    }
    assert_eq!(no_memory, Some(6));
    resp.cmd(&[b"CONFIG", b"SET", b"maxmemory", b"0"]);
    assert_eq!(resp.frame(), Frame::Simple("OK".into()));
    c.rt(b"set new 0 0 1\r\nx\r\n", b"STORED\r\n");
    c.sync("oom");
}

#[test]
fn eviction_makes_room_under_allkeys_lru() {
    let server = Server::start(&[]);
    let mut resp = server.raw();
    resp.cmd(&[b"CONFIG", b"SET", b"maxmemory-policy", b"allkeys-lru"]);
    assert_eq!(resp.frame(), Frame::Simple("OK".into()));
    resp.cmd(&[b"CONFIG", b"SET", b"maxmemory", b"100000"]);
    assert_eq!(resp.frame(), Frame::Simple("OK".into()));
    let mut c = Mc::connect(&server);
    let value = "x".repeat(1000);
    let mut req = Vec::new();
    for i in 0..500 {
        req.extend_from_slice(format!("set k{i} 0 0 1000 noreply\r\n{value}\r\n").as_bytes());
    }
    c.send(&req);
    c.sync("fill");
    c.rt(b"set last 0 0 1\r\nx\r\n", b"STORED\r\n");
    c.send(b"stats\r\n");
    let mut evictions = 0;
    let mut bytes = u64::MAX;
    loop {
        let l = c.line();
        if l == "END" {
            break;
        }
        if let Some(v) = l.strip_prefix("STAT evictions ") {
            evictions = v.parse().unwrap();
        }
        if let Some(v) = l.strip_prefix("STAT bytes ") {
            bytes = v.parse().unwrap();
        }
    }
    assert!(evictions > 300, "evictions {evictions}");
    assert!(bytes <= 100_000 + 2000, "bytes {bytes}");
}

// ----------------------------------------------------------------- stats --

fn stats(c: &mut Mc, args: &str) -> Vec<(String, String)> {
    c.send(format!("stats{args}\r\n").as_bytes());
    let mut out = Vec::new();
    loop {
        let l = c.line();
        if l == "END" {
            return out;
        }
        let rest = l
            .strip_prefix("STAT ")
            .unwrap_or_else(|| panic!("not a STAT line: {l:?}"));
        let (k, v) = rest.split_once(' ').unwrap();
        out.push((k.to_string(), v.to_string()));
    }
}

fn stat(all: &[(String, String)], name: &str) -> String {
    all.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no STAT {name} in {all:?}"))
}

#[test]
fn stats_general_settings_items_slabs_conns_reset() {
    let server = Server::start(&[]);
    let mut c = Mc::connect(&server);
    let _other = Mc::connect(&server);
    c.rt(b"set a 0 0 1\r\n1\r\n", b"STORED\r\n");
    c.rt(b"set b 0 0 2\r\n22\r\n", b"STORED\r\n");
    c.rt(b"get a zz\r\n", b"VALUE a 0 1\r\n1\r\nEND\r\n");
    c.rt(b"incr a 1\r\n", b"2\r\n");
    c.rt(b"incr zz 1\r\n", b"NOT_FOUND\r\n");
    c.rt(b"delete b\r\n", b"DELETED\r\n");
    c.rt(b"touch a 10\r\n", b"TOUCHED\r\n");
    c.rt(b"mg a v\r\n", b"VA 1\r\n2\r\n");
    let s = stats(&mut c, "");
    for name in [
        "pid",
        "uptime",
        "time",
        "version",
        "rusage_user",
        "rusage_system",
        "max_connections",
        "curr_connections",
        "total_connections",
        "rejected_connections",
        "cmd_get",
        "cmd_set",
        "cmd_flush",
        "cmd_touch",
        "get_hits",
        "get_misses",
        "delete_hits",
        "delete_misses",
        "incr_hits",
        "incr_misses",
        "decr_hits",
        "decr_misses",
        "cas_hits",
        "cas_misses",
        "cas_badval",
        "touch_hits",
        "touch_misses",
        "bytes_read",
        "bytes_written",
        "limit_maxbytes",
        "threads",
        "bytes",
        "curr_items",
        "total_items",
        "evictions",
        "reclaimed",
    ] {
        stat(&s, name);
    }
    assert_eq!(stat(&s, "pid"), server.child.id().to_string());
    assert_eq!(stat(&s, "version"), "1.6.18");
    let time: u64 = stat(&s, "time").parse().unwrap();
    assert!(time.abs_diff(unix_secs()) <= 2);
    assert!(stat(&s, "rusage_user").contains('.'));
    assert_eq!(stat(&s, "curr_connections"), "2");
    assert_eq!(stat(&s, "cmd_get"), "3");
    assert_eq!(stat(&s, "get_hits"), "2");
    assert_eq!(stat(&s, "get_misses"), "1");
    assert_eq!(stat(&s, "cmd_set"), "2");
    assert_eq!(stat(&s, "incr_hits"), "1");
    assert_eq!(stat(&s, "incr_misses"), "1");
    assert_eq!(stat(&s, "delete_hits"), "1");
    assert_eq!(stat(&s, "touch_hits"), "1");
    assert_eq!(stat(&s, "cmd_touch"), "1");
    assert_eq!(stat(&s, "curr_items"), "1");
    assert_eq!(stat(&s, "total_items"), "2");
    assert!(stat(&s, "bytes").parse::<u64>().unwrap() > 0);

    let settings = stats(&mut c, " settings");
    assert_eq!(stat(&settings, "item_size_max"), "1048576");
    assert_eq!(stat(&settings, "maxconns"), "10000");
    assert_eq!(stat(&settings, "cas_enabled"), "yes");
    assert_eq!(
        stat(&settings, "tcpport"),
        server.memcache_addr.port().to_string()
    );

    let items = stats(&mut c, " items");
    assert_eq!(stat(&items, "items:1:number"), "1");
    let slabs = stats(&mut c, " slabs");
    assert_eq!(stat(&slabs, "active_slabs"), "1");
    assert_eq!(stat(&slabs, "1:used_chunks"), "1");
    assert!(stat(&slabs, "total_malloced").parse::<u64>().unwrap() > 0);
    let sizes = stats(&mut c, " sizes");
    assert_eq!(stat(&sizes, "sizes_status"), "disabled");
    let conns = stats(&mut c, " conns");
    assert_eq!(
        conns.iter().filter(|(k, _)| k.ends_with(":addr")).count(),
        2
    );

    c.rt(b"stats reset\r\n", b"RESET\r\n");
    let s = stats(&mut c, "");
    assert_eq!(stat(&s, "cmd_get"), "0");
    assert_eq!(stat(&s, "get_hits"), "0");
    assert_eq!(stat(&s, "curr_items"), "1");
    c.rt(b"stats bogus\r\n", b"ERROR\r\n");
    c.rt(
        b"stats detail\r\n",
        b"CLIENT_ERROR usage: stats detail on|off|dump\r\n",
    );
    c.rt(b"flush_all\r\n", b"OK\r\n");
    let items = stats(&mut c, " items");
    assert!(items.is_empty(), "{items:?}");
    let slabs = stats(&mut c, " slabs");
    assert_eq!(stat(&slabs, "active_slabs"), "0");
    c.sync("stats");
}

#[test]
fn memcached_port_can_be_disabled() {
    let server = Server::start(&["--memcache-port", "0"]);
    assert_eq!(server.memcache_addr.port(), 0);
    let mut resp = server.raw();
    resp.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn a_set_refused_as_too_large_removes_the_old_value() {
    let server = Server::start(&[]);
    let mut resp = server.raw();
    resp.cmd(&[b"CONFIG", b"SET", b"item-size-max", b"1024"]);
    assert_eq!(resp.frame(), Frame::Simple("OK".into()));
    let mut c = Mc::connect(&server);
    let big = |cmd: &str| {
        let mut req = format!("{cmd} k 0 0 1025\r\n").into_bytes();
        req.extend(std::iter::repeat_n(b'x', 1025));
        req.extend_from_slice(b"\r\n");
        req
    };
    // add/replace/append refused as too large leave the old value alone ...
    c.rt(b"set k 0 0 3\r\nold\r\n", b"STORED\r\n");
    for cmd in ["add", "replace", "append", "prepend"] {
        c.rt(&big(cmd), b"SERVER_ERROR object too large for cache\r\n");
        c.rt(b"get k\r\n", b"VALUE k 0 3\r\nold\r\nEND\r\n");
    }
    // ... a set does not: memcached unlinks it rather than keep stale data.
    c.rt(&big("set"), b"SERVER_ERROR object too large for cache\r\n");
    c.rt(b"get k\r\n", b"END\r\n");
    // Under noreply too, and the RESP side sees the key gone.
    c.rt(b"set k 0 0 3\r\nold\r\n", b"STORED\r\n");
    let mut req = b"set k 0 0 1025 noreply\r\n".to_vec();
    req.extend(std::iter::repeat_n(b'x', 1025));
    req.extend_from_slice(b"\r\n");
    c.send(&req);
    c.rt(b"get k\r\n", b"END\r\n");
    resp.roundtrip(b"EXISTS k\r\n", b":0\r\n");
    c.sync("too large set");
}
