//! memcached reply encoder (typed values in, bytes appended to a `BytesMut`).

use bytes::{BufMut, Bytes, BytesMut};

use super::base64;
use super::request::{McError, MetaFlags};

const CRLF: &[u8] = b"\r\n";

fn put_u64(out: &mut BytesMut, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn put_i64(out: &mut BytesMut, n: i64) {
    if n < 0 {
        out.put_u8(b'-');
    }
    put_u64(out, n.unsigned_abs());
}

fn line(out: &mut BytesMut, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.extend_from_slice(s);
    out.extend_from_slice(CRLF);
}

/// `VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n`
pub fn value(out: &mut BytesMut, key: &[u8], flags: u32, data: &[u8], cas: Option<u64>) {
    out.reserve(key.len() + data.len() + 48);
    out.extend_from_slice(b"VALUE ");
    out.extend_from_slice(key);
    out.put_u8(b' ');
    put_u64(out, u64::from(flags));
    out.put_u8(b' ');
    put_u64(out, data.len() as u64);
    if let Some(c) = cas {
        out.put_u8(b' ');
        put_u64(out, c);
    }
    out.extend_from_slice(CRLF);
    out.extend_from_slice(data);
    out.extend_from_slice(CRLF);
}

pub fn end(out: &mut BytesMut) {
    line(out, b"END");
}
pub fn stored(out: &mut BytesMut) {
    line(out, b"STORED");
}
pub fn not_stored(out: &mut BytesMut) {
    line(out, b"NOT_STORED");
}
pub fn exists(out: &mut BytesMut) {
    line(out, b"EXISTS");
}
pub fn not_found(out: &mut BytesMut) {
    line(out, b"NOT_FOUND");
}
pub fn deleted(out: &mut BytesMut) {
    line(out, b"DELETED");
}
pub fn touched(out: &mut BytesMut) {
    line(out, b"TOUCHED");
}
pub fn ok(out: &mut BytesMut) {
    line(out, b"OK");
}
/// `stats reset` reply.
pub fn reset(out: &mut BytesMut) {
    line(out, b"RESET");
}

/// incr/decr result: the decimal value, never padded.
pub fn number(out: &mut BytesMut, n: u64) {
    put_u64(out, n);
    out.extend_from_slice(CRLF);
}

/// Any error line, e.g. `error_line(out, "SERVER_ERROR out of memory storing object")`.
pub fn error_line(out: &mut BytesMut, text: &str) {
    line(out, text.as_bytes());
}

/// The reply memcached sends for a parse error (nothing under `noreply` or for a silent
/// close). Returns whether anything was written.
pub fn error(out: &mut BytesMut, err: &McError) -> bool {
    match err.reply() {
        Some(r) if !r.is_empty() => {
            out.extend_from_slice(r);
            true
        }
        _ => false,
    }
}

/// `STAT <name> <value>\r\n`
pub fn stat(out: &mut BytesMut, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
    let (name, value) = (name.as_ref(), value.as_ref());
    out.reserve(name.len() + value.len() + 8);
    out.extend_from_slice(b"STAT ");
    out.extend_from_slice(name);
    out.put_u8(b' ');
    out.extend_from_slice(value);
    out.extend_from_slice(CRLF);
}

/// `STAT <name> <n>\r\n`
pub fn stat_u64(out: &mut BytesMut, name: impl AsRef<[u8]>, n: u64) {
    out.extend_from_slice(b"STAT ");
    out.extend_from_slice(name.as_ref());
    out.put_u8(b' ');
    put_u64(out, n);
    out.extend_from_slice(CRLF);
}

/// `VERSION <v>\r\n`
pub fn version(out: &mut BytesMut, v: &str) {
    out.extend_from_slice(b"VERSION ");
    line(out, v.as_bytes());
}

// ---------------------------------------------------------------------------------------
// Meta protocol
// ---------------------------------------------------------------------------------------

pub const VA: &[u8; 2] = b"VA";
pub const HD: &[u8; 2] = b"HD";
pub const EN: &[u8; 2] = b"EN";
pub const NF: &[u8; 2] = b"NF";
pub const NS: &[u8; 2] = b"NS";
pub const EX: &[u8; 2] = b"EX";
pub const MN: &[u8; 2] = b"MN";

/// Which meta command a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaCommand {
    Get,
    Set,
    Delete,
    Arithmetic,
}

/// Outcome of a meta command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaStatus {
    /// mg hit / ms stored / md deleted / ma done: `HD`, or `VA` for mg/ma with `v`.
    Success,
    /// mg miss: `EN`.
    Miss,
    /// `NS`
    NotStored,
    /// `EX` (CAS mismatch)
    Exists,
    /// `NF`
    NotFound,
}

/// The facts about an item a meta reply may report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaItemView {
    /// Client flags (`f`).
    pub flags: u32,
    /// CAS (`c`). For ms, the CAS of the stored item (memcached prints 0 when not stored).
    pub cas: u64,
    /// Value size (`s`).
    pub size: usize,
    /// Remaining TTL in seconds (`t`), -1 = never expires.
    pub ttl_remaining: i64,
    /// Seconds since last access (`l`).
    pub last_access_secs: u64,
    /// Fetched before this request (`h`).
    pub hit_before: bool,
    /// Value for `v`: the item's data (mg) or the new number as decimal text (ma).
    pub value: Option<Bytes>,
    /// This request won the right to recache (`W`).
    pub won: bool,
    /// Item is stale (`X`).
    pub stale: bool,
    /// A win token was already handed out (`Z`).
    pub win_sent: bool,
}

/// `<code>[ <size>]<ret_flags>\r\n`; `ret_flags` is pre-rendered, each flag with a leading space
/// (see [`render_return_flags`]).
pub fn meta_header(out: &mut BytesMut, code: &[u8; 2], size: Option<usize>, ret_flags: &[u8]) {
    out.reserve(ret_flags.len() + 26);
    out.extend_from_slice(code);
    if let Some(n) = size {
        out.put_u8(b' ');
        put_u64(out, n as u64);
    }
    out.extend_from_slice(ret_flags);
    out.extend_from_slice(CRLF);
}

/// `MN\r\n`
pub fn meta_noop(out: &mut BytesMut) {
    meta_header(out, MN, None, b"");
}

fn put_key_flag(out: &mut BytesMut, key: &[u8], binary: bool) {
    out.extend_from_slice(b" k");
    if binary {
        let mut enc = Vec::with_capacity(key.len().div_ceil(3) * 4);
        base64::encode_into(key, &mut enc);
        out.extend_from_slice(&enc);
        out.extend_from_slice(b" b");
    } else {
        out.extend_from_slice(key);
    }
}

fn put_opaque(out: &mut BytesMut, token: Option<&Bytes>) {
    out.extend_from_slice(b" O");
    if let Some(t) = token {
        out.extend_from_slice(t);
    }
}

/// Appends the return flags memcached 1.6 sends, in request order, for `cmd`/`status`:
///
/// * mg hit: `s t c f l h O k`, then `Z` (win already sent), `X` (stale), `W` (won);
/// * mg miss, md, and failed ma: `O k`;
/// * ms (every status): `O k c`;
/// * ma success: `c t O k`.
///
/// `key` is the (decoded) request key; with `b` it is echoed base64-encoded followed by ` b`.
/// Flags needing item facts are skipped when `item` is `None`.
pub fn render_return_flags(
    out: &mut BytesMut,
    cmd: MetaCommand,
    status: MetaStatus,
    req: &MetaFlags,
    key: &[u8],
    item: Option<&MetaItemView>,
) {
    let success = status == MetaStatus::Success;
    for f in &req.list {
        match f.flag {
            b'O' => put_opaque(out, f.token.as_ref()),
            b'k' => put_key_flag(out, key, req.base64_key),
            b'c' if cmd == MetaCommand::Set => {
                // memcached prints the stored CAS, or 0 when nothing was stored
                out.extend_from_slice(b" c");
                put_u64(out, item.map_or(0, |it| it.cas));
            }
            other => {
                let Some(it) = item else { continue };
                match (cmd, success, other) {
                    (MetaCommand::Get, true, b's') => {
                        out.extend_from_slice(b" s");
                        put_u64(out, it.size as u64);
                    }
                    (MetaCommand::Get, true, b't') | (MetaCommand::Arithmetic, true, b't') => {
                        out.extend_from_slice(b" t");
                        put_i64(out, it.ttl_remaining);
                    }
                    (MetaCommand::Get, true, b'c') | (MetaCommand::Arithmetic, true, b'c') => {
                        out.extend_from_slice(b" c");
                        put_u64(out, it.cas);
                    }
                    (MetaCommand::Get, true, b'f') => {
                        out.extend_from_slice(b" f");
                        put_u64(out, u64::from(it.flags));
                    }
                    (MetaCommand::Get, true, b'l') => {
                        out.extend_from_slice(b" l");
                        put_u64(out, it.last_access_secs);
                    }
                    (MetaCommand::Get, true, b'h') => {
                        out.extend_from_slice(if it.hit_before { b" h1" } else { b" h0" });
                    }
                    _ => {}
                }
            }
        }
    }
    if let (MetaCommand::Get, true, Some(it)) = (cmd, success, item) {
        if it.win_sent {
            out.extend_from_slice(b" Z");
        }
        if it.stale {
            out.extend_from_slice(b" X");
        }
        if it.won {
            out.extend_from_slice(b" W");
        }
    }
}

/// Whether memcached suppresses this reply under `q`: mg misses (`EN`) and ms/md/ma successes
/// (including ma's `VA`). Errors and every other code are always sent.
pub fn meta_quiet_suppresses(cmd: MetaCommand, status: MetaStatus) -> bool {
    matches!(
        (cmd, status),
        (MetaCommand::Get, MetaStatus::Miss)
            | (MetaCommand::Set, MetaStatus::Success)
            | (MetaCommand::Delete, MetaStatus::Success)
            | (MetaCommand::Arithmetic, MetaStatus::Success)
    )
}

/// Writes a complete meta reply (status line, return flags and, for mg/ma with `v` on
/// success, the value block) the way memcached does. Returns `false` when `q` suppressed it.
pub fn meta_reply(
    out: &mut BytesMut,
    cmd: MetaCommand,
    status: MetaStatus,
    req: &MetaFlags,
    key: &[u8],
    item: Option<&MetaItemView>,
) -> bool {
    if req.quiet && meta_quiet_suppresses(cmd, status) {
        return false;
    }
    let mut flags = BytesMut::with_capacity(64);
    render_return_flags(&mut flags, cmd, status, req, key, item);
    let code = match status {
        MetaStatus::Success => HD,
        MetaStatus::Miss => EN,
        MetaStatus::NotStored => NS,
        MetaStatus::Exists => EX,
        MetaStatus::NotFound => NF,
    };
    let with_value = req.value
        && status == MetaStatus::Success
        && matches!(cmd, MetaCommand::Get | MetaCommand::Arithmetic);
    match (with_value, item) {
        (true, Some(it)) => {
            let data = it.value.clone().unwrap_or_default();
            meta_header(out, VA, Some(data.len()), &flags);
            out.extend_from_slice(&data);
            out.extend_from_slice(CRLF);
        }
        _ => meta_header(out, code, None, &flags),
    }
    true
}

/// Item facts for `me`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaDebugView {
    /// memcached prints `current_time - exptime`: -1 when the item never expires, otherwise
    /// the *negated* remaining TTL (`exp=-100` for 100 s left).
    pub exp: i64,
    /// Seconds since last access.
    pub la: u64,
    pub cas: u64,
    pub fetched: bool,
    /// Slab class id (any small number is fine).
    pub cls: u32,
    /// Total item size in memcached (header + key + value).
    pub size: usize,
}

/// `ME <key> exp=<n> la=<n> cas=<n> fetch=<yes|no> cls=<n> size=<n>\r\n`; the key is shown
/// base64-encoded when `binary`. A miss is `EN\r\n` (`meta_header(out, EN, None, b"")`).
pub fn meta_debug(out: &mut BytesMut, key: &[u8], binary: bool, d: &MetaDebugView) {
    out.extend_from_slice(b"ME ");
    if binary {
        let mut enc = Vec::new();
        base64::encode_into(key, &mut enc);
        out.extend_from_slice(&enc);
    } else {
        out.extend_from_slice(key);
    }
    out.extend_from_slice(b" exp=");
    put_i64(out, d.exp);
    out.extend_from_slice(b" la=");
    put_u64(out, d.la);
    out.extend_from_slice(b" cas=");
    put_u64(out, d.cas);
    out.extend_from_slice(if d.fetched {
        &b" fetch=yes"[..]
    } else {
        &b" fetch=no"[..]
    });
    out.extend_from_slice(b" cls=");
    put_u64(out, u64::from(d.cls));
    out.extend_from_slice(b" size=");
    put_u64(out, d.size as u64);
    out.extend_from_slice(CRLF);
}
