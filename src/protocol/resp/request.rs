//! Incremental parser for client requests (RESP2 multibulk and inline), matching
//! the behaviour of Redis 7 `networking.c` (`processInlineBuffer` /
//! `processMultibulkBuffer`) including its error texts.
//!
//! The parser never copies multibulk arguments: when a request is complete its
//! bytes are split off the front of the read buffer, frozen, and each argument
//! is a slice of that frame. It is resumable: when a request is incomplete the
//! parser remembers how far it got, and the next call continues from there, so a
//! request arriving in many small reads costs time linear in its size.
//!
//! Deliberate, documented differences from Redis (all on malformed input):
//! - Redis searches for line ends with `strchr`, which stops at a NUL byte; this
//!   parser is binary safe and uses `memchr`, so a NUL is an ordinary byte.
//! - Redis applies the 64 KiB line limits only when a read leaves the buffer
//!   without a line end, so whether a line slightly longer than 64 KiB is accepted
//!   depends on how the bytes were split into reads. Here the limit is
//!   independent of read boundaries: a line is rejected exactly when the first
//!   65537 bytes from its start contain no terminator (Redis's outcome when the
//!   bytes arrive in small reads).

use bytes::{Buf, Bytes, BytesMut};
use std::ops::Range;

/// Limits applied while parsing, as Redis's networking.c does.
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// `proto-max-bulk-len`, default 512 MiB.
    pub max_bulk_len: usize,
    /// true when a password is required and the client has not authenticated yet:
    /// then multibulk count > 10 and bulk length > 16384 are rejected.
    pub unauthenticated: bool,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bulk_len: 512 * 1024 * 1024,
            unauthenticated: false,
        }
    }
}

/// A protocol error: the full reply text without the leading '-' and trailing CRLF,
/// e.g. "ERR Protocol error: invalid bulk length". The server sends it, then closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProtocolError {}

/// One complete request: the command name is args[0]. Never empty.
/// Arguments are zero-copy slices of the frozen read buffer.
pub type Args = Vec<Bytes>;

/// `PROTO_INLINE_MAX_SIZE`: the longest inline request or `*`/`$` header line.
const MAX_LINE: usize = 64 * 1024;
/// Multibulk count above which an unauthenticated client is rejected.
const UNAUTH_MAX_ARGS: i64 = 10;
/// Bulk length above which an unauthenticated client is rejected.
const UNAUTH_MAX_BULK: usize = 16384;
/// Upper bound on the argument slots reserved up front from a declared count.
const MAX_PREALLOC_ARGS: usize = 1024;
/// Argument-range capacity kept between requests; more is released.
const KEEP_ARGS_CAPACITY: usize = 4096;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// Between requests: the next byte decides the request type.
    #[default]
    Start,
    /// Inside an inline request, waiting for its `\n`.
    Inline,
    /// Inside a `*<count>\r\n` header.
    ArrayHeader,
    /// Expecting a `$<len>\r\n` header at `pos`.
    BulkHeader,
    /// Expecting `bulk_len` bytes of data plus two at `pos`.
    BulkData,
}

/// Resumable request parser; see [`RequestParser::parse`].
///
/// All offsets are relative to the front of the caller's buffer, which is also
/// the start of the request being parsed (completed requests are split off).
#[derive(Default, Debug)]
pub struct RequestParser {
    state: State,
    /// Start of the next element to parse (bulk header or bulk data).
    pos: usize,
    /// Where the search for the current line terminator resumes.
    scan: usize,
    /// Bulk arguments still expected in the current multibulk request.
    remaining: usize,
    /// Declared length of the bulk at `pos` when in `BulkData`.
    bulk_len: usize,
    /// Ranges of the arguments of the current multibulk request parsed so far.
    args: Vec<Range<usize>>,
    /// Length of the buffer when `parse` last returned.
    seen: usize,
}

enum Line {
    /// Index of the terminator.
    Found(usize),
    /// No terminator yet; more bytes may bring it.
    Pending,
    /// No terminator within `MAX_LINE + 1` bytes of the line start.
    TooBig,
}

fn protocol_error(msg: &str) -> ProtocolError {
    ProtocolError(format!("ERR Protocol error: {msg}"))
}

/// Looks for `delim` in `buf[start..]`, resuming at `*scan`, within the first
/// `MAX_LINE + 1` bytes from `start`.
fn find_line(buf: &[u8], start: usize, scan: &mut usize, delim: u8) -> Line {
    let window_end = buf.len().min(start.saturating_add(MAX_LINE + 1));
    let from = (*scan).max(start);
    if let Some(hay) = buf.get(from..window_end) {
        if let Some(i) = memchr::memchr(delim, hay) {
            return Line::Found(from + i);
        }
    }
    if buf.len().saturating_sub(start) > MAX_LINE {
        Line::TooBig
    } else {
        *scan = window_end.max(start);
        Line::Pending
    }
}

/// Redis `string2ll`: optional '-', then digits without leading zeros (except
/// "0" itself), no '+', no spaces, must fit in i64.
fn string2ll(s: &[u8]) -> Option<i64> {
    // LONG_STR_SIZE is 21: longer strings are rejected outright.
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (&first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut v = u64::from(first - b'0');
    for &d in rest {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        if v > i64::MAX.unsigned_abs() + 1 {
            None
        } else {
            // v == 2^63 wraps to i64::MIN, which is its own negation.
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// C `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `\xHH` at `line[i..]`: the byte it encodes.
fn hex_escape(line: &[u8], i: usize) -> Option<u8> {
    match line.get(i..i.checked_add(4)?)? {
        [b'\\', b'x', hi, lo] => Some(hex_value(*hi)? * 16 + hex_value(*lo)?),
        _ => None,
    }
}

/// One inline argument: either a plain slice of the line or an unescaped copy.
enum Token {
    Raw(Range<usize>),
    Owned(Vec<u8>),
}

/// Appends one byte to the token being built, switching it from a raw slice
/// of the line to an owned buffer if needed.
fn push_owned(owned: &mut Option<Vec<u8>>, line: &[u8], raw: &Range<usize>, b: u8) {
    owned
        .get_or_insert_with(|| line.get(raw.clone()).unwrap_or_default().to_vec())
        .push(b);
}

/// Redis `sdssplitargs` on one inline line (terminator already removed).
/// Returns `None` for unbalanced quotes. The end of `line` plays the role of the
/// C string's NUL terminator; NUL bytes inside `line` are ordinary bytes.
fn split_args(line: &[u8]) -> Option<Vec<Token>> {
    let n = line.len();
    let at = |i: usize| line.get(i).copied();
    let mut tokens = Vec::new();
    let mut i = 0;
    loop {
        while at(i).is_some_and(is_c_space) {
            i += 1;
        }
        if i >= n {
            return Some(tokens);
        }
        let mut in_double = false;
        let mut in_single = false;
        // Bytes taken verbatim from the line, while no quote was seen.
        let mut raw = i..i;
        let mut owned: Option<Vec<u8>> = None;
        loop {
            let mut done = false;
            let c = at(i);
            if in_double {
                if let Some(byte) = hex_escape(line, i) {
                    push_owned(&mut owned, line, &raw, byte);
                    i += 3;
                } else {
                    match c {
                        Some(b'\\') if i + 1 < n => {
                            i += 1;
                            let e = match at(i) {
                                Some(b'n') => b'\n',
                                Some(b'r') => b'\r',
                                Some(b't') => b'\t',
                                Some(b'b') => 0x08,
                                Some(b'a') => 0x07,
                                Some(other) => other,
                                None => return None,
                            };
                            push_owned(&mut owned, line, &raw, e);
                        }
                        Some(b'"') => {
                            // The closing quote must be followed by a space or nothing.
                            if at(i + 1).is_some_and(|b| !is_c_space(b)) {
                                return None;
                            }
                            done = true;
                        }
                        None => return None,
                        Some(b) => push_owned(&mut owned, line, &raw, b),
                    }
                }
            } else if in_single {
                match c {
                    Some(b'\\') if at(i + 1) == Some(b'\'') => {
                        i += 1;
                        push_owned(&mut owned, line, &raw, b'\'');
                    }
                    Some(b'\'') => {
                        if at(i + 1).is_some_and(|b| !is_c_space(b)) {
                            return None;
                        }
                        done = true;
                    }
                    None => return None,
                    Some(b) => push_owned(&mut owned, line, &raw, b),
                }
            } else {
                match c {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t') => done = true,
                    Some(b'"') => {
                        in_double = true;
                        owned.get_or_insert_with(|| {
                            line.get(raw.clone()).unwrap_or_default().to_vec()
                        });
                    }
                    Some(b'\'') => {
                        in_single = true;
                        owned.get_or_insert_with(|| {
                            line.get(raw.clone()).unwrap_or_default().to_vec()
                        });
                    }
                    Some(b) => match owned.as_mut() {
                        Some(v) => v.push(b),
                        None => raw.end = i + 1,
                    },
                }
            }
            if i < n {
                i += 1;
            }
            if done {
                break;
            }
        }
        tokens.push(match owned {
            Some(v) => Token::Owned(v),
            None => Token::Raw(raw),
        });
    }
}

/// Redis `sdssplitargs` on one line, as owned arguments (script shebang and
/// library metadata lines); `None` for unbalanced quotes.
pub fn split_line_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    Some(
        split_args(line)?
            .into_iter()
            .map(|t| match t {
                Token::Raw(r) => line.get(r).unwrap_or_default().to_vec(),
                Token::Owned(v) => v,
            })
            .collect(),
    )
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse the next complete request from the front of `buf`, consuming its bytes.
    /// Ok(None): need more bytes (state is kept; the next call resumes where this one
    /// stopped). Empty inline lines and `*0`/`*-N` headers are consumed silently and
    /// parsing continues to the next request.
    ///
    /// Between calls the caller may only append to `buf`. After an error the
    /// connection must be closed; the parser's state is then unspecified.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &ParseLimits,
    ) -> Result<Option<Args>, ProtocolError> {
        if buf.len() < self.seen {
            // The caller removed bytes we had looked at: start over.
            self.reset();
        }
        let result = self.parse_inner(buf, limits);
        self.seen = buf.len();
        result
    }

    /// When in the middle of a bulk argument: how many more bytes that bulk (plus its CRLF)
    /// needs, so the reader can reserve capacity. None otherwise. Counted from the
    /// buffer length at the last call to [`parse`](Self::parse).
    pub fn pending_bulk_bytes(&self) -> Option<usize> {
        if self.state != State::BulkData {
            return None;
        }
        let end = self.pos.saturating_add(self.bulk_len).saturating_add(2);
        Some(end.saturating_sub(self.seen))
    }

    fn reset(&mut self) {
        self.state = State::Start;
        self.pos = 0;
        self.scan = 0;
        self.remaining = 0;
        self.bulk_len = 0;
        if self.args.capacity() > KEEP_ARGS_CAPACITY {
            self.args = Vec::new();
        } else {
            self.args.clear();
        }
    }

    fn parse_inner(
        &mut self,
        buf: &mut BytesMut,
        limits: &ParseLimits,
    ) -> Result<Option<Args>, ProtocolError> {
        loop {
            match self.state {
                State::Start => match buf.first() {
                    None => return Ok(None),
                    Some(b'*') => self.state = State::ArrayHeader,
                    Some(_) => self.state = State::Inline,
                },
                State::Inline => {
                    let nl = match find_line(buf, 0, &mut self.scan, b'\n') {
                        Line::Found(i) => i,
                        Line::Pending => return Ok(None),
                        Line::TooBig => return Err(protocol_error("too big inline request")),
                    };
                    let line_end = match nl.checked_sub(1) {
                        Some(cr) if buf.get(cr) == Some(&b'\r') => cr,
                        _ => nl,
                    };
                    let tokens = buf
                        .get(..line_end)
                        .and_then(split_args)
                        .ok_or_else(|| protocol_error("unbalanced quotes in request"))?;
                    self.reset();
                    if tokens.is_empty() {
                        buf.advance(nl + 1);
                        continue;
                    }
                    let frame = buf.split_to(nl + 1).freeze();
                    let args = tokens
                        .into_iter()
                        .map(|t| match t {
                            Token::Raw(r) => frame.slice(r),
                            Token::Owned(v) => Bytes::from(v),
                        })
                        .collect();
                    return Ok(Some(args));
                }
                State::ArrayHeader => {
                    let cr = match find_line(buf, 0, &mut self.scan, b'\r') {
                        Line::Found(i) => i,
                        Line::Pending => return Ok(None),
                        Line::TooBig => return Err(protocol_error("too big mbulk count string")),
                    };
                    // Redis needs one more byte after '\r' (it skips it unchecked).
                    if cr + 1 >= buf.len() {
                        self.scan = cr;
                        return Ok(None);
                    }
                    let count = buf
                        .get(1..cr)
                        .and_then(string2ll)
                        .filter(|&n| n <= i64::from(i32::MAX))
                        .ok_or_else(|| protocol_error("invalid multibulk length"))?;
                    if count > UNAUTH_MAX_ARGS && limits.unauthenticated {
                        return Err(protocol_error("unauthenticated multibulk length"));
                    }
                    let next = cr + 2;
                    if count <= 0 {
                        buf.advance(next);
                        self.reset();
                        continue;
                    }
                    // 1 <= count <= i32::MAX, so this cannot truncate.
                    let count = count as usize;
                    self.args.reserve(count.min(MAX_PREALLOC_ARGS));
                    self.remaining = count;
                    self.pos = next;
                    self.scan = next;
                    self.state = State::BulkHeader;
                }
                State::BulkHeader => {
                    let cr = match find_line(buf, self.pos, &mut self.scan, b'\r') {
                        Line::Found(i) => i,
                        Line::Pending => return Ok(None),
                        Line::TooBig => return Err(protocol_error("too big bulk count string")),
                    };
                    if cr + 1 >= buf.len() {
                        self.scan = cr;
                        return Ok(None);
                    }
                    match buf.get(self.pos) {
                        Some(b'$') => {}
                        Some(&b) => {
                            // addReplyErrorFormat turns CR and LF into spaces.
                            let c = match b {
                                b'\r' | b'\n' => ' ',
                                b => char::from(b),
                            };
                            return Err(ProtocolError(format!(
                                "ERR Protocol error: expected '$', got '{c}'"
                            )));
                        }
                        None => return Ok(None),
                    }
                    let len = buf
                        .get(self.pos + 1..cr)
                        .and_then(string2ll)
                        .and_then(|n| usize::try_from(n).ok())
                        .filter(|&n| n <= limits.max_bulk_len)
                        .ok_or_else(|| protocol_error("invalid bulk length"))?;
                    if limits.unauthenticated && len > UNAUTH_MAX_BULK {
                        return Err(protocol_error("unauthenticated bulk length"));
                    }
                    self.pos = cr + 2;
                    self.scan = self.pos;
                    self.bulk_len = len;
                    self.state = State::BulkData;
                }
                State::BulkData => {
                    let end = self.pos.saturating_add(self.bulk_len);
                    // Redis skips the two bytes after the data without checking them.
                    let next = end.saturating_add(2);
                    if buf.len() < next {
                        return Ok(None);
                    }
                    self.args.push(self.pos..end);
                    self.pos = next;
                    self.scan = next;
                    self.remaining = self.remaining.saturating_sub(1);
                    if self.remaining > 0 {
                        self.state = State::BulkHeader;
                        continue;
                    }
                    let frame = buf.split_to(next).freeze();
                    let args = self.args.drain(..).map(|r| frame.slice(r)).collect();
                    self.reset();
                    return Ok(Some(args));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use redis_protocol::resp2::encode::extend_encode;
    use redis_protocol::resp2::types::BytesFrame;
    use std::time::{Duration, Instant};

    type Event = Result<Vec<Vec<u8>>, ProtocolError>;

    fn lim() -> ParseLimits {
        ParseLimits::default()
    }

    fn unauth() -> ParseLimits {
        ParseLimits {
            unauthenticated: true,
            ..ParseLimits::default()
        }
    }

    fn perr(msg: &str) -> ProtocolError {
        ProtocolError(format!("ERR Protocol error: {msg}"))
    }

    fn to_vecs(args: Args) -> Vec<Vec<u8>> {
        assert!(!args.is_empty(), "a request is never empty");
        args.into_iter().map(|a| a.to_vec()).collect()
    }

    /// Feeds `chunks` one after another, parsing until `None` or an error after
    /// each. Returns the events and the bytes left unconsumed.
    fn feed(chunks: &[&[u8]], limits: &ParseLimits) -> (Vec<Event>, Vec<u8>) {
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut events = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            loop {
                match parser.parse(&mut buf, limits) {
                    Ok(Some(args)) => events.push(Ok(to_vecs(args))),
                    Ok(None) => break,
                    Err(e) => {
                        // After an error the connection closes: leftovers don't matter.
                        events.push(Err(e));
                        return (events, Vec::new());
                    }
                }
            }
        }
        (events, buf.to_vec())
    }

    fn whole(input: &[u8], limits: &ParseLimits) -> (Vec<Event>, Vec<u8>) {
        feed(&[input], limits)
    }

    /// Splits `input` at the given (unsorted, possibly out-of-range) points.
    fn split_at_points<'a>(input: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
        let mut cuts: Vec<usize> = points.iter().map(|&p| p % (input.len() + 1)).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut last = 0;
        for c in cuts {
            chunks.push(&input[last..c]);
            last = c;
        }
        chunks.push(&input[last..]);
        chunks
    }

    fn byte_by_byte(input: &[u8], limits: &ParseLimits) -> (Vec<Event>, Vec<u8>) {
        let chunks: Vec<&[u8]> = input.chunks(1).collect();
        feed(&chunks, limits)
    }

    /// Parses `input` whole and byte by byte, checks both agree, returns events.
    fn events(input: &[u8], limits: &ParseLimits) -> Vec<Event> {
        let w = whole(input, limits);
        let b = byte_by_byte(input, limits);
        assert_eq!(
            w,
            b,
            "whole vs byte-by-byte for {:?}",
            String::from_utf8_lossy(input)
        );
        w.0
    }

    fn ok(args: &[&[u8]]) -> Event {
        Ok(args.iter().map(|a| a.to_vec()).collect())
    }

    fn one(input: &[u8]) -> Event {
        let ev = events(input, &lim());
        assert_eq!(ev.len(), 1, "{ev:?}");
        ev.into_iter().next().unwrap()
    }

    fn inline(line: &str) -> Event {
        one(format!("{line}\r\n").as_bytes())
    }

    // ---- multibulk ----

    #[test]
    fn multibulk_simple() {
        assert_eq!(
            one(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"),
            ok(&[b"SET", b"k", b"hello"])
        );
        assert_eq!(one(b"*1\r\n$0\r\n\r\n"), ok(&[b""]));
    }

    #[test]
    fn multibulk_binary_data_is_not_scanned() {
        let ev = events(b"*2\r\n$4\r\n\r\n\r\n\r\n$3\r\n\xff\x00*\r\n", &lim());
        assert_eq!(ev, vec![ok(&[b"\r\n\r\n", b"\xff\x00*"])]);
    }

    #[test]
    fn pipelined_requests() {
        let input = b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n\r\nECHO x\n";
        let ev = events(input, &lim());
        assert_eq!(
            ev,
            vec![
                ok(&[b"PING"]),
                ok(&[b"PING"]),
                ok(&[b"ECHO", b"hi"]),
                ok(&[b"ECHO", b"x"]),
            ]
        );
    }

    #[test]
    fn incomplete_keeps_bytes() {
        let (ev, rest) = whole(b"*2\r\n$3\r\nGET\r\n$1\r\n", &lim());
        assert!(ev.is_empty());
        assert_eq!(rest, b"*2\r\n$3\r\nGET\r\n$1\r\n");
        let (ev, rest) = whole(b"*1\r\n$3\r\nGET\r\n*1", &lim());
        assert_eq!(ev, vec![ok(&[b"GET"])]);
        assert_eq!(rest, b"*1");
    }

    #[test]
    fn empty_and_negative_multibulk_are_consumed() {
        for input in [
            &b"*0\r\n"[..],
            b"*-5\r\n",
            b"*-1\r\n",
            b"*-9223372036854775808\r\n",
        ] {
            let (ev, rest) = whole(input, &lim());
            assert!(ev.is_empty(), "{ev:?}");
            assert!(rest.is_empty());
        }
        let ev = events(b"*0\r\n*-5\r\n*1\r\n$4\r\nPING\r\n", &lim());
        assert_eq!(ev, vec![ok(&[b"PING"])]);
    }

    #[test]
    fn invalid_multibulk_length() {
        let invalid = perr("invalid multibulk length");
        for header in [
            "*abc",
            "*",
            "*+1",
            "*01",
            "* 1",
            "*1 ",
            "*-0",
            "*--1",
            "*1a",
            "*2147483648",
            "*9223372036854775807",
            "*9223372036854775808",
            "*-9223372036854775809",
            "*000000000000000000000000001",
        ] {
            let ev = events(format!("{header}\r\n").as_bytes(), &lim());
            assert_eq!(ev, vec![Err(invalid.clone())], "{header}");
        }
        // i32::MAX itself is accepted (and then waits for the bulks).
        let (ev, rest) = whole(b"*2147483647\r\n$1\r\na\r\n", &lim());
        assert!(ev.is_empty());
        assert_eq!(rest.len(), 20);
    }

    #[test]
    fn invalid_bulk_length() {
        let invalid = perr("invalid bulk length");
        for header in [
            "$-7",
            "$-1",
            "$-0",
            "$",
            "$+1",
            "$01",
            "$ 1",
            "$1x",
            "$99999999999999999999",
            "$9223372036854775808",
        ] {
            let ev = events(format!("*3\r\n{header}\r\n").as_bytes(), &lim());
            assert_eq!(ev, vec![Err(invalid.clone())], "{header}");
        }
        let small = ParseLimits {
            max_bulk_len: 3,
            unauthenticated: false,
        };
        assert_eq!(events(b"*1\r\n$3\r\nabc\r\n", &small), vec![ok(&[b"abc"])]);
        assert_eq!(events(b"*1\r\n$4\r\n", &small), vec![Err(invalid)]);
        // A huge but valid length just waits.
        let (ev, _) = whole(b"*1\r\n$536870912\r\nabc", &lim());
        assert!(ev.is_empty());
    }

    #[test]
    fn expected_dollar() {
        let expected = |c: &str| {
            Err(ProtocolError(format!(
                "ERR Protocol error: expected '$', got '{c}'"
            )))
        };
        assert_eq!(events(b"*1\r\nX\r\n", &lim()), vec![expected("X")]);
        assert_eq!(
            events(b"*2\r\n$1\r\na\r\n:1\r\n", &lim()),
            vec![expected(":")]
        );
        // CR and LF are replaced by spaces, as addReplyErrorFormat does.
        assert_eq!(events(b"*1\r\n\r\n", &lim()), vec![expected(" ")]);
        assert_eq!(events(b"*1\r\n\n\r\n", &lim()), vec![expected(" ")]);
        // Non-ASCII bytes are shown as Latin-1 characters.
        assert_eq!(events(b"*1\r\n\xe9\r\n", &lim()), vec![expected("\u{e9}")]);
        // The check happens only once the whole header line is there.
        let (ev, _) = whole(b"*1\r\nX", &lim());
        assert!(ev.is_empty());
        let (ev, _) = whole(b"*1\r\nX\r", &lim());
        assert!(ev.is_empty());
    }

    #[test]
    fn nested_arrays_are_rejected_without_recursion() {
        let input = b"*1\r\n".repeat(100_000);
        let (ev, _) = whole(&input, &lim());
        assert_eq!(ev, vec![Err(perr("expected '$', got '*'"))]);
        let chunks: Vec<&[u8]> = input.chunks(7).collect();
        assert_eq!(feed(&chunks, &lim()).0, ev);
    }

    #[test]
    fn dollar_line_at_start_is_inline() {
        assert_eq!(one(b"$99999999999\r\n"), ok(&[b"$99999999999"]));
    }

    #[test]
    fn bulk_terminator_is_skipped_unchecked() {
        let ev = events(b"*1\r\n$3\r\nfooXY*1\r\n$1\r\na\r\n", &lim());
        assert_eq!(ev, vec![ok(&[b"foo"]), ok(&[b"a"])]);
        // Header lines end at '\r'; the byte after it is skipped unchecked too.
        let ev = events(b"*2\rX$1\rYa\r\n$1\r\nb\r\n", &lim());
        assert_eq!(ev, vec![ok(&[b"a", b"b"])]);
    }

    #[test]
    fn unauthenticated_limits() {
        let args = |n: usize| {
            let mut v = format!("*{n}\r\n").into_bytes();
            for _ in 0..n {
                v.extend_from_slice(b"$1\r\nx\r\n");
            }
            v
        };
        assert_eq!(events(&args(10), &unauth()).len(), 1);
        assert_eq!(
            events(&args(11), &unauth()),
            vec![Err(perr("unauthenticated multibulk length"))]
        );
        assert_eq!(events(&args(11), &lim()).len(), 1);
        // The validity check comes first.
        assert_eq!(
            events(b"*2147483648\r\n", &unauth()),
            vec![Err(perr("invalid multibulk length"))]
        );
        let bulk = |n: usize| {
            let mut v = format!("*1\r\n${n}\r\n").into_bytes();
            v.extend(std::iter::repeat_n(b'z', n));
            v.extend_from_slice(b"\r\n");
            v
        };
        assert_eq!(events(&bulk(16384), &unauth()).len(), 1);
        assert_eq!(
            whole(&bulk(16385), &unauth()).0,
            vec![Err(perr("unauthenticated bulk length"))]
        );
        assert_eq!(whole(&bulk(16385), &lim()).0.len(), 1);
        // Negative or over-limit lengths are "invalid", not "unauthenticated".
        let tiny = ParseLimits {
            max_bulk_len: 100,
            unauthenticated: true,
        };
        assert_eq!(
            whole(b"*1\r\n$20000\r\n", &tiny).0,
            vec![Err(perr("invalid bulk length"))]
        );
    }

    #[test]
    fn long_header_lines() {
        for (prefix, msg, invalid) in [
            (
                "*",
                "too big mbulk count string",
                "invalid multibulk length",
            ),
            (
                "*1\r\n$",
                "too big bulk count string",
                "invalid bulk length",
            ),
        ] {
            let large = format!("{prefix}{}", "0".repeat(65535));
            assert!(whole(large.as_bytes(), &lim()).0.is_empty());
            let over = format!("{large}0");
            assert_eq!(whole(over.as_bytes(), &lim()).0, vec![Err(perr(msg))]);
            assert!(whole(format!("{large}\r").as_bytes(), &lim()).0.is_empty());
            assert_eq!(
                whole(format!("{large}\r\n").as_bytes(), &lim()).0,
                vec![Err(perr(invalid))]
            );
            // Independent of how the bytes were split.
            let input = format!("{over}\r\n");
            assert_eq!(whole(input.as_bytes(), &lim()).0, vec![Err(perr(msg))]);
            let chunks: Vec<&[u8]> = input.as_bytes().chunks(1000).collect();
            assert_eq!(feed(&chunks, &lim()).0, vec![Err(perr(msg))]);
        }
    }

    // ---- inline ----

    #[test]
    fn inline_basic() {
        assert_eq!(one(b"PING\n"), ok(&[b"PING"]));
        assert_eq!(one(b"PING\r\n"), ok(&[b"PING"]));
        assert_eq!(one(b" PING\t\r\n"), ok(&[b"PING"]));
        assert_eq!(one(b"SET  k\t v\r\n"), ok(&[b"SET", b"k", b"v"]));
        // Only one '\r' is stripped; the other terminates the token.
        assert_eq!(one(b"PING\r\r\n"), ok(&[b"PING"]));
        // Non-UTF-8 bytes are fine.
        assert_eq!(
            one(b"SET \xff\xfe \x80\r\n"),
            ok(&[b"SET", b"\xff\xfe", b"\x80"])
        );
        // Vertical tab and form feed are skipped between tokens but are token bytes.
        assert_eq!(one(b"\x0bA\x0cB \x0c\n"), ok(&[b"A\x0cB"]));
    }

    #[test]
    fn blank_inline_lines_are_consumed() {
        for input in [&b"\n"[..], b"\r\n", b" \t\n", b"\x0b\x0c\r\n"] {
            let (ev, rest) = whole(input, &lim());
            assert!(ev.is_empty());
            assert!(rest.is_empty());
        }
        let ev = events(b"\r\n\n  \r\nPING\r\n", &lim());
        assert_eq!(ev, vec![ok(&[b"PING"])]);
    }

    #[test]
    fn inline_quoting() {
        assert_eq!(inline(r#"SET "a b" 'c d'"#), ok(&[b"SET", b"a b", b"c d"]));
        assert_eq!(
            inline(r#""\n\r\t\b\a\\\"\x41\x7a\q""#),
            ok(&[b"\n\r\t\x08\x07\\\"Azq"])
        );
        assert_eq!(inline(r#""\xff\x00\xAb""#), ok(&[b"\xff\x00\xab"]));
        // "\x" without two hex digits is a plain escape of 'x'.
        assert_eq!(inline(r#""\x4" "\xg1" "\x""#), ok(&[b"x4", b"xg1", b"x"]));
        assert_eq!(
            inline(r"'it\'s' 'a\nb' 'a\\b'"),
            ok(&[b"it's", br"a\nb", br"a\\b"])
        );
        assert_eq!(inline(r#"ab"cd" x'y z'"#), ok(&[b"abcd", b"xy z"]));
        assert_eq!(inline(r#""" ''"#), ok(&[b"", b""]));
        assert_eq!(inline("\"a\"\x0bb"), ok(&[b"a", b"b"]));
        assert_eq!(inline(r#"'"' "'""#), ok(&[b"\"", b"'"]));
    }

    #[test]
    fn inline_unbalanced_quotes() {
        let err = Err(perr("unbalanced quotes in request"));
        for line in [
            r#"ECHO "a"#,
            "ECHO 'a",
            r#"ECHO "a"x"#,
            "ECHO 'a'x",
            r#"ECHO "a\""#,
            r"ECHO 'a\'",
            r#"ECHO "abc\"#,
            r#"ab"cd"#,
            r#""a""b""#,
            r"'\\'",
        ] {
            assert_eq!(
                events(format!("{line}\r\n").as_bytes(), &lim()),
                vec![err.clone()],
                "{line}"
            );
        }
    }

    #[test]
    fn too_big_inline() {
        let line = vec![b'x'; 65536];
        assert!(whole(&line, &lim()).0.is_empty());
        let mut ok_line = line.clone();
        ok_line.push(b'\n');
        assert_eq!(whole(&ok_line, &lim()).0, vec![Ok(vec![line.clone()])]);
        let big = vec![b'x'; 65537];
        assert_eq!(
            whole(&big, &lim()).0,
            vec![Err(perr("too big inline request"))]
        );
        let mut big_line = big.clone();
        big_line.push(b'\n');
        assert_eq!(
            whole(&big_line, &lim()).0,
            vec![Err(perr("too big inline request"))]
        );
        let mb = vec![b'a'; 1 << 20];
        assert_eq!(
            whole(&mb, &lim()).0,
            vec![Err(perr("too big inline request"))]
        );
        let chunks: Vec<&[u8]> = mb.chunks(16384).collect();
        assert_eq!(
            feed(&chunks, &lim()).0,
            vec![Err(perr("too big inline request"))]
        );
    }

    #[test]
    fn inline_scan_resumes() {
        // 64 KiB arriving byte by byte must not be rescanned each time.
        let mut input = vec![b'y'; 65000];
        input.extend_from_slice(b"\r\n");
        let start = Instant::now();
        assert_eq!(byte_by_byte(&input, &lim()).0.len(), 1);
        assert!(start.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn split_byte_by_byte() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\nGET \"k\\x41\"\r\n*0\r\n";
        let ev = events(input, &lim());
        assert_eq!(
            ev,
            vec![ok(&[b"SET", b"key", b"va\r\nl"]), ok(&[b"GET", b"kA"])]
        );
    }

    #[test]
    fn pending_bulk_bytes_reports_remaining() {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$10\r\n0123"[..]);
        assert_eq!(p.pending_bulk_bytes(), None);
        assert_eq!(p.parse(&mut buf, &lim()), Ok(None));
        assert_eq!(p.pending_bulk_bytes(), Some(8));
        buf.extend_from_slice(b"456789\r");
        assert_eq!(p.parse(&mut buf, &lim()), Ok(None));
        assert_eq!(p.pending_bulk_bytes(), Some(1));
        buf.extend_from_slice(b"\n");
        let args = p.parse(&mut buf, &lim()).unwrap().unwrap();
        assert_eq!(to_vecs(args), vec![b"GET".to_vec(), b"0123456789".to_vec()]);
        assert_eq!(p.pending_bulk_bytes(), None);
        assert!(buf.is_empty());
        let mut buf = BytesMut::from(&b"*1\r\n$3\r"[..]);
        assert_eq!(p.parse(&mut buf, &lim()), Ok(None));
        assert_eq!(p.pending_bulk_bytes(), None);
    }

    #[test]
    fn args_share_the_read_buffer() {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\nSET a b\r\n"[..]);
        let args = p.parse(&mut buf, &lim()).unwrap().unwrap();
        let base = args[0].as_ptr() as usize;
        assert_eq!(args[1].as_ptr() as usize, base + 9);
        let args = p.parse(&mut buf, &lim()).unwrap().unwrap();
        assert_eq!(args[1].as_ptr() as usize, args[0].as_ptr() as usize + 4);
    }

    #[test]
    fn string2ll_rules() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"99999999999999999999",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    // ---- performance regressions ----

    #[test]
    fn million_arguments_in_16k_chunks_is_linear() {
        let n = 1_000_000;
        let mut input = format!("*{n}\r\n").into_bytes();
        for i in 0..n {
            let arg = (i % 1000).to_string();
            input.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
        let start = Instant::now();
        let mut p = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut got = None;
        for chunk in input.chunks(16 * 1024) {
            buf.extend_from_slice(chunk);
            if let Some(args) = p.parse(&mut buf, &lim()).unwrap() {
                got = Some(args);
            }
        }
        let args = got.expect("request completes");
        let elapsed = start.elapsed();
        assert_eq!(args.len(), n);
        assert_eq!(&args[999][..], b"999");
        assert!(buf.is_empty());
        // Quadratic rescanning would take minutes; linear takes well under a second.
        assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    }

    // ---- property tests ----

    fn limits_strategy() -> impl Strategy<Value = ParseLimits> {
        (
            prop_oneof![Just(0usize), Just(3), Just(100), Just(512 << 20)],
            any::<bool>(),
        )
            .prop_map(|(max_bulk_len, unauthenticated)| ParseLimits {
                max_bulk_len,
                unauthenticated,
            })
    }

    /// Byte strings built from protocol-ish fragments, to reach deep states.
    fn protocolish() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"*".to_vec()),
            Just(b"$".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"-".to_vec()),
            Just(b" ".to_vec()),
            Just(b"\"".to_vec()),
            Just(b"'".to_vec()),
            Just(b"\\".to_vec()),
            Just(b"\\x4".to_vec()),
            Just(b"0".to_vec()),
            (0u8..=20).prop_map(|n| n.to_string().into_bytes()),
            Just(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".to_vec()),
            Just(b"PING\r\n".to_vec()),
            any::<u8>().prop_map(|b| vec![b]),
            proptest::collection::vec(any::<u8>(), 0..8),
        ];
        proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
    }

    fn check_split_consistency(input: &[u8], points: &[usize], limits: &ParseLimits) {
        let w = whole(input, limits);
        let chunks = split_at_points(input, points);
        let s = feed(&chunks, limits);
        assert_eq!(w, s);
    }

    fn bulk_arrays() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
        let arg = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..20),
            proptest::collection::vec(
                prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'*'), Just(b'$')],
                0..6
            ),
            proptest::collection::vec(any::<u8>(), 0..300),
        ];
        proptest::collection::vec(proptest::collection::vec(arg, 1..8), 1..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn prop_arbitrary_bytes_split_consistent(
            input in proptest::collection::vec(any::<u8>(), 0..600),
            points in proptest::collection::vec(any::<usize>(), 0..12),
            limits in limits_strategy(),
        ) {
            check_split_consistency(&input, &points, &limits);
        }

        #[test]
        fn prop_protocolish_split_consistent(
            input in protocolish(),
            points in proptest::collection::vec(any::<usize>(), 0..12),
            limits in limits_strategy(),
        ) {
            check_split_consistency(&input, &points, &limits);
            let (w, rest) = whole(&input, &limits);
            prop_assert_eq!((w, rest), byte_by_byte(&input, &limits));
        }

        #[test]
        fn prop_encoded_arrays_roundtrip(
            requests in bulk_arrays(),
            points in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let mut encoded = BytesMut::new();
            for req in &requests {
                let frame = BytesFrame::Array(
                    req.iter().map(|a| BytesFrame::BulkString(Bytes::copy_from_slice(a))).collect(),
                );
                extend_encode(&mut encoded, &frame, false).unwrap();
            }
            let expected: Vec<Event> = requests.iter().map(|r| Ok(r.clone())).collect();
            let (w, rest) = whole(&encoded, &lim());
            prop_assert_eq!(&w, &expected);
            prop_assert!(rest.is_empty());
            let (s, rest) = feed(&split_at_points(&encoded, &points), &lim());
            prop_assert_eq!(&s, &expected);
            prop_assert!(rest.is_empty());
        }
    }
}
