//! Feeds arbitrary bytes to the request parser, whole and split at a
//! fuzzer-chosen point, and checks that both give the same requests/error.
#![no_main]

use bytes::BytesMut;
use herald::protocol::resp::request::{ParseLimits, ProtocolError, RequestParser};
use libfuzzer_sys::fuzz_target;

type Event = Result<Vec<Vec<u8>>, ProtocolError>;

fn feed(chunks: &[&[u8]], limits: &ParseLimits) -> (Vec<Event>, Vec<u8>) {
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match parser.parse(&mut buf, limits) {
                Ok(Some(args)) => {
                    assert!(!args.is_empty());
                    events.push(Ok(args.iter().map(|a| a.to_vec()).collect()));
                }
                Ok(None) => {
                    if let Some(n) = parser.pending_bulk_bytes() {
                        assert!(n > 0);
                    }
                    break;
                }
                Err(e) => {
                    assert!(e.0.starts_with("ERR Protocol error: "));
                    events.push(Err(e));
                    return (events, Vec::new());
                }
            }
        }
    }
    (events, buf.to_vec())
}

fuzz_target!(|data: &[u8]| {
    // Header: 2 bytes split point, 1 byte of limit flags; the rest is input.
    let [s0, s1, flags, input @ ..] = data else {
        return;
    };
    let split = usize::from(u16::from_le_bytes([*s0, *s1])) % (input.len() + 1);
    let limits = ParseLimits {
        max_bulk_len: match flags & 0b110 {
            0 => 512 * 1024 * 1024,
            2 => 0,
            4 => 5,
            _ => 300,
        },
        unauthenticated: flags & 1 == 1,
    };
    let (first, second) = input.split_at(split);
    let whole = feed(&[input], &limits);
    let split = feed(&[first, second], &limits);
    assert_eq!(whole, split);
});
