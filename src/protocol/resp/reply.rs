//! Reply encoder: appends RESP2 or RESP3 frames to one output buffer.
//!
//! A connection owns one `Reply`; every command of a batch appends to it and the
//! connection writes it with one syscall per batch. Types that RESP2 lacks degrade
//! the way Redis degrades them: maps become flat arrays, pushes become arrays,
//! nulls become `$-1` (or `*-1` for a null array), doubles become bulk strings,
//! booleans become integers.

use bytes::{BufMut, BytesMut};

/// The protocol a connection negotiated with HELLO (RESP2 until then).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Resp2,
    Resp3,
}

impl Protocol {
    pub fn number(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// The output buffer of one connection plus the protocol its frames are encoded in.
/// Only whole frames go in: handlers use the typed methods, the connection
/// appends complete pushed frames (`append_frames`) and writes `as_bytes`.
pub struct Reply {
    buf: BytesMut,
    protocol: Protocol,
    /// Byte ranges of pub/sub frames (`keep_pushed`): CLIENT REPLY OFF/SKIP
    /// silences replies but not these, as Redis's CLIENT_PUSHING.
    pushed: Vec<std::ops::Range<usize>>,
}

impl Default for Reply {
    fn default() -> Self {
        Reply::new(Protocol::Resp2)
    }
}

impl Reply {
    pub fn new(protocol: Protocol) -> Self {
        Reply::with_capacity(protocol, 16 * 1024)
    }

    /// A reply buffer starting at `capacity` bytes (a script's calls: small
    /// replies, one buffer per script run).
    pub fn with_capacity(protocol: Protocol, capacity: usize) -> Self {
        Reply {
            buf: BytesMut::with_capacity(capacity),
            protocol,
            pushed: Vec::new(),
        }
    }

    pub fn is_resp3(&self) -> bool {
        self.protocol == Protocol::Resp3
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Encode what follows in `protocol` (HELLO, RESET). `Session::set_protocol`
    /// is the one caller, so the client's published version never disagrees.
    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drop everything appended after the first `len` bytes (CLIENT REPLY OFF/SKIP),
    /// except the pub/sub frames marked by `keep_pushed`.
    pub fn truncate(&mut self, len: usize) {
        let mut kept = BytesMut::new();
        for r in self.pushed.drain(..) {
            if r.start >= len && r.end <= self.buf.len() {
                kept.extend_from_slice(&self.buf[r]);
            }
        }
        self.buf.truncate(len);
        self.buf.extend_from_slice(&kept);
    }

    /// Mark what was appended since `start` as a pub/sub frame, which silenced
    /// replies still deliver.
    pub fn keep_pushed(&mut self, start: usize) {
        self.pushed.push(start..self.buf.len());
    }

    /// The end of a command's reply: forget the marks (`truncate` reads them).
    pub fn forget_pushed(&mut self) {
        self.pushed.clear();
    }

    /// What to write to the socket.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// After a write: empty the buffer, and give back its memory when it grew
    /// past `keep_capacity` bytes (one large reply must not pin it forever).
    pub fn clear(&mut self, keep_capacity: usize) {
        self.buf.clear();
        self.pushed.clear();
        if self.buf.capacity() > keep_capacity {
            self.buf = BytesMut::with_capacity(16 * 1024);
        }
    }

    /// Let `fill` append complete, already-encoded frames (pub/sub pushes
    /// drained from the client's outbox); returns what `fill` returns.
    pub fn append_frames<T>(&mut self, fill: impl FnOnce(&mut BytesMut) -> T) -> T {
        fill(&mut self.buf)
    }

    fn header(&mut self, prefix: u8, n: i64) {
        let mut digits = itoa::Buffer::new();
        let s = digits.format(n);
        self.buf.reserve(s.len() + 3);
        self.buf.put_u8(prefix);
        self.buf.put_slice(s.as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    /// `+OK`
    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    /// A simple string; the caller guarantees it has no CR or LF.
    pub fn simple(&mut self, s: &str) {
        self.buf.reserve(s.len() + 3);
        self.buf.put_u8(b'+');
        self.buf.put_slice(s.as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    /// An error line. `msg` is the full text after `-` (e.g. `ERR syntax error`);
    /// CR and LF are replaced by spaces so client text echoed inside cannot break framing.
    pub fn error<M: AsRef<[u8]> + ?Sized>(&mut self, msg: &M) {
        let msg = msg.as_ref();
        self.buf.reserve(msg.len() + 3);
        self.buf.put_u8(b'-');
        for &b in msg {
            self.buf
                .put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.put_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.reserve(data.len() + 2);
        self.buf.put_slice(data);
        self.buf.put_slice(b"\r\n");
    }

    /// A null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        match self.protocol {
            Protocol::Resp2 => self.buf.put_slice(b"$-1\r\n"),
            Protocol::Resp3 => self.buf.put_slice(b"_\r\n"),
        }
    }

    /// A null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        match self.protocol {
            Protocol::Resp2 => self.buf.put_slice(b"*-1\r\n"),
            Protocol::Resp3 => self.buf.put_slice(b"_\r\n"),
        }
    }

    pub fn array(&mut self, len: usize) {
        self.header(b'*', len as i64);
    }

    /// A map of `len` pairs: `%len` in RESP3, a flat array of `2*len` in RESP2.
    pub fn map(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', 2 * len as i64),
            Protocol::Resp3 => self.header(b'%', len as i64),
        }
    }

    /// A set: `~len` in RESP3, an array in RESP2.
    pub fn set(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', len as i64),
            Protocol::Resp3 => self.header(b'~', len as i64),
        }
    }

    /// An out-of-band push: `>len` in RESP3, an array in RESP2.
    pub fn push(&mut self, len: usize) {
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', len as i64),
            Protocol::Resp3 => self.header(b'>', len as i64),
        }
    }

    /// A double, formatted as Redis does (`%.17g`-like shortest round-trip form).
    pub fn double(&mut self, d: f64) {
        let text = format_double(d);
        match self.protocol {
            Protocol::Resp2 => self.bulk(text.as_bytes()),
            Protocol::Resp3 => {
                self.buf.put_u8(b',');
                self.buf.put_slice(text.as_bytes());
                self.buf.put_slice(b"\r\n");
            }
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        match self.protocol {
            Protocol::Resp2 => self.int(b as i64),
            Protocol::Resp3 => self.buf.put_slice(if b { b"#t\r\n" } else { b"#f\r\n" }),
        }
    }

    /// A verbatim string (`=len\r\ntxt:...` in RESP3), a bulk string in RESP2.
    /// INFO and CLIENT LIST/INFO reply with these.
    pub fn verbatim(&mut self, data: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(data),
            Protocol::Resp3 => {
                self.header(b'=', data.len() as i64 + 4);
                self.buf.put_slice(b"txt:");
                self.buf.put_slice(data);
                self.buf.put_slice(b"\r\n");
            }
        }
    }
}

/// Redis's double formatting: integers print without a fraction, infinities as `inf`/`-inf`.
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if d == d.trunc() && d.abs() < 1e17 {
        return format!("{}", d as i64);
    }
    format!("{}", d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(protocol: Protocol, f: impl FnOnce(&mut Reply)) -> Vec<u8> {
        let mut r = Reply::new(protocol);
        f(&mut r);
        r.buf.to_vec()
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn frames_per_protocol() {
        use Protocol::*;
        let cases: Vec<(Protocol, Box<dyn Fn(&mut Reply)>, &[u8])> = vec![
            (Resp2, Box::new(|r| r.ok()), b"+OK\r\n"),
            (Resp2, Box::new(|r| r.int(-42)), b":-42\r\n"),
            (Resp2, Box::new(|r| r.bulk(b"hi")), b"$2\r\nhi\r\n"),
            (Resp2, Box::new(|r| r.bulk(b"")), b"$0\r\n\r\n"),
            (Resp2, Box::new(|r| r.null()), b"$-1\r\n"),
            (Resp3, Box::new(|r| r.null()), b"_\r\n"),
            (Resp2, Box::new(|r| r.null_array()), b"*-1\r\n"),
            (Resp2, Box::new(|r| r.map(2)), b"*4\r\n"),
            (Resp3, Box::new(|r| r.map(2)), b"%2\r\n"),
            (Resp2, Box::new(|r| r.push(3)), b"*3\r\n"),
            (Resp3, Box::new(|r| r.push(3)), b">3\r\n"),
            (Resp3, Box::new(|r| r.set(1)), b"~1\r\n"),
            (Resp2, Box::new(|r| r.double(1.5)), b"$3\r\n1.5\r\n"),
            (Resp3, Box::new(|r| r.double(3.0)), b",3\r\n"),
            (Resp3, Box::new(|r| r.boolean(true)), b"#t\r\n"),
            (Resp2, Box::new(|r| r.boolean(false)), b":0\r\n"),
            (Resp3, Box::new(|r| r.verbatim(b"a")), b"=5\r\ntxt:a\r\n"),
            (
                Resp2,
                Box::new(|r| r.error("ERR bad\r\nthing")),
                b"-ERR bad  thing\r\n",
            ),
        ];
        for (protocol, f, expected) in cases {
            assert_eq!(
                encoded(protocol, |r| f(r)),
                expected,
                "{:?} {:?}",
                protocol,
                String::from_utf8_lossy(expected)
            );
        }
    }
}
