//! Pub/sub message frames: `[kind, (pattern,) channel, payload]` as a RESP2
//! array or a RESP3 push (`message`, `pmessage`, `smessage`).
//!
//! PUBLISH encodes each frame once per protocol version its receivers use and
//! hands the same `Bytes` to all of them (`MessageFrames`), so fan-out to N
//! subscribers costs at most two encodings.

use bytes::{BufMut, Bytes, BytesMut};

use super::Protocol;

/// Encode one message frame for a receiver speaking `protocol`.
pub fn encode_message(
    protocol: Protocol,
    kind: &[u8],
    pattern: Option<&[u8]>,
    channel: &[u8],
    payload: &[u8],
) -> Bytes {
    let parts = 3 + pattern.is_some() as usize;
    let mut buf = BytesMut::with_capacity(
        32 + kind.len() + channel.len() + payload.len() + pattern.map_or(0, |p| p.len() + 16),
    );
    buf.put_u8(match protocol {
        Protocol::Resp2 => b'*',
        Protocol::Resp3 => b'>',
    });
    buf.put_slice(itoa::Buffer::new().format(parts).as_bytes());
    buf.put_slice(b"\r\n");
    let mut bulk = |data: &[u8]| {
        buf.put_u8(b'$');
        buf.put_slice(itoa::Buffer::new().format(data.len()).as_bytes());
        buf.put_slice(b"\r\n");
        buf.put_slice(data);
        buf.put_slice(b"\r\n");
    };
    bulk(kind);
    if let Some(p) = pattern {
        bulk(p);
    }
    bulk(channel);
    bulk(payload);
    buf.freeze()
}

/// One message, encoded lazily: at most once per protocol version.
pub struct MessageFrames<'a> {
    kind: &'a [u8],
    pattern: Option<&'a [u8]>,
    channel: &'a [u8],
    payload: &'a [u8],
    resp2: Option<Bytes>,
    resp3: Option<Bytes>,
}

impl<'a> MessageFrames<'a> {
    pub fn new(
        kind: &'a [u8],
        pattern: Option<&'a [u8]>,
        channel: &'a [u8],
        payload: &'a [u8],
    ) -> Self {
        MessageFrames {
            kind,
            pattern,
            channel,
            payload,
            resp2: None,
            resp3: None,
        }
    }

    /// The frame for a receiver speaking `protocol` (a refcount bump after the
    /// first call for that version).
    pub fn encoded(&mut self, protocol: Protocol) -> Bytes {
        let slot = match protocol {
            Protocol::Resp2 => &mut self.resp2,
            Protocol::Resp3 => &mut self.resp3,
        };
        slot.get_or_insert_with(|| {
            encode_message(
                protocol,
                self.kind,
                self.pattern,
                self.channel,
                self.payload,
            )
        })
        .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (protocol, kind, pattern, expected frame for channel `c`, payload `p`)
    type Case = (
        Protocol,
        &'static [u8],
        Option<&'static [u8]>,
        &'static [u8],
    );

    #[test]
    fn frames_per_protocol_and_kind() {
        let cases: [Case; 4] = [
            (
                Protocol::Resp2,
                b"message",
                None,
                b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n",
            ),
            (
                Protocol::Resp3,
                b"message",
                None,
                b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n",
            ),
            (
                Protocol::Resp2,
                b"pmessage",
                Some(b"c*"),
                b"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$1\r\nc\r\n$1\r\np\r\n",
            ),
            (
                Protocol::Resp2,
                b"smessage",
                None,
                b"*3\r\n$8\r\nsmessage\r\n$1\r\nc\r\n$1\r\np\r\n",
            ),
        ];
        for (protocol, kind, pattern, expected) in cases {
            let frame = MessageFrames::new(kind, pattern, b"c", b"p").encoded(protocol);
            assert_eq!(
                &frame[..],
                expected,
                "{}",
                String::from_utf8_lossy(expected)
            );
        }
    }

    #[test]
    fn each_version_is_encoded_once() {
        let mut frames = MessageFrames::new(b"message", None, b"c", b"p");
        let a = frames.encoded(Protocol::Resp3);
        let b = frames.encoded(Protocol::Resp3);
        assert_eq!(a.as_ptr(), b.as_ptr());
        assert_ne!(frames.encoded(Protocol::Resp2).as_ptr(), a.as_ptr());
    }
}
