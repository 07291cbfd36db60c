//! A command's reply as a script sees it: the RESP bytes the command wrote,
//! parsed into a tree (`parse`), then pushed as Lua values (`raw::push_reply`) by
//! Redis's rules: integers are numbers, bulk strings strings, a RESP2 null
//! is false, a status `{ok=...}`, an error `{err=...}`, RESP3 maps, sets,
//! doubles and big numbers tables with one field naming the type.

#[derive(Debug, Clone, PartialEq)]
pub enum RespValue {
    Status(Vec<u8>),
    /// The text after `-`.
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    /// `$-1` and `*-1` (RESP2 nulls).
    NullBulk,
    /// `_` (RESP3 null).
    Null,
    Array(Vec<RespValue>),
    Map(Vec<(RespValue, RespValue)>),
    Set(Vec<RespValue>),
    Double(f64),
    Bool(bool),
    BigNumber(Vec<u8>),
    Verbatim(Vec<u8>, Vec<u8>),
}

/// Parse the first frame of `buf`; a truncated or unknown frame is an error
/// value rather than a panic.
pub fn parse(buf: &[u8]) -> RespValue {
    let mut pos = 0;
    parse_at(buf, &mut pos, 0).unwrap_or_else(|| RespValue::Error(b"ERR bad reply".to_vec()))
}

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let rest = buf.get(*pos..)?;
    let end = memchr::memmem::find(rest, b"\r\n")?;
    *pos += end + 2;
    Some(&rest[..end])
}

fn int(text: &[u8]) -> Option<i64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn parse_at(buf: &[u8], pos: &mut usize, depth: usize) -> Option<RespValue> {
    if depth > 10_000 {
        return None;
    }
    let kind = *buf.get(*pos)?;
    *pos += 1;
    let head = line(buf, pos)?;
    let bulk = |pos: &mut usize, n: i64| -> Option<Vec<u8>> {
        let n = usize::try_from(n).ok()?;
        let data = buf.get(*pos..*pos + n)?.to_vec();
        *pos += n + 2;
        Some(data)
    };
    let items = |pos: &mut usize, n: usize| -> Option<Vec<RespValue>> {
        let mut v = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            v.push(parse_at(buf, pos, depth + 1)?);
        }
        Some(v)
    };
    Some(match kind {
        b'+' => RespValue::Status(head.to_vec()),
        b'-' => RespValue::Error(head.to_vec()),
        b':' => RespValue::Int(int(head)?),
        b'$' => {
            let n = int(head)?;
            if n < 0 {
                RespValue::NullBulk
            } else {
                RespValue::Bulk(bulk(pos, n)?)
            }
        }
        b'*' | b'>' => {
            let n = int(head)?;
            if n < 0 {
                RespValue::NullBulk
            } else {
                RespValue::Array(items(pos, n as usize)?)
            }
        }
        b'~' => RespValue::Set(items(pos, int(head)? as usize)?),
        b'%' => {
            let flat = items(pos, int(head)? as usize * 2)?;
            let mut pairs = Vec::with_capacity(flat.len() / 2);
            let mut it = flat.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            RespValue::Map(pairs)
        }
        b'|' => {
            // Attributes are dropped; the reply follows them.
            let _ = items(pos, int(head)? as usize * 2)?;
            parse_at(buf, pos, depth + 1)?
        }
        b'_' => RespValue::Null,
        b'#' => RespValue::Bool(head == b"t"),
        b',' => {
            let text = std::str::from_utf8(head).ok()?;
            RespValue::Double(match text {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                t => t.parse().ok()?,
            })
        }
        b'(' => RespValue::BigNumber(head.to_vec()),
        b'=' => {
            let data = bulk(pos, int(head)?)?;
            let (format, text) = data.split_at(data.len().min(4));
            RespValue::Verbatim(format[..format.len().min(3)].to_vec(), text.to_vec())
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frames() {
        assert_eq!(parse(b"+OK\r\n"), RespValue::Status(b"OK".to_vec()));
        assert_eq!(parse(b":-3\r\n"), RespValue::Int(-3));
        assert_eq!(parse(b"$-1\r\n"), RespValue::NullBulk);
        assert_eq!(
            parse(b"*2\r\n$1\r\na\r\n_\r\n"),
            RespValue::Array(vec![RespValue::Bulk(b"a".to_vec()), RespValue::Null])
        );
        assert_eq!(
            parse(b"%1\r\n+k\r\n,1.5\r\n"),
            RespValue::Map(vec![(
                RespValue::Status(b"k".to_vec()),
                RespValue::Double(1.5)
            )])
        );
        assert!(matches!(parse(b"*3\r\n:1\r\n"), RespValue::Error(_)));
        assert!(matches!(parse(b""), RespValue::Error(_)));
    }
}
