//! TEMPORARY stand-in; replaced by the resumable parser.
use bytes::{Bytes, BytesMut};

#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    pub max_bulk_len: usize,
    pub unauthenticated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

pub type Args = Vec<Bytes>;

#[derive(Default)]
pub struct RequestParser {}

fn line(buf: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(b'\n', &buf[from..]).map(|i| from + i)
}

impl RequestParser {
    pub fn new() -> Self {
        RequestParser {}
    }
    pub fn pending_bulk_bytes(&self) -> Option<usize> {
        None
    }
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        _l: &ParseLimits,
    ) -> Result<Option<Args>, ProtocolError> {
        loop {
            if buf.is_empty() {
                return Ok(None);
            }
            if buf[0] != b'*' {
                let Some(nl) = line(buf, 0) else {
                    return Ok(None);
                };
                let l = buf.split_to(nl + 1).freeze();
                let args: Args = l[..nl]
                    .split(|c| c.is_ascii_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(|s| Bytes::copy_from_slice(s))
                    .collect();
                if args.is_empty() {
                    continue;
                }
                return Ok(Some(args));
            }
            let Some(nl) = line(buf, 0) else {
                return Ok(None);
            };
            let n: i64 = std::str::from_utf8(&buf[1..nl - 1])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    ProtocolError("ERR Protocol error: invalid multibulk length".into())
                })?;
            let mut pos = nl + 1;
            let mut ranges = vec![];
            for _ in 0..n.max(0) {
                if pos >= buf.len() {
                    return Ok(None);
                }
                let Some(nl) = line(buf, pos) else {
                    return Ok(None);
                };
                let len: usize = std::str::from_utf8(&buf[pos + 1..nl - 1])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| {
                        ProtocolError("ERR Protocol error: invalid bulk length".into())
                    })?;
                let start = nl + 1;
                if buf.len() < start + len + 2 {
                    return Ok(None);
                }
                ranges.push(start..start + len);
                pos = start + len + 2;
            }
            let frame = buf.split_to(pos).freeze();
            if ranges.is_empty() {
                continue;
            }
            return Ok(Some(ranges.into_iter().map(|r| frame.slice(r)).collect()));
        }
    }
}
