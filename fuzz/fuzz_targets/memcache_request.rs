#![no_main]
//! Feeds arbitrary bytes to the memcache parser, whole and in pieces cut at points taken from
//! the first input bytes, and checks both give the same requests; also renders every error.

use bytes::BytesMut;
use herald::protocol::memcache::{response, McError, McLimits, McParser, McRequest};
use libfuzzer_sys::fuzz_target;

fn run(data: &[u8], step: usize, limits: &McLimits) -> Vec<Result<McRequest, McError>> {
    let mut p = McParser::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut replies = BytesMut::new();
    for piece in data.chunks(step.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            match p.parse(&mut buf, limits) {
                Ok(None) => break,
                Ok(Some(r)) => out.push(Ok(r)),
                Err(e) => {
                    response::error(&mut replies, &e);
                    out.push(Err(e));
                    if e.close() {
                        return out;
                    }
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let (step, body) = match data.split_first() {
        Some((s, rest)) => (usize::from(*s % 17) + 1, rest),
        None => (1, data),
    };
    let limits = McLimits {
        item_size_max: 64,
        multiget_line_max: 4096,
    };
    let whole = run(body, body.len(), &limits);
    let pieces = run(body, step, &limits);
    assert_eq!(whole, pieces);
});
